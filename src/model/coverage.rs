//! Which moves of each carrier's graph a suite takes, which it does not, and which refused
//! moves it tests: `simulate coverage` over scenario files, and every run's reports over what
//! was sent and answered as expected.
//!
//! A scenario's order starts at 101. A step that must pass (`expect: ok`) moves it: the move
//! from where it was is covered when the graph has it (else it is counted as outside the
//! graph). A step that expects a refusal (`rejected`, an errcode or a resultcode) leaves the
//! order where it was and tests that move as a refused one, when the graph refuses it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::model::carriers::Carrier;
use crate::model::paths::{self, Edge};
use crate::model::plan::{Expect, Plan};
use crate::model::statuses::Status;

/// One step as coverage sees it.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub status: Status,
    /// The step must pass (it moves the order).
    pub moves: bool,
}

impl Step {
    pub fn new(status: Status, expect: Expect) -> Step {
        Step {
            status,
            moves: expect == Expect::Ok,
        }
    }
}

/// Coverage of every carrier a suite plays, in the order each first appears.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Coverage {
    pub carriers: Vec<CarrierCoverage>,
}

/// One carrier's graph against a suite.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CarrierCoverage {
    pub carrier: String,
    pub version: String,
    /// The scenarios (orders) of this carrier that were counted.
    pub scenarios: usize,
    pub edges: Tally,
    /// Moves of the graph the suite takes, with how many scenarios take each.
    pub covered: Vec<Move>,
    /// Moves of the graph no scenario takes.
    pub uncovered: Vec<Move>,
    /// Of the moves the carrier refuses (as `simulate new --negative` writes them).
    pub negatives: Tally,
    pub negatives_tested: Vec<Move>,
    pub negatives_untested: Vec<Move>,
    /// Moves expected to pass that the graph does not have (`skip_transition_check`).
    pub outside_graph: Vec<Move>,
}

/// `covered` of `total`, and the share in percent (one decimal).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Tally {
    pub total: usize,
    pub covered: usize,
    pub percent: f64,
}

impl Tally {
    fn new(covered: usize, total: usize) -> Tally {
        let percent = if total == 0 {
            0.0
        } else {
            (covered as f64 * 1000.0 / total as f64).round() / 10.0
        };
        Tally {
            total,
            covered,
            percent,
        }
    }
}

/// One move: status codes, and how many scenarios take it (0 for one not taken).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Move {
    pub from: u16,
    pub to: u16,
    pub scenarios: usize,
}

impl Move {
    pub fn statuses(&self) -> (Status, Status) {
        let status = |code| Status::from_code(code).unwrap_or(Status::INITIAL);
        (status(self.from), status(self.to))
    }
}

/// Counts scenarios one at a time.
#[derive(Debug, Default)]
pub struct Counter {
    carriers: Vec<Counted>,
}

#[derive(Debug)]
struct Counted {
    carrier: Arc<Carrier>,
    scenarios: usize,
    /// Move → scenarios that take it (each scenario once).
    taken: BTreeMap<Edge, usize>,
    refused: BTreeMap<Edge, usize>,
}

impl Counter {
    /// Counts one scenario's order: the steps that count, in order (for a run, those that met
    /// their expectation: an order stops at its first failure).
    pub fn scenario(&mut self, carrier: &Arc<Carrier>, steps: impl IntoIterator<Item = Step>) {
        let at = match self
            .carriers
            .iter()
            .position(|c| Arc::ptr_eq(&c.carrier, carrier) || c.carrier.id == carrier.id)
        {
            Some(at) => at,
            None => {
                self.carriers.push(Counted {
                    carrier: carrier.clone(),
                    scenarios: 0,
                    taken: BTreeMap::new(),
                    refused: BTreeMap::new(),
                });
                self.carriers.len() - 1
            }
        };
        let counted = &mut self.carriers[at];
        counted.scenarios += 1;
        let mut taken = std::collections::BTreeSet::new();
        let mut refused = std::collections::BTreeSet::new();
        let mut current = Status::INITIAL;
        for step in steps {
            if step.moves {
                taken.insert((current, step.status));
                current = step.status;
            } else {
                refused.insert((current, step.status));
            }
        }
        for edge in taken {
            *counted.taken.entry(edge).or_default() += 1;
        }
        for edge in refused {
            *counted.refused.entry(edge).or_default() += 1;
        }
    }

    pub fn finish(self) -> Coverage {
        Coverage {
            carriers: self.carriers.into_iter().map(Counted::finish).collect(),
        }
    }
}

