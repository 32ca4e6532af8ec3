//! The runner's decisions on tokio's paused clock: a scripted platform answers each call from a
//! queue and logs what it was asked, and when.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::platform::{Pending, Platform, StateAnswer};
use super::{Failure, NotSent, RunOptions, RunRecord, StepOutcome, run_on};
use crate::base::secret::Secret;
use crate::model::carriers::{Call, Carriers};
use crate::model::plan::{Expect, OrderCreate, Plan, ScenarioPlan, StepPlan};
use crate::model::statuses::Status;
use crate::run::client::CallError;
use crate::run::token::TokenError;
use crate::wechat::body::{Answer, OrderGet, OrderState, UpdateOrder};

/// One scripted reply, possibly late.
struct Reply<T> {
    after: Duration,
    value: T,
}

/// Answers from queues; an empty queue answers success.
#[derive(Default)]
struct Scripted {
    updates: Mutex<VecDeque<Reply<Result<Answer, CallError>>>>,
    gets: Mutex<VecDeque<Reply<StateAnswer>>>,
    adds: Mutex<VecDeque<Reply<StateAnswer>>>,
    renewals: Mutex<VecDeque<Option<Result<Secret, TokenError>>>>,
    token: Mutex<Option<String>>,
    /// What was asked, with the paused clock's time since the start.
    log: Mutex<Vec<(Duration, String)>>,
    start: Mutex<Option<Instant>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Scripted {
    fn new() -> Arc<Scripted> {
        let scripted = Scripted::default();
        *lock(&scripted.start) = Some(Instant::now());
        *lock(&scripted.token) = Some("T1".to_owned());
        Arc::new(scripted)
    }

    fn update(self: &Arc<Self>, value: Result<Answer, CallError>) -> Arc<Self> {
        self.late_update(Duration::ZERO, value)
    }

    fn late_update(
        self: &Arc<Self>,
        after: Duration,
        value: Result<Answer, CallError>,
    ) -> Arc<Self> {
        lock(&self.updates).push_back(Reply { after, value });
        self.clone()
    }

    fn get(self: &Arc<Self>, value: StateAnswer) -> Arc<Self> {
        self.late_get(Duration::ZERO, value)
    }

    fn late_get(self: &Arc<Self>, after: Duration, value: StateAnswer) -> Arc<Self> {
        lock(&self.gets).push_back(Reply { after, value });
        self.clone()
    }

    fn add(self: &Arc<Self>, value: StateAnswer) -> Arc<Self> {
        lock(&self.adds).push_back(Reply {
            after: Duration::ZERO,
            value,
        });
        self.clone()
    }

    fn renewal(self: &Arc<Self>, value: Option<Result<Secret, TokenError>>) -> Arc<Self> {
        lock(&self.renewals).push_back(value);
        self.clone()
    }

    fn note(&self, what: String) {
        let since = lock(&self.start).map(|s| s.elapsed()).unwrap_or_default();
        lock(&self.log).push((since, what));
    }

    fn calls(&self) -> Vec<String> {
        lock(&self.log)
            .iter()
            .map(|(_, what)| what.clone())
            .collect()
    }

    fn times(&self, prefix: &str) -> Vec<Duration> {
        lock(&self.log)
            .iter()
            .filter(|(_, what)| what.starts_with(prefix))
            .map(|(at, _)| *at)
            .collect()
    }
}

impl Platform for Scripted {
    fn token(&self) -> Pending<'_, Result<Secret, TokenError>> {
        let token = lock(&self.token).clone().unwrap_or_default();
        Box::pin(async move { Ok(Secret::new(token)) })
    }

