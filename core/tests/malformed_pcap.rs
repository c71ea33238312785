//! Every message in the deliberately malformed captures yields `Ok` or a
//! typed error (never a panic), through the framer and `Message::parse`; and
//! the small captures' messages each get the exact outcome RFC 4271 §6 and
//! RFC 7606 prescribe (action, NOTIFICATION code/subcode and data, offset),
//! worked out from the bytes (and tshark's dissection) in the comments.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use reflector_core::error::{Action, ErrorKind};
use reflector_core::framer::Framer;
use reflector_core::wire::message::{Message, MessageRepr};
use reflector_core::wire::notification::NotificationPacket;
use reflector_core::wire::Context;
use reflector_testdata::pcap::{bgp_messages, CapturedMessage};

fn dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/pcap-malformed"
    ))
}

fn load(name: &str) -> Vec<CapturedMessage> {
    bgp_messages(dir().join(name)).unwrap()
}

const CONTEXTS: [Context; 3] = [
    Context::LEGACY,
    Context::MODERN,
    Context {
        four_octet_as: true,
        extended_message: true,
        add_path: reflector_core::wire::AfiSafiSet::EMPTY
            .with(reflector_core::wire::AfiSafi::IPV4_UNICAST)
            .with(reflector_core::wire::AfiSafi::IPV6_UNICAST),
    },
];

#[test]
fn every_malformed_message_is_ok_or_a_typed_error() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 12);
    let (mut total, mut errors) = (0usize, 0usize);
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let msgs = bgp_messages(&path).unwrap();
        assert!(!msgs.is_empty(), "{name}: no message found");
        for m in &msgs {
            for ctx in &CONTEXTS {
                total += 1;
                match Message::parse_revised(&m.bytes, ctx) {
                    Ok((msg, survivable)) => {
                        // Whatever parsed must re-encode without failing or panicking.
                        let repr = MessageRepr::parse(&msg);
                        let _ = repr.to_vec(ctx);
                        if let Some(e) = survivable {
                            assert!(!e.is_fatal(), "{name}: {e}");
                            errors += 1;
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        // A real NOTIFICATION can be built from every error.
                        assert!(e.code >= 1 && e.code <= 7, "{name}: {e}");
                        assert!(e.offset <= m.bytes.len(), "{name}: {e}");
                        let _ = reflector_core::wire::notification::NotificationRepr::from_error(
                            &e, &m.bytes,
                        )
                        .to_vec()
                        .unwrap();
                    }
                }
            }
        }
    }
    // These captures exist to be malformed: most of their messages must be refused.
    assert!(total > 2000, "{total}");
    assert!(errors * 2 > total, "{errors} of {total}");
}

#[test]
fn rfc5492_truncated_capabilities_are_open_errors() {
    for file in [
        "bgp-bgp_capabilities_print-oobr-1.pcap",
        "bgp-bgp_capabilities_print-oobr-2.pcap",
    ] {
        let msgs = load(file);
        let opens: Vec<_> = msgs.iter().filter(|m| m.msg_type() == 1).collect();
        assert_eq!(opens.len(), 1, "{file}");
        let bytes = &opens[0].bytes;
        // The version octet is also bogus, and RFC 4271 §6.2 checks it first.
        assert_ne!(bytes[19], 4);
        let e = Message::parse(bytes, &Context::MODERN).unwrap_err();
        assert_eq!((e.code, e.subcode), (2, 1), "{file}: {e}");
        assert_eq!(e.data.resolve(bytes), &[0, 4]);
        // With a good version the overrunning capabilities are reported.
        let mut fixed = bytes.clone();
        fixed[19] = 4;
        let e = Message::parse(&fixed, &Context::MODERN).unwrap_err();
        assert_eq!((e.code, e.subcode), (2, 0), "{file}: {e}");
        assert_eq!(
            e.kind,
            ErrorKind::MalformedOptionalParameters,
            "{file}: {e}"
        );
        assert_eq!(e.action, Action::SessionReset);
    }
}

#[test]
fn malformed_hard_reset_notification_still_parses() {
    let msgs = load("bgp-malformed-hard-reset.pcap");
    let n: Vec<_> = msgs.iter().filter(|m| m.msg_type() == 3).collect();
    assert_eq!(n.len(), 1);
    let p = NotificationPacket::new_checked(&n[0].bytes[..]).unwrap();
    assert_eq!((p.code(), p.subcode()), (6, 9));
    assert!(p.shutdown_communication().is_none());
}

