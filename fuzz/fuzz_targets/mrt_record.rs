//! Arbitrary bytes as an MRT stream: every record is read, every BGP message in
//! it decoded (with the record's context and with ADD-PATH), every RIB entry's
//! attribute block walked. Nothing may panic or loop.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reflector_core::mrt::{Body, Record, Records, RibMpReach, ADD_PATH_ALL};
use reflector_core::wire::attribute::{self, type_code, AsPathView, AttrIter};
use reflector_core::wire::message::Message;
use reflector_core::wire::Context;

fn attributes(block: &[u8], ctx: &Context) {
    let _ = attribute::validate(block, 0, ctx);
    if let Ok(it) = AttrIter::new_checked(block, 0) {
        for a in it {
            let _ = a.decode(ctx);
            match a.type_code {
                type_code::AS_PATH => {
                    if let Some(p) = AsPathView::new_checked(a.value, ctx.four_octet_as) {
                        for s in p.segments() {
                            let _ = s.asns().count();
                        }
                    }
                }
                type_code::MP_REACH_NLRI => {
                    let _ = RibMpReach::parse(a.value).map(|m| m.next_hop().len());
                }
                _ => {}
            }
        }
    }
}

fn message(bytes: &[u8], ctx: &Context) {
    if let Ok((Message::Update(u), _)) = Message::parse_revised(bytes, ctx) {
        let _ = u.nlri().count() + u.withdrawn().count();
        let _ = u.mp_reach().and_then(|m| m.prefixes()).map(|p| p.count());
        let _ = u.mp_unreach().and_then(|m| m.prefixes()).map(|p| p.count());
        let _ = u.attributes().count();
        let _ = u.end_of_rib();
        let _ = u.as_path().map(|p| p.asns().count());
    }
}

fn record(rec: &Record<'_>) {
    match rec.body {
        Body::TableDump(e) => attributes(e.attributes, &e.context()),
        Body::PeerIndexTable(t) => {
            assert_eq!(t.peers().count(), usize::from(t.peer_count));
        }
        Body::Rib(rib) => {
            assert_eq!(rib.entries().count(), usize::from(rib.entry_count));
            for e in rib.entries() {
                attributes(e.attributes, &rib.context());
            }
        }
        Body::Bgp4mpMessage(m) => {
            let ctx = m.context();
            message(m.message, &ctx);
            message(
                m.message,
                &Context {
                    add_path: ADD_PATH_ALL,
                    ..ctx
                },
            );
        }
        Body::Bgp4mpStateChange(_) | Body::Unknown(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let mut it = Records::new(data);
    loop {
        let before = it.offset();
        match it.next() {
            Some(Ok(rec)) => {
                assert!(rec.offset == before && it.offset() > before);
                record(&rec);
            }
            Some(Err(e)) => {
                assert_eq!(e.offset, before);
                if !it.resume() {
                    break;
                }
                assert!(it.offset() > before);
            }
            None => break,
        }
    }
});