    fn renew_token<'a>(
        &'a self,
        _rejected: &'a Secret,
    ) -> Pending<'a, Option<Result<Secret, TokenError>>> {
        self.note("renew".to_owned());
        let renewed = lock(&self.renewals).pop_front().flatten();
        if let Some(Ok(token)) = &renewed {
            *lock(&self.token) = Some(token.expose().to_owned());
        }
        Box::pin(async move { renewed })
    }

    fn update_order<'a>(
        &'a self,
        _call: Call,
        body: &'a UpdateOrder,
        token: &'a Secret,
        handed: &'a super::platform::HandedAt,
    ) -> Pending<'a, Result<Answer, CallError>> {
        let _ = handed.set(Instant::now());
        self.note(format!("update {} {}", body.order_status, token.expose()));
        let reply = lock(&self.updates).pop_front();
        Box::pin(async move {
            match reply {
                Some(reply) => {
                    tokio::time::sleep(reply.after).await;
                    reply.value
                }
                None => Ok(Answer::default()),
            }
        })
    }

    fn order_get<'a>(
        &'a self,
        _body: &'a OrderGet,
        _token: &'a Secret,
    ) -> Pending<'a, StateAnswer> {
        self.note("get".to_owned());
        let reply = lock(&self.gets).pop_front();
        Box::pin(async move {
            match reply {
                Some(reply) => {
                    tokio::time::sleep(reply.after).await;
                    reply.value
                }
                None => Ok((Answer::default(), None)),
            }
        })
    }

    fn order_add<'a>(
        &'a self,
        _body: &'a serde_json::Value,
        _token: &'a Secret,
    ) -> Pending<'a, StateAnswer> {
        self.note("add".to_owned());
        let reply = lock(&self.adds).pop_front();
        Box::pin(async move {
            match reply {
                Some(reply) => {
                    tokio::time::sleep(reply.after).await;
                    reply.value
                }
                None => Ok((Answer::default(), None)),
            }
        })
    }
}

fn errcode(code: i64) -> Result<Answer, CallError> {
    Ok(Answer {
        errcode: code,
        ..Answer::default()
    })
}

fn state(status: i64) -> StateAnswer {
    Ok((
        Answer::default(),
        Some(OrderState {
            order_status: status,
            waybill_id: "WB1".to_owned(),
        }),
    ))
}

/// A Dada order with these steps, one second apart.
fn plan(statuses: &[Status], order: bool) -> Plan {
    let carriers = Carriers::builtin().unwrap_or_else(|e| panic!("{e:?}"));
    let carrier = carriers
        .find("dada")
        .cloned()
        .unwrap_or_else(|| panic!("no dada"));
    let steps = statuses
        .iter()
        .enumerate()
        .map(|(index, status)| StepPlan {
            index,
            status: *status,
            at: Duration::from_secs(index as u64 + 1),
            after: Duration::from_secs(1),
            after_range: None,
            action_msg: String::new(),
            expect: Expect::Ok,
            checked: true,
            line: 1,
        })
        .collect();
    Plan {
        carriers_version: carriers.version.clone(),
        seed: 7,
        scenarios: vec![ScenarioPlan {
            name: "scripted".to_owned(),
            file: "scripted.yaml".to_owned(),
            shopid: carrier.account.shopid.clone(),
            appsecret: carrier.account.appsecret.clone(),
            carrier,
            shop_order_id: "o-1".to_owned(),
            steps,
            order: order.then(|| OrderCreate {
                body: serde_json::json!({}),
                openid: None,
                line: 1,
            }),
            repetition: None,
            fixed_order_id: false,
        }],
    }
}

/// Plays `plan` on `platform`; `cancel_at` interrupts the run then, as Ctrl-C would.
async fn play(
    plan: &Plan,
    platform: Arc<Scripted>,
    options: RunOptions,
    cancel_at: Option<Duration>,
) -> RunRecord {
    let (events, _) = mpsc::unbounded_channel();
    let (cancel, cancelled) = watch::channel(false);
    if let Some(at) = cancel_at {
        tokio::spawn(async move {
            tokio::time::sleep(at).await;
            let _ = cancel.send(true);
        });
    } else {
        // Keep the sender alive: a dropped one is not an interrupt, but be explicit.
        std::mem::forget(cancel);
    }
    run_on(
        &Arc::new(plan.clone()),
        platform,
        options,
        events,
        cancelled,
    )
    .await
}

fn not_sent_reason(outcome: &StepOutcome) -> Option<NotSent> {
    match outcome {
        StepOutcome::NotSent(why) => Some(*why),
        _ => None,
    }
}

fn outcome(record: &RunRecord, step: usize) -> &StepOutcome {
    &record.scenarios[0].steps[step].outcome
}

