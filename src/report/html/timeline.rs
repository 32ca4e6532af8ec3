//! An order's timeline as inline SVG: each step planned on one track and sent on another, with a
//! label ("chip") per step placed in lanes below so that no two overlap.

use rust_i18n::t;
use std::time::Duration;

use crate::base::duration::format_duration;
use crate::model::plan::StepPlan;
use crate::model::statuses::Lang;
use crate::report::describe_failure_in;
use crate::run::{StepOutcome, StepRecord};

use super::measure::{text_width, truncate};
use super::steps::answer_text;
use super::text::{clock, elapsed, escape, offset_ms, other_lang, short};
use super::{Kind, Order};

const WIDTH: f64 = 1000.0;
const PLOT_LEFT: f64 = 76.0;
const PLOT_RIGHT: f64 = WIDTH - 18.0;
const AXIS_Y: f64 = 16.0;
const PLANNED_Y: f64 = 42.0;
const SENT_Y: f64 = 76.0;
const LANES_Y: f64 = 104.0;
const CHIP_PAD: f64 = 7.0;
const FONT: f64 = 12.0;
const SMALL_FONT: f64 = 11.0;
/// The longest failure reason shown on the timeline (the table has it all).
const REASON_WIDTH: f64 = 330.0;

/// One step's label on the timeline.
struct Chip {
    step: usize,
    /// Where its leader starts (the sent marker, or the planned one when nothing was sent).
    anchor: f64,
    x: f64,
    width: f64,
    lane: usize,
}

/// Milliseconds from the scenario's start, to x in the picture.
#[derive(Clone, Copy)]
struct Scale {
    /// The latest time shown, at the right end.
    span: f64,
}

impl Scale {
    fn x(self, ms: f64) -> f64 {
        PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * (ms / self.span).clamp(0.0, 1.0)
    }
}

