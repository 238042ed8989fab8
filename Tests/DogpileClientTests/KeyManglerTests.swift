import Testing
@testable import DogpileClient

/// The shared key scheme, with the worked examples of docs/clients.md.
@Suite struct KeyManglerTests {
    @Test func workedExamples() {
        #expect(KeyMangler.cacheKey(region: "user", key: "42") == "user:42")
        #expect(KeyMangler.cacheKey(region: "user", key: "hello world") == "user:2aae6c35c94fcfb415dbe95f408b9ce91ee846ed")
        #expect(KeyMangler.cacheKey(region: "user", key: "café") == "user:café")
        #expect(Array(KeyMangler.cacheKey(region: "user", key: "café").utf8) == [0x75, 0x73, 0x65, 0x72, 0x3A, 0x63, 0x61, 0x66, 0xC3, 0xA9])
        #expect(KeyMangler.cacheKey(region: "user", key: "café menu") == "user:c19783df5f6effd371c9131e6a582689c5549753")
        let fits = String(repeating: "x", count: 245)
        #expect(KeyMangler.cacheKey(region: "user", key: fits) == "user:" + fits)
        #expect(KeyMangler.cacheKey(region: "user", key: fits).utf8.count == 250)
        #expect(KeyMangler.cacheKey(region: "user", key: fits + "x") == "user:483f7c63f027b3d3124a6d6ca8e7a111a5f09097")
    }

    @Test func controlBytesAndDeleteAreHashed() {
        for bad in ["a\tb", "a\nb", "a\u{7F}b", "\u{0}", " "] {
            let key = KeyMangler.cacheKey(region: "r", key: bad)
            #expect(key.utf8.count == 42, "\(bad.debugDescription)")
            #expect(key == "r:" + KeyMangler.sha1Hex(Array(bad.utf8)))
        }
    }

    @Test func lengthCountsUTF8BytesOfTheWholeKey() {
        // 123 two-byte characters: 246 bytes, plus "user:" = 251 > 250.
        let wide = String(repeating: "é", count: 123)
        #expect(KeyMangler.cacheKey(region: "user", key: wide).utf8.count == 45)
        let narrow = String(repeating: "é", count: 122)
        #expect(KeyMangler.cacheKey(region: "user", key: narrow) == "user:" + narrow)
    }

    @Test(arguments: ["", "a b", "a:b", "tab\t", String(repeating: "r", count: 201), "\u{7F}"])
    func badRegionNamesAreRefused(_ name: String) {
        #expect(throws: DogpileClientError.self) { try KeyMangler.validateRegionName(name) }
    }

    @Test func goodRegionNames() throws {
        try KeyMangler.validateRegionName("user")
        try KeyMangler.validateRegionName(String(repeating: "r", count: 200))
        try KeyMangler.validateRegionName("sessions-v2_é")
    }
}
