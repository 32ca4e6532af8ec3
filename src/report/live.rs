//! The live view on a terminal: one line per order with its carrier, where it is, a bar for its
//! progress, and a countdown to the next step. Off a terminal, `Console` prints plain lines.

use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::time::Instant;

use crate::base::duration::format_duration;
use crate::base::pace::Speed;
use crate::model::plan::{Plan, ScenarioPlan};
use crate::model::statuses::{Lang, Status};
use crate::run::{Event, StepOutcome};

use rust_i18n::t;

use super::{Style, describe_failure_in};

/// More orders than this and the live view would not fit a screen: plain lines instead.
pub const MAX_ORDERS: usize = 30;

/// Where one order is, as the live view shows it.
#[derive(Debug, Clone, Default)]
pub struct OrderView {
    /// The last status the platform accepted.
    pub current: Option<Status>,
    /// Steps with an outcome.
    pub done: usize,
    /// When the order's timeline started (for the countdown).
    pub start: Option<Instant>,
    /// The reason the order stopped, if it failed.
    pub failed: Option<String>,
    /// A request is out and not yet answered.
    pub sending: bool,
}

pub struct Live {
    /// Owns the shared draw target of the bars.
    _multi: MultiProgress,
    bars: Vec<ProgressBar>,
    views: Vec<OrderView>,
    style: Style,
    lang: Lang,
    speed: Speed,
}

impl Live {
    pub fn new(plan: &Plan, style: Style, lang: Lang, speed: Speed) -> Live {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stdout_with_hz(8));
        let template = if style.color {
            "{prefix}  {bar:16.green/white} {pos}/{len}  {msg}"
        } else {
            "{prefix}  {bar:16} {pos}/{len}  {msg}"
        };
        let bar_style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("█▓░");
        let width = plan.scenarios.iter().map(prefix_width).max().unwrap_or(0);
        let bars = plan
            .scenarios
            .iter()
            .map(|scenario| {
                let bar = multi.add(ProgressBar::new(scenario.steps.len() as u64));
                bar.set_style(bar_style.clone());
                bar.set_prefix(pad(&prefix(scenario), width));
                bar
            })
            .collect();
        let mut live = Live {
            _multi: multi,
            bars,
            views: vec![OrderView::default(); plan.scenarios.len()],
            style,
            lang,
            speed,
        };
        live.refresh(plan);
        live
    }

    pub fn on_event(&mut self, plan: &Plan, event: &Event) {
        match event {
            Event::RunStarted { .. } => {
                let now = Instant::now();
                for view in &mut self.views {
                    view.start.get_or_insert(now);
                }
            }
            Event::StepSending { scenario, step, .. } => {
                if let (Some(view), Some(s)) =
                    (self.views.get_mut(*scenario), plan.scenarios.get(*scenario))
                {
                    view.sending = true;
                    // With --jobs an order starts late: re-anchor on its first send.
                    if *step == 0
                        && let Some(first) = s.steps.first()
                    {
                        view.start = Some(Instant::now() - first.planned_offset(self.speed));
                    }
                }
            }
            Event::StepFinished {
                scenario,
                step,
                record,
            } => {
                let Some(view) = self.views.get_mut(*scenario) else {
                    return;
                };
                let status = plan
                    .scenarios
                    .get(*scenario)
                    .and_then(|s| s.steps.get(*step))
                    .map(|s| s.status);
                view.sending = false;
                view.done += 1;
                match &record.outcome {
                    // Only a step that expected success moved the order.
                    StepOutcome::Passed(_)
                        if plan.scenarios[*scenario].steps[*step].expect
                            == crate::model::plan::Expect::Ok =>
                    {
                        view.current = status;
                    }
                    StepOutcome::Failed(failure) if view.failed.is_none() => {
                        view.failed = Some(describe_failure_in(failure, self.lang));
                    }
                    _ => {}
                }
                if let Some(bar) = self.bars.get(*scenario) {
                    bar.set_position(view.done as u64);
                }
            }
            Event::OrderCreated { scenario, record } => {
                if let (Some(view), Some(failure)) =
                    (self.views.get_mut(*scenario), &record.failure)
                {
                    let what = describe_failure_in(failure, self.lang);
                    view.failed = Some(format!("order/add: {what}"));
                }
            }
            Event::StepAnswered { .. }
            | Event::RunFinished
            | Event::ScenarioStarted { .. }
            | Event::ScenarioFinished { .. } => {}
        }
        self.refresh(plan);
    }

    /// Redraws every message (the countdowns move with time).
    pub fn refresh(&mut self, plan: &Plan) {
        let now = Instant::now();
        for ((bar, view), scenario) in self.bars.iter().zip(&self.views).zip(&plan.scenarios) {
            bar.set_message(order_message(
                scenario, view, now, self.speed, self.lang, self.style,
            ));
        }
    }

    /// Leaves the final lines on screen.
    pub fn finish(self, plan: &Plan) {
        let mut live = self;
        live.refresh(plan);
        for bar in &live.bars {
            bar.abandon();
        }
    }
}

