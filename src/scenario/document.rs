//! One scenario document: its top-level keys checked together, and the plans it makes (one,
//! or one per order of `repeat:`).

use rust_i18n::t;
use std::sync::Arc;

use super::collisions::OrderKey;
use super::delays::redraw;
use super::grammar;
use super::templates::{FRESH_TEMPLATES, render_id};
use super::{Checker, MAX_REPEAT};
use crate::base::diag::Diagnostic;
use crate::base::text::printable;
use crate::base::yaml::{Node, Value};
use crate::model::carriers::{Call, Carrier};
use crate::model::plan::{OrderCreate, ScenarioPlan};

impl Checker<'_> {
    pub(super) fn scenario(&mut self, root: &Node) -> (Vec<ScenarioPlan>, Vec<OrderKey>) {
        if root.value == Value::Null {
            self.problems.push(
                Diagnostic::whole_file(self.file, t!("scenario.empty_file"))
                    .with_help(t!("scenario.empty_file_help")),
            );
            return (Vec::new(), Vec::new());
        }
        let Some(fields) = self.fields(
            root,
            grammar::SCENARIO.allowed,
            "",
            "",
            &t!("scenario.a_scenario"),
        ) else {
            return (Vec::new(), Vec::new());
        };
        for &required in grammar::SCENARIO.required {
            if fields.missing(required) {
                let at = fields.key(required).unwrap_or(root);
                let message = if fields.get(required).is_some() {
                    t!("scenario.no_value", key = required).into_owned()
                } else {
                    t!("scenario.missing", key = required).into_owned()
                };
                let help = match required {
                    "carrier" => self.carriers.describe_known(),
                    "shop_order_id" => t!("scenario.shop_order_id_help").into_owned(),
                    _ => t!("scenario.steps_help").into_owned(),
                };
                self.error(at, message, Some(help));
            }
        }

        let name = match fields.given("name") {
            Some(node) => match node.as_text() {
                // Shown on terminals everywhere: a name cannot carry escape sequences.
                Some(text) if !text.trim().is_empty() => Some(printable(text.trim()).into_owned()),
                Some(_) => Some(self.stem.to_owned()),
                None => {
                    self.wrong_type(node, "name", "", &t!("expected.text"));
                    None
                }
            },
            None => Some(self.stem.to_owned()),
        };

        let carrier = fields.given("carrier").and_then(|node| self.carrier(node));

        // None: written wrong (reported); Some(None): no `repeat:`.
        let repeat = match fields.given("repeat") {
            Some(node) => self.repeat(node).map(Some),
            None => Some(None),
        };

        let shop_order_id_node = fields.given("shop_order_id");
        let shop_order_id =
            shop_order_id_node.and_then(|node| self.shop_order_id(node, repeat.as_ref()));
        let fixed_order_id = !FRESH_TEMPLATES
            .iter()
            .any(|t| self.templates_used.contains(t));

        let shop = self.shop(fields.get("shop"), carrier.as_deref());

        // None: written wrong (reported); Some(None): no order to create.
        let order = match (fields.key("order"), fields.get("order")) {
            (Some(key), Some(node)) => self.order(
                key,
                node,
                carrier.as_deref(),
                shop.as_ref().map(|(shopid, _)| shopid.as_str()),
            ),
            _ => Some(None),
        };

        let steps = fields
            .given("steps")
            .and_then(|node| self.steps(node, carrier.as_deref()));

        // Refused before anything is multiplied: steps × repeat is what the run would hold.
        if let (Some(steps), Some(Some(n))) = (&steps, &repeat)
            && steps.len().saturating_mul(*n as usize) > self.ctx.max_steps
            && let Some(node) = fields.given("repeat")
        {
            self.error(
                node,
                t!(
                    "scenario_check.repeat_too_many_steps",
                    steps = steps.len(),
                    n = n,
                    planned = steps.len().saturating_mul(*n as usize),
                    max = self.ctx.max_steps
                ),
                Some(
                    t!(
                        "scenario_check.repeat_too_many_steps_help",
                        default = super::MAX_PLAN_STEPS
                    )
                    .into_owned(),
                ),
            );
            return (Vec::new(), Vec::new());
        }
        if let Some(steps) = &steps
            && steps.len() > self.ctx.max_steps
            && let Some(node) = fields.given("steps")
        {
            self.error(
                node,
                t!(
                    "scenario_check.too_many_steps",
                    steps = steps.len(),
                    max = self.ctx.max_steps
                ),
                Some(
                    t!(
                        "scenario_check.too_many_steps_help",
                        default = super::MAX_PLAN_STEPS
                    )
                    .into_owned(),
                ),
            );
            return (Vec::new(), Vec::new());
        }
        // k of n for each order the file makes; one order without `repeat:`.
        let repetitions: Vec<Option<(u32, u32)>> = match repeat {
            Some(Some(n)) => (1..=n).map(|k| Some((k, n))).collect(),
            _ => vec![None],
        };
        let mut orders = Vec::new();
        if let (Some((shopid, _)), Some(pieces), Some(node)) =
            (&shop, &shop_order_id, shop_order_id_node)
        {
            for repetition in &repetitions {
                orders.push(OrderKey {
                    file: self.file.to_owned(),
                    line: node.line,
                    column: node.column,
                    shopid: shopid.clone(),
                    shop_order_id: render_id(pieces, repetition.map(|(k, _)| k)),
                    repetition: *repetition,
                });
            }
        }
        let (
            Some(name),
            Some(carrier),
            Some(pieces),
            Some((shopid, appsecret)),
            Some(order),
            Some(steps),
        ) = (name, carrier, shop_order_id, shop, order, steps)
        else {
            return (Vec::new(), orders);
        };
        let draw_name = self.draw_name();
        let plans = repetitions
            .into_iter()
            .map(|repetition| {
                let k = repetition.map(|(k, _)| k);
                let shop_order_id = render_id(&pieces, k);
                let order = order.as_ref().map(|template| {
                    let mut body = template.body.clone();
                    body.insert("shop_order_id".to_owned(), shop_order_id.clone().into());
                    OrderCreate {
                        body: serde_json::Value::Object(body),
                        openid: template.openid.clone(),
                        line: template.line,
                    }
                });
                let (name, steps) = match k {
                    Some(k) => (
                        format!("{name} #{k}"),
                        redraw(&steps, self.ctx.seed, &format!("{draw_name}#{k}")),
                    ),
                    None => (name.clone(), steps.clone()),
                };
                ScenarioPlan {
                    name,
                    file: self.file.to_owned(),
                    carrier: carrier.clone(),
                    shop_order_id,
                    shopid: shopid.clone(),
                    appsecret: appsecret.clone(),
                    steps,
                    order,
                    repetition,
                    fixed_order_id,
                }
            })
            .collect();
        (plans, orders)
    }

    /// `repeat: N`, 1 ≤ N ≤ [`MAX_REPEAT`].
    fn repeat(&mut self, node: &Node) -> Option<u32> {
        let expected = t!("expected.whole_from_to", min = 1, max = MAX_REPEAT).into_owned();
        match node.value {
            Value::Int(n) => match u32::try_from(n) {
                Ok(n) if (1..=MAX_REPEAT).contains(&n) => Some(n),
                _ => {
                    let found = node.describe();
                    self.error(
                        node,
                        t!(
                            "fields.wrong_type",
                            key = "repeat",
                            place = "",
                            expected = expected,
                            found = found
                        ),
                        Some(t!("scenario.repeat_help", max = MAX_REPEAT).into_owned()),
                    );
                    None
                }
            },
            _ => {
                self.wrong_type(node, "repeat", "", &expected);
                None
            }
        }
    }

    fn carrier(&mut self, node: &Node) -> Option<Arc<Carrier>> {
        let Some(name) = node.as_text() else {
            self.wrong_type(node, "carrier", "", &t!("expected.carrier"));
            return None;
        };
        if let Some(carrier) = self.carriers.find(&name) {
            if carrier.call == Call::None {
                let playable: Vec<&str> = self
                    .carriers
                    .all()
                    .iter()
                    .filter(|c| c.call != Call::None)
                    .map(|c| c.id.as_str())
                    .collect();
                self.error(
                    node,
                    t!(
                        "scenario.carrier_untestable",
                        carrier = carrier.id,
                        name = carrier.name_en
                    )
                    .into_owned(),
                    Some(
                        t!(
                            "scenario.carrier_untestable_help",
                            playable = playable.join(", "),
                            carrier = carrier.id
                        )
                        .into_owned(),
                    ),
                );
                return None;
            }
            return Some(carrier.clone());
        }
        let unknown = self.carriers.unknown(&name);
        self.error(node, unknown.message, Some(unknown.help));
        None
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use crate::base::duration::draw_in_range;
    use crate::model::plan::ScenarioPlan;
    use crate::scenario::MAX_SHOP_ORDER_ID_BYTES;
    use crate::scenario::testing::{all, errors, ok, one};

    #[test]
    fn fixture_unknown_carrier() {
        one(
            "unknown_carrier.yaml",
            2,
            10,
            &[
                "unknown carrier `dad`",
                "did you mean `dada`?",
                "known carriers: dada, mtps (meituan), sandbox",
            ],
        );
    }

    #[test]
    fn a_carrier_no_test_call_reaches_cannot_be_played() {
        for name in ["mtps", "meituan", "SS"] {
            let errs = errors(&format!(
                "carrier: {name}\nshop_order_id: x\nsteps: [{{status: 102}}]\n"
            ));
            assert_eq!(errs.len(), 1, "{errs:#?}");
            assert!(
                errs[0].starts_with("t.yaml:1:10: error: ")
                    && errs[0].contains("cannot be played: no test call reaches it")
                    && errs[0].contains("help: play one of dada, sandbox, sftc;"),
                "{errs:#?}"
            );
        }
    }

    #[test]
    fn fixture_bad_repeat() {
        one(
            "bad_repeat.yaml",
            4,
            9,
            &["`repeat` must be a whole number from 1 to 1000, found the number `0`"],
        );
    }

    #[test]
    fn missing_keys_wrong_types_and_odd_files() {
        let errs = errors("name: x\n");
        assert_eq!(errs.len(), 3, "{errs:#?}");
        assert!(
            errs[0].contains("t.yaml:1:1: error: missing `carrier`"),
            "{errs:#?}"
        );
        assert!(errs[0].contains("known carriers"), "{errs:#?}");
        assert!(errs[1].contains("missing `shop_order_id`"), "{errs:#?}");
        assert!(errs[2].contains("missing `steps`"), "{errs:#?}");
        let errs = errors("carier: dada\nshop_order_id: x\nsteps: [{status: 102}]\n");
        assert_eq!(
            errs.len(),
            1,
            "a typo is not reported again as missing: {errs:#?}"
        );
        assert!(errs[0].contains("did you mean `carrier`?"));
        let errs = errors("carrier:\nshop_order_id: x\nsteps:\n  - status:\n  - 102\n");
        assert!(
            errs[0].contains("t.yaml:1:1: error: `carrier` has no value"),
            "{errs:#?}"
        );
        assert!(
            errs[1].contains("`status` in step 1 has no value"),
            "{errs:#?}"
        );
        assert!(
            errs[2].contains("step 2 must be a mapping, found the number `102`"),
            "{errs:#?}"
        );
        let errs = errors(
            "carrier: [dada]\nshop_order_id: {a: 1}\nname: true\nsteps:\n  - {status: 102, skip_transition_check: yes, expect: rejected, action_msg: [a]}\n",
        );
        assert!(
            errs[0].contains("`carrier` must be a carrier id or alias, found the list `[dada]`"),
            "{errs:#?}"
        );
        assert!(
            errs[1].contains("`shop_order_id` must be text, found the mapping `{a: 1}`"),
            "{errs:#?}"
        );
        assert!(
            errs[2].contains("`name` must be text, found the boolean `true`"),
            "{errs:#?}"
        );
        assert!(
            errs.iter().any(|e| e.contains(
                "`skip_transition_check` in step 1 must be true or false, found the text `yes`"
            )),
            "{errs:#?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.contains("`action_msg` in step 1 must be text")),
            "{errs:#?}"
        );
        let errs = errors("- carrier: dada\n");
        assert!(
            errs[0].contains("a scenario must be a mapping, found the list"),
            "{errs:#?}"
        );
        let errs = errors("");
        assert_eq!(
            errs,
            [
                "t.yaml: error: the file is empty\n  help: a scenario needs at least `carrier`, `shop_order_id` and `steps`"
            ]
        );
        let errs =
            errors("carrier: dada\nshop_order_id: x\nsteps: [{status: 102}]\n---\ncarrier: sf\n");
        assert!(errs[0].contains("more than one YAML document"), "{errs:#?}");
    }

    #[test]
    fn names_default_to_the_file_stem() {
        assert_eq!(
            ok("carrier: dada\nshop_order_id: x\nsteps: [{status: 102}]\n").name,
            "t"
        );
        assert_eq!(
            ok("name: \" Dada 达达 \"\ncarrier: dada\nshop_order_id: x\nsteps: [{status: 102}]\n")
                .name,
            "Dada 达达"
        );
        assert_eq!(
            ok("name: 2026\ncarrier: dada\nshop_order_id: 0042\nsteps: [{status: \"102\"}]\n")
                .shop_order_id,
            "0042"
        );
    }

    #[test]
    fn repeat_makes_one_plan_per_order() {
        let plans = all(
            "name: Load\ncarrier: dada\nshop_order_id: qa-{{run_id}}\nrepeat: 3\norder: true\nsteps:\n  - {status: 102, after: 1s..9s}\n  - {status: 201, after: 1m}\n",
        );
        assert_eq!(plans.len(), 3);
        for (i, plan) in plans.iter().enumerate() {
            let k = i as u32 + 1;
            assert_eq!(plan.name, format!("Load #{k}"));
            assert_eq!(plan.repetition, Some((k, 3)));
            assert_eq!(plan.shop_order_id, format!("qa-20261128-221530-ab12-{k}"));
            assert!(!plan.fixed_order_id);
            let Some(order) = &plan.order else {
                panic!("no order")
            };
            assert_eq!(
                order.body["shop_order_id"],
                serde_json::json!(plan.shop_order_id)
            );
            // Each order draws its own delays, under `t.yaml#k`.
            let s = &plan.steps;
            assert_eq!(
                s[0].after,
                draw_in_range(
                    Duration::from_secs(1),
                    Duration::from_secs(9),
                    42,
                    &format!("t.yaml#{k}"),
                    0
                )
            );
            assert_eq!(s[1].at, s[0].after + Duration::from_secs(60));
        }
        let firsts: BTreeSet<Duration> = plans.iter().map(|p| p.steps[0].after).collect();
        assert!(firsts.len() > 1, "{firsts:?}");
        // The same seed gives the same delays.
        let again = all(
            "name: Load\ncarrier: dada\nshop_order_id: qa-{{run_id}}\nrepeat: 3\norder: true\nsteps:\n  - {status: 102, after: 1s..9s}\n  - {status: 201, after: 1m}\n",
        );
        let at = |plans: &[ScenarioPlan]| -> Vec<Duration> {
            plans.iter().map(|p| p.steps[1].at).collect()
        };
        assert_eq!(at(&plans), at(&again));
        // Without `repeat:`, nothing changes.
        let one = ok("carrier: dada\nshop_order_id: x\nsteps: [{status: 102}]\n");
        assert_eq!((one.name.as_str(), one.repetition), ("t", None));
        assert!(one.order.is_none());
    }

    #[test]
    fn the_repeat_template_places_the_number() {
        let plans = all(
            "carrier: sandbox\nshop_order_id: \"load-{{repeat}}-of-{{run_id}}\"\nrepeat: 12\nsteps: [{status: 102}]\n",
        );
        let ids: Vec<&str> = plans.iter().map(|p| p.shop_order_id.as_str()).collect();
        assert_eq!(ids[0], "load-1-of-20261128-221530-ab12");
        assert_eq!(ids[11], "load-12-of-20261128-221530-ab12");
        assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 12);
        assert_eq!(plans[11].name, "t #12");
        let plans = all(
            "carrier: sandbox\nshop_order_id: \"{{repeat}}\"\nrepeat: 1\nsteps: [{status: 102}]\n",
        );
        assert_eq!(
            (plans[0].shop_order_id.as_str(), plans[0].repetition),
            ("1", Some((1, 1)))
        );
        assert!(plans[0].fixed_order_id);
    }

    #[test]
    fn bad_repeats_are_located() {
        for (value, found) in [
            ("0", "the number `0`"),
            ("1001", "the number `1001`"),
            ("-2", "the number `-2`"),
            ("2.5", "the number `2.5`"),
            ("\"3\"", "the text `3`"),
            ("[3]", "the list `[3]`"),
        ] {
            let errs = errors(&format!(
                "carrier: dada\nshop_order_id: x\nrepeat: {value}\nsteps: [{{status: 102}}]\n"
            ));
            assert_eq!(errs.len(), 1, "{errs:#?}");
            assert!(
                errs[0].starts_with(&format!(
                    "t.yaml:3:9: error: `repeat` must be a whole number from 1 to 1000, found {found}"
                )),
                "{errs:#?}"
            );
        }
        // `repeat: ~` is no repeat.
        assert_eq!(
            ok("carrier: dada\nshop_order_id: x\nrepeat: ~\nsteps: [{status: 102}]\n").repetition,
            None
        );
        let errs =
            errors("carrier: dada\nshop_order_id: \"a{{repeat}}\"\nsteps: [{status: 102}]\n");
        assert!(
            errs[0].starts_with(
                "t.yaml:2:16: error: `{{repeat}}` in `shop_order_id` needs `repeat: N`"
            ),
            "{errs:#?}"
        );
        // A bad `repeat:` is reported once, not again at `{{repeat}}`.
        let errs = errors(
            "carrier: dada\nshop_order_id: \"a{{repeat}}\"\nrepeat: 0\nsteps: [{status: 102}]\n",
        );
        assert_eq!(errs.len(), 1, "{errs:#?}");
        // The longest id counts.
        let id = "x".repeat(MAX_SHOP_ORDER_ID_BYTES - 3);
        all(&format!(
            "carrier: dada\nshop_order_id: {id}\nrepeat: 99\nsteps: [{{status: 102}}]\n"
        ));
        let errs = errors(&format!(
            "carrier: dada\nshop_order_id: {id}\nrepeat: 100\nsteps: [{{status: 102}}]\n"
        ));
        assert!(
            errs[0].contains(
                "is 129 bytes after expansion (for order 100 of `repeat`); the limit is 128"
            ),
            "{errs:#?}"
        );
    }
}
