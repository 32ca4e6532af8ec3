//! `--report-html`: one self-contained HTML file — the verdict, the run's settings, and for each
//! order a timeline (planned against actual sends) and a table of its steps.
//!
//! Nothing is loaded from anywhere: the CSS and the SVG are inline, there is no script, and a
//! Content-Security-Policy forbids any fetch, so the file reads the same offline, printed or
//! attached to a ticket. Every text that came from outside (names, paths, messages, answers)
//! goes through [`escape`]; the appsecret is never read (and is redacted from answers as a last
//! line of defence). The output depends only on its inputs: times are UTC, ids are indices.
//!
//! This module holds the page around the parts and what they share; `header` is the run's
//! verdict and settings, `orders` each order's section, `timeline` and `steps` its picture and
//! table.

mod compact;
mod coverage;
mod header;
mod measure;
mod orders;
mod steps;
mod text;
mod timeline;

#[cfg(test)]
pub(crate) mod testing;

use crate::base::pace::Speed;
use crate::base::secret::redact;
use crate::model::plan::{Plan, ScenarioPlan};
use crate::model::statuses::Lang;
use crate::report::{Counts, ReportContext};
use crate::run::{RunRecord, ScenarioRecord, StepOutcome};
use rust_i18n::t;

use text::{stamp, stamp_minutes};

pub use text::escape;

/// The whole report as one HTML document (for tests; a run streams it with [`write`]).
#[cfg(test)]
pub fn report(plan: &Plan, record: &RunRecord, ctx: &ReportContext, lang: Lang) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail.
    let _ = write(plan, record, ctx, lang, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes the report as one HTML document (no external resources) to `out`, a part at a time.
/// Up to [`compact::FULL_LIMIT`] orders, every order has its section; beyond, the page shows
/// the summary, every failed or late order in full, and the rest as one compact table.
pub fn write(
    plan: &Plan,
    record: &RunRecord,
    ctx: &ReportContext,
    lang: Lang,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let orders: Vec<Order<'_>> = plan
        .scenarios
        .iter()
        .zip(&record.scenarios)
        .enumerate()
        .map(|(index, (plan, scenario))| Order {
            number: index + 1,
            plan,
            record: scenario,
            counts: Counts::of(&scenario.steps),
            speed: record.options.speed,
            pushes: ctx
                .pushes
                .as_ref()
                .and_then(|p| p.steps.get(index))
                .map(Vec::as_slice),
        })
        .collect();
    let mut totals = Counts::default();
    for order in &orders {
        totals.add(&order.counts);
    }
    // A step later than --max-lateness fails the run, whatever its answer.
    let late = record.late_steps();
    let verdict = Kind::verdict(totals.failed == 0 && totals.not_sent == 0 && late.is_empty());
    let compact = orders.len() > compact::FULL_LIMIT;
    // The compact page sorts its table with a small inline script; the full page has none.
    let script_policy = if compact {
        "; script-src 'unsafe-inline'"
    } else {
        ""
    };
    out.write_all(
        format!(
            "<!doctype html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'{script_policy}\">\n\
             <meta name=\"generator\" content=\"{TOOL}\">\n\
             <title>{} · {} · {}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<main>\n",
            text::lang_tag(lang),
            verdict.word().to_uppercase(),
            t!("html.title"),
            stamp_minutes(record.started)
        )
        .as_bytes(),
    )?;
    out.write_all(header::header(plan, record, ctx, &orders, &totals, verdict).as_bytes())?;
    out.write_all(
        coverage::section(plan, &crate::report::coverage::of_run(plan, record), lang).as_bytes(),
    )?;
    if compact {
        let full = compact::in_full(&orders, &late);
        out.write_all(compact::table(&orders, &full, lang).as_bytes())?;
        for order in orders.iter().filter(|o| full.contains(&(o.number - 1))) {
            out.write_all(orders::section(order, lang).as_bytes())?;
        }
    } else {
        if orders.len() > 1 {
            out.write_all(orders::overview(&orders, lang).as_bytes())?;
        }
        for order in &orders {
            out.write_all(orders::section(order, lang).as_bytes())?;
        }
    }
    out.write_all(
        format!(
            "<footer>{}</footer>\n</main>\n{}</body>\n</html>\n",
            t!(
                "html.footer",
                tool = TOOL,
                started = stamp(record.started),
                code = ctx.exit_code
            ),
            if compact { compact::SCRIPT } else { "" }
        )
        .as_bytes(),
    )
}

const TOOL: &str = concat!("simulate ", env!("CARGO_PKG_VERSION"));

/// Inline, as the page may load nothing.
const CSS: &str = include_str!("style.css");

/// One scenario with its record.
struct Order<'a> {
    number: usize,
    plan: &'a ScenarioPlan,
    record: &'a ScenarioRecord,
    counts: Counts,
    /// `--speed`: the table shows the scenario's own times too when it is not 1.
    speed: Speed,
    /// Each step's push to `--callback`, when the run had one.
    pushes: Option<&'a [Option<crate::report::StepPush>]>,
}

