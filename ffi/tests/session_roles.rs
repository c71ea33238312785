//! BGP Roles (RFC 9234) and extended next hop (RFC 8950) through the C
//! session ABI: two `rfl_session`s joined in memory, configured only through
//! `rfl_session_config`, negotiate what the RFC says.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::ptr;

use reflector::engine::rfl_negotiated;
use reflector::rfl_result;
use reflector::session::*;

struct Side {
    s: *mut rfl_session,
    events: Vec<(rfl_session_event_kind, u8, u8, bool, u8, u32)>,
}

fn side(asn: u32, rid: u32, passive: bool, role: Option<u8>, strict: bool, enh: bool) -> Side {
    unsafe {
        let mut c = std::mem::zeroed::<rfl_session_config>();
        assert_eq!(
            rfl_session_config_init(asn, rid, &mut c, std::mem::size_of_val(&c)),
            rfl_result::Ok
        );
        assert!(
            !c.has_local_role && !c.strict_role && !c.extended_next_hop,
            "defaults"
        );
        c.passive = passive;
        c.has_local_role = role.is_some();
        c.local_role = role.unwrap_or(0);
        c.strict_role = strict;
        c.extended_next_hop = enh;
        let mut s = ptr::null_mut();
        assert_eq!(rfl_session_new(&c, &mut s), rfl_result::Ok);
        assert_eq!(rfl_session_start(s, 0), rfl_result::Ok);
        assert_eq!(rfl_session_tcp_connected(s, 0), rfl_result::Ok);
        Side {
            s,
            events: Vec::new(),
        }
    }
}

/// Move bytes both ways until nothing moves (bounded); collect the events.
fn pump(a: &mut Side, b: &mut Side) {
    let mut buf = vec![0u8; 65536];
    for _ in 0..50 {
        let mut moved = false;
        for (from, to) in [(a.s, b.s), (b.s, a.s)] {
            loop {
                let mut n = 0usize;
                let r =
                    unsafe { rfl_session_poll_transmit(from, buf.as_mut_ptr(), buf.len(), &mut n) };
                if r != rfl_result::Ok {
                    break;
                }
                moved = true;
                unsafe { rfl_session_handle_bytes(to, 1, buf.as_ptr(), n) };
            }
        }
        for x in [&mut *a, &mut *b] {
            let mut ev = unsafe { std::mem::zeroed::<rfl_session_event>() };
            ev.struct_size = std::mem::size_of_val(&ev) as u32;
            while unsafe { rfl_session_poll_event(x.s, &mut ev) } == rfl_result::Ok {
                let mut n = unsafe { std::mem::zeroed::<rfl_negotiated>() };
                n.struct_size = std::mem::size_of_val(&n) as u32;
                if ev.kind == rfl_session_event_kind::Established {
                    assert_eq!(
                        unsafe { rfl_session_negotiated(x.s, &mut n) },
                        rfl_result::Ok
                    );
                }
                x.events.push((
                    ev.kind,
                    ev.error_code,
                    ev.error_subcode,
                    n.has_remote_role,
                    n.remote_role,
                    n.extended_next_hop,
                ));
            }
        }
        if !moved {
            break;
        }
    }
}

fn free(x: Side) {
    unsafe { assert_eq!(rfl_session_free(x.s), rfl_result::Ok) };
}

fn established(x: &Side) -> Option<(bool, u8, u32)> {
    x.events
        .iter()
        .find(|e| e.0 == rfl_session_event_kind::Established)
        .map(|e| (e.3, e.4, e.5))
}

#[test]
fn rfc9234_roles_from_the_c_session_config_negotiate_and_mismatch() {
    // Provider (0) and Customer (3): established, each sees the other's role.
    let mut a = side(64512, 1, false, Some(0), true, false);
    let mut b = side(65001, 2, true, Some(3), true, false);
    pump(&mut a, &mut b);
    assert_eq!(established(&a), Some((true, 3, 0)), "{:?}", a.events);
    assert_eq!(established(&b), Some((true, 0, 0)), "{:?}", b.events);
    free(a);
    free(b);
    // Customer and Customer: 2/11 Role Mismatch, never established.
    let mut a = side(64512, 1, false, Some(3), false, false);
    let mut b = side(65001, 2, true, Some(3), false, false);
    pump(&mut a, &mut b);
    assert!(established(&a).is_none() && established(&b).is_none());
    let sent = a
        .events
        .iter()
        .chain(&b.events)
        .any(|e| e.0 == rfl_session_event_kind::NotificationSent && (e.1, e.2) == (2, 11));
    assert!(sent, "{:?} / {:?}", a.events, b.events);
    free(a);
    free(b);
    // Strict mode: a peer that sends no role is refused.
    let mut a = side(64512, 1, false, Some(0), true, false);
    let mut b = side(65001, 2, true, None, false, false);
    pump(&mut a, &mut b);
    assert!(established(&a).is_none());
    assert!(a
        .events
        .iter()
        .any(|e| e.0 == rfl_session_event_kind::NotificationSent && (e.1, e.2) == (2, 11)));
    free(a);
    free(b);
    // A role outside 0-4 is refused at creation.
    unsafe {
        let mut c = std::mem::zeroed::<rfl_session_config>();
        rfl_session_config_init(64512, 1, &mut c, std::mem::size_of_val(&c));
        c.has_local_role = true;
        c.local_role = 5;
        let mut s = ptr::null_mut();
        assert_eq!(rfl_session_new(&c, &mut s), rfl_result::InvalidParameter);
    }
}

#[test]
fn rfc8950_extended_next_hop_from_the_c_session_config() {
    let mut a = side(64512, 1, false, None, false, true);
    let mut b = side(64512, 2, true, None, false, true);
    pump(&mut a, &mut b);
    let (_, _, enh) = established(&a).expect("established");
    assert_ne!(enh & 1, 0, "IPv4 unicast with IPv6 next hops: {enh:#x}");
    free(a);
    free(b);
    let mut a = side(64512, 1, false, None, false, true);
    let mut b = side(64512, 2, true, None, false, false);
    pump(&mut a, &mut b);
    let (_, _, enh) = established(&a).expect("established");
    assert_eq!(enh, 0, "only one side advertised it");
    free(a);
    free(b);
}
