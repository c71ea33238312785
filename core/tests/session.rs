//! The session state machine on scripted byte exchanges: OPENs, KEEPALIVEs,
//! UPDATEs and NOTIFICATIONs taken from real captures, timers driven by a
//! virtual clock, and two sessions talking to each other.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::Ipv4Addr;
use std::path::PathBuf;

use reflector_core::engine;
use reflector_core::session::{
    collision_survivor, shutdown_text, CloseReason, Session, SessionConfig, SessionEvent, State,
    StopReason, Survivor, OPEN_HOLD_MS,
};
use reflector_core::wire::capability::{AddPathFamily, BgpRole, Capability};
use reflector_core::wire::notification::NotificationRepr;
use reflector_core::wire::open::{Advertised, OpenPacket};
use reflector_core::wire::{AfiSafi, AfiSafiSet};
use reflector_testdata::pcap::{bgp_messages, CapturedMessage, StreamId};

const OPEN: u8 = 1;
const UPDATE: u8 = 2;
const NOTIFICATION: u8 = 3;
const KEEPALIVE: u8 = 4;

fn load(name: &str) -> Vec<CapturedMessage> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/pcap")
        .join(name);
    bgp_messages(&p).unwrap()
}

/// The captured messages of the first stream that sent an OPEN, in order.
fn first_open_stream(name: &str) -> (StreamId, Vec<Vec<u8>>) {
    let msgs = load(name);
    let stream = msgs.iter().find(|m| m.msg_type() == OPEN).unwrap().stream;
    let v = msgs
        .iter()
        .filter(|m| m.stream == stream)
        .map(|m| m.bytes.clone())
        .collect();
    (stream, v)
}

fn advertised(open: &[u8]) -> Advertised {
    Advertised::from_open(&OpenPacket::new_checked(open).unwrap())
}

/// A passive session for the peer that sent `open`, connected, with our OPEN taken out.
fn connected(cfg: SessionConfig) -> Session {
    let mut s = Session::new(cfg);
    s.start(0);
    assert_eq!(s.state(), State::Active);
    s.tcp_connected(0);
    assert_eq!(s.state(), State::OpenSent);
    let ours = s.poll_transmit().unwrap();
    assert_eq!(ours[18], OPEN);
    s
}

fn cfg_for(peer: &Advertised) -> SessionConfig {
    let mut c = SessionConfig::new(peer.asn, Ipv4Addr::new(192, 0, 2, 254), Some(peer.asn));
    c.passive = true;
    c
}

fn events(s: &mut Session) -> Vec<SessionEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

/// The NOTIFICATION (code, subcode, data) at the end of what the session wants to send.
fn sent_notification(s: &mut Session) -> (u8, u8, Vec<u8>) {
    let out = s.poll_transmit().expect("a NOTIFICATION to send");
    let n = reflector_testdata::pcap::split_messages(&out)
        .into_iter()
        .last()
        .unwrap()
        .to_vec();
    assert_eq!(n[18], NOTIFICATION, "last message sent is a NOTIFICATION");
    (n[19], n[20], n[21..].to_vec())
}

fn closed_with_notification(ev: &[SessionEvent]) -> NotificationRepr {
    match ev.last() {
        Some(SessionEvent::Closed(CloseReason::NotificationSent(n))) => n.clone(),
        other => panic!("expected Closed(NotificationSent), got {other:?}"),
    }
}

fn keepalive() -> Vec<u8> {
    let mut k = vec![0xff; 16];
    k.extend_from_slice(&[0, 19, KEEPALIVE]);
    k
}

