import DogpiledSettings

#if canImport(Glibc)
import Glibc
#endif

/// `-c` needs a descriptor per client plus dogpiled's own (listeners, each worker's event base
/// and mailbox, standard streams, the notify socket). memcached raises `RLIMIT_NOFILE` to fit
/// its connection limit or refuses to start; dogpiled does the same, so a client over the
/// descriptor limit can never hang unanswered in the accept queue.
enum DescriptorLimit {
    /// A limit that cannot be raised enough: memcached's message, and its exit status (EX_OSERR).
    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    /// Descriptors needed beyond the clients themselves.
    static func headroom(_ configuration: ServerConfiguration) -> Int {
        64 + 4 * configuration.threads + 2 * configuration.listenAddresses.count
    }

    /// Raises the soft limit (and, as root, the hard one) to fit `-c` plus the headroom.
    /// Returns the previous and new soft limits when it changed them.
    static func ensure(_ configuration: ServerConfiguration) throws(Refusal) -> (from: Int, to: Int)? {
        let needed = rlim_t(configuration.maxConnections + headroom(configuration))
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_RESOURCE, &limit) == 0 else {
            throw Refusal(description: "failed to getrlimit number of files")
        }
        guard limit.rlim_cur < needed else { return nil }
        let previous = Int(limit.rlim_cur)
        var raised = limit
        raised.rlim_cur = needed
        // Above the hard limit only root may go (and only up to fs.nr_open).
        if raised.rlim_max != rlim_t.max && raised.rlim_max < needed { raised.rlim_max = needed }
        guard setrlimit(RLIMIT_NOFILE_RESOURCE, &raised) == 0 else {
            throw Refusal(description: "failed to set rlimit for open files (-c \(configuration.maxConnections) needs \(needed) descriptors, "
                + "the limit is \(limit.rlim_cur), hard \(limit.rlim_max == rlim_t.max ? "unlimited" : String(limit.rlim_max))). "
                + (geteuid() == 0
                    ? "Raise the hard limit (fs.nr_open, LimitNOFILE=) or request a smaller -c."
                    : "Try starting as root or requesting a smaller -c."))
        }
        return (previous, Int(needed))
    }

    private static var RLIMIT_NOFILE_RESOURCE: __rlimit_resource_t { __rlimit_resource_t(RLIMIT_NOFILE.rawValue) }
}
