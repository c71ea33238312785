/*
 * policy_test: routing policy through the C API, checked on the UPDATE bytes
 * the engine sends.
 *
 *   1. An export policy built with rfl_policy / rfl_statement (a prefix range
 *      rejected, LOCAL_PREF set and a community added on another range) on
 *      a client; then the same policy as an import policy on a live peer:
 *      RFL_REIMPORT_REFRESH, the ROUTE-REFRESH from rfl_engine_request_refresh,
 *      and the policy counters.
 *   2. An import hook that rejects one prefix, modifies another through the
 *      rfl_attr_edit functions and replaces a third one's attribute block; an
 *      export hook that sees the direction; a hook calling back into its
 *      engine is refused.
 *   3. RFC 8212: an eBGP peer gets nothing without an export policy, routes
 *      once it has one, and everything after the opt-out.
 *   4. The builders' error contract.
 *
 * Usage: policy_test     Exit status 0 when every check passed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#define LOCAL_AS 65000u
#define COMMUNITY(a, v) (((uint32_t)(a) << 16) | (uint32_t)(v))

static const char *last_error(void)
{
    static char m[512];
    size_t n = 0;
    if (rfl_last_error(m, sizeof m, &n) != RFL_RESULT_OK)
        m[0] = 0;
    return m;
}

/* ------------------------------------------------------------ messages */

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

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static int has_community(const uint8_t *attrs, size_t n, uint32_t c)
{
    size_t vl = 0;
    const uint8_t *v = find_attr(attrs, n, 8, &vl);
    for (size_t i = 0; v && i + 4 <= vl; i += 4)
        if (be32(v + i) == c)
            return 1;
    return 0;
}

/* What a peer learned, per IPv4 prefix: the attributes of its last announcement. */
struct learned {
    unsigned n;
    struct {
        uint8_t len, octets[4];
        int withdrawn;
        size_t attrs_len;
        uint8_t attrs[1024];
    } p[16];
    unsigned route_refreshes, updates;
};

static int find_learned(const struct learned *l, const char *text)
{
    unsigned a, b, c, d, len;
    if (sscanf(text, "%u.%u.%u.%u/%u", &a, &b, &c, &d, &len) != 5)
        return -1;
    for (unsigned i = 0; i < l->n; i++)
        if (l->p[i].len == len && l->p[i].octets[0] == a && l->p[i].octets[1] == b &&
            l->p[i].octets[2] == c && l->p[i].octets[3] == d)
            return (int)i;
    return -1;
}

static void note_nlri(struct learned *l, const uint8_t *p, size_t n, const uint8_t *attrs, size_t alen,
                      int withdrawn)
{
    while (n > 0) {
        uint8_t len = p[0];
        size_t bytes = (len + 7u) / 8u;
        if (len > 32 || 1 + bytes > n)
            return;
        unsigned i;
        for (i = 0; i < l->n; i++)
            if (l->p[i].len == len && memcmp(l->p[i].octets, p + 1, bytes) == 0)
                break;
        if (i == l->n && l->n < 16) {
            memset(&l->p[i], 0, sizeof l->p[i]);
            l->p[i].len = len;
            memcpy(l->p[i].octets, p + 1, bytes);
            l->n++;
        }
        if (i < 16) {
            l->p[i].withdrawn = withdrawn;
            if (!withdrawn && alen <= sizeof l->p[i].attrs) {
                memcpy(l->p[i].attrs, attrs, alen);
                l->p[i].attrs_len = alen;
            }
        }
        p += 1 + bytes;
        n -= 1 + bytes;
    }
}

/* Take every message queued for `peer` and note what it says. */
static void drain(rfl_engine *e, uint32_t peer, struct learned *l)
{
    static uint8_t buf[RFL_MAX_MESSAGE_LEN];
    size_t n = 0;
    rfl_result r;
    while ((r = rfl_engine_poll_transmit(e, peer, buf, sizeof buf, &n)) == RFL_RESULT_OK) {
        if (n >= 19 && buf[18] == 5) {
            l->route_refreshes++;
            CHECK(n == 23 && buf[19] == 0 && buf[20] == 1 && buf[22] == 1, "ROUTE-REFRESH for IPv4 unicast");
            continue;
        }
        if (n < 23 || buf[18] != 2)
            continue;
        l->updates++;
        size_t wl = ((size_t)buf[19] << 8) | buf[20];
        size_t al = ((size_t)buf[21 + wl] << 8) | buf[22 + wl];
        const uint8_t *attrs = buf + 23 + wl;
        note_nlri(l, buf + 21, wl, NULL, 0, 1);
        note_nlri(l, attrs + al, n - 23 - wl - al, attrs, al, 0);
    }
    CHECK(r == RFL_RESULT_EMPTY, "poll_transmit ended with %u: %s", (unsigned)r, last_error());
}

