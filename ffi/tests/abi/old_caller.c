/*
 * A program built against the frozen ABI 1.0 header (tests/abi/1.0/reflector.h:
 * rfl_negotiated, rfl_peer_counters and rfl_event without the fields ABI 1.1
 * added) and run against the current libreflector.so.1. It proves the sized
 * structs let the library grow: the library reads the caller's smaller
 * rfl_negotiated (defaults for the rest), writes no byte past the caller's
 * rfl_peer_counters and rfl_event (canaries), and reflection works.
 *
 * ffi/ci.sh: cc -I ffi/tests/abi/1.0 old_caller.c $(pkg-config --libs reflector)
 */
#include <stdio.h>
#include <string.h>

#include "reflector.h"

static int failed;
#define CHECK(c, what)                                                         \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "old_caller: FAIL %s (line %d)\n", what, __LINE__); \
            failed++;                                                          \
        }                                                                      \
    } while (0)
#define OK(call) CHECK((call) == RFL_RESULT_OK, #call)

#define CANARY 0xA5

/* An UPDATE from an iBGP client: ORIGIN IGP, empty AS_PATH, NEXT_HOP 10.0.0.1,
 * LOCAL_PREF 100, NLRI 10.1.0.0/16. */
static const uint8_t update[] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x00, 47, 2,    0x00, 0x00, 0x00, 21,   0x40, 0x01, 0x01, 0x00, 0x40, 0x02, 0x00, 0x40,
    0x03, 0x04, 10, 0,    0,    1,    0x40, 0x05, 0x04, 0,    0,    0,    100,  16,   10,   1};

static uint32_t add_client(rfl_engine *e, uint8_t last)
{
    rfl_addr a;
    memset(&a, 0, sizeof a);
    a.family = 4;
    a.octets[0] = 10;
    a.octets[3] = last;
    rfl_peer_config pc;
    OK(rfl_peer_config_init(RFL_ROLE_CLIENT, 65000, &a, &pc, sizeof pc));
    uint32_t id = 0;
    OK(rfl_engine_add_peer(e, &pc, &id));
    /* The ABI 1.0 rfl_negotiated: no graceful restart fields. */
    rfl_negotiated n;
    OK(rfl_negotiated_unicast(0x0A000000u + last, &n, sizeof n));
    CHECK(n.struct_size == sizeof n, "negotiated.struct_size is the caller's size");
    OK(rfl_engine_peer_up(e, id, &n));
    return id;
}

int main(void)
{
    rfl_engine_config cfg;
    OK(rfl_engine_config_init(65000, 0x0A0000FEu, &cfg, sizeof cfg));
    cfg.record_events = true;
    cfg.max_events = 64;
    rfl_engine *e = NULL;
    OK(rfl_engine_new(&cfg, &e));
    uint32_t a = add_client(e, 1);
    uint32_t b = add_client(e, 2);

    uint8_t notif[RFL_MAX_NOTIFICATION_LEN];
    rfl_outcome oc = {.struct_size = sizeof(rfl_outcome)};
    OK(rfl_engine_handle_message(e, a, update, sizeof update, notif, sizeof notif, &oc));
    CHECK(oc.kind == RFL_OUTCOME_KIND_ACCEPTED && oc.announced == 1, "the UPDATE is accepted");

    /* b gets the route reflected: an UPDATE carrying 10.1.0.0/16 and ORIGINATOR_ID. */
    static uint8_t buf[RFL_MAX_MESSAGE_LEN];
    size_t n = 0;
    int reflected = 0;
    for (int i = 0; i < 100 && rfl_engine_poll_transmit(e, b, buf, sizeof buf, &n) == RFL_RESULT_OK; i++) {
        if (n > 23 && buf[18] == 2 && buf[n - 3] == 16 && buf[n - 2] == 10 && buf[n - 1] == 1)
            reflected = 1;
    }
    CHECK(reflected, "client b receives 10.1.0.0/16");

    /* Counters into the smaller ABI 1.0 struct, with a canary right after it. */
    struct {
        rfl_peer_counters c;
        unsigned char canary[128];
    } pc;
    memset(&pc, CANARY, sizeof pc);
    pc.c.struct_size = sizeof pc.c;
    OK(rfl_engine_counters(e, b, &pc.c));
    CHECK(pc.c.struct_size == sizeof pc.c, "counters.struct_size is what was written");
    CHECK(pc.c.prefixes_sent == 1, "one prefix sent to b");
    for (size_t i = 0; i < sizeof pc.canary; i++)
        CHECK(pc.canary[i] == CANARY, "nothing written past the ABI 1.0 counters");

    /* Events into the smaller rfl_event, canary after it. */
    struct {
        rfl_event ev;
        unsigned char canary[64];
    } ev;
    int events = 0, best_changed = 0;
    for (int i = 0; i < 64; i++) {
        memset(&ev, CANARY, sizeof ev);
        ev.ev.struct_size = sizeof ev.ev;
        rfl_result r = rfl_engine_poll_event(e, &ev.ev);
        if (r == RFL_RESULT_EMPTY)
            break;
        CHECK(r == RFL_RESULT_OK, "poll_event");
        events++;
        if (ev.ev.kind == RFL_EVENT_KIND_BEST_CHANGED && ev.ev.prefix.len == 16)
            best_changed = 1;
        for (size_t j = 0; j < sizeof ev.canary; j++)
            CHECK(ev.canary[j] == CANARY, "nothing written past the ABI 1.0 event");
    }
    CHECK(events >= 3 && best_changed, "peer up events and the best path change");

    /* A struct_size below ABI 1.0 is refused, and the out-parameter untouched. */
    pc.c.struct_size = 4;
    CHECK(rfl_engine_counters(e, b, &pc.c) == RFL_RESULT_INVALID_PARAMETER, "too small a struct");

    OK(rfl_engine_free(e));
    printf("old_caller (ABI 1.0 header, %zu-byte counters): %d failed\n", sizeof(rfl_peer_counters),
           failed);
    printf("abi: %d passed, %d failed\n", failed ? 0 : 1, failed ? 1 : 0);
    return failed ? 1 : 0;
}
