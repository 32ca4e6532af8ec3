//! What a person reads: one line per event as it happens, then a summary per scenario and for
//! the run, and the exit code the run earned.

pub mod events;
pub mod html;
pub mod json;
pub mod junit;
pub mod live;
pub mod plan;

use std::io::Write;
use std::time::Duration;

use chrono::{DateTime, Local, Utc};

use crate::base::duration::{format_duration, round_to_ms};
use crate::base::exit;
use crate::base::text::plural;
use crate::model::plan::{Plan, ScenarioPlan};
use crate::model::statuses::Lang;
use crate::run::{Event, Failure, RunRecord, ScenarioRecord, StepOutcome, StepRecord};
use crate::wechat::body::Answer;

/// Terminal styling, off when the output is not a terminal or `NO_COLOR` is set.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn green(self, text: &str) -> String {
        self.paint("32", text)
    }
    fn red(self, text: &str) -> String {
        self.paint("31", text)
    }
    fn yellow(self, text: &str) -> String {
        self.paint("33", text)
    }
    fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }
    fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }
}

/// Prints events and summaries to stdout.
#[derive(Debug, Clone, Copy)]
pub struct Console {
    pub style: Style,
    /// Only failures and the overall line.
    pub quiet: bool,
    pub lang: Lang,
    /// The run went to the embedded emulator: the verdict says so, so no one mistakes it.
    pub local: bool,
}

impl Console {
    /// One line for an event, or none when it is not worth a line at this verbosity.
    pub fn event_line(&self, plan: &Plan, event: &Event) -> Option<String> {
        if let Event::OrderCreated { scenario, record } = event {
            let scenario_plan = plan.scenarios.get(*scenario)?;
            let verdict = match (&record.failure, &record.waybill_id) {
                (None, Some(waybill)) => self.style.green(&format!("✓ created, waybill {waybill}")),
                (None, None) => self.style.green("✓ created"),
                (Some(failure), _) => self.style.red(&format!("✗ {}", describe_failure(failure))),
            };
            if self.quiet && record.failure.is_none() {
                return None;
            }
            return Some(format!(
                "{}  {}  {}  order/add  {verdict}",
                self.style.dim(&clock(record.sent)),
                scenario_plan.name,
                self.style.dim(&scenario_plan.shop_order_id),
            ));
        }
        let Event::StepFinished {
            scenario,
            step,
            record,
        } = event
        else {
            return None;
        };
        let scenario_plan = plan.scenarios.get(*scenario)?;
        let step_plan = scenario_plan.steps.get(*step)?;
        let failed = matches!(record.outcome, StepOutcome::Failed(_));
        if matches!(record.outcome, StepOutcome::NotSent(_)) || (self.quiet && !failed) {
            return None;
        }
        let time = record.sent.unwrap_or(record.planned);
        let status = step_plan.status;
        let verdict = match &record.outcome {
            StepOutcome::Passed(answer) => {
                self.style.green(&format!("✓ {}", describe_answer(answer)))
            }
            StepOutcome::Failed(failure) => {
                self.style.red(&format!("✗ {}", describe_failure(failure)))
            }
            StepOutcome::NotSent(_) => String::new(),
        };
        let late = record
            .lateness
            .filter(|l| *l >= Duration::from_millis(1))
            .map(|l| {
                self.style
                    .dim(&format!(" (+{} late)", format_duration(round_to_ms(l))))
            })
            .unwrap_or_default();
        Some(format!(
            "{}  {}  {}  {} {}  {}{}",
            self.style.dim(&clock(time)),
            scenario_plan.name,
            self.style.dim(&scenario_plan.shop_order_id),
            self.style.bold(&status.code().to_string()),
            status.label(self.lang),
            verdict,
            late
        ))
    }

