//! The texts of a scenario file that may be secrets, found in the tree before any check, so
//! that the redaction of messages ([`super::check_text`]) has them whatever shape `shop:` was
//! written in: a list, a mapping whose key swallowed its value (`appsecret:abc`), a number.
//!
//! Collected: every scalar (key or value) under the top-level `shop:` but the shop id; every
//! scalar under a key that names a secret (`appsecret`, `app_secret`, …) anywhere, `order:`
//! included; such a key itself when it holds more than a name; and the value of every `${VAR}`
//! written in any of these. Booleans and null hold no secret and are left out, so that words
//! like `true` stay readable.

use std::collections::BTreeMap;

use super::grammar;
use crate::base::fields::{is_plain, names_secret};
use crate::base::secret::{REDACTED, Secret, redact};
use crate::base::yaml::{Node, Value};

/// Every text of the file `root` that may be a secret, longest first, without duplicates.
pub(super) fn collect(root: &Node, env: &BTreeMap<String, String>) -> Vec<String> {
    let mut found = Vec::new();
    find(root, true, &mut found);
    let from_env: Vec<String> = found
        .iter()
        .flat_map(|text| var_names(text))
        .filter_map(|name| env.get(name).cloned())
        .collect();
    found.extend(from_env);
    tidy(found)
}

/// Without empty texts, the names of the shop's keys (`shop: [appsecret, …]`) and
/// duplicates, longest first (so that a secret that contains another is masked whole).
pub(super) fn tidy(mut secrets: Vec<String>) -> Vec<String> {
    secrets.retain(|s| !s.trim().is_empty() && !grammar::SHOP.allowed.contains(&s.as_str()));
    secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    secrets.dedup();
    secrets
}

/// `text` with every secret masked, also one that a message cut short with `…` (long values
/// are, see `Node::shown`): its start before the cut is masked too.
pub(super) fn mask(text: &str, secrets: &[Secret]) -> String {
    let refs: Vec<&Secret> = secrets.iter().collect();
    let mut out = redact(text, &refs);
    for secret in secrets {
        let secret = secret.expose();
        // Starts shorter than this are not masked, as `redact` leaves short secrets.
        let starts: Vec<usize> = secret
            .char_indices()
            .map(|(i, _)| i)
            .filter(|&i| i >= 4)
            .collect();
        let cuts: Vec<usize> = out.match_indices('…').map(|(i, _)| i).collect();
        for cut in cuts.into_iter().rev() {
            let before = &out[..cut];
            if let Some(&len) = starts
                .iter()
                .rev()
                .find(|&&len| before.ends_with(&secret[..len]))
            {
                out.replace_range(cut - len..cut, REDACTED);
            }
        }
    }
    out
}

/// Looks for `shop:` (in the top mapping) and keys naming a secret (anywhere).
fn find(node: &Node, top: bool, found: &mut Vec<String>) {
    match &node.value {
        Value::Seq(items) => items.iter().for_each(|item| find(item, false, found)),
        Value::Map(entries) => {
            for (key, value) in entries {
                let name = key.as_text();
                match name.as_deref() {
                    Some("shop") if top => shop(value, found),
                    Some(name) if names_secret(name) => {
                        secret_key(name, found);
                        every_scalar(value, found);
                    }
                    _ => {
                        find(key, false, found);
                        find(value, false, found);
                    }
                }
            }
        }
        _ => {}
    }
}

/// Everything under `shop:` but a shop id written as it should be: the shop id is no secret
/// (it is printed in reports), and masking it would blank ordinary words in other messages.
fn shop(node: &Node, found: &mut Vec<String>) {
    let Value::Map(entries) = &node.value else {
        every_scalar(node, found);
        return;
    };
    for (key, value) in entries {
        match key.as_text() {
            Some(name)
                if name == "shopid" && value.as_text().is_some_and(|v| !names_secret(&v)) => {}
            // A known key or a typo (`appsecert`) is a name; its value may be the secret.
            Some(name) if grammar::SHOP.allowed.contains(&name.as_str()) || is_plain(&name) => {
                every_scalar(value, found);
            }
            Some(name) => {
                // `appsecret:abc` (no space after the colon) is one key holding the secret.
                found.push(name.clone());
                secret_key(&name, found);
                every_scalar(value, found);
            }
            None => {
                every_scalar(key, found);
                every_scalar(value, found);
            }
        }
    }
}

