//! Arbitrary NLRI fields for every family Reflector decodes, announced and
//! withdrawn, with and without ADD-PATH: validation never panics, and every
//! field it accepts decodes to entries that encode back to the same bytes
//! (flow specification NLRI in their shortest length form).
#![no_main]

use libfuzzer_sys::fuzz_target;
use reflector_core::wire::evpn::EvpnIter;
use reflector_core::wire::family::{check_nlri, NlriFormat, KNOWN};
use reflector_core::wire::flowspec::FlowIter;
use reflector_core::wire::rtc::RtcIter;
use reflector_core::wire::vpn::LabeledIter;
use reflector_core::wire::{Nlri, NlriIter, Writer};
use reflector_core::Action;

fuzz_target!(|data: &[u8]| {
    if data.is_empty() || data.len() > 8192 {
        return;
    }
    let (sel, field) = data.split_at(1);
    let f = KNOWN[usize::from(sel[0] & 0x0f) % KNOWN.len()];
    let add_path = sel[0] & 0x10 != 0;
    let withdraw = sel[0] & 0x20 != 0;
    let act = Action::AfiSafiDisable;
    let Some(r) = check_nlri(f, field, add_path, withdraw, 0, act) else {
        panic!("{f:?} is known");
    };
    let Ok(count) = r else { return };
    let mut out = vec![0u8; field.len() * 2 + 16];
    let mut w = Writer::new(&mut out);
    let mut n = 0usize;
    let afi = f.afi;
    match NlriFormat::of(f).expect("known") {
        NlriFormat::Ip => {
            for e in NlriIter::new_checked(field, afi, add_path, 0, act).expect("checked") {
                let Nlri { path_id, prefix } = e;
                if let Some(id) = path_id {
                    w.u32(id).expect("room");
                }
                prefix.emit(&mut w).expect("room");
                n += 1;
            }
        }
        fmt @ (NlriFormat::Labeled | NlriFormat::Vpn) => {
            let vpn = fmt == NlriFormat::Vpn;
            for e in LabeledIter::new_checked(field, afi, vpn, add_path, withdraw, 0, act)
                .expect("checked")
            {
                assert_eq!(e.rd.is_some(), vpn);
                let _ = e.to_string();
                e.emit(&mut w).expect("room");
                n += 1;
            }
        }
        NlriFormat::Evpn => {
            for e in EvpnIter::new_checked(field, add_path, 0, act).expect("checked") {
                let route = e.route().expect("validated routes decode");
                let _ = (route.to_string(), e.key());
                e.emit(&mut w).expect("room");
                n += 1;
            }
        }
        NlriFormat::Flowspec => {
            let mut prev = None;
            for e in FlowIter::new_checked(field, afi, add_path, 0, act).expect("checked") {
                let comps: Vec<_> = e.iter().collect();
                assert!(!comps.is_empty());
                assert!(comps.windows(2).all(|c| c[0].kind() < c[1].kind()));
                if let Some(p) = prev {
                    // Precedence is antisymmetric.
                    assert_eq!(e.precedence(&p), p.precedence(&e).reverse());
                }
                prev = Some(e);
                e.emit(&mut w).expect("room");
                n += 1;
            }
        }
        NlriFormat::Rtc => {
            for e in RtcIter::new_checked(field, add_path, 0, act).expect("checked") {
                let _ = (e.to_string(), e.key());
                e.emit(&mut w).expect("room");
                n += 1;
            }
        }
    }
    assert_eq!(n, count);
    let written = w.written().to_vec();
    if NlriFormat::of(f) == Some(NlriFormat::Flowspec) {
        // Canonical lengths: the re-encoded field validates to the same entries.
        let again = check_nlri(f, &written, add_path, withdraw, 0, act).expect("known");
        assert_eq!(again.ok(), Some(count));
    } else if matches!(NlriFormat::of(f), Some(NlriFormat::Rtc)) {
        // Bits past a route target prefix are cleared: re-encoding is a fixed point.
        let again: Vec<u8> = {
            let mut o = vec![0u8; written.len() + 16];
            let mut w2 = Writer::new(&mut o);
            for e in RtcIter::new_checked(&written, add_path, 0, act).expect("re-encoded") {
                e.emit(&mut w2).expect("room");
            }
            w2.written().to_vec()
        };
        assert_eq!(again, written);
    } else if matches!(NlriFormat::of(f), Some(NlriFormat::Ip | NlriFormat::Labeled | NlriFormat::Vpn)) {
        // Host bits past the prefix length are cleared; lengths and counts hold.
        assert_eq!(written.len(), field.len());
    } else {
        assert_eq!(written, field);
    }
});
