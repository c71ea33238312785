//! Arbitrary text for every policy term (the daemon's configuration and the
//! C ABI read these), and a policy built from what parsed evaluated on the
//! remaining bytes as an attribute block: parsing and evaluation never
//! panic, and every term that parses prints back to a form that parses to
//! the same term. The block's bytes are also read as one NLRI of each
//! family other than unicast (`nlri_prefix`) and evaluated as such a route.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};

use libfuzzer_sys::fuzz_target;
use reflector_core::policy::{
    parse_asn_range, parse_community, parse_ext_community, parse_family, parse_large_community,
    AsPathPattern, CommunityEdit, CommunityMatch, Condition, ExtCommunityMatch,
    LargeCommunityMatch, Modify, NextHop, Policy, PrefixRange, Route, Session, Statement, Verdict,
};
use reflector_core::wire::family::{nlri_prefix, KNOWN};
use reflector_core::wire::Prefix;

fuzz_target!(|data: &[u8]| {
    let cut = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (text, block) = data.split_at(cut);
    let block = block.get(1..).unwrap_or(&[]);
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let mut st = Statement::new("fuzz", Verdict::Next);
    if let Ok(r) = text.parse::<PrefixRange>() {
        assert_eq!(r.to_string().parse::<PrefixRange>(), Ok(r));
        st = st
            .when(Condition::Prefix(vec![r]))
            .when(Condition::NextHop(vec![r]));
    }
    if let Ok(p) = text.parse::<AsPathPattern>() {
        assert_eq!(p.to_string().parse::<AsPathPattern>().as_ref(), Ok(&p));
        st = st.when(Condition::AsPath(p));
    }
    if let Ok(m) = text.parse::<CommunityMatch>() {
        st = st.when(Condition::Community(vec![m]));
        st = st.then(Modify::Communities(CommunityEdit::Remove(vec![m])));
    }
    if let Ok(m) = text.parse::<LargeCommunityMatch>() {
        st = st.when(Condition::LargeCommunity(vec![m]));
    }
    if let Ok(m) = text.parse::<ExtCommunityMatch>() {
        st = st.when(Condition::ExtCommunity(vec![m]));
    }
    if let Ok(c) = parse_community(text) {
        st = st.then(Modify::Communities(CommunityEdit::Add(vec![c])));
    }
    if let Ok(c) = parse_large_community(text) {
        st = st.then(Modify::LargeCommunities(CommunityEdit::Replace(vec![c])));
    }
    if let Ok(c) = parse_ext_community(text) {
        st = st.then(Modify::ExtCommunities(CommunityEdit::Add(vec![c])));
    }
    if let Ok((lo, hi)) = parse_asn_range(text) {
        st = st
            .when(Condition::OriginAs(vec![(lo, hi)]))
            .then(Modify::Prepend {
                asn: Some(lo),
                count: (hi % 300) as u8,
            })
            .then(Modify::SetMed(hi));
    }
    st = st
        .then(Modify::SetNextHop(NextHop::Local))
        .then(Modify::SetLocalPref(1));
    let mut pol = Policy::new("fuzz", Verdict::Accept);
    let mut any = Statement::new("any", Verdict::Accept);
    any.actions = st.actions.clone();
    pol.push(st);
    pol.push(any);
    let session = Session {
        local_as: 65000,
        local_v4: Some(Ipv4Addr::new(192, 0, 2, 1)),
        local_v6: None,
    };
    let neighbor = Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
    for prefix in ["192.0.2.0/24", "2001:db8::/32"] {
        let prefix: Prefix = prefix.parse().unwrap();
        let r = Route::unicast(prefix, neighbor, block, block.get(..16));
        let _ = pol.evaluate(&r, &session);
    }
    // The same bytes as one NLRI of every other family (its prefix read
    // from them), under the family's own condition.
    if let Ok(f) = parse_family(text) {
        pol.push(Statement::new("family", Verdict::Reject).when(Condition::Family(vec![f])));
    }
    for f in KNOWN.into_iter().skip(2) {
        let r = Route::keyed(f, block, neighbor, block, block.get(..12));
        if let Some(p) = r.prefix {
            assert_eq!(r.prefix, nlri_prefix(f, block));
            assert!(PrefixRange::exact(p).matches(&p));
        }
        let _ = pol.evaluate(&r, &session);
    }
});
