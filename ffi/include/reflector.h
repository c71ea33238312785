/*
 * reflector.h: the C ABI of Reflector, an embeddable BGP route-reflection engine.
 *
 * Conventions (every function follows them):
 *
 * - Every function returns an rfl_result. RFL_RESULT_OK means success; any
 *   other value is an error, and rfl_last_error() then gives a message for it
 *   (thread-local, kept until the next failing call on the same thread).
 *   Exceptions: RFL_RESULT_EMPTY is not an error but "nothing (more) to take";
 *   RFL_RESULT_BUFFER_TOO_SMALL writes the size needed to the length
 *   out-parameter so the caller can retry.
 * - Out-parameters are written only when the function returns RFL_RESULT_OK
 *   (apart from the needed size above and the outcome of
 *   rfl_engine_handle_message, see there).
 * - Every byte buffer is followed by its length in bytes (size_t); every array
 *   by its capacity in elements.
 * - NULL handles or pointers give RFL_RESULT_NULL_PARAMETER; a handle that is
 *   not a live handle of the expected type (freed, or some other pointer) is
 *   detected on a best-effort basis and gives RFL_RESULT_INVALID_HANDLE; a
 *   bad length or value gives RFL_RESULT_INVALID_PARAMETER. Nothing crashes
 *   on such input, but passing freed memory is still undefined behaviour in C.
 * - No Rust panic crosses this boundary: it is caught and returned as
 *   RFL_RESULT_PANIC. A handle whose call panicked is poisoned: every later
 *   call on it returns RFL_RESULT_PANIC; it can only be freed.
 *
 * - Sized structs (ABI 1): every configuration and result struct starts with
 *   `uint32_t struct_size`. Fill configuration structs with their init
 *   function (rfl_engine_config_init, rfl_peer_config_init,
 *   rfl_session_config_init, rfl_negotiated_unicast), passing
 *   `sizeof` the struct, then change fields; before a call that fills a result
 *   struct (rfl_outcome, rfl_event, rfl_peer_counters, rfl_memory_stats,
 *   rfl_session_event, rfl_negotiated as output) set its struct_size to
 *   `sizeof` it. The library reads at most struct_size bytes (fields past it
 *   keep their defaults: a program built against an older header keeps
 *   working), writes at most struct_size bytes and sets struct_size to the
 *   number it wrote (smaller when the library is older than the header). A
 *   struct_size below the ABI 1.0 size gives RFL_RESULT_INVALID_PARAMETER;
 *   bytes past the library's own size must be zero. New fields are only ever
 *   added at the end. The shared library's SONAME is libreflector.so.1.
 *
 * Ownership:
 *
 * - Handles (rfl_engine, rfl_loc_rib_iter, rfl_session, rfl_policy,
 *   rfl_statement) are created by the library with rfl_<type>_new (or
 *   rfl_engine_loc_rib) and owned by the caller, who frees each exactly once
 *   with rfl_<type>_free (NULL is accepted and ignored), except a statement
 *   handed to rfl_policy_add_statement, which the policy takes over. Nothing
 *   else allocates memory the caller must free. Installing a policy on a peer
 *   copies it: the caller may free or change its rfl_policy afterwards.
 * - Input pointers are borrowed for the duration of the call only; the library
 *   never keeps them (except the resolver's userdata and a hook's user_data,
 *   kept until the resolver or hook is replaced or cleared, the peer removed
 *   or the engine freed; the caller keeps them alive that long).
 * - A hook callback's rfl_route (and the bytes it points to) and its
 *   rfl_attr_edit are owned by the library and valid during that callback only.
 * - Pointers the library hands out (rfl_version's string, rfl_result_message's
 *   string) point to static memory. rfl_engine_attr_set's bytes are borrowed
 *   from the engine and valid until the next call that takes a non-const
 *   rfl_engine pointer, or until the engine is freed.
 *
 * Threads:
 *
 * - rfl_last_error's message is per thread: read it on the thread whose call
 *   failed, before the next failing call there (a language runtime that moves
 *   work between threads must pin it around the call and the read, as the Go
 *   module does).
 * - An rfl_engine (and an rfl_session, an rfl_loc_rib_iter) may be used from
 *   one thread at a time; it may move between threads between calls. Calls
 *   taking a `const` handle do not change it, but still must not run at the
 *   same time as a call changing the same handle. Different handles are
 *   independent: one engine per thread needs no locking.
 * - The next-hop resolver callback runs on the thread that called into the
 *   engine, during that call (any call that ranks paths: handle_message does
 *   not, poll_transmit, best, candidates and loc_rib do). Import and export
 *   hooks (rfl_hook_callback) also run on the calling thread, during the call
 *   that receives or sends the route. No callback may call back into the same
 *   engine: such a call returns RFL_RESULT_INVALID_STATE (the rfl_attr_edit_*
 *   functions are the exception, meant for hooks). Since callbacks only run
 *   during calls, their userdata needs no locking beyond the engine's rule.
 *
 * Addresses and identifiers: BGP identifiers, cluster IDs and ORIGINATOR_IDs
 * are uint32_t in host byte order (10.0.0.1 is 0x0A000001). IP addresses are
 * rfl_addr values: family 4 or 6 and the address octets in network order.
 */


#ifndef REFLECTOR_H
#define REFLECTOR_H

/* Generated by cbindgen from ffi/src; do not edit. Regenerate with ffi/ci.sh (or cbindgen --config cbindgen.toml --output include/reflector.h in ffi/). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RFL_VERSION_MAJOR 0
#define RFL_VERSION_MINOR 1
#define RFL_VERSION_PATCH 0
#define RFL_VERSION_STRING "0.1.0"
/** The version as one comparable number: major * 10000 + minor * 100 + patch. */
#define RFL_VERSION_NUMBER (RFL_VERSION_MAJOR * 10000 + RFL_VERSION_MINOR * 100 + RFL_VERSION_PATCH)


/**
 * Family bit: IPv4 unicast (1/1).
 */
#define RFL_FAMILY_IPV4_UNICAST (1 << 0)

/**
 * Family bit: IPv4 multicast (1/2).
 */
#define RFL_FAMILY_IPV4_MULTICAST (1 << 1)

/**
 * Family bit: IPv6 unicast (2/1).
 */
#define RFL_FAMILY_IPV6_UNICAST (1 << 2)

/**
 * Family bit: IPv6 multicast (2/2).
 */
#define RFL_FAMILY_IPV6_MULTICAST (1 << 3)

/**
 * Family bit: IPv4 labeled unicast (1/4).
 */
#define RFL_FAMILY_IPV4_LABELED_UNICAST (1 << 4)

/**
 * Family bit: IPv6 labeled unicast (2/4).
 */
#define RFL_FAMILY_IPV6_LABELED_UNICAST (1 << 5)

/**
 * Family bit: VPNv4 (1/128).
 */
#define RFL_FAMILY_VPNV4 (1 << 6)

/**
 * Family bit: VPNv6 (2/128).
 */
#define RFL_FAMILY_VPNV6 (1 << 7)

/**
 * Family bit: L2VPN EVPN (25/70).
 */
#define RFL_FAMILY_EVPN (1 << 8)

/**
 * Family bit: Route Target constraint (1/132).
 */
#define RFL_FAMILY_RT_CONSTRAINT (1 << 9)

/**
 * Family bit: IPv4 flow specification (1/133).
 */
#define RFL_FAMILY_IPV4_FLOWSPEC (1 << 10)

/**
 * Family bit: IPv6 flow specification (2/133).
 */
#define RFL_FAMILY_IPV6_FLOWSPEC (1 << 11)

/**
 * The engine itself as the source of locally originated routes, in `rfl_path.peer`.
 */
#define RFL_PEER_LOCAL 2147483646

/**
 * The largest NOTIFICATION the engine produces.
 */
#define RFL_MAX_NOTIFICATION_LEN 4096

/**
 * The largest BGP message (with the extended message capability); a buffer
 * of this size always holds the next outbound message.
 */
#define RFL_MAX_MESSAGE_LEN 65535

/**
 * An RFC 7606 error action.
 */
enum rfl_action
#ifdef __cplusplus
  : uint32_t
#endif // __cplusplus
 {
  /**
   * No error.
   */
  RFL_ACTION_NONE = 0,
  /**
   * Send the NOTIFICATION and close the session.
   */
  RFL_ACTION_SESSION_RESET = 1,
  /**
   * Disable the AFI/SAFI concerned.
   */
  RFL_ACTION_AFI_SAFI_DISABLE = 2,
  /**
   * Withdraw every prefix of the UPDATE.
   */
  RFL_ACTION_TREAT_AS_WITHDRAW = 3,
  /**
   * Drop the offending attribute.
   */
  RFL_ACTION_ATTRIBUTE_DISCARD = 4,
};
#ifndef __cplusplus
typedef uint32_t rfl_action;
#endif // __cplusplus

/**
 * How many paths per prefix a peer that negotiated ADD-PATH sending gets.
 */
enum rfl_add_path_send
#ifdef __cplusplus
  : uint32_t
#endif // __cplusplus
 {
  /**
   * Only the best path, without path identifiers.
   */
  RFL_ADD_PATH_SEND_OFF = 0,
  /**
   * Every eligible candidate.
   */
  RFL_ADD_PATH_SEND_ALL = 1,
  /**
   * The best `add_path_best` eligible candidates.
   */
  RFL_ADD_PATH_SEND_BEST = 2,
};
#ifndef __cplusplus
typedef uint32_t rfl_add_path_send;
#endif // __cplusplus

/**
 * Why a session closed.
 */
enum rfl_close_reason
#ifdef __cplusplus
  : uint32_t
#endif // __cplusplus
 {
  /**
   * Not a close event.
   */
  RFL_CLOSE_REASON_NONE = 0,
  /**
   * The caller stopped it.
   */
  RFL_CLOSE_REASON_STOPPED = 1,
  /**
   * We found an error and sent a NOTIFICATION.
   */
  RFL_CLOSE_REASON_NOTIFICATION_SENT = 2,
  /**
   * The peer sent a NOTIFICATION.
   */
  RFL_CLOSE_REASON_NOTIFICATION_RECEIVED = 3,
  /**
   * The TCP connection closed without a NOTIFICATION.
   */
  RFL_CLOSE_REASON_TCP_CLOSED = 4,
};
#ifndef __cplusplus
typedef uint32_t rfl_close_reason;
#endif // __cplusplus

/**
 * Which way a route passes a hook.
 */
enum rfl_direction
#ifdef __cplusplus
  : uint32_t
