//! Routing policy in the daemon's TOML: named sets, policies made of
//! statements, and the per-peer `import` / `export` lists, turned into
//! [`reflector_core::policy::Policy`] values.
//!
//! ```toml
//! [sets]
//! prefix.bogons = ["10.0.0.0/8+", "192.168.0.0/16+"]
//! community.blackhole = ["65535:666"]
//! as_path.via-64999 = ["* 64999 *"]
//!
//! [[policy]]
//! name = "from-clients"
//! default = "accept"              # when no statement decides: accept | reject
//!
//! [[policy.statement]]
//! name = "no-bogons"
//! match = { prefix = "bogons" }   # a string names a set; a list is written inline
//! then = "reject"                 # accept | reject | next
//!
//! [[policy.statement]]
//! match = { community = ["65000:100"], not = { as_path = "via-64999" } }
//! set = { local_pref = 200, community = { add = ["65000:200"] } }
//! then = "accept"
//! ```
//!
//! A statement holds when every condition in `match` holds (no `match`: always);
//! `not = { ... }` holds when none of its conditions does. `set` is applied in
//! a fixed order: `local_pref`, `med`, `next_hop`, `prepend`, then per
//! community kind `replace`, `remove`, `add`. A peer's `import = ["a", "b"]`
//! runs policy `a`'s statements then `b`'s, and `b`'s default decides.
//!
//! Errors name the place: ``field `policy["from-clients"].statement[0].match.prefix`: unknown prefix set `bogon` ``.

use std::collections::BTreeMap;
use std::net::IpAddr;

use reflector_core::policy::{
    parse_asn_range, parse_community, parse_ext_community, parse_family, parse_large_community,
    AsPathPattern, CommunityEdit, CommunityMatch, Condition, ExtCommunityMatch,
    LargeCommunityMatch, Modify, NextHop, Policy, PrefixRange, Statement, Verdict,
};
use serde::Deserialize;

use super::config::ConfigError;

fn err(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.into(),
        message: message.into(),
    }
}

/// One value or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum OneOrMany<T> {
    /// A single value.
    One(T),
    /// A list.
    Many(Vec<T>),
}

impl<T: Clone> OneOrMany<T> {
    fn to_vec(&self) -> Vec<T> {
        match self {
            OneOrMany::One(v) => vec![v.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// A set's name, or the values written inline.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Values {
    Set(String),
    List(Vec<String>),
}

/// A number, or text (`"64512..65534"`, `"remove"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum NumOrText {
    Num(u32),
    Text(String),
}

/// `[sets]`: named lists, referred to by name from statements.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TomlSets {
    #[serde(default)]
    prefix: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    neighbor: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    community: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    ext_community: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    large_community: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    as_path: BTreeMap<String, Vec<String>>,
}

/// `[[policy]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TomlPolicy {
    name: String,
    default: String,
    #[serde(default)]
    statement: Vec<TomlStatement>,
}

/// `[[policy.statement]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlStatement {
    name: Option<String>,
    #[serde(rename = "match")]
    conditions: Option<TomlMatch>,
    set: Option<TomlSet>,
    then: String,
}

/// A statement's `match` table (and its `not` table).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlMatch {
    prefix: Option<Values>,
    neighbor: Option<Values>,
    family: Option<OneOrMany<String>>,
    origin_as: Option<OneOrMany<NumOrText>>,
    as_path_contains: Option<OneOrMany<u32>>,
    as_path_length: Option<NumOrText>,
    as_path: Option<Values>,
    community: Option<Values>,
    ext_community: Option<Values>,
    large_community: Option<Values>,
    next_hop: Option<Values>,
    not: Option<Box<TomlMatch>>,
}

/// A statement's `set` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlSet {
    local_pref: Option<u32>,
    med: Option<NumOrText>,
    next_hop: Option<String>,
    prepend: Option<Prepend>,
    community: Option<TomlEdit>,
    ext_community: Option<TomlEdit>,
    large_community: Option<TomlEdit>,
}

