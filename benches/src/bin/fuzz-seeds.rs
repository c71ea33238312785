//! Writes seed corpora for the fuzz targets from the shared MRT dumps and
//! captures: `cargo run -p reflector-benches --bin fuzz-seeds -- fuzz/corpus`.
//!
//! Every BGP message found becomes a seed in the shape its target expects
//! (whole message, UPDATE body with a context selector byte, OPEN body, MRT
//! records, engine chunks), so a short fuzzing run starts from real traffic.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use reflector_core::mrt::{Body, Records};
use reflector_testdata::mrt::{data_dir, load_mrt, MRT_FILES};
use reflector_testdata::pcap::bgp_messages;

const PER_FILE: usize = 200;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    fs::write(dir.join(name), bytes)
}

fn main() -> io::Result<()> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/corpus".into()),
    );
    let dirs = ["message", "update", "open", "mrt_record", "engine"].map(|t| out.join(t));
    for d in &dirs {
        fs::create_dir_all(d)?;
    }
    let [message, update, open, mrt_record, engine] = &dirs;
    let mut messages: Vec<(String, Vec<u8>)> = Vec::new();
    for name in MRT_FILES {
        let data = load_mrt(name);
        // The first records of every dump, as an MRT stream.
        let mut end = 0usize;
        let mut n = 0usize;
        for rec in Records::new(&data) {
            let Ok(rec) = rec else { break };
            n += 1;
            if n <= 8 {
                end = rec.offset + rec.bytes.len();
            }
            if let Body::Bgp4mpMessage(m) = rec.body {
                if messages.iter().filter(|(f, _)| f == name).count() < PER_FILE {
                    messages.push((name.to_string(), m.message.to_vec()));
                }
            }
        }
        write(mrt_record, name, data.get(..end).unwrap_or(&data))?;
    }
    let pcaps = data_dir().join("pcap");
    let mut entries: Vec<_> = fs::read_dir(&pcaps)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if let Ok(msgs) = bgp_messages(&p) {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            messages.extend(
                msgs.into_iter()
                    .take(PER_FILE)
                    .map(|m| (name.clone(), m.bytes)),
            );
        }
    }
    // VPN, EVPN, flowspec and RT membership UPDATEs from GoBGP, FRR and BIRD
    // (interop phase 7), whole and, for the nlri target, field by field.
    let families = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/tests/data/families-interop.pcapng"
    ));
    let nlri = out.join("nlri");
    fs::create_dir_all(&nlri)?;
    if let Ok(msgs) = bgp_messages(&families) {
        for (i, m) in msgs.into_iter().filter(|m| m.msg_type() == 2).enumerate() {
            if let Ok(p) = reflector_core::wire::UpdatePacket::new_checked(
                &m.bytes[..],
                &reflector_core::wire::Context::MODERN,
            ) {
                let known = reflector_core::wire::family::KNOWN;
                let fields = p
                    .mp_reach()
                    .map(|r| (r.afi_safi, r.nlri_bytes, 0u8))
                    .into_iter()
                    .chain(p.mp_unreach().map(|u| (u.afi_safi, u.nlri_bytes, 0x20u8)));
                for (f, field, wd) in fields {
                    if let Some(k) = known.iter().position(|x| *x == f) {
                        let mut seed = vec![k as u8 | wd];
                        seed.extend_from_slice(field);
                        write(&nlri, &format!("families-{i}-{k}"), &seed)?;
                    }
                }
            }
            messages.push(("families-interop".to_string(), m.bytes));
        }
    }
    // Calico resources and selectors from the examples.
    let calico = out.join("calico");
    fs::create_dir_all(&calico)?;
    let examples = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples"));
    for dir in fs::read_dir(&examples)?.filter_map(Result::ok) {
        for f in fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
        {
            let p = f.path();
            if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                let name = format!(
                    "{}-{}",
                    dir.file_name().to_string_lossy(),
                    f.file_name().to_string_lossy()
                );
                write(&calico, &name, &fs::read(&p)?)?;
            }
        }
    }
    for (i, sel) in [
        "has(route-reflector)",
        "!has(route-reflector) && zone == 'a'",
        "role in {'rr', 'edge'} || all()",
    ]
    .iter()
    .enumerate()
    {
        write(&calico, &format!("selector-{i}"), sel.as_bytes())?;
    }
    // The session target: connect, a peer's OPEN and KEEPALIVE, then timers.
    let session = out.join("session");
    fs::create_dir_all(&session)?;
    write(
        &session,
        "open-keepalive",
        &[0, 5, 7, 4, 0xf4, 4, 0xf4, 4, 0xf4],
    )?;
    write(&session, "passive-hold-3", &[3, 5, 7, 4, 0xfc, 4, 0xfc])?;
    let mut chunk = Vec::new();
    for (i, (file, m)) in messages.iter().enumerate() {
        let id = format!("{file}-{i}");
        write(message, &id, m)?;
        let body = m.get(19..).unwrap_or(&[]);
        match m.get(18) {
            Some(2) => {
                let mut u = vec![(i % 4) as u8];
                u.extend_from_slice(body);
                write(update, &id, &u)?;
                chunk.push((i % 4) as u8);
                chunk.extend_from_slice(&(body.len() as u16).to_be_bytes());
                chunk.extend_from_slice(body);
                if chunk.len() > 4000 {
                    write(engine, &id, &chunk)?;
                    chunk.clear();
                }
            }
            Some(1) => write(open, &id, body)?,
            _ => {}
        }
    }
    eprintln!(
        "{} messages written as seeds under {}",
        messages.len(),
        out.display()
    );
    Ok(())
}
