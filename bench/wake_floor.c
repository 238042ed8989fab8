// The kernel's floor for waking parked waiters: what the same fan-out costs without dogpiled.
//
//   wake_floor WAITERS WRITERS ROUNDS
//
// WAITERS loopback TCP connections; a reader process waits on all of them in one epoll set (as
// bench/wake_latency.c does); WRITERS threads of this process (created beforehand, released
// together) then write one 137-byte reply (the size of a `VALUE ... 100` + data + `HIT` answer)
// to each connection, split evenly between them.
// Latency of a connection: from the first write's start to the kernel's receive timestamp
// (SO_TIMESTAMPNS) of its reply, so the reader's own serial reading does not count. Prints, per
// round, "p50 p99 max" in milliseconds. No server, no parsing, no locks: the reference for any
// daemon doing the same fan-out with the same threads on this machine at this moment.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int waiters, writers;
static int *served;                 // the server ends of the connections
static char reply[137];

static double realtime_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return t.tv_sec * 1000.0 + t.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static pthread_barrier_t go, done;
static int rounds;

// One writer thread, created before the first round: each round it writes its share of the
// connections between the two barriers.
static void *write_share(void *argument) {
    long first = (long)argument;
    for (int round = 0; round < rounds; round++) {
        pthread_barrier_wait(&go);
        for (int i = (int)first; i < waiters; i += writers) {
            struct iovec parts[3] = {{reply, 30}, {reply + 30, 102}, {reply + 132, 5}};
            if (writev(served[i], parts, 3) != 137) { perror("writev"); exit(1); }
        }
        pthread_barrier_wait(&done);
    }
    return NULL;
}

// The reader: answers one line per round, the latency percentiles against the start time the
// writer sends it through `start_pipe`.
static void read_rounds(int *clients, int start_pipe, int result_pipe) {
    int epoll = epoll_create1(0);
    for (int i = 0; i < waiters; i++) {
        struct epoll_event event = {.events = EPOLLIN, .data.u32 = (unsigned)i};
        epoll_ctl(epoll, EPOLL_CTL_ADD, clients[i], &event);
    }
    double *arrived = calloc(waiters, sizeof *arrived);
    struct epoll_event events[256];
    char data[512];
    char control[CMSG_SPACE(sizeof(struct timespec))];
    for (int round = 0; round < rounds; round++) {
        for (int got = 0; got < waiters;) {
            int ready = epoll_wait(epoll, events, 256, -1);
            for (int e = 0; e < ready; e++) {
                int i = (int)events[e].data.u32;
                struct iovec io = {.iov_base = data, .iov_len = sizeof data};
                struct msghdr message = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
                if (recvmsg(clients[i], &message, 0) <= 0) { perror("recvmsg"); exit(1); }
                arrived[i] = realtime_ms();
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
                    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                        struct timespec t;
                        memcpy(&t, CMSG_DATA(c), sizeof t);
                        arrived[i] = t.tv_sec * 1000.0 + t.tv_nsec / 1e6;
                    }
                }
                got++;
            }
        }
        double started;
        if (read(start_pipe, &started, sizeof started) != sizeof started) exit(1);
        for (int i = 0; i < waiters; i++) arrived[i] -= started;
        qsort(arrived, waiters, sizeof *arrived, compare);
        double line[3] = {arrived[(waiters - 1) / 2], arrived[(int)((waiters - 1) * 0.99)], arrived[waiters - 1]};
        if (write(result_pipe, line, sizeof line) != sizeof line) exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: wake_floor WAITERS WRITERS ROUNDS\n"); return 2; }
    waiters = atoi(argv[1]);
    writers = atoi(argv[2]);
    rounds = atoi(argv[3]);
    memset(reply, 'x', sizeof reply);
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(listener, (struct sockaddr *)&address, sizeof address) || listen(listener, 4096)) { perror("listen"); return 1; }
    getsockname(listener, (struct sockaddr *)&address, &length);
    // Each side of the connections lives in its own process, as with a real server and client
    // (and so each needs only one descriptor per waiter).
    int start_pipe[2], result_pipe[2];
    if (pipe(start_pipe) || pipe(result_pipe)) return 1;
    int one = 1;
    pid_t reader = fork();
    if (reader == 0) {
        close(listener);
        int *clients = calloc(waiters, sizeof *clients);
        for (int i = 0; i < waiters; i++) {
            clients[i] = socket(AF_INET, SOCK_STREAM, 0);
            if (clients[i] < 0 || connect(clients[i], (struct sockaddr *)&address, sizeof address)) { perror("connect"); _exit(1); }
            setsockopt(clients[i], SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
        }
        read_rounds(clients, start_pipe[0], result_pipe[1]);
        _exit(0);
    }
    served = calloc(waiters, sizeof *served);
    for (int i = 0; i < waiters; i++) {
        served[i] = accept(listener, NULL, NULL);
        if (served[i] < 0) { perror("accept"); return 1; }
        setsockopt(served[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    pthread_t *threads = calloc(writers, sizeof *threads);
    pthread_barrier_init(&go, NULL, writers + 1);
    pthread_barrier_init(&done, NULL, writers + 1);
    for (long w = 0; w < writers; w++) pthread_create(&threads[w], NULL, write_share, (void *)w);
    for (int round = 0; round < rounds; round++) {
        usleep(200000);                 // the reader is parked in epoll_wait again
        double started = realtime_ms();
        pthread_barrier_wait(&go);
        pthread_barrier_wait(&done);
        if (write(start_pipe[1], &started, sizeof started) != sizeof started) return 1;
        double line[3];
        if (read(result_pipe[0], line, sizeof line) != sizeof line) return 1;
        printf("%.3f %.3f %.3f\n", line[0], line[1], line[2]);
        fflush(stdout);
    }
    waitpid(reader, NULL, 0);
    return 0;
}
