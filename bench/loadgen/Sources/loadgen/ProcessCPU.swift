#if canImport(Glibc)
import Glibc
#endif

/// CPU time (user + system) a process has used, from /proc/PID/stat: with it throughput can be
/// given per CPU-second of the server, which other load on a shared machine disturbs far less
/// than ops per wall-clock second.
enum ProcessCPU {
    /// Seconds of CPU `pid` (all its threads) has used, or nil when it cannot be read.
    static func seconds(pid: Int32) -> Double? {
        #if os(Linux)
        let descriptor = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        // The command name (field 2) is in parentheses and may hold spaces: count after the last ')'.
        guard let close = bytes[..<count].lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = bytes[(close + 2)..<count].split(separator: UInt8(ascii: " "))
        // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name.
        guard fields.count > 12, let user = Int(String(decoding: fields[11], as: UTF8.self)),
              let system = Int(String(decoding: fields[12], as: UTF8.self)) else { return nil }
        return Double(user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
        #else
        return nil
        #endif
    }
}