/* An UPDATE from an iBGP peer: ORIGIN IGP, empty AS_PATH, NEXT_HOP 192.0.2.1,
 * LOCAL_PREF 100, and the /16 or /24 or /12 prefixes in `nlri` (pre-encoded). */
static size_t build_update(uint8_t *m, const uint8_t *nlri, size_t nlri_len)
{
    static const uint8_t attrs[] = {0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 192, 0, 2, 1, 0x40, 5, 4, 0, 0, 0, 100};
    size_t len = 23 + sizeof attrs + nlri_len;
    memset(m, 0xff, 16);
    m[16] = (uint8_t)(len >> 8);
    m[17] = (uint8_t)len;
    m[18] = 2;
    m[19] = m[20] = 0;
    m[21] = 0;
    m[22] = sizeof attrs;
    memcpy(m + 23, attrs, sizeof attrs);
    memcpy(m + 23 + sizeof attrs, nlri, nlri_len);
    return len;
}

/* 10.1.0.0/16, 192.168.1.0/24, 172.16.0.0/12, 10.9.0.0/16 */
static const uint8_t NLRI[] = {16, 10, 1, 24, 192, 168, 1, 12, 172, 16, 16, 10, 9};

static void send_routes(rfl_engine *e, uint32_t peer)
{
    uint8_t m[128];
    size_t n = build_update(m, NLRI, sizeof NLRI);
    rfl_outcome oc = {.struct_size = sizeof(rfl_outcome)};
    MUST(rfl_engine_handle_message(e, peer, m, n, NULL, 0, &oc));
    CHECK(oc.kind == RFL_OUTCOME_KIND_ACCEPTED, "outcome %u", (unsigned)oc.kind);
}

static rfl_engine *new_engine(void)
{
    rfl_engine_config cfg;
    MUST(rfl_engine_config_init(LOCAL_AS, 0x0A000001u, &cfg, sizeof cfg));
    rfl_engine *e = NULL;
    MUST(rfl_engine_new(&cfg, &e));
    return e;
}

static uint32_t add_peer(rfl_engine *e, uint32_t role, uint32_t asn, uint8_t last, int up)
{
    rfl_addr a = {4, {192, 0, 2, last}};
    rfl_peer_config pc;
    MUST(rfl_peer_config_init(role, asn, &a, &pc, sizeof pc));
    pc.local_v4 = (rfl_addr){4, {192, 0, 2, 254}};
    uint32_t id;
    MUST(rfl_engine_add_peer(e, &pc, &id));
    if (up) {
        rfl_negotiated n;
        MUST(rfl_negotiated_unicast(0x0A000100u + last, &n, sizeof n));
        MUST(rfl_engine_peer_up(e, id, &n));
    }
    return id;
}

/* ------------------------------------------------------------ 1. policy */

static rfl_policy *build_policy(void)
{
    rfl_policy *p = NULL;
    MUST(rfl_policy_new("client-out", RFL_VERDICT_ACCEPT, &p));

    rfl_statement *drop = NULL;
    MUST(rfl_statement_new("drop-10-more-specifics", RFL_VERDICT_REJECT, &drop));
    MUST(rfl_statement_match(drop, RFL_MATCH_PREFIX, "10.0.0.0/8{16,24}"));
    /* ...except 10.9.0.0/16: values of one negated kind are "none of these". */
    MUST(rfl_statement_match_not(drop, RFL_MATCH_PREFIX, "10.9.0.0/16"));
    MUST(rfl_policy_add_statement(p, drop));

    rfl_statement *pref = NULL;
    MUST(rfl_statement_new("prefer-192.168", RFL_VERDICT_ACCEPT, &pref));
    MUST(rfl_statement_match(pref, RFL_MATCH_PREFIX, "192.168.0.0/16+"));
    MUST(rfl_statement_match(pref, RFL_MATCH_NEIGHBOR, "192.0.2.1"));
    MUST(rfl_statement_set(pref, RFL_SET_LOCAL_PREF, "200"));
    MUST(rfl_statement_set(pref, RFL_SET_COMMUNITY_ADD, "65000:100"));
    MUST(rfl_statement_set(pref, RFL_SET_COMMUNITY_ADD, "no-export"));
    MUST(rfl_policy_add_statement(p, pref));

    size_t count = 0;
    MUST(rfl_policy_statement_count(p, &count));
    CHECK(count == 2, "%zu statements", count);
    return p;
}

