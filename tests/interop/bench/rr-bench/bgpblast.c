/*
 * bgpblast.c - two minimal BGP-4 speakers used by rr-bench (Linux only).
 *
 *   bgpblast sink   --rr A --port P --base 127.0.1.1 --k K --target N [--as AS] [--max-seconds S] [--stat-ms MS]
 *       Opens K iBGP sessions to the route reflector, session i bound to source
 *       address base+i. Each session only decodes UPDATEs and keeps a set of the
 *       prefixes it currently holds (IPv4 NLRI, MP_REACH/MP_UNREACH IPv4/IPv6).
 *       Prints events on stdout (CLOCK_MONOTONIC seconds):
 *         EST i t | FIRST i t | DONE i t count | EOR i afi t | NOTIF i code sub | DOWN i t
 *         STAT t c0 c1 ... c(K-1)          (every --stat-ms when something changed)
 *
 *   bgpblast inject --rr A --port P --local 127.0.2.1 --stream FILE [--as AS] [--max-seconds S]
 *       Opens one iBGP session; once Established writes FILE (a pre-encoded
 *       sequence of complete BGP UPDATE messages) as fast as the socket accepts it,
 *       then keeps the session up (keepalives) until SIGTERM or --max-seconds.
 *       Prints: EST t | FIRST t | SENT t bytes | NOTIF code sub | DOWN t
 *
 *   bgpblast mesh   --rr A --port P --base 127.1.0.1 --k K --m M [--nh-base 198.18.0.1] [--pfx-base 10.0.0.0]
 *                   [--flap F] [--seed S] [--auto SECONDS] [--connect-window W] [--as AS] [--max-seconds S] [--stat-ms MS]
 *       Calico-shaped workload: K iBGP client sessions (one epoll process), every client
 *       originates its own M /26s and must learn the (K-1)*M routes of the others.
 *       Client i (0-based) binds base + (i/250)*256 + i%250 (127.1.0.1..250, 127.1.1.1, ...),
 *       uses that address as BGP id and nh-base + the same offset as NEXT_HOP, and owns
 *       pfx-base + (i*M + j)*64, j < M. Waits for stdin lines (or runs by itself with
 *       --auto: pause SECONDS between phases, exits when done):
 *         GO   every client announces its M prefixes (round-robin over the clients)
 *         FLAP F seeded-random clients withdraw their prefixes; as soon as every client
 *              has seen all those withdrawals they announce them again
 *         QUIT
 *       Prints: START t K M | EST i t | RETRY i t why (before Established; reconnects 1 s
 *         later) | DROP i t why (an Established session closed before all K were up; also
 *         reconnects) | ALLUP t_start t_allup retries drops | ANN t_first t_last msgs | FIRSTRX i t |
 *         DONE i t | CONVERGED t | FLAPSET i... | FLAPW t_first t_last msgs | WDONE t |
 *         FLAPA t_first t_last msgs | FLAPDONE t | STAT t held_total clients_full min max |
 *         COUNTERS when echo= foreign= bad_nexthop= bad_originator= ... | ECHO i addr n |
 *         NOTIF i code sub | DOWN i t why | EXIT t why
 *
 * All advertise: MP IPv4+IPv6 unicast, route-refresh, 4-octet AS. Hold time 240.
 * sink and inject take --family ipv4|vpnv4|evpn (default ipv4): with vpnv4 or evpn the OPEN also
 * advertises MP AFI 1/SAFI 128 or AFI 25/SAFI 70, and the sink counts that family's routes by key
 * (VPN-IPv4: RD + prefix; EVPN type 2: RD, Ethernet tag, MAC, IP as RFC 7432 §7.2 says).
 * Everything is bounded by --max-seconds (default 1800).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <signal.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <arpa/inet.h>

static volatile sig_atomic_t stop_flag;
/* --family: 0 = ipv4 (unicast only), 1 = vpnv4 (AFI 1 / SAFI 128), 2 = evpn (AFI 25 / SAFI 70) */
static int g_family;
static void on_sig(int s) { (void)s; stop_flag = 1; }
static double now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + ts.tv_nsec * 1e-9; }

/* ---------------- open-addressing set of 64-bit keys (0 = empty) ---------------- */
typedef struct { uint64_t *t; size_t cap, n; } hset;
static inline uint64_t mix(uint64_t x) { x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL; x ^= x >> 33; return x; }
static void hs_init(hset *h, size_t cap) { h->cap = cap; h->n = 0; h->t = calloc(cap, 8); if (!h->t) { perror("calloc"); exit(3); } }
static int hs_add(hset *h, uint64_t k);
static void hs_grow(hset *h) {
    uint64_t *old = h->t; size_t oc = h->cap;
    hs_init(h, oc * 2);
    for (size_t i = 0; i < oc; i++) if (old[i]) hs_add(h, old[i]);
    free(old);
}
static int hs_add(hset *h, uint64_t k) {
    if ((h->n + 1) * 2 > h->cap) hs_grow(h);
    size_t m = h->cap - 1, i = mix(k) & m;
    while (h->t[i]) { if (h->t[i] == k) return 0; i = (i + 1) & m; }
    h->t[i] = k; h->n++; return 1;
}
static int hs_del(hset *h, uint64_t k) {
    size_t m = h->cap - 1, i = mix(k) & m;
    while (h->t[i]) { if (h->t[i] == k) break; i = (i + 1) & m; }
    if (!h->t[i]) return 0;
    size_t j = i;
    for (;;) {                      /* backward-shift deletion */
        j = (j + 1) & m;
        if (!h->t[j]) break;
        size_t home = mix(h->t[j]) & m;
        int keep = (j > i) ? (home > i && home <= j) : (home > i || home <= j);
        if (keep) continue;
        h->t[i] = h->t[j]; i = j;
    }
    h->t[i] = 0; h->n--; return 1;
}
static uint64_t pfx_key(int afi, int plen, const uint8_t *b, int nb) {
    if (afi == 1) {
        uint32_t a = 0;
        for (int i = 0; i < nb && i < 4; i++) a |= (uint32_t)b[i] << (24 - 8 * i);
        return (1ULL << 40) | ((uint64_t)plen << 32) | a;
    }
    uint64_t hi = 0, lo = 0;
    for (int i = 0; i < nb && i < 8; i++) hi |= (uint64_t)b[i] << (56 - 8 * i);
    for (int i = 8; i < nb && i < 16; i++) lo |= (uint64_t)b[i] << (56 - 8 * (i - 8));
    return mix(hi ^ mix(lo ^ (0x9e3779b97f4a7c15ULL + (uint64_t)plen))) | (1ULL << 63);
}