/// The timeline of `order`, or nothing when it has no steps.
pub(super) fn timeline(order: &Order<'_>, lang: Lang) -> String {
    let start = order.record.started;
    let steps: Vec<(&StepPlan, &StepRecord)> =
        order.plan.steps.iter().zip(&order.record.steps).collect();
    if steps.is_empty() {
        return String::new();
    }
    let planned: Vec<f64> = steps
        .iter()
        .map(|(_, r)| offset_ms(start, r.planned))
        .collect();
    let sent: Vec<Option<f64>> = steps
        .iter()
        .map(|(_, r)| r.sent.map(|t| offset_ms(start, t)))
        .collect();
    let span = planned
        .iter()
        .chain(sent.iter().flatten())
        .fold(0.0_f64, |a, b| a.max(*b))
        .max(1.0);
    let scale = Scale { span };

    // Labels: one chip per step, in lanes below the tracks so that none overlaps another and,
    // where possible, no leader crosses a chip.
    let other = other_lang(lang);
    let tooltips: Vec<String> = steps
        .iter()
        .enumerate()
        .map(|(i, (step, record))| escape(&step_tooltip(order, i, step, record, lang, other)))
        .collect();
    let reasons: Vec<Option<String>> = steps.iter().map(|(_, r)| reason(order, r)).collect();
    let widths: Vec<f64> = steps
        .iter()
        .zip(&reasons)
        .map(|((step, _), reason)| {
            let first = format!("{} {}", step.status.code(), step.status.label(lang));
            text_width(&first, FONT)
                .max(reason.as_deref().map_or(0.0, |s| text_width(s, SMALL_FONT)))
                + 2.0 * CHIP_PAD
        })
        .collect();
    let lane_height = chip_height(reasons.iter().any(Option::is_some)) + 8.0;
    let anchors: Vec<f64> = (0..steps.len())
        .map(|i| scale.x(sent[i].unwrap_or(planned[i])))
        .collect();
    let chips = place_chips(&anchors, &widths);
    let lanes = chips.iter().map(|c| c.lane + 1).max().unwrap_or(1);
    let height = LANES_Y + lanes as f64 * lane_height;

    let mut svg = format!(
        "<figure class=\"timeline\"><svg class=\"tl\" viewBox=\"0 0 {WIDTH} {height:.0}\" \
         role=\"img\" aria-labelledby=\"{0}-tl-title\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"{0}-tl-title\">{1}</title>\n",
        order.anchor(),
        t!("html.tl_title", name = order.outside(&order.plan.name))
    );
    svg.push_str(&axis(scale));
    for (y, name) in [
        (PLANNED_Y, t!("html.tl_planned")),
        (SENT_Y, t!("html.tl_sent")),
    ] {
        svg.push_str(&format!(
            "<text class=\"trk-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{name}</text>\
             <line class=\"track\" x1=\"{PLOT_LEFT:.1}\" y1=\"{y:.1}\" x2=\"{PLOT_RIGHT:.1}\" y2=\"{y:.1}\"/>\n",
            PLOT_LEFT - 12.0,
            y + 4.0
        ));
    }
    // Leaders first, so that chips cover them where they must cross.
    svg.push_str("<g class=\"leaders\">");
    for chip in &chips {
        let from = if sent[chip.step].is_some() {
            SENT_Y + 7.0
        } else {
            PLANNED_Y + 7.0
        };
        let to = LANES_Y + chip.lane as f64 * lane_height;
        svg.push_str(&format!(
            "<line class=\"leader\" x1=\"{0:.1}\" y1=\"{from:.1}\" x2=\"{0:.1}\" y2=\"{to:.1}\"/>",
            chip.anchor
        ));
    }
    svg.push_str("</g>\n");
    for (i, (_, record)) in steps.iter().enumerate() {
        let kind = Kind::of(&record.outcome);
        let px = scale.x(planned[i]);
        let sx = sent[i].map(|s| scale.x(s));
        svg.push_str(&format!(
            "<g class=\"step {}\" id=\"{}-tl-{}\"><title>{}</title>",
            kind.class(),
            order.anchor(),
            i + 1,
            tooltips[i]
        ));
        if let Some(sx) = sx {
            let late = record
                .lateness
                .is_some_and(|l| l >= Duration::from_millis(1))
                && sx - px >= 2.0;
            svg.push_str(&format!(
                "<line class=\"conn{}\" x1=\"{px:.1}\" y1=\"{:.1}\" x2=\"{sx:.1}\" y2=\"{:.1}\"/>",
                if late { " late" } else { "" },
                PLANNED_Y + 5.0,
                SENT_Y - 6.0
            ));
        }
        svg.push_str(&format!(
            "<circle class=\"planned\" cx=\"{px:.1}\" cy=\"{PLANNED_Y:.1}\" r=\"5\"/>"
        ));
        if let Some(sx) = sx {
            svg.push_str(&format!(
                "<circle class=\"sent\" cx=\"{sx:.1}\" cy=\"{SENT_Y:.1}\" r=\"6.5\"/>"
            ));
            if kind == Kind::Failed {
                svg.push_str(&format!(
                    "<path class=\"cross\" d=\"M{:.1} {:.1}l6 6m0 -6l-6 6\"/>",
                    sx - 3.0,
                    SENT_Y - 3.0
                ));
            }
        }
        svg.push_str("</g>\n");
    }
    for chip in &chips {
        let (step, record) = steps[chip.step];
        let reason = &reasons[chip.step];
        let top = LANES_Y + chip.lane as f64 * lane_height;
        svg.push_str(&format!(
            "<g class=\"chip {}\"><title>{}</title><rect x=\"{:.1}\" y=\"{top:.1}\" width=\"{:.1}\" \
             height=\"{:.0}\" rx=\"5\"/><text x=\"{:.1}\" y=\"{:.1}\"><tspan class=\"code\">{}</tspan> {}</text>",
            Kind::of(&record.outcome).class(),
            tooltips[chip.step],
            chip.x,
            chip.width,
            chip_height(reason.is_some()),
            chip.x + CHIP_PAD,
            top + 15.5,
            step.status.code(),
            escape(step.status.label(lang))
        ));
        if let Some(reason) = reason {
            svg.push_str(&format!(
                "<text class=\"why\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                chip.x + CHIP_PAD,
                top + 29.5,
                escape(reason)
            ));
        }
        svg.push_str("</g>\n");
    }
    svg.push_str("</svg>\n");
    svg.push_str(&format!(
        "<figcaption class=\"legend\"><span><i class=\"dot hollow\"></i>{}</span>\
         <span><i class=\"dot ok\"></i>{}</span><span><i class=\"dot fail\"></i>{}</span>\
         <span><i class=\"dot hollow skip\"></i>{}</span><span><i class=\"dash\"></i>{}</span>\
         <span class=\"muted\">{}</span></figcaption>\n</figure>\n",
        t!("html.tl_planned"),
        t!("html.tl_sent_passed"),
        t!("html.tl_sent_failed"),
        t!("html.kind_not_sent"),
        t!("html.tl_sent_late"),
        t!("html.tl_hint")
    ));
    svg
}

/// A chip's height: one line, or two with a reason.
fn chip_height(two_lines: bool) -> f64 {
    if two_lines { 36.0 } else { 22.0 }
}

/// A chip's second line: why the step did not pass, cut short (the table has it all).
fn reason(order: &Order<'_>, record: &StepRecord) -> Option<String> {
    match &record.outcome {
        StepOutcome::Passed(_) => None,
        StepOutcome::Failed(failure) => Some(truncate(
            &format!(
                "✗ {}",
                order.redacted(&describe_failure_in(failure, crate::base::i18n::current()))
            ),
            REASON_WIDTH,
            SMALL_FONT,
        )),
        StepOutcome::NotSent(why) => Some(why.describe_in(crate::base::i18n::current())),
    }
}