impl Counted {
    fn finish(self) -> CarrierCoverage {
        let graph = paths::edges(&self.carrier);
        let take = |edge: &Edge, counts: &BTreeMap<Edge, usize>| Move {
            from: edge.0.code(),
            to: edge.1.code(),
            scenarios: counts.get(edge).copied().unwrap_or(0),
        };
        let (covered, uncovered): (Vec<Move>, Vec<Move>) = graph
            .iter()
            .map(|e| take(e, &self.taken))
            .partition(|m| m.scenarios > 0);
        let outside_graph: Vec<Move> = self
            .taken
            .keys()
            .filter(|e| !graph.contains(e))
            .map(|e| take(e, &self.taken))
            .collect();
        let refusable: Vec<Edge> = paths::negatives(&self.carrier)
            .iter()
            .map(|n| (n.from(), n.to))
            .collect();
        let (negatives_tested, negatives_untested): (Vec<Move>, Vec<Move>) = refusable
            .iter()
            .map(|e| take(e, &self.refused))
            .partition(|m| m.scenarios > 0);
        CarrierCoverage {
            carrier: self.carrier.id.clone(),
            version: self.carrier.version.clone(),
            scenarios: self.scenarios,
            edges: Tally::new(covered.len(), graph.len()),
            covered,
            uncovered,
            negatives: Tally::new(negatives_tested.len(), refusable.len()),
            negatives_tested,
            negatives_untested,
            outside_graph,
        }
    }
}

/// What a plan's scenarios would cover if every step met its expectation.
pub fn of_plan(plan: &Plan) -> Coverage {
    let mut counter = Counter::default();
    for scenario in &plan.scenarios {
        counter.scenario(
            &scenario.carrier,
            scenario.steps.iter().map(|s| Step::new(s.status, s.expect)),
        );
    }
    counter.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::carriers::Carriers;
    use Status::*;

    fn dada() -> Arc<Carrier> {
        match Carriers::builtin()
            .ok()
            .and_then(|t| t.find("dada").cloned())
        {
            Some(c) => c,
            None => panic!("no dada"),
        }
    }

    fn ok(status: Status) -> Step {
        Step::new(status, Expect::Ok)
    }

    #[test]
    fn a_happy_path_covers_its_moves_and_leaves_the_rest() {
        let mut counter = Counter::default();
        let dada = dada();
        let happy = [RiderAssigned, AtStore, PickedUp, Delivering, Delivered].map(ok);
        counter.scenario(&dada, happy);
        counter.scenario(&dada, happy);
        let coverage = counter.finish();
        let c = &coverage.carriers[0];
        assert_eq!((c.carrier.as_str(), c.scenarios), ("dada", 2));
        assert_eq!(
            c.edges,
            Tally {
                total: 7,
                covered: 5,
                percent: 71.4
            }
        );
        assert_eq!(
            c.covered[0],
            Move {
                from: 101,
                to: 102,
                scenarios: 2
            }
        );
        assert_eq!(
            c.uncovered
                .iter()
                .map(|m| (m.from, m.to))
                .collect::<Vec<_>>(),
            [(301, 304), (301, 305)]
        );
        assert_eq!((c.negatives.covered, c.negatives.total), (0, 42));
        assert!(c.outside_graph.is_empty());
    }

    #[test]
    fn a_refused_step_tests_a_negative_and_leaves_the_order_where_it_was() {
        let mut counter = Counter::default();
        let dada = dada();
        counter.scenario(
            &dada,
            [
                ok(RiderAssigned),
                Step::new(Delivered, Expect::Rejected),
                ok(AtStore),
                // An unchecked step that must pass: outside the graph.
                ok(Delivered),
            ],
        );
        let c = &counter.finish().carriers[0];
        assert_eq!(
            c.negatives_tested
                .iter()
                .map(|m| (m.from, m.to, m.scenarios))
                .collect::<Vec<_>>(),
            [(102, 302, 1)]
        );
        assert_eq!(c.negatives.percent, 2.4);
        assert_eq!(
            c.covered.iter().map(|m| (m.from, m.to)).collect::<Vec<_>>(),
            [(101, 102), (102, 201)]
        );
        assert_eq!(
            c.outside_graph
                .iter()
                .map(|m| (m.from, m.to))
                .collect::<Vec<_>>(),
            [(201, 302)]
        );
    }

    #[test]
    fn percentages_round_to_one_decimal() {
        assert_eq!(Tally::new(1, 3).percent, 33.3);
        assert_eq!(Tally::new(2, 3).percent, 66.7);
        assert_eq!(Tally::new(3, 3).percent, 100.0);
        assert_eq!(Tally::new(0, 0).percent, 0.0);
    }
}