/// `prepend = 2` (our AS twice) or `prepend = { asn = 65000, count = 2 }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Prepend {
    Count(u8),
    Full(PrependFull),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrependFull {
    asn: Option<u32>,
    count: Option<u8>,
}

/// `{ add = [...], remove = [...], replace = [...] }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlEdit {
    replace: Option<Values>,
    remove: Option<Values>,
    add: Option<Values>,
}

/// The sets, checked and parsed; the raw text is kept for community values to set.
#[derive(Debug, Default)]
struct Sets {
    raw: BTreeMap<(&'static str, String), Vec<String>>,
    prefix: BTreeMap<String, Vec<PrefixRange>>,
    neighbor: BTreeMap<String, Vec<IpAddr>>,
    community: BTreeMap<String, Vec<CommunityMatch>>,
    ext_community: BTreeMap<String, Vec<ExtCommunityMatch>>,
    large_community: BTreeMap<String, Vec<LargeCommunityMatch>>,
    as_path: BTreeMap<String, Vec<AsPathPattern>>,
}

/// Parse every entry of every set of one kind.
fn parse_sets<T>(
    kind: &'static str,
    sets: &BTreeMap<String, Vec<String>>,
    raw: &mut BTreeMap<(&'static str, String), Vec<String>>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<BTreeMap<String, Vec<T>>, ConfigError> {
    let mut out = BTreeMap::new();
    for (name, entries) in sets {
        let field = format!("sets.{kind}.{name}");
        if entries.is_empty() {
            return Err(err(field, "the set is empty (it would match nothing)"));
        }
        let v = entries
            .iter()
            .enumerate()
            .map(|(i, s)| parse(s).map_err(|m| err(format!("{field}[{i}]"), m)))
            .collect::<Result<Vec<T>, _>>()?;
        raw.insert((kind, name.clone()), entries.clone());
        out.insert(name.clone(), v);
    }
    Ok(out)
}

fn prefix_range(s: &str) -> Result<PrefixRange, String> {
    s.parse::<PrefixRange>().map_err(|e| format!("`{s}`: {e}"))
}

/// A next-hop range: a prefix range, or one address.
fn next_hop_range(s: &str) -> Result<PrefixRange, String> {
    match s.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(_)) => prefix_range(&format!("{}/32", s.trim())),
        Ok(IpAddr::V6(_)) => prefix_range(&format!("{}/128", s.trim())),
        Err(_) => prefix_range(s),
    }
}

fn address(s: &str) -> Result<IpAddr, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("`{s}` is not an IP address"))
}

fn community_match(s: &str) -> Result<CommunityMatch, String> {
    s.parse().map_err(|e| format!("`{s}`: {e}"))
}

fn ext_community_match(s: &str) -> Result<ExtCommunityMatch, String> {
    s.parse().map_err(|e| format!("`{s}`: {e}"))
}

fn large_community_match(s: &str) -> Result<LargeCommunityMatch, String> {
    s.parse().map_err(|e| format!("`{s}`: {e}"))
}

fn as_path_pattern(s: &str) -> Result<AsPathPattern, String> {
    if s.trim().is_empty() {
        return Err("an empty AS path pattern matches only the empty path: write it as `as_path_length = 0`".into());
    }
    s.parse().map_err(|e| format!("`{s}`: {e}"))
}

impl Sets {
    fn parse(t: &TomlSets) -> Result<Sets, ConfigError> {
        let mut raw = BTreeMap::new();
        let prefix = parse_sets("prefix", &t.prefix, &mut raw, prefix_range)?;
        let neighbor = parse_sets("neighbor", &t.neighbor, &mut raw, address)?;
        let community = parse_sets("community", &t.community, &mut raw, community_match)?;
        let ext_community = parse_sets(
            "ext_community",
            &t.ext_community,
            &mut raw,
            ext_community_match,
        )?;
        let large_community = parse_sets(
            "large_community",
            &t.large_community,
            &mut raw,
            large_community_match,
        )?;
        let as_path = parse_sets("as_path", &t.as_path, &mut raw, as_path_pattern)?;
        Ok(Sets {
            raw,
            prefix,
            neighbor,
            community,
            ext_community,
            large_community,
            as_path,
        })
    }

