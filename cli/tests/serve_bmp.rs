//! `reflector serve` with a BMP collector (RFC 7854, RFC 9069 Loc-RIB): a
//! tiny collector in the test captures what the daemon streams, the bytes
//! are checked message by message here and, written as a pcap, by tshark's
//! BMP dissector (RFC 8671 Adj-RIB-Out included). The collector drops the first connection once it has the
//! routes, to check the reconnection (Initiation, Peer Ups and the Loc-RIB
//! again), then the daemon ends with a Termination on SIGTERM.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reflector_core::session::State;
use reflector_core::wire::attribute::Origin;
use reflector_core::wire::update_repr::{
    AsPath, AttributeRepr, AttributeValue, MpNlri, MpReachRepr,
};
use reflector_core::wire::{AfiSafi, Context, Nlri, UpdateRepr};

mod support;
use support::{accept, tempdir, vpn_update, vpn_withdraw, Daemon, Peer};

const AS: u32 = 64512;

fn update(nlri: &[&str]) -> Vec<u8> {
    UpdateRepr {
        withdrawn: vec![],
        attributes: vec![
            AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
            AttributeRepr::new(AttributeValue::AsPath(AsPath::sequence(&[]))),
            AttributeRepr::new(AttributeValue::NextHop(Ipv4Addr::new(192, 0, 2, 41))),
            AttributeRepr::new(AttributeValue::LocalPref(100)),
        ],
        nlri: nlri.iter().map(|p| Nlri::new(p.parse().unwrap())).collect(),
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}

fn v6_update(prefix: &str) -> Vec<u8> {
    UpdateRepr {
        withdrawn: vec![],
        attributes: vec![
            AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
            AttributeRepr::new(AttributeValue::AsPath(AsPath::sequence(&[]))),
            AttributeRepr::new(AttributeValue::LocalPref(100)),
            AttributeRepr::new(AttributeValue::MpReach(MpReachRepr {
                afi_safi: AfiSafi::IPV6_UNICAST,
                next_hop: "2001:db8::41"
                    .parse::<std::net::Ipv6Addr>()
                    .unwrap()
                    .octets()
                    .to_vec(),
                reserved: 0,
                nlri: MpNlri::Prefixes(vec![Nlri::new(prefix.parse().unwrap())]),
            })),
        ],
        nlri: vec![],
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}

/// One BMP message: (type, per-peer header fields when it has one, body after the header).
#[derive(Debug, Clone)]
struct Msg {
    kind: u8,
    peer_type: Option<u8>,
    peer_addr: Option<[u8; 16]>,
    bytes: Vec<u8>,
}

fn split(stream: &[u8]) -> Vec<Msg> {
    let mut out = Vec::new();
    let mut b = stream;
    while b.len() >= 6 {
        assert_eq!(b[0], 3, "BMP version");
        let len = u32::from_be_bytes([b[1], b[2], b[3], b[4]]) as usize;
        assert!(len >= 6 && len <= b.len(), "message length {len}");
        let kind = b[5];
        let has_peer = matches!(kind, 0..=3);
        out.push(Msg {
            kind,
            peer_type: has_peer.then(|| b[6]),
            peer_addr: has_peer.then(|| b[16..32].try_into().unwrap()),
            bytes: b[..len].to_vec(),
        });
        b = &b[len..];
    }
    assert!(b.is_empty(), "{} trailing bytes", b.len());
    out
}

fn v4_addr(a: [u8; 4]) -> [u8; 16] {
    let mut x = [0u8; 16];
    x[12..].copy_from_slice(&a);
    x
}

/// Read from the collector's connection until EOF, `stop` returns true, or the deadline.
fn capture(s: &mut TcpStream, secs: u64, stop: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    while Instant::now() < deadline && !stop(&got) {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    got
}

/// Whole messages only.
fn complete(b: &[u8]) -> Vec<Msg> {
    let mut end = 0;
    while b.len() >= end + 6 {
        let len = u32::from_be_bytes([b[end + 1], b[end + 2], b[end + 3], b[end + 4]]) as usize;
        if end + len > b.len() {
            break;
        }
        end += len;
    }
    split(&b[..end])
}

/// A pcap (LINKTYPE_RAW, IPv4) with one TCP segment per BMP message, 127.0.0.1 -> 127.0.0.1:port.
fn pcap(msgs: &[Msg], port: u16) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&262_144u32.to_le_bytes());
    f.extend_from_slice(&101u32.to_le_bytes());
    let mut seq: u32 = 1000;
    for (i, m) in msgs.iter().enumerate() {
        let mut p = Vec::new();
        let total = 40 + m.bytes.len();
        p.extend_from_slice(&[0x45, 0]);
        p.extend_from_slice(&(total as u16).to_be_bytes());
        p.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]);
        p.extend_from_slice(&40000u16.to_be_bytes());
        p.extend_from_slice(&port.to_be_bytes());
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&1u32.to_be_bytes());
        p.extend_from_slice(&[0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]);
        p.extend_from_slice(&m.bytes);
        seq = seq.wrapping_add(m.bytes.len() as u32);
        f.extend_from_slice(&(1_700_000_000u32 + i as u32).to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&(p.len() as u32).to_le_bytes());
        f.extend_from_slice(&(p.len() as u32).to_le_bytes());
        f.extend_from_slice(&p);
    }
    f
}

