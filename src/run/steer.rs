//! `--step`: a presenter steers the run's clock from the keyboard. The schedule stays one start
//! instant plus each step's offset; what the keys change is one accumulated shift over it. A
//! pause pushes every deadline not yet reached later by the pause's length; "send now" pulls
//! them earlier, so that the step due soonest is due at once and the rest keep their spacing.
//! Each step still records its planned time; its lateness is measured from its shifted deadline.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::shared::Stop;

/// What a presenter's key asks of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Enter: send the step due soonest now (and resume a paused clock).
    SendNow,
    /// `p`: stop the clock, or start it again.
    TogglePause,
    /// `q`: end the run as Ctrl-C does (reports written, exit 130).
    Quit,
}

/// How the clock moved at one key, for the view: deltas since the last move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClockMove {
    /// Deadlines moved later by this (a pause that ended).
    pub later: Duration,
    /// Deadlines moved earlier by this ("send now").
    pub earlier: Duration,
    /// The clock stands still from now on.
    pub paused: bool,
}

/// The accumulated shift over the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Shift {
    later: Duration,
    earlier: Duration,
    paused_since: Option<Instant>,
}

impl Shift {
    fn due(&self, deadline: Instant) -> Instant {
        let later = deadline.checked_add(self.later).unwrap_or(deadline);
        later.checked_sub(self.earlier).unwrap_or(later)
    }
}

/// The run's clock under `--step`.
#[derive(Debug, Default)]
pub(super) struct StepClock {
    shift: watch::Sender<Shift>,
    /// The (unshifted) deadlines orders are waiting for, with how many wait for each.
    waiting: Mutex<BTreeMap<Instant, usize>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Takes a deadline off the waiting list when its wait ends, however it ends.
struct Waiting<'a> {
    clock: &'a StepClock,
    deadline: Instant,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut waiting = lock(&self.clock.waiting);
        if let Some(count) = waiting.get_mut(&self.deadline) {
            *count -= 1;
            if *count == 0 {
                waiting.remove(&self.deadline);
            }
        }
    }
}

impl StepClock {
    /// Waits until `deadline` as the clock has shifted it (never while it stands still);
    /// the shifted deadline it was due at, or None when the run stopped first.
    pub(super) async fn wait(
        &self,
        deadline: Instant,
        mut stop: watch::Receiver<Stop>,
    ) -> Option<Instant> {
        *lock(&self.waiting).entry(deadline).or_insert(0) += 1;
        let _waiting = Waiting {
            clock: self,
            deadline,
        };
        let mut changes = self.shift.subscribe();
        loop {
            if *stop.borrow() != Stop::Running {
                return None;
            }
            let shift = *changes.borrow_and_update();
            let due = shift.due(deadline);
            if shift.paused_since.is_none() && Instant::now() >= due {
                return Some(due);
            }
            let sleep = async {
                match shift.paused_since {
                    None => tokio::time::sleep_until(due).await,
                    Some(_) => std::future::pending().await,
                }
            };
            tokio::select! {
                () = sleep => {}
                _ = changes.changed() => {}
                _ = stop.wait_for(|s| *s != Stop::Running) => return None,
            }
        }
    }

    /// Applies a key (not `Quit`, which stops the run); how the clock moved.
    pub(super) fn steer(&self, control: Control, now: Instant) -> ClockMove {
        let mut moved = ClockMove::default();
        let soonest = lock(&self.waiting).keys().next().copied();
        self.shift.send_modify(|shift| {
            match (control, shift.paused_since) {
                (Control::TogglePause, None) => shift.paused_since = Some(now),
                (Control::TogglePause | Control::SendNow, Some(since)) => {
                    let paused = now.saturating_duration_since(since);
                    shift.later += paused;
                    moved.later = paused;
                    shift.paused_since = None;
                }
                (Control::SendNow | Control::Quit, None) | (Control::Quit, Some(_)) => {}
            }
            if control == Control::SendNow
                && let Some(deadline) = soonest
            {
                let ahead = shift.due(deadline).saturating_duration_since(now);
                // Later then earlier by the same amount is no move at all.
                let undo = ahead.min(moved.later);
                moved.later -= undo;
                moved.earlier = ahead - undo;
                shift.earlier += ahead;
            }
            moved.paused = shift.paused_since.is_some();
        });
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_pause_shifts_the_deadline_by_its_length_and_send_now_makes_it_due_at_once() {
        let clock = std::sync::Arc::new(StepClock::default());
        let (_stop_tx, stop) = watch::channel(Stop::Running);
        let start = Instant::now();
        let waiter = {
            let (clock, stop) = (clock.clone(), stop.clone());
            tokio::spawn(async move { clock.wait(start + Duration::from_secs(60), stop).await })
        };
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(
            clock.steer(Control::TogglePause, Instant::now()),
            ClockMove {
                paused: true,
                ..ClockMove::default()
            }
        );
        tokio::time::sleep(Duration::from_secs(100)).await;
        assert!(
            !waiter.is_finished(),
            "a paused clock lets no deadline pass"
        );
        let resumed = clock.steer(Control::TogglePause, Instant::now());
        assert_eq!(resumed.later, Duration::from_secs(100));
        let due = waiter.await.ok().flatten();
        assert_eq!(due, Some(start + Duration::from_secs(160)));
        assert_eq!(Instant::now(), start + Duration::from_secs(160));

        // Send now: due at once, 29 s early (its deadline is 100 s later since the pause).
        let waiter = {
            let (clock, stop) = (clock.clone(), stop.clone());
            tokio::spawn(async move { clock.wait(start + Duration::from_secs(90), stop).await })
        };
        tokio::time::sleep(Duration::from_secs(1)).await;
        let moved = clock.steer(Control::SendNow, Instant::now());
        assert_eq!(moved.earlier, Duration::from_secs(29));
        assert_eq!(waiter.await.ok().flatten(), Some(Instant::now()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stopped_run_ends_every_wait_even_a_paused_one() {
        let clock = std::sync::Arc::new(StepClock::default());
        let (stop_tx, stop) = watch::channel(Stop::Running);
        clock.steer(Control::TogglePause, Instant::now());
        let waiter = {
            let clock = clock.clone();
            tokio::spawn(async move { clock.wait(Instant::now(), stop).await })
        };
        tokio::time::sleep(Duration::from_secs(5)).await;
        let _ = stop_tx.send(Stop::Interrupted);
        assert_eq!(waiter.await.ok().flatten(), None);
        assert!(lock(&clock.waiting).is_empty(), "the wait left the list");
    }
}
