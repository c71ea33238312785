//! `reflector serve` routing policy from the TOML, on loopback: a SIGHUP that
//! changes only policies applies them to the live sessions (an export change
//! is sent as a diff, an import change asks the peer for its routes with
//! ROUTE-REFRESH), one that changes other settings restarts only those
//! peers, an invalid one is refused, a peer without route refresh is reset
//! on an import change; RFC 8212 default-deny toward and from
//! eBGP peers without policies, and the `ebgp_requires_policy = false` opt-out.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reflector_core::session::{SessionConfig, State};
use reflector_core::wire::attribute::{type_code, Origin};
use reflector_core::wire::update_repr::{AsPath, AttributeRepr, AttributeValue};
use reflector_core::wire::{AfiSafi, Context, Nlri, UpdateRepr};

mod support;
use support::{accept, tempdir, Daemon, Peer};

const AS: u32 = 64512;

fn update(path: &[u32], nh: Ipv4Addr, nlri: &[&str]) -> Vec<u8> {
    UpdateRepr {
        withdrawn: vec![],
        attributes: vec![
            AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
            AttributeRepr::new(AttributeValue::AsPath(AsPath::sequence(path))),
            AttributeRepr::new(AttributeValue::NextHop(nh)),
            AttributeRepr::new(AttributeValue::Communities(vec![0xfc00_0001])),
        ],
        nlri: nlri.iter().map(|p| Nlri::new(p.parse().unwrap())).collect(),
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}

fn spawn(config: &str, dir: &Path) -> Daemon {
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

/// Write the new configuration and send SIGHUP.
fn reload(daemon: &Daemon, dir: &Path, config: &str) {
    std::fs::write(dir.join("reflector.toml"), config).unwrap();
    let pid = daemon.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap()
        .success());
}

fn log_has(dir: &Path, what: &str) -> bool {
    std::fs::read_to_string(dir.join("reflector.log"))
        .unwrap_or_default()
        .contains(what)
}

/// Wait (bounded) until the daemon's log holds `what`, stepping the peers meanwhile.
fn until_logged(dir: &Path, what: &str, peers: &mut [&mut Peer]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !log_has(dir, what) {
        assert!(Instant::now() < deadline, "the log never said {what:?}");
        for p in peers.iter_mut() {
            p.step();
        }
    }
}

/// Step `p` for `d`, asserting `f` all along.
fn holds(p: &mut Peer, d: Duration, what: &str, f: impl Fn(&Peer) -> bool) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        p.step();
        assert!(f(p), "{}: {what} no longer holds", p.name);
    }
}

fn local_pref(p: &Peer, prefix: &str) -> Option<u32> {
    match p.has(prefix)?.attribute(type_code::LOCAL_PREF) {
        Some(AttributeValue::LocalPref(v)) => Some(*v),
        _ => None,
    }
}

fn communities(p: &Peer, prefix: &str) -> Vec<u32> {
    match p
        .has(prefix)
        .and_then(|u| u.attribute(type_code::COMMUNITIES).cloned())
    {
        Some(AttributeValue::Communities(v)) => v,
        _ => vec![],
    }
}

const POLICIES: &str = r#"
[sets]
prefix.hidden = ["10.31.2.0/24"]

[[policy]]
name = "everything"
default = "accept"

[[policy]]
name = "shaped"
default = "accept"

[[policy.statement]]
name = "hide"
match = { prefix = "hidden" }
then = "reject"

[[policy.statement]]
name = "prefer"
match = { prefix = ["10.31.0.0/16+"] }
set = { local_pref = 250, community = { add = ["65000:250"] } }
then = "accept"

[[policy]]
name = "tag-a"
default = "accept"

[[policy.statement]]
set = { community = { add = ["65000:1"] } }
then = "accept"
"#;

