//! The keys each mapping of a scenario file allows, and which of them it needs. The checks read
//! them (unknown, misspelt and missing keys) and the JSON Schema is generated from them
//! (`describe::schema`), so a key cannot reach one and miss the other.

/// The keys of one mapping.
#[derive(Debug)]
pub struct Keys {
    /// Every key the mapping may have.
    pub allowed: &'static [&'static str],
    /// The keys it must have (a subset of `allowed`).
    pub required: &'static [&'static str],
}

/// The top of a scenario file.
pub const SCENARIO: Keys = Keys {
    allowed: &[
        "name",
        "carrier",
        "shop_order_id",
        "shop",
        "order",
        "repeat",
        "steps",
    ],
    required: &["carrier", "shop_order_id", "steps"],
};

/// One item of `steps:`.
pub const STEP: Keys = Keys {
    allowed: &[
        "status",
        "after",
        "action_msg",
        "skip_transition_check",
        "expect",
    ],
    required: &["status"],
};

/// `shop:`. A carrier called with `realmock_update_order` needs `appsecret` too; that depends
/// on the carrier, so the checks say it, not this table.
pub const SHOP: Keys = Keys {
    allowed: &["shopid", "appsecret"],
    required: &["shopid"],
};

/// `expect:` as a word.
pub const EXPECT_WORDS: [&str; 2] = ["ok", "rejected"];

/// `expect:` as a mapping: exactly one of these codes.
pub const EXPECT_CODES: [&str; 2] = ["errcode", "resultcode"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::testing::{check_all, ctx};

    /// A value for each key the tables allow (but `shop` and `steps`, made of their own
    /// keys); a new key needs one here, and the checks must take it.
    fn sample(key: &str) -> &'static str {
        match key {
            "name" => "name: Everything",
            "carrier" => "carrier: dada",
            "shop_order_id" => "shop_order_id: qa-{{run_id}}",
            "order" => "order: true",
            "repeat" => "repeat: 2",
            "status" => "status: 102",
            "after" => "after: 1s",
            "action_msg" => "action_msg: hi",
            "skip_transition_check" => "skip_transition_check: true",
            "expect" => "expect: ok",
            "shopid" => "shopid: s1",
            "appsecret" => "appsecret: a",
            other => panic!("give `{other}` a sample value in scenario::grammar's tests"),
        }
    }

    /// A scenario with `keys` at the top, `step_keys` in its one step and `shop_keys` in
    /// `shop:` (when `shop` is among `keys`).
    fn document(keys: &[&str], step_keys: &[&str], shop_keys: &[&str]) -> String {
        let join = |keys: &[&str]| {
            keys.iter()
                .map(|k| sample(k))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let step = join(step_keys);
        let shop = format!("shop: {{{}}}", join(shop_keys));
        keys.iter()
            .map(|key| match *key {
                "steps" => format!("steps: [{{{step}}}]\n"),
                "shop" => format!("{shop}\n"),
                other => format!("{}\n", sample(other)),
            })
            .collect()
    }

    #[test]
    fn the_checks_take_every_key_the_tables_allow() {
        let text = document(SCENARIO.allowed, STEP.allowed, SHOP.allowed);
        if let Err(problems) = check_all(&text, &ctx()) {
            panic!("{text}\n{problems:#?}");
        }
    }

    #[test]
    fn the_checks_need_every_key_the_tables_require() {
        let without = |keys: &'static [&'static str], dropped: &str| -> Vec<&'static str> {
            keys.iter().copied().filter(|k| *k != dropped).collect()
        };
        let mut cases = Vec::new();
        for key in SCENARIO.required {
            let top = without(SCENARIO.required, key);
            cases.push((*key, document(&top, STEP.required, SHOP.required)));
        }
        for key in STEP.required {
            let step = without(STEP.required, key);
            cases.push((*key, document(SCENARIO.required, &step, SHOP.required)));
        }
        for key in SHOP.required {
            let top: Vec<&str> = SCENARIO.required.iter().copied().chain(["shop"]).collect();
            let shop = without(SHOP.allowed, key);
            cases.push((*key, document(&top, STEP.required, &shop)));
        }
        for (key, text) in cases {
            match check_all(&text, &ctx()) {
                Ok(plans) => panic!("without `{key}`:\n{text}\nloaded: {plans:?}"),
                Err(problems) => assert!(
                    problems
                        .iter()
                        .any(|p| p.message.contains(&format!("`{key}`"))),
                    "without `{key}`:\n{text}\n{problems:#?}"
                ),
            }
        }
    }
}