#[test]
fn our_open_advertises_the_configured_capabilities() {
    let mut c = SessionConfig::new(4_200_000_001, Ipv4Addr::new(10, 0, 0, 1), None);
    c.add_path = vec![AddPathFamily {
        afi_safi: AfiSafi::IPV4_UNICAST,
        send_receive: 3,
    }];
    c.hold_time = 240;
    let mut s = Session::new(c);
    s.start(0);
    assert_eq!(s.state(), State::Connect);
    assert_eq!(s.poll_event(), Some(SessionEvent::Connect));
    s.tcp_connected(5);
    let open = s.poll_transmit().unwrap();
    let p = OpenPacket::new_checked(&open[..]).unwrap();
    assert_eq!(p.my_as(), 23456, "AS above 65535 goes in as AS_TRANS");
    assert_eq!(p.asn(), 4_200_000_001);
    assert_eq!(p.hold_time(), 240);
    assert_eq!(p.bgp_id_addr(), Ipv4Addr::new(10, 0, 0, 1));
    let codes: Vec<u8> = p.capabilities().map(|c| c.code()).collect();
    assert_eq!(codes, [1, 1, 2, 70, 6, 64, 65, 69]);
    for c in p.capabilities() {
        if let Capability::GracefulRestart {
            restart_time,
            families,
            ..
        } = c
        {
            assert_eq!(restart_time, 120);
            assert_eq!(families.count(), 0, "receiving speaker only");
        }
    }
    let a = advertised(&open);
    assert!(a.add_path_receive.contains(AfiSafi::IPV4_UNICAST));
    assert!(a.add_path_send.contains(AfiSafi::IPV4_UNICAST));
    // While waiting for the peer's OPEN the hold timer runs with the large value.
    assert_eq!(s.poll_timeout(), Some(5 + OPEN_HOLD_MS));
}

