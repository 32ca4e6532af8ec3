//! What the live view knows about each order, and the text of its lines: one per order, the
//! total progress line, and the compact view's lines. Pure: the frame is drawn in `mod.rs`.

use std::time::Duration;

use rust_i18n::t;
use tokio::time::Instant;

use crate::base::duration::format_duration;
use crate::base::i18n::{Noun, count_in};
use crate::base::pace::Speed;
use crate::model::plan::{Expect, Plan, ScenarioPlan, StepPlan};
use crate::model::statuses::{Lang, Status};
use crate::report::{Style, describe_failure_in};
use crate::run::{Event, NotSent, StepOutcome};

/// Cells in a progress bar.
const BAR: usize = 16;

/// Where one order is, as the live view shows it.
#[derive(Debug, Clone, Default)]
pub struct OrderView {
    /// The last status the platform accepted.
    pub current: Option<Status>,
    pub passed: usize,
    pub failed: usize,
    pub not_sent: usize,
    /// When the order's timeline started (for the countdown).
    pub start: Option<Instant>,
    /// The reason the order stopped, if it failed.
    pub failure: Option<String>,
    /// Why its remaining steps were not sent, if they were not.
    pub stopped: Option<NotSent>,
    /// A request is out and not yet answered.
    pub sending: bool,
}

impl OrderView {
    /// Steps that went out (passed or failed).
    pub fn sent(&self) -> usize {
        self.passed + self.failed
    }

    /// Steps with an outcome, sent or not.
    pub fn settled(&self) -> usize {
        self.sent() + self.not_sent
    }
}

/// Every order's view, updated from the runner's events.
#[derive(Debug, Clone)]
pub struct Progress {
    pub views: Vec<OrderView>,
    pub speed: Speed,
    /// The language failures are described in.
    pub lang: Lang,
    /// `--step`: the clock stands still since then, and so do the countdowns.
    pub paused_at: Option<Instant>,
}

impl Progress {
    pub fn new(plan: &Plan, speed: Speed, lang: Lang) -> Progress {
        Progress {
            views: vec![OrderView::default(); plan.scenarios.len()],
            speed,
            lang,
            paused_at: None,
        }
    }

    pub fn on_event(&mut self, plan: &Plan, event: &Event, now: Instant) {
        match event {
            Event::RunStarted { .. } => {
                for view in &mut self.views {
                    view.start.get_or_insert(now);
                }
            }
            Event::StepSending { scenario, step, .. } => {
                let (Some(view), Some(s)) =
                    (self.views.get_mut(*scenario), plan.scenarios.get(*scenario))
                else {
                    return;
                };
                view.sending = true;
                // With --jobs an order starts late: re-anchor on its first send.
                if *step == 0
                    && let Some(first) = s.steps.first()
                {
                    view.start = Some(now - first.planned_offset(self.speed));
                }
            }
            Event::StepFinished {
                scenario,
                step,
                record,
            } => {
                let (Some(view), Some(step_plan)) = (
                    self.views.get_mut(*scenario),
                    plan.scenarios
                        .get(*scenario)
                        .and_then(|s| s.steps.get(*step)),
                ) else {
                    return;
                };
                view.sending = false;
                match &record.outcome {
                    StepOutcome::Passed(_) => {
                        view.passed += 1;
                        // Only a step that expected success moved the order.
                        if step_plan.expect == Expect::Ok {
                            view.current = Some(step_plan.status);
                        }
                    }
                    StepOutcome::Failed(failure) => {
                        view.failed += 1;
                        view.failure
                            .get_or_insert_with(|| describe_failure_in(failure, self.lang));
                    }
                    StepOutcome::NotSent(why) => {
                        view.not_sent += 1;
                        view.stopped.get_or_insert(*why);
                    }
                }
            }
            Event::OrderCreated { scenario, record } => {
                if let (Some(view), Some(failure)) =
                    (self.views.get_mut(*scenario), &record.failure)
                {
                    let what = describe_failure_in(failure, self.lang);
                    view.failure = Some(format!("order/add: {what}"));
                }
            }
            // The schedule moved under every order waiting: so do their countdowns.
            Event::ClockMoved(moved) => {
                for start in self.views.iter_mut().filter_map(|v| v.start.as_mut()) {
                    let later = *start + moved.later;
                    *start = later.checked_sub(moved.earlier).unwrap_or(later);
                }
                self.paused_at = moved.paused.then_some(now);
            }
            Event::StepAnswered { .. }
            | Event::RunFinished
            | Event::ScenarioStarted { .. }
            | Event::ScenarioFinished { .. } => {}
        }
    }

