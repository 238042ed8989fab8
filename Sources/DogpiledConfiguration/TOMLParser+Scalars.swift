extension TOMLParser {
    /// A bare value: `true`, `false`, a number or a date-time.
    mutating func scalar() throws(TOMLSyntaxError) -> TOMLValue {
        let start = index
        while let byte = peek(), isScalarByte(byte) { index += 1 }
        // A date and a time may be separated by one space: "1979-05-27 07:32:00".
        if index - start == 10, bytes[start + 4] == UInt8(ascii: "-"), peek() == UInt8(ascii: " "),
           let hour = peek(1), isDigit(hour), peek(3) == UInt8(ascii: ":") {
            index += 1
            while let byte = peek(), isScalarByte(byte) { index += 1 }
        }
        let token = bytes[start..<index]
        guard !token.isEmpty else { throw error("expected a value, found \(found())") }
        let text = String(decoding: token, as: UTF8.self)
        switch text {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        if isDateTime(token) { return .dateTime(text) }
        if token.count > 2, token.first == UInt8(ascii: "0"),
           let radix = [UInt8(ascii: "x"): 16, UInt8(ascii: "o"): 8, UInt8(ascii: "b"): 2][token[start + 1]] {
            let digits = token.dropFirst(2)
            guard isDigitRun(digits, radix: radix), let number = Int(text.dropFirst(2).filter { $0 != "_" }, radix: radix) else {
                throw error("'\(text)' is not a base-\(radix) integer that fits in 64 bits")
            }
            return .integer(number)
        }
        let startsLikeNumber = isDigit(token[start]) || token[start] == UInt8(ascii: "+") || token[start] == UInt8(ascii: "-")
        let isFloat = startsLikeNumber && token.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
        if isFloat {
            guard isDecimalFloat(token), let number = Double(text.filter { $0 != "_" }) else {
                throw error("'\(text)' is not a number")
            }
            return .float(number)
        }
        guard isDecimalInteger(token) else { throw error("'\(text)' is not a value (a string needs quotes)") }
        guard let number = Int(text.filter { $0 != "_" }) else { throw error("'\(text)' does not fit in 64 bits") }
        return .integer(number)
    }

    private func isScalarByte(_ byte: UInt8) -> Bool {
        isBareKeyByte(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// `1979-05-27`, `07:32:00`, or either form combined with a time and offset. Checked loosely:
    /// no setting takes one, so it only has to be recognised to be refused with its type.
    private func isDateTime(_ token: ArraySlice<UInt8>) -> Bool {
        let text = Array(token)
        let isDate = text.count >= 10 && text[4] == UInt8(ascii: "-") && text[7] == UInt8(ascii: "-")
            && text[0..<4].allSatisfy(isDigit)
        let isTime = text.count >= 8 && text[2] == UInt8(ascii: ":") && text[5] == UInt8(ascii: ":")
            && text[0..<2].allSatisfy(isDigit)
        return isDate || isTime
    }

    /// Digits of `radix`, with each `_` between two digits.
    private func isDigitRun(_ run: ArraySlice<UInt8>, radix: Int) -> Bool {
        guard let first = run.first, let last = run.last, first != UInt8(ascii: "_"), last != UInt8(ascii: "_") else { return false }
        var previousWasUnderscore = false
        for byte in run {
            if byte == UInt8(ascii: "_") {
                if previousWasUnderscore { return false }
                previousWasUnderscore = true
                continue
            }
            guard let digit = hexDigit(byte), Int(digit) < radix else { return false }
            previousWasUnderscore = false
        }
        return true
    }

    /// `[+-]` then `0` or digits without a leading zero.
    private func isDecimalInteger(_ token: ArraySlice<UInt8>) -> Bool {
        var digits = token
        if let sign = digits.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { digits = digits.dropFirst() }
        guard isDigitRun(digits, radix: 10) else { return false }
        return digits.count == 1 || digits.first != UInt8(ascii: "0")
    }

    /// An integer part, then a fraction, an exponent, or both.
    private func isDecimalFloat(_ token: ArraySlice<UInt8>) -> Bool {
        let exponentAt = token.firstIndex { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
        let mantissa = token[..<(exponentAt ?? token.endIndex)]
        let dotAt = mantissa.firstIndex(of: UInt8(ascii: "."))
        guard isDecimalInteger(mantissa[..<(dotAt ?? mantissa.endIndex)]) else { return false }
        if let dotAt, !isDigitRun(mantissa[(dotAt + 1)...], radix: 10) { return false }
        if let exponentAt {
            var exponent = token[(exponentAt + 1)...]
            if let sign = exponent.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { exponent = exponent.dropFirst() }
            if !isDigitRun(exponent, radix: 10) { return false }
        }
        return true
    }
}
