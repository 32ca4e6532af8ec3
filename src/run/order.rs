//! One order's life: create it if asked, then each step at its deadline, retrying what is
//! transient and asking `order/get` when an answer never came.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::time::Instant;

use crate::base::secret::Secret;
use crate::model::plan::{Expect, OrderCreate, Plan, ScenarioPlan, StepPlan};
use crate::run::client::CallError;
use crate::run::platform::{HandedAt, StateAnswer};
use crate::run::retry::{ambiguous_answer, transient_answer, transient_error};
use crate::wechat::body::{Answer, OrderGet, OrderState, Signature, UpdateOrder};
use crate::wechat::errcode::{ORDER_EXISTS, ORDER_NOT_FOUND, TOKEN_REFUSED};
use crate::wechat::sign::delivery_sign;

use super::exchange::{self, Confirmation, End, Exchange, Verdict};
use super::shared::Shared;
use super::{
    Attempt, AttemptResult, CallKind, Event, Failure, NotSent, OrderRecord, ScenarioRecord,
    StepOutcome, StepRecord, Unanswered, deadline, not_sent,
};

pub(super) struct OrderJob {
    pub(super) index: usize,
    /// The run's plan, shared by every order (never a copy per order).
    pub(super) plan: Arc<Plan>,
    pub(super) shared: Arc<Shared>,
}

impl OrderJob {
    fn scenario(&self) -> &ScenarioPlan {
        &self.plan.scenarios[self.index]
    }

    /// Plays the order; `own_start` when it waited for its turn and keeps its own timeline.
    pub(super) async fn run(self, own_start: bool) -> ScenarioRecord {
        let shared = self.shared.clone();
        let (start, started) = if own_start {
            (Instant::now(), Utc::now())
        } else {
            (shared.start, shared.started)
        };
        shared.emit(Event::ScenarioStarted {
            scenario: self.index,
            at: Utc::now(),
        });
        let mut steps = Vec::with_capacity(self.scenario().steps.len());
        let mut stopped: Option<NotSent> = None;
        let order = match &self.scenario().order {
            Some(create) => {
                // Boxed, as each step's send below: an order waiting for its time keeps only
                // its own small state, not the HTTP call's (a run holds one task per order).
                let record = Box::pin(self.create_order(create)).await;
                if record.failure.is_some() {
                    shared.any_failed.store(true, Ordering::SeqCst);
                    stopped = Some(NotSent::OrderNotCreated);
                }
                shared.emit(Event::OrderCreated {
                    scenario: self.index,
                    record: (&record).into(),
                });
                Some(record)
            }
            None => None,
        };
        for step in &self.scenario().steps {
            let offset = step.planned_offset(shared.options.speed);
            let planned = step
                .planned_at(&started, shared.options.speed)
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            let mut due = deadline(start, offset);
            if stopped.is_none() {
                match shared.wait_for_step(due).await {
                    // A steered clock (--step) may have moved it.
                    Some(at) => due = at,
                    None => stopped = shared.stopped(),
                }
            }
            let record = match stopped {
                Some(why) => not_sent(planned, why),
                None => Box::pin(self.send(step, planned, due)).await,
            };
            if matches!(record.outcome, StepOutcome::Failed(_)) {
                shared.any_failed.store(true, Ordering::SeqCst);
                // A step cut short by Ctrl-C failed as last seen, but what stops the order
                // is the interrupt: its retries might have got through.
                stopped = Some(shared.stopped().unwrap_or(NotSent::EarlierStepFailed));
            }
            shared.emit(Event::StepFinished {
                scenario: self.index,
                step: step.index,
                record: (&record).into(),
            });
            steps.push(record);
        }
        let record = ScenarioRecord {
            started,
            finished: Utc::now(),
            order,
            steps,
        };
        shared.emit(Event::scenario_finished(self.index, &record));
        record
    }

