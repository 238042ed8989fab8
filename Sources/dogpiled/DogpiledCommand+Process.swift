import ArgumentParser
import DogpiledServer

#if canImport(Glibc)
import Glibc
#endif

extension DogpiledCommand {
    /// `-d`, `-k`, `-r`, and a notice for each option given that has no effect: the memcached
    /// flags `-L`, `-f`, `-n`, `-N` (checked as memcached checks them, so a value memcached
    /// refuses is refused here too) and the `-o` names ``ExtendedOptions`` reports.
    func processOptions() throws -> ProcessOptions {
        var options = ProcessOptions(daemonize: daemonize, lockMemory: lockMemory, maximizeCoreFile: enableCoredumps)
        if enableLargePages {
            options.notices.append("-L has no effect in dogpiled: items are allocated one by one, not from one preallocated arena that large pages could back")
        }
        if let slabGrowthFactor {
            guard let factor = Double(slabGrowthFactor), factor.isFinite, factor > 1 else {
                throw ValidationError("-f \(slabGrowthFactor): the factor must be a number greater than 1")
            }
            options.notices.append("-f has no effect in dogpiled: there are no slab classes to grow; each item is allocated at its exact size")
        }
        if let slabMinSize {
            guard let size = Int(slabMinSize), size > 0 else {
                throw ValidationError("-n \(slabMinSize): the chunk size must be an integer greater than 0")
            }
            options.notices.append("-n has no effect in dogpiled: there are no slab chunks; each item is allocated at its exact size")
        }
        if let napiIDs {
            let threads = (try? effectiveConfiguration().threads) ?? 4
            guard let count = Int(napiIDs), count > 0, count <= threads else {
                throw ValidationError("-N \(napiIDs): the number of NAPI IDs must be from 1 to the number of threads (\(threads))")
            }
            options.notices.append("-N has no effect in dogpiled: connections are spread over worker threads round-robin, not by NIC queue (NAPI ID)")
        }
        var scratch = ServerConfiguration()
        if let idleTimeout { try ExtendedOptions.apply(["idle_timeout=\(idleTimeout)"], to: &scratch) }
        options.notices += try ExtendedOptions.apply(extended, to: &scratch)
        return options
    }

    /// `path` made absolute against the current directory.
    static func absolute(_ path: String) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        let directory = String(cString: buffer)
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }

    /// `-i`: what memcached's `--license` stands for here.
    static let licenseText = """
        dogpiled \(ServerState.version)
        dogpiled links libevent (https://libevent.org), distributed under the 3-clause BSD \
        license; see its LICENSE file. dogpiled's own terms are those of its source repository.
        """
}
