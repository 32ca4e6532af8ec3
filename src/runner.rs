//! Timed execution of a plan: every scenario at once (or `--jobs` at a time), the steps of one
//! order strictly in turn, each at a deadline computed from one start instant.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Serialize;
use tokio::sync::{Mutex, Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::carriers::Call;
use crate::client::{Answer, CallError, Client, OrderState, UpdateOrder};
use crate::plan::{Expect, OrderCreate, Plan, ScenarioPlan, StepPlan};
use crate::retry::{RetryPolicy, Transient, transient_answer, transient_error};
use crate::sign::delivery_sign;
use crate::token::{TokenError, TokenSource};

/// How a run is paced and how hard it tries.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Every delay is divided by this (2.0 runs twice as fast).
    pub speed: f64,
    pub retry: RetryPolicy,
    /// At most this many calls per second across the run.
    pub rate: Option<f64>,
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
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            speed: 1.0,
            retry: RetryPolicy::default(),
            rate: None,
            jobs: None,
            fail_fast: false,
            verify: false,
            seed: 0,
            fallback_openid: None,
        }
    }
}

/// One try at sending a step.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    pub sent: DateTime<Utc>,
    /// The `action_time` sent (Unix seconds).
    pub action_time: i64,
    #[serde(serialize_with = "ser_millis")]
    pub latency: Duration,
    /// The backoff waited before this attempt.
    #[serde(serialize_with = "ser_millis")]
    pub waited: Duration,
    pub result: AttemptResult,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptResult {
    Answer(Answer),
    Error(String),
}

/// What happened to one step.
#[derive(Debug, Clone)]
pub struct StepRecord {
    /// When the step was due (scenario start + offset / speed).
    pub planned: DateTime<Utc>,
    /// When its first request left, if one did.
    pub sent: Option<DateTime<Utc>>,
    /// How long after its deadline the first request left.
    pub lateness: Option<Duration>,
    /// From sending the first request to having the outcome.
    pub latency: Option<Duration>,
    pub attempts: Vec<Attempt>,
    /// With `--verify`: the status `order/get` reported after the step.
    pub verified: Option<i64>,
    pub outcome: StepOutcome,
}

#[derive(Debug, Clone)]
pub enum StepOutcome {
    /// The answer met the step's expectation.
    Passed(Answer),
    Failed(Failure),
    NotSent(NotSent),
}

/// Why a step was never sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotSent {
    EarlierStepFailed,
    Interrupted,
    /// The platform refused the credentials; the run stopped.
    CredentialsRefused,
    /// `--fail-fast`: another scenario failed before this one started.
    FailFast,
    /// The scenario's `order:` could not be created.
    OrderNotCreated,
}

impl NotSent {
    pub fn describe(self) -> &'static str {
        match self {
            NotSent::EarlierStepFailed => "not sent (an earlier step failed)",
            NotSent::Interrupted => "not sent (interrupted)",
            NotSent::CredentialsRefused => "not sent (the credentials were refused)",
            NotSent::FailFast => "not sent (--fail-fast after another scenario failed)",
            NotSent::OrderNotCreated => "not sent (the order could not be created)",
        }
    }
}

#[derive(Debug, Clone)]
pub enum Failure {
    /// The platform answered, but not as the step expected.
    Unexpected { answer: Answer, expected: Expect },
    /// No usable answer.
    Call(CallError),
    /// The request may have reached the platform, and nobody can say whether it took effect.
    OutcomeUnknown(String),
    /// `--verify`: the platform accepted the step, but the order is elsewhere.
    VerifyMismatch { expected: u16, actual: i64 },
    /// No access token could be had.
    Token(TokenError),
    /// A bug of ours stopped the order's task; what it had done is lost.
    Internal(String),
}

/// `order/get` for an order the platform does not know.
const ORDER_NOT_FOUND: i64 = 930563;
/// `order/add` for an order that already exists.
const ORDER_EXISTS: i64 = 930562;

/// WeChat's answers for a token that is wrong, stale or expired.
pub const CREDENTIAL_ERRCODES: [i64; 3] = [40001, 40014, 42001];

impl Failure {
    /// Failures that mean the run could not work at all (exit 3), rather than a step that
    /// did not meet its expectation (exit 1).
    pub fn is_could_not_run(&self) -> bool {
        match self {
            Failure::Call(CallError::Connect { .. }) | Failure::Token(_) => true,
            Failure::Unexpected { answer, .. } => CREDENTIAL_ERRCODES.contains(&answer.errcode),
            _ => false,
        }
    }