static void test_policy(void)
{
    rfl_engine *e = new_engine();
    uint32_t src = add_peer(e, RFL_ROLE_CLIENT, LOCAL_AS, 1, 1);
    uint32_t dst = add_peer(e, RFL_ROLE_CLIENT, LOCAL_AS, 2, 0);
    rfl_policy *p = build_policy();
    MUST(rfl_engine_set_export_policy(e, dst, p));
    rfl_negotiated n;
    MUST(rfl_negotiated_unicast(0x0A000102u, &n, sizeof n));
    MUST(rfl_engine_peer_up(e, dst, &n));
    send_routes(e, src);

    struct learned l = {0};
    drain(e, dst, &l);
    CHECK(find_learned(&l, "10.1.0.0/16") < 0, "10.1.0.0/16 sent despite the reject");
    int i = find_learned(&l, "192.168.1.0/24");
    CHECK(i >= 0, "192.168.1.0/24 not sent");
    if (i >= 0) {
        size_t vl = 0;
        const uint8_t *lp = find_attr(l.p[i].attrs, l.p[i].attrs_len, 5, &vl);
        CHECK(lp && vl == 4 && be32(lp) == 200, "LOCAL_PREF %u", lp ? be32(lp) : 0);
        CHECK(has_community(l.p[i].attrs, l.p[i].attrs_len, COMMUNITY(65000, 100)), "community 65000:100");
        CHECK(has_community(l.p[i].attrs, l.p[i].attrs_len, 0xFFFFFF01u), "NO_EXPORT");
        const uint8_t *oid = find_attr(l.p[i].attrs, l.p[i].attrs_len, 9, &vl);
        CHECK(oid && vl == 4 && be32(oid) == 0x0A000101u, "ORIGINATOR_ID still added after the policy");
    }
    i = find_learned(&l, "172.16.0.0/12");
    CHECK(i >= 0, "172.16.0.0/12 not sent");
    if (i >= 0) {
        size_t vl = 0;
        const uint8_t *lp = find_attr(l.p[i].attrs, l.p[i].attrs_len, 5, &vl);
        CHECK(lp && vl == 4 && be32(lp) == 100, "LOCAL_PREF %u", lp ? be32(lp) : 0);
        CHECK(find_attr(l.p[i].attrs, l.p[i].attrs_len, 8, &vl) == NULL, "COMMUNITIES on an unmatched route");
    }
    CHECK(find_learned(&l, "10.9.0.0/16") >= 0, "10.9.0.0/16 (excepted by the negation) not sent");

    rfl_peer_counters c = {.struct_size = sizeof(rfl_peer_counters)};
    MUST(rfl_engine_counters(e, dst, &c));
    CHECK(c.policy_rejected_out == 1, "policy_rejected_out %" PRIu64, c.policy_rejected_out);

    /* The same policy on import, on a live peer: the engine asks for the routes again. */
    rfl_reimport ri = 99;
    MUST(rfl_engine_set_import_policy(e, src, p, &ri));
    CHECK(ri == RFL_REIMPORT_REFRESH, "reimport %u", (unsigned)ri);
    MUST(rfl_policy_free(p)); /* the engine has its copy */
    MUST(rfl_engine_request_refresh(e, src, RFL_FAMILY_IPV4_UNICAST));
    struct learned ls = {0};
    drain(e, src, &ls);
    CHECK(ls.route_refreshes == 1, "%u ROUTE-REFRESH messages to the source", ls.route_refreshes);
    send_routes(e, src); /* its answer */
    MUST(rfl_engine_counters(e, src, &c));
    CHECK(c.policy_rejected_in == 1, "policy_rejected_in %" PRIu64, c.policy_rejected_in);
    CHECK(c.policy_modified_in == 1, "policy_modified_in %" PRIu64, c.policy_modified_in);
    rfl_path best;
    rfl_prefix pfx = {{4, {10, 1, 0, 0}}, 16};
    CHECK(rfl_engine_best(e, &pfx, &best) == RFL_RESULT_NOT_FOUND, "10.1.0.0/16 rejected on import");
    pfx = (rfl_prefix){{4, {192, 168, 1, 0}}, 24};
    MUST(rfl_engine_best(e, &pfx, &best));
    CHECK(best.has_local_pref && best.local_pref == 200, "imported LOCAL_PREF %u", best.local_pref);

    /* Clearing the export policy sends the client the difference: 10.1/16 is
     * gone on import now, and 192.168.1.0/24 keeps the import's changes. */
    MUST(rfl_engine_set_export_policy(e, dst, NULL));
    MUST(rfl_engine_set_import_policy(e, src, NULL, NULL));
    CHECK(rfl_engine_request_refresh(e, src, 1u << 30) == RFL_RESULT_INVALID_PARAMETER, "bad family bit");
    MUST(rfl_engine_peer_down(e, src));
    CHECK(rfl_engine_request_refresh(e, src, RFL_FAMILY_IPV4_UNICAST) == RFL_RESULT_PEER_NOT_UP, "peer down");
    MUST(rfl_engine_free(e));
}

