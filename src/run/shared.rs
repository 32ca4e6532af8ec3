//! What every order of a run shares: the client and tokens, the stop signal, `--jobs`
//! permits and the `--rate` limiter.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Mutex, Semaphore, mpsc, watch};
use tokio::time::Instant;

use crate::base::pace::Rate;
use crate::run::platform::Platform;

use super::steer::StepClock;
use super::{Event, NotSent, RunOptions};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    Running,
    Interrupted,
    CredentialsRefused,
}

/// What every order of a run shares.
pub(super) struct Shared {
    pub(super) platform: Arc<dyn Platform>,
    pub(super) options: RunOptions,
    pub(super) rate: Option<RateLimiter>,
    pub(super) permits: Option<Arc<Semaphore>>,
    pub(super) any_failed: AtomicBool,
    pub(super) stop: watch::Sender<Stop>,
    pub(super) events: mpsc::UnboundedSender<Event>,
    /// The run's start: every scenario that starts at once shares it.
    pub(super) start: Instant,
    /// Wakes steps at their instant rather than the next millisecond; None on a paused clock
    /// (the runner's tests), where tokio's wheel is exact.
    pub(super) timer: Option<super::timer::Timer>,
    pub(super) started: DateTime<Utc>,
    /// `--step`: the clock a presenter steers; None for a run that keeps its own time.
    pub(super) clock: Option<Arc<StepClock>>,
}

impl Shared {
    pub(super) fn emit(&self, event: Event) {
        // A closed channel only means nobody is watching; the records still count.
        let _ = self.events.send(event);
    }

    pub(super) fn stopped(&self) -> Option<NotSent> {
        match *self.stop.borrow() {
            Stop::Running => None,
            Stop::Interrupted => Some(NotSent::Interrupted),
            Stop::CredentialsRefused => Some(NotSent::CredentialsRefused),
        }
    }

    pub(super) fn halt(&self, why: Stop) {
        self.stop.send_if_modified(|stop| {
            let first = *stop == Stop::Running;
            if first {
                *stop = why;
            }
            first
        });
    }

    /// Waits for a `--rate` slot; false when the run stopped first (then nothing may be sent).
    pub(super) async fn paced(&self) -> bool {
        let Some(rate) = &self.rate else {
            return self.stopped().is_none();
        };
        let mut stop = self.stop.subscribe();
        tokio::select! {
            () = rate.acquire() => self.stopped().is_none(),
            _ = stop.wait_for(|s| *s != Stop::Running) => false,
        }
    }

    /// Waits for a step's `deadline` (as a steered clock has shifted it); the deadline it
    /// was due at, or None when the run stopped first.
    pub(super) async fn wait_for_step(&self, deadline: Instant) -> Option<Instant> {
        match &self.clock {
            Some(clock) => clock.wait(deadline, self.stop.subscribe()).await,
            None => self.wait_until(deadline).await.then_some(deadline),
        }
    }

    /// Sleeps until `deadline`; false when the run stopped first.
    pub(super) async fn wait_until(&self, deadline: Instant) -> bool {
        let mut stop = self.stop.subscribe();
        if *stop.borrow() != Stop::Running {
            return false;
        }
        let sleep = async {
            match &self.timer {
                Some(timer) => timer.sleep_until(deadline).await,
                None => tokio::time::sleep_until(deadline).await,
            }
        };
        tokio::select! {
            () = sleep => *self.stop.borrow() == Stop::Running,
            _ = stop.wait_for(|s| *s != Stop::Running) => false,
        }
    }
}

/// Spaces calls across the whole run: one slot every `1 / rate` seconds.
pub(super) struct RateLimiter {
    pub(super) interval: Duration,
    pub(super) next: Mutex<Instant>,
}

impl RateLimiter {
    pub(super) fn new(rate: Rate) -> RateLimiter {
        RateLimiter {
            interval: rate.interval(),
            next: Mutex::new(Instant::now()),
        }
    }

    pub(super) async fn acquire(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let slot = (*next).max(Instant::now());
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}