    /// The names of the sets of one kind, for error messages.
    fn known(&self, kind: &'static str) -> String {
        let names: Vec<&str> = self
            .raw
            .keys()
            .filter(|(k, _)| *k == kind)
            .map(|(_, n)| n.as_str())
            .collect();
        if names.is_empty() {
            format!("no `sets.{kind}` is defined")
        } else {
            format!("defined: {}", names.join(", "))
        }
    }
}

/// A set's values, or the inline values parsed: `set_of` looks a set up by name.
fn values<T: Clone>(
    field: &str,
    v: &Values,
    kind: &'static str,
    sets: &Sets,
    set_of: impl Fn(&Sets, &str) -> Option<Vec<T>>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, ConfigError> {
    match v {
        Values::Set(name) => set_of(sets, name).ok_or_else(|| {
            err(
                field,
                format!(
                    "unknown {kind} set `{name}` ({}; values written inline go in a list: [\"...\"])",
                    sets.known(kind)
                ),
            )
        }),
        Values::List(list) => {
            if list.is_empty() {
                return Err(err(field, "the list is empty (it would match nothing)"));
            }
            list.iter()
                .enumerate()
                .map(|(i, s)| parse(s).map_err(|m| err(format!("{field}[{i}]"), m)))
                .collect()
        }
    }
}

/// The raw text of a set or inline list (for community values to set).
fn raw_values(
    field: &str,
    v: &Values,
    kind: &'static str,
    sets: &Sets,
) -> Result<Vec<(String, String)>, ConfigError> {
    match v {
        Values::Set(name) => sets
            .raw
            .get(&(kind, name.clone()))
            .map(|l| {
                l.iter()
                    .enumerate()
                    .map(|(i, s)| (format!("sets.{kind}.{name}[{i}]"), s.clone()))
                    .collect()
            })
            .ok_or_else(|| {
                err(
                    field,
                    format!("unknown {kind} set `{name}` ({})", sets.known(kind)),
                )
            }),
        Values::List(list) => Ok(list
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("{field}[{i}]"), s.clone()))
            .collect()),
    }
}

fn asn_range(field: &str, v: &NumOrText) -> Result<(u32, u32), ConfigError> {
    match v {
        NumOrText::Num(n) => Ok((*n, *n)),
        NumOrText::Text(s) => parse_asn_range(s).map_err(|e| err(field, format!("`{s}`: {e}"))),
    }
}

/// `3`, `"3"`, `"2..4"`, `"..4"` or `"2.."`.
fn length_range(field: &str, v: &NumOrText) -> Result<(u32, u32), ConfigError> {
    const E: &str = "expected a length or a range: 3, \"2..4\", \"..4\" or \"2..\"";
    let s = match v {
        NumOrText::Num(n) => return Ok((*n, *n)),
        NumOrText::Text(s) => s.trim(),
    };
    let bound = |t: &str, open: u32| -> Result<u32, ConfigError> {
        if t.trim().is_empty() {
            Ok(open)
        } else {
            t.trim()
                .parse()
                .map_err(|_| err(field, format!("`{s}`: {E}")))
        }
    };
    let (min, max) = match s.split_once("..") {
        Some((a, b)) => (bound(a, 0)?, bound(b, u32::MAX)?),
        None => {
            let n = bound(s, 0)?;
            (n, n)
        }
    };
    if min > max {
        return Err(err(
            field,
            format!("`{s}`: the minimum is above the maximum"),
        ));
    }
    Ok((min, max))
}

/// The conditions of a `match` table: the plain ones, and the AS path patterns
/// of which one must match (more than one pattern is an "any of").
struct Conditions {
    all: Vec<Condition>,
    any_as_path: Vec<AsPathPattern>,
}

