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
    local_pref: Option<OneOrMany<NumOrText>>,
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
    if let Some(v) = &m.local_pref {
        let r = v
            .to_vec()
            .iter()
            .enumerate()
            .map(|(i, a)| length_range(&format!("{}[{i}]", f("local_pref")), a))
            .collect::<Result<Vec<_>, _>>()?;
        all.push(Condition::LocalPref(r));
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;
    use reflector_core::policy::{ExtKind, PathToken};
    use reflector_core::wire::AfiSafi;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        #[serde(default)]
        sets: TomlSets,
        #[serde(default)]
        policy: Vec<TomlPolicy>,
    }

    fn parse(text: &str) -> Result<BTreeMap<String, Policy>, ConfigError> {
        let d: Doc = toml::from_str(text).map_err(|e| err("", e.to_string()))?;
        policies(&d.sets, &d.policy)
    }

    /// The one statement of policy `p`.
    fn statement(text: &str) -> Statement {
        let mut ps = parse(text).unwrap();
        let p = ps.remove("p").unwrap();
        assert_eq!(p.statements.len(), 1, "{p:?}");
        p.statements.into_iter().next().unwrap()
    }

    fn with_match(m: &str) -> Vec<Condition> {
        statement(&format!(
            "[[policy]]\nname = \"p\"\ndefault = \"reject\"\n[[policy.statement]]\nmatch = {{ {m} }}\nthen = \"accept\"\n"
        ))
        .conditions
    }

    fn with_set(m: &str) -> Vec<Modify> {
        statement(&format!(
            "[[policy]]\nname = \"p\"\ndefault = \"reject\"\n[[policy.statement]]\nset = {{ {m} }}\nthen = \"next\"\n"
        ))
        .actions
    }

    fn range(s: &str) -> PrefixRange {
        s.parse().unwrap()
    }

    #[test]
    fn every_condition() {
        assert_eq!(
            with_match("prefix = [\"10.0.0.0/8{16,24}\", \"192.168.0.0/16+\"]"),
            [Condition::Prefix(vec![
                range("10.0.0.0/8{16,24}"),
                range("192.168.0.0/16+")
            ])]
        );
        assert_eq!(
            with_match("neighbor = [\"127.0.0.2\", \"::1\"]"),
            [Condition::Neighbor(vec![
                "127.0.0.2".parse().unwrap(),
                "::1".parse().unwrap()
            ])]
        );
        assert_eq!(
            with_match("family = \"ipv6-unicast\""),
            [Condition::Family(vec![AfiSafi::IPV6_UNICAST])]
        );
        assert_eq!(
            with_match("family = [\"ipv4\", \"ipv6\"]"),
            [Condition::Family(vec![
                AfiSafi::IPV4_UNICAST,
                AfiSafi::IPV6_UNICAST
            ])]
        );
        assert_eq!(
            with_match("family = [\"vpnv4\", \"l2vpn-evpn\", \"flow6\", \"ipv4-multicast\"]"),
            [Condition::Family(vec![
                AfiSafi::VPNV4,
                AfiSafi::EVPN,
                AfiSafi::IPV6_FLOWSPEC,
                AfiSafi::IPV4_MULTICAST
            ])]
        );
        assert_eq!(
            with_match("origin_as = [65001, \"64512..65534\"]"),
            [Condition::OriginAs(vec![(65001, 65001), (64512, 65534)])]
        );
        assert_eq!(
            with_match("origin_as = 65001"),
            [Condition::OriginAs(vec![(65001, 65001)])]
        );
        assert_eq!(
            with_match("local_pref = [100, \"200..\"]"),
            [Condition::LocalPref(vec![(100, 100), (200, u32::MAX)])]
        );
        assert_eq!(
            with_match("origin_as = 65001"),
            [Condition::OriginAs(vec![(65001, 65001)])]
        );
        assert_eq!(
            with_match("as_path_contains = [174, 3356]"),
            [Condition::AsPathContains(vec![174, 3356])]
        );
        for (text, min, max) in [
            ("3", 3, 3),
            ("\"2..4\"", 2, 4),
            ("\"..4\"", 0, 4),
            ("\"2..\"", 2, u32::MAX),
        ] {
            assert_eq!(
                with_match(&format!("as_path_length = {text}")),
                [Condition::AsPathLength { min, max }]
            );
        }
        assert_eq!(
            with_match("as_path = [\"* 65001 ?\"]"),
            [Condition::AsPath(AsPathPattern(vec![
                PathToken::Many,
                PathToken::Asn(65001),
                PathToken::Any
            ]))]
        );
        assert_eq!(
            with_match("community = [\"65000:100\", \"no-export\", \"65000:*\"]"),
            [Condition::Community(vec![
                CommunityMatch {
                    asn: Some(65000),
                    value: Some(100)
                },
                CommunityMatch {
                    asn: Some(0xffff),
                    value: Some(0xff01)
                },
                CommunityMatch {
                    asn: Some(65000),
                    value: None
                },
            ])]
        );
        assert_eq!(
            with_match("ext_community = [\"rt:65000:100\"]"),
            [Condition::ExtCommunity(vec![ExtCommunityMatch {
                kind: ExtKind::RouteTarget,
                global: Some(65000),
                local: Some(100)
            }])]
        );
        assert_eq!(
            with_match("large_community = [\"64512:1:*\"]"),
            [Condition::LargeCommunity(vec![LargeCommunityMatch {
                global: Some(64512),
                data1: Some(1),
                data2: None
            }])]
        );
        assert_eq!(
            with_match("next_hop = [\"192.0.2.1\", \"2001:db8::/32+\"]"),
            [Condition::NextHop(vec![
                range("192.0.2.1/32"),
                range("2001:db8::/32+")
            ])]
        );
        assert_eq!(
            with_match("not = { prefix = [\"10.0.0.0/8+\"], community = [\"65000:1\"] }"),
            [
                Condition::Not(Box::new(Condition::Prefix(vec![range("10.0.0.0/8+")]))),
                Condition::Not(Box::new(Condition::Community(vec![CommunityMatch {
                    asn: Some(65000),
                    value: Some(1)
                }]))),
            ]
        );
        // Several conditions: all of them.
        assert_eq!(
            with_match("family = \"ipv4\", origin_as = 1").len(),
            2,
            "one condition per key"
        );
    }

    #[test]
    fn sets_are_referred_to_by_name() {
        let text = r#"
[sets]
prefix.bogons = ["10.0.0.0/8+", "192.168.0.0/16+"]
neighbor.clients = ["127.0.0.2"]
community.blackhole = ["65535:666"]
large_community.mine = ["64512:*:*"]
ext_community.rts = ["rt:65000:100"]
as_path.short = ["?", "? ?"]

[[policy]]
name = "p"
default = "accept"

[[policy.statement]]
name = "bogons"
match = { prefix = "bogons", neighbor = "clients", community = "blackhole", large_community = "mine", ext_community = "rts", next_hop = "bogons", not = { as_path = "short" } }
then = "reject"
"#;
        let s = statement(text);
        assert_eq!(s.name, "bogons");
        assert_eq!(s.verdict, Verdict::Reject);
        let bogons = vec![range("10.0.0.0/8+"), range("192.168.0.0/16+")];
        assert_eq!(s.conditions[0], Condition::Prefix(bogons.clone()));
        assert_eq!(
            s.conditions[1],
            Condition::Neighbor(vec!["127.0.0.2".parse().unwrap()])
        );
        assert!(matches!(&s.conditions[2], Condition::Community(v) if v.len() == 1));
        assert!(matches!(&s.conditions[3], Condition::ExtCommunity(v) if v.len() == 1));
        assert!(matches!(&s.conditions[4], Condition::LargeCommunity(v) if v.len() == 1));
        assert_eq!(s.conditions[5], Condition::NextHop(bogons));
        // `not` over a set of two patterns: neither matches.
        assert_eq!(s.conditions.len(), 8);
        assert!(s.conditions[6..]
            .iter()
            .all(|c| matches!(c, Condition::Not(b) if matches!(**b, Condition::AsPath(_)))));
    }

    #[test]
    fn an_as_path_set_matches_any_of_its_patterns_once() {
        let text = r#"
[sets]
as_path.transit = ["* 174 *", "* 3356 *"]
[[policy]]
name = "p"
default = "accept"
[[policy.statement]]
name = "transit"
match = { as_path = "transit" }
set = { prepend = 1 }
then = "next"
"#;
        let p = parse(text).unwrap().remove("p").unwrap();
        assert_eq!(p.statements.len(), 2);
        assert_eq!(p.statements[0].conditions.len(), 1);
        // The second excludes the first pattern: a route matching both is prepended once.
        assert_eq!(p.statements[1].conditions.len(), 2);
        assert!(matches!(&p.statements[1].conditions[0], Condition::Not(_)));
        assert_eq!(p.statements[1].name, "transit (as_path 2)");
    }

    #[test]
    fn every_action() {
        assert_eq!(
            with_set("local_pref = 200, med = 10"),
            [Modify::SetLocalPref(200), Modify::SetMed(10)]
        );
        assert_eq!(with_set("med = \"remove\""), [Modify::RemoveMed]);
        assert_eq!(
            with_set("next_hop = \"self\""),
            [Modify::SetNextHop(NextHop::Local)]
        );
        assert_eq!(
            with_set("next_hop = \"192.0.2.7\""),
            [Modify::SetNextHop(NextHop::Address(
                "192.0.2.7".parse().unwrap()
            ))]
        );
        assert_eq!(
            with_set("prepend = 2"),
            [Modify::Prepend {
                asn: None,
                count: 2
            }]
        );
        assert_eq!(
            with_set("prepend = { asn = 65000, count = 3 }"),
            [Modify::Prepend {
                asn: Some(65000),
                count: 3
            }]
        );
        assert_eq!(
            with_set(
                "community = { add = [\"65000:1\"], remove = [\"65000:*\"], replace = [\"no-export\"] }"
            ),
            [
                Modify::Communities(CommunityEdit::Replace(vec![0xffff_ff01])),
                Modify::Communities(CommunityEdit::Remove(vec![CommunityMatch {
                    asn: Some(65000),
                    value: None
                }])),
                Modify::Communities(CommunityEdit::Add(vec![65000 << 16 | 1])),
            ]
        );
        assert_eq!(
            with_set("large_community = { add = [\"64512:1:2\"], remove = [\"64512:*:*\"] }"),
            [
                Modify::LargeCommunities(CommunityEdit::Remove(vec![LargeCommunityMatch {
                    global: Some(64512),
                    data1: None,
                    data2: None
                }])),
                Modify::LargeCommunities(CommunityEdit::Add(vec![[64512, 1, 2]])),
            ]
        );
        assert_eq!(
            with_set("ext_community = { replace = [\"rt:65000:100\"] }"),
            [Modify::ExtCommunities(CommunityEdit::Replace(vec![
                parse_ext_community("rt:65000:100").unwrap()
            ]))]
        );
        // Community values to add may come from a set.
        let s = statement(
            "[sets]\ncommunity.tags = [\"65000:7\"]\n[[policy]]\nname = \"p\"\ndefault = \"accept\"\n[[policy.statement]]\nset = { community = { add = \"tags\" } }\nthen = \"accept\"\n",
        );
        assert_eq!(
            s.actions,
            [Modify::Communities(CommunityEdit::Add(vec![
                65000 << 16 | 7
            ]))]
        );
    }

    #[test]
    fn defaults_verdicts_and_statement_names() {
        let ps = parse(
            "[[policy]]\nname = \"all\"\ndefault = \"accept\"\n[[policy]]\nname = \"none\"\ndefault = \"reject\"\n[[policy.statement]]\nthen = \"next\"\n",
        )
        .unwrap();
        assert_eq!(ps["all"], Policy::new("all", Verdict::Accept));
        let none = &ps["none"];
        assert_eq!(none.default, Verdict::Reject);
        assert_eq!(none.statements[0].name, "1");
        assert_eq!(none.statements[0].verdict, Verdict::Next);
        assert!(none.statements[0].conditions.is_empty());
        // A peer's list composes in order.
        let chained = chain(
            "peer[0].import",
            &OneOrMany::Many(vec!["none".into(), "all".into()]),
            &ps,
        )
        .unwrap();
        assert_eq!(chained.name, "none+all");
        assert_eq!(chained.default, Verdict::Accept);
        assert_eq!(chained.statements.len(), 1);
    }

    #[test]
    fn errors_name_the_field() {
        let p = |stmt: &str| {
            format!("[[policy]]\nname = \"from-clients\"\ndefault = \"accept\"\n[[policy.statement]]\n{stmt}\n")
        };
        let cases: Vec<(String, &str, &str)> = vec![
            (
                p("match = { prefix = \"bogons\" }\nthen = \"reject\""),
                "policy[\"from-clients\"].statement[0].match.prefix",
                "unknown prefix set `bogons`",
            ),
            (
                p("name = \"x\"\nmatch = { prefix = [\"10.0.0.0/33\"] }\nthen = \"reject\""),
                "policy[\"from-clients\"].statement[\"x\"].match.prefix[0]",
                "10.0.0.0/33",
            ),
            (
                p("match = { community = [\"65000\"] }\nthen = \"reject\""),
                "policy[\"from-clients\"].statement[0].match.community[0]",
                "community",
            ),
            (
                p("match = { family = \"l2vpn\" }\nthen = \"reject\""),
                "policy[\"from-clients\"].statement[0].match.family",
                "l2vpn",
            ),
            (
                p("match = { origin_as = [\"9..1\"] }\nthen = \"reject\""),
                "policy[\"from-clients\"].statement[0].match.origin_as[0]",
                "9..1",
            ),
            (
                p("match = { as_path_length = \"4..2\" }\nthen = \"reject\""),
                "policy[\"from-clients\"].statement[0].match.as_path_length",
                "above",
            ),
            (
                p("match = { neighbor = [\"nope\"] }\nthen = \"reject\""),
                "policy[\"from-clients\"].statement[0].match.neighbor[0]",
                "not an IP address",
            ),
            (
                p("match = { prefix = [] }\nthen = \"reject\""),
                "policy[\"from-clients\"].statement[0].match.prefix",
                "empty",
            ),
            (
                p("match = { not = { not = { family = \"ipv4\" } } }\nthen = \"reject\""),
                "policy[\"from-clients\"].statement[0].match.not.not",
                "inside",
            ),
            (
                p("then = \"maybe\""),
                "policy[\"from-clients\"].statement[0].then",
                "maybe",
            ),
            (
                p("set = { med = \"none\" }\nthen = \"accept\""),
                "policy[\"from-clients\"].statement[0].set.med",
                "remove",
            ),
            (
                p("set = { next_hop = \"me\" }\nthen = \"accept\""),
                "policy[\"from-clients\"].statement[0].set.next_hop",
                "self",
            ),
            (
                p("set = { prepend = 0 }\nthen = \"accept\""),
                "policy[\"from-clients\"].statement[0].set.prepend",
                "count",
            ),
            (
                p("set = { community = { add = [\"65000:*\"] } }\nthen = \"accept\""),
                "policy[\"from-clients\"].statement[0].set.community.add",
                "cannot hold *",
            ),
            (
                p("set = { community = {} }\nthen = \"accept\""),
                "policy[\"from-clients\"].statement[0].set.community",
                "add",
            ),
            (
                p("set = { large_community = { remove = \"gone\" } }\nthen = \"accept\""),
                "policy[\"from-clients\"].statement[0].set.large_community.remove",
                "unknown large_community set `gone`",
            ),
            (
                "[[policy]]\nname = \"p\"\ndefault = \"next\"\n".into(),
                "policy[\"p\"].default",
                "accept",
            ),
            (
                "[[policy]]\nname = \"p\"\ndefault = \"accept\"\n[[policy]]\nname = \"p\"\ndefault = \"accept\"\n".into(),
                "policy[1].name",
                "twice",
            ),
            (
                "[sets]\nprefix.bad = [\"10.0.0.0/8\", \"10.0.0.0\"]\n".into(),
                "sets.prefix.bad[1]",
                "10.0.0.0",
            ),
            (
                "[sets]\nas_path.bad = [\"* x *\"]\n".into(),
                "sets.as_path.bad[0]",
                "AS number",
            ),
            ("[sets]\ncommunity.none = []\n".into(), "sets.community.none", "empty"),
        ];
        for (text, field, said) in cases {
            let e = parse(&text).unwrap_err();
            assert_eq!(e.field, field, "{text}\n{e}");
            assert!(e.message.contains(said), "{text}\n{e}");
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        for (text, key) in [
            ("[sets]\nprefixes.x = [\"10.0.0.0/8\"]\n", "prefixes"),
            ("[[policy]]\nname = \"p\"\ndefault = \"accept\"\nstatements = []\n", "statements"),
            (
                "[[policy]]\nname = \"p\"\ndefault = \"accept\"\n[[policy.statement]]\naction = \"accept\"\nthen = \"accept\"\n",
                "action",
            ),
            (
                "[[policy]]\nname = \"p\"\ndefault = \"accept\"\n[[policy.statement]]\nmatch = { prefx = [\"10.0.0.0/8\"] }\nthen = \"accept\"\n",
                "prefx",
            ),
            (
                "[[policy]]\nname = \"p\"\ndefault = \"accept\"\n[[policy.statement]]\nset = { localpref = 1 }\nthen = \"accept\"\n",
                "localpref",
            ),
            (
                "[[policy]]\nname = \"p\"\ndefault = \"accept\"\n[[policy.statement]]\nset = { community = { append = [\"1:1\"] } }\nthen = \"accept\"\n",
                "append",
            ),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.message.contains(key), "{text}: {e}");
        }
    }
}