#[test]
fn captured_ibgp_exchange_reaches_established_and_delivers_updates() {
    let (_, msgs) = first_open_stream("IBGP_adjacency.cap");
    let open = &msgs[0];
    let peer = advertised(open);
    let mut s = connected(cfg_for(&peer));
    // The whole captured stream in 7-byte chunks: OPEN, KEEPALIVEs and UPDATEs.
    let stream: Vec<u8> = msgs.concat();
    for chunk in stream.chunks(7) {
        s.handle_bytes(1_000, chunk);
    }
    assert_eq!(s.state(), State::Established);
    let ev = events(&mut s);
    assert!(matches!(ev[0], SessionEvent::OpenReceived(a) if a == peer));
    let neg = match &ev[1] {
        SessionEvent::Established(n) => *n,
        other => panic!("expected Established, got {other:?}"),
    };
    assert_eq!(neg.peer_bgp_id, peer.bgp_id);
    assert_eq!(neg.peer_as, peer.asn);
    assert_eq!(neg.hold_time, peer.hold_time.min(90));
    let delivered: Vec<Vec<u8>> = ev[2..]
        .iter()
        .map(|e| match e {
            SessionEvent::Message(b) => b.to_vec(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    let expected: Vec<Vec<u8>> = msgs.iter().filter(|m| m[18] == UPDATE).cloned().collect();
    assert!(!expected.is_empty());
    assert_eq!(delivered, expected, "every UPDATE, byte for byte, in order");
    // The session answered the OPEN with a KEEPALIVE and nothing else.
    assert_eq!(s.poll_transmit().unwrap(), keepalive());
    // The engine's view of what was negotiated.
    let en = engine::Negotiated::from(&neg);
    assert_eq!(en.router_id, Ipv4Addr::from_bits(peer.bgp_id));
    assert!(en.families.contains(AfiSafi::IPV4_UNICAST));
}

#[test]
fn captured_add_path_open_negotiates_add_path_and_four_octet_as() {
    let (_, msgs) = first_open_stream("bgp-add-path.cap");
    let peer = advertised(&msgs[0]);
    assert!(peer.four_octet_as);
    let mut c = cfg_for(&peer);
    c.families = vec![AfiSafi::IPV4_UNICAST];
    c.add_path = vec![AddPathFamily {
        afi_safi: AfiSafi::IPV4_UNICAST,
        send_receive: 3,
    }];
    let mut s = connected(c);
    s.handle_bytes(0, &msgs[0]);
    s.handle_bytes(0, &keepalive());
    assert_eq!(s.state(), State::Established);
    let neg = *s.negotiated().unwrap();
    assert!(neg.four_octet_as);
    assert_eq!(
        neg.add_path_receive.contains(AfiSafi::IPV4_UNICAST),
        peer.add_path_send.contains(AfiSafi::IPV4_UNICAST)
    );
    assert_eq!(
        neg.add_path_send.contains(AfiSafi::IPV4_UNICAST),
        peer.add_path_receive.contains(AfiSafi::IPV4_UNICAST)
    );
    assert!(!neg.add_path_receive.is_empty() || !neg.add_path_send.is_empty());
    assert_eq!(neg.enhanced_route_refresh, peer.enhanced_route_refresh);
    // The captured UPDATEs carry path identifiers: the receive context says so.
    assert_eq!(
        s.receive_context().add_path(AfiSafi::IPV4_UNICAST),
        neg.add_path_receive.contains(AfiSafi::IPV4_UNICAST)
    );
}

#[test]
fn rfc4271_6_2_bad_peer_as_is_2_2() {
    let (_, msgs) = first_open_stream("IBGP_adjacency.cap");
    let peer = advertised(&msgs[0]);
    let mut c = cfg_for(&peer);
    c.peer_as = Some(peer.asn + 1);
    let mut s = connected(c);
    s.handle_bytes(0, &msgs[0]);
    let (code, sub, data) = sent_notification(&mut s);
    assert_eq!((code, sub), (2, 2));
    assert_eq!(data, msgs[0][20..22].to_vec(), "data: the My AS field");
    assert_eq!(s.state(), State::Idle);
    let ev = events(&mut s);
    assert_eq!(closed_with_notification(&ev).subcode, 2);
}

#[test]
fn rfc6286_ibgp_peer_with_our_identifier_is_2_3() {
    let (_, msgs) = first_open_stream("IBGP_adjacency.cap");
    let peer = advertised(&msgs[0]);
    let mut c = cfg_for(&peer);
    c.router_id = Ipv4Addr::from_bits(peer.bgp_id);
    let mut s = connected(c);
    s.handle_bytes(0, &msgs[0]);
    assert_eq!(code_sub(&mut s), (2, 3));
    let n = closed_with_notification(&events(&mut s));
    assert_eq!((n.code, n.subcode), (2, 3));
}

fn code_sub(s: &mut Session) -> (u8, u8) {
    let (c, sub, _) = sent_notification(s);
    (c, sub)
}

#[test]
fn hold_time_below_our_minimum_is_2_6() {
    let (_, msgs) = first_open_stream("IBGP_adjacency.cap");
    let peer = advertised(&msgs[0]);
    assert!(peer.hold_time > 0);
    let mut c = cfg_for(&peer);
    c.min_hold_time = peer.hold_time + 1;
    let mut s = connected(c);
    s.handle_bytes(0, &msgs[0]);
    assert_eq!(code_sub(&mut s), (2, 6));
}

/// A hold time equal to our minimum is acceptable (RFC 4271 §6.2: only one
/// below it, and 1 or 2, are refused); RFC 4271's own minimum, 3, included.
#[test]
fn hold_time_equal_to_our_minimum_is_accepted() {
    let (_, msgs) = first_open_stream("IBGP_adjacency.cap");
    let peer = advertised(&msgs[0]);
    let mut c = cfg_for(&peer);
    c.min_hold_time = peer.hold_time;
    let mut s = connected(c);
    s.handle_bytes(0, &msgs[0]);
    s.handle_bytes(0, &keepalive());
    assert_eq!(s.state(), State::Established);
    // A hold time of 3 against the default minimum of 3.
    let mut open = msgs[0].clone();
    open[22..24].copy_from_slice(&3u16.to_be_bytes());
    let mut s = connected(cfg_for(&peer));
    s.handle_bytes(0, &open);
    s.handle_bytes(0, &keepalive());
    assert_eq!(s.state(), State::Established);
    assert_eq!(s.negotiated().unwrap().hold_time, 3);
}

#[test]
fn rfc4271_6_2_hold_time_one_in_the_open_is_2_6() {
    let (_, msgs) = first_open_stream("IBGP_adjacency.cap");
    let peer = advertised(&msgs[0]);
    let mut open = msgs[0].clone();
    open[22..24].copy_from_slice(&1u16.to_be_bytes());
    let mut s = connected(cfg_for(&peer));
    s.handle_bytes(0, &open);
    assert_eq!(code_sub(&mut s), (2, 6));
}

#[test]
fn rfc4271_6_2_version_3_is_2_1_with_version_4_in_the_data() {
    let (_, msgs) = first_open_stream("IBGP_adjacency.cap");
    let peer = advertised(&msgs[0]);
    let mut open = msgs[0].clone();
    open[19] = 3;
    let mut s = connected(cfg_for(&peer));
    s.handle_bytes(0, &open);
    let (c, sub, data) = sent_notification(&mut s);
    assert_eq!((c, sub, data), (2, 1, vec![0, 4]));
}

/// Established with the captured IBGP OPEN at time `t`; returns the session and the negotiated hold time.
fn established(t: u64) -> (Session, Vec<Vec<u8>>, u16) {
    let (_, msgs) = first_open_stream("IBGP_adjacency.cap");
    let peer = advertised(&msgs[0]);
    let mut s = connected(cfg_for(&peer));
    s.handle_bytes(t, &msgs[0]);
    s.handle_bytes(t, &keepalive());
    assert_eq!(s.state(), State::Established);
    let hold = s.negotiated().unwrap().hold_time;
    s.poll_transmit();
    events(&mut s);
    (s, msgs, hold)
}

#[test]
fn rfc4271_10_keepalives_every_third_of_the_hold_time() {
    let (mut s, _, hold) = established(1_000);
    assert!(hold >= 3);
    let ka = u64::from(hold) * 1000 / 3;
    assert_eq!(s.poll_timeout(), Some(1_000 + ka));
    s.handle_timeout(1_000 + ka - 1);
    assert_eq!(s.poll_transmit(), None, "not yet");
    // Three keepalive periods, each answered by the peer's KEEPALIVE: the session stays up.
    let mut now = 1_000;
    for _ in 0..3 {
        now += ka;
        s.handle_timeout(now);
        assert_eq!(s.poll_transmit().unwrap(), keepalive());
        s.handle_bytes(now, &keepalive());
    }
    assert_eq!(s.state(), State::Established);
    assert!(events(&mut s).is_empty());
}

#[test]
fn rfc4271_hold_timer_expiry_sends_4_0() {
    let (mut s, _, hold) = established(0);
    let hold_ms = u64::from(hold) * 1000;
    // Keepalives go out but the peer stays silent.
    let mut now = 0;
    while s.state() == State::Established {
        now = s.poll_timeout().unwrap();
        assert!(now <= hold_ms);
        s.handle_timeout(now);
    }
    assert_eq!(now, hold_ms);
    let out = s.poll_transmit().unwrap();
    let last = reflector_testdata::pcap::split_messages(&out)
        .pop()
        .unwrap()
        .to_vec();
    assert_eq!(&last[18..21], &[NOTIFICATION, 4, 0]);
    let n = closed_with_notification(&events(&mut s));
    assert_eq!((n.code, n.subcode), (4, 0));
    assert_eq!(s.poll_timeout(), None, "no timer once Idle");
}

#[test]
fn hold_time_zero_disables_both_timers() {
    let (_, msgs) = first_open_stream("IBGP_adjacency.cap");
    let peer = advertised(&msgs[0]);
    let mut open = msgs[0].clone();
    open[22..24].copy_from_slice(&0u16.to_be_bytes());
    let mut s = connected(cfg_for(&peer));
    s.handle_bytes(0, &open);
    s.handle_bytes(0, &keepalive());
    assert_eq!(s.state(), State::Established);
    assert_eq!(s.negotiated().unwrap().hold_time, 0);
    assert_eq!(s.poll_timeout(), None);
    s.handle_timeout(u64::MAX / 2);
    assert_eq!(s.state(), State::Established);
}

#[test]
fn rfc6608_unexpected_messages_are_5_1_5_2_5_3() {
    let (_, msgs) = first_open_stream("IBGP_adjacency.cap");
    let peer = advertised(&msgs[0]);
    let update = msgs.iter().find(|m| m[18] == UPDATE).unwrap().clone();
    // OpenSent: an UPDATE before the OPEN.
    let mut s = connected(cfg_for(&peer));
    s.handle_bytes(0, &update);
    assert_eq!(code_sub(&mut s), (5, 1));
    // OpenConfirm: an UPDATE before the KEEPALIVE.
    let mut s = connected(cfg_for(&peer));
    s.handle_bytes(0, &msgs[0]);
    s.poll_transmit();
    s.handle_bytes(0, &update);
    assert_eq!(code_sub(&mut s), (5, 2));
    // Established: a second OPEN.
    let (mut s, msgs, _) = established(0);
    s.handle_bytes(0, &msgs[0]);
    assert_eq!(code_sub(&mut s), (5, 3));
    assert_eq!(s.state(), State::Idle);
}

#[test]
fn rfc4271_6_1_header_errors_carry_their_data() {
    // Bad marker: 1/1.
    let (mut s, _, _) = established(0);
    let mut k = keepalive();
    k[3] = 0;
    s.handle_bytes(0, &k);
    assert_eq!(code_sub(&mut s), (1, 1));
    // Bad type: 1/3 with the type octet.
    let (mut s, _, _) = established(0);
    let mut k = keepalive();
    k[18] = 9;
    s.handle_bytes(0, &k);
    assert_eq!(sent_notification(&mut s), (1, 3, vec![9]));
    // Bad length: 1/2 with the length field; a 5,000-byte UPDATE without extended messages.
    let (mut s, _, _) = established(0);
    let mut k = keepalive();
    k[16..18].copy_from_slice(&5000u16.to_be_bytes());
    k[18] = UPDATE;
    s.handle_bytes(0, &k);
    assert_eq!(
        sent_notification(&mut s),
        (1, 2, 5000u16.to_be_bytes().to_vec())
    );
}

#[test]
fn captured_notification_closes_the_session() {
    let msgs = load("BGP_notification.cap");
    let open = msgs.iter().find(|m| m.msg_type() == OPEN).unwrap();
    let notif = msgs.iter().find(|m| m.msg_type() == NOTIFICATION).unwrap();
    let peer = advertised(&open.bytes);
    let mut s = connected(cfg_for(&peer));
    s.handle_bytes(0, &notif.bytes);
    assert_eq!(s.state(), State::Idle);
    let ev = events(&mut s);
    let n = match &ev[0] {
        SessionEvent::NotificationReceived(n) => n.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!((n.code, n.subcode), (notif.bytes[19], notif.bytes[20]));
    assert_eq!(n.code, 2, "SOURCES.md: an OPEN Message Error");
    assert_eq!(
        ev[1],
        SessionEvent::Closed(CloseReason::NotificationReceived(n))
    );
    assert_eq!(s.poll_transmit(), None, "nothing is sent in reply");
}

#[test]
fn rfc9003_captured_shutdown_communication_is_read() {
    let msgs = load("bgp-shutdown-communication.pcapng");
    let notif = &msgs
        .iter()
        .find(|m| m.msg_type() == NOTIFICATION)
        .unwrap()
        .bytes;
    let (mut s, _, _) = established(0);
    s.handle_bytes(0, notif);
    let ev = events(&mut s);
    let n = match &ev[0] {
        SessionEvent::NotificationReceived(n) => n.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!((n.code, n.subcode), (6, 2));
    let text = shutdown_text(&n).unwrap();
    assert_eq!(
        text.len(),
        52,
        "SOURCES.md: a 52-byte shutdown communication"
    );
    assert_eq!(text.as_bytes(), &notif[22..22 + 52]);
}

#[test]
fn rfc9003_stop_sends_cease_with_the_shutdown_text() {
    let (mut s, _, _) = established(0);
    let text = "maintenance: back in 10 minutes \u{2014} Reflector";
    s.stop(StopReason::Shutdown(text.to_string()));
    let (c, sub, data) = sent_notification(&mut s);
    assert_eq!((c, sub), (6, 2));
    assert_eq!(usize::from(data[0]), text.len());
    assert_eq!(&data[1..], text.as_bytes());
    let ev = events(&mut s);
    match &ev[0] {
        SessionEvent::NotificationSent(n) => assert_eq!(shutdown_text(n).unwrap(), text),
        other => panic!("{other:?}"),
    }
    assert_eq!(ev[1], SessionEvent::Closed(CloseReason::Stopped));
    // Stopping an Idle session sends nothing.
    s.stop(StopReason::Deconfigured);
    assert_eq!(s.poll_transmit(), None);
}

#[test]
fn active_session_retries_connecting_on_the_connect_retry_timer() {
    let mut c = SessionConfig::new(64512, Ipv4Addr::new(10, 0, 0, 1), Some(64512));
    c.connect_retry_ms = 2_000;
    let mut s = Session::new(c);
    s.start(100);
    assert_eq!(s.poll_event(), Some(SessionEvent::Connect));
    assert_eq!(s.poll_timeout(), Some(2_100));
    s.tcp_failed(150);
    assert_eq!(s.state(), State::Active);
    assert_eq!(s.poll_timeout(), Some(2_150));
    s.handle_timeout(2_150);
    assert_eq!(s.state(), State::Connect);
    assert_eq!(s.poll_event(), Some(SessionEvent::Connect));
    s.tcp_connected(2_200);
    assert_eq!(s.state(), State::OpenSent);
    assert_eq!(s.poll_timeout(), Some(2_200 + OPEN_HOLD_MS));
}

#[test]
fn rfc4271_6_8_collision_keeps_the_connection_of_the_higher_identifier() {
    let lo = Ipv4Addr::new(10, 0, 0, 1);
    let hi = Ipv4Addr::new(10, 0, 0, 2);
    assert_eq!(collision_survivor(hi, lo), Survivor::Outbound);
    assert_eq!(collision_survivor(lo, hi), Survivor::Inbound);
    // Compared as unsigned 32-bit numbers, not bytewise-signed.
    assert_eq!(
        collision_survivor(Ipv4Addr::new(200, 0, 0, 1), Ipv4Addr::new(100, 0, 0, 1)),
        Survivor::Outbound
    );
    // The side that gives up sends Cease / Connection Collision Resolution.
    let (mut s, _, _) = established(0);
    s.stop(StopReason::Collision);
    assert_eq!(code_sub(&mut s), (6, 7));
}

/// Move bytes between two sessions until both are quiet.
fn pump(a: &mut Session, b: &mut Session, now: u64) {
    for _ in 0..16 {
        let x = a.poll_transmit();
        let y = b.poll_transmit();
        if x.is_none() && y.is_none() {
            return;
        }
        if let Some(x) = x {
            b.handle_bytes(now, &x);
        }
        if let Some(y) = y {
            a.handle_bytes(now, &y);
        }
    }
    panic!("sessions did not go quiet");
}

#[test]
fn two_sessions_come_up_stay_up_for_an_hour_and_shut_down_cleanly() {
    let mut ca = SessionConfig::new(64512, Ipv4Addr::new(10, 0, 0, 1), Some(64512));
    ca.hold_time = 9;
    ca.add_path = vec![AddPathFamily {
        afi_safi: AfiSafi::IPV6_UNICAST,
        send_receive: 2,
    }];
    let mut cb = SessionConfig::new(64512, Ipv4Addr::new(10, 0, 0, 2), Some(64512));
    cb.passive = true;
    cb.hold_time = 30;
    cb.extended_message = false;
    cb.add_path = vec![AddPathFamily {
        afi_safi: AfiSafi::IPV6_UNICAST,
        send_receive: 1,
    }];
    let mut a = Session::new(ca);
    let mut b = Session::new(cb);
    a.start(0);
    b.start(0);
    assert_eq!(a.poll_event(), Some(SessionEvent::Connect));
    a.tcp_connected(0);
    b.tcp_connected(0);
    pump(&mut a, &mut b, 0);
    assert_eq!(
        (a.state(), b.state()),
        (State::Established, State::Established)
    );
    let na = *a.negotiated().unwrap();
    let nb = *b.negotiated().unwrap();
    assert_eq!((na.hold_time, nb.hold_time), (9, 9));
    assert!(!na.extended_message);
    assert_eq!(
        na.add_path_send,
        AfiSafiSet::EMPTY.with(AfiSafi::IPV6_UNICAST)
    );
    assert_eq!(
        nb.add_path_receive,
        AfiSafiSet::EMPTY.with(AfiSafi::IPV6_UNICAST)
    );
    assert!(na.add_path_receive.is_empty());
    // An hour of virtual time, stepping to each deadline.
    let mut now = 0;
    let mut steps = 0;
    while now < 3_600_000 {
        now = a.poll_timeout().unwrap().min(b.poll_timeout().unwrap());
        a.handle_timeout(now);
        b.handle_timeout(now);
        pump(&mut a, &mut b, now);
        steps += 1;
        assert!(steps < 10_000);
    }
    assert_eq!(
        (a.state(), b.state()),
        (State::Established, State::Established)
    );
    // 9 s hold: a keepalive every 3 s from each side.
    assert!(steps >= 1_200, "{steps} timer steps");
    a.stop(StopReason::Shutdown("bye".into()));
    pump(&mut a, &mut b, now);
    assert_eq!(b.state(), State::Idle);
    let ev: Vec<SessionEvent> = events(&mut b);
    let got = ev
        .iter()
        .find_map(|e| match e {
            SessionEvent::NotificationReceived(n) => shutdown_text(n),
            _ => None,
        })
        .unwrap();
    assert_eq!(got, "bye");
}

/// Two eBGP sessions (AS 64512 active, AS 64513 passive) with these roles, pumped until quiet.
fn role_pair(
    a_role: Option<BgpRole>,
    b_role: Option<BgpRole>,
    b_strict: bool,
) -> (Session, Session) {
    let mut ca = SessionConfig::new(64512, Ipv4Addr::new(10, 0, 0, 1), Some(64513));
    ca.role = a_role;
    ca.extended_next_hop = true;
    let mut cb = SessionConfig::new(64513, Ipv4Addr::new(10, 0, 0, 2), Some(64512));
    cb.passive = true;
    cb.role = b_role;
    cb.strict_role = b_strict;
    cb.extended_next_hop = true;
    let mut a = Session::new(ca);
    let mut b = Session::new(cb);
    a.start(0);
    b.start(0);
    a.tcp_connected(0);
    b.tcp_connected(0);
    pump(&mut a, &mut b, 0);
    (a, b)
}

#[test]
fn rfc9234_two_sessions_provider_and_customer_come_up_with_each_others_role() {
    let (a, b) = role_pair(Some(BgpRole::PROVIDER), Some(BgpRole::CUSTOMER), true);
    assert_eq!(
        (a.state(), b.state()),
        (State::Established, State::Established)
    );
    let na = engine::Negotiated::from(a.negotiated().unwrap());
    let nb = engine::Negotiated::from(b.negotiated().unwrap());
    assert_eq!(na.remote_role, Some(BgpRole::CUSTOMER));
    assert_eq!(nb.remote_role, Some(BgpRole::PROVIDER));
    // RFC 8950: both advertised extended next hop for IPv4 unicast.
    assert!(na.extended_next_hop.contains(AfiSafi::IPV4_UNICAST));
    assert!(nb.extended_next_hop.contains(AfiSafi::IPV4_UNICAST));
}

#[test]
fn rfc9234_4_2_role_mismatch_between_two_sessions_closes_both_with_2_11() {
    for (a_role, b_role, strict) in [
        (Some(BgpRole::PROVIDER), Some(BgpRole::PROVIDER), false),
        (Some(BgpRole::PEER), Some(BgpRole::RS), false),
        // b strict, a sends no role.
        (None, Some(BgpRole::CUSTOMER), true),
    ] {
        let (mut a, mut b) = role_pair(a_role, b_role, strict);
        assert_eq!((a.state(), b.state()), (State::Idle, State::Idle));
        let ev: Vec<SessionEvent> = events(&mut a).into_iter().chain(events(&mut b)).collect();
        assert!(
            ev.iter().any(|e| matches!(
                e,
                SessionEvent::Closed(
                    CloseReason::NotificationSent(n) | CloseReason::NotificationReceived(n)
                ) if (n.code, n.subcode) == (2, 11)
            )),
            "{a_role:?} {b_role:?}: {ev:?}"
        );
    }
    // Not strict and no role from the other side: up.
    let (a, b) = role_pair(None, Some(BgpRole::CUSTOMER), false);
    assert_eq!(
        (a.state(), b.state()),
        (State::Established, State::Established)
    );
    assert_eq!(
        engine::Negotiated::from(b.negotiated().unwrap()).remote_role,
        Some(BgpRole::PROVIDER)
    );
}

/// RFC 4724 §3: a restarting speaker sets the Restart State bit and lists
/// the families whose forwarding state it preserved (F bit); otherwise the
/// flags are clear.
#[test]
fn rfc4724_3_restart_state_and_forwarding_bits_in_our_open() {
    use reflector_core::wire::capability::GracefulRestartFamily;
    for restarting in [false, true] {
        let mut c = SessionConfig::new(65000, Ipv4Addr::new(10, 0, 0, 1), None);
        c.graceful_restart_restarting = restarting;
        c.graceful_restart_families = vec![GracefulRestartFamily {
            afi_safi: AfiSafi::IPV4_UNICAST,
            flags: 0x80,
        }];
        let mut s = Session::new(c);
        s.start(0);
        s.tcp_connected(0);
        let open = s.poll_transmit().unwrap();
        let a = advertised(&open);
        assert_eq!(a.graceful_restart, Some(120));
        assert_eq!(a.graceful_restart_flags, if restarting { 8 } else { 0 });
        assert!(a.graceful_restart_preserved.contains(AfiSafi::IPV4_UNICAST));
    }
}
