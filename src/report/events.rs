//! `--events jsonl`: the run as JSON lines on stdout, as it happens, for wrappers and dashboards.
//! Every line is an object with `event` and `at`; `schema/events.schema.json` describes each
//! kind (tested against every line the tests see).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::model::plan::Plan;
use crate::run::{Event, RunRecord, StepOutcome};

use super::{Counts, describe_failure, millis, worst_lateness};

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
        Event::ScenarioStarted { scenario, at } => {
            let mut v = scenario_fields(plan, *scenario)?;
            extend(
                &mut v,
                json!({ "event": "scenario_started", "at": at.to_rfc3339() }),
            );
            v
        }
        Event::ScenarioFinished {
            scenario,
            started,
            finished,
            counts,
        } => {
            let mut v = scenario_fields(plan, *scenario)?;
            extend(&mut v, scenario_finished(*started, *finished, counts));
            v
        }
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
            // The moment the outcome was known; a step given up never left, so: now.
            let at = match (record.sent, record.latency) {
                (Some(sent), Some(latency)) => sent + latency,
                _ => Utc::now(),
            };
            let (outcome, detail) = match &record.outcome {
                StepOutcome::Passed(_) => ("passed", Value::Null),
                StepOutcome::Failed(failure) => ("failed", json!(describe_failure(failure))),
                StepOutcome::NotSent(why) => ("not_sent", json!(why.describe())),
            };
            extend(
                &mut v,
                json!({
                    "event": "step_finished",
                    "at": at.to_rfc3339(),
                    "outcome": outcome,
                    "detail": detail,
                    "planned_at": record.planned.to_rfc3339(),
                    "sent_at": record.sent.map(|t| t.to_rfc3339()),
                    "lateness_ms": record.lateness.map(millis),
                    "attempts": record.attempts,
                }),
            );
            v
        }
        // Written by [`run_finished`] once the run's verdict is known.
        Event::RunFinished => return None,
        // A presenter's keys (--step) steer the view; each step's times say what they did.
        Event::ClockMoved(_) => return None,
    };
    serde_json::to_string(&value).ok()
}

/// The last line: the run's counts and the exit code the process ends with.
pub fn run_finished(plan: &Plan, record: &RunRecord, exit_code: u8) -> Option<String> {
    let mut totals = Counts::default();
    for scenario in &record.scenarios {
        totals.add(&Counts::of(&scenario.steps));
    }
    let worst = record
        .scenarios
        .iter()
        .filter_map(|s| worst_lateness(&s.steps).map(|(l, _)| l))
        .max();
    let value = json!({
        "event": "run_finished",
        "at": record.finished.to_rfc3339(),
        "started_at": record.started.to_rfc3339(),
        "duration_ms": millis((record.finished - record.started).to_std().unwrap_or_default()),
        "scenarios": plan.scenarios.len(),
        "steps": totals.steps,
        "passed": totals.passed,
        "failed": totals.failed,
        "not_sent": totals.not_sent,
        "worst_lateness_ms": worst.map(millis),
        "interrupted": record.interrupted,
        "over_max_lateness": super::late_steps_json(plan, record),
        "exit_code": exit_code,
    });
    serde_json::to_string(&value).ok()
}

fn scenario_finished(started: DateTime<Utc>, finished: DateTime<Utc>, counts: &Counts) -> Value {
    let passed = counts.failed == 0 && counts.not_sent == 0;
    json!({
        "event": "scenario_finished",
        "at": finished.to_rfc3339(),
        "outcome": if passed { "passed" } else { "failed" },
        "duration_ms": millis((finished - started).to_std().unwrap_or_default()),
        "steps": counts.steps,
        "passed": counts.passed,
        "failed": counts.failed,
        "not_sent": counts.not_sent,
    })
}

