//! Routing policy: the terms' text forms, conditions and actions on real
//! canonical blocks, import and export policies and hooks in the engine
//! (checked on the UPDATE bytes peers get), policy changes on live sessions
//! sent as a diff, RFC 8212, and properties: an accept-all policy changes
//! nothing, per-trace caching equals per-prefix evaluation, a shared export
//! pass equals per-peer passes, and composition equals step-by-step evaluation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use proptest::prelude::*;
use reflector_core::engine::{Engine, EngineConfig, Negotiated, Outcome, PeerConfig, Reimport};
use reflector_core::policy::{
    parse_family, AsPathPattern, CommunityEdit, CommunityMatch, Condition, Decision, Direction,
    Hook, Modify, NextHop, Policy, PrefixRange, Route, Session, Statement, Verdict,
};
use reflector_core::reflect::{self, ImportContext, Role};
use reflector_core::rib::PeerId;
use reflector_core::wire::attribute::{type_code, AttrIter, Origin};
use reflector_core::wire::update_repr::{AsPath, AttributeRepr, AttributeValue, Segment};
use reflector_core::wire::{AfiSafi, Context, Nlri, Prefix, UpdateRepr};

mod support;
use support::{announce, announced, drain, engine, p, rid, transmit, withdrawn, AS};

fn peer(e: &mut Engine, role: Role, n: u8) -> PeerId {
    let asn = if role == Role::Ebgp {
        65000 + u32::from(n)
    } else {
        AS
    };
    let mut cfg = PeerConfig::new(role, IpAddr::V4(rid(n)), asn);
    cfg.local_v4 = Some(Ipv4Addr::new(192, 0, 2, 254));
    let id = e.add_peer(cfg);
    e.peer_up(id, Negotiated::unicast(rid(n)));
    drain(e, id, &Context::MODERN);
    id
}

fn attrs(path: &[u32], communities: &[u32]) -> Vec<AttributeRepr> {
    let mut v = vec![
        AttributeRepr::new(AttributeValue::Origin(Origin::Igp)),
        AttributeRepr::new(AttributeValue::AsPath(AsPath::sequence(path))),
        AttributeRepr::new(AttributeValue::NextHop(Ipv4Addr::new(10, 9, 9, 9))),
        AttributeRepr::new(AttributeValue::LocalPref(100)),
    ];
    if !communities.is_empty() {
        v.push(AttributeRepr::new(AttributeValue::Communities(
            communities.to_vec(),
        )));
    }
    v
}

fn accepted(o: Outcome) {
    assert!(matches!(o, Outcome::Accepted { .. }), "{o:?}");
}

/// What a peer holds after the UPDATEs: prefix → attributes.
type View = BTreeMap<Prefix, Vec<AttributeRepr>>;

fn apply(view: &mut View, updates: &[UpdateRepr]) {
    for u in updates {
        for w in withdrawn(std::slice::from_ref(u)) {
            view.remove(&w);
        }
        for a in announced(std::slice::from_ref(u)) {
            view.insert(a, u.attributes.clone());
        }
    }
}

fn attr(list: &[AttributeRepr], t: u8) -> Option<&AttributeValue> {
    list.iter()
        .find(|a| a.value.type_code() == t)
        .map(|a| &a.value)
}

fn communities(list: &[AttributeRepr]) -> Vec<u32> {
    match attr(list, type_code::COMMUNITIES) {
        Some(AttributeValue::Communities(c)) => c.clone(),
        None => vec![],
        other => panic!("{other:?}"),
    }
}

fn local_pref(list: &[AttributeRepr]) -> Option<u32> {
    match attr(list, type_code::LOCAL_PREF) {
        Some(AttributeValue::LocalPref(v)) => Some(*v),
        _ => None,
    }
}

fn c(s: &str) -> u32 {
    reflector_core::policy::parse_community(s).unwrap()
}

fn range(s: &str) -> PrefixRange {
    s.parse().unwrap()
}

/// The canonical block of `attrs` as received from an iBGP client.
fn canonical(list: &[AttributeRepr]) -> Vec<u8> {
    let ctx = Context::MODERN;
    let len: usize = list.iter().map(|a| a.buffer_len(&ctx)).sum();
    let mut raw = vec![0u8; len];
    let mut w = reflector_core::wire::Writer::new(&mut raw);
    for a in list {
        a.emit(&mut w, &ctx).unwrap();
    }
    let mut out = Vec::new();
    reflect::canonicalize(
        AttrIter::new_checked(&raw, 0).unwrap(),
        &ImportContext {
            role: Role::Client,
            four_octet: true,
            bgp_role: None,
            peer_as: AS,
        },
        true,
        &mut out,
    );
    out
}

fn route<'a>(prefix: &str, block: &'a [u8]) -> Route<'a> {
    Route::unicast(p(prefix), Some(IpAddr::V4(rid(1))), block, None)
}

// ---------------------------------------------------------------------------
// Terms.

#[test]
fn prefix_ranges_read_as_bird_writes_them_and_match_by_length() {
    let r = range("10.0.0.0/8{16,24}");
    assert_eq!(r.to_string(), "10.0.0.0/8{16,24}");
    assert!(r.matches(&p("10.1.0.0/16")));
    assert!(r.matches(&p("10.1.2.0/24")));
    assert!(!r.matches(&p("10.0.0.0/8")), "shorter than 16");
    assert!(!r.matches(&p("10.1.2.128/25")), "longer than 24");
    assert!(!r.matches(&p("11.1.0.0/16")), "outside 10/8");
    assert!(!r.matches(&p("2001:db8::/32")));
    let plus = range("2001:db8::/32+");
    assert_eq!(plus.to_string(), "2001:db8::/32+");
    assert!(plus.matches(&p("2001:db8:1::/48")));
    assert!(plus.matches(&p("2001:db8::/32")));
    assert!(!plus.matches(&p("2001:db9::/48")));
    let exact = range("192.0.2.0/24");
    assert!(exact.matches(&p("192.0.2.0/24")));
    assert!(!exact.matches(&p("192.0.2.0/25")));
    for bad in [
        "10.0.0.0/8{4,24}",
        "10.0.0.0/8{24,16}",
        "10.0.0.0/8{8,33}",
        "10.0.0.0",
        "x/8",
    ] {
        assert!(bad.parse::<PrefixRange>().is_err(), "{bad}");
    }
}

