//! `simulate report merge`: the JSON reports of a run's shards read back into one plan and one
//! record, which the writers of a run then turn into one set of reports. What a report says is
//! kept as it said it (a failure's message, an error's kind), so a merged JSON report carries
//! the shards' scenarios unchanged, and the merged verdict is the one the shards earn together.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::base::exit;
use crate::base::pace::{Rate, Speed};
use crate::base::secret::Secret;
use crate::model::carriers::{Call, Carrier, Carriers};
use crate::model::plan::{Expect, OrderCreate, Plan, ScenarioPlan, StepPlan};
use crate::model::statuses::Status;
use crate::run::client::Timeouts;
use crate::run::retry::RetryPolicy;
use crate::run::{
    Attempt, AttemptResult, Failure, NotSent, OrderRecord, RunOptions, RunRecord, ScenarioRecord,
    StepOutcome, StepRecord,
};
use crate::wechat::api::Api;

use super::shapes::{AttemptShape, Document, FailureShape, ResultShape, ScenarioShape, StepShape};
use super::{Pushes, ReportContext, StepPush};

/// The shards' reports as one run: its plan, record and context.
pub struct Merged {
    pub plan: Plan,
    pub record: RunRecord,
    pub ctx: ReportContext,
}

/// What in a report cannot be read back (the caller names the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable(pub String);

/// Joins the reports, in the order given: their scenarios one after the other, the run from
/// the earliest start to the latest end, the settings of the first, and the exit code the
/// worst of them earned (interrupted, then could not run, then failed). `Err` names the
/// report (0-based) and what in it could not be read.
pub fn merge(documents: Vec<Document>, carriers: &Carriers) -> Result<Merged, (usize, Unreadable)> {
    let Some(first) = documents.first() else {
        return Err((0, Unreadable("no report to merge".to_owned())));
    };
    let head = first.head.clone();
    let settings = &head.settings;
    let options = RunOptions {
        speed: Speed::new(settings.speed).unwrap_or_default(),
        retry: RetryPolicy {
            retries: settings.retries,
            base: ms(settings.retry_backoff_ms),
            cap: ms(settings.retry_backoff_cap_ms),
            max_wait: ms(settings.retry_max_wait_ms),
            quota_wait: ms(settings.quota_wait_ms),
            ..RetryPolicy::default()
        },
        rate: settings.rate_per_second.and_then(Rate::new),
        jobs: settings.jobs,
        fail_fast: settings.fail_fast,
        verify: settings.verify,
        seed: settings.seed,
        fallback_openid: None,
        max_lateness: settings.max_lateness_ms.map(ms),
    };
    let timeouts = Timeouts {
        connect: ms(settings.connect_timeout_ms),
        total: ms(settings.timeout_ms),
    };
    let any_pushes = documents.iter().any(|d| d.head.pushes.is_some());
    let mut plan = Plan {
        carriers_version: head.carriers_version.clone(),
        seed: settings.seed,
        scenarios: Vec::new(),
    };
    let mut scenarios = Vec::new();
    let mut pushes = Vec::new();
    let mut known = Known::new();
    let (mut started, mut finished) = (None::<DateTime<Utc>>, None::<DateTime<Utc>>);
    let (mut interrupted, mut refused) = (false, false);
    let mut code = exit::OK;
    for (number, document) in documents.into_iter().enumerate() {
        let at = |e: Unreadable| (number, e);
        let head = &document.head;
        let (s, f) = (
            time(&head.started).map_err(at)?,
            time(&head.finished).map_err(at)?,
        );
        started = Some(started.map_or(s, |t| t.min(s)));
        finished = Some(finished.map_or(f, |t| t.max(f)));
        interrupted |= head.interrupted;
        refused |= head.credentials_refused;
        code = worse(code, head.exit_code);
        for shape in document.scenarios {
            let (scenario_plan, record, step_pushes) =
                scenario(shape, carriers, &mut known).map_err(at)?;
            plan.scenarios.push(scenario_plan);
            scenarios.push(record);
            pushes.push(step_pushes);
        }
    }
    let now = Utc::now();
    let record = RunRecord {
        started: started.unwrap_or(now),
        finished: finished.unwrap_or(now),
        interrupted,
        credentials_refused: refused,
        options,
        scenarios,
    };
    // The records say it too (a report's own code may predate --max-lateness, say).
    let code = worse(code, super::exit_code(&record));
    let ctx = ReportContext {
        endpoint: head.endpoint,
        local: head.local_emulator,
        timeouts,
        exit_code: code,
        pushes: any_pushes.then_some(Pushes { steps: pushes }),
    };
    Ok(Merged { plan, record, ctx })
}

