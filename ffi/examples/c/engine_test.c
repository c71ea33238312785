/*
 * engine_test: drives a Reflector engine through the C API with the real
 * UPDATEs of an MRT dump (BGP4MP records: every peer of the dump becomes a
 * route-reflector client; its STATE_CHANGE records bring it up and down) and
 * checks the results against an independent model kept here in C:
 *
 *   - per prefix, the set of peers currently announcing it (from the UPDATEs'
 *     NLRI, withdrawn routes, MP_REACH/MP_UNREACH, and the outcome the engine
 *     reports: treat-as-withdraw, loop rejection, session reset) must equal
 *     the engine's candidates, and the best path must come from one of them;
 *   - two listener peers (a client and a non-client) must, from the UPDATEs
 *     the engine sends them, know exactly the Loc-RIB's prefixes, every
 *     announcement carrying ORIGINATOR_ID and CLUSTER_LIST with our cluster ID
 *     first;
 *   - counters, the Loc-RIB iterator, events, the next-hop resolver callback,
 *     peer removal, and the error contract (NULL, bad handles, bad values,
 *     small buffers, rfl_last_error).
 *
 * Usage: engine_test MRT_FILE [MAX_UPDATES]   (plain or gzip MRT)
 * Exit status 0 when every check passed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "reflector.h"

static unsigned long checks_passed, checks_failed;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (cond) {                                                            \
            checks_passed++;                                                   \
        } else {                                                               \
            checks_failed++;                                                   \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);    \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

/* A call that must succeed; on failure print rfl_last_error and stop. */
#define MUST(call)                                                             \
    do {                                                                       \
        rfl_result r_ = (call);                                                \
        if (r_ != RFL_RESULT_OK) {                                             \
            char m_[512];                                                      \
            size_t l_ = 0;                                                     \
            rfl_last_error(m_, sizeof m_, &l_);                                \
            fprintf(stderr, "FATAL %s:%d: %s returned %u: %s\n", __FILE__,     \
                    __LINE__, #call, (unsigned)r_, m_);                        \
            exit(2);                                                           \
        }                                                                      \
    } while (0)

#define MAX_PEERS 128
#define LOCAL_AS 65000u
#define ROUTER_ID 0x0AFFFFFEu  /* 10.255.255.254 */
#define CLUSTER_ID 0x0AFFFF01u /* 10.255.255.1 */

/* ---------------------------------------------------------------- model */

struct entry {
    uint8_t used, family, len;
    uint8_t octets[16];
    uint64_t peers[2];     /* MRT peers announcing it */
    uint8_t listener_seen; /* bit i: listener i was told about it */
};

static struct entry *table;
static size_t table_cap, table_used;

static uint64_t hash_prefix(uint8_t family, uint8_t len, const uint8_t *o)
{
    uint64_t h = 1469598103934665603ull ^ family ^ ((uint64_t)len << 8);
    for (int i = 0; i < 16; i++) {
        h ^= o[i];
        h *= 1099511628211ull;
    }
    return h;
}

static struct entry *lookup(uint8_t family, uint8_t len, const uint8_t *o, int create)
{
    size_t i = (size_t)hash_prefix(family, len, o) & (table_cap - 1);
    for (;;) {
        struct entry *e = &table[i];
        if (!e->used) {
            if (!create)
                return NULL;
            if ((table_used + 1) * 10 > table_cap * 7) {
                fprintf(stderr, "FATAL: prefix table full\n");
                exit(2);
            }
            e->used = 1;
            e->family = family;
            e->len = len;
            memcpy(e->octets, o, 16);
            table_used++;
            return e;
        }
        if (e->family == family && e->len == len && memcmp(e->octets, o, 16) == 0)
            return e;
        i = (i + 1) & (table_cap - 1);
    }
}

static void bit_set(uint64_t *s, unsigned i) { s[i / 64] |= 1ull << (i % 64); }
static void bit_clear(uint64_t *s, unsigned i) { s[i / 64] &= ~(1ull << (i % 64)); }
static unsigned popcount2(const uint64_t *s)
{
    return (unsigned)(__builtin_popcountll(s[0]) + __builtin_popcountll(s[1]));
}

/* -------------------------------------------------------- UPDATE parsing */

typedef void (*prefix_fn)(void *ctx, uint8_t family, uint8_t len, const uint8_t *octets);

/* Walk an NLRI field; returns 0 if it is malformed. */
static int walk_nlri(const uint8_t *p, size_t n, uint8_t family, prefix_fn fn, void *ctx)
{
    size_t max = family == 4 ? 32 : 128;
    while (n > 0) {
        uint8_t len = p[0];
        size_t bytes = (len + 7u) / 8u;
        if (len > max || 1 + bytes > n)
            return 0;
        uint8_t o[16] = {0};
        memcpy(o, p + 1, bytes);
        if (len % 8) /* clear host bits as the engine does */
            o[bytes - 1] &= (uint8_t)(0xff << (8 - len % 8));
        if (fn)
            fn(ctx, family, len, o);
        p += 1 + bytes;
        n -= 1 + bytes;
    }
    return 1;
}

struct update_view {
    const uint8_t *withdrawn;
    size_t withdrawn_len;
    const uint8_t *attrs;
    size_t attrs_len;
    const uint8_t *nlri;
    size_t nlri_len;
};

static int split_update(const uint8_t *m, size_t len, struct update_view *u)
{
    if (len < 23 || m[18] != 2)
        return 0;
    size_t wl = ((size_t)m[19] << 8) | m[20];
    if (21 + wl + 2 > len)
        return 0;
    size_t al = ((size_t)m[21 + wl] << 8) | m[22 + wl];
    if (23 + wl + al > len)
        return 0;
    u->withdrawn = m + 21;
    u->withdrawn_len = wl;
    u->attrs = m + 23 + wl;
    u->attrs_len = al;
    u->nlri = m + 23 + wl + al;
    u->nlri_len = len - 23 - wl - al;
    return 1;
}

/* Find attribute `type` in a block; returns its value or NULL. */
static const uint8_t *find_attr(const uint8_t *a, size_t n, uint8_t type, size_t *vlen)
{
    size_t i = 0;
    while (i + 3 <= n) {
        uint8_t flags = a[i], t = a[i + 1];
        size_t hl = (flags & 0x10) ? 4 : 3;
        if (i + hl > n)
            return NULL;
        size_t l = (flags & 0x10) ? (((size_t)a[i + 2] << 8) | a[i + 3]) : a[i + 2];
        if (i + hl + l > n)
            return NULL;
        if (t == type) {
            *vlen = l;
            return a + i + hl;
        }
        i += hl + l;
    }
    return NULL;
}

/* Call fn for every IPv4/IPv6 unicast prefix an UPDATE withdraws (mode 0) or announces (mode 1). */
static void walk_update(const struct update_view *u, int announce, prefix_fn fn, void *ctx)
{
    size_t vl;
    const uint8_t *v;
    if (!announce) {
        walk_nlri(u->withdrawn, u->withdrawn_len, 4, fn, ctx);
        if ((v = find_attr(u->attrs, u->attrs_len, 15, &vl)) && vl >= 3) {
            uint16_t afi = (uint16_t)((v[0] << 8) | v[1]);
            if (v[2] == 1 && (afi == 1 || afi == 2))
                walk_nlri(v + 3, vl - 3, afi == 1 ? 4 : 6, fn, ctx);
        }
        return;
    }
    walk_nlri(u->nlri, u->nlri_len, 4, fn, ctx);
    if ((v = find_attr(u->attrs, u->attrs_len, 14, &vl)) && vl >= 5) {
        uint16_t afi = (uint16_t)((v[0] << 8) | v[1]);
        size_t nhl = v[3];
        if (v[2] == 1 && (afi == 1 || afi == 2) && 5 + nhl <= vl)
            walk_nlri(v + 5 + nhl, vl - 5 - nhl, afi == 1 ? 4 : 6, fn, ctx);
    }
}

/* ------------------------------------------------------------- peers */

struct peer {
    uint8_t family;
    uint8_t addr[16];
    int as4;
    uint32_t asn;
    uint32_t id;        /* engine peer ID */
    uint32_t router_id; /* assigned BGP identifier */
    int up;
    uint64_t updates_fed;
};

static struct peer peers[MAX_PEERS];
static unsigned npeers;
static uint64_t peer_up_calls, n_peer_down_calls;

struct model_op {
    unsigned peer;
    int add;
};

static void model_apply(void *ctx, uint8_t family, uint8_t len, const uint8_t *o)
{
    struct model_op *op = ctx;
    struct entry *e = lookup(family, len, o, op->add);
    if (!e)
        return;
    if (op->add)
        bit_set(e->peers, op->peer);
    else
        bit_clear(e->peers, op->peer);
}

static void model_drop_peer(unsigned p)
{
    for (size_t i = 0; i < table_cap; i++)
        if (table[i].used)
            bit_clear(table[i].peers, p);
}

/* ORIGINATOR_IDs seen on input (not assigned by the reflector). */
static uint32_t foreign_originators[4096];
static size_t n_foreign;

static void note_originator(uint32_t id)
{
    for (size_t i = 0; i < n_foreign; i++)
        if (foreign_originators[i] == id)
            return;
    if (n_foreign < sizeof foreign_originators / sizeof foreign_originators[0])
        foreign_originators[n_foreign++] = id;
}

static int known_originator(uint32_t id)
{
    for (unsigned i = 0; i < npeers; i++)
        if (peers[i].router_id == id)
            return 1;
    for (size_t i = 0; i < n_foreign; i++)
        if (foreign_originators[i] == id)
            return 1;
    return 0;
}

/* ------------------------------------------------------------- listeners */

#define NLISTENERS 2
static uint32_t listener_id[NLISTENERS];
static uint32_t listener_rid[NLISTENERS] = {0x0AFE0001u, 0x0AFE0002u};
static uint64_t listener_msgs[NLISTENERS], listener_announced[NLISTENERS];
static unsigned long attr_failures;

struct listen_op {
    unsigned listener;
    int add;
};

static void listener_apply(void *ctx, uint8_t family, uint8_t len, const uint8_t *o)
{
    struct listen_op *op = ctx;
    struct entry *e = lookup(family, len, o, 1);
    if (op->add) {
        e->listener_seen |= (uint8_t)(1u << op->listener);
        listener_announced[op->listener]++;
    } else {
        e->listener_seen &= (uint8_t)~(1u << op->listener);
    }
}

static uint8_t *txbuf;
static int small_buffer_checked;

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void drain_listeners(rfl_engine *eng)
{
    for (unsigned l = 0; l < NLISTENERS; l++) {
        if (!small_buffer_checked) {
            size_t need = 0;
            rfl_result r = rfl_engine_poll_transmit(eng, listener_id[l], txbuf, 10, &need);
            if (r != RFL_RESULT_EMPTY) {
                CHECK(r == RFL_RESULT_BUFFER_TOO_SMALL, "10-byte buffer gave %u", (unsigned)r);
                CHECK(need >= 23 && need <= 4096, "needed size %zu", need);
                small_buffer_checked = 1;
            }
        }
        for (;;) {
            size_t n = 0;
            rfl_result r = rfl_engine_poll_transmit(eng, listener_id[l], txbuf,
                                                    RFL_MAX_MESSAGE_LEN, &n);
            if (r == RFL_RESULT_EMPTY)
                break;
            MUST(r);
            listener_msgs[l]++;
            struct update_view u;
            if (!split_update(txbuf, n, &u)) {
                CHECK(0, "listener %u got a message that is not an UPDATE (%zu bytes)", l, n);
                continue;
            }
            CHECK(n <= 4096, "message of %zu bytes without extended messages", n);
            struct listen_op wd = {l, 0}, an = {l, 1};
            walk_update(&u, 0, listener_apply, &wd);
            size_t before = listener_announced[l];
            walk_update(&u, 1, listener_apply, &an);
            if (listener_announced[l] != before) {
                size_t ol, cl;
                const uint8_t *orig = find_attr(u.attrs, u.attrs_len, 9, &ol);
                const uint8_t *cls = find_attr(u.attrs, u.attrs_len, 10, &cl);
                int ok = orig && ol == 4 && cls && cl >= 4 && cl % 4 == 0 &&
                         be32(cls) == CLUSTER_ID && known_originator(be32(orig)) &&
                         be32(orig) != listener_rid[l];
                if (!ok)
                    attr_failures++;
            }
        }
    }
}

/* ---------------------------------------------------------------- events */

static uint64_t ev_best_changed, ev_peer_up, ev_peer_down, ev_update_error, ev_loop;

static void drain_events(rfl_engine *eng)
{
    rfl_event ev = {.struct_size = sizeof(rfl_event)};
    rfl_result r;
    while ((r = rfl_engine_poll_event(eng, &ev)) == RFL_RESULT_OK) {
        switch (ev.kind) {
        case RFL_EVENT_KIND_BEST_CHANGED: ev_best_changed++; break;
        case RFL_EVENT_KIND_PEER_UP: ev_peer_up++; break;
        case RFL_EVENT_KIND_PEER_DOWN: ev_peer_down++; break;
        case RFL_EVENT_KIND_UPDATE_ERROR: ev_update_error++; break;
        case RFL_EVENT_KIND_LOOP_REJECTED: ev_loop++; break;
        default: break;
        }
    }
    CHECK(r == RFL_RESULT_EMPTY, "poll_event ended with %u", (unsigned)r);
}

/* -------------------------------------------------------------- resolver */

struct resolver_state {
    uint64_t calls;
};

/* Next hops whose last octet is odd are unreachable; cost = second octet. */
static bool resolver(void *userdata, const rfl_addr *nh, uint32_t *out_cost)
{
    struct resolver_state *s = userdata;
    s->calls++;
    uint8_t last = nh->family == 4 ? nh->octets[3] : nh->octets[15];
    if (last & 1)
        return false;
    *out_cost = nh->octets[1];
    return true;
}

/* ------------------------------------------------------- the MRT round */

static unsigned peer_index(rfl_engine *eng, uint8_t family, const uint8_t *addr, int as4,
                           uint32_t asn)
{
    size_t alen = family == 4 ? 4 : 16;
    for (unsigned i = 0; i < npeers; i++)
        if (peers[i].family == family && peers[i].as4 == as4 &&
            memcmp(peers[i].addr, addr, alen) == 0)
            return i;
    if (npeers == MAX_PEERS) {
        fprintf(stderr, "FATAL: more than %d peers\n", MAX_PEERS);
        exit(2);
    }
    struct peer *p = &peers[npeers];
    memset(p, 0, sizeof *p);
    p->family = family;
    memcpy(p->addr, addr, alen);
    p->as4 = as4;
    p->asn = asn;
    p->router_id = 0x0A010000u + npeers + 1;
    rfl_addr a = {0};
    a.family = family;
    memcpy(a.octets, addr, alen);
    rfl_peer_config pc;
    MUST(rfl_peer_config_init(RFL_ROLE_CLIENT, LOCAL_AS, &a, &pc, sizeof pc));
    MUST(rfl_engine_add_peer(eng, &pc, &p->id));
    return npeers++;
}

static void bring_up(rfl_engine *eng, unsigned i)
{
    if (peers[i].up)
        return;
    rfl_negotiated n;
    MUST(rfl_negotiated_unicast(peers[i].router_id, &n, sizeof n));
    n.four_octet_as = peers[i].as4;
    MUST(rfl_engine_peer_up(eng, peers[i].id, &n));
    peers[i].up = 1;
    peer_up_calls++;
}

static void bring_down(rfl_engine *eng, unsigned i)
{
    if (!peers[i].up)
        return;
    MUST(rfl_engine_peer_down(eng, peers[i].id));
    peers[i].up = 0;
    n_peer_down_calls++;
    model_drop_peer(i);
}

static uint64_t n_updates, n_accepted, n_taw, n_discard, n_reset, n_rejected_updates;

static void feed_message(rfl_engine *eng, unsigned pi, const uint8_t *msg, size_t len)
{
    if (len < 19 || msg[18] != 2)
        return; /* only UPDATEs: the rest belongs to a session */
    bring_up(eng, pi);
    uint8_t notif[RFL_MAX_NOTIFICATION_LEN];
    rfl_outcome oc = {.struct_size = sizeof(rfl_outcome)};
    rfl_result r = rfl_engine_handle_message(eng, peers[pi].id, msg, len, notif, sizeof notif, &oc);
    MUST(r);
    n_updates++;
    peers[pi].updates_fed++;
    struct update_view u;
    int parsed = split_update(msg, len, &u);
    size_t ol;
    const uint8_t *orig;
    if (parsed && (orig = find_attr(u.attrs, u.attrs_len, 9, &ol)) && ol == 4)
        note_originator(be32(orig));
    struct model_op del = {pi, 0}, add = {pi, 1};
    switch (oc.kind) {
    case RFL_OUTCOME_KIND_ACCEPTED:
    case RFL_OUTCOME_KIND_ATTRIBUTE_DISCARDED:
        if (oc.kind == RFL_OUTCOME_KIND_ACCEPTED)
            n_accepted++;
        else
            n_discard++;
        CHECK(parsed, "engine accepted an UPDATE this test cannot split");
        walk_update(&u, 0, model_apply, &del);
        if (oc.rejected > 0) {
            n_rejected_updates++;
            walk_update(&u, 1, model_apply, &del);
        } else {
            walk_update(&u, 1, model_apply, &add);
        }
        break;
    case RFL_OUTCOME_KIND_TREAT_AS_WITHDRAW:
        n_taw++;
        CHECK(oc.error_action == RFL_ACTION_TREAT_AS_WITHDRAW, "action %u", (unsigned)oc.error_action);
        if (parsed) {
            walk_update(&u, 0, model_apply, &del);
            walk_update(&u, 1, model_apply, &del);
        }
        break;
    case RFL_OUTCOME_KIND_RESET: {
        n_reset++;
        CHECK(oc.notification_len >= 21 && notif[18] == 3 && notif[19] == oc.error_code,
              "NOTIFICATION of %zu bytes, code %u", oc.notification_len, oc.error_code);
        bool up = true;
        MUST(rfl_engine_peer_is_up(eng, peers[pi].id, &up));
        CHECK(!up, "peer still up after a reset");
        peers[pi].up = 0;
        model_drop_peer(pi);
        break;
    }
    default:
        CHECK(0, "unexpected outcome kind %u for an UPDATE", (unsigned)oc.kind);
    }
}

static uint64_t run_mrt(rfl_engine *eng, const char *path, uint64_t max_updates)
{
    gzFile f = gzopen(path, "rb");
    if (!f) {
        fprintf(stderr, "FATAL: cannot open %s\n", path);
        exit(2);
    }
    uint8_t hdr[12];
    uint8_t *body = malloc(1 << 20);
    uint64_t records = 0;
    while (n_updates < max_updates && gzread(f, hdr, 12) == 12) {
        uint32_t len = be32(hdr + 8);
        uint16_t type = (uint16_t)((hdr[4] << 8) | hdr[5]);
        uint16_t sub = (uint16_t)((hdr[6] << 8) | hdr[7]);
        if (len > (1 << 20) || gzread(f, body, len) != (int)len)
            break;
        records++;
        const uint8_t *b = body;
        size_t n = len;
        if (type == 17) { /* BGP4MP_ET: microseconds first */
            if (n < 4)
                continue;
            b += 4;
            n -= 4;
        } else if (type != 16) {
            continue;
        }
        int as4, state;
        switch (sub) {
        case 0: as4 = 0; state = 1; break;
        case 1: as4 = 0; state = 0; break;
        case 4: as4 = 1; state = 0; break;
        case 5: as4 = 1; state = 1; break;
        default: continue; /* local and ADD-PATH subtypes are not fed */
        }
        size_t asl = as4 ? 4 : 2;
        if (n < 2 * asl + 4)
            continue;
        uint32_t peer_as = as4 ? be32(b) : (uint32_t)((b[0] << 8) | b[1]);
        uint16_t afi = (uint16_t)((b[2 * asl + 2] << 8) | b[2 * asl + 3]);
        size_t al = afi == 1 ? 4 : afi == 2 ? 16 : 0;
        size_t off = 2 * asl + 4;
        if (!al || n < off + 2 * al)
            continue;
        unsigned pi = peer_index(eng, afi == 1 ? 4 : 6, b + off, as4, peer_as);
        off += 2 * al;
        if (state) {
            if (n < off + 4)
                continue;
            uint16_t old_state = (uint16_t)((b[off] << 8) | b[off + 1]);
            uint16_t new_state = (uint16_t)((b[off + 2] << 8) | b[off + 3]);
            if (new_state == 6)
                bring_up(eng, pi);
            else if (old_state == 6)
                bring_down(eng, pi);
        } else {
            feed_message(eng, pi, b + off, n - off);
        }
        if (n_updates % 4096 == 0) {
            drain_listeners(eng);
            drain_events(eng);
        }
    }
    free(body);
    gzclose(f);
    return records;
}

/* ------------------------------------------------------------- checks */

static void check_against_model(rfl_engine *eng, const char *phase)
{
    MUST(rfl_engine_flush(eng));
    rfl_path paths[MAX_PEERS];
    size_t with_paths = 0, best_found = 0, mismatches = 0, best_bad = 0;
    for (size_t i = 0; i < table_cap; i++) {
        struct entry *e = &table[i];
        if (!e->used)
            continue;
        rfl_prefix p = {{e->family, {0}}, e->len};
        memcpy(p.addr.octets, e->octets, 16);
        size_t count = 0;
        MUST(rfl_engine_candidates(eng, &p, paths, MAX_PEERS, &count));
        unsigned expect = popcount2(e->peers);
        uint64_t got[2] = {0, 0};
        for (size_t k = 0; k < count; k++) {
            for (unsigned q = 0; q < npeers; q++)
                if (peers[q].id == paths[k].peer)
                    bit_set(got, q);
        }
        if (count != expect || got[0] != e->peers[0] || got[1] != e->peers[1])
            mismatches++;
        if (expect)
            with_paths++;
        rfl_path best;
        rfl_result r = rfl_engine_best(eng, &p, &best);
        if (r == RFL_RESULT_OK) {
            best_found++;
            if (count == 0 || best.peer != paths[0].peer || !best.reachable)
                best_bad++;
        } else if (r != RFL_RESULT_NOT_FOUND) {
            best_bad++;
        }
    }
    CHECK(mismatches == 0, "%s: %zu prefixes whose candidates differ from the model", phase, mismatches);
    CHECK(best_bad == 0, "%s: %zu best paths inconsistent with the candidates", phase, best_bad);
    CHECK(with_paths > 0, "%s: no prefix has a path", phase);

    /* The Loc-RIB iterator: exactly the prefixes with a best path. */
    rfl_loc_rib_iter *it = NULL;
    MUST(rfl_engine_loc_rib(eng, &it));
    size_t count = 0, seen = 0, unknown = 0, not_best = 0;
    MUST(rfl_loc_rib_iter_count(it, &count));
    rfl_prefix p;
    rfl_path path;
    rfl_result r;
    while ((r = rfl_loc_rib_iter_next(it, &p, &path)) == RFL_RESULT_OK) {
        seen++;
        struct entry *e = lookup(p.addr.family, p.len, p.addr.octets, 0);
        if (!e || popcount2(e->peers) == 0)
            unknown++;
        rfl_path b;
        if (rfl_engine_best(eng, &p, &b) != RFL_RESULT_OK || b.peer != path.peer ||
            b.local_id != path.local_id)
            not_best++;
    }
    CHECK(r == RFL_RESULT_EMPTY, "iterator ended with %u", (unsigned)r);
    CHECK(rfl_loc_rib_iter_next(it, &p, &path) == RFL_RESULT_EMPTY, "iterator restarted");
    MUST(rfl_loc_rib_iter_free(it));
    CHECK(seen == count, "%s: iterator gave %zu of %zu", phase, seen, count);
    CHECK(count == best_found, "%s: Loc-RIB has %zu prefixes, %zu have a best path", phase, count, best_found);
    CHECK(unknown == 0, "%s: %zu Loc-RIB prefixes the model does not have", phase, unknown);
    CHECK(not_best == 0, "%s: %zu Loc-RIB entries differ from rfl_engine_best", phase, not_best);

    size_t v4 = 0, v6 = 0;
    MUST(rfl_engine_prefix_counts(eng, &v4, &v6));
    CHECK(v4 + v6 >= count, "%s: prefix counts %zu+%zu below the Loc-RIB's %zu", phase, v4, v6, count);

    /* What the listeners were told is exactly the Loc-RIB. */
    drain_listeners(eng);
    for (unsigned l = 0; l < NLISTENERS; l++) {
        size_t diff = 0;
        for (size_t i = 0; i < table_cap; i++) {
            struct entry *e = &table[i];
            if (!e->used)
                continue;
            rfl_prefix q = {{e->family, {0}}, e->len};
            memcpy(q.addr.octets, e->octets, 16);
            rfl_path b;
            int has_best = rfl_engine_best(eng, &q, &b) == RFL_RESULT_OK;
            int told = (e->listener_seen >> l) & 1;
            if (has_best != told)
                diff++;
        }
        CHECK(diff == 0, "%s: listener %u's view differs from the Loc-RIB on %zu prefixes", phase, l, diff);
    }
    CHECK(attr_failures == 0, "%s: %lu reflected UPDATEs without proper ORIGINATOR_ID/CLUSTER_LIST", phase, attr_failures);
    printf("%s: %zu prefixes in the model with paths, Loc-RIB %zu (IPv4 table %zu, IPv6 %zu)\n",
           phase, with_paths, count, v4, v6);
}

static void check_error_contract(void)
{
    char msg[256];
    size_t len = 0;
    rfl_engine_config cfg;
    rfl_engine *e = NULL;

    CHECK(rfl_engine_new(NULL, &e) == RFL_RESULT_NULL_PARAMETER, "NULL config");
    MUST(rfl_last_error(msg, sizeof msg, &len));
    CHECK(len > 0 && strstr(msg, "config") != NULL, "last error \"%s\"", msg);
    CHECK(rfl_last_error(msg, 3, &len) == RFL_RESULT_BUFFER_TOO_SMALL && len > 3,
          "short last-error buffer, len %zu", len);

    MUST(rfl_engine_config_init(LOCAL_AS, 0, &cfg, sizeof cfg));
    CHECK(rfl_engine_new(&cfg, &e) == RFL_RESULT_INVALID_PARAMETER, "router ID 0");
    CHECK(e == NULL, "out-parameter written on failure");

    MUST(rfl_engine_config_init(LOCAL_AS, ROUTER_ID, &cfg, sizeof cfg));
    MUST(rfl_engine_new(&cfg, &e));

    /* Something that is not an engine. */
    uint64_t fake[32] = {0};
    rfl_peer_counters pc = {.struct_size = sizeof(rfl_peer_counters)};
    CHECK(rfl_engine_counters((const rfl_engine *)fake, 0, &pc) == RFL_RESULT_INVALID_HANDLE, "fake handle");
    CHECK(rfl_engine_counters(NULL, 0, &pc) == RFL_RESULT_NULL_PARAMETER, "NULL handle");
    CHECK(rfl_engine_counters(e, 7, &pc) == RFL_RESULT_UNKNOWN_PEER, "unknown peer");
    CHECK(rfl_engine_counters(e, 7, NULL) == RFL_RESULT_NULL_PARAMETER, "NULL out");

    rfl_addr a = {4, {192, 0, 2, 1}};
    rfl_peer_config pcfg;
    CHECK(rfl_peer_config_init(9, LOCAL_AS, &a, &pcfg, sizeof pcfg) == RFL_RESULT_INVALID_PARAMETER, "bad role");
    rfl_addr bad = {5, {0}};
    CHECK(rfl_peer_config_init(RFL_ROLE_CLIENT, LOCAL_AS, &bad, &pcfg, sizeof pcfg) == RFL_RESULT_INVALID_PARAMETER, "bad family");
    MUST(rfl_peer_config_init(RFL_ROLE_CLIENT, LOCAL_AS, &a, &pcfg, sizeof pcfg));
    uint32_t id;
    MUST(rfl_engine_add_peer(e, &pcfg, &id));

    /* Messages to a peer that is down, or not a message at all. */
    static const uint8_t keepalive[19] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 19, 4};
    rfl_outcome oc = {.struct_size = sizeof(rfl_outcome)};
    CHECK(rfl_engine_handle_message(e, id, keepalive, 19, NULL, 0, &oc) == RFL_RESULT_PEER_NOT_UP, "down peer");
    CHECK(rfl_engine_handle_message(e, id, NULL, 19, NULL, 0, &oc) == RFL_RESULT_NULL_PARAMETER, "NULL message");
    rfl_negotiated n;
    MUST(rfl_negotiated_unicast(0x0A000001u, &n, sizeof n));
    n.families |= 1u << 20;
    CHECK(rfl_engine_peer_up(e, id, &n) == RFL_RESULT_INVALID_PARAMETER, "unknown family bit");
    MUST(rfl_negotiated_unicast(0x0A000001u, &n, sizeof n));
    MUST(rfl_engine_peer_up(e, id, &n));
    MUST(rfl_engine_handle_message(e, id, keepalive, 19, NULL, 0, &oc));
    CHECK(oc.kind == RFL_OUTCOME_KIND_IGNORED && oc.message_type == 4, "KEEPALIVE kind %u", (unsigned)oc.kind);

    /* A header with a bad marker resets the session and yields a NOTIFICATION. */
    uint8_t broken[19];
    memcpy(broken, keepalive, 19);
    broken[3] = 0;
    uint8_t notif[8];
    CHECK(rfl_engine_handle_message(e, id, broken, 19, notif, sizeof notif, &oc) == RFL_RESULT_BUFFER_TOO_SMALL,
          "NOTIFICATION into 8 bytes");
    CHECK(oc.kind == RFL_OUTCOME_KIND_RESET && oc.error_code == 1 && oc.error_subcode == 1,
          "bad marker: kind %u code %u/%u", (unsigned)oc.kind, oc.error_code, oc.error_subcode);
    uint8_t full[RFL_MAX_NOTIFICATION_LEN];
    size_t nl = 0;
    MUST(rfl_engine_last_notification(e, full, sizeof full, &nl));
    CHECK(nl == oc.notification_len && full[18] == 3 && full[19] == 1, "last notification %zu bytes", nl);

    /* Prefix values. */
    rfl_prefix p = {{4, {10, 0, 0, 0}}, 33};
    rfl_path path;
    CHECK(rfl_engine_best(e, &p, &path) == RFL_RESULT_INVALID_PARAMETER, "/33");
    p.len = 8;
    CHECK(rfl_engine_best(e, &p, &path) == RFL_RESULT_NOT_FOUND, "no route");

    /* Originate and read it back, with a next hop and a community. */
    static const uint8_t community[] = {0xc0, 8, 4, 0xfd, 0xe8, 0, 1};
    rfl_addr nh = {4, {192, 0, 2, 10}};
    MUST(rfl_engine_originate(e, &p, &nh, community, sizeof community));
    MUST(rfl_engine_flush(e));
    MUST(rfl_engine_best(e, &p, &path));
    CHECK(path.peer == RFL_PEER_LOCAL && path.next_hop.family == 4 && path.next_hop.octets[3] == 10,
          "local path peer %u", path.peer);
    const uint8_t *bytes = NULL;
    size_t blen = 0;
    MUST(rfl_engine_attr_set(e, path.attrs, &bytes, &blen));
    size_t cl;
    CHECK(find_attr(bytes, blen, 8, &cl) != NULL && cl == 4, "community in the attribute set");
    static const uint8_t truncated[] = {0x40, 1};
    CHECK(rfl_engine_originate(e, &p, &nh, truncated, sizeof truncated) == RFL_RESULT_MALFORMED, "bad attrs");
    MUST(rfl_engine_withdraw_local(e, &p));
    CHECK(rfl_engine_withdraw_local(e, &p) == RFL_RESULT_NOT_FOUND, "second withdraw");

    const char *rm = NULL;
    MUST(rfl_result_message(RFL_RESULT_BUFFER_TOO_SMALL, &rm));
    CHECK(rm && strcmp(rm, "the buffer is too small") == 0, "result message \"%s\"", rm ? rm : "");
    CHECK(rfl_result_message(999, &rm) == RFL_RESULT_INVALID_PARAMETER, "unknown code");

    /* A prefix limit of 1 (RFC 4486): an UPDATE with two prefixes ends the session
     * with Cease / Maximum Number of Prefixes Reached, AFI 1, SAFI 1, bound 1. */
    MUST(rfl_engine_peer_up(e, id, &n));
    CHECK(rfl_engine_set_prefix_limit(e, id, 1u << 20, 1, false) == RFL_RESULT_INVALID_PARAMETER, "unknown family");
    MUST(rfl_engine_set_prefix_limit(e, id, RFL_FAMILY_IPV4_UNICAST, 1, false));
    MUST(rfl_engine_set_max_paths_per_prefix(e, id, 4));
    static const uint8_t two[52] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0, 52, 2, 0, 0, 0, 21,
                                    0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 192, 0, 2, 1, 0x40, 5, 4, 0, 0, 0, 100,
                                    24, 10, 1, 1, 24, 10, 1, 2};
    uint8_t cease[RFL_MAX_NOTIFICATION_LEN];
    MUST(rfl_engine_handle_message(e, id, two, sizeof two, cease, sizeof cease, &oc));
    CHECK(oc.kind == RFL_OUTCOME_KIND_RESET && oc.error_code == 6 && oc.error_subcode == 1,
          "prefix limit: kind %u code %u/%u", (unsigned)oc.kind, oc.error_code, oc.error_subcode);
    static const uint8_t rfc4486_data[7] = {0, 1, 1, 0, 0, 0, 1};
    CHECK(oc.notification_len == 21 + 7 && memcmp(cease + 21, rfc4486_data, 7) == 0,
          "Cease data: %zu bytes", (size_t)oc.notification_len);
    bool still_up = true;
    CHECK(rfl_engine_peer_is_up(e, id, &still_up) == RFL_RESULT_OK && !still_up, "down after the Cease");

    /* Pause and resume: nothing is queued while paused; resumed, the peer
     * gets the prefix that changed meanwhile. */
    MUST(rfl_engine_peer_up(e, id, &n));
    uint32_t id2;
    rfl_addr a2 = {4, {192, 0, 2, 2}};
    rfl_peer_config pcfg2;
    MUST(rfl_peer_config_init(RFL_ROLE_CLIENT, LOCAL_AS, &a2, &pcfg2, sizeof pcfg2));
    MUST(rfl_engine_add_peer(e, &pcfg2, &id2));
    rfl_negotiated n2;
    MUST(rfl_negotiated_unicast(0x0A000002u, &n2, sizeof n2));
    MUST(rfl_engine_peer_up(e, id2, &n2));
    uint8_t pbuf[RFL_MAX_MESSAGE_LEN];
    size_t plen = 0;
    while (rfl_engine_poll_transmit(e, id2, pbuf, sizeof pbuf, &plen) == RFL_RESULT_OK && plen) plen = 0;
    MUST(rfl_engine_pause_transmit(e, id2));
    static const uint8_t one[48] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0, 48, 2, 0, 0, 0, 21,
                                    0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 192, 0, 2, 1, 0x40, 5, 4, 0, 0, 0, 100,
                                    24, 10, 1, 3};
    MUST(rfl_engine_handle_message(e, id, one, sizeof one, NULL, 0, &oc));
    size_t queued = 1;
    MUST(rfl_engine_pending_bytes(e, id2, &queued));
    CHECK(queued == 0, "nothing encoded for a paused peer: %zu bytes", queued);
    bool more = true;
    MUST(rfl_engine_resume_transmit(e, id2, &more));
    CHECK(!more, "one step holds one prefix");
    MUST(rfl_engine_pending_bytes(e, id2, &queued));
    CHECK(queued > 0, "resumed: the changed prefix is queued");

    MUST(rfl_engine_remove_peer(e, id));
    CHECK(rfl_engine_peer_up(e, id, &n) == RFL_RESULT_UNKNOWN_PEER, "removed peer");
    MUST(rfl_engine_free(e));
    MUST(rfl_engine_free(NULL));
}

