//! What-if runs on a network of engines: nodes and sessions failing, and a
//! cluster moving through configuration steps (a migration).
//!
//! Both start from a converged network, change it, and run it to convergence
//! again while watching, node by node, which pod blocks each node has a route
//! to. A failed node's own blocks go with it; every other block a node had a
//! route to before and has none to after is *lost*.
//!
//! In a migration the network is observed right after each change (before any
//! message moves) and after every step that moves messages. A node that lost
//! a block for some of those observations lost it for that many steps; one
//! still without it once the step has converged has lost it for good (until a
//! later step brings it back). A node whose speaker restarted keeps the routes
//! it had until the network has converged (calico/node's BIRD runs its kernel
//! protocol with graceful restart); only then does its own RIB count.

use serde::Serialize;

use crate::error::Error;
use crate::network::{Changes, Network, RunReport};
use crate::render::ClusterSummary;
use crate::resources::Cluster;

/// What one node kept and lost when nodes or sessions failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FailureOutcome {
    /// Node name.
    pub name: String,
    /// Blocks of surviving nodes it had a route to before and still has (its own included).
    pub kept: Vec<String>,
    /// Blocks of surviving nodes it had a route to before and has none to after.
    pub lost: Vec<String>,
    /// Blocks of surviving nodes it had no route to even before the failure.
    pub missing_before: Vec<String>,
    /// BGP messages it received while the network converged again.
    pub messages: u64,
}

/// The outcome of failing nodes and sessions in a converged network.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FailureReport {
    /// The nodes taken down.
    pub failed_nodes: Vec<String>,
    /// The sessions taken down by name, `A-B`.
    pub failed_sessions: Vec<String>,
    /// Sessions (one per family) that went down, those of failed nodes included.
    pub sessions_down: usize,
    /// The pod blocks of the failed nodes: gone with them.
    pub gone_blocks: Vec<String>,
    /// Converging again after the failure.
    pub run: RunReport,
    /// Every surviving node, in node order.
    pub nodes: Vec<FailureOutcome>,
    /// Surviving nodes that lost at least one block.
    pub nodes_losing: usize,
    /// Whether every surviving node kept every block of the surviving nodes it had.
    pub every_block_kept: bool,
}

/// Fails `nodes` (indexes) and the sessions between each pair in `sessions`
/// in a converged network, runs it to convergence again (at most `max_steps`
/// steps that move messages) and reports what each surviving node kept and lost.
pub fn fail(
    net: &mut Network,
    nodes: &[usize],
    sessions: &[(usize, usize)],
    max_steps: u64,
) -> FailureReport {
    let blocks = net.block_list();
    let n = net.plan().nodes.len();
    let before: Vec<Vec<bool>> = (0..n).map(|i| net.reaches(i, &blocks)).collect();
    let received: Vec<u64> = (0..n).map(|i| net.messages_received(i)).collect();
    let mut down = net.fail_nodes(nodes);
    for &(a, b) in sessions {
        down += net.fail_session(a, b);
    }
    let run = net.run(max_steps);
    let name = |i: usize| {
        net.plan()
            .nodes
            .get(i)
            .map_or(String::new(), |x| x.name.clone())
    };
    let mut outcomes = Vec::new();
    for i in (0..n).filter(|&i| !net.is_failed(i)) {
        let after = net.reaches(i, &blocks);
        let mut o = FailureOutcome {
            name: name(i),
            kept: Vec::new(),
            lost: Vec::new(),
            missing_before: Vec::new(),
            messages: net.messages_received(i) - received.get(i).copied().unwrap_or(0),
        };
        for (k, (owner, _, text)) in blocks.iter().enumerate() {
            if net.is_failed(*owner) {
                continue;
            }
            let had = before
                .get(i)
                .and_then(|r| r.get(k))
                .copied()
                .unwrap_or(false);
            let has = after.get(k).copied().unwrap_or(false);
            match (had, has) {
                (true, true) => o.kept.push(text.clone()),
                (true, false) => o.lost.push(text.clone()),
                (false, _) => o.missing_before.push(text.clone()),
            }
        }
        outcomes.push(o);
    }
    let nodes_losing = outcomes.iter().filter(|o| !o.lost.is_empty()).count();
    FailureReport {
        failed_nodes: nodes.iter().map(|&i| name(i)).collect(),
        failed_sessions: sessions
            .iter()
            .map(|&(a, b)| format!("{}-{}", name(a), name(b)))
            .collect(),
        sessions_down: down,
        gone_blocks: blocks
            .iter()
            .filter(|(o, _, _)| net.is_failed(*o))
            .map(|(_, _, t)| t.clone())
            .collect(),
        run,
        nodes: outcomes,
        nodes_losing,
        every_block_kept: nodes_losing == 0,
    }
}

