//! Timed execution of a plan: every scenario at once, the steps of one order strictly in turn,
//! each at a deadline computed from one start instant.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::carriers::Call;
use crate::client::{Answer, CallError, Client, UpdateOrder};
use crate::plan::{Expect, Plan, ScenarioPlan, StepPlan};
use crate::sign::delivery_sign;

/// How a run is paced.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Every delay is divided by this (2.0 runs twice as fast).
    pub speed: f64,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { speed: 1.0 }
    }
}

/// What happened to one step.
#[derive(Debug, Clone)]
pub struct StepRecord {
    /// When the step was due (run start + offset / speed).
    pub planned: DateTime<Utc>,
    /// When the request actually left, if it did.
    pub sent: Option<DateTime<Utc>>,
    /// How long after its deadline the request left.
    pub lateness: Option<Duration>,
    /// From sending to having the answer.
    pub latency: Option<Duration>,
    /// The `action_time` sent (Unix seconds).
    pub action_time: Option<i64>,
    pub outcome: StepOutcome,
}

#[derive(Debug, Clone)]
pub enum StepOutcome {
    /// The answer met the step's expectation.
    Passed(Answer),
    Failed(Failure),
    /// Not sent: an earlier step of the order failed, or the run was interrupted.
    NotSent(NotSent),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotSent {
    EarlierStepFailed,
    Interrupted,
}

#[derive(Debug, Clone)]
pub enum Failure {
    /// The platform answered, but not as the step expected.
    Unexpected { answer: Answer, expected: Expect },
    /// No usable answer.
    Call(CallError),
}

/// WeChat's answers for a token that is wrong, stale or expired.
pub const CREDENTIAL_ERRCODES: [i64; 3] = [40001, 40014, 42001];

impl Failure {
    /// Failures that mean the run could not work at all (exit 3), rather than a step that
    /// did not meet its expectation (exit 1).
    pub fn is_could_not_run(&self) -> bool {
        match self {
            Failure::Call(CallError::Connect { .. }) => true,
            Failure::Unexpected { answer, .. } => CREDENTIAL_ERRCODES.contains(&answer.errcode),
            Failure::Call(_) => false,
        }
    }
}

/// The record of one scenario, step by step, in plan order.
#[derive(Debug, Clone)]
pub struct ScenarioRecord {
    pub steps: Vec<StepRecord>,
}

/// Everything that happened in a run; `scenarios[i]` belongs to `plan.scenarios[i]`.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    pub interrupted: bool,
    pub speed: f64,
    pub scenarios: Vec<ScenarioRecord>,
}

/// Progress, sent as it happens.
#[derive(Debug, Clone)]
pub enum Event {
    /// A request is about to leave.
    StepSending {
        scenario: usize,
        step: usize,
        at: DateTime<Utc>,
    },
    /// A step has its outcome (for a `NotSent` step: the moment it was given up).
    StepFinished {
        scenario: usize,
        step: usize,
        record: StepRecord,
    },
}

/// Runs every scenario of the plan to its end (or until `cancel` turns true) and records it.
pub async fn run(
    plan: &Plan,
    client: &Client,
    options: RunOptions,
    events: mpsc::UnboundedSender<Event>,
    cancel: watch::Receiver<bool>,
) -> RunRecord {
    let start = Instant::now();
    let started = Utc::now();
    let mut tasks = JoinSet::new();
    for (index, scenario) in plan.scenarios.iter().enumerate() {
        let job = OrderJob {
            index,
            scenario: scenario.clone(),
            client: client.clone(),
            speed: options.speed,
            start,
            started,
            events: events.clone(),
            cancel: cancel.clone(),
        };
        tasks.spawn(async move { (index, job.run().await) });
    }
    let mut records: Vec<Option<ScenarioRecord>> = vec![None; plan.scenarios.len()];
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, record)) => records[index] = Some(record),
            // A panicking order task is a bug of ours; the other orders still finish.
            Err(error) => tracing::error!(%error, "an order task ended abnormally"),
        }
    }
    let interrupted = *cancel.borrow();
    RunRecord {
        started,
        finished: Utc::now(),
        interrupted,
        speed: options.speed,
        scenarios: records
            .into_iter()
            .zip(&plan.scenarios)
            .map(|(record, scenario)| record.unwrap_or_else(|| lost(scenario, started)))
            .collect(),
    }
}

