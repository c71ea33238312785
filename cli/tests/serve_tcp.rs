//! `reflector serve` on loopback against peers written with Reflector's own
//! sans-IO session: reflection with ORIGINATOR_ID/CLUSTER_LIST, withdrawal,
//! RFC 7606 treat-as-withdraw and session reset on malformed UPDATEs while
//! the other sessions keep their routes, Cease on SIGTERM, config errors,
//! graceful restart (RFC 4724) of a peer whose TCP connection drops.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reflector_core::session::{SessionConfig, State};
use reflector_core::wire::attribute::{type_code, Origin};
use reflector_core::wire::capability::GracefulRestartFamily;
use reflector_core::wire::update_repr::{
    AsPath, AttributeRepr, AttributeValue, LargeCommunity, MpNlri, MpReachRepr, MpUnreachRepr,
};
use reflector_core::wire::{AfiSafi, Context, Nlri, UpdateRepr};

mod support;
use support::{accept, tempdir, Daemon, Peer};

const AS: u32 = 64512;
const CLUSTER: Ipv4Addr = Ipv4Addr::new(10, 255, 0, 9);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn attrs(nh: Ipv4Addr) -> Vec<AttributeRepr> {
    vec![
        AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
        AttributeRepr::new(AttributeValue::AsPath(AsPath::sequence(&[]))),
        AttributeRepr::new(AttributeValue::NextHop(nh)),
        AttributeRepr::new(AttributeValue::Med(42)),
        AttributeRepr::new(AttributeValue::LocalPref(100)),
        AttributeRepr::new(AttributeValue::Communities(vec![0xfc00_0001])),
        AttributeRepr::new(AttributeValue::LargeCommunities(vec![LargeCommunity {
            global: AS,
            local1: 1,
            local2: 2,
        }])),
    ]
}

fn update(withdrawn: &[&str], attributes: Vec<AttributeRepr>, nlri: &[&str]) -> Vec<u8> {
    let n = |v: &[&str]| v.iter().map(|p| Nlri::new(p.parse().unwrap())).collect();
    UpdateRepr {
        withdrawn: n(withdrawn),
        attributes,
        nlri: n(nlri),
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}

fn v6_update(prefix: &str) -> Vec<u8> {
    let mut a = attrs(Ipv4Addr::new(192, 0, 2, 1));
    a.retain(|x| x.value.type_code() != type_code::NEXT_HOP);
    a.push(AttributeRepr::new(AttributeValue::MpReach(MpReachRepr {
        afi_safi: AfiSafi::IPV6_UNICAST,
        next_hop: "2001:db8::1"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets()
            .to_vec(),
        reserved: 0,
        nlri: MpNlri::Prefixes(vec![Nlri::new(prefix.parse().unwrap())]),
    })));
    update(&[], a, &[])
}

fn spawn(config: &str, dir: &std::path::Path) -> Daemon {
    let path = dir.join("reflector.toml");
    std::fs::write(&path, config).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_reflector"))
        .args(["serve", "--config"])
        .arg(&path)
        .args(["--log", "debug"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("reflector.log")).unwrap())
        .spawn()
        .unwrap();
    Daemon(child)
}

fn connect(port: u16) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => return s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("cannot connect to the daemon: {e}"),
        }
    }
}

