//! Random sequences of C ABI calls (libreflector, through reflector-ffi's
//! `extern "C"` functions): engines, peers, messages, polling, inspection
//! iterators, policies and statements, sessions, freed in any order, with
//! NULL pointers, unknown peer IDs, handles that are not handles (a zeroed
//! block), wrong struct sizes and short buffers where the ABI promises to
//! handle them. No call may crash or report a caught panic, and a handle is
//! never used after it is freed (that is undefined behaviour the ABI does
//! not promise to catch). The input is decoded into at most 256 calls.
#![no_main]

use core::ffi::{c_char, c_void};
use core::ptr::{null, null_mut};
use std::mem::size_of;

use libfuzzer_sys::fuzz_target;
use reflector::engine::*;
use reflector::inspect::*;
use reflector::policy::*;
use reflector::session::*;
use reflector::{rfl_addr, rfl_prefix, rfl_result};

/// Bytes consumed one decision at a time; zeros once exhausted.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = (self.u8() as usize).min(max).min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a.to_vec()
    }
    fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> Option<T> {
        if v.is_empty() {
            return None;
        }
        let i = self.u8() as usize % v.len();
        v.get(i).copied()
    }
    fn addr(&mut self) -> rfl_addr {
        let family = match self.u8() % 8 {
            0 => 6,
            7 => self.u8(), // mostly invalid
            _ => 4,
        };
        let mut octets = [0u8; 16];
        octets[0] = 10;
        octets[3] = self.u8() % 8;
        if family == 6 {
            octets[0] = 0x20;
            octets[1] = 0x01;
            octets[15] = self.u8() % 8;
        }
        rfl_addr { family, octets }
    }
    fn prefix(&mut self) -> rfl_prefix {
        let mut addr = self.addr();
        addr.octets[1] = self.u8();
        rfl_prefix {
            addr,
            len: self.u8() % 140,
        }
    }
    /// A struct size: mostly right, sometimes too small or larger (zero tail).
    fn size(&mut self, right: usize) -> usize {
        match self.u8() % 16 {
            0 => self.u8() as usize % right,
            1 => right + 8,
            _ => right,
        }
    }
    /// A NUL-terminated string, mostly a plausible policy value.
    fn text(&mut self) -> Vec<u8> {
        const VALUES: [&str; 8] = [
            "10.0.0.0/8{8,24}",
            "65000:*",
            "* 65001 ?",
            "200",
            "65000:100",
            "ipv4-unicast",
            "10.0.0.1",
            "",
        ];
        let mut v = if self.bool() {
            self.bytes(24)
        } else {
            VALUES[self.u8() as usize % VALUES.len()]
                .as_bytes()
                .to_vec()
        };
        v.retain(|&b| b != 0);
        v.push(0);
        v
    }
}

/// An UPDATE header with the body from the input (often malformed), or raw bytes.
fn message(inp: &mut Input<'_>) -> Vec<u8> {
    let body = inp.bytes(200);
    if inp.u8() % 4 == 0 {
        return body;
    }
    let mut m = vec![0xffu8; 16];
    let len = (19 + body.len()) as u16;
    m.extend_from_slice(&len.to_be_bytes());
    m.push(match inp.u8() % 8 {
        0 => 4,
        1 => 5,
        2 => 1,
        _ => 2,
    });
    m.extend_from_slice(&body);
    m
}

/// A sized struct with room behind it: the library may read or write up to
/// its `struct_size`, which the fuzzer sets up to 8 bytes past `T`.
#[repr(C)]
struct Big<T> {
    v: T,
    tail: [u64; 2],
}

/// A zeroed `Big<T>` (every sized struct is plain data, valid when zeroed).
unsafe fn big<T>() -> Box<Big<T>> {
    // SAFETY: the ABI structs are integers, bools, enums with a 0 variant and pointers.
    Box::new(unsafe { core::mem::zeroed::<Big<T>>() })
}

unsafe extern "C" fn resolver(_: *mut c_void, nh: *const rfl_addr, cost: *mut u32) -> bool {
    // SAFETY: the library passes valid pointers for the call.
    unsafe {
        *cost = u32::from((*nh).octets[3]);
        (*nh).octets[3] % 2 == 0
    }
}

