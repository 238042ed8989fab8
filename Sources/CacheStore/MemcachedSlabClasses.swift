/// memcached 1.6.18's default slab classes (`-n 48`, `-f 1.25`, 512 KiB largest chunk), for the
/// `cls=` field of `me`: dogpiled allocates items exactly, but reports the class memcached would
/// have put the same item in, so the reply matches memcached's.
public enum MemcachedSlabClasses {
    /// Chunk sizes of classes 1, 2, ... (index 0 is class 1).
    static let sizes: [Int] = {
        var sizes: [Int] = []
        var size = 48 + 48  // sizeof(item) + the default minimum space for key, value and flags
        let largest = 512 * 1024
        while sizes.count < 62 && Double(size) < Double(largest) / 1.25 {
            if size % 8 != 0 { size += 8 - size % 8 }
            sizes.append(size)
            size = Int(Double(size) * 1.25)
        }
        sizes.append(largest)
        return sizes
    }()

    /// Class ids by size in 8-byte steps up to the largest chunk, so a link or unlink finds its
    /// class with one load.
    private static let table: [UInt8] = {
        let largest = sizes[sizes.count - 1]
        var table = [UInt8](repeating: 0, count: largest / 8 + 1)
        var id = 0
        for step in 0..<table.count {
            while step * 8 > sizes[id] { id += 1 }
            table[step] = UInt8(id + 1)
        }
        return table
    }()

    /// ``classID(forTotal:)`` by table lookup.
    @inline(__always)
    static func fastClassID(forTotal total: Int) -> Int {
        let step = (total + 7) / 8
        return step < table.count ? Int(table[step]) : sizes.count
    }

    /// memcached's `ITEM_ntotal` for an item: a 48-byte header, the key and a NUL, the value and
    /// CRLF, 4 bytes of client flags when they are not 0, and the 8-byte CAS.
    @inline(__always)
    static func memcachedSize(of header: ItemHeader) -> Int {
        48 + Int(header.keyCount) + 1 + Int(header.valueCount) + 2 + (header.flags == 0 ? 0 : 4) + 8
    }

    /// The number of classes (memcached's `power_largest`); ids run from 1 to this.
    public static var count: Int { sizes.count }

    /// The class of an item of `total` bytes (memcached's `ITEM_ntotal`); items larger than
    /// the largest chunk are chunked by memcached and reported in the largest class.
    public static func classID(forTotal total: Int) -> Int {
        for (index, size) in sizes.enumerated() where total <= size { return index + 1 }
        return sizes.count
    }
}
