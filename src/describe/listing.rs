//! `simulate paths` and `simulate coverage` as people read them, and as JSON for machines.

use rust_i18n::t;
use serde_json::{Value, json};

use crate::base::i18n::{Noun, count};
use crate::model::carriers::Carrier;
use crate::model::coverage::{Coverage, Move};
use crate::model::paths::{End, Goal, Listing, MAX_PATHS};
use crate::model::statuses::Status;

fn goal_name(goal: Goal) -> &'static str {
    match goal {
        Goal::Delivered => "delivered",
        Goal::Failure => "failure",
        Goal::All => "all",
    }
}

fn route(statuses: &[Status]) -> String {
    statuses
        .iter()
        .map(|s| s.code().to_string())
        .collect::<Vec<_>>()
        .join(" → ")
}

fn paths_count(n: usize) -> String {
    if n == 1 {
        t!("paths.count_one").into_owned()
    } else {
        t!("paths.count_other", count = n).into_owned()
    }
}

/// The listing for people: a header, one numbered line per path, and what was left out.
pub fn paths_text(carrier: &Carrier, goal: Goal, max_steps: usize, listing: &Listing) -> String {
    let paths = paths_count(listing.paths.len());
    let (name, version) = (carrier.name_en.as_str(), carrier.version.as_str());
    let header = match goal {
        Goal::All => t!(
            "paths.header_all",
            carrier = carrier.id,
            name = name,
            version = version,
            paths = paths
        ),
        Goal::Delivered => t!(
            "paths.header_delivered",
            carrier = carrier.id,
            name = name,
            version = version,
            paths = paths
        ),
        Goal::Failure => t!(
            "paths.header_failure",
            carrier = carrier.id,
            name = name,
            version = version,
            paths = paths
        ),
    };
    let mut out = format!("{header}\n");
    let width = listing.paths.len().to_string().len();
    for (i, path) in listing.paths.iter().enumerate() {
        let n = format!("{:>width$}", i + 1);
        let route = route(&path.statuses);
        let steps = count(path.steps(), Noun::Step);
        let last = path.statuses.last().copied().unwrap_or(Status::INITIAL);
        let line = match path.end {
            End::Delivered => t!("paths.line_delivered", n = n, route = route, steps = steps),
            End::Failed => t!(
                "paths.line_failed",
                n = n,
                route = route,
                steps = steps,
                status = last
            ),
            End::NoMove => t!(
                "paths.line_no_move",
                n = n,
                route = route,
                steps = steps,
                carrier = carrier.id,
                status = last
            ),
            End::Exhausted => t!(
                "paths.line_exhausted",
                n = n,
                route = route,
                steps = steps,
                status = last
            ),
        };
        out.push_str(&format!("  {line}\n"));
    }
    match listing.cut {
        0 => {}
        1 => out.push_str(&format!("{}\n", t!("paths.cut_one", max = max_steps))),
        n => out.push_str(&format!(
            "{}\n",
            t!("paths.cut_other", count = n, max = max_steps)
        )),
    }
    if listing.truncated {
        out.push_str(&format!("{}\n", t!("paths.truncated", max = MAX_PATHS)));
    }
    out
}

/// The listing as JSON (README: "simulate paths").
pub fn paths_json(carrier: &Carrier, goal: Goal, max_steps: usize, listing: &Listing) -> Value {
    json!({
        "carrier": carrier.id,
        "version": carrier.version,
        "to": goal_name(goal),
        "max_steps": max_steps,
        "paths": listing.paths.iter().map(|p| json!({
            "statuses": p.statuses.iter().map(|s| s.code()).collect::<Vec<_>>(),
            "steps": p.steps(),
            "end": p.end.name(),
        })).collect::<Vec<_>>(),
        "cut_by_max_steps": listing.cut,
        "truncated": listing.truncated,
    })
}

fn move_text(m: &Move) -> (String, String) {
    let (from, to) = m.statuses();
    (from.to_string(), to.to_string())
}