    /// `order/add` for the scenario's order, retrying what is transient. An order that is
    /// already there (930562) counts as created.
    async fn create_order(&self, create: &OrderCreate) -> OrderRecord {
        let shared = &self.shared;
        let fallback = shared.options.fallback_openid.as_deref();
        let mut record = OrderRecord {
            sent: Utc::now(),
            attempts: 0,
            waybill_id: None,
            failure: None,
            // As sent, but for the signature: reports show the request, never a credential.
            request: create.signed_body(crate::base::secret::REDACTED, fallback),
            answer: None,
        };
        let mut rng = StdRng::seed_from_u64(
            shared.options.seed ^ ((self.index as u64) << 32) ^ u64::from(u32::MAX),
        );
        let mut exchange = CreateOrder {
            job: self,
            body: create.signed_body(&self.sign(), fallback),
            record: &mut record,
        };
        match exchange::drive(shared, &mut exchange, &mut rng).await {
            End::Done(waybill_id) => record.waybill_id = waybill_id,
            End::Failed(failure) | End::Interrupted(Some(failure)) => {
                record.failure = Some(failure)
            }
            End::Interrupted(None) => record.failure = Some(Failure::Interrupted),
        }
        record
    }

    fn sign(&self) -> String {
        delivery_sign(
            &self.scenario().shopid,
            Some(&self.scenario().shop_order_id),
            &self.scenario().appsecret,
        )
    }

    /// Sends a step, retrying what is transient, and decides its outcome.
    async fn send(&self, step: &StepPlan, planned: DateTime<Utc>, deadline: Instant) -> StepRecord {
        let shared = &self.shared;
        let first = Instant::now();
        // Until it has an outcome, a step counts as not sent.
        let mut record = not_sent(planned, NotSent::Interrupted);
        // Per-step seed: the same run seed gives the same jitter, whatever the interleaving.
        let mut rng = StdRng::seed_from_u64(
            shared.options.seed ^ ((self.index as u64) << 32) ^ step.index as u64,
        );
        let mut exchange = SendStep {
            job: self,
            step,
            deadline,
            record: &mut record,
        };
        let outcome = match exchange::drive(shared, &mut exchange, &mut rng).await {
            End::Done(answer) => StepOutcome::Passed(answer),
            End::Failed(failure) | End::Interrupted(Some(failure)) => StepOutcome::Failed(failure),
            End::Interrupted(None) => StepOutcome::NotSent(NotSent::Interrupted),
        };
        record.outcome = outcome;
        // A first push gives a Vec room for four attempts; a step usually takes one, and the
        // record is kept for the whole run.
        record.attempts.shrink_to_fit();
        if shared.options.verify
            && step.expect == Expect::Ok
            && let StepOutcome::Passed(_) = record.outcome
        {
            self.verify(step, &mut record).await;
        }
        record.latency = Some(first.elapsed());
        record
    }

    /// `order/get` for this order; `None` when the run stopped before it could be asked.
    async fn order_get(&self, token: &Secret) -> Option<StateAnswer> {
        // Questions count against --rate like every other call, and stop with the run.
        if !self.shared.paced().await {
            return None;
        }
        let scenario = self.scenario();
        let body = OrderGet::for_order(scenario, Signature::Computed);
        let asked = self.shared.platform.order_get(&body, token).await;
        Some(asked.map(|(answer, state)| (answer.redacted(&[&scenario.appsecret]), state)))
    }

