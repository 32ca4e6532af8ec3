//! `${VAR}` (the environment, read by [`crate::base::env`]) and `{{run_id}}`-style templates
//! in the values of a scenario.

use super::Checker;
use crate::base::diag::did_you_mean;
use crate::base::env;
use crate::base::yaml::Node;
use rust_i18n::t;

pub(super) const TEMPLATES: [&str; 5] = ["run_id", "uuid", "scenario", "timestamp", "repeat"];
/// Templates that change from run to run: an id without any of them is the same every run.
pub(super) const FRESH_TEMPLATES: [&str; 3] = ["run_id", "uuid", "timestamp"];

/// A `shop_order_id` with `${VAR}` and the per-run templates expanded, and `{{repeat}}`
/// still open.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Piece {
    Text(String),
    Repeat,
}

/// The order id of repetition `k` (of `repeat:`, or None without): `{{repeat}}` becomes `k`;
/// an id without `{{repeat}}` gets `-k` at the end.
pub(super) fn render_id(pieces: &[Piece], k: Option<u32>) -> String {
    let mut out = String::new();
    let mut repeated = false;
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Repeat => {
                repeated = true;
                if let Some(k) = k {
                    out.push_str(&k.to_string());
                }
            }
        }
    }
    if let (false, Some(k)) = (repeated, k) {
        out.push_str(&format!("-{k}"));
    }
    out
}

impl Checker<'_> {
    /// Expands `${VAR}` in one value. Every problem in it is reported; `None` if there was
    /// one. A `secret` value's expansion is remembered for redaction, and never quoted.
    pub(super) fn expand(
        &mut self,
        node: &Node,
        raw: &str,
        key: &str,
        secret: bool,
    ) -> Option<String> {
        let pieces = self.expand_parts(node, raw, key, false, secret)?;
        Some(render_id(&pieces, None))
    }

    /// Expands `${VAR}` (and, when `templates`, `{{run_id}}` and friends, leaving
    /// `{{repeat}}` open) in one value. Every problem in it is reported; `None` if there was
    /// one. A `secret` value's expansion is remembered for redaction, and never quoted.
    pub(super) fn expand_parts(
        &mut self,
        node: &Node,
        raw: &str,
        key: &str,
        templates: bool,
        secret: bool,
    ) -> Option<Vec<Piece>> {
        let mut pieces = Vec::new();
        let mut out = String::new();
        let mut ok = true;
        for piece in env::pieces(raw, &self.ctx.env, key, secret, templates) {
            match piece {
                env::Piece::Text(text) => out.push_str(text),
                env::Piece::Var(value) => {
                    if secret {
                        self.secrets.push(value.to_owned());
                    }
                    out.push_str(value);
                }
                env::Piece::Problem(problem) => {
                    self.error(node, problem.message, Some(problem.help));
                    ok = false;
                }
                env::Piece::UnclosedTemplate => {
                    self.error(
                        node,
                        format!("unclosed `{{{{` in `{key}`"),
                        Some(format!("templates: {}", template_list())),
                    );
                    ok = false;
                }
                env::Piece::Template(name) => {
                    if let Some(known) = TEMPLATES.iter().find(|t| **t == name) {
                        self.templates_used.insert(known);
                    }
                    match name {
                        "repeat" => {
                            pieces.push(Piece::Text(std::mem::take(&mut out)));
                            pieces.push(Piece::Repeat);
                        }
                        "run_id" => out.push_str(&self.ctx.run_id),
                        "uuid" => {
                            let uuid = self
                                .uuid
                                .get_or_insert_with(|| uuid::Uuid::new_v4().to_string());
                            out.push_str(uuid);
                        }
                        "scenario" => out.push_str(self.stem),
                        "timestamp" => out.push_str(&self.ctx.timestamp.to_string()),
                        other => {
                            let list = template_list();
                            let help = match did_you_mean(other, TEMPLATES) {
                                Some(s) => t!("template.did_you_mean", name = s, list = list),
                                None => t!("template.list", list = list),
                            };
                            self.error(
                                node,
                                t!("template.unknown", name = other, key = key),
                                Some(help.into_owned()),
                            );
                            ok = false;
                        }
                    }
                }
            }
        }
        pieces.push(Piece::Text(out));
        ok.then_some(pieces)
    }
}

