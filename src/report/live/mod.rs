//! The live view on a terminal: one line per order with its carrier, a bar of the steps sent
//! and where it is, then a total progress line. With more orders than rows, a compact view:
//! the total line, counts per carrier, the failures and the latest events. Every line is cut
//! to the terminal's width, read afresh for each frame, so a resize is honoured.
//!
//! Off a terminal there is no live view; [`Heartbeat`] says the run is alive during long waits.

pub mod view;

use std::collections::VecDeque;
use std::time::Duration;

use rust_i18n::t;
use tokio::time::Instant;

use crate::base::pace::Speed;
use crate::model::plan::Plan;
use crate::run::Event;

use super::Console;
pub use view::{Look, Progress};

/// The latest events kept for the compact view.
const RECENT: usize = 64;

/// A terminal too small to say anything useful still gets this much.
const MIN_COLS: usize = 20;

pub struct Live {
    progress: Progress,
    console: Console,
    recent: VecDeque<String>,
    /// Lines the last frame drew; the cursor waits on the line below them.
    drawn: usize,
    size: fn() -> Option<(usize, usize)>,
    /// Where frames go: the terminal, or nowhere in tests (whose output is not captured).
    write: fn(&str),
    /// `--step`: a line says what comes next and which keys do what.
    steering: bool,
}

impl Live {
    pub fn new(plan: &Plan, console: Console, speed: Speed) -> Live {
        Live::with_size(
            plan,
            console,
            speed,
            terminal_size,
            crate::base::console::out,
        )
    }

    /// With the terminal's size read by `size` as (columns, rows), frames written by `write`.
    pub fn with_size(
        plan: &Plan,
        console: Console,
        speed: Speed,
        size: fn() -> Option<(usize, usize)>,
        write: fn(&str),
    ) -> Live {
        Live {
            progress: Progress::new(plan, speed, console.lang),
            console,
            recent: VecDeque::new(),
            drawn: 0,
            size,
            write,
            steering: false,
        }
    }

    /// With `--step`'s line: what comes next, and the keys.
    pub fn steering(mut self) -> Live {
        self.steering = true;
        self
    }

    pub fn on_event(&mut self, plan: &Plan, event: &Event) {
        self.progress.on_event(plan, event, Instant::now());
        if let Some(line) = self.console.event_line(plan, event) {
            if self.recent.len() == RECENT {
                self.recent.pop_front();
            }
            self.recent.push_back(line);
        }
        self.refresh(plan);
    }

    /// Redraws the frame (the countdowns move with time).
    pub fn refresh(&mut self, plan: &Plan) {
        let (cols, rows) = (self.size)().unwrap_or((80, 24));
        let lines = self.frame(plan, Instant::now(), cols, rows);
        let text = self.redraw(&lines);
        // Each line was made terminal-safe in `redraw`; the cursor moves around them are ours.
        (self.write)(&text);
    }

    /// Draws the final frame and leaves it on screen, with the cursor below it.
    pub fn finish(mut self, plan: &Plan) {
        // The keys do nothing any more.
        self.steering = false;
        self.refresh(plan);
    }

    /// The lines of one frame for a terminal of `cols` × `rows`, each cut to fit.
    pub fn frame(&self, plan: &Plan, now: Instant, cols: usize, rows: usize) -> Vec<String> {
        let look = Look {
            style: self.console.style,
            lang: self.console.lang,
        };
        let speed = self.progress.speed;
        // A paused clock stops every countdown where it was.
        let now = self.progress.paused_at.unwrap_or(now);
        let total = view::total_line(plan, &self.progress, now, look);
        // One row stays free for the cursor (and a `^C` echoed there).
        let room = rows.saturating_sub(1).max(1);
        let mut lines = if plan.scenarios.len() < room {
            let width = plan
                .scenarios
                .iter()
                .map(|s| console::measure_text_width(&view::order_name(s)))
                .max()
                .unwrap_or(0);
            let mut lines: Vec<String> = plan
                .scenarios
                .iter()
                .zip(&self.progress.views)
                .map(|(s, v)| view::order_line(s, v, width, now, speed, look))
                .collect();
            lines.push(total);
            lines.extend(self.steering_line(plan, now));
            lines
        } else {
            let mut lines = vec![total];
            lines.extend(self.steering_line(plan, now));
            lines.extend(view::compact_lines(plan, &self.progress, rows, look));
            lines.truncate(room);
            let free = room - lines.len();
            let skip = self.recent.len().saturating_sub(free);
            lines.extend(self.recent.iter().skip(skip).cloned());
            lines
        };
        let width = cols.max(MIN_COLS) - 1;
        for line in &mut lines {
            *line = console::truncate_str(line, width, "…").into_owned();
        }
        lines
    }

