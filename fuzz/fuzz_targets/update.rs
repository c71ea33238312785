//! Arbitrary bytes after a valid UPDATE header, under each context: every
//! accessor of the view runs to completion, and a strictly valid UPDATE
//! round-trips through its owned form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reflector_core::wire::{AfiSafi, AfiSafiSet, Context, UpdatePacket, UpdateRepr};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 || data.len() > 65535 - 19 {
        return;
    }
    let (sel, body) = data.split_at(1);
    let ctx = match sel[0] % 4 {
        0 => Context::LEGACY,
        1 => Context::MODERN,
        2 => Context { extended_message: true, ..Context::MODERN },
        _ => Context {
            add_path: AfiSafiSet::EMPTY.with(AfiSafi::IPV4_UNICAST).with(AfiSafi::IPV6_UNICAST),
            ..Context::MODERN
        },
    };
    let mut msg = vec![0xff; 16];
    msg.extend(((19 + body.len()) as u16).to_be_bytes());
    msg.push(2);
    msg.extend_from_slice(body);
    if let Ok((p, _)) = UpdatePacket::parse_revised(&msg[..], &ctx) {
        let _ = p.withdrawn().count() + p.nlri().count();
        let _ = p.raw_attributes().map(|a| a.decode(&ctx)).count();
        let _ = p.attributes().count();
        let _ = p.mp_reach().and_then(|m| m.prefixes()).map(|i| i.count());
        let _ = p.mp_unreach().and_then(|m| m.prefixes()).map(|i| i.count());
        let _ = p.as_path().map(|a| (a.hop_count(), a.first_asn()));
        let _ = (p.end_of_rib(), p.announced_count(), p.withdrawn_count());
    }
    if let Ok(p) = UpdatePacket::new_checked(&msg[..], &ctx) {
        let repr = UpdateRepr::parse(&p);
        let bytes = repr.to_vec(&ctx).expect("a valid UPDATE re-encodes");
        let again = UpdatePacket::new_checked(&bytes[..], &ctx).expect("and parses again");
        assert_eq!(UpdateRepr::parse(&again), repr);
    }
});
