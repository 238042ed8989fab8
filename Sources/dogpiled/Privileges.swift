#if canImport(Glibc)
import Glibc
#endif

/// `-u`, as memcached 1.6.18 has it: started as root, dogpiled refuses to run without `-u`
/// (`-u root` is the explicit way to stay root), and switches to that user after binding,
/// dropping root's supplementary groups first so none of them stays with the process.
enum Privileges {
    /// A refusal with memcached's message and exit status.
    struct Refusal: Error, CustomStringConvertible {
        let description: String
        /// sysexits.h: EX_USAGE 64, EX_NOUSER 67, EX_OSERR 71, as memcached exits.
        let status: Int32
    }

    /// Whether the process runs as root (real or effective), as memcached checks.
    static var isRoot: Bool { getuid() == 0 || geteuid() == 0 }

    /// Before binding: as root, `-u` must be given and name a user.
    static func check(user: String?) throws(Refusal) {
        guard isRoot else { return }
        guard let user, !user.isEmpty else {
            throw Refusal(description: "can't run as root without the -u switch", status: 64)
        }
        guard getpwnam(user) != nil else {
            throw Refusal(description: "can't find the user \(user) to switch to", status: 67)
        }
    }

    /// After binding: becomes `user` with only that user's primary group.
    static func drop(to user: String) throws(Refusal) {
        guard isRoot else { return }
        guard let entry = getpwnam(user) else {
            throw Refusal(description: "can't find the user \(user) to switch to", status: 67)
        }
        var group = entry.pointee.pw_gid
        let uid = entry.pointee.pw_uid
        // Without this, setgid/setuid keep root's supplementary groups (e.g. 0, disk, adm).
        // EPERM means we may not change groups at all: already as unprivileged as we can be.
        if setgroups(1, &group) != 0 && errno != EPERM {
            throw Refusal(description: "failed to drop supplementary groups: \(String(cString: strerror(errno)))", status: 71)
        }
        guard setgid(group) == 0, setuid(uid) == 0 else {
            throw Refusal(description: "failed to assume identity of user \(user)", status: 71)
        }
    }
}
