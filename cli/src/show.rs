//! `reflector show` and `reflector ctl`: clients of the daemon's control
//! socket (protocol in `docs/control.md`). Tables for people; `--json`
//! prints the daemon's `data` object as it came.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

use crate::serve::control::{default_socket, PROTOCOL_VERSION};

/// How long an answer may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Arguments of `reflector show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The daemon's control socket (default: /run/reflector/reflector.sock as root, else $XDG_RUNTIME_DIR/reflector.sock).
    #[arg(long, global = true, value_name = "PATH")]
    pub control: Option<PathBuf>,
    /// Print the daemon's answer as JSON (a stable schema, see docs/control.md).
    #[arg(long, global = true)]
    pub json: bool,
    /// What to show.
    #[command(subcommand)]
    pub what: Show,
}

/// What `reflector show` shows.
#[derive(Debug, clap::Subcommand)]
pub enum Show {
    /// Sessions: state, since when, paths accepted and advertised per family.
    Summary,
    /// A neighbour in detail (every one without NAME): capabilities, timers, counters, last error.
    Neighbor {
        /// The peer's name or address.
        name: Option<String>,
    },
    /// Best paths (of a prefix, of the longest prefix holding an address, of a family, or all).
    Route {
        /// A prefix (10.0.0.0/24) or an address (10.0.0.1: the longest prefix holding it).
        prefix: Option<String>,
        /// Only this family (any name of the `families` setting: ipv6-unicast, vpnv4, evpn, flow4...); beyond unicast, PREFIX selects routes whose text contains it.
        #[arg(long)]
        family: Option<String>,
        /// Every candidate path, each with the decision step at which it lost to the best.
        #[arg(long)]
        all_candidates: bool,
    },
    /// The paths a peer sent that the RIB holds (after its import policy).
    AdjIn {
        /// The peer's name or address.
        name: String,
    },
    /// What a peer is sent: the best paths it may have, as rewritten for it.
    AdjOut {
        /// The peer's name or address.
        name: String,
    },
    /// RIB memory and the daemon's resident memory.
    Memory,
}

/// Arguments of `reflector ctl`.
#[derive(Debug, clap::Args)]
pub struct CtlArgs {
    /// The daemon's control socket (default as for `reflector show`).
    #[arg(long, global = true, value_name = "PATH")]
    pub control: Option<PathBuf>,
    /// Print the daemon's answer as JSON.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub action: Ctl,
}

/// What `reflector ctl` does.
#[derive(Debug, clap::Subcommand)]
pub enum Ctl {
    /// Reset a session: Cease/Administrative Reset; with --soft, ROUTE-REFRESH and our routes sent again instead.
    Reset {
        /// The peer's name or address.
        name: String,
        /// Keep the session: ask the peer for its routes (ROUTE-REFRESH) and send it ours again.
        #[arg(long)]
        soft: bool,
    },
    /// Ask a peer for its routes again (ROUTE-REFRESH for each negotiated family).
    Refresh {
        /// The peer's name or address.
        name: String,
    },
    /// Shut a session down (Cease/Administrative Shutdown) and keep it down until `enable`.
    Disable {
        /// The peer's name or address.
        name: String,
    },
    /// Let a disabled peer come up again.
    Enable {
        /// The peer's name or address.
        name: String,
    },
    /// Read the configuration again (as SIGHUP does); a refused one is reported with its field.
    Reload,
    /// Stop the daemon: Cease/Administrative Shutdown with an RFC 9003 message to every peer.
    Shutdown {
        /// First re-advertise every route with GRACEFUL_SHUTDOWN (65535:0, RFC 8326; LOCAL_PREF 0 toward iBGP), then wait.
        #[arg(long)]
        graceful: bool,
        /// Seconds to wait after the re-advertisement (with --graceful).
        #[arg(long, default_value_t = crate::serve::control::DEFAULT_GRACEFUL_WAIT, value_name = "SECONDS")]
        wait: u64,
    },
}

