//! `reflector simulate --fail / --fail-session` and `--steps`: what-if reports as text.

use std::fmt::Write as _;

use reflector_sim::plan::Plan;
use reflector_sim::whatif::{FailureReport, MigrationReport};

use super::report::{heading, thousands};

/// The node indexes named by `--fail` (comma lists and repeats), or the unknown name.
pub fn node_indexes(plan: &Plan, names: &[String]) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let i = plan
            .node_index(name)
            .ok_or_else(|| format!("--fail {name}: no such node"))?;
        if !out.contains(&i) {
            out.push(i);
        }
    }
    Ok(out)
}

/// The node pairs named by `--fail-session A-B` (node names may contain `-`: the one split naming two nodes).
pub fn session_pairs(plan: &Plan, specs: &[String]) -> Result<Vec<(usize, usize)>, String> {
    let mut out = Vec::new();
    for spec in specs.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let splits: Vec<(usize, usize)> = spec
            .match_indices('-')
            .filter_map(|(at, _)| {
                let a = plan.node_index(spec.get(..at)?)?;
                let b = plan.node_index(spec.get(at + 1..)?)?;
                Some((a, b))
            })
            .collect();
        match splits.as_slice() {
            [one] => out.push(*one),
            [] => {
                return Err(format!(
                    "--fail-session {spec}: expected NODE-NODE with two node names"
                ))
            }
            _ => {
                return Err(format!(
                    "--fail-session {spec}: ambiguous, several splits name two nodes"
                ))
            }
        }
    }
    Ok(out)
}

fn steps_text(n: u64) -> String {
    format!("{n} step{}", if n == 1 { "" } else { "s" })
}

/// `N message(s) received`.
fn received(n: u64) -> String {
    format!(
        "{} message{} received",
        thousands(n),
        if n == 1 { "" } else { "s" }
    )
}

/// At most `max` names, then `and N more`.
fn some(names: &[String], max: usize) -> String {
    let mut s = names
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > max {
        let _ = write!(s, " and {} more", names.len() - max);
    }
    s
}

/// The failure what-if as text.
pub fn render_failure(r: &FailureReport) -> String {
    let mut out = String::new();
    let mut what = Vec::new();
    if !r.failed_nodes.is_empty() {
        what.push(r.failed_nodes.join(", "));
    }
    if !r.failed_sessions.is_empty() {
        let s = if r.failed_sessions.len() == 1 {
            "session"
        } else {
            "sessions"
        };
        what.push(format!("{s} {}", r.failed_sessions.join(", ")));
    }
    let many = r.failed_nodes.len() + r.failed_sessions.len() > 1;
    heading(
        &mut out,
        &format!(
            "What if {} {}",
            what.join(" and "),
            if many { "fail" } else { "fails" }
        ),
    );
    let _ = writeln!(
        out,
        "{} down; converged again in {}, {} messages{}.",
        if r.sessions_down == 1 {
            "1 session".to_string()
        } else {
            format!("{} sessions", r.sessions_down)
        },
        steps_text(r.run.steps),
        thousands(r.run.messages),
        if r.run.converged {
            ""
        } else {
            " (NOT converged)"
        }
    );
    if !r.gone_blocks.is_empty() {
        let _ = writeln!(
            out,
            "Gone with the failed nodes: {}.",
            some(&r.gone_blocks, 8)
        );
    }
    let small = r.nodes.len() <= super::ALL_NODES_LIMIT;
    let mut quiet = 0usize;
    for n in &r.nodes {
        if n.lost.is_empty() && !small {
            quiet += 1;
            continue;
        }
        let total = n.kept.len() + n.lost.len();
        if n.lost.is_empty() {
            let _ = writeln!(
                out,
                "  {:<12} keeps all {total} pod blocks it had ({})",
                n.name,
                received(n.messages)
            );
        } else {
            let _ = writeln!(
                out,
                "  {:<12} keeps {} of {total}, LOST {}: {} ({})",
                n.name,
                n.kept.len(),
                n.lost.len(),
                some(&n.lost, 8),
                received(n.messages)
            );
        }
    }
    if quiet > 0 {
        let _ = writeln!(
            out,
            "  ({} other nodes keep every pod block they had.)",
            thousands(quiet as u64)
        );
    }
    if r.every_block_kept {
        let _ = writeln!(
            out,
            "Every surviving node keeps a route to every surviving node's pod blocks."
        );
    } else {
        let _ = writeln!(
            out,
            "{} of {} surviving nodes lost routes to pod blocks of surviving nodes.",
            thousands(r.nodes_losing as u64),
            thousands(r.nodes.len() as u64)
        );
    }
    out
}