    /// The summary after the run: per scenario, then the whole run.
    pub fn summary(&self, plan: &Plan, record: &RunRecord) -> String {
        let mut out = String::new();
        let mut total = Counts::default();
        let mut worst: Option<(Duration, &str, usize)> = None;
        for (scenario, scenario_record) in plan.scenarios.iter().zip(&record.scenarios) {
            let counts = Counts::of(&scenario_record.steps);
            total.add(&counts);
            let scenario_worst = worst_lateness(&scenario_record.steps);
            if let Some((late, index)) = scenario_worst
                && worst.is_none_or(|(w, _, _)| late > w)
            {
                worst = Some((late, scenario.name.as_str(), index));
            }
            if self.quiet && counts.failed == 0 && counts.not_sent == 0 {
                continue;
            }
            out.push_str(&self.scenario_summary(scenario, &counts, scenario_worst));
            out.push_str(&self.failure_details(scenario, scenario_record));
        }
        let verdict = if total.failed == 0 && total.not_sent == 0 {
            self.style.green("PASSED")
        } else {
            self.style.red("FAILED")
        };
        let worst_text = match worst {
            Some((late, name, index)) => {
                format!(
                    "; worst lateness {} ({name}, step {})",
                    format_duration(round_to_ms(late)),
                    index + 1
                )
            }
            None => String::new(),
        };
        out.push_str(&format!(
            "{verdict}: {}, {}: {} passed, {} failed, {} not sent{worst_text}{}{}\n",
            plural(plan.scenarios.len(), "scenario"),
            plural(total.steps, "step"),
            total.passed,
            total.failed,
            total.not_sent,
            if record.interrupted {
                " (interrupted)"
            } else {
                ""
            },
            if self.local {
                " — against the local emulator, not WeChat"
            } else {
                ""
            }
        ));
        out
    }

    fn scenario_summary(
        &self,
        scenario: &ScenarioPlan,
        counts: &Counts,
        worst: Option<(Duration, usize)>,
    ) -> String {
        let mark = if counts.failed == 0 && counts.not_sent == 0 {
            self.style.green("✓")
        } else {
            self.style.red("✗")
        };
        let worst = worst
            .map(|(late, _)| format!(", worst lateness {}", format_duration(round_to_ms(late))))
            .unwrap_or_default();
        format!(
            "{mark} {} ({}, order {}): {}/{} passed{}{}{}\n",
            scenario.name,
            scenario.carrier.id,
            scenario.shop_order_id,
            counts.passed,
            counts.steps,
            if counts.failed > 0 {
                format!(", {} failed", counts.failed)
            } else {
                String::new()
            },
            if counts.not_sent > 0 {
                format!(", {} not sent", counts.not_sent)
            } else {
                String::new()
            },
            worst
        )
    }

    fn failure_details(&self, scenario: &ScenarioPlan, record: &ScenarioRecord) -> String {
        let mut out = String::new();
        if let (Some(create), Some(order)) = (&scenario.order, &record.order)
            && let Some(failure) = &order.failure
        {
            out.push_str(&format!(
                "    order ({}:{}) order/add: {}\n",
                scenario.file,
                create.line,
                self.style.red(&describe_failure(failure))
            ));
        }
        let steps = &record.steps;
        for (plan_step, record) in scenario.steps.iter().zip(steps) {
            let status = plan_step.status;
            let what = match &record.outcome {
                StepOutcome::Failed(failure) => self.style.red(&describe_failure(failure)),
                StepOutcome::NotSent(why) => self.style.yellow(why.describe()),
                StepOutcome::Passed(_) => continue,
            };
            out.push_str(&format!(
                "    step {} ({}:{}) {} {}: {what}\n",
                plan_step.index + 1,
                scenario.file,
                plan_step.line,
                status.code(),
                status.name()
            ));
        }
        out
    }
}