#endif // __cplusplus
 {
  /**
   * Received from the peer the hook is set on.
   */
  RFL_DIRECTION_IMPORT = 0,
  /**
   * About to be sent to the peer the hook is set on.
   */
  RFL_DIRECTION_EXPORT = 1,
};
#ifndef __cplusplus
typedef uint32_t rfl_direction;
#endif // __cplusplus

/**
 * The kind of an engine event.
 */
enum rfl_event_kind
#ifdef __cplusplus
  : uint32_t
#endif // __cplusplus
 {
  /**
   * The best path for `prefix` changed (`has_best`/`best`: the peer it now comes from).
   */
  RFL_EVENT_KIND_BEST_CHANGED = 0,
  /**
   * A path from `peer` for `prefix` failed a loop check (`loop_reason`).
   */
  RFL_EVENT_KIND_LOOP_REJECTED = 1,
  /**
   * A message from `peer` was malformed (`error_*`).
   */
  RFL_EVENT_KIND_UPDATE_ERROR = 2,
  /**
   * A path for `prefix` could not be sent to `peer`: its attributes exceed the message size.
   */
  RFL_EVENT_KIND_ENCODE_OVERFLOW = 3,
  /**
   * `peer` came up.
   */
  RFL_EVENT_KIND_PEER_UP = 4,
  /**
   * `peer` went down; its routes are withdrawn.
   */
  RFL_EVENT_KIND_PEER_DOWN = 5,
  /**
   * `peer` went down gracefully (RFC 4724): its routes stay, marked stale.
   */
  RFL_EVENT_KIND_PEER_RESTARTING = 6,
  /**
   * Stale routes of `peer` were removed (End-of-RIB, restart timer or reconnect).
   */
  RFL_EVENT_KIND_STALE_REMOVED = 7,
  /**
   * `peer` crossed its prefix limit (`error_code`/`error_subcode`: 6/1 when its session ended, 0/0 for a warning).
   */
  RFL_EVENT_KIND_PREFIX_LIMIT = 8,
  /**
   * A path from `peer` for `prefix` was refused: `peer` has its maximum paths for the prefix.
   */
  RFL_EVENT_KIND_PATH_LIMIT = 9,
  /**
   * `peer`'s routes reached its attribute-set memory limit: routes that would create new sets are refused.
   */
  RFL_EVENT_KIND_ATTR_MEMORY_LIMIT = 10,
  /**
   * An MP attribute of a family `peer`'s session does not carry, or that Reflector does not
   * know, was ignored: `families` its bit (0 when it has none), `paths` its NLRI (0 when unknown).
   */
  RFL_EVENT_KIND_UNKNOWN_FAMILY = 11,
  /**
   * The best path of a route of a family beyond unicast changed: `families` the family's
   * bit, `has_best`/`best` the peer it now comes from (the route itself is not in the event).
   */
  RFL_EVENT_KIND_KEYED_BEST_CHANGED = 12,
};
#ifndef __cplusplus
typedef uint32_t rfl_event_kind;
#endif // __cplusplus

/**
 * What a hook callback returns.
 */
enum rfl_hook_verdict
#ifdef __cplusplus
  : uint32_t
#endif // __cplusplus
 {
  /**
   * Accept the route as the peer's policy left it (edits are ignored).
   */
  RFL_HOOK_VERDICT_ACCEPT = 0,
  /**
   * Reject the route.
   */
  RFL_HOOK_VERDICT_REJECT = 1,
  /**
   * Accept the route with the changes made through the `rfl_attr_edit`.
   */
  RFL_HOOK_VERDICT_MODIFY = 2,
};
#ifndef __cplusplus
typedef uint32_t rfl_hook_verdict;
#endif // __cplusplus

/**
 * Why a path failed the loop checks.
 */
enum rfl_loop_reason
#ifdef __cplusplus
  : uint32_t
#endif // __cplusplus
 {
  /**
   * Not a loop event.
   */
  RFL_LOOP_REASON_NONE = 0,
  /**
   * Our cluster ID is in CLUSTER_LIST.
   */
  RFL_LOOP_REASON_CLUSTER_LIST = 1,
  /**
   * ORIGINATOR_ID is our router ID.
   */
  RFL_LOOP_REASON_ORIGINATOR_ID = 2,
  /**
   * Our AS is in the AS_PATH of a route from eBGP.
   */
  RFL_LOOP_REASON_AS_PATH = 3,
  /**
   * A route leak by the OTC attribute (RFC 9234 §5).
   */
  RFL_LOOP_REASON_ROUTE_LEAK = 4,
};
#ifndef __cplusplus
typedef uint32_t rfl_loop_reason;
#endif // __cplusplus

/**
 * The kind of a statement condition, with the text form of its value.
 *
 * Several values of one kind (one call each) match when any of them does;
 * conditions of different kinds must all hold.
 */
enum rfl_match
#ifdef __cplusplus
  : uint32_t
#endif // __cplusplus
 {
  /**
   * The prefix is in a range: `10.0.0.0/8` (exact), `10.0.0.0/8+` (and longer), `10.0.0.0/8{16,24}`.
   */
  RFL_MATCH_PREFIX = 0,
  /**
   * The route came from this neighbour address (on export: the peer it was learned from): `192.0.2.1`.
   */
  RFL_MATCH_NEIGHBOR = 1,
  /**
   * The route is of this family: `ipv4-unicast` (or `ipv4`), `ipv6-unicast` (or `ipv6`),
   * `ipv4-vpn` (or `vpnv4`), `l2vpn-evpn` (or `evpn`), `ipv4-flowspec` (or `flow4`), ...
   */
  RFL_MATCH_FAMILY = 2,
  /**
   * The origin AS is this AS or in this range: `65001`, `64512..65534`.
   */
  RFL_MATCH_ORIGIN_AS = 3,
  /**
   * The AS path holds this AS: `65001`.
   */
  RFL_MATCH_AS_PATH_CONTAINS = 4,
  /**
   * The AS path length is this number or in this range: `3`, `0..2`. One per statement.
   */
  RFL_MATCH_AS_PATH_LENGTH = 5,
  /**
   * The whole AS path matches this pattern: ASes, `lo..hi`, `?` (one AS), `*` (any ASes): `* 65001 ?`. One per statement.
   */
  RFL_MATCH_AS_PATH = 6,
  /**
   * A community matches: `65000:100`, `65000:*`, `*:100`, or `no-export`, `no-advertise`, `no-export-subconfed`, `no-peer`, `graceful-shutdown`, `blackhole`.
   */
  RFL_MATCH_COMMUNITY = 7,
  /**
   * An extended community matches: `rt:65000:100`, `soo:192.0.2.1:7`, `rt:65000:*`, `rt:*:*`.
   */
  RFL_MATCH_EXT_COMMUNITY = 8,
  /**
   * A large community matches: `65000:1:2`, any part may be `*`.
   */
  RFL_MATCH_LARGE_COMMUNITY = 9,
  /**
   * The next hop is in a prefix: `192.0.2.0/24` or an address `192.0.2.1`.
   */
  RFL_MATCH_NEXT_HOP = 10,
};
#ifndef __cplusplus
typedef uint32_t rfl_match;
#endif // __cplusplus

/**
 * What the engine did with a received message.
 */
enum rfl_outcome_kind
#ifdef __cplusplus
  : uint32_t
#endif // __cplusplus
 {
  /**
   * The UPDATE was applied.
   */
  RFL_OUTCOME_KIND_ACCEPTED = 0,
  /**
   * Malformed in a way RFC 7606 survives: its prefixes were withdrawn.
   */
  RFL_OUTCOME_KIND_TREAT_AS_WITHDRAW = 1,
  /**
   * Applied without a malformed attribute (RFC 7606 attribute discard).
   */
  RFL_OUTCOME_KIND_ATTRIBUTE_DISCARDED = 2,
  /**
   * Malformed beyond repair: send the NOTIFICATION and close; the peer is down in the engine.
   */
  RFL_OUTCOME_KIND_RESET = 3,
  /**
   * A ROUTE-REFRESH: the family's routes were queued again.
   */
  RFL_OUTCOME_KIND_ROUTE_REFRESH = 4,
  /**
   * A message the engine does not act on (OPEN, KEEPALIVE, NOTIFICATION).
   */
  RFL_OUTCOME_KIND_IGNORED = 5,
  /**
   * A malformed MP_REACH_NLRI/MP_UNREACH_NLRI (RFC 7606 AFI/SAFI disable):
   * the peer's routes of `family` were withdrawn and the family is off until
   * the session ends; the session stays up.
   */
  RFL_OUTCOME_KIND_FAMILY_DISABLED = 6,
};
#ifndef __cplusplus
typedef uint32_t rfl_outcome_kind;
#endif // __cplusplus

/**
 * What the embedder should do after an import policy or hook changed.
 */
enum rfl_reimport
#ifdef __cplusplus
  : uint32_t
#endif // __cplusplus
 {
  /**
   * Nothing: the peer is down; its routes are evaluated when it comes back.
   */
  RFL_REIMPORT_NOTHING = 0,
  /**
   * The peer is up: routes it already sent stay as the old policy left them
   * until it sends them again. Ask for them with `rfl_engine_request_refresh`
   * per family (ROUTE-REFRESH, RFC 2918), or reset the session if the peer
   * does not support route refresh.
   */
  RFL_REIMPORT_REFRESH = 1,
};
#ifndef __cplusplus
typedef uint32_t rfl_reimport;
#endif // __cplusplus

/**
 * The status every `rfl_` function returns.
 */
enum rfl_result
#ifdef __cplusplus
  : uint32_t
#endif // __cplusplus
 {
  /**
   * Success.
   */
  RFL_RESULT_OK = 0,
  /**
   * Nothing (more) to take: no queued message, no further item, no event. Not an error.
   */
  RFL_RESULT_EMPTY = 1,
  /**
   * A required pointer argument was NULL.
   */
  RFL_RESULT_NULL_PARAMETER = 2,
  /**
   * A handle is not a live handle of the expected type.
   */
  RFL_RESULT_INVALID_HANDLE = 3,
  /**
   * An argument has a bad value or length.
   */
  RFL_RESULT_INVALID_PARAMETER = 4,
  /**
   * The caller's buffer is too small; the needed size was written to the length out-parameter.
   */
  RFL_RESULT_BUFFER_TOO_SMALL = 5,
  /**
   * The peer ID does not name a peer of this engine (never added, or removed).
   */
  RFL_RESULT_UNKNOWN_PEER = 6,
  /**
   * The peer exists but is not up.
   */
  RFL_RESULT_PEER_NOT_UP = 7,
  /**
   * Nothing was found for the query (no best path, no such attribute set).
   */
  RFL_RESULT_NOT_FOUND = 8,
  /**
   * The input bytes are not a valid BGP message or attribute block.
   */
  RFL_RESULT_MALFORMED = 9,
  /**
   * The call is not valid in the object's current state.
   */
  RFL_RESULT_INVALID_STATE = 10,
  /**
   * A panic was caught inside the library; the handle involved is poisoned.
   */
  RFL_RESULT_PANIC = 11,
};
#ifndef __cplusplus
typedef uint32_t rfl_result;
#endif // __cplusplus