    /// Short machine-readable kind, for reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::Unexpected { .. } => "unexpected_answer",
            Failure::Call(CallError::Connect { .. }) => "unreachable",
            Failure::Call(CallError::Timeout(_)) => "timeout",
            Failure::Call(CallError::Http { .. }) => "http_error",
            Failure::Call(CallError::Body(_)) => "unreadable_answer",
            Failure::Call(CallError::Other(_)) => "request_failed",
            Failure::Call(CallError::Dropped(_)) => "connection_dropped",
            Failure::Internal(_) => "internal",
            Failure::OutcomeUnknown(_) => "outcome_unknown",
            Failure::VerifyMismatch { .. } => "verify_mismatch",
            Failure::Token(_) => "credentials",
        }
    }
}

/// How the scenario's order was created through `order/add`, when it asked for that.
#[derive(Debug, Clone)]
pub struct OrderRecord {
    pub sent: DateTime<Utc>,
    pub attempts: usize,
    /// The carrier's waybill, when the answer gave one.
    pub waybill_id: Option<String>,
    /// `None` when the order exists (created now, or already there: 930562).
    pub failure: Option<Failure>,
}

/// The record of one scenario, step by step, in plan order.
#[derive(Debug, Clone)]
pub struct ScenarioRecord {
    pub started: DateTime<Utc>,
    pub order: Option<OrderRecord>,
    pub steps: Vec<StepRecord>,
}

/// Everything that happened in a run; `scenarios[i]` belongs to `plan.scenarios[i]`.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    pub interrupted: bool,
    /// The platform refused the credentials and the run stopped.
    pub credentials_refused: bool,
    pub options: RunOptions,
    pub scenarios: Vec<ScenarioRecord>,
}

/// Progress, sent as it happens.
#[derive(Debug, Clone)]
pub enum Event {
    RunStarted {
        at: DateTime<Utc>,
    },
    /// The scenario's order was created (or could not be).
    OrderCreated {
        scenario: usize,
        record: OrderRecord,
    },
    /// A request is about to leave.
    StepSending {
        scenario: usize,
        step: usize,
        attempt: usize,
        at: DateTime<Utc>,
    },
    /// An attempt came back (or failed to).
    StepAnswered {
        scenario: usize,
        step: usize,
        attempt: Attempt,
    },
    /// A step has its outcome (for a `NotSent` step: the moment it was given up).
    StepFinished {
        scenario: usize,
        step: usize,
        record: StepRecord,
    },
    RunFinished {
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Running,
    Interrupted,
    CredentialsRefused,
}

/// What every order of a run shares.
struct Shared {
    client: Client,
    tokens: Arc<TokenSource>,
    options: RunOptions,
    rate: Option<RateLimiter>,
    permits: Option<Arc<Semaphore>>,
    any_failed: AtomicBool,
    stop: watch::Sender<Stop>,
    events: mpsc::UnboundedSender<Event>,
    /// The run's start: every scenario that starts at once shares it.
    start: Instant,
    started: DateTime<Utc>,
}

impl Shared {
    fn emit(&self, event: Event) {
        // A closed channel only means nobody is watching; the records still count.
        let _ = self.events.send(event);
    }

    fn stopped(&self) -> Option<NotSent> {
        match *self.stop.borrow() {
            Stop::Running => None,
            Stop::Interrupted => Some(NotSent::Interrupted),
            Stop::CredentialsRefused => Some(NotSent::CredentialsRefused),
        }
    }

    fn halt(&self, why: Stop) {
        self.stop.send_if_modified(|stop| {
            let first = *stop == Stop::Running;
            if first {
                *stop = why;
            }
            first
        });
    }

    /// Waits for a `--rate` slot; false when the run stopped first (then nothing may be sent).
    async fn paced(&self) -> bool {
        let Some(rate) = &self.rate else {
            return self.stopped().is_none();
        };
        let mut stop = self.stop.subscribe();
        tokio::select! {
            () = rate.acquire() => self.stopped().is_none(),
            _ = stop.wait_for(|s| *s != Stop::Running) => false,
        }
    }

    /// Sleeps until `deadline`; false when the run stopped first.
    async fn wait_until(&self, deadline: Instant) -> bool {
        let mut stop = self.stop.subscribe();
        if *stop.borrow() != Stop::Running {
            return false;
        }
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => *self.stop.borrow() == Stop::Running,
            _ = stop.wait_for(|s| *s != Stop::Running) => false,
        }
    }
}