fn template_list() -> String {
    TEMPLATES
        .iter()
        .map(|t| format!("{{{{{t}}}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use crate::scenario::testing::{check_with, ctx, errors, ok, one};

    #[test]
    fn fixture_unknown_template() {
        one(
            "unknown_template.yaml",
            3,
            16,
            &[
                "unknown template `{{runid}}` in `shop_order_id`",
                "did you mean `{{run_id}}`?",
                "templates: {{run_id}}, {{uuid}}, {{scenario}}, {{timestamp}}, {{repeat}}",
            ],
        );
    }

    #[test]
    fn fixture_missing_variable() {
        one(
            "missing_variable.yaml",
            6,
            14,
            &["environment variable `SIMULATE_TEST_SURELY_UNSET` is not set (used in `appsecret`)"],
        );
    }

    #[test]
    fn templates_expand_per_run_and_per_scenario() {
        let plan = ok(
            "carrier: dada\nshop_order_id: \"{{scenario}}-{{ run_id }}-{{timestamp}}-{{uuid}}-{{uuid}}\"\nsteps: [{status: 102}]\n",
        );
        let id = plan.shop_order_id;
        assert!(id.starts_with("t-20261128-221530-ab12-1795904130-"), "{id}");
        let uuids = &id["t-20261128-221530-ab12-1795904130-".len()..];
        assert_eq!(uuids.len(), 36 * 2 + 1, "{id}");
        assert_eq!(&uuids[..36], &uuids[37..], "one uuid per scenario");
        let other = ok("carrier: dada\nshop_order_id: \"{{uuid}}\"\nsteps: [{status: 102}]\n");
        assert_ne!(
            other.shop_order_id,
            uuids[..36],
            "a fresh uuid for each scenario"
        );
    }

    #[test]
    fn variables_expand_and_missing_ones_are_named() {
        let mut ctx = ctx();
        ctx.env.insert("SHOP".to_owned(), "shop-1".to_owned());
        ctx.env
            .insert("SECRET".to_owned(), "s3cr3t-value-from-env".to_owned());
        ctx.env.insert("WHO".to_owned(), "张三".to_owned());
        ctx.env.insert("TPL".to_owned(), "{{run_id}}".to_owned());
        let text = "carrier: dada\nshop_order_id: ${SHOP}-{{run_id}}-${TPL}\nshop:\n  shopid: ${SHOP}\n  appsecret: ${SECRET}\nsteps:\n  - status: 102\n    action_msg: 骑手${WHO}已接单 $5\n";
        let plan = match check_with(text, &ctx) {
            Ok(plan) => plan,
            Err(p) => panic!("{p:#?}"),
        };
        // Expanded values are not expanded again.
        assert_eq!(plan.shop_order_id, "shop-1-20261128-221530-ab12-{{run_id}}");
        assert_eq!(plan.shopid, "shop-1");
        assert_eq!(plan.appsecret.expose(), "s3cr3t-value-from-env");
        assert_eq!(plan.steps[0].action_msg, "骑手张三已接单 $5");
        let errs = errors(
            "carrier: dada\nshop_order_id: ${NOPE_A}-${NOPE_B}\nsteps:\n  - {status: 102, action_msg: \"${1BAD} ${OPEN\"}\n",
        );
        assert!(
            errs[0].contains("`NOPE_A` is not set (used in `shop_order_id`)"),
            "{errs:#?}"
        );
        assert!(errs[1].contains("`NOPE_B` is not set"), "{errs:#?}");
        assert!(
            errs[2].contains("`${1BAD}` in `action_msg` is not a variable name"),
            "{errs:#?}"
        );
        assert!(
            errs[3].contains("unclosed `${` in `action_msg`"),
            "{errs:#?}"
        );
    }
}