/**
 * A peer's role toward this reflector (RFC 4456).
 */
enum rfl_role
#ifdef __cplusplus
  : uint32_t
#endif // __cplusplus
 {
  /**
   * An iBGP peer that is our route-reflector client.
   */
  RFL_ROLE_CLIENT = 0,
  /**
   * An iBGP peer that is not our client (another reflector, a full-mesh peer).
   */
  RFL_ROLE_NON_CLIENT = 1,
  /**
   * An external peer.
   */
  RFL_ROLE_EBGP = 2,
};
#ifndef __cplusplus
typedef uint32_t rfl_role;
#endif // __cplusplus

/**
 * The kind of a session event.
 */
enum rfl_session_event_kind
#ifdef __cplusplus
  : uint32_t
#endif // __cplusplus
 {
  /**
   * Open a TCP connection to the peer, then call `_tcp_connected` or `_tcp_failed`.
   */
  RFL_SESSION_EVENT_KIND_CONNECT = 0,
  /**
   * The peer's OPEN was accepted (`peer_as`, `peer_router_id`, `hold_time` are set).
   */
  RFL_SESSION_EVENT_KIND_OPEN_RECEIVED = 1,
  /**
   * The session is up: take `rfl_session_negotiated` and pass it to `rfl_engine_peer_up`.
   */
  RFL_SESSION_EVENT_KIND_ESTABLISHED = 2,
  /**
   * An UPDATE or ROUTE-REFRESH (`message`, `message_len`) for `rfl_engine_handle_message`.
   */
  RFL_SESSION_EVENT_KIND_MESSAGE = 3,
  /**
   * We sent a NOTIFICATION (`error_code`, `error_subcode`; its data in `message`).
   */
  RFL_SESSION_EVENT_KIND_NOTIFICATION_SENT = 4,
  /**
   * The peer sent a NOTIFICATION (`error_code`, `error_subcode`; its data in `message`).
   */
  RFL_SESSION_EVENT_KIND_NOTIFICATION_RECEIVED = 5,
  /**
   * Close the TCP connection after writing what `_poll_transmit` gives (`close_reason`).
   */
  RFL_SESSION_EVENT_KIND_CLOSED = 6,
};
#ifndef __cplusplus
typedef uint32_t rfl_session_event_kind;
#endif // __cplusplus

/**
 * The six states of RFC 4271 §8.2.2.
 */
enum rfl_session_state
#ifdef __cplusplus
  : uint32_t
#endif // __cplusplus
 {
  /**
   * Nothing happens until `rfl_session_start`.
   */
  RFL_SESSION_STATE_IDLE = 0,
  /**
   * Waiting for an outgoing TCP connection.
   */
  RFL_SESSION_STATE_CONNECT = 1,
  /**
   * Waiting for an incoming connection (or the connect-retry timer).
   */
  RFL_SESSION_STATE_ACTIVE = 2,
  /**
   * Our OPEN is sent; waiting for the peer's.
   */
  RFL_SESSION_STATE_OPEN_SENT = 3,
  /**
   * OPENs exchanged; waiting for the peer's KEEPALIVE.
   */
  RFL_SESSION_STATE_OPEN_CONFIRM = 4,
  /**
   * UPDATEs flow.
   */
  RFL_SESSION_STATE_ESTABLISHED = 5,
};
#ifndef __cplusplus
typedef uint32_t rfl_session_state;
#endif // __cplusplus

/**
 * The kind of a statement action (or hook edit), with the text form of its value.
 */
enum rfl_set
#ifdef __cplusplus
  : uint32_t
#endif // __cplusplus
 {
  /**
   * Set LOCAL_PREF: `200`.
   */
  RFL_SET_LOCAL_PREF = 0,
  /**
   * Set MULTI_EXIT_DISC: `50`.
   */
  RFL_SET_MED = 1,
  /**
   * Remove MULTI_EXIT_DISC (the value is ignored and may be NULL).
   */
  RFL_SET_REMOVE_MED = 2,
  /**
   * Set the next hop: an address, or `self` (our address on the session, from the peer's configuration).
   */
  RFL_SET_NEXT_HOP = 3,
  /**
   * Prepend an AS to the AS path: `ASN` or `ASN COUNT` (COUNT 1..=255, default 1); ASN `self` is our AS: `65001 3`, `self 2`.
   */
  RFL_SET_PREPEND = 4,
  /**
   * Add a community (at the end, once): `65000:100` or a well-known name.
   */
  RFL_SET_COMMUNITY_ADD = 5,
  /**
   * Remove the communities matching: `65000:*`.
   */
  RFL_SET_COMMUNITY_REMOVE = 6,
  /**
   * Replace the communities: successive calls build the new list; an empty string removes them all.
   */
  RFL_SET_COMMUNITY_REPLACE = 7,
  /**
   * Add an extended community: `rt:65000:100`, `soo:192.0.2.1:7`.
   */
  RFL_SET_EXT_COMMUNITY_ADD = 8,
  /**
   * Remove the extended communities matching: `rt:65000:*`.
   */
  RFL_SET_EXT_COMMUNITY_REMOVE = 9,
  /**
   * Replace the extended communities (as RFL_SET_COMMUNITY_REPLACE).
   */
  RFL_SET_EXT_COMMUNITY_REPLACE = 10,
  /**
   * Add a large community: `65000:1:2`.
   */
  RFL_SET_LARGE_COMMUNITY_ADD = 11,
  /**
   * Remove the large communities matching: `65000:*:*`.
   */
  RFL_SET_LARGE_COMMUNITY_REMOVE = 12,
  /**
   * Replace the large communities (as RFL_SET_COMMUNITY_REPLACE).
   */
  RFL_SET_LARGE_COMMUNITY_REPLACE = 13,
};
#ifndef __cplusplus
typedef uint32_t rfl_set;
#endif // __cplusplus

/**
 * Why the caller stops a session (the Cease subcode sent).
 */
enum rfl_stop_reason
#ifdef __cplusplus
  : uint32_t
#endif // __cplusplus
 {
  /**
   * Administrative Shutdown (6/2), with the text as RFC 9003 shutdown communication.
   */
  RFL_STOP_REASON_SHUTDOWN = 0,
  /**
   * Administrative Reset (6/4), with the text as RFC 9003 shutdown communication.
   */
  RFL_STOP_REASON_RESET = 1,
  /**
   * Peer De-configured (6/3).
   */
  RFL_STOP_REASON_DECONFIGURED = 2,
  /**
   * Connection Rejected (6/5).
   */
  RFL_STOP_REASON_CONNECTION_REJECTED = 3,
  /**
   * Connection Collision Resolution (6/7).
   */
  RFL_STOP_REASON_COLLISION = 4,
  /**
   * Out of Resources (6/8).
   */
  RFL_STOP_REASON_OUT_OF_RESOURCES = 5,
};
#ifndef __cplusplus
typedef uint32_t rfl_stop_reason;
#endif // __cplusplus

/**
 * What a statement (or a policy's default) decides.
 */
enum rfl_verdict
#ifdef __cplusplus
  : uint32_t
#endif // __cplusplus
 {
  /**
   * Accept the route as the actions left it; evaluation ends.
   */
  RFL_VERDICT_ACCEPT = 0,
  /**
   * Reject the route; evaluation ends.
   */
  RFL_VERDICT_REJECT = 1,
  /**
   * Go on with the next statement (as a policy's default: accept).
   */
  RFL_VERDICT_NEXT = 2,
};
#ifndef __cplusplus
typedef uint32_t rfl_verdict;
#endif // __cplusplus

/**
 * The attribute changes a hook callback asks for (opaque). Only valid during
 * the callback that receives it; the library owns it.
 */
typedef struct rfl_attr_edit rfl_attr_edit;

/**
 * A route reflection engine (opaque). Create with `rfl_engine_new`, free with `rfl_engine_free`.
 */
typedef struct rfl_engine rfl_engine;

/**
 * A snapshot of one family's routes (opaque), from `rfl_engine_keyed_routes`;
 * free with `rfl_keyed_iter_free`.
 */
typedef struct rfl_keyed_iter rfl_keyed_iter;

/**
 * A snapshot of the Loc-RIB (opaque), from `rfl_engine_loc_rib`; free with `rfl_loc_rib_iter_free`.
 */
typedef struct rfl_loc_rib_iter rfl_loc_rib_iter;

/**
 * A routing policy under construction or ready to install (opaque): statements
 * in order and a default verdict. Create with `rfl_policy_new`, free with `rfl_policy_free`.
 */
typedef struct rfl_policy rfl_policy;

/**
 * One BGP session's state machine (opaque). Create with `rfl_session_new`, free with `rfl_session_free`.
 */
typedef struct rfl_session rfl_session;

/**
 * One policy statement under construction (opaque): conditions, actions and a
 * verdict. Create with `rfl_statement_new`; hand it to `rfl_policy_add_statement`
 * (which takes it over) or free it with `rfl_statement_free`.
 */
typedef struct rfl_statement rfl_statement;

/**
 * Engine-wide configuration. Fill with `rfl_engine_config_init`, then adjust.
 */
typedef struct rfl_engine_config {
  /**
   * Size of this struct in bytes, set by its `_init` function (or `sizeof`): the ABI version.
   */
  uint32_t struct_size;
  /**
   * Our AS number.
   */
  uint32_t local_as;
  /**
   * Our BGP identifier (host order, non-zero).
   */
  uint32_t router_id;
  /**
   * Our cluster ID (host order); 0 means the router ID.
   */
  uint32_t cluster_id;
  /**
   * Reflect routes from clients to other clients.
   */
  bool client_to_client;
  /**
   * Compare MED between paths from different neighbouring ASes.
   */
  bool always_compare_med;
  /**
   * A missing MED is the worst value instead of 0.
   */
  bool missing_med_worst;
  /**
   * Among otherwise equal eBGP paths keep the oldest (makes results order-dependent).
   */
  bool prefer_oldest;
  /**
   * Skip the IGP cost step of the decision process.
   */
  bool ignore_igp_cost;
  /**
   * LOCAL_PREF assumed where absent.
   */
  uint32_t default_local_pref;
  /**
   * Record events for `rfl_engine_poll_event`.
   */
  bool record_events;
  /**
   * At most this many events are kept (older ones are dropped); at least 1 when recording.
   */
  size_t max_events;
  /**
   * After next-hop reachability, a path the engine originates (`rfl_engine_originate`)
   * wins over learned ones, as a static route over BGP (decision step `local-origin`).
   */
  bool prefer_local;
} rfl_engine_config;

