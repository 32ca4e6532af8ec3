//! Timed execution of a plan: every scenario at once (or `--jobs` at a time), the steps of one
//! order strictly in turn, each at a deadline computed from one start instant.

pub mod client;
mod exchange;
pub mod locate;
mod order;
pub mod platform;
mod record;
pub mod retry;
#[cfg(test)]
mod scripted;
mod shared;
pub mod steer;
mod timer;
pub mod token;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::base::pace::{Rate, Speed};
use crate::model::plan::{Plan, ScenarioPlan};
use crate::run::client::Client;
use crate::run::platform::{Platform, Wechat};
use crate::run::retry::RetryPolicy;
use crate::run::token::TokenSource;

use order::OrderJob;
pub use record::*;
use shared::{RateLimiter, Shared, Stop};
use steer::{Control, StepClock};

/// How a run is paced and how hard it tries.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Every delay is divided by this (2 runs twice as fast).
    pub speed: Speed,
    pub retry: RetryPolicy,
    /// At most this many calls per second across the run.
    pub rate: Option<Rate>,
    /// At most this many scenarios in flight.
    pub jobs: Option<usize>,
    /// After the first failure, start no new scenario.
    pub fail_fast: bool,
    /// After each accepted step, ask `order/get` whether the order really got there.
    pub verify: bool,
    /// Seeds the retry jitter, so a run can be repeated.
    pub seed: u64,
    /// The openid for `order/add` when a scenario gives none (the local emulator's placeholder).
    pub fallback_openid: Option<String>,
    /// `--max-lateness`: a step sent later than this fails the run, as a k6 threshold does.
    pub max_lateness: Option<Duration>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            speed: Speed::REAL_TIME,
            retry: RetryPolicy::default(),
            rate: None,
            jobs: None,
            fail_fast: false,
            verify: false,
            seed: 0,
            fallback_openid: None,
            max_lateness: None,
        }
    }
}

/// Runs every scenario of the plan to its end (or until `cancel` turns true) and records it.
pub async fn run(
    plan: &Arc<Plan>,
    client: &Client,
    tokens: Arc<TokenSource>,
    options: RunOptions,
    events: mpsc::UnboundedSender<Event>,
    cancel: watch::Receiver<bool>,
) -> RunRecord {
    let platform = Arc::new(Wechat {
        client: client.clone(),
        tokens,
    });
    run_on_steered(
        plan,
        platform,
        options,
        events,
        cancel,
        None,
        timer::Timer::start(),
    )
    .await
}

/// [`run`] with its clock steered by `controls` (`--step`: keys from the terminal).
pub async fn run_steered(
    plan: &Arc<Plan>,
    client: &Client,
    tokens: Arc<TokenSource>,
    options: RunOptions,
    events: mpsc::UnboundedSender<Event>,
    cancel: watch::Receiver<bool>,
    controls: mpsc::UnboundedReceiver<Control>,
) -> RunRecord {
    let platform = Arc::new(Wechat {
        client: client.clone(),
        tokens,
    });
    run_on_steered(
        plan,
        platform,
        options,
        events,
        cancel,
        Some(controls),
        timer::Timer::start(),
    )
    .await
}

/// [`run`] against any platform (the runner's tests script one), on tokio's clock alone (which
/// the tests pause).
#[cfg(test)]
pub async fn run_on(
    plan: &Arc<Plan>,
    platform: Arc<dyn Platform>,
    options: RunOptions,
    events: mpsc::UnboundedSender<Event>,
    cancel: watch::Receiver<bool>,
) -> RunRecord {
    run_on_steered(plan, platform, options, events, cancel, None, None).await
}