/* ---------------- BGP message helpers ---------------- */
static int build_open(uint8_t *m, uint32_t as, uint16_t hold, struct in_addr id) {
    uint8_t *p = m;
    memset(p, 0xff, 16); p += 18; *p++ = 1;          /* type OPEN */
    *p++ = 4;
    uint16_t as2 = as > 65535 ? 23456 : (uint16_t)as;
    *p++ = as2 >> 8; *p++ = as2 & 0xff; *p++ = hold >> 8; *p++ = hold & 0xff;
    memcpy(p, &id, 4); p += 4;
    uint8_t *optlen = p++, *o = p;
    uint8_t caps[] = {
        2, 6, 1, 4, 0, 1, 0, 1,         /* MP IPv4 unicast */
        2, 6, 1, 4, 0, 2, 0, 1,         /* MP IPv6 unicast */
        2, 2, 2, 0,                     /* route refresh */
        2, 6, 65, 4, 0, 0, 0, 0 };      /* 4-octet AS */
    caps[24] = as >> 24; caps[25] = as >> 16; caps[26] = as >> 8; caps[27] = as;
    memcpy(p, caps, sizeof caps); p += sizeof caps;
    if (g_family) {                      /* MP capability of the benchmarked family */
        uint8_t fc[] = { 2, 6, 1, 4, 0, 1, 0, 128 };
        if (g_family == 2) { fc[5] = 25; fc[7] = 70; }
        memcpy(p, fc, sizeof fc); p += sizeof fc;
    }
    *optlen = (uint8_t)(p - o);
    int len = (int)(p - m); m[16] = len >> 8; m[17] = len & 0xff;
    return len;
}
static int build_keepalive(uint8_t *m) { memset(m, 0xff, 16); m[16] = 0; m[17] = 19; m[18] = 4; return 19; }

static int send_all(int fd, const uint8_t *b, size_t n) {   /* small control messages only */
    size_t off = 0; int tries = 0;
    while (off < n) {
        ssize_t w = send(fd, b + off, n - off, MSG_NOSIGNAL);
        if (w > 0) { off += (size_t)w; continue; }
        if (w < 0 && (errno == EAGAIN || errno == EINTR) && tries++ < 1000) { usleep(1000); continue; }
        return -1;
    }
    return 0;
}

static int mk_socket(const char *local, struct sockaddr_in *ra, int nonblock) {
    int fd = socket(AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) { perror("socket"); return -1; }
    int one = 1; setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in la = { .sin_family = AF_INET, .sin_port = 0 };
    if (inet_pton(AF_INET, local, &la.sin_addr) != 1) { fprintf(stderr, "bad local %s\n", local); close(fd); return -1; }
    if (bind(fd, (struct sockaddr *)&la, sizeof la) < 0) { perror("bind"); close(fd); return -1; }
    int r = connect(fd, (struct sockaddr *)ra, sizeof *ra);
    if (r < 0 && errno != EINPROGRESS) { close(fd); return -2; }
    return fd;
}

/* ---------------- sink ---------------- */
enum { S_IDLE, S_CONNECTING, S_OPENSENT, S_OPENCONFIRM, S_ESTAB, S_DEAD };
typedef struct {
    int fd, idx, state;
    char local[32];
    uint8_t *buf; size_t blen, bcap;
    hset set;
    double t_est, t_first, t_done, next_try, last_ka;
    long updates;
} sess;

static long g_target;
/* Keys of one NLRI field are gathered and applied in batches: the set's slots for a whole batch
   are prefetched first, so that their cache misses overlap instead of coming one after another
   (with 1M routes per client the set is 16 MB, and one miss per route made the sink, not the RR,
   the limit of the VPN runs). Same keys, same set, same counts. */
enum { KB = 256 };
typedef struct { uint64_t k[KB]; int n; } kbatch;
static void kb_flush(sess *s, kbatch *b, int add) {
    size_t m = s->set.cap - 1;
    for (int i = 0; i < b->n; i++) __builtin_prefetch(&s->set.t[mix(b->k[i]) & m], 1);
    for (int i = 0; i < b->n; i++) { if (add) hs_add(&s->set, b->k[i]); else hs_del(&s->set, b->k[i]); }
    b->n = 0;
}
static inline void kb_put(sess *s, kbatch *b, uint64_t k, int add) {
    b->k[b->n++] = k;
    if (b->n == KB) kb_flush(s, b, add);
}
static int parse_nlri(sess *s, int afi, const uint8_t *p, int len, int add) {
    int i = 0, rc = 0;
    kbatch b; b.n = 0;
    while (i < len) {
        int plen = p[i], nb = (plen + 7) / 8;
        if (i + 1 + nb > len) { rc = -1; break; }
        kb_put(s, &b, pfx_key(afi, plen, p + i + 1, nb), add);
        i += 1 + nb;
    }
    kb_flush(s, &b, add);
    return rc;
}
/* VPN-IPv4 NLRI (RFC 4364/8277): length in bits, label(s), RD, prefix. Key = hash(RD, prefix length, prefix). */
static uint64_t bytes_key(const uint8_t *b, int n, uint64_t salt) {
    uint64_t h = mix(salt + 0x9e3779b97f4a7c15ULL), w;
    for (int i = 0; i < n; i += 8) {
        w = 0;
        for (int j = 0; j < 8 && i + j < n; j++) w |= (uint64_t)b[i + j] << (8 * j);
        h = mix(h ^ w) + 0x9e3779b97f4a7c15ULL;
    }
    return h | (1ULL << 62);
}
static int parse_vpn(sess *s, const uint8_t *p, int len, int add) {
    int i = 0, rc = 0;
    kbatch b; b.n = 0;
    while (i < len) {
        int bits = p[i], nb = (bits + 7) / 8;
        if (i + 1 + nb > len) { rc = -1; break; }
        const uint8_t *q = p + i + 1;
        int lb = 0;                      /* label stack: up to the bottom-of-stack bit (or a withdraw label) */
        while (lb + 3 <= nb) {
            int bos = q[lb + 2] & 1; uint32_t raw = (uint32_t)q[lb] << 16 | q[lb + 1] << 8 | q[lb + 2];
            lb += 3;
            if (bos || raw == 0x800000 || raw == 0) break;
        }
        int plen = bits - 8 * lb - 64;
        if (plen < 0 || plen > 32 || lb + 8 > nb) { rc = -1; break; }
        uint8_t k[13]; memset(k, 0, sizeof k);
        memcpy(k, q + lb, 8); k[8] = (uint8_t)plen; memcpy(k + 9, q + lb + 8, (size_t)(nb - lb - 8));
        kb_put(s, &b, bytes_key(k, 13, 128), add);
        i += 1 + nb;
    }
    kb_flush(s, &b, add);
    return rc;
}
/* EVPN NLRI (RFC 7432): type, length, value. Type 2 key (§7.2): RD, Ethernet tag, MAC length, MAC,
   IP length, IP (ESI and labels excluded). Other route types: the whole value. */