    /// `--verify`: asks `order/get` where the order is after an accepted step. A run stopped
    /// before the question leaves the step passed and unverified.
    async fn verify(&self, step: &StepPlan, record: &mut StepRecord) {
        let token = match self.shared.platform.token().await {
            Ok(token) => token,
            Err(_) if self.shared.stopped().is_some() => return,
            Err(error) => {
                record.outcome = StepOutcome::Failed(Failure::Token(error));
                return;
            }
        };
        let Some(asked) = self.order_get(&token).await else {
            return;
        };
        let answered = matches!(&asked, Ok((answer, Some(_))) if answer.is_success());
        if !answered && self.shared.stopped().is_some() {
            // Interrupted mid-question (the emulator may have got the same Ctrl-C): the
            // platform accepted the step, and nothing says otherwise.
            return;
        }
        record.outcome = match asked {
            Ok((answer, Some(state))) if answer.is_success() => {
                record.verified = Some(state.order_status);
                if state.order_status == i64::from(step.status.code()) {
                    return;
                }
                StepOutcome::Failed(Failure::VerifyMismatch {
                    expected: step.status,
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

/// `order/add` as an exchange: done when the order exists; the waybill, if the answer gave one.
struct CreateOrder<'a> {
    job: &'a OrderJob,
    body: serde_json::Value,
    record: &'a mut OrderRecord,
}

impl Exchange for CreateOrder<'_> {
    type Output = Option<String>;
    const CALL: CallKind = CallKind::Add;

    async fn attempt(&mut self, token: &Secret, _waited: Duration) -> Verdict<Option<String>> {
        let platform = &self.job.shared.platform;
        self.record.attempts += 1;
        let added = platform.order_add(&self.body, token).await;
        let added = added
            .map(|(answer, state)| (answer.redacted(&[&self.job.scenario().appsecret]), state));
        if let Ok((answer, _)) = &added {
            self.record.answer = Some(answer.clone());
        }
        match added {
            Ok((answer, state)) if answer.is_success() || answer.errcode == ORDER_EXISTS => {
                Verdict::Done(waybill(state))
            }
            // Did it take? An order that exists now was created by that call.
            Ok((answer, _)) if ambiguous_answer(&answer) => Verdict::Unknown(Failure::Unexpected {
                answer,
                expected: Expect::Ok,
            }),
            Ok((answer, _)) => judge_answer(answer, Expect::Ok),
            Err(error) if may_have_applied(&error) => Verdict::Unknown(Failure::Call(error)),
            Err(error) => judge_error(error),
        }
    }

    async fn confirm(&mut self, token: &Secret) -> Confirmation<Option<String>> {
        match self.job.order_get(token).await {
            Some(Ok((answer, Some(state)))) if answer.is_success() => {
                Confirmation::Applied(waybill(Some(state)))
            }
            Some(Ok((answer, _))) if answer.errcode == ORDER_NOT_FOUND => Confirmation::NotApplied,
            Some(Ok((answer, _))) => Confirmation::CannotTell(Unanswered::Answer(answer)),
            Some(Err(error)) => Confirmation::CannotTell(Unanswered::Error(error)),
            None => Confirmation::Stopped,
        }
    }
}

fn waybill(state: Option<OrderState>) -> Option<String> {
    state.map(|s| s.waybill_id).filter(|w| !w.is_empty())
}

/// One step's status update as an exchange: done when the answer meets the step's expectation.
struct SendStep<'a> {
    job: &'a OrderJob,
    step: &'a StepPlan,
    deadline: Instant,
    record: &'a mut StepRecord,
}

impl Exchange for SendStep<'_> {
    type Output = Answer;
    const CALL: CallKind = CallKind::Update;

    async fn attempt(&mut self, token: &Secret, waited: Duration) -> Verdict<Answer> {
        let (shared, scenario, step) = (&self.job.shared, self.job.scenario(), self.step);
        let sent_instant = Instant::now();
        let sent = Utc::now();
        let first = self.record.sent.is_none();
        if first {
            self.record.sent = Some(sent);
        }
        let body = UpdateOrder::for_step(scenario, step, sent.timestamp(), Signature::Computed);
        shared.emit(Event::StepSending {
            scenario: self.job.index,
            step: step.index,
            attempt: self.record.attempts.len(),
            at: sent,
        });
        let handed = HandedAt::new();
        let result = shared
            .platform
            .update_order(scenario.carrier.call, &body, token, &handed)
            .await
            .map(|answer| answer.redacted(&[&scenario.appsecret]));
        if first {
            // From the planned instant to the request handed to the connection (README).
            let at = handed.get().copied().unwrap_or(sent_instant);
            let late = at.saturating_duration_since(self.deadline);
            // Whole microseconds, as the reports give it (`lateness_us`).
            self.record.lateness = Some(Duration::from_micros(
                u64::try_from(late.as_micros()).unwrap_or(u64::MAX),
            ));
        }
        let attempt = Attempt {
            sent,
            action_time: body.action_time,
            latency: sent_instant.elapsed(),
            waited,
            result: match &result {
                Ok(answer) => AttemptResult::Answer(answer.clone()),
                Err(error) => AttemptResult::Error(error.clone()),
            },
        };
        shared.emit(Event::StepAnswered {
            scenario: self.job.index,
            step: step.index,
            attempt: attempt.clone(),
        });
        self.record.attempts.push(attempt);
        match result {
            Ok(answer) if step.expect.met_by(answer.errcode, answer.resultcode) => {
                Verdict::Done(answer)
            }
            // Sent again only after order/get shows it did not take.
            Ok(answer) if ambiguous_answer(&answer) => Verdict::Unknown(Failure::Unexpected {
                answer,
                expected: step.expect,
            }),
            Ok(answer) => judge_answer(answer, step.expect),
            Err(error) if may_have_applied(&error) => Verdict::Unknown(Failure::Call(error)),
            Err(error) => judge_error(error),
        }
    }

    /// Did the update take? Applied when `order/get` shows the order at the step's status.
    async fn confirm(&mut self, token: &Secret) -> Confirmation<Answer> {
        match self.job.order_get(token).await {
            Some(Ok((answer, Some(state)))) if answer.is_success() => {
                if state.order_status == i64::from(self.step.status.code()) {
                    Confirmation::Applied(Answer {
                        resultmsg: "confirmed by order/get after an answer that did not say"
                            .to_owned(),
                        ..Answer::default()
                    })
                } else {
                    Confirmation::NotApplied
                }
            }
            // No such order: the update certainly did not take (it would have created it).
            Some(Ok((answer, _))) if answer.errcode == ORDER_NOT_FOUND => Confirmation::NotApplied,
            Some(Ok((answer, _))) => Confirmation::CannotTell(Unanswered::Answer(answer)),
            Some(Err(error)) => Confirmation::CannotTell(Unanswered::Error(error)),
            None => Confirmation::Stopped,
        }
    }
}

/// Whether a call that got no usable answer may have been applied: anything after the
/// request could have reached the platform (a timeout, a dropped connection, an HTTP 5xx
/// from a proxy that forwarded it, a 200 that is not the platform's JSON).
fn may_have_applied(error: &CallError) -> bool {
    matches!(
        error,
        CallError::Timeout(_)
            | CallError::Dropped(_)
            | CallError::Body(_)
            | CallError::Http { status: 500.., .. }
    )
}

/// An answer that did not meet `expected`: a refused token, a busy platform or a final no.
pub(super) fn judge_answer<T>(answer: Answer, expected: Expect) -> Verdict<T> {
    let refused_token = TOKEN_REFUSED.contains(&answer.errcode);
    let transient = transient_answer(&answer);
    let failure = Failure::Unexpected { answer, expected };
    match transient {
        _ if refused_token => Verdict::TokenRefused(failure),
        Some(why) => Verdict::Retry(failure, why),
        None => Verdict::Fail(failure),
    }
}

/// No usable answer, and nothing suggests the call took effect.
fn judge_error<T>(error: CallError) -> Verdict<T> {
    match transient_error(&error) {
        Some(why) => Verdict::Retry(Failure::Call(error), why),
        None => Verdict::Fail(Failure::Call(error)),
    }
}
