import MemcacheProtocol
import Testing

/// Every verb's happy path, token-count rules and argument validation (spec §2–§7).
@Suite("TextParser: commands")
struct TextParserCommandTests {
    // MARK: - Happy paths

    @Test func retrievalVerbs() {
        #expect(decode("get a b c\r\n") == [.get("a", "b", "c")])
        #expect(decode("gets a\r\n") == [.retrieval(.gets, exptime: 0, keys: [bytes("a")])])
        #expect(decode("gat 100 a b\r\n") == [.retrieval(.gat, exptime: 100, keys: [bytes("a"), bytes("b")])])
        #expect(decode("gats -1 a\r\n") == [.retrieval(.gats, exptime: -1, keys: [bytes("a")])])
        #expect(decode("bget a\r\n") == [.get("a")])
        // Repeated keys are kept, and `noreply` is just a key for the get family.
        #expect(decode("get a a b a noreply\r\n") == [.get("a", "a", "b", "a", "noreply")])
    }

    @Test func retrievalVerbProperties() {
        #expect(!RetrievalVerb.get.returnsCAS && !RetrievalVerb.get.touches)
        #expect(RetrievalVerb.gets.returnsCAS && !RetrievalVerb.gets.touches)
        #expect(!RetrievalVerb.gat.returnsCAS && RetrievalVerb.gat.touches)
        #expect(RetrievalVerb.gats.returnsCAS && RetrievalVerb.gats.touches)
    }