static int parse_evpn(sess *s, const uint8_t *p, int len, int add) {
    int i = 0, rc = 0;
    kbatch b; b.n = 0;
    while (i + 2 <= len) {
        int ty = p[i], l = p[i + 1];
        if (i + 2 + l > len) { rc = -1; break; }
        const uint8_t *v = p + i + 2;
        uint8_t k[64]; int kl = 0;
        if (ty == 2 && l >= 33) {
            int iplen = v[30], ipb = iplen / 8;
            if (31 + ipb > l) { rc = -1; break; }
            memcpy(k, v, 8); kl = 8;                    /* RD */
            memcpy(k + kl, v + 18, 4); kl += 4;         /* Ethernet tag (skip ESI) */
            memcpy(k + kl, v + 22, 7); kl += 7;         /* MAC length + MAC */
            k[kl++] = (uint8_t)iplen;
            memcpy(k + kl, v + 31, (size_t)ipb); kl += ipb;
        } else {
            kl = l < 62 ? l : 62; memcpy(k + 1, v, (size_t)kl); k[0] = (uint8_t)ty; kl++;
        }
        kb_put(s, &b, bytes_key(k, kl, 70 + (uint64_t)ty), add);
        i += 2 + l;
    }
    kb_flush(s, &b, add);
    return rc;
}
static int parse_family(sess *s, int afi, int safi, const uint8_t *p, int len, int add) {
    if (safi == 1 && (afi == 1 || afi == 2)) return parse_nlri(s, afi, p, len, add);
    if (safi == 128 && afi == 1) return parse_vpn(s, p, len, add);
    if (safi == 70 && afi == 25) return parse_evpn(s, p, len, add);
    return 0;
}
static void handle_update(sess *s, const uint8_t *m, int len) {
    double t = 0;
    const uint8_t *p = m + 19, *end = m + len;
    size_t n_before = s->set.n;
    s->updates++;
    if (p + 2 > end) return;
    int wl = (p[0] << 8) | p[1]; p += 2;
    if (p + wl + 2 > end) return;
    parse_nlri(s, 1, p, wl, 0); p += wl;
    int al = (p[0] << 8) | p[1]; p += 2;
    const uint8_t *ae = p + al;
    if (ae > end) return;
    int any = wl > 0 || ae < end;
    while (p + 3 <= ae) {
        int fl = p[0], ty = p[1], hl = (fl & 0x10) ? 4 : 3;
        if (p + hl > ae) break;
        int l = (fl & 0x10) ? ((p[2] << 8) | p[3]) : p[2];
        const uint8_t *v = p + hl;
        if (v + l > ae) break;
        if ((ty == 14 && l >= 5) || (ty == 15 && l >= 3)) {
            int afi = (v[0] << 8) | v[1], safi = v[2];
            if ((safi == 1 && (afi == 1 || afi == 2)) || (safi == 128 && afi == 1) || (safi == 70 && afi == 25)) {
                if (ty == 14) { int nhl = v[3]; if (5 + nhl <= l) { parse_family(s, afi, safi, v + 5 + nhl, l - 5 - nhl, 1); any |= l - 5 - nhl > 0; } }
                else { parse_family(s, afi, safi, v + 3, l - 3, 0); if (l == 3) printf("EOR %d %d %.6f\n", s->idx, afi, now()); else any = 1; }
            }
        }
        p = v + l;
    }
    parse_nlri(s, 1, ae, (int)(end - ae), 1);
    if (!any && al == 0) printf("EOR %d 1 %.6f\n", s->idx, now());
    if (s->t_first == 0 && s->set.n > n_before) { t = now(); s->t_first = t; printf("FIRST %d %.6f\n", s->idx, t); }
    if (!s->t_done && g_target > 0 && (long)s->set.n >= g_target) {
        s->t_done = now();
        printf("DONE %d %.6f %zu\n", s->idx, s->t_done, s->set.n);
        fflush(stdout);
    }
}
static void sess_close(sess *s, int ep, const char *why) {
    if (s->fd >= 0) { epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL); close(s->fd); s->fd = -1; }
    printf("DOWN %d %.6f %s\n", s->idx, now(), why); fflush(stdout);
    s->state = S_DEAD;
}
static int sess_process(sess *s, int ep, uint32_t as) {   /* returns -1 if closed */
    size_t off = 0;
    uint8_t ka[19];
    while (s->blen - off >= 19) {
        uint8_t *m = s->buf + off;
        int len = (m[16] << 8) | m[17], ty = m[18];
        if (len < 19 || len > 65535) { sess_close(s, ep, "badlen"); return -1; }
        if (s->blen - off < (size_t)len) break;
        switch (ty) {
        case 1:
            if (send_all(s->fd, ka, build_keepalive(ka)) < 0) { sess_close(s, ep, "sendfail"); return -1; }
            s->state = S_OPENCONFIRM; s->last_ka = now();
            break;
        case 2: handle_update(s, m, len); break;
        case 3:
            printf("NOTIF %d %d %d\n", s->idx, len > 19 ? m[19] : 0, len > 20 ? m[20] : 0);
            sess_close(s, ep, "notification"); return -1;
        case 4:
            if (s->state == S_OPENCONFIRM) {
                s->state = S_ESTAB; s->t_est = now();
                printf("EST %d %.6f\n", s->idx, s->t_est); fflush(stdout);
            }
            break;
        default: break;
        }
        off += (size_t)len;
    }
    (void)as;
    if (off) { memmove(s->buf, s->buf + off, s->blen - off); s->blen -= off; }
    return 0;
}

