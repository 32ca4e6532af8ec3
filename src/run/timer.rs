//! Waking a step at its instant, not at the next millisecond.
//!
//! tokio's timer wheel ticks in whole milliseconds: a sleep ends at the first tick after its
//! deadline, so every step would be up to a millisecond late before it even starts. A step's
//! task sleeps on tokio's wheel until shortly before its deadline, then hands the last stretch
//! to one thread that keeps every pending deadline in a heap and sleeps on the OS's own
//! high-resolution timeout to the earliest, waking each task within tens of microseconds.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::mpsc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

/// How long before its deadline a task hands over to the thread: more than the wheel's tick
/// and a loaded machine's wake-up delay.
const LEAD: Duration = Duration::from_millis(3);

type Wake = (std::time::Instant, oneshot::Sender<()>);

/// The deadline thread; it ends when the last handle is dropped.
#[derive(Clone)]
pub(super) struct Timer {
    requests: mpsc::Sender<Wake>,
}

impl Timer {
    /// Starts the thread; None when the system cannot start one (then tokio's wheel alone).
    pub(super) fn start() -> Option<Timer> {
        let (requests, incoming) = mpsc::channel::<Wake>();
        std::thread::Builder::new()
            .name("simulate-timer".to_owned())
            .spawn(move || serve(&incoming))
            .ok()?;
        Some(Timer { requests })
    }

    /// Resolves at `deadline`: on tokio's wheel to [`LEAD`] before it, then on the thread.
    pub(super) async fn sleep_until(&self, deadline: Instant) {
        if let Some(early) = deadline.checked_sub(LEAD)
            && early > Instant::now()
        {
            tokio::time::sleep_until(early).await;
        }
        if deadline <= Instant::now() {
            return;
        }
        let (wake, woken) = oneshot::channel();
        let at = deadline.into_std();
        if self.requests.send((at, wake)).is_err() {
            tokio::time::sleep_until(deadline).await;
            return;
        }
        if woken.await.is_err() {
            // The thread is gone: the wheel still gets it there, a little late.
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// Sleeps to the earliest pending deadline (or the next request), wakes what is due.
fn serve(incoming: &mpsc::Receiver<Wake>) {
    let mut pending: BinaryHeap<Reverse<(std::time::Instant, u64)>> = BinaryHeap::new();
    let mut wakers: std::collections::HashMap<u64, oneshot::Sender<()>> = Default::default();
    let mut next_id = 0_u64;
    loop {
        let now = std::time::Instant::now();
        while let Some(Reverse((at, id))) = pending.peek().copied() {
            if at > now {
                break;
            }
            pending.pop();
            if let Some(wake) = wakers.remove(&id) {
                let _ = wake.send(());
            }
        }
        let request = match pending.peek() {
            Some(Reverse((at, _))) => {
                match incoming.recv_timeout(at.saturating_duration_since(now)) {
                    Ok(request) => Some(request),
                    Err(mpsc::RecvTimeoutError::Timeout) => None,
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
            None => match incoming.recv() {
                Ok(request) => Some(request),
                Err(_) => return,
            },
        };
        if let Some((at, wake)) = request {
            pending.push(Reverse((at, next_id)));
            wakers.insert(next_id, wake);
            next_id += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wakes_at_the_deadline_and_never_before() {
        let Some(timer) = Timer::start() else {
            panic!("the timer thread starts")
        };
        let start = Instant::now();
        let deadlines: Vec<Instant> = [7_u64, 1, 4, 0, 12]
            .iter()
            .map(|ms| start + Duration::from_millis(*ms))
            .collect();
        let waits = deadlines.iter().map(|deadline| {
            let timer = timer.clone();
            let deadline = *deadline;
            async move {
                timer.sleep_until(deadline).await;
                Instant::now() >= deadline
            }
        });
        let woke = futures_join(waits).await;
        assert!(woke.iter().all(|on_time| *on_time), "{woke:?}");
    }

    async fn futures_join<F: std::future::Future<Output = bool> + Send + 'static>(
        futures: impl Iterator<Item = F>,
    ) -> Vec<bool> {
        let mut set = tokio::task::JoinSet::new();
        for future in futures {
            set.spawn(future);
        }
        let mut out = Vec::new();
        while let Some(done) = set.join_next().await {
            out.push(done.unwrap_or(false));
        }
        out
    }
}
