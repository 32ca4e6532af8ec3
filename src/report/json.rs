//! `--report-json`: every scenario, order, step and attempt, with planned and actual times.
//! The shape is described by `schema/report.schema.json` (the types in [`super::shapes`]);
//! `version` changes when it does.
//!
//! The report is streamed: each scenario is turned into its shape and serialized straight to
//! the writer, then dropped, so writing a report of 100,000 orders takes no more memory than
//! one of ten (never one tree of the whole report).

use std::io::Write;

use serde::Serialize;
use serde::ser::SerializeSeq;

use crate::base::secret::REDACTED;
use crate::model::plan::{Plan, ScenarioPlan, StepPlan};
use crate::run::{Attempt, AttemptResult, RunRecord, ScenarioRecord, StepOutcome, StepRecord};
use crate::wechat::api::Api;
use crate::wechat::body::{ShownRequest, Signature, UpdateOrder};

use super::shapes::{
    AttemptShape, FailureShape, Head, LateShape, OrderShape, PushShape, PushTotals, RequestShape,
    ResultShape, ScenarioShape, Settings, StepShape, Summary,
};
use super::{Counts, ReportContext, describe_failure, millis, worst_lateness};

/// The report format's version.
pub const VERSION: u32 = 1;

/// Writes the whole report as pretty JSON to `out`, one scenario at a time. Holds no secret:
/// the token is `***` in every URL, and `delivery_sign` (derived from the appsecret) is `***`
/// too.
pub fn write(
    plan: &Plan,
    record: &RunRecord,
    ctx: &ReportContext,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let document = Streamed {
        head: head(plan, record, ctx),
        scenarios: Scenarios { plan, record, ctx },
        coverage: super::coverage::of_run(plan, record),
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    out.write_all(b"\n")
}

#[derive(Serialize)]
struct Streamed<'a> {
    #[serde(flatten)]
    head: Head,
    scenarios: Scenarios<'a>,
    /// Which edges of each carrier's graph the run's accepted steps took.
    coverage: crate::model::coverage::Coverage,
}

struct Scenarios<'a> {
    plan: &'a Plan,
    record: &'a RunRecord,
    ctx: &'a ReportContext,
}

impl Serialize for Scenarios<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.plan.scenarios.len()))?;
        for (number, (scenario, scenario_record)) in self
            .plan
            .scenarios
            .iter()
            .zip(&self.record.scenarios)
            .enumerate()
        {
            seq.serialize_element(&scenario_shape(
                self.record,
                self.ctx,
                number,
                scenario,
                scenario_record,
            ))?;
        }
        seq.end()
    }
}

fn head(plan: &Plan, record: &RunRecord, ctx: &ReportContext) -> Head {
    let options = &record.options;
    let mut totals = Counts::default();
    for scenario in &record.scenarios {
        totals.add(&Counts::of(&scenario.steps));
    }
    let worst = record
        .scenarios
        .iter()
        .filter_map(|s| worst_lateness(&s.steps).map(|(l, _)| l))
        .max();
    Head {
        version: VERSION,
        tool: concat!("simulate ", env!("CARGO_PKG_VERSION")).to_owned(),
        started: record.started.to_rfc3339(),
        finished: record.finished.to_rfc3339(),
        endpoint: ctx.endpoint.clone(),
        local_emulator: ctx.local,
        carriers_version: plan.carriers_version.clone(),
        interrupted: record.interrupted,
        credentials_refused: record.credentials_refused,
        exit_code: ctx.exit_code,
        settings: Settings {
            speed: options.speed.get(),
            seed: options.seed,
            connect_timeout_ms: millis(ctx.timeouts.connect),
            timeout_ms: millis(ctx.timeouts.total),
            retries: options.retry.retries,
            retry_backoff_ms: millis(options.retry.base),
            retry_backoff_cap_ms: millis(options.retry.cap),
            retry_max_wait_ms: millis(options.retry.max_wait),
            quota_wait_ms: millis(options.retry.quota_wait),
            rate_per_second: options.rate.map(|r| r.per_second()),
            jobs: options.jobs,
            fail_fast: options.fail_fast,
            verify: options.verify,
            max_lateness_ms: options.max_lateness.map(millis),
        },
        summary: Summary {
            scenarios: plan.scenarios.len(),
            steps: totals.steps,
            passed: totals.passed,
            failed: totals.failed,
            not_sent: totals.not_sent,
            worst_lateness_ms: worst.map(millis),
            over_max_lateness: late_shapes(plan, record),
        },
        pushes: ctx.pushes.as_ref().map(|p| {
            let (delivered, made) = p.counts();
            PushTotals { delivered, made }
        }),
    }
}

/// The steps that broke `--max-lateness`, for the machine-readable reports.
pub(crate) fn late_shapes(plan: &Plan, record: &RunRecord) -> Vec<LateShape> {
    record
        .late_steps()
        .iter()
        .filter_map(|breach| {
            let scenario = plan.scenarios.get(breach.scenario)?;
            let step = scenario.steps.get(breach.step)?;
            Some(LateShape {
                scenario: scenario.name.to_string(),
                file: scenario.file.to_string(),
                step: step.index + 1,
                status: step.status.code(),
                lateness_ms: millis(breach.lateness),
            })
        })
        .collect()
}

