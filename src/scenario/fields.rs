//! The keys of one mapping: known ones found, unknown and duplicate ones reported (with a
//! suggestion), and the wording of problems with a value's type.

use std::collections::{BTreeMap, BTreeSet};

use super::Checker;
use super::secrets::is_plain;
use crate::base::diag::{Diagnostic, did_you_mean};
use crate::base::yaml::{Node, Value};

/// The keys of one mapping that the checks know, each with its key and value nodes.
pub(super) struct Fields<'n> {
    pub(super) found: BTreeMap<&'static str, (&'n Node, &'n Node)>,
    /// Known keys that an unknown key was probably meant to be (`stauts` → `status`): not
    /// reported again as missing.
    suggested: BTreeSet<&'static str>,
}

impl<'n> Fields<'n> {
    pub(super) fn get(&self, key: &str) -> Option<&'n Node> {
        self.found.get(key).map(|(_, value)| *value)
    }

    /// The value, unless absent or written as nothing (`key:` / `key: ~`).
    pub(super) fn given(&self, key: &str) -> Option<&'n Node> {
        self.get(key).filter(|v| v.value != Value::Null)
    }

    pub(super) fn key(&self, key: &str) -> Option<&'n Node> {
        self.found.get(key).map(|(k, _)| *k)
    }

    /// Whether a missing `key` is worth reporting (no misspelt key stands in for it).
    pub(super) fn missing(&self, key: &str) -> bool {
        self.given(key).is_none() && !self.suggested.contains(key)
    }
}

impl Checker<'_> {
    pub(super) fn error(&mut self, at: &Node, message: impl Into<String>, help: Option<String>) {
        let d = Diagnostic::new(self.file, at.line, at.column, message);
        self.problems.push(match help {
            Some(help) => d.with_help(help),
            None => d,
        });
    }

    /// "`key`{place} must be {expected}, found …".
    pub(super) fn wrong_type(&mut self, value: &Node, key: &str, place: &str, expected: &str) {
        let found = value.describe();
        self.error(
            value,
            format!("`{key}`{place} must be {expected}, found {found}"),
            None,
        );
    }

    /// "`key`{place} must be {expected}, found a list (…)": for a value that may hold a
    /// secret, named by its shape only.
    pub(super) fn wrong_shape(&mut self, value: &Node, key: &str, place: &str, expected: &str) {
        let found = value.kind();
        self.error(
            value,
            format!(
                "`{key}`{place} must be {expected}, found {found} (not shown: it may hold a secret)"
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
        self.read_fields(node, allowed, place, within, what, false)
    }

    /// [`Self::fields`] of a mapping that holds a secret (`shop:`): unknown keys and values
    /// are described, never quoted, since `appsecret:abc` (no space) is one key holding the
    /// secret. A plain typo (`appsecert`) still gets its "did you mean".
    pub(super) fn secret_fields<'n>(
        &mut self,
        node: &'n Node,
        allowed: &[&'static str],
        place: &str,
        what: &str,
    ) -> Option<Fields<'n>> {
        self.read_fields(node, allowed, place, place, what, true)
    }

    fn read_fields<'n>(
        &mut self,
        node: &'n Node,
        allowed: &[&'static str],
        place: &str,
        within: &str,
        what: &str,
        secret: bool,
    ) -> Option<Fields<'n>> {
        let Value::Map(entries) = &node.value else {
            let found = if secret {
                format!("{} (not shown: it may hold a secret)", node.kind())
            } else {
                node.describe()
            };
            self.error(
                node,
                format!("{what} must be a mapping, found {found}"),
                None,
            );
            return None;
        };
        let mut found: BTreeMap<&'static str, (&'n Node, &'n Node)> = BTreeMap::new();
        let mut suggested = BTreeSet::new();
        for (key, value) in entries {
            let name = key.as_text().unwrap_or_else(|| key.shown());
            match allowed.iter().find(|a| **a == name) {
                Some(known) => {
                    if let Some((first, _)) = found.get(known) {
                        let first_line = first.line;
                        self.error(
                            key,
                            format!(
                                "duplicate key `{name}`{place} (first written at line {first_line})"
                            ),
                            Some("each key may appear once; remove one of them".to_owned()),
                        );
                    } else {
                        found.insert(known, (key, value));
                    }
                }
                None if secret => {
                    let list = allowed.join(", ");
                    let help = match secret_key_typo(key, allowed) {
                        Some(KeyTypo::Spelling(s)) => {
                            suggested.insert(s);
                            format!("did you mean `{s}`? allowed keys{within}: {list}")
                        }
                        Some(KeyTypo::RunTogether(s)) => {
                            suggested.insert(s);
                            format!(
                                "it looks like `{s}` run together with its value: write `{s}: …` (a space after the colon); allowed keys{within}: {list}"
                            )
                        }
                        None => format!("allowed keys{within}: {list}"),
                    };
                    self.error(
                        key,
                        format!("unknown key{place} (not shown: it may hold a secret)"),
                        Some(help),
                    );
                }
                None => {
                    let list = allowed.join(", ");
                    let help = match did_you_mean(&name, allowed.iter().copied()) {
                        Some(s) => {
                            suggested.insert(s);
                            format!("did you mean `{s}`? allowed keys{within}: {list}")
                        }
                        None => format!("allowed keys{within}: {list}"),
                    };
                    self.error(key, format!("unknown key `{name}`{place}"), Some(help));
                }
            }
        }
        Some(Fields { found, suggested })
    }
}

/// What an unknown key of a mapping that holds a secret was probably meant to be.
enum KeyTypo {
    /// A plain name close to an allowed key: `appsecert`.
    Spelling(&'static str),
    /// An allowed key (or one close to it) with its value run on: `appsecret:abc`.
    RunTogether(&'static str),
}

fn secret_key_typo(key: &Node, allowed: &[&'static str]) -> Option<KeyTypo> {
    let name = key.as_text()?;
    if is_plain(&name) {
        return did_you_mean(&name, allowed.iter().copied()).map(KeyTypo::Spelling);
    }
    let head = name.split([':', '=', ' ', '\t']).next()?.trim();
    if !is_plain(head) {
        return None;
    }
    did_you_mean(head, allowed.iter().copied()).map(KeyTypo::RunTogether)
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