/// The record of an order whose task died: nothing in it counts as sent.
fn lost(scenario: &ScenarioPlan, started: DateTime<Utc>) -> ScenarioRecord {
    ScenarioRecord {
        steps: scenario
            .steps
            .iter()
            .map(|_| not_sent(started, NotSent::Interrupted))
            .collect(),
    }
}

fn not_sent(planned: DateTime<Utc>, why: NotSent) -> StepRecord {
    StepRecord {
        planned,
        sent: None,
        lateness: None,
        latency: None,
        action_time: None,
        outcome: StepOutcome::NotSent(why),
    }
}

/// Divides a plan offset by the speed; `speed` is validated to be finite and positive.
pub fn scaled(offset: Duration, speed: f64) -> Duration {
    offset.div_f64(speed)
}

struct OrderJob {
    index: usize,
    scenario: ScenarioPlan,
    client: Client,
    speed: f64,
    start: Instant,
    started: DateTime<Utc>,
    events: mpsc::UnboundedSender<Event>,
    cancel: watch::Receiver<bool>,
}

impl OrderJob {
    async fn run(self) -> ScenarioRecord {
        let mut steps = Vec::with_capacity(self.scenario.steps.len());
        let mut stopped: Option<NotSent> = None;
        let plan_steps = self.scenario.steps.clone();
        for step in &plan_steps {
            let offset = scaled(step.at, self.speed);
            let planned =
                self.started + chrono::Duration::from_std(offset).unwrap_or(chrono::TimeDelta::MAX);
            if stopped.is_none() && !self.wait_until(self.start + offset).await {
                stopped = Some(NotSent::Interrupted);
            }
            let record = match &stopped {
                Some(why) => not_sent(planned, why.clone()),
                None => self.send(step, planned, self.start + offset).await,
            };
            if matches!(record.outcome, StepOutcome::Failed(_)) {
                stopped = Some(NotSent::EarlierStepFailed);
            }
            // A closed channel only means nobody is watching; the record still counts.
            let _ = self.events.send(Event::StepFinished {
                scenario: self.index,
                step: step.index,
                record: record.clone(),
            });
            steps.push(record);
        }
        ScenarioRecord { steps }
    }

    /// Sleeps until `deadline`; false when the run was interrupted first.
    async fn wait_until(&self, deadline: Instant) -> bool {
        if *self.cancel.borrow() {
            return false;
        }
        let mut cancel = self.cancel.clone();
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => !*self.cancel.borrow(),
            _ = cancel.wait_for(|cancelled| *cancelled) => false,
        }
    }

    async fn send(&self, step: &StepPlan, planned: DateTime<Utc>, deadline: Instant) -> StepRecord {
        let scenario = &self.scenario;
        let sent_instant = Instant::now();
        let sent = Utc::now();
        let action_time = sent.timestamp();
        let body = UpdateOrder {
            shopid: scenario.shopid.clone(),
            shop_order_id: scenario.shop_order_id.clone(),
            action_time,
            order_status: step.status.code(),
            action_msg: step.action_msg.clone(),
            delivery_sign: match scenario.carrier.call {
                Call::Realmock => Some(delivery_sign(
                    &scenario.shopid,
                    Some(&scenario.shop_order_id),
                    &scenario.appsecret,
                )),
                Call::TestUpdateOrder => None,
            },
        };
        let _ = self.events.send(Event::StepSending {
            scenario: self.index,
            step: step.index,
            at: sent,
        });
        let result = self.client.update_order(scenario.carrier.call, &body).await;
        let latency = sent_instant.elapsed();
        let outcome = match result {
            Ok(answer) if step.expect.met_by(answer.errcode, answer.resultcode) => {
                StepOutcome::Passed(answer)
            }
            Ok(answer) => StepOutcome::Failed(Failure::Unexpected {
                answer,
                expected: step.expect,
            }),
            Err(error) => StepOutcome::Failed(Failure::Call(error)),
        };
        StepRecord {
            planned,
            sent: Some(sent),
            lateness: Some(sent_instant.saturating_duration_since(deadline)),
            latency: Some(latency),
            action_time: Some(action_time),
            outcome,
        }
    }
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
    }
}
