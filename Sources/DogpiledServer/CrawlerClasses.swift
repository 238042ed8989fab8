import CacheStore
import MemcacheProtocol

/// The class list of `lru_crawler crawl|metadump <classes>`, read as memcached's
/// `lru_crawler_crawl` reads it: `all`, `hash`, or ids separated by commas (empty pieces
/// skipped, as `strtok_r` skips them), each from 1 to 63.
enum CrawlerClasses {
    case all
    case hash
    case classes(Set<Int>)
    case badClass

    init(_ text: [UInt8]) {
        if text.elementsEqual("all".utf8) {
            self = .all
            return
        }
        if text.elementsEqual("hash".utf8) {
            self = .hash
            return
        }
        var ids = Set<Int>()
        for piece in text.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true) {
            // memcached's MAX_NUMBER_OF_SLAB_CLASSES is 64; class 0 is not a class.
            guard let id = Array(piece).withUnsafeBytes({ NumberParsing.parseUInt32($0) }), (1..<64).contains(id) else {
                self = .badClass
                return
            }
            ids.insert(Int(id))
        }
        self = .classes(ids)
    }

    /// Whether an item of memcached class `id` is listed.
    func includes(_ id: Int) -> Bool {
        switch self {
        case .all, .hash: true
        case .classes(let ids): ids.contains(id)
        case .badClass: false
        }
    }
}
