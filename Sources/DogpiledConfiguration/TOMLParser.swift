/// Reads TOML 1.0 text into a ``TOMLTable``, without Foundation and without a C++ library.
///
/// Why a hand-written reader rather than a TOML package: the daemon keeps whatever it links
/// resident for its whole life, and the TOML package it used (TOMLKit) brought in toml++ (the C++
/// runtime) and all of Foundation with ICU, about 7.5 MB of the daemon's 20 MB idle RSS, to read a
/// file of flat `key = value` lines and `[regions.NAME]` tables once at start and on SIGHUP.
///
/// Covered: comments, bare and quoted keys, dotted keys, `[table]` headers, basic and literal
/// strings (single- and multi-line, with every escape), integers (decimal, hex, octal, binary,
/// `_` separators), floats (with `inf` and `nan`), booleans, arrays, inline tables, and dates and
/// times (kept as text: no setting takes one). Duplicate keys and redefined tables are errors,
/// as TOML requires. Left out: arrays of tables (`[[name]]`), which dogpiled's schema has no use
/// for; they are reported as an error on their line rather than read.
struct TOMLParser {
    let bytes: [UInt8]
    var index = 0
    /// The 1-based line `index` is on.
    var line = 1
    /// Arrays and inline tables open around `index`. Nesting is bounded (``maximumDepth``, also
    /// for the parts of a dotted key): the reader recurses and tables are freed recursively, so
    /// a 15 KB file of `a={b={b=...}}` overflowed the stack before there was a bound.
    var depth = 0
    /// Deeper than any dogpiled setting needs (two levels), far below what the stack takes.
    static let maximumDepth = 64

    private init(_ text: String) {
        bytes = Array(text.utf8)
    }

    /// Parses `text` into its root table.
    static func parse(_ text: String) throws(TOMLSyntaxError) -> TOMLTable {
        var parser = TOMLParser(text)
        return try parser.document()
    }

    private mutating func document() throws(TOMLSyntaxError) -> TOMLTable {
        let root = TOMLTable(origin: .header, line: 1)
        var current = root
        while true {
            skipSpaces()
            guard let byte = peek() else { return root }
            switch byte {
            case UInt8(ascii: "#"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                break
            case UInt8(ascii: "["):
                current = try header(root: root)
            default:
                try keyValue(into: current)
            }
            try endOfLine()
        }
    }

    // MARK: Lines

    /// The current byte, or nil at the end.
    func peek(_ offset: Int = 0) -> UInt8? {
        index + offset < bytes.count ? bytes[index + offset] : nil
    }

    /// Skips spaces and tabs (TOML's whitespace).
    mutating func skipSpaces() {
        while let byte = peek(), byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { index += 1 }
    }

    /// After a statement: optional spaces and comment, then a newline or the end.
    private mutating func endOfLine() throws(TOMLSyntaxError) {
        skipSpaces()
        if peek() == UInt8(ascii: "#") { try skipComment() }
        guard peek() != nil else { return }
        guard try newline() else { throw error("expected the end of the line, found \(found())") }
    }

    /// Consumes a comment up to (not including) its newline; control characters are refused.
    mutating func skipComment() throws(TOMLSyntaxError) {
        while let byte = peek(), byte != UInt8(ascii: "\n") {
            if byte == UInt8(ascii: "\r"), peek(1) == UInt8(ascii: "\n") { return }
            if isForbiddenControl(byte) { throw error("control character in a comment") }
            index += 1
        }
    }

    /// Consumes LF or CRLF and counts the line; false if the next bytes are not a newline.
    mutating func newline() throws(TOMLSyntaxError) -> Bool {
        switch peek() {
        case UInt8(ascii: "\n"):
            index += 1
        case UInt8(ascii: "\r"):
            guard peek(1) == UInt8(ascii: "\n") else { throw error("a carriage return not followed by a newline") }
            index += 2
        default:
            return false
        }
        line += 1
        return true
    }

    /// Skips whitespace, newlines and comments (inside arrays).
    mutating func skipBlank() throws(TOMLSyntaxError) {
        while true {
            skipSpaces()
            if peek() == UInt8(ascii: "#") { try skipComment() }
            guard try newline() else { return }
        }
    }

    /// A control character TOML forbids outside strings' escapes (tab is allowed).
    func isForbiddenControl(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != UInt8(ascii: "\t")) || byte == 0x7F
    }

