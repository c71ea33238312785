//! The OpenMetrics endpoint of a running `reflector serve`, on loopback:
//! scraped over HTTP, parsed as the text exposition format, and checked
//! against what the test peers sent and received.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reflector_core::session::State;
use reflector_core::wire::attribute::Origin;
use reflector_core::wire::update_repr::{AsPath, AttributeRepr, AttributeValue};
use reflector_core::wire::{Context, Nlri, UpdateRepr};

mod support;
use support::{accept, tempdir, Daemon, Peer};

const AS: u32 = 64512;

fn update(nh: Ipv4Addr, nlri: &[&str]) -> Vec<u8> {
    UpdateRepr {
        withdrawn: vec![],
        attributes: vec![
            AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
            AttributeRepr::new(AttributeValue::AsPath(AsPath::sequence(&[]))),
            AttributeRepr::new(AttributeValue::NextHop(nh)),
        ],
        nlri: nlri.iter().map(|p| Nlri::new(p.parse().unwrap())).collect(),
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}

/// One sample: metric name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// Parse the text exposition format (comments skipped; `# EOF` required last).
fn parse(text: &str) -> Vec<Sample> {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "OpenMetrics ends with # EOF");
    let mut out = Vec::new();
    for line in lines {
        if line.starts_with('#') || line.is_empty() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let kind = rest.split_whitespace().nth(1).unwrap();
                assert!(
                    ["counter", "gauge"].contains(&kind),
                    "unexpected type in {line}"
                );
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value of {line}"));
        let (name, labels) = match series.split_once('{') {
            None => (series.to_string(), BTreeMap::new()),
            Some((n, rest)) => {
                let body = rest.strip_suffix('}').unwrap();
                let mut m = BTreeMap::new();
                let mut s = body;
                while !s.is_empty() {
                    let (k, after) = s.split_once("=\"").unwrap();
                    let end = after.find('"').unwrap();
                    m.insert(k.to_string(), after[..end].to_string());
                    s = after[end + 1..].trim_start_matches(',');
                }
                (n.to_string(), m)
            }
        };
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "metric name {name}"
        );
        out.push((name, labels, value));
    }
    out
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let hits: Vec<&Sample> = samples
        .iter()
        .filter(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    assert_eq!(hits.len(), 1, "{name} {labels:?}: {} samples", hits.len());
    hits[0].2
}

/// GET a path; (status line, headers, body).
fn get(port: u16, path: &str) -> (String, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    (status.to_string(), headers.to_string(), body.to_string())
}

fn scrape(port: u16) -> Vec<Sample> {
    let (status, headers, body) = get(port, "/metrics");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        headers.contains("Content-Type: application/openmetrics-text; version=1.0.0"),
        "{headers}"
    );
    parse(&body)
}