static int run_sink(const char *rr, int port, const char *base, int k, long target, uint32_t as, double maxsec, int stat_ms) {
    g_target = target;
    struct sockaddr_in ra = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, rr, &ra.sin_addr);
    struct in_addr b; if (inet_pton(AF_INET, base, &b) != 1) { fprintf(stderr, "bad base\n"); return 2; }
    int ep = epoll_create1(0);
    sess *ss = calloc(k, sizeof(sess));
    size_t icap = 1024; while (icap < (size_t)(target > 0 ? target : 1) * 2 + 2) icap <<= 1;
    for (int i = 0; i < k; i++) {
        struct in_addr a = { .s_addr = htonl(ntohl(b.s_addr) + i) };
        inet_ntop(AF_INET, &a, ss[i].local, sizeof ss[i].local);
        ss[i].fd = -1; ss[i].idx = i; ss[i].state = S_IDLE;
        ss[i].bcap = 1 << 20; ss[i].buf = malloc(ss[i].bcap);
        hs_init(&ss[i].set, icap);
    }
    double t0 = now(), next_stat = t0, deadline = t0 + maxsec;
    size_t *last = calloc(k, sizeof(size_t));
    struct epoll_event evs[64];
    uint8_t om[128];
    while (!stop_flag && now() < deadline) {
        double t = now();
        for (int i = 0; i < k; i++) {
            sess *s = &ss[i];
            if (s->state == S_IDLE && t >= s->next_try) {
                int fd = mk_socket(s->local, &ra, 1);
                if (fd < 0) { s->next_try = t + 0.2; continue; }
                s->fd = fd; s->state = S_CONNECTING;
                struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.u32 = (uint32_t)i };
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            }
            if (s->state >= S_OPENSENT && s->state <= S_ESTAB && t - s->last_ka > 20) {
                uint8_t ka[19]; s->last_ka = t;
                if (send_all(s->fd, ka, build_keepalive(ka)) < 0) sess_close(s, ep, "kafail");
            }
        }
        int n = epoll_wait(ep, evs, 64, stat_ms > 0 ? stat_ms : 100);
        for (int e = 0; e < n; e++) {
            sess *s = &ss[evs[e].data.u32];
            if (s->fd < 0) continue;
            if (s->state == S_CONNECTING) {
                int err = 0; socklen_t el = sizeof err;
                getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el);
                if (err) {   /* RR not listening yet: retry later */
                    epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL); close(s->fd); s->fd = -1;
                    s->state = S_IDLE; s->next_try = now() + 0.2; continue;
                }
                if (!(evs[e].events & EPOLLOUT) && !(evs[e].events & EPOLLIN)) continue;
                struct in_addr id; inet_pton(AF_INET, s->local, &id);
                if (send_all(s->fd, om, build_open(om, as, 240, id)) < 0) { sess_close(s, ep, "openfail"); continue; }
                s->state = S_OPENSENT; s->last_ka = now();
                struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)s->idx };
                epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
                continue;
            }
            if (evs[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                if (s->bcap - s->blen < 65536) { s->bcap *= 2; s->buf = realloc(s->buf, s->bcap); }
                ssize_t r = read(s->fd, s->buf + s->blen, s->bcap - s->blen);
                if (r == 0) { sess_close(s, ep, "eof"); continue; }
                if (r < 0) { if (errno == EAGAIN || errno == EINTR) continue; sess_close(s, ep, "readerr"); continue; }
                s->blen += (size_t)r;
                sess_process(s, ep, as);
            }
        }
        t = now();
        if (stat_ms > 0 && t >= next_stat) {
            int changed = 0;
            for (int i = 0; i < k; i++) if (ss[i].set.n != last[i]) changed = 1;
            if (changed) {
                printf("STAT %.6f", t);
                for (int i = 0; i < k; i++) { printf(" %zu", ss[i].set.n); last[i] = ss[i].set.n; }
                printf("\n"); fflush(stdout);
            }
            next_stat = t + stat_ms / 1000.0;
        }
    }
    printf("STAT %.6f", now());
    for (int i = 0; i < k; i++) printf(" %zu", ss[i].set.n);
    printf("\nEXIT %.6f %s\n", now(), stop_flag ? "signal" : "max-seconds");
    fflush(stdout);
    return 0;
}

/* ---------------- injector ---------------- */
static int read_msg(int fd, uint8_t *buf, double deadline) {   /* blocking-ish read of one message, returns type */
    size_t got = 0, need = 19;
    while (got < need) {
        double left = deadline - now();
        if (left <= 0 || stop_flag) return -1;
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        int pr = poll(&pf, 1, (int)(left * 1000) + 1);
        if (pr <= 0) continue;
        ssize_t r = read(fd, buf + got, need - got);
        if (r <= 0) { if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue; return -1; }
        got += (size_t)r;
        if (got == 19) { need = (buf[16] << 8) | buf[17]; if (need < 19 || need > 4096) return -1; }
    }
    return buf[18];
}

static int run_inject(const char *rr, int port, const char *local, const char *stream, uint32_t as, double maxsec) {
    double t0 = now(), deadline = t0 + maxsec;
    int sfd = open(stream, O_RDONLY);
    if (sfd < 0) { perror(stream); return 2; }
    struct stat st; fstat(sfd, &st);
    const uint8_t *data = st.st_size ? mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, sfd, 0) : NULL;
    if (st.st_size && data == MAP_FAILED) { perror("mmap"); return 2; }
    struct sockaddr_in ra = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, rr, &ra.sin_addr);
    int fd = -1;
    while (!stop_flag && now() < deadline) {
        fd = mk_socket(local, &ra, 0);
        if (fd >= 0) break;
        if (fd == -1) return 2;
        usleep(100000);
    }
    if (fd < 0) return 2;
    uint8_t m[4096]; struct in_addr id; inet_pton(AF_INET, local, &id);
    if (send_all(fd, m, build_open(m, as, 240, id)) < 0) { printf("DOWN %.6f openfail\n", now()); return 2; }
    int ty, est = 0;
    double hs_deadline = now() + 120;
    while ((ty = read_msg(fd, m, hs_deadline)) > 0) {
        if (ty == 1) { uint8_t ka[19]; send_all(fd, ka, build_keepalive(ka)); }
        else if (ty == 4) { est = 1; break; }
        else if (ty == 3) { printf("NOTIF %d %d\n", m[19], m[20]); fflush(stdout); return 2; }
    }
    if (!est) { printf("DOWN %.6f handshake\n", now()); fflush(stdout); return 2; }
    double tes = now();
    printf("EST %.6f\n", tes); fflush(stdout);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    size_t off = 0, total = (size_t)st.st_size, rlen = 0;
    uint8_t rbuf[65536];
    double last_ka = now();
    int first = 1;
    while (!stop_flag && now() < deadline) {
        struct pollfd pf = { .fd = fd, .events = POLLIN | (off < total ? POLLOUT : 0) };
        int pr = poll(&pf, 1, 1000);
        if (pr < 0 && errno != EINTR) break;
        if (pf.revents & POLLOUT) {
            size_t chunk = total - off; if (chunk > (1 << 20)) chunk = 1 << 20;
            ssize_t w = send(fd, data + off, chunk, MSG_NOSIGNAL);
            if (w > 0) {
                if (first) { printf("FIRST %.6f\n", now()); fflush(stdout); first = 0; }
                off += (size_t)w; last_ka = now();
                if (off == total) { printf("SENT %.6f %zu\n", now(), total); fflush(stdout); }
            } else if (w < 0 && errno != EAGAIN && errno != EINTR) { printf("DOWN %.6f senderr\n", now()); fflush(stdout); return 2; }
        }
        if (pf.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = read(fd, rbuf + rlen, sizeof rbuf - rlen);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) { printf("DOWN %.6f eof\n", now()); fflush(stdout); return 2; }
            if (r > 0) {
                rlen += (size_t)r;
                size_t o = 0;
                while (rlen - o >= 19) {
                    size_t l = (rbuf[o + 16] << 8) | rbuf[o + 17];
                    if (l < 19) { rlen = 0; o = 0; break; }
                    if (rlen - o < l) break;
                    if (rbuf[o + 18] == 3) { printf("NOTIF %d %d\n", l > 19 ? rbuf[o + 19] : 0, l > 20 ? rbuf[o + 20] : 0); fflush(stdout); return 2; }
                    o += l;
                }
                memmove(rbuf, rbuf + o, rlen - o); rlen -= o;
            }
        }
        if (off == total && now() - last_ka > 20) {
            uint8_t ka[19]; send_all(fd, ka, build_keepalive(ka)); last_ka = now();
        }
    }
    if (total == 0) printf("SENT %.6f 0\n", now());
    printf("EXIT %.6f %s\n", now(), stop_flag ? "signal" : "max-seconds"); fflush(stdout);
    close(fd);
    return 0;
}