fn ok(r: rfl_result) {
    assert_ne!(
        r,
        rfl_result::Panic,
        "a panic was caught inside the library"
    );
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    let mut engines: Vec<*mut rfl_engine> = Vec::new();
    let mut sessions: Vec<*mut rfl_session> = Vec::new();
    let mut policies: Vec<*mut rfl_policy> = Vec::new();
    let mut statements: Vec<*mut rfl_statement> = Vec::new();
    let mut iters: Vec<*mut rfl_loc_rib_iter> = Vec::new();
    // Not a handle: zeroed, aligned memory.
    let mut fake = [0u64; 64];
    let fake_ptr = fake.as_mut_ptr().cast::<c_void>();
    let mut buf = vec![0u8; RFL_MAX_MESSAGE_LEN];

    // SAFETY: every pointer passed is NULL (where the ABI checks it), a live
    // handle from the lists above, the zeroed block, or valid local memory
    // of the size passed.
    unsafe {
        for _ in 0..256 {
            if inp.0.is_empty() {
                break;
            }
            let op = inp.u8() % 24;
            let e = match inp.u8() % 16 {
                0 => null_mut(),
                1 => fake_ptr.cast::<rfl_engine>(),
                _ => inp.pick(&engines).unwrap_or(null_mut()),
            };
            let peer = inp.u8() as u32 % 6;
            match op {
                0 if engines.len() < 3 => {
                    let mut c_box = big::<rfl_engine_config>();
                    let c: *mut rfl_engine_config =
                        (&mut *c_box as *mut Big<rfl_engine_config>).cast::<rfl_engine_config>();
                    let sz = inp.size(size_of::<rfl_engine_config>());
                    ok(rfl_engine_config_init(65000, inp.u32() % 3, c, sz));
                    (*c).record_events = inp.bool();
                    (*c).max_events = inp.u8() as usize;
                    (*c).client_to_client = inp.bool();
                    let mut out = null_mut();
                    let r = rfl_engine_new(if inp.u8() == 0 { null() } else { c }, &mut out);
                    ok(r);
                    if r == rfl_result::Ok {
                        engines.push(out);
                    }
                }
                1 => {
                    let i = inp.u8() as usize;
                    if let Some(i) = (!engines.is_empty()).then(|| i % engines.len()) {
                        let x = engines.swap_remove(i);
                        ok(rfl_engine_free(x));
                    } else {
                        ok(rfl_engine_free(null_mut()));
                    }
                }
                2 => {
                    let a = inp.addr();
                    let mut c_box = big::<rfl_peer_config>();
                    let c: *mut rfl_peer_config =
                        (&mut *c_box as *mut Big<rfl_peer_config>).cast::<rfl_peer_config>();
                    let sz = inp.size(size_of::<rfl_peer_config>());
                    ok(rfl_peer_config_init(inp.u8() as u32 % 4, 65000, &a, c, sz));
                    (*c).add_path_send = inp.u8() as u32 % 4;
                    (*c).local_v4 = inp.addr();
                    let mut id = 0;
                    ok(rfl_engine_add_peer(e, c, &mut id));
                }
                3 => ok(rfl_engine_remove_peer(e, peer)),
                4 => {
                    let mut n_box = big::<rfl_negotiated>();
                    let n: *mut rfl_negotiated =
                        (&mut *n_box as *mut Big<rfl_negotiated>).cast::<rfl_negotiated>();
                    let sz = inp.size(size_of::<rfl_negotiated>());
                    ok(rfl_negotiated_unicast(inp.u32(), n, sz));
                    (*n).families = inp.u32() % 512;
                    (*n).add_path_receive = inp.u8() as u32;
                    (*n).enhanced_route_refresh = inp.bool();
                    (*n).graceful_restart = inp.bool();
                    (*n).graceful_restart_preserved = inp.u8() as u32;
                    ok(rfl_engine_peer_up(e, peer, n));
                }
                5 => match inp.u8() % 3 {
                    0 => ok(rfl_engine_peer_down(e, peer)),
                    1 => ok(rfl_engine_peer_down_graceful(e, peer, inp.u32() % 512)),
                    _ => ok(rfl_engine_restart_timer_expired(e, peer)),
                },
                6 => {
                    let m = message(&mut inp);
                    let mut oc_box = big::<rfl_outcome>();
                    let oc: *mut rfl_outcome =
                        (&mut *oc_box as *mut Big<rfl_outcome>).cast::<rfl_outcome>();
                    (*oc).struct_size = inp.size(size_of::<rfl_outcome>()) as u32;
                    let mut nb = [0u8; 64];
                    let nlen = inp.u8() as usize % 65;
                    ok(rfl_engine_handle_message(
                        e,
                        peer,
                        m.as_ptr(),
                        m.len(),
                        nb.as_mut_ptr(),
                        nlen,
                        oc,
                    ));
                }
                7 => {
                    let len = match inp.u8() % 3 {
                        0 => 0,
                        1 => inp.u8() as usize,
                        _ => buf.len(),
                    };
                    let mut n = 0;
                    for _ in 0..16 {
                        if rfl_engine_poll_transmit(e, peer, buf.as_mut_ptr(), len, &mut n)
                            != rfl_result::Ok
                        {
                            break;
                        }
                    }
                    ok(rfl_engine_pending_bytes(e, peer, &mut n));
                }
                8 => {
                    let mut ev_box = big::<rfl_event>();
                    let ev: *mut rfl_event =
                        (&mut *ev_box as *mut Big<rfl_event>).cast::<rfl_event>();
                    (*ev).struct_size = inp.size(size_of::<rfl_event>()) as u32;
                    ok(rfl_engine_poll_event(e, ev));
                    let mut c_box = big::<rfl_peer_counters>();
                    let c: *mut rfl_peer_counters =
                        (&mut *c_box as *mut Big<rfl_peer_counters>).cast::<rfl_peer_counters>();
                    (*c).struct_size = inp.size(size_of::<rfl_peer_counters>()) as u32;
                    ok(rfl_engine_counters(e, peer, c));
                    let mut m_box = big::<rfl_memory_stats>();
                    let m: *mut rfl_memory_stats =
                        (&mut *m_box as *mut Big<rfl_memory_stats>).cast::<rfl_memory_stats>();
                    (*m).struct_size = inp.size(size_of::<rfl_memory_stats>()) as u32;
                    ok(rfl_engine_memory(e, m));
                    let mut d = 0u64;
                    ok(rfl_engine_events_dropped(e, &mut d));
                    let mut f = 0u32;
                    ok(rfl_engine_stale_families(e, peer, &mut f));
                    ok(rfl_engine_attr_bytes(e, peer, &mut d));
                    ok(rfl_engine_accepted_paths(e, peer, inp.u32() % 512, &mut d));
                    let (mut a, mut b, mut n) = (false, false, 0usize);
                    ok(rfl_engine_transmit_state(
                        e,
                        peer,
                        &mut a,
                        null_mut(),
                        &mut n,
                    ));
                    ok(rfl_engine_transmit_state(
                        e,
                        peer,
                        null_mut(),
                        &mut b,
                        null_mut(),
                    ));
                    let (mut v4, mut v6) = (0usize, 0usize);
                    ok(rfl_engine_prefix_counts(e, &mut v4, &mut v6));
                    let mut up = false;
                    ok(rfl_engine_peer_is_up(e, peer, &mut up));
                    let mut ids = [0u32; 4];
                    let cap = inp.u8() as usize % 5;
                    ok(rfl_engine_peers(e, ids.as_mut_ptr(), cap, &mut n));
                    let mut pc_box = big::<rfl_peer_config>();
                    let pc: *mut rfl_peer_config =
                        (&mut *pc_box as *mut Big<rfl_peer_config>).cast::<rfl_peer_config>();
                    (*pc).struct_size = inp.size(size_of::<rfl_peer_config>()) as u32;
                    ok(rfl_engine_peer_config(e, peer, pc));
                }
                9 if iters.len() < 4 => {
                    let mut it = null_mut();
                    let r = match inp.u8() % 3 {
                        0 => rfl_engine_loc_rib(e, &mut it),
                        1 => rfl_engine_adj_rib_in(e, peer, &mut it),
                        _ => rfl_engine_adj_rib_out(e, peer, &mut it),
                    };
                    ok(r);
                    if r == rfl_result::Ok {
                        iters.push(it);
                    }
                }
                10 => {
                    let it = match inp.u8() % 8 {
                        0 => null_mut(),
                        1 => fake_ptr.cast::<rfl_loc_rib_iter>(),
                        _ => inp.pick(&iters).unwrap_or(null_mut()),
                    };
                    let mut p = rfl_prefix::default();
                    let mut path = rfl_path::default();
                    let mut n = 0usize;
                    ok(rfl_loc_rib_iter_count(it, &mut n));
                    for _ in 0..4 {
                        ok(rfl_loc_rib_iter_next(it, &mut p, &mut path));
                    }
                    if inp.bool() && !iters.is_empty() {
                        let i = inp.u8() as usize % iters.len();
                        ok(rfl_loc_rib_iter_free(iters.swap_remove(i)));
                    }
                }
                11 => {
                    let p = inp.prefix();
                    let nh = inp.addr();
                    let attrs = inp.bytes(32);
                    if inp.bool() {
                        ok(rfl_engine_originate(
                            e,
                            &p,
                            &nh,
                            attrs.as_ptr(),
                            attrs.len(),
                        ));
                    } else {
                        ok(rfl_engine_withdraw_local(e, &p));
                    }
                }
                12 => {
                    let p = inp.prefix();
                    let mut best = rfl_path::default();
                    ok(rfl_engine_best(e, &p, &mut best));
                    let mut paths = [rfl_path::default(); 4];
                    let mut n = 0usize;
                    let cap = inp.u8() as usize % 5;
                    ok(rfl_engine_candidates(
                        e,
                        &p,
                        paths.as_mut_ptr(),
                        cap,
                        &mut n,
                    ));
                    let (mut bp, mut bl) = (null(), 0usize);
                    ok(rfl_engine_attr_set(e, inp.u32() % 8, &mut bp, &mut bl));
                }
                13 => {
                    let f = 1u32 << (inp.u8() % 9);
                    match inp.u8() % 7 {
                        0 => ok(rfl_engine_route_refresh(e, peer, f)),
                        1 => ok(rfl_engine_pause_transmit(e, peer)),
                        2 => {
                            let mut more = false;
                            ok(rfl_engine_resume_transmit(e, peer, &mut more));
                        }
                        3 => ok(rfl_engine_set_prefix_limit(
                            e,
                            peer,
                            f,
                            inp.u8() as u32,
                            inp.bool(),
                        )),
                        4 => ok(rfl_engine_set_max_paths_per_prefix(
                            e,
                            peer,
                            inp.u8() as u16,
                        )),
                        5 => ok(rfl_engine_request_refresh(e, peer, f)),
                        _ => ok(rfl_engine_set_attr_memory_limit(e, peer, inp.u32() as u64)),
                    }
                }
                14 => {
                    if inp.bool() {
                        ok(rfl_engine_set_resolver(e, Some(resolver), null_mut()));
                    } else {
                        ok(rfl_engine_set_resolver(e, None, null_mut()));
                    }
                    ok(rfl_engine_resolver_changed(e));
                    ok(rfl_engine_flush(e));
                }
                15 if policies.len() < 3 => {
                    let name = inp.text();
                    let mut p = null_mut();
                    let r =
                        rfl_policy_new(name.as_ptr().cast::<c_char>(), inp.u8() as u32 % 4, &mut p);
                    ok(r);
                    if r == rfl_result::Ok {
                        policies.push(p);
                    }
                }
                16 if statements.len() < 4 => {
                    let name = inp.text();
                    let mut s = null_mut();
                    let r = rfl_statement_new(
                        name.as_ptr().cast::<c_char>(),
                        inp.u8() as u32 % 4,
                        &mut s,
                    );
                    ok(r);
                    if r == rfl_result::Ok {
                        statements.push(s);
                    }
                }
                17 => {
                    let s = match inp.u8() % 8 {
                        0 => null_mut(),
                        1 => fake_ptr.cast::<rfl_statement>(),
                        _ => inp.pick(&statements).unwrap_or(null_mut()),
                    };
                    let v = inp.text();
                    let kind = inp.u8() as u32 % 16;
                    match inp.u8() % 3 {
                        0 => ok(rfl_statement_match(s, kind, v.as_ptr().cast::<c_char>())),
                        1 => ok(rfl_statement_match_not(
                            s,
                            kind,
                            v.as_ptr().cast::<c_char>(),
                        )),
                        _ => ok(rfl_statement_set(s, kind, v.as_ptr().cast::<c_char>())),
                    }
                }
                18 => {
                    // A statement added to a policy belongs to it from then on.
                    let (Some(p), false) = (inp.pick(&policies), statements.is_empty()) else {
                        continue;
                    };
                    let i = inp.u8() as usize % statements.len();
                    let r = rfl_policy_add_statement(p, statements[i]);
                    ok(r);
                    if r == rfl_result::Ok {
                        statements.swap_remove(i);
                    }
                    let mut n = 0usize;
                    ok(rfl_policy_statement_count(p, &mut n));
                }
                19 => {
                    let p = match inp.u8() % 4 {
                        0 => null(),
                        _ => inp.pick(&policies).map_or(null(), |p| p.cast_const()),
                    };
                    let mut re = rfl_reimport::Nothing;
                    if inp.bool() {
                        ok(rfl_engine_set_import_policy(e, peer, p, &mut re));
                    } else {
                        ok(rfl_engine_set_export_policy(e, peer, p));
                    }
                    let mut on = false;
                    ok(rfl_engine_ebgp_requires_policy(e, &mut on));
                    if inp.u8() % 8 == 0 {
                        ok(rfl_engine_set_ebgp_requires_policy(e, inp.bool()));
                    }
                }
                20 => {
                    if inp.bool() && !policies.is_empty() {
                        let i = inp.u8() as usize % policies.len();
                        ok(rfl_policy_free(policies.swap_remove(i)));
                    } else if !statements.is_empty() {
                        let i = inp.u8() as usize % statements.len();
                        ok(rfl_statement_free(statements.swap_remove(i)));
                    } else {
                        ok(rfl_policy_free(null_mut()));
                        ok(rfl_statement_free(null_mut()));
                    }
                }
                21 if sessions.len() < 2 => {
                    let mut c_box = big::<rfl_session_config>();
                    let c: *mut rfl_session_config =
                        (&mut *c_box as *mut Big<rfl_session_config>).cast::<rfl_session_config>();
                    let sz = inp.size(size_of::<rfl_session_config>());
                    ok(rfl_session_config_init(65000, inp.u32() % 3, c, sz));
                    (*c).passive = inp.bool();
                    (*c).hold_time = inp.u8() as u16;
                    (*c).families = inp.u32() % 512;
                    let mut s = null_mut();
                    let r = rfl_session_new(c, &mut s);
                    ok(r);
                    if r == rfl_result::Ok {
                        ok(rfl_session_start(s, 0));
                        sessions.push(s);
                    }
                }
                22 => {
                    let s = match inp.u8() % 8 {
                        0 => null_mut(),
                        1 => fake_ptr.cast::<rfl_session>(),
                        _ => inp.pick(&sessions).unwrap_or(null_mut()),
                    };
                    let now = inp.u32() as u64;
                    match inp.u8() % 8 {
                        0 => ok(rfl_session_tcp_connected(s, now)),
                        1 => {
                            let m = message(&mut inp);
                            ok(rfl_session_handle_bytes(s, now, m.as_ptr(), m.len()));
                        }
                        2 => ok(rfl_session_handle_timeout(s, now)),
                        3 => {
                            let t = inp.bytes(16);
                            ok(rfl_session_stop(
                                s,
                                inp.u8() as u32 % 8,
                                t.as_ptr().cast::<c_char>(),
                                t.len(),
                            ));
                        }
                        4 => ok(rfl_session_tcp_closed(s, now)),
                        5 => {
                            let m = message(&mut inp);
                            ok(rfl_session_send_notification(s, m.as_ptr(), m.len()));
                        }
                        _ => ok(rfl_session_tcp_failed(s, now)),
                    }
                    let mut n = 0usize;
                    let len = inp.u8() as usize * 16;
                    ok(rfl_session_poll_transmit(s, buf.as_mut_ptr(), len, &mut n));
                    let mut ev_box = big::<rfl_session_event>();
                    let ev: *mut rfl_session_event =
                        (&mut *ev_box as *mut Big<rfl_session_event>).cast::<rfl_session_event>();
                    (*ev).struct_size = inp.size(size_of::<rfl_session_event>()) as u32;
                    for _ in 0..8 {
                        if rfl_session_poll_event(s, ev) != rfl_result::Ok {
                            break;
                        }
                    }
                    let mut d = 0u64;
                    ok(rfl_session_poll_timeout(s, &mut d));
                    let mut st = rfl_session_state::Idle;
                    ok(rfl_session_get_state(s, &mut st));
                    let mut neg_box = big::<rfl_negotiated>();
                    let neg: *mut rfl_negotiated =
                        (&mut *neg_box as *mut Big<rfl_negotiated>).cast::<rfl_negotiated>();
                    (*neg).struct_size = inp.size(size_of::<rfl_negotiated>()) as u32;
                    ok(rfl_session_negotiated(s, neg));
                }
                23 => {
                    if !sessions.is_empty() {
                        let i = inp.u8() as usize % sessions.len();
                        ok(rfl_session_free(sessions.swap_remove(i)));
                    }
                    let mut msg = [0 as c_char; 32];
                    let mut n = 0usize;
                    ok(reflector::rfl_last_error(
                        msg.as_mut_ptr(),
                        msg.len(),
                        &mut n,
                    ));
                    ok(reflector::rfl_last_error(null_mut(), 0, &mut n));
                }
                _ => {}
            }
        }
        for it in iters {
            ok(rfl_loc_rib_iter_free(it));
        }
        for s in statements {
            ok(rfl_statement_free(s));
        }
        for p in policies {
            ok(rfl_policy_free(p));
        }
        for s in sessions {
            ok(rfl_session_free(s));
        }
        for e in engines {
            ok(rfl_engine_free(e));
        }
    }
});