fn two_clients(pa: u16, pb: u16, a_import: &str, b_export: &str, extra_a: &str) -> String {
    format!(
        r#"router_id = "10.255.0.1"
asn = {AS}
listen = []
connect_retry = 1
{POLICIES}
[[peer]]
name = "a"
address = "127.0.0.31"
asn = {AS}
role = "client"
port = {pa}
local_address = "127.0.0.1"
import = "{a_import}"
{extra_a}
[[peer]]
name = "b"
address = "127.0.0.32"
asn = {AS}
role = "client"
port = {pb}
local_address = "127.0.0.1"
export = "{b_export}"
"#
    )
}

#[test]
fn sighup_applies_policy_changes_without_dropping_sessions() {
    let dir = tempdir("serve-policy-reload");
    let la = TcpListener::bind("127.0.0.31:0").unwrap();
    let lb = TcpListener::bind("127.0.0.32:0").unwrap();
    let (pa, pb) = (
        la.local_addr().unwrap().port(),
        lb.local_addr().unwrap().port(),
    );
    let daemon = spawn(&two_clients(pa, pb, "everything", "everything", ""), &dir);
    let mut a = Peer::new("a", accept(&la), AS, Ipv4Addr::new(10, 0, 0, 31));
    let mut b = Peer::new("b", accept(&lb), AS, Ipv4Addr::new(10, 0, 0, 32));
    for p in [&mut a, &mut b] {
        p.until("Established", |p| p.s.state() == State::Established);
        p.until("End-of-RIB", |p| p.updates.len() >= 2);
    }
    let nh = Ipv4Addr::new(192, 0, 2, 31);
    let routes = ["10.31.1.0/24", "10.31.2.0/24"];
    a.send(&update(&[], nh, &routes));
    b.until("a's routes", |p| routes.iter().all(|r| p.has(r).is_some()));
    assert_eq!(local_pref(&b, "10.31.1.0/24"), Some(100));
    assert_eq!(communities(&b, "10.31.1.0/24"), [0xfc00_0001]);

    // Only policies change: b's export now hides one route and marks the
    // other; a's import tags its routes.
    reload(&daemon, &dir, &two_clients(pa, pb, "tag-a", "shaped", ""));
    b.until("the export policy's effect", |p| {
        p.has("10.31.2.0/24").is_none() && local_pref(p, "10.31.1.0/24") == Some(250)
    });
    assert_eq!(
        communities(&b, "10.31.1.0/24"),
        [0xfc00_0001, 65000 << 16 | 250]
    );
    // The import policy changed: a is asked for its routes again, per family.
    a.until("ROUTE-REFRESH", |p| p.refreshes.len() >= 2);
    let mut asked = a.refreshes.clone();
    asked.sort_unstable();
    assert_eq!(asked, [(1, 1), (2, 1)]);
    // a sends them again; under the new import policy they carry its tag.
    a.send(&update(&[], nh, &routes));
    b.until("a's routes with the import tag", |p| {
        communities(p, "10.31.1.0/24").contains(&(65000 << 16 | 1))
    });
    assert!(
        b.has("10.31.2.0/24").is_none(),
        "still hidden by the export policy"
    );
    for p in [&a, &b] {
        assert_eq!(p.s.state(), State::Established, "{}", p.name);
        assert!(
            p.notifications.is_empty(),
            "{}: {:?}",
            p.name,
            p.notifications
        );
    }
    until_logged(&dir, "ROUTE-REFRESH sent", &mut [&mut a, &mut b]);

    // An invalid configuration is refused, naming the field; nothing changes.
    let bad = two_clients(pa, pb, "tag-a", "shaped", "").replace(
        "match = { prefix = \"hidden\" }",
        "match = { prefix = \"hiden\" }",
    );
    reload(&daemon, &dir, &bad);
    until_logged(
        &dir,
        r#"policy["shaped"].statement["hide"].match.prefix"#,
        &mut [&mut a, &mut b],
    );
    holds(
        &mut b,
        Duration::from_millis(500),
        "b's session and routes",
        |p| p.s.state() == State::Established && local_pref(p, "10.31.1.0/24") == Some(250),
    );

    // Another setting of a changes, and b goes: a gets Cease / Other
    // Configuration Change and comes back, b gets Cease / Peer De-configured.
    let mut v3 = two_clients(pa, pb, "tag-a", "shaped", "hold_time = 30\n");
    v3.truncate(v3.find("[[peer]]\nname = \"b\"").unwrap());
    reload(&daemon, &dir, &v3);
    a.until("Cease", |p| !p.notifications.is_empty());
    assert_eq!((a.notifications[0].0, a.notifications[0].1), (6, 6));
    b.until("Cease", |p| !p.notifications.is_empty());
    assert_eq!((b.notifications[0].0, b.notifications[0].1), (6, 3));
    let mut a2 = Peer::new("a", accept(&la), AS, Ipv4Addr::new(10, 0, 0, 31));
    a2.until("Established again", |p| p.s.state() == State::Established);
    assert_eq!(a2.s.negotiated().unwrap().hold_time, 30);
    let _ = std::fs::remove_dir_all(&dir);
}