    /// With `--step`: the step due next and the keys, or that the clock is paused.
    fn steering_line(&self, plan: &Plan, now: Instant) -> Option<String> {
        if !self.steering {
            return None;
        }
        let lang = self.console.lang;
        let locale = lang.code();
        let text = match (self.progress.paused_at, self.progress.next_send(plan, now)) {
            (Some(_), _) => t!("live.step_paused", locale = locale),
            (None, Some((scenario, step, wait))) => t!(
                "live.step_next",
                locale = locale,
                next = view::next_of(scenario, step, wait, lang)
            ),
            (None, None) => t!("live.step_keys", locale = locale),
        };
        Some(self.console.style.bold(&text))
    }

    /// The bytes that replace the last frame by `lines`: back to the frame's first line, each
    /// line cleared and written (no control character but colours passes from a line), then
    /// everything below cleared (stale lines, an echoed `^C`).
    fn redraw(&mut self, lines: &[String]) -> String {
        let mut out = String::from("\r");
        if self.drawn > 0 {
            out.push_str(&format!("\x1b[{}A", self.drawn));
        }
        for line in lines {
            out.push_str("\x1b[2K");
            out.push_str(&crate::base::text::terminal_safe(line));
            out.push_str("\r\n");
        }
        out.push_str("\x1b[J");
        self.drawn = lines.len();
        out
    }
}

/// (columns, rows) of the terminal on stdout.
fn terminal_size() -> Option<(usize, usize)> {
    console::Term::stdout()
        .size_checked()
        .map(|(rows, cols)| (usize::from(cols), usize::from(rows)))
}

/// Off a terminal, a line after a minute without output, so a CI log shows the job is alive.
pub struct Heartbeat {
    progress: Progress,
    look: Look,
    silence: Duration,
    last_output: Instant,
}

impl Heartbeat {
    pub const SILENCE: Duration = Duration::from_secs(60);

    pub fn new(plan: &Plan, speed: Speed, look: Look, now: Instant) -> Heartbeat {
        Heartbeat {
            progress: Progress::new(plan, speed, look.lang),
            look,
            silence: Heartbeat::SILENCE,
            last_output: now,
        }
    }

    pub fn on_event(&mut self, plan: &Plan, event: &Event, now: Instant) {
        self.progress.on_event(plan, event, now);
    }

    /// Something was printed: the silence starts again.
    pub fn printed(&mut self, now: Instant) {
        self.last_output = now;
    }