#[test]
fn communities_read_with_wildcards_and_well_known_names() {
    let m: CommunityMatch = "65000:*".parse().unwrap();
    assert!(m.matches(c("65000:7")));
    assert!(!m.matches(c("65001:7")));
    let m: CommunityMatch = "*:666".parse().unwrap();
    assert!(m.matches(c("64512:666")));
    assert_eq!(c("no-export"), 0xFFFF_FF01);
    assert_eq!(c("no-advertise"), 0xFFFF_FF02);
    assert_eq!(c("no-export-subconfed"), 0xFFFF_FF03);
    assert_eq!(c("no-peer"), 0xFFFF_FF04);
    assert_eq!(c("graceful-shutdown"), 0xFFFF_0000);
    assert_eq!(c("blackhole"), 0xFFFF_029A);
    assert!("65536:1".parse::<CommunityMatch>().is_err());
    assert!(reflector_core::policy::parse_community("65000:*").is_err());
    // RFC 4360 encodings: 2-octet AS, IPv4 address, 4-octet AS (RFC 5668).
    let rt = reflector_core::policy::parse_ext_community;
    assert_eq!(
        rt("rt:65000:100").unwrap(),
        [0, 2, 0xfd, 0xe8, 0, 0, 0, 100]
    );
    assert_eq!(rt("soo:192.0.2.1:7").unwrap(), [1, 3, 192, 0, 2, 1, 0, 7]);
    assert_eq!(
        rt("rt:4200000000:7").unwrap(),
        [2, 2, 0xfa, 0x56, 0xea, 0, 0, 7]
    );
    assert!(rt("rt:4200000000:70000").is_err());
    let lc = reflector_core::policy::parse_large_community("4200000000:1:2").unwrap();
    assert_eq!(lc, [4_200_000_000, 1, 2]);
}

#[test]
fn as_path_patterns_match_the_whole_path_and_sets_as_one_position() {
    let block = canonical(&attrs(&[65001, 65002, 65003], &[]));
    let r = route("192.0.2.0/24", &block);
    let holds = |pat: &str| Condition::AsPath(pat.parse::<AsPathPattern>().unwrap()).holds(&r);
    assert!(holds("65001 65002 65003"));
    assert!(holds("* 65003"));
    assert!(holds("65001 *"));
    assert!(holds("* 65002 *"));
    assert!(holds("65001 ? 65003"));
    assert!(holds("* 65000..65001 * 65003"));
    assert!(!holds("65002 *"), "anchored at the start");
    assert!(!holds("* 65002"), "anchored at the end");
    assert!(!holds("65001 ? ? 65003"));
    // An AS_SET is one position matched by any member.
    let mut list = attrs(&[], &[]);
    list[1] = AttributeRepr::new(AttributeValue::AsPath(AsPath {
        segments: vec![
            Segment {
                kind: reflector_core::wire::attribute::SegmentType::Sequence,
                asns: vec![65001],
            },
            Segment {
                kind: reflector_core::wire::attribute::SegmentType::Set,
                asns: vec![64512, 64513],
            },
        ],
    }));
    let block = canonical(&list);
    let r = route("192.0.2.0/24", &block);
    let holds = |pat: &str| Condition::AsPath(pat.parse::<AsPathPattern>().unwrap()).holds(&r);
    assert!(holds("65001 64513"));
    assert!(holds("65001 ?"));
    assert!(!holds("65001 ? ?"));
    // The origin AS of a path ending with an AS_SET is not defined.
    assert!(!Condition::OriginAs(vec![(64512, 64513)]).holds(&r));
    assert!(
        Condition::AsPathLength { min: 2, max: 2 }.holds(&r),
        "a set counts 1"
    );
    assert!(Condition::AsPathContains(vec![64513]).holds(&r));
}

#[test]
fn actions_rewrite_the_canonical_block_in_type_order() {
    let block = canonical(&attrs(
        &[65001],
        &[c("65000:1"), c("65000:2"), c("64999:9")],
    ));
    let mut pol = Policy::new("t", Verdict::Accept);
    pol.push(
        Statement::new("all", Verdict::Accept)
            .then(Modify::SetMed(7))
            .then(Modify::SetLocalPref(250))
            .then(Modify::Communities(CommunityEdit::Remove(vec!["65000:*"
                .parse()
                .unwrap()])))
            .then(Modify::Communities(CommunityEdit::Add(vec![c(
                "no-export",
            )])))
            .then(Modify::Prepend {
                asn: None,
                count: 2,
            })
            .then(Modify::SetNextHop(NextHop::Address(IpAddr::V4(
                Ipv4Addr::new(192, 0, 2, 9),
            )))),
    );
    let session = Session {
        local_as: AS,
        ..Session::default()
    };
    let (d, _) = pol.evaluate(&route("192.0.2.0/24", &block), &session);
    let Decision::Modified(a) = d else {
        panic!("{d:?}")
    };
    let out = reflector_core::engine::decode_block(&a.block);
    let types: Vec<u8> = out.iter().map(|x| x.value.type_code()).collect();
    let mut sorted = types.clone();
    sorted.sort();
    assert_eq!(types, sorted, "canonical order");
    assert_eq!(
        attr(&out, type_code::AS_PATH),
        Some(&AttributeValue::AsPath(AsPath::sequence(&[AS, AS, 65001])))
    );
    assert_eq!(attr(&out, type_code::MED), Some(&AttributeValue::Med(7)));
    assert_eq!(local_pref(&out), Some(250));
    assert_eq!(communities(&out), vec![c("64999:9"), c("no-export")]);
    assert_eq!(
        attr(&out, type_code::NEXT_HOP),
        Some(&AttributeValue::NextHop(Ipv4Addr::new(192, 0, 2, 9)))
    );
    // Replacing with nothing removes the attribute.
    let mut pol = Policy::new("t", Verdict::Accept);
    pol.push(
        Statement::new("strip", Verdict::Accept)
            .then(Modify::Communities(CommunityEdit::Replace(vec![]))),
    );
    let (d, _) = pol.evaluate(&route("192.0.2.0/24", &block), &session);
    let Decision::Modified(a) = d else {
        panic!("{d:?}")
    };
    assert!(attr(
        &reflector_core::engine::decode_block(&a.block),
        type_code::COMMUNITIES
    )
    .is_none());
}

// ---------------------------------------------------------------------------
// The engine.

/// Reject 198.51.100.0/24 and longer; LOCAL_PREF 200 and 65000:200 on 65001-originated routes.
fn import_policy() -> Policy {
    let mut pol = Policy::new("from-clients", Verdict::Accept);
    pol.push(
        Statement::new("bogons", Verdict::Reject)
            .when(Condition::Prefix(vec![range("198.51.100.0/24+")])),
    );
    pol.push(
        Statement::new("prefer-65001", Verdict::Accept)
            .when(Condition::OriginAs(vec![(65001, 65001)]))
            .then(Modify::SetLocalPref(200))
            .then(Modify::Communities(CommunityEdit::Add(vec![c(
                "65000:200",
            )]))),
    );
    pol
}