fn prefix(scenario: &ScenarioPlan) -> String {
    format!("{} ({})", scenario.name, scenario.carrier.id)
}

fn prefix_width(scenario: &ScenarioPlan) -> usize {
    prefix(scenario).chars().count()
}

fn pad(text: &str, width: usize) -> String {
    format!("{text:width$}")
}

/// The text after an order's bar: where it is, then what comes next and when (or why it stopped).
pub fn order_message(
    scenario: &ScenarioPlan,
    view: &OrderView,
    now: Instant,
    speed: Speed,
    lang: Lang,
    style: Style,
) -> String {
    let here = match view.current {
        Some(status) => format!("{} {}", status.code(), status.label(lang)),
        None => format!("{} {}", Status::INITIAL.code(), Status::INITIAL.label(lang)),
    };
    if let Some(reason) = &view.failed {
        return format!("{here}  {}", style.red(&format!("✗ {reason}")));
    }
    let locale = lang.code();
    let Some(next) = scenario.steps.get(view.done) else {
        return format!("{here}  {}", style.green(&t!("live.done", locale = locale)));
    };
    if view.sending {
        let sending = t!(
            "live.sending",
            locale = locale,
            code = next.status.code(),
            label = next.status.label(lang)
        );
        return format!("{here}  {sending}");
    }
    let wait = view
        .start
        .map(|start| (start + next.planned_offset(speed)).saturating_duration_since(now))
        .unwrap_or_default();
    format!(
        "{here}  {}",
        style.dim(&t!(
            "live.next",
            locale = locale,
            code = next.status.code(),
            label = next.status.label(lang),
            wait = format_duration(round_down_to_second(wait))
        ))
    )
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

    const PLAIN: Style = Style { color: false };

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
            done: 1,
            start: Some(now - Duration::from_millis(10_400)),
            ..OrderView::default()
        };
        assert_eq!(
            order_message(&s, &view, now, Speed::REAL_TIME, Lang::En, PLAIN),
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
        assert_eq!(
            order_message(&s, &fast, now, ten_times, Lang::Zh, PLAIN),
            "102 分配骑手成功  3s 后发送 201 骑手到店开始取货"
        );
    }

    #[test]
    fn sending_failed_and_finished_orders_say_so() {
        let s = scenario();
        let now = Instant::now();
        let sending = OrderView {
            current: Some(Status::RiderAssigned),
            done: 1,
            start: Some(now),
            sending: true,
            ..OrderView::default()
        };
        assert_eq!(
            order_message(&s, &sending, now, Speed::REAL_TIME, Lang::En, PLAIN),
            "102 rider assigned  → sending 201 rider at the store…"
        );
        let failed = OrderView {
            failed: Some("resultcode 2003 签名错误".into()),
            sending: false,
            ..sending.clone()
        };
        assert_eq!(
            order_message(&s, &failed, now, Speed::REAL_TIME, Lang::En, PLAIN),
            "102 rider assigned  ✗ resultcode 2003 签名错误"
        );
        let red = order_message(
            &s,
            &failed,
            now,
            Speed::REAL_TIME,
            Lang::En,
            Style { color: true },
        );
        assert!(red.contains("\x1b[31m✗"), "failures are red: {red:?}");
        let done = OrderView {
            current: Some(Status::PickedUp),
            done: 3,
            ..OrderView::default()
        };
        assert_eq!(
            order_message(&s, &done, now, Speed::REAL_TIME, Lang::En, PLAIN),
            "202 picked up  ✓ done"
        );
        let fresh = OrderView::default();
        assert!(
            order_message(&s, &fresh, now, Speed::REAL_TIME, Lang::En, PLAIN)
                .starts_with("101 waiting for a rider")
        );
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
