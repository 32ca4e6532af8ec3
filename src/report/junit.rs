//! `--report-junit`: one testsuite per scenario, one testcase per step, for CI test reporters.
//!
//! Jenkins' schema allows no properties on a testcase, so per-step times go into the suite's
//! properties (`step.N.…`) and the testcase's system-out.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::plan::Plan;
use crate::runner::{Failure, RunRecord, StepOutcome};

use super::{describe_failure, millis};

/// The JUnit XML text of a run.
pub fn report(plan: &Plan, record: &RunRecord) -> Result<String, String> {
    let mut report = Report::new("simulate");
    report.set_timestamp(record.started.fixed_offset());
    report.set_time(elapsed(record.started, record.finished));
    for (scenario, scenario_record) in plan.scenarios.iter().zip(&record.scenarios) {
        let mut suite = TestSuite::new(&scenario.name);
        suite.set_timestamp(scenario_record.started.fixed_offset());
        suite.add_properties([
            Property::new("file", &scenario.file),
            Property::new("carrier", &scenario.carrier.id),
            Property::new("carrier_version", &scenario.carrier.version),
            Property::new("carriers_table_version", &plan.carriers_version),
            Property::new("shop_order_id", &scenario.shop_order_id),
            Property::new("seed", record.options.seed.to_string()),
        ]);
        let mut suite_time = Duration::ZERO;
        if let Some(order) = &scenario_record.order {
            let status = match &order.failure {
                None => TestCaseStatus::success(),
                Some(failure) => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                    status
                        .set_message(describe_failure(failure))
                        .set_type(failure.kind());
                    status
                }
            };
            let mut case = TestCase::new(
                format!(
                    "{} / {} / create order",
                    scenario.name, scenario.shop_order_id
                ),
                status,
            );
            case.set_classname(format!("simulate.{}", scenario.carrier.id));
            case.set_timestamp(order.sent.fixed_offset());
            case.set_system_out(format!(
                "attempts={}\nwaybill_id={}",
                order.attempts,
                order.waybill_id.as_deref().unwrap_or("")
            ));
            suite.add_test_case(case);
        }
        for (step, step_record) in scenario.steps.iter().zip(&scenario_record.steps) {
            let n = step.index + 1;
            let name = format!(
                "{} / {} / step {n} {} {}",
                scenario.name,
                scenario.shop_order_id,
                step.status.code(),
                step.status.name()
            );
            let status = match &step_record.outcome {
                StepOutcome::Passed(_) => TestCaseStatus::success(),
                StepOutcome::Failed(failure) => {
                    let kind = match failure {
                        Failure::Unexpected { .. } | Failure::VerifyMismatch { .. } => {
                            NonSuccessKind::Failure
                        }
                        _ => NonSuccessKind::Error,
                    };
                    let mut status = TestCaseStatus::non_success(kind);
                    status
                        .set_message(describe_failure(failure))
                        .set_type(failure.kind());
                    status
                }
                StepOutcome::NotSent(why) => {
                    let mut status = TestCaseStatus::skipped();
                    status.set_message(why.describe());
                    status
                }
            };
            let mut case = TestCase::new(name, status);
            case.set_classname(format!("simulate.{}", scenario.carrier.id));
            if let Some(sent) = step_record.sent {
                case.set_timestamp(sent.fixed_offset());
            }
            let time = step_record.latency.unwrap_or_default();
            suite_time += time;
            case.set_time(time);
            let mut out = format!("planned_at={}", step_record.planned.to_rfc3339());
            suite.add_property(Property::new(
                format!("step.{n}.planned_at"),
                step_record.planned.to_rfc3339(),
            ));
            if let Some(sent) = step_record.sent {
                out.push_str(&format!("\nsent_at={}", sent.to_rfc3339()));
                suite.add_property(Property::new(
                    format!("step.{n}.sent_at"),
                    sent.to_rfc3339(),
                ));
            }
            if let Some(late) = step_record.lateness {
                out.push_str(&format!("\nlateness_ms={}", millis(late)));
                suite.add_property(Property::new(
                    format!("step.{n}.lateness_ms"),
                    millis(late).to_string(),
                ));
            }
            out.push_str(&format!("\nattempts={}", step_record.attempts.len()));
            case.set_system_out(out);
            suite.add_test_case(case);
        }
        suite.set_time(suite_time);
        report.add_test_suite(suite);
    }
    report.to_string().map_err(|e| e.to_string())
}

fn elapsed(from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>) -> Duration {
    (to - from).to_std().unwrap_or_default()
}
