//! `expect:` — what answer a step must get: ok, rejected, or an exact errcode or resultcode.

use super::Checker;
use super::grammar::{EXPECT_CODES, EXPECT_WORDS};
use crate::base::diag::did_you_mean;
use crate::base::yaml::{Node, Value};
use crate::model::plan::Expect;
use rust_i18n::t;

/// "expect: ok (the default), rejected (…), {errcode: N} or {resultcode: N}", for help lines.
pub(super) fn expect_forms() -> String {
    t!("expect.forms").into_owned()
}

impl Checker<'_> {
    pub(super) fn expect(&mut self, value: &Node, place: &str) -> Option<Expect> {
        match &value.value {
            Value::Str(word) => match word.trim() {
                "ok" => Some(Expect::Ok),
                "rejected" => Some(Expect::Rejected),
                other => {
                    let help = match did_you_mean(other, EXPECT_WORDS) {
                        Some(s) => {
                            t!("expect.did_you_mean", word = s, forms = expect_forms()).into_owned()
                        }
                        None => expect_forms(),
                    };
                    self.error(
                        value,
                        t!("expect.unknown", word = other, place = place),
                        Some(help),
                    );
                    None
                }
            },
            Value::Map(_) => {
                let expect_place = crate::base::i18n::in_key("expect", place);
                let fields = self.fields(
                    value,
                    &EXPECT_CODES,
                    &expect_place,
                    &crate::base::i18n::in_key("expect", ""),
                    "`expect`",
                )?;
                let errcode = fields.given("errcode");
                let resultcode = fields.given("resultcode");
                let (key, code_node) = match (errcode, resultcode) {
                    (Some(e), None) => ("errcode", e),
                    (None, Some(r)) => ("resultcode", r),
                    (Some(_), Some(r)) => {
                        self.error(
                            r,
                            t!("expect.both", place = place),
                            Some(t!("expect.both_help", forms = expect_forms()).into_owned()),
                        );
                        return None;
                    }
                    (None, None) => {
                        if !fields.found.is_empty()
                            || matches!(&value.value, Value::Map(e) if e.is_empty())
                        {
                            self.error(
                                value,
                                t!("expect.neither", place = place),
                                Some(expect_forms()),
                            );
                        }
                        return None;
                    }
                };
                match code_node.value {
                    Value::Int(code) => match i64::try_from(code) {
                        Ok(code) if key == "errcode" => Some(Expect::Errcode(code)),
                        Ok(code) => Some(Expect::Resultcode(code)),
                        Err(_) => {
                            self.wrong_type(
                                code_node,
                                key,
                                &expect_place,
                                &t!("expected.whole_number"),
                            );
                            None
                        }
                    },
                    _ => {
                        self.wrong_type(
                            code_node,
                            key,
                            &expect_place,
                            &t!("expected.whole_number"),
                        );
                        None
                    }
                }
            }
            _ => {
                self.wrong_type(value, "expect", place, &t!("expected.expect"));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::plan::Expect;
    use crate::scenario::testing::{errors, ok, one};

    #[test]
    fn fixture_bad_expect() {
        one(
            "bad_expect.yaml",
            8,
            13,
            &[
                "unknown expectation `reject` in step 2",
                "did you mean `rejected`?",
            ],
        );
    }

    #[test]
    fn expectations_in_every_form() {
        let plan = ok(
            "carrier: sandbox\nshop_order_id: x\nsteps:\n  - {status: 102, expect: ok}\n  - {status: 302, expect: rejected, skip_transition_check: true}\n  - {status: 302, expect: {resultcode: 2003}, skip_transition_check: true}\n  - {status: 103, expect: {errcode: -1}}\n  - {status: 201}\n",
        );
        let e: Vec<Expect> = plan.steps.iter().map(|s| s.expect).collect();
        assert_eq!(
            e,
            [
                Expect::Ok,
                Expect::Rejected,
                Expect::Resultcode(2003),
                Expect::Errcode(-1),
                Expect::Ok
            ]
        );
        // Steps expecting a refusal leave the order at 102, so 201 is allowed after them.
        let errs = errors(
            "carrier: sandbox\nshop_order_id: x\nsteps:\n  - {status: 102, expect: {errcode: x}}\n  - {status: 102, skip_transition_check: true, expect: {errcode: 1, resultcode: 2}}\n  - {status: 102, skip_transition_check: true, expect: {}}\n  - {status: 102, skip_transition_check: true, expect: [ok]}\n  - {status: 102, skip_transition_check: true, expect: {errocde: 1}}\n",
        );
        assert!(
            errs[0].contains(
                "`errcode` in `expect` in step 1 must be a whole number, found the text `x`"
            ),
            "{errs:#?}"
        );
        assert!(
            errs[1].contains("gives both `errcode` and `resultcode`"),
            "{errs:#?}"
        );
        assert!(
            errs[2].contains("needs `errcode` or `resultcode`"),
            "{errs:#?}"
        );
        assert!(
            errs[3].contains("`expect` in step 4 must be ok, rejected"),
            "{errs:#?}"
        );
        assert!(
            errs[4].contains("unknown key `errocde` in `expect` in step 5"),
            "{errs:#?}"
        );
        assert!(errs[4].contains("did you mean `errcode`?"), "{errs:#?}");
        assert_eq!(errs.len(), 5, "{errs:#?}");
    }
}
