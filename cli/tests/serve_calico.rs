//! `reflector serve --config CALICO --node NAME` on loopback: the example
//! cluster's reflector starts with the planned peers, missing or unknown
//! `--node` exits 1 naming the flag, and a reflector node of a loopback
//! cluster reflects a route between two client nodes (written with
//! Reflector's own sans-IO session) with its `routeReflectorClusterID`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reflector_core::session::State;
use reflector_core::wire::attribute::{type_code, Origin};
use reflector_core::wire::update_repr::{AsPath, AttributeRepr, AttributeValue};
use reflector_core::wire::{Context, Nlri, UpdateRepr};

mod support;
use support::{accept, tempdir, Daemon, Peer};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/calico-rr");

impl Daemon {
    fn spawn(args: &[&str], log: &Path) -> Daemon {
        let child = Command::new(env!("CARGO_BIN_EXE_reflector"))
            .arg("serve")
            .args(args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        Daemon(child)
    }

    /// SIGTERM by pid, then a bounded wait for exit status 0.
    fn terminate(&mut self) {
        let pid = self.0.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(s) = self.0.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "daemon did not exit");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "{status:?}");
    }
}

/// Wait (bounded) until the log holds `what`; returns the log.
fn wait_log(path: &Path, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = std::fs::read_to_string(path).unwrap_or_default();
        if log.contains(what) {
            return log;
        }
        assert!(Instant::now() < deadline, "no `{what}` in the log:\n{log}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn missing_or_unknown_node_exits_1_naming_the_flag() {
    for (extra, expect) in [
        (&[][..], "--node NAME"),
        (&["--node", "nope"][..], "no Node named `nope`"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_reflector"))
            .args(["serve", "--config", EXAMPLE])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("field `node`"), "{err}");
        assert!(err.contains(expect), "{err}");
        assert!(err.contains("qtwtv, rxgks, uqwst, volwl, zyisy"), "{err}");
    }
}

#[test]
fn calico_rr_example_reflector_starts_with_its_planned_peers() {
    let dir = tempdir("calico-example");
    let log = dir.join("reflector.log");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    // Passive: the example's peers (10.0.0.x) are not on this machine.
    let mut daemon = Daemon::spawn(
        &[
            "--config",
            EXAMPLE,
            "--node",
            "rxgks",
            "--listen",
            &listen,
            "--passive",
            "--log",
            "debug",
        ],
        &log,
    );
    let text = wait_log(&log, "reflector listening");
    for field in [
        "router_id=10.0.0.2",
        "asn=63400",
        "cluster_id=224.0.0.1",
        "peers=4",
    ] {
        assert!(text.contains(field), "{field}:\n{text}");
    }
    // The unquoted selector of the example is a logged warning.
    assert!(text.contains("BGPPeer/peer-to-rrs"), "{text}");
    // It accepts a connection, and closes it: 127.0.0.1 is no planned peer.
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(&listen).is_err() {
        assert!(Instant::now() < deadline, "cannot connect to {listen}");
        std::thread::sleep(Duration::from_millis(20));
    }
    wait_log(&log, "not a configured peer");
    daemon.terminate();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Listeners on 127.0.0.62 and 127.0.0.63 sharing one port that 127.0.0.61 can also bind.
fn client_listeners() -> (TcpListener, TcpListener, u16) {
    for _ in 0..50 {
        let a = TcpListener::bind("127.0.0.62:0").unwrap();
        let port = a.local_addr().unwrap().port();
        let Ok(b) = TcpListener::bind(("127.0.0.63", port)) else {
            continue;
        };
        if TcpListener::bind(("127.0.0.61", port)).is_ok() {
            return (a, b, port);
        }
    }
    panic!("no port free on 127.0.0.61-63");
}

#[test]
fn calico_reflector_node_reflects_between_its_client_nodes_on_loopback() {
    let dir = tempdir("calico-loopback");
    let (la, lb, port) = client_listeners();
    // calico-rr's shape on loopback addresses; listenPort is every node's port.
    let yaml = format!(
        r#"apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  nodeToNodeMeshEnabled: false
  asNumber: 63400
  listenPort: {port}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: rr
  labels:
    route-reflector: "true"
spec:
  bgp:
    ipv4Address: 127.0.0.61/8
    routeReflectorClusterID: 10.255.6.1
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node-a
spec:
  bgp:
    ipv4Address: 127.0.0.62/8
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node-b
spec:
  bgp:
    ipv4Address: 127.0.0.63/8
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: peer-to-rrs
spec:
  nodeSelector: "!has(route-reflector)"
  peerSelector: has(route-reflector)
"#
    );
    let cfg = dir.join("cluster.yaml");
    std::fs::write(&cfg, yaml).unwrap();
    let log = dir.join("reflector.log");
    let mut daemon = Daemon::spawn(
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--node",
            "rr",
            "--log",
            "debug",
        ],
        &log,
    );
    let text = wait_log(&log, "reflector listening");
    assert!(text.contains(&format!("127.0.0.61:{port}")), "{text}");
    assert!(text.contains("cluster_id=10.255.6.1"), "{text}");

    // The reflector connects to both clients (from its node address).
    let rid_a = Ipv4Addr::new(127, 0, 0, 62);
    let mut a = Peer::new("a", accept(&la), 63400, rid_a);
    let mut b = Peer::new("b", accept(&lb), 63400, Ipv4Addr::new(127, 0, 0, 63));
    for p in [&mut a, &mut b] {
        assert_eq!(
            p.sock.peer_addr().unwrap().ip(),
            Ipv4Addr::new(127, 0, 0, 61)
        );
        p.until("Established", |p| p.s.state() == State::Established);
    }

    let update = UpdateRepr {
        withdrawn: vec![],
        attributes: vec![
            AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
            AttributeRepr::new(AttributeValue::AsPath(AsPath::sequence(&[]))),
            AttributeRepr::new(AttributeValue::NextHop(rid_a)),
            AttributeRepr::new(AttributeValue::LocalPref(100)),
        ],
        nlri: vec![Nlri::new("192.168.62.0/26".parse().unwrap())],
    }
    .to_vec(&Context::MODERN)
    .unwrap();
    a.sock.write_all(&update).unwrap();
    a.step();
    b.until("node-a's block", |p| {
        p.updates.iter().any(|u| !u.nlri.is_empty())
    });
    let u = b.updates.iter().find(|u| !u.nlri.is_empty()).unwrap();
    assert_eq!(u.nlri[0].prefix, "192.168.62.0/26".parse().unwrap());
    assert_eq!(
        u.attribute(type_code::ORIGINATOR_ID),
        Some(&AttributeValue::OriginatorId(rid_a))
    );
    assert_eq!(
        u.attribute(type_code::CLUSTER_LIST),
        Some(&AttributeValue::ClusterList(vec![Ipv4Addr::new(
            10, 255, 6, 1
        )
        .to_bits()]))
    );
    assert_eq!(
        u.attribute(type_code::NEXT_HOP),
        Some(&AttributeValue::NextHop(rid_a))
    );
    daemon.terminate();
    let _ = std::fs::remove_dir_all(&dir);
}