#[test]
fn import_policy_rejects_rewrites_and_counts_on_real_updates() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    assert_eq!(
        e.set_import_policy(a, Some(import_policy())),
        Reimport::Refresh
    );
    accepted(e.handle_message(
        a,
        &announce(
            &["198.51.100.0/25", "192.0.2.0/24"],
            attrs(&[65001], &[c("65000:1")]),
        ),
    ));
    accepted(e.handle_message(a, &announce(&["203.0.113.0/24"], attrs(&[65002], &[]))));
    let mut view = View::new();
    apply(&mut view, &drain(&mut e, b, &Context::MODERN));
    assert_eq!(
        view.keys().copied().collect::<Vec<_>>(),
        vec![p("192.0.2.0/24"), p("203.0.113.0/24")]
    );
    let x = &view[&p("192.0.2.0/24")];
    assert_eq!(local_pref(x), Some(200));
    assert_eq!(communities(x), vec![c("65000:1"), c("65000:200")]);
    let y = &view[&p("203.0.113.0/24")];
    assert_eq!(local_pref(y), Some(100));
    assert!(communities(y).is_empty());
    let k = e.counters(a).unwrap();
    assert_eq!(k.policy_rejected_in, 1);
    assert_eq!(k.policy_modified_in, 1);
    // The Loc-RIB holds the rewritten set.
    assert_eq!(
        local_pref(&e.best(&p("192.0.2.0/24")).unwrap().attributes()),
        Some(200)
    );
}

#[test]
fn an_import_policy_change_asks_for_a_refresh_and_the_routes_sent_again_follow_it() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    accepted(e.handle_message(a, &announce(&["198.51.100.0/24"], attrs(&[65003], &[]))));
    assert_eq!(
        announced(&drain(&mut e, b, &Context::MODERN)),
        vec![p("198.51.100.0/24")]
    );
    // The new policy would reject it: until the peer sends it again, it stays.
    assert_eq!(
        e.set_import_policy(a, Some(import_policy())),
        Reimport::Refresh
    );
    assert!(drain(&mut e, b, &Context::MODERN).is_empty());
    assert!(e.request_refresh(a, AfiSafi::IPV4_UNICAST));
    let sent = transmit(&mut e, a);
    assert_eq!(sent.len(), 1);
    // RFC 2918: type 5, AFI 1, reserved 0, SAFI 1.
    assert_eq!(sent[0][18], 5);
    assert_eq!(&sent[0][19..23], &[0, 1, 0, 1]);
    // The peer answers with its routes; now they are rejected and withdrawn.
    let o = e.handle_message(a, &announce(&["198.51.100.0/24"], attrs(&[65003], &[])));
    assert!(matches!(o, Outcome::Accepted { withdrawn: 1, .. }), "{o:?}");
    assert_eq!(
        withdrawn(&drain(&mut e, b, &Context::MODERN)),
        vec![p("198.51.100.0/24")]
    );
    // A peer that is down has nothing to refresh.
    e.peer_down(a);
    assert_eq!(e.set_import_policy(a, None), Reimport::Nothing);
    assert!(!e.request_refresh(a, AfiSafi::IPV4_UNICAST));
}

/// Reject 192.0.2.0/24, MED 50 on everything else, 65000:99 on routes with 65000:1.
fn export_policy(name: &str) -> Policy {
    let mut pol = Policy::new(name, Verdict::Accept);
    pol.push(
        Statement::new("hide", Verdict::Reject)
            .when(Condition::Prefix(vec![range("192.0.2.0/24")])),
    );
    pol.push(Statement::new("med", Verdict::Next).then(Modify::SetMed(50)));
    pol.push(
        Statement::new("tag", Verdict::Accept)
            .when(Condition::Community(vec!["65000:1".parse().unwrap()]))
            .then(Modify::Communities(CommunityEdit::Add(vec![c("65000:99")]))),
    );
    pol
}

#[test]
fn export_policies_filter_and_rewrite_what_each_peer_gets() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    let cc = peer(&mut e, Role::Client, 3);
    let d = peer(&mut e, Role::Client, 4);
    e.set_export_policy(b, Some(export_policy("to-clients")));
    e.set_export_policy(cc, Some(export_policy("to-clients")));
    accepted(e.handle_message(a, &announce(&["192.0.2.0/24"], attrs(&[65001], &[]))));
    accepted(e.handle_message(
        a,
        &announce(&["203.0.113.0/24"], attrs(&[65001], &[c("65000:1")])),
    ));
    accepted(e.handle_message(a, &announce(&["198.51.100.0/24"], attrs(&[65002], &[]))));
    let mut vb = View::new();
    let mut vc = View::new();
    let mut vd = View::new();
    apply(&mut vb, &drain(&mut e, b, &Context::MODERN));
    apply(&mut vc, &drain(&mut e, cc, &Context::MODERN));
    apply(&mut vd, &drain(&mut e, d, &Context::MODERN));
    assert_eq!(vb, vc, "the same policy, the same routes");
    assert_eq!(
        vb.keys().copied().collect::<Vec<_>>(),
        vec![p("198.51.100.0/24"), p("203.0.113.0/24")]
    );
    assert_eq!(
        attr(&vb[&p("198.51.100.0/24")], type_code::MED),
        Some(&AttributeValue::Med(50))
    );
    assert_eq!(
        communities(&vb[&p("203.0.113.0/24")]),
        vec![c("65000:1"), c("65000:99")]
    );
    // The reflection rules still apply on top: ORIGINATOR_ID and CLUSTER_LIST added.
    assert!(attr(&vb[&p("203.0.113.0/24")], type_code::ORIGINATOR_ID).is_some());
    assert!(attr(&vb[&p("203.0.113.0/24")], type_code::CLUSTER_LIST).is_some());
    // The peer without a policy gets everything unchanged.
    assert_eq!(vd.len(), 3);
    assert!(attr(&vd[&p("198.51.100.0/24")], type_code::MED).is_none());
    assert_eq!(e.counters(b).unwrap().policy_rejected_out, 1);
    assert_eq!(e.counters(d).unwrap().policy_rejected_out, 0);
}

