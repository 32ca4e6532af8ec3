//! The keys of one mapping of a located YAML tree ([`crate::base::yaml::parse_tree`]): known
//! ones found, unknown and duplicate ones reported with a suggestion. Files checked by hand
//! (scenarios, the carrier table) read every mapping through here, so that all their problems
//! are reported at once and in the same words.

use rust_i18n::t;
use std::collections::{BTreeMap, BTreeSet};

use crate::base::diag::{Diagnostic, did_you_mean};
use crate::base::yaml::{Node, Value};

/// How a mapping is named in messages, and what it may hold.
pub struct Keys<'a> {
    pub allowed: &'a [&'static str],
    /// After a key in messages: "" or " in step 2".
    pub place: &'a str,
    /// After "allowed keys" in the help: "" or " in a step".
    pub within: &'a str,
    /// The mapping itself, when it is not one: "a scenario", "`order`".
    pub what: &'a str,
    /// It holds a secret (`shop:`, a carrier's `account:`): unknown keys and values are
    /// described, never quoted, since `appsecret:abc` (no space) is one key holding the
    /// secret. A plain typo (`appsecert`) still gets its "did you mean".
    pub secret: bool,
}

/// The keys of one mapping that the checks know, each with its key and value nodes.
pub struct Fields<'n> {
    pub found: BTreeMap<&'static str, (&'n Node, &'n Node)>,
    /// Known keys that an unknown key was probably meant to be (`stauts` → `status`): not
    /// reported again as missing.
    suggested: BTreeSet<&'static str>,
}

impl<'n> Fields<'n> {
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.found.get(key).map(|(_, value)| *value)
    }

    /// The value, unless absent or written as nothing (`key:` / `key: ~`).
    pub fn given(&self, key: &str) -> Option<&'n Node> {
        self.get(key).filter(|v| v.value != Value::Null)
    }

    pub fn key(&self, key: &str) -> Option<&'n Node> {
        self.found.get(key).map(|(k, _)| *k)
    }

    /// Whether a missing `key` is worth reporting (no misspelt key stands in for it).
    pub fn missing(&self, key: &str) -> bool {
        self.given(key).is_none() && !self.suggested.contains(key)
    }
}

/// A problem at a node of `file`.
pub fn located(
    file: &str,
    at: &Node,
    message: impl Into<String>,
    help: Option<String>,
) -> Diagnostic {
    let d = Diagnostic::new(file, at.line, at.column, message);
    match help {
        Some(help) => d.with_help(help),
        None => d,
    }
}

