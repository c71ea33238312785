/*
 * rr: a minimal BGP route reflector in C on top of libreflector.
 *
 * The C side does only I/O: sockets, poll(), a millisecond clock. Every bit
 * of BGP (the session state machine, OPEN negotiation, keepalives and hold
 * timers, UPDATE parsing, best-path decision, reflection with ORIGINATOR_ID
 * and CLUSTER_LIST, encoding) goes through the C API: one rfl_session per
 * configured peer and one rfl_engine for all of them.
 *
 * Usage:
 *   rr LISTEN_ADDR PORT LOCAL_AS ROUTER_ID [--cluster-id ID] [--max-seconds N]
 *      PEER_ADDR:client|nonclient ...
 *
 * Peers connect to us (passive sessions); a connection from an address that
 * is not configured is refused. SIGINT/SIGTERM stop every session with a
 * Cease / Administrative Shutdown NOTIFICATION and exit 0; --max-seconds
 * bounds the run the same way.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "reflector.h"

#define MAX_PEERS 64

struct peer {
    struct in_addr addr;
    uint32_t role;
    int fd;
    rfl_session *session;
    uint32_t engine_peer;
    int engine_up;
    rfl_negotiated negotiated; /* of the current session, for graceful restart */
    uint64_t restart_deadline; /* graceful restart: stale routes go at this time (0: none) */
};

static struct peer peers[MAX_PEERS];
static int npeers;
static rfl_engine *engine;
static volatile sig_atomic_t stopping;
static uint8_t buf[RFL_MAX_MESSAGE_LEN];

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void fail_call(const char *what, rfl_result r)
{
    char msg[512];
    size_t len = 0;
    msg[0] = 0;
    rfl_last_error(msg, sizeof msg, &len);
    fprintf(stderr, "rr: %s failed (%u): %s\n", what, (unsigned)r, msg);
}

#define TRY(call)                                                              \
    do {                                                                       \
        rfl_result r_ = (call);                                                \
        if (r_ != RFL_RESULT_OK)                                               \
            fail_call(#call, r_);                                              \
    } while (0)

static int parse_ipv4_id(const char *s, uint32_t *out)
{
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1)
        return 0;
    *out = ntohl(a.s_addr);
    return 1;
}

static void write_all(struct peer *p, const uint8_t *data, size_t len)
{
    while (len > 0 && p->fd >= 0) {
        ssize_t n = send(p->fd, data, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                struct pollfd w = {p->fd, POLLOUT, 0};
                if (poll(&w, 1, 1000) <= 0)
                    return; /* peer not reading: its hold timer will decide */
                continue;
            }
            return;
        }
        data += n;
        len -= (size_t)n;
    }
}

static void close_connection(struct peer *p)
{
    if (p->fd >= 0) {
        close(p->fd);
        p->fd = -1;
    }
}

/* Write everything the session wants written. */
static void flush_session(struct peer *p)
{
    size_t n = 0;
    while (rfl_session_poll_transmit(p->session, buf, sizeof buf, &n) == RFL_RESULT_OK)
        write_all(p, buf, n);
}