#[tokio::test(start_paused = true)]
async fn a_busy_platform_is_retried_with_growing_backoff_until_it_accepts() {
    // -1 may come back from a carrier that applied the update: order/get says it did not.
    let platform = Scripted::new()
        .update(errcode(-1))
        .get(state(101))
        .update(errcode(-1))
        .get(state(101));
    let record = play(
        &plan(&[Status::RiderAssigned], false),
        platform.clone(),
        RunOptions::default(),
        None,
    )
    .await;
    assert!(matches!(outcome(&record, 0), StepOutcome::Passed(_)));
    assert_eq!(record.scenarios[0].steps[0].attempts.len(), 3);
    let times = platform.times("update");
    assert_eq!(times[0], Duration::from_secs(1), "sent at its deadline");
    let (first, second) = (times[1] - times[0], times[2] - times[1]);
    // Equal jitter: between half and all of 500 ms, then of 1 s.
    assert!(first >= Duration::from_millis(250) && first <= Duration::from_millis(500));
    assert!(second >= Duration::from_millis(500) && second <= Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn a_carrier_rejection_is_never_retried_and_stops_the_order() {
    let rejected = Ok(Answer {
        resultcode: 9102,
        resultmsg: "transition not allowed".to_owned(),
        ..Answer::default()
    });
    let platform = Scripted::new().update(rejected);
    let record = play(
        &plan(&[Status::RiderAssigned, Status::AtStore], false),
        platform.clone(),
        RunOptions::default(),
        None,
    )
    .await;
    assert!(matches!(
        outcome(&record, 0),
        StepOutcome::Failed(Failure::Unexpected { .. })
    ));
    assert_eq!(
        not_sent_reason(outcome(&record, 1)),
        Some(NotSent::EarlierStepFailed)
    );
    assert_eq!(platform.calls(), ["update 102 T1"]);
}

#[tokio::test(start_paused = true)]
async fn retries_stop_at_the_budget_and_the_minute_quota_waits_a_minute() {
    let platform = Scripted::new()
        .update(errcode(45011))
        .update(errcode(-1))
        .get(state(101))
        .update(errcode(-1))
        .get(state(101))
        .update(errcode(-1))
        .get(state(101))
        .get(state(101));
    let record = play(
        &plan(&[Status::RiderAssigned], false),
        platform.clone(),
        RunOptions::default(),
        None,
    )
    .await;
    // Not applied, as order/get said each time: a failure, not an unknown outcome.
    assert!(matches!(
        outcome(&record, 0),
        StepOutcome::Failed(Failure::Unexpected { .. })
    ));
    let times = platform.times("update");
    assert_eq!(times.len(), 4, "one try and three retries");
    assert_eq!(times[1] - times[0], Duration::from_secs(60));
}

#[tokio::test(start_paused = true)]
async fn after_a_timeout_order_get_is_asked_before_anything_is_sent_again() {
    // Not applied: the update is sent again, and then accepted.
    let platform = Scripted::new()
        .update(Err(CallError::Timeout(Duration::from_secs(15))))
        .get(state(101));
    let record = play(
        &plan(&[Status::RiderAssigned], false),
        platform.clone(),
        RunOptions::default(),
        None,
    )
    .await;
    assert!(matches!(outcome(&record, 0), StepOutcome::Passed(_)));
    assert_eq!(platform.calls(), ["update 102 T1", "get", "update 102 T1"]);

    // Applied: never sent twice, and passed on order/get's word.
    let platform = Scripted::new()
        .update(Err(CallError::Dropped("reset".to_owned())))
        .get(state(102));
    let record = play(
        &plan(&[Status::RiderAssigned], false),
        platform.clone(),
        RunOptions::default(),
        None,
    )
    .await;
    let StepOutcome::Passed(answer) = outcome(&record, 0) else {
        panic!("not passed: {:?}", outcome(&record, 0))
    };
    assert!(answer.resultmsg.contains("confirmed by order/get"));
    assert_eq!(platform.calls(), ["update 102 T1", "get"]);
}

#[tokio::test(start_paused = true)]
async fn an_outcome_nobody_can_confirm_is_reported_unknown_never_resent() {
    let busy: StateAnswer = Ok((
        Answer {
            errcode: -1,
            ..Answer::default()
        },
        None,
    ));
    let platform = Scripted::new()
        .update(Err(CallError::Timeout(Duration::from_secs(15))))
        .get(busy.clone())
        .get(busy.clone())
        .get(busy.clone())
        .get(busy);
    let record = play(
        &plan(&[Status::RiderAssigned], false),
        platform.clone(),
        RunOptions::default(),
        None,
    )
    .await;
    assert!(matches!(
        outcome(&record, 0),
        StepOutcome::Failed(Failure::OutcomeUnknown(_))
    ));
    let calls = platform.calls();
    assert_eq!(calls.iter().filter(|c| c.starts_with("update")).count(), 1);
    assert!(calls.iter().filter(|c| *c == "get").count() >= 2);
}

#[tokio::test(start_paused = true)]
async fn a_refused_token_is_renewed_once_and_the_call_sent_again_with_the_new_one() {
    let platform = Scripted::new()
        .update(errcode(42001))
        .renewal(Some(Ok(Secret::new("T2"))));
    let record = play(
        &plan(&[Status::RiderAssigned], false),
        platform.clone(),
        RunOptions::default(),
        None,
    )
    .await;
    assert!(matches!(outcome(&record, 0), StepOutcome::Passed(_)));
    assert_eq!(
        platform.calls(),
        ["update 102 T1", "renew", "update 102 T2"]
    );
    assert!(!record.credentials_refused);
}

#[tokio::test(start_paused = true)]
async fn a_token_that_cannot_be_renewed_stops_the_whole_run() {
    // The second refusal is not renewed again: the credentials are wrong, the run stops.
    let platform = Scripted::new()
        .update(errcode(40001))
        .renewal(Some(Ok(Secret::new("T2"))))
        .update(errcode(40001));
    let record = play(
        &plan(&[Status::RiderAssigned, Status::AtStore], false),
        platform.clone(),
        RunOptions::default(),
        None,
    )
    .await;
    assert!(record.credentials_refused);
    assert!(matches!(
        outcome(&record, 0),
        StepOutcome::Failed(Failure::Unexpected { .. })
    ));
    assert!(matches!(outcome(&record, 1), StepOutcome::NotSent(_)));
    assert_eq!(
        platform.calls(),
        ["update 102 T1", "renew", "update 102 T2"]
    );
}

#[tokio::test(start_paused = true)]
async fn an_interrupt_stops_backoff_and_leaves_later_steps_unsent() {
    let platform = Scripted::new()
        .update(errcode(45011))
        .update(errcode(45011));
    let record = play(
        &plan(&[Status::RiderAssigned, Status::AtStore], false),
        platform.clone(),
        RunOptions::default(),
        Some(Duration::from_secs(10)),
    )
    .await;
    assert!(record.interrupted);
    // Interrupted while waiting out the minute quota: the step failed as last seen.
    assert!(matches!(
        outcome(&record, 0),
        StepOutcome::Failed(Failure::Unexpected { .. })
    ));
    // The interrupt stopped the order, not the step: its retries might have got through.
    assert_eq!(
        not_sent_reason(outcome(&record, 1)),
        Some(NotSent::Interrupted)
    );
    assert_eq!(platform.calls(), ["update 102 T1"]);
}

#[tokio::test(start_paused = true)]
async fn an_interrupt_before_the_first_deadline_sends_nothing() {
    let platform = Scripted::new();
    let record = play(
        &plan(&[Status::RiderAssigned], false),
        platform.clone(),
        RunOptions::default(),
        Some(Duration::from_millis(500)),
    )
    .await;
    assert!(record.interrupted);
    assert_eq!(
        not_sent_reason(outcome(&record, 0)),
        Some(NotSent::Interrupted)
    );
    assert!(platform.calls().is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_order_add_without_an_answer_is_confirmed_by_order_get_not_sent_twice() {
    let platform = Scripted::new()
        .add(Err(CallError::Timeout(Duration::from_secs(15))))
        .get(state(101));
    let record = play(
        &plan(&[Status::RiderAssigned], true),
        platform.clone(),
        RunOptions::default(),
        None,
    )
    .await;
    let order = record.scenarios[0].order.as_ref();
    assert_eq!(
        order.and_then(|o| o.waybill_id.clone()).as_deref(),
        Some("WB1")
    );
    assert!(order.is_some_and(|o| o.failure.is_none()));
    assert_eq!(platform.calls(), ["add", "get", "update 102 T1"]);
}

#[tokio::test(start_paused = true)]
async fn verify_asks_order_get_after_each_accepted_step() {
    let platform = Scripted::new().get(state(201));
    let options = RunOptions {
        verify: true,
        ..RunOptions::default()
    };
    let record = play(
        &plan(&[Status::RiderAssigned], false),
        platform.clone(),
        options,
        None,
    )
    .await;
    assert!(matches!(
        outcome(&record, 0),
        StepOutcome::Failed(Failure::VerifyMismatch {
            expected: Status::RiderAssigned,
            actual: 201
        })
    ));
    assert_eq!(platform.calls(), ["update 102 T1", "get"]);
}

#[tokio::test(start_paused = true)]
async fn steps_go_out_at_deadlines_from_one_start_even_when_answers_are_slow() {
    // The first answer takes 1.5 s; the second step is still due 2 s after the start, not
    // 2 s after the first answer.
    let platform = Scripted::new().late_update(Duration::from_millis(1500), Ok(Answer::default()));
    let record = play(
        &plan(
            &[Status::RiderAssigned, Status::AtStore, Status::PickedUp],
            false,
        ),
        platform.clone(),
        RunOptions::default(),
        None,
    )
    .await;
    assert!(
        record.scenarios[0]
            .steps
            .iter()
            .all(|s| matches!(s.outcome, StepOutcome::Passed(_)))
    );
    let times = platform.times("update");
    assert_eq!(
        times,
        [
            Duration::from_secs(1),
            Duration::from_millis(2500),
            Duration::from_secs(3)
        ]
    );
    // Lateness is from the deadline to the request handed to the connection.
    let lateness: Vec<_> = record.scenarios[0]
        .steps
        .iter()
        .map(|s| s.lateness)
        .collect();
    assert_eq!(
        lateness,
        [
            Some(Duration::ZERO),
            Some(Duration::from_millis(500)),
            Some(Duration::ZERO)
        ]
    );
}

fn http(status: u16) -> CallError {
    CallError::Http {
        status,
        excerpt: "Bad Gateway".to_owned(),
    }
}

fn get_errcode(code: i64) -> StateAnswer {
    Ok((
        Answer {
            errcode: code,
            ..Answer::default()
        },
        None,
    ))
}

fn updates(platform: &Scripted) -> usize {
    platform
        .calls()
        .iter()
        .filter(|c| c.starts_with("update"))
        .count()
}

#[tokio::test(start_paused = true)]
async fn an_ambiguous_answer_after_the_update_took_is_confirmed_never_resent() {
    // A proxy that forwarded and answered 502/504, a carrier that applied and said 930556 or
    // -1, a 200 that is not JSON: order/get says the order moved, and the step passed.
    let ambiguous: [Result<Answer, CallError>; 5] = [
        Err(http(502)),
        Err(http(504)),
        errcode(930556),
        errcode(-1),
        Err(CallError::Body(
            "expected value at line 1 column 1: OK".to_owned(),
        )),
    ];
    for answer in ambiguous {
        let shown = format!("{answer:?}");
        let platform = Scripted::new().update(answer).get(state(102));
        let record = play(
            &plan(&[Status::RiderAssigned], false),
            platform.clone(),
            RunOptions::default(),
            None,
        )
        .await;
        assert!(
            matches!(outcome(&record, 0), StepOutcome::Passed(_)),
            "{shown}: {:?}",
            outcome(&record, 0)
        );
        assert_eq!(platform.calls(), ["update 102 T1", "get"], "{shown}");
    }
}

#[tokio::test(start_paused = true)]
async fn the_minute_quota_proves_nothing_was_done_and_is_resent_without_asking() {
    let platform = Scripted::new().update(errcode(45011));
    let record = play(
        &plan(&[Status::RiderAssigned], false),
        platform.clone(),
        RunOptions {
            retry: crate::run::retry::RetryPolicy {
                quota_wait: Duration::from_secs(1),
                ..Default::default()
            },
            ..RunOptions::default()
        },
        None,
    )
    .await;
    assert!(matches!(outcome(&record, 0), StepOutcome::Passed(_)));
    assert_eq!(platform.calls(), ["update 102 T1", "update 102 T1"]);
}

#[tokio::test(start_paused = true)]
async fn a_resend_refused_as_a_repeat_is_confirmed_and_passes() {
    // order/get first said "not yet" (the carrier was still applying it); the resend is then
    // refused as a repeat, and order/get shows the status: passed.
    let repeat = Ok(Answer {
        resultcode: 9102,
        resultmsg: "from 202 to 202 not allowed".to_owned(),
        ..Answer::default()
    });
    let platform = Scripted::new()
        .update(Err(http(504)))
        .get(state(101))
        .update(repeat)
        .get(state(102));
    let record = play(
        &plan(&[Status::RiderAssigned], false),
        platform.clone(),
        RunOptions::default(),
        None,
    )
    .await;
    assert!(
        matches!(outcome(&record, 0), StepOutcome::Passed(_)),
        "{:?}",
        outcome(&record, 0)
    );
    assert_eq!(
        platform.calls(),
        ["update 102 T1", "get", "update 102 T1", "get"]
    );

    // Without an earlier unknown outcome a refusal is final, and nothing is asked.
    let platform = Scripted::new().update(Ok(Answer {
        resultcode: 9102,
        ..Answer::default()
    }));
    play(
        &plan(&[Status::RiderAssigned], false),
        platform.clone(),
        RunOptions::default(),
        None,
    )
    .await;
    assert_eq!(platform.calls(), ["update 102 T1"]);
}

#[tokio::test(start_paused = true)]
async fn order_get_questions_have_their_own_budget_apart_from_the_retries() {
    // No retries at all, and order/get fails five times before it answers: the questions
    // are still asked, and the applied step passes.
    let mut platform = Scripted::new().update(Err(CallError::Timeout(Duration::from_secs(15))));
    for _ in 0..5 {
        platform = platform.get(get_errcode(-1));
    }
    let platform = platform.get(state(102));
    let options = RunOptions {
        retry: crate::run::retry::RetryPolicy {
            retries: 0,
            ..Default::default()
        },
        ..RunOptions::default()
    };
    let record = play(
        &plan(&[Status::RiderAssigned], false),
        platform.clone(),
        options.clone(),
        None,
    )
    .await;
    assert!(
        matches!(outcome(&record, 0), StepOutcome::Passed(_)),
        "{:?}",
        outcome(&record, 0)
    );
    assert_eq!(updates(&platform), 1);
    let gets = platform.times("get");
    assert_eq!(gets.len(), 6);
    // Spaced by the backoff, not asked in a burst.
    assert!(gets[1] - gets[0] >= Duration::from_millis(250));

    // The budget is bounded: past it, the outcome is unknown, and said so.
    let mut platform = Scripted::new().update(Err(CallError::Timeout(Duration::from_secs(15))));
    for _ in 0..20 {
        platform = platform.get(get_errcode(-1));
    }
    let record = play(
        &plan(&[Status::RiderAssigned], false),
        platform.clone(),
        options,
        None,
    )
    .await;
    let StepOutcome::Failed(Failure::OutcomeUnknown(why)) = outcome(&record, 0) else {
        panic!("{:?}", outcome(&record, 0))
    };
    assert_eq!(
        why.questions.len(),
        7,
        "every question is kept for the message"
    );
    assert!(!why.stopped);
    assert!(matches!(
        why.last_try.as_ref(),
        Failure::Call(CallError::Timeout(_))
    ));
    assert_eq!(platform.times("get").len(), 7, "one question and six more");
    assert_eq!(updates(&platform), 1);
}

#[tokio::test(start_paused = true)]
async fn each_unknown_try_gets_its_own_questions() {
    // The first try times out; five questions fail, the sixth says it did not take. The
    // resend times out too: its questions start a budget of their own, so the sixth failing
    // one is followed by a seventh that finds the order moved.
    let mut platform = Scripted::new()
        .update(Err(CallError::Timeout(Duration::from_secs(15))))
        .update(Err(CallError::Timeout(Duration::from_secs(15))));
    for _ in 0..5 {
        platform = platform.get(get_errcode(-1));
    }
    platform = platform.get(state(101));
    for _ in 0..6 {
        platform = platform.get(get_errcode(930556));
    }
    let platform = platform.get(state(102));
    let record = play(
        &plan(&[Status::RiderAssigned], false),
        platform.clone(),
        RunOptions::default(),
        None,
    )
    .await;
    assert!(
        matches!(outcome(&record, 0), StepOutcome::Passed(_)),
        "{:?}",
        outcome(&record, 0)
    );
    assert_eq!(updates(&platform), 2);
    assert_eq!(platform.times("get").len(), 13);
}

#[tokio::test(start_paused = true)]
async fn a_slow_or_failed_order_add_is_checked_with_order_get() {
    for answer in [
        Err(CallError::Timeout(Duration::from_secs(15))),
        Err(http(502)),
        Err(CallError::Body("not JSON".to_owned())),
        Ok((
            Answer {
                errcode: 930556,
                ..Answer::default()
            },
            None,
        )),
    ] {
        let shown = format!("{answer:?}");
        let platform = Scripted::new()
            .add(answer)
            .get(get_errcode(-1))
            .get(state(101));
        let record = play(
            &plan(&[Status::RiderAssigned], true),
            platform.clone(),
            RunOptions::default(),
            None,
        )
        .await;
        let order = record.scenarios[0].order.as_ref();
        assert!(order.is_some_and(|o| o.failure.is_none()), "{shown}");
        assert_eq!(
            platform.calls(),
            ["add", "get", "get", "update 102 T1"],
            "{shown}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn an_interrupted_verification_leaves_the_step_passed_and_unverified() {
    // The question is in flight when Ctrl-C comes, and the emulator (same process group)
    // dies with it: the accepted step stays passed.
    let platform = Scripted::new().late_get(
        Duration::from_secs(2),
        Err(CallError::Connect {
            endpoint: "http://127.0.0.1:9".to_owned(),
            detail: "refused".to_owned(),
        }),
    );
    let options = RunOptions {
        verify: true,
        ..RunOptions::default()
    };
    let record = play(
        &plan(&[Status::RiderAssigned], false),
        platform.clone(),
        options,
        Some(Duration::from_millis(1500)),
    )
    .await;
    assert!(record.interrupted);
    assert!(
        matches!(outcome(&record, 0), StepOutcome::Passed(_)),
        "{:?}",
        outcome(&record, 0)
    );
    assert_eq!(record.scenarios[0].steps[0].verified, None);
}

#[tokio::test(start_paused = true)]
async fn an_interrupt_after_an_unknown_outcome_reports_it_unknown_not_failed() {
    let platform = Scripted::new()
        .update(Err(http(502)))
        .late_get(Duration::from_secs(5), get_errcode(-1));
    let record = play(
        &plan(&[Status::RiderAssigned], false),
        platform.clone(),
        RunOptions::default(),
        Some(Duration::from_secs(3)),
    )
    .await;
    assert!(record.interrupted);
    assert!(
        matches!(
            outcome(&record, 0),
            StepOutcome::Failed(Failure::OutcomeUnknown(_))
        ),
        "{:?}",
        outcome(&record, 0)
    );
    assert_eq!(updates(&platform), 1);
}

/// A Dada order with one step at each of these offsets (seconds from the start).
fn plan_at(steps: &[(Status, u64)]) -> Plan {
    let mut plan = plan(&[], false);
    plan.scenarios[0].steps = steps
        .iter()
        .enumerate()
        .map(|(index, (status, at))| StepPlan {
            index,
            status: *status,
            at: Duration::from_secs(*at),
            after: Duration::ZERO,
            after_range: None,
            action_msg: String::new(),
            expect: Expect::Ok,
            checked: true,
            line: 1,
        })
        .collect();
    plan
}

/// Plays `plan` with `--step`, the keys given at these times (as a presenter would press them).
async fn steer(
    plan: &Plan,
    platform: Arc<Scripted>,
    keys: &[(u64, super::steer::Control)],
) -> (RunRecord, Vec<super::Event>) {
    let (events, mut seen) = mpsc::unbounded_channel();
    let (cancel, cancelled) = watch::channel(false);
    let (controls, controlled) = mpsc::unbounded_channel();
    let keys = keys.to_vec();
    let start = Instant::now();
    tokio::spawn(async move {
        for (at, key) in keys {
            tokio::time::sleep_until(start + Duration::from_secs(at)).await;
            let _ = controls.send(key);
        }
        // The keyboard stays there until the run is over.
        std::future::pending::<()>().await;
    });
    let record = super::run_on_steered(
        &Arc::new(plan.clone()),
        platform,
        RunOptions::default(),
        events,
        cancelled,
        Some(controlled),
        None,
    )
    .await;
    drop(cancel);
    let mut all = Vec::new();
    while let Ok(event) = seen.try_recv() {
        all.push(event);
    }
    (record, all)
}

#[tokio::test(start_paused = true)]
async fn step_waits_for_each_deadline_and_enter_sends_the_next_step_at_once() {
    use super::steer::Control;
    let plan = plan_at(&[
        (Status::RiderAssigned, 0),
        (Status::AtStore, 3600),
        (Status::PickedUp, 3660),
    ]);
    let platform = Scripted::new();
    // Enter at 10 s: 201 goes now instead of in an hour, and 202 keeps its minute after it.
    let (record, _) = steer(&plan, platform.clone(), &[(10, Control::SendNow)]).await;
    assert_eq!(
        platform.times("update"),
        [
            Duration::ZERO,
            Duration::from_secs(10),
            Duration::from_secs(70)
        ]
    );
    let steps = &record.scenarios[0].steps;
    assert!(
        steps
            .iter()
            .all(|s| matches!(s.outcome, StepOutcome::Passed(_)))
    );
    // Planned times stay as planned; lateness is from the moved deadline.
    let planned = steps[1].planned - steps[0].planned;
    assert_eq!(planned, chrono::Duration::seconds(3600));
    assert_eq!(steps[1].lateness, Some(Duration::ZERO));
}

#[tokio::test(start_paused = true)]
async fn a_pause_holds_every_step_and_shifts_the_rest_of_the_schedule_by_its_length() {
    use super::steer::Control;
    let plan = plan_at(&[
        (Status::RiderAssigned, 0),
        (Status::AtStore, 60),
        (Status::PickedUp, 90),
    ]);
    let platform = Scripted::new();
    // Paused from 20 s to 140 s: 201 due at 60 s goes at 180 s, 202 at 210 s.
    let (record, events) = steer(
        &plan,
        platform.clone(),
        &[(20, Control::TogglePause), (140, Control::TogglePause)],
    )
    .await;
    assert_eq!(
        platform.times("update"),
        [
            Duration::ZERO,
            Duration::from_secs(180),
            Duration::from_secs(210)
        ]
    );
    assert_eq!(record.scenarios[0].steps[1].lateness, Some(Duration::ZERO));
    let moves: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            super::Event::ClockMoved(moved) => Some(*moved),
            _ => None,
        })
        .collect();
    assert_eq!(moves.len(), 2);
    assert!(moves[0].paused && !moves[1].paused);
    assert_eq!(moves[1].later, Duration::from_secs(120));
}

#[tokio::test(start_paused = true)]
async fn q_ends_the_run_as_an_interrupt_and_leaves_the_rest_not_sent() {
    use super::steer::Control;
    let plan = plan_at(&[(Status::RiderAssigned, 0), (Status::AtStore, 60)]);
    let platform = Scripted::new();
    let (record, _) = steer(
        &plan,
        platform.clone(),
        &[(5, Control::TogglePause), (30, Control::Quit)],
    )
    .await;
    assert!(record.interrupted);
    assert_eq!(platform.calls(), ["update 102 T1"]);
    assert_eq!(
        not_sent_reason(outcome(&record, 1)),
        Some(NotSent::Interrupted)
    );
    assert_eq!(
        Instant::now() - platform_start(&platform),
        Duration::from_secs(30)
    );
}

fn platform_start(platform: &Scripted) -> Instant {
    lock(&platform.start).unwrap_or_else(Instant::now)
}

#[tokio::test(start_paused = true)]
async fn send_asks_where_the_order_is_retrying_a_busy_platform_and_stops_at_a_refused_token() {
    use super::locate::{Located, locate_on};
    let scenario = plan(&[Status::Delivered], false).scenarios.remove(0);
    let busy = Ok((
        Answer {
            errcode: -1,
            ..Answer::default()
        },
        None,
    ));
    let platform = Scripted::new().get(busy).get(state(301));
    let (_cancel, cancelled) = watch::channel(false);
    let located = locate_on(
        &scenario,
        platform.clone(),
        RunOptions::default(),
        cancelled.clone(),
    )
    .await;
    assert!(
        matches!(located, Located::At(ref s) if s.order_status == 301),
        "{located:?}"
    );
    assert_eq!(platform.calls(), ["get", "get"]);

    let missing = Ok((
        Answer {
            errcode: 930563,
            ..Answer::default()
        },
        None,
    ));
    let platform = Scripted::new().get(missing);
    let located = locate_on(
        &scenario,
        platform,
        RunOptions::default(),
        cancelled.clone(),
    )
    .await;
    assert!(matches!(located, Located::NotFound(_)), "{located:?}");

    // Timeouts are asked again (a question changes nothing), within the retry budget.
    let timeout = || Err(CallError::Timeout(Duration::from_secs(15)));
    let platform = Scripted::new()
        .get(timeout())
        .get(timeout())
        .get(timeout())
        .get(timeout());
    let located = locate_on(
        &scenario,
        platform.clone(),
        RunOptions::default(),
        cancelled,
    )
    .await;
    assert!(
        matches!(
            located,
            Located::Unanswered(Failure::Call(CallError::Timeout(_)))
        ),
        "{located:?}"
    );
    assert_eq!(platform.calls().len(), 4, "one try and three retries");
}