/// A daemon with a BMP collector at `cport` (`bmp`: more lines of its `[[bmp]]` table) and the
/// clients "a" and "b" at 127.0.0.`octets` on the ports of `la` and `lb`, each with `peer_extra`;
/// its log in `dir`.
fn start(
    dir: &std::path::Path,
    cport: u16,
    bmp: &str,
    clients: [(u8, &TcpListener); 2],
    peer_extra: &str,
) -> Daemon {
    let mut config = format!(
        "router_id = \"10.255.0.1\"\nasn = {AS}\nlisten = [\"127.0.0.1:0\"]\nconnect_retry = 1\n\n[[bmp]]\naddress = \"127.0.0.1:{cport}\"\n{bmp}\n"
    );
    for (name, (octet, l)) in ["a", "b"].iter().zip(clients) {
        config.push_str(&format!(
            "\n[[peer]]\nname = \"{name}\"\naddress = \"127.0.0.{octet}\"\nasn = {AS}\nrole = \"client\"\nport = {}\nlocal_address = \"127.0.0.1\"\n{peer_extra}\n",
            l.local_addr().unwrap().port()
        ));
    }
    let path = dir.join("reflector.toml");
    std::fs::write(&path, config).unwrap();
    Daemon(
        Command::new(env!("CARGO_BIN_EXE_reflector"))
            .args(["serve", "--config"])
            .arg(&path)
            .args(["--log", "debug"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("reflector.log")).unwrap())
            .spawn()
            .unwrap(),
    )
}