/// [`run_on`], its clock steered by `controls` when given; `timer` wakes steps at their
/// instant (None on tokio's clock alone, which a paused test clock needs).
async fn run_on_steered(
    plan: &Arc<Plan>,
    platform: Arc<dyn Platform>,
    options: RunOptions,
    events: mpsc::UnboundedSender<Event>,
    mut cancel: watch::Receiver<bool>,
    controls: Option<mpsc::UnboundedReceiver<Control>>,
    timer: Option<timer::Timer>,
) -> RunRecord {
    let (stop, _) = watch::channel(Stop::Running);
    let started = Utc::now();
    let shared = Arc::new(Shared {
        platform,
        rate: options.rate.map(RateLimiter::new),
        permits: options.jobs.map(|n| Arc::new(Semaphore::new(n.max(1)))),
        options: options.clone(),
        any_failed: AtomicBool::new(false),
        stop,
        events,
        start: Instant::now(),
        started,
        clock: controls.is_some().then(|| Arc::new(StepClock::default())),
        timer,
    });
    let watcher = {
        let shared = shared.clone();
        tokio::spawn(async move {
            if cancel.wait_for(|c| *c).await.is_ok() {
                shared.halt(Stop::Interrupted);
            }
        })
    };
    let steering = controls.map(|mut controls| {
        let shared = shared.clone();
        tokio::spawn(async move {
            while let Some(control) = controls.recv().await {
                let Some(clock) = &shared.clock else { break };
                if control == Control::Quit {
                    shared.halt(Stop::Interrupted);
                    break;
                }
                let moved = clock.steer(control, Instant::now());
                shared.emit(Event::ClockMoved(moved));
            }
        })
    });
    shared.emit(Event::RunStarted { at: started });
    let mut tasks = JoinSet::new();
    let mut records: Vec<Option<ScenarioRecord>> = vec![None; plan.scenarios.len()];
    for (index, scenario) in plan.scenarios.iter().enumerate() {
        // With --jobs, scenarios take their turns in plan (path) order.
        let permit = match &shared.permits {
            Some(permits) => {
                let mut stop = shared.stop.subscribe();
                tokio::select! {
                    permit = permits.clone().acquire_owned() => permit.ok(),
                    _ = stop.wait_for(|s| *s != Stop::Running) => None,
                }
            }
            None => None,
        };
        let early_stop = shared.stopped().or_else(|| {
            (shared.options.fail_fast && shared.any_failed.load(Ordering::SeqCst))
                .then_some(NotSent::FailFast)
        });
        if let Some(why) = early_stop {
            let record = not_started(scenario, Utc::now(), why);
            for (step, step_record) in record.steps.iter().enumerate() {
                shared.emit(Event::StepFinished {
                    scenario: index,
                    step,
                    record: step_record.into(),
                });
            }
            shared.emit(Event::scenario_finished(index, &record));
            records[index] = Some(record);
            continue;
        }
        let job = OrderJob {
            index,
            plan: Arc::clone(plan),
            shared: shared.clone(),
        };
        tasks.spawn(async move {
            let record = job.run(permit.is_some()).await;
            drop(permit);
            (index, record)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, record)) => records[index] = Some(record),
            // A panicking order task is a bug of ours; the other orders still finish, and the
            // lost one counts as failed (below), never as passed.
            Err(error) => tracing::error!(%error, "an order task ended abnormally"),
        }
    }
    watcher.abort();
    if let Some(steering) = steering {
        steering.abort();
    }
    let scenarios: Vec<ScenarioRecord> = records
        .into_iter()
        .zip(&plan.scenarios)
        .enumerate()
        .map(|(index, (record, scenario))| {
            record.unwrap_or_else(|| {
                let record = lost(scenario, started);
                shared.emit(Event::scenario_finished(index, &record));
                record
            })
        })
        .collect();
    let finished = Utc::now();
    shared.emit(Event::RunFinished);
    let stop = *shared.stop.borrow();
    RunRecord {
        started,
        finished,
        interrupted: stop == Stop::Interrupted,
        credentials_refused: stop == Stop::CredentialsRefused,
        options,
        scenarios,
    }
}

/// The record of an order whose task died: its first step failed, the rest were not sent.
/// The record of a run interrupted before its first call: every step not sent.
pub fn interrupted_before_start(plan: &Plan, options: RunOptions) -> RunRecord {
    let now = Utc::now();
    RunRecord {
        started: now,
        finished: now,
        interrupted: true,
        credentials_refused: false,
        options,
        scenarios: plan
            .scenarios
            .iter()
            .map(|scenario| not_started(scenario, now, NotSent::Interrupted))
            .collect(),
    }
}

fn lost(scenario: &ScenarioPlan, started: DateTime<Utc>) -> ScenarioRecord {
    let mut record = not_started(scenario, started, NotSent::EarlierStepFailed);
    if let Some(first) = record.steps.first_mut() {
        first.outcome = StepOutcome::Failed(Failure::Internal(
            "the order's task stopped unexpectedly (a bug in simulate); what it sent is not known"
                .to_owned(),
        ));
    }
    record
}

fn not_started(scenario: &ScenarioPlan, started: DateTime<Utc>, why: NotSent) -> ScenarioRecord {
    ScenarioRecord {
        started,
        finished: started,
        order: None,
        steps: scenario
            .steps
            .iter()
            .map(|_| not_sent(started, why))
            .collect(),
    }
}

fn not_sent(planned: DateTime<Utc>, why: NotSent) -> StepRecord {
    StepRecord {
        planned,
        sent: None,
        lateness: None,
        latency: None,
        attempts: Vec::new(),
        verified: None,
        outcome: StepOutcome::NotSent(why),
    }
}

/// `start + offset`, or a moment too far away to matter when that overflows.
fn deadline(start: Instant, offset: Duration) -> Instant {
    start
        .checked_add(offset)
        .unwrap_or_else(|| start + Duration::from_secs(100 * 365 * 24 * 3600))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::plan::Expect;
    use crate::run::client::CallError;
    use crate::wechat::body::Answer;

    #[test]
    fn credential_errors_and_unreachable_endpoints_mean_could_not_run() {
        let answer = |errcode| Failure::Unexpected {
            answer: Answer {
                errcode,
                ..Answer::default()
            },
            expected: Expect::Ok,
        };
        assert!(answer(42001).is_could_not_run());
        assert!(answer(40001).is_could_not_run());
        assert!(!answer(930565).is_could_not_run());
        let connect = Failure::Call(CallError::Connect {
            endpoint: "http://127.0.0.1:9".into(),
            detail: "refused".into(),
        });
        assert!(connect.is_could_not_run());
        assert!(!Failure::Call(CallError::Timeout(Duration::from_secs(1))).is_could_not_run());
        let unknown = Failure::OutcomeUnknown(Unsettled {
            call: CallKind::Update,
            last_try: Box::new(Failure::Call(CallError::Timeout(Duration::from_secs(1)))),
            questions: Vec::new(),
            stopped: true,
        });
        assert!(!unknown.is_could_not_run());
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_limiter_spaces_calls() {
        let Some(ten) = Rate::new(10.0) else {
            panic!("10 calls a second is a rate")
        };
        let limiter = RateLimiter::new(ten);
        let start = Instant::now();
        for _ in 0..5 {
            limiter.acquire().await;
        }
        // Slots at 0, 100, 200, 300, 400 ms.
        assert_eq!(start.elapsed(), Duration::from_millis(400));
    }
}