/// Send one request and return the answer's `data`.
pub fn request(socket: Option<&PathBuf>, command: &str, args: Value) -> Result<Value, String> {
    let path = socket.cloned().unwrap_or_else(default_socket);
    let mut s = UnixStream::connect(&path).map_err(|e| {
        format!(
            "cannot connect to the control socket {}: {e} (is `reflector serve` running? --control PATH)",
            path.display()
        )
    })?;
    s.set_read_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    let mut line =
        json!({"version": PROTOCOL_VERSION, "command": command, "args": args}).to_string();
    line.push('\n');
    s.write_all(line.as_bytes())
        .map_err(|e| format!("control socket: {e}"))?;
    let mut answer = String::new();
    BufReader::new(&s)
        .read_line(&mut answer)
        .map_err(|e| format!("control socket: {e}"))?;
    let v: Value = serde_json::from_str(&answer)
        .map_err(|e| format!("control socket: not a JSON answer ({e}): {answer:?}"))?;
    if v["ok"].as_bool() == Some(true) {
        Ok(v["data"].clone())
    } else {
        Err(v["error"]
            .as_str()
            .unwrap_or("the daemon refused the request")
            .to_string())
    }
}

fn print(json_out: bool, data: &Value, text: impl FnOnce(&Value) -> String) -> std::io::Result<()> {
    let out = if json_out {
        format!(
            "{}\n",
            serde_json::to_string_pretty(data).unwrap_or_default()
        )
    } else {
        text(data)
    };
    std::io::stdout().write_all(out.as_bytes())
}

/// Run `reflector show`.
pub fn show(args: &ShowArgs) -> std::io::Result<()> {
    let (command, req) = match &args.what {
        Show::Summary => ("summary", json!({})),
        Show::Neighbor { name } => ("neighbor", json!({ "name": name })),
        Show::Route {
            prefix,
            family,
            all_candidates,
        } => (
            "route",
            json!({"prefix": prefix, "family": family, "all_candidates": all_candidates}),
        ),
        Show::AdjIn { name } => ("adj-in", json!({ "name": name })),
        Show::AdjOut { name } => ("adj-out", json!({ "name": name })),
        Show::Memory => ("memory", json!({})),
    };
    let data = request(args.control.as_ref(), command, req).map_err(std::io::Error::other)?;
    match &args.what {
        Show::Summary => print(args.json, &data, summary_text),
        Show::Neighbor { .. } => print(args.json, &data, neighbor_text),
        Show::Route { .. } => print(args.json, &data, route_text),
        Show::AdjIn { .. } | Show::AdjOut { .. } => print(args.json, &data, adj_text),
        Show::Memory => print(args.json, &data, memory_text),
    }
}

/// Run `reflector ctl`.
pub fn ctl(args: &CtlArgs) -> std::io::Result<()> {
    let (command, req) = match &args.action {
        Ctl::Reset { name, soft } => ("reset", json!({"name": name, "soft": soft})),
        Ctl::Refresh { name } => ("refresh", json!({ "name": name })),
        Ctl::Disable { name } => ("disable", json!({ "name": name })),
        Ctl::Enable { name } => ("enable", json!({ "name": name })),
        Ctl::Reload => ("reload", json!({})),
        Ctl::Shutdown { graceful, wait } => (
            "shutdown",
            json!({"graceful": graceful, "wait_seconds": wait}),
        ),
    };
    let data = request(args.control.as_ref(), command, req).map_err(std::io::Error::other)?;
    print(args.json, &data, |d| {
        let msg = d["message"].as_str().or(d.as_str()).unwrap_or("done");
        match d["peer"].as_str() {
            Some(p) => format!("{p}: {msg}\n"),
            None => format!("{msg}\n"),
        }
    })
}

