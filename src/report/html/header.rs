//! The top of the page: the run's verdict, its counts as tiles, and where and how it ran.

use rust_i18n::t;
use std::time::Duration;

use crate::base::i18n::{Noun, count};
use crate::model::plan::Plan;
use crate::report::{Counts, ReportContext, worst_lateness};
use crate::run::RunRecord;

use super::text::{clock, definitions, duration, elapsed, escape, public_endpoint, short, stamp};
use super::{Kind, Order};

pub(super) fn header(
    plan: &Plan,
    record: &RunRecord,
    ctx: &ReportContext,
    orders: &[Order<'_>],
    totals: &Counts,
    verdict: Kind,
) -> String {
    let class = verdict.class();
    let endpoint = escape(&public_endpoint(&ctx.endpoint));
    let mut out = format!("<header class=\"card run {class}\">\n");
    out.push_str(&format!(
        "<div class=\"kicker\">{}</div>\n",
        t!("html.kicker")
    ));
    out.push_str(&format!(
        "<div class=\"title-row\"><span class=\"verdict {class}\">{} {}</span>",
        verdict.mark(),
        verdict.word().to_uppercase()
    ));
    if record.interrupted {
        out.push_str(&format!(
            "<span class=\"badge warn\">{}</span>",
            t!("html.badge_interrupted")
        ));
    }
    if ctx.local {
        out.push_str(&local_badge());
    }
    out.push_str(&format!(
        "<h1>{}</h1></div>\n",
        t!(
            "html.heading",
            scenarios = count(orders.len(), Noun::Scenario),
            steps = count(totals.steps, Noun::Step)
        )
    ));
    let span = t!(
        "html.span",
        started = stamp(record.started),
        finished = clock(record.finished),
        took = elapsed(record.started, record.finished),
        endpoint = format!("<code>{endpoint}</code>")
    );
    let local = if ctx.local {
        t!("html.span_local")
    } else {
        "".into()
    };
    out.push_str(&format!("<p class=\"sub\">{span}{local}</p>\n"));
    if record.interrupted {
        out.push_str(&format!(
            "<div class=\"banner warn\"><b>{}</b> {}</div>\n",
            t!("html.interrupted_title"),
            t!("html.interrupted_text")
        ));
    }
    if record.credentials_refused {
        out.push_str(&format!(
            "<div class=\"banner fail\"><b>{}</b> {}</div>\n",
            t!("html.refused_title"),
            t!("html.refused_text")
        ));
    }
    out.push_str(&stats(orders, totals));

    // Where and how the run went.
    let options = &record.options;
    let retry = &options.retry;
    let mut run = vec![
        (t!("html.started"), stamp(record.started)),
        (t!("html.finished"), stamp(record.finished)),
        (
            t!("html.duration"),
            elapsed(record.started, record.finished),
        ),
        (
            t!("html.endpoint"),
            format!(
                "<code>{endpoint}</code>{}",
                if ctx.local {
                    local_badge()
                } else {
                    String::new()
                }
            ),
        ),
        (
            t!("html.carrier_table"),
            format!("<code>{}</code>", escape(&plan.carriers_version)),
        ),
        (t!("html.exit_code"), exit_text(ctx.exit_code)),
    ];
    if record.interrupted {
        run.push((t!("html.interrupted"), t!("html.yes").into_owned()));
    }
    let settings = vec![
        (t!("html.speed"), format!("×{}", options.speed)),
        (t!("html.seed"), format!("<code>{}</code>", options.seed)),
        (
            t!("html.timeouts"),
            t!(
                "html.timeouts_value",
                connect = duration(ctx.timeouts.connect),
                total = duration(ctx.timeouts.total)
            )
            .into_owned(),
        ),
        (
            t!("html.retries"),
            t!(
                "html.retries_value",
                retries = retry.retries,
                base = duration(retry.base),
                cap = duration(retry.cap),
                max_wait = duration(retry.max_wait)
            )
            .into_owned(),
        ),
        (t!("html.quota_wait"), duration(retry.quota_wait)),
        (
            t!("html.rate"),
            options.rate.map_or_else(
                || t!("html.unlimited").into_owned(),
                |r| t!("html.rate_value", rate = r).into_owned(),
            ),
        ),
        (
            t!("html.jobs"),
            options
                .jobs
                .map_or_else(|| t!("html.all_at_once").into_owned(), |j| j.to_string()),
        ),
        (t!("html.fail_fast"), on_off(options.fail_fast)),
        (t!("html.verify"), on_off(options.verify)),
    ];
    out.push_str("<div class=\"meta\">\n");
    out.push_str(&key_values(&t!("html.run"), &run));
    out.push_str(&key_values(&t!("html.settings"), &settings));
    out.push_str("</div>\n</header>\n");
    out
}

fn local_badge() -> String {
    format!(
        "<span class=\"badge local\" title=\"{}\">{}</span>",
        escape(&t!("html.local_title")),
        t!("html.local_badge")
    )
}

/// The counts, as tiles; the worst lateness links to its step.
fn stats(orders: &[Order<'_>], totals: &Counts) -> String {
    let worst = orders
        .iter()
        .filter_map(|o| worst_lateness(&o.record.steps).map(|(late, step)| (late, o, step)))
        .fold(
            None::<(Duration, &Order<'_>, usize)>,
            |best, item| match best {
                Some(b) if b.0 >= item.0 => Some(b),
                _ => Some(item),
            },
        );
    let mut out = String::from("<div class=\"stats\">\n");
    out.push_str(&stat(
        "",
        &t!("html.scenarios"),
        &orders.len().to_string(),
        "",
    ));
    out.push_str(&stat("", &t!("html.steps"), &totals.steps.to_string(), ""));
    out.push_str(&stat(
        "ok",
        &t!("html.passed"),
        &totals.passed.to_string(),
        "",
    ));
    out.push_str(&stat(
        if totals.failed > 0 { "fail" } else { "" },
        &t!("html.failed"),
        &totals.failed.to_string(),
        "",
    ));
    out.push_str(&stat(
        if totals.not_sent > 0 { "skip" } else { "" },
        &t!("html.not_sent"),
        &totals.not_sent.to_string(),
        "",
    ));
    match worst {
        Some((late, order, step)) => out.push_str(&stat(
            "",
            &t!("html.worst"),
            &short(late),
            &format!(
                "<a href=\"#{}-step-{}\">{}</a>",
                order.anchor(),
                step + 1,
                t!(
                    "html.worst_where",
                    name = order.outside(&order.plan.name),
                    step = step + 1
                )
            ),
        )),
        None => out.push_str(&stat("", &t!("html.worst"), "—", &t!("html.nothing_sent"))),
    }
    out.push_str("</div>\n");
    out
}

fn stat(class: &str, key: &str, value: &str, detail_html: &str) -> String {
    format!(
        "<div class=\"stat {class}\"><div class=\"k\">{key}</div><div class=\"n\">{}</div>{}</div>\n",
        escape(value),
        if detail_html.is_empty() {
            String::new()
        } else {
            format!("<div class=\"d\">{detail_html}</div>")
        }
    )
}

/// A titled list of (key, value-HTML) pairs.
fn key_values(title: &str, pairs: &[(impl AsRef<str>, String)]) -> String {
    format!("<div><h3>{title}</h3>{}</div>\n", definitions("kv", pairs))
}

fn on_off(on: bool) -> String {
    if on { t!("html.on") } else { t!("html.off") }.into_owned()
}

fn exit_text(code: u8) -> String {
    let meaning = match code {
        0 => t!("html.exit_ok"),
        1 => t!("html.exit_failed"),
        2 => t!("html.exit_usage"),
        3 => t!("html.exit_could_not_run"),
        130 => t!("html.exit_interrupted"),
        _ => "".into(),
    };
    if meaning.is_empty() {
        format!("<code>{code}</code>")
    } else {
        format!("<code>{code}</code> — {meaning}")
    }
}