#[test]
fn an_export_policy_change_sends_the_peer_only_the_difference() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    e.set_export_policy(b, Some(Policy::accept_all()));
    accepted(e.handle_message(a, &announce(&["192.0.2.0/24"], attrs(&[65001], &[]))));
    accepted(e.handle_message(
        a,
        &announce(&["203.0.113.0/24"], attrs(&[65001], &[c("65000:1")])),
    ));
    let mut v = View::new();
    apply(&mut v, &drain(&mut e, b, &Context::MODERN));
    assert_eq!(v.len(), 2);
    // Hide 192.0.2.0/24 and leave 203.0.113.0/24 as it was: one withdrawal, nothing else.
    let mut pol = Policy::new("hide", Verdict::Accept);
    pol.push(
        Statement::new("hide", Verdict::Reject)
            .when(Condition::Prefix(vec![range("192.0.2.0/24")])),
    );
    e.set_export_policy(b, Some(pol));
    let out = drain(&mut e, b, &Context::MODERN);
    assert_eq!(withdrawn(&out), vec![p("192.0.2.0/24")]);
    assert!(announced(&out).is_empty(), "{out:?}");
    apply(&mut v, &out);
    // Tag one route: it is announced again with the new attributes.
    e.set_export_policy(b, Some(export_policy("tag")));
    let out = drain(&mut e, b, &Context::MODERN);
    assert!(withdrawn(&out).is_empty());
    assert_eq!(announced(&out), vec![p("203.0.113.0/24")]);
    apply(&mut v, &out);
    assert_eq!(
        communities(&v[&p("203.0.113.0/24")]),
        vec![c("65000:1"), c("65000:99")]
    );
    // No policy: everything back as it is in the Loc-RIB.
    e.set_export_policy(b, None);
    let out = drain(&mut e, b, &Context::MODERN);
    let mut got = announced(&out);
    got.sort();
    assert_eq!(got, vec![p("192.0.2.0/24"), p("203.0.113.0/24")]);
    apply(&mut v, &out);
    assert_eq!(communities(&v[&p("203.0.113.0/24")]), vec![c("65000:1")]);
    // The session stayed up throughout.
    assert!(e.is_up(b));
}

#[test]
fn rfc8212_ebgp_peers_exchange_nothing_until_a_policy_allows_it() {
    let mut cfg = EngineConfig::new(AS, rid(254));
    cfg.record_events = true;
    assert!(cfg.ebgp_requires_policy, "on by default");
    let mut e = Engine::new(cfg);
    let a = peer(&mut e, Role::Client, 1);
    let x = peer(&mut e, Role::Ebgp, 50);
    let y = peer(&mut e, Role::Ebgp, 51);
    accepted(e.handle_message(a, &announce(&["192.0.2.0/24"], attrs(&[], &[]))));
    let o = e.handle_message(x, &announce(&["203.0.113.0/24"], attrs(&[65050], &[])));
    assert!(matches!(o, Outcome::Accepted { announced: 0, .. }), "{o:?}");
    assert!(e.best(&p("203.0.113.0/24")).is_none());
    assert_eq!(e.counters(x).unwrap().policy_rejected_in, 1);
    assert!(announced(&drain(&mut e, x, &Context::MODERN)).is_empty());
    assert!(announced(&drain(&mut e, y, &Context::MODERN)).is_empty());
    // An explicit policy, even accept-all, allows it: in and out.
    let _ = e.set_import_policy(x, Some(Policy::accept_all()));
    e.set_export_policy(y, Some(Policy::accept_all()));
    assert_eq!(
        announced(&drain(&mut e, y, &Context::MODERN)),
        vec![p("192.0.2.0/24")]
    );
    accepted(e.handle_message(x, &announce(&["203.0.113.0/24"], attrs(&[65050], &[]))));
    assert!(e.best(&p("203.0.113.0/24")).is_some());
    let got = announced(&drain(&mut e, y, &Context::MODERN));
    assert_eq!(got, vec![p("203.0.113.0/24")]);
    assert!(announced(&drain(&mut e, a, &Context::MODERN)).contains(&p("203.0.113.0/24")));
    // The opt-out: no policy needed.
    let mut e = engine();
    assert!(!e.config().ebgp_requires_policy);
    let a = peer(&mut e, Role::Client, 1);
    let x = peer(&mut e, Role::Ebgp, 50);
    accepted(e.handle_message(a, &announce(&["192.0.2.0/24"], attrs(&[], &[]))));
    assert_eq!(
        announced(&drain(&mut e, x, &Context::MODERN)),
        vec![p("192.0.2.0/24")]
    );
}

#[test]
fn hooks_accept_reject_and_rewrite_per_route_after_the_policy() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let import: Hook = Arc::new(move |dir: Direction, peer: PeerId, r: &Route<'_>| {
        log.lock().unwrap().push((dir, peer, r.prefix.unwrap()));
        if r.prefix == Some(p("192.0.2.0/24")) {
            Decision::Reject
        } else {
            Decision::Accept
        }
    });
    let _ = e.set_import_hook(a, Some(import));
    let export: Hook = Arc::new(|_, _, r: &Route<'_>| {
        let mut pol = Policy::new("hook", Verdict::Accept);
        pol.push(Statement::new("lp", Verdict::Accept).then(Modify::SetLocalPref(7)));
        pol.evaluate(r, &Session::default()).0
    });
    e.set_export_hook(b, Some(export));
    accepted(e.handle_message(
        a,
        &announce(&["192.0.2.0/24", "203.0.113.0/24"], attrs(&[], &[])),
    ));
    let mut v = View::new();
    apply(&mut v, &drain(&mut e, b, &Context::MODERN));
    assert_eq!(
        v.keys().copied().collect::<Vec<_>>(),
        vec![p("203.0.113.0/24")]
    );
    assert_eq!(local_pref(&v[&p("203.0.113.0/24")]), Some(7));
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            (Direction::Import, a, p("192.0.2.0/24")),
            (Direction::Import, a, p("203.0.113.0/24"))
        ]
    );
    // A policy set afterwards keeps the hook; the hook runs after it.
    let mut pol = Policy::new("none", Verdict::Accept);
    pol.push(
        Statement::new("drop-203", Verdict::Reject)
            .when(Condition::Prefix(vec![range("203.0.113.0/24")])),
    );
    e.set_export_policy(b, Some(pol));
    assert_eq!(
        withdrawn(&drain(&mut e, b, &Context::MODERN)),
        vec![p("203.0.113.0/24")]
    );
    assert!(e.policies(b).1.is_some());
    assert!(e.policies(a).0.is_none(), "a lone hook is no policy");
    // An import policy set after a's hook keeps it too: both hooks still run.
    let _ = e.set_import_policy(a, Some(Policy::new("all", Verdict::Accept)));
    accepted(e.handle_message(
        a,
        &announce(&["192.0.2.0/24", "198.51.100.0/24"], attrs(&[], &[])),
    ));
    let mut w = View::new();
    apply(&mut w, &drain(&mut e, b, &Context::MODERN));
    assert_eq!(
        w.keys().copied().collect::<Vec<_>>(),
        vec![p("198.51.100.0/24")],
        "the import hook still rejects 192.0.2.0/24"
    );
    assert_eq!(
        local_pref(&w[&p("198.51.100.0/24")]),
        Some(7),
        "the export hook still runs after the export policy"
    );
}