fn failure_shape(failure: &crate::run::Failure) -> FailureShape {
    FailureShape {
        kind: failure.kind().to_owned(),
        message: describe_failure(failure),
    }
}

fn scenario_shape(
    record: &RunRecord,
    ctx: &ReportContext,
    number: usize,
    scenario: &ScenarioPlan,
    scenario_record: &ScenarioRecord,
) -> ScenarioShape {
    let counts = Counts::of(&scenario_record.steps);
    let max_lateness = record.options.max_lateness;
    ScenarioShape {
        name: scenario.name.to_string(),
        file: scenario.file.to_string(),
        carrier: scenario.carrier.id.clone(),
        carrier_version: scenario.carrier.version.clone(),
        delivery_id: scenario.carrier.delivery_id.clone(),
        call: Api::call_name(scenario.carrier.call).to_owned(),
        shopid: scenario.shopid.to_string(),
        shop_order_id: scenario.shop_order_id.to_string(),
        started: scenario_record.started.to_rfc3339(),
        finished: Some(scenario_record.finished.to_rfc3339()),
        repetition: scenario.repetition,
        outcome: if counts.failed == 0 && counts.not_sent == 0 {
            "passed"
        } else {
            "failed"
        }
        .to_owned(),
        order: scenario_record.order.as_ref().map(|order| OrderShape {
            sent_at: order.sent.to_rfc3339(),
            attempts: order.attempts,
            waybill_id: order.waybill_id.clone(),
            outcome: if order.failure.is_none() {
                "created"
            } else {
                "failed"
            }
            .to_owned(),
            failure: order.failure.as_ref().map(failure_shape),
            request: shown(ShownRequest::post(Api::Add.path(), order.request.clone())),
            answer: order.answer.clone(),
        }),
        steps: scenario
            .steps
            .iter()
            .zip(&scenario_record.steps)
            .map(|(step, step_record)| {
                let push = ctx
                    .pushes
                    .as_ref()
                    .and_then(|p| p.step(number, step.index))
                    .map(|push| PushShape {
                        delivered: push.delivered,
                        attempts: push.attempts,
                        detail: push.detail.clone(),
                    });
                step_shape(scenario, step, step_record, push, max_lateness)
            })
            .collect(),
    }
}

fn shown<B>(request: ShownRequest<B>) -> RequestShape<B> {
    RequestShape {
        method: request.method.to_owned(),
        path: request.path,
        body: request.body,
    }
}

fn step_shape(
    scenario: &ScenarioPlan,
    step: &StepPlan,
    record: &StepRecord,
    push: Option<PushShape>,
    max_lateness: Option<std::time::Duration>,
) -> StepShape {
    let too_late = matches!((record.lateness, max_lateness), (Some(l), Some(max)) if l > max);
    let (outcome, failure, not_sent) = match &record.outcome {
        StepOutcome::Passed(_) => ("passed", None, None),
        StepOutcome::Failed(f) => ("failed", Some(failure_shape(f)), None),
        StepOutcome::NotSent(why) => ("not_sent", None, Some(why.describe())),
    };
    let answer = match &record.outcome {
        StepOutcome::Passed(answer) => Some(answer.clone()),
        _ => match record.attempts.last().map(|a| &a.result) {
            Some(AttemptResult::Answer(answer)) => Some(answer.clone()),
            _ => None,
        },
    };
    StepShape {
        index: step.index + 1,
        line: step.line,
        status: step.status.code(),
        status_name: step.status.name().to_owned(),
        label_en: step.status.label_en().to_owned(),
        label_zh: step.status.label_zh().to_owned(),
        expect: step.expect.to_string(),
        transition_checked: step.checked,
        planned_offset_ms: millis(step.at),
        planned_at: record.planned.to_rfc3339(),
        sent_at: record.sent.map(|t| t.to_rfc3339()),
        lateness_ms: record.lateness.map(millis),
        lateness_us: record
            .lateness
            .map(|l| u64::try_from(l.as_micros()).unwrap_or(u64::MAX)),
        over_max_lateness: too_late,
        latency_ms: record.latency.map(millis),
        outcome: outcome.to_owned(),
        failure,
        not_sent_reason: not_sent,
        verified_status: record.verified,
        request: record
            .attempts
            .last()
            .map(|a| shown(request(scenario, step, a))),
        answer,
        attempts: record.attempts.iter().map(attempt_shape).collect(),
        push,
    }
}

fn attempt_shape(attempt: &Attempt) -> AttemptShape {
    let ms = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    AttemptShape {
        sent: attempt.sent.to_rfc3339(),
        action_time: attempt.action_time,
        latency: ms(attempt.latency),
        waited: ms(attempt.waited),
        result: match &attempt.result {
            AttemptResult::Answer(answer) => ResultShape::Answer {
                answer: answer.clone(),
            },
            AttemptResult::Error(error) => ResultShape::Error {
                error: error.to_string(),
                error_kind: error.kind().to_owned(),
            },
            AttemptResult::Reported { message, kind } => ResultShape::Error {
                error: message.clone(),
                error_kind: (*kind).to_owned(),
            },
        },
    }
}

/// The request as sent (the same body the runner built), its signature and token as `***`.
fn request(
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
