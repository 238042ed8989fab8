#ifndef DOGPILED_CLIBEVENT_SHIM_H
#define DOGPILED_CLIBEVENT_SHIM_H
// glibc headers first: importing event2 before them makes debug builds fail
// with an fd_set module conflict (measured on this toolchain).
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/eventfd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <signal.h>
#include <event2/event.h>
#include <event2/buffer.h>
#include <event2/thread.h>
#include <event2/util.h>


// accept4 is a GNU extension that the Glibc module does not export; declare it here so a
// connection is accepted non-blocking and close-on-exec in one call.
extern int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);
static inline int dogpiled_accept(int fd) {
    return accept4(fd, (struct sockaddr *)0, (socklen_t *)0, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

#endif