/**
 * An IP address: `family` 4 or 6 (0 = none where a field is optional) and the
 * octets in network order (IPv4 uses the first 4).
 */
typedef struct rfl_addr {
  /**
   * 4, 6, or 0 for "no address".
   */
  uint8_t family;
  /**
   * Address octets, network order.
   */
  uint8_t octets[16];
} rfl_addr;

/**
 * A peer's configuration. Fill with `rfl_peer_config_init`, then adjust.
 */
typedef struct rfl_peer_config {
  /**
   * Size of this struct in bytes, set by its `_init` function (or `sizeof`): the ABI version.
   */
  uint32_t struct_size;
  /**
   * An rfl_role value.
   */
  uint32_t role;
  /**
   * The peer's AS.
   */
  uint32_t asn;
  /**
   * The peer's address.
   */
  struct rfl_addr address;
  /**
   * Our IPv4 address on this session (NEXT_HOP toward eBGP); family 0 = none.
   */
  struct rfl_addr local_v4;
  /**
   * Our IPv6 address on this session (MP next hop toward eBGP); family 0 = none.
   */
  struct rfl_addr local_v6;
  /**
   * An rfl_add_path_send value.
   */
  uint32_t add_path_send;
  /**
   * How many paths with RFL_ADD_PATH_SEND_BEST (at least 1).
   */
  uint8_t add_path_best;
  /**
   * The AS we use on this session instead of the engine's (0: the engine's).
   */
  uint32_t local_as;
  /**
   * How many times our AS may be in the AS_PATH of this eBGP peer's routes before they are loops (0: never).
   */
  uint8_t allow_own_as;
  /**
   * Toward this eBGP peer, unicast routes keep their next hop instead of ours (a third-party next hop).
   */
  bool next_hop_unchanged;
} rfl_peer_config;

/**
 * What a session negotiated (from the OPEN exchange). As input fill it with
 * `rfl_negotiated_unicast` (or take it from `rfl_session_negotiated`); as output set
 * `struct_size` first.
 */
typedef struct rfl_negotiated {
  /**
   * Size of this struct in bytes (`sizeof`): the ABI version.
   */
  uint32_t struct_size;
  /**
   * The peer's BGP identifier (host order).
   */
  uint32_t router_id;
  /**
   * Both sides support 4-octet AS numbers.
   */
  bool four_octet_as;
  /**
   * Both sides support extended messages (65,535 bytes).
   */
  bool extended_message;
  /**
   * Families both sides support (RFL_FAMILY_* bits).
   */
  uint32_t families;
  /**
   * Families in which the peer sends us ADD-PATH identifiers.
   */
  uint32_t add_path_receive;
  /**
   * Families in which we may send ADD-PATH identifiers.
   */
  uint32_t add_path_send;
  /**
   * Both sides support enhanced route refresh (RFC 7313).
   */
  bool enhanced_route_refresh;
  /**
   * `remote_role` is set: the session uses BGP Roles (RFC 9234, eBGP only).
   */
  bool has_remote_role;
  /**
   * The role the peer plays (RFC 9234): 0 provider, 1 RS, 2 RS-client, 3 customer, 4 peer.
   */
  uint8_t remote_role;
  /**
   * Families the peer takes with an IPv6 next hop (RFC 8950; RFL_FAMILY_* bits).
   */
  uint32_t extended_next_hop;
  /**
   * Both sides support ROUTE-REFRESH (RFC 2918).
   */
  bool route_refresh;
  /**
   * Both sides advertised graceful restart (RFC 4724): `rfl_engine_peer_up` keeps the
   * peer's stale paths in `graceful_restart_preserved` until its End-of-RIB.
   */
  bool graceful_restart;
  /**
   * The peer's restart time in seconds (arm the restart timer with it after a graceful down).
   */
  uint16_t graceful_restart_time;
  /**
   * Families in which the peer preserved its forwarding state (RFL_FAMILY_* bits).
   */
  uint32_t graceful_restart_preserved;
} rfl_negotiated;

/**
 * The result of `rfl_engine_handle_message` (set `struct_size` before the call).
 */
typedef struct rfl_outcome {
  /**
   * Size of this struct in bytes: the caller sets it (`sizeof`) before the call; the
   * library writes that many bytes at most and sets it to the number it wrote.
   */
  uint32_t struct_size;
  /**
   * What happened.
   */
  rfl_outcome_kind kind;
  /**
   * Paths that became (or replaced) candidates.
   */
  uint32_t announced;
  /**
   * Paths withdrawn.
   */
  uint32_t withdrawn;
  /**
   * Paths rejected by the loop checks.
   */
  uint32_t rejected;
  /**
   * NOTIFICATION error code of the problem found (0 = none).
   */
  uint8_t error_code;
  /**
   * NOTIFICATION error subcode.
   */
  uint8_t error_subcode;
  /**
   * The RFC 7606 action of the problem found.
   */
  rfl_action error_action;
  /**
   * Byte offset of the problem in the message.
   */
  size_t error_offset;
  /**
   * The BGP message type (for RFL_OUTCOME_KIND_IGNORED: 1 OPEN, 3 NOTIFICATION, 4 KEEPALIVE).
   */
  uint8_t message_type;
  /**
   * The family bit of a ROUTE-REFRESH (RFL_FAMILY_*; 0 for other families).
   */
  uint32_t family;
  /**
   * Length of the NOTIFICATION to send (RFL_OUTCOME_KIND_RESET), else 0.
   */
  size_t notification_len;
} rfl_outcome;

/**
 * An IP prefix: an address (host bits are ignored) and a length in bits.
 */
typedef struct rfl_prefix {
  /**
   * The network address.
   */
  struct rfl_addr addr;
  /**
   * Prefix length (0..=32 for IPv4, 0..=128 for IPv6).
   */
  uint8_t len;
} rfl_prefix;

/**
 * One candidate path.
 */
typedef struct rfl_path {
  /**
   * The peer it came from (RFL_PEER_LOCAL for our own routes).
   */
  uint32_t peer;
  /**
   * The peer's ADD-PATH identifier (0 without ADD-PATH).
   */
  uint32_t remote_id;
  /**
   * Our identifier for the path.
   */
  uint32_t local_id;
  /**
   * Handle of the attribute set (see `rfl_engine_attr_set`).
   */
  uint32_t attrs;
  /**
   * The next hop resolves (always true without a resolver).
   */
  bool reachable;
  /**
   * ORIGIN: 0 IGP, 1 EGP, 2 INCOMPLETE.
   */
  uint8_t origin;
  /**
   * AS_PATH length as the decision process counts it.
   */
  uint32_t as_path_len;
  /**
   * The neighbouring AS (0 for paths from inside the AS, 4294967295 when the AS_PATH does not start with an AS_SEQUENCE: MED compared with no other path).
   */
  uint32_t neighbor_as;
  /**
   * MULTI_EXIT_DISC, when `has_med`.
   */
  uint32_t med;
  /**
   * The path carries a MED.
   */
  bool has_med;
  /**
   * LOCAL_PREF, when `has_local_pref`.
   */
  uint32_t local_pref;
  /**
   * The path carries a LOCAL_PREF.
   */
  bool has_local_pref;
  /**
   * ORIGINATOR_ID (host order), when `has_originator_id`.
   */
  uint32_t originator_id;
  /**
   * The path carries an ORIGINATOR_ID.
   */
  bool has_originator_id;
  /**
   * Number of cluster IDs in CLUSTER_LIST.
   */
  uint32_t cluster_list_len;
  /**
   * The next hop (family 0 when the path has none).
   */
  struct rfl_addr next_hop;
} rfl_path;

/**
 * Per-peer counters (set `struct_size` before `rfl_engine_counters`).
 */
typedef struct rfl_peer_counters {
  /**
   * Size of this struct in bytes: the caller sets it (`sizeof`) before the call; the
   * library writes that many bytes at most and sets it to the number it wrote.
   */
  uint32_t struct_size;
  /**
   * UPDATE messages received.
   */
  uint64_t updates_received;
  /**
   * Prefixes announced to us.
   */
  uint64_t prefixes_received;
  /**
   * Prefixes withdrawn by the peer.
   */
  uint64_t withdrawals_received;
  /**
   * Announced paths accepted as candidates.
   */
  uint64_t accepted;
  /**
   * Paths rejected by the loop checks.
   */
  uint64_t rejected_loop;
  /**
   * UPDATEs handled as treat-as-withdraw.
   */
  uint64_t treat_as_withdraw;
  /**
   * UPDATEs with an attribute discarded.
   */
  uint64_t attribute_discard;
  /**
   * Messages that reset the session.
   */
  uint64_t session_resets;
  /**
   * ROUTE-REFRESH requests served.
   */
  uint64_t route_refreshes;
  /**
   * UPDATE messages sent.
   */
  uint64_t updates_sent;
  /**
   * Prefixes announced to the peer.
   */
  uint64_t prefixes_sent;
  /**
   * Prefixes withdrawn toward the peer.
   */
  uint64_t withdrawals_sent;
  /**
   * Paths not sent because their attributes exceed the maximum message size.
   */
  uint64_t encode_overflows;
  /**
   * Paths the peer sent that its import policy (or hook, or RFC 8212) rejected.
   */
  uint64_t policy_rejected_in;
  /**
   * Paths the peer sent that its import policy (or hook) accepted with changed attributes.
   */
  uint64_t policy_modified_in;
  /**
   * Paths not sent to the peer because its export policy (or hook, or RFC 8212) rejected them.
   */
  uint64_t policy_rejected_out;
  /**
   * Sessions that went down gracefully, keeping their paths as stale (RFC 4724).
   */
  uint64_t graceful_restarts;
  /**
   * Paths marked stale at graceful downs.
   */
  uint64_t stale_marked;
  /**
   * Stale paths removed (End-of-RIB, restart timer, reconnect without graceful restart).
   */
  uint64_t stale_removed;
  /**
   * Times the peer's output was paused.
   */
  uint64_t transmit_pauses;
  /**
   * Times the peer crossed one of its prefix limits.
   */
  uint64_t prefix_limit_hits;
  /**
   * Paths refused because the peer had its maximum paths for the prefix.
   */
  uint64_t paths_refused;
  /**
   * Paths refused by the peer's attribute-set memory limit.
   */
  uint64_t attr_limit_refused;
  /**
   * Prefixes ignored because their family was not negotiated (or was disabled).
   */
  uint64_t unnegotiated_prefixes;
  /**
   * Families turned off for a malformed MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 7606).
   */
  uint64_t families_disabled;
} rfl_peer_counters;