/// An eBGP peer's session config: AS 65001 toward ours.
fn ebgp(router_id: Ipv4Addr) -> SessionConfig {
    let mut c = SessionConfig::new(65001, router_id, Some(AS));
    c.families = vec![AfiSafi::IPV4_UNICAST];
    c
}

fn ibgp_and_ebgp(pi: u16, pe: u16, head: &str, ebgp_extra: &str) -> String {
    format!(
        r#"{head}router_id = "10.255.0.1"
asn = {AS}
listen = []
connect_retry = 1

[[policy]]
name = "everything"
default = "accept"

[[peer]]
name = "i"
address = "127.0.0.41"
asn = {AS}
role = "client"
port = {pi}
local_address = "127.0.0.1"
families = ["ipv4-unicast"]

[[peer]]
name = "e"
address = "127.0.0.42"
asn = 65001
role = "ebgp"
port = {pe}
local_address = "127.0.0.1"
families = ["ipv4-unicast"]
{ebgp_extra}"#
    )
}

/// RFC 8212: without policies an eBGP peer is sent nothing and its routes
/// are rejected; policies given by a reload (or the opt-out) let them through.
#[test]
fn rfc8212_ebgp_needs_policies_unless_opted_out() {
    let dir = tempdir("serve-rfc8212");
    let li = TcpListener::bind("127.0.0.41:0").unwrap();
    let le = TcpListener::bind("127.0.0.42:0").unwrap();
    let (pi, pe) = (
        li.local_addr().unwrap().port(),
        le.local_addr().unwrap().port(),
    );
    let daemon = spawn(&ibgp_and_ebgp(pi, pe, "", ""), &dir);
    let mut i = Peer::new("i", accept(&li), AS, Ipv4Addr::new(10, 0, 0, 41));
    let mut e = Peer::with_config("e", accept(&le), ebgp(Ipv4Addr::new(10, 0, 0, 42)));
    for p in [&mut i, &mut e] {
        p.until("Established", |p| p.s.state() == State::Established);
    }
    i.send(&update(
        &[],
        Ipv4Addr::new(192, 0, 2, 41),
        &["10.41.0.0/24"],
    ));
    e.send(&update(
        &[65001],
        Ipv4Addr::new(127, 0, 0, 42),
        &["10.42.0.0/24"],
    ));
    holds(
        &mut e,
        Duration::from_millis(1500),
        "nothing sent to e",
        |p| p.rib().is_empty(),
    );
    holds(
        &mut i,
        Duration::from_millis(500),
        "e's route rejected",
        |p| p.has("10.42.0.0/24").is_none(),
    );
    assert!(log_has(&dir, "eBGP peer without an import policy"));

    // Policies for e by reload: it is sent i's route, and asked for its own again.
    reload(
        &daemon,
        &dir,
        &ibgp_and_ebgp(
            pi,
            pe,
            "",
            "import = \"everything\"\nexport = \"everything\"\n",
        ),
    );
    e.until("i's route", |p| p.has("10.41.0.0/24").is_some());
    e.until("ROUTE-REFRESH", |p| !p.refreshes.is_empty());
    e.send(&update(
        &[65001],
        Ipv4Addr::new(127, 0, 0, 42),
        &["10.42.0.0/24"],
    ));
    i.until("e's route", |p| p.has("10.42.0.0/24").is_some());
    assert_eq!(e.s.state(), State::Established);
    assert!(e.notifications.is_empty(), "{:?}", e.notifications);
    drop(daemon);

    // The opt-out: no policies, everything flows.
    let dir2 = tempdir("serve-rfc8212-off");
    let _daemon = spawn(
        &ibgp_and_ebgp(pi, pe, "ebgp_requires_policy = false\n", ""),
        &dir2,
    );
    let mut i = Peer::new("i", accept(&li), AS, Ipv4Addr::new(10, 0, 0, 41));
    let mut e = Peer::with_config("e", accept(&le), ebgp(Ipv4Addr::new(10, 0, 0, 42)));
    for p in [&mut i, &mut e] {
        p.until("Established", |p| p.s.state() == State::Established);
    }
    i.send(&update(
        &[],
        Ipv4Addr::new(192, 0, 2, 41),
        &["10.41.0.0/24"],
    ));
    e.send(&update(
        &[65001],
        Ipv4Addr::new(127, 0, 0, 42),
        &["10.42.0.0/24"],
    ));
    e.until("i's route", |p| p.has("10.41.0.0/24").is_some());
    i.until("e's route", |p| p.has("10.42.0.0/24").is_some());
    assert!(!log_has(&dir2, "eBGP peer without"));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}

