//! The task that owns the engine: it applies what connections, reloads,
//! timers and the control socket send it, writes the engine's output to the
//! peers' links, and holds back input while a peer's socket lags.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reflector_core::engine::{Engine, EngineConfig, Outcome, Reimport};
use reflector_core::policy::Policy;
use reflector_core::rib::PeerId;
use reflector_core::session::StopReason;
use reflector_core::wire::{AfiSafi, AfiSafiSet};
use tokio::sync::{mpsc, Semaphore};
use tracing::{debug, info, warn};

use super::hold_off::HoldOff;
use super::link::{other_configuration_change, Ctl, Link};
use super::peer_setup::PeerSetup;
use super::ToEngine;
use crate::serve::bmp;
use crate::serve::control;
use crate::serve::reload;

/// Input bytes the engine handles before writing output, at most: the decision
/// process and the encoder's working set grow with the changes of one flush.
const ENGINE_BATCH_BYTES: usize = 1 << 20;
/// Output bytes queued for one peer above which the engine waits for its writer.
const HIGH_WATER: usize = 2 << 20;
/// Longest the engine waits for a slow writer before going on anyway.
const MAX_STALL: Duration = Duration::from_secs(2);
/// A peer above [`HIGH_WATER`] whose socket took nothing for this long has
/// stopped reading: its output is paused (the engine keeps the changed
/// prefixes instead of bytes) and nobody waits for it any more.
const NO_PROGRESS: Duration = Duration::from_millis(100);
/// A paused peer is resumed once its queued output falls below this.
pub(super) const LOW_WATER: usize = 256 << 10;

/// Ask the engine for BMP's Loc-RIB dumps and statistics, every second.
pub(super) async fn bmp_ticker(engine: mpsc::WeakSender<ToEngine>) {
    let mut t = tokio::time::interval(Duration::from_secs(1));
    loop {
        t.tick().await;
        let Some(tx) = engine.upgrade() else { return };
        if tx.send(ToEngine::BmpTick).await.is_err() {
            return;
        }
    }
}

/// The family an End-of-RIB marker is for (RFC 4724 §2): an UPDATE with
/// nothing in it (IPv4 unicast), or with only an empty MP_UNREACH_NLRI.
fn end_of_rib(m: &[u8]) -> Option<AfiSafi> {
    // A marker's bytes do not depend on ADD-PATH or the AS width.
    let pkt = reflector_core::wire::UpdatePacket::new_checked(
        m,
        &reflector_core::wire::Context::default(),
    )
    .ok()?;
    pkt.end_of_rib()
}

/// Send a resumed peer its next catch-up step; while more is pending its
/// link stays marked, so its writer reports when it has drained again.
fn catch_up(engine: &mut Engine, id: PeerId, link: &Link) {
    let more = engine.resume_transmit(id);
    for chunk in engine.take_transmit_chunks(id) {
        link.send(chunk);
    }
    if more {
        link.paused.store(true, Ordering::Release);
        // An idle writer looks again and reports at once.
        link.out_ready.notify_one();
    }
}

struct Live {
    conn: u64,
    link: Arc<Link>,
    /// The families the session negotiated.
    families: AfiSafiSet,
    /// Both sides advertised ROUTE-REFRESH.
    route_refresh: bool,
}

/// The name of the peer in a slot, for logs.
fn name(names: &[String], i: usize) -> &str {
    names.get(i).map_or("?", String::as_str)
}

/// Add a peer to the engine with its policies.
fn add_peer(engine: &mut Engine, p: PeerSetup) -> PeerId {
    let id = engine.add_peer(p.config);
    // The peer is down: nothing to refresh yet.
    let _ = engine.set_import_policy(id, p.import);
    engine.set_export_policy(id, p.export);
    id
}