/**
 * Memory held by the RIB (set `struct_size` before `rfl_engine_memory`).
 */
typedef struct rfl_memory_stats {
  /**
   * Size of this struct in bytes: the caller sets it (`sizeof`) before the call; the
   * library writes that many bytes at most and sets it to the number it wrote.
   */
  uint32_t struct_size;
  /**
   * Prefixes in the Loc-RIB.
   */
  size_t prefixes;
  /**
   * Candidate paths.
   */
  size_t paths;
  /**
   * Distinct attribute sets.
   */
  size_t attr_sets;
  /**
   * Bytes held by the prefix tables.
   */
  size_t table_bytes;
  /**
   * Bytes held by the attribute sets.
   */
  size_t attr_bytes;
} rfl_memory_stats;

/**
 * An engine event (fields not used by the kind are zero; set `struct_size` before the call).
 */
typedef struct rfl_event {
  /**
   * Size of this struct in bytes: the caller sets it (`sizeof`) before the call; the
   * library writes that many bytes at most and sets it to the number it wrote.
   */
  uint32_t struct_size;
  /**
   * What happened.
   */
  rfl_event_kind kind;
  /**
   * The peer concerned.
   */
  uint32_t peer;
  /**
   * The prefix concerned.
   */
  struct rfl_prefix prefix;
  /**
   * For BEST_CHANGED: a best path remains.
   */
  bool has_best;
  /**
   * For BEST_CHANGED: the peer the best path comes from.
   */
  uint32_t best;
  /**
   * For LOOP_REJECTED: which check.
   */
  rfl_loop_reason loop_reason;
  /**
   * For UPDATE_ERROR: NOTIFICATION code.
   */
  uint8_t error_code;
  /**
   * For UPDATE_ERROR: NOTIFICATION subcode.
   */
  uint8_t error_subcode;
  /**
   * For UPDATE_ERROR: the RFC 7606 action.
   */
  rfl_action error_action;
  /**
   * For PEER_RESTARTING: the families kept stale; STALE_REMOVED: the family swept (RFL_FAMILY_* bits).
   */
  uint32_t families;
  /**
   * For PEER_RESTARTING: paths marked stale; STALE_REMOVED: paths removed.
   */
  uint64_t paths;
} rfl_event;

/**
 * The next-hop resolver: return true and write the IGP cost to `*out_igp_cost`
 * when `next_hop` is reachable, false when it is not. Called on the caller's
 * thread during engine calls that rank paths; must not call into the engine.
 */
typedef bool (*rfl_resolver_callback)(void *userdata,
                                      const struct rfl_addr *next_hop,
                                      uint32_t *out_igp_cost);

/**
 * A route as a hook sees it. Every pointer is borrowed for the duration of
 * the callback only.
 */
typedef struct rfl_route {
  /**
   * The IP prefix: a unicast route's prefix; the prefix inside a
   * multicast, labeled or VPN route's NLRI, an EVPN IP Prefix route's
   * prefix; address family 0 for a route without one (a flow rule, RT
   * membership, the other EVPN route types).
   */
  struct rfl_prefix prefix;
  /**
   * The neighbour the route came from (family 0: originated by this engine).
   */
  struct rfl_addr neighbor;
  /**
   * The canonical attribute block: path attribute TLVs sorted by type code,
   * AS_PATH with 4-octet ASes, no NEXT_HOP for routes with an MP next hop,
   * no MP_REACH_NLRI / MP_UNREACH_NLRI.
   */
  const uint8_t *attrs;
  /**
   * Length of `attrs` in bytes.
   */
  size_t attrs_len;
  /**
   * The MP_REACH_NLRI next hop field (NULL when the route has none).
   */
  const uint8_t *mp_next_hop;
  /**
   * Length of `mp_next_hop` in bytes (0 when none).
   */
  size_t mp_next_hop_len;
  /**
   * The route's AFI (1: IPv4, 2: IPv6, 25: L2VPN).
   */
  uint16_t afi;
  /**
   * The route's SAFI (1: unicast, 128: VPN, 70: EVPN, 133: flow specification, ...).
   */
  uint8_t safi;
  /**
   * The route's NLRI without path identifier, for families other than
   * IPv4 and IPv6 unicast (NULL for those).
   */
  const uint8_t *nlri;
  /**
   * Length of `nlri` in bytes (0 when none).
   */
  size_t nlri_len;
} rfl_route;

/**
 * A per-route hook: called with `user_data`, the direction, the peer the hook
 * is set on and the route (as the peer's policy left it, when it has one).
 * Returns an rfl_hook_verdict value (any other value rejects the route); for
 * RFL_HOOK_VERDICT_MODIFY the changes are those made through `edit` with the
 * `rfl_attr_edit_*` functions during this call.
 *
 * It runs on the thread that called into the engine, during that call
 * (`rfl_engine_handle_message` for import hooks; the calls that send, such
 * as `rfl_engine_poll_transmit`, `rfl_engine_flush`, `rfl_engine_peer_up`
 * and the policy setters, for export hooks). It must not call into the same
 * engine (such calls return RFL_RESULT_INVALID_STATE), nor keep `route` or
 * `edit` after it returns.
 */
typedef uint32_t (*rfl_hook_callback)(void *user_data,
                                      rfl_direction dir,
                                      uint32_t peer,
                                      const struct rfl_route *route,
                                      struct rfl_attr_edit *edit);

/**
 * A session's configuration. Fill with `rfl_session_config_init`, then adjust.
 */
typedef struct rfl_session_config {
  /**
   * Size of this struct in bytes, set by `rfl_session_config_init`: the ABI version.
   */
  uint32_t struct_size;
  /**
   * Our AS number.
   */
  uint32_t local_as;
  /**
   * Our BGP identifier (host order, non-zero).
   */
  uint32_t router_id;
  /**
   * The AS the peer must announce; checked only when `check_peer_as`.
   */
  uint32_t peer_as;
  /**
   * Refuse (2/2 Bad Peer AS) a peer announcing another AS than `peer_as`.
   */
  bool check_peer_as;
  /**
   * Wait for the peer to connect instead of connecting.
   */
  bool passive;
  /**
   * Hold time we propose, in seconds (0, or 3 and above).
   */
  uint16_t hold_time;
  /**
   * Smallest non-zero hold time accepted from the peer.
   */
  uint16_t min_hold_time;
  /**
   * Delay between connection attempts, in milliseconds.
   */
  uint64_t connect_retry_ms;
  /**
   * Multiprotocol families advertised (RFL_FAMILY_* bits, at least one).
   */
  uint32_t families;
  /**
   * Families in which we advertise receiving ADD-PATH identifiers.
   */
  uint32_t add_path_receive;
  /**
   * Families in which we advertise sending ADD-PATH identifiers.
   */
  uint32_t add_path_send;
  /**
   * Advertise ROUTE-REFRESH (RFC 2918).
   */
  bool route_refresh;
  /**
   * Advertise enhanced route refresh (RFC 7313).
   */
  bool enhanced_route_refresh;
  /**
   * Advertise extended messages (RFC 8654).
   */
  bool extended_message;
  /**
   * Advertise graceful restart (receiving speaker) with `graceful_restart_time`.
   */
  bool graceful_restart;
  /**
   * Restart time in seconds for the graceful restart capability.
   */
  uint16_t graceful_restart_time;
  /**
   * Advertise our BGP Role `local_role` (RFC 9234; eBGP sessions only).
   */
  bool has_local_role;
  /**
   * Our BGP Role on the session: 0 Provider, 1 Route Server, 2 RS Client, 3 Customer, 4 Peer.
   */
  uint8_t local_role;
  /**
   * With a role: refuse (2/11 Role Mismatch) an eBGP peer that sends no role.
   */
  bool strict_role;
  /**
   * Advertise extended next hop (RFC 8950) for IPv4 unicast with IPv6 next hops.
   */
  bool extended_next_hop;
} rfl_session_config;

/**
 * A session event. Pointers in it are borrowed from the session and valid
 * until the next call taking a non-const pointer to the same session.
 */
typedef struct rfl_session_event {
  /**
   * Size of this struct in bytes: the caller sets it (`sizeof`) before the call; the
   * library writes that many bytes at most and sets it to the number it wrote.
   */
  uint32_t struct_size;
  /**
   * What happened.
   */
  rfl_session_event_kind kind;
  /**
   * MESSAGE: the message, header included; NOTIFICATION_*: the NOTIFICATION data. Else NULL.
   */
  const uint8_t *message;
  /**
   * Length of `message` in bytes.
   */
  size_t message_len;
  /**
   * OPEN_RECEIVED / ESTABLISHED: the peer's AS.
   */
  uint32_t peer_as;
  /**
   * OPEN_RECEIVED / ESTABLISHED: the peer's BGP identifier (host order).
   */
  uint32_t peer_router_id;
  /**
   * OPEN_RECEIVED: the peer's hold time; ESTABLISHED: the negotiated hold time (seconds).
   */
  uint16_t hold_time;
  /**
   * NOTIFICATION_*: error code.
   */
  uint8_t error_code;
  /**
   * NOTIFICATION_*: error subcode.
   */
  uint8_t error_subcode;
  /**
   * CLOSED: why.
   */
  rfl_close_reason close_reason;
} rfl_session_event;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * The library version as a NUL-terminated static string ("0.1.0"), through `out_version`.
 */
rfl_result rfl_version(const char **out_version);

/**
 * The version as major * 10000 + minor * 100 + patch (compare with RFL_VERSION_NUMBER).
 */
rfl_result rfl_version_number(uint32_t *out_number);

/**
 * A static NUL-terminated description of a result code, through `out_message`.
 * `result` is an rfl_result value; unknown values give RFL_RESULT_INVALID_PARAMETER.
 */
rfl_result rfl_result_message(uint32_t result, const char **out_message);

/**
 * Copy the message of the last failing call on this thread into `buf`, NUL-terminated.
 *
 * `*out_len` receives the message length without the NUL. With no message
 * yet, the message is empty. If `buf_len` cannot hold the message and its
 * NUL, returns RFL_RESULT_BUFFER_TOO_SMALL with the needed size (including
 * the NUL) in `*out_len`. This call does not replace the message.
 */
rfl_result rfl_last_error(char *buf, size_t buf_len, size_t *out_len);

/**
 * Fill `*out_config` (`config_size` bytes: pass `sizeof *out_config`) with
 * defaults for AS `local_as` and BGP identifier `router_id` (cluster ID =
 * router ID, client-to-client reflection on, LOCAL_PREF 100, no events), and
 * set its `struct_size`. Always start from this function: fields a newer
 * library adds then keep their defaults.
 */