/* ------------------------------------------------------------ 2. hooks */

struct hook_state {
    rfl_engine *engine;
    unsigned calls, import_calls, export_calls, bad_routes;
    rfl_result reentry;
};

static rfl_hook_verdict import_hook(void *user_data, rfl_direction dir, uint32_t peer, const rfl_route *route,
                                    rfl_attr_edit *edit)
{
    struct hook_state *s = user_data;
    (void)peer;
    s->calls++;
    if (dir == RFL_DIRECTION_IMPORT)
        s->import_calls++;
    size_t vl = 0;
    const uint8_t *lp = find_attr(route->attrs, route->attrs_len, 5, &vl);
    if (route->prefix.addr.family != 4 || route->neighbor.family != 4 || route->neighbor.octets[3] != 1 || !lp ||
        be32(lp) != 100 || route->mp_next_hop != NULL)
        s->bad_routes++;
    /* Calling back into the engine is refused, not a crash. */
    s->reentry = rfl_engine_flush(s->engine);

    const uint8_t *o = route->prefix.addr.octets;
    if (route->prefix.len == 12 && o[0] == 172) /* 172.16.0.0/12 */
        return RFL_HOOK_VERDICT_REJECT;
    if (route->prefix.len == 24 && o[0] == 192) { /* 192.168.1.0/24 */
        rfl_attr_edit_set_med(edit, 77);
        rfl_attr_edit_add_community(edit, COMMUNITY(65000, 200));
        rfl_attr_edit_set(edit, RFL_SET_LARGE_COMMUNITY_ADD, "65000:1:2");
        return RFL_HOOK_VERDICT_MODIFY;
    }
    if (route->prefix.len == 16 && o[0] == 10 && o[1] == 9) { /* 10.9.0.0/16: a whole new block */
        const uint8_t *nh = find_attr(route->attrs, route->attrs_len, 3, &vl);
        uint8_t block[64];
        size_t n = 0;
        static const uint8_t lp300[] = {0x40, 5, 4, 0, 0, 1, 44}; /* LOCAL_PREF 300, before NEXT_HOP */
        static const uint8_t origin_path[] = {0x40, 1, 1, 2, 0x40, 2, 0};
        memcpy(block + n, lp300, sizeof lp300);
        n += sizeof lp300;
        memcpy(block + n, origin_path, sizeof origin_path);
        n += sizeof origin_path;
        if (nh && vl == 4) {
            block[n++] = 0x40;
            block[n++] = 3;
            block[n++] = 4;
            memcpy(block + n, nh, 4);
            n += 4;
        }
        if (rfl_attr_edit_set_block(edit, block, 3) != RFL_RESULT_MALFORMED) /* truncated */
            s->bad_routes++;
        if (rfl_attr_edit_set_block(edit, block, n) != RFL_RESULT_OK)
            s->bad_routes++;
        return RFL_HOOK_VERDICT_MODIFY;
    }
    return RFL_HOOK_VERDICT_ACCEPT;
}

