//! The run's coverage: for each carrier it played, its graph as inline SVG with the moves this
//! run sent and had accepted drawn bold, the others dashed, and the refused moves it tested.
//!
//! Columns are the longest way from 101 (after setting aside the moves that close a cycle,
//! which are drawn as arcs below), rows follow status codes: the same graph always draws the
//! same picture, with nothing computed in the browser.

use std::collections::{BTreeMap, BTreeSet};

use rust_i18n::t;

use super::text::escape;
use crate::base::i18n::{Noun, count};
use crate::model::carriers::Carrier;
use crate::model::coverage::{CarrierCoverage, Coverage, Move};
use crate::model::paths::{self, Edge};
use crate::model::plan::Plan;
use crate::model::statuses::{Lang, Outcome, Status};

const NODE_W: i64 = 236;
const NODE_H: i64 = 30;
const COL: i64 = 280;
const ROW: i64 = 46;
const PAD: i64 = 16;
const COVERED: &str = "#2e7d32";
const UNCOVERED: &str = "#98a2b3";

/// The coverage section, or nothing for a run without scenarios.
pub(super) fn section(plan: &Plan, coverage: &Coverage, lang: Lang) -> String {
    if coverage.carriers.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<section class=\"card coverage\"><h2 class=\"section\">{}</h2>\n<p class=\"sub\" style=\"padding:0 20px\">{}</p>\n",
        t!("html.coverage_title"),
        t!("html.coverage_legend")
    );
    for (index, c) in coverage.carriers.iter().enumerate() {
        let Some(carrier) = plan
            .scenarios
            .iter()
            .map(|s| &s.carrier)
            .find(|k| k.id == c.carrier)
        else {
            continue;
        };
        out.push_str(&format!(
            "<div style=\"padding:0 20px 14px\"><p><strong>{}</strong></p>\n<div class=\"scroll\">{}</div>\n",
            escape(&t!(
                "coverage.carrier",
                carrier = c.carrier,
                version = c.version,
                scenarios = count(c.scenarios, Noun::Scenario),
                covered = c.edges.covered,
                total = c.edges.total,
                percent = c.edges.percent,
                tested = c.negatives.covered,
                negatives = c.negatives.total,
                negative_percent = c.negatives.percent
            )),
            svg(carrier, c, index, lang)
        ));
        if !c.negatives_tested.is_empty() {
            let moves: Vec<String> = c.negatives_tested.iter().map(move_words).collect();
            out.push_str(&format!(
                "<p class=\"small\">{}</p>\n",
                escape(&t!("html.coverage_refused", moves = moves.join(", ")))
            ));
        }
        out.push_str("</div>\n");
    }
    out.push_str("</section>\n");
    out
}

fn move_words(m: &Move) -> String {
    let (from, to) = m.statuses();
    format!("{} → {}", from.code(), to.code())
}

/// The moves that close a cycle, found depth-first from 101 in code order.
fn back_edges(graph: &BTreeMap<Status, Vec<Status>>) -> BTreeSet<Edge> {
    fn visit(
        at: Status,
        graph: &BTreeMap<Status, Vec<Status>>,
        on_stack: &mut BTreeSet<Status>,
        done: &mut BTreeSet<Status>,
        back: &mut BTreeSet<Edge>,
    ) {
        on_stack.insert(at);
        for &to in graph.get(&at).map(Vec::as_slice).unwrap_or(&[]) {
            if on_stack.contains(&to) {
                back.insert((at, to));
            } else if !done.contains(&to) {
                visit(to, graph, on_stack, done, back);
            }
        }
        on_stack.remove(&at);
        done.insert(at);
    }
    let mut back = BTreeSet::new();
    visit(
        Status::INITIAL,
        graph,
        &mut BTreeSet::new(),
        &mut BTreeSet::new(),
        &mut back,
    );
    back
}

