extension TOMLParser {
    /// A value: string, number, boolean, date-time, array or inline table.
    mutating func value() throws(TOMLSyntaxError) -> TOMLValue {
        switch peek() {
        case UInt8(ascii: "\""):
            return .string(try basicString())
        case UInt8(ascii: "'"):
            return .string(try literalString())
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maximumDepth else { throw error("arrays and inline tables nested more than \(Self.maximumDepth) deep") }
            return peek() == UInt8(ascii: "[") ? try array() : try inlineTable()
        default:
            return try scalar()
        }
    }

    private mutating func array() throws(TOMLSyntaxError) -> TOMLValue {
        index += 1
        var elements: [TOMLValue] = []
        while true {
            try skipBlank()
            if peek() == UInt8(ascii: "]") { break }
            elements.append(try value())
            try skipBlank()
            if peek() == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard peek() == UInt8(ascii: "]") else { throw error("expected ',' or ']' in the array, found \(found())") }
            break
        }
        index += 1
        return .array(elements)
    }

    private mutating func inlineTable() throws(TOMLSyntaxError) -> TOMLValue {
        let table = TOMLTable(origin: .inline, line: line)
        index += 1
        skipSpaces()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return .table(table)
        }
        while true {
            skipSpaces()
            try keyValue(into: table)
            skipSpaces()
            if peek() == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard peek() == UInt8(ascii: "}") else { throw error("expected ',' or '}' in the inline table, found \(found())") }
            index += 1
            return .table(table)
        }
    }

    // MARK: Strings

    /// `"..."` or `"""..."""`, with escapes.
    mutating func basicString() throws(TOMLSyntaxError) -> String {
        try quotedString(UInt8(ascii: "\""), escapes: true)
    }

    /// `'...'` or `'''...'''`, taken as written.
    mutating func literalString() throws(TOMLSyntaxError) -> String {
        try quotedString(UInt8(ascii: "'"), escapes: false)
    }

    /// A string between `quote`s, single- or multi-line; backslash escapes only in basic strings.
    private mutating func quotedString(_ quote: UInt8, escapes: Bool) throws(TOMLSyntaxError) -> String {
        let multiLine = peek(1) == quote && peek(2) == quote
        index += multiLine ? 3 : 1
        if multiLine { _ = try newline() }
        var text: [UInt8] = []
        while true {
            guard let byte = peek() else { throw error("unterminated string") }
            switch byte {
            case quote:
                if !multiLine {
                    index += 1
                    return String(decoding: text, as: UTF8.self)
                }
                if let end = try closingQuotes(quote, into: &text) { return end }
            case UInt8(ascii: "\\") where escapes:
                index += 1
                if multiLine, try lineEndingBackslash() { continue }
                try escape(into: &text)
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                guard multiLine else { throw error("unterminated string (a newline inside a single-line string)") }
                _ = try newline()
                text.append(UInt8(ascii: "\n"))
            default:
                if isForbiddenControl(byte) {
                    throw error(escapes ? "control character in a string; write it as an escape" : "control character in a string")
                }
                text.append(byte)
                index += 1
            }
        }
    }

    /// In a multi-line string at a run of `quote`: three or more end it (up to two more belong to
    /// the text); fewer are text. Returns the string when it ended.
    private mutating func closingQuotes(_ quote: UInt8, into text: inout [UInt8]) throws(TOMLSyntaxError) -> String? {
        var count = 0
        while peek() == quote {
            count += 1
            index += 1
        }
        guard count >= 3 else {
            text.append(contentsOf: repeatElement(quote, count: count))
            return nil
        }
        guard count <= 5 else { throw error("too many quotes at the end of a multi-line string") }
        text.append(contentsOf: repeatElement(quote, count: count - 3))
        return String(decoding: text, as: UTF8.self)
    }

    /// After `\` in a multi-line basic string: if only whitespace follows to the end of the line,
    /// the backslash, the newline and the whitespace that starts the next lines are dropped.
    private mutating func lineEndingBackslash() throws(TOMLSyntaxError) -> Bool {
        let save = index
        skipSpaces()
        guard peek() == UInt8(ascii: "\n") || peek() == UInt8(ascii: "\r") else {
            index = save
            return false
        }
        while true {
            skipSpaces()
            guard try newline() else { return true }
        }
    }

    /// The escape after a backslash, appended as UTF-8.
    private mutating func escape(into text: inout [UInt8]) throws(TOMLSyntaxError) {
        guard let byte = peek() else { throw error("unterminated string") }
        index += 1
        switch byte {
        case UInt8(ascii: "b"): text.append(0x08)
        case UInt8(ascii: "t"): text.append(0x09)
        case UInt8(ascii: "n"): text.append(0x0A)
        case UInt8(ascii: "f"): text.append(0x0C)
        case UInt8(ascii: "r"): text.append(0x0D)
        case UInt8(ascii: "e"): text.append(0x1B)
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): text.append(byte)
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let digits = byte == UInt8(ascii: "u") ? 4 : 8
            var code: UInt32 = 0
            for _ in 0..<digits {
                guard let digit = peek().flatMap(hexDigit) else { throw error("\\\(Character(Unicode.Scalar(byte))) needs \(digits) hex digits") }
                code = code << 4 | UInt32(digit)
                index += 1
            }
            guard let scalar = Unicode.Scalar(code) else { throw error("\\\(Character(Unicode.Scalar(byte))) escape is not a Unicode scalar value") }
            text.append(contentsOf: String(Character(scalar)).utf8)
        default:
            index -= 1
            throw error("unknown escape \\\(found())")
        }
    }

    func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
