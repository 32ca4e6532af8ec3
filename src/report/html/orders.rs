//! The orders: a list of them when there is more than one, and a section for each with its
//! facts, its timeline and its table of steps.

use crate::model::statuses::Lang;
use crate::report::{Counts, describe_failure, worst_lateness};
use rust_i18n::t;

use super::text::{clock, definitions, elapsed, escape, pill, short, stamp};
use super::{Kind, Order, steps, timeline};

/// The list of orders, when there is more than one.
pub(super) fn overview(orders: &[Order<'_>], lang: Lang) -> String {
    let mut out = format!(
        "<section class=\"card overview\"><h2 class=\"section\">{}</h2>\n<div class=\"scroll\"><table class=\"orders\">\
         <thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>\
         <th>{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th></tr></thead>\n<tbody>\n",
        t!("html.orders"),
        t!("html.outcome"),
        t!("html.scenario"),
        t!("html.carrier"),
        t!("html.order"),
        t!("html.steps"),
        t!("html.passed"),
        t!("html.worst")
    );
    for order in orders {
        let pips: String = order
            .plan
            .steps
            .iter()
            .zip(&order.record.steps)
            .map(|(step, record)| {
                let kind = Kind::of(&record.outcome);
                format!(
                    "<span class=\"pip {}\" title=\"{} {}: {}\"></span>",
                    kind.class(),
                    step.status.code(),
                    escape(step.status.label(lang)),
                    kind.word()
                )
            })
            .collect();
        out.push_str(&format!(
            "<tr class=\"{}\"><td>{}</td><td><a href=\"#{}\">{}</a></td><td>{}</td>\
             <td><code>{}</code></td><td class=\"pips\">{pips}</td><td class=\"num\">{}/{}</td>\
             <td class=\"num\">{}</td></tr>\n",
            order.kind().class(),
            order.kind().pill(),
            order.anchor(),
            order.outside(&order.plan.name),
            escape(&order.plan.carrier.id),
            order.outside(&order.plan.shop_order_id),
            order.counts.passed,
            order.counts.steps,
            worst_lateness(&order.record.steps).map_or_else(|| "—".to_owned(), |(l, _)| short(l))
        ));
    }
    out.push_str("</tbody></table></div></section>\n");
    out
}

/// One order: its verdict, facts, timeline and steps.
pub(super) fn section(order: &Order<'_>, lang: Lang) -> String {
    let plan = order.plan;
    let mut tags = String::new();
    if let Some((k, n)) = plan.repetition {
        let tag = t!("html.repetition", k = k, n = n);
        tags.push_str(&format!("<span class=\"tag\">{tag}</span>"));
    }
    let mut out = format!(
        "<section class=\"card scenario {}\" id=\"{}\">\n<div class=\"scn-head\">{}<h2>{}</h2>\
         {tags}<span class=\"counts\">{}</span></div>\n",
        order.kind().class(),
        order.anchor(),
        order.kind().pill(),
        order.outside(&plan.name),
        counts_text(&order.counts)
    );
    let carrier = &plan.carrier;
    let worst = worst_lateness(&order.record.steps).map_or_else(
        || "—".to_owned(),
        |(l, i)| t!("html.worst_step", late = short(l), step = i + 1).into_owned(),
    );
    let mut facts = vec![
        (
            t!("html.file"),
            format!("<code>{}</code>", order.outside(&plan.file)),
        ),
        (
            t!("html.carrier"),
            format!(
                "{} <span lang=\"zh\">{}</span> · <code>{}</code> · delivery_id <code>{}</code> · \
                 <code>{}</code> · {} <code>{}</code>",
                escape(&carrier.name_en),
                escape(&carrier.name_zh),
                escape(&carrier.id),
                escape(&carrier.delivery_id),
                crate::wechat::api::Api::call_name(carrier.call),
                t!("html.profile"),
                escape(&carrier.version)
            ),
        ),
        (
            t!("html.order"),
            format!(
                "<code>{}</code> · shop <code>{}</code>",
                order.outside(&plan.shop_order_id),
                order.outside(&plan.shopid)
            ),
        ),
    ];
    if plan.order.is_some() {
        facts.push(("order/add".into(), order_creation(order)));
    }
    facts.push((t!("html.started"), stamp(order.record.started)));
    facts.push((t!("html.worst"), worst));
    out.push_str(&definitions("kv facts", &facts));
    out.push('\n');
    out.push_str(&timeline::timeline(order, lang));
    out.push_str(&steps::table(order, lang));
    out.push_str("</section>\n");
    out
}

/// How the scenario's `order:` went through `order/add`.
fn order_creation(order: &Order<'_>) -> String {
    let Some(created) = &order.record.order else {
        return format!("<span class=\"muted\">{}</span>", t!("html.not_attempted"));
    };
    let when = format!(
        "{} (+{}), {}",
        clock(created.sent),
        elapsed(order.record.started, created.sent),
        crate::base::i18n::count(created.attempts, crate::base::i18n::Noun::Attempt)
    );
    match &created.failure {
        None => {
            let pill = pill("ok", &t!("html.created"));
            match created.waybill_id.as_deref() {
                Some(waybill) => t!(
                    "html.created_at_waybill",
                    pill = pill,
                    when = when,
                    waybill = format!("<code>{}</code>", order.outside(waybill))
                ),
                None => t!("html.created_at", pill = pill, when = when),
            }
            .into_owned()
        }
        Some(failure) => format!(
            "{} <span class=\"reason\">{}</span> <span class=\"muted\">({when})</span>",
            pill("fail", &t!("html.not_created")),
            order.outside(&describe_failure(failure))
        ),
    }
}

/// "3/4 passed · 1 failed", for the section's head.
fn counts_text(counts: &Counts) -> String {
    let mut parts = vec![
        t!(
            "html.counts_passed",
            passed = counts.passed,
            steps = counts.steps
        )
        .into_owned(),
    ];
    if counts.failed > 0 {
        parts.push(t!("html.counts_failed", failed = counts.failed).into_owned());
    }
    if counts.not_sent > 0 {
        parts.push(t!("html.counts_not_sent", not_sent = counts.not_sent).into_owned());
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::super::report;
    use super::super::testing::fixture;
    use super::*;
    use crate::model::plan::Expect;
    use crate::run::Failure;
    use crate::wechat::body::Answer;

    #[test]
    fn an_order_that_could_not_be_created_says_why() {
        let (mut plan, mut record, ctx) = fixture();
        plan.scenarios[0].order = Some(crate::model::plan::OrderCreate {
            body: serde_json::json!({}),
            openid: None,
            line: 5,
        });
        record.scenarios[0].order = Some(crate::run::OrderRecord {
            sent: record.started,
            attempts: 2,
            waybill_id: None,
            failure: Some(Failure::Unexpected {
                answer: Answer {
                    errcode: 930566,
                    errmsg: "<bad> shop".into(),
                    ..Answer::default()
                },
                expected: Expect::Ok,
            }),
            request: serde_json::Value::Null,
            answer: None,
        });
        let html = report(&plan, &record, &ctx, Lang::En);
        assert!(html.contains("not created"));
        assert!(html.contains("errcode 930566 &lt;bad&gt; shop"));
        record.scenarios[0].order = Some(crate::run::OrderRecord {
            sent: record.started,
            attempts: 1,
            waybill_id: Some("WB-1".into()),
            failure: None,
            request: serde_json::Value::Null,
            answer: None,
        });
        let html = report(&plan, &record, &ctx, Lang::En);
        assert!(html.contains("waybill <code>WB-1</code>"));
    }
}