rfl_result rfl_engine_config_init(uint32_t local_as,
                                  uint32_t router_id,
                                  struct rfl_engine_config *out_config,
                                  size_t config_size);

/**
 * Fill `*out_config` (`config_size` bytes: pass `sizeof *out_config`) for a
 * peer with `role` (an rfl_role), AS `asn` and `*address`; no local addresses,
 * no ADD-PATH sending; sets its `struct_size`.
 */
rfl_result rfl_peer_config_init(uint32_t role,
                                uint32_t asn,
                                const struct rfl_addr *address,
                                struct rfl_peer_config *out_config,
                                size_t config_size);

/**
 * Fill `*out_negotiated` (`negotiated_size` bytes: pass `sizeof *out_negotiated`)
 * for IPv4 and IPv6 unicast, 4-octet AS, route refresh, no ADD-PATH, no graceful
 * restart, 4,096-byte messages, with the peer's BGP identifier `router_id`.
 */
rfl_result rfl_negotiated_unicast(uint32_t router_id,
                                  struct rfl_negotiated *out_negotiated,
                                  size_t negotiated_size);

/**
 * Hold every session that comes up from now on: it is sent neither routes
 * nor End-of-RIB until `rfl_engine_end_deferral` (RFC 4724 §4.1, for a
 * restarting speaker); the routes it sends are taken in as usual. End the
 * deferral once every peer has sent End-of-RIB, or when the
 * Selection_Deferral_Timer expires.
 */
rfl_result rfl_engine_defer_selection(struct rfl_engine *engine);

/**
 * Whether sessions that come up are held by `rfl_engine_defer_selection`, through `*out_deferring`.
 */
rfl_result rfl_engine_is_deferring(const struct rfl_engine *engine, bool *out_deferring);

/**
 * End the route selection deferral: every session it held is sent the
 * current table and End-of-RIB (through `rfl_engine_poll_transmit`, a step at
 * a time); `*out_held` (may be NULL) gets how many sessions it held.
 */
rfl_result rfl_engine_end_deferral(struct rfl_engine *engine, uint32_t *out_held);

/**
 * Create an engine from `*config`; the caller owns `*out_engine` and frees it with `rfl_engine_free`.
 */
rfl_result rfl_engine_new(const struct rfl_engine_config *config,
                          struct rfl_engine **out_engine);

/**
 * Free an engine (NULL is ignored). The handle must not be used afterwards.
 */
rfl_result rfl_engine_free(struct rfl_engine *engine);

/**
 * Add a peer (down until `rfl_engine_peer_up`); its ID goes to `*out_peer`.
 */
rfl_result rfl_engine_add_peer(struct rfl_engine *engine,
                               const struct rfl_peer_config *config,
                               uint32_t *out_peer);

/**
 * Remove a peer: its routes are withdrawn everywhere and its ID is not reused.
 */
rfl_result rfl_engine_remove_peer(struct rfl_engine *engine, uint32_t peer);

/**
 * The session with `peer` is established with `*negotiated`: the whole table is
 * queued for it, then End-of-RIB per family.
 *
 * With `negotiated->graceful_restart` set (both sides advertised graceful
 * restart, RFC 4724 §4.2), the peer's stale paths (from
 * `rfl_engine_peer_down_graceful`) in `negotiated->graceful_restart_preserved`
 * stay until its End-of-RIB for the family (or `rfl_engine_restart_timer_expired`);
 * its stale paths in other families are removed now. Without it, every stale path goes.
 */
rfl_result rfl_engine_peer_up(struct rfl_engine *engine,
                              uint32_t peer,
                              const struct rfl_negotiated *negotiated);

/**
 * The session with `peer` went down without a NOTIFICATION and the peer had
 * advertised graceful restart (RFC 4724 §4.2): its paths in `families`
 * (RFL_FAMILY_* bits) stay candidates, marked stale, and nothing is withdrawn
 * for them; its paths in other families are withdrawn as by
 * `rfl_engine_peer_down`. Arm a timer with the peer's restart time
 * (`rfl_negotiated.graceful_restart_time`) and call
 * `rfl_engine_restart_timer_expired` if the session is not back in time.
 */
rfl_result rfl_engine_peer_down_graceful(struct rfl_engine *engine,
                                         uint32_t peer,
                                         uint32_t families);

/**
 * `peer`'s restart timer (or stale-path timer) expired: every path of the
 * peer still stale is removed (RFC 4724 §4.2). Nothing happens when none is stale.
 */
rfl_result rfl_engine_restart_timer_expired(struct rfl_engine *engine, uint32_t peer);

/**
 * The families (RFL_FAMILY_* bits) in which `peer` has stale paths, through
 * `*out_families`: after a graceful down until End-of-RIB, or during an
 * enhanced route refresh (RFC 7313) until EoRR.
 */
rfl_result rfl_engine_stale_families(const struct rfl_engine *engine,
                                     uint32_t peer,
                                     uint32_t *out_families);

/**
 * The session with `peer` went down: every path learned from it is withdrawn.
 */
rfl_result rfl_engine_peer_down(struct rfl_engine *engine, uint32_t peer);

/**
 * The IDs of the peers that exist (added, not removed), ascending, into
 * `out_peers` (capacity `out_cap`); `*out_count` gets the number. When
 * `out_cap` is too small, RFL_RESULT_BUFFER_TOO_SMALL with the count needed.
 */
rfl_result rfl_engine_peers(const struct rfl_engine *engine,
                            uint32_t *out_peers,
                            size_t out_cap,
                            size_t *out_count);

/**
 * `peer`'s configuration as added (its limits are set with their own
 * functions) into `*out_config` (set its `struct_size` first).
 */
rfl_result rfl_engine_peer_config(const struct rfl_engine *engine,
                                  uint32_t peer,
                                  struct rfl_peer_config *out_config);

/**
 * Whether `peer` is up, through `*out_up`.
 */
rfl_result rfl_engine_peer_is_up(const struct rfl_engine *engine, uint32_t peer, bool *out_up);

/**
 * Handle one framed BGP message (header included) received from `peer`.
 *
 * `*out_outcome` says what happened. For RFL_OUTCOME_KIND_RESET the
 * NOTIFICATION to send is copied to `notification_buf` (which may be NULL
 * with length 0 when the caller does not want it; RFL_MAX_NOTIFICATION_LEN
 * bytes always suffice) and its length is `out_outcome->notification_len`;
 * if it does not fit, the call returns RFL_RESULT_BUFFER_TOO_SMALL *with*
 * `*out_outcome` written (the message was handled and the peer is down) and
 * the bytes stay available from `rfl_engine_last_notification`.
 * Returns RFL_RESULT_PEER_NOT_UP when the peer is not up (the message is dropped).
 */
rfl_result rfl_engine_handle_message(struct rfl_engine *engine,
                                     uint32_t peer,
                                     const uint8_t *message,
                                     size_t message_len,
                                     uint8_t *notification_buf,
                                     size_t notification_buf_len,
                                     struct rfl_outcome *out_outcome);

/**
 * Copy the NOTIFICATION of the last RFL_OUTCOME_KIND_RESET into `buf`;
 * `*out_len` gets its length (or the needed size with RFL_RESULT_BUFFER_TOO_SMALL).
 * RFL_RESULT_NOT_FOUND when no message has reset a session yet.
 */
rfl_result rfl_engine_last_notification(const struct rfl_engine *engine,
                                        uint8_t *buf,
                                        size_t buf_len,
                                        size_t *out_len);

/**
 * Take the next message queued for `peer` into `buf`; `*out_len` gets its length.
 *
 * Pending changes are decided first. Returns RFL_RESULT_EMPTY when nothing is
 * queued. When the message does not fit, it stays queued and the call
 * returns RFL_RESULT_BUFFER_TOO_SMALL with the needed size in `*out_len`
 * (RFL_MAX_MESSAGE_LEN bytes always suffice; 4,096 without extended messages).
 */
rfl_result rfl_engine_poll_transmit(struct rfl_engine *engine,
                                    uint32_t peer,
                                    uint8_t *buf,
                                    size_t buf_len,
                                    size_t *out_len);

/**
 * Bytes queued for `peer` not yet taken (changes not yet decided are not counted).
 */
rfl_result rfl_engine_pending_bytes(const struct rfl_engine *engine,
                                    uint32_t peer,
                                    size_t *out_len);

/**
 * Queue `peer`'s routes of `family` (one RFL_FAMILY_* bit) again, then End-of-RIB.
 */
rfl_result rfl_engine_route_refresh(struct rfl_engine *engine, uint32_t peer, uint32_t family);

/**
 * Pause `peer`'s output: its socket takes nothing. The engine encodes
 * nothing more for it and keeps which prefixes change instead (what is
 * already queued stays queued); `rfl_engine_resume_transmit` sends it the
 * current state of those prefixes.
 */
rfl_result rfl_engine_pause_transmit(struct rfl_engine *engine, uint32_t peer);

/**
 * Let a paused `peer` catch up: its next step (at most 65,536 prefixes) is
 * queued now, the rest one step at a time as `rfl_engine_poll_transmit`
 * empties its queue. `*out_more` (may be NULL) tells whether more steps
 * are pending.
 */
rfl_result rfl_engine_resume_transmit(struct rfl_engine *engine, uint32_t peer, bool *out_more);

/**
 * Limit the paths `peer` may have accepted in `family` (one RFL_FAMILY_*
 * bit) to `max`; `max` 0 removes the limit. Crossing it raises an
 * `RFL_EVENT_KIND_PREFIX_LIMIT` event and, unless `warning_only`, ends the
 * session: `rfl_engine_handle_message` returns the Cease / Maximum Number of
 * Prefixes Reached NOTIFICATION (RFC 4486) to send.
 */
rfl_result rfl_engine_set_prefix_limit(struct rfl_engine *engine,
                                       uint32_t peer,
                                       uint32_t family,
                                       uint32_t max,
                                       bool warning_only);

/**
 * Refuse ADD-PATH paths from `peer` beyond `max` per prefix (0: no limit);
 * each refusal is counted and raises an `RFL_EVENT_KIND_PATH_LIMIT` event.
 */
rfl_result rfl_engine_set_max_paths_per_prefix(struct rfl_engine *engine,
                                               uint32_t peer,
                                               uint16_t max);

/**
 * Originate `*prefix` from this engine with next hop `*next_hop` and the path
 * attributes in `attrs` (wire-format TLVs; NULL with length 0 for none;
 * ORIGIN IGP and an empty AS_PATH are added when absent; NEXT_HOP and MP
 * attributes in `attrs` are ignored).
 */