impl Order<'_> {
    /// Passed or failed as a whole: every step must have passed.
    fn kind(&self) -> Kind {
        Kind::verdict(self.counts.failed == 0 && self.counts.not_sent == 0)
    }

    fn anchor(&self) -> String {
        format!("scenario-{}", self.number)
    }

    /// `text` with this order's appsecret blanked out.
    fn redacted(&self, text: &str) -> String {
        redact(text, &[&self.plan.appsecret])
    }

    /// Text that came from outside, redacted and escaped.
    fn outside(&self, text: &str) -> String {
        escape(&self.redacted(text))
    }
}

/// How a step, an order or the run ended, for colours and words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Passed,
    Failed,
    NotSent,
}

impl Kind {
    fn of(outcome: &StepOutcome) -> Kind {
        match outcome {
            StepOutcome::Passed(_) => Kind::Passed,
            StepOutcome::Failed(_) => Kind::Failed,
            StepOutcome::NotSent(_) => Kind::NotSent,
        }
    }

    /// An order or the run: anything short of passing is a failure.
    fn verdict(passed: bool) -> Kind {
        if passed { Kind::Passed } else { Kind::Failed }
    }

    fn class(self) -> &'static str {
        match self {
            Kind::Passed => "ok",
            Kind::Failed => "fail",
            Kind::NotSent => "skip",
        }
    }

    /// In the language chosen at start.
    fn word(self) -> String {
        match self {
            Kind::Passed => t!("html.kind_passed"),
            Kind::Failed => t!("html.kind_failed"),
            Kind::NotSent => t!("html.kind_not_sent"),
        }
        .into_owned()
    }

    fn mark(self) -> &'static str {
        match self {
            Kind::Passed => "✓",
            Kind::Failed => "✗",
            Kind::NotSent => "–",
        }
    }

    /// A coloured "✓ passed" label.
    fn pill(self) -> String {
        format!(
            "<span class=\"pill {}\">{} {}</span>",
            self.class(),
            self.mark(),
            self.word()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{SECRET, fixture};
    use super::*;
    use crate::model::statuses::Status;

    #[test]
    fn shows_every_step_the_failure_and_the_verdict() {
        let (plan, record, ctx) = fixture();
        let html = report(&plan, &record, &ctx, Lang::En);
        for status in [
            Status::RiderAssigned,
            Status::AtStore,
            Status::PickedUp,
            Status::Delivering,
        ] {
            assert!(html.contains(status.label_en()), "{}", status.name());
            // The other language is there too, as a tooltip.
            assert!(html.contains(status.label_zh()), "{}", status.name());
        }
        assert!(html.contains("resultcode 2003"));
        assert!(html.contains("not sent (an earlier step failed)"));
        assert!(html.contains("FAILED"));
        assert!(html.contains("LOCAL EMULATOR — not WeChat"));
        assert!(html.contains("2026-11-28"));
        assert!(html.contains("<svg"));
        let zh = report(&plan, &record, &ctx, Lang::Zh);
        assert!(zh.contains(">分配骑手成功<"), "labels in Chinese");
    }

    #[test]
    fn escapes_everything_from_outside_and_keeps_secrets_out() {
        let (plan, record, ctx) = fixture();
        let html = report(&plan, &record, &ctx, Lang::En);
        assert!(!html.contains("<script"), "a scenario name became markup");
        assert!(!html.contains("<b>sign"), "an answer became markup");
        assert!(!html.contains("<i>"), "an action message became markup");
        assert!(!html.contains("<odd>"), "a file name became markup");
        assert!(html.contains("Dada &lt;script&gt;alert(1)&lt;/script&gt; &quot;path&quot;"));
        assert!(html.contains("it&#39;s &lt;odd&gt;.yaml"));
        assert!(!html.contains(SECRET), "the appsecret leaked");
        assert!(html.contains("bad sign for ***"));
    }

    #[test]
    fn loads_nothing_from_anywhere() {
        let (plan, record, ctx) = fixture();
        let html = report(&plan, &record, &ctx, Lang::En);
        let lower = html.to_ascii_lowercase();
        for attr in [
            "src=", "href=", "url(", "@import", "<link", "<img", "<script", "<iframe",
        ] {
            for (at, _) in lower.match_indices(attr) {
                let rest = &lower[at + attr.len()..];
                let value = rest.trim_start_matches(['"', '\'']);
                assert!(
                    attr == "href=" && value.starts_with('#'),
                    "external reference at {at}: {}",
                    &html[at..(at + 60).min(html.len())]
                );
            }
        }
        // The only URLs: the endpoint as text, and the SVG namespace.
        let urls: Vec<&str> = lower
            .match_indices("http")
            .filter(|(at, _)| {
                lower[*at..].starts_with("http://") || lower[*at..].starts_with("https://")
            })
            .map(|(at, _)| &lower[at..(at + 40).min(lower.len())])
            .collect();
        assert!(!urls.is_empty());
        for url in urls {
            assert!(
                url.starts_with("http://127.0.0.1:40775")
                    || url.starts_with("http://www.w3.org/2000/svg"),
                "{url}"
            );
        }
    }

    #[test]
    fn the_same_input_gives_the_same_page() {
        let (plan, record, ctx) = fixture();
        assert_eq!(
            report(&plan, &record, &ctx, Lang::En),
            report(&plan, &record, &ctx, Lang::En)
        );
    }
}