// ---------------------------------------------------------------------------
// Properties.

/// A small random policy: conditions on prefixes, communities and the origin
/// AS; actions on LOCAL_PREF, MED and communities; any verdicts.
fn arb_statement() -> impl Strategy<Value = Statement> {
    let cond = prop_oneof![
        prop::sample::select(vec![
            "10.0.0.0/8+",
            "10.0.0.0/16{16,24}",
            "10.1.0.0/16+",
            "10.0.0.0/24",
        ])
        .prop_map(|r| Condition::Prefix(vec![range(r)])),
        (0u16..3).prop_map(|v| Condition::Community(vec![CommunityMatch {
            asn: Some(65000),
            value: Some(v),
        }])),
        (65001u32..65004).prop_map(|a| Condition::OriginAs(vec![(a, a)])),
        (65001u32..65004)
            .prop_map(|a| Condition::Not(Box::new(Condition::AsPathContains(vec![a])))),
    ];
    let action = prop_oneof![
        (0u32..3).prop_map(|v| Modify::SetLocalPref(100 + v)),
        (0u32..3).prop_map(Modify::SetMed),
        Just(Modify::RemoveMed),
        (0u32..3).prop_map(|v| Modify::Communities(CommunityEdit::Add(vec![65000 << 16 | v]))),
        (0u16..3).prop_map(
            |v| Modify::Communities(CommunityEdit::Remove(vec![CommunityMatch {
                asn: None,
                value: Some(v),
            }]))
        ),
    ];
    let verdict = prop::sample::select(vec![Verdict::Accept, Verdict::Reject, Verdict::Next]);
    (
        prop::collection::vec(cond, 0..3),
        prop::collection::vec(action, 0..3),
        verdict,
    )
        .prop_map(|(conditions, actions, verdict)| Statement {
            name: String::new(),
            conditions,
            actions,
            verdict,
        })
}

fn arb_policy() -> impl Strategy<Value = Policy> {
    (
        prop::collection::vec(arb_statement(), 0..5),
        prop::sample::select(vec![Verdict::Accept, Verdict::Reject, Verdict::Next]),
    )
        .prop_map(|(statements, default)| Policy {
            name: "p".into(),
            statements,
            default,
        })
}

/// The RFC-free reading of a policy list: statements one at a time, each
/// evaluated alone; a statement whose conditions hold applies its actions
/// and ends the evaluation unless its verdict is `next`; then the last
/// policy's default.
fn step_by_step(policies: &[&Policy], r: &Route<'_>) -> Decision {
    let session = Session::default();
    let mut block = r.block.to_vec();
    let mut nh = r.mp_next_hop.map(<[u8]>::to_vec);
    for pol in policies {
        for s in &pol.statements {
            let alone = Policy {
                name: String::new(),
                statements: vec![Statement {
                    verdict: Verdict::Next,
                    ..s.clone()
                }],
                default: Verdict::Accept,
            };
            let now = Route {
                block: &block,
                mp_next_hop: nh.as_deref(),
                ..*r
            };
            let (d, trace) = alone.evaluate(&now, &session);
            if trace.0 & 1 == 0 {
                continue;
            }
            if let Decision::Modified(a) = d {
                block = a.block;
                nh = a.mp_next_hop;
            }
            match s.verdict {
                Verdict::Reject => return Decision::Reject,
                Verdict::Accept => return settle(r, block, nh),
                Verdict::Next => {}
            }
        }
    }
    match policies.last().map(|p| p.default) {
        Some(Verdict::Reject) => Decision::Reject,
        _ => settle(r, block, nh),
    }
}

fn settle(r: &Route<'_>, block: Vec<u8>, nh: Option<Vec<u8>>) -> Decision {
    if block == r.block && nh.as_deref() == r.mp_next_hop {
        Decision::Accept
    } else {
        Decision::Modified(reflector_core::policy::Attributes {
            block,
            mp_next_hop: nh,
        })
    }
}

fn arb_route() -> impl Strategy<Value = (String, u32, Vec<u16>, Option<u32>)> {
    (
        prop::sample::select(vec![
            "10.0.0.0/24",
            "10.1.2.0/24",
            "10.1.0.0/16",
            "10.0.0.0/8",
            "192.0.2.0/24",
        ])
        .prop_map(String::from),
        65001u32..65004,
        prop::collection::vec(0u16..3, 0..3),
        prop::option::of(0u32..3),
    )
}

fn route_block(origin: u32, comms: &[u16], med: Option<u32>) -> Vec<u8> {
    let mut list = attrs(
        &[65010, origin],
        &comms
            .iter()
            .map(|&v| 65000 << 16 | u32::from(v))
            .collect::<Vec<_>>(),
    );
    if let Some(m) = med {
        list.push(AttributeRepr::new(AttributeValue::Med(m)));
    }
    canonical(&list)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// `a.then(b)` decides as reading a's statements, then b's, one at a time.
    #[test]
    fn policies_compose_as_their_statements_read_one_at_a_time(
        a in arb_policy(),
        b in arb_policy(),
        (prefix, origin, comms, med) in arb_route(),
    ) {
        let block = route_block(origin, &comms, med);
        let r = route(&prefix, &block);
        let both = a.clone().then(&b);
        prop_assert_eq!(both.evaluate(&r, &Session::default()).0, step_by_step(&[&a, &b], &r));
        prop_assert_eq!(a.evaluate(&r, &Session::default()).0, step_by_step(&[&a], &r));
    }
}