fn conditions(
    field: &str,
    m: &TomlMatch,
    sets: &Sets,
    negated: bool,
) -> Result<Conditions, ConfigError> {
    let f = |name: &str| format!("{field}.{name}");
    let mut all = Vec::new();
    let mut any_as_path = Vec::new();
    if let Some(v) = &m.prefix {
        let r = values(
            &f("prefix"),
            v,
            "prefix",
            sets,
            |s, n| s.prefix.get(n).cloned(),
            prefix_range,
        )?;
        all.push(Condition::Prefix(r));
    }
    if let Some(v) = &m.neighbor {
        let r = values(
            &f("neighbor"),
            v,
            "neighbor",
            sets,
            |s, n| s.neighbor.get(n).cloned(),
            address,
        )?;
        all.push(Condition::Neighbor(r));
    }
    if let Some(v) = &m.family {
        let r = v
            .to_vec()
            .iter()
            .map(|s| parse_family(s).map_err(|e| err(f("family"), format!("`{s}`: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        all.push(Condition::Family(r));
    }
    if let Some(v) = &m.origin_as {
        let r = v
            .to_vec()
            .iter()
            .enumerate()
            .map(|(i, a)| asn_range(&format!("{}[{i}]", f("origin_as")), a))
            .collect::<Result<Vec<_>, _>>()?;
        all.push(Condition::OriginAs(r));
    }
    if let Some(v) = &m.as_path_contains {
        all.push(Condition::AsPathContains(v.to_vec()));
    }
    if let Some(v) = &m.as_path_length {
        let (min, max) = length_range(&f("as_path_length"), v)?;
        all.push(Condition::AsPathLength { min, max });
    }
    if let Some(v) = &m.as_path {
        let r = values(
            &f("as_path"),
            v,
            "as_path",
            sets,
            |s, n| s.as_path.get(n).cloned(),
            as_path_pattern,
        )?;
        if negated || r.len() == 1 {
            all.extend(r.into_iter().map(Condition::AsPath));
        } else {
            any_as_path = r;
        }
    }
    if let Some(v) = &m.community {
        let r = values(
            &f("community"),
            v,
            "community",
            sets,
            |s, n| s.community.get(n).cloned(),
            community_match,
        )?;
        all.push(Condition::Community(r));
    }
    if let Some(v) = &m.ext_community {
        let r = values(
            &f("ext_community"),
            v,
            "ext_community",
            sets,
            |s, n| s.ext_community.get(n).cloned(),
            ext_community_match,
        )?;
        all.push(Condition::ExtCommunity(r));
    }
    if let Some(v) = &m.large_community {
        let r = values(
            &f("large_community"),
            v,
            "large_community",
            sets,
            |s, n| s.large_community.get(n).cloned(),
            large_community_match,
        )?;
        all.push(Condition::LargeCommunity(r));
    }
    if let Some(v) = &m.next_hop {
        let r = values(
            &f("next_hop"),
            v,
            "prefix",
            sets,
            |s, n| s.prefix.get(n).cloned(),
            next_hop_range,
        )?;
        all.push(Condition::NextHop(r));
    }
    if let Some(n) = &m.not {
        if negated {
            return Err(err(
                f("not"),
                "`not` inside `not`: write the condition in `match` itself",
            ));
        }
        let inner = conditions(&f("not"), n, sets, true)?;
        if inner.all.is_empty() {
            return Err(err(f("not"), "an empty `not` table"));
        }
        // None of them holds: each one negated.
        all.extend(inner.all.into_iter().map(|c| Condition::Not(Box::new(c))));
    }
    Ok(Conditions { all, any_as_path })
}

/// One community edit (`replace`, `remove`, `add`) of one kind, as actions.
fn edits<V, M>(
    field: &str,
    e: &TomlEdit,
    kind: &'static str,
    sets: &Sets,
    value: impl Fn(&str) -> Result<V, String>,
    matcher: impl Fn(&str) -> Result<M, String>,
    wrap: impl Fn(CommunityEdit<V, M>) -> Modify,
) -> Result<Vec<Modify>, ConfigError> {
    let concrete = |name: &str, v: &Values| -> Result<Vec<V>, ConfigError> {
        raw_values(&format!("{field}.{name}"), v, kind, sets)?
            .into_iter()
            .map(|(at, s)| {
                value(&s).map_err(|m| err(format!("{field}.{name}"), format!("{at}: `{s}`: {m}")))
            })
            .collect()
    };
    let mut out = Vec::new();
    if let Some(v) = &e.replace {
        out.push(wrap(CommunityEdit::Replace(concrete("replace", v)?)));
    }
    if let Some(v) = &e.remove {
        let at = format!("{field}.remove");
        let ms = raw_values(&at, v, kind, sets)?
            .into_iter()
            .map(|(_, s)| matcher(&s).map_err(|m| err(&at, m)))
            .collect::<Result<Vec<M>, _>>()?;
        out.push(wrap(CommunityEdit::Remove(ms)));
    }
    if let Some(v) = &e.add {
        out.push(wrap(CommunityEdit::Add(concrete("add", v)?)));
    }
    if out.is_empty() {
        return Err(err(field, "expected `add`, `remove` or `replace`"));
    }
    Ok(out)
}

fn actions(field: &str, s: &TomlSet, sets: &Sets) -> Result<Vec<Modify>, ConfigError> {
    let f = |name: &str| format!("{field}.{name}");
    let mut out = Vec::new();
    if let Some(v) = s.local_pref {
        out.push(Modify::SetLocalPref(v));
    }
    match &s.med {
        None => {}
        Some(NumOrText::Num(v)) => out.push(Modify::SetMed(*v)),
        Some(NumOrText::Text(t)) if t == "remove" => out.push(Modify::RemoveMed),
        Some(NumOrText::Text(t)) => {
            return Err(err(
                f("med"),
                format!("`{t}`: expected a number or \"remove\""),
            ))
        }
    }
    if let Some(t) = &s.next_hop {
        let nh = match t.as_str() {
            "self" => NextHop::Local,
            a => NextHop::Address(a.parse().map_err(|_| {
                err(
                    f("next_hop"),
                    format!("`{a}`: expected \"self\" or an IP address"),
                )
            })?),
        };
        out.push(Modify::SetNextHop(nh));
    }
    match &s.prepend {
        None => {}
        Some(Prepend::Count(0)) | Some(Prepend::Full(PrependFull { count: Some(0), .. })) => {
            return Err(err(f("prepend"), "the count must be 1 to 255"))
        }
        Some(Prepend::Count(n)) => out.push(Modify::Prepend {
            asn: None,
            count: *n,
        }),
        Some(Prepend::Full(p)) => out.push(Modify::Prepend {
            asn: p.asn,
            count: p.count.unwrap_or(1),
        }),
    }
    if let Some(e) = &s.community {
        out.extend(edits(
            &f("community"),
            e,
            "community",
            sets,
            |s| parse_community(s).map_err(|e| e.to_string()),
            community_match,
            Modify::Communities,
        )?);
    }
    if let Some(e) = &s.ext_community {
        out.extend(edits(
            &f("ext_community"),
            e,
            "ext_community",
            sets,
            |s| parse_ext_community(s).map_err(|e| e.to_string()),
            ext_community_match,
            Modify::ExtCommunities,
        )?);
    }
    if let Some(e) = &s.large_community {
        out.extend(edits(
            &f("large_community"),
            e,
            "large_community",
            sets,
            |s| parse_large_community(s).map_err(|e| e.to_string()),
            large_community_match,
            Modify::LargeCommunities,
        )?);
    }
    if out.is_empty() {
        return Err(err(field, "an empty `set` table"));
    }
    Ok(out)
}

fn verdict(field: &str, s: &str) -> Result<Verdict, ConfigError> {
    s.parse().map_err(|_| {
        err(
            field,
            format!("`{s}`: expected \"accept\", \"reject\" or \"next\""),
        )
    })
}

/// Build one policy.
fn policy(field: &str, p: &TomlPolicy, sets: &Sets) -> Result<Policy, ConfigError> {
    let default = match p.default.as_str() {
        "accept" => Verdict::Accept,
        "reject" => Verdict::Reject,
        d => {
            return Err(err(
                format!("{field}.default"),
                format!("`{d}`: expected \"accept\" or \"reject\""),
            ))
        }
    };
    let mut out = Policy::new(p.name.clone(), default);
    for (i, s) in p.statement.iter().enumerate() {
        let at = match &s.name {
            Some(n) => format!("{field}.statement[\"{n}\"]"),
            None => format!("{field}.statement[{i}]"),
        };
        let name = s.name.clone().unwrap_or_else(|| format!("{}", i + 1));
        let verdict = verdict(&format!("{at}.then"), &s.then)?;
        let conds = match &s.conditions {
            Some(m) => conditions(&format!("{at}.match"), m, sets, false)?,
            None => Conditions {
                all: Vec::new(),
                any_as_path: Vec::new(),
            },
        };
        let acts = match &s.set {
            Some(t) => actions(&format!("{at}.set"), t, sets)?,
            None => Vec::new(),
        };
        if conds.any_as_path.is_empty() {
            out.push(Statement {
                name,
                conditions: conds.all,
                actions: acts,
                verdict,
            });
            continue;
        }
        // "Any of these AS path patterns": one statement per pattern, each
        // excluding the patterns before it, so a route passes at most one.
        for (j, pat) in conds.any_as_path.iter().enumerate() {
            let mut c = conds.all.clone();
            c.extend(
                conds
                    .any_as_path
                    .iter()
                    .take(j)
                    .map(|q| Condition::Not(Box::new(Condition::AsPath(q.clone())))),
            );
            c.push(Condition::AsPath(pat.clone()));
            out.push(Statement {
                name: format!("{name} (as_path {})", j + 1),
                conditions: c,
                actions: acts.clone(),
                verdict,
            });
        }
    }
    Ok(out)
}

/// Every policy, by name, from `[sets]` and `[[policy]]`.
pub(super) fn policies(
    sets: &TomlSets,
    list: &[TomlPolicy],
) -> Result<BTreeMap<String, Policy>, ConfigError> {
    let sets = Sets::parse(sets)?;
    let mut out = BTreeMap::new();
    for (i, p) in list.iter().enumerate() {
        if p.name.trim().is_empty() {
            return Err(err(format!("policy[{i}].name"), "a policy needs a name"));
        }
        let field = format!("policy[\"{}\"]", p.name);
        if out.contains_key(&p.name) {
            return Err(err(
                format!("policy[{i}].name"),
                format!("policy `{}` is defined twice", p.name),
            ));
        }
        out.insert(p.name.clone(), policy(&field, p, &sets)?);
    }
    Ok(out)
}

/// A peer's `import` or `export`: the named policies, composed in order.
pub(super) fn chain(
    field: &str,
    names: &OneOrMany<String>,
    policies: &BTreeMap<String, Policy>,
) -> Result<Policy, ConfigError> {
    let names = names.to_vec();
    let mut out: Option<Policy> = None;
    for (i, n) in names.iter().enumerate() {
        let at = if names.len() == 1 {
            field.to_string()
        } else {
            format!("{field}[{i}]")
        };
        let p = policies.get(n).ok_or_else(|| {
            let known: Vec<&str> = policies.keys().map(String::as_str).collect();
            err(
                at,
                if known.is_empty() {
                    format!("unknown policy `{n}` (no [[policy]] is defined)")
                } else {
                    format!("unknown policy `{n}` (defined: {})", known.join(", "))
                },
            )
        })?;
        out = Some(match out {
            None => p.clone(),
            Some(prev) => prev.then(p),
        });
    }
    out.ok_or_else(|| {
        err(
            field,
            "an empty list: name at least one policy, or leave the key out",
        )
    })
}
