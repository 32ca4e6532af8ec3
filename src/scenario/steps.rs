//! `steps:` — each step's keys, and the walk through the carrier's transitions that says
//! whether the steps can happen in this order.

use std::time::Duration;

use rust_i18n::t;

use super::Checker;
use super::grammar;
use crate::base::diag::did_you_mean;
use crate::base::duration::{Delay, draw_in_range};
use crate::base::yaml::{Node, Value};
use crate::model::carriers::Carrier;
use crate::model::plan::{Expect, StepPlan};
use crate::model::statuses::Status;

/// Where a step leaves the order, for the transition checks.
struct Track {
    current: Status,
    /// The step (1-based) that ended the order, and with which status.
    ended_by: Option<(usize, Status)>,
    /// A step's status was unknown: where it left the order cannot be told, so the next
    /// step's transition is not judged (its error would only repeat the first).
    lost: bool,
}

impl Checker<'_> {
    pub(super) fn steps(
        &mut self,
        node: &Node,
        carrier: Option<&Carrier>,
    ) -> Option<Vec<StepPlan>> {
        let Value::Seq(items) = &node.value else {
            self.wrong_type(node, "steps", "", &t!("expected.steps"));
            return None;
        };
        if items.is_empty() {
            self.error(
                node,
                t!("steps.empty"),
                Some(t!("steps.empty_help").into_owned()),
            );
            return None;
        }
        let mut track = Track {
            current: Status::INITIAL,
            ended_by: None,
            lost: false,
        };
        let mut at = Duration::ZERO;
        let mut plans = Vec::new();
        let mut complete = true;
        for (index, item) in items.iter().enumerate() {
            match self.step(index, item, carrier, &mut track, &mut at) {
                Some(step) => plans.push(step),
                None => complete = false,
            }
        }
        complete.then_some(plans)
    }

    fn step(
        &mut self,
        index: usize,
        node: &Node,
        carrier: Option<&Carrier>,
        track: &mut Track,
        at: &mut Duration,
    ) -> Option<StepPlan> {
        let number = index + 1;
        let place = crate::base::i18n::in_step(number);
        let fields = self.fields(
            node,
            grammar::STEP.allowed,
            &place,
            &crate::base::i18n::in_a_step(),
            &t!("place.step_name", n = number),
        )?;

        let status = match fields.given("status") {
            Some(value) => self.status(value, &place),
            None if !fields.missing("status") => None,
            None => {
                let at_node = fields.key("status").unwrap_or(node);
                let message = if fields.get("status").is_some() {
                    t!("steps.status_no_value", place = place).into_owned()
                } else {
                    t!("steps.status_missing", n = number).into_owned()
                };
                self.error(at_node, message, Some(t!("steps.status_help").into_owned()));
                None
            }
        };

        let after = match fields.given("after") {
            Some(value) => self.after(value, &place),
            None => Some(Delay::Fixed(Duration::ZERO)),
        };
        let after = after.map(|delay| match delay {
            Delay::Fixed(d) => (d, None),
            Delay::Range(low, high) => {
                let drawn = draw_in_range(low, high, self.ctx.seed, &self.draw_name(), index);
                (drawn, Some((low, high)))
            }
        });
        if let Some((after, _)) = after {
            *at = at.saturating_add(after);
        }

        let action_msg = match fields.given("action_msg") {
            Some(value) => match value.as_text() {
                Some(raw) => self.expand(value, &raw, "action_msg", false),
                None => {
                    self.wrong_type(value, "action_msg", &place, &t!("expected.text"));
                    None
                }
            },
            None => Some(String::new()),
        };

        let skip = match fields.given("skip_transition_check") {
            Some(value) => match value.value {
                Value::Bool(b) => Some(b),
                _ => {
                    self.wrong_type(value, "skip_transition_check", &place, &t!("expected.bool"));
                    None
                }
            },
            None => Some(false),
        };

        let expect_node = fields.given("expect");
        let expect = match expect_node {
            Some(value) => self.expect(value, &place),
            None => Some(Expect::Ok),
        };

        if skip == Some(true)
            && expect_node.is_none()
            && let Some(value) = fields.get("skip_transition_check")
        {
            self.error(
                value,
                t!("steps.skip_needs_expect", place = place),
                Some(
                    t!(
                        "steps.skip_needs_expect_help",
                        forms = super::expect::expect_forms()
                    )
                    .into_owned(),
                ),
            );
        }

        let checked = skip != Some(true);
        let moves = expect.is_none() || expect == Some(Expect::Ok);
        if status.is_none() && fields.given("status").is_some() && moves {
            track.lost = true;
        }
        if let (Some(status), Some(status_node)) = (status, fields.given("status")) {
            if checked && !track.lost {
                self.transition(status, status_node, number, carrier, track);
            }
            // Only a step that must succeed moves the order.
            if moves {
                track.lost = false;
                track.current = status;
                if status.is_terminal() && track.ended_by.is_none() {
                    track.ended_by = Some((number, status));
                }
            }
        }

        let (after, after_range) = after?;
        Some(StepPlan {
            index,
            status: status?,
            at: *at,
            after,
            after_range,
            action_msg: action_msg?,
            expect: expect?,
            checked,
            line: node.line,
        })
    }

    fn status(&mut self, value: &Node, place: &str) -> Option<Status> {
        let text = match &value.value {
            Value::Int(_) | Value::Str(_) => value.as_text().unwrap_or_default(),
            _ => {
                self.wrong_type(value, "status", place, &t!("expected.status"));
                return None;
            }
        };
        if let Some(status) = Status::parse(&text) {
            return Some(status);
        }
        let all: Vec<String> = Status::all().map(|s| s.to_string()).collect();
        let list = all.join(", ");
        let help = match did_you_mean(&text, Status::all().map(Status::name)) {
            Some(s) => t!("steps.status_did_you_mean", status = s, list = list),
            None => t!("steps.statuses", list = list),
        };
        self.error(
            value,
            t!("steps.unknown_status", status = text.trim(), place = place),
            Some(help.into_owned()),
        );
        None
    }

    /// The support and transition checks of a checked step whose status is known.
    fn transition(
        &mut self,
        status: Status,
        at: &Node,
        number: usize,
        carrier: Option<&Carrier>,
        track: &Track,
    ) {
        if let Some((ended_at, ended_with)) = track.ended_by {
            self.error(
                at,
                t!(
                    "check.after_end",
                    step = number,
                    status = status,
                    ended_at = ended_at,
                    ended_with = ended_with
                ),
                Some(t!("check.after_end_help").into_owned()),
            );
            return;
        }
        let Some(carrier) = carrier else { return };
        if !carrier.supports(status) {
            let supported: Vec<String> = carrier.supported.iter().map(|s| s.to_string()).collect();
            self.error(
                at,
                t!(
                    "check.unsupported",
                    carrier = carrier.id,
                    status = status,
                    step = number
                ),
                Some(
                    t!(
                        "check.unsupported_help",
                        carrier = carrier.id,
                        supported = supported.join(", ")
                    )
                    .into_owned(),
                ),
            );
            return;
        }
        if !carrier.allows(track.current, status) {
            let next: Vec<String> = carrier
                .allowed_next(track.current)
                .iter()
                .map(|s| s.to_string())
                .collect();
            let next = if next.is_empty() {
                t!("check.allowed_next_none").into_owned()
            } else {
                next.join(", ")
            };
            self.error(
                at,
                t!(
                    "check.transition",
                    carrier = carrier.id,
                    from = track.current,
                    to = status,
                    next = next
                ),
                Some(t!("check.transition_help").into_owned()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::model::plan::Expect;
    use crate::model::statuses::Status::*;
    use crate::scenario::testing::{errors, ok, one};

    #[test]
    fn fixture_unknown_status() {
        one(
            "unknown_status.yaml",
            7,
            13,
            &[
                "unknown status `delivred` in step 3",
                "did you mean `delivered`?",
                "101 awaiting_rider",
                "502 force_majeure_cancelled",
            ],
        );
    }

    #[test]
    fn an_unknown_status_is_reported_once_without_a_knock_on_transition_error() {
        let errs = errors(
            "carrier: dada\nshop_order_id: x-{{run_id}}\nsteps:\n  - status: 999\n  - status: 201\n  - status: 202\n",
        );
        assert_eq!(errs.len(), 1, "{errs:#?}");
        assert!(errs[0].contains("unknown status `999`"), "{errs:#?}");
        // Once the order's place is known again, transitions are judged again.
        let errs = errors(
            "carrier: dada\nshop_order_id: x-{{run_id}}\nsteps:\n  - status: 999\n  - status: 102\n  - status: 302\n",
        );
        assert_eq!(errs.len(), 2, "{errs:#?}");
        assert!(errs[1].contains("cannot go from 102"), "{errs:#?}");
    }

    #[test]
    fn fixture_unsupported_status() {
        one(
            "unsupported_status.yaml",
            6,
            13,
            &[
                "dada does not support 103 merchant_cancelled",
                "dada supports: 102 rider_assigned, 201 at_store",
            ],
        );
    }

    #[test]
    fn fixture_bad_transition() {
        let p = one(
            "bad_transition.yaml",
            6,
            13,
            &[
                "dada cannot go from 102 rider_assigned to 302 delivered; allowed next: 201 at_store",
            ],
        );
        assert!(
            p.to_string()
                .contains("bad_transition.yaml:6:13: error: dada cannot go")
        );
    }

    #[test]
    fn fixture_after_terminal() {
        one(
            "after_terminal.yaml",
            8,
            13,
            &["step 4 (102 rider_assigned) comes after the order ended: step 3 set 302 delivered"],
        );
    }

    #[test]
    fn fixture_empty_steps() {
        one("empty_steps.yaml", 4, 8, &["`steps` is empty"]);
    }

    #[test]
    fn fixture_skip_without_expect() {
        one(
            "skip_without_expect.yaml",
            7,
            28,
            &[
                "`skip_transition_check: true` in step 2 needs an explicit `expect:`",
                "expect: rejected",
            ],
        );
    }

    #[test]
    fn builds_the_plan_with_times_lines_and_expectations() {
        let plan = ok(
            "carrier: SF\nshop_order_id: qa-{{run_id}}\nsteps:\n  - status: 102\n    after: 1s\n    action_msg: 骑手已接单\n  - status: picked_up\n    after: 1m30s\n  - status: delivered\n    after: 500ms\n    expect: {errcode: 930565}\n    skip_transition_check: true\n",
        );
        assert_eq!(plan.name, "t");
        assert_eq!(plan.file, "t.yaml");
        assert_eq!(plan.carrier.id, "sftc");
        assert_eq!(plan.shop_order_id, "qa-20261128-221530-ab12");
        assert_eq!(plan.shopid, "1534713176");
        assert_eq!(plan.appsecret, plan.carrier.account.appsecret);
        let s = &plan.steps;
        assert_eq!(s.len(), 3);
        assert_eq!((s[0].index, s[0].status, s[0].line), (0, RiderAssigned, 4));
        assert_eq!(s[0].at, Duration::from_secs(1));
        assert_eq!(s[0].action_msg, "骑手已接单");
        assert_eq!(s[1].at, Duration::from_secs(91));
        assert_eq!(
            (s[1].line, s[1].expect, s[1].checked),
            (7, Expect::Ok, true)
        );
        assert_eq!(s[1].action_msg, "");
        assert_eq!(s[2].at, Duration::from_millis(91_500));
        assert_eq!(
            (s[2].expect, s[2].checked),
            (Expect::Errcode(930_565), false)
        );
    }

    #[test]
    fn refused_steps_do_not_move_the_order() {
        let plan = ok(
            "carrier: dada\nshop_order_id: x\nsteps:\n  - status: 102\n  - status: 302\n    skip_transition_check: true\n    expect: rejected\n  - status: 201\n",
        );
        assert_eq!(plan.steps.len(), 3);
        // A successful unchecked step does move it.
        let errs = errors(
            "carrier: dada\nshop_order_id: x\nsteps:\n  - status: 102\n  - status: 302\n    skip_transition_check: true\n    expect: ok\n  - status: 201\n",
        );
        assert_eq!(errs.len(), 1, "{errs:#?}");
        assert!(errs[0].contains(
            "step 3 (201 at_store) comes after the order ended: step 2 set 302 delivered"
        ));
    }

    #[test]
    fn skipped_checks_still_need_a_known_status() {
        let errs = errors(
            "carrier: dada\nshop_order_id: x\nsteps:\n  - status: 999\n    skip_transition_check: true\n    expect: rejected\n",
        );
        assert!(
            errs[0].contains("t.yaml:4:13: error: unknown status `999`"),
            "{errs:#?}"
        );
        let plan = ok(
            "carrier: dada\nshop_order_id: x\nsteps:\n  - status: 103\n    skip_transition_check: true\n    expect: rejected\n",
        );
        assert!(!plan.steps[0].checked);
    }

    #[test]
    fn unknown_carrier_still_checks_the_steps() {
        let errs = errors(
            "carrier: kuaidi9\nshop_order_id: x\nsteps:\n  - status: nope\n  - status: 302\n  - status: 102\n",
        );
        assert_eq!(errs.len(), 3, "{errs:#?}");
        assert!(errs[0].contains("unknown carrier `kuaidi9`"));
        assert!(errs[1].contains("unknown status `nope`"));
        assert!(errs[2].contains("comes after the order ended"));
    }
}