    /// The step due soonest among the orders still waiting: its order, the step, and the wait.
    pub fn next_send<'p>(
        &self,
        plan: &'p Plan,
        now: Instant,
    ) -> Option<(&'p ScenarioPlan, &'p StepPlan, Duration)> {
        self.views
            .iter()
            .zip(&plan.scenarios)
            .filter(|(view, _)| view.failure.is_none() && view.stopped.is_none() && !view.sending)
            .filter_map(|(view, scenario)| {
                let next = scenario.steps.get(view.settled())?;
                let start = view.start?;
                let wait = (start + next.planned_offset(self.speed)).saturating_duration_since(now);
                Some((scenario, next, wait))
            })
            .min_by_key(|(_, _, wait)| *wait)
    }

    fn totals(&self, plan: &Plan) -> Totals {
        let mut totals = Totals {
            steps: plan.scenarios.iter().map(|s| s.steps.len()).sum(),
            ..Totals::default()
        };
        for view in &self.views {
            totals.add(view);
        }
        totals
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    steps: usize,
    sent: usize,
    passed: usize,
    failed: usize,
    not_sent: usize,
}

impl Totals {
    fn add(&mut self, view: &OrderView) {
        self.sent += view.sent();
        self.passed += view.passed;
        self.failed += view.failed;
        self.not_sent += view.not_sent;
    }
}

/// How the lines are worded and painted.
#[derive(Debug, Clone, Copy)]
pub struct Look {
    pub style: Style,
    pub lang: Lang,
}

/// `█████░░░` for `sent` of `all`, red once something failed.
pub fn bar(sent: usize, all: usize, failed: bool, style: Style) -> String {
    let filled = (sent * BAR).checked_div(all).unwrap_or(BAR).min(BAR);
    let full = "█".repeat(filled);
    let empty = "░".repeat(BAR - filled);
    if failed {
        format!("{}{empty}", style.red(&full))
    } else {
        format!("{}{empty}", style.green(&full))
    }
}

/// The line of one order: its name, a bar of the steps sent, and where it is.
pub fn order_line(
    scenario: &ScenarioPlan,
    view: &OrderView,
    width: usize,
    now: Instant,
    speed: Speed,
    look: Look,
) -> String {
    let all = scenario.steps.len();
    format!(
        "{}  {} {}/{all}  {}",
        pad(&order_name(scenario), width),
        bar(
            view.sent(),
            all,
            view.failed > 0 || view.failure.is_some(),
            look.style
        ),
        view.sent(),
        order_message(scenario, view, now, speed, look)
    )
}

pub fn order_name(scenario: &ScenarioPlan) -> String {
    format!("{} ({})", scenario.name, scenario.carrier.id)
}

fn pad(text: &str, width: usize) -> String {
    let used = console::measure_text_width(text);
    format!("{text}{}", " ".repeat(width.saturating_sub(used)))
}

/// The text after an order's bar: where it is, then what comes next and when (or how it ended).
pub fn order_message(
    scenario: &ScenarioPlan,
    view: &OrderView,
    now: Instant,
    speed: Speed,
    look: Look,
) -> String {
    let Look { style, lang } = look;
    let locale = lang.code();
    let status = view.current.unwrap_or(Status::INITIAL);
    let here = format!("{} {}", status.code(), status.label(lang));
    if let Some(reason) = &view.failure {
        let text = t!(
            "live.failed",
            locale = locale,
            passed = view.passed,
            failed = view.failed,
            not_sent = view.not_sent,
            reason = reason
        );
        return format!("{here}  {}", style.red(&text));
    }
    if view.stopped == Some(NotSent::Interrupted) {
        let text = t!(
            "live.interrupted",
            locale = locale,
            sent = view.sent(),
            steps = count_in(lang, scenario.steps.len(), Noun::Step)
        );
        return format!("{here}  {}", style.yellow(&text));
    }
    if let Some(why) = view.stopped {
        let text = t!("live.stopped", locale = locale, why = why.describe_in(lang));
        return format!("{here}  {}", style.yellow(&text));
    }
    let Some(next) = scenario.steps.get(view.settled()) else {
        return format!("{here}  {}", style.green(&t!("live.done", locale = locale)));
    };
    if view.sending {
        let text = t!(
            "live.sending",
            locale = locale,
            code = next.status.code(),
            label = next.status.label(lang)
        );
        return format!("{here}  {text}");
    }
    let wait = view
        .start
        .map(|start| (start + next.planned_offset(speed)).saturating_duration_since(now))
        .unwrap_or_default();
    let text = t!(
        "live.next",
        locale = locale,
        code = next.status.code(),
        label = next.status.label(lang),
        wait = countdown(wait)
    );
    format!("{here}  {}", style.dim(&text))
}

