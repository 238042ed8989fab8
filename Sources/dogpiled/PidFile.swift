import ArgumentParser

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
