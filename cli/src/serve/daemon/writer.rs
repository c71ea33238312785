//! The output side of a connection: a writer task drains its [`Link`]'s
//! queue into the socket and tells the engine when a paused peer has drained.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;

use super::engine_task::LOW_WATER;
use super::link::Link;
use super::ToEngine;
use crate::serve::{bmp, heap};

/// Tell the engine a paused or catching-up peer's queue has drained below [`LOW_WATER`].
async fn report_drained(link: &Link, drained: &Option<(mpsc::Sender<ToEngine>, usize, u64)>) {
    if link.queued.load(Ordering::Relaxed) < LOW_WATER && link.paused.swap(false, Ordering::AcqRel)
    {
        if let Some((tx, peer, conn)) = drained {
            let _ = tx
                .send(ToEngine::Drained {
                    peer: *peer,
                    conn: *conn,
                })
                .await;
        }
    }
}

/// Chunks a writer hands to one vectored write, at most.
const WRITE_CHUNKS: usize = 64;

pub(super) async fn writer(
    mut wr: OwnedWriteHalf,
    link: Arc<Link>,
    drained: Option<(mpsc::Sender<ToEngine>, usize, u64)>,
    bmp: Option<(bmp::Bmp, usize)>,
) {
    let mut pending: VecDeque<Bytes> = VecDeque::new();
    // Bytes written since the writer was last idle.
    let mut burst: u64 = 0;
    loop {
        {
            let mut st = link.state();
            // Everything queued so far goes out in one vectored write.
            let n = st.out.len().min(WRITE_CHUNKS);
            if let Some((b, slot)) = &bmp {
                for c in st.out.iter().take(n) {
                    b.adj_rib_out(*slot, c);
                }
            }
            pending.extend(st.out.drain(..n));
            if st.out.is_empty() && st.out.capacity() > WRITE_CHUNKS {
                st.out.shrink_to_fit();
            }
            if pending.is_empty() && st.closed {
                break;
            }
        }
        if pending.is_empty() {
            if burst >= heap::BURST {
                heap::freed();
            }
            burst = 0;
            report_drained(&link, &drained).await;
            link.out_ready.notified().await;
            continue;
        }
        let total: usize = pending.iter().map(Bytes::len).sum();
        let res = write_all_vectored(&mut wr, &mut pending).await;
        let q = &link.queued;
        q.fetch_sub(total.min(q.load(Ordering::Relaxed)), Ordering::Relaxed);
        link.written.fetch_add(total as u64, Ordering::Relaxed);
        burst += total as u64;
        report_drained(&link, &drained).await;
        if res.is_err() {
            // Nobody waits for this peer's output any more.
            let mut st = link.state();
            st.broken = true;
            st.out = VecDeque::new();
            q.store(0, Ordering::Relaxed);
            heap::freed();
            return;
        }
    }
    heap::freed();
    let _ = wr.shutdown().await;
}

/// Write every chunk of `pending`, as few system calls as the socket allows.
async fn write_all_vectored(
    wr: &mut OwnedWriteHalf,
    pending: &mut VecDeque<Bytes>,
) -> std::io::Result<()> {
    use bytes::Buf;
    while !pending.is_empty() {
        let slices: Vec<std::io::IoSlice<'_>> =
            pending.iter().map(|b| std::io::IoSlice::new(b)).collect();
        let mut n = wr.write_vectored(&slices).await?;
        drop(slices);
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        while let Some(front) = pending.front_mut() {
            if n < front.len() {
                front.advance(n);
                break;
            }
            n -= front.len();
            pending.pop_front();
        }
    }
    Ok(())
}
