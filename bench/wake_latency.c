// Wake-up latency of parked lockgen waiters: the measuring client of bench/wake_latency.py.
//
//   wake_latency PORT WAITERS KEYS ROUND
//
// One holder connection takes a generation lease on each of KEYS keys; WAITERS connections (one
// socket per waiter, spread evenly over the keys) send `lockgen` and park; once the server reports
// them all waiting (`stats locks`), the holder stores every key with pipelined `setgen`s. A key's
// clock starts when the holder reads its `STORED`; a waiter's stops when its `HIT` line has been
// read. One thread drives every socket through epoll, so the client adds microseconds, not the
// milliseconds an interpreter would; it also takes each reply's kernel receive timestamp
// (SO_TIMESTAMPNS), which is free of the client's own serial reading: on 2 cores, reading 1,000
// sockets one after another is itself a few milliseconds.
// Prints one line: "p50 p99 max kp50 kp99 kmax" in milliseconds (read times, then arrival
// times), or fails.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    int key;
    size_t length;
    char data[512];
    double answered;
    double arrived;
} Waiter;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000.0 + t.tv_nsec / 1e6;
}

static double realtime_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return t.tv_sec * 1000.0 + t.tv_nsec / 1e6;
}

static void fail(const char *what) {
    fprintf(stderr, "wake_latency: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) fail("socket");
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) fail("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    return fd;
}

static void send_all(int fd, const char *data, size_t length) {
    while (length > 0) {
        ssize_t n = write(fd, data, length);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("write");
        }
        data += n;
        length -= n;
    }
}

// Reads (blocking) until the buffer ends with `suffix`; returns its length.
static size_t read_until(int fd, char *buffer, size_t capacity, const char *suffix) {
    size_t length = 0, suffix_length = strlen(suffix);
    for (;;) {
        ssize_t n = read(fd, buffer + length, capacity - 1 - length);
        if (n <= 0) fail("read");
        length += n;
        buffer[length] = 0;
        if (length >= suffix_length && memcmp(buffer + length - suffix_length, suffix, suffix_length) == 0) return length;
        if (length + 1 >= capacity) { errno = EMSGSIZE; fail("reply too long"); }
    }
}

// read(2) that also returns the kernel's receive time (CLOCK_REALTIME, ms) of the bytes read, or
// the current time when the kernel gave none.
static ssize_t read_stamped(int fd, char *buffer, size_t capacity, double *arrived) {
    struct iovec io = {.iov_base = buffer, .iov_len = capacity};
    char control[CMSG_SPACE(sizeof(struct timespec))];
    struct msghdr message = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    ssize_t n = recvmsg(fd, &message, 0);
    *arrived = realtime_ms();
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c != NULL; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec t;
            memcpy(&t, CMSG_DATA(c), sizeof t);
            *arrived = t.tv_sec * 1000.0 + t.tv_nsec / 1e6;
        }
    }
    return n;
}