/// Each status's column: its longest way from 101 over the moves that close no cycle.
fn columns(nodes: &BTreeSet<Status>, forward: &BTreeSet<Edge>) -> BTreeMap<Status, i64> {
    let mut column: BTreeMap<Status, i64> = nodes.iter().map(|s| (*s, 0)).collect();
    // Without cycles the longest way settles within one pass per status.
    for _ in 0..nodes.len() {
        let mut changed = false;
        for (from, to) in forward {
            let next = column.get(from).copied().unwrap_or(0) + 1;
            if column.get(to).copied().unwrap_or(0) < next {
                column.insert(*to, next);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    column
}

fn node_fill(status: Status) -> (&'static str, &'static str) {
    match status.terminal() {
        Some(Outcome::Success) => ("#d4edda", "#2e7d32"),
        Some(Outcome::Failure) => ("#f8d7da", "#c62828"),
        None => ("#ffffff", "#667085"),
    }
}

/// The carrier's graph (every move an order can make from 101), `coverage`'s moves marked.
fn svg(carrier: &Carrier, coverage: &CarrierCoverage, index: usize, lang: Lang) -> String {
    let edges = paths::edges(carrier);
    let mut graph: BTreeMap<Status, Vec<Status>> = BTreeMap::new();
    let mut nodes = BTreeSet::from([Status::INITIAL]);
    for (from, to) in &edges {
        graph.entry(*from).or_default().push(*to);
        nodes.insert(*from);
        nodes.insert(*to);
    }
    let back = back_edges(&graph);
    let forward: BTreeSet<Edge> = edges.difference(&back).copied().collect();
    let column = columns(&nodes, &forward);
    let mut rows: BTreeMap<i64, i64> = BTreeMap::new();
    let mut place: BTreeMap<Status, (i64, i64)> = BTreeMap::new();
    for status in &nodes {
        let c = column.get(status).copied().unwrap_or(0);
        let row = rows.entry(c).or_insert(0);
        place.insert(*status, (PAD + c * COL, PAD + *row * ROW));
        *row += 1;
    }
    let columns_used = column.values().max().copied().unwrap_or(0) + 1;
    let rows_used = rows.values().max().copied().unwrap_or(1);
    let arcs = i64::try_from(back.len()).unwrap_or(0);
    let width = PAD * 2 + (columns_used - 1) * COL + NODE_W;
    let height = PAD * 2 + (rows_used - 1) * ROW + NODE_H + arcs * 18;
    let taken: BTreeMap<Edge, usize> = coverage
        .covered
        .iter()
        .map(|m| (m.statuses(), m.scenarios))
        .collect();

    // Arrowheads are drawn, not markers: a marker is referenced with url(), and the page
    // references nothing.
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"coverage-graph\" id=\"coverage-{index}\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{}\">\n",
        escape(&t!("html.coverage_graph_label", carrier = carrier.id))
    );
    let mut arc = 0;
    // Moves not taken first, so the taken ones are drawn over them.
    let mut ordered: Vec<&Edge> = edges.iter().collect();
    ordered.sort_by_key(|e| taken.contains_key(e));
    for edge in ordered {
        let (from, to) = *edge;
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (place.get(&from), place.get(&to)) else {
            continue;
        };
        let (path, head) = if back.contains(edge) || x2 <= x1 {
            arc += 1;
            let bottom = PAD + (rows_used - 1) * ROW + NODE_H + arc * 18;
            let (sx, sy, ex, ey) = (x1 + NODE_W / 2, y1 + NODE_H, x2 + NODE_W / 3, y2 + NODE_H);
            (
                format!("M{sx},{sy} C{sx},{bottom} {ex},{bottom} {ex},{}", ey + 8),
                format!("{ex},{ey} {},{} {},{}", ex - 5, ey + 9, ex + 5, ey + 9),
            )
        } else {
            let (sx, sy, ex, ey) = (x1 + NODE_W, y1 + NODE_H / 2, x2, y2 + NODE_H / 2);
            let mid = (sx + ex) / 2;
            (
                format!("M{sx},{sy} C{mid},{sy} {mid},{ey} {},{ey}", ex - 8),
                format!("{ex},{ey} {},{} {},{}", ex - 9, ey - 5, ex - 9, ey + 5),
            )
        };
        let (style, color, title) = match taken.get(edge) {
            Some(n) => (
                format!("stroke=\"{COVERED}\" stroke-width=\"3\""),
                COVERED,
                t!(
                    "html.coverage_edge_covered",
                    from = from,
                    to = to,
                    scenarios = count(*n, Noun::Scenario)
                ),
            ),
            None => (
                format!("stroke=\"{UNCOVERED}\" stroke-width=\"1.5\" stroke-dasharray=\"5 4\""),
                UNCOVERED,
                t!("html.coverage_edge_uncovered", from = from, to = to),
            ),
        };
        let class = if taken.contains_key(edge) {
            "covered"
        } else {
            "uncovered"
        };
        out.push_str(&format!(
            "<g class=\"edge {class}\" data-from=\"{}\" data-to=\"{}\"><title>{}</title><path d=\"{path}\" fill=\"none\" {style}/><polygon points=\"{head}\" fill=\"{color}\"/></g>\n",
            from.code(),
            to.code(),
            escape(&title)
        ));
    }
    for (status, (x, y)) in &place {
        let (fill, stroke) = node_fill(*status);
        // One text, "102 rider_assigned", as the other graphs name statuses; the label in the
        // report's language is the tooltip.
        out.push_str(&format!(
            "<g class=\"node\"><title>{} {}</title><rect x=\"{x}\" y=\"{y}\" width=\"{NODE_W}\" height=\"{NODE_H}\" rx=\"7\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.5\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"11.5\" fill=\"#101828\">{}</text></g>\n",
            status.code(),
            escape(status.label(lang)),
            x + 9,
            y + NODE_H / 2 + 4,
            status
        ));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::carriers::Carriers;
    use crate::model::coverage::{Counter, Step};
    use crate::model::plan::Expect;

    #[test]
    fn draws_every_move_and_marks_the_taken_ones() {
        let table = match Carriers::builtin() {
            Ok(t) => t,
            Err(p) => panic!("{p:?}"),
        };
        let Some(dada) = table.find("dada") else {
            panic!()
        };
        let mut counter = Counter::default();
        counter.scenario(
            dada,
            [Status::RiderAssigned, Status::AtStore].map(|s| Step::new(s, Expect::Ok)),
        );
        let coverage = counter.finish();
        let svg = svg(dada, &coverage.carriers[0], 0, Lang::En);
        assert_eq!(svg.matches("class=\"edge covered\"").count(), 2, "{svg}");
        assert_eq!(svg.matches("class=\"edge uncovered\"").count(), 5, "{svg}");
        assert!(svg.contains("data-from=\"101\" data-to=\"102\""));
        assert_eq!(svg.matches("<g class=\"node\">").count(), 8);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn cycles_are_drawn_as_arcs_and_columns_follow_the_longest_way() {
        let mut graph = BTreeMap::new();
        graph.insert(Status::INITIAL, vec![Status::RiderAssigned]);
        graph.insert(
            Status::RiderAssigned,
            vec![Status::PickedUp, Status::MerchantCancelled],
        );
        graph.insert(Status::PickedUp, vec![Status::RiderAssigned]);
        let back = back_edges(&graph);
        assert_eq!(
            back,
            BTreeSet::from([(Status::PickedUp, Status::RiderAssigned)])
        );
        let nodes: BTreeSet<Status> = [
            Status::INITIAL,
            Status::RiderAssigned,
            Status::PickedUp,
            Status::MerchantCancelled,
        ]
        .into();
        let forward: BTreeSet<Edge> = [
            (Status::INITIAL, Status::RiderAssigned),
            (Status::RiderAssigned, Status::PickedUp),
            (Status::RiderAssigned, Status::MerchantCancelled),
        ]
        .into();
        let c = columns(&nodes, &forward);
        assert_eq!(c.get(&Status::PickedUp), Some(&2));
        assert_eq!(c.get(&Status::MerchantCancelled), Some(&2));
    }
}