/// One node without a route to one pod block during a transition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Loss {
    /// The node that lost the route.
    pub node: String,
    /// The pod block.
    pub block: String,
    /// The node that owns the block.
    pub owner: String,
    /// Observations without a route: right after the change, then after each step that moved messages.
    pub steps: u64,
    /// Whether it still had no route once the transition had converged.
    pub still_missing: bool,
}

/// What the sessions did in a transition, with node names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SessionChanges {
    /// Sessions untouched.
    pub kept: usize,
    /// Sessions torn down.
    pub removed: usize,
    /// Sessions brought up.
    pub added: usize,
    /// Sessions restarted gracefully.
    pub reset: usize,
    /// Nodes whose speaker restarted.
    pub restarted: Vec<String>,
}

/// One move from a configuration to the next.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Transition {
    /// The configuration before.
    pub from: String,
    /// The configuration after.
    pub to: String,
    /// What happened to the sessions.
    pub sessions: SessionChanges,
    /// Converging after the change (old peers retired included).
    pub run: RunReport,
    /// Every (node, block) that lost its route at some point, in node then block order.
    pub losses: Vec<Loss>,
    /// Names of the nodes that lost a route, in node order.
    pub nodes_losing: Vec<String>,
}

/// One configuration of a migration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MigrationStep {
    /// Where it came from (a folder or file).
    pub source: String,
    /// Its planned sessions.
    pub planned: ClusterSummary,
}

/// A migration through configurations, transition by transition.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MigrationReport {
    /// The configurations, in order.
    pub steps: Vec<MigrationStep>,
    /// Converging the first configuration from nothing.
    pub initial: RunReport,
    /// `node: block` pairs without a route once the first configuration had converged.
    pub initial_missing: Vec<String>,
    /// One per move between consecutive configurations.
    pub transitions: Vec<Transition>,
    /// Whether no node lost a route to any block in any transition.
    pub safe: bool,
}