/// The worse of two exit codes, ranked as a run ranks them.
pub fn worse(a: u8, b: u8) -> u8 {
    let rank = |code: u8| match code {
        exit::OK => 0,
        exit::STEP_FAILED => 1,
        exit::COULD_NOT_RUN => 3,
        exit::INTERRUPTED => 4,
        // Usage errors never come with a report; anything else counts as a failure.
        _ => 2,
    };
    let worst = if rank(b) > rank(a) { b } else { a };
    if rank(worst) == 2 {
        exit::STEP_FAILED
    } else {
        worst
    }
}

type Scenario = (ScenarioPlan, ScenarioRecord, Vec<Option<StepPush>>);

/// The carriers met so far, one profile per (id, version, delivery_id, call), shared by their
/// scenarios as a run shares them.
type Known = HashMap<(String, String, String, String), Arc<Carrier>>;

fn scenario(
    shape: ScenarioShape,
    carriers: &Carriers,
    known: &mut Known,
) -> Result<Scenario, Unreadable> {
    let key = (
        shape.carrier.clone(),
        shape.carrier_version.clone(),
        shape.delivery_id.clone(),
        shape.call.clone(),
    );
    let carrier = match known.get(&key) {
        Some(carrier) => Arc::clone(carrier),
        None => {
            let carrier = carrier(&shape, carriers)?;
            known.insert(key, Arc::clone(&carrier));
            carrier
        }
    };
    let started = time(&shape.started)?;
    let finished = match &shape.finished {
        Some(finished) => time(finished)?,
        None => started,
    };
    let order = shape.order.map(|order| -> Result<_, Unreadable> {
        let record = OrderRecord {
            sent: time(&order.sent_at)?,
            attempts: order.attempts,
            waybill_id: order.waybill_id,
            failure: order.failure.map(|f| failure(&f, None, None)),
            request: order.request.body,
            answer: order.answer,
        };
        let create = OrderCreate {
            body: record.request.clone(),
            openid: None,
            line: 0,
        };
        Ok((create, record))
    });
    let (create, order) = match order.transpose()? {
        Some((create, record)) => (Some(create), Some(record)),
        None => (None, None),
    };
    let mut steps = Vec::with_capacity(shape.steps.len());
    let mut records = Vec::with_capacity(shape.steps.len());
    let mut pushes = Vec::with_capacity(shape.steps.len());
    for step in shape.steps {
        let (plan, record, push) = self::step(step)?;
        steps.push(plan);
        records.push(record);
        pushes.push(push);
    }
    let plan = ScenarioPlan {
        name: shape.name,
        file: shape.file,
        carrier,
        shop_order_id: shape.shop_order_id,
        shopid: shape.shopid,
        // Reports hold no secret; nothing is signed from a merged report.
        appsecret: Secret::new(String::new()),
        steps,
        order: create,
        repetition: shape.repetition,
        fixed_order_id: false,
    };
    let record = ScenarioRecord {
        started,
        finished,
        order,
        steps: records,
    };
    Ok((plan, record, pushes))
}

/// The carrier the report names, as the table knows it (for its names and graph), with the
/// version, `delivery_id` and call the report gives; a carrier the table does not know is an
/// error that asks for the carriers file the shards ran with.
fn carrier(shape: &ScenarioShape, carriers: &Carriers) -> Result<Arc<Carrier>, Unreadable> {
    let call = match shape.call.as_str() {
        name if name == Api::Realmock.name() => Call::Realmock,
        name if name == Api::TestUpdate.name() => Call::TestUpdateOrder,
        _ => Call::None,
    };
    // Another carrier's graph would give the merged coverage wrong edges, without a word.
    let Some(found) = carriers.find(&shape.carrier) else {
        return Err(Unreadable(
            rust_i18n::t!("merge.unknown_carrier", carrier = shape.carrier.as_str()).into_owned(),
        ));
    };
    let mut carrier = Carrier::clone(found);
    carrier.version.clone_from(&shape.carrier_version);
    carrier.delivery_id.clone_from(&shape.delivery_id);
    carrier.call = call;
    Ok(Arc::new(carrier))
}