/// The line shown in every view: steps sent of all, passed, failed, and the next send.
pub fn total_line(plan: &Plan, progress: &Progress, now: Instant, look: Look) -> String {
    let t = progress.totals(plan);
    let locale = look.lang.code();
    let bar = bar(t.sent, t.steps, t.failed > 0, look.style);
    let steps = count_in(look.lang, t.steps, Noun::Step);
    let counts = if t.not_sent > 0 {
        t!(
            "live.total_with_not_sent",
            locale = locale,
            bar = bar,
            sent = t.sent,
            steps = steps,
            passed = t.passed,
            failed = t.failed,
            not_sent = t.not_sent
        )
    } else {
        t!(
            "live.total",
            locale = locale,
            bar = bar,
            sent = t.sent,
            steps = steps,
            passed = t.passed,
            failed = t.failed
        )
    };
    match progress.next_send(plan, now) {
        Some((scenario, step, wait)) => {
            let next = next_of(scenario, step, wait, look.lang);
            format!("{counts}  {next}")
        }
        None => counts.into_owned(),
    }
}

/// `next 202 picked up (SF happy path) in 7m12s`: the step due soonest, and its order.
pub fn next_of(scenario: &ScenarioPlan, step: &StepPlan, wait: Duration, lang: Lang) -> String {
    t!(
        "live.next_of",
        locale = lang.code(),
        code = step.status.code(),
        label = step.status.label(lang),
        name = scenario.name,
        wait = countdown(wait)
    )
    .into_owned()
}

/// The compact view's lines when orders outnumber rows: a notice, then one count line per
/// carrier, then the failures (the caller adds the total line and the latest events).
pub fn compact_lines(plan: &Plan, progress: &Progress, rows: usize, look: Look) -> Vec<String> {
    let locale = look.lang.code();
    let mut lines = vec![look.style.dim(&t!(
        "live.compact",
        locale = locale,
        orders = count_in(look.lang, plan.scenarios.len(), Noun::Order),
        rows = rows
    ))];
    let mut carriers: Vec<(&str, usize, Totals)> = Vec::new();
    for (scenario, view) in plan.scenarios.iter().zip(&progress.views) {
        let id = scenario.carrier.id.as_str();
        let index = match carriers.iter().position(|(c, _, _)| *c == id) {
            Some(index) => index,
            None => {
                carriers.push((id, 0, Totals::default()));
                carriers.len() - 1
            }
        };
        let entry = &mut carriers[index];
        entry.1 += 1;
        entry.2.steps += scenario.steps.len();
        entry.2.add(view);
    }
    for (id, orders, t) in carriers {
        let line = t!(
            "live.compact_carrier",
            locale = locale,
            carrier = id,
            orders = count_in(look.lang, orders, Noun::Order),
            sent = t.sent,
            steps = t.steps,
            passed = t.passed,
            failed = t.failed,
            not_sent = t.not_sent
        );
        lines.push(format!("  {line}"));
    }
    for (scenario, view) in plan.scenarios.iter().zip(&progress.views) {
        if let Some(reason) = &view.failure {
            lines.push(
                look.style
                    .red(&format!("  ✗ {}: {reason}", order_name(scenario))),
            );
        }
    }
    lines
}

fn countdown(wait: Duration) -> String {
    format_duration(round_down_to_second(wait))
}

