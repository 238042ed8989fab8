/// One name of memcached 1.6.18's `-o` table (memcached.c `main()`'s `subopts_tokens`, plus the
/// extstore names `storage.c` reads from the same argument) that is not a row of ``Settings``:
/// what dogpiled does with it, and what value memcached's parser demands.
///
/// A drop-in must start with every option memcached starts with, but must never pretend: a name
/// without a meaning here is accepted with one start-up notice saying so, and a name whose
/// feature dogpiled lacks entirely (extstore, the proxy) is refused with the reason.
public struct MemcachedExtendedOption: Sendable {
    /// What dogpiled does with the option.
    public enum Disposition: Sendable, Equatable {
        /// Accepted; ``MemcachedExtendedOption/notice`` says why it changes nothing.
        case noEffect(String)
        /// Start-up fails with this reason.
        case refused(String)
        /// Mapped onto a setting (e.g. `read_buf_mem_limit` onto `input_buffer_limit`).
        case implemented
    }

    /// Whether memcached's parser wants `name=value`.
    public enum Value: Sendable {
        /// A bare flag; a value is ignored, as memcached's `getsubopt` does.
        case none
        /// A value is required (memcached: "Missing ... argument").
        case required
        /// A value may follow (`slab_automove` alone means 1).
        case optional
    }

    /// The `-o` name.
    public let name: String
    /// What value it takes.
    public let value: Value
    /// What dogpiled does with it.
    public let disposition: Disposition
    /// memcached's check of the value, so a value memcached refuses is refused here too: nil
    /// when acceptable, else what would be.
    let check: @Sendable (String) -> String?
    /// For `.implemented`: stores the checked value ("" for a bare name).
    let write: (@Sendable (String, inout ServerConfiguration) throws(SettingError) -> Void)?

    init(
        _ name: String, _ value: Value, _ disposition: Disposition,
        check: @escaping @Sendable (String) -> String? = { _ in nil },
        write: (@Sendable (String, inout ServerConfiguration) throws(SettingError) -> Void)? = nil
    ) {
        self.name = name
        self.value = value
        self.disposition = disposition
        self.check = check
        self.write = write
    }

    /// The one start-up notice of a `.noEffect` option, naming it; nil otherwise.
    public var notice: String? {
        guard case .noEffect(let why) = disposition else { return nil }
        return "-o \(name) has no effect in dogpiled: \(why)"
    }

    /// Checks `value` (nil when the name came bare) and, for an implemented option, stores it.
    /// Returns the notice to log, if any.
    func apply(_ value: String?, to configuration: inout ServerConfiguration) throws(SettingError) -> String? {
        let spelling = "-o \(name)"
        if case .refused(let why) = disposition { throw SettingError(setting: spelling, message: why) }
        if self.value == .required && value == nil {
            throw SettingError(setting: spelling, message: "needs a value: -o \(name)=VALUE")
        }
        if let value, self.value != .none, let problem = check(value) {
            throw SettingError(setting: spelling, message: "'\(value)' is not \(problem)")
        }
        if let write { try write(value ?? "", &configuration) }
        return notice
    }
}

extension MemcachedExtendedOption.Value: Equatable {}