#[test]
fn reflects_withdraws_survives_malformed_updates_and_ceases_on_sigterm() {
    let dir = tempdir("serve");
    let port = free_port();
    let la = TcpListener::bind("127.0.0.11:0").unwrap();
    let lb = TcpListener::bind("127.0.0.12:0").unwrap();
    let config = format!(
        r#"router_id = "10.255.0.1"
asn = {AS}
cluster_id = "{CLUSTER}"
listen = ["127.0.0.1:{port}"]
connect_retry = 1

[[peer]]
name = "a"
address = "127.0.0.11"
asn = {AS}
role = "client"
port = {pa}
local_address = "127.0.0.1"

[[peer]]
name = "b"
address = "127.0.0.12"
asn = {AS}
role = "client"
port = {pb}
local_address = "127.0.0.1"

[[peer]]
name = "c"
address = "127.0.0.1"
asn = {AS}
role = "client"
passive = true
"#,
        pa = la.local_addr().unwrap().port(),
        pb = lb.local_addr().unwrap().port(),
    );
    let mut daemon = spawn(&config, &dir);
    let rid_a = Ipv4Addr::new(10, 0, 0, 11);
    let mut a = Peer::new("a", accept(&la), AS, rid_a);
    let mut b = Peer::new("b", accept(&lb), AS, Ipv4Addr::new(10, 0, 0, 12));
    let mut c = Peer::new("c", connect(port), AS, Ipv4Addr::new(10, 0, 0, 13));
    for p in [&mut a, &mut b, &mut c] {
        p.until("Established", |p| p.s.state() == State::Established);
        // End-of-RIB for both families after the (empty) table.
        p.until("End-of-RIB", |p| p.updates.len() >= 2);
    }

    // A announces IPv4 and IPv6 routes with communities, large communities and MED.
    a.send(&update(
        &[],
        attrs(Ipv4Addr::new(192, 0, 2, 1)),
        &["10.1.0.0/16", "10.2.0.0/16"],
    ));
    a.send(&v6_update("2001:db8:100::/48"));
    a.step();
    for p in [&mut b, &mut c] {
        p.until("A's routes", |p| {
            p.has("10.1.0.0/16").is_some() && p.has("2001:db8:100::/48").is_some()
        });
        for prefix in ["10.1.0.0/16", "10.2.0.0/16", "2001:db8:100::/48"] {
            let u = p.has(prefix).unwrap();
            assert_eq!(
                u.attribute(type_code::ORIGINATOR_ID),
                Some(&AttributeValue::OriginatorId(rid_a)),
                "{prefix}"
            );
            assert_eq!(
                u.attribute(type_code::CLUSTER_LIST),
                Some(&AttributeValue::ClusterList(vec![CLUSTER.to_bits()])),
                "{prefix}"
            );
            assert_eq!(u.attribute(type_code::MED), Some(&AttributeValue::Med(42)));
            assert_eq!(
                u.attribute(type_code::COMMUNITIES),
                Some(&AttributeValue::Communities(vec![0xfc00_0001]))
            );
            assert!(u.attribute(type_code::LARGE_COMMUNITY).is_some());
        }
    }
    assert!(a.has("10.1.0.0/16").is_none(), "never back to the sender");

    // C: an UPDATE whose ORIGIN is 7 — RFC 7606 §7.1 treat-as-withdraw: C stays up.
    let mut bytes = update(&[], attrs(Ipv4Addr::new(192, 0, 2, 3)), &["10.3.0.0/16"]);
    let origin_at = 19 + 2 + 2 + 3; // header, withdrawn len, attrs len, ORIGIN flags/type/len
    assert_eq!(bytes[origin_at - 2], type_code::ORIGIN);
    bytes[origin_at] = 7;
    c.send(&bytes);
    // And a good one that must reach B, proving the session is still up.
    c.send(&update(
        &[],
        attrs(Ipv4Addr::new(192, 0, 2, 3)),
        &["10.4.0.0/16"],
    ));
    b.until("C's good route", |p| p.has("10.4.0.0/16").is_some());
    assert!(
        b.has("10.3.0.0/16").is_none(),
        "treat-as-withdraw: not announced"
    );
    assert_eq!(c.s.state(), State::Established);

    // C: an UPDATE whose attribute length runs past the message — 3/1, session reset.
    let mut bytes = update(&[], attrs(Ipv4Addr::new(192, 0, 2, 3)), &["10.5.0.0/16"]);
    bytes[21..23].copy_from_slice(&4000u16.to_be_bytes());
    c.send(&bytes);
    c.until("NOTIFICATION", |p| !p.notifications.is_empty());
    assert_eq!((c.notifications[0].0, c.notifications[0].1), (3, 1));
    assert_eq!(c.s.state(), State::Idle);
    // C's route is withdrawn from B; A's routes stay at B.
    b.until("withdrawal of C's route", |p| {
        p.has("10.4.0.0/16").is_none()
    });
    assert!(b.has("10.1.0.0/16").is_some() && b.has("2001:db8:100::/48").is_some());

    // A withdraws one route.
    a.send(&update(&["10.2.0.0/16"], vec![], &[]));
    b.until("withdrawal", |p| p.has("10.2.0.0/16").is_none());
    assert!(b.has("10.1.0.0/16").is_some());

    // SIGTERM: every peer gets Cease / Administrative Shutdown with text; exit status 0.
    let pid = daemon.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    for p in [&mut a, &mut b] {
        p.until("Cease", |p| !p.notifications.is_empty());
        assert_eq!(
            p.notifications[0],
            (6, 2, Some("Reflector is shutting down".to_string()))
        );
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = daemon.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "daemon did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    let log = std::fs::read_to_string(dir.join("reflector.log")).unwrap();
    assert!(log.contains("treat-as-withdraw"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_config_exits_1_naming_the_field() {
    let dir = tempdir("badcfg");
    let cases = [
        (
            "router_id = \"10.0.0.1\"\nasn = 64512\n[[peer]]\naddress = \"127.0.0.2\"\nasn = 64512\nrole = \"server\"\n",
            "peer[0].role",
        ),
        ("router_id = \"10.0.0.300\"\nasn = 64512\n", "router_id"),
        ("router_id = \"10.0.0.1\"\nasn = 64512\nlisten = [\"127.0.0.1\"]\n", "listen[0]"),
    ];
    for (text, field) in cases {
        let path = dir.join("bad.toml");
        std::fs::write(&path, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_reflector"))
            .args(["serve", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("`{field}`")), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A's session config: graceful restart with this restart time, forwarding
/// state preserved for IPv4 and IPv6 unicast.
fn gr_config(router_id: Ipv4Addr, restart_time: u16) -> SessionConfig {
    let mut cfg = SessionConfig::new(AS, router_id, Some(AS));
    cfg.graceful_restart_time = Some(restart_time);
    cfg.graceful_restart_families = [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST]
        .into_iter()
        .map(|afi_safi| GracefulRestartFamily {
            afi_safi,
            flags: 0x80,
        })
        .collect();
    cfg
}

fn end_of_rib_v6() -> Vec<u8> {
    let a = vec![AttributeRepr::new(AttributeValue::MpUnreach(
        MpUnreachRepr {
            afi_safi: AfiSafi::IPV6_UNICAST,
            nlri: MpNlri::Prefixes(vec![]),
        },
    ))];
    update(&[], a, &[])
}

/// Step `p` for `d`, asserting `f` all along.
fn holds(p: &mut Peer, d: Duration, what: &str, f: impl Fn(&Peer) -> bool) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        p.step();
        assert!(f(p), "{}: {what} no longer holds", p.name);
    }
}

#[test]
fn rfc4724_4_2_peer_tcp_drop_keeps_its_routes_until_end_of_rib_and_restart_timer() {
    let dir = tempdir("serve-gr");
    let la = TcpListener::bind("127.0.0.21:0").unwrap();
    let lb = TcpListener::bind("127.0.0.22:0").unwrap();
    let config = format!(
        r#"router_id = "10.255.0.1"
asn = {AS}
cluster_id = "{CLUSTER}"
listen = []
connect_retry = 1

[[peer]]
name = "a"
address = "127.0.0.21"
asn = {AS}
role = "client"
port = {pa}
local_address = "127.0.0.1"

[[peer]]
name = "b"
address = "127.0.0.22"
asn = {AS}
role = "client"
port = {pb}
local_address = "127.0.0.1"
"#,
        pa = la.local_addr().unwrap().port(),
        pb = lb.local_addr().unwrap().port(),
    );
    let _daemon = spawn(&config, &dir);
    let rid_a = Ipv4Addr::new(10, 0, 0, 21);
    let mut a = Peer::with_config("a", accept(&la), gr_config(rid_a, 3));
    let mut b = Peer::new("b", accept(&lb), AS, Ipv4Addr::new(10, 0, 0, 22));
    for p in [&mut a, &mut b] {
        p.until("Established", |p| p.s.state() == State::Established);
        p.until("End-of-RIB", |p| p.updates.len() >= 2);
    }
    a.send(&update(
        &[],
        attrs(Ipv4Addr::new(192, 0, 2, 1)),
        &["10.1.0.0/16", "10.2.0.0/16"],
    ));
    a.send(&v6_update("2001:db8:100::/48"));
    a.step();
    b.until("A's routes", |p| {
        p.has("10.1.0.0/16").is_some()
            && p.has("10.2.0.0/16").is_some()
            && p.has("2001:db8:100::/48").is_some()
    });

    // A's TCP connection drops without a NOTIFICATION: B keeps every route.
    drop(a);
    holds(
        &mut b,
        Duration::from_millis(1500),
        "A's stale routes",
        |p| {
            p.has("10.1.0.0/16").is_some()
                && p.has("10.2.0.0/16").is_some()
                && p.has("2001:db8:100::/48").is_some()
        },
    );

    // A comes back (the daemon reconnects), announces 10.1.0.0/16 again and sends
    // End-of-RIB: only 10.2.0.0/16 is withdrawn from B. IPv6 stays stale.
    let mut a = Peer::with_config("a", accept(&la), gr_config(rid_a, 3));
    a.until("Established again", |p| p.s.state() == State::Established);
    a.send(&update(
        &[],
        attrs(Ipv4Addr::new(192, 0, 2, 1)),
        &["10.1.0.0/16"],
    ));
    a.send(&update(&[], vec![], &[]));
    b.until("withdrawal of 10.2.0.0/16", |p| {
        p.has("10.2.0.0/16").is_none()
    });
    assert!(b.has("10.1.0.0/16").is_some());
    assert!(b.has("2001:db8:100::/48").is_some());
    a.send(&end_of_rib_v6());
    b.until("withdrawal of 2001:db8:100::/48", |p| {
        p.has("2001:db8:100::/48").is_none()
    });
    assert!(b.has("10.1.0.0/16").is_some());

    // A drops again and stays away: after its restart time (3 s) its routes go.
    let dropped = Instant::now();
    drop(a);
    holds(
        &mut b,
        Duration::from_millis(1500),
        "A's stale route",
        |p| p.has("10.1.0.0/16").is_some(),
    );
    b.until("restart timer expiry", |p| p.has("10.1.0.0/16").is_none());
    let waited = dropped.elapsed();
    assert!(
        waited >= Duration::from_secs(3) && waited < Duration::from_secs(8),
        "{waited:?}"
    );
    let log = std::fs::read_to_string(dir.join("reflector.log")).unwrap();
    assert!(log.contains("restart timer expired"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// RFC 4486: a peer that sends more prefixes than its limit gets Cease /
/// Maximum Number of Prefixes Reached, its routes are withdrawn from the
/// others, and its connections are refused until `max_prefixes_restart` ends.
#[test]
fn max_prefixes_ends_the_session_and_holds_the_peer_off() {
    use std::io::Read;
    let dir = tempdir("serve-limit");
    let port = free_port();
    let lb = TcpListener::bind("127.0.0.22:0").unwrap();
    let config = format!(
        r#"router_id = "10.255.0.1"
asn = {AS}
listen = ["127.0.0.1:{port}"]
connect_retry = 1

[[peer]]
name = "a"
address = "127.0.0.1"
asn = {AS}
role = "client"
passive = true
max_prefixes_ipv4 = 3
max_prefixes_restart = 3

[[peer]]
name = "b"
address = "127.0.0.22"
asn = {AS}
role = "client"
port = {pb}
local_address = "127.0.0.1"
"#,
        pb = lb.local_addr().unwrap().port(),
    );
    let _daemon = spawn(&config, &dir);
    let mut b = Peer::new("b", accept(&lb), AS, Ipv4Addr::new(10, 0, 0, 22));
    let mut a = Peer::new("a", connect(port), AS, Ipv4Addr::new(10, 0, 0, 21));
    for p in [&mut a, &mut b] {
        p.until("Established", |p| p.s.state() == State::Established);
    }
    let nh = Ipv4Addr::new(192, 0, 2, 21);
    a.send(&update(
        &[],
        attrs(nh),
        &["10.21.0.0/24", "10.21.1.0/24", "10.21.2.0/24"],
    ));
    b.until("a's three routes", |p| p.rib().len() == 3);
    // The fourth crosses the limit.
    a.send(&update(&[], attrs(nh), &["10.21.3.0/24"]));
    a.until("the Cease", |p| !p.notifications.is_empty());
    assert_eq!((a.notifications[0].0, a.notifications[0].1), (6, 1));
    b.until("a's routes withdrawn", |p| p.rib().is_empty());
    // Held off: a new connection is closed before any OPEN.
    let held_at = Instant::now();
    let mut s = connect(port);
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(s.read(&mut buf).unwrap_or(0), 0, "refused while held off");
    // After the hold-off the peer comes back.
    std::thread::sleep(
        Duration::from_secs(3).saturating_sub(held_at.elapsed()) + Duration::from_millis(300),
    );
    let mut a2 = Peer::new("a", connect(port), AS, Ipv4Addr::new(10, 0, 0, 21));
    a2.until("Established again", |p| p.s.state() == State::Established);
    let log = std::fs::read_to_string(dir.join("reflector.log")).unwrap();
    assert!(log.contains("prefix limit reached"), "{log}");
}