fn step(shape: StepShape) -> Result<(StepPlan, StepRecord, Option<StepPush>), Unreadable> {
    let status = Status::from_code(shape.status)
        .ok_or_else(|| Unreadable(format!("status {} is no status", shape.status)))?;
    let expect: Expect = shape
        .expect
        .parse()
        .map_err(|()| Unreadable(format!("expect {:?} is no expectation", shape.expect)))?;
    let plan = StepPlan {
        index: shape.index.saturating_sub(1),
        status,
        at: ms(shape.planned_offset_ms),
        after: Duration::ZERO,
        after_range: None,
        action_msg: shape
            .request
            .as_ref()
            .map(|r| r.body.action_msg.clone())
            .unwrap_or_default(),
        expect,
        checked: shape.transition_checked,
        line: shape.line,
    };
    let attempts = shape
        .attempts
        .iter()
        .map(attempt)
        .collect::<Result<Vec<_>, _>>()?;
    let outcome = match shape.outcome.as_str() {
        "passed" => StepOutcome::Passed(shape.answer.clone().unwrap_or_default()),
        "not_sent" => StepOutcome::NotSent(not_sent(shape.not_sent_reason.as_deref())),
        "failed" => {
            let reported = shape.failure.clone().unwrap_or(FailureShape {
                kind: "internal".to_owned(),
                message: String::new(),
            });
            let verified = shape.verified_status.map(|actual| (status, actual));
            StepOutcome::Failed(failure(
                &reported,
                shape.answer.clone().map(|a| (a, expect)),
                verified,
            ))
        }
        other => return Err(Unreadable(format!("outcome {other:?} is no outcome"))),
    };
    let record = StepRecord {
        planned: time(&shape.planned_at)?,
        sent: shape.sent_at.as_deref().map(time).transpose()?,
        lateness: shape
            .lateness_us
            .map(Duration::from_micros)
            .or(shape.lateness_ms.map(ms)),
        latency: shape.latency_ms.map(ms),
        attempts,
        verified: shape.verified_status,
        outcome,
    };
    let push = shape.push.map(|p| StepPush {
        delivered: p.delivered,
        attempts: p.attempts,
        detail: p.detail,
    });
    Ok((plan, record, push))
}

/// A failure as the report tells it. An unexpected answer, a `--verify` mismatch and an
/// interrupt are rebuilt (so their message reads as a run's would); any other is kept as said.
fn failure(
    shape: &FailureShape,
    answer: Option<(crate::wechat::body::Answer, Expect)>,
    verified: Option<(Status, i64)>,
) -> Failure {
    match (shape.kind.as_str(), answer, verified) {
        ("unexpected_answer", Some((answer, expected)), _) => {
            let rebuilt = Failure::Unexpected { answer, expected };
            if super::describe_failure(&rebuilt) == shape.message {
                return rebuilt;
            }
        }
        ("verify_mismatch", _, Some((expected, actual))) => {
            return Failure::VerifyMismatch { expected, actual };
        }
        ("interrupted", _, _) => return Failure::Interrupted,
        _ => {}
    }
    Failure::Reported {
        kind: Failure::known_kind(&shape.kind).unwrap_or("internal"),
        message: shape.message.clone(),
    }
}

fn attempt(shape: &AttemptShape) -> Result<Attempt, Unreadable> {
    Ok(Attempt {
        sent: time(&shape.sent)?,
        action_time: shape.action_time,
        latency: ms(shape.latency),
        waited: ms(shape.waited),
        result: match &shape.result {
            ResultShape::Answer { answer } => AttemptResult::Answer(answer.clone()),
            ResultShape::Error { error, error_kind } => AttemptResult::Reported {
                message: error.clone(),
                kind: Failure::known_kind(error_kind).unwrap_or("request_failed"),
            },
        },
    })
}

fn not_sent(reason: Option<&str>) -> NotSent {
    const ALL: [NotSent; 5] = [
        NotSent::EarlierStepFailed,
        NotSent::Interrupted,
        NotSent::CredentialsRefused,
        NotSent::FailFast,
        NotSent::OrderNotCreated,
    ];
    ALL.into_iter()
        .find(|why| Some(why.describe().as_str()) == reason)
        .unwrap_or(NotSent::EarlierStepFailed)
}

