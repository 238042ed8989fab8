/// Text that is not TOML (or uses what dogpiled's reader leaves out), with the line it is on.
struct TOMLSyntaxError: Error, Equatable, CustomStringConvertible {
    /// 1-based line of the offending text.
    var line: Int
    /// What was expected or found.
    var message: String

    var description: String { "line \(line): \(message)" }
}