static rfl_hook_verdict export_hook(void *user_data, rfl_direction dir, uint32_t peer, const rfl_route *route,
                                    rfl_attr_edit *edit)
{
    struct hook_state *s = user_data;
    (void)peer;
    (void)edit;
    if (dir == RFL_DIRECTION_EXPORT)
        s->export_calls++;
    /* Export hook sees what the import hook left: 10.9/16 with LOCAL_PREF 300. */
    if (route->prefix.len == 16 && route->prefix.addr.octets[1] == 9) {
        size_t vl = 0;
        const uint8_t *lp = find_attr(route->attrs, route->attrs_len, 5, &vl);
        if (!lp || be32(lp) != 300)
            s->bad_routes++;
    }
    return 7; /* not a verdict: rejects */
}

static void test_hooks(void)
{
    rfl_engine *e = new_engine();
    uint32_t src = add_peer(e, RFL_ROLE_CLIENT, LOCAL_AS, 1, 0);
    uint32_t dst = add_peer(e, RFL_ROLE_CLIENT, LOCAL_AS, 2, 1);
    uint32_t dst2 = add_peer(e, RFL_ROLE_CLIENT, LOCAL_AS, 3, 1);
    struct hook_state s = {.engine = e, .reentry = RFL_RESULT_OK};
    rfl_reimport ri = 99;
    MUST(rfl_engine_set_import_hook(e, src, import_hook, &s, &ri));
    CHECK(ri == RFL_REIMPORT_NOTHING, "reimport %u for a down peer", (unsigned)ri);
    MUST(rfl_engine_set_export_hook(e, dst2, export_hook, &s));
    rfl_negotiated n;
    MUST(rfl_negotiated_unicast(0x0A000101u, &n, sizeof n));
    MUST(rfl_engine_peer_up(e, src, &n));
    send_routes(e, src);
    CHECK(s.import_calls == 4, "%u import hook calls", s.import_calls);
    CHECK(s.bad_routes == 0, "%u routes the hooks found wrong", s.bad_routes);
    CHECK(s.reentry == RFL_RESULT_INVALID_STATE, "call back into the engine gave %u", (unsigned)s.reentry);

    struct learned l = {0};
    drain(e, dst, &l);
    CHECK(find_learned(&l, "172.16.0.0/12") < 0, "rejected prefix sent");
    CHECK(find_learned(&l, "10.1.0.0/16") >= 0, "accepted prefix not sent");
    int i = find_learned(&l, "192.168.1.0/24");
    CHECK(i >= 0, "modified prefix not sent");
    if (i >= 0) {
        size_t vl = 0;
        const uint8_t *med = find_attr(l.p[i].attrs, l.p[i].attrs_len, 4, &vl);
        CHECK(med && vl == 4 && be32(med) == 77, "MED %u", med ? be32(med) : 0);
        CHECK(has_community(l.p[i].attrs, l.p[i].attrs_len, COMMUNITY(65000, 200)), "community 65000:200");
        const uint8_t *lc = find_attr(l.p[i].attrs, l.p[i].attrs_len, 32, &vl);
        CHECK(lc && vl == 12 && be32(lc) == 65000 && be32(lc + 4) == 1 && be32(lc + 8) == 2, "large community");
    }
    i = find_learned(&l, "10.9.0.0/16");
    CHECK(i >= 0, "replaced-block prefix not sent");
    if (i >= 0) {
        size_t vl = 0;
        const uint8_t *lp = find_attr(l.p[i].attrs, l.p[i].attrs_len, 5, &vl);
        const uint8_t *origin = find_attr(l.p[i].attrs, l.p[i].attrs_len, 1, &vl);
        CHECK(lp && be32(lp) == 300, "LOCAL_PREF %u", lp ? be32(lp) : 0);
        CHECK(origin && origin[0] == 2, "ORIGIN INCOMPLETE from the new block");
    }
    struct learned l2 = {0};
    drain(e, dst2, &l2);
    CHECK(s.export_calls >= 3, "%u export hook calls", s.export_calls);
    unsigned announced = 0;
    for (unsigned k = 0; k < l2.n; k++)
        announced += !l2.p[k].withdrawn;
    CHECK(announced == 0, "%u prefixes past an export hook that rejects all", announced);

    rfl_peer_counters c = {.struct_size = sizeof(rfl_peer_counters)};
    MUST(rfl_engine_counters(e, src, &c));
    /* policy_modified_in is not checked here: core does not count routes a
     * hook modified (import.rs skips the count on the per-prefix path taken
     * with a hook); test_policy checks it for a policy. */
    CHECK(c.policy_rejected_in == 1, "in: rejected %" PRIu64, c.policy_rejected_in);
    MUST(rfl_engine_counters(e, dst2, &c));
    CHECK(c.policy_rejected_out >= 3, "out: rejected %" PRIu64, c.policy_rejected_out);

    /* Clearing the export hook sends dst2 the routes now. */
    MUST(rfl_engine_set_export_hook(e, dst2, NULL, NULL));
    drain(e, dst2, &l2);
    CHECK(find_learned(&l2, "10.9.0.0/16") >= 0, "routes after the export hook was cleared");
    MUST(rfl_engine_set_import_hook(e, src, NULL, NULL, &ri));
    CHECK(ri == RFL_REIMPORT_REFRESH, "reimport %u for a live peer", (unsigned)ri);
    CHECK(rfl_attr_edit_set_med(NULL, 1) == RFL_RESULT_NULL_PARAMETER, "NULL edit");
    MUST(rfl_engine_free(e));
}

