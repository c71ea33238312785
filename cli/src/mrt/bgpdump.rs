//! Elements as `bgpdump -m` prints them: one `|`-separated line each.
//!
//! ```text
//! TABLE_DUMP2|1400824800|B|peer_ip|peer_as|prefix|as_path|origin|next_hop|local_pref|med|communities|AG|aggregator|
//! TABLE_DUMP2_AP|...|B|peer_ip|peer_as|prefix|path_id|as_path|...
//! BGP4MP|1546300800|A|peer_ip|peer_as|prefix|as_path|origin|next_hop|local_pref|med|communities|NAG||
//! BGP4MP|1546300800|W|peer_ip|peer_as|prefix
//! BGP4MP_ET|1445565678.509481|STATE|peer_ip|peer_as|old_state|new_state
//! ```
//!
//! Absent values print as bgpdump prints them: an empty AS path, origin
//! `INCOMPLETE`, next hop `255.255.255.255`, LOCAL_PREF and MED `0`.
//!
//! IPv6 addresses are written the way bgpdump writes them, which is not quite
//! RFC 5952: the longest run of zero groups becomes `::` even when it is a
//! single group (`2001:7f8:30::2:1:0:8447`), and IPv4-compatible addresses are
//! written `::a.b.c.d`.

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use reflector_core::wire::Prefix;

use super::elements::{Element, Kind};

/// Append the bgpdump line of `e` (newline included) to `out`.
pub fn write_line(out: &mut Vec<u8>, e: &Element<'_>) {
    out.extend_from_slice(e.source.name().as_bytes());
    out.push(b'|');
    int(out, e.timestamp);
    if let Some(us) = e.microseconds {
        let _ = write!(out, ".{us:06}");
    }
    out.extend_from_slice(match e.kind {
        Kind::Announce => b"|A|",
        Kind::Withdraw => b"|W|",
        Kind::Rib => b"|B|",
        Kind::State => b"|STATE|",
    });
    ip(out, e.peer_ip);
    out.push(b'|');
    int(out, e.peer_asn);
    out.push(b'|');
    if let Some((old, new)) = e.state {
        int(out, old.into());
        out.push(b'|');
        int(out, new.into());
        out.push(b'\n');
        return;
    }
    if let Some(p) = e.prefix {
        prefix(out, &p);
    }
    let path_id = e.source.add_path().then_some(e.path_id.unwrap_or(0));
    let Some(a) = e.attrs else {
        if let Some(id) = path_id {
            out.push(b'|');
            int(out, id);
        }
        out.push(b'\n');
        return;
    };
    out.push(b'|');
    if let Some(id) = path_id {
        int(out, id);
        out.push(b'|');
    }
    out.extend_from_slice(a.as_path_text().as_bytes());
    out.extend_from_slice(match a.origin {
        Some(0) => b"|IGP|",
        Some(1) => b"|EGP|",
        _ => b"|INCOMPLETE|",
    });
    match e.next_hop {
        Some(nh) => ip(out, nh),
        None => out.extend_from_slice(b"255.255.255.255"),
    }
    out.push(b'|');
    int(out, a.local_pref.unwrap_or(0));
    out.push(b'|');
    int(out, a.med.unwrap_or(0));
    out.push(b'|');
    out.extend_from_slice(a.communities_text().as_bytes());
    out.extend_from_slice(if a.atomic_aggregate {
        b"|AG|"
    } else {
        b"|NAG|"
    });
    if let Some((asn, addr)) = a.aggregator {
        int(out, asn);
        out.push(b' ');
        ip(out, IpAddr::V4(addr));
    }
    out.extend_from_slice(b"|\n");
}

fn int(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

fn ip(out: &mut Vec<u8>, a: IpAddr) {
    match a {
        IpAddr::V4(a) => {
            let [x, y, z, w] = a.octets();
            let mut b = itoa::Buffer::new();
            out.extend_from_slice(b.format(x).as_bytes());
            out.push(b'.');
            out.extend_from_slice(b.format(y).as_bytes());
            out.push(b'.');
            out.extend_from_slice(b.format(z).as_bytes());
            out.push(b'.');
            out.extend_from_slice(b.format(w).as_bytes());
        }
        IpAddr::V6(a) => ipv6(out, a),
    }
}

/// An IPv6 address as bgpdump's `fmt_ipv6` writes it.
fn ipv6(out: &mut Vec<u8>, a: Ipv6Addr) {
    let g = a.segments();
    let low = u32::from(g[6]) << 16 | u32::from(g[7]);
    let mapped = g[..5] == [0; 5] && g[5] == 0xffff;
    let compat = g[..6] == [0; 6] && low > 1;
    if mapped || compat {
        out.extend_from_slice(if mapped { b"::ffff:" } else { b"::" });
        ip(out, IpAddr::V4(Ipv4Addr::from_bits(low)));
        return;
    }
    // The first longest run of zero groups, however short.
    let (mut best, mut best_len, mut i) = (8, 0, 0);
    while i < 8 {
        if g[i] == 0 {
            let start = i;
            while i < 8 && g[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                (best, best_len) = (start, i - start);
            }
        } else {
            i += 1;
        }
    }
    let mut i = 0;
    while i < 8 {
        if i == best {
            out.extend_from_slice(if i == 0 { b"::" } else { b":" });
            i += best_len;
            continue;
        }
        let _ = write!(out, "{:x}", g[i]);
        if i != 7 {
            out.push(b':');
        }
        i += 1;
    }
}

fn prefix(out: &mut Vec<u8>, p: &Prefix) {
    match p {
        Prefix::V4(p) => ip(out, IpAddr::V4(p.addr())),
        Prefix::V6(p) => ip(out, IpAddr::V6(p.addr())),
    }
    out.push(b'/');
    int(out, p.len().into());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(s: &str) -> String {
        let mut out = Vec::new();
        ipv6(&mut out, s.parse().unwrap());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn ipv6_as_bgpdump_writes_it() {
        // The cases of bgpdump's own test_fmt_ip().
        assert_eq!(v6("fe80::"), "fe80::");
        assert_eq!(v6("2001:db8::1"), "2001:db8::1");
        assert_eq!(v6("::ffff:192.168.2.1"), "::ffff:192.168.2.1");
        assert_eq!(v6("::192.168.1.2"), "::192.168.1.2");
        assert_eq!(v6("2001:7f8:30:0:2:1:0:8447"), "2001:7f8:30::2:1:0:8447");
        assert_eq!(v6("::"), "::");
        assert_eq!(v6("::1"), "::1");
        assert_eq!(v6("1:0:0:2:0:0:0:3"), "1:0:0:2::3");
        assert_eq!(v6("1:0:0:2:3:0:0:4"), "1::2:3:0:0:4");
        assert_eq!(v6("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2:3:4:5:6");
    }
}
