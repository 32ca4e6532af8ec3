//! What a run records: attempts, step outcomes and failures, per-scenario and per-run
//! records, and the events sent as things happen.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use rust_i18n::t;

use crate::base::i18n::Lang;
use crate::model::plan::Expect;
use crate::model::statuses::Status;
use crate::run::client::CallError;
use crate::run::token::TokenError;
use crate::wechat::body::Answer;

use super::RunOptions;

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

#[derive(Debug, Clone)]
pub enum AttemptResult {
    Answer(Answer),
    /// No usable answer, with its kind kept for the reports.
    Error(CallError),
    /// An error as an earlier report tells it (`simulate report merge`): its message and kind.
    Reported {
        message: String,
        kind: &'static str,
    },
}

impl Serialize for AttemptResult {
    /// `{"answer": {…}}` or `{"error": "message", "error_kind": "timeout"}`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        match self {
            AttemptResult::Answer(answer) => map.serialize_entry("answer", answer)?,
            AttemptResult::Error(error) => {
                map.serialize_entry("error", &error.to_string())?;
                map.serialize_entry("error_kind", error.kind())?;
            }
            AttemptResult::Reported { message, kind } => {
                map.serialize_entry("error", message)?;
                map.serialize_entry("error_kind", kind)?;
            }
        }
        map.end()
    }
}

/// What happened to one step.
#[derive(Debug, Clone)]
pub struct StepRecord {
    /// When the step was due (scenario start + offset / speed).
    pub planned: DateTime<Utc>,
    /// When its first request left, if one did.
    pub sent: Option<DateTime<Utc>>,
    /// From its deadline to the moment its first request was handed to the connection
    /// (after the `--rate` wait, the token and the body are done; connection setup is latency).
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
    /// Why the step was not sent, in English (as machine-readable reports keep it).
    pub fn describe(self) -> String {
        self.describe_in(Lang::En)
    }

    /// Why the step was not sent, for people.
    pub fn describe_in(self, lang: Lang) -> String {
        let locale = lang.code();
        match self {
            NotSent::EarlierStepFailed => t!("not_sent.earlier_step_failed", locale = locale),
            NotSent::Interrupted => t!("not_sent.interrupted", locale = locale),
            NotSent::CredentialsRefused => t!("not_sent.credentials_refused", locale = locale),
            NotSent::FailFast => t!("not_sent.fail_fast", locale = locale),
            NotSent::OrderNotCreated => t!("not_sent.order_not_created", locale = locale),
        }
        .into_owned()
    }
}

#[derive(Debug, Clone)]
pub enum Failure {
    /// The platform answered, but not as the step expected.
    Unexpected { answer: Answer, expected: Expect },
    /// No usable answer.
    Call(CallError),
    /// The request may have reached the platform, and nobody can say whether it took effect.
    OutcomeUnknown(Unsettled),
    /// `--verify`: the platform accepted the step, but the order is elsewhere (`actual` is
    /// the platform's code, which may be one we do not know).
    VerifyMismatch { expected: Status, actual: i64 },
    /// The run stopped before the call could be made.
    Interrupted,
    /// No access token could be had.
    Token(TokenError),
    /// A bug of ours stopped the order's task; what it had done is lost.
    Internal(String),
    /// A failure as an earlier report tells it (`simulate report merge`): its kind and message.
    Reported { kind: &'static str, message: String },
}

impl Failure {
    /// Failures that mean the run could not work at all (exit 3), rather than a step that
    /// did not meet its expectation (exit 1).
    pub fn is_could_not_run(&self) -> bool {
        match self {
            Failure::Call(CallError::Connect { .. }) | Failure::Token(_) => true,
            Failure::Reported { kind, .. } => COULD_NOT_RUN_KINDS.contains(kind),
            Failure::Unexpected { answer, .. } => {
                crate::wechat::errcode::TOKEN_REFUSED.contains(&answer.errcode)
            }
            _ => false,
        }
    }