/// Whether a key is a plain name (letters, digits, `_`, `-`): a typo at most, with nothing
/// written after it.
pub fn is_plain(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Whether a mapping key names a secret (`appsecret`, `AppSecret`, `app_secret:…`).
pub fn names_secret(key: &str) -> bool {
    key.to_ascii_lowercase().contains("secret")
}

/// Whether an unknown key reads like a credential rather than a mistyped name: long, and
/// with more digits than a name has (`d80400f91e156f63b38886e616d84590` written where a key
/// belongs came back in "unknown key `…`").
/// Also a run of 12 or more letters and digits with at least two digits and no word breaks
/// (`q9Wz7TtP1mKdLr8`): our keys are words joined by `_`.
fn looks_like_a_key(name: &str) -> bool {
    let length = name.chars().count();
    let digits = name.chars().filter(char::is_ascii_digit).count();
    let one_run = name.chars().all(|c| c.is_ascii_alphanumeric());
    (length >= 16 && digits >= 4) || (length >= 12 && digits >= 2 && one_run)
}

/// Reads a mapping's keys into [`Fields`], adding to `problems` its unknown and duplicate
/// keys; `None` when `node` is not a mapping (reported as `keys.what` must be a mapping).
///
/// An unknown key that names a secret and holds more than a name (`appsecret:abc`) is never
/// quoted, in any mapping: it is the secret run together with its key.
pub fn read<'n>(
    node: &'n Node,
    keys: &Keys<'_>,
    file: &str,
    problems: &mut Vec<Diagnostic>,
) -> Option<Fields<'n>> {
    let Keys {
        allowed,
        place,
        within,
        what,
        secret,
    } = *keys;
    let Value::Map(entries) = &node.value else {
        let found = if secret {
            t!("value.hidden", kind = node.kind()).into_owned()
        } else {
            node.describe()
        };
        problems.push(located(
            file,
            node,
            t!("fields.not_a_mapping", what = what, found = found),
            None,
        ));
        return None;
    };
    let mut found: BTreeMap<&'static str, (&'n Node, &'n Node)> = BTreeMap::new();
    let mut suggested = BTreeSet::new();
    for (key, value) in entries {
        let name = key.as_text().unwrap_or_else(|| key.shown());
        let list = allowed.join(", ");
        match allowed.iter().find(|a| **a == name) {
            Some(known) => {
                if let Some((first, _)) = found.get(known) {
                    let first_line = first.line;
                    problems.push(located(
                        file,
                        key,
                        t!(
                            "fields.duplicate_key",
                            key = name,
                            place = place,
                            line = first_line
                        ),
                        Some(t!("fields.duplicate_key_help").into_owned()),
                    ));
                } else {
                    found.insert(known, (key, value));
                }
            }
            // A key naming a secret (`MyAppSecret`) is hidden too: it may be one, and the
            // help still says which key was meant.
            None if secret || names_secret(&name) || looks_like_a_key(&name) => {
                let help = match secret_key_typo(key, allowed) {
                    Some(KeyTypo::Spelling(s)) => {
                        suggested.insert(s);
                        t!("fields.did_you_mean", key = s, within = within, list = list)
                    }
                    Some(KeyTypo::RunTogether(s)) => {
                        suggested.insert(s);
                        t!("fields.run_together", key = s, within = within, list = list)
                    }
                    None => t!("fields.allowed", within = within, list = list),
                };
                problems.push(located(
                    file,
                    key,
                    t!("fields.unknown_key_hidden", place = place),
                    Some(help.into_owned()),
                ));
            }
            None => {
                let help = match did_you_mean(&name, allowed.iter().copied()) {
                    Some(s) => {
                        suggested.insert(s);
                        t!("fields.did_you_mean", key = s, within = within, list = list)
                    }
                    None => t!("fields.allowed", within = within, list = list),
                };
                problems.push(located(
                    file,
                    key,
                    t!("fields.unknown_key", key = name, place = place),
                    Some(help.into_owned()),
                ));
            }
        }
    }
    Some(Fields { found, suggested })
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
    use super::*;
    use crate::base::yaml::parse_tree;

    fn read_all(text: &str, secret: bool) -> (Vec<&'static str>, Vec<String>) {
        let root = match parse_tree(text, "t.yaml") {
            Ok(root) => root,
            Err(d) => panic!("{d}"),
        };
        let keys = Keys {
            allowed: &["shopid", "appsecret"],
            place: " in `account`",
            within: " in `account`",
            what: "`account`",
            secret,
        };
        let mut problems = Vec::new();
        let found = read(&root, &keys, "t.yaml", &mut problems)
            .map(|f| f.found.keys().copied().collect())
            .unwrap_or_default();
        (found, problems.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn unknown_duplicate_and_misspelt_keys() {
        let (found, p) = read_all("shopid: a\nshopdi: b\nshopid: c\n", false);
        assert_eq!(found, ["shopid"]);
        assert_eq!(p.len(), 2, "{p:#?}");
        assert!(
            p[0].starts_with("t.yaml:2:1: error: unknown key `shopdi` in `account`"),
            "{p:#?}"
        );
        assert!(p[0].contains("did you mean `shopid`?"), "{p:#?}");
        assert!(
            p[1].contains(
                "t.yaml:3:1: error: duplicate key `shopid` in `account` (first written at line 1)"
            ),
            "{p:#?}"
        );
        let (_, p) = read_all("[a]\n", false);
        assert_eq!(
            p,
            ["t.yaml:1:1: error: `account` must be a mapping, found the list `[a]`"]
        );
    }

    #[test]
    fn keys_that_may_be_secrets_are_never_quoted() {
        for key in [
            "q9Wz7TtP1mKdLr8",
            "SecretSauceXyz",
            "MyAppSecret",
            "CARSECRET8",
        ] {
            let (_, problems) = read_all(&format!("{key}: 1\n"), false);
            assert_eq!(problems.len(), 1, "{key}: {problems:#?}");
            assert!(!problems[0].contains(key), "{key}: {problems:#?}");
        }
        let (_, problems) = read_all("delivery_idd: 1\n", false);
        assert!(problems[0].contains("delivery_idd"), "{problems:#?}");
    }

    #[test]
    fn a_secret_run_together_with_its_key_is_never_quoted() {
        for secret in [false, true] {
            let (_, p) = read_all("shopid: a\nappsecret:LeakyValue12345: x\n", secret);
            assert_eq!(p.len(), 1, "{p:#?}");
            assert!(!p[0].contains("LeakyValue12345"), "{p:#?}");
            assert!(p[0].contains("(not shown: it may hold a secret)"), "{p:#?}");
            assert!(p[0].contains("`appsecret` run together"), "{p:#?}");
        }
        let (_, p) = read_all("appsecert: x\n", true);
        assert!(p[0].contains("did you mean `appsecret`?"), "{p:#?}");
        let (_, p) = read_all("s3cr3tvalue: x\n", true);
        assert!(!p[0].contains("s3cr3tvalue"), "{p:#?}");
    }
}