/// UPDATEs from three clients over a small pool of prefixes and attributes.
/// One UPDATE of a test run: sender (1-3), prefixes, origin AS, communities, withdraw.
type Step = (u8, Vec<&'static str>, u32, Vec<u16>, bool);

fn arb_updates() -> impl Strategy<Value = Vec<Step>> {
    let prefixes = prop::sample::subsequence(
        vec![
            "10.0.0.0/24",
            "10.1.2.0/24",
            "10.1.0.0/16",
            "10.0.0.0/8",
            "192.0.2.0/24",
            "10.1.3.0/24",
        ],
        1..5,
    );
    prop::collection::vec(
        (
            1u8..4,
            prefixes,
            65001u32..65004,
            prop::collection::vec(0u16..3, 0..3),
            any::<bool>(),
        ),
        1..12,
    )
}

fn run(updates: &[Step], setup: impl Fn(&mut Engine, &[PeerId]), split: bool) -> Vec<View> {
    run_checked(updates, setup, split, None)
}

/// The attributes a policy reads and writes here.
fn policy_fields(list: &[AttributeRepr]) -> (Option<u32>, Option<&AttributeValue>, Vec<u32>) {
    (
        local_pref(list),
        attr(list, type_code::MED),
        communities(list),
    )
}

/// [`run`], checking at the end each peer's view against `export` evaluated
/// directly on the Loc-RIB's best paths (the oracle for the export pass).
fn run_checked(
    updates: &[Step],
    setup: impl Fn(&mut Engine, &[PeerId]),
    split: bool,
    export: Option<&Policy>,
) -> Vec<View> {
    let mut e = engine();
    let peers: Vec<PeerId> = (1..=4).map(|n| peer(&mut e, Role::Client, n)).collect();
    setup(&mut e, &peers);
    let mut views = vec![View::new(); peers.len()];
    for (from, prefixes, origin, comms, withdraw) in updates {
        let src = peers[usize::from(*from) - 1];
        let msgs: Vec<Vec<u8>> = if *withdraw {
            vec![UpdateRepr {
                withdrawn: prefixes
                    .iter()
                    .map(|x| reflector_core::wire::Nlri::new(p(x)))
                    .collect(),
                attributes: vec![],
                nlri: vec![],
            }
            .to_vec(&Context::MODERN)
            .unwrap()]
        } else {
            let list = attrs(
                &[65010, *origin],
                &comms
                    .iter()
                    .map(|&v| 65000 << 16 | u32::from(v))
                    .collect::<Vec<_>>(),
            );
            if split {
                prefixes
                    .iter()
                    .map(|x| announce(&[x], list.clone()))
                    .collect()
            } else {
                vec![announce(prefixes, list)]
            }
        };
        for m in msgs {
            accepted(e.handle_message(src, &m));
        }
        for (i, &t) in peers.iter().enumerate() {
            apply(&mut views[i], &drain(&mut e, t, &Context::MODERN));
        }
    }
    if let Some(pol) = export {
        for (i, &t) in peers.iter().enumerate() {
            let mut want: BTreeMap<Prefix, Vec<AttributeRepr>> = BTreeMap::new();
            for (prefix, best) in e.loc_rib() {
                if best.peer == t {
                    continue;
                }
                let r = Route::unicast(
                    prefix,
                    Some(IpAddr::V4(rid(best.peer.0 as u8 + 1))),
                    best.set.block(),
                    best.set.mp_next_hop(),
                );
                match pol.evaluate(&r, &Session::default()).0 {
                    Decision::Reject => {}
                    Decision::Accept => {
                        want.insert(prefix, best.attributes());
                    }
                    Decision::Modified(a) => {
                        want.insert(prefix, reflector_core::engine::decode_block(&a.block));
                    }
                }
            }
            let got = &views[i];
            assert_eq!(
                got.keys().collect::<Vec<_>>(),
                want.keys().collect::<Vec<_>>(),
                "peer {t:?}"
            );
            for (k, w) in &want {
                assert_eq!(policy_fields(&got[k]), policy_fields(w), "peer {t:?} {k}");
            }
        }
    }
    views
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Accept-all import and export policies on every peer change nothing on the wire.
    #[test]
    fn accept_all_policies_change_nothing(updates in arb_updates()) {
        let plain = run(&updates, |_, _| {}, false);
        let with = run(&updates, |e, peers| {
            for &x in peers {
                let _ = e.set_import_policy(x, Some(Policy::accept_all()));
                e.set_export_policy(x, Some(Policy::accept_all()));
            }
        }, false);
        prop_assert_eq!(plain, with);
    }

    /// The import results kept per trace within an UPDATE equal evaluating
    /// every prefix in an UPDATE of its own.
    #[test]
    fn import_policy_per_update_equals_per_prefix(updates in arb_updates(), pol in arb_policy()) {
        let setup = |e: &mut Engine, peers: &[PeerId]| {
            for &x in peers {
                let _ = e.set_import_policy(x, Some(pol.clone()));
            }
        };
        prop_assert_eq!(run(&updates, setup, false), run(&updates, setup, true));
    }

    /// Peers with one export policy share an export pass; it gives each what
    /// a pass of its own gives (policies with other names are other installations).
    #[test]
    fn a_shared_export_pass_equals_own_passes(updates in arb_updates(), pol in arb_policy()) {
        let shared = run_checked(&updates, |e, peers| {
            for &x in peers {
                e.set_export_policy(x, Some(pol.clone()));
            }
        }, false, Some(&pol));
        let own = run(&updates, |e, peers| {
            for (i, &x) in peers.iter().enumerate() {
                let mut q = pol.clone();
                q.name = format!("copy-{i}");
                e.set_export_policy(x, Some(q));
            }
        }, false);
        prop_assert_eq!(shared, own);
    }
}

#[test]
fn rfc8212_turned_on_and_off_on_live_sessions_sends_the_difference() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let x = peer(&mut e, Role::Ebgp, 50);
    let y = peer(&mut e, Role::Ebgp, 51);
    e.set_export_policy(y, Some(Policy::accept_all()));
    accepted(e.handle_message(a, &announce(&["192.0.2.0/24"], attrs(&[], &[]))));
    assert_eq!(
        announced(&drain(&mut e, x, &Context::MODERN)),
        vec![p("192.0.2.0/24")]
    );
    assert_eq!(
        announced(&drain(&mut e, y, &Context::MODERN)),
        vec![p("192.0.2.0/24")]
    );
    // On: x (no export policy) loses the route; y (a policy) keeps it; both
    // have no import policy, so both are named for a refresh.
    assert_eq!(e.set_ebgp_requires_policy(true), vec![x, y]);
    assert_eq!(
        withdrawn(&drain(&mut e, x, &Context::MODERN)),
        vec![p("192.0.2.0/24")]
    );
    assert!(drain(&mut e, y, &Context::MODERN).is_empty());
    let o = e.handle_message(x, &announce(&["203.0.113.0/24"], attrs(&[65050], &[])));
    assert!(matches!(o, Outcome::Accepted { announced: 0, .. }), "{o:?}");
    // Off again: x gets the route back.
    assert_eq!(e.set_ebgp_requires_policy(false), vec![x, y]);
    assert_eq!(
        announced(&drain(&mut e, x, &Context::MODERN)),
        vec![p("192.0.2.0/24")]
    );
    assert!(
        e.set_ebgp_requires_policy(false).is_empty(),
        "no change, nothing to do"
    );
}

#[test]
fn a_hook_that_rewrites_counts_as_modified() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let hook: Hook = Arc::new(|_, _, r: &Route<'_>| {
        let mut pol = Policy::new("hook", Verdict::Accept);
        pol.push(Statement::new("med", Verdict::Accept).then(Modify::SetMed(9)));
        pol.evaluate(r, &Session::default()).0
    });
    let _ = e.set_import_hook(a, Some(hook));
    accepted(e.handle_message(
        a,
        &announce(&["192.0.2.0/24", "203.0.113.0/24"], attrs(&[], &[])),
    ));
    assert_eq!(e.counters(a).unwrap().policy_modified_in, 2);
}

