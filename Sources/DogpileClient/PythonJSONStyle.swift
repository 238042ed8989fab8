/// Re-spaces compact JSON the way Python's `json.dumps` writes it by default.
///
/// `json.dumps` separates items with `", "` and keys from values with `": "`, and with
/// `ensure_ascii=True` writes every character outside `' '...'~'` as an escape (`\n`, `\"`,
/// `\u00e9`, surrogate pairs above U+FFFF). Strings are decoded and written again in that style.
enum PythonJSONStyle {
    /// The same JSON document, spaced and escaped as `json.dumps` would.
    static func respace(_ json: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(json.count + json.count / 8)
        var index = 0
        while index < json.count {
            let byte = json[index]
            switch byte {
            case UInt8(ascii: "\""):
                let (scalars, end) = readString(json, from: index + 1)
                writeString(scalars, to: &output)
                index = end
                continue
            case UInt8(ascii: ","), UInt8(ascii: ":"):
                output.append(byte)
                output.append(UInt8(ascii: " "))
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                break
            default:
                output.append(byte)
            }
            index += 1
        }
        return output
    }

    /// The scalars of the string starting after its opening quote, and the index past its closing quote.
    private static func readString(_ json: [UInt8], from start: Int) -> ([Unicode.Scalar], Int) {
        var raw: [UInt8] = []
        var scalars: [Unicode.Scalar] = []
        var index = start
        func flushRaw() {
            scalars += String(decoding: raw, as: UTF8.self).unicodeScalars
            raw.removeAll()
        }
        var pendingHigh: UInt32?
        while index < json.count && json[index] != UInt8(ascii: "\"") {
            if json[index] == UInt8(ascii: "\\"), index + 1 < json.count {
                flushRaw()
                let escape = json[index + 1]
                index += 2
                var code: UInt32
                switch escape {
                case UInt8(ascii: "n"): code = 0x0A
                case UInt8(ascii: "r"): code = 0x0D
                case UInt8(ascii: "t"): code = 0x09
                case UInt8(ascii: "b"): code = 0x08
                case UInt8(ascii: "f"): code = 0x0C
                case UInt8(ascii: "u"):
                    let digits = json[index..<min(index + 4, json.count)]
                    code = UInt32(String(decoding: digits, as: UTF8.self), radix: 16) ?? 0xFFFD
                    index += digits.count
                default: code = UInt32(escape)
                }
                if (0xD800..<0xDC00).contains(code) {
                    pendingHigh = code
                    continue
                }
                if let high = pendingHigh, (0xDC00..<0xE000).contains(code) {
                    code = 0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00)
                }
                pendingHigh = nil
                scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                continue
            }
            raw.append(json[index])
            index += 1
        }
        flushRaw()
        return (scalars, min(index + 1, json.count))
    }

    private static func writeString(_ scalars: [Unicode.Scalar], to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for scalar in scalars {
            switch scalar.value {
            case 0x22: output += Array("\\\"".utf8)
            case 0x5C: output += Array("\\\\".utf8)
            case 0x0A: output += Array("\\n".utf8)
            case 0x0D: output += Array("\\r".utf8)
            case 0x09: output += Array("\\t".utf8)
            case 0x08: output += Array("\\b".utf8)
            case 0x0C: output += Array("\\f".utf8)
            case 0x20...0x7E: output.append(UInt8(scalar.value))
            case 0x10000...:
                let offset = scalar.value - 0x10000
                writeEscape(0xD800 + (offset >> 10), to: &output)
                writeEscape(0xDC00 + (offset & 0x3FF), to: &output)
            default: writeEscape(scalar.value, to: &output)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    private static func writeEscape(_ code: UInt32, to output: inout [UInt8]) {
        let hex = String(code, radix: 16)
        output += Array(("\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex).utf8)
    }
}
