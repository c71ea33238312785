//! Elements as JSON lines: one object per element, every key always present
//! (`null` when the element has no such value), keys in snake_case.
//!
//! | key | type | meaning |
//! |---|---|---|
//! | `type` | string | `announce`, `withdraw`, `rib` or `state` |
//! | `timestamp` | integer | record time, Unix seconds |
//! | `microseconds` | integer or null | BGP4MP_ET records |
//! | `peer_ip` | string | peer address |
//! | `peer_asn` | integer | peer AS |
//! | `prefix` | string or null | `ADDRESS/LENGTH`; null for state changes |
//! | `path_id` | integer or null | ADD-PATH path identifier |
//! | `as_path` | string or null | as `bgpdump` prints it: `{..}` AS_SET, `(..)` confederation sequence, `[..]` confederation set; AS4_PATH merged |
//! | `origin_asns` | array of integers | last AS of the path, or the members of a final AS_SET |
//! | `origin` | string or null | `IGP`, `EGP`, `INCOMPLETE` |
//! | `next_hop` | string or null | NEXT_HOP, or the (global) MP_REACH_NLRI next hop |
//! | `local_pref`, `med` | integer or null | |
//! | `communities` | array of strings | `ASN:VALUE` |
//! | `large_communities` | array of strings | `GLOBAL:LOCAL1:LOCAL2` |
//! | `extended_communities` | array of strings | 16 hex digits each |
//! | `atomic_aggregate` | boolean | |
//! | `aggregator_asn`, `aggregator_ip` | integer / string, or null | |
//! | `old_state`, `new_state` | integer or null | FSM states of a state change (1 Idle … 6 Established) |

use std::fmt::Write as _;
use std::io;
use std::net::IpAddr;

use serde::Serialize;

use super::elements::Element;

#[derive(Serialize)]
struct Line<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    timestamp: u32,
    microseconds: Option<u32>,
    peer_ip: IpAddr,
    peer_asn: u32,
    prefix: Option<String>,
    path_id: Option<u32>,
    as_path: Option<&'a str>,
    origin_asns: &'a [u32],
    origin: Option<&'static str>,
    next_hop: Option<IpAddr>,
    local_pref: Option<u32>,
    med: Option<u32>,
    communities: Vec<String>,
    large_communities: Vec<String>,
    extended_communities: Vec<String>,
    atomic_aggregate: bool,
    aggregator_asn: Option<u32>,
    aggregator_ip: Option<IpAddr>,
    old_state: Option<u16>,
    new_state: Option<u16>,
}

/// Append the JSON line of `e` (newline included) to `out`.
pub fn write_line(out: &mut Vec<u8>, e: &Element<'_>) -> io::Result<()> {
    let a = e.attrs;
    let line = Line {
        kind: e.kind.as_str(),
        timestamp: e.timestamp,
        microseconds: e.microseconds,
        peer_ip: e.peer_ip,
        peer_asn: e.peer_asn,
        prefix: e.prefix.map(|p| p.to_string()),
        path_id: e.path_id,
        as_path: a.filter(|a| a.has_as_path()).map(|a| a.as_path_text()),
        origin_asns: a.map_or(&[], |a| a.origin_asns()),
        origin: a.and_then(|a| a.origin).map(|o| match o {
            0 => "IGP",
            1 => "EGP",
            _ => "INCOMPLETE",
        }),
        next_hop: e.next_hop,
        local_pref: a.and_then(|a| a.local_pref),
        med: a.and_then(|a| a.med),
        communities: a.map_or_else(Vec::new, |a| {
            a.communities
                .iter()
                .map(|c| format!("{}:{}", c >> 16, c & 0xFFFF))
                .collect()
        }),
        large_communities: a.map_or_else(Vec::new, |a| {
            a.large_communities
                .iter()
                .map(|[g, l1, l2]| format!("{g}:{l1}:{l2}"))
                .collect()
        }),
        extended_communities: a.map_or_else(Vec::new, |a| {
            a.extended_communities
                .iter()
                .map(|c| {
                    c.iter().fold(String::with_capacity(16), |mut s, b| {
                        let _ = write!(s, "{b:02x}");
                        s
                    })
                })
                .collect()
        }),
        atomic_aggregate: a.is_some_and(|a| a.atomic_aggregate),
        aggregator_asn: a.and_then(|a| a.aggregator).map(|(asn, _)| asn),
        aggregator_ip: a.and_then(|a| a.aggregator).map(|(_, ip)| IpAddr::V4(ip)),
        old_state: e.state.map(|s| s.0),
        new_state: e.state.map(|s| s.1),
    };
    serde_json::to_writer(&mut *out, &line)?;
    out.push(b'\n');
    Ok(())
}