/// The exit code a finished run earned: interrupted, then could-not-run, then failed steps.
pub fn exit_code(record: &RunRecord) -> u8 {
    if record.interrupted {
        return exit::INTERRUPTED;
    }
    let orders = record
        .scenarios
        .iter()
        .filter_map(|s| s.order.as_ref()?.failure.as_ref());
    let steps = record
        .scenarios
        .iter()
        .flat_map(|s| &s.steps)
        .filter_map(|step| match &step.outcome {
            StepOutcome::Failed(failure) => Some(failure),
            _ => None,
        });
    let failures: Vec<&Failure> = orders.chain(steps).collect();
    if failures.iter().any(|f| f.is_could_not_run()) {
        exit::COULD_NOT_RUN
    } else if failures.is_empty() {
        exit::OK
    } else {
        exit::STEP_FAILED
    }
}

/// Writes to stdout, treating a closed pipe (`simulate … | head`) as nothing to do.
pub fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn describe_answer(answer: &Answer) -> String {
    match (answer.errcode, answer.resultcode) {
        (0, 0) => non_empty(&answer.resultmsg).unwrap_or("ok").to_owned(),
        (0, code) => format!("resultcode {code} {}", answer.resultmsg)
            .trim_end()
            .to_owned(),
        (code, _) => format!("errcode {code} {}", answer.errmsg)
            .trim_end()
            .to_owned(),
    }
}

/// What went wrong with a step, in one line.
pub fn describe_failure(failure: &Failure) -> String {
    match failure {
        Failure::Unexpected { answer, expected } => {
            let hint = if crate::wechat::errcode::TOKEN_REFUSED.contains(&answer.errcode) {
                " — the access token was refused; check --access-token / WECHAT_ACCESS_TOKEN"
            } else {
                ""
            };
            format!("{} (expected {expected}){hint}", describe_answer(answer))
        }
        Failure::Call(error) => error.to_string(),
        Failure::OutcomeUnknown(detail) => format!("outcome unknown: {detail}"),
        Failure::VerifyMismatch { expected, actual } => {
            format!(
                "accepted, but order/get shows the order at {actual}, not {}",
                expected.code()
            )
        }
        Failure::Interrupted => "interrupted before the call went out".to_owned(),
        Failure::Token(error) => error.to_string(),
        Failure::Internal(detail) => detail.clone(),
    }
}

fn non_empty(text: &str) -> Option<&str> {
    let text = text.trim();
    (!text.is_empty()).then_some(text)
}

fn clock(time: DateTime<Utc>) -> String {
    time.with_timezone(&Local)
        .format("%H:%M:%S%.3f")
        .to_string()
}

pub(crate) fn worst_lateness(steps: &[StepRecord]) -> Option<(Duration, usize)> {
    steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.lateness.map(|l| (l, i)))
        .max_by_key(|(l, _)| *l)
}

/// What the reports say about where the run went, besides the record itself.
#[derive(Debug, Clone)]
pub struct ReportContext {
    pub endpoint: String,
    pub local: bool,
    pub timeouts: crate::run::client::Timeouts,
    pub exit_code: u8,
    /// What became of the local emulator's pushes to `--callback`; `None` without one.
    pub pushes: Option<Pushes>,
}

/// The push that followed one accepted step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepPush {
    pub delivered: bool,
    pub attempts: u32,
    /// The last attempt's result: `HTTP 200`, `HTTP 401`, `timeout after 5000 ms`, ...
    pub detail: String,
}

/// Every push of a `--local` run with `--callback`: `steps[scenario][step]`, `None` for a step
/// that made no push (refused, not sent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pushes {
    pub steps: Vec<Vec<Option<StepPush>>>,
}

impl Pushes {
    pub fn step(&self, scenario: usize, step: usize) -> Option<&StepPush> {
        self.steps.get(scenario)?.get(step)?.as_ref()
    }

    /// (delivered, made)
    pub fn counts(&self) -> (usize, usize) {
        let all = self.steps.iter().flatten().flatten();
        let made = all.clone().count();
        (all.filter(|p| p.delivered).count(), made)
    }

