//! The control socket against a running `reflector serve`, on loopback:
//! every `reflector show` command's table (its stable parts) and its
//! `--json` answer checked against the schema in `docs/control.md`; every
//! `reflector ctl` action observed on the wire (Cease 6/4 on reset, 6/2 and
//! no reconnection on disable until enable, ROUTE-REFRESH on refresh, the
//! RFC 8326 re-advertisement then 6/2 with the RFC 9003 message on graceful
//! shutdown); a refused reload naming the field; the socket's mode 0600; a
//! request in an unknown protocol version refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use reflector_core::session::State;
use reflector_core::wire::attribute::{type_code, Origin};
use reflector_core::wire::update_repr::{AsPath, AttributeRepr, AttributeValue};
use reflector_core::wire::{AfiSafi, Context, Nlri, UpdateRepr};
use serde_json::Value;

mod support;
use support::{accept, tempdir, vpn_update, Daemon, Peer};

const AS: u32 = 64512;

fn update(path: &[u32], nh: Ipv4Addr, local_pref: Option<u32>, nlri: &[&str]) -> Vec<u8> {
    let mut attributes = vec![
        AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
        AttributeRepr::new(AttributeValue::AsPath(AsPath::sequence(path))),
        AttributeRepr::new(AttributeValue::NextHop(nh)),
    ];
    if let Some(lp) = local_pref {
        attributes.push(AttributeRepr::new(AttributeValue::LocalPref(lp)));
    }
    UpdateRepr {
        withdrawn: vec![],
        attributes,
        nlri: nlri.iter().map(|p| Nlri::new(p.parse().unwrap())).collect(),
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}

/// Three clients, a, b and c, on 127.0.0.7x; the daemon connects to them.
fn config(ports: [u16; 3], socket: &Path, extra: &str, families: &str) -> String {
    let mut s = format!(
        "router_id = \"10.255.0.7\"\nasn = {AS}\nlisten = []\nconnect_retry = 1\n\n[control]\nsocket = \"{}\"\n{extra}\n",
        socket.display()
    );
    for (i, (name, port)) in ["a", "b", "c"].iter().zip(ports).enumerate() {
        s.push_str(&format!(
            "[[peer]]\nname = \"{name}\"\naddress = \"127.0.0.{}\"\nasn = {AS}\nrole = \"client\"\nport = {port}\nlocal_address = \"127.0.0.1\"\nfamilies = [{families}]\n\n",
            71 + i
        ));
    }
    s
}

struct Setup {
    dir: PathBuf,
    socket: PathBuf,
    daemon: Daemon,
    listeners: Vec<TcpListener>,
    ports: [u16; 3],
}

fn start(name: &str, extra: &str, args: &[&str]) -> Setup {
    start_with(name, extra, args, "\"ipv4-unicast\"")
}

/// Like `start`, the peers carrying `families` (a TOML list's items).
fn start_with(name: &str, extra: &str, args: &[&str], families: &str) -> Setup {
    let dir = tempdir(name);
    let socket = dir.join("ctl").join("reflector.sock");
    let listeners: Vec<TcpListener> = (0..3)
        .map(|i| TcpListener::bind(format!("127.0.0.{}:0", 71 + i)).unwrap())
        .collect();
    let ports = [0, 1, 2].map(|i| listeners[i].local_addr().unwrap().port());
    let path = dir.join("reflector.toml");
    std::fs::write(&path, config(ports, &socket, extra, families)).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_reflector"))
        .args(["serve", "--config"])
        .arg(&path)
        .args(["--log", "debug"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("reflector.log")).unwrap())
        .spawn()
        .unwrap();
    Setup {
        dir,
        socket,
        daemon: Daemon(child),
        listeners,
        ports,
    }
}

fn peer(s: &Setup, i: usize) -> Peer {
    let name = ["a", "b", "c"][i];
    let mut p = Peer::new(
        name,
        accept(&s.listeners[i]),
        AS,
        Ipv4Addr::new(10, 0, 0, 71 + i as u8),
    );
    p.until("Established", |p| p.s.state() == State::Established);
    p
}

/// `reflector ARGS --control SOCKET`.
fn cli(socket: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_reflector"))
        .args(args)
        .arg("--control")
        .arg(socket)
        .output()
        .unwrap();
    out
}

fn ok_text(socket: &Path, args: &[&str]) -> String {
    let out = cli(socket, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn ok_json(socket: &Path, args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    serde_json::from_str(&ok_text(socket, &a)).unwrap()
}

/// The schemas in docs/control.md, by name.
fn schemas() -> Vec<(String, Value)> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/control.md"))
        .unwrap();
    let mut out = Vec::new();
    let mut rest = doc.as_str();
    while let Some(i) = rest.find("```json schema:") {
        let after = &rest[i + "```json schema:".len()..];
        let nl = after.find('\n').unwrap();
        let name = after[..nl].trim().to_string();
        let body = &after[nl + 1..];
        let end = body.find("```").unwrap();
        let v: Value = serde_json::from_str(&body[..end])
            .unwrap_or_else(|e| panic!("schema {name} in docs/control.md: {e}"));
        out.push((name, v));
        rest = &body[end..];
    }
    assert!(out.len() >= 10, "schemas found: {}", out.len());
    out
}

fn schema(name: &str) -> Value {
    schemas()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no schema {name} in docs/control.md"))
        .1
}

/// Check `v` against schema `s` (notation in docs/control.md); `at` names the place.
fn check(v: &Value, s: &Value, at: &str) {
    match s {
        Value::String(t) if t.starts_with('#') => check(v, &schema(&t[1..]), at),
        Value::String(t) => {
            let (t, nullable) = match t.strip_suffix('?') {
                Some(t) => (t, true),
                None => (t.as_str(), false),
            };
            if v.is_null() && nullable {
                return;
            }
            let fits = match t {
                "string" => v.is_string(),
                "integer" => v.is_u64() || v.is_i64(),
                "number" => v.is_number(),
                "boolean" => v.is_boolean(),
                other => panic!("{at}: unknown type {other} in the schema"),
            };
            assert!(fits, "{at}: {v} is not {s}");
        }
        Value::Array(items) => {
            let a = v
                .as_array()
                .unwrap_or_else(|| panic!("{at}: {v} is not an array"));
            for (i, x) in a.iter().enumerate() {
                check(x, &items[0], &format!("{at}[{i}]"));
            }
        }
        Value::Object(m) if m.len() == 1 && m.contains_key("nullable") => {
            if !v.is_null() {
                check(v, &m["nullable"], at);
            }
        }
        Value::Object(m) => {
            let o = v
                .as_object()
                .unwrap_or_else(|| panic!("{at}: {v} is not an object"));
            for k in o.keys() {
                assert!(m.contains_key(k), "{at}: key {k:?} not in the schema");
            }
            for (k, sub) in m {
                let x = o
                    .get(k)
                    .unwrap_or_else(|| panic!("{at}: key {k:?} missing"));
                check(x, sub, &format!("{at}.{k}"));
            }
        }
        other => panic!("{at}: bad schema {other}"),
    }
}

/// Check the `--json` answer of `args` against the schema `name`; return it.
fn checked(socket: &Path, name: &str, args: &[&str]) -> Value {
    let v = ok_json(socket, args);
    check(&v, &schema(name), name);
    v
}

/// One raw request line on the socket; the answer line.
fn raw(socket: &Path, line: &str) -> Value {
    let mut s = UnixStream::connect(socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(line.as_bytes()).unwrap();
    s.write_all(b"\n").unwrap();
    let mut answer = String::new();
    BufReader::new(&s).read_line(&mut answer).unwrap();
    serde_json::from_str(&answer).unwrap()
}

/// Wait (bounded) for the control socket, stepping the peers meanwhile.
fn wait_socket(socket: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while UnixStream::connect(socket).is_err() {
        assert!(
            Instant::now() < deadline,
            "no control socket at {}",
            socket.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Step every peer until `f` holds (bounded).
fn until(peers: &mut [&mut Peer], what: &str, mut f: impl FnMut(&mut [&mut Peer]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f(peers) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        for p in peers.iter_mut() {
            p.step();
        }
    }
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Mask `hh:mm:ss` durations (they change from run to run).
fn mask_times(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        let is_time = i + 8 <= b.len()
            && b[i..i + 8].iter().enumerate().all(|(k, c)| {
                if k == 2 || k == 5 {
                    *c == b':'
                } else {
                    c.is_ascii_digit()
                }
            });
        if is_time {
            out.push_str("hh:mm:ss");
            i += 8;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

#[test]
fn show_commands_answer_tables_and_documented_json() {
    let s = start("control-show", "", &[]);
    wait_socket(&s.socket);
    assert_eq!(mode(&s.socket), 0o600, "the control socket is 0600");
    let mut a = peer(&s, 0);
    let mut b = peer(&s, 1);
    let mut c = peer(&s, 2);
    // One prefix from all three: a wins on LOCAL_PREF over b and on AS path over c.
    a.send(&update(
        &[65001],
        Ipv4Addr::new(192, 0, 2, 71),
        Some(200),
        &["10.71.0.0/24", "10.72.0.0/24"],
    ));
    b.send(&update(
        &[65001],
        Ipv4Addr::new(192, 0, 2, 72),
        Some(100),
        &["10.71.0.0/24"],
    ));
    c.send(&update(
        &[65001, 65002],
        Ipv4Addr::new(192, 0, 2, 73),
        Some(200),
        &["10.71.0.0/24"],
    ));
    until(&mut [&mut a, &mut b, &mut c], "the routes reflected", |p| {
        p[1].has("10.72.0.0/24").is_some()
            && p[2].has("10.72.0.0/24").is_some()
            && p[1].has("10.71.0.0/24").is_some_and(|u| {
                u.attribute(type_code::LOCAL_PREF) == Some(&AttributeValue::LocalPref(200))
            })
    });

    // summary
    let text = ok_text(&s.socket, &["show", "summary"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        mask_times(lines[0]),
        "Reflector router ID 10.255.0.7, AS 64512, cluster ID 10.255.0.7, up hh:mm:ss"
    );
    assert_eq!(
        lines[1],
        "Loc-RIB: 2 IPv4 prefixes, 0 IPv6 prefixes, 4 paths"
    );
    assert_eq!(lines[2], "");
    assert_eq!(
        lines[3],
        "Neighbor  Address     AS     Role    State        Since     IPv4 Acc/Adv  IPv6 Acc/Adv  Updates In/Out"
    );
    // Every column but the last (UPDATE counts depend on packing).
    let rows: Vec<Vec<&str>> = lines[4..]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let stable: Vec<String> = rows.iter().map(|r| mask_times(&r[..8].join(" "))).collect();
    assert_eq!(
        stable,
        [
            "a 127.0.0.71 64512 client Established hh:mm:ss 2/0 0/0",
            "b 127.0.0.72 64512 client Established hh:mm:ss 1/2 0/0",
            "c 127.0.0.73 64512 client Established hh:mm:ss 1/2 0/0",
        ]
    );
    let v = checked(&s.socket, "summary", &["show", "summary"]);
    assert_eq!(v["peers"][1]["families"]["ipv4-unicast"]["advertised"], 2);
    assert_eq!(v["peers"][0]["updates_received"], 1);

    // neighbor
    let text = ok_text(&s.socket, &["show", "neighbor", "a"]);
    for want in [
        "Neighbor a, address 127.0.0.71, AS 64512, client\n",
        "  State: Established for ",
        "  Session: outbound connection, remote 127.0.0.71:",
        ", router ID 10.0.0.71\n",
        "  Timers: hold time 90 s, keepalive 30 s\n",
        "  Capabilities: 4-octet AS yes, route refresh yes,",
        "  Families: ipv4-unicast; ADD-PATH receive -, send -; extended next hop -; disabled -\n",
        "  ipv4-unicast: 2 accepted, 0 advertised\n",
        "  Last error: none\n",
    ] {
        assert!(
            text.contains(want),
            "show neighbor a lacks {want:?}:\n{text}"
        );
    }
    let update_row: Vec<&str> = text
        .lines()
        .find(|l| l.trim_start().starts_with("update "))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(update_row[1], "1", "one UPDATE received from a:\n{text}");
    let v = checked(&s.socket, "neighbor", &["show", "neighbor"]);
    assert_eq!(v["peers"].as_array().unwrap().len(), 3);
    let na = &v["peers"][0];
    assert_eq!(na["session"]["router_id"], "10.0.0.71");
    assert_eq!(na["counters"]["updates_received"], 1);
    assert_eq!(na["counters"]["prefixes_received"], 2);
    assert_eq!(na["messages"]["received"]["update"]["messages"], 1);
    assert_eq!(na["messages"]["received"]["open"]["messages"], 1);
    assert!(na["last_error"].is_null());
    let one = checked(&s.socket, "neighbor", &["show", "neighbor", "127.0.0.72"]);
    assert_eq!(one["peers"][0]["name"], "b");

    // route: the best path and why every other candidate lost.
    let text = ok_text(
        &s.socket,
        &["show", "route", "10.71.0.0/24", "--all-candidates"],
    );
    assert_eq!(
        text,
        "10.71.0.0/24 (ipv4-unicast), 3 candidate(s)\n\
         \x20 *> from a (127.0.0.71) [best]\n\
         \x20     next hop 192.0.2.71, AS path 65001, origin igp, local-pref 200\n\
         \x20    from c (127.0.0.73) [lost to the best at: as-path-length]\n\
         \x20     next hop 192.0.2.73, AS path 65001 65002, origin igp, local-pref 200\n\
         \x20    from b (127.0.0.72) [lost to the best at: local-pref]\n\
         \x20     next hop 192.0.2.72, AS path 65001, origin igp, local-pref 100\n"
    );
    let v = checked(
        &s.socket,
        "route",
        &["show", "route", "10.71.0.0/24", "--all-candidates"],
    );
    let steps: Vec<&Value> = v["routes"][0]["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["lost_at"])
        .collect();
    assert_eq!(
        steps,
        [
            &Value::Null,
            &Value::from("as-path-length"),
            &Value::from("local-pref")
        ]
    );
    // An address: the longest prefix holding it, best path only.
    let v = checked(&s.socket, "route", &["show", "route", "10.72.0.9"]);
    assert_eq!(v["routes"][0]["prefix"], "10.72.0.0/24");
    assert_eq!(v["routes"][0]["paths"].as_array().unwrap().len(), 1);
    let v = checked(
        &s.socket,
        "route",
        &["show", "route", "--family", "ipv4-unicast"],
    );
    assert_eq!(v["routes"].as_array().unwrap().len(), 2);
    assert_eq!(
        ok_text(&s.socket, &["show", "route", "--family", "ipv6-unicast"]),
        "no route\n"
    );

    // adj-in / adj-out
    let text = ok_text(&s.socket, &["show", "adj-in", "a"]);
    assert_eq!(
        text,
        "a (127.0.0.71): 2 routes\n\
         Prefix        Next hop    LocPrf  MED  Origin  AS path  Communities\n\
         10.71.0.0/24  192.0.2.71  200     -    igp     65001    -\n\
         10.72.0.0/24  192.0.2.71  200     -    igp     65001    -\n"
    );
    checked(&s.socket, "adj-in", &["show", "adj-in", "a"]);
    // b is sent a's paths, reflected: ORIGINATOR_ID a, our cluster ID.
    let v = checked(&s.socket, "adj-out", &["show", "adj-out", "b"]);
    let routes = v["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 2);
    assert_eq!(routes[0]["attributes"]["originator_id"], "10.0.0.71");
    assert_eq!(
        routes[0]["attributes"]["cluster_list"],
        serde_json::json!(["10.255.0.7"])
    );
    assert_eq!(
        ok_text(&s.socket, &["show", "adj-out", "b"]),
        "b (127.0.0.72): 2 routes\n\
         Prefix        Next hop    LocPrf  MED  Origin  AS path  Communities\n\
         10.71.0.0/24  192.0.2.71  200     -    igp     65001    -\n\
         10.72.0.0/24  192.0.2.71  200     -    igp     65001    -\n"
    );
    // a is sent nothing: both best paths are its own.
    let v = checked(&s.socket, "adj-out", &["show", "adj-out", "a"]);
    assert_eq!(v["routes"].as_array().unwrap().len(), 0);

    // memory
    let text = ok_text(&s.socket, &["show", "memory"]);
    assert!(
        text.starts_with("Loc-RIB: 2 prefixes (2 IPv4, 0 IPv6), 4 paths, "),
        "{text}"
    );
    let v = checked(&s.socket, "memory", &["show", "memory"]);
    assert!(v["process"]["resident_bytes"].as_u64().unwrap() > 0);

    // Errors: an unknown peer, an unknown version, an unknown command.
    let out = cli(&s.socket, &["show", "adj-in", "nobody"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no peer named \"nobody\""));
    let r = raw(&s.socket, r#"{"version":2,"command":"summary"}"#);
    assert_eq!(r["ok"], false);
    assert_eq!(r["version"], 1);
    assert_eq!(
        r["error"],
        "unsupported protocol version 2 (this daemon speaks 1)"
    );
    let r = raw(&s.socket, r#"{"command":"summary"}"#);
    assert_eq!(r["ok"], false);
    let r = raw(&s.socket, r#"{"version":1,"command":"frobnicate"}"#);
    assert_eq!(r["error"], "unknown command \"frobnicate\"");
    let r = raw(&s.socket, r#"{"version":1,"command":"summary"}"#);
    assert_eq!(r["ok"], true);
    check(&r["data"], &schema("summary"), "raw summary");
    drop(s.daemon);
    let _ = std::fs::remove_dir_all(&s.dir);
}

#[test]
fn ctl_actions_are_seen_on_the_wire() {
    let s = start("control-ctl", "", &[]);
    wait_socket(&s.socket);
    let mut a = peer(&s, 0);
    let mut b = peer(&s, 1);
    let mut c = peer(&s, 2);
    a.send(&update(
        &[],
        Ipv4Addr::new(192, 0, 2, 71),
        None,
        &["10.71.1.0/24"],
    ));
    until(&mut [&mut a, &mut b, &mut c], "a's route at b", |p| {
        p[1].has("10.71.1.0/24").is_some()
    });

    // refresh: a ROUTE-REFRESH for a's one family, the session stays.
    let v = checked(&s.socket, "peer-action", &["ctl", "refresh", "a"]);
    assert_eq!(v["action"], "refresh");
    a.until("ROUTE-REFRESH", |p| !p.refreshes.is_empty());
    assert_eq!(a.refreshes, [(1, 1)]);
    // soft reset: another ROUTE-REFRESH, and b is sent its routes again.
    let before = b.updates.len();
    let text = ok_text(&s.socket, &["ctl", "reset", "b", "--soft"]);
    assert_eq!(
        text,
        "b: ROUTE-REFRESH sent for 1 families; routes sent again for 1 families\n"
    );
    b.until("routes sent again", |p| {
        p.updates.len() > before && !p.refreshes.is_empty()
    });
    assert!(b.notifications.is_empty() && b.s.state() == State::Established);

    // hard reset: Cease / Administrative Reset with the RFC 9003 message; a comes back.
    checked(&s.socket, "peer-action", &["ctl", "reset", "a"]);
    a.until("Cease", |p| !p.notifications.is_empty());
    assert_eq!(
        a.notifications[0],
        (6, 4, Some("reset by reflector ctl".to_string()))
    );
    let mut a2 = peer(&s, 0);
    assert_eq!(a2.s.state(), State::Established);
    // The daemon's side may reach Established a moment after a2's (bounded wait).
    let deadline = Instant::now() + Duration::from_secs(10);
    let v = loop {
        let v = checked(&s.socket, "neighbor", &["show", "neighbor", "a"]);
        if v["peers"][0]["state"] == "Established" {
            break v;
        }
        assert!(Instant::now() < deadline, "a never Established again: {v}");
        a2.step();
    };
    let e = &v["peers"][0]["last_error"];
    assert_eq!(
        (
            e["direction"].as_str(),
            e["code"].as_u64(),
            e["subcode"].as_u64()
        ),
        (Some("sent"), Some(6), Some(4))
    );
    assert_eq!(e["code_name"], "Cease");
    assert_eq!(e["subcode_name"], "Administrative Reset");
    assert_eq!(e["shutdown_message"], "reset by reflector ctl");
    assert_eq!(v["peers"][0]["established_transitions"], 2);
    let text = ok_text(&s.socket, &["show", "neighbor", "a"]);
    assert!(
        text.contains("  Last error: sent 6/4 (Cease / Administrative Reset) "),
        "{text}"
    );
    assert!(
        text.contains(", shutdown message \"reset by reflector ctl\"\n"),
        "{text}"
    );

    // disable: Cease / Administrative Shutdown, and no new connection until enable.
    let text = ok_text(&s.socket, &["ctl", "disable", "c"]);
    assert!(
        text.starts_with("c: Cease/Administrative Shutdown sent"),
        "{text}"
    );
    c.until("Cease", |p| !p.notifications.is_empty());
    assert_eq!(
        c.notifications[0],
        (6, 2, Some("disabled by the operator".to_string()))
    );
    s.listeners[2].set_nonblocking(true).unwrap();
    // connect_retry is 1 s: three retry periods without a connection.
    let quiet = Instant::now() + Duration::from_secs(3);
    while Instant::now() < quiet {
        assert!(
            s.listeners[2].accept().is_err(),
            "the daemon connected to a disabled peer"
        );
        a2.step();
    }
    let v = checked(&s.socket, "summary", &["show", "summary"]);
    assert_eq!(v["peers"][2]["disabled"], true);
    assert_eq!(v["peers"][2]["state"], "Idle");
    assert!(ok_text(&s.socket, &["show", "summary"]).contains(" Idle (disabled) "));
    checked(&s.socket, "peer-action", &["ctl", "enable", "c"]);
    s.listeners[2].set_nonblocking(false).unwrap();
    let c2 = peer(&s, 2);
    assert_eq!(c2.s.state(), State::Established);

    // reload: a refused configuration is reported with its field; the daemon runs on.
    let path = s.dir.join("reflector.toml");
    let good = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        good.replacen("role = \"client\"", "role = \"boss\"", 1),
    )
    .unwrap();
    let out = cli(&s.socket, &["ctl", "reload"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("new configuration refused, the running one stays: field `peer[0].role`"),
        "{err}"
    );
    // A good one with a peer removed: applied, c gets Cease / Peer De-configured.
    let cut = good.find("[[peer]]\nname = \"c\"").unwrap();
    std::fs::write(&path, &good[..cut]).unwrap();
    let v = checked(&s.socket, "reload", &["ctl", "reload"]);
    assert_eq!(
        v["message"],
        "configuration reloaded: 1 peers stopped, 0 added, 0 with new policies"
    );
    let mut c2 = c2;
    c2.until("Cease", |p| !p.notifications.is_empty());
    assert_eq!((c2.notifications[0].0, c2.notifications[0].1), (6, 3));
    let _ = s.ports;
    drop(s.daemon);
    let _ = std::fs::remove_dir_all(&s.dir);
}

#[test]
fn graceful_shutdown_re_advertises_with_the_community_then_ceases() {
    let mut s = start("control-gshut", "", &[]);
    wait_socket(&s.socket);
    let mut a = peer(&s, 0);
    let mut b = peer(&s, 1);
    let mut c = peer(&s, 2);
    a.send(&update(
        &[],
        Ipv4Addr::new(192, 0, 2, 71),
        Some(150),
        &["10.71.2.0/24"],
    ));
    until(&mut [&mut a, &mut b, &mut c], "a's route at b", |p| {
        p[1].has("10.71.2.0/24").is_some()
    });
    let v = checked(
        &s.socket,
        "shutdown",
        &["ctl", "shutdown", "--graceful", "--wait", "2"],
    );
    assert_eq!(v["graceful"], true);
    assert_eq!(v["peers"], 3);
    let asked = Instant::now();
    // b and c get the route again with GRACEFUL_SHUTDOWN and LOCAL_PREF 0 ...
    let gshut = |p: &Peer| {
        p.has("10.71.2.0/24").is_some_and(|u| {
            u.attribute(type_code::LOCAL_PREF) == Some(&AttributeValue::LocalPref(0))
                && matches!(u.attribute(type_code::COMMUNITIES),
                    Some(AttributeValue::Communities(v)) if v.contains(&0xffff_0000))
        })
    };
    until(
        &mut [&mut a, &mut b, &mut c],
        "the GRACEFUL_SHUTDOWN re-advertisement",
        |p| gshut(p[1]) && gshut(p[2]),
    );
    assert!(
        b.notifications.is_empty(),
        "the route comes before the Cease"
    );
    // ... then, after the wait, Cease / Administrative Shutdown with the RFC 9003 message.
    until(&mut [&mut a, &mut b, &mut c], "the Cease", |p| {
        p.iter().all(|p| !p.notifications.is_empty())
    });
    assert!(
        asked.elapsed() >= Duration::from_millis(1500),
        "the Cease came before the wait: {:?}",
        asked.elapsed()
    );
    for p in [&a, &b, &c] {
        assert_eq!(
            p.notifications[0],
            (6, 2, Some("Reflector is shutting down".to_string())),
            "{}",
            p.name
        );
    }
    // The daemon exits 0 (bounded wait).
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = s.daemon.0.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "the daemon did not exit");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
    assert!(!s.socket.exists(), "the control socket is removed at exit");
    let _ = std::fs::remove_dir_all(&s.dir);
}

#[test]
fn a_live_socket_is_not_taken_over_and_the_flag_wins() {
    let s = start("control-flag", "", &[]);
    wait_socket(&s.socket);
    // A second daemon on the same socket refuses to start.
    let path = s.dir.join("reflector.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_reflector"))
        .args(["serve", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("another daemon is listening on it"));
    // --control overrides the TOML's [control] socket.
    let other = s.dir.join("other.sock");
    let mut child = Command::new(env!("CARGO_BIN_EXE_reflector"))
        .args(["serve", "--config"])
        .arg(&path)
        .arg("--control")
        .arg(&other)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_socket(&other);
    assert_eq!(mode(&other), 0o600);
    let v = checked(&other, "summary", &["show", "summary"]);
    assert_eq!(v["router_id"], "10.255.0.7");
    // No daemon there: exit status 1 and a message saying where it looked.
    let none = s.dir.join("none.sock");
    let out = cli(&none, &["show", "summary"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot connect to the control socket"),
        "{err}"
    );
    assert!(err.contains("none.sock"), "{err}");
    let _ = child.kill();
    let _ = child.wait();
    drop(s.daemon);
    let _ = std::fs::remove_dir_all(&s.dir);
}

#[test]
fn a_disabled_passive_peer_is_refused_until_enabled() {
    use std::io::Read;
    let dir = tempdir("control-passive");
    let socket = dir.join("reflector.sock");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = format!(
        "router_id = \"10.255.0.7\"\nasn = {AS}\nlisten = [\"127.0.0.1:{port}\"]\n\n[control]\nsocket = \"{}\"\n\n[[peer]]\nname = \"p\"\naddress = \"127.0.0.1\"\nasn = {AS}\nrole = \"client\"\npassive = true\n",
        socket.display()
    );
    let path = dir.join("reflector.toml");
    std::fs::write(&path, config).unwrap();
    let _daemon = Daemon(
        Command::new(env!("CARGO_BIN_EXE_reflector"))
            .args(["serve", "--config"])
            .arg(&path)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_socket(&socket);
    let connect = || {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match std::net::TcpStream::connect(("127.0.0.1", port)) {
                Ok(s) => return s,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(e) => panic!("cannot connect to the daemon: {e}"),
            }
        }
    };
    let mut p = Peer::new("p", connect(), AS, Ipv4Addr::new(10, 0, 0, 74));
    p.until("Established", |p| p.s.state() == State::Established);
    let v = checked(&socket, "peer-action", &["ctl", "disable", "p"]);
    assert_eq!(v["action"], "disable");
    p.until("Cease", |p| !p.notifications.is_empty());
    assert_eq!(
        p.notifications[0],
        (6, 2, Some("disabled by the operator".to_string()))
    );
    // A new connection is closed before any OPEN.
    let mut s = connect();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(s.read(&mut buf).unwrap_or(0), 0, "refused while disabled");
    let v = checked(&socket, "neighbor", &["show", "neighbor", "p"]);
    assert_eq!(v["peers"][0]["disabled"], true);
    assert_eq!(
        v["peers"][0]["last_error"]["subcode_name"],
        "Administrative Shutdown"
    );
    // Enabled: it comes up again.
    let text = ok_text(&socket, &["ctl", "enable", "p"]);
    assert_eq!(
        text,
        "p: enabled: connections are accepted (and made, for active peers) again\n"
    );
    let mut p2 = Peer::new("p", connect(), AS, Ipv4Addr::new(10, 0, 0, 74));
    p2.until("Established again", |p| p.s.state() == State::Established);
    let text = ok_text(&socket, &["ctl", "enable", "p"]);
    assert_eq!(text, "p: the peer was not disabled\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn show_route_lists_a_vpn_family_by_nlri_with_every_candidate() {
    use reflector_core::session::SessionConfig;
    let s = start_with("control-vpn", "", &[], "\"ipv4-unicast\", \"vpnv4\"");
    wait_socket(&s.socket);
    let vpn_peer = |i: usize| {
        let mut cfg = SessionConfig::new(AS, Ipv4Addr::new(10, 0, 0, 71 + i as u8), Some(AS));
        cfg.families = vec![AfiSafi::IPV4_UNICAST, AfiSafi::VPNV4];
        let mut p = Peer::with_config(["a", "b", "c"][i], accept(&s.listeners[i]), cfg);
        p.until("Established", |p| p.s.state() == State::Established);
        p
    };
    let (mut a, mut b, mut c) = (vpn_peer(0), vpn_peer(1), vpn_peer(2));
    // One route from a and b (b's LOCAL_PREF wins), another from a alone.
    a.send(&vpn_update(
        1001,
        [10, 1],
        Ipv4Addr::new(192, 0, 2, 71),
        100,
    ));
    a.send(&vpn_update(
        1001,
        [10, 2],
        Ipv4Addr::new(192, 0, 2, 71),
        100,
    ));
    b.send(&vpn_update(
        2002,
        [10, 1],
        Ipv4Addr::new(192, 0, 2, 72),
        200,
    ));
    let vpn_routes = |p: &Peer| {
        p.updates
            .iter()
            .flat_map(|u| u.attributes.iter())
            .filter(
                |a| matches!(&a.value, AttributeValue::MpReach(r) if r.afi_safi == AfiSafi::VPNV4),
            )
            .count()
    };
    until(&mut [&mut a, &mut b, &mut c], "the VPN routes at c", |p| {
        vpn_routes(p[2]) >= 2
            && ok_json(&s.socket, &["show", "route", "--family", "vpnv4"])["routes"]
                .as_array()
                .is_some_and(|r| r.len() == 2 && r[0]["candidates"] == 2)
    });

    let v = checked(
        &s.socket,
        "route",
        &["show", "route", "--family", "vpnv4", "--all-candidates"],
    );
    let routes = v["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 2, "{v}");
    assert_eq!(routes[0]["prefix"], "65000:1:10.1.0.0/16 label 2002");
    assert_eq!(routes[0]["family"], "ipv4-vpn");
    let paths = routes[0]["paths"].as_array().unwrap();
    assert_eq!(paths.len(), 2);
    assert_eq!(paths[0]["peer"], "b");
    assert_eq!(paths[0]["best"], true);
    assert_eq!(paths[0]["nlri"], "65000:1:10.1.0.0/16 label 2002");
    assert_eq!(paths[0]["attributes"]["next_hop"], "192.0.2.72");
    assert_eq!(paths[1]["peer"], "a");
    assert_eq!(
        paths[1]["nlri"], "65000:1:10.1.0.0/16 label 1001",
        "a's own label"
    );
    assert_eq!(paths[1]["lost_at"], "local-pref");
    assert_eq!(routes[1]["prefix"], "65000:1:10.2.0.0/16 label 1001");
    assert_eq!(routes[1]["candidates"], 1);

    // A's Adj-RIB-In: both of its routes, by the NLRI it sent (its own label).
    let v = checked(&s.socket, "adj-in", &["show", "adj-in", "a"]);
    let got: Vec<(&str, &str)> = v["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["prefix"].as_str().unwrap(), r["family"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("65000:1:10.1.0.0/16 label 1001", "ipv4-vpn"),
            ("65000:1:10.2.0.0/16 label 1001", "ipv4-vpn")
        ]
    );
    let v = checked(&s.socket, "adj-in", &["show", "adj-in", "b"]);
    assert_eq!(v["routes"][0]["prefix"], "65000:1:10.1.0.0/16 label 2002");
    assert_eq!(v["routes"][0]["attributes"]["local_pref"], 200);

    // Adj-RIB-Out: a client is sent each route's best path unless it is its own.
    let out = |name: &str| {
        let v = checked(&s.socket, "adj-out", &["show", "adj-out", name]);
        v["routes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["prefix"].as_str().unwrap().to_string(),
                    r["attributes"]["originator_id"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    let route = |p: &str, o: &str| (p.to_string(), o.to_string());
    assert_eq!(
        out("c"),
        [
            route("65000:1:10.1.0.0/16 label 2002", "10.0.0.72"),
            route("65000:1:10.2.0.0/16 label 1001", "10.0.0.71")
        ]
    );
    assert_eq!(
        out("a"),
        [route("65000:1:10.1.0.0/16 label 2002", "10.0.0.72")]
    );
    assert_eq!(
        out("b"),
        [route("65000:1:10.2.0.0/16 label 1001", "10.0.0.71")]
    );

    // The text form, and a selection by the route's text.
    let text = ok_text(
        &s.socket,
        &["show", "route", "--family", "ipv4-vpn", "10.2.0.0"],
    );
    assert!(
        text.starts_with("65000:1:10.2.0.0/16 label 1001 (ipv4-vpn), 1 candidate(s)\n  *> from a (127.0.0.71) [best]\n"),
        "{text}"
    );
    assert!(!text.contains("10.1.0.0"), "{text}");
    // Unicast holds none of them; an unknown family is refused, naming the known ones.
    let v = ok_json(&s.socket, &["show", "route", "--family", "ipv4-unicast"]);
    assert_eq!(v["routes"].as_array().map(Vec::len), Some(0), "{v}");
    let out = cli(&s.socket, &["show", "route", "--family", "vpnv5"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("l2vpn-evpn"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