rfl_result rfl_engine_originate(struct rfl_engine *engine,
                                const struct rfl_prefix *prefix,
                                const struct rfl_addr *next_hop,
                                const uint8_t *attrs,
                                size_t attrs_len);

/**
 * Withdraw a route this engine originated; RFL_RESULT_NOT_FOUND if there was none.
 */
rfl_result rfl_engine_withdraw_local(struct rfl_engine *engine, const struct rfl_prefix *prefix);

/**
 * The best path for `*prefix` into `*out_path`; RFL_RESULT_NOT_FOUND when it has none.
 * Call after `rfl_engine_poll_transmit` or `rfl_engine_flush` to see the latest UPDATEs decided.
 */
rfl_result rfl_engine_best(const struct rfl_engine *engine,
                           const struct rfl_prefix *prefix,
                           struct rfl_path *out_path);

/**
 * Every candidate path for `*prefix`, best first, into `out_paths` (capacity
 * `out_cap` elements); `*out_count` gets the number. When `out_cap` is too
 * small, RFL_RESULT_BUFFER_TOO_SMALL with the count needed in `*out_count`.
 * No candidates: RFL_RESULT_OK with a count of 0.
 */
rfl_result rfl_engine_candidates(const struct rfl_engine *engine,
                                 const struct rfl_prefix *prefix,
                                 struct rfl_path *out_paths,
                                 size_t out_cap,
                                 size_t *out_count);

/**
 * The canonical attribute bytes (wire TLVs, 4-octet AS) of attribute set
 * `attrs` (from `rfl_path.attrs`), borrowed from the engine: valid until the
 * next call taking a non-const engine pointer, or until the engine is freed.
 */
rfl_result rfl_engine_attr_set(const struct rfl_engine *engine,
                               uint32_t attrs,
                               const uint8_t **out_bytes,
                               size_t *out_len);

/**
 * Snapshot the Loc-RIB (every prefix with its best path; IPv4 then IPv6, each
 * ascending) into a new iterator `*out_iter`, owned by the caller and freed with
 * `rfl_loc_rib_iter_free`. The snapshot does not change with the engine.
 */
rfl_result rfl_engine_loc_rib(const struct rfl_engine *engine, struct rfl_loc_rib_iter **out_iter);

/**
 * The number of entries in the snapshot, through `*out_count`.
 */
rfl_result rfl_loc_rib_iter_count(struct rfl_loc_rib_iter *iter, size_t *out_count);

/**
 * The next prefix and its best path; RFL_RESULT_EMPTY after the last one.
 */
rfl_result rfl_loc_rib_iter_next(struct rfl_loc_rib_iter *iter,
                                 struct rfl_prefix *out_prefix,
                                 struct rfl_path *out_path);

/**
 * Free a Loc-RIB iterator (NULL is ignored).
 */
rfl_result rfl_loc_rib_iter_free(struct rfl_loc_rib_iter *iter);

/**
 * Decide every pending change now (otherwise done by the next `rfl_engine_poll_transmit`).
 */
rfl_result rfl_engine_flush(struct rfl_engine *engine);

/**
 * `peer`'s counters into `*out_counters`.
 */
rfl_result rfl_engine_counters(const struct rfl_engine *engine,
                               uint32_t peer,
                               struct rfl_peer_counters *out_counters);

/**
 * Memory held by the RIB, into `*out_stats`.
 */
rfl_result rfl_engine_memory(const struct rfl_engine *engine, struct rfl_memory_stats *out_stats);

/**
 * The next event (oldest first) into `*out_event`; RFL_RESULT_EMPTY when there is none.
 * Events are recorded only with `rfl_engine_config.record_events`.
 */
rfl_result rfl_engine_poll_event(struct rfl_engine *engine, struct rfl_event *out_event);

/**
 * Events dropped because the queue was full (`max_events`), through `*out_dropped`.
 */
rfl_result rfl_engine_events_dropped(const struct rfl_engine *engine, uint64_t *out_dropped);

/**
 * Snapshot `peer`'s Adj-RIB-In as the engine keeps it (the paths it accepted
 * from the peer, after import policy, each with its prefix; IPv4 then IPv6,
 * ascending) into a new iterator `*out_iter` (free with `rfl_loc_rib_iter_free`;
 * read with `rfl_loc_rib_iter_next`). Every path is there, best or not.
 */
rfl_result rfl_engine_adj_rib_in(const struct rfl_engine *engine,
                                 uint32_t peer,
                                 struct rfl_loc_rib_iter **out_iter);

/**
 * Snapshot what the engine advertises to `peer` now (its Adj-RIB-Out: the
 * best paths the RFC 4456 rules, the well-known communities and its export
 * policy let through; IPv4 then IPv6, ascending), each with its Loc-RIB
 * attributes (before the rewrite for `peer`), as a new iterator `*out_iter`
 * (free with `rfl_loc_rib_iter_free`). Empty while `peer` is down.
 */
rfl_result rfl_engine_adj_rib_out(const struct rfl_engine *engine,
                                  uint32_t peer,
                                  struct rfl_loc_rib_iter **out_iter);

/**
 * Limit the attribute-set memory `peer`'s routes may hold to `max_bytes`
 * (0: no limit); routes that would go past it are refused and raise an
 * `RFL_EVENT_KIND_ATTR_MEMORY_LIMIT` event.
 */
rfl_result rfl_engine_set_attr_memory_limit(struct rfl_engine *engine,
                                            uint32_t peer,
                                            uint64_t max_bytes);

/**
 * Bytes of attribute sets `peer`'s routes hold, through `*out_bytes`.
 */
rfl_result rfl_engine_attr_bytes(const struct rfl_engine *engine,
                                 uint32_t peer,
                                 uint64_t *out_bytes);

/**
 * Paths accepted from `peer` in `family` (one RFL_FAMILY_* bit), through `*out_paths`.
 */
rfl_result rfl_engine_accepted_paths(const struct rfl_engine *engine,
                                     uint32_t peer,
                                     uint32_t family,
                                     uint64_t *out_paths);

/**
 * `peer`'s output state: `*out_paused` (paused by `rfl_engine_pause_transmit`),
 * `*out_catching_up` (resumed, more steps pending) and `*out_pending_prefixes`
 * (prefixes waiting to be sent). Any out-pointer may be NULL.
 */
rfl_result rfl_engine_transmit_state(const struct rfl_engine *engine,
                                     uint32_t peer,
                                     bool *out_paused,
                                     bool *out_catching_up,
                                     size_t *out_pending_prefixes);

/**
 * Install the next-hop resolver `callback` with `userdata` (or remove it with
 * NULL: every next hop is then reachable at cost 0). Every prefix is decided
 * again at the next flush. `userdata` must stay valid while installed.
 */
rfl_result rfl_engine_set_resolver(struct rfl_engine *engine,
                                   rfl_resolver_callback callback,
                                   void *userdata);

/**
 * Tell the engine that next-hop reachability or costs changed: every prefix is decided again.
 */
rfl_result rfl_engine_resolver_changed(struct rfl_engine *engine);

/**
 * The number of prefixes in the Loc-RIB (IPv4 into `*out_v4`, IPv6 into `*out_v6`).
 */
rfl_result rfl_engine_prefix_counts(const struct rfl_engine *engine,
                                    size_t *out_v4,
                                    size_t *out_v6);

/**
 * Snapshot the routes of one family beyond unicast (`family`: one RFL_FAMILY_*
 * bit other than the unicast ones) into a new iterator `*out_iter`, owned by
 * the caller and freed with `rfl_keyed_iter_free`: each route with the NLRI
 * its best path came with (without path identifier: a VPN route's labels, RD
 * and prefix) and that path. The snapshot does not change with the engine.
 */
rfl_result rfl_engine_keyed_routes(const struct rfl_engine *engine,
                                   uint32_t family,
                                   struct rfl_keyed_iter **out_iter);

/**
 * The number of routes in the snapshot, through `*out_count`.
 */
rfl_result rfl_keyed_iter_count(struct rfl_keyed_iter *iter, size_t *out_count);

/**
 * The next route: `*out_nlri` / `*out_nlri_len` its best path's NLRI (valid
 * until the iterator is freed), `*out_path` that path; RFL_RESULT_EMPTY after the last one.
 */
rfl_result rfl_keyed_iter_next(struct rfl_keyed_iter *iter,
                               const uint8_t **out_nlri,
                               size_t *out_nlri_len,
                               struct rfl_path *out_path);

/**
 * Free a keyed-route iterator (NULL is ignored).
 */
rfl_result rfl_keyed_iter_free(struct rfl_keyed_iter *iter);

/**
 * Create an empty policy named `name` (NUL-terminated UTF-8, copied) whose
 * `default_verdict` (an rfl_verdict) applies when no statement accepts or
 * rejects a route. The caller owns `*out_policy` and frees it with
 * `rfl_policy_free`; installing it on a peer copies it.
 */
rfl_result rfl_policy_new(const char *name,
                          uint32_t default_verdict,
                          struct rfl_policy **out_policy);

/**
 * Free a policy (NULL is ignored). Peers it was installed on keep their copy.
 */
rfl_result rfl_policy_free(struct rfl_policy *policy);

/**
 * The number of statements in `policy`, through `*out_count`.
 */
rfl_result rfl_policy_statement_count(const struct rfl_policy *policy, size_t *out_count);

/**
 * Append `statement` to `policy`. On RFL_RESULT_OK the policy takes the
 * statement over: the `statement` handle is freed and must not be used again.
 * On an error the caller still owns it.
 */
rfl_result rfl_policy_add_statement(struct rfl_policy *policy, struct rfl_statement *statement);

/**
 * Create a statement named `name` (NUL-terminated UTF-8, copied) with no
 * conditions (it always holds), no actions, and `verdict` (an rfl_verdict).
 * The caller owns `*out_statement` until `rfl_policy_add_statement` takes it
 * over, or frees it with `rfl_statement_free`.
 */
rfl_result rfl_statement_new(const char *name,
                             uint32_t verdict,
                             struct rfl_statement **out_statement);

/**
 * Free a statement not handed to a policy (NULL is ignored).
 */
rfl_result rfl_statement_free(struct rfl_statement *statement);

/**
 * Add a condition: the route matches `value` (NUL-terminated text) of `kind`
 * (an rfl_match; see there for the text forms). Several values of one kind
 * (one call each) are alternatives; different kinds must all hold. A value
 * that does not parse gives RFL_RESULT_INVALID_PARAMETER and the message
 * (from `rfl_last_error`) names the form expected; the statement is unchanged.
 * A second AS path pattern or AS path length gives RFL_RESULT_INVALID_STATE.
 */