/* ---------------- mesh: Calico-shaped workload, every client originates ----------------
 * K client sessions (one epoll process). Client i (0-based) uses source/BGP id
 * plan(base, i) = base + (i/250)*256 + i%250 (127.1.0.1..127.1.0.250, 127.1.1.1, ...) and
 * NEXT_HOP plan(nh_base, i) (198.18.0.1 ...). It owns the M /26s with route index
 * r = i*M .. i*M+M-1, prefix pfx_base + r*64. Every client keeps a bitmap of the routes
 * of the others it holds; an announcement of its own prefix is counted as an echo.
 * Driven by stdin lines (or --auto S): GO = all clients announce (round-robin over the
 * clients), FLAP = F seeded-random clients withdraw; once every client has seen those
 * withdrawals they re-announce; QUIT. */
enum { P_UP, P_WAITGO, P_CONV, P_WAITFLAP, P_FLAPW, P_FLAPA, P_IDLE };
typedef struct {
    int fd, idx, state, retries, drops;
    uint32_t addr, nh;                    /* host order */
    uint8_t *buf; size_t blen, bcap;
    uint64_t *bits;                        /* route index -> held */
    long count, flap_held;
    long echo, foreign, bad_nh, bad_orig, rx_ann, rx_wd, dup, wd_absent, own_wd, updates;
    double t_est, t_first, t_done, next_try, last_ka;
} msess;

static int g_K, g_M, g_phase, g_F;
static long g_full, g_n_full, g_n_wclear, g_n_est;
static uint32_t g_pfx_base, g_addr_base, g_nh_base;
static unsigned char *g_flapped;
static int *g_flap_list;
static msess *g_ss;
static int g_ep;
static double g_t_firstrx, g_t_go, g_auto_at = -1, g_auto_delay = -1;

static uint32_t plan(uint32_t base, long i) { return base + (uint32_t)(i / 250) * 256 + (uint32_t)(i % 250); }
static uint32_t rd32(const uint8_t *v) { return (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3]; }
static const char *ip4s(uint32_t a, char *b) { snprintf(b, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255); return b; }

static void m_counters(const char *when) {
    long e = 0, f = 0, bn = 0, bo = 0, ra = 0, rw = 0, d = 0, wa = 0, ow = 0, up = 0, rt = 0;
    for (int i = 0; i < g_K; i++) {
        msess *s = &g_ss[i];
        e += s->echo; f += s->foreign; bn += s->bad_nh; bo += s->bad_orig; ra += s->rx_ann; rw += s->rx_wd;
        d += s->dup; wa += s->wd_absent; ow += s->own_wd; up += s->updates; rt += s->retries;
    }
    printf("COUNTERS %s echo=%ld foreign=%ld bad_nexthop=%ld bad_originator=%ld rx_announced=%ld rx_withdrawn=%ld "
           "dup=%ld withdraw_not_held=%ld own_withdrawn=%ld updates=%ld retries=%ld\n",
           when, e, f, bn, bo, ra, rw, d, wa, ow, up, rt);
    int shown = 0;
    for (int i = 0; i < g_K && shown < 20; i++)
        if (g_ss[i].echo) { char b[16]; printf("ECHO %d %s %ld\n", i, ip4s(g_ss[i].addr, b), g_ss[i].echo); shown++; }
    fflush(stdout);
}

/* one or more UPDATEs carrying client idx's M prefixes (announce) or withdrawing them */
static int m_send_routes(msess *s, int withdraw) {
    uint8_t m[4096];
    long r0 = (long)s->idx * g_M, r1 = r0 + g_M, r = r0;
    int msgs = 0;
    while (r < r1) {
        uint8_t *p = m + 19;
        uint8_t *wl = p; p += 2;
        uint8_t *q = p;
        if (withdraw) {
            while (r < r1 && (q - m) + 2 + 5 <= 4096) {
                uint32_t a = g_pfx_base + (uint32_t)r * 64;
                *q++ = 26; *q++ = a >> 24; *q++ = a >> 16; *q++ = a >> 8; *q++ = a; r++;
            }
            int l = (int)(q - p); wl[0] = l >> 8; wl[1] = l; p = q;
            *p++ = 0; *p++ = 0;                                   /* no path attributes */
        } else {
            wl[0] = wl[1] = 0;
            uint8_t *al = p; p += 2; uint8_t *a0 = p;
            *p++ = 0x40; *p++ = 1; *p++ = 1; *p++ = 0;            /* ORIGIN IGP */
            *p++ = 0x40; *p++ = 2; *p++ = 0;                      /* AS_PATH empty (iBGP origin) */
            *p++ = 0x40; *p++ = 3; *p++ = 4;                      /* NEXT_HOP */
            *p++ = s->nh >> 24; *p++ = s->nh >> 16; *p++ = s->nh >> 8; *p++ = s->nh;
            *p++ = 0x40; *p++ = 5; *p++ = 4; *p++ = 0; *p++ = 0; *p++ = 0; *p++ = 100;  /* LOCAL_PREF 100 */
            int l = (int)(p - a0); al[0] = l >> 8; al[1] = l;
            while (r < r1 && (p - m) + 5 <= 4096) {
                uint32_t a = g_pfx_base + (uint32_t)r * 64;
                *p++ = 26; *p++ = a >> 24; *p++ = a >> 16; *p++ = a >> 8; *p++ = a; r++;
            }
        }
        int len = (int)(p - m);
        memset(m, 0xff, 16); m[16] = len >> 8; m[17] = len; m[18] = 2;
        if (send_all(s->fd, m, len) < 0) return -1;
        msgs++;
    }
    return msgs;
}

static void m_close(msess *s, const char *why);
static void m_announce_all(int withdraw, int only_flapped, const char *tag) {
    double t0 = now(); long msgs = 0;
    for (int i = 0; i < g_K; i++) {
        if (only_flapped && !g_flapped[i]) continue;
        int n = m_send_routes(&g_ss[i], withdraw);
        if (n < 0) { m_close(&g_ss[i], "sendfail"); continue; }
        msgs += n;
    }
    printf("%s %.6f %.6f %ld\n", tag, t0, now(), msgs); fflush(stdout);
}

static void m_check_phase(void) {
    double t = now();
    if (g_phase == P_CONV && g_n_full == g_K) {
        printf("CONVERGED %.6f\n", t); m_counters("converged");
        g_phase = P_WAITFLAP;
        if (g_auto_delay >= 0) g_auto_at = t + g_auto_delay;
    } else if (g_phase == P_FLAPW && g_n_wclear == g_K) {
        printf("WDONE %.6f\n", t); fflush(stdout);
        g_phase = P_FLAPA;
        m_announce_all(0, 1, "FLAPA");
    } else if (g_phase == P_FLAPA && g_n_full == g_K) {
        printf("FLAPDONE %.6f\n", t); m_counters("flap");
        g_phase = P_IDLE;
        if (g_auto_delay >= 0) stop_flag = 1;
    }
}