#[test]
fn streams_bmp_to_a_collector_reconnects_and_tshark_dissects_it() {
    let dir = tempdir("bmp");
    let collector = TcpListener::bind("127.0.0.1:0").unwrap();
    let cport = collector.local_addr().unwrap().port();
    let la = TcpListener::bind("127.0.0.141:0").unwrap();
    let lb = TcpListener::bind("127.0.0.142:0").unwrap();
    let daemon = start(
        &dir,
        cport,
        "statistics_interval = 1\nadj_rib_out = true",
        [(141, &la), (142, &lb)],
        "",
    );
    let mut c1 = accept(&collector);
    let mut a = Peer::new("a", accept(&la), AS, Ipv4Addr::new(10, 0, 0, 41));
    let mut b = Peer::new("b", accept(&lb), AS, Ipv4Addr::new(10, 0, 0, 42));
    for p in [&mut a, &mut b] {
        p.until("Established", |p| p.s.state() == State::Established);
    }
    a.send(&update(&["10.41.0.0/16"]));
    a.send(&v6_update("2001:db8:41::/48"));
    a.step();
    b.until("A's routes", |p| {
        p.has("10.41.0.0/16").is_some() && p.has("2001:db8:41::/48").is_some()
    });

    // First connection: Initiation, Loc-RIB Peer Up, both Peer Ups, A's UPDATEs, Loc-RIB, Statistics.
    let first = capture(&mut c1, 15, |b| {
        complete(b)
            .iter()
            .filter(|m| m.kind == 1 && m.peer_type == Some(0))
            .count()
            >= 2
    });
    let m1 = complete(&first);
    assert_eq!(m1[0].kind, 4, "Initiation first");
    let sys_name = String::from_utf8_lossy(&m1[0].bytes);
    assert!(sys_name.contains("reflector"), "{sys_name}");
    assert!(
        m1.iter().any(|m| m.kind == 3 && m.peer_type == Some(3)),
        "Loc-RIB Peer Up"
    );
    for addr in [[127, 0, 0, 141], [127, 0, 0, 142]] {
        let up = m1
            .iter()
            .find(|m| m.kind == 3 && m.peer_addr == Some(v4_addr(addr)))
            .unwrap_or_else(|| panic!("Peer Up for {addr:?}"));
        // Both OPENs after the local address and ports: two BGP messages of type 1.
        let opens = &up.bytes[6 + 42 + 20..];
        assert_eq!(&opens[..16], &[0xff; 16]);
        assert_eq!(opens[18], 1, "sent OPEN");
        let l = u16::from_be_bytes([opens[16], opens[17]]) as usize;
        assert_eq!(&opens[l..l + 16], &[0xff; 16]);
        assert_eq!(opens[l + 18], 1, "received OPEN");
    }
    let from_a: Vec<&Msg> = m1
        .iter()
        .filter(|m| m.kind == 0 && m.peer_addr == Some(v4_addr([127, 0, 0, 141])))
        .collect();
    assert!(from_a.len() >= 2, "A's two UPDATEs as received");
    let sent = update(&["10.41.0.0/16"]);
    assert!(
        from_a.iter().any(|m| m.bytes[6 + 42..] == sent[..]),
        "the UPDATE exactly as A sent it"
    );
    let loc: Vec<&Msg> = m1
        .iter()
        .filter(|m| m.kind == 0 && m.peer_type == Some(3))
        .collect();
    assert!(loc.len() >= 2, "Loc-RIB Route Monitoring for both prefixes");
    // RFC 8671: what B was sent (A's routes, reflected), flags O and L, per B's header.
    let out_b: Vec<&Msg> = m1
        .iter()
        .filter(|m| m.kind == 0 && m.peer_addr == Some(v4_addr([127, 0, 0, 142])))
        .collect();
    assert!(
        out_b.iter().any(|m| m.bytes[7] == 0x50),
        "B's Adj-RIB-Out (post-policy)"
    );
    assert!(
        out_b.iter().all(|m| m.bytes[7] == 0x50),
        "B sends nothing: every message for B is its Adj-RIB-Out"
    );

    // The collector goes away: the daemon reconnects and sends the state again.
    drop(c1);
    let started = Instant::now();
    let mut c2 = accept(&collector);
    assert!(started.elapsed() < Duration::from_secs(10));
    let again = capture(&mut c2, 10, |b| {
        complete(b)
            .iter()
            .filter(|m| m.kind == 0 && m.peer_type == Some(3))
            .count()
            >= 2
    });
    let m2 = complete(&again);
    assert_eq!(m2[0].kind, 4, "Initiation again");
    assert_eq!(
        m2.iter()
            .filter(|m| m.kind == 3 && m.peer_type == Some(0))
            .count(),
        2,
        "both live sessions' Peer Ups again"
    );
    // A leaves; then SIGTERM: Peer Down for A (remote closed), Peer Down for B, Termination.
    drop(a);
    std::thread::sleep(Duration::from_millis(500));
    assert!(Command::new("kill")
        .args(["-TERM", &daemon.0.id().to_string()])
        .status()
        .unwrap()
        .success());
    let rest = capture(&mut c2, 10, |_| false);
    let mut all2 = again.clone();
    all2.extend_from_slice(&rest);
    let m2 = split(&all2);
    let down_a = m2
        .iter()
        .find(|m| m.kind == 2 && m.peer_addr == Some(v4_addr([127, 0, 0, 141])))
        .expect("Peer Down for A");
    assert_eq!(down_a.bytes[6 + 42], 4, "remote closed, no data");
    let down_b = m2
        .iter()
        .find(|m| m.kind == 2 && m.peer_addr == Some(v4_addr([127, 0, 0, 142])))
        .expect("Peer Down for B");
    assert_eq!(down_b.bytes[6 + 42], 1, "local NOTIFICATION follows");
    let n = &down_b.bytes[6 + 42 + 1..];
    assert_eq!(
        (n[18], n[19], n[20]),
        (3, 6, 2),
        "Cease / Administrative Shutdown"
    );
    assert_eq!(m2.last().unwrap().kind, 5, "Termination last");
    drop(daemon);
    let _ = b.sock.write_all(&[]);

    // tshark's BMP dissector over both captures.
    if Command::new("tshark").arg("-v").output().is_err() {
        eprintln!("tshark not installed: dissector check skipped");
        return;
    }
    let mut msgs = m1.clone();
    msgs.extend(m2);
    let file = dir.join("bmp.pcap");
    std::fs::write(&file, pcap(&msgs, cport)).unwrap();
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&file)
        .args([
            "-d",
            &format!("tcp.port=={cport},bmp"),
            "-T",
            "json",
            "--no-duplicate-keys",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let frames = json.as_array().unwrap();
    assert_eq!(frames.len(), msgs.len(), "one frame per message");
    let mut fields: Vec<Vec<(String, String)>> = Vec::new();
    for f in frames {
        let mut v = Vec::new();
        flatten(&f["_source"]["layers"]["bmp"], &mut v);
        assert!(!v.is_empty(), "a frame without BMP: {f}");
        fields.push(v);
    }
    let get = |i: usize, k: &str| -> Vec<String> {
        fields[i]
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .collect()
    };
    for (i, m) in msgs.iter().enumerate() {
        assert_eq!(get(i, "bmp.type"), vec![m.kind.to_string()], "frame {i}");
        // Malformed packets and expert warnings or errors (notes and chats, such as
        // "Graceful Restart Capability supported in Helper mode only", are fine).
        let flagged = fields[i].iter().any(|(k, v)| {
            k.starts_with("_ws.malformed")
                || (k == "_ws.expert.severity"
                    && v.parse::<u32>().unwrap_or(u32::MAX) >= 0x0060_0000)
        });
        assert!(!flagged, "tshark flagged frame {i}: {:?}", fields[i]);
    }
    let all: Vec<(String, String)> = fields.concat();
    let has = |k: &str, v: &str| all.iter().any(|(n, x)| n == k && x == v);
    assert!(has("bmp.peer.ip.addr", "127.0.0.141"));
    assert!(has("bmp.peer.ip.addr", "127.0.0.142"));
    assert!(has("bmp.peer.type", "3"), "Loc-RIB peer type");
    assert!(has("bmp.peer.flags.adj_rib_out", "1"), "RFC 8671 O flag");
    assert!(has("bmp.peer.flags.post_policy", "1"), "post-policy L flag");
    assert!(
        all.iter()
            .any(|(k, v)| k.starts_with("bmp.init") && v.contains("reflector")),
        "sysName"
    );
    // The prefixes, as tshark's BGP dissector (inside BMP) reads them.
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("10.41.0.0/16"), "IPv4 prefix");
    assert!(text.contains("2001:db8:41::/48"), "IPv6 prefix");
    assert!(
        has("bmp.stats.data.routes_adj_rib_in", "2"),
        "Adj-RIB-In of A"
    );
    assert!(has("bmp.peer.down.reason", "4") && has("bmp.peer.down.reason", "1"));
}