/// Seconds as `1d02:03:04` / `02:03:04`.
pub fn duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// Rows as a table with a header, columns padded to their widest cell.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut w: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(x) = w.get_mut(i) {
                *x = (*x).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let n = cells.len();
        let mut s = String::new();
        for (i, c) in cells.into_iter().enumerate() {
            if i + 1 == n {
                s.push_str(&c);
            } else {
                let pad = w.get(i).copied().unwrap_or(0);
                s.push_str(&format!("{c:<pad$}  "));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(header.iter().map(|h| (*h).to_string()).collect());
    for r in rows {
        out.push_str(&line(r.clone()));
    }
    out
}

fn s(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(x) if x.is_empty() => "-".into(),
        Value::String(x) => x.clone(),
        Value::Array(a) if a.is_empty() => "-".into(),
        Value::Array(a) => a.iter().map(s).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

fn summary_text(d: &Value) -> String {
    let mut out = format!(
        "Reflector router ID {}, AS {}, cluster ID {}, up {}\n",
        s(&d["router_id"]),
        s(&d["asn"]),
        s(&d["cluster_id"]),
        duration(d["uptime_seconds"].as_u64().unwrap_or(0))
    );
    out.push_str(&format!(
        "Loc-RIB: {} IPv4 prefixes, {} IPv6 prefixes, {} paths\n\n",
        s(&d["rib"]["ipv4_prefixes"]),
        s(&d["rib"]["ipv6_prefixes"]),
        s(&d["rib"]["paths"])
    ));
    let rows: Vec<Vec<String>> = d["peers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|p| {
            let fam = |f: &str| {
                format!(
                    "{}/{}",
                    s(&p["families"][f]["accepted"]),
                    s(&p["families"][f]["advertised"])
                )
            };
            let mut state = s(&p["state"]);
            if p["disabled"].as_bool() == Some(true) {
                state.push_str(" (disabled)");
            }
            vec![
                s(&p["name"]),
                s(&p["address"]),
                s(&p["asn"]),
                s(&p["role"]),
                state,
                duration(p["state_seconds"].as_u64().unwrap_or(0)),
                fam("ipv4-unicast"),
                fam("ipv6-unicast"),
                format!("{}/{}", s(&p["updates_received"]), s(&p["updates_sent"])),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "Neighbor",
            "Address",
            "AS",
            "Role",
            "State",
            "Since",
            "IPv4 Acc/Adv",
            "IPv6 Acc/Adv",
            "Updates In/Out",
        ],
        &rows,
    ));
    out
}

fn yes(v: &Value) -> &'static str {
    if v.as_bool() == Some(true) {
        "yes"
    } else {
        "no"
    }
}