/* Graceful restart, Adj-RIB views, the dropped-event count and the struct_size rules. */
/* Finds attribute `type` in the UPDATE `m` (`len` bytes); its value and length. */
static const uint8_t *update_attr(const uint8_t *m, size_t len, uint8_t type, size_t *vlen)
{
    struct update_view u;
    if (!split_update(m, len, &u))
        return NULL;
    return find_attr(u.attrs, u.attrs_len, type, vlen);
}

/* The eBGP session options of rfl_peer_config: a per-session local AS
 * (prepended, and the AS the loop check counts), the next hop left unchanged,
 * and that AS allowed once in a received AS_PATH; read back as set. */
static void check_ebgp_session_options(void)
{
    /* From client A: ORIGIN IGP, empty AS_PATH, NEXT_HOP 10.0.0.1, LOCAL_PREF 100; 10.1.0.0/16. */
    static const uint8_t from_a[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0,    47,   2,    0,    0,    0,    21,   0x40,
                                     1,    1,    0,    0x40, 2,    0,    0x40, 3,    4,    10,   0,    0,
                                     1,    0x40, 5,    4,    0,    0,    0,    100,  16,   10,   1};
    /* From X (AS 65051): AS_PATH 65051 64999 (the session's AS once), NEXT_HOP 192.0.2.7; 10.7.0.0/16. */
    static const uint8_t once[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0,    50,   2,    0,    0,    0,    24,   0x40,
                                   1,    1,    0,    0x40, 2,    10,   2,    2,    0,    0,    0xfe, 0x1b,
                                   0,    0,    0xfd, 0xe7, 0x40, 3,    4,    192,  0,    2,    7,    16,
                                   10,   7};
    /* The same with 64999 twice; 10.8.0.0/16. */
    static const uint8_t twice[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0,    54,   2,    0,    0,    0,    28,   0x40,
                                    1,    1,    0,    0x40, 2,    14,   2,    3,    0,    0,    0xfe, 0x1b,
                                    0,    0,    0xfd, 0xe7, 0,    0,    0xfd, 0xe7, 0x40, 3,    4,    192,
                                    0,    2,    7,    16,   10,   8};
    rfl_engine_config cfg;
    MUST(rfl_engine_config_init(LOCAL_AS, ROUTER_ID, &cfg, sizeof cfg));
    rfl_engine *e = NULL;
    MUST(rfl_engine_new(&cfg, &e));
    MUST(rfl_engine_set_ebgp_requires_policy(e, false));
    uint32_t pa, px;
    rfl_addr aa = {4, {10, 0, 0, 1}}, ax = {4, {192, 0, 2, 7}};
    rfl_peer_config pc;
    MUST(rfl_peer_config_init(RFL_ROLE_CLIENT, LOCAL_AS, &aa, &pc, sizeof pc));
    CHECK(pc.allow_own_as == 0 && !pc.next_hop_unchanged && pc.local_as == 0, "session option defaults");
    MUST(rfl_engine_add_peer(e, &pc, &pa));
    MUST(rfl_peer_config_init(RFL_ROLE_EBGP, 65051, &ax, &pc, sizeof pc));
    pc.local_v4 = (rfl_addr){4, {192, 0, 2, 254}};
    pc.local_as = 64999;
    pc.next_hop_unchanged = true;
    pc.allow_own_as = 1;
    MUST(rfl_engine_add_peer(e, &pc, &px));
    rfl_peer_config got = {.struct_size = sizeof(rfl_peer_config)};
    MUST(rfl_engine_peer_config(e, px, &got));
    CHECK(got.local_as == 64999 && got.next_hop_unchanged && got.allow_own_as == 1,
          "session options read back: local AS %u, next hop unchanged %d, allow own AS %u", got.local_as,
          (int)got.next_hop_unchanged, (unsigned)got.allow_own_as);
    rfl_negotiated n;
    MUST(rfl_negotiated_unicast(0x0A000001u, &n, sizeof n));
    MUST(rfl_engine_peer_up(e, pa, &n));
    MUST(rfl_negotiated_unicast(0xC0000207u, &n, sizeof n));
    MUST(rfl_engine_peer_up(e, px, &n));
    size_t len;
    while (rfl_engine_poll_transmit(e, px, txbuf, RFL_MAX_MESSAGE_LEN, &len) == RFL_RESULT_OK)
        ;
    rfl_outcome oc = {.struct_size = sizeof(rfl_outcome)};
    MUST(rfl_engine_handle_message(e, pa, from_a, sizeof from_a, NULL, 0, &oc));
    CHECK(oc.kind == RFL_OUTCOME_KIND_ACCEPTED && oc.announced == 1, "A's route accepted");
    int seen = 0;
    while (rfl_engine_poll_transmit(e, px, txbuf, RFL_MAX_MESSAGE_LEN, &len) == RFL_RESULT_OK) {
        size_t plen = 0, nlen = 0;
        const uint8_t *path = update_attr(txbuf, len, 2, &plen);
        const uint8_t *nh = update_attr(txbuf, len, 3, &nlen);
        if (!path)
            continue;
        seen++;
        /* AS_SEQUENCE of one: 64999 (4-octet). */
        CHECK(plen == 6 && path[0] == 2 && path[1] == 1 && be32(path + 2) == 64999, "AS_PATH to X: %zu bytes",
              plen);
        CHECK(nh && nlen == 4 && be32(nh) == 0x0A000001u, "NEXT_HOP to X unchanged");
    }
    CHECK(seen == 1, "one UPDATE to X: %d", seen);
    MUST(rfl_engine_handle_message(e, px, once, sizeof once, NULL, 0, &oc));
    CHECK(oc.kind == RFL_OUTCOME_KIND_ACCEPTED && oc.announced == 1 && oc.rejected == 0,
          "the session's AS once: accepted (%u, %u)", oc.announced, oc.rejected);
    MUST(rfl_engine_handle_message(e, px, twice, sizeof twice, NULL, 0, &oc));
    CHECK(oc.kind == RFL_OUTCOME_KIND_ACCEPTED && oc.announced == 0 && oc.rejected == 1,
          "the session's AS twice: a loop (%u, %u)", oc.announced, oc.rejected);
    MUST(rfl_engine_free(e));
}