fn round_down_to_second(d: Duration) -> Duration {
    if d < Duration::from_secs(1) {
        Duration::from_millis(u64::try_from(d.as_millis() / 100 * 100).unwrap_or(0))
    } else {
        Duration::from_secs(d.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::testing::ok;

    const PLAIN: Look = Look {
        style: Style { color: false },
        lang: Lang::En,
    };

    fn scenario() -> ScenarioPlan {
        ok(
            "carrier: dada\nshop_order_id: live-{{run_id}}\nsteps:\n  - status: 102\n  - status: 201\n    after: 30s\n  - status: 202\n    after: 1m\n",
        )
    }

    #[test]
    fn a_waiting_order_counts_down_to_its_next_step() {
        let s = scenario();
        let now = Instant::now();
        let view = OrderView {
            current: Some(Status::RiderAssigned),
            passed: 1,
            start: Some(now - Duration::from_millis(10_400)),
            ..OrderView::default()
        };
        assert_eq!(
            order_message(&s, &view, now, Speed::REAL_TIME, PLAIN),
            "102 rider assigned  next 201 rider at the store in 19s"
        );
        // At speed 10 the 30 s wait is 3 s; the whole line follows --lang.
        let Some(ten_times) = Speed::new(10.0) else {
            panic!("10 is a speed")
        };
        let fast = OrderView {
            start: Some(now),
            ..view.clone()
        };
        let zh = Look {
            lang: Lang::Zh,
            ..PLAIN
        };
        assert_eq!(
            order_message(&s, &fast, now, ten_times, zh),
            "102 分配骑手成功  3s 后发送 201 骑手到店开始取货"
        );
    }

    #[test]
    fn sending_failed_interrupted_and_finished_orders_say_so() {
        let s = scenario();
        let now = Instant::now();
        let sending = OrderView {
            current: Some(Status::RiderAssigned),
            passed: 1,
            start: Some(now),
            sending: true,
            ..OrderView::default()
        };
        assert_eq!(
            order_message(&s, &sending, now, Speed::REAL_TIME, PLAIN),
            "102 rider assigned  → sending 201 rider at the store…"
        );
        let failed = OrderView {
            failed: 1,
            not_sent: 1,
            failure: Some("resultcode 2003 签名错误".into()),
            stopped: Some(NotSent::EarlierStepFailed),
            sending: false,
            ..sending.clone()
        };
        assert_eq!(
            order_message(&s, &failed, now, Speed::REAL_TIME, PLAIN),
            "102 rider assigned  ✗ 1 passed, 1 failed, 1 not sent: resultcode 2003 签名错误"
        );
        let interrupted = OrderView {
            not_sent: 2,
            stopped: Some(NotSent::Interrupted),
            sending: false,
            ..sending.clone()
        };
        assert_eq!(
            order_message(&s, &interrupted, now, Speed::REAL_TIME, PLAIN),
            "102 rider assigned  ■ interrupted: 1 of 3 steps sent"
        );
        let done = OrderView {
            current: Some(Status::PickedUp),
            passed: 3,
            ..OrderView::default()
        };
        assert_eq!(
            order_message(&s, &done, now, Speed::REAL_TIME, PLAIN),
            "202 picked up  ✓ done"
        );
        assert!(
            order_message(&s, &OrderView::default(), now, Speed::REAL_TIME, PLAIN)
                .starts_with("101 waiting for a rider")
        );
    }

    #[test]
    fn every_state_reads_in_chinese_with_lang_zh() {
        let s = scenario();
        let now = Instant::now();
        let zh = Look {
            lang: Lang::Zh,
            ..PLAIN
        };
        let interrupted = OrderView {
            current: Some(Status::RiderAssigned),
            passed: 1,
            not_sent: 2,
            stopped: Some(NotSent::Interrupted),
            ..OrderView::default()
        };
        assert_eq!(
            order_message(&s, &interrupted, now, Speed::REAL_TIME, zh),
            "102 分配骑手成功  ■ 已中断：3 个步骤中已发送 1 个"
        );
        let failed = OrderView {
            failed: 1,
            failure: Some("resultcode 2003 签名错误".into()),
            stopped: Some(NotSent::EarlierStepFailed),
            ..interrupted.clone()
        };
        assert_eq!(
            order_message(&s, &failed, now, Speed::REAL_TIME, zh),
            "102 分配骑手成功  ✗ 1 个通过，1 个失败，2 个未发送：resultcode 2003 签名错误"
        );
        let plan = Plan {
            carriers_version: "test".into(),
            seed: 0,
            scenarios: vec![s],
        };
        let mut progress = Progress::new(&plan, Speed::REAL_TIME, Lang::Zh);
        progress.views[0] = interrupted;
        assert_eq!(
            total_line(&plan, &progress, now, zh),
            format!(
                "合计  {} 已发送 1/3 个步骤  1 个通过，0 个失败，2 个未发送",
                bar(1, 3, false, PLAIN.style)
            )
        );
    }

    #[test]
    fn bars_count_sent_steps_and_turn_red_on_a_failure() {
        let plain = Style { color: false };
        assert_eq!(bar(1, 4, false, plain), "████░░░░░░░░░░░░");
        assert_eq!(bar(0, 5, false, plain), "░".repeat(BAR));
        let red = bar(2, 3, true, Style { color: true });
        assert!(red.starts_with("\x1b[31m█"), "{red:?}");
        let green = bar(3, 3, false, Style { color: true });
        assert!(green.starts_with("\x1b[32m█"), "{green:?}");
    }

    #[test]
    fn short_waits_show_tenths_long_ones_whole_seconds() {
        assert_eq!(
            round_down_to_second(Duration::from_millis(950)),
            Duration::from_millis(900)
        );
        assert_eq!(
            round_down_to_second(Duration::from_millis(61_700)),
            Duration::from_secs(61)
        );
    }
}
