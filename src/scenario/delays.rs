//! `after:` — how long a step waits: a duration, or a range each run draws from (by seed,
//! file name and step index, so that a seed replays a timeline).

use rust_i18n::t;
use std::path::Path;
use std::time::Duration;

use super::Checker;
use crate::base::diag::Diagnostic;
use crate::base::duration::{Delay, draw_in_range, parse_delay};
use crate::base::yaml::{Node, Value};
use crate::model::plan::StepPlan;

impl Checker<'_> {
    pub(super) fn after(&mut self, value: &Node, place: &str) -> Option<Delay> {
        let text = match &value.value {
            Value::Str(s) => s.clone(),
            Value::Int(0) => return Some(Delay::Fixed(Duration::ZERO)),
            Value::Int(_) | Value::Float(_) => value.as_text().unwrap_or_default(),
            _ => {
                self.wrong_type(value, "after", place, &t!("expected.delay"));
                return None;
            }
        };
        match parse_delay(&text) {
            Ok(delay) => Some(delay),
            Err(problems) => {
                // Point at the bad end of a range when the value is written plainly on one
                // line (quotes or escapes would shift the columns).
                let plain = value.written == text && !text.contains('\n');
                for problem in problems {
                    let column = if plain {
                        value
                            .column
                            .saturating_add(u64::try_from(problem.offset).unwrap_or(0))
                    } else {
                        value.column
                    };
                    let d = Diagnostic::new(
                        self.file,
                        value.line,
                        column,
                        t!("delays.after", place = place, problem = problem.message),
                    );
                    self.problems.push(d);
                }
                None
            }
        }
    }

    /// The file name delay ranges are drawn with (see `duration::draw_in_range`).
    pub(super) fn draw_name(&self) -> String {
        Path::new(self.file)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.file.to_owned())
    }
}