fn neighbor_text(d: &Value) -> String {
    let mut out = String::new();
    for p in d["peers"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        out.push_str(&format!(
            "Neighbor {}, address {}, AS {}, {}{}\n",
            s(&p["name"]),
            s(&p["address"]),
            s(&p["asn"]),
            s(&p["role"]),
            if p["passive"].as_bool() == Some(true) {
                ", passive"
            } else {
                ""
            }
        ));
        out.push_str(&format!(
            "  State: {}{} for {} (sessions established: {})\n",
            s(&p["state"]),
            if p["disabled"].as_bool() == Some(true) {
                ", disabled by the operator"
            } else {
                ""
            },
            duration(p["state_seconds"].as_u64().unwrap_or(0)),
            s(&p["established_transitions"])
        ));
        let ss = &p["session"];
        if ss.is_object() {
            out.push_str(&format!(
                "  Session: {} connection, remote {}, local {}, router ID {}\n",
                if ss["outbound"].as_bool() == Some(true) {
                    "outbound"
                } else {
                    "inbound"
                },
                s(&ss["remote"]),
                s(&ss["local"]),
                s(&ss["router_id"])
            ));
            out.push_str(&format!(
                "  Timers: hold time {} s, keepalive {} s\n",
                s(&ss["hold_time"]),
                s(&ss["keepalive_time"])
            ));
            out.push_str(&format!(
                "  Capabilities: 4-octet AS {}, route refresh {}, enhanced route refresh {}, extended message {}, graceful restart {}\n",
                yes(&ss["four_octet_as"]),
                yes(&ss["route_refresh"]),
                yes(&ss["enhanced_route_refresh"]),
                yes(&ss["extended_message"]),
                match ss["graceful_restart_time"].as_u64() {
                    Some(t) => format!("yes ({t} s)"),
                    None => "no".into(),
                }
            ));
            out.push_str(&format!(
                "  Families: {}; ADD-PATH receive {}, send {}; extended next hop {}; disabled {}\n",
                s(&ss["families"]),
                s(&ss["add_path_receive"]),
                s(&ss["add_path_send"]),
                s(&ss["extended_next_hop"]),
                s(&ss["disabled_families"])
            ));
            if !ss["local_role"].is_null() || !ss["peer_role"].is_null() {
                out.push_str(&format!(
                    "  BGP Role: ours {}, theirs {}\n",
                    s(&ss["local_role"]),
                    s(&ss["peer_role"])
                ));
            }
        } else {
            out.push_str(&format!(
                "  Configured: hold time {} s, families {}\n",
                s(&p["configured_hold_time"]),
                s(&p["configured_families"])
            ));
        }
        for f in ["ipv4-unicast", "ipv6-unicast"] {
            out.push_str(&format!(
                "  {f}: {} accepted, {} advertised\n",
                s(&p["prefixes"]["accepted"][f]),
                s(&p["prefixes"]["advertised"][f])
            ));
        }
        let mut rows = Vec::new();
        for t in crate::serve::status::MESSAGE_TYPES {
            let r = &p["messages"]["received"][t];
            if r.is_object() {
                let x = &p["messages"]["sent"][t];
                rows.push(vec![
                    format!("  {t}"),
                    s(&r["messages"]),
                    s(&r["bytes"]),
                    s(&x["messages"]),
                    s(&x["bytes"]),
                ]);
            }
        }
        out.push_str(&table(
            &["  Messages", "Received", "Bytes", "Sent", "Bytes"],
            &rows,
        ));
        if let Some(c) = p["counters"].as_object() {
            let nonzero: Vec<String> = c
                .iter()
                .filter(|(_, v)| v.as_u64().unwrap_or(0) > 0)
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            out.push_str(&format!(
                "  Counters: {}\n",
                if nonzero.is_empty() {
                    "all zero".into()
                } else {
                    nonzero.join(", ")
                }
            ));
        }
        for n in p["notifications"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            out.push_str(&format!(
                "  NOTIFICATION {} {}/{} ({} / {}): {} times\n",
                s(&n["direction"]),
                s(&n["code"]),
                s(&n["subcode"]),
                s(&n["code_name"]),
                s(&n["subcode_name"]),
                s(&n["count"])
            ));
        }
        let e = &p["last_error"];
        if e.is_object() {
            out.push_str(&format!(
                "  Last error: {} {}/{} ({} / {}) {} s ago{}\n",
                s(&e["direction"]),
                s(&e["code"]),
                s(&e["subcode"]),
                s(&e["code_name"]),
                s(&e["subcode_name"]),
                s(&e["seconds_ago"]),
                match e["shutdown_message"].as_str() {
                    Some(m) => format!(", shutdown message {m:?}"),
                    None if e["data"].as_str().is_some_and(|x| !x.is_empty()) => {
                        format!(", data {}", s(&e["data"]))
                    }
                    None => String::new(),
                }
            ));
        } else {
            out.push_str("  Last error: none\n");
        }
        out.push('\n');
    }
    out
}

/// One path's attributes on one line.
fn attrs_line(a: &Value) -> String {
    let mut parts = vec![
        format!("next hop {}", s(&a["next_hop"])),
        format!(
            "AS path {}",
            if a["as_path"].as_str().is_some_and(|x| !x.is_empty()) {
                s(&a["as_path"])
            } else {
                "(empty)".into()
            }
        ),
        format!("origin {}", s(&a["origin"])),
    ];
    if !a["local_pref"].is_null() {
        parts.push(format!("local-pref {}", s(&a["local_pref"])));
    }
    if !a["med"].is_null() {
        parts.push(format!("med {}", s(&a["med"])));
    }
    for (k, label) in [
        ("communities", "communities"),
        ("large_communities", "large communities"),
        ("extended_communities", "extended communities"),
    ] {
        if a[k].as_array().is_some_and(|x| !x.is_empty()) {
            parts.push(format!("{label} {}", s(&a[k])));
        }
    }
    if !a["originator_id"].is_null() {
        parts.push(format!("originator {}", s(&a["originator_id"])));
    }
    if a["cluster_list"].as_array().is_some_and(|x| !x.is_empty()) {
        parts.push(format!("cluster list {}", s(&a["cluster_list"])));
    }
    parts.join(", ")
}