static void m_nlri(msess *s, const uint8_t *p, int len, int add, uint32_t nh, int has_nh, uint32_t orig, int has_orig) {
    int i = 0;
    long nroutes = (long)g_K * g_M;
    while (i < len) {
        int plen = p[i], nb = (plen + 7) / 8;
        if (nb > 4 || i + 1 + nb > len) return;
        uint32_t a = 0;
        for (int j = 0; j < nb; j++) a |= (uint32_t)p[i + 1 + j] << (24 - 8 * j);
        i += 1 + nb;
        long r = -1;
        if (plen == 26) { uint32_t off = a - g_pfx_base; if (!(off & 63) && (long)(off >> 6) < nroutes) r = off >> 6; }
        if (r < 0) { s->foreign++; continue; }
        int owner = (int)(r / g_M);
        if (owner == s->idx) { if (add) s->echo++; else s->own_wd++; continue; }
        uint64_t bit = 1ULL << (r & 63), *w = &s->bits[r >> 6];
        if (add) {
            s->rx_ann++;
            if (!has_nh || nh != plan(g_nh_base, owner)) s->bad_nh++;
            if (!has_orig || orig != plan(g_addr_base, owner)) s->bad_orig++;
            if (*w & bit) { s->dup++; continue; }
            *w |= bit; s->count++;
            if (!s->t_first) { s->t_first = now(); if (!g_t_firstrx) { g_t_firstrx = s->t_first; printf("FIRSTRX %d %.6f\n", s->idx, s->t_first); } }
            if (g_flapped && g_flapped[owner] && s->flap_held++ == 0) g_n_wclear--;
            if (s->count == g_full) {
                g_n_full++;
                if (g_phase == P_CONV && !s->t_done) { s->t_done = now(); printf("DONE %d %.6f\n", s->idx, s->t_done); }
                m_check_phase();
            }
        } else {
            s->rx_wd++;
            if (!(*w & bit)) { s->wd_absent++; continue; }
            *w &= ~bit;
            if (s->count == g_full) g_n_full--;
            s->count--;
            if (g_flapped && g_flapped[owner] && --s->flap_held == 0) { g_n_wclear++; m_check_phase(); }
        }
    }
}

static void m_update(msess *s, const uint8_t *m, int len) {
    const uint8_t *p = m + 19, *end = m + len;
    s->updates++;
    if (p + 2 > end) return;
    int wl = (p[0] << 8) | p[1]; p += 2;
    if (p + wl + 2 > end) return;
    const uint8_t *wd = p; p += wl;
    int al = (p[0] << 8) | p[1]; p += 2;
    const uint8_t *ae = p + al;
    if (ae > end) return;
    uint32_t nh = 0, orig = 0, mpnh = 0; int has_nh = 0, has_orig = 0, has_mpnh = 0;
    const uint8_t *mpr = NULL, *mpu = NULL; int mpr_len = 0, mpu_len = 0;
    while (p + 3 <= ae) {
        int fl = p[0], ty = p[1], hl = (fl & 0x10) ? 4 : 3;
        if (p + hl > ae) break;
        int l = (fl & 0x10) ? ((p[2] << 8) | p[3]) : p[2];
        const uint8_t *v = p + hl;
        if (v + l > ae) break;
        if (ty == 3 && l == 4) { nh = rd32(v); has_nh = 1; }
        else if (ty == 9 && l == 4) { orig = rd32(v); has_orig = 1; }
        else if (ty == 14 && l >= 5 && v[0] == 0 && v[1] == 1 && v[2] == 1) {
            int nhl = v[3];
            if (5 + nhl <= l) { if (nhl >= 4) { mpnh = rd32(v + 4); has_mpnh = 1; } mpr = v + 5 + nhl; mpr_len = l - 5 - nhl; }
        } else if (ty == 15 && l >= 3 && v[0] == 0 && v[1] == 1 && v[2] == 1) { mpu = v + 3; mpu_len = l - 3; }
        p = v + l;
    }
    m_nlri(s, wd, wl, 0, 0, 0, 0, 0);
    if (mpu) m_nlri(s, mpu, mpu_len, 0, 0, 0, 0, 0);
    if (mpr) m_nlri(s, mpr, mpr_len, 1, mpnh, has_mpnh, orig, has_orig);
    m_nlri(s, ae, (int)(end - ae), 1, nh, has_nh, orig, has_orig);
}

static void m_close(msess *s, const char *why) {
    if (s->fd >= 0) { epoll_ctl(g_ep, EPOLL_CTL_DEL, s->fd, NULL); close(s->fd); s->fd = -1; }
    s->blen = 0;
    if (s->state == S_ESTAB && g_phase == P_UP) {
        /* the RR dropped an Established session while the others were still coming up:
           reconnect 1 s later like a real client, and count it */
        g_n_est--; s->drops++;
        printf("DROP %d %.6f %s\n", s->idx, now(), why); fflush(stdout);
        memset(s->bits, 0, ((size_t)g_K * g_M + 63) / 64 * 8); s->count = 0;
        s->state = S_IDLE; s->next_try = now() + 1.0; s->t_est = 0;
        return;
    }
    if (s->state == S_ESTAB || g_phase != P_UP) {
        printf("DOWN %d %.6f %s\n", s->idx, now(), why); fflush(stdout);
        if (s->state == S_ESTAB) g_n_est--;
        s->state = S_DEAD;
        return;
    }
    /* not Established yet (RR still loading its config, listen queue full, ...): retry */
    s->retries++;
    printf("RETRY %d %.6f %s\n", s->idx, now(), why);
    s->state = S_IDLE; s->next_try = now() + 1.0;
}

static void m_all_up(double t_start) {
    long retries = 0, drops = 0;
    for (int i = 0; i < g_K; i++) { retries += g_ss[i].retries; drops += g_ss[i].drops; }
    printf("ALLUP %.6f %.6f %ld %ld\n", t_start, now(), retries, drops); fflush(stdout);
    g_phase = P_WAITGO;
    if (g_auto_delay >= 0) g_auto_at = now() + g_auto_delay;
}

static void m_go(void) {
    if (g_phase != P_WAITGO) return;
    g_phase = P_CONV; g_t_go = now();
    m_announce_all(0, 0, "ANN");
    m_check_phase();
}