static void handle_session_events(struct peer *p, uint64_t now)
{
    rfl_session_event ev = {.struct_size = sizeof(rfl_session_event)};
    while (rfl_session_poll_event(p->session, &ev) == RFL_RESULT_OK) {
        char a[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &p->addr, a, sizeof a);
        switch (ev.kind) {
        case RFL_SESSION_EVENT_KIND_ESTABLISHED:
            fprintf(stderr, "rr: %s established (AS %u, hold %u s)\n", a, ev.peer_as, ev.hold_time);
            {
                rfl_negotiated n = {.struct_size = sizeof(rfl_negotiated)};
                TRY(rfl_session_negotiated(p->session, &n));
                TRY(rfl_engine_peer_up(engine, p->engine_peer, &n));
                p->negotiated = n;
                p->restart_deadline = 0;
            }
            p->engine_up = 1;
            break;
        case RFL_SESSION_EVENT_KIND_MESSAGE: {
            uint8_t notif[RFL_MAX_NOTIFICATION_LEN];
            rfl_outcome oc = {.struct_size = sizeof(rfl_outcome)};
            rfl_result r = rfl_engine_handle_message(engine, p->engine_peer, ev.message, ev.message_len,
                                                     notif, sizeof notif, &oc);
            if (r != RFL_RESULT_OK) {
                fail_call("rfl_engine_handle_message", r);
                break;
            }
            if (oc.kind == RFL_OUTCOME_KIND_RESET) {
                fprintf(stderr, "rr: %s sent a bad UPDATE (%u/%u): resetting\n", a, oc.error_code,
                        oc.error_subcode);
                p->engine_up = 0;
                TRY(rfl_session_send_notification(p->session, notif, oc.notification_len));
            } else if (oc.kind == RFL_OUTCOME_KIND_ACCEPTED && (oc.announced || oc.withdrawn)) {
                fprintf(stderr, "rr: %s: %u announced, %u withdrawn\n", a, oc.announced, oc.withdrawn);
            }
            break;
        }
        case RFL_SESSION_EVENT_KIND_NOTIFICATION_SENT:
        case RFL_SESSION_EVENT_KIND_NOTIFICATION_RECEIVED:
            fprintf(stderr, "rr: %s: NOTIFICATION %s %u/%u\n", a,
                    ev.kind == RFL_SESSION_EVENT_KIND_NOTIFICATION_SENT ? "sent" : "received",
                    ev.error_code, ev.error_subcode);
            break;
        case RFL_SESSION_EVENT_KIND_CLOSED:
            fprintf(stderr, "rr: %s closed (reason %u)\n", a, (unsigned)ev.close_reason);
            if (p->engine_up) {
                /* A drop without a NOTIFICATION from a peer that negotiated graceful
                 * restart (RFC 4724): keep its routes, stale, for its restart time. */
                if (ev.close_reason == RFL_CLOSE_REASON_TCP_CLOSED && p->negotiated.graceful_restart &&
                    !stopping) {
                    TRY(rfl_engine_peer_down_graceful(engine, p->engine_peer, p->negotiated.families));
                    p->restart_deadline = now + (uint64_t)p->negotiated.graceful_restart_time * 1000u;
                    fprintf(stderr, "rr: %s: graceful restart, routes kept %u s\n", a,
                            (unsigned)p->negotiated.graceful_restart_time);
                } else {
                    TRY(rfl_engine_peer_down(engine, p->engine_peer));
                }
                p->engine_up = 0;
            }
            flush_session(p);
            close_connection(p);
            if (!stopping)
                TRY(rfl_session_start(p->session, now)); /* passive again: wait for the peer */
            break;
        default:
            break;
        }
    }
}

/* Send each established peer what the engine has for it. */
static void flush_engine(void)
{
    for (int i = 0; i < npeers; i++) {
        struct peer *p = &peers[i];
        if (!p->engine_up || p->fd < 0)
            continue;
        size_t n = 0;
        rfl_result r;
        while ((r = rfl_engine_poll_transmit(engine, p->engine_peer, buf, sizeof buf, &n)) == RFL_RESULT_OK)
            write_all(p, buf, n);
        if (r != RFL_RESULT_EMPTY)
            fail_call("rfl_engine_poll_transmit", r);
    }
}

