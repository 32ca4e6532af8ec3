//! The page of a large run: beyond [`FULL_LIMIT`] orders, a section per order (about 12 KB
//! each) makes a page no browser opens comfortably, so every order gets one row of a compact
//! table instead (its steps folded in a `<details>`, opened on demand), sortable by clicking a
//! column's head, and only the orders worth reading in full keep their section: every failed
//! or late one, and the one with the worst lateness.

use std::collections::BTreeSet;

use rust_i18n::t;

use crate::model::statuses::Lang;
use crate::report::worst_lateness;
use crate::run::LateStep;

use super::text::{escape, short};
use super::{Kind, Order};

/// Up to this many orders, every order has its section.
pub const FULL_LIMIT: usize = 300;

/// The orders shown in full (0-based): failed, late (over `--max-lateness`), and the worst.
pub(super) fn in_full(orders: &[Order<'_>], late: &[LateStep]) -> BTreeSet<usize> {
    let mut full: BTreeSet<usize> = orders
        .iter()
        .filter(|o| o.kind() != Kind::Passed)
        .map(|o| o.number - 1)
        .collect();
    full.extend(late.iter().map(|l| l.scenario));
    // The tiles link to the worst step; it must be on the page.
    let worst = orders
        .iter()
        .filter_map(|o| worst_lateness(&o.record.steps).map(|(late, _)| (late, o.number - 1)))
        .max_by_key(|(late, number)| (*late, std::cmp::Reverse(*number)));
    full.extend(worst.map(|(_, number)| number));
    full
}

/// Every order as one row: outcome, number, scenario, carrier, order id, steps passed, worst
/// lateness, and its steps on demand.
pub(super) fn table(orders: &[Order<'_>], full: &BTreeSet<usize>, lang: Lang) -> String {
    let mut out = format!(
        "<section class=\"card overview\"><h2 class=\"section\">{}</h2>\n<p class=\"sub\">{}</p>\n\
         <div class=\"scroll\"><table class=\"orders compact\"><thead><tr><th>{}</th>\
         <th class=\"num\">#</th><th>{}</th><th>{}</th><th>{}</th><th class=\"num\">{}</th>\
         <th class=\"num\">{}</th><th>{}</th></tr></thead>\n<tbody>\n",
        t!("html.orders"),
        t!(
            "html.compact_note",
            orders = orders.len(),
            limit = FULL_LIMIT,
            full = full.len()
        ),
        t!("html.outcome"),
        t!("html.scenario"),
        t!("html.carrier"),
        t!("html.order"),
        t!("html.passed"),
        t!("html.worst"),
        t!("html.steps"),
    );
    for order in orders {
        out.push_str(&row(order, full.contains(&(order.number - 1)), lang));
    }
    out.push_str("</tbody></table></div></section>\n");
    out
}

fn row(order: &Order<'_>, in_full: bool, lang: Lang) -> String {
    let kind = order.kind();
    let worst = worst_lateness(&order.record.steps);
    // An order shown in full links to its section; the others' rows are their anchor.
    let (id, name) = if in_full {
        (
            String::new(),
            format!(
                "<a href=\"#{}\">{}</a>",
                order.anchor(),
                order.outside(&order.plan.name)
            ),
        )
    } else {
        (
            format!(" id=\"{}\"", order.anchor()),
            order.outside(&order.plan.name),
        )
    };
    let steps: Vec<String> = order
        .plan
        .steps
        .iter()
        .zip(&order.record.steps)
        .map(|(step, record)| {
            let kind = Kind::of(&record.outcome);
            let late = record.lateness.map(|l| format!(" +{}", short(l)));
            format!(
                "<span class=\"pip {}\"></span>{} {}{}",
                kind.class(),
                step.status.code(),
                escape(step.status.label(lang)),
                late.unwrap_or_default()
            )
        })
        .collect();
    format!(
        "<tr class=\"{}\"{id}><td data-v=\"{}\">{}</td><td class=\"num\">{}</td><td>{name}</td>\
         <td>{}</td><td><code>{}</code></td><td class=\"num\" data-v=\"{}\">{}/{}</td>\
         <td class=\"num\" data-v=\"{}\">{}</td><td><details><summary>{}</summary>{}</details></td></tr>\n",
        kind.class(),
        u8::from(kind != Kind::Passed),
        kind.mark(),
        order.number,
        escape(&order.plan.carrier.id),
        order.outside(&order.plan.shop_order_id),
        order.counts.passed,
        order.counts.passed,
        order.counts.steps,
        worst.map_or(0, |(l, _)| l.as_micros()),
        worst.map_or_else(|| "—".to_owned(), |(l, _)| short(l)),
        order.counts.steps,
        steps.join(" · ")
    )
}

/// Sorts the compact table by the column whose head is clicked (numbers by their `data-v`),
/// again to reverse. Inline, as the page loads nothing.
pub(super) const SCRIPT: &str = "<script>\n\
for(const th of document.querySelectorAll('table.compact th')){th.style.cursor='pointer';\
th.addEventListener('click',()=>{const body=th.closest('table').tBodies[0],i=th.cellIndex,\
dir=th.dataset.dir==='1'?-1:1;th.dataset.dir=String(dir);\
const key=r=>{const c=r.cells[i];return c.dataset.v!==undefined?Number(c.dataset.v):c.textContent;};\
const rows=[...body.rows].sort((a,b)=>{const x=key(a),y=key(b);return (x<y?-1:x>y?1:0)*dir;});\
body.append(...rows);});}\n</script>\n";

#[cfg(test)]
mod tests {
    use super::super::report;
    use super::super::testing::fixture;
    use super::*;

    /// The fixture's one order (which failed) among many that passed.
    fn large() -> String {
        let (mut plan, mut record, ctx) = fixture();
        let passed = crate::run::ScenarioRecord {
            steps: record.scenarios[0].steps.iter().take(2).cloned().collect(),
            ..record.scenarios[0].clone()
        };
        let mut scenario = plan.scenarios[0].clone();
        scenario.steps.truncate(2);
        for _ in 0..FULL_LIMIT {
            plan.scenarios.push(scenario.clone());
            record.scenarios.push(passed.clone());
        }
        report(&plan, &record, &ctx, Lang::En)
    }

    #[test]
    fn a_large_run_shows_failed_orders_in_full_and_the_rest_as_rows() {
        let html = large();
        let sections = html.matches("<section class=\"card scenario").count();
        // The failed order, and the one with the worst lateness (a passed one's step 2 is late).
        assert!((1..=2).contains(&sections), "{sections} sections");
        assert!(
            html.contains("id=\"scenario-1\""),
            "the failed order's section"
        );
        assert!(html.contains("<svg"), "its timeline");
        assert_eq!(html.matches("<details>").count(), FULL_LIMIT + 1);
        assert!(html.contains("<script>"), "the sorting script");
        assert!(html.contains("script-src 'unsafe-inline'"));
        let (plan, record, ctx) = fixture();
        let small = report(&plan, &record, &ctx, Lang::En);
        assert!(!small.contains("<script"), "a small page has no script");
        assert!(
            html.len() < small.len() * 3 + FULL_LIMIT * 1200,
            "{}",
            html.len()
        );
    }
}