/* Clients A (10.0.0.1) and B (10.0.0.2) of engine `e`, up with IPv4/IPv6 unicast and `families`. */
static void two_clients(rfl_engine *e, uint32_t families, uint32_t *pa, uint32_t *pb)
{
    uint32_t *ids[2] = {pa, pb};
    for (uint8_t i = 0; i < 2; i++) {
        rfl_addr a = {4, {10, 0, 0, (uint8_t)(i + 1)}};
        rfl_peer_config pc;
        MUST(rfl_peer_config_init(RFL_ROLE_CLIENT, LOCAL_AS, &a, &pc, sizeof pc));
        MUST(rfl_engine_add_peer(e, &pc, ids[i]));
    }
    for (uint8_t i = 0; i < 2; i++) {
        rfl_negotiated n;
        MUST(rfl_negotiated_unicast(0x0A000001u + i, &n, sizeof n));
        n.families |= families;
        MUST(rfl_engine_peer_up(e, *ids[i], &n));
    }
}

/* Transmissions waiting for peer `p`: how many, and whether one announced `nlri_byte` (a /16's first octet
 * pair ends with it) or was an End-of-RIB. */
static unsigned drain_count(rfl_engine *e, uint32_t p, int *saw_route, int *saw_eor)
{
    size_t len;
    unsigned n = 0;
    while (rfl_engine_poll_transmit(e, p, txbuf, RFL_MAX_MESSAGE_LEN, &len) == RFL_RESULT_OK) {
        n++;
        if (len == 23 && txbuf[18] == 2)
            *saw_eor = 1;
        else if (len > 3 && txbuf[18] == 2 && txbuf[len - 3] == 16 && txbuf[len - 2] == 10 && txbuf[len - 1] == 9)
            *saw_route = 1;
    }
    return n;
}