/// `steps` with every ranged delay drawn again under `name` (one repetition of `repeat:`
/// draws its own delays), and the send times that follow.
pub(super) fn redraw(steps: &[StepPlan], seed: u64, name: &str) -> Vec<StepPlan> {
    let mut at = Duration::ZERO;
    steps
        .iter()
        .map(|step| {
            let mut step = step.clone();
            if let Some((low, high)) = step.after_range {
                step.after = draw_in_range(low, high, seed, name, step.index);
            }
            at = at.saturating_add(step.after);
            step.at = at;
            step
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use crate::base::duration::draw_in_range;
    use crate::model::plan::Plan;
    use crate::scenario::load_plan;
    use crate::scenario::testing::{carriers, ctx, errors, ok, one, problems, tempdir, write};

    #[test]
    fn fixture_bad_duration() {
        let p = problems("bad_duration.yaml");
        assert_eq!(p.len(), 2, "{p:#?}");
        assert_eq!((p[0].line, p[0].column), (6, 12));
        assert!(
            p[0].message.contains("`soon` is not a duration"),
            "{}",
            p[0]
        );
        assert!(p[0].message.contains("e.g. 500ms, 30s"), "{}", p[0]);
        assert_eq!((p[1].line, p[1].column), (8, 12));
        assert!(
            p[1].message.contains("add a unit: ms, s, m or h"),
            "{}",
            p[1]
        );
    }

    #[test]
    fn fixture_bad_range() {
        let p = problems("bad_range.yaml");
        assert_eq!(p.len(), 2, "{p:#?}");
        assert_eq!((p[0].line, p[0].column), (6, 17));
        assert!(
            p[0].message.contains("the high end of the range `20s..40`"),
            "{}",
            p[0]
        );
        assert_eq!((p[1].line, p[1].column), (8, 12));
        assert!(p[1].message.contains("goes backwards"), "{}", p[1]);
        assert!(p[1].message.contains("write `2m..5m`"), "{}", p[1]);
    }

    #[test]
    fn fixture_negative_duration() {
        one(
            "negative_duration.yaml",
            8,
            12,
            &["negative duration `-5s`"],
        );
    }

    #[test]
    fn fixture_absurd_duration() {
        one(
            "absurd_duration.yaml",
            6,
            12,
            &["`25h` is absurd", "the limit is 24h per step"],
        );
    }

    #[test]
    fn durations_accept_zero_and_refuse_other_bare_numbers() {
        let plan = ok(
            "carrier: sf\nshop_order_id: x\nsteps:\n  - {status: 102, after: 0}\n  - {status: 202, after: 1.5s}\n  - {status: 302, after: ~}\n",
        );
        assert_eq!(plan.steps[2].at, Duration::from_millis(1500));
        let errs = errors(
            "carrier: sf\nshop_order_id: x\nsteps:\n  - {status: 102, after: 30}\n  - {status: 202, after: 1.5}\n  - {status: 302, after: -3}\n  - {status: 302, after: true, skip_transition_check: true, expect: rejected}\n",
        );
        assert!(
            errs[0].contains("`30` has no unit: add a unit"),
            "{errs:#?}"
        );
        assert!(errs[1].contains("`1.5` has no unit"), "{errs:#?}");
        assert!(errs[2].contains("negative duration `-3`"), "{errs:#?}");
        assert!(
            errs[3].contains("`after` in step 4 must be a duration"),
            "{errs:#?}"
        );
    }

    #[test]
    fn delay_ranges_resolve_to_one_delay_each() {
        let plan = ok(
            "carrier: dada\nshop_order_id: x\nsteps:\n  - {status: 102, after: 0s..10s}\n  - {status: 201, after: 1m}\n  - {status: 202, after: \"20s .. 40s\"}\n",
        );
        let s = &plan.steps;
        assert_eq!(
            s[0].after_range,
            Some((Duration::ZERO, Duration::from_secs(10)))
        );
        assert!(s[0].after <= Duration::from_secs(10));
        assert_eq!(s[0].at, s[0].after);
        assert_eq!(
            (s[1].after, s[1].after_range),
            (Duration::from_secs(60), None)
        );
        assert_eq!(s[1].at, s[0].at + Duration::from_secs(60));
        assert_eq!(
            s[2].after_range,
            Some((Duration::from_secs(20), Duration::from_secs(40)))
        );
        assert!((Duration::from_secs(20)..=Duration::from_secs(40)).contains(&s[2].after));
        assert_eq!(s[2].at, s[1].at + s[2].after);
        // The draw is the documented one: seed, file name, step index.
        assert_eq!(
            s[2].after,
            draw_in_range(
                Duration::from_secs(20),
                Duration::from_secs(40),
                42,
                "t.yaml",
                2
            )
        );
    }

    #[test]
    fn bad_ranges_point_at_the_bad_end() {
        let errs = errors(
            "carrier: dada\nshop_order_id: x\nsteps:\n  - {status: 102, after: 20s..40}\n  - {status: 201, after: 5m..2m}\n  - {status: 202, after: \"1s..\"}\n  - {status: 301, after: ..25h}\n  - {status: 302, after: 1s..25h}\n",
        );
        assert_eq!(errs.len(), 5, "{errs:#?}");
        assert!(
            errs[0].starts_with(
                "t.yaml:4:31: error: `after` in step 1: the high end of the range `20s..40`: duration `40` has no unit"
            ),
            "{errs:#?}"
        );
        assert!(
            errs[1].starts_with(
                "t.yaml:5:26: error: `after` in step 2: the range `5m..2m` goes backwards"
            ),
            "{errs:#?}"
        );
        // Quoted: the column is the value's.
        assert!(
            errs[2].starts_with(
                "t.yaml:6:26: error: `after` in step 3: the range `1s..` has no high end"
            ),
            "{errs:#?}"
        );
        assert!(errs[3].contains("t.yaml:7:26: error"), "{errs:#?}");
        assert!(errs[3].contains("has no low end"), "{errs:#?}");
        assert!(errs[4].contains("t.yaml:8:30: error"), "{errs:#?}");
        assert!(errs[4].contains("absurd"), "{errs:#?}");
    }

    /// Writes `files` (name, text) into a fresh folder and loads them all with `seed`.
    fn plan_of(files: &[(&str, &str)], seed: u64) -> Plan {
        let dir = tempdir();
        for (name, text) in files {
            write(&dir.path().join(name), text);
        }
        let mut ctx = ctx();
        ctx.seed = seed;
        match load_plan(&[dir.path().to_path_buf()], &carriers(), &ctx) {
            Ok(plan) => plan,
            Err(p) => panic!("{p:#?}"),
        }
    }

    fn offsets(plan: &Plan) -> Vec<Vec<Duration>> {
        plan.scenarios
            .iter()
            .map(|s| s.steps.iter().map(|st| st.at).collect())
            .collect()
    }

    #[test]
    fn the_seed_fixes_the_timeline() {
        let text = "carrier: dada\nshop_order_id: \"{{scenario}}-{{run_id}}\"\nsteps:\n  - {status: 102, after: 0s..30s}\n  - {status: 201, after: 2m..6m}\n  - {status: 202, after: 1m..5m}\n  - {status: 301, after: 10s..1m}\n  - {status: 302, after: 8m..15m}\n";
        let files = [("a.yaml", text), ("b.yaml", text)];
        let first = plan_of(&files, 7);
        assert_eq!(first.seed, 7);
        assert_eq!(offsets(&first), offsets(&plan_of(&files, 7)));
        // Different scenarios draw differently.
        assert_ne!(offsets(&first)[0], offsets(&first)[1]);
        // Different seeds give (in general) different timelines.
        let mut distinct = BTreeSet::new();
        for seed in 0..20 {
            let plan = plan_of(&files[..1], seed);
            for step in &plan.scenarios[0].steps {
                let Some((low, high)) = step.after_range else {
                    panic!("no range")
                };
                assert!(low <= step.after && step.after <= high, "{step:?}");
            }
            distinct.insert(offsets(&plan));
        }
        assert!(distinct.len() >= 19, "{}", distinct.len());
    }
}