/// Spaces calls across the whole run: one slot every `1 / rate` seconds.
struct RateLimiter {
    interval: Duration,
    next: Mutex<Instant>,
}

impl RateLimiter {
    fn new(per_second: f64) -> RateLimiter {
        RateLimiter {
            interval: Duration::from_secs_f64(1.0 / per_second),
            next: Mutex::new(Instant::now()),
        }
    }

    async fn acquire(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let slot = (*next).max(Instant::now());
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// Runs every scenario of the plan to its end (or until `cancel` turns true) and records it.
pub async fn run(
    plan: &Plan,
    client: &Client,
    tokens: Arc<TokenSource>,
    options: RunOptions,
    events: mpsc::UnboundedSender<Event>,
    mut cancel: watch::Receiver<bool>,
) -> RunRecord {
    let (stop, _) = watch::channel(Stop::Running);
    let started = Utc::now();
    let shared = Arc::new(Shared {
        client: client.clone(),
        tokens,
        rate: options.rate.map(RateLimiter::new),
        permits: options.jobs.map(|n| Arc::new(Semaphore::new(n.max(1)))),
        options: options.clone(),
        any_failed: AtomicBool::new(false),
        stop,
        events,
        start: Instant::now(),
        started,
    });
    let watcher = {
        let shared = shared.clone();
        tokio::spawn(async move {
            if cancel.wait_for(|c| *c).await.is_ok() {
                shared.halt(Stop::Interrupted);
            }
        })
    };
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
                    record: step_record.clone(),
                });
            }
            records[index] = Some(record);
            continue;
        }
        let job = OrderJob {
            index,
            scenario: scenario.clone(),
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
    let finished = Utc::now();
    shared.emit(Event::RunFinished { at: finished });
    let stop = *shared.stop.borrow();
    RunRecord {
        started,
        finished,
        interrupted: stop == Stop::Interrupted,
        credentials_refused: stop == Stop::CredentialsRefused,
        options,
        scenarios: records
            .into_iter()
            .zip(&plan.scenarios)
            .map(|(record, scenario)| record.unwrap_or_else(|| lost(scenario, started)))
            .collect(),
    }
}

/// The record of an order whose task died: its first step failed, the rest were not sent.
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

/// Divides a plan offset by the speed; `speed` is validated to be finite and positive.
pub fn scaled(offset: Duration, speed: f64) -> Duration {
    Duration::try_from_secs_f64(offset.as_secs_f64() / speed).unwrap_or(Duration::MAX)
}

/// `start + offset`, or a moment too far away to matter when that overflows.
fn deadline(start: Instant, offset: Duration) -> Instant {
    start
        .checked_add(offset)
        .unwrap_or_else(|| start + Duration::from_secs(100 * 365 * 24 * 3600))
}

struct OrderJob {
    index: usize,
    scenario: ScenarioPlan,
    shared: Arc<Shared>,
}

impl OrderJob {
    /// Plays the order; `own_start` when it waited for its turn and keeps its own timeline.
    async fn run(self, own_start: bool) -> ScenarioRecord {
        let shared = self.shared.clone();
        let (start, started) = if own_start {
            (Instant::now(), Utc::now())
        } else {
            (shared.start, shared.started)
        };
        let mut steps = Vec::with_capacity(self.scenario.steps.len());
        let mut stopped: Option<NotSent> = None;
        let order = match &self.scenario.order {
            Some(create) => {
                let record = self.create_order(create).await;
                if record.failure.is_some() {
                    shared.any_failed.store(true, Ordering::SeqCst);
                    stopped = Some(NotSent::OrderNotCreated);
                }
                shared.emit(Event::OrderCreated {
                    scenario: self.index,
                    record: record.clone(),
                });
                Some(record)
            }
            None => None,
        };
        for step in &self.scenario.steps {
            let offset = scaled(step.at, shared.options.speed);
            let planned = chrono::Duration::from_std(offset)
                .ok()
                .and_then(|d| started.checked_add_signed(d))
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            let deadline = deadline(start, offset);
            if stopped.is_none() && !shared.wait_until(deadline).await {
                stopped = shared.stopped();
            }
            let record = match stopped {
                Some(why) => not_sent(planned, why),
                None => self.send(step, planned, deadline).await,
            };
            if matches!(record.outcome, StepOutcome::Failed(_)) {
                shared.any_failed.store(true, Ordering::SeqCst);
                stopped = Some(NotSent::EarlierStepFailed);
            }
            shared.emit(Event::StepFinished {
                scenario: self.index,
                step: step.index,
                record: record.clone(),
            });
            steps.push(record);
        }
        ScenarioRecord {
            started,
            order,
            steps,
        }
    }

