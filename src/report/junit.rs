//! `--report-junit`: one testsuite per scenario, one testcase per step, for CI test reporters.
//!
//! Written by hand to the element and attribute sets of the JUnit schema Jenkins uses (the
//! strictest of Jenkins, GitLab and GitHub's reporters): `testsuites` takes only name, time,
//! tests, failures and errors; a `testcase` takes no timestamp and no properties, so per-step
//! times go into the suite's properties (`step.N.…`) and the testcase's system-out.
//!
//! CI servers track a test by its name across runs, so a testcase's name holds only what stays
//! the same from night to night: the scenario (with its repeat number), the step number and
//! the status. The order id, the waybill and the times change every run: they are properties.

use std::fmt::Write;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::plan::{Plan, ScenarioPlan};
use crate::run::{Failure, RunRecord, ScenarioRecord, StepOutcome};

use super::{ReportContext, describe_failure, millis};

/// Writes the JUnit XML of a run to `out`, one suite at a time: the totals first (a pass that
/// builds each suite and drops it), then each suite built again and written, so memory stays
/// that of one suite however many orders the run had.
pub fn write(
    plan: &Plan,
    record: &RunRecord,
    ctx: &ReportContext,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let hostname = machine_name();
    let suites = || {
        plan.scenarios
            .iter()
            .zip(&record.scenarios)
            .enumerate()
            .map(|(number, (scenario, scenario_record))| {
                suite(
                    plan,
                    record,
                    ctx,
                    (number, scenario),
                    scenario_record,
                    &hostname,
                )
            })
    };
    let (mut tests, mut failures, mut errors) = (0, 0, 0);
    for suite in suites() {
        tests += suite.cases.len();
        failures += suite.count(Kind::Failure);
        errors += suite.count(Kind::Error);
    }
    let mut text = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        text,
        "<testsuites name=\"simulate\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{}\">",
        seconds(elapsed(record.started, record.finished)),
    );
    out.write_all(text.as_bytes())?;
    for (id, suite) in suites().enumerate() {
        text.clear();
        suite.write(id, &mut text);
        out.write_all(text.as_bytes())?;
    }
    out.write_all(b"</testsuites>\n")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Passed,
    Failure,
    Error,
    Skipped,
}

struct Case {
    name: String,
    classname: String,
    time: Duration,
    kind: Kind,
    /// Failure, error or skip message, and its type.
    message: Option<(String, &'static str)>,
    system_out: String,
}

struct Suite {
    name: String,
    package: String,
    /// The machine that ran the suite (the endpoint is a property).
    hostname: String,
    timestamp: DateTime<Utc>,
    /// The order's wall-clock duration, from its start to its last step's outcome.
    time: Duration,
    properties: Vec<(String, String)>,
    cases: Vec<Case>,
}

impl Suite {
    fn count(&self, kind: Kind) -> usize {
        self.cases.iter().filter(|c| c.kind == kind).count()
    }

