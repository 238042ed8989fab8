import ArgumentParser
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `-P`: the process id in a file, removed again on a clean exit.
enum PidFile {
    static func write(to path: String) throws {
        guard let file = fopen(path, "w") else {
            throw ValidationError("-P \(path): cannot write pid file: \(String(cString: strerror(errno)))")
        }
        fputs("\(getpid())\n", file)
        fclose(file)
    }
}

/// `-u`: memcached refuses to run as root without it and switches to that user.
enum Privileges {
    static func drop(to user: String, logger: Logger) throws {
        guard getuid() == 0 else { return }
        guard let entry = getpwnam(user) else { throw ValidationError("-u \(user): no such user") }
        guard setgid(entry.pointee.pw_gid) == 0, setuid(entry.pointee.pw_uid) == 0 else {
            throw ValidationError("-u \(user): cannot switch user: \(String(cString: strerror(errno)))")
        }
        logger.info("running as \(user)")
    }
}
