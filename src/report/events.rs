//! `--events jsonl`: the run as JSON lines on stdout, as it happens, for wrappers and dashboards.

use serde_json::{Value, json};

use crate::model::plan::Plan;
use crate::run::{Event, StepOutcome};

use super::{describe_failure, millis};

/// One JSON line for an event (no secrets: events carry no token, secret or signature).
/// `endpoint` is where the calls go; `local` when that is the embedded emulator.
pub fn line(plan: &Plan, event: &Event, endpoint: &str, local: bool) -> Option<String> {
    let value = match event {
        Event::RunStarted { at } => json!({
            "event": "run_started",
            "at": at.to_rfc3339(),
            "endpoint": endpoint,
            "local_emulator": local,
            "seed": plan.seed,
            "scenarios": plan.scenarios.len(),
            "steps": plan.scenarios.iter().map(|s| s.steps.len()).sum::<usize>(),
            "carriers_version": plan.carriers_version,
        }),
        Event::OrderCreated { scenario, record } => {
            let s = plan.scenarios.get(*scenario)?;
            json!({
                "event": "order_created",
                "scenario": s.name,
                "file": s.file,
                "carrier": s.carrier.id,
                "shop_order_id": s.shop_order_id,
                "at": record.sent.to_rfc3339(),
                "attempts": record.attempts,
                "waybill_id": record.waybill_id,
                "outcome": if record.failure.is_none() { "created" } else { "failed" },
                "detail": record.failure.as_ref().map(describe_failure),
            })
        }
        Event::StepSending {
            scenario,
            step,
            attempt,
            at,
        } => {
            let mut v = step_fields(plan, *scenario, *step)?;
            extend(
                &mut v,
                json!({ "event": "step_sent", "attempt": attempt + 1, "at": at.to_rfc3339() }),
            );
            v
        }
        Event::StepAnswered {
            scenario,
            step,
            attempt,
        } => {
            let mut v = step_fields(plan, *scenario, *step)?;
            extend(
                &mut v,
                json!({
                    "event": "step_answered",
                    "at": (attempt.sent + attempt.latency).to_rfc3339(),
                    "sent_at": attempt.sent.to_rfc3339(),
                    "latency_ms": millis(attempt.latency),
                    "result": attempt.result,
                }),
            );
            v
        }
        Event::StepFinished {
            scenario,
            step,
            record,
        } => {
            let mut v = step_fields(plan, *scenario, *step)?;
            let (outcome, detail) = match &record.outcome {
                StepOutcome::Passed(_) => ("passed", Value::Null),
                StepOutcome::Failed(failure) => ("failed", json!(describe_failure(failure))),
                StepOutcome::NotSent(why) => ("not_sent", json!(why.describe())),
            };
            extend(
                &mut v,
                json!({
                    "event": "step_finished",
                    "outcome": outcome,
                    "detail": detail,
                    "planned_at": record.planned.to_rfc3339(),
                    "sent_at": record.sent.map(|t| t.to_rfc3339()),
                    "lateness_ms": record.lateness.map(millis),
                    "attempts": record.attempts.len(),
                }),
            );
            v
        }
        Event::RunFinished { at } => json!({ "event": "run_finished", "at": at.to_rfc3339() }),
    };
    serde_json::to_string(&value).ok()
}

fn step_fields(plan: &Plan, scenario: usize, step: usize) -> Option<Value> {
    let s = plan.scenarios.get(scenario)?;
    let st = s.steps.get(step)?;
    Some(json!({
        "scenario": s.name,
        "file": s.file,
        "carrier": s.carrier.id,
        "shop_order_id": s.shop_order_id,
        "step": step + 1,
        "status": st.status.code(),
        "status_name": st.status.name(),
    }))
}

fn extend(target: &mut Value, more: Value) {
    if let (Some(target), Value::Object(more)) = (target.as_object_mut(), more) {
        target.extend(more);
    }
}