/// The time axis with its grid lines, from the start to `span`.
fn axis(scale: Scale) -> String {
    let span = scale.span;
    let tick = tick_step(span);
    let mut svg = String::from("<g class=\"axis\">");
    let mut t = 0.0;
    while t <= span + tick * 1e-6 {
        let tx = scale.x(t);
        let anchor = if tx > PLOT_RIGHT - 24.0 {
            "end"
        } else if t == 0.0 {
            "start"
        } else {
            "middle"
        };
        let label = if t == 0.0 {
            t!("html.tl_start").into_owned()
        } else {
            format!("+{}", format_duration(Duration::from_secs_f64(t / 1000.0)))
        };
        svg.push_str(&format!(
            "<line class=\"grid\" x1=\"{tx:.1}\" y1=\"{:.1}\" x2=\"{tx:.1}\" y2=\"{:.1}\"/>\
             <text x=\"{tx:.1}\" y=\"{AXIS_Y:.1}\" text-anchor=\"{anchor}\">{label}</text>",
            AXIS_Y + 6.0,
            SENT_Y + 8.0
        ));
        t += tick;
    }
    svg.push_str("</g>\n");
    svg
}

/// Puts each chip in the first lane where it overlaps no other chip and neither crosses nor is
/// crossed by a leader; when no lane avoids every leader, the first lane without overlap.
fn place_chips(anchors: &[f64], widths: &[f64]) -> Vec<Chip> {
    const GAP: f64 = 8.0;
    const MARGIN: f64 = 3.0;
    let mut order: Vec<usize> = (0..anchors.len()).collect();
    order.sort_by(|a, b| anchors[*a].total_cmp(&anchors[*b]).then(a.cmp(b)));
    let mut placed: Vec<Chip> = Vec::with_capacity(anchors.len());
    for step in order {
        let anchor = anchors[step];
        let width = widths[step];
        let x = (anchor - 10.0).min(WIDTH - 2.0 - width).max(2.0);
        let fits = |lane: usize, strict: bool| {
            placed.iter().all(|p| {
                if p.lane == lane {
                    x >= p.x + p.width + GAP || x + width + GAP <= p.x
                } else if !strict {
                    true
                } else if p.lane < lane {
                    anchor < p.x - MARGIN || anchor > p.x + p.width + MARGIN
                } else {
                    p.anchor < x - MARGIN || p.anchor > x + width + MARGIN
                }
            })
        };
        let deepest = placed.iter().map(|p| p.lane + 1).max().unwrap_or(0);
        let lane = (0..=deepest)
            .find(|lane| fits(*lane, true))
            .or_else(|| (0..=deepest).find(|lane| fits(*lane, false)))
            .unwrap_or(deepest);
        placed.push(Chip {
            step,
            anchor,
            x,
            width,
            lane,
        });
    }
    placed.sort_by_key(|c| c.step);
    placed
}

/// A tick interval that gives at most about six ticks over `span` milliseconds.
fn tick_step(span: f64) -> f64 {
    const STEPS: [f64; 24] = [
        1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1e3, 2e3, 5e3, 10e3, 15e3, 30e3,
        60e3, 120e3, 300e3, 600e3, 900e3, 1800e3, 3600e3, 7200e3, 21600e3,
    ];
    STEPS
        .iter()
        .copied()
        .find(|s| span / s <= 6.0)
        .unwrap_or_else(|| (span / 6.0 / 3600e3).ceil() * 3600e3)
}

/// A step's details in both languages, shown on hover (unescaped, redacted).
fn step_tooltip(
    order: &Order<'_>,
    index: usize,
    step: &StepPlan,
    record: &StepRecord,
    lang: Lang,
    other: Lang,
) -> String {
    let status = step.status;
    let start = order.record.started;
    let mut text = t!(
        "html.tip_step",
        step = index + 1,
        code = status.code(),
        name = status.name(),
        label = status.label(lang),
        other = status.label(other)
    )
    .into_owned();
    text.push('\n');
    text.push_str(&t!(
        "html.tip_planned",
        at = clock(record.planned),
        offset = elapsed(start, record.planned)
    ));
    if let Some(sent) = record.sent {
        text.push('\n');
        text.push_str(&match record.lateness {
            Some(late) => t!(
                "html.tip_sent_late",
                at = clock(sent),
                offset = elapsed(start, sent),
                late = short(late)
            ),
            None => t!(
                "html.tip_sent",
                at = clock(sent),
                offset = elapsed(start, sent)
            ),
        });
    }
    let kind = Kind::of(&record.outcome);
    let detail = match &record.outcome {
        StepOutcome::Passed(answer) => answer_text(answer),
        StepOutcome::Failed(failure) => describe_failure_in(failure, crate::base::i18n::current()),
        StepOutcome::NotSent(why) => why.describe_in(crate::base::i18n::current()),
    };
    text.push_str(&format!("\n{} {}: {detail}", kind.mark(), kind.word()));
    order.redacted(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chips_avoid_each_other() {
        let chips = place_chips(&[100.0, 102.0, 104.0, 900.0], &[150.0, 150.0, 150.0, 150.0]);
        let lanes: Vec<usize> = chips.iter().map(|c| c.lane).collect();
        assert_eq!(lanes[0], 0);
        assert!(lanes[1] != lanes[0] && lanes[2] != lanes[1] && lanes[2] != lanes[0]);
        assert_eq!(lanes[3], 0);
        // A chip at the right edge stays inside the picture.
        assert!(chips[3].x + chips[3].width <= WIDTH);
    }
}