#[test]
fn framer_survives_malformed_streams() {
    // Feed each capture's messages back to back in odd-sized chunks: the framer
    // either returns exactly those messages or stops at a header error.
    for path in std::fs::read_dir(dir()).unwrap() {
        let path = path.unwrap().path();
        let msgs = bgp_messages(&path).unwrap();
        let stream: Vec<u8> = msgs.iter().flat_map(|m| m.bytes.iter().copied()).collect();
        let mut f = Framer::new(&CONTEXTS[2]);
        let mut got = Vec::new();
        let mut failed = false;
        'feed: for chunk in stream.chunks(7) {
            f.push(chunk);
            loop {
                match f.next_message() {
                    Ok(Some(m)) => got.push(m.to_vec()),
                    Ok(None) => break,
                    Err(e) => {
                        assert_eq!(e.action, Action::SessionReset);
                        failed = true;
                        break 'feed;
                    }
                }
            }
        }
        let want: Vec<&Vec<u8>> = msgs.iter().map(|m| &m.bytes).collect();
        if !failed {
            assert_eq!(got.len(), want.len(), "{}", path.display());
        }
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g, w);
        }
    }
}

/// One expected outcome: action, NOTIFICATION code and subcode, offset of
/// the offending field, the NOTIFICATION data.
type Expect = (Action, u8, u8, usize, &'static [u8]);

fn expect_each(file: &str, want: &[Expect]) {
    let msgs = load(file);
    assert_eq!(msgs.len(), want.len(), "{file}");
    for (i, (m, w)) in msgs.iter().zip(want).enumerate() {
        let e = match Message::parse_revised(&m.bytes, &Context::MODERN) {
            Ok((_, Some(e))) | Err(e) => e,
            Ok((_, None)) => panic!("{file} #{i}: accepted"),
        };
        let got = (
            e.action,
            e.code,
            e.subcode,
            e.offset,
            e.data.resolve(&m.bytes),
        );
        assert_eq!(got, *w, "{file} #{i}: {e}");
    }
}

/// Malformed Attribute List (RFC 4271 §6.3): "Withdrawn Routes Length +
/// Total Attribute Length + 23 exceeds the message Length"; no data; the
/// session ends (RFC 7606 §4: the NLRI cannot be found).
const TOTAL_ATTR_LEN_TOO_LARGE: Expect = (Action::SessionReset, 3, 1, 24, &[]);

#[test]
fn rfc4271_6_1_update_shorter_than_23_bytes_is_bad_message_length() {
    // bgp-infinite-loop: four UPDATEs whose header Length is 19 (tshark:
    // "Malformed Packet"); an UPDATE is at least 23 bytes. Bad Message
    // Length, data the Length field (offset 16).
    let e: Expect = (Action::SessionReset, 1, 2, 16, &[0, 19]);
    expect_each("bgp-infinite-loop.pcap", &[e; 4]);
}

#[test]
fn rfc4271_6_3_attribute_lengths_past_the_message_are_malformed_attribute_lists() {
    // Each: Length 45, Withdrawn Routes Length 3 (a prefix of length
    // 241/16/12, bytes 21..24), then Total Path Attribute Length at 24..26 of
    // 0xc3b2 (50,098) or 0x06b2 / 0x81b2: far past the 45-byte message.
    expect_each(
        "bgp_mp_reach_nlri-oobr.pcap",
        &[TOTAL_ATTR_LEN_TOO_LARGE; 6],
    );
    expect_each("bgp_mvpn_6_and_7_oobr.pcap", &[TOTAL_ATTR_LEN_TOO_LARGE]);
    expect_each("bgp_pmsi_tunnel-oobr.pcap", &[TOTAL_ATTR_LEN_TOO_LARGE]);
    // bgp_vpn_rt: the second UPDATE's Withdrawn Routes Length (offset 19) is
    // 0xff02 (65,282): too large already.
    expect_each(
        "bgp_vpn_rt-oobr.pcap",
        &[
            TOTAL_ATTR_LEN_TOO_LARGE,
            (Action::SessionReset, 3, 1, 19, &[]),
            TOTAL_ATTR_LEN_TOO_LARGE,
        ],
    );
}

#[test]
fn rfc7606_3_d_bgpsec_path_without_as_path_is_missing_well_known_treat_as_withdraw() {
    // tshark: MP_REACH_NLRI, ORIGIN, NEXT_HOP, MULTI_EXIT_DISC, BGPsec_PATH
    // (33) and no AS_PATH. Without BGPsec negotiated, BGPsec_PATH is an
    // unknown optional non-transitive attribute and AS_PATH is missing:
    // Missing Well-known Attribute (RFC 4271 §6.3, data = type code 2),
    // handled as treat-as-withdraw (RFC 7606 §3.d); offset: the attributes (23).
    expect_each(
        "bgpsec_invalid_signature_block_length.pcap",
        &[(Action::TreatAsWithdraw, 3, 3, 23, &[2])],
    );
}
