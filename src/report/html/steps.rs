//! An order's table of steps: per step its status, when it was due and sent, how late, each
//! attempt, and the outcome with the platform's answer.

use rust_i18n::t;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::plan::{Expect, StepPlan};
use crate::model::statuses::Lang;
use crate::report::describe_failure_in;
use crate::run::{AttemptResult, Failure, StepOutcome, StepRecord};
use crate::wechat::body::Answer;
use crate::wechat::errcode::TOKEN_REFUSED;

use super::text::{clock, duration, elapsed, escape, lang_tag, other_lang, short};
use super::{Kind, Order};

/// A dash for what is not there: no send, no attempt, no lateness.
const NOTHING: &str = "<span class=\"muted\">—</span>";

pub(super) fn table(order: &Order<'_>, lang: Lang) -> String {
    let other = other_lang(lang);
    let start = order.record.started;
    let mut out = format!(
        "<div class=\"scroll\"><table class=\"steps\"><thead><tr><th class=\"num\">#</th><th>{}</th><th>{}</th>\
         <th>{}</th><th class=\"num\">{}</th><th>{}</th><th>{}</th></tr></thead>\n<tbody>\n",
        t!("html.status"),
        t!("html.planned"),
        t!("html.sent"),
        t!("html.late"),
        t!("html.attempts"),
        t!("html.outcome")
    );
    for (index, (step, record)) in order.plan.steps.iter().zip(&order.record.steps).enumerate() {
        let kind = Kind::of(&record.outcome);
        out.push_str(&format!(
            "<tr class=\"{}\" id=\"{}-step-{}\">",
            kind.class(),
            order.anchor(),
            index + 1
        ));
        out.push_str(&format!(
            "<td class=\"num\"><b>{}</b><div class=\"muted small\" title=\"{}:{}\">{}</div></td>",
            index + 1,
            order.outside(&order.plan.file),
            step.line,
            t!("html.line", line = step.line)
        ));
        out.push_str(&status_cell(order, step, lang, other));
        // At another --speed, the time as the scenario writes it.
        let scenario_time = if order.speed.is_real_time() {
            String::new()
        } else {
            format!(
                "<div class=\"muted small\" title=\"{}\">{}</div>",
                t!("html.scenario_time_title"),
                t!("html.scenario_time", at = duration(step.at))
            )
        };
        out.push_str(&time_cell(start, record.planned, &scenario_time));
        out.push_str(&match record.sent {
            Some(sent) => time_cell(start, sent, ""),
            None => format!("<td>{NOTHING}</td>"),
        });
        out.push_str(&format!(
            "<td class=\"num\">{}</td>",
            lateness(record.lateness)
        ));
        out.push_str(&attempts_cell(order, record));
        out.push_str(&outcome_cell(order, record, kind, step.expect, index));
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    out
}

/// `time` from the scenario's start, with the clock time under it and then `extra_html`.
fn time_cell(start: DateTime<Utc>, time: DateTime<Utc>, extra_html: &str) -> String {
    format!(
        "<td class=\"time\"><span class=\"offset\">+{}</span><div class=\"muted small\">{}</div>{extra_html}</td>",
        elapsed(start, time),
        clock(time)
    )
}

fn status_cell(order: &Order<'_>, step: &StepPlan, lang: Lang, other: Lang) -> String {
    let status = step.status;
    let mut cell = format!(
        "<td class=\"status\"><span class=\"scode\">{}</span> <span class=\"slabel\" lang=\"{}\" \
         title=\"{}\">{}</span><div><code class=\"sname\">{}</code> <span class=\"muted small\" lang=\"{}\">{}</span></div>",
        status.code(),
        lang_tag(lang),
        escape(status.label(other)),
        escape(status.label(lang)),
        status.name(),
        lang_tag(other),
        escape(status.label(other))
    );
    if !step.action_msg.is_empty() {
        cell.push_str(&format!(
            "<div class=\"msg\">“{}”</div>",
            order.outside(&step.action_msg)
        ));
    }
    if step.expect != Expect::Ok {
        cell.push_str(&format!(
            "<span class=\"tag\">{}</span>",
            t!(
                "html.expects",
                expect = escape(&crate::report::expect_in(
                    &step.expect,
                    crate::base::i18n::current()
                ))
            )
        ));
    }
    if !step.checked {
        cell.push_str(&format!(
            "<span class=\"tag\">{}</span>",
            t!("html.check_skipped")
        ));
    }
    cell.push_str("</td>");
    cell
}

fn attempts_cell(order: &Order<'_>, record: &StepRecord) -> String {
    match record.attempts.as_slice() {
        [] => format!("<td>{NOTHING}</td>"),
        [only] => format!(
            "<td>1<div class=\"muted small\">{}</div></td>",
            t!("html.answered_in", took = short(only.latency))
        ),
        attempts => {
            let mut cell = format!("<td>{}<ol class=\"attempts\">", attempts.len());
            for attempt in attempts {
                let result = match &attempt.result {
                    AttemptResult::Answer(answer) => answer_text(answer),
                    AttemptResult::Error(error) => error.to_string(),
                    AttemptResult::Reported { message, .. } => message.clone(),
                };
                let sent = if attempt.waited.is_zero() {
                    clock(attempt.sent)
                } else {
                    t!(
                        "html.sent_after_backoff",
                        at = clock(attempt.sent),
                        backoff = duration(attempt.waited)
                    )
                    .into_owned()
                };
                cell.push_str(&format!(
                    "<li>{sent} · {} · {}</li>",
                    duration(attempt.latency),
                    order.outside(&result)
                ));
            }
            cell.push_str("</ol></td>");
            cell
        }
    }
}

fn outcome_cell(
    order: &Order<'_>,
    record: &StepRecord,
    kind: Kind,
    expect: Expect,
    index: usize,
) -> String {
    let mut cell = format!("<td class=\"outcome\">{}", kind.pill());
    match &record.outcome {
        StepOutcome::Passed(answer) => {
            if expect != Expect::Ok {
                cell.push_str(&format!(
                    "<div class=\"muted small\">{}</div>",
                    t!(
                        "html.as_expected",
                        expect = escape(&crate::report::expect_in(
                            &expect,
                            crate::base::i18n::current()
                        ))
                    )
                ));
            }
            cell.push_str(&answer_html(order, answer, false));
        }
        StepOutcome::Failed(Failure::Unexpected { answer, expected }) => {
            // The answer itself follows in full; the reason says what was wrong with it.
            let got = if answer.errcode != 0 {
                format!("errcode {}", answer.errcode)
            } else {
                format!("resultcode {}", answer.resultcode)
            };
            let expected = escape(&crate::report::expect_in(
                expected,
                crate::base::i18n::current(),
            ));
            let reason = if TOKEN_REFUSED.contains(&answer.errcode) {
                t!("html.expected_got_token", expected = expected, got = got)
            } else {
                t!("html.expected_got", expected = expected, got = got)
            };
            cell.push_str(&format!("<div class=\"reason\">{reason}</div>"));
            cell.push_str(&answer_html(order, answer, true));
        }
        StepOutcome::Failed(failure) => {
            cell.push_str(&format!(
                "<div class=\"reason\">{}</div>",
                order.outside(&describe_failure_in(failure, crate::base::i18n::current()))
            ));
            if let Some(AttemptResult::Answer(answer)) = record.attempts.last().map(|a| &a.result) {
                cell.push_str(&answer_html(order, answer, true));
            }
        }
        StepOutcome::NotSent(why) => {
            cell.push_str(&format!(
                "<div class=\"muted\">{}</div>",
                why.describe_in(crate::base::i18n::current())
            ));
        }
    }
    if let Some(verified) = record.verified {
        cell.push_str(&format!(
            "<div class=\"muted small\">{}</div>",
            t!("html.verified", status = verified)
        ));
    }
    if let Some(push) = order
        .pushes
        .and_then(|p| p.get(index))
        .and_then(Option::as_ref)
    {
        let detail = order.outside(&push.detail);
        let attempts =
            crate::base::i18n::count(push.attempts as usize, crate::base::i18n::Noun::Attempt);
        let (class, text) = if push.delivered {
            (
                "muted",
                t!("html.push_accepted", detail = detail, attempts = attempts),
            )
        } else {
            (
                "reason",
                t!("html.push_refused", detail = detail, attempts = attempts),
            )
        };
        cell.push_str(&format!("<div class=\"small {class}\">{text}</div>"));
    }
    cell.push_str("</td>");
    cell
}

/// The platform's answer; `failed` marks the non-zero codes that failed the step.
fn answer_html(order: &Order<'_>, answer: &Answer, failed: bool) -> String {
    let message = |text: &str| {
        if text.trim().is_empty() {
            String::new()
        } else {
            format!(" <q>{}</q>", order.outside(text.trim()))
        }
    };
    let class = |code: i64| if failed && code != 0 { "bad" } else { "" };
    format!(
        "<div class=\"answer\"><span class=\"{}\">errcode <b>{}</b>{}</span> · \
         <span class=\"{}\">resultcode <b>{}</b>{}</span></div>",
        class(answer.errcode),
        answer.errcode,
        message(&answer.errmsg),
        class(answer.resultcode),
        answer.resultcode,
        message(&answer.resultmsg)
    )
}

/// The platform's answer as plain text (unescaped).
pub(super) fn answer_text(answer: &Answer) -> String {
    let mut text = format!("errcode {}", answer.errcode);
    if !answer.errmsg.trim().is_empty() {
        text.push_str(&format!(" {}", answer.errmsg.trim()));
    }
    text.push_str(&format!(", resultcode {}", answer.resultcode));
    if !answer.resultmsg.trim().is_empty() {
        text.push_str(&format!(" {}", answer.resultmsg.trim()));
    }
    text
}

/// How late a step was sent; a second or more stands out.
fn lateness(late: Option<Duration>) -> String {
    match late {
        None => NOTHING.to_owned(),
        Some(l) if l < Duration::from_millis(1) => {
            format!("<span class=\"muted\">{}</span>", t!("html.on_time"))
        }
        Some(l) if l >= Duration::from_secs(1) => {
            format!("<span class=\"late\">+{}</span>", duration(l))
        }
        Some(l) => format!("+{}", duration(l)),
    }
}