static long parked_waiters(int port) {
    int fd = connect_to(port);
    static char reply[65536];
    send_all(fd, "stats locks\r\n", 13);
    read_until(fd, reply, sizeof reply, "END\r\n");
    close(fd);
    char *line = strstr(reply, "STAT generation_waiters ");
    return line ? atol(line + 24) : -1;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: wake_latency PORT WAITERS KEYS ROUND\n");
        return 2;
    }
    int port = atoi(argv[1]), waiters = atoi(argv[2]), keys = atoi(argv[3]), round = atoi(argv[4]);
    char line[4096];
    static char buffer[1 << 20];

    int holder = connect_to(port);
    unsigned long long *tokens = calloc(keys, sizeof *tokens);
    for (int k = 0; k < keys; k++) {
        int n = snprintf(line, sizeof line, "lockgen wake:%d:%d 60000 0\r\n", round, k);
        send_all(holder, line, n);
        read_until(holder, buffer, sizeof buffer, "\r\n");
        if (sscanf(buffer, "GEN %llu", &tokens[k]) != 1) {
            fprintf(stderr, "wake_latency: expected GEN, got %s\n", buffer);
            return 1;
        }
    }

    Waiter *all = calloc(waiters, sizeof *all);
    int epoll = epoll_create1(0);
    for (int i = 0; i < waiters; i++) {
        all[i].fd = connect_to(port);
        all[i].key = i % keys;
        int n = snprintf(line, sizeof line, "lockgen wake:%d:%d 60000 60000\r\n", round, all[i].key);
        send_all(all[i].fd, line, n);
        struct epoll_event event = {.events = EPOLLIN, .data.u32 = (unsigned)i};
        if (epoll_ctl(epoll, EPOLL_CTL_ADD, all[i].fd, &event) < 0) fail("epoll_ctl");
    }
    double deadline = now_ms() + 60000;
    while (parked_waiters(port) < waiters) {
        if (now_ms() > deadline) { fprintf(stderr, "wake_latency: waiters did not park\n"); return 1; }
        usleep(20000);
    }

    // Every setgen in one write; then the holder's replies are read in the same epoll loop.
    const char *value = "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789";
    size_t used = 0;
    for (int k = 0; k < keys; k++)
        used += snprintf(buffer + used, sizeof buffer - used, "setgen wake:%d:%d %llu 0 0 100\r\n%s\r\n", round, k, tokens[k], value);
    struct epoll_event holder_event = {.events = EPOLLIN, .data.u32 = (unsigned)waiters};
    epoll_ctl(epoll, EPOLL_CTL_ADD, holder, &holder_event);
    double *started = calloc(keys, sizeof *started);
    double *started_arrival = calloc(keys, sizeof *started_arrival);
    int stored = 0, remaining = waiters;
    size_t holder_length = 0;
    char holder_data[8192];
    send_all(holder, buffer, used);

    struct epoll_event events[256];
    deadline = now_ms() + 60000;
    while ((remaining > 0 || stored < keys) && now_ms() < deadline) {
        int ready = epoll_wait(epoll, events, 256, 1000);
        for (int e = 0; e < ready; e++) {
            // Each socket's own reading time: a batch of events is read one by one.
            double now = now_ms();
            unsigned index = events[e].data.u32;
            if ((int)index == waiters) {
                double arrived;
                ssize_t n = read_stamped(holder, holder_data + holder_length, sizeof holder_data - 1 - holder_length, &arrived);
                if (n <= 0) fail("holder read");
                holder_length += n;
                holder_data[holder_length] = 0;
                char *at;
                while ((at = strstr(holder_data, "STORED\r\n")) != NULL) {
                    started_arrival[stored] = arrived;
                    started[stored++] = now;
                    size_t consumed = (at - holder_data) + 8;
                    memmove(holder_data, holder_data + consumed, holder_length - consumed + 1);
                    holder_length -= consumed;
                }
                continue;
            }
            Waiter *w = &all[index];
            double arrived;
            ssize_t n = read_stamped(w->fd, w->data + w->length, sizeof w->data - 1 - w->length, &arrived);
            if (n <= 0) fail("waiter read");
            w->length += n;
            w->data[w->length] = 0;
            if (w->length >= 5 && memcmp(w->data + w->length - 5, "HIT\r\n", 5) == 0) {
                w->answered = now;
                w->arrived = arrived;
                remaining--;
                // Left registered: an answered socket receives nothing more, so it raises no
                // event, and a deregistration would be one more syscall per waiter.
            }
        }
    }
    if (remaining > 0 || stored < keys) {
        fprintf(stderr, "wake_latency: %d waiters unanswered, %d of %d keys stored\n", remaining, stored, keys);
        return 1;
    }
    double *latency = calloc(waiters, sizeof *latency);
    double *arrival = calloc(waiters, sizeof *arrival);
    for (int i = 0; i < waiters; i++) {
        char expected[128];
        snprintf(expected, sizeof expected, "VALUE wake:%d:%d 0 100 ", round, all[i].key);
        if (strncmp(all[i].data, expected, strlen(expected)) != 0 || strstr(all[i].data, value) == NULL) {
            fprintf(stderr, "wake_latency: waiter %d not answered HIT with the value: %.80s\n", i, all[i].data);
            return 1;
        }
        // Pipelined setgens are stored in key order, so the k-th STORED is key k's.
        latency[i] = all[i].answered - started[all[i].key];
        arrival[i] = all[i].arrived - started_arrival[all[i].key];
        close(all[i].fd);
    }
    qsort(latency, waiters, sizeof *latency, compare);
    qsort(arrival, waiters, sizeof *arrival, compare);
    int p50 = (waiters - 1) / 2, p99 = (int)((waiters - 1) * 0.99), last = waiters - 1;
    printf("%.3f %.3f %.3f %.3f %.3f %.3f\n", latency[p50], latency[p99], latency[last], arrival[p50], arrival[p99], arrival[last]);
    close(holder);
    return 0;
}
