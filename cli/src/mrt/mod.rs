//! `reflector mrt FILE`: statistics of an MRT dump, or its routes one per line.

use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

mod bgpdump;
mod elements;
mod filter;
mod input;
mod json;
mod stats;

use input::{End, RecordReader};
use stats::{Incomplete, Report, Stats};

/// Arguments of `reflector mrt`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The MRT file (plain, gzip or bzip2).
    pub file: PathBuf,
    /// Print the report as one JSON object; with --elements, one JSON object per line.
    #[arg(long)]
    pub json: bool,
    /// Show progress on stderr even when it is not a terminal.
    #[arg(long)]
    pub progress: bool,
    /// Print the routes instead of statistics: one line per announcement,
    /// withdrawal, RIB entry and state change, as `bgpdump -m` prints them.
    #[arg(long)]
    pub elements: bool,
    /// Element filters (with --elements; they combine with AND).
    #[command(flatten)]
    pub filter: filter::FilterArgs,
}

/// Read the file and print its report (or, with `--elements`, its routes).
pub fn run(args: &Args) -> io::Result<()> {
    if args.elements {
        return run_elements(args);
    }
    if args.filter.any() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "element filters need --elements",
        ));
    }
    let mut reader = RecordReader::open(&args.file)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", args.file.display())))?;
    let mut stats = Stats::new(args.file.display().to_string(), reader.compression.as_str());
    let show_progress = args.progress || io::stderr().is_terminal();
    let mut progress = Progress::new(show_progress);
    loop {
        match reader.next_record() {
            Ok((offset, bytes)) => stats.record(offset, bytes),
            Err(End::Clean) => break,
            Err(End::Truncated {
                offset,
                have,
                want,
                io_error,
            }) => {
                stats.incomplete(Incomplete {
                    offset,
                    bytes_present: have,
                    bytes_expected: want,
                    io_error,
                });
                break;
            }
        }
        progress.tick(&reader, stats.records());
    }
    progress.done(&reader, stats.records());
    let report = stats.finish();
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        out.write_all(text(&report).as_bytes())?;
    }
    out.flush()
}

/// `--elements`: stream the file's elements to stdout, filtered.
///
/// A reader that goes away (`| head`) ends the run quietly.
fn run_elements(args: &Args) -> io::Result<()> {
    match stream_elements(args) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}

fn stream_elements(args: &Args) -> io::Result<()> {
    let filter = args
        .filter
        .build()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let mut reader = RecordReader::open(&args.file)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", args.file.display())))?;
    let show_progress = args.progress || io::stderr().is_terminal();
    let mut progress = Progress::new(show_progress);
    let mut extractor = elements::Extractor::new();
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut line = Vec::with_capacity(1 << 12);
    let mut records = 0u64;
    let mut skipped = 0u64;
    let mut first_skip: Option<String> = None;
    let mut end = None;
    loop {
        let (offset, bytes) = match reader.next_record() {
            Ok(r) => r,
            Err(End::Clean) => break,
            Err(e) => {
                end = Some(e);
                break;
            }
        };
        records += 1;
        if !filter.wants_record(bytes) {
            continue;
        }
        let mut note = |s: elements::Skipped| {
            skipped += 1;
            if first_skip.is_none() {
                first_skip = Some(format!(
                    "{} at offset {}: {}",
                    s.context,
                    offset + s.offset as u64,
                    s.message
                ));
            }
        };
        extractor.record(bytes, &mut note, &mut |e| {
            if !filter.matches(e) {
                return Ok(());
            }
            line.clear();
            if args.json {
                json::write_line(&mut line, e)?;
            } else {
                bgpdump::write_line(&mut line, e);
            }
            out.write_all(&line)
        })?;
        progress.tick(&reader, records);
    }
    out.flush()?;
    progress.done(&reader, records);
    if skipped > 0 {
        eprintln!(
            "reflector mrt: {skipped} records or messages could not be decoded; first: {}",
            first_skip.unwrap_or_default()
        );
    }
    if let Some(End::Truncated {
        offset, have, want, ..
    }) = end
    {
        eprintln!(
            "reflector mrt: input ends inside the record at offset {offset} ({have} of {} bytes)",
            want.map_or_else(|| "at least 12".to_owned(), |n| n.to_string())
        );
    }
    Ok(())
}

/// Progress on stderr, at most four times a second.
struct Progress {
    on: bool,
    start: Instant,
    last: Instant,
}

impl Progress {
    fn new(on: bool) -> Self {
        let now = Instant::now();
        Progress {
            on,
            start: now,
            last: now,
        }
    }

    fn tick(&mut self, r: &RecordReader, records: u64) {
        if !self.on || self.last.elapsed() < Duration::from_millis(250) {
            return;
        }
        self.last = Instant::now();
        let pos = r.file_pos.load(Ordering::Relaxed);
        let pct = if r.file_len > 0 {
            100.0 * pos as f64 / r.file_len as f64
        } else {
            0.0
        };
        eprint!(
            "\r{pct:5.1}%  {records} records  {:.1} MB decompressed  {:.1}s",
            r.offset() as f64 / 1e6,
            self.start.elapsed().as_secs_f64()
        );
    }