    fn write(&self, id: usize, out: &mut String) {
        // Schemas want the timestamp as xs:dateTime without a zone or fractions (it is UTC).
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" timestamp=\"{}\" time=\"{}\" id=\"{id}\" package=\"{}\" hostname=\"{}\">",
            escape(&self.name),
            self.cases.len(),
            self.count(Kind::Failure),
            self.count(Kind::Error),
            self.count(Kind::Skipped),
            self.timestamp.format("%Y-%m-%dT%H:%M:%S"),
            seconds(self.time),
            escape(&self.package),
            escape(&self.hostname),
        );
        out.push_str("    <properties>\n");
        for (name, value) in &self.properties {
            let _ = writeln!(
                out,
                "      <property name=\"{}\" value=\"{}\"/>",
                escape(name),
                escape(value)
            );
        }
        out.push_str("    </properties>\n");
        for case in &self.cases {
            let _ = writeln!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" time=\"{}\">",
                escape(&case.name),
                escape(&case.classname),
                seconds(case.time)
            );
            let element = match case.kind {
                Kind::Passed => None,
                Kind::Failure => Some("failure"),
                Kind::Error => Some("error"),
                Kind::Skipped => Some("skipped"),
            };
            if let (Some(element), Some((message, kind))) = (element, &case.message) {
                let _ = writeln!(
                    out,
                    "      <{element} message=\"{}\" type=\"{kind}\">{}</{element}>",
                    escape(message),
                    escape(message)
                );
            }
            let _ = writeln!(
                out,
                "      <system-out>{}</system-out>",
                escape_text(&case.system_out)
            );
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
}

fn suite(
    plan: &Plan,
    record: &RunRecord,
    ctx: &ReportContext,
    (number, scenario): (usize, &ScenarioPlan),
    scenario_record: &ScenarioRecord,
    hostname: &str,
) -> Suite {
    let mut properties = vec![
        ("endpoint".to_owned(), ctx.endpoint.clone()),
        ("local_emulator".to_owned(), ctx.local.to_string()),
        ("file".to_owned(), scenario.file.clone()),
        ("carrier".to_owned(), scenario.carrier.id.clone()),
        (
            "carrier_version".to_owned(),
            scenario.carrier.version.clone(),
        ),
        (
            "carriers_table_version".to_owned(),
            plan.carriers_version.clone(),
        ),
        ("shop_order_id".to_owned(), scenario.shop_order_id.clone()),
        ("seed".to_owned(), record.options.seed.to_string()),
    ];
    if let Some(pushes) = &ctx.pushes {
        let (delivered, made) = pushes.counts();
        properties.push(("pushes.delivered".to_owned(), delivered.to_string()));
        properties.push(("pushes.made".to_owned(), made.to_string()));
    }
    let classname = format!("simulate.{}", scenario.carrier.id);
    let mut cases = Vec::new();
    if let Some(order) = &scenario_record.order {
        if let Some(waybill) = &order.waybill_id {
            properties.push(("waybill_id".to_owned(), waybill.clone()));
        }
        let (kind, message) = match &order.failure {
            None => (Kind::Passed, None),
            Some(failure) => (
                Kind::Error,
                Some((describe_failure(failure), failure.kind())),
            ),
        };
        cases.push(Case {
            name: format!("{} / create order", scenario.name),
            classname: classname.clone(),
            time: Duration::ZERO,
            kind,
            message,
            system_out: format!(
                "attempts={}\nwaybill_id={}",
                order.attempts,
                order.waybill_id.as_deref().unwrap_or("")
            ),
        });
    }
    for (step, step_record) in scenario.steps.iter().zip(&scenario_record.steps) {
        let n = step.index + 1;
        let (kind, message) = match &step_record.outcome {
            StepOutcome::Passed(_) => (Kind::Passed, None),
            StepOutcome::Failed(failure) => {
                let kind = match failure {
                    Failure::Unexpected { .. } | Failure::VerifyMismatch { .. } => Kind::Failure,
                    _ => Kind::Error,
                };
                (kind, Some((describe_failure(failure), failure.kind())))
            }
            StepOutcome::NotSent(why) => (Kind::Skipped, Some((why.describe(), "not_sent"))),
        };
        // A step sent later than --max-lateness fails the run; its testcase says so.
        let (kind, message) = match (kind, step_record.lateness, record.options.max_lateness) {
            (Kind::Passed, Some(late), Some(max)) if late > max => (
                Kind::Failure,
                Some((super::too_late_message(late, max), "max_lateness")),
            ),
            other => (other.0, message),
        };
        let mut system_out = format!("planned_at={}", step_record.planned.to_rfc3339());
        properties.push((
            format!("step.{n}.planned_at"),
            step_record.planned.to_rfc3339(),
        ));
        if let Some(sent) = step_record.sent {
            let _ = write!(system_out, "\nsent_at={}", sent.to_rfc3339());
            properties.push((format!("step.{n}.sent_at"), sent.to_rfc3339()));
        }
        if let Some(late) = step_record.lateness {
            let _ = write!(system_out, "\nlateness_ms={}", millis(late));
            properties.push((format!("step.{n}.lateness_ms"), millis(late).to_string()));
        }
        let _ = write!(system_out, "\nattempts={}", step_record.attempts.len());
        if let Some(push) = ctx.pushes.as_ref().and_then(|p| p.step(number, step.index)) {
            let word = if push.delivered {
                "delivered"
            } else {
                "failed"
            };
            let _ = write!(system_out, "\npush={word} ({})", push.detail);
            properties.push((format!("step.{n}.push"), word.to_owned()));
            properties.push((format!("step.{n}.push_attempts"), push.attempts.to_string()));
        }
        cases.push(Case {
            name: format!(
                "{} / step {n} {} {}",
                scenario.name,
                step.status.code(),
                step.status.name()
            ),
            classname: classname.clone(),
            time: step_record.latency.unwrap_or_default(),
            kind,
            message,
            system_out,
        });
    }
    Suite {
        name: scenario.name.clone(),
        package: classname.clone(),
        hostname: hostname.to_owned(),
        timestamp: scenario_record.started,
        time: elapsed(scenario_record.started, scenario_record.finished),
        properties,
        cases,
    }
}

/// This machine's name, as `hostname` prints it; `localhost` when it has none.
fn machine_name() -> String {
    let name = gethostname::gethostname();
    let name = name.to_string_lossy();
    if name.trim().is_empty() {
        "localhost".to_owned()
    } else {
        name.into_owned()
    }
}

/// Element content: as [`escape`], but line breaks stay line breaks.
fn escape_text(text: &str) -> String {
    text.split('\n').map(escape).collect::<Vec<_>>().join("\n")
}

/// Text for an attribute: the five XML escapes, line breaks as `&#10;`, and characters XML 1.0
/// cannot carry at all (most control characters) replaced.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn seconds(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

fn elapsed(from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    (to - from).to_std().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_xml_cannot_carry() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
        assert_eq!(escape("签名错误\u{1}"), "签名错误\u{FFFD}");
        assert_eq!(escape("a\nb"), "a&#10;b");
        assert_eq!(escape_text("a<\nb"), "a&lt;\nb");
    }

    #[test]
    fn times_are_seconds_with_three_decimals() {
        assert_eq!(seconds(Duration::from_millis(1234)), "1.234");
        assert_eq!(seconds(Duration::ZERO), "0.000");
    }
}
