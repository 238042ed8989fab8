#if canImport(Glibc)
import Glibc
#endif

/// memcached's process flags: `-d` (daemonize), `-r` (maximize the core file limit) and `-k`
/// (lock all memory).
enum ProcessControl {
    // Glibc imports the resource constants as an enum; the calls take its raw value.
    private static let coreLimit = __rlimit_resource_t(RLIMIT_CORE.rawValue)
    /// RLIMIT_MEMLOCK, which Glibc's module does not export by name (8 on Linux).
    private static let lockedMemoryLimit = __rlimit_resource_t(8)

    /// RLIM_INFINITY (all bits set), which Swift cannot import from its C macro.
    private static let unlimited = rlim_t.max

    /// A start-up failure of one of these flags: the message for standard error and EX_OSERR.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// `-r`: raises the core file limit as far as allowed, as memcached does (unlimited, else the
    /// hard limit); fails, as memcached exits, if no core file could be written at all.
    static func maximizeCoreFileLimit() throws(Failure) {
        var limit = rlimit()
        if getrlimit(coreLimit, &limit) == 0 {
            var wanted = rlimit(rlim_cur: unlimited, rlim_max: unlimited)
            if setrlimit(coreLimit, &wanted) != 0 {
                wanted = rlimit(rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max)
                _ = setrlimit(coreLimit, &wanted)
            }
        }
        guard getrlimit(coreLimit, &limit) == 0, limit.rlim_cur != 0 else {
            throw Failure(description: "-r: failed to ensure corefile creation (the hard core file limit is 0)")
        }
    }

    /// `-k`: `mlockall(MCL_CURRENT | MCL_FUTURE)`, after privileges are dropped so the limit of
    /// the identity that runs is the one checked. memcached only warns when this fails and runs
    /// unlocked; dogpiled refuses, since the operator asked for memory that cannot be swapped.
    /// Without root, every later allocation counts against `RLIMIT_MEMLOCK`, so a limit below
    /// the item memory plus room for buffers would fail allocations later; that is refused now.
    static func lockMemory(memoryLimitBytes: Int) throws(Failure) {
        var limit = rlimit()
        let needed = UInt(memoryLimitBytes) + 256 << 20
        if geteuid() != 0, getrlimit(lockedMemoryLimit, &limit) == 0, limit.rlim_cur != unlimited, UInt(limit.rlim_cur) < needed {
            throw Failure(description: """
                -k: the locked-memory limit is \(limit.rlim_cur >> 20) MiB, below -m plus 256 MiB for buffers \
                (\(needed >> 20) MiB): raise it (ulimit -l, systemd LimitMEMLOCK=) or run without -k
                """)
        }
        guard mlockall(Int32(MCL_CURRENT | MCL_FUTURE)) == 0 else {
            throw Failure(description: "-k: mlockall() failed: \(String(cString: strerror(errno))); refusing to run with memory that can be swapped")
        }
    }

    /// `-d`: forks; the parent waits until the child reports that it is serving (then exits 0)
    /// or has failed (then exits with the child's status), so a failed start-up is still seen by
    /// whoever started dogpiled. The child starts a new session, changes to `/` unless
    /// `keepDirectory` (`-r`, so a core file lands where it was started, as memcached does) and
    /// gets its standard streams on /dev/null once ready unless `keepOutput` (`-v`).
    ///
    /// Call before any thread is started. Returns in the child the function that reports ready.
    static func daemonize(keepDirectory: Bool, keepOutput: Bool) throws(Failure) -> () -> Void {
        var channel: [Int32] = [-1, -1]
        guard pipe(&channel) == 0 else { throw Failure(description: "-d: pipe() failed: \(String(cString: strerror(errno)))") }
        let child = fork()
        if child < 0 { throw Failure(description: "-d: fork() failed: \(String(cString: strerror(errno)))") }
        if child > 0 {
            close(channel[1])
            var byte: UInt8 = 0
            var count: Int
            repeat { count = read(channel[0], &byte, 1) } while count < 0 && errno == EINTR
            if count == 1 { _exit(0) }
            var status: Int32 = 0
            while waitpid(child, &status, 0) < 0 && errno == EINTR {}
            // The child exited before being ready: its status is ours (WIFEXITED / WEXITSTATUS).
            _exit((status & 0x7f) == 0 ? (status >> 8) & 0xff : 71)
        }
        close(channel[0])
        _ = fcntl(channel[1], F_SETFD, FD_CLOEXEC)
        guard setsid() >= 0 else { throw Failure(description: "-d: setsid() failed: \(String(cString: strerror(errno)))") }
        let readyChannel = channel[1]
        return {
            // Only now: relative -s and -P paths were resolved where dogpiled was started.
            if !keepDirectory { _ = chdir("/") }
            if !keepOutput {
                let null = open("/dev/null", O_RDWR)
                if null >= 0 {
                    for stream in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] { _ = dup2(null, stream) }
                    if null > STDERR_FILENO { close(null) }
                }
            }
            var ready: UInt8 = 1
            _ = write(readyChannel, &ready, 1)
            close(readyChannel)
        }
    }
}
