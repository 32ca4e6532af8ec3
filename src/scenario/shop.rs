//! Which order a scenario moves: the carrier account it sends as (`shop:`) and the order id
//! (`shop_order_id`).

use super::grammar;
use super::templates::{Piece, render_id};
use super::{Checker, MAX_SHOP_ORDER_ID_BYTES};
use crate::base::secret::Secret;
use crate::base::yaml::{Node, Value};
use crate::model::carriers::{Call, Carrier};
use rust_i18n::t;

impl Checker<'_> {
    /// The order id as pieces (see [`render_id`]). `repeat` is `repeat:` as read: None when
    /// written wrong (reported), `Some(None)` when absent.
    pub(super) fn shop_order_id(
        &mut self,
        node: &Node,
        repeat: Option<&Option<u32>>,
    ) -> Option<Vec<Piece>> {
        let Some(raw) = node.as_text() else {
            self.wrong_type(node, "shop_order_id", "", &t!("expected.text"));
            return None;
        };
        let pieces = self.expand_parts(node, &raw, "shop_order_id", true, false)?;
        let has_repeat = pieces.contains(&Piece::Repeat);
        if has_repeat && repeat == Some(&None) {
            self.error(
                node,
                t!("scenario_check.repeat_template"),
                Some(t!("scenario_check.repeat_template_help").into_owned()),
            );
            return None;
        }
        if !has_repeat && render_id(&pieces, None).trim().is_empty() {
            self.error(
                node,
                t!("scenario_check.order_id_empty"),
                Some(t!("scenario_check.order_id_empty_help").into_owned()),
            );
            return None;
        }
        // The longest id is the last repetition's.
        let last = repeat.copied().flatten();
        let longest = render_id(&pieces, last);
        if longest.len() > MAX_SHOP_ORDER_ID_BYTES {
            let message = match last {
                Some(n) => t!(
                    "scenario_check.order_id_long_repeat",
                    bytes = longest.len(),
                    n = n,
                    limit = MAX_SHOP_ORDER_ID_BYTES
                ),
                None => t!(
                    "scenario_check.order_id_long",
                    bytes = longest.len(),
                    limit = MAX_SHOP_ORDER_ID_BYTES
                ),
            };
            let help = t!("scenario_check.order_id_long_help").into_owned();
            self.error(node, message, Some(help));
            return None;
        }
        Some(pieces)
    }

    /// The shop to send as: `shop:` when given, else the carrier's test account.
    ///
    /// `shop:` holds the appsecret, so no message here quotes what is written under it (a
    /// key, a value, the shape it was written in): messages name keys and shapes only. What
    /// is there is also masked in every message of the file ([`super::secrets`]).
    pub(super) fn shop(
        &mut self,
        node: Option<&Node>,
        carrier: Option<&Carrier>,
    ) -> Option<(String, Secret)> {
        let node = match node {
            Some(node) if node.value != Value::Null => node,
            _ => {
                return carrier.map(|c| (c.account.shopid.clone(), c.account.appsecret.clone()));
            }
        };
        if !matches!(node.value, Value::Map(_)) {
            let found = node.kind();
            self.error(
                node,
                t!("scenario_check.shop_not_mapping", found = found),
                Some(t!("scenario_check.shop_not_mapping_help").into_owned()),
            );
            return None;
        }
        let fields = self.secret_fields(
            node,
            grammar::SHOP.allowed,
            &crate::base::i18n::in_key("shop", ""),
            "`shop`",
        )?;
        let shopid = match fields.given("shopid") {
            Some(value) => match value.as_text() {
                Some(raw) => match self.expand(value, &raw, "shopid", false) {
                    Some(id) if id.trim().is_empty() => {
                        self.error(value, t!("scenario_check.shopid_empty"), None);
                        None
                    }
                    other => other,
                },
                None => {
                    self.wrong_shape(
                        value,
                        "shopid",
                        &crate::base::i18n::in_key("shop", ""),
                        &t!("expected.text"),
                    );
                    None
                }
            },
            None if !fields.missing("shopid") => None,
            None => {
                let at = fields.key("shopid").unwrap_or(node);
                self.error(
                    at,
                    t!("scenario_check.no_shopid"),
                    Some(t!("scenario_check.no_shopid_help").into_owned()),
                );
                None
            }
        };
        let appsecret = match fields.given("appsecret") {
            Some(value) => {
                match value.as_text() {
                    Some(raw) => {
                        self.secrets.push(raw.clone());
                        match self.expand(value, &raw, "appsecret", true) {
                            Some(secret) if secret.is_empty() => {
                                self.error(
                                    value,
                                    t!("scenario_check.appsecret_empty"),
                                    Some(t!("carrier_file.appsecret_empty_help").into_owned()),
                                );
                                None
                            }
                            Some(secret) => Some(Secret::new(secret)),
                            None => None,
                        }
                    }
                    None => {
                        // Never quote what was written there: it may be the secret.
                        self.error(
                            value,
                            t!("scenario_check.appsecret_not_text"),
                            Some(t!("scenario_check.appsecret_not_text_help").into_owned()),
                        );
                        None
                    }
                }
            }
            None if !fields.missing("appsecret") => None,
            None => match carrier {
                Some(c) if c.call == Call::Realmock => {
                    let at = fields.key("appsecret").unwrap_or(node);
                    self.error(
                        at,
                        t!("scenario_check.no_appsecret", carrier = c.id),
                        Some(t!("scenario_check.no_appsecret_help").into_owned()),
                    );
                    None
                }
                Some(c) => Some(c.account.appsecret.clone()),
                // The carrier is unknown, already reported.
                None => None,
            },
        };
        Some((shopid?, appsecret?))
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::testing::{carriers, check_with, ctx, errors, ok, one, tempdir, write};
    use crate::scenario::{LoadContext, MAX_SHOP_ORDER_ID_BYTES, load_plan};

    #[test]
    fn shop_order_ids_must_be_short_and_not_empty() {
        let long = "x".repeat(MAX_SHOP_ORDER_ID_BYTES);
        ok(&format!(
            "carrier: dada\nshop_order_id: {long}\nsteps: [{{status: 102}}]\n"
        ));
        let errs = errors(&format!(
            "carrier: dada\nshop_order_id: {long}{{{{run_id}}}}\nsteps: [{{status: 102}}]\n"
        ));
        assert!(
            errs[0].contains("bytes after expansion; the limit is 128"),
            "{errs:#?}"
        );
        let errs = errors("carrier: dada\nshop_order_id: \"\"\nsteps: [{status: 102}]\n");
        assert!(errs[0].contains("`shop_order_id` is empty"), "{errs:#?}");
        let errs = errors("carrier: dada\nshop_order_id: \"a{{run_id\"\nsteps: [{status: 102}]\n");
        assert!(
            errs[0].contains("unclosed `{{` in `shop_order_id`"),
            "{errs:#?}"
        );
    }

    #[test]
    fn fixed_order_ids_are_flagged() {
        let mut ctx = ctx();
        ctx.env.insert("TPL".to_owned(), "{{run_id}}".to_owned());
        for (id, fixed) in [
            ("fixed-1", true),
            ("\"{{scenario}}\"", true),
            ("\"${TPL}\"", true),
            ("qa-{{run_id}}", false),
            ("\"{{uuid}}\"", false),
            ("t-{{timestamp}}", false),
            ("\"{{scenario}}-{{ run_id }}\"", false),
        ] {
            let text = format!("carrier: dada\nshop_order_id: {id}\nsteps: [{{status: 102}}]\n");
            match check_with(&text, &ctx) {
                Ok(plan) => assert_eq!(plan.fixed_order_id, fixed, "{id}"),
                Err(p) => panic!("{id}: {p:#?}"),
            }
        }
    }

    #[test]
    fn shop_needs_a_shopid_and_for_realmock_an_appsecret() {
        let plan = ok(
            "carrier: sandbox\nshop_order_id: x\nshop: {shopid: 12345}\nsteps: [{status: 102}]\n",
        );
        assert_eq!(plan.shopid, "12345");
        assert_eq!(plan.appsecret, plan.carrier.account.appsecret);
        let plan = ok(
            "carrier: dada\nshop_order_id: x\nshop: {shopid: \"007\", appsecret: abc}\nsteps: [{status: 102}]\n",
        );
        assert_eq!(
            (plan.shopid.as_str(), plan.appsecret.expose()),
            ("007", "abc")
        );
        let errs =
            errors("carrier: dada\nshop_order_id: x\nshop: {shopid: s}\nsteps: [{status: 102}]\n");
        assert!(
            errs[0]
                .contains("t.yaml:3:7: error: `shop` has no `appsecret`; dada updates are signed"),
            "{errs:#?}"
        );
        let errs = errors(
            "carrier: dada\nshop_order_id: x\nshop: {appsecret: abcdef, shop_no: 1}\nsteps: [{status: 102}]\n",
        );
        assert!(
            errs.iter().any(|e| e.contains("`shop` has no `shopid`")),
            "{errs:#?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.contains("unknown key in `shop` (not shown: it may hold a secret)")),
            "{errs:#?}"
        );
        let errs = errors("carrier: dada\nshop_order_id: x\nshop: dada\nsteps: [{status: 102}]\n");
        assert!(
            errs[0]
                .contains("`shop` must be a mapping, found text (not shown: it may hold a secret)"),
            "{errs:#?}"
        );
    }

    #[test]
    fn the_secret_never_appears_in_a_message() {
        let secret = "TOPSECRET-0123456789";
        let texts = [
            format!(
                "carrier: dada\nshop_order_id: {secret}\nshop:\n  shopid: s\n  appsecret: {secret}\nsteps: [{{status: 999}}]\n"
            ),
            format!(
                "carrier: dada\nshop_order_id: x\nshop:\n  shopid: s\n  appsecret: [{secret}]\nsteps: []\n"
            ),
            format!(
                "carrier: dada\nshop_order_id: x\nshop:\n  shopid: s\n  appsecret: \"{secret}${{UNSET_VAR}}\"\nsteps: [{{status: 999}}]\n"
            ),
            format!(
                "carrier: dada\nshop_order_id: x\nshop:\n  shopid: s\n  appsecret: {{{secret}: 1}}\nsteps: []\n"
            ),
        ];
        for text in &texts {
            let errs = errors(text);
            for e in &errs {
                assert!(!e.contains(secret), "{e}");
            }
        }
        let mut ctx = ctx();
        ctx.env.insert("S".to_owned(), secret.to_owned());
        let problems = match check_with(
            &format!(
                "carrier: dada\nshop_order_id: {secret}${{S}}-{{{{nope}}}}\nshop: {{shopid: s, appsecret: \"${{S}}\"}}\nsteps: [{{status: 102}}]\n"
            ),
            &ctx,
        ) {
            Ok(_) => panic!("accepted"),
            Err(p) => p,
        };
        for p in &problems {
            assert!(!p.to_string().contains(secret), "{p}");
        }
        assert!(!format!("{ctx:?}").contains(secret));
    }

    const LEAK: &str = "LeakyValue12345";

    /// The problems of `text` (which must fail) as printed, none of them quoting [`LEAK`].
    fn hidden(text: &str, ctx: &LoadContext) -> Vec<String> {
        let errs: Vec<String> = match check_with(text, ctx) {
            Ok(plan) => panic!("accepted: {plan:?}\n{text}"),
            Err(p) => p.iter().map(ToString::to_string).collect(),
        };
        for e in &errs {
            assert!(!e.contains(LEAK), "the secret is quoted:\n{e}\nin:\n{text}");
            assert!(!e.contains("Leaky"), "part of the secret is quoted:\n{e}");
        }
        errs
    }

    fn shop_scenario(shop: &str) -> String {
        format!("carrier: dada\nshop_order_id: x\nshop:{shop}\nsteps: [{{status: 102}}]\n")
    }

    #[test]
    fn fixture_shop_key_run_together() {
        let p = one(
            "shop_key_run_together.yaml",
            5,
            20,
            &[
                "unknown key in `shop` (not shown: it may hold a secret)",
                "it looks like `appsecret` run together with its value: write `appsecret: …`",
            ],
        );
        assert!(!p.to_string().contains(LEAK), "{p}");
    }

    #[test]
    fn nothing_under_shop_is_quoted_whatever_its_shape() {
        // The reviewer's cases: a key that swallowed its value, and `shop:` as a list.
        let errs = hidden(
            &shop_scenario(&format!(" {{shopid: s1, appsecret:{LEAK}}}")),
            &ctx(),
        );
        assert_eq!(
            errs.len(),
            1,
            "a run-together appsecret is not missing: {errs:#?}"
        );
        assert!(
            errs[0].starts_with(
                "t.yaml:3:20: error: unknown key in `shop` (not shown: it may hold a secret)"
            ),
            "{errs:#?}"
        );
        let errs = hidden(
            &shop_scenario(&format!("\n  - shopid: s1\n    appsecret: {LEAK}")),
            &ctx(),
        );
        assert_eq!(
            errs,
            [
                "t.yaml:4:3: error: `shop` must be a mapping, found a list (not shown: it may hold a secret)\n  help: write its keys under `shop:` without `- `, e.g. `shop: {shopid: my-shop, appsecret: ${SHOP_APPSECRET}}`"
            ]
        );
        // The appsecret as a number, as a nested mapping, as a list; `shop:` as text.
        for shop in [
            " [98765432101234567]".to_owned(),
            format!("\n  shopid: s1\n  appsecret:\n    {LEAK}: [1, {{a: {LEAK}}}]"),
            format!(" {{shopid: s1, appsecret: [{LEAK}, x]}}"),
            format!(" {LEAK}"),
            format!(" \"appsecret: {LEAK}\""),
            format!(" {{shopid: [{LEAK}], appsecret: {LEAK}}}"),
            format!(" {{shopid: s1, appsecret: {LEAK}, {{{LEAK}: 1}}: 2, [{LEAK}]: 3}}"),
            format!(" {{shopid: s1, appsecret = {LEAK}: 1}}"),
        ] {
            let errs = hidden(&shop_scenario(&shop), &ctx());
            assert!(
                errs.iter().any(|e| e.contains("not shown")),
                "{shop}: {errs:#?}"
            );
        }
        for text in [
            "carrier: dada\nshop_order_id: x\nshop: [98765432101234567]\nsteps: [{status: 102}]\n",
            // A number is a fine appsecret; written again where a check quotes it, it is masked.
            "carrier: dada\nshop_order_id: x\nshop: {shopid: s1, appsecret: 98765432101234567}\nsteps: [{status: 98765432101234567}]\n",
        ] {
            let errs = hidden(text, &ctx());
            assert!(
                errs.iter().all(|e| !e.contains("98765432101234567")),
                "{errs:#?}"
            );
        }
        // A plain typo keeps its "did you mean", and is not reported again as missing.
        let errs = hidden(
            &shop_scenario(&format!(" {{shopid: s1, appsecert: {LEAK}}}")),
            &ctx(),
        );
        assert_eq!(
            errs,
            [
                "t.yaml:3:20: error: unknown key in `shop` (not shown: it may hold a secret)\n  help: did you mean `appsecret`? allowed keys in `shop`: shopid, appsecret"
            ]
        );
        // The secret written elsewhere in the file is masked too.
        let errs = hidden(
            &format!(
                "carrier: dada\nshop_order_id: x\nshop:\n  - appsecret: {LEAK}\nsteps: [{{status: {LEAK}}}]\n"
            ),
            &ctx(),
        );
        assert!(errs[1].contains("unknown status `***`"), "{errs:#?}");
        // Even where a long value is cut short with `…` in the middle of the secret.
        let errs = hidden(
            &format!(
                "carrier: dada\nshop_order_id: x\nshop:\n  - appsecret: {LEAK}\nsteps: [{{status: 102, action_msg: [{}, {LEAK}]}}]\n",
                "x".repeat(50)
            ),
            &ctx(),
        );
        assert!(errs[1].ends_with(", ***…`"), "{errs:#?}");
    }

    #[test]
    fn secrets_read_from_the_environment_are_never_quoted() {
        let mut ctx = ctx();
        let long = format!("{LEAK}-{}", "x".repeat(MAX_SHOP_ORDER_ID_BYTES));
        ctx.env.insert("SHOP_SECRET".to_owned(), long.clone());
        // The variable's value breaks the order id's length, and is written as a status too.
        let errs = hidden(
            &format!(
                "carrier: dada\nshop_order_id: ${{SHOP_SECRET}}\nshop:\n  - shopid: s1\n    appsecret: ${{SHOP_SECRET}}\nsteps: [{{status: {long}}}]\n"
            ),
            &ctx,
        );
        assert!(errs[0].contains("bytes after expansion"), "{errs:#?}");
        assert!(errs[2].contains("unknown status `***`"), "{errs:#?}");
        // A mapping `shop:` with a value from the environment, and a problem elsewhere.
        let errs = hidden(
            &format!(
                "carrier: dada\nshop_order_id: x\nshop: {{shopid: s1, appsecret: \"${{SHOP_SECRET}}\"}}\nsteps: [{{status: {long}}}]\n"
            ),
            &ctx,
        );
        assert_eq!(errs.len(), 1, "{errs:#?}");
        // A secret written where the variable's name belongs.
        for appsecret in [format!("\"${{{LEAK}}}\""), format!("\"${{{LEAK} 1}}\"")] {
            let errs = hidden(
                &shop_scenario(&format!(" {{shopid: s1, appsecret: {appsecret}}}")),
                &ctx,
            );
            assert!(errs[0].contains("not shown"), "{errs:#?}");
        }
        // A variable in capitals is named, as before.
        let errs = hidden(
            &shop_scenario(" {shopid: s1, appsecret: \"${NOT_SET_HERE}\"}"),
            &ctx,
        );
        assert!(
            errs[0]
                .contains("environment variable `NOT_SET_HERE` is not set (used in `appsecret`)"),
            "{errs:#?}"
        );
    }

    #[test]
    fn a_secret_in_order_is_masked() {
        let errs = hidden(
            &format!(
                "carrier: dada\nshop_order_id: x\norder:\n  shop: {{appsecret: {{[{LEAK}]: 1}}, app_secret: {{{LEAK}: 1, {LEAK}: 2}}}}\nsteps: [{{status: 102}}]\n"
            ),
            &ctx(),
        );
        assert!(
            errs[0].contains(
                "keys in `appsecret` in `order.shop` must be text, found the list `[***]`"
            ),
            "{errs:#?}"
        );
        assert!(errs[1].contains("duplicate key `***`"), "{errs:#?}");
    }

    #[test]
    fn load_plan_prints_no_secret() {
        let dir = tempdir();
        let path = dir.path().join("leaky.yaml");
        let mut problems = Vec::new();
        for shop in [
            format!(" {{shopid: s1, appsecret:{LEAK}}}"),
            format!("\n  - shopid: s1\n    appsecret: {LEAK}"),
        ] {
            write(&path, &shop_scenario(&shop));
            match load_plan(std::slice::from_ref(&path), &carriers(), &ctx()) {
                Ok(plan) => panic!("loaded: {plan:?}"),
                Err(p) => problems.extend(p),
            }
        }
        assert_eq!(problems.len(), 2, "{problems:#?}");
        for p in &problems {
            let text = p.to_string();
            assert!(text.contains("leaky.yaml:"), "{text}");
            assert!(text.contains("not shown: it may hold a secret"), "{text}");
            assert!(!text.contains(LEAK), "{text}");
            assert!(!format!("{p:?}").contains(LEAK), "{p:?}");
        }
    }
}