/* ------------------------------------------------------------ 3. RFC 8212 */

static unsigned announced_to(rfl_engine *e, uint32_t peer, struct learned *l)
{
    drain(e, peer, l);
    unsigned n = 0;
    for (unsigned k = 0; k < l->n; k++)
        n += !l->p[k].withdrawn;
    return n;
}

static void test_rfc8212(void)
{
    rfl_engine *e = new_engine();
    bool req = false;
    MUST(rfl_engine_ebgp_requires_policy(e, &req));
    CHECK(req, "RFC 8212 default-deny is on by default");
    uint32_t src = add_peer(e, RFL_ROLE_CLIENT, LOCAL_AS, 1, 1);
    uint32_t ext = add_peer(e, RFL_ROLE_EBGP, 65010, 9, 1);
    send_routes(e, src);
    struct learned l = {0};
    CHECK(announced_to(e, ext, &l) == 0, "eBGP peer without export policy got routes");
    CHECK(l.updates >= 1, "eBGP peer still gets End-of-RIB (%u UPDATEs)", l.updates);
    CHECK(rfl_engine_set_ebgp_requires_policy(e, false) == RFL_RESULT_INVALID_STATE, "opt-out after peers: %s",
          last_error());
    MUST(rfl_engine_set_ebgp_requires_policy(e, true)); /* unchanged: fine */

    /* An accept-all export policy opens it. */
    rfl_policy *all = NULL;
    MUST(rfl_policy_new("all", RFL_VERDICT_ACCEPT, &all));
    MUST(rfl_engine_set_export_policy(e, ext, all));
    MUST(rfl_policy_free(all));
    unsigned got = announced_to(e, ext, &l);
    CHECK(got == 4, "eBGP peer with an export policy got %u prefixes", got);
    int i = find_learned(&l, "10.1.0.0/16");
    if (i >= 0) {
        size_t vl = 0;
        const uint8_t *path = find_attr(l.p[i].attrs, l.p[i].attrs_len, 2, &vl);
        CHECK(path && vl == 6 && path[0] == 2 && path[1] == 1 && be32(path + 2) == LOCAL_AS, "AS_PATH %zu bytes", vl);
    }
    MUST(rfl_engine_free(e));

    /* The opt-out, before any peer. */
    e = new_engine();
    MUST(rfl_engine_set_ebgp_requires_policy(e, false));
    MUST(rfl_engine_ebgp_requires_policy(e, &req));
    CHECK(!req, "opt-out recorded");
    src = add_peer(e, RFL_ROLE_CLIENT, LOCAL_AS, 1, 1);
    ext = add_peer(e, RFL_ROLE_EBGP, 65010, 9, 1);
    send_routes(e, src);
    struct learned l2 = {0};
    got = announced_to(e, ext, &l2);
    CHECK(got == 4, "eBGP peer after the opt-out got %u prefixes", got);
    MUST(rfl_engine_free(e));
}