    /// An error on the current line.
    func error(_ message: String) -> TOMLSyntaxError {
        TOMLSyntaxError(line: line, message: message)
    }

    /// Names what is at `index`, for "expected X, found Y".
    func found() -> String {
        guard let byte = peek() else { return "the end of the file" }
        if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { return "the end of the line" }
        if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16))"
    }

    // MARK: Keys and tables

    /// A key, dotted or not: `a`, `"quoted key"`, `a.b.'c'`.
    mutating func key() throws(TOMLSyntaxError) -> [String] {
        var parts = [try simpleKey()]
        while true {
            let save = index
            skipSpaces()
            guard peek() == UInt8(ascii: ".") else {
                index = save
                return parts
            }
            index += 1
            skipSpaces()
            parts.append(try simpleKey())
            guard parts.count <= Self.maximumDepth else { throw error("key has more than \(Self.maximumDepth) dotted parts") }
        }
    }

    private mutating func simpleKey() throws(TOMLSyntaxError) -> String {
        switch peek() {
        case UInt8(ascii: "\""): return try basicString()
        case UInt8(ascii: "'"): return try literalString()
        default:
            let start = index
            while let byte = peek(), isBareKeyByte(byte) { index += 1 }
            guard index > start else { throw error("expected a key, found \(found())") }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }
    }

    func isBareKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    /// `[a.b]`: finds or creates the table, which later keys go into.
    private mutating func header(root: TOMLTable) throws(TOMLSyntaxError) -> TOMLTable {
        let headerLine = line
        index += 1
        if peek() == UInt8(ascii: "[") { throw error("arrays of tables ([[...]]) are not used by dogpiled's configuration") }
        skipSpaces()
        let path = try key()
        skipSpaces()
        guard peek() == UInt8(ascii: "]") else { throw error("expected ']' to close the table header, found \(found())") }
        index += 1
        var table = root
        for (position, name) in path.enumerated() {
            let isLast = position == path.count - 1
            guard let existing = table[name] else {
                let created = TOMLTable(origin: isLast ? .header : .implicit, line: headerLine)
                table.insert(name, .table(created), line: headerLine)
                table = created
                continue
            }
            guard case .table(let next) = existing.value, next.origin != .inline else {
                throw TOMLSyntaxError(line: headerLine, message: "'\(path[...position].joined(separator: "."))' is already defined on line \(existing.line) as a value")
            }
            if isLast {
                guard next.origin == .implicit else {
                    throw TOMLSyntaxError(line: headerLine, message: "table [\(path.joined(separator: "."))] is already defined on line \(next.line)")
                }
                next.origin = .header
                next.line = headerLine
            }
            table = next
        }
        return table
    }

    /// `key = value`, stored in `table` (through the tables a dotted key names).
    mutating func keyValue(into table: TOMLTable) throws(TOMLSyntaxError) {
        let keyLine = line
        let path = try key()
        skipSpaces()
        guard peek() == UInt8(ascii: "=") else { throw error("expected '=' after the key, found \(found())") }
        index += 1
        skipSpaces()
        let value = try self.value()
        var target = table
        for (position, name) in path.dropLast().enumerated() {
            guard let existing = target[name] else {
                let created = TOMLTable(origin: .dottedKey, line: keyLine)
                target.insert(name, .table(created), line: keyLine)
                target = created
                continue
            }
            guard case .table(let next) = existing.value, next.origin == .dottedKey else {
                throw TOMLSyntaxError(line: keyLine, message: "'\(path[...position].joined(separator: "."))' is already defined on line \(existing.line)")
            }
            target = next
        }
        let name = path[path.count - 1]
        if let existing = target[name] {
            throw TOMLSyntaxError(line: keyLine, message: "duplicate key '\(path.joined(separator: "."))' (first defined on line \(existing.line))")
        }
        target.insert(name, value, line: keyLine)
    }
}