    /// The console's line, e.g. `pushes: 5/5 delivered`.
    pub fn summary(&self) -> String {
        let (delivered, made) = self.counts();
        format!("pushes: {delivered}/{made} delivered\n")
    }
}

/// Whole milliseconds, for reports: rounded as the console rounds.
pub use crate::base::duration::whole_ms as millis;

#[derive(Debug, Default)]
pub(crate) struct Counts {
    pub(crate) steps: usize,
    pub(crate) passed: usize,
    pub(crate) failed: usize,
    pub(crate) not_sent: usize,
}

impl Counts {
    pub(crate) fn of(steps: &[StepRecord]) -> Counts {
        let mut counts = Counts::default();
        for step in steps {
            counts.steps += 1;
            match step.outcome {
                StepOutcome::Passed(_) => counts.passed += 1,
                StepOutcome::Failed(_) => counts.failed += 1,
                StepOutcome::NotSent(_) => counts.not_sent += 1,
            }
        }
        counts
    }

    pub(crate) fn add(&mut self, other: &Counts) {
        self.steps += other.steps;
        self.passed += other.passed;
        self.failed += other.failed;
        self.not_sent += other.not_sent;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::plan::Expect;
    use crate::run::client::CallError;

    fn step(outcome: StepOutcome) -> StepRecord {
        StepRecord {
            planned: Utc::now(),
            sent: None,
            lateness: None,
            latency: None,
            attempts: Vec::new(),
            verified: None,
            outcome,
        }
    }

    fn run_of(outcomes: Vec<StepOutcome>, interrupted: bool) -> RunRecord {
        RunRecord {
            started: Utc::now(),
            finished: Utc::now(),
            interrupted,
            credentials_refused: false,
            options: crate::run::RunOptions::default(),
            scenarios: vec![ScenarioRecord {
                started: Utc::now(),
                order: None,
                steps: outcomes.into_iter().map(step).collect(),
            }],
        }
    }

    #[test]
    fn exit_codes_rank_interrupted_then_could_not_run_then_failed() {
        let ok = StepOutcome::Passed(Answer::default());
        let rejected = StepOutcome::Failed(Failure::Unexpected {
            answer: Answer {
                resultcode: 2003,
                ..Answer::default()
            },
            expected: Expect::Ok,
        });
        let unreachable = StepOutcome::Failed(Failure::Call(CallError::Connect {
            endpoint: "x".into(),
            detail: "refused".into(),
        }));
        assert_eq!(exit_code(&run_of(vec![ok.clone()], false)), exit::OK);
        assert_eq!(
            exit_code(&run_of(vec![ok.clone(), rejected.clone()], false)),
            exit::STEP_FAILED
        );
        assert_eq!(
            exit_code(&run_of(vec![rejected.clone(), unreachable], false)),
            exit::COULD_NOT_RUN
        );
        assert_eq!(exit_code(&run_of(vec![rejected], true)), exit::INTERRUPTED);
    }

    #[test]
    fn answers_read_well() {
        let ok = Answer {
            resultmsg: "ok".into(),
            ..Answer::default()
        };
        assert_eq!(describe_answer(&ok), "ok");
        let carrier = Answer {
            resultcode: 2003,
            resultmsg: "签名错误".into(),
            ..Answer::default()
        };
        assert_eq!(describe_answer(&carrier), "resultcode 2003 签名错误");
        let platform = Answer {
            errcode: 42001,
            errmsg: "access_token expired".into(),
            ..Answer::default()
        };
        let failure = Failure::Unexpected {
            answer: platform,
            expected: Expect::Ok,
        };
        assert!(
            describe_failure(&failure)
                .starts_with("errcode 42001 access_token expired (expected ok)")
        );
        assert!(describe_failure(&failure).contains("WECHAT_ACCESS_TOKEN"));
    }
}