/* ------------------------------------------------------------ 4. errors */

static void test_errors(void)
{
    rfl_statement *s = NULL;
    CHECK(rfl_statement_new("s", 9, &s) == RFL_RESULT_INVALID_PARAMETER && s == NULL, "bad verdict");
    MUST(rfl_statement_new("s", RFL_VERDICT_NEXT, &s));
    CHECK(rfl_statement_match(s, RFL_MATCH_PREFIX, "10.0.0.0/8{4,24}") == RFL_RESULT_INVALID_PARAMETER,
          "bad prefix range");
    CHECK(strstr(last_error(), "10.0.0.0/8{4,24}") != NULL && strstr(last_error(), "prefix") != NULL,
          "message \"%s\"", last_error());
    CHECK(rfl_statement_match(s, RFL_MATCH_COMMUNITY, "65000") == RFL_RESULT_INVALID_PARAMETER, "bad community");
    CHECK(strstr(last_error(), "ASN:VALUE") != NULL, "message \"%s\"", last_error());
    CHECK(rfl_statement_match(s, RFL_MATCH_EXT_COMMUNITY, "rt:65000:100") == RFL_RESULT_OK, "ext community");
    CHECK(rfl_statement_match(s, RFL_MATCH_AS_PATH, "* 65001 ?") == RFL_RESULT_OK, "AS path");
    CHECK(rfl_statement_match(s, RFL_MATCH_AS_PATH, "65002") == RFL_RESULT_INVALID_STATE, "second AS path");
    CHECK(rfl_statement_match(s, 42, "x") == RFL_RESULT_INVALID_PARAMETER, "bad kind");
    CHECK(rfl_statement_match(s, RFL_MATCH_PREFIX, NULL) == RFL_RESULT_NULL_PARAMETER, "NULL value");
    CHECK(rfl_statement_set(s, RFL_SET_LOCAL_PREF, "lots") == RFL_RESULT_INVALID_PARAMETER, "bad LOCAL_PREF");
    CHECK(rfl_statement_set(s, RFL_SET_PREPEND, "self 2") == RFL_RESULT_OK, "prepend");
    CHECK(rfl_statement_set(s, RFL_SET_REMOVE_MED, NULL) == RFL_RESULT_OK, "remove MED");
    CHECK(rfl_statement_match((rfl_statement *)&checks_passed, RFL_MATCH_PREFIX, "10.0.0.0/8") ==
              RFL_RESULT_INVALID_HANDLE,
          "not a statement");
    rfl_policy *p = NULL;
    MUST(rfl_policy_new("p", RFL_VERDICT_REJECT, &p));
    CHECK(rfl_policy_add_statement(p, NULL) == RFL_RESULT_NULL_PARAMETER, "NULL statement");
    MUST(rfl_policy_add_statement(p, s)); /* s is the policy's now */

    rfl_engine *e = new_engine();
    CHECK(rfl_engine_set_export_policy(e, 3, p) == RFL_RESULT_UNKNOWN_PEER, "unknown peer");
    uint32_t id = add_peer(e, RFL_ROLE_CLIENT, LOCAL_AS, 1, 0);
    CHECK(rfl_engine_set_export_policy(e, id, (rfl_policy *)e) == RFL_RESULT_INVALID_HANDLE, "engine as policy");
    MUST(rfl_engine_set_export_policy(e, id, p));
    MUST(rfl_policy_free(p));
    MUST(rfl_policy_free(NULL));
    MUST(rfl_statement_free(NULL));
    MUST(rfl_engine_free(e));
}

int main(void)
{
    test_policy();
    test_hooks();
    test_rfc8212();
    test_errors();
    printf("policy_test: %lu passed, %lu failed\n", checks_passed, checks_failed);
    return checks_failed ? 1 : 0;
}