/// A free loopback port (bound, then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn metrics_are_scraped_and_match_the_wire() {
    let dir = tempdir("metrics");
    let la = TcpListener::bind("127.0.0.81:0").unwrap();
    let lb = TcpListener::bind("127.0.0.82:0").unwrap();
    let (pa, pb) = (
        la.local_addr().unwrap().port(),
        lb.local_addr().unwrap().port(),
    );
    let mport = free_port();
    let config = format!(
        r#"router_id = "10.255.0.8"
asn = {AS}
listen = []
connect_retry = 1

[control]
socket = "{}"

[[peer]]
name = "a"
address = "127.0.0.81"
asn = {AS}
role = "client"
port = {pa}
local_address = "127.0.0.1"
families = ["ipv4-unicast"]

[[peer]]
name = "b"
address = "127.0.0.82"
asn = {AS}
role = "client"
port = {pb}
local_address = "127.0.0.1"
families = ["ipv4-unicast"]
"#,
        dir.join("reflector.sock").display()
    );
    let path = dir.join("reflector.toml");
    std::fs::write(&path, config).unwrap();
    let daemon = Daemon(
        Command::new(env!("CARGO_BIN_EXE_reflector"))
            .args(["serve", "--config"])
            .arg(&path)
            .args(["--metrics", &format!("127.0.0.1:{mport}")])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("reflector.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    let mut a = Peer::new("a", accept(&la), AS, Ipv4Addr::new(10, 0, 0, 81));
    let mut b = Peer::new("b", accept(&lb), AS, Ipv4Addr::new(10, 0, 0, 82));
    for p in [&mut a, &mut b] {
        p.until("Established", |p| p.s.state() == State::Established);
    }
    let nh = Ipv4Addr::new(192, 0, 2, 81);
    a.send(&update(nh, &["10.81.1.0/24", "10.81.2.0/24"]));
    a.send(&update(nh, &["10.81.3.0/24"]));
    b.until("a's routes", |p| p.rib().len() == 3);
    // Let the keepalives and counters settle: scrape until two scrapes agree on b's UPDATEs.
    let deadline = Instant::now() + Duration::from_secs(10);
    let samples = loop {
        a.step();
        b.step();
        let s = scrape(mport);
        let sent = value(
            &s,
            "reflector_messages_sent_total",
            &[("peer", "b"), ("type", "update")],
        );
        if sent as usize == b.updates.len() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "b received {} UPDATEs, metrics say {sent}",
            b.updates.len()
        );
    };
    // Sessions.
    for p in ["a", "b"] {
        assert_eq!(
            value(&samples, "reflector_peer_established", &[("peer", p)]),
            1.0
        );
        assert_eq!(value(&samples, "reflector_peer_state", &[("peer", p)]), 6.0);
        assert_eq!(
            value(
                &samples,
                "reflector_peer_established_transitions_total",
                &[("peer", p)]
            ),
            1.0
        );
        assert_eq!(
            value(&samples, "reflector_peer_disabled", &[("peer", p)]),
            0.0
        );
    }
    // What a sent: two UPDATEs (their bytes too), one OPEN; what the engine made of them.
    let upd =
        update(nh, &["10.81.1.0/24", "10.81.2.0/24"]).len() + update(nh, &["10.81.3.0/24"]).len();
    assert_eq!(
        value(
            &samples,
            "reflector_messages_received_total",
            &[("peer", "a"), ("type", "update")]
        ),
        2.0
    );
    assert_eq!(
        value(
            &samples,
            "reflector_bytes_received_total",
            &[("peer", "a"), ("type", "update")]
        ),
        upd as f64
    );
    assert_eq!(
        value(
            &samples,
            "reflector_messages_received_total",
            &[("peer", "a"), ("type", "open")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &samples,
            "reflector_peer_updates_received_total",
            &[("peer", "a")]
        ),
        2.0
    );
    assert_eq!(
        value(
            &samples,
            "reflector_peer_prefixes_received_total",
            &[("peer", "a")]
        ),
        3.0
    );
    assert_eq!(
        value(&samples, "reflector_peer_accepted_total", &[("peer", "a")]),
        3.0
    );
    assert_eq!(
        value(
            &samples,
            "reflector_peer_prefixes_accepted",
            &[("peer", "a"), ("family", "ipv4-unicast")]
        ),
        3.0
    );
    assert_eq!(
        value(
            &samples,
            "reflector_peer_policy_rejected_in_total",
            &[("peer", "a")]
        ),
        0.0
    );
    assert_eq!(
        value(
            &samples,
            "reflector_peer_prefix_limit_hits_total",
            &[("peer", "a")]
        ),
        0.0
    );
    // What b was sent, as b counted it.
    let b_bytes: usize = b
        .updates
        .iter()
        .map(|u| u.to_vec(&Context::MODERN).unwrap().len())
        .sum();
    assert_eq!(
        value(
            &samples,
            "reflector_bytes_sent_total",
            &[("peer", "b"), ("type", "update")]
        ),
        b_bytes as f64
    );
    assert_eq!(
        value(
            &samples,
            "reflector_peer_prefixes_sent_total",
            &[("peer", "b")]
        ),
        3.0
    );
    // The RIB.
    assert_eq!(
        value(
            &samples,
            "reflector_rib_prefixes",
            &[("family", "ipv4-unicast")]
        ),
        3.0
    );
    assert_eq!(
        value(
            &samples,
            "reflector_rib_prefixes",
            &[("family", "ipv6-unicast")]
        ),
        0.0
    );
    assert_eq!(
        value(
            &samples,
            "reflector_rib_paths",
            &[("family", "ipv4-unicast")]
        ),
        3.0
    );
    assert_eq!(value(&samples, "reflector_rib_attribute_sets", &[]), 1.0);
    assert!(value(&samples, "reflector_rib_table_bytes", &[]) > 0.0);
    assert!(value(&samples, "reflector_process_resident_bytes", &[]) > 0.0);

    // A NOTIFICATION is counted by code and subcode, both ways: reset a from the control socket.
    let out = Command::new(env!("CARGO_BIN_EXE_reflector"))
        .args(["ctl", "reset", "a", "--control"])
        .arg(dir.join("reflector.sock"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    a.until("Cease", |p| !p.notifications.is_empty());
    let deadline = Instant::now() + Duration::from_secs(10);
    let samples = loop {
        b.step();
        let s = scrape(mport);
        if value(&s, "reflector_peer_established", &[("peer", "a")]) == 0.0 {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "a still Established in the metrics"
        );
    };
    assert_eq!(
        value(
            &samples,
            "reflector_notifications_total",
            &[
                ("peer", "a"),
                ("direction", "sent"),
                ("code", "6"),
                ("subcode", "4")
            ]
        ),
        1.0
    );
    let n = samples
        .iter()
        .find(|(n, l, _)| {
            n == "reflector_notifications_total" && l.get("peer").map(String::as_str) == Some("a")
        })
        .unwrap();
    assert_eq!(n.1["code_name"], "Cease");
    assert_eq!(n.1["subcode_name"], "Administrative Reset");
    assert_eq!(
        value(
            &samples,
            "reflector_messages_sent_total",
            &[("peer", "a"), ("type", "notification")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &samples,
            "reflector_peer_prefixes_accepted",
            &[("peer", "a"), ("family", "ipv4-unicast")]
        ),
        0.0
    );

    // Anything but GET /metrics is refused.
    assert_eq!(get(mport, "/nope").0, "HTTP/1.1 404 Not Found");
    drop(daemon);
    let _ = std::fs::remove_dir_all(&dir);
}
