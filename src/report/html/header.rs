//! The top of the page: the run's verdict, its counts as tiles, and where and how it ran.

use std::time::Duration;

use crate::base::text::plural;
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
    out.push_str("<div class=\"kicker\">simulate · WeChat immediate delivery · run report</div>\n");
    out.push_str(&format!(
        "<div class=\"title-row\"><span class=\"verdict {class}\">{} {}</span>",
        verdict.mark(),
        verdict.word().to_uppercase()
    ));
    if record.interrupted {
        out.push_str("<span class=\"badge warn\">INTERRUPTED</span>");
    }
    if ctx.local {
        out.push_str(LOCAL_BADGE);
    }
    out.push_str(&format!(
        "<h1>{}, {}</h1></div>\n",
        plural(orders.len(), "scenario"),
        plural(totals.steps, "step")
    ));
    out.push_str(&format!(
        "<p class=\"sub\">{} → {} ({}) against <code>{endpoint}</code>{}</p>\n",
        stamp(record.started),
        clock(record.finished),
        elapsed(record.started, record.finished),
        if ctx.local {
            " — the embedded emulator, not WeChat"
        } else {
            ""
        }
    ));
    if record.interrupted {
        out.push_str(
            "<div class=\"banner warn\"><b>Interrupted.</b> The run was stopped (Ctrl-C or \
             SIGTERM): no new calls were made, and the steps never sent are marked “not sent”.</div>\n",
        );
    }
    if record.credentials_refused {
        out.push_str(
            "<div class=\"banner fail\"><b>Credentials refused.</b> The platform refused the \
             access token and the run stopped; check --access-token / WECHAT_ACCESS_TOKEN or \
             --appid / --app-secret.</div>\n",
        );
    }
    out.push_str(&late_banners(plan, record));
    out.push_str(&stats(orders, totals));

    // Where and how the run went.
    let options = &record.options;
    let retry = &options.retry;
    let mut run = vec![
        ("Started", stamp(record.started)),
        ("Finished", stamp(record.finished)),
        ("Duration", elapsed(record.started, record.finished)),
        (
            "Endpoint",
            format!(
                "<code>{endpoint}</code>{}",
                if ctx.local { LOCAL_BADGE } else { "" }
            ),
        ),
        (
            "Carrier table",
            format!("<code>{}</code>", escape(&plan.carriers_version)),
        ),
        ("Exit code", exit_text(ctx.exit_code)),
    ];
    if record.interrupted {
        run.push(("Interrupted", "yes".to_owned()));
    }
    let settings = vec![
        ("Speed", format!("×{}", options.speed)),
        ("Seed", format!("<code>{}</code>", options.seed)),
        (
            "Timeouts",
            format!(
                "connect {}, whole call {}",
                duration(ctx.timeouts.connect),
                duration(ctx.timeouts.total)
            ),
        ),
        (
            "Retries",
            format!(
                "{} (backoff {} doubling up to {}; at most {} per step)",
                retry.retries,
                duration(retry.base),
                duration(retry.cap),
                duration(retry.max_wait)
            ),
        ),
        ("Quota wait", duration(retry.quota_wait)),
        (
            "Rate",
            options
                .rate
                .map_or_else(|| "unlimited".to_owned(), |r| format!("{r} calls/s")),
        ),
        (
            "Jobs",
            options
                .jobs
                .map_or_else(|| "all at once".to_owned(), |j| j.to_string()),
        ),
        ("Fail-fast", on_off(options.fail_fast)),
        ("Verify", on_off(options.verify)),
        (
            "Max lateness",
            options
                .max_lateness
                .map_or_else(|| "none".to_owned(), duration),
        ),
    ];
    out.push_str("<div class=\"meta\">\n");
    out.push_str(&key_values("Run", &run));
    out.push_str(&key_values("Settings", &settings));
    out.push_str("</div>\n</header>\n");
    out
}

/// One banner per step that broke `--max-lateness`: which, and by how much.
fn late_banners(plan: &Plan, record: &RunRecord) -> String {
    let Some(max) = record.options.max_lateness else {
        return String::new();
    };
    let mut out = String::new();
    for late in record.late_steps() {
        let Some(scenario) = plan.scenarios.get(late.scenario) else {
            continue;
        };
        let Some(step) = scenario.steps.get(late.step) else {
            continue;
        };
        out.push_str(&format!(
            "<div class=\"banner fail\"><b>Too late.</b> {}, step {} ({}:{}) {} {}: {}.</div>\n",
            escape(&scenario.name),
            step.index + 1,
            escape(&scenario.file),
            step.line,
            step.status.code(),
            step.status.name(),
            escape(&crate::report::too_late_message(late.lateness, max))
        ));
    }
    out
}

const LOCAL_BADGE: &str = "<span class=\"badge local\" title=\"The run went to simulate's embedded emulator on loopback; nothing reached WeChat or a carrier.\">LOCAL EMULATOR — not WeChat</span>";

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
    out.push_str(&stat("", "Scenarios", &orders.len().to_string(), ""));
    out.push_str(&stat("", "Steps", &totals.steps.to_string(), ""));
    out.push_str(&stat("ok", "Passed", &totals.passed.to_string(), ""));
    out.push_str(&stat(
        if totals.failed > 0 { "fail" } else { "" },
        "Failed",
        &totals.failed.to_string(),
        "",
    ));
    out.push_str(&stat(
        if totals.not_sent > 0 { "skip" } else { "" },
        "Not sent",
        &totals.not_sent.to_string(),
        "",
    ));
    match worst {
        Some((late, order, step)) => out.push_str(&stat(
            "",
            "Worst lateness",
            &short(late),
            &format!(
                "<a href=\"#{}-step-{}\">{}, step {}</a>",
                order.anchor(),
                step + 1,
                order.outside(&order.plan.name),
                step + 1
            ),
        )),
        None => out.push_str(&stat("", "Worst lateness", "—", "nothing was sent")),
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
fn key_values(title: &str, pairs: &[(&str, String)]) -> String {
    format!("<div><h3>{title}</h3>{}</div>\n", definitions("kv", pairs))
}

fn on_off(on: bool) -> String {
    if on { "on" } else { "off" }.to_owned()
}

fn exit_text(code: u8) -> String {
    let meaning = match code {
        0 => "every step met its expectation",
        1 => "a step failed",
        2 => "invalid input or usage",
        3 => "could not run",
        130 => "interrupted",
        _ => "",
    };
    if meaning.is_empty() {
        format!("<code>{code}</code>")
    } else {
        format!("<code>{code}</code> — {meaning}")
    }
}
