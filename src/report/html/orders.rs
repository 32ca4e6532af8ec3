//! The orders: a list of them when there is more than one, and a section for each with its
//! facts, its timeline and its table of steps.

use crate::base::text::plural;
use crate::model::statuses::Lang;
use crate::report::{Counts, describe_failure, worst_lateness};

use super::text::{clock, definitions, elapsed, escape, pill, short, stamp};
use super::{Kind, Order, steps, timeline};

/// The list of orders, when there is more than one.
pub(super) fn overview(orders: &[Order<'_>], lang: Lang) -> String {
    let mut out = String::from(
        "<section class=\"card overview\"><h2 class=\"section\">Orders</h2>\n<div class=\"scroll\"><table class=\"orders\">\
         <thead><tr><th>Outcome</th><th>Scenario</th><th>Carrier</th><th>Order</th>\
         <th>Steps</th><th class=\"num\">Passed</th><th class=\"num\">Worst lateness</th></tr></thead>\n<tbody>\n",
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
        tags.push_str(&format!("<span class=\"tag\">repetition {k} of {n}</span>"));
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
        |(l, i)| format!("{} (step {})", short(l), i + 1),
    );
    let mut facts = vec![
        (
            "File",
            format!("<code>{}</code>", order.outside(&plan.file)),
        ),
        (
            "Carrier",
            format!(
                "{} <span lang=\"zh\">{}</span> · <code>{}</code> · delivery_id <code>{}</code> · \
                 <code>{}</code> · profile <code>{}</code>",
                escape(&carrier.name_en),
                escape(&carrier.name_zh),
                escape(&carrier.id),
                escape(&carrier.delivery_id),
                crate::wechat::api::Api::call_name(carrier.call),
                escape(&carrier.version)
            ),
        ),
        (
            "Order",
            format!(
                "<code>{}</code> · shop <code>{}</code>",
                order.outside(&plan.shop_order_id),
                order.outside(&plan.shopid)
            ),
        ),
    ];
    if plan.order.is_some() {
        facts.push(("order/add", order_creation(order)));
    }
    facts.push(("Started", stamp(order.record.started)));
    facts.push(("Worst lateness", worst));
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
        return "<span class=\"muted\">not attempted</span>".to_owned();
    };
    let when = format!(
        "{} (+{}), {}",
        clock(created.sent),
        elapsed(order.record.started, created.sent),
        plural(created.attempts, "attempt")
    );
    match &created.failure {
        None => format!(
            "{} at {when}{}",
            pill("ok", "✓ created"),
            created
                .waybill_id
                .as_deref()
                .map(|w| format!(", waybill <code>{}</code>", order.outside(w)))
                .unwrap_or_default()
        ),
        Some(failure) => format!(
            "{} <span class=\"reason\">{}</span> <span class=\"muted\">({when})</span>",
            pill("fail", "✗ not created"),
            order.outside(&describe_failure(failure))
        ),
    }
}

/// "3/4 passed · 1 failed", for the section's head.
fn counts_text(counts: &Counts) -> String {
    let mut text = format!("{}/{} passed", counts.passed, counts.steps);
    if counts.failed > 0 {
        text.push_str(&format!(" · {} failed", counts.failed));
    }
    if counts.not_sent > 0 {
        text.push_str(&format!(" · {} not sent", counts.not_sent));
    }
    text
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
