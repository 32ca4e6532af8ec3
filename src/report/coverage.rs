//! The coverage every run's reports carry: the moves of each carrier's graph that were sent
//! and accepted, and the refused moves that were refused as expected
//! ([`crate::model::coverage`] counts; this says which steps count).

use crate::model::coverage::{Counter, Coverage, Step};
use crate::model::plan::Plan;
use crate::run::{RunRecord, StepOutcome};

/// What the run did: each order's steps up to its first that did not pass (a failed step
/// stops its order; a step not sent did nothing).
pub fn of_run(plan: &Plan, record: &RunRecord) -> Coverage {
    let mut counter = Counter::default();
    for (scenario, scenario_record) in plan.scenarios.iter().zip(&record.scenarios) {
        let passed = scenario
            .steps
            .iter()
            .zip(&scenario_record.steps)
            .take_while(|(_, r)| matches!(r.outcome, StepOutcome::Passed(_)))
            .map(|(step, _)| Step::new(step.status, step.expect));
        counter.scenario(&scenario.carrier, passed);
    }
    counter.finish()
}