/// The migration report as text.
pub fn render_migration(r: &MigrationReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Reflector migration through {} configurations",
        r.steps.len()
    );
    for (i, s) in r.steps.iter().enumerate() {
        let p = &s.planned;
        let _ = writeln!(
            out,
            "  {}. {}: {} nodes, {} route reflectors, mesh {}, {} sessions",
            i + 1,
            s.source,
            p.nodes,
            p.reflectors,
            if p.mesh_enabled { "on" } else { "off" },
            thousands((p.ipv4_sessions + p.ipv6_sessions) as u64)
        );
    }
    let _ = writeln!(
        out,
        "Configuration 1 converged in {}, {} messages.",
        steps_text(r.initial.steps),
        thousands(r.initial.messages)
    );
    if !r.initial_missing.is_empty() {
        let _ = writeln!(
            out,
            "Already without a route in configuration 1: {}.",
            some(&r.initial_missing, 8)
        );
    }
    out.push('\n');
    for (i, t) in r.transitions.iter().enumerate() {
        heading(
            &mut out,
            &format!("{} → {}: {} → {}", i + 1, i + 2, t.from, t.to),
        );
        let s = &t.sessions;
        let _ = write!(
            out,
            "Sessions: {} kept, {} torn down, {} brought up, {} restarted gracefully",
            s.kept, s.removed, s.added, s.reset
        );
        if !s.restarted.is_empty() {
            let _ = write!(out, "; speakers restarted: {}", some(&s.restarted, 8));
        }
        out.push_str(".\n");
        let _ = writeln!(
            out,
            "Converged in {}, {} messages{}.",
            steps_text(t.run.steps),
            thousands(t.run.messages),
            if t.run.converged {
                ""
            } else {
                " (NOT converged)"
            }
        );
        if t.losses.is_empty() {
            let _ = writeln!(out, "No node lost a route to any pod block.\n");
            continue;
        }
        let _ = writeln!(
            out,
            "{} lost routes to pod blocks:",
            if t.nodes_losing.len() == 1 {
                "1 node".to_string()
            } else {
                format!("{} nodes", thousands(t.nodes_losing.len() as u64))
            }
        );
        for l in t.losses.iter().take(40) {
            let _ = writeln!(
                out,
                "  {:<12} {:<18} (of {:<11} {}",
                l.node,
                l.block,
                format!("{})", l.owner),
                if l.still_missing {
                    "no route from the change on, still none once converged".to_string()
                } else {
                    format!("no route for {}", steps_text(l.steps))
                }
            );
        }
        if t.losses.len() > 40 {
            let _ = writeln!(out, "  ... and {} more", t.losses.len() - 40);
        }
        out.push('\n');
    }
    if r.safe {
        let _ = writeln!(
            out,
            "Safe: no node lost a route to any pod block in any transition."
        );
    } else {
        let bad: Vec<String> = r
            .transitions
            .iter()
            .enumerate()
            .filter(|(_, t)| !t.losses.is_empty())
            .map(|(i, t)| format!("{} → {} ({} nodes)", i + 1, i + 2, t.nodes_losing.len()))
            .collect();
        let _ = writeln!(
            out,
            "NOT SAFE: routes to pod blocks lost in {}.",
            bad.join(", ")
        );
    }
    out
}
