//! What a person reads: one line per event as it happens, then a summary per scenario and for
//! the run, and the exit code the run earned.

pub mod coverage;
pub mod events;
pub mod html;
pub mod json;
pub mod junit;
pub mod live;
pub mod merge;
pub mod plan;
pub mod send;
pub mod shapes;

use std::time::Duration;

use chrono::{DateTime, Local, Utc};
use rust_i18n::t;

use crate::base::duration::{format_duration, round_to_ms};
use crate::base::exit;
use crate::base::i18n::{Noun, count_in};
use crate::base::text::{printable, terminal_safe};
use crate::model::plan::{Expect, Plan, ScenarioPlan};
use crate::model::statuses::Lang;
use crate::run::{
    CallKind, Event, Failure, RunRecord, ScenarioRecord, StepOutcome, StepRecord, Unanswered,
    Unsettled,
};
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
            let locale = self.lang.code();
            let verdict = match (&record.failure, &record.waybill_id) {
                (None, Some(waybill)) => self.style.green(&t!(
                    "console.created_with_waybill",
                    locale = locale,
                    waybill = waybill
                )),
                (None, None) => self.style.green(&t!("console.created", locale = locale)),
                (Some(failure), _) => self
                    .style
                    .red(&format!("✗ {}", describe_failure_in(failure, self.lang))),
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
            StepOutcome::Passed(answer) if step_plan.expect != Expect::Ok => self.style.green(&t!(
                "console.as_expected",
                locale = self.lang.code(),
                expected = expect_in(&step_plan.expect, self.lang),
                answer = describe_answer_in(answer, self.lang)
            )),
            StepOutcome::Passed(answer) => self
                .style
                .green(&format!("✓ {}", describe_answer_in(answer, self.lang))),
            StepOutcome::Failed(failure) => self
                .style
                .red(&format!("✗ {}", describe_failure_in(failure, self.lang))),
            StepOutcome::NotSent(_) => String::new(),
        };
        let late = record
            .lateness
            .filter(|l| *l >= Duration::from_millis(1))
            .map(|l| {
                let late = format_duration(round_to_ms(l));
                self.style
                    .dim(&t!("console.late", locale = self.lang.code(), late = late))
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
        let late = record.late_steps();
        out.push_str(&self.late_steps(plan, record, &late));
        let lang = self.lang;
        let locale = lang.code();
        let verdict = if total.failed == 0 && total.not_sent == 0 && late.is_empty() {
            self.style.green(&t!("summary.passed", locale = locale))
        } else {
            self.style.red(&t!("summary.failed", locale = locale))
        };
        let scenarios = count_in(lang, plan.scenarios.len(), Noun::Scenario);
        let steps = count_in(lang, total.steps, Noun::Step);
        let (passed, failed, not_sent) = (total.passed, total.failed, total.not_sent);
        let worst =
            worst.map(|(late, name, index)| (format_duration(round_to_ms(late)), name, index + 1));
        // One whole sentence for each combination, so neither language's word order is
        // forced on the other by gluing pieces together.
        let line = match (worst, record.interrupted, self.local) {
            (None, false, false) => t!(
                "summary.run",
                locale = locale,
                verdict = verdict,
                scenarios = scenarios,
                steps = steps,
                passed = passed,
                failed = failed,
                not_sent = not_sent
            ),
            (None, true, false) => t!(
                "summary.run_interrupted",
                locale = locale,
                verdict = verdict,
                scenarios = scenarios,
                steps = steps,
                passed = passed,
                failed = failed,
                not_sent = not_sent
            ),
            (None, false, true) => t!(
                "summary.run_local",
                locale = locale,
                verdict = verdict,
                scenarios = scenarios,
                steps = steps,
                passed = passed,
                failed = failed,
                not_sent = not_sent
            ),
            (None, true, true) => t!(
                "summary.run_interrupted_local",
                locale = locale,
                verdict = verdict,
                scenarios = scenarios,
                steps = steps,
                passed = passed,
                failed = failed,
                not_sent = not_sent
            ),
            (Some((late, name, step)), false, false) => t!(
                "summary.run_worst",
                locale = locale,
                verdict = verdict,
                scenarios = scenarios,
                steps = steps,
                passed = passed,
                failed = failed,
                not_sent = not_sent,
                late = late,
                name = name,
                step = step
            ),
            (Some((late, name, step)), true, false) => t!(
                "summary.run_worst_interrupted",
                locale = locale,
                verdict = verdict,
                scenarios = scenarios,
                steps = steps,
                passed = passed,
                failed = failed,
                not_sent = not_sent,
                late = late,
                name = name,
                step = step
            ),
            (Some((late, name, step)), false, true) => t!(
                "summary.run_worst_local",
                locale = locale,
                verdict = verdict,
                scenarios = scenarios,
                steps = steps,
                passed = passed,
                failed = failed,
                not_sent = not_sent,
                late = late,
                name = name,
                step = step
            ),
            (Some((late, name, step)), true, true) => t!(
                "summary.run_worst_interrupted_local",
                locale = locale,
                verdict = verdict,
                scenarios = scenarios,
                steps = steps,
                passed = passed,
                failed = failed,
                not_sent = not_sent,
                late = late,
                name = name,
                step = step
            ),
        };
        out.push_str(&line);
        out.push('\n');
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
        let locale = self.lang.code();
        let late = worst.map(|(late, _)| format_duration(round_to_ms(late)));
        let (name, carrier, order) = (
            &scenario.name,
            &scenario.carrier.id,
            &scenario.shop_order_id,
        );
        let (passed, steps, failed, not_sent) =
            (counts.passed, counts.steps, counts.failed, counts.not_sent);
        // A whole sentence for each combination of what there is to say.
        let line = match (failed > 0, not_sent > 0, late) {
            (false, false, None) => t!(
                "summary.scenario",
                locale = locale,
                mark = mark,
                name = name,
                carrier = carrier,
                order = order,
                passed = passed,
                steps = steps
            ),
            (true, false, None) => t!(
                "summary.scenario_failed",
                locale = locale,
                mark = mark,
                name = name,
                carrier = carrier,
                order = order,
                passed = passed,
                steps = steps,
                failed = failed
            ),
            (false, true, None) => t!(
                "summary.scenario_not_sent",
                locale = locale,
                mark = mark,
                name = name,
                carrier = carrier,
                order = order,
                passed = passed,
                steps = steps,
                not_sent = not_sent
            ),
            (true, true, None) => t!(
                "summary.scenario_failed_not_sent",
                locale = locale,
                mark = mark,
                name = name,
                carrier = carrier,
                order = order,
                passed = passed,
                steps = steps,
                failed = failed,
                not_sent = not_sent
            ),
            (false, false, Some(late)) => t!(
                "summary.scenario_worst",
                locale = locale,
                mark = mark,
                name = name,
                carrier = carrier,
                order = order,
                passed = passed,
                steps = steps,
                late = late
            ),
            (true, false, Some(late)) => t!(
                "summary.scenario_failed_worst",
                locale = locale,
                mark = mark,
                name = name,
                carrier = carrier,
                order = order,
                passed = passed,
                steps = steps,
                failed = failed,
                late = late
            ),
            (false, true, Some(late)) => t!(
                "summary.scenario_not_sent_worst",
                locale = locale,
                mark = mark,
                name = name,
                carrier = carrier,
                order = order,
                passed = passed,
                steps = steps,
                not_sent = not_sent,
                late = late
            ),
            (true, true, Some(late)) => t!(
                "summary.scenario_failed_not_sent_worst",
                locale = locale,
                mark = mark,
                name = name,
                carrier = carrier,
                order = order,
                passed = passed,
                steps = steps,
                failed = failed,
                not_sent = not_sent,
                late = late
            ),
        };
        format!("{line}\n")
    }

    /// One line per step that broke `--max-lateness`: which, and by how much.
    fn late_steps(&self, plan: &Plan, record: &RunRecord, late: &[crate::run::LateStep]) -> String {
        let Some(max) = record.options.max_lateness else {
            return String::new();
        };
        let max = format_duration(round_to_ms(max));
        let mut out = String::new();
        for breach in late {
            let Some(scenario) = plan.scenarios.get(breach.scenario) else {
                continue;
            };
            let Some(step) = scenario.steps.get(breach.step) else {
                continue;
            };
            let line = t!(
                "summary.too_late",
                locale = self.lang.code(),
                name = scenario.name,
                step = step.index + 1,
                file = scenario.file,
                line = step.line,
                code = step.status.code(),
                status = step.status.name(),
                late = format_duration(round_to_ms(breach.lateness)),
                max = max
            );
            out.push_str(&self.style.red(&line));
            out.push('\n');
        }
        out
    }

    fn failure_details(&self, scenario: &ScenarioPlan, record: &ScenarioRecord) -> String {
        let mut out = String::new();
        if let (Some(create), Some(order)) = (&scenario.order, &record.order)
            && let Some(failure) = &order.failure
        {
            let what = self.style.red(&describe_failure_in(failure, self.lang));
            let line = t!(
                "summary.order_failed",
                locale = self.lang.code(),
                file = scenario.file,
                line = create.line,
                what = what
            );
            out.push_str(&format!("    {line}\n"));
        }
        let steps = &record.steps;
        for (plan_step, record) in scenario.steps.iter().zip(steps) {
            let status = plan_step.status;
            let what = match &record.outcome {
                StepOutcome::Failed(failure) => {
                    self.style.red(&describe_failure_in(failure, self.lang))
                }
                StepOutcome::NotSent(why) => self.style.yellow(&why.describe_in(self.lang)),
                StepOutcome::Passed(_) => continue,
            };
            let line = t!(
                "summary.step_failed",
                locale = self.lang.code(),
                step = plan_step.index + 1,
                file = scenario.file,
                line = plan_step.line,
                code = status.code(),
                name = status.name(),
                what = what
            );
            out.push_str(&format!("    {line}\n"));
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
    } else if failures.is_empty() && record.late_steps().is_empty() {
        exit::OK
    } else {
        exit::STEP_FAILED
    }
}

/// Writes to stdout, treating a closed pipe (`simulate … | head`) as nothing to do.
pub fn print(text: &str) {
    crate::base::console::out(&terminal_safe(text));
}

/// "outcome unknown: the update got …, and order/get could not say whether it took effect
/// (asked 7 times: errcode 930556 ×4; timed out after 3s ×3)".
fn describe_unsettled_in(unsettled: &Unsettled, lang: Lang) -> String {
    let locale = lang.code();
    let got = match unsettled.last_try.as_ref() {
        Failure::Unexpected { answer, .. } => describe_answer_in(answer, lang),
        other => describe_failure_in(other, lang),
    };
    // Each different thing the questions got, with how often, in the order first seen.
    let mut tally: Vec<(String, usize)> = Vec::new();
    for question in &unsettled.questions {
        let text = match question {
            Unanswered::Answer(answer) => describe_answer_in(answer, lang),
            Unanswered::Error(error) => printable(&error.describe_in(lang)).into_owned(),
        };
        match tally.iter_mut().find(|(seen, _)| *seen == text) {
            Some((_, n)) => *n += 1,
            None => tally.push((text, 1)),
        }
    }
    let answers = tally
        .iter()
        .map(|(text, n)| {
            t!(
                "failure.unknown_tally",
                locale = locale,
                answer = text,
                n = n
            )
        })
        .collect::<Vec<_>>()
        .join(&t!("failure.unknown_tally_separator", locale = locale));
    let count = unsettled.questions.len();
    let (got, answers) = (got.as_str(), answers.as_str());
    match (unsettled.call, unsettled.stopped, count) {
        (CallKind::Update, true, 0) => {
            t!("failure.unknown_update_stopped", locale = locale, got = got)
        }
        (CallKind::Add, true, 0) => t!("failure.unknown_add_stopped", locale = locale, got = got),
        (CallKind::Update, true, _) => t!(
            "failure.unknown_update_asked_stopped",
            locale = locale,
            got = got,
            count = count,
            answers = answers
        ),
        (CallKind::Add, true, _) => t!(
            "failure.unknown_add_asked_stopped",
            locale = locale,
            got = got,
            count = count,
            answers = answers
        ),
        (CallKind::Update, false, _) => t!(
            "failure.unknown_update",
            locale = locale,
            got = got,
            count = count,
            answers = answers
        ),
        (CallKind::Add, false, _) => t!(
            "failure.unknown_add",
            locale = locale,
            got = got,
            count = count,
            answers = answers
        ),
    }
    .into_owned()
}

fn describe_answer_in(answer: &Answer, lang: Lang) -> String {
    match (answer.errcode, answer.resultcode) {
        // The messages are the server's: shown, never obeyed.
        (0, 0) => match non_empty(&answer.resultmsg) {
            Some(said) => printable(said).into_owned(),
            None => t!("answer.ok", locale = lang.code()).into_owned(),
        },
        (0, code) => format!("resultcode {code} {}", printable(&answer.resultmsg))
            .trim_end()
            .to_owned(),
        (code, _) => format!("errcode {code} {}", printable(&answer.errmsg))
            .trim_end()
            .to_owned(),
    }
}

/// What went wrong with a step, in one line, in English (as machine-readable reports keep it).
pub fn describe_failure(failure: &Failure) -> String {
    describe_failure_in(failure, Lang::En)
}

/// What went wrong with a step, in one line, for people.
pub fn describe_failure_in(failure: &Failure, lang: Lang) -> String {
    let locale = lang.code();
    match failure {
        Failure::Unexpected { answer, expected } => {
            let answer_text = describe_answer_in(answer, lang);
            let expected = expect_in(expected, lang);
            if crate::wechat::errcode::TOKEN_REFUSED.contains(&answer.errcode) {
                t!(
                    "failure.unexpected_token",
                    locale = locale,
                    answer = answer_text,
                    expected = expected
                )
            } else if answer.errcode == crate::wechat::errcode::ORDER_NOT_FOUND {
                t!(
                    "failure.unexpected_order_not_found",
                    locale = locale,
                    answer = answer_text,
                    expected = expected
                )
            } else {
                t!(
                    "failure.unexpected",
                    locale = locale,
                    answer = answer_text,
                    expected = expected
                )
            }
            .into_owned()
        }
        Failure::Call(error) => printable(&error.describe_in(lang)).into_owned(),
        Failure::OutcomeUnknown(unsettled) => describe_unsettled_in(unsettled, lang),
        Failure::VerifyMismatch { expected, actual } => t!(
            "failure.verify_mismatch",
            locale = locale,
            actual = actual,
            expected = expected.code()
        )
        .into_owned(),
        Failure::Interrupted => t!("failure.interrupted", locale = locale).into_owned(),
        Failure::Token(error) => printable(&error.describe_in(lang)).into_owned(),
        Failure::Internal(detail) => printable(detail).into_owned(),
        // As the report said it (in English, as reports keep it).
        Failure::Reported { message, .. } => printable(message).into_owned(),
    }
}

/// What a step expected, for people.
pub fn expect_in(expect: &Expect, lang: Lang) -> String {
    let locale = lang.code();
    match expect {
        Expect::Ok => t!("expect.ok", locale = locale),
        Expect::Errcode(code) => t!("expect.errcode", locale = locale, code = code),
        Expect::Resultcode(code) => t!("expect.resultcode", locale = locale, code = code),
        Expect::Rejected => t!("expect.rejected", locale = locale),
    }
    .into_owned()
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

/// The steps that broke `--max-lateness`, for the machine-readable reports.
pub(crate) fn late_steps_json(plan: &Plan, record: &RunRecord) -> serde_json::Value {
    serde_json::to_value(json::late_shapes(plan, record)).unwrap_or_default()
}

/// What a late step's report says, in English (as machine-readable reports keep it).
pub(crate) fn too_late_message(lateness: Duration, max: Duration) -> String {
    too_late_in(lateness, max, Lang::En)
}

/// What a late step's report says, in `lang` (for the HTML page, read by people).
pub(crate) fn too_late_in(lateness: Duration, max: Duration, lang: Lang) -> String {
    t!(
        "report.too_late",
        locale = lang.code(),
        late = format_duration(round_to_ms(lateness)),
        max = format_duration(round_to_ms(max))
    )
    .into_owned()
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
        format!(
            "{}\n",
            t!("summary.pushes", delivered = delivered, made = made)
        )
    }
}

/// Whole milliseconds, for reports: rounded as the console rounds.
pub use crate::base::duration::whole_ms as millis;

/// How steps ended, counted (the run's own tally).
pub(crate) use crate::run::Counts;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::client::CallError;

    #[test]
    fn an_unknown_outcome_says_what_the_try_and_each_question_got() {
        let garbled = Failure::Call(CallError::Body("not JSON".to_owned()));
        let busy = Unanswered::Answer(Answer {
            errcode: 930556,
            errmsg: "carrier timeout".to_owned(),
            ..Answer::default()
        });
        let slow = Unanswered::Error(CallError::Timeout(std::time::Duration::from_secs(3)));
        let unsettled = Unsettled {
            call: CallKind::Update,
            last_try: Box::new(garbled.clone()),
            questions: vec![busy.clone(), slow, busy],
            stopped: false,
        };
        let failure = Failure::OutcomeUnknown(unsettled.clone());
        let said = describe_failure(&failure);
        assert!(
            said.starts_with("outcome unknown: the update got "),
            "{said}"
        );
        assert!(
            said.ends_with(
                "and order/get could not say whether it took effect (asked 3 times: \
                 errcode 930556 carrier timeout ×2; no answer within 3s ×1)"
            ),
            "{said}"
        );
        let zh = describe_failure_in(&failure, Lang::Zh);
        assert!(zh.starts_with("结果未知：状态更新得到"), "{zh}");
        assert!(zh.contains("问了 3 次"), "{zh}");

        let stopped = Failure::OutcomeUnknown(Unsettled {
            call: CallKind::Add,
            questions: Vec::new(),
            stopped: true,
            ..unsettled
        });
        assert!(
            describe_failure(&stopped).ends_with(
                "and the run stopped before order/get could say whether the order exists"
            ),
            "{}",
            describe_failure(&stopped)
        );
    }

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
                finished: Utc::now(),
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
        assert_eq!(
            exit_code(&run_of(vec![rejected.clone()], true)),
            exit::INTERRUPTED
        );
        // A step later than --max-lateness fails a run whose every answer was right.
        let mut late = run_of(vec![ok.clone()], false);
        late.scenarios[0].steps[0].lateness = Some(Duration::from_millis(300));
        assert_eq!(exit_code(&late), exit::OK, "without a threshold");
        late.options.max_lateness = Some(Duration::from_millis(250));
        assert_eq!(exit_code(&late), exit::STEP_FAILED);
        late.options.max_lateness = Some(Duration::from_millis(300));
        assert_eq!(exit_code(&late), exit::OK, "on the threshold is not later");
        late.interrupted = true;
        late.options.max_lateness = Some(Duration::from_millis(1));
        assert_eq!(exit_code(&late), exit::INTERRUPTED);
    }

    /// The run's last line is one sentence of the catalogue per language, so each language
    /// puts "interrupted" and "worst lateness" where its grammar wants them.
    #[test]
    fn the_summary_is_whole_sentences_in_each_language() {
        let plan = Plan {
            carriers_version: "test".into(),
            seed: 0,
            scenarios: vec![crate::scenario::testing::ok(
                "name: Late\ncarrier: dada\nshop_order_id: s-1\nsteps:\n  - status: 102\n  - status: 201\n",
            )],
        };
        let ok = StepOutcome::Passed(Answer::default());
        let not_sent = StepOutcome::NotSent(crate::run::NotSent::Interrupted);
        let mut record = run_of(vec![ok, not_sent], true);
        record.scenarios[0].steps[0].lateness = Some(Duration::from_millis(5));
        let lines = |record: &RunRecord, lang: Lang, local: bool| -> Vec<String> {
            let console = Console {
                style: Style { color: false },
                quiet: false,
                lang,
                local,
            };
            // The scenario's line and the run's (the not-sent step's line between them).
            let text = console.summary(&plan, record);
            let lines: Vec<&str> = text.lines().collect();
            [lines.first(), lines.last()]
                .into_iter()
                .flatten()
                .map(|l| (*l).to_owned())
                .collect()
        };
        assert_eq!(
            lines(&record, Lang::En, true),
            [
                "✗ Late (dada, order s-1): 1/2 passed, 1 not sent, worst lateness 5ms",
                "FAILED: 1 scenario, 2 steps: 1 passed, 0 failed, 1 not sent; worst lateness 5ms (Late, step 1) (interrupted) — against the local emulator, not WeChat"
            ]
        );
        assert_eq!(
            lines(&record, Lang::Zh, true),
            [
                "✗ Late（dada，订单 s-1）：1/2 通过，1 个未发送，最大迟到 5ms",
                "失败（已中断）：1 个场景，2 个步骤：1 个通过，0 个失败，1 个未发送；最大迟到 5ms（Late，第 1 步） —— 对接的是本地模拟器，不是微信"
            ]
        );
        record.interrupted = false;
        record.scenarios[0].steps[0].lateness = None;
        assert_eq!(
            lines(&record, Lang::Zh, false)[1],
            "失败：1 个场景，2 个步骤：1 个通过，0 个失败，1 个未发送"
        );
        assert_eq!(
            lines(&record, Lang::En, false)[1],
            "FAILED: 1 scenario, 2 steps: 1 passed, 0 failed, 1 not sent"
        );
    }

    #[test]
    fn answers_read_well() {
        let ok = Answer {
            resultmsg: "ok".into(),
            ..Answer::default()
        };
        assert_eq!(describe_answer_in(&ok, Lang::En), "ok");
        let carrier = Answer {
            resultcode: 2003,
            resultmsg: "签名错误".into(),
            ..Answer::default()
        };
        assert_eq!(
            describe_answer_in(&carrier, Lang::En),
            "resultcode 2003 签名错误"
        );
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
        let missing = Failure::Unexpected {
            answer: Answer {
                errcode: 930563,
                errmsg: "order not exists".into(),
                ..Answer::default()
            },
            expected: Expect::Ok,
        };
        let text = describe_failure(&missing);
        assert!(text.contains("`order: true`"), "{text}");
        assert!(text.contains("--auto-create"), "{text}");
    }
}