/* RFC 4724 §4.1 selection deferral and the local-origin decision step through the C ABI. */
static void check_deferral_and_prefer_local(void)
{
    /* ORIGIN IGP, empty AS_PATH, NEXT_HOP 10.0.0.1, LOCAL_PREF 200; 10.9.0.0/16. */
    static const uint8_t upd[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0,    47,   2,    0,    0,    0,    21,   0x40,
                                  1,    1,    0,    0x40, 2,    0,    0x40, 3,    4,    10,   0,    0,
                                  1,    0x40, 5,    4,    0,    0,    0,    200,  16,   10,   9};
    rfl_engine_config cfg;
    MUST(rfl_engine_config_init(LOCAL_AS, ROUTER_ID, &cfg, sizeof cfg));
    CHECK(!cfg.prefer_local, "prefer_local is off by default");
    cfg.prefer_local = true;
    rfl_engine *e = NULL;
    MUST(rfl_engine_new(&cfg, &e));
    bool deferring = true;
    MUST(rfl_engine_is_deferring(e, &deferring));
    CHECK(!deferring, "no deferral at first");
    MUST(rfl_engine_defer_selection(e));
    MUST(rfl_engine_is_deferring(e, &deferring));
    CHECK(deferring, "deferring after rfl_engine_defer_selection");
    uint32_t pa, pb;
    two_clients(e, 0, &pa, &pb);
    rfl_outcome oc = {.struct_size = sizeof(rfl_outcome)};
    MUST(rfl_engine_handle_message(e, pa, upd, sizeof upd, NULL, 0, &oc));
    CHECK(oc.kind == RFL_OUTCOME_KIND_ACCEPTED && oc.announced == 1, "A's route accepted while deferring");
    MUST(rfl_engine_flush(e));
    int route = 0, eor = 0;
    CHECK(drain_count(e, pb, &route, &eor) == 0, "B is sent nothing while the selection is deferred");
    uint32_t held = 0;
    MUST(rfl_engine_end_deferral(e, &held));
    CHECK(held == 2, "the deferral held %u sessions", held);
    MUST(rfl_engine_is_deferring(e, &deferring));
    CHECK(!deferring, "deferral ended");
    for (int i = 0; i < 64 && !eor; i++) {
        drain_count(e, pb, &route, &eor);
        MUST(rfl_engine_flush(e));
    }
    CHECK(route && eor, "after the deferral B gets A's route (%d) and End-of-RIB (%d)", route, eor);
    /* A local route for the same prefix with a lower LOCAL_PREF wins at local-origin. */
    rfl_prefix p = {{4, {10, 9, 0, 0}}, 16};
    rfl_addr nh = {4, {192, 0, 2, 10}};
    static const uint8_t lp100[] = {0x40, 5, 4, 0, 0, 0, 100};
    MUST(rfl_engine_originate(e, &p, &nh, lp100, sizeof lp100));
    MUST(rfl_engine_flush(e));
    rfl_path best;
    MUST(rfl_engine_best(e, &p, &best));
    CHECK(best.peer == RFL_PEER_LOCAL, "with prefer_local the local path is best (peer %u)", best.peer);
    MUST(rfl_engine_free(e));
}

