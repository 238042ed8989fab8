// The dogpiled daemon. All logic lives in DogpiledCommand and the DogpiledServer module.
#if canImport(Glibc)
import Glibc
#endif

// A parent may start us with signals blocked (Foundation's Process does); the daemon's
// SIGTERM/SIGINT/SIGHUP handling must not depend on that.
var handled = sigset_t()
sigemptyset(&handled)
for signal in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&handled, signal) }
pthread_sigmask(SIG_UNBLOCK, &handled, nil)

DogpiledCommand.main()