    /// `order/add` for the scenario's order, retrying what is transient. An order that is
    /// already there (930562) counts as created.
    async fn create_order(&self, create: &OrderCreate) -> OrderRecord {
        let shared = &self.shared;
        let body = create.signed_body(&self.sign(), shared.options.fallback_openid.as_deref());
        let mut record = OrderRecord {
            sent: Utc::now(),
            attempts: 0,
            waybill_id: None,
            failure: None,
        };
        let mut rng = StdRng::seed_from_u64(
            shared.options.seed ^ ((self.index as u64) << 32) ^ u64::from(u32::MAX),
        );
        let (mut waited, mut retries, mut renewed) = (Duration::ZERO, 0u32, false);
        loop {
            if !shared.paced().await {
                record.failure = Some(Failure::Call(interrupted()));
                return record;
            }
            let token = match shared.tokens.get().await {
                Ok(token) => token,
                Err(error) => {
                    shared.halt(Stop::CredentialsRefused);
                    record.failure = Some(Failure::Token(error));
                    return record;
                }
            };
            record.attempts += 1;
            let added = shared.client.order_add(&body, &token).await;
            let added =
                added.map(|(answer, state)| (answer.redacted(&[&self.scenario.appsecret]), state));
            let (failure, transient) = match added {
                Ok((answer, state)) if answer.is_success() || answer.errcode == ORDER_EXISTS => {
                    record.waybill_id = state.map(|s| s.waybill_id).filter(|w| !w.is_empty());
                    return record;
                }
                Ok((answer, _)) if CREDENTIAL_ERRCODES.contains(&answer.errcode) => {
                    if !renewed && let Some(Ok(_)) = shared.tokens.renew(&token).await {
                        renewed = true;
                        continue;
                    }
                    shared.halt(Stop::CredentialsRefused);
                    (
                        Failure::Unexpected {
                            answer,
                            expected: Expect::Ok,
                        },
                        None,
                    )
                }
                Ok((answer, _)) => {
                    let transient = transient_answer(&answer);
                    (
                        Failure::Unexpected {
                            answer,
                            expected: Expect::Ok,
                        },
                        transient,
                    )
                }
                // Did it take? An order that exists now was created by that call.
                Err(error @ (CallError::Timeout(_) | CallError::Dropped(_))) => {
                    match self.order_get(&token).await {
                        Ok((answer, Some(state))) if answer.is_success() => {
                            record.waybill_id = Some(state.waybill_id).filter(|w| !w.is_empty());
                            return record;
                        }
                        _ => (Failure::Call(error), Some(Transient::NotSent)),
                    }
                }
                Err(error) => {
                    let transient = transient_error(&error);
                    (Failure::Call(error), transient)
                }
            };
            retries += 1;
            let delay = transient
                .and_then(|why| shared.options.retry.delay(retries, why, waited, &mut rng));
            match delay {
                Some(delay) if shared.wait_until(Instant::now() + delay).await => waited += delay,
                _ => {
                    record.failure = Some(failure);
                    return record;
                }
            }
        }
    }

    fn sign(&self) -> String {
        delivery_sign(
            &self.scenario.shopid,
            Some(&self.scenario.shop_order_id),
            &self.scenario.appsecret,
        )
    }