/* A VPN-IPv4 route's best path through rfl_engine_keyed_routes, and its KEYED_BEST_CHANGED event. */
static void check_keyed_routes(void)
{
    /* ORIGIN IGP, empty AS_PATH, LOCAL_PREF 100, MP_REACH_NLRI VPN-IPv4: next hop RD 0 + 10.0.0.1,
     * label 1001, RD 65000:1, 10.43.0.0/16. */
    static const uint8_t vpn[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0,    72,   2,    0,    0,    0,    49,   0x40,
                                  1,    1,    0,    0x40, 2,    0,    0x40, 5,    4,    0,    0,    0,
                                  100,  0x90, 14,   0,    31,   0,    1,    128,  12,   0,    0,    0,
                                  0,    0,    0,    0,    0,    10,   0,    0,    1,    0,    104,  0,
                                  0x3e, 0x91, 0,    0,    0xfd, 0xe8, 0,    0,    0,    1,    10,   43};
    const uint8_t *nlri_sent = vpn + 58;
    rfl_engine_config cfg;
    MUST(rfl_engine_config_init(LOCAL_AS, ROUTER_ID, &cfg, sizeof cfg));
    cfg.record_events = true;
    rfl_engine *e = NULL;
    MUST(rfl_engine_new(&cfg, &e));
    uint32_t pa, pb;
    two_clients(e, RFL_FAMILY_VPNV4, &pa, &pb);
    rfl_outcome oc = {.struct_size = sizeof(rfl_outcome)};
    MUST(rfl_engine_handle_message(e, pa, vpn, sizeof vpn, NULL, 0, &oc));
    CHECK(oc.kind == RFL_OUTCOME_KIND_ACCEPTED && oc.announced == 1, "the VPN route accepted (%u)", oc.announced);
    MUST(rfl_engine_flush(e));
    rfl_event ev = {.struct_size = sizeof(rfl_event)};
    int keyed_events = 0;
    while (rfl_engine_poll_event(e, &ev) == RFL_RESULT_OK)
        if (ev.kind == RFL_EVENT_KIND_KEYED_BEST_CHANGED && ev.families == RFL_FAMILY_VPNV4 && ev.has_best &&
            ev.best == pa)
            keyed_events++;
    CHECK(keyed_events == 1, "one KEYED_BEST_CHANGED event for A's VPN route: %d", keyed_events);
    rfl_keyed_iter *it = NULL;
    MUST(rfl_engine_keyed_routes(e, RFL_FAMILY_VPNV4, &it));
    size_t count = 0;
    MUST(rfl_keyed_iter_count(it, &count));
    CHECK(count == 1, "one VPN-IPv4 route: %zu", count);
    const uint8_t *nlri = NULL;
    size_t nlen = 0;
    rfl_path path;
    MUST(rfl_keyed_iter_next(it, &nlri, &nlen, &path));
    CHECK(nlen == 14 && memcmp(nlri, nlri_sent, 14) == 0, "the best path's NLRI as sent (%zu bytes)", nlen);
    CHECK(path.peer == pa && path.has_local_pref && path.local_pref == 100, "the path from A, LOCAL_PREF 100");
    CHECK(rfl_keyed_iter_next(it, &nlri, &nlen, &path) == RFL_RESULT_EMPTY, "then nothing");
    MUST(rfl_keyed_iter_free(it));
    MUST(rfl_engine_keyed_routes(e, RFL_FAMILY_EVPN, &it));
    MUST(rfl_keyed_iter_count(it, &count));
    CHECK(count == 0, "no EVPN route: %zu", count);
    MUST(rfl_keyed_iter_free(it));
    CHECK(rfl_engine_keyed_routes(e, RFL_FAMILY_IPV4_UNICAST, &it) == RFL_RESULT_INVALID_PARAMETER,
          "unicast is not a keyed family");
    CHECK(rfl_engine_keyed_routes(e, RFL_FAMILY_VPNV4 | RFL_FAMILY_EVPN, &it) == RFL_RESULT_INVALID_PARAMETER,
          "one family at a time");
    MUST(rfl_keyed_iter_free(NULL));
    MUST(rfl_engine_free(e));
}