fn time(text: &str) -> Result<DateTime<Utc>, Unreadable> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Unreadable(format!("{text:?} is no time ({e})")))
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::html::testing::fixture;

    fn json_text(plan: &Plan, record: &RunRecord, ctx: &ReportContext) -> String {
        let mut out = Vec::new();
        let written = super::super::json::write(plan, record, ctx, &mut out);
        assert!(written.is_ok(), "{written:?}");
        String::from_utf8(out).unwrap_or_default()
    }

    fn read(text: &str) -> Document {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    fn carriers() -> Carriers {
        Carriers::builtin().unwrap_or_else(|_| panic!("built-in carriers"))
    }

    #[test]
    fn a_carrier_the_table_does_not_know_asks_for_its_carriers_file() {
        let (plan, record, ctx) = fixture();
        let text = json_text(&plan, &record, &ctx);
        let carrier = plan.scenarios[0].carrier.id.clone();
        let renamed = text.replace(
            &format!("\"carrier\": \"{carrier}\""),
            "\"carrier\": \"acme\"",
        );
        assert_ne!(renamed, text, "the fixture names its carrier");
        let Err((index, why)) = merge(vec![read(&renamed)], &carriers()) else {
            panic!("merged a report of a carrier the table does not know");
        };
        assert_eq!(index, 0);
        assert!(
            why.0.contains("`acme`") && why.0.contains("--carriers"),
            "{}",
            why.0
        );
    }

    #[test]
    fn a_report_read_back_and_written_again_is_the_same_report() {
        let (plan, mut record, mut ctx) = fixture();
        // Every kind of attempt and failure the record can hold.
        let timed_out = Attempt {
            result: AttemptResult::Error(crate::run::client::CallError::Timeout(
                Duration::from_secs(15),
            )),
            ..record.scenarios[0].steps[1].attempts[0].clone()
        };
        record.scenarios[0].steps[1].attempts.insert(0, timed_out);
        record.scenarios[0].steps[1].lateness = Some(Duration::from_micros(2_500_417));
        ctx.pushes = Some(Pushes {
            steps: vec![vec![
                Some(StepPush {
                    delivered: true,
                    attempts: 1,
                    detail: "HTTP 200".into(),
                }),
                None,
                None,
                None,
            ]],
        });
        let written = json_text(&plan, &record, &ctx);
        let merged =
            merge(vec![read(&written)], &carriers()).unwrap_or_else(|(_, e)| panic!("{e:?}"));
        let again = json_text(&merged.plan, &merged.record, &merged.ctx);
        assert_eq!(again, written);
        // The other writers take the merged run as a run's.
        let html = super::super::html::report(
            &merged.plan,
            &merged.record,
            &merged.ctx,
            crate::model::statuses::Lang::En,
        );
        assert!(
            html.contains("<svg") && html.contains("resultcode 2003"),
            "{html}"
        );
    }

    #[test]
    fn shards_join_in_order_and_the_worst_exit_code_wins() {
        let (plan, record, mut ctx) = fixture();
        let failed = read(&json_text(&plan, &record, &ctx));
        let mut passed_record = record.clone();
        passed_record.scenarios[0].steps.truncate(2);
        let mut passed_plan = plan.clone();
        passed_plan.scenarios[0].steps.truncate(2);
        ctx.exit_code = 0;
        let passed = read(&json_text(&passed_plan, &passed_record, &ctx));
        let alone = merge(
            vec![read(&json_text(&passed_plan, &passed_record, &ctx))],
            &carriers(),
        );
        assert_eq!(alone.map(|m| m.ctx.exit_code).ok(), Some(exit::OK));
        let Ok(both) = merge(vec![passed, failed], &carriers()) else {
            panic!("the reports merge")
        };
        assert_eq!(both.ctx.exit_code, exit::STEP_FAILED);
        assert_eq!(both.plan.scenarios.len(), 2);
        assert_eq!(both.record.scenarios[0].steps.len(), 2);
        assert_eq!(both.record.scenarios[1].steps.len(), 4);
        assert_eq!(
            worse(exit::STEP_FAILED, exit::COULD_NOT_RUN),
            exit::COULD_NOT_RUN
        );
        assert_eq!(
            worse(exit::INTERRUPTED, exit::COULD_NOT_RUN),
            exit::INTERRUPTED
        );
        assert_eq!(worse(exit::OK, exit::OK), exit::OK);
    }

    #[test]
    fn what_cannot_be_read_back_is_named() {
        let (plan, record, ctx) = fixture();
        let text = json_text(&plan, &record, &ctx).replace("\"status\": 102", "\"status\": 999");
        let refused = merge(vec![read(&text)], &carriers()).err();
        assert_eq!(
            refused.map(|(i, e)| (i, e.0)),
            Some((0, "status 999 is no status".to_owned()))
        );
    }
}