/// Every leaf of tshark's JSON tree as (field name, value).
fn flatten(v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    if let Some(o) = v.as_object() {
        for (k, x) in o {
            match x {
                serde_json::Value::String(s) => out.push((k.clone(), s.clone())),
                serde_json::Value::Array(a) => {
                    for y in a {
                        match y {
                            serde_json::Value::String(s) => out.push((k.clone(), s.clone())),
                            other => flatten(other, out),
                        }
                    }
                }
                other => flatten(other, out),
            }
        }
    } else if let Some(a) = v.as_array() {
        for y in a {
            flatten(y, out);
        }
    }
}

/// The Loc-RIB Route Monitoring messages of `msgs` whose UPDATE carries an MP attribute of
/// VPN-IPv4: (announce, NLRI bytes, ORIGINATOR_ID or LOCAL_PREF when present).
fn loc_rib_vpn(msgs: &[Msg]) -> Vec<(bool, Vec<u8>, Option<u32>)> {
    use reflector_core::wire::UpdatePacket;
    msgs.iter()
        .filter(|m| m.kind == 0 && m.peer_type == Some(3))
        .filter_map(|m| {
            let u = UpdatePacket::new_checked(&m.bytes[6 + 42..], &Context::MODERN).unwrap();
            let r = UpdateRepr::parse(&u);
            let lp = r.attributes.iter().find_map(|a| match a.value {
                AttributeValue::LocalPref(x) => Some(x),
                _ => None,
            });
            r.attributes.iter().find_map(|a| match &a.value {
                AttributeValue::MpReach(x) if x.afi_safi == AfiSafi::VPNV4 => match &x.nlri {
                    MpNlri::Opaque(n) => Some((true, n.clone(), lp)),
                    MpNlri::Prefixes(_) => None,
                },
                AttributeValue::MpUnreach(x) if x.afi_safi == AfiSafi::VPNV4 => match &x.nlri {
                    MpNlri::Opaque(n) => Some((false, n.clone(), lp)),
                    MpNlri::Prefixes(_) => None,
                },
                _ => None,
            })
        })
        .collect()
}