static void check_graceful_restart_and_views(void)
{
    /* ORIGIN IGP, empty AS_PATH, NEXT_HOP 10.0.0.1, LOCAL_PREF 100; 10.1.0.0/16 and 10.2.0.0/16. */
    static const uint8_t upd[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0,    50,   2,    0,    0,    0,    21,   0x40,
                                  1,    1,    0,    0x40, 2,    0,    0x40, 3,    4,    10,   0,    0,
                                  1,    0x40, 5,    4,    0,    0,    0,    100,  16,   10,   1,    16,
                                  10,   2};
    static const uint8_t eor[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0,    23,   2,    0,    0,    0,    0};
    rfl_engine_config cfg;
    MUST(rfl_engine_config_init(LOCAL_AS, ROUTER_ID, &cfg, sizeof cfg));
    CHECK(cfg.struct_size == sizeof cfg, "config struct_size %u", cfg.struct_size);
    CHECK(rfl_engine_config_init(LOCAL_AS, ROUTER_ID, &cfg, 4) == RFL_RESULT_INVALID_PARAMETER, "tiny config");
    cfg.record_events = true;
    cfg.max_events = 2;
    rfl_engine *e = NULL;
    MUST(rfl_engine_new(&cfg, &e));
    uint32_t pa, pb;
    rfl_addr aa = {4, {10, 0, 0, 1}}, ab = {4, {10, 0, 0, 2}};
    rfl_peer_config pc;
    MUST(rfl_peer_config_init(RFL_ROLE_CLIENT, LOCAL_AS, &aa, &pc, sizeof pc));
    MUST(rfl_engine_add_peer(e, &pc, &pa));
    MUST(rfl_peer_config_init(RFL_ROLE_CLIENT, LOCAL_AS, &ab, &pc, sizeof pc));
    MUST(rfl_engine_add_peer(e, &pc, &pb));
    rfl_negotiated n;
    MUST(rfl_negotiated_unicast(0x0A000001u, &n, sizeof n));
    n.graceful_restart = true;
    n.graceful_restart_time = 120;
    n.graceful_restart_preserved = RFL_FAMILY_IPV4_UNICAST;
    MUST(rfl_engine_peer_up(e, pa, &n));
    MUST(rfl_negotiated_unicast(0x0A000002u, &n, sizeof n));
    MUST(rfl_engine_peer_up(e, pb, &n));
    rfl_outcome oc = {.struct_size = sizeof(rfl_outcome)};
    MUST(rfl_engine_handle_message(e, pa, upd, sizeof upd, NULL, 0, &oc));
    CHECK(oc.kind == RFL_OUTCOME_KIND_ACCEPTED && oc.announced == 2, "GR update: kind %u, %u announced",
          (unsigned)oc.kind, oc.announced);
    size_t len;
    while (rfl_engine_poll_transmit(e, pb, txbuf, RFL_MAX_MESSAGE_LEN, &len) == RFL_RESULT_OK)
        ;

    rfl_loc_rib_iter *it;
    size_t count = 0;
    MUST(rfl_engine_adj_rib_in(e, pa, &it));
    MUST(rfl_loc_rib_iter_count(it, &count));
    CHECK(count == 2, "Adj-RIB-In of A: %zu", count);
    MUST(rfl_loc_rib_iter_free(it));
    MUST(rfl_engine_adj_rib_out(e, pb, &it));
    MUST(rfl_loc_rib_iter_count(it, &count));
    CHECK(count == 2, "Adj-RIB-Out of B: %zu", count);
    rfl_prefix p;
    rfl_path path;
    MUST(rfl_loc_rib_iter_next(it, &p, &path));
    CHECK(path.peer == pa && path.local_pref == 100, "Adj-RIB-Out entry from peer %u", path.peer);
    MUST(rfl_loc_rib_iter_free(it));
    MUST(rfl_engine_adj_rib_out(e, pa, &it));
    MUST(rfl_loc_rib_iter_count(it, &count));
    CHECK(count == 0, "A's own routes in its Adj-RIB-Out: %zu", count);
    MUST(rfl_loc_rib_iter_free(it));

    /* A drops without a NOTIFICATION: its routes stay, stale; B hears nothing. */
    MUST(rfl_engine_peer_down_graceful(e, pa, RFL_FAMILY_IPV4_UNICAST | RFL_FAMILY_IPV6_UNICAST));
    uint32_t stale = 0;
    MUST(rfl_engine_stale_families(e, pa, &stale));
    CHECK(stale == (RFL_FAMILY_IPV4_UNICAST | RFL_FAMILY_IPV6_UNICAST), "stale families %#x", stale);
    rfl_prefix q = {{4, {10, 1, 0, 0}}, 16};
    CHECK(rfl_engine_best(e, &q, &path) == RFL_RESULT_OK, "stale route kept");
    CHECK(rfl_engine_poll_transmit(e, pb, txbuf, RFL_MAX_MESSAGE_LEN, &len) == RFL_RESULT_EMPTY,
          "nothing sent to B during the restart");
    /* Back with IPv4 preserved: the stale routes stay until End-of-RIB, then go. */
    MUST(rfl_negotiated_unicast(0x0A000001u, &n, sizeof n));
    n.graceful_restart = true;
    n.graceful_restart_preserved = RFL_FAMILY_IPV4_UNICAST;
    MUST(rfl_engine_peer_up(e, pa, &n));
    CHECK(rfl_engine_best(e, &q, &path) == RFL_RESULT_OK, "stale route kept until End-of-RIB");
    MUST(rfl_engine_handle_message(e, pa, eor, sizeof eor, NULL, 0, &oc));
    CHECK(rfl_engine_best(e, &q, &path) == RFL_RESULT_NOT_FOUND, "stale route swept at End-of-RIB");
    rfl_peer_counters c = {.struct_size = sizeof(rfl_peer_counters)};
    MUST(rfl_engine_counters(e, pa, &c));
    CHECK(c.graceful_restarts == 1 && c.stale_marked == 2 && c.stale_removed == 2,
          "GR counters %llu %llu %llu", (unsigned long long)c.graceful_restarts,
          (unsigned long long)c.stale_marked, (unsigned long long)c.stale_removed);
    CHECK(c.struct_size == sizeof c, "counters struct_size %u", c.struct_size);
    /* A restart timer with nothing stale is harmless; an unknown peer is not. */
    MUST(rfl_engine_restart_timer_expired(e, pa));
    CHECK(rfl_engine_restart_timer_expired(e, 99) == RFL_RESULT_UNKNOWN_PEER, "restart timer, unknown peer");

    uint64_t dropped = 0;
    MUST(rfl_engine_events_dropped(e, &dropped));
    CHECK(dropped > 0, "events dropped with a queue of 2: %llu", (unsigned long long)dropped);
    rfl_event ev = {.struct_size = 4};
    CHECK(rfl_engine_poll_event(e, &ev) == RFL_RESULT_INVALID_PARAMETER, "event struct_size 4");
    ev.struct_size = sizeof ev;
    int restarting = 0;
    while (rfl_engine_poll_event(e, &ev) == RFL_RESULT_OK)
        if (ev.kind == RFL_EVENT_KIND_STALE_REMOVED && ev.peer == pa && ev.paths == 2)
            restarting = 1;
    CHECK(restarting, "STALE_REMOVED event with 2 paths");
    uint32_t ids[4];
    size_t nids = 0;
    CHECK(rfl_engine_peers(e, ids, 1, &nids) == RFL_RESULT_BUFFER_TOO_SMALL && nids == 2, "peers, short array");
    MUST(rfl_engine_peers(e, ids, 4, &nids));
    CHECK(nids == 2 && ids[0] == pa && ids[1] == pb, "peers %zu", nids);
    rfl_peer_config got = {.struct_size = sizeof(rfl_peer_config)};
    MUST(rfl_engine_peer_config(e, pb, &got));
    CHECK(got.role == RFL_ROLE_CLIENT && got.asn == LOCAL_AS && got.address.octets[3] == 2, "peer config of B");
    bool paused = true;
    size_t pending = 1;
    MUST(rfl_engine_transmit_state(e, pb, &paused, NULL, &pending));
    CHECK(!paused, "B not paused");
    MUST(rfl_engine_free(e));
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MRT_FILE [MAX_UPDATES]\n", argv[0]);
        return 2;
    }
    uint64_t max_updates = argc > 2 ? strtoull(argv[2], NULL, 10) : UINT64_MAX;

    const char *v = NULL;
    uint32_t vn = 0;
    MUST(rfl_version(&v));
    MUST(rfl_version_number(&vn));
    CHECK(strcmp(v, RFL_VERSION_STRING) == 0, "library %s, header %s", v, RFL_VERSION_STRING);
    CHECK(vn == RFL_VERSION_NUMBER, "library %u, header %u", vn, RFL_VERSION_NUMBER);

    check_error_contract();

    table_cap = 1u << 18;
    table = calloc(table_cap, sizeof *table);
    txbuf = malloc(RFL_MAX_MESSAGE_LEN);
    check_graceful_restart_and_views();
    check_ebgp_session_options();
    check_deferral_and_prefer_local();
    check_keyed_routes();

    rfl_engine_config cfg;
    MUST(rfl_engine_config_init(LOCAL_AS, ROUTER_ID, &cfg, sizeof cfg));
    cfg.cluster_id = CLUSTER_ID;
    cfg.record_events = true;
    cfg.max_events = 1u << 22;
    rfl_engine *eng = NULL;
    MUST(rfl_engine_new(&cfg, &eng));

    for (unsigned l = 0; l < NLISTENERS; l++) {
        rfl_addr a = {4, {10, 254, 0, (uint8_t)(l + 1)}};
        rfl_peer_config pc;
        MUST(rfl_peer_config_init(l == 0 ? RFL_ROLE_CLIENT : RFL_ROLE_NON_CLIENT, LOCAL_AS, &a, &pc, sizeof pc));
        MUST(rfl_engine_add_peer(eng, &pc, &listener_id[l]));
        rfl_negotiated n;
        MUST(rfl_negotiated_unicast(listener_rid[l], &n, sizeof n));
        MUST(rfl_engine_peer_up(eng, listener_id[l], &n));
    }

    uint64_t records = run_mrt(eng, argv[1], max_updates);
    drain_events(eng);
    printf("fed %" PRIu64 " MRT records: %" PRIu64 " UPDATEs from %u peers (accepted %" PRIu64
           ", attribute-discard %" PRIu64 ", treat-as-withdraw %" PRIu64 ", reset %" PRIu64
           ", loop-rejected %" PRIu64 ")\n",
           records, n_updates, npeers, n_accepted, n_discard, n_taw, n_reset, n_rejected_updates);
    CHECK(n_updates > 0 && npeers > 1, "%" PRIu64 " UPDATEs from %u peers", n_updates, npeers);

    check_against_model(eng, "after the dump");

    /* Counters: every UPDATE counted for its peer. */
    uint64_t bad_counters = 0, total_sent = 0;
    for (unsigned i = 0; i < npeers; i++) {
        rfl_peer_counters c = {.struct_size = sizeof(rfl_peer_counters)};
        MUST(rfl_engine_counters(eng, peers[i].id, &c));
        if (c.updates_received != peers[i].updates_fed - c.session_resets)
            bad_counters++;
    }
    CHECK(bad_counters == 0, "%" PRIu64 " peers with wrong UPDATE counters", bad_counters);
    for (unsigned l = 0; l < NLISTENERS; l++) {
        rfl_peer_counters c = {.struct_size = sizeof(rfl_peer_counters)};
        MUST(rfl_engine_counters(eng, listener_id[l], &c));
        CHECK(c.updates_sent == listener_msgs[l], "listener %u: %" PRIu64 " sent, %" PRIu64 " received",
              l, c.updates_sent, listener_msgs[l]);
        CHECK(c.prefixes_sent == listener_announced[l], "listener %u: %" PRIu64 " prefixes sent, %" PRIu64 " seen",
              l, c.prefixes_sent, listener_announced[l]);
        total_sent += c.prefixes_sent;
    }
    CHECK(total_sent > 0, "nothing reflected");

    drain_events(eng);
    CHECK(ev_best_changed > 0, "no BEST_CHANGED events");
    CHECK(ev_peer_up == peer_up_calls + NLISTENERS, "%" PRIu64 " PEER_UP events for %" PRIu64 " calls", ev_peer_up,
          peer_up_calls + NLISTENERS);
    CHECK(ev_peer_down == n_reset + n_peer_down_calls, "%" PRIu64 " PEER_DOWN events", ev_peer_down);

    /* The resolver: odd next hops become unreachable. */
    struct resolver_state rs = {0};
    MUST(rfl_engine_set_resolver(eng, resolver, &rs));
    check_against_model(eng, "with the resolver");
    CHECK(rs.calls > 0, "resolver never called");
    size_t odd_best = 0;
    rfl_loc_rib_iter *it = NULL;
    MUST(rfl_engine_loc_rib(eng, &it));
    rfl_prefix p;
    rfl_path path;
    while (rfl_loc_rib_iter_next(it, &p, &path) == RFL_RESULT_OK) {
        uint8_t last = path.next_hop.family == 4 ? path.next_hop.octets[3] : path.next_hop.octets[15];
        if (path.next_hop.family == 0 || (last & 1) || !path.reachable)
            odd_best++;
    }
    MUST(rfl_loc_rib_iter_free(it));
    CHECK(odd_best == 0, "%zu best paths with an unreachable next hop", odd_best);
    MUST(rfl_engine_set_resolver(eng, NULL, NULL));
    check_against_model(eng, "resolver removed");

    /* Removing the busiest peer withdraws its routes. */
    unsigned busiest = 0;
    for (unsigned i = 1; i < npeers; i++)
        if (peers[i].updates_fed > peers[busiest].updates_fed)
            busiest = i;
    MUST(rfl_engine_remove_peer(eng, peers[busiest].id));
    peers[busiest].up = 0;
    model_drop_peer(busiest);
    check_against_model(eng, "busiest peer removed");
    rfl_peer_counters c = {.struct_size = sizeof(rfl_peer_counters)};
    CHECK(rfl_engine_counters(eng, peers[busiest].id, &c) == RFL_RESULT_UNKNOWN_PEER, "removed peer has counters");

    rfl_memory_stats ms = {.struct_size = sizeof(rfl_memory_stats)};
    MUST(rfl_engine_memory(eng, &ms));
    CHECK(ms.prefixes > 0 && ms.attr_sets > 0 && ms.table_bytes > 0, "memory %zu prefixes", ms.prefixes);

    MUST(rfl_engine_free(eng));
    free(table);
    free(txbuf);
    printf("engine_test: %lu passed, %lu failed\n", checks_passed, checks_failed);
    return checks_failed ? 1 : 0;
}