static void m_flap(unsigned seed) {
    if (g_phase != P_WAITFLAP || g_F <= 0) return;
    /* F distinct clients, seeded partial Fisher-Yates (xorshift32) */
    int *perm = malloc(sizeof(int) * g_K);
    for (int i = 0; i < g_K; i++) perm[i] = i;
    uint32_t x = seed * 2654435761u + 12345u; if (!x) x = 1;
    for (int i = 0; i < g_F; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        int j = i + (int)(x % (uint32_t)(g_K - i));
        int tmp = perm[i]; perm[i] = perm[j]; perm[j] = tmp;
        g_flapped[perm[i]] = 1; g_flap_list[i] = perm[i];
    }
    free(perm);
    g_n_wclear = 0;
    for (int c = 0; c < g_K; c++) {
        msess *s = &g_ss[c]; s->flap_held = 0;
        for (int i = 0; i < g_F; i++) {
            int o = g_flap_list[i];
            if (o == c) continue;
            for (long r = (long)o * g_M; r < (long)o * g_M + g_M; r++) if (s->bits[r >> 6] >> (r & 63) & 1) s->flap_held++;
        }
        if (s->flap_held == 0) g_n_wclear++;
    }
    printf("FLAPSET");
    for (int i = 0; i < g_F; i++) printf(" %d", g_flap_list[i]);
    printf("\n");
    g_phase = P_FLAPW;
    m_announce_all(1, 1, "FLAPW");
    m_check_phase();
}

static void m_process(msess *s, uint32_t as) {
    size_t off = 0;
    uint8_t ka[19];
    (void)as;
    while (s->fd >= 0 && s->blen - off >= 19) {
        uint8_t *m = s->buf + off;
        int len = (m[16] << 8) | m[17], ty = m[18];
        if (len < 19 || len > 65535) { m_close(s, "badlen"); return; }
        if (s->blen - off < (size_t)len) break;
        switch (ty) {
        case 1:
            if (send_all(s->fd, ka, build_keepalive(ka)) < 0) { m_close(s, "sendfail"); return; }
            s->state = S_OPENCONFIRM; s->last_ka = now();
            break;
        case 2: m_update(s, m, len); break;
        case 3: {
            char why[32]; snprintf(why, sizeof why, "notification-%d-%d", len > 19 ? m[19] : 0, len > 20 ? m[20] : 0);
            if (s->state == S_ESTAB) printf("NOTIF %d %d %d\n", s->idx, len > 19 ? m[19] : 0, len > 20 ? m[20] : 0);
            m_close(s, why); return;
        }
        case 4:
            if (s->state == S_OPENCONFIRM) {
                s->state = S_ESTAB; s->t_est = now(); g_n_est++;
                printf("EST %d %.6f\n", s->idx, s->t_est);
            }
            break;
        default: break;
        }
        off += (size_t)len;
    }
    if (s->fd < 0) return;
    if (off) { memmove(s->buf, s->buf + off, s->blen - off); s->blen -= off; }
}

static int m_connect(msess *s, struct sockaddr_in *ra) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) { perror("socket"); return -1; }
    int one = 1; setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
#ifdef IP_BIND_ADDRESS_NO_PORT
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
    struct sockaddr_in la = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(s->addr) };
    if (bind(fd, (struct sockaddr *)&la, sizeof la) < 0) { perror("bind"); close(fd); return -1; }
    int r = connect(fd, (struct sockaddr *)ra, sizeof *ra);
    if (r < 0 && errno != EINPROGRESS) { close(fd); return -2; }
    return fd;
}