    fn done(&mut self, r: &RecordReader, records: u64) {
        if self.on {
            eprintln!(
                "\r100.0%  {records} records  {:.1} MB decompressed  {:.1}s",
                r.offset() as f64 / 1e6,
                self.start.elapsed().as_secs_f64()
            );
        }
    }
}

/// The report for people.
fn text(r: &Report) -> String {
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(w, "file          {} ({})", r.file, r.compression);
    let _ = writeln!(
        w,
        "status        {}",
        if r.complete { "complete" } else { "INCOMPLETE" }
    );
    if let Some(i) = &r.incomplete {
        let _ = writeln!(
            w,
            "              last record at offset {} has {} of {} bytes{}",
            i.offset,
            i.bytes_present,
            i.bytes_expected
                .map_or_else(|| "at least 12".to_owned(), |n| n.to_string()),
            i.io_error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(w, "bytes         {}", r.bytes);
    let _ = writeln!(w, "records       {}", r.records);
    for (k, v) in &r.record_types {
        let _ = writeln!(w, "  {k:<40} {v:>10}");
    }
    if !r.bgp_messages.is_empty() {
        let total: u64 = r.bgp_messages.values().sum();
        let _ = writeln!(w, "BGP messages  {total}");
        for (k, v) in &r.bgp_messages {
            let _ = writeln!(w, "  {k:<40} {v:>10}");
        }
    }
    if r.state_changes > 0 {
        let _ = writeln!(w, "state changes {}", r.state_changes);
    }
    let _ = writeln!(w, "prefixes                  IPv4       IPv6");
    for (name, f) in [
        ("announced", r.announced),
        ("withdrawn", r.withdrawn),
        ("distinct", r.distinct_prefixes),
    ] {
        let _ = writeln!(w, "  {name:<18} {:>10} {:>10}", f.ipv4, f.ipv6);
    }
    if r.end_of_rib > 0 {
        let _ = writeln!(w, "End-of-RIB    {}", r.end_of_rib);
    }
    if !r.mp_families.is_empty() {
        let _ = writeln!(
            w,
            "MP attributes                          reach    unreach  announced  withdrawn"
        );
        for (k, v) in &r.mp_families {
            let label = format!("{k} {}", v.name.unwrap_or("(not decoded)"));
            let _ = writeln!(
                w,
                "  {label:<32} {:>10} {:>10} {:>10} {:>10}",
                v.reach, v.unreach, v.announced, v.withdrawn
            );
        }
    }
    if r.rib_entries.total > 0 {
        let e = r.rib_entries;
        let _ = writeln!(
            w,
            "RIB entries   {} (IPv4 {}, IPv6 {}, other {})",
            e.total, e.ipv4, e.ipv6, e.other
        );
    }
    if !r.attributes.is_empty() {
        let _ = writeln!(
            w,
            "path attributes (UPDATEs or RIB entries carrying each type)"
        );
        for (k, v) in &r.attributes {
            let _ = writeln!(w, "  {:<40} {v:>10}", attribute_name(*k));
        }
    }
    let _ = writeln!(w, "distinct AS paths {}", r.distinct_as_paths);
    let _ = writeln!(
        w,
        "peers         {} addresses, {} ASNs",
        r.peers.addresses, r.peers.asns
    );
    if r.add_path_inferred > 0 {
        let _ = writeln!(
            w,
            "ADD-PATH      {} UPDATEs decoded with path identifiers their record subtype did not announce",
            r.add_path_inferred
        );
    }
    let _ = writeln!(w, "errors        {}", r.error_count);
    for e in &r.errors {
        let _ = writeln!(
            w,
            "  at offset {} (record at {}), {}: {}",
            e.offset, e.record_offset, e.context, e.message
        );
    }
    if r.error_count > r.errors.len() as u64 {
        let _ = writeln!(w, "  ... {} more", r.error_count - r.errors.len() as u64);
    }
    s
}

fn attribute_name(t: u8) -> String {
    let name = match t {
        1 => "ORIGIN",
        2 => "AS_PATH",
        3 => "NEXT_HOP",
        4 => "MULTI_EXIT_DISC",
        5 => "LOCAL_PREF",
        6 => "ATOMIC_AGGREGATE",
        7 => "AGGREGATOR",
        8 => "COMMUNITIES",
        9 => "ORIGINATOR_ID",
        10 => "CLUSTER_LIST",
        14 => "MP_REACH_NLRI",
        15 => "MP_UNREACH_NLRI",
        16 => "EXTENDED_COMMUNITIES",
        17 => "AS4_PATH",
        18 => "AS4_AGGREGATOR",
        20 => "CONNECTOR",
        21 => "AS_PATHLIMIT",
        22 => "PMSI_TUNNEL",
        23 => "TUNNEL_ENCAPSULATION",
        26 => "AIGP",
        32 => "LARGE_COMMUNITY",
        33 => "BGPSEC_PATH",
        35 => "OTC",
        40 => "PREFIX_SID",
        128 => "ATTR_SET",
        _ => "",
    };
    if name.is_empty() {
        format!("{t}")
    } else {
        format!("{t} {name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reflector_core::mrt::subtype_name;

    #[test]
    fn record_names_used_as_json_keys_are_the_rfc_names() {
        assert_eq!(subtype_name(16, 4), Some("BGP4MP/MESSAGE_AS4"));
        assert_eq!(attribute_name(8), "8 COMMUNITIES");
        assert_eq!(attribute_name(99), "99");
    }
}
