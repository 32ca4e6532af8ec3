//! `--report-json`: every scenario, order, step and attempt, with planned and actual times.
//! The shape is described by `schema/report.schema.json`; `version` changes when it does.

use serde_json::{Value, json};

use crate::base::secret::REDACTED;
use crate::model::plan::{Plan, ScenarioPlan, StepPlan};
use crate::run::{Attempt, AttemptResult, RunRecord, StepOutcome, StepRecord};
use crate::wechat::api::Api;
use crate::wechat::body::{ShownRequest, Signature, UpdateOrder};

use super::{Counts, ReportContext, describe_failure, millis, worst_lateness};

/// The report format's version.
pub const VERSION: u32 = 1;

/// The whole report as JSON. Holds no secret: the token is `***` in every URL, and
/// `delivery_sign` (derived from the appsecret) is `***` too.
pub fn report(plan: &Plan, record: &RunRecord, ctx: &ReportContext) -> Value {
    let options = &record.options;
    let mut totals = Counts::default();
    let scenarios: Vec<Value> = plan
        .scenarios
        .iter()
        .zip(&record.scenarios)
        .enumerate()
        .map(|(number, (scenario, scenario_record))| {
            let counts = Counts::of(&scenario_record.steps);
            totals.add(&counts);
            json!({
                "name": scenario.name,
                "file": scenario.file,
                "carrier": scenario.carrier.id,
                "carrier_version": scenario.carrier.version,
                "delivery_id": scenario.carrier.delivery_id,
                "call": Api::call_name(scenario.carrier.call),
                "shopid": scenario.shopid,
                "shop_order_id": scenario.shop_order_id,
                "started": scenario_record.started.to_rfc3339(),
                "outcome": if counts.failed == 0 && counts.not_sent == 0 { "passed" } else { "failed" },
                "order": scenario_record.order.as_ref().map(|order| json!({
                    "sent_at": order.sent.to_rfc3339(),
                    "attempts": order.attempts,
                    "waybill_id": order.waybill_id,
                    "outcome": if order.failure.is_none() { "created" } else { "failed" },
                    "failure": order.failure.as_ref().map(|f| json!({ "kind": f.kind(), "message": describe_failure(f) })),
                    "request": ShownRequest::post(Api::Add.path(), &order.request),
                    "answer": order.answer,
                })),
                "steps": scenario.steps.iter().zip(&scenario_record.steps)
                    .map(|(step, step_record)| step_json(scenario, step, step_record, push_json(ctx, number, step.index), options.max_lateness))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    let worst = record
        .scenarios
        .iter()
        .filter_map(|s| worst_lateness(&s.steps).map(|(l, _)| l))
        .max();
    json!({
        "version": VERSION,
        "tool": concat!("simulate ", env!("CARGO_PKG_VERSION")),
        "started": record.started.to_rfc3339(),
        "finished": record.finished.to_rfc3339(),
        "endpoint": ctx.endpoint,
        "local_emulator": ctx.local,
        "carriers_version": plan.carriers_version,
        "interrupted": record.interrupted,
        "credentials_refused": record.credentials_refused,
        "exit_code": ctx.exit_code,
        "settings": {
            "speed": options.speed,
            "seed": options.seed,
            "connect_timeout_ms": millis(ctx.timeouts.connect),
            "timeout_ms": millis(ctx.timeouts.total),
            "retries": options.retry.retries,
            "retry_backoff_ms": millis(options.retry.base),
            "retry_backoff_cap_ms": millis(options.retry.cap),
            "retry_max_wait_ms": millis(options.retry.max_wait),
            "quota_wait_ms": millis(options.retry.quota_wait),
            "rate_per_second": options.rate,
            "jobs": options.jobs,
            "fail_fast": options.fail_fast,
            "verify": options.verify,
            "max_lateness_ms": options.max_lateness.map(millis),
        },
        "summary": {
            "scenarios": plan.scenarios.len(),
            "steps": totals.steps,
            "passed": totals.passed,
            "failed": totals.failed,
            "not_sent": totals.not_sent,
            "worst_lateness_ms": worst.map(millis),
            "over_max_lateness": super::late_steps_json(plan, record),
        },
        "pushes": ctx.pushes.as_ref().map(|p| {
            let (delivered, made) = p.counts();
            json!({ "delivered": delivered, "made": made })
        }),
        "scenarios": scenarios,
        "coverage": super::coverage::of_run(plan, record),
    })
}

/// A step's push: `null` without `--callback` or when the step made none.
fn push_json(ctx: &ReportContext, scenario: usize, step: usize) -> Value {
    match ctx.pushes.as_ref().and_then(|p| p.step(scenario, step)) {
        Some(push) => json!({
            "delivered": push.delivered,
            "attempts": push.attempts,
            "detail": push.detail,
        }),
        None => Value::Null,
    }
}

fn step_json(
    scenario: &ScenarioPlan,
    step: &StepPlan,
    record: &StepRecord,
    push: Value,
    max_lateness: Option<std::time::Duration>,
) -> Value {
    let too_late = matches!((record.lateness, max_lateness), (Some(l), Some(max)) if l > max);
    let (outcome, failure, not_sent) = match &record.outcome {
        StepOutcome::Passed(_) => ("passed", Value::Null, Value::Null),
        StepOutcome::Failed(f) => (
            "failed",
            json!({ "kind": f.kind(), "message": describe_failure(f) }),
            Value::Null,
        ),
        StepOutcome::NotSent(why) => ("not_sent", Value::Null, json!(why.describe())),
    };
    let answer = match &record.outcome {
        StepOutcome::Passed(answer) => serde_json::to_value(answer).unwrap_or(Value::Null),
        _ => match record.attempts.last().map(|a| &a.result) {
            Some(AttemptResult::Answer(answer)) => {
                serde_json::to_value(answer).unwrap_or(Value::Null)
            }
            _ => Value::Null,
        },
    };
    json!({
        "index": step.index + 1,
        "line": step.line,
        "status": step.status.code(),
        "status_name": step.status.name(),
        "label_en": step.status.label_en(),
        "label_zh": step.status.label_zh(),
        "expect": step.expect.to_string(),
        "transition_checked": step.checked,
        "planned_offset_ms": millis(step.at),
        "planned_at": record.planned.to_rfc3339(),
        "sent_at": record.sent.map(|t| t.to_rfc3339()),
        "lateness_ms": record.lateness.map(millis),
        "over_max_lateness": too_late,
        "latency_ms": record.latency.map(millis),
        "outcome": outcome,
        "failure": failure,
        "not_sent_reason": not_sent,
        "verified_status": record.verified,
        "request": record.attempts.last().map(|a| request_json(scenario, step, a)),
        "answer": answer,
        "attempts": record.attempts,
        "push": push,
    })
}

/// The request as sent (the same body the runner built), its signature and token as `***`.
fn request_json(
    scenario: &ScenarioPlan,
    step: &StepPlan,
    attempt: &Attempt,
) -> ShownRequest<UpdateOrder> {
    let body = UpdateOrder::for_step(
        scenario,
        step,
        attempt.action_time,
        Signature::Shown(REDACTED),
    );
    // A carrier no test call reaches is refused when the scenario is loaded.
    let path = Api::for_call(scenario.carrier.call).map_or("", Api::path);
    ShownRequest::post(path, body)
}