static int run_mesh(const char *rr, int port, const char *base, const char *nhbase, const char *pfxbase, int k, int mroutes,
                    int flap, unsigned seed, uint32_t as, double maxsec, int stat_ms, int window, double auto_delay) {
    struct sockaddr_in ra = { .sin_family = AF_INET, .sin_port = htons(port) };
    struct in_addr b, nb, pb;
    if (inet_pton(AF_INET, rr, &ra.sin_addr) != 1 || inet_pton(AF_INET, base, &b) != 1 ||
        inet_pton(AF_INET, nhbase, &nb) != 1 || inet_pton(AF_INET, pfxbase, &pb) != 1) { fprintf(stderr, "bad address\n"); return 2; }
    g_K = k; g_M = mroutes; g_F = flap; g_full = (long)(k - 1) * mroutes; g_auto_delay = auto_delay;
    g_addr_base = ntohl(b.s_addr); g_nh_base = ntohl(nb.s_addr); g_pfx_base = ntohl(pb.s_addr);
    if ((long)k * mroutes * 64 > (1L << 24) || (g_pfx_base & 63)) { fprintf(stderr, "K*M /26s do not fit in a /8 above pfx-base\n"); return 2; }
    /* file descriptors: K sessions + a few */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)k + 64) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)k + 1024 ? (rlim_t)k + 1024 : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < (rlim_t)k + 16) { fprintf(stderr, "RLIMIT_NOFILE %lu too small for %d sessions\n", (unsigned long)rl.rlim_cur, k); return 2; }
    }
    g_ep = epoll_create1(0);
    g_ss = calloc(k, sizeof(msess));
    g_flapped = calloc(k, 1); g_flap_list = calloc(flap > 0 ? flap : 1, sizeof(int));
    size_t nwords = ((size_t)k * mroutes + 63) / 64;
    for (int i = 0; i < k; i++) {
        msess *s = &g_ss[i];
        s->fd = -1; s->idx = i; s->state = S_IDLE;
        s->addr = plan(g_addr_base, i); s->nh = plan(g_nh_base, i);
        s->bcap = 1 << 16; s->buf = malloc(s->bcap);
        s->bits = calloc(nwords, 8);
        if (!s->buf || !s->bits) { perror("malloc"); return 3; }
    }
    int use_stdin = auto_delay < 0;
    if (use_stdin) {
        fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 0xffffffffu };
        if (epoll_ctl(g_ep, EPOLL_CTL_ADD, 0, &ev) < 0) use_stdin = 0;
    }
    char cmd[256]; size_t clen = 0;
    double t0 = now(), deadline = t0 + maxsec, next_stat = t0, next_tick = t0;
    printf("START %.6f %d %d\n", t0, k, mroutes); fflush(stdout);
    long last_total = -1;
    struct epoll_event evs[256];
    uint8_t om[128];
    while (!stop_flag && now() < deadline) {
        double t = now();
        if (t >= next_tick || g_phase == P_UP) {
            int inflight = 0;
            if (g_phase == P_UP && window > 0)
                for (int i = 0; i < k; i++) if (g_ss[i].state >= S_CONNECTING && g_ss[i].state <= S_OPENCONFIRM) inflight++;
            for (int i = 0; i < k; i++) {
                msess *s = &g_ss[i];
                if (g_phase == P_UP && s->state == S_IDLE && t >= s->next_try && (window <= 0 || inflight < window)) {
                    int fd = m_connect(s, &ra);
                    if (fd < 0) { s->retries++; s->next_try = t + 0.2; continue; }
                    s->fd = fd; s->state = S_CONNECTING; inflight++;
                    struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.u32 = (uint32_t)i };
                    epoll_ctl(g_ep, EPOLL_CTL_ADD, fd, &ev);
                }
                if (t >= next_tick && s->state >= S_OPENSENT && s->state <= S_ESTAB && t - s->last_ka > 20) {
                    uint8_t ka[19]; s->last_ka = t;
                    if (send_all(s->fd, ka, build_keepalive(ka)) < 0) m_close(s, "kafail");
                }
            }
            if (t >= next_tick) next_tick = t + 0.5;
        }
        int n = epoll_wait(g_ep, evs, 256, g_phase == P_UP ? 10 : 50);
        for (int e = 0; e < n; e++) {
            if (evs[e].data.u32 == 0xffffffffu) {
                ssize_t r = read(0, cmd + clen, sizeof cmd - 1 - clen);
                if (r <= 0) { if (r == 0 || (errno != EAGAIN && errno != EINTR)) epoll_ctl(g_ep, EPOLL_CTL_DEL, 0, NULL); continue; }
                clen += (size_t)r; cmd[clen] = 0;
                char *nl;
                while ((nl = strchr(cmd, '\n'))) {
                    *nl = 0;
                    if (!strncmp(cmd, "GO", 2)) m_go();
                    else if (!strncmp(cmd, "FLAP", 4)) m_flap(seed);
                    else if (!strncmp(cmd, "QUIT", 4)) stop_flag = 1;
                    size_t used = (size_t)(nl - cmd) + 1;
                    memmove(cmd, nl + 1, clen - used + 1); clen -= used;
                }
                if (clen >= sizeof cmd - 1) clen = 0;
                continue;
            }
            msess *s = &g_ss[evs[e].data.u32];
            if (s->fd < 0) continue;
            if (s->state == S_CONNECTING) {
                int err = 0; socklen_t el = sizeof err;
                getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el);
                if (err) { m_close(s, "connect"); s->next_try = now() + 0.2; continue; }
                if (!(evs[e].events & (EPOLLOUT | EPOLLIN))) continue;
                struct in_addr id = { .s_addr = htonl(s->addr) };
                if (send_all(s->fd, om, build_open(om, as, 240, id)) < 0) { m_close(s, "openfail"); continue; }
                s->state = S_OPENSENT; s->last_ka = now();
                struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)s->idx };
                epoll_ctl(g_ep, EPOLL_CTL_MOD, s->fd, &ev);
                continue;
            }
            if (evs[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                if (s->bcap - s->blen < 32768) { s->bcap *= 2; s->buf = realloc(s->buf, s->bcap); if (!s->buf) { perror("realloc"); return 3; } }
                ssize_t r = read(s->fd, s->buf + s->blen, s->bcap - s->blen);
                if (r == 0) { m_close(s, "eof"); continue; }
                if (r < 0) { if (errno == EAGAIN || errno == EINTR) continue; m_close(s, "readerr"); continue; }
                s->blen += (size_t)r;
                m_process(s, as);
            }
        }
        if (g_phase == P_UP && g_n_est == k) m_all_up(t0);
        t = now();
        if (g_auto_at >= 0 && t >= g_auto_at) {
            g_auto_at = -1;
            if (g_phase == P_WAITGO) m_go();
            else if (g_phase == P_WAITFLAP) { if (g_F > 0) m_flap(seed); else stop_flag = 1; }
        }
        if (stat_ms > 0 && t >= next_stat && g_phase != P_UP) {
            long total = 0, mn = -1, mx = 0;
            for (int i = 0; i < k; i++) { long c = g_ss[i].count; total += c; if (mn < 0 || c < mn) mn = c; if (c > mx) mx = c; }
            if (total != last_total) {
                printf("STAT %.6f %ld %ld %ld %ld\n", t, total, g_n_full, mn, mx); fflush(stdout);
                last_total = total;
            }
            next_stat = t + stat_ms / 1000.0;
        } else if (stat_ms > 0 && t >= next_stat) {
            printf("UPSTAT %.6f %ld\n", t, g_n_est); fflush(stdout);
            next_stat = t + 1.0;
        }
    }
    long total = 0;
    for (int i = 0; i < k; i++) total += g_ss[i].count;
    printf("STAT %.6f %ld %ld\n", now(), total, g_n_full);
    m_counters("exit");
    printf("EXIT %.6f %s\n", now(), stop_flag ? "signal" : "max-seconds");
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s sink|inject|mesh [options]\n", argv[0]); return 2; }
    const char *rr = "127.0.0.1", *base = "127.0.1.1", *local = "127.0.2.1", *stream = NULL;
    int port = 179, k = 4, stat_ms = 100; long target = 0; uint32_t as = 64512; double maxsec = 1800;
    const char *nhbase = "198.18.0.1", *pfxbase = "10.0.0.0";
    int mroutes = 4, flap = 0, window = 0; unsigned seed = 1; double auto_delay = -1;
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        if (!strcmp(o, "--rr")) rr = v;
        else if (!strcmp(o, "--port")) port = atoi(v);
        else if (!strcmp(o, "--base")) base = v;
        else if (!strcmp(o, "--local")) local = v;
        else if (!strcmp(o, "--k")) k = atoi(v);
        else if (!strcmp(o, "--target")) target = atol(v);
        else if (!strcmp(o, "--as")) as = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(o, "--max-seconds")) maxsec = atof(v);
        else if (!strcmp(o, "--stat-ms")) stat_ms = atoi(v);
        else if (!strcmp(o, "--stream")) stream = v;
        else if (!strcmp(o, "--m")) mroutes = atoi(v);
        else if (!strcmp(o, "--nh-base")) nhbase = v;
        else if (!strcmp(o, "--pfx-base")) pfxbase = v;
        else if (!strcmp(o, "--flap")) flap = atoi(v);
        else if (!strcmp(o, "--seed")) seed = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(o, "--auto")) auto_delay = atof(v);
        else if (!strcmp(o, "--connect-window")) window = atoi(v);
        else if (!strcmp(o, "--family")) {
            if (!strcmp(v, "ipv4")) g_family = 0;
            else if (!strcmp(v, "vpnv4")) g_family = 1;
            else if (!strcmp(v, "evpn")) g_family = 2;
            else { fprintf(stderr, "unknown family %s (ipv4, vpnv4, evpn)\n", v); return 2; }
        }
        else { fprintf(stderr, "unknown option %s\n", o); return 2; }
    }
    signal(SIGTERM, on_sig); signal(SIGINT, on_sig); signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(argv[1], "sink")) {
        if (k < 1 || k > 250) { fprintf(stderr, "k out of range\n"); return 2; }
        return run_sink(rr, port, base, k, target, as, maxsec, stat_ms);
    }
    if (!strcmp(argv[1], "mesh")) {
        if (!strcmp(base, "127.0.1.1")) base = "127.1.0.1";
        if (k < 2 || k > 64000 || mroutes < 1 || flap < 0 || flap > k) { fprintf(stderr, "need 2 <= k <= 64000, m >= 1, 0 <= flap <= k\n"); return 2; }
        return run_mesh(rr, port, base, nhbase, pfxbase, k, mroutes, flap, seed, as, maxsec, stat_ms, window, auto_delay);
    }
    if (!strcmp(argv[1], "inject")) {
        if (!stream) { fprintf(stderr, "--stream required\n"); return 2; }
        return run_inject(rr, port, local, stream, as, maxsec);
    }
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
}
