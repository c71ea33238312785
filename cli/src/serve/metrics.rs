//! The opt-in OpenMetrics endpoint of `reflector serve` (`[metrics] listen`
//! or `--metrics ADDR`): `GET /metrics` answers the OpenMetrics text
//! format, encoded by the `prometheus-client` crate from a snapshot taken at
//! each scrape (the engine's counters and RIB sizes, asked of the engine
//! task, and the peers' statuses). Metric names are listed in `docs/metrics.md`.
//!
//! The HTTP side is a small responder on tokio: one request per connection,
//! `GET /metrics` (or `/`) only, a bounded request head, a timeout.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use reflector_core::session::State;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::{debug, warn};

use super::control::{self, Daemon, Query};
use super::status::{family_name, MESSAGE_TYPES};
use reflector_core::wire::notification::{code_name, subcode_name};
use reflector_core::wire::AfiSafi;

/// Longest request head read, in bytes.
const MAX_HEAD: usize = 8 * 1024;
/// Longest a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The OpenMetrics content type.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(String, String)>;

/// Serve scrapes until the listener fails.
pub(super) async fn serve<D: Daemon>(daemon: Arc<D>, l: TcpListener) {
    loop {
        match l.accept().await {
            Ok((s, _)) => {
                tokio::spawn(scrape(daemon.clone(), s));
            }
            Err(e) => {
                warn!(error = %e, "metrics: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn scrape<D: Daemon>(daemon: Arc<D>, mut s: TcpStream) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    let read = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => head.extend_from_slice(buf.get(..n).unwrap_or(&[])),
            }
        }
        true
    };
    if !matches!(tokio::time::timeout(READ_TIMEOUT, read).await, Ok(true)) {
        return;
    }
    let line = head.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let (status, ctype, body) = if method != "GET" {
        (
            "405 Method Not Allowed",
            "text/plain",
            "GET only\n".to_string(),
        )
    } else if path != "/metrics" && path != "/" {
        ("404 Not Found", "text/plain", "try /metrics\n".to_string())
    } else {
        match render(daemon.as_ref()).await {
            Ok(b) => ("200 OK", CONTENT_TYPE, b),
            Err(e) => ("503 Service Unavailable", "text/plain", format!("{e}\n")),
        }
    };
    let resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if let Err(e) = s.write_all(resp.as_bytes()).await {
        debug!(error = %e, "metrics: write failed");
    }
    let _ = s.shutdown().await;
}

/// Metric families being filled for one scrape.
struct Builder {
    reg: Registry,
}

impl Builder {
    fn counter(&mut self, name: &str, help: &str, rows: Vec<(Labels, u64)>) {
        let f = Family::<Labels, Counter>::default();
        for (l, v) in rows {
            f.get_or_create(&l).inc_by(v);
        }
        self.reg.register(name, help, f);
    }

    fn gauge(&mut self, name: &str, help: &str, rows: Vec<(Labels, i64)>) {
        let f = Family::<Labels, Gauge>::default();
        for (l, v) in rows {
            f.get_or_create(&l).set(v);
        }
        self.reg.register(name, help, f);
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

/// RFC 4273 bgpPeerState numbering.
fn state_number(s: State) -> i64 {
    match s {
        State::Idle => 1,
        State::Connect => 2,
        State::Active => 3,
        State::OpenSent => 4,
        State::OpenConfirm => 5,
        State::Established => 6,
    }
}

/// The OpenMetrics text of a snapshot of the daemon.
pub(super) async fn render<D: Daemon>(daemon: &D) -> Result<String, String> {
    let engine = control::ask(daemon, Query::Peers { advertised: false }).await?;
    let rib = control::ask(daemon, Query::Memory).await?;
    let others = control::ask(daemon, Query::Families).await?;
    let mut b = Builder {
        reg: Registry::with_prefix("reflector"),
    };
    b.gauge(
        "uptime_seconds",
        "Seconds since the daemon started",
        vec![(vec![], daemon.started().elapsed().as_secs() as i64)],
    );
    let mut state = Vec::new();
    let mut established = Vec::new();
    let mut disabled = Vec::new();
    let mut state_secs = Vec::new();
    let mut transitions = Vec::new();
    let mut accepted = Vec::new();
    let mut msgs: [Vec<(Labels, u64)>; 4] = Default::default();
    let mut notifications = Vec::new();
    let mut attr_bytes = Vec::new();
    let mut counters: Vec<(String, Vec<(Labels, u64)>)> = Vec::new();
    for (slot, spec) in daemon.slots().into_iter().enumerate() {
        let Some(spec) = spec else { continue };
        let st = daemon.status(slot);
        let peer = labels(&[("peer", &spec.name)]);
        {
            let i = st.lock();
            state.push((peer.clone(), state_number(i.state)));
            established.push((peer.clone(), i64::from(i.state == State::Established)));
            state_secs.push((peer.clone(), i.since.elapsed().as_secs() as i64));
            transitions.push((peer.clone(), i.established_count));
            for ((sent, code, subcode), n) in &i.notifications {
                let (c, s) = (code.to_string(), subcode.to_string());
                let (cn, sn) = (code_name(*code), subcode_name(*code, *subcode));
                notifications.push((
                    labels(&[
                        ("peer", &spec.name),
                        ("direction", if *sent { "sent" } else { "received" }),
                        ("code", &c),
                        ("subcode", &s),
                        ("code_name", cn),
                        ("subcode_name", sn),
                    ]),
                    *n,
                ));
            }
        }
        disabled.push((peer.clone(), i64::from(st.is_disabled())));
        for (k, name) in MESSAGE_TYPES.iter().enumerate() {
            let l = labels(&[("peer", &spec.name), ("type", name)]);
            let (rm, rb) = st.rx.get(k);
            let (tm, tb) = st.tx.get(k);
            msgs[0].push((l.clone(), rm));
            msgs[1].push((l.clone(), rb));
            msgs[2].push((l.clone(), tm));
            msgs[3].push((l, tb));
        }
        let e = engine.get(slot).cloned().unwrap_or(Value::Null);
        if let Some(acc) = e["accepted"].as_object() {
            for (f, v) in acc {
                accepted.push((labels(&[("peer", &spec.name), ("family", f)]), int(v)));
            }
        }
        // The other families the engine keeps, where the peer has paths or negotiated them.
        if let Some(fams) = others.as_object() {
            for (f, v) in fams {
                let n = &v["accepted"][slot];
                if n.as_u64().is_some_and(|n| n > 0) || configured(&spec, f) {
                    accepted.push((labels(&[("peer", &spec.name), ("family", f)]), int(n)));
                }
            }
        }
        attr_bytes.push((peer.clone(), int(&e["attr_bytes"])));
        if let Some(c) = e["counters"].as_object() {
            for (k, v) in c {
                let row = (labels(&[("peer", &spec.name)]), v.as_u64().unwrap_or(0));
                match counters.iter_mut().find(|(n, _)| n == k) {
                    Some((_, rows)) => rows.push(row),
                    None => counters.push((k.clone(), vec![row])),
                }
            }
        }
    }
    b.gauge(
        "peer_state",
        "BGP session state (RFC 4273 bgpPeerState: 1 idle, 2 connect, 3 active, 4 opensent, 5 openconfirm, 6 established)",
        state,
    );
    b.gauge(
        "peer_established",
        "1 while the session is Established",
        established,
    );
    b.gauge(
        "peer_state_seconds",
        "Seconds since the session state last changed",
        state_secs,
    );
    b.gauge(
        "peer_disabled",
        "1 while the peer is disabled by `reflector ctl disable`",
        disabled,
    );
    b.counter(
        "peer_established_transitions",
        "Times the session reached Established",
        transitions,
    );
    b.gauge(
        "peer_prefixes_accepted",
        "Paths accepted from the peer and held now, per family",
        accepted,
    );
    b.gauge(
        "peer_attribute_bytes",
        "Bytes of attribute sets charged to the peer (its attribute-memory limit counts these)",
        attr_bytes,
    );
    let [rm, rb, tm, tb] = msgs;
    b.counter("messages_received", "BGP messages received, by type", rm);
    b.counter(
        "bytes_received",
        "Bytes of BGP messages received, by type",
        rb,
    );
    b.counter(
        "messages_sent",
        "BGP messages sent (queued to the socket), by type",
        tm,
    );
    b.counter(
        "bytes_sent",
        "Bytes of BGP messages sent (queued to the socket), by type",
        tb,
    );
    b.counter(
        "notifications",
        "NOTIFICATION messages sent and received, by code and subcode",
        notifications,
    );
    for (k, rows) in counters {
        let help = format!("The engine's per-peer counter `{k}` (see docs/metrics.md)");
        b.counter(&format!("peer_{k}"), &help, rows);
    }
    let fam = |k4: &str, k6: &str| {
        let key = if k4.ends_with("prefixes") {
            "prefixes"
        } else {
            "paths"
        };
        let mut rows = vec![
            (
                labels(&[("family", &family_name(AfiSafi::IPV4_UNICAST))]),
                int(&rib[k4]),
            ),
            (
                labels(&[("family", &family_name(AfiSafi::IPV6_UNICAST))]),
                int(&rib[k6]),
            ),
        ];
        if let Some(fams) = others.as_object() {
            for (f, v) in fams {
                if v["prefixes"].as_u64().is_some_and(|n| n > 0) {
                    rows.push((labels(&[("family", f)]), int(&v[key])));
                }
            }
        }
        rows
    };
    b.gauge(
        "rib_prefixes",
        "Prefixes in the Loc-RIB, per family",
        fam("ipv4_prefixes", "ipv6_prefixes"),
    );
    b.gauge(
        "rib_paths",
        "Candidate paths in the Loc-RIB, per family",
        fam("ipv4_paths", "ipv6_paths"),
    );
    b.gauge(
        "rib_attribute_sets",
        "Distinct attribute sets",
        vec![(vec![], int(&rib["attr_sets"]))],
    );
    b.gauge(
        "rib_table_bytes",
        "Bytes held by the prefix tables",
        vec![(vec![], int(&rib["table_bytes"]))],
    );
    b.gauge(
        "rib_attribute_bytes",
        "Bytes held by the attribute sets and their interner",
        vec![(vec![], int(&rib["attr_bytes"]))],
    );
    let process = control::process_memory();
    if let Some(rss) = process["resident_bytes"].as_i64() {
        b.gauge(
            "process_resident_bytes",
            "Resident memory of the daemon (VmRSS)",
            vec![(vec![], rss)],
        );
    }
    let mut out = String::new();
    encode(&mut out, &b.reg).map_err(|e| format!("encoding metrics: {e}"))?;
    Ok(out)
}

/// Whether the peer's configuration lists the family named `f`.
fn configured(spec: &super::config::PeerSpec, f: &str) -> bool {
    spec.families.iter().any(|x| family_name(*x) == f)
}
