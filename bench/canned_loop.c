// canned_loop — the floor for a keep-alive HTTP/1.1 server on this machine, for bench/run.
//
// One epoll loop per thread, each with its own SO_REUSEPORT listening socket (so the kernel spreads
// connections over the threads, as Berth's io threads do). Nothing is parsed or routed: every
// "\r\n\r\n" that arrives on a connection is answered with the same canned 200 JSON reply. What
// Berth spends beyond this is its own cost: parsing, routing, request id, CORS, envelope, logs.
//
// Build: cc -O2 -pthread canned_loop.c -o canned_loop
// Run:   ./canned_loop PORT [THREADS]      (THREADS 0 or absent: one per CPU; SIGTERM stops it)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum { kMaxEvents = 256, kReadBuffer = 16384, kMaxRepliesPerRead = 64 };

static const char kReply[] =
    "HTTP/1.1 200 OK\r\nServer: canned\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n"
    "{\"message\":\"Hello, World!\"}";
#define REPLY_LEN (sizeof kReply - 1)

static int listenPort;
// The last three bytes each connection received (indexed by fd), so a request head split over two
// reads is still answered once. Each fd belongs to one loop only.
static uint32_t* lastBytes;
static size_t lastBytesSlots;

static int openListener(void) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
        perror("canned_loop: socket");
        exit(1);
    }
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((unsigned short)listenPort)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr*)&address, sizeof address) != 0 || listen(fd, 4096) != 0) {
        perror("canned_loop: bind/listen");
        exit(1);
    }
    return fd;
}

static void acceptAll(int listener, int epollFd) {
    int on = 1;
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;  // EAGAIN: accepted everything that was waiting (or out of fds)
        if ((size_t)fd >= lastBytesSlots) {
            close(fd);
            continue;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        lastBytes[fd] = 0;
        struct epoll_event event = {.events = EPOLLIN, .data.fd = fd};
        epoll_ctl(epollFd, EPOLL_CTL_ADD, fd, &event);
    }
}

// Counts the request heads that end in data[0, size): each '\n' (found with memchr, which is fast)
// that closes a "\r\n\r\n", looking back into the previous read's last bytes where needed.
static int countRequestEnds(const char* data, size_t size, uint32_t* last) {
    int ends = 0;
    const char* end = data + size;
    const char* nl = memchr(data, '\n', size);
    while (nl != NULL) {
        size_t at = (size_t)(nl - data);
        if (at >= 3) {
            ends += nl[-1] == '\r' && nl[-2] == '\n' && nl[-3] == '\r';
        } else {  // the head began in the previous read: 3 - at of its bytes are in *last
            uint32_t before = *last;
            for (size_t k = 0; k < at; ++k) before = before << 8 | (unsigned char)data[k];
            ends += (before & 0xffffff) == ('\r' << 16 | '\n' << 8 | '\r');
        }
        nl = memchr(nl + 1, '\n', (size_t)(end - nl - 1));
    }
    uint32_t tail = *last;
    for (size_t k = size > 3 ? size - 3 : 0; k < size; ++k) tail = tail << 8 | (unsigned char)data[k];
    *last = tail & 0xffffff;
    return ends;
}

static void serve(int fd) {
    char in[kReadBuffer];
    static __thread char out[REPLY_LEN * kMaxRepliesPerRead];
    for (;;) {
        ssize_t got = read(fd, in, sizeof in);
        if (got < 0 && errno == EAGAIN) return;
        if (got <= 0) {
            close(fd);  // also removes it from the epoll set
            return;
        }
        int replies = countRequestEnds(in, (size_t)got, &lastBytes[fd]);
        if (replies > kMaxRepliesPerRead) replies = kMaxRepliesPerRead;
        size_t length = 0;
        for (int i = 0; i < replies; ++i, length += REPLY_LEN) memcpy(out + length, kReply, REPLY_LEN);
        // A short write means a client that pipelines faster than it reads: not one of ours; drop it.
        if (length > 0 && write(fd, out, length) != (ssize_t)length) {
            close(fd);
            return;
        }
        if ((size_t)got < sizeof in) return;  // level-triggered: a read that filled the buffer may have more
    }
}

static void* runLoop(void* unused) {
    (void)unused;
    int listener = openListener();
    int epollFd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event event = {.events = EPOLLIN, .data.fd = listener};
    epoll_ctl(epollFd, EPOLL_CTL_ADD, listener, &event);
    struct epoll_event events[kMaxEvents];
    for (;;) {
        int ready = epoll_wait(epollFd, events, kMaxEvents, -1);
        for (int i = 0; i < ready; ++i) {
            if (events[i].data.fd == listener)
                acceptAll(listener, epollFd);
            else
                serve(events[i].data.fd);
        }
    }
    return NULL;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
        return 2;
    }
    listenPort = atoi(argv[1]);
    long threads = argc > 2 ? atol(argv[2]) : 0;
    if (threads <= 0) threads = sysconf(_SC_NPROCESSORS_ONLN);
    if (threads > 256) threads = 256;
    struct rlimit files;
    getrlimit(RLIMIT_NOFILE, &files);
    lastBytesSlots =
        files.rlim_cur == RLIM_INFINITY || files.rlim_cur > (1u << 20) ? (1u << 20) : files.rlim_cur;
    lastBytes = calloc(lastBytesSlots, sizeof *lastBytes);
    pthread_t loops[256];
    for (long i = 1; i < threads; ++i) pthread_create(&loops[i], NULL, runLoop, NULL);
    runLoop(NULL);  // the main thread is loop 0
    return 0;
}