/// `Condition::LocalPref`: LOCAL_PREF present and in a range; a route without
/// LOCAL_PREF (as from eBGP, RFC 4271 §5.1.5) matches no range.
#[test]
fn local_pref_condition_matches_present_values_in_range() {
    let block = canonical(&attrs(&[65001], &[]));
    let r = route("192.0.2.0/24", &block);
    assert!(Condition::LocalPref(vec![(100, 100)]).holds(&r));
    assert!(Condition::LocalPref(vec![(50, 99), (100, 200)]).holds(&r));
    assert!(!Condition::LocalPref(vec![(101, u32::MAX)]).holds(&r));
    assert!(!Condition::LocalPref(vec![(0, 99)]).holds(&r));
    let mut list = attrs(&[65001], &[]);
    list.retain(|a| !matches!(a.value, AttributeValue::LocalPref(_)));
    let none = canonical(&list);
    let r = route("192.0.2.0/24", &none);
    assert!(!Condition::LocalPref(vec![(0, u32::MAX)]).holds(&r));
    assert!(Condition::Not(Box::new(Condition::LocalPref(vec![(0, u32::MAX)]))).holds(&r));
}

/// An installation is shared only between peers with the same session: two
/// clients with the same next-hop-self policy and different local addresses
/// each get their own address, also when one export pass would serve both.
#[test]
fn next_hop_self_is_each_peers_own_address_under_one_policy() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let mut ids = Vec::new();
    for (n, local) in [(2u8, 254u8), (3, 253), (4, 254)] {
        let mut cfg = PeerConfig::new(Role::Client, IpAddr::V4(rid(n)), AS);
        cfg.local_v4 = Some(Ipv4Addr::new(192, 0, 2, local));
        let id = e.add_peer(cfg);
        e.peer_up(id, Negotiated::unicast(rid(n)));
        drain(&mut e, id, &Context::MODERN);
        let mut pol = Policy::new("nhs", Verdict::Accept);
        pol.push(Statement::new("self", Verdict::Accept).then(Modify::SetNextHop(NextHop::Local)));
        e.set_export_policy(id, Some(pol));
        ids.push((id, local));
    }
    accepted(e.handle_message(a, &announce(&["198.51.100.0/24"], attrs(&[], &[]))));
    for (id, local) in ids {
        let u = drain(&mut e, id, &Context::MODERN);
        assert_eq!(announced(&u), [p("198.51.100.0/24")]);
        assert_eq!(
            attr(&u[0].attributes, type_code::NEXT_HOP),
            Some(&AttributeValue::NextHop(Ipv4Addr::new(192, 0, 2, local))),
            "peer {id:?}"
        );
    }
}

/// A VPN-IPv4 NLRI: label 16, RD 65000:1, 10.1.0.0/16.
const VPN4_NLRI: &[u8] = &[
    24 + 64 + 16,
    0,
    1,
    0x01,
    0,
    0,
    0xfd,
    0xe8,
    0,
    0,
    0,
    1,
    10,
    1,
];

/// A flow rule: destination 10.0.0.0/24, protocol 6.
const FLOW4_NLRI: &[u8] = &[8, 1, 24, 10, 0, 0, 3, 0x81, 6];

/// Conditions on keyed routes: the family is the route's own; the prefix is
/// the one inside a VPN or labeled route; a flow rule has none, so no prefix
/// range (not even 0.0.0.0/0 and longer) matches it.
#[test]
fn family_and_prefix_conditions_on_routes_of_every_family() {
    let block = canonical(&attrs(&[65001], &[]));
    let vpn = VPN4_NLRI;
    let r = Route::keyed(AfiSafi::VPNV4, vpn, None, &block, None);
    assert_eq!(r.prefix, Some(p("10.1.0.0/16")));
    assert!(Condition::Family(vec![AfiSafi::VPNV4]).holds(&r));
    assert!(!Condition::Family(vec![AfiSafi::IPV4_UNICAST]).holds(&r));
    assert!(Condition::Prefix(vec![range("10.0.0.0/8+")]).holds(&r));
    assert!(!Condition::Prefix(vec![range("10.2.0.0/16")]).holds(&r));
    let flow = FLOW4_NLRI;
    let r = Route::keyed(AfiSafi::IPV4_FLOWSPEC, flow, None, &block, None);
    assert_eq!(r.prefix, None);
    assert!(!Condition::Prefix(vec![range("0.0.0.0/0+")]).holds(&r));
    assert!(Condition::Not(Box::new(Condition::Prefix(vec![range("0.0.0.0/0+")]))).holds(&r));
    assert!(Condition::Family(vec![AfiSafi::IPV4_FLOWSPEC]).holds(&r));
    // EVPN: an IP Prefix route (type 5) has its prefix; a MAC/IP route none.
    let mut t5 = vec![5u8, 34, 0, 0, 0xfd, 0xe8, 0, 0, 0, 10];
    t5.extend_from_slice(&[0; 10]); // ESI
    t5.extend_from_slice(&[0; 4]); // Ethernet tag
    t5.extend_from_slice(&[24, 10, 71, 0, 0]); // 10.71.0.0/24
    t5.extend_from_slice(&[0; 4]); // gateway
    t5.extend_from_slice(&[0, 0x12, 0xc1]); // label 300
    let r = Route::keyed(AfiSafi::EVPN, &t5, None, &block, None);
    assert_eq!(r.prefix, Some(p("10.71.0.0/24")));
    assert!(Condition::Prefix(vec![range("10.71.0.0/16+")]).holds(&r));
    let mut t2 = vec![2u8, 33, 0, 0, 0xfd, 0xe8, 0, 0, 0, 10];
    t2.extend_from_slice(&[0; 14]); // ESI, Ethernet tag
    t2.extend_from_slice(&[48, 2, 0, 0, 0, 0, 1, 0]); // MAC, no IP
    t2.extend_from_slice(&[0, 0x12, 0xc1]);
    let r = Route::keyed(AfiSafi::EVPN, &t2, None, &block, None);
    assert_eq!(r.prefix, None);
    // Multicast: a plain prefix.
    let r = Route::keyed(
        AfiSafi::IPV6_MULTICAST,
        &[32, 0x20, 0x01, 0x0d, 0xb8],
        None,
        &block,
        None,
    );
    assert_eq!(r.prefix, Some(p("2001:db8::/32")));
    // Family names and aliases, every known family.
    for (name, f) in [
        ("ipv4", AfiSafi::IPV4_UNICAST),
        ("ipv6-unicast", AfiSafi::IPV6_UNICAST),
        ("vpnv4", AfiSafi::VPNV4),
        ("ipv6-vpn", AfiSafi::VPNV6),
        ("evpn", AfiSafi::EVPN),
        ("l2vpn-evpn", AfiSafi::EVPN),
        ("flow6", AfiSafi::IPV6_FLOWSPEC),
        ("rtc", AfiSafi::RT_CONSTRAINT),
        ("ipv4-multicast", AfiSafi::IPV4_MULTICAST),
        ("ipv6-labeled-unicast", AfiSafi::IPV6_LABELED),
    ] {
        assert_eq!(parse_family(name), Ok(f), "{name}");
    }
    assert!(parse_family("vpnv5").is_err());
    // The signature reads the family too.
    let mut pol = Policy::new("f", Verdict::Accept);
    pol.push(Statement::new("v", Verdict::Reject).when(Condition::Family(vec![AfiSafi::VPNV4])));
    assert_ne!(
        pol.prefix_signature(AfiSafi::VPNV4, Some(&p("10.1.0.0/16"))),
        pol.prefix_signature(AfiSafi::IPV4_UNICAST, Some(&p("10.1.0.0/16")))
    );
}