    /// Sends a step, retrying what is transient, and decides its outcome.
    async fn send(&self, step: &StepPlan, planned: DateTime<Utc>, deadline: Instant) -> StepRecord {
        let shared = &self.shared;
        let scenario = &self.scenario;
        let first = Instant::now();
        let mut record = StepRecord {
            planned,
            sent: None,
            lateness: None,
            latency: None,
            attempts: Vec::new(),
            verified: None,
            outcome: StepOutcome::NotSent(NotSent::Interrupted),
        };
        // Per-step seed: the same run seed gives the same jitter, whatever the interleaving.
        let mut rng = StdRng::seed_from_u64(
            shared.options.seed ^ ((self.index as u64) << 32) ^ step.index as u64,
        );
        let mut waited = Duration::ZERO;
        let mut retries = 0u32;
        let mut renewed = false;
        let mut unknown = false;
        let mut last_failure: Option<Failure> = None;
        let outcome = loop {
            if !shared.paced().await {
                break match last_failure.take() {
                    Some(failure) => StepOutcome::Failed(failure),
                    None => StepOutcome::NotSent(NotSent::Interrupted),
                };
            }
            let token = match shared.tokens.get().await {
                Ok(token) => token,
                Err(error) => {
                    shared.halt(Stop::CredentialsRefused);
                    break StepOutcome::Failed(Failure::Token(error));
                }
            };
            // After a timeout the update may have taken: ask before sending it again, every time.
            if unknown {
                match self.ask_after_timeout(step, &token).await {
                    Ok(Some(confirmed)) => break StepOutcome::Passed(confirmed),
                    Ok(None) => unknown = false,
                    // The question itself may fail transiently: ask again later, within budget.
                    Err(detail) => {
                        retries += 1;
                        let delay = shared.options.retry.delay(
                            retries,
                            Transient::NotSent,
                            waited,
                            &mut rng,
                        );
                        match delay {
                            Some(delay) if shared.wait_until(Instant::now() + delay).await => {
                                waited += delay;
                                continue;
                            }
                            _ => break StepOutcome::Failed(Failure::OutcomeUnknown(detail)),
                        }
                    }
                }
            }
            let sent_instant = Instant::now();
            let sent = Utc::now();
            if record.sent.is_none() {
                record.sent = Some(sent);
                record.lateness = Some(sent_instant.saturating_duration_since(deadline));
            }
            let body = UpdateOrder {
                shopid: scenario.shopid.clone(),
                shop_order_id: scenario.shop_order_id.clone(),
                action_time: sent.timestamp(),
                order_status: step.status.code(),
                action_msg: step.action_msg.clone(),
                delivery_sign: match scenario.carrier.call {
                    Call::Realmock => Some(self.sign()),
                    Call::TestUpdateOrder => None,
                },
            };
            shared.emit(Event::StepSending {
                scenario: self.index,
                step: step.index,
                attempt: record.attempts.len(),
                at: sent,
            });
            let result = shared
                .client
                .update_order(scenario.carrier.call, &body, &token)
                .await
                .map(|answer| answer.redacted(&[&scenario.appsecret]));
            let attempt = Attempt {
                sent,
                action_time: body.action_time,
                latency: sent_instant.elapsed(),
                waited: if record.attempts.is_empty() {
                    Duration::ZERO
                } else {
                    waited
                },
                result: match &result {
                    Ok(answer) => AttemptResult::Answer(answer.clone()),
                    Err(error) => AttemptResult::Error(error.to_string()),
                },
            };
            shared.emit(Event::StepAnswered {
                scenario: self.index,
                step: step.index,
                attempt: attempt.clone(),
            });
            record.attempts.push(attempt);

            let (failure, transient) = match result {
                Ok(answer) if step.expect.met_by(answer.errcode, answer.resultcode) => {
                    break StepOutcome::Passed(answer);
                }
                Ok(answer) if CREDENTIAL_ERRCODES.contains(&answer.errcode) => {
                    if !renewed && let Some(Ok(_)) = shared.tokens.renew(&token).await {
                        renewed = true;
                        continue;
                    }
                    shared.halt(Stop::CredentialsRefused);
                    break StepOutcome::Failed(Failure::Unexpected {
                        answer,
                        expected: step.expect,
                    });
                }
                Ok(answer) => {
                    let transient = transient_answer(&answer);
                    (
                        Failure::Unexpected {
                            answer,
                            expected: step.expect,
                        },
                        transient,
                    )
                }
                // Retried only after order/get shows it did not take (at the top of the loop).
                Err(CallError::Timeout(limit)) => {
                    unknown = true;
                    (
                        Failure::OutcomeUnknown(format!(
                            "no answer within {}; the update may or may not have taken effect",
                            crate::duration::format_duration(limit)
                        )),
                        Some(Transient::NotSent),
                    )
                }
                Err(CallError::Dropped(detail)) => {
                    unknown = true;
                    (
                        Failure::OutcomeUnknown(format!(
                            "the connection closed before an answer ({detail}); the update may or may not have taken effect"
                        )),
                        Some(Transient::NotSent),
                    )
                }
                Err(error) => {
                    let transient = transient_error(&error);
                    (Failure::Call(error), transient)
                }
            };
            let Some(why) = transient else {
                break StepOutcome::Failed(failure);
            };
            retries += 1;
            let Some(delay) = shared.options.retry.delay(retries, why, waited, &mut rng) else {
                if unknown && let Ok(Some(confirmed)) = self.ask_after_timeout(step, &token).await {
                    break StepOutcome::Passed(confirmed);
                }
                break StepOutcome::Failed(failure);
            };
            tracing::debug!(scenario = %scenario.name, step = step.index + 1, ?delay, "retrying");
            waited += delay;
            if !shared.wait_until(Instant::now() + delay).await {
                break StepOutcome::Failed(failure);
            }
            last_failure = Some(failure);
        };
        record.outcome = outcome;
        if shared.options.verify
            && step.expect == Expect::Ok
            && let StepOutcome::Passed(_) = record.outcome
        {
            self.verify(step, &mut record).await;
        }
        record.latency = Some(first.elapsed());
        record
    }