/// Runs a cluster through configurations (`(source, cluster)` in order) and reports every loss.
///
/// The first configuration converges from nothing; each next one is applied
/// with [`Network::reconfigure`] and run to convergence (at most `max_steps`
/// steps that move messages), then the old peers left stale are retired and
/// the network runs again.
pub fn migrate(steps: &[(String, Cluster)], max_steps: u64) -> Result<MigrationReport, Error> {
    let Some((first_name, first)) = steps.first() else {
        return Err(Error::Scenario {
            message: "a migration needs at least one configuration".to_string(),
        });
    };
    let mut net = Network::from_cluster(first)?;
    let initial = net.run(max_steps);
    let blocks = net.block_list();
    let n = net.plan().nodes.len();
    let name = |net: &Network, i: usize| {
        net.plan()
            .nodes
            .get(i)
            .map_or(String::new(), |x| x.name.clone())
    };
    let mut had: Vec<Vec<bool>> = (0..n).map(|i| net.reaches(i, &blocks)).collect();
    let mut initial_missing = Vec::new();
    for (i, row) in had.iter().enumerate() {
        for (k, ok) in row.iter().enumerate() {
            if let (false, Some((_, _, t))) = (ok, blocks.get(k)) {
                initial_missing.push(format!("{}: {t}", name(&net, i)));
            }
        }
    }
    let mut report_steps = vec![MigrationStep {
        source: first_name.clone(),
        planned: net.plan().summary(),
    }];
    let mut transitions = Vec::new();
    let mut prev = first_name.clone();
    for (source, cluster) in steps.iter().skip(1) {
        let plan = cluster.plan();
        report_steps.push(MigrationStep {
            source: source.clone(),
            planned: plan.summary(),
        });
        let changes: Changes = net.reconfigure(plan, cluster.pod_blocks()?)?;
        let restarted = |i: usize| changes.restarted.contains(&i);
        let mut missing = vec![vec![0u64; blocks.len()]; n];
        let observe = |net: &Network, grace: bool, missing: &mut [Vec<u64>]| {
            for (i, row) in missing.iter_mut().enumerate() {
                if grace && restarted(i) {
                    continue;
                }
                let now = net.reaches(i, &blocks);
                for (k, m) in row.iter_mut().enumerate() {
                    let before = had.get(i).and_then(|r| r.get(k)).copied().unwrap_or(false);
                    if before && !now.get(k).copied().unwrap_or(false) {
                        *m += 1;
                    }
                }
            }
        };
        let (m0, b0, s0) = {
            let s = net.summary();
            (
                s.messages.unwrap_or(0),
                s.bytes.unwrap_or(0),
                s.convergence_steps.unwrap_or(0),
            )
        };
        observe(&net, true, &mut missing);
        let mut converged = false;
        let mut busy = 0u64;
        let mut retired = false;
        while busy < max_steps {
            if net.step() == 0 {
                if !retired && net.retire_stale() > 0 {
                    retired = true;
                    observe(&net, false, &mut missing);
                    continue;
                }
                converged = true;
                break;
            }
            busy += 1;
            observe(&net, !retired, &mut missing);
        }
        let s = net.summary();
        let run = RunReport {
            steps: s.convergence_steps.unwrap_or(0) - s0,
            converged,
            messages: s.messages.unwrap_or(0) - m0,
            bytes: s.bytes.unwrap_or(0) - b0,
        };
        let now: Vec<Vec<bool>> = (0..n).map(|i| net.reaches(i, &blocks)).collect();
        let mut losses = Vec::new();
        let mut nodes_losing = Vec::new();
        for (i, row) in missing.iter().enumerate() {
            let mut any = false;
            for (k, ((owner, _, text), &m)) in blocks.iter().zip(row).enumerate() {
                let before = had.get(i).and_then(|r| r.get(k)).copied().unwrap_or(false);
                let after = now.get(i).and_then(|r| r.get(k)).copied().unwrap_or(false);
                // A restarted node's final RIB counts even when the grace hid the gap.
                let steps = if before && !after { m.max(1) } else { m };
                if steps == 0 {
                    continue;
                }
                any = true;
                losses.push(Loss {
                    node: name(&net, i),
                    block: text.clone(),
                    owner: name(&net, *owner),
                    steps,
                    still_missing: before && !after,
                });
            }
            if any {
                nodes_losing.push(name(&net, i));
            }
        }
        transitions.push(Transition {
            from: prev.clone(),
            to: source.clone(),
            sessions: SessionChanges {
                kept: changes.kept,
                removed: changes.removed,
                added: changes.added,
                reset: changes.reset,
                restarted: changes.restarted.iter().map(|&i| name(&net, i)).collect(),
            },
            run,
            losses,
            nodes_losing,
        });
        had = now;
        prev = source.clone();
    }
    let safe = transitions.iter().all(|t| t.losses.is_empty());
    Ok(MigrationReport {
        steps: report_steps,
        initial,
        initial_missing,
        transitions,
        safe,
    })
}