/// Coverage for people: per carrier a line with the shares, then every move of its graph
/// (covered or not), the refused moves tested and any move outside the graph.
pub fn coverage_text(coverage: &Coverage) -> String {
    let mut out = String::new();
    for c in &coverage.carriers {
        out.push_str(&format!(
            "{}\n",
            t!(
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
            )
        ));
        let mut moves: Vec<(&Move, bool)> = c
            .covered
            .iter()
            .map(|m| (m, true))
            .chain(c.uncovered.iter().map(|m| (m, false)))
            .collect();
        moves.sort_by_key(|(m, _)| (m.from, m.to));
        for (m, covered) in moves {
            let (from, to) = move_text(m);
            let line = if covered {
                t!(
                    "coverage.covered",
                    from = from,
                    to = to,
                    scenarios = count(m.scenarios, Noun::Scenario)
                )
            } else {
                t!("coverage.uncovered", from = from, to = to)
            };
            out.push_str(&format!("  {line}\n"));
        }
        for m in &c.negatives_tested {
            let (from, to) = move_text(m);
            let line = t!(
                "coverage.refused",
                from = from,
                to = to,
                scenarios = count(m.scenarios, Noun::Scenario)
            );
            out.push_str(&format!("  {line}\n"));
        }
        for m in &c.outside_graph {
            let (from, to) = move_text(m);
            let line = t!(
                "coverage.outside",
                from = from,
                to = to,
                scenarios = count(m.scenarios, Noun::Scenario),
                carrier = c.carrier
            );
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::carriers::Carriers;
    use crate::model::coverage::{Counter, Step};
    use crate::model::paths::paths;
    use crate::model::plan::Expect;

    fn table() -> Carriers {
        match Carriers::builtin() {
            Ok(c) => c,
            Err(p) => panic!("{p:?}"),
        }
    }

    #[test]
    fn dada_paths_read_well() {
        let table = table();
        let Some(dada) = table.find("dada") else {
            panic!()
        };
        let listing = paths(dada, Goal::All, 100);
        assert_eq!(
            paths_text(dada, Goal::All, 100, &listing),
            "dada (Dada), profile dada-2026-11: 3 paths from 101 awaiting_rider\n  \
             1. 101 → 102 → 201 → 202 → 301 → 302 — 5 steps, ends delivered\n  \
             2. 101 → 102 → 201 → 202 → 301 → 304 — 5 steps, stops at 304 recipient_unreachable: dada has no move from there\n  \
             3. 101 → 102 → 201 → 202 → 301 → 305 — 5 steps, stops at 305 recipient_refused: dada has no move from there\n"
        );
        let cut = paths(dada, Goal::All, 3);
        assert!(
            paths_text(dada, Goal::All, 3, &cut)
                .ends_with("1 more path goes on past --max-steps 3 and is not listed; give a larger --max-steps to see it\n")
        );
        let json = paths_json(
            dada,
            Goal::Delivered,
            100,
            &paths(dada, Goal::Delivered, 100),
        );
        assert_eq!(
            json["paths"][0]["statuses"],
            json!([101, 102, 201, 202, 301, 302])
        );
        assert_eq!(json["paths"][0]["end"], "delivered");
        assert_eq!(json["to"], "delivered");
    }

    #[test]
    fn coverage_reads_well() {
        let table = table();
        let Some(dada) = table.find("dada") else {
            panic!()
        };
        let mut counter = Counter::default();
        counter.scenario(
            dada,
            [
                Step::new(Status::RiderAssigned, Expect::Ok),
                Step::new(Status::Delivered, Expect::Rejected),
            ],
        );
        let text = coverage_text(&counter.finish());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "dada (profile dada-2026-11, 1 scenario): 1 of 7 moves covered (14.3%); 1 of 42 refused moves tested (2.4%)"
        );
        assert_eq!(
            lines[1],
            "  ✓ 101 awaiting_rider → 102 rider_assigned (1 scenario)"
        );
        assert_eq!(
            lines[2],
            "  ✗ 102 rider_assigned → 201 at_store: not covered"
        );
        assert_eq!(
            lines[8],
            "  ⊘ 102 rider_assigned → 302 delivered: refused as expected (1 scenario)"
        );
    }
}
