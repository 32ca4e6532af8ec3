//! One order's life: create it if asked, then each step at its deadline, retrying what is
//! transient and asking `order/get` when an answer never came.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::time::Instant;

use crate::model::carriers::Call;
use crate::model::plan::{Expect, OrderCreate, ScenarioPlan, StepPlan};
use crate::run::client::{Answer, CallError, OrderState, UpdateOrder};
use crate::run::retry::{Transient, transient_answer, transient_error};
use crate::wechat::sign::delivery_sign;

use super::shared::{Shared, Stop};
use super::{
    Attempt, AttemptResult, CREDENTIAL_ERRCODES, Event, Failure, NotSent, OrderRecord,
    ScenarioRecord, StepOutcome, StepRecord, deadline, not_sent,
};

/// `order/get` for an order the platform does not know.
const ORDER_NOT_FOUND: i64 = 930563;
/// `order/add` for an order that already exists.
const ORDER_EXISTS: i64 = 930562;

pub(super) struct OrderJob {
    pub(super) index: usize,
    pub(super) scenario: ScenarioPlan,
    pub(super) shared: Arc<Shared>,
}

impl OrderJob {
    /// Plays the order; `own_start` when it waited for its turn and keeps its own timeline.
    pub(super) async fn run(self, own_start: bool) -> ScenarioRecord {
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
            let offset = step.planned_offset(shared.options.speed);
            let planned = step
                .planned_at(&started, shared.options.speed)
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
            // As sent, but for the signature: reports show the request, never a credential.
            request: create.signed_body(
                crate::base::secret::REDACTED,
                shared.options.fallback_openid.as_deref(),
            ),
            answer: None,
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
                    // A busy or unreachable token endpoint fails this order, not the run.
                    if error.is_refusal() {
                        shared.halt(Stop::CredentialsRefused);
                    }
                    record.failure = Some(Failure::Token(error));
                    return record;
                }
            };
            record.attempts += 1;
            let added = shared.client.order_add(&body, &token).await;
            let added =
                added.map(|(answer, state)| (answer.redacted(&[&self.scenario.appsecret]), state));
            if let Ok((answer, _)) = &added {
                record.answer = Some(answer.clone());
            }
            let (failure, transient) = match added {
                Ok((answer, state)) if answer.is_success() || answer.errcode == ORDER_EXISTS => {
                    record.waybill_id = state.map(|s| s.waybill_id).filter(|w| !w.is_empty());
                    return record;
                }
                Ok((answer, _)) if CREDENTIAL_ERRCODES.contains(&answer.errcode) => {
                    match self.renew_token(&token, &mut renewed).await {
                        Renewal::Renewed => continue,
                        Renewal::Unavailable(error) => {
                            record.failure = Some(Failure::Token(error));
                            return record;
                        }
                        Renewal::Refused => {}
                    }
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
        // Until it has an outcome, a step counts as not sent.
        let mut record = not_sent(planned, NotSent::Interrupted);
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
                    // A busy or unreachable token endpoint fails this step, not the run.
                    if error.is_refusal() {
                        shared.halt(Stop::CredentialsRefused);
                    }
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
                    match self.renew_token(&token, &mut renewed).await {
                        Renewal::Renewed => continue,
                        Renewal::Unavailable(error) => {
                            break StepOutcome::Failed(Failure::Token(error));
                        }
                        Renewal::Refused => {}
                    }
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
                            crate::base::duration::format_duration(limit)
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

    /// The platform refused `token`: fetch a new one, once per call. When that is not
    /// possible because the credentials are refused, the whole run stops here.
    async fn renew_token(
        &self,
        token: &crate::base::secret::Secret,
        renewed: &mut bool,
    ) -> Renewal {
        if !*renewed {
            match self.shared.tokens.renew(token).await {
                Some(Ok(_)) => {
                    *renewed = true;
                    return Renewal::Renewed;
                }
                // No new token now, but nothing says the credentials are wrong.
                Some(Err(error)) if !error.is_refusal() => return Renewal::Unavailable(error),
                _ => {}
            }
        }
        self.shared.halt(Stop::CredentialsRefused);
        Renewal::Refused
    }

    /// `order/get` for this order.
    async fn order_get(
        &self,
        token: &crate::base::secret::Secret,
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
        token: &crate::base::secret::Secret,
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

/// What renewing a refused token came to.
enum Renewal {
    /// A new token: send the call again.
    Renewed,
    /// The token endpoint could not answer; the credentials may still be fine.
    Unavailable(crate::run::token::TokenError),
    /// The credentials are refused; the run has been stopped.
    Refused,
}

/// Why a call did not go out after Ctrl-C.
pub(super) fn interrupted() -> CallError {
    CallError::Other("interrupted before the call went out".to_owned())
}