/// Setting the next hop follows the family: NEXT_HOP for IPv4 unicast, the
/// MP next hop with an RD of zeros for VPN (RFC 4364 §4.3.2, RFC 4659
/// §3.2.1), IPv4-mapped on an IPv6 family, and nothing for a flow rule (RFC 8955 §4).
#[test]
fn set_next_hop_writes_each_familys_next_hop_form() {
    let block = canonical(&attrs(&[65001], &[]));
    let session = Session {
        local_as: AS,
        local_v4: Some(Ipv4Addr::new(192, 0, 2, 254)),
        local_v6: Some("2001:db8::fe".parse().unwrap()),
    };
    let set = |nh: NextHop| {
        let mut pol = Policy::new("nh", Verdict::Accept);
        pol.push(Statement::new("nh", Verdict::Accept).then(Modify::SetNextHop(nh)));
        pol
    };
    let nh_of = |r: &Route<'_>, nh: NextHop| match set(nh).evaluate(r, &session).0 {
        Decision::Modified(a) => a.mp_next_hop,
        Decision::Accept => Some(b"unchanged".to_vec()),
        Decision::Reject => panic!("rejected"),
    };
    let vpn = VPN4_NLRI;
    let old_nh = [0u8, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1];
    let r = Route::keyed(AfiSafi::VPNV4, vpn, None, &block, Some(&old_nh));
    let mut want = vec![0u8; 8];
    want.extend_from_slice(&[192, 0, 2, 254]);
    assert_eq!(nh_of(&r, NextHop::Local), Some(want));
    let mut want6 = vec![0u8; 8];
    want6.extend_from_slice(
        &"2001:db8::1"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    assert_eq!(
        nh_of(&r, NextHop::Address("2001:db8::1".parse().unwrap())),
        Some(want6),
        "RFC 8950 form on VPN-IPv4"
    );
    let r6 = Route::keyed(
        AfiSafi::IPV6_LABELED,
        &[24 + 32, 0, 1, 0x01, 0x20, 0x01, 0x0d, 0xb8],
        None,
        &block,
        Some(&[0; 16]),
    );
    assert_eq!(
        nh_of(
            &r6,
            NextHop::Address(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9)))
        ),
        Some(
            Ipv4Addr::new(192, 0, 2, 9)
                .to_ipv6_mapped()
                .octets()
                .to_vec()
        )
    );
    assert_eq!(
        nh_of(&r6, NextHop::Local),
        Some(
            "2001:db8::fe"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
                .octets()
                .to_vec()
        )
    );
    let flow = FLOW4_NLRI;
    let rf = Route::keyed(AfiSafi::IPV4_FLOWSPEC, flow, None, &block, Some(&[]));
    assert_eq!(nh_of(&rf, NextHop::Local), Some(b"unchanged".to_vec()));
}

/// A policy with more conditions on the prefix than a signature holds (64)
/// is cached per trace instead: two routes of one UPDATE that different
/// statements match get different answers, and every attribute set made for
/// them goes once their routes do.
#[test]
fn past_64_prefix_conditions_answers_are_per_trace_and_sets_are_freed() {
    let mut e = engine();
    let a = peer(&mut e, Role::Client, 1);
    let b = peer(&mut e, Role::Client, 2);
    let mut pol = Policy::new("long", Verdict::Accept);
    pol.push(
        Statement::new("first", Verdict::Accept)
            .when(Condition::Prefix(vec![range("10.0.0.0/24")]))
            .then(Modify::SetLocalPref(300)),
    );
    for k in 0..70u8 {
        pol.push(
            Statement::new("bogus", Verdict::Reject)
                .when(Condition::Prefix(vec![range(&format!("192.168.{k}.0/24"))])),
        );
    }
    assert_eq!(
        pol.prefix_signature(AfiSafi::IPV4_UNICAST, Some(&p("10.0.0.0/24"))),
        None
    );
    let _ = e.set_import_policy(a, Some(pol));
    accepted(e.handle_message(
        a,
        &announce(
            &[
                "10.0.0.0/24",
                "10.0.1.0/24",
                "10.0.2.0/24",
                "192.168.3.0/24",
            ],
            attrs(&[], &[]),
        ),
    ));
    let mut v = View::new();
    apply(&mut v, &drain(&mut e, b, &Context::MODERN));
    let lps: Vec<(String, Option<u32>)> = v
        .iter()
        .map(|(k, a)| (k.to_string(), local_pref(a)))
        .collect();
    assert_eq!(
        lps,
        [
            ("10.0.0.0/24".to_string(), Some(300)),
            ("10.0.1.0/24".to_string(), Some(100)),
            ("10.0.2.0/24".to_string(), Some(100)),
        ]
    );
    assert_eq!(e.counters(a).unwrap().policy_rejected_in, 1);
    assert_eq!(e.memory().attr_sets, 2);
    accepted(e.handle_message(
        a,
        &withdraw_v4(&["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]),
    ));
    e.flush();
    drain(&mut e, b, &Context::MODERN);
    assert_eq!(e.memory().attr_sets, 0, "no set outlives its routes");
}

fn withdraw_v4(prefixes: &[&str]) -> Vec<u8> {
    UpdateRepr {
        withdrawn: prefixes.iter().map(|s| Nlri::new(p(s))).collect(),
        attributes: vec![],
        nlri: vec![],
    }
    .to_vec(&Context::MODERN)
    .unwrap()
}