fn scenario_fields(plan: &Plan, scenario: usize) -> Option<Value> {
    let s = plan.scenarios.get(scenario)?;
    Some(json!({
        "scenario": s.name,
        "file": s.file,
        "carrier": s.carrier.id,
        "shop_order_id": s.shop_order_id,
    }))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{Attempt, AttemptResult, OrderRecord};

    /// The kind each event is written as; a new event does not compile until it is named here
    /// (and then described in the schema, or the test below fails).
    fn kind(event: &Event) -> &'static str {
        match event {
            Event::RunStarted { .. } => "run_started",
            Event::ScenarioStarted { .. } => "scenario_started",
            Event::ScenarioFinished { .. } => "scenario_finished",
            Event::OrderCreated { .. } => "order_created",
            Event::StepSending { .. } => "step_sent",
            Event::StepAnswered { .. } => "step_answered",
            Event::StepFinished { .. } => "step_finished",
            Event::RunFinished => "run_finished",
            Event::ClockMoved(_) => "clock_moved",
        }
    }

    fn schema() -> jsonschema::Validator {
        let schema: Value = serde_json::from_str(include_str!("../../schema/events.schema.json"))
            .unwrap_or_else(|e| panic!("schema/events.schema.json is not JSON: {e}"));
        jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("not a schema: {e}"))
    }

    #[test]
    fn every_event_matches_schema_events_schema_json() {
        let (plan, record, _) = crate::report::html::testing::fixture();
        let scenario = &record.scenarios[0];
        let at = record.started;
        let attempt = scenario.steps[0].attempts[0].clone();
        let failed = Attempt {
            result: AttemptResult::Error(crate::run::client::CallError::Timeout(
                std::time::Duration::from_secs(15),
            )),
            ..attempt.clone()
        };
        let order = |failure: Option<crate::run::Failure>| OrderRecord {
            sent: at,
            attempts: 1,
            waybill_id: failure.is_none().then(|| "wb-1".to_owned()),
            failure,
            request: json!({}),
            answer: None,
        };
        let mut events = vec![
            Event::RunStarted { at },
            Event::ScenarioStarted { scenario: 0, at },
            Event::OrderCreated {
                scenario: 0,
                record: (&order(None)).into(),
            },
            Event::OrderCreated {
                scenario: 0,
                record: (&order(Some(crate::run::Failure::Interrupted))).into(),
            },
            Event::StepSending {
                scenario: 0,
                step: 0,
                attempt: 0,
                at,
            },
            Event::StepAnswered {
                scenario: 0,
                step: 0,
                attempt,
            },
            Event::StepAnswered {
                scenario: 0,
                step: 1,
                attempt: failed,
            },
        ];
        // Passed, passed late, failed, not sent.
        for (step, step_record) in scenario.steps.iter().enumerate() {
            events.push(Event::StepFinished {
                scenario: 0,
                step,
                record: step_record.into(),
            });
        }
        events.push(Event::scenario_finished(0, scenario));
        let validator = schema();
        let mut kinds = std::collections::BTreeSet::new();
        let mut lines: Vec<String> = events
            .iter()
            .filter_map(|event| {
                kinds.insert(kind(event));
                line(&plan, event, "http://127.0.0.1:8080", true)
            })
            .collect();
        assert_eq!(line(&plan, &Event::RunFinished, "", true), None);
        kinds.insert(kind(&Event::RunFinished));
        lines.extend(run_finished(&plan, &record, 1));
        assert_eq!(lines.len(), events.len() + 1);
        let mut written = std::collections::BTreeSet::new();
        for text in &lines {
            let value: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}"));
            let errors: Vec<String> = validator
                .iter_errors(&value)
                .map(|e| format!("{e} at {}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{text}\n{errors:#?}");
            assert!(value["at"].is_string(), "every event has its time: {text}");
            if let Some(k) = value["event"].as_str() {
                written.insert(k.to_owned());
            }
        }
        let kinds: std::collections::BTreeSet<String> =
            kinds.into_iter().map(str::to_owned).collect();
        assert_eq!(written, kinds, "every kind of event was written");
        // The schema names exactly the kinds there are.
        let schema: Value = serde_json::from_str(include_str!("../../schema/events.schema.json"))
            .unwrap_or_default();
        let described: std::collections::BTreeSet<String> = schema["oneOf"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| {
                k["properties"]["event"]["const"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect();
        assert_eq!(described, kinds);
    }

    #[test]
    fn run_finished_carries_the_counts_and_the_exit_code() {
        let (plan, record, _) = crate::report::html::testing::fixture();
        let text = run_finished(&plan, &record, 1).unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(value["event"], "run_finished");
        assert_eq!(value["exit_code"], 1);
        assert_eq!(
            (
                &value["steps"],
                &value["passed"],
                &value["failed"],
                &value["not_sent"]
            ),
            (&json!(4), &json!(2), &json!(1), &json!(1))
        );
        assert_eq!(value["worst_lateness_ms"], 2500);
    }
}