static void accept_one(int lfd, uint64_t now)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    int fd = accept(lfd, (struct sockaddr *)&sa, &sl);
    if (fd < 0)
        return;
    struct peer *p = NULL;
    for (int i = 0; i < npeers; i++)
        if (peers[i].addr.s_addr == sa.sin_addr.s_addr)
            p = &peers[i];
    char a[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa.sin_addr, a, sizeof a);
    if (!p || p->fd >= 0) {
        fprintf(stderr, "rr: refusing connection from %s\n", a);
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    p->fd = fd;
    fprintf(stderr, "rr: connection from %s\n", a);
    TRY(rfl_session_tcp_connected(p->session, now));
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr,
                "usage: %s LISTEN_ADDR PORT LOCAL_AS ROUTER_ID [--cluster-id ID] [--max-seconds N] "
                "PEER_ADDR:client|nonclient ...\n",
                argv[0]);
        return 2;
    }
    struct in_addr listen_addr;
    uint32_t router_id = 0, cluster_id = 0;
    if (inet_pton(AF_INET, argv[1], &listen_addr) != 1 || !parse_ipv4_id(argv[4], &router_id)) {
        fprintf(stderr, "rr: bad listen address or router ID\n");
        return 2;
    }
    int port = atoi(argv[2]);
    uint32_t local_as = (uint32_t)strtoul(argv[3], NULL, 10);
    long max_seconds = 0;

    rfl_engine_config cfg;
    TRY(rfl_engine_config_init(local_as, router_id, &cfg, sizeof cfg));

    int argi = 5;
    for (; argi < argc && strncmp(argv[argi], "--", 2) == 0; argi += 2) {
        if (argi + 1 >= argc)
            return 2;
        if (strcmp(argv[argi], "--cluster-id") == 0 && parse_ipv4_id(argv[argi + 1], &cluster_id))
            cfg.cluster_id = cluster_id;
        else if (strcmp(argv[argi], "--max-seconds") == 0)
            max_seconds = atol(argv[argi + 1]);
        else {
            fprintf(stderr, "rr: bad option %s\n", argv[argi]);
            return 2;
        }
    }
    rfl_result r = rfl_engine_new(&cfg, &engine);
    if (r != RFL_RESULT_OK) {
        fail_call("rfl_engine_new", r);
        return 1;
    }

    for (; argi < argc && npeers < MAX_PEERS; argi++) {
        char spec[64];
        snprintf(spec, sizeof spec, "%s", argv[argi]);
        char *colon = strchr(spec, ':');
        struct peer *p = &peers[npeers];
        if (colon)
            *colon = 0;
        if (!colon || inet_pton(AF_INET, spec, &p->addr) != 1) {
            fprintf(stderr, "rr: bad peer %s\n", argv[argi]);
            return 2;
        }
        p->role = strcmp(colon + 1, "nonclient") == 0 ? RFL_ROLE_NON_CLIENT : RFL_ROLE_CLIENT;
        p->fd = -1;
        rfl_addr a = {4, {0}};
        memcpy(a.octets, &p->addr, 4);
        rfl_peer_config pc;
        TRY(rfl_peer_config_init(p->role, local_as, &a, &pc, sizeof pc));
        TRY(rfl_engine_add_peer(engine, &pc, &p->engine_peer));
        rfl_session_config sc;
        TRY(rfl_session_config_init(local_as, router_id, &sc, sizeof sc));
        sc.passive = true;
        sc.peer_as = local_as;
        sc.check_peer_as = true;
        sc.families = RFL_FAMILY_IPV4_UNICAST | RFL_FAMILY_IPV6_UNICAST;
        r = rfl_session_new(&sc, &p->session);
        if (r != RFL_RESULT_OK) {
            fail_call("rfl_session_new", r);
            return 1;
        }
        TRY(rfl_session_start(p->session, now_ms()));
        npeers++;
    }

    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr = listen_addr;
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 16) < 0) {
        perror("rr: bind/listen");
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    fprintf(stderr, "rr: listening on %s:%d with %d peers\n", argv[1], port, npeers);

    uint64_t start = now_ms();
    while (!stopping) {
        uint64_t now = now_ms();
        if (max_seconds > 0 && now - start >= (uint64_t)max_seconds * 1000u)
            break;
        /* The nearest session deadline bounds the wait; so does a 1 s cap. */
        int timeout = 1000;
        for (int i = 0; i < npeers; i++) {
            uint64_t d;
            if (rfl_session_poll_timeout(peers[i].session, &d) == RFL_RESULT_OK) {
                int t = d <= now ? 0 : (int)(d - now);
                if (t < timeout)
                    timeout = t;
            }
        }
        struct pollfd pfd[MAX_PEERS + 1];
        int idx[MAX_PEERS + 1];
        int n = 0;
        pfd[n] = (struct pollfd){lfd, POLLIN, 0};
        idx[n++] = -1;
        for (int i = 0; i < npeers; i++)
            if (peers[i].fd >= 0) {
                pfd[n] = (struct pollfd){peers[i].fd, POLLIN, 0};
                idx[n++] = i;
            }
        int ready = poll(pfd, (nfds_t)n, timeout);
        if (ready < 0 && errno != EINTR) {
            perror("rr: poll");
            break;
        }
        now = now_ms();
        for (int k = 0; ready > 0 && k < n; k++) {
            if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (idx[k] < 0) {
                accept_one(lfd, now);
                continue;
            }
            struct peer *p = &peers[idx[k]];
            ssize_t got = recv(p->fd, buf, sizeof buf, 0);
            if (got > 0) {
                TRY(rfl_session_handle_bytes(p->session, now, buf, (size_t)got));
            } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                TRY(rfl_session_tcp_closed(p->session, now));
                close_connection(p);
            }
        }
        for (int i = 0; i < npeers; i++) {
            if (peers[i].restart_deadline && now >= peers[i].restart_deadline) {
                peers[i].restart_deadline = 0;
                TRY(rfl_engine_restart_timer_expired(engine, peers[i].engine_peer));
            }
            TRY(rfl_session_handle_timeout(peers[i].session, now));
            flush_session(&peers[i]);
            handle_session_events(&peers[i], now);
            flush_session(&peers[i]);
        }
        flush_engine();
    }

    /* Shut down: Cease to every connected peer, then free everything. */
    stopping = 1;
    static const char bye[] = "rr shutting down";
    for (int i = 0; i < npeers; i++) {
        struct peer *p = &peers[i];
        TRY(rfl_session_stop(p->session, RFL_STOP_REASON_SHUTDOWN, bye, sizeof bye - 1));
        flush_session(p);
        handle_session_events(p, now_ms());
        close_connection(p);
        TRY(rfl_session_free(p->session));
    }
    close(lfd);
    TRY(rfl_engine_free(engine));
    fprintf(stderr, "rr: stopped\n");
    return 0;
}