/// Install a new import policy on a peer; a live session is asked for its
/// routes again (ROUTE-REFRESH per family), or reset when it cannot be.
fn reimport(
    engine: &mut Engine,
    id: PeerId,
    policy: Option<Policy>,
    live: Option<&Live>,
    name: &str,
) {
    if engine.set_import_policy(id, policy) != Reimport::Refresh {
        return;
    }
    let Some(l) = live else { return };
    if l.route_refresh {
        let families = [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST]
            .into_iter()
            .filter(|f| l.families.contains(*f) && engine.request_refresh(id, *f))
            .count();
        info!(
            peer = name,
            families, "import policy changed: ROUTE-REFRESH sent"
        );
    } else {
        info!(peer = name, "import policy changed and the peer has no route refresh: session reset (Cease, Other Configuration Change)");
        l.link.control(Ctl::Notify(other_configuration_change()));
    }
}

fn log_counters(engine: &Engine, id: PeerId, name: &str) {
    if let Some(c) = engine.counters(id) {
        info!(
            peer = name,
            updates_received = c.updates_received,
            prefixes_received = c.prefixes_received,
            withdrawals_received = c.withdrawals_received,
            accepted = c.accepted,
            rejected_loop = c.rejected_loop,
            treat_as_withdraw = c.treat_as_withdraw,
            attribute_discard = c.attribute_discard,
            session_resets = c.session_resets,
            updates_sent = c.updates_sent,
            prefixes_sent = c.prefixes_sent,
            withdrawals_sent = c.withdrawals_sent,
            graceful_restarts = c.graceful_restarts,
            stale_marked = c.stale_marked,
            stale_removed = c.stale_removed,
            "peer counters"
        );
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn engine_loop(
    cfg: EngineConfig,
    peers: Vec<PeerSetup>,
    mut rx: mpsc::Receiver<ToEngine>,
    me: mpsc::WeakSender<ToEngine>,
    input: Arc<Semaphore>,
    hold_off: Arc<HoldOff>,
    mut bmp: Option<bmp::EngineSide>,
    (deferral, restarting): (Option<u16>, Arc<AtomicBool>),
) {
    let mut engine = Engine::new(cfg);
    // RFC 4724 §4.1: after a restart, route selection waits for every peer's
    // End-of-RIB (per slot: None while down, else whether it does graceful
    // restart, its families and the End-of-RIBs it sent), or the timer.
    let mut deferred: Vec<Option<(bool, AfiSafiSet, AfiSafiSet)>> =
        peers.iter().map(|_| None).collect();
    if let Some(t) = deferral {
        engine.defer_selection();
        info!(selection_deferral_seconds = t, "graceful restart: restarting speaker, route selection deferred until every peer's End-of-RIB");
        let me = me.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(u64::from(t))).await;
            if let Some(tx) = me.upgrade() {
                let _ = tx.send(ToEngine::DeferralExpired).await;
            }
        });
    }
    let mut live: Vec<Option<Live>> = peers.iter().map(|_| None).collect();
    // Per peer, the number of its latest graceful down: older restart timers are void.
    let mut epochs: Vec<u64> = peers.iter().map(|_| 0).collect();
    let mut names: Vec<String> = peers.iter().map(|p| p.name.clone()).collect();
    // Per slot, the engine's peer (`None` once a reload removed it).
    let mut ids: Vec<Option<PeerId>> = peers
        .into_iter()
        .map(|p| Some(add_peer(&mut engine, p)))
        .collect();

    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        let mut bytes = 0;
        let mut yielded = false;
        while let Some(m) = next.take() {
            match m {
                ToEngine::Up {
                    peer,
                    conn,
                    neg,
                    graceful,
                    route_refresh,
                    link,
                } => {
                    let (Some(&Some(id)), Some(slot)) = (ids.get(peer), live.get_mut(peer)) else {
                        // A reload removed the peer while this session came up.
                        link.control(Ctl::Stop(StopReason::Deconfigured));
                        continue;
                    };
                    if let Some(d) = deferred.get_mut(peer) {
                        *d = Some((graceful.is_some(), neg.families, AfiSafiSet::EMPTY));
                    }
                    match graceful {
                        Some(preserved) => engine.peer_up_graceful(id, neg, preserved),
                        None => engine.peer_up(id, neg),
                    }
                    *slot = Some(Live {
                        conn,
                        link,
                        families: neg.families,
                        route_refresh,
                    });
                }
                ToEngine::Msgs {
                    peer,
                    conn,
                    msgs,
                    budget,
                } => {
                    input.add_permits(budget as usize);
                    let (Some(&Some(id)), Some(slot)) = (ids.get(peer), live.get_mut(peer)) else {
                        continue;
                    };
                    if slot.as_ref().is_none_or(|l| l.conn != conn) {
                        continue;
                    }
                    bytes += msgs.iter().map(Bytes::len).sum::<usize>();
                    if engine.is_deferring() {
                        if let Some(Some((_, _, eor))) = deferred.get_mut(peer) {
                            for m in &msgs {
                                if let Some(f) = end_of_rib(m) {
                                    eor.insert(f);
                                }
                            }
                        }
                    }
                    let hits = engine.counters(id).map_or(0, |c| c.prefix_limit_hits);
                    for m in &msgs {
                        match engine.handle_message(id, m) {
                            Outcome::Accepted { .. } | Outcome::Ignored(_) | Outcome::NotUp => {}
                            Outcome::RouteRefresh(f) => {
                                debug!(peer = name(&names, peer), family = ?f, "route refresh")
                            }
                            Outcome::TreatAsWithdraw(e) => {
                                warn!(peer = name(&names, peer), error = %e, "malformed UPDATE treated as withdraw (RFC 7606)")
                            }
                            Outcome::FamilyDisabled { family, error } => {
                                warn!(peer = name(&names, peer), family = ?family, error = %error, "malformed MP_REACH/MP_UNREACH: family disabled for this session, its routes withdrawn (RFC 7606)")
                            }
                            Outcome::AttributeDiscarded(e) => {
                                warn!(peer = name(&names, peer), error = %e, "malformed attribute discarded (RFC 7606)")
                            }
                            Outcome::Reset { error, .. } => {
                                if error.kind == reflector_core::ErrorKind::MaxPrefixes {
                                    let held = hold_off.start(peer);
                                    warn!(peer = name(&names, peer), hold_off_seconds = ?held, "prefix limit reached: session ended (Cease, Maximum Number of Prefixes Reached)");
                                }
                                if let Some(l) = slot.take() {
                                    l.link.control(Ctl::Fail(error, m.clone()));
                                }
                                log_counters(&engine, id, name(&names, peer));
                                break;
                            }
                        }
                    }
                    if engine
                        .counters(id)
                        .is_some_and(|c| c.prefix_limit_hits > hits)
                        && engine.is_up(id)
                    {
                        warn!(
                            peer = name(&names, peer),
                            ipv4 = engine.accepted_paths(id, AfiSafi::IPV4_UNICAST),
                            ipv6 = engine.accepted_paths(id, AfiSafi::IPV6_UNICAST),
                            "prefix limit crossed (warning only)"
                        );
                    }
                }
                ToEngine::Down {
                    peer,
                    conn,
                    graceful,
                } => {
                    let (Some(&Some(id)), Some(slot)) = (ids.get(peer), live.get_mut(peer)) else {
                        continue;
                    };
                    if slot.as_ref().is_some_and(|l| l.conn == conn) {
                        *slot = None;
                        if let Some(d) = deferred.get_mut(peer) {
                            *d = None;
                        }
                        match graceful {
                            Some((time, families)) => {
                                engine.peer_down_graceful(id, families);
                                let kept = [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST]
                                    .into_iter()
                                    .filter(|f| engine.stale_families(id).contains(*f))
                                    .count();
                                info!(
                                    peer = name(&names, peer),
                                    restart_time = time,
                                    families = kept,
                                    "graceful restart: restart timer armed"
                                );
                                if let Some(e) = epochs.get_mut(peer) {
                                    *e += 1;
                                    let epoch = *e;
                                    let me = me.clone();
                                    tokio::spawn(async move {
                                        tokio::time::sleep(Duration::from_secs(u64::from(time)))
                                            .await;
                                        if let Some(tx) = me.upgrade() {
                                            let _ = tx
                                                .send(ToEngine::RestartExpired { peer, epoch })
                                                .await;
                                        }
                                    });
                                }
                            }
                            None => engine.peer_down(id),
                        }
                        log_counters(&engine, id, name(&names, peer));
                    }
                }
                ToEngine::Drained { peer, conn } => {
                    let (Some(&Some(id)), Some(Some(l))) = (ids.get(peer), live.get(peer)) else {
                        continue;
                    };
                    if l.conn == conn && engine.is_catching_up(id) {
                        if engine.is_paused(id) {
                            info!(
                                peer = name(&names, peer),
                                pending = engine.pending_prefixes(id),
                                "peer reading again: output resumed"
                            );
                        }
                        catch_up(&mut engine, id, &l.link);
                    }
                }
                ToEngine::RestartExpired { peer, epoch } => {
                    let Some(&Some(id)) = ids.get(peer) else {
                        continue;
                    };
                    if epochs.get(peer) == Some(&epoch) {
                        let stale = engine.stale_families(id);
                        engine.restart_timer_expired(id);
                        if !stale.is_empty() {
                            info!(
                                peer = name(&names, peer),
                                "restart timer expired: stale routes removed"
                            );
                        }
                    }
                }
                ToEngine::Reload(job, done) => {
                    for slot in job.remove {
                        if let Some(id) = ids.get_mut(slot).and_then(Option::take) {
                            if let Some(l) = live.get_mut(slot) {
                                *l = None;
                            }
                            log_counters(&engine, id, name(&names, slot));
                            engine.remove_peer(id);
                        }
                    }
                    for p in job.add {
                        names.push(p.name.clone());
                        ids.push(Some(add_peer(&mut engine, p)));
                        live.push(None);
                        epochs.push(0);
                        deferred.push(None);
                    }
                    for reload::PolicyChange {
                        slot,
                        import,
                        export,
                        ..
                    } in job.policies
                    {
                        let Some(&Some(id)) = ids.get(slot) else {
                            continue;
                        };
                        let l = live.get(slot).and_then(Option::as_ref);
                        if let Some(policy) = import {
                            reimport(&mut engine, id, policy, l, name(&names, slot));
                        }
                        if let Some(policy) = export {
                            engine.set_export_policy(id, policy);
                        }
                    }
                    let _ = done.send(());
                }
                ToEngine::DeferralExpired => {
                    if engine.is_deferring() {
                        let held = engine.end_deferral();
                        restarting.store(false, Ordering::Release);
                        info!(sessions = held, "graceful restart: selection deferral timer expired, tables and End-of-RIB sent");
                    }
                }
                ToEngine::BmpTick => {
                    if let Some(b) = bmp.as_mut() {
                        b.tick(&mut engine, &ids);
                    }
                }
                ToEngine::Control(job) => {
                    let side = control::EngineSide {
                        engine: &mut engine,
                        ids: &ids,
                        names: &names,
                        route_refresh: live
                            .iter()
                            .map(|l| l.as_ref().map(|l| l.route_refresh))
                            .collect(),
                    };
                    side.answer(job);
                }
                ToEngine::Finish(done) => {
                    for (i, id) in ids.iter().enumerate() {
                        let Some(id) = id else { continue };
                        log_counters(&engine, *id, name(&names, i));
                    }
                    let m = engine.memory();
                    info!(
                        prefixes = m.prefixes,
                        paths = m.paths,
                        attr_sets = m.attr_sets,
                        table_bytes = m.table_bytes,
                        attr_bytes = m.attr_bytes,
                        "RIB memory"
                    );
                    let _ = done.send(());
                    return;
                }
            }
            if let Some(b) = bmp.as_mut() {
                b.drain(&mut engine);
            }
            if bytes < ENGINE_BATCH_BYTES {
                next = rx.try_recv().ok();
                if next.is_none() && !yielded {
                    // Let connections that are reading queue what they have:
                    // one flush for a burst, not one per message.
                    yielded = true;
                    tokio::task::yield_now().await;
                    next = rx.try_recv().ok();
                }
            }
        }
        // RFC 4724 §4.1 (a): End-of-RIB from every configured peer that does
        // graceful restart (those that do not are not waited for).
        if engine.is_deferring()
            && ids.iter().zip(&deferred).all(|(id, d)| match (id, d) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(_), Some((gr, families, eor))) => {
                    !gr || families.intersection(*eor) == *families
                }
            })
        {
            let held = engine.end_deferral();
            restarting.store(false, Ordering::Release);
            info!(
                sessions = held,
                "graceful restart: End-of-RIB from every peer, tables and End-of-RIB sent"
            );
        }
        for (i, l) in live.iter().enumerate() {
            let (Some(l), Some(&Some(id))) = (l, ids.get(i)) else {
                continue;
            };
            // A paused or catching-up peer is sent more when its writer has drained.
            if l.link.paused.load(Ordering::Acquire) {
                continue;
            }
            // Chunks written once for a class of peers are shared, not copied.
            for chunk in engine.take_transmit_chunks(id) {
                l.link.send(chunk);
            }
            // A fresh session's table goes out a step at a time: the next
            // step when its writer reports the queue drained.
            if engine.is_catching_up(id) && !engine.is_paused(id) {
                l.link.paused.store(true, Ordering::Release);
                l.link.out_ready.notify_one();
            }
        }
        // Backpressure: do not read further ahead than the slowest peer's
        // socket takes. A peer whose socket takes nothing is paused instead,
        // so one stuck peer stalls the others once, for NO_PROGRESS, not for
        // every batch; one that reads slowly is waited for, MAX_STALL at most.
        let start = Instant::now();
        let mut seen: Vec<(usize, u64, Instant)> = Vec::new();
        loop {
            let now = Instant::now();
            let mut over = false;
            for (i, l) in live.iter().enumerate() {
                let Some(l) = l else { continue };
                if l.link.paused.load(Ordering::Relaxed)
                    || l.link.queued.load(Ordering::Relaxed) <= HIGH_WATER
                {
                    continue;
                }
                let written = l.link.written.load(Ordering::Relaxed);
                let at = match seen.iter().position(|(p, ..)| *p == i) {
                    Some(at) => at,
                    None => {
                        seen.push((i, written, now));
                        seen.len() - 1
                    }
                };
                let Some(mark) = seen.get_mut(at) else {
                    continue;
                };
                if mark.1 != written {
                    (mark.1, mark.2) = (written, now);
                } else if now.duration_since(mark.2) >= NO_PROGRESS {
                    if let Some(&Some(id)) = ids.get(i) {
                        engine.pause_transmit(id);
                        l.link.paused.store(true, Ordering::Release);
                        warn!(
                            peer = name(&names, i),
                            queued = l.link.queued.load(Ordering::Relaxed),
                            "peer stopped reading: output paused"
                        );
                        // It may have drained just now: then the writer will not tell us.
                        if l.link.queued.load(Ordering::Relaxed) < LOW_WATER
                            && l.link.paused.swap(false, Ordering::AcqRel)
                        {
                            catch_up(&mut engine, id, &l.link);
                        }
                    }
                    continue;
                }
                over = true;
            }
            if !over || start.elapsed() >= MAX_STALL {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}