    /// `order/get` for this order.
    async fn order_get(
        &self,
        token: &crate::secret::Secret,
    ) -> Result<(Answer, Option<OrderState>), CallError> {
        // Questions count against --rate like every other call, and stop with the run.
        if !self.shared.paced().await {
            return Err(interrupted());
        }
        let scenario = &self.scenario;
        self.shared
            .client
            .order_get(
                &scenario.shopid,
                &scenario.shop_order_id,
                &self.sign(),
                token,
            )
            .await
            .map(|(answer, state)| (answer.redacted(&[&scenario.appsecret]), state))
    }

    /// After a timeout: did the update take? `Some` answer when `order/get` shows the order at
    /// the step's status, `None` when it does not, `Err` when no one can tell.
    async fn ask_after_timeout(
        &self,
        step: &StepPlan,
        token: &crate::secret::Secret,
    ) -> Result<Option<Answer>, String> {
        match self.order_get(token).await {
            Ok((answer, Some(state))) if answer.is_success() => {
                if state.order_status == i64::from(step.status.code()) {
                    Ok(Some(Answer {
                        resultmsg: "confirmed by order/get after the answer timed out".to_owned(),
                        ..Answer::default()
                    }))
                } else {
                    Ok(None)
                }
            }
            // No such order: the update certainly did not take (it would have created it).
            Ok((answer, _)) if answer.errcode == ORDER_NOT_FOUND => Ok(None),
            Ok((answer, _)) => Err(format!(
                "the call timed out and order/get could not say whether it took effect (errcode {} {})",
                answer.errcode, answer.errmsg
            )),
            Err(error) => Err(format!(
                "the call timed out and order/get could not say whether it took effect ({error})"
            )),
        }
    }

    async fn verify(&self, step: &StepPlan, record: &mut StepRecord) {
        let token = match self.shared.tokens.get().await {
            Ok(token) => token,
            Err(error) => {
                record.outcome = StepOutcome::Failed(Failure::Token(error));
                return;
            }
        };
        record.outcome = match self.order_get(&token).await {
            Ok((answer, Some(state))) if answer.is_success() => {
                record.verified = Some(state.order_status);
                if state.order_status == i64::from(step.status.code()) {
                    return;
                }
                StepOutcome::Failed(Failure::VerifyMismatch {
                    expected: step.status.code(),
                    actual: state.order_status,
                })
            }
            Ok((answer, _)) => StepOutcome::Failed(Failure::Unexpected {
                answer,
                expected: Expect::Ok,
            }),
            Err(error) => StepOutcome::Failed(Failure::Call(error)),
        };
    }
}

/// Why a call did not go out after Ctrl-C.
fn interrupted() -> CallError {
    CallError::Other("interrupted before the call went out".to_owned())
}

fn ser_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_divides_offsets() {
        assert_eq!(
            scaled(Duration::from_secs(60), 60.0),
            Duration::from_secs(1)
        );
        assert_eq!(
            scaled(Duration::from_millis(300), 1.0),
            Duration::from_millis(300)
        );
        assert_eq!(scaled(Duration::from_secs(1), 0.5), Duration::from_secs(2));
    }

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
        assert!(!Failure::OutcomeUnknown("?".into()).is_could_not_run());
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_limiter_spaces_calls() {
        let limiter = RateLimiter::new(10.0);
        let start = Instant::now();
        for _ in 0..5 {
            limiter.acquire().await;
        }
        // Slots at 0, 100, 200, 300, 400 ms.
        assert_eq!(start.elapsed(), Duration::from_millis(400));
    }
}