#[test]
fn loc_rib_monitors_vpn_routes_their_best_path_and_their_withdrawal() {
    use reflector_core::session::SessionConfig;
    let dir = tempdir("bmp-vpn");
    let collector = TcpListener::bind("127.0.0.1:0").unwrap();
    let cport = collector.local_addr().unwrap().port();
    let la = TcpListener::bind("127.0.0.143:0").unwrap();
    let lb = TcpListener::bind("127.0.0.144:0").unwrap();
    let _daemon = start(
        &dir,
        cport,
        "",
        [(143, &la), (144, &lb)],
        "families = [\"ipv4-unicast\", \"vpnv4\"]",
    );
    let mut c = accept(&collector);
    let vpn_peer = |l: &TcpListener, name, id| {
        let mut cfg = SessionConfig::new(AS, Ipv4Addr::new(10, 0, 0, id), Some(AS));
        cfg.families = vec![AfiSafi::IPV4_UNICAST, AfiSafi::VPNV4];
        let mut p = Peer::with_config(name, accept(l), cfg);
        p.until("Established", |p| p.s.state() == State::Established);
        p
    };
    let mut a = vpn_peer(&la, "a", 43);
    let mut b = vpn_peer(&lb, "b", 44);
    // A's route, then B's better path for the same route (its own label), then B withdraws
    // (A's path is best again), then A withdraws (the route is gone).
    let vpn = |label: u32| {
        let mut n = vec![24 + 64 + 16];
        n.extend_from_slice(&reflector_core::wire::vpn::Label::new(label, true).to_bytes());
        n.extend_from_slice(&reflector_core::wire::vpn::RouteDistinguisher::as2(65000, 1).0);
        n.extend_from_slice(&[10, 43]);
        n
    };
    let mut got: Vec<u8> = Vec::new();
    let mut wait_for = |c: &mut TcpStream, n: usize, what: &str| {
        let before = got.clone();
        let more = capture(c, 15, |b| {
            loc_rib_vpn(&complete(&[&before[..], b].concat())).len() >= n
        });
        got.extend_from_slice(&more);
        let seen = loc_rib_vpn(&complete(&got));
        assert!(seen.len() >= n, "{what}: {seen:?}");
        seen
    };
    a.send(&vpn_update(
        1001,
        [10, 43],
        Ipv4Addr::new(192, 0, 2, 43),
        100,
    ));
    a.step();
    let seen = wait_for(&mut c, 1, "A's route in the Loc-RIB");
    assert_eq!(
        seen[0],
        (true, vpn(1001), Some(100)),
        "A's NLRI, label 1001"
    );
    b.send(&vpn_update(
        2002,
        [10, 43],
        Ipv4Addr::new(192, 0, 2, 44),
        200,
    ));
    b.step();
    let seen = wait_for(&mut c, 2, "B's better path");
    assert_eq!(
        seen[1],
        (true, vpn(2002), Some(200)),
        "B's NLRI, label 2002"
    );
    b.send(&vpn_withdraw(2002, [10, 43]));
    b.step();
    let seen = wait_for(&mut c, 3, "A's path again");
    assert_eq!(seen[2], (true, vpn(1001), Some(100)));
    a.send(&vpn_withdraw(1001, [10, 43]));
    a.step();
    let seen = wait_for(&mut c, 4, "the withdrawal");
    assert_eq!(
        seen[3],
        (false, vpn(1001), None),
        "withdrawn with the NLRI last sent"
    );
    assert_eq!(seen.len(), 4, "one message per change: {seen:?}");
}