    @Test func storageVerbs() {
        #expect(decode("set k 5 100 3\r\nabc\r\n") == [.set("k", "abc", flags: 5, exptime: 100)])
        let verbs: [(String, StorageVerb)] = [("add", .add), ("replace", .replace), ("append", .append), ("prepend", .prepend)]
        for (name, verb) in verbs {
            #expect(decode("\(name) key 1 2 3\r\nxyz\r\n")
                == [.storage(verb, key: bytes("key"), flags: 1, exptime: 2, cas: 0, data: bytes("xyz"), noreply: false)])
        }
        #expect(decode("cas k 1 2 3 99\r\nabc\r\n")
            == [.storage(.cas, key: bytes("k"), flags: 1, exptime: 2, cas: 99, data: bytes("abc"), noreply: false)])
        #expect(decode("cas k 0 0 1 18446744073709551615 noreply\r\na\r\n")
            == [.storage(.cas, key: bytes("k"), flags: 0, exptime: 0, cas: UInt64.max, data: bytes("a"), noreply: true)])
    }

    @Test func storageSpansPointIntoTheBuffer() {
        let input = bytes("set key 0 0 5\r\nhello\r\n")
        var parser = TextParser()
        input.withUnsafeBytes { buffer in
            guard case .command(.storage(let request), let consumed) = parser.parse(buffer) else {
                Issue.record("expected a storage command"); return
            }
            #expect(consumed == input.count)
            #expect(request.key == ByteSpan(offset: 4, count: 3))
            #expect(request.data == ByteSpan(offset: 15, count: 5))
            #expect(request.data.end == 20)
        }
    }

    @Test func zeroLengthValueAndExtraSpaces() {
        #expect(decode("set k 0 0 0\r\n\r\n") == [.set("k", "")])
        #expect(decode("set  k  0  0  1 \r\na\r\nget  k \r\n") == [.set("k", "a"), .get("k")])
        #expect(decode("   version\r\n") == [.version])
    }

    @Test func otherVerbs() {
        #expect(decode("delete k\r\n") == [.delete(key: bytes("k"), noreply: false)])
        #expect(decode("incr k 5\r\n") == [.arithmetic(incr: true, key: bytes("k"), delta: 5, noreply: false)])
        #expect(decode("decr k 18446744073709551615\r\n")
            == [.arithmetic(incr: false, key: bytes("k"), delta: UInt64.max, noreply: false)])
        #expect(decode("touch k 10\r\n") == [.touch(key: bytes("k"), exptime: 10, noreply: false)])
        #expect(decode("flush_all\r\n") == [.flushAll(delay: 0, noreply: false)])
        #expect(decode("verbosity 1\r\n") == [.verbosity(level: 1, noreply: false)])
        #expect(decode("version\r\n") == [.version])
        #expect(decode("version a b c\r\n") == [.version])
        #expect(decode("quit\r\n") == [.quit])
        #expect(decode("quit now\r\n") == [.quit])
        #expect(decode("stats\r\n") == [.stats([])])
        #expect(decode("stats items x\r\n") == [.stats(bytes("items x"))])
        #expect(decode("shutdown\r\n") == [.admin(.shutdown, arguments: [], tokens: 2)])
        #expect(decode("mn\r\n") == [.other("metaNoop")])
    }

    @Test func versionIgnoresTokenLimit() {
        let line = "version" + String(repeating: " a", count: 30) + "\r\n"
        #expect(decode(line) == [.version])
    }

    // MARK: - Unknown commands and token counts

    @Test(arguments: [
        "GET a", "VERSION", "STATS", "sets k 0 0 1", "gett a", "ge a", "g a", "", "    ", "x",
        "get", "get ", "gets", "gat", "gats", "bget",
        "set k 0 0", "set k 0 0 7 noreply x", "add k 0 0", "cas k 0 0 1", "cas k 0 0 1 1 noreply x",
        "delete", "delete d a b c", "incr k", "incr i 1 noreply x", "decr k", "touch t", "touch t 10 x y",
        "flush_all 1 2 3", "verbosity", "verbosity 1 2 3", "get\ta",
        "cache_memlimit", "cache_memlimit 1 2 3", "lru",
    ])
    func unknownOrWrongArity(line: String) {
        #expect(decode(line + "\r\n") == [.error])
    }

    /// Administrative verbs reach the executor with their arguments and memcached's `ntokens`,
    /// once the token-count checks `process_command_ascii` makes itself have passed.
    @Test func administrativeVerbs() {
        #expect(decode("cache_memlimit 64\r\n") == [.admin(.cacheMemlimit, arguments: bytes("64"), tokens: 3)])
        #expect(decode("cache_memlimit 64 noreply\r\n") == [.admin(.cacheMemlimit, arguments: bytes("64 noreply"), tokens: 4)])
        #expect(decode("lru_crawler\r\n") == [.admin(.lruCrawler, arguments: [], tokens: 2)])
        #expect(decode("lru_crawler metadump all\r\n") == [.admin(.lruCrawler, arguments: bytes("metadump all"), tokens: 4)])
        #expect(decode("lru tune 1 2 3 4\r\n") == [.admin(.lru, arguments: bytes("tune 1 2 3 4"), tokens: 7)])
        #expect(decode("slabs reassign 1 2\r\n") == [.admin(.slabs, arguments: bytes("reassign 1 2"), tokens: 5)])
        #expect(decode("watch\r\n") == [.admin(.watch, arguments: [], tokens: 2)])
        #expect(decode("shutdown graceful\r\n") == [.admin(.shutdown, arguments: bytes("graceful"), tokens: 3)])
    }

    /// `-F`: every `flush_all` form that passes the token count is refused, a bad delay included,
    /// and noreply still silences the refusal.
    @Test func flushAllRefusedWhenDisabled() {
        var limits = TextParser.Limits()
        limits.flushEnabled = false
        #expect(decode(bytes("flush_all\r\n"), limits: limits) == [.flushRefused(noreply: false)])
        #expect(decode(bytes("flush_all abc\r\n"), limits: limits) == [.flushRefused(noreply: false)])
        #expect(decode(bytes("flush_all 0 noreply\r\n"), limits: limits) == [.flushRefused(noreply: true)])
        #expect(decode(bytes("flush_all 1 2 3\r\n"), limits: limits) == [.error])
    }

    @Test func moreThan23TokensFailsFixedArity() {
        let extra = String(repeating: " a", count: 30)
        #expect(decode("set k 0 0 1\(extra)\r\na\r\n") == [.error, .error])
        #expect(decode("delete k\(extra)\r\n") == [.error])
        #expect(decode("incr k 1\(extra)\r\n") == [.error])
    }

    @Test func extraWordsAreIgnoredWhereMemcachedIgnoresThem() {
        #expect(decode("set k 0 0 1 x\r\na\r\n") == [.set("k", "a")])
        #expect(decode("cas k 0 0 1 1 x\r\na\r\n")
            == [.storage(.cas, key: bytes("k"), flags: 0, exptime: 0, cas: 1, data: bytes("a"), noreply: false)])
        #expect(decode("touch t 10 x\r\n") == [.touch(key: bytes("t"), exptime: 10, noreply: false)])
        #expect(decode("incr i 1 x\r\n") == [.arithmetic(incr: true, key: bytes("i"), delta: 1, noreply: false)])
        #expect(decode("verbosity 1 2\r\n") == [.verbosity(level: 1, noreply: false)])
        #expect(decode("flush_all 0 0\r\n") == [.flushAll(delay: 0, noreply: false)])
    }

    // MARK: - noreply

    @Test func noreplyDetection() {
        #expect(decode("set k 0 0 1 noreply\r\na\r\n") == [.set("k", "a", noreply: true)])
        #expect(decode("delete k noreply\r\n") == [.delete(key: bytes("k"), noreply: true)])
        #expect(decode("delete k 0 noreply\r\n") == [.delete(key: bytes("k"), noreply: true)])
        #expect(decode("incr k 1 noreply\r\n") == [.arithmetic(incr: true, key: bytes("k"), delta: 1, noreply: true)])
        #expect(decode("decr k 1 noreply\r\n") == [.arithmetic(incr: false, key: bytes("k"), delta: 1, noreply: true)])
        #expect(decode("touch k 1 noreply\r\n") == [.touch(key: bytes("k"), exptime: 1, noreply: true)])
        #expect(decode("verbosity 1 noreply\r\n") == [.verbosity(level: 1, noreply: true)])
        #expect(decode("flush_all noreply\r\n") == [.flushAll(delay: 0, noreply: true)])
        #expect(decode("flush_all 0 noreply\r\n") == [.flushAll(delay: 0, noreply: true)])
        // Only the exact lowercase word counts.
        #expect(decode("set k 0 0 1 NOREPLY\r\na\r\n") == [.set("k", "a")])
        #expect(decode("set k 0 0 1 noreplyx\r\na\r\n") == [.set("k", "a")])
    }

    @Test func noreplyAppliesToValidationErrors() {
        #expect(decode("set k abc 0 1 noreply\r\na\r\n") == [.failure("CLIENT_ERROR bad command line format", noreply: true), .error])
        #expect(decode("incr k abc noreply\r\n") == [.failure("CLIENT_ERROR invalid numeric delta argument", noreply: true)])
        #expect(decode("touch k abc noreply\r\n") == [.failure("CLIENT_ERROR invalid exptime argument", noreply: true)])
        #expect(decode("verbosity noreply\r\n") == [.failure("CLIENT_ERROR bad command line format", noreply: true)])
        #expect(decode("delete d 5 noreply\r\n")
            == [.failure("CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]", noreply: true)])
        #expect(decode("flush_all abc noreply\r\n") == [.failure("CLIENT_ERROR invalid exptime argument", noreply: true)])
    }

    // MARK: - Keys

    @Test func keyLength250Accepted251Refused() {
        let k250 = String(repeating: "k", count: 250)
        let k251 = String(repeating: "k", count: 251)
        #expect(decode("set \(k250) 0 0 1\r\na\r\n") == [.set(k250, "a")])
        #expect(decode("set \(k251) 0 0 1\r\na\r\n") == [.badFormat, .error])
        #expect(decode("set \(k251) 0 0 1 noreply\r\na\r\n")
            == [.failure("CLIENT_ERROR bad command line format", noreply: true), .error])
        for verb in ["add", "replace", "append", "prepend"] {
            #expect(decode("\(verb) \(k251) 0 0 1\r\na\r\n") == [.badFormat, .error])
        }
        #expect(decode("cas \(k251) 0 0 1 1\r\na\r\n") == [.badFormat, .error])
        #expect(decode("delete \(k250)\r\n") == [.delete(key: bytes(k250), noreply: false)])
        #expect(decode("delete \(k251)\r\n") == [.badFormat])
        #expect(decode("delete \(k251) noreply\r\n") == [.failure("CLIENT_ERROR bad command line format", noreply: true)])
        #expect(decode("incr \(k251) 1\r\n") == [.badFormat])
        #expect(decode("decr \(k251) 1\r\n") == [.badFormat])
        #expect(decode("touch \(k251) 1\r\n") == [.badFormat])
        // Retrieval keys are checked by the executor, which sees each key in full.
        #expect(decode("get \(k251)\r\n") == [.get(k251)])
    }

    @Test func keysAreRawBytes() {
        let line: [UInt8] = bytes("get k") + [0x01, 0x02, 0x20, 0x6B, 0x7F, 0xFF, 0x20, 0x61, 0x0D, 0x62] + bytes("\r\n")
        #expect(decode(line) == [.retrieval(.get, exptime: 0, keys: [bytes("k") + [1, 2], [0x6B, 0x7F, 0xFF], bytes("a\rb")])])
        #expect(decode("get a\r\r\n") == [.get("a\r")])
        #expect(decode("get a\tb\r\n") == [.get("a\tb")])
    }

    // MARK: - get family details

    @Test func gatWithExptimeAndNoKeys() {
        #expect(decode("gat 100\r\n") == [.retrieval(.gat, exptime: 100, keys: [])])
        #expect(decode("gats 100\r\n") == [.retrieval(.gats, exptime: 100, keys: [])])
        #expect(decode("gat abc k\r\n") == [.invalidExptime])
        #expect(decode("gat 1x k\r\n") == [.invalidExptime])
        #expect(decode("gat 2147483648 k\r\n") == [.retrieval(.gat, exptime: Int32.min, keys: [bytes("k")])])
    }

    @Test func thousandKeysAreIteratedInOrder() {
        let keys = (0..<1000).map { "key\($0)" }
        let line = "get " + keys.joined(separator: " ") + "\r\n"
        #expect(decode(line) == [.retrieval(.get, exptime: 0, keys: keys.map(bytes))])
        // The same with a gat exptime and runs of spaces between keys.
        let spaced = "gats 5   " + keys.joined(separator: "   ") + "   \r\n"
        #expect(decode(spaced) == [.retrieval(.gats, exptime: 5, keys: keys.map(bytes))])
    }

    @Test func keyListIteratesLazily() {
        let input = bytes("get  a bb   ccc \r\n")
        var parser = TextParser()
        input.withUnsafeBytes { buffer in
            guard case .command(.retrieval(let request), _) = parser.parse(buffer) else {
                Issue.record("expected a retrieval"); return
            }
            var list = request.keys(in: buffer)
            #expect(list.next() == ByteSpan(offset: 5, count: 1))
            #expect(list.next() == ByteSpan(offset: 7, count: 2))
            #expect(list.next() == ByteSpan(offset: 12, count: 3))
            #expect(list.next() == nil)
            #expect(list.next() == nil)
        }
    }

    // MARK: - delete / flush_all / verbosity variants (spec §5, §6)

    @Test func deleteVariants() {
        #expect(decode("delete d 0\r\n") == [.delete(key: bytes("d"), noreply: false)])
        for line in ["delete d 5", "delete d 00", "delete d x y", "delete d 0 0", "delete d noreply 0"] {
            #expect(decode(line + "\r\n") == [.deleteUsage], "\(line)")
        }
        // The usage check comes before the key-length check.
        let k251 = String(repeating: "k", count: 251)
        #expect(decode("delete \(k251) 5\r\n") == [.deleteUsage])
    }

    @Test func flushAllVariants() {
        #expect(decode("flush_all 0\r\n") == [.flushAll(delay: 0, noreply: false)])
        #expect(decode("flush_all 10\r\n") == [.flushAll(delay: 10, noreply: false)])
        #expect(decode("flush_all -1\r\n") == [.flushAll(delay: -1, noreply: false)])
        #expect(decode("flush_all -5\r\n") == [.flushAll(delay: -5, noreply: false)])
        #expect(decode("flush_all abc\r\n") == [.invalidExptime])
        #expect(decode("flush_all noreply 5\r\n") == [.invalidExptime])
        #expect(decode("flush_all 7 noreply\r\n") == [.flushAll(delay: 7, noreply: true)])
    }

    @Test func verbosityVariants() {
        #expect(decode("verbosity abc\r\n") == [.badFormat])
        #expect(decode("verbosity -1\r\n") == [.badFormat])
        #expect(decode("verbosity 4294967301\r\n") == [.verbosity(level: 5, noreply: false)])
    }

    @Test func touchAndArithmeticArguments() {
        #expect(decode("touch t abc\r\n") == [.invalidExptime])
        #expect(decode("touch t -1\r\n") == [.touch(key: bytes("t"), exptime: -1, noreply: false)])
        for delta in ["abc", "1x", "-1", "18446744073709551616", ""] where !delta.isEmpty {
            #expect(decode("incr i \(delta)\r\n") == [.invalidDelta], "\(delta)")
        }
        #expect(decode("incr i +2\r\n") == [.arithmetic(incr: true, key: bytes("i"), delta: 2, noreply: false)])
        #expect(decode("decr i -18446744073709551615\r\n") == [.arithmetic(incr: false, key: bytes("i"), delta: 1, noreply: false)])
    }
}