rfl_result rfl_statement_match(struct rfl_statement *statement, uint32_t kind, const char *value);

/**
 * Add a negated condition: the route matches none of the values of `kind`
 * given through this call (as in `rfl_statement_match`; values of one kind
 * gather in one negated condition: "not any of these").
 */
rfl_result rfl_statement_match_not(struct rfl_statement *statement,
                                   uint32_t kind,
                                   const char *value);

/**
 * Add an action, applied in the order added when the conditions hold: `kind`
 * (an rfl_set; see there for the text forms) with `value` (NUL-terminated
 * text; may be NULL for RFL_SET_REMOVE_MED). Successive calls with the same
 * community kind extend one action (RFL_SET_COMMUNITY_REPLACE twice sets a
 * list of two). Errors as `rfl_statement_match`.
 */
rfl_result rfl_statement_set(struct rfl_statement *statement, uint32_t kind, const char *value);

/**
 * Set `peer`'s import policy to a copy of `policy` (NULL clears it; the caller
 * keeps owning `policy` and may free or change it afterwards). Routes the
 * peer already sent stay as the old policy left them; `*out_reimport` (may
 * be NULL) says whether to ask for them again (see rfl_reimport).
 */
rfl_result rfl_engine_set_import_policy(struct rfl_engine *engine,
                                        uint32_t peer,
                                        const struct rfl_policy *policy,
                                        rfl_reimport *out_reimport);

/**
 * Set `peer`'s export policy to a copy of `policy` (NULL clears it; ownership
 * as `rfl_engine_set_import_policy`). On a live session the difference is
 * queued now: prefixes the new policy lets through with other attributes are
 * announced again, prefixes it now refuses are withdrawn.
 */
rfl_result rfl_engine_set_export_policy(struct rfl_engine *engine,
                                        uint32_t peer,
                                        const struct rfl_policy *policy);

/**
 * Queue a ROUTE-REFRESH request (RFC 2918) to `peer` for `family` (one
 * RFL_FAMILY_* bit); `rfl_engine_poll_transmit` hands it out.
 * RFL_RESULT_PEER_NOT_UP when the peer is down, RFL_RESULT_INVALID_PARAMETER
 * when the session did not negotiate the family.
 */
rfl_result rfl_engine_request_refresh(struct rfl_engine *engine, uint32_t peer, uint32_t family);

/**
 * RFC 8212: with `required` (the default), an eBGP peer without an import
 * policy has every route it sends rejected, and one without an export policy
 * is sent nothing; `false` is the explicit opt-out.
 *
 * Must be called before the first `rfl_engine_add_peer` and
 * `rfl_engine_originate` (the engine is rebuilt with the setting; events not
 * yet taken are dropped); later calls that change the setting return
 * RFL_RESULT_INVALID_STATE.
 */
rfl_result rfl_engine_set_ebgp_requires_policy(struct rfl_engine *engine, bool required);

/**
 * Whether RFC 8212 default-deny toward and from eBGP is on, through `*out_required`.
 */
rfl_result rfl_engine_ebgp_requires_policy(const struct rfl_engine *engine, bool *out_required);

/**
 * Set (or with a NULL `callback` clear) the hook run on every route `peer`
 * sends us, after its import policy (when it has one; a hook alone counts as
 * an import policy for RFC 8212). `user_data` is passed to every call and
 * must stay valid until the hook is replaced or cleared, the peer removed, or
 * the engine freed. `*out_reimport` (may be NULL) as in
 * `rfl_engine_set_import_policy`. See rfl_hook_callback for when and where it runs.
 */
rfl_result rfl_engine_set_import_hook(struct rfl_engine *engine,
                                      uint32_t peer,
                                      rfl_hook_callback callback,
                                      void *user_data,
                                      rfl_reimport *out_reimport);

/**
 * Set (or with a NULL `callback` clear) the hook run on every route about to
 * be sent to `peer`, after its export policy (a hook alone counts as an
 * export policy for RFC 8212). On a live session the difference is queued
 * now, so the callback already runs during this call. `user_data` as in
 * `rfl_engine_set_import_hook`.
 */
rfl_result rfl_engine_set_export_hook(struct rfl_engine *engine,
                                      uint32_t peer,
                                      rfl_hook_callback callback,
                                      void *user_data);

/**
 * Edit: set LOCAL_PREF to `value`.
 */
rfl_result rfl_attr_edit_set_local_pref(struct rfl_attr_edit *edit, uint32_t value);

/**
 * Edit: set MULTI_EXIT_DISC to `value`.
 */
rfl_result rfl_attr_edit_set_med(struct rfl_attr_edit *edit, uint32_t value);

/**
 * Edit: remove MULTI_EXIT_DISC.
 */
rfl_result rfl_attr_edit_remove_med(struct rfl_attr_edit *edit);

/**
 * Edit: set the next hop to `*next_hop` (NEXT_HOP for IPv4 routes, the MP next hop otherwise).
 */
rfl_result rfl_attr_edit_set_next_hop(struct rfl_attr_edit *edit, const struct rfl_addr *next_hop);

/**
 * Edit: add the community `community` (ASN << 16 | VALUE) at the end, unless present.
 */
rfl_result rfl_attr_edit_add_community(struct rfl_attr_edit *edit, uint32_t community);

/**
 * Edit: remove the community `community` (ASN << 16 | VALUE).
 */
rfl_result rfl_attr_edit_remove_community(struct rfl_attr_edit *edit, uint32_t community);

/**
 * Edit: prepend `asn` `count` times (1..=255) to the AS path.
 */
rfl_result rfl_attr_edit_prepend(struct rfl_attr_edit *edit, uint32_t asn, uint8_t count);

/**
 * Edit: any statement action, by kind (an rfl_set) and text value, as `rfl_statement_set`.
 */
rfl_result rfl_attr_edit_set(struct rfl_attr_edit *edit, uint32_t kind, const char *value);

/**
 * Edit: replace the whole attribute block with `attrs` (`attrs_len` bytes of
 * path attribute TLVs, copied; the other edits of this call then apply to it).
 * It must hold ORIGIN and a 4-octet AS_PATH and no MP_REACH_NLRI,
 * MP_UNREACH_NLRI, AS4_PATH or AS4_AGGREGATOR; it is sorted by type code.
 * RFL_RESULT_MALFORMED otherwise (the edit is then unchanged). The MP next
 * hop stays; change it with `rfl_attr_edit_set_next_hop`.
 */
rfl_result rfl_attr_edit_set_block(struct rfl_attr_edit *edit,
                                   const uint8_t *attrs,
                                   size_t attrs_len);

/**
 * Fill `*out_config` (`config_size` bytes: pass `sizeof *out_config`) with
 * defaults: IPv4 and IPv6 unicast, route refresh, enhanced route refresh,
 * extended messages, graceful restart (120 s), hold time 90 s, connect retry
 * 5 s, active, any peer AS; sets its `struct_size`.
 */
rfl_result rfl_session_config_init(uint32_t local_as,
                                   uint32_t router_id,
                                   struct rfl_session_config *out_config,
                                   size_t config_size);

/**
 * Create a session in Idle from `*config`; the caller owns `*out_session`
 * and frees it with `rfl_session_free`.
 */
rfl_result rfl_session_new(const struct rfl_session_config *config,
                           struct rfl_session **out_session);

/**
 * Free a session (NULL is ignored). The handle must not be used afterwards.
 */
rfl_result rfl_session_free(struct rfl_session *session);

/**
 * ManualStart: connect (a CONNECT event follows), or wait for the peer when passive.
 */
rfl_result rfl_session_start(struct rfl_session *session, uint64_t now_ms);

/**
 * ManualStop: send a Cease NOTIFICATION for `reason` (an rfl_stop_reason) if
 * connected, then Idle. `text` (UTF-8, `text_len` bytes, NULL with 0 for
 * none) is the shutdown communication for SHUTDOWN and RESET.
 */
rfl_result rfl_session_stop(struct rfl_session *session,
                            uint32_t reason,
                            const char *text,
                            size_t text_len);

/**
 * The TCP connection is up: the session sends its OPEN.
 */
rfl_result rfl_session_tcp_connected(struct rfl_session *session, uint64_t now_ms);

/**
 * The outgoing connection attempt failed: wait for the connect-retry timer.
 */
rfl_result rfl_session_tcp_failed(struct rfl_session *session, uint64_t now_ms);

/**
 * The connection closed under the session (EOF or error on the socket).
 */
rfl_result rfl_session_tcp_closed(struct rfl_session *session, uint64_t now_ms);

/**
 * Bytes read from the connection (`data_len` bytes; any split of the stream).
 */
rfl_result rfl_session_handle_bytes(struct rfl_session *session,
                                    uint64_t now_ms,
                                    const uint8_t *data,
                                    size_t data_len);

/**
 * Send this NOTIFICATION (a whole message, header included, e.g. from an
 * RFL_OUTCOME_KIND_RESET outcome) and close the session.
 */
rfl_result rfl_session_send_notification(struct rfl_session *session,
                                         const uint8_t *notification,
                                         size_t notification_len);

/**
 * Timers: call at (or after) the deadline `rfl_session_poll_timeout` gives.
 */
rfl_result rfl_session_handle_timeout(struct rfl_session *session, uint64_t now_ms);

/**
 * The earliest armed deadline (milliseconds, the caller's clock) into
 * `*out_deadline_ms`; RFL_RESULT_EMPTY when no timer is armed.
 */
rfl_result rfl_session_poll_timeout(const struct rfl_session *session, uint64_t *out_deadline_ms);

/**
 * Bytes to write to the connection, into `buf` (up to `buf_len`); `*out_len`
 * gets how many were copied. RFL_RESULT_EMPTY when nothing is waiting. What
 * does not fit stays for the next call; any buffer size works.
 */
rfl_result rfl_session_poll_transmit(struct rfl_session *session,
                                     uint8_t *buf,
                                     size_t buf_len,
                                     size_t *out_len);

/**
 * The next event into `*out_event`; RFL_RESULT_EMPTY when there is none.
 */
rfl_result rfl_session_poll_event(struct rfl_session *session, struct rfl_session_event *out_event);

/**
 * The current state into `*out_state`.
 */
rfl_result rfl_session_get_state(const struct rfl_session *session, rfl_session_state *out_state);

/**
 * What the OPEN exchange negotiated, graceful restart included, into
 * `*out_negotiated` (set its `struct_size` first; from OpenConfirm on), ready for
 * `rfl_engine_peer_up`; RFL_RESULT_INVALID_STATE before that.
 */
rfl_result rfl_session_negotiated(const struct rfl_session *session,
                                  struct rfl_negotiated *out_negotiated);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* REFLECTOR_H */