    /// Short machine-readable kind, for reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::Unexpected { .. } => "unexpected_answer",
            Failure::Call(error) => error.kind(),
            Failure::Interrupted => "interrupted",
            Failure::Internal(_) => "internal",
            Failure::OutcomeUnknown(_) => "outcome_unknown",
            Failure::VerifyMismatch { .. } => "verify_mismatch",
            Failure::Token(error) if error.is_refusal() => "credentials",
            Failure::Token(_) => "token_unavailable",
            Failure::Reported { kind, .. } => kind,
        }
    }

    /// One of the kinds [`Failure::kind`] and [`CallError::kind`] give, as `'static` text;
    /// None for a kind no version of `simulate` writes.
    pub fn known_kind(kind: &str) -> Option<&'static str> {
        KINDS.iter().copied().find(|known| *known == kind)
    }
}

/// Every kind a failure or a failed attempt can have (the report schema's list).
const KINDS: &[&str] = &[
    "unexpected_answer",
    "unreachable",
    "timeout",
    "http_error",
    "unreadable_answer",
    "request_failed",
    "outcome_unknown",
    "verify_mismatch",
    "credentials",
    "connection_dropped",
    "internal",
    "token_unavailable",
    "interrupted",
];

/// The kinds [`Failure::is_could_not_run`] counts (an unreachable endpoint, no token).
const COULD_NOT_RUN_KINDS: &[&str] = &["unreachable", "credentials", "token_unavailable"];

/// Why nobody can say whether a call took effect: what its last try got and what each
/// `order/get` asked after it got.
#[derive(Debug, Clone)]
pub struct Unsettled {
    pub call: CallKind,
    /// The last try's failure: an ambiguous answer or a call error.
    pub last_try: Box<Failure>,
    /// What the questions asked after the last try got, in order.
    pub questions: Vec<Unanswered>,
    /// The run stopped before order/get could say.
    pub stopped: bool,
}

/// The call whose outcome is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    Update,
    Add,
}

/// What an `order/get` question got instead of an answer that says.
#[derive(Debug, Clone)]
pub enum Unanswered {
    Answer(Answer),
    Error(CallError),
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
    /// The body sent to `order/add`, its `delivery_sign` shown as `***`.
    pub request: serde_json::Value,
    /// The last answer `order/add` gave, if any.
    pub answer: Option<Answer>,
}

/// The record of one scenario, step by step, in plan order.
#[derive(Debug, Clone)]
pub struct ScenarioRecord {
    pub started: DateTime<Utc>,
    /// When its last step had its outcome (or was given up): with `started`, the order's
    /// wall-clock duration.
    pub finished: DateTime<Utc>,
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

/// A step sent later than `--max-lateness` allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LateStep {
    pub scenario: usize,
    pub step: usize,
    pub lateness: Duration,
}

impl RunRecord {
    /// The steps that broke `--max-lateness` (sent strictly later than it), in plan order;
    /// none without the option. Any of them fails the run, whatever its answer.
    pub fn late_steps(&self) -> Vec<LateStep> {
        let Some(max) = self.options.max_lateness else {
            return Vec::new();
        };
        self.scenarios
            .iter()
            .enumerate()
            .flat_map(|(scenario, record)| {
                record
                    .steps
                    .iter()
                    .enumerate()
                    .filter_map(move |(step, s)| {
                        s.lateness
                            .filter(|late| *late > max)
                            .map(|lateness| LateStep {
                                scenario,
                                step,
                                lateness,
                            })
                    })
            })
            .collect()
    }
}

/// How a scenario's steps ended, counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub steps: usize,
    pub passed: usize,
    pub failed: usize,
    pub not_sent: usize,
}

impl Counts {
    pub fn of(steps: &[StepRecord]) -> Counts {
        let mut counts = Counts::default();
        for step in steps {
            counts.steps += 1;
            match step.outcome {
                StepOutcome::Passed(_) => counts.passed += 1,
                StepOutcome::Failed(_) => counts.failed += 1,
                StepOutcome::NotSent(_) => counts.not_sent += 1,
            }
        }
        counts
    }

    pub fn add(&mut self, other: &Counts) {
        self.steps += other.steps;
        self.passed += other.passed;
        self.failed += other.failed;
        self.not_sent += other.not_sent;
    }
}