/// A key naming a secret: the key itself when it holds more than a name, and what follows
/// `secret` in it (`appsecret:abc` → `abc`, `appsecretabc` → `abc`).
fn secret_key(name: &str, found: &mut Vec<String>) {
    if !is_plain(name) {
        found.push(name.to_owned());
    }
    // ASCII lowercasing keeps byte offsets.
    if let Some(at) = name.to_ascii_lowercase().rfind("secret") {
        let rest = name[at + "secret".len()..]
            .trim_start_matches([':', '=', ' ', '\t', '"', '\''])
            .trim();
        if !rest.is_empty() {
            found.push(rest.to_owned());
        }
    }
}

/// Every scalar under `node`, keys included, as a message would quote it.
fn every_scalar(node: &Node, found: &mut Vec<String>) {
    match &node.value {
        Value::Null | Value::Bool(_) => {}
        Value::Int(_) | Value::Float(_) | Value::Str(_) => {
            if let Some(text) = node.as_text() {
                let trimmed = text.trim();
                if trimmed != text {
                    found.push(trimmed.to_owned());
                }
                found.push(text);
            }
        }
        Value::Seq(items) => items.iter().for_each(|item| every_scalar(item, found)),
        Value::Map(entries) => {
            for (key, value) in entries {
                every_scalar(key, found);
                every_scalar(value, found);
            }
        }
    }
}

/// The names of the `${NAME}` in `text`.
fn var_names(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let open = &rest[start + 2..];
        let Some(end) = open.find('}') else { break };
        names.push(open[..end].trim());
        rest = &open[end + 1..];
    }
    names
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::base::yaml::parse_tree;

    fn secrets_of(text: &str, env: &[(&str, &str)]) -> Vec<String> {
        let root = match parse_tree(text, "t.yaml") {
            Ok(root) => root,
            Err(d) => panic!("{d}"),
        };
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        collect(&root, &env)
    }

    #[test]
    fn masks_secrets_whole_and_cut_short() {
        let secrets = [Secret::new("d80400f91e156f63"), Secret::new("abc")];
        assert_eq!(
            mask(
                "`[x, d80400f91e156f63]` and `[y, d80400f9…` or `d804…`",
                &secrets
            ),
            "`[x, ***]` and `[y, ***…` or `***…`"
        );
        assert_eq!(mask("`[abc, ab…`", &secrets), "`[abc, ab…`");
    }

    #[test]
    fn everything_under_shop_but_the_shop_id_and_key_names() {
        let s = secrets_of(
            "carrier: dada\nshop:\n  shopid: s1\n  appsecret: Leaky1\n  appsecert: Typo22\nsteps: [{status: 102}]\n",
            &[],
        );
        assert_eq!(s, ["Leaky1", "Typo22"]);
        let s = secrets_of("shop: {shopid: s1, appsecret:LeakyValue12345}\n", &[]);
        assert_eq!(s, ["appsecret:LeakyValue12345", "LeakyValue12345"]);
        let s = secrets_of(
            "shop:\n  - shopid: s1\n    appsecret: LeakyValue12345\n",
            &[],
        );
        assert_eq!(s, ["LeakyValue12345", "s1"]);
        let s = secrets_of(
            "shop: {shopid: s1, appsecret: {Nested99: [1234567, true, ~]}}\n",
            &[],
        );
        assert_eq!(s, ["Nested99", "1234567"]);
    }

    #[test]
    fn keys_naming_a_secret_anywhere_and_variables() {
        let s = secrets_of(
            "appsecret: Top12345\norder:\n  shop: {app_secret: Order123, goods_name: 书}\nsteps:\n  - {status: 102, appSecretX9: 1}\n",
            &[],
        );
        assert_eq!(s, ["Order123", "Top12345", "X9", "1"]);
        let s = secrets_of(
            "shop:\n  - appsecret: \"${S} and ${UNSET}\"\nshop_order_id: ${OTHER}\n",
            &[("S", "FromEnv123"), ("OTHER", "NotSecret")],
        );
        assert_eq!(s, ["${S} and ${UNSET}", "FromEnv123"]);
    }
}