    /// The heartbeat line, when the output has been silent for long enough.
    pub fn beat(&mut self, plan: &Plan, now: Instant) -> Option<String> {
        if now.saturating_duration_since(self.last_output) < self.silence {
            return None;
        }
        self.last_output = now;
        let (scenario, step, wait) = self.progress.next_send(plan, now)?;
        // Whole seconds: a log line read minutes later needs no tenths.
        let wait = Duration::from_secs(wait.as_secs());
        let next = view::next_of(scenario, step, wait, self.look.lang);
        Some(
            t!(
                "live.heartbeat",
                locale = self.look.lang.code(),
                next = next
            )
            .into_owned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::statuses::Lang;
    use crate::report::Style;
    use crate::run::{NotSent, StepOutcome, StepRecord};
    use crate::scenario::testing::ok;

    fn console() -> Console {
        Console {
            style: Style { color: false },
            quiet: false,
            lang: Lang::En,
            local: true,
        }
    }

    fn plan(orders: usize) -> Plan {
        let scenario = ok(
            "name: Dada happy path\ncarrier: dada\nshop_order_id: live-{{run_id}}\nsteps:\n  - status: 102\n  - status: 201\n    after: 30s\n",
        );
        Plan {
            carriers_version: "test".into(),
            seed: 0,
            scenarios: vec![scenario; orders],
        }
    }

    fn not_sent(why: NotSent) -> StepRecord {
        StepRecord {
            planned: chrono::Utc::now(),
            sent: None,
            lateness: None,
            latency: None,
            attempts: Vec::new(),
            verified: None,
            outcome: StepOutcome::NotSent(why),
        }
    }

    #[test]
    fn lines_are_cut_to_the_width_and_a_total_line_is_always_there() {
        let plan = plan(2);
        let mut live = Live::with_size(&plan, console(), Speed::REAL_TIME, || None, |_| {});
        live.progress.on_event(
            &plan,
            &Event::RunStarted {
                at: chrono::Utc::now(),
            },
            Instant::now(),
        );
        let now = Instant::now();
        let wide = live.frame(&plan, now, 200, 24);
        assert_eq!(wide.len(), 3, "{wide:#?}");
        assert!(wide[2].starts_with("total  "), "{wide:#?}");
        assert!(wide[2].contains("0/4 steps sent"), "{wide:#?}");
        let narrow = live.frame(&plan, now, 40, 24);
        for line in &narrow {
            assert!(console::measure_text_width(line) < 40, "{line:?}");
        }
        assert!(narrow[0].ends_with('…'), "{narrow:#?}");
    }

    #[test]
    fn more_orders_than_rows_switch_to_the_compact_view() {
        let plan = plan(30);
        let mut live = Live::with_size(&plan, console(), Speed::REAL_TIME, || None, |_| {});
        let now = Instant::now();
        live.progress.on_event(
            &plan,
            &Event::RunStarted {
                at: chrono::Utc::now(),
            },
            now,
        );
        live.on_event(
            &plan,
            &Event::StepFinished {
                scenario: 3,
                step: 0,
                record: (&not_sent(NotSent::FailFast)).into(),
            },
        );
        let frame = live.frame(&plan, now, 120, 10);
        assert!(frame.len() <= 9, "{frame:#?}");
        assert!(frame[0].starts_with("total  "), "{frame:#?}");
        assert!(frame[0].contains("0/60 steps sent"), "{frame:#?}");
        assert!(frame[1].contains("compact view: 30 orders"), "{frame:#?}");
        assert_eq!(
            frame[2],
            "  dada: 30 orders, 0/60 sent, 0 passed, 0 failed, 1 not sent"
        );
    }

    #[test]
    fn a_redraw_goes_back_over_the_last_frame_and_clears_below() {
        let plan = plan(1);
        let mut live = Live::with_size(&plan, console(), Speed::REAL_TIME, || None, |_| {});
        let first = live.redraw(&["a".into(), "b".into()]);
        assert_eq!(first, "\r\x1b[2Ka\r\n\x1b[2Kb\r\n\x1b[J");
        let second = live.redraw(&["c".into()]);
        assert_eq!(second, "\r\x1b[2A\x1b[2Kc\r\n\x1b[J");
        // A line cannot move the cursor itself; its colours pass.
        let hostile = live.redraw(&["\x1b[2Jx \x1b[31mred\x1b[0m".into()]);
        assert_eq!(
            hostile,
            "\r\x1b[1A\x1b[2K\\u{1b}[2Jx \x1b[31mred\x1b[0m\r\n\x1b[J"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_heartbeat_after_a_minute_of_silence_says_what_is_next() {
        let plan = plan(1);
        let look = Look {
            style: Style { color: false },
            lang: Lang::En,
        };
        let start = Instant::now();
        let mut heart = Heartbeat::new(&plan, Speed::REAL_TIME, look, start);
        heart.on_event(
            &plan,
            &Event::RunStarted {
                at: chrono::Utc::now(),
            },
            start,
        );
        assert_eq!(heart.beat(&plan, start + Duration::from_secs(59)), None);
        assert_eq!(
            heart
                .beat(&plan, start + Duration::from_secs(60))
                .as_deref(),
            Some("… still running: next 102 rider assigned (Dada happy path) in 0s")
        );
        // Then silent again for a minute.
        assert_eq!(heart.beat(&plan, start + Duration::from_secs(90)), None);
    }
}