fn route_text(d: &Value) -> String {
    let routes = d["routes"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if routes.is_empty() {
        return "no route\n".into();
    }
    let mut out = String::new();
    for r in routes {
        out.push_str(&format!(
            "{} ({}), {} candidate(s)\n",
            s(&r["prefix"]),
            s(&r["family"]),
            s(&r["candidates"])
        ));
        for p in r["paths"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let mark = if p["best"].as_bool() == Some(true) {
                "*>"
            } else {
                "  "
            };
            let why = match p["lost_at"].as_str() {
                Some(step) => format!(" [lost to the best at: {step}]"),
                None if p["best"].as_bool() == Some(true) => " [best]".into(),
                None => " [no eligible best]".into(),
            };
            out.push_str(&format!(
                "  {mark} from {} ({}){}{}\n      {}\n",
                s(&p["peer"]),
                s(&p["peer_address"]),
                if p["path_id"].as_u64().unwrap_or(0) != 0 {
                    format!(" path id {}", s(&p["path_id"]))
                } else {
                    String::new()
                },
                why,
                attrs_line(&p["attributes"])
            ));
        }
    }
    out
}

fn adj_text(d: &Value) -> String {
    let routes = d["routes"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let rows: Vec<Vec<String>> = routes
        .iter()
        .map(|r| {
            let a = &r["attributes"];
            vec![
                s(&r["prefix"]),
                s(&a["next_hop"]),
                s(&a["local_pref"]),
                s(&a["med"]),
                s(&a["origin"]),
                if a["as_path"].as_str().is_some_and(|x| !x.is_empty()) {
                    s(&a["as_path"])
                } else {
                    "(empty)".into()
                },
                s(&a["communities"]),
            ]
        })
        .collect();
    let mut out = format!(
        "{} ({}): {} routes\n",
        s(&d["peer"]),
        s(&d["address"]),
        routes.len()
    );
    out.push_str(&table(
        &[
            "Prefix",
            "Next hop",
            "LocPrf",
            "MED",
            "Origin",
            "AS path",
            "Communities",
        ],
        &rows,
    ));
    out
}

fn memory_text(d: &Value) -> String {
    let r = &d["rib"];
    let mib = |v: &Value| match v.as_u64() {
        Some(b) => format!("{:.1} MiB", b as f64 / 1048576.0),
        None => "unknown".into(),
    };
    let mb = |v: &Value| match v.as_u64() {
        Some(b) => format!("{:.1} MiB ({b} bytes)", b as f64 / 1048576.0),
        None => "unknown".into(),
    };
    format!(
        "Loc-RIB: {} prefixes ({} IPv4, {} IPv6), {} paths, {} attribute sets\n\
         Prefix tables: {}\n\
         Attribute sets: {}\n\
         Process resident: {} (peak {})\n",
        s(&r["prefixes"]),
        s(&r["ipv4_prefixes"]),
        s(&r["ipv6_prefixes"]),
        s(&r["paths"]),
        s(&r["attr_sets"]),
        mb(&r["table_bytes"]),
        mb(&r["attr_bytes"]),
        mib(&d["process"]["resident_bytes"]),
        mib(&d["process"]["peak_resident_bytes"]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration(0), "00:00:00");
        assert_eq!(duration(3661), "01:01:01");
        assert_eq!(duration(90061), "1d01:01:01");
    }

    #[test]
    fn tables_pad_every_column_but_the_last() {
        let t = table(&["A", "Bee"], &[vec!["xyz".into(), "1".into()]]);
        assert_eq!(t, "A    Bee\nxyz  1\n");
    }
}
