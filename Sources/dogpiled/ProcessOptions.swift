/// What the command line asks of the process rather than of the server: memcached's `-d`, `-k`
/// and `-r`, and the start-up notices of options accepted without effect.
struct ProcessOptions {
    /// `-d`: run in the background.
    var daemonize = false
    /// `-k`: lock all memory.
    var lockMemory = false
    /// `-r`: raise the core file limit.
    var maximizeCoreFile = false
    /// One line per option given that changes nothing in dogpiled, each once.
    var notices: [String] = []
}