#[test]
fn check_config_exits_0_or_1_naming_the_field() {
    let dir = tempdir("check-config");
    let good = ibgp_and_ebgp(1, 2, "", "import = \"everything\"\n");
    let bad = ibgp_and_ebgp(1, 2, "", "import = \"nothing\"\n");
    for (text, code, said) in [
        (good, 0, "valid (2 peers)"),
        (bad, 1, "`peer[1].import`: unknown policy `nothing`"),
    ] {
        let path = dir.join("check.toml");
        std::fs::write(&path, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_reflector"))
            .args(["serve", "--check-config"])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code));
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(all.contains(said), "{all}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A peer that did not negotiate route refresh cannot be asked for its
/// routes again: an import policy change resets its session with Cease /
/// Other Configuration Change, and it comes back under the new policy.
#[test]
fn import_change_without_route_refresh_resets_the_session() {
    let dir = tempdir("serve-policy-norr");
    let lc = TcpListener::bind("127.0.0.51:0").unwrap();
    let pc = lc.local_addr().unwrap().port();
    let conf = |import: &str| {
        format!(
            r#"router_id = "10.255.0.1"
asn = {AS}
listen = []
connect_retry = 1
{POLICIES}
[[peer]]
name = "c"
address = "127.0.0.51"
asn = {AS}
role = "client"
port = {pc}
local_address = "127.0.0.1"
import = "{import}"
"#
        )
    };
    let daemon = spawn(&conf("everything"), &dir);
    let plain = || {
        let mut c = SessionConfig::new(AS, Ipv4Addr::new(10, 0, 0, 51), Some(AS));
        c.route_refresh = false;
        c.enhanced_route_refresh = false;
        c
    };
    let mut c = Peer::with_config("c", accept(&lc), plain());
    c.until("Established", |p| p.s.state() == State::Established);
    reload(&daemon, &dir, &conf("tag-a"));
    c.until("Cease", |p| !p.notifications.is_empty());
    assert_eq!((c.notifications[0].0, c.notifications[0].1), (6, 6));
    assert!(c.refreshes.is_empty());
    let mut c2 = Peer::with_config("c", accept(&lc), plain());
    c2.until("Established again", |p| p.s.state() == State::Established);
    until_logged(&dir, "the peer has no route refresh", &mut [&mut c2]);
    let _ = std::fs::remove_dir_all(&dir);
}
