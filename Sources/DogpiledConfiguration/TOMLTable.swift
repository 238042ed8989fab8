/// A TOML table: keys in the order the file wrote them, each with its value and the 1-based line
/// where its key is. A class, so the parser can keep adding to a table reached through a header or
/// a dotted key while the document grows; it is never shared outside one parse.
final class TOMLTable {
    /// How the table came to exist; TOML's rules for extending a table depend on it.
    enum Origin {
        /// Named only as the prefix of a header (`[a]` by `[a.b]`): a header may still define it.
        case implicit
        /// Defined by its own `[header]` (or the document's root).
        case header
        /// Created by a dotted key (`a.b = 1` creates `a`).
        case dottedKey
        /// Written inline (`{ ... }`): complete as written.
        case inline
    }

    /// One key's value and line.
    struct Entry {
        var value: TOMLValue
        var line: Int
    }

    var origin: Origin
    /// The line of the header or key that created the table.
    var line: Int
    private(set) var keys: [String] = []
    private var entries: [String: Entry] = [:]

    init(origin: Origin, line: Int) {
        self.origin = origin
        self.line = line
    }

    /// The entry for `key`, if the table has one.
    subscript(key: String) -> Entry? { entries[key] }

    /// Adds a key the table does not have yet; the caller checks for duplicates.
    func insert(_ key: String, _ value: TOMLValue, line: Int) {
        precondition(entries[key] == nil, "duplicate TOML key inserted")
        keys.append(key)
        entries[key] = Entry(value: value, line: line)
    }

    /// The entries in file order.
    var orderedEntries: [(key: String, entry: Entry)] {
        keys.map { ($0, entries[$0]!) }
    }
}
