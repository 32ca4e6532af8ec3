//! The keys of one mapping (read by [`crate::base::fields`]) and the wording of problems with
//! a value's type, as the scenario checks report them.

use super::Checker;
use crate::base::fields::{self, Keys};
use crate::base::yaml::Node;
use rust_i18n::t;

pub(super) use crate::base::fields::Fields;

impl Checker<'_> {
    pub(super) fn error(&mut self, at: &Node, message: impl Into<String>, help: Option<String>) {
        self.problems
            .push(fields::located(self.file, at, message, help));
    }

    /// "`key`{place} must be {expected}, found …".
    pub(super) fn wrong_type(&mut self, value: &Node, key: &str, place: &str, expected: &str) {
        let found = value.describe();
        self.error(
            value,
            t!(
                "fields.wrong_type",
                key = key,
                place = place,
                expected = expected,
                found = found
            ),
            None,
        );
    }

    /// "`key`{place} must be {expected}, found a list (…)": for a value that may hold a
    /// secret, named by its shape only.
    pub(super) fn wrong_shape(&mut self, value: &Node, key: &str, place: &str, expected: &str) {
        let found = value.kind();
        self.error(
            value,
            t!(
                "fields.wrong_shape",
                key = key,
                place = place,
                expected = expected,
                found = found
            ),
            None,
        );
    }

    /// Reads a mapping's keys, reporting unknown and duplicate keys; `None` when `node` is
    /// not a mapping (reported as `what` must be a mapping).
    pub(super) fn fields<'n>(
        &mut self,
        node: &'n Node,
        allowed: &[&'static str],
        place: &str,
        within: &str,
        what: &str,
    ) -> Option<Fields<'n>> {
        let keys = Keys {
            allowed,
            place,
            within,
            what,
            secret: false,
        };
        fields::read(node, &keys, self.file, &mut self.problems)
    }

    /// [`Self::fields`] of a mapping that holds a secret (`shop:`): unknown keys and values
    /// are described, never quoted.
    pub(super) fn secret_fields<'n>(
        &mut self,
        node: &'n Node,
        allowed: &[&'static str],
        place: &str,
        what: &str,
    ) -> Option<Fields<'n>> {
        let keys = Keys {
            allowed,
            place,
            within: place,
            what,
            secret: true,
        };
        fields::read(node, &keys, self.file, &mut self.problems)
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::testing::one;

    #[test]
    fn fixture_unknown_key() {
        one(
            "unknown_key.yaml",
            7,
            5,
            &[
                "unknown key `stauts` in step 2",
                "did you mean `status`?",
                "allowed keys in a step: status, after",
            ],
        );
    }

    #[test]
    fn fixture_wrong_type() {
        one(
            "wrong_type.yaml",
            4,
            8,
            &["`steps` must be a list of steps, found the number `5`"],
        );
    }

    #[test]
    fn fixture_duplicate_key() {
        one(
            "duplicate_key.yaml",
            4,
            1,
            &["duplicate key `carrier` (first written at line 2)"],
        );
    }
}