/// A finished step as the console, the live view and the events see it: its times and
/// outcome without its attempts, so that no event copies a whole record (the run keeps it).
#[derive(Debug, Clone)]
pub struct StepNote {
    pub planned: DateTime<Utc>,
    pub sent: Option<DateTime<Utc>>,
    pub lateness: Option<Duration>,
    pub latency: Option<Duration>,
    /// How many attempts it took.
    pub attempts: usize,
    pub outcome: StepOutcome,
}

impl From<&StepRecord> for StepNote {
    fn from(record: &StepRecord) -> StepNote {
        StepNote {
            planned: record.planned,
            sent: record.sent,
            lateness: record.lateness,
            latency: record.latency,
            attempts: record.attempts.len(),
            outcome: record.outcome.clone(),
        }
    }
}

/// How `order/add` went, as events tell it (without the request the record keeps).
#[derive(Debug, Clone)]
pub struct OrderNote {
    pub sent: DateTime<Utc>,
    pub attempts: usize,
    pub waybill_id: Option<String>,
    pub failure: Option<Failure>,
}

impl From<&OrderRecord> for OrderNote {
    fn from(record: &OrderRecord) -> OrderNote {
        OrderNote {
            sent: record.sent,
            attempts: record.attempts,
            waybill_id: record.waybill_id.clone(),
            failure: record.failure.clone(),
        }
    }
}

/// Progress, sent as it happens.
#[derive(Debug, Clone)]
pub enum Event {
    RunStarted {
        at: DateTime<Utc>,
    },
    /// A scenario's order begins (with `--jobs`, once it has its turn).
    ScenarioStarted {
        scenario: usize,
        at: DateTime<Utc>,
    },
    /// A scenario is over: every step has its outcome (or was given up).
    ScenarioFinished {
        scenario: usize,
        started: DateTime<Utc>,
        finished: DateTime<Utc>,
        counts: Counts,
    },
    /// The scenario's order was created (or could not be).
    OrderCreated {
        scenario: usize,
        record: OrderNote,
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
        record: StepNote,
    },
    /// Every scenario is over (the record's `finished` says when).
    RunFinished,
    /// `--step`: a key moved the clock.
    ClockMoved(super::steer::ClockMove),
}

impl Event {
    /// The event that says `record`'s scenario is over.
    pub fn scenario_finished(scenario: usize, record: &ScenarioRecord) -> Event {
        Event::ScenarioFinished {
            scenario,
            started: record.started,
            finished: record.finished,
            counts: Counts::of(&record.steps),
        }
    }
}

fn ser_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(lateness: Option<u64>) -> StepRecord {
        StepRecord {
            planned: Utc::now(),
            sent: lateness.map(|_| Utc::now()),
            lateness: lateness.map(Duration::from_millis),
            latency: None,
            attempts: Vec::new(),
            verified: None,
            outcome: StepOutcome::Passed(Answer::default()),
        }
    }

    fn run(max: Option<u64>, latenesses: &[&[Option<u64>]]) -> RunRecord {
        RunRecord {
            started: Utc::now(),
            finished: Utc::now(),
            interrupted: false,
            credentials_refused: false,
            options: RunOptions {
                max_lateness: max.map(Duration::from_millis),
                ..RunOptions::default()
            },
            scenarios: latenesses
                .iter()
                .map(|steps| ScenarioRecord {
                    started: Utc::now(),
                    finished: Utc::now(),
                    order: None,
                    steps: steps.iter().map(|l| step(*l)).collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_step_later_than_max_lateness_breaks_it_and_one_just_on_time_does_not() {
        let steps: &[&[Option<u64>]] = &[&[Some(3), Some(250), None], &[Some(200), Some(1200)]];
        assert_eq!(run(None, steps).late_steps(), [], "no threshold, no breach");
        assert_eq!(
            run(Some(200), steps).late_steps(),
            [
                LateStep {
                    scenario: 0,
                    step: 1,
                    lateness: Duration::from_millis(250)
                },
                LateStep {
                    scenario: 1,
                    step: 1,
                    lateness: Duration::from_millis(1200)
                },
            ],
            "strictly later than the threshold; unsent steps have no lateness"
        );
        assert_eq!(run(Some(1200), steps).late_steps(), []);
    }
}
