@testable import DogpiledConfiguration
import Testing

/// The value at a dotted path of `table`, or nil.
private func lookup(_ table: TOMLTable, _ path: String) -> TOMLValue? {
    var current = table
    let parts = path.split(separator: ".").map(String.init)
    for part in parts.dropLast() {
        guard case .table(let next) = current[part]?.value else { return nil }
        current = next
    }
    return current[parts[parts.count - 1]]?.value
}

/// Parses `text` and returns the value at `path`, recording a failure when it does not parse.
private func parsed(_ text: String, _ path: String = "v", sourceLocation: SourceLocation = #_sourceLocation) -> TOMLValue? {
    do {
        return lookup(try TOMLParser.parse(text), path)
    } catch {
        Issue.record("\(text.debugDescription): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The syntax error `text` gives, or nil when it parses.
private func syntaxError(_ text: String) -> TOMLSyntaxError? {
    do {
        _ = try TOMLParser.parse(text)
        return nil
    } catch {
        return error
    }
}

extension TOMLValue {
    var integerValue: Int? { if case .integer(let value) = self { value } else { nil } }
    var floatValue: Double? { if case .float(let value) = self { value } else { nil } }
    var stringValue: String? { if case .string(let value) = self { value } else { nil } }
    var booleanValue: Bool? { if case .boolean(let value) = self { value } else { nil } }
}

/// The config file's TOML reader against TOML 1.0's rules, one rule per test.
@Suite("TOML parser")
struct TOMLParserTests {
    @Test("integers: signs, underscores, hex, octal, binary, the 64-bit edges", arguments: [
        ("0", 0), ("+17", 17), ("-17", -17), ("1_000_000", 1_000_000), ("0xDEAD_beef", 0xDEAD_BEEF),
        ("0o755", 0o755), ("0b1101", 13), ("9223372036854775807", Int.max), ("-9223372036854775808", Int.min),
    ])
    func integers(text: String, value: Int) {
        #expect(parsed("v = \(text)")?.integerValue == value)
    }

    @Test("malformed numbers are syntax errors", arguments: [
        "012", "1__0", "_1", "1_", "0x", "+0x10", "0xG", "0b102", "9223372036854775808", "1.", ".5", "1e", "1.e5", "01.5", "1.5_",
    ])
    func badNumbers(text: String) {
        #expect(syntaxError("# c\nv = \(text)\n")?.line == 2, "\(text)")
    }

    @Test("floats, with exponents, inf and nan", arguments: [
        ("1.5", 1.5), ("-0.25", -0.25), ("1e3", 1000), ("6.25E-2", 0.0625), ("1_000.5", 1000.5), ("+inf", .infinity), ("-inf", -.infinity),
    ])
    func floats(text: String, value: Double) {
        #expect(parsed("v = \(text)")?.floatValue == value)
    }

    @Test("nan is a float")
    func notANumber() {
        #expect(parsed("v = nan")?.floatValue?.isNaN == true)
    }

    @Test("booleans; a bare word is not a value")
    func booleans() {
        #expect(parsed("v = true")?.booleanValue == true)
        #expect(parsed("v = false # off")?.booleanValue == false)
        #expect(syntaxError("v = yes")?.message.contains("needs quotes") == true)
        #expect(syntaxError("v = truely") != nil)
    }

    @Test("basic strings and their escapes", arguments: [
        (#""plain""#, "plain"), (#""tab\there""#, "tab\there"), (#""q\"b\\""#, "q\"b\\"),
        (#""\u00e9\U0001F600""#, "é😀"), (#""a # not a comment""#, "a # not a comment"), (#""""#, ""),
        (#""\b\f\n\r\e""#, "\u{8}\u{C}\n\r\u{1B}"),
    ])
    func basicStrings(text: String, value: String) {
        #expect(parsed("v = \(text)")?.stringValue == value)
    }

    @Test("literal strings are taken as written")
    func literalStrings() {
        #expect(parsed(#"v = 'C:\path\n'"#)?.stringValue == #"C:\path\n"#)
        #expect(parsed("v = '''\nline one\n'quoted' ''\n'''")?.stringValue == "line one\n'quoted' ''\n")
    }

    @Test("multi-line basic strings: first newline trimmed, line-ending backslash, closing quotes")
    func multiLineStrings() {
        #expect(parsed("v = \"\"\"\nRoses\nViolets\"\"\"")?.stringValue == "Roses\nViolets")
        #expect(parsed("v = \"\"\"one \\\n    two \\\n\n  three\"\"\"")?.stringValue == "one two three")
        #expect(parsed("v = \"\"\"say \"\"hi\"\"\"\"\"")?.stringValue == "say \"\"hi\"\"")
        #expect(parsed("v = \"\"\"a\r\nb\"\"\"")?.stringValue == "a\nb")
    }

    @Test("bad strings are syntax errors on their line", arguments: [
        ("v = \"open\n", 1), ("v = \"bad \\q\"", 1), ("v = \"\\u12\"", 1), ("v = \"\\uD800\"", 1),
        ("x = 1\nv = \"\"\"never closed\n\n", 4), ("v = 'a\u{1}b'", 1), ("v = \"\"\"a\"\"\"\"\"\"", 1),
    ])
    func badStrings(text: String, line: Int) {
        #expect(syntaxError(text)?.line == line, "\(text.debugDescription)")
    }

    @Test("arrays: mixed, nested, across lines with comments and a trailing comma")
    func arrays() {
        guard case .array(let elements) = parsed("v = [\n  \"a\", # first\n  'b',\n  [1, 2],\n]\nw = 1") else {
            Issue.record("not an array")
            return
        }
        #expect(elements.count == 3)
        #expect(elements[0].stringValue == "a" && elements[1].stringValue == "b")
        guard case .array(let inner) = elements[2] else { Issue.record("not nested"); return }
        #expect(inner.map(\.integerValue) == [1, 2])
        guard case .array(let empty) = parsed("v = [ ]") else { Issue.record("not an array"); return }
        #expect(empty.isEmpty)
        #expect(syntaxError("v = [1 2]")?.message.contains("expected ','") == true)
        #expect(syntaxError("v = [,]") != nil)
    }

    @Test("inline tables hold their keys and cannot be extended")
    func inlineTables() {
        #expect(parsed("v = { a = 1, b.c = \"x\" }", "v.b.c")?.stringValue == "x")
        #expect(parsed("v = {}", "v").map(\.typeName) == "table")
        #expect(syntaxError("v = { a = 1 }\n[v]\n")?.line == 2)
        #expect(syntaxError("v = { a = 1 }\nv.b = 2\n")?.line == 2)
        #expect(syntaxError("v = { a = 1, a = 2 }") != nil)
        #expect(syntaxError("v = { a = 1\n}") != nil)
    }

    @Test("keys: bare, quoted, dotted with spaces; each remembers its line")
    func keys() throws {
        let root = try TOMLParser.parse("# c\n\"quoted key\" = 1\n'lit' = 2\na . b . \"c.d\" = 3\nbare-key_9 = 4\n")
        #expect(root["quoted key"]?.line == 2)
        #expect(root["lit"]?.value.integerValue == 2)
        #expect(lookup(root, "bare-key_9")?.integerValue == 4)
        guard case .table(let a) = root["a"]?.value, case .table(let b) = a["b"]?.value else {
            Issue.record("dotted key did not make tables")
            return
        }
        #expect(b["c.d"]?.value.integerValue == 3 && b["c.d"]?.line == 4)
        #expect(root.orderedEntries.map(\.key) == ["quoted key", "lit", "a", "bare-key_9"])
    }

    @Test("tables: headers, implicit parents defined later, keys in file order")
    func tables() throws {
        let root = try TOMLParser.parse("top = 1\n[regions.b]\nmemory = \"1m\"\n[ regions . a ]\nx = 2\n[regions]\nnote = 'late'\n")
        guard case .table(let regions) = root["regions"]?.value else {
            Issue.record("no regions table")
            return
        }
        #expect(regions.orderedEntries.map(\.key) == ["b", "a", "note"])
        #expect(regions["a"]?.line == 4)
        #expect(lookup(root, "regions.a.x")?.integerValue == 2)
        #expect(lookup(root, "regions.note")?.stringValue == "late")
    }

    @Test("redefinitions are errors on the second line", arguments: [
        ("a = 1\na = 2\n", 2), ("[t]\n[t]\n", 2), ("[t]\nx = 1\n[t.x]\n", 3), ("a.b = 1\n[a]\n", 2),
        ("[a]\nb.c = 1\n[a.b]\n", 3), ("a = 1\na.b = 2\n", 2), ("\"a\" = 1\na = 2\n", 2), ("v = [1]\n[v]\n", 2),
    ])
    func redefinitions(text: String, line: Int) {
        #expect(syntaxError(text)?.line == line, "\(text.debugDescription)")
    }

    @Test("a header may add a sub-table under a table made by dotted keys")
    func subTableOfDottedKeys() {
        #expect(parsed("[fruit]\napple.color = 'red'\n[fruit.apple.texture]\nsmooth = true\n", "fruit.apple.texture.smooth")?.booleanValue == true)
    }

    @Test("structural errors name their line", arguments: [
        ("a = 1 b = 2\n", 1, "end of the line"), ("\n\n= 1\n", 3, "expected a key"), ("a 1\n", 1, "expected '='"),
        ("[t\n", 1, "expected ']'"), ("[[t]]\n", 1, "arrays of tables"), ("a = 1\r", 1, "carriage return"),
        ("a = \n", 1, "expected a value"), ("a = 1 # bell \u{7}\n", 1, "control character"), ("[]\n", 1, "expected a key"),
    ])
    func structuralErrors(text: String, line: Int, message: String) {
        let error = syntaxError(text)
        #expect(error?.line == line, "\(text.debugDescription): \(String(describing: error))")
        #expect(error?.message.contains(message) == true, "\(text.debugDescription): \(String(describing: error))")
    }

    @Test("nesting past the bound is a syntax error, not a stack overflow (an attack: 3,000 inline tables crashed)", arguments: [
        "a=" + String(repeating: "{b=", count: 3000) + "1" + String(repeating: "}", count: 3000) + "\n",
        "a=" + String(repeating: "[", count: 10000) + "1" + String(repeating: "]", count: 10000) + "\n",
        Array(repeating: "a", count: 30000).joined(separator: ".") + "=1\n",
        "[" + Array(repeating: "t", count: 30000).joined(separator: ".") + "]\n",
    ])
    func nestingIsBounded(text: String) {
        let error = syntaxError(text)
        #expect(error?.line == 1)
        #expect(error?.message.contains("\(TOMLParser.maximumDepth)") == true, "\(String(describing: error))")
    }

    @Test("nesting at the bound is read")
    func nestingAtTheBound() {
        let depth = TOMLParser.maximumDepth
        let text = "a=" + String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth) + "\n"
        #expect(syntaxError(text) == nil)
    }

    @Test("dates and times are read as date-times, with a space or T between date and time", arguments: [
        "1979-05-27T07:32:00Z", "1979-05-27 07:32:00-07:00", "1979-05-27", "07:32:00.999", "1979-05-27T00:32:00.999999",
    ])
    func dateTimes(text: String) {
        #expect(parsed("v = \(text) # when")?.typeName == "date-time")
    }

    @Test("CRLF line endings, comments everywhere, an empty document")
    func layout() throws {
        #expect(parsed("# head\r\n\r\n  v = 5 # five\r\n[t] # table\r\n")?.integerValue == 5)
        #expect(try TOMLParser.parse("").orderedEntries.isEmpty)
        #expect(try TOMLParser.parse("# only a comment").orderedEntries.isEmpty)
    }
}
