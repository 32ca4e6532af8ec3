//! The values written in `order:` blocks: documented fields checked against their kind,
//! others carried over to JSON as written (with `${VAR}` expanded).

use rust_i18n::t;
use std::collections::BTreeMap;

use serde_json::{Map, Number, Value as Json};

use super::blocks::{BIG, Block, Field, Kind};
use crate::base::diag::did_you_mean;
use crate::base::yaml::{Node, Value};
use crate::scenario::Checker;

impl Checker<'_> {
    /// Applies one sub-object's entries over its defaults in `target`; false after a problem.
    pub(super) fn block_fields(
        &mut self,
        block: &Block,
        entries: &[(Node, Node)],
        place: &str,
        target: &mut Map<String, Json>,
    ) -> bool {
        let mut ok = true;
        let mut seen: BTreeMap<String, u64> = BTreeMap::new();
        for (key_node, value) in entries {
            let Some(name) = self.key_text(key_node, place) else {
                ok = false;
                continue;
            };
            if let Some(first) = seen.get(&name).copied() {
                self.error(
                    key_node,
                    format!("duplicate key `{name}`{place} (first written at line {first})"),
                    Some("each key may appear once; remove one of them".to_owned()),
                );
                ok = false;
                continue;
            }
            seen.insert(name.clone(), key_node.line);
            let field = block.fields.iter().find(|f| f.name == name);
            if field.is_none() {
                let known = block.fields.iter().map(|f| f.name);
                if let Some(s) = did_you_mean(&name, known) {
                    let list: Vec<&str> = block.fields.iter().map(|f| f.name).collect();
                    self.error(
                        key_node,
                        format!("unknown key `{name}`{place}"),
                        Some(format!(
                            "did you mean `{s}`? documented keys{place}: {}; a key that is not close to one of them is sent as written",
                            list.join(", ")
                        )),
                    );
                    ok = false;
                    continue;
                }
            }
            if value.value == Value::Null {
                target.remove(&name);
                continue;
            }
            let converted = match field {
                Some(field) => self.typed(value, field, place),
                None => self.json(value, &name, place),
            };
            match converted {
                Some(json) => {
                    target.insert(name, json);
                }
                None => ok = false,
            }
        }
        ok
    }

    /// A mapping key as text, or a reported problem.
    fn key_text(&mut self, key: &Node, place: &str) -> Option<String> {
        match &key.value {
            Value::Str(_) | Value::Int(_) | Value::Float(_) => key.as_text(),
            _ => {
                let found = key.describe();
                self.error(
                    key,
                    format!("keys{place} must be text, found {found}"),
                    None,
                );
                None
            }
        }
    }

    /// A documented field's value, checked against its kind.
    fn typed(&mut self, value: &Node, field: &Field, place: &str) -> Option<Json> {
        let name = field.name;
        match field.kind {
            Kind::Text => match &value.value {
                Value::Str(_) | Value::Int(_) | Value::Float(_) => {
                    let raw = value.as_text()?;
                    self.expand(value, &raw, name, false).map(Json::String)
                }
                _ => {
                    self.wrong_type(value, name, place, &t!("expected.text"));
                    None
                }
            },
            Kind::Number {
                min,
                max,
                above_min,
            } => {
                let number = match value.value {
                    Value::Int(i) => Some(i as f64),
                    Value::Float(f) if f.is_finite() => Some(f),
                    _ => None,
                };
                let expected = match (above_min, max >= BIG) {
                    (true, true) => t!("expected.number_above", min = min),
                    (true, false) => t!("expected.number_above_at_most", min = min, max = max),
                    (false, true) => t!("expected.number_from", min = min),
                    (false, false) => t!("expected.number_from_to", min = min, max = max),
                };
                let Some(number) = number else {
                    self.wrong_number(value, name, place, &expected);
                    return None;
                };
                let in_range = if above_min {
                    number > min
                } else {
                    number >= min
                } && number <= max;
                if !in_range {
                    self.wrong_number(value, name, place, &expected);
                    return None;
                }
                self.json(value, name, place)
            }
            Kind::Integer { min, max } => {
                let whole = match value.value {
                    Value::Int(i) => i64::try_from(i).ok(),
                    _ => None,
                };
                let expected = if max == i64::MAX {
                    t!("expected.whole_from", min = min)
                } else if max - min == 1 {
                    t!("expected.either", min = min, max = max)
                } else {
                    t!("expected.whole_from_to", min = min, max = max)
                };
                match whole {
                    Some(i) if (min..=max).contains(&i) => Some(Json::from(i)),
                    _ => {
                        self.wrong_number(value, name, place, &expected);
                        None
                    }
                }
            }
            Kind::Object => match value.value {
                Value::Map(_) => self.json(value, name, place),
                _ => {
                    self.wrong_type(value, name, place, &t!("expected.mapping"));
                    None
                }
            },
        }
    }

    /// "`name`{place} must be {expected}, found …", with a hint when the number is quoted.
    fn wrong_number(&mut self, value: &Node, name: &str, place: &str, expected: &str) {
        let help = matches!(value.value, Value::Str(_))
            .then(|| t!("order.unquote_number_help").into_owned());
        let found = value.describe();
        self.error(
            value,
            t!(
                "fields.wrong_type",
                key = name,
                place = place,
                expected = expected,
                found = found
            ),
            help,
        );
    }

    /// Any YAML value as JSON, with `${VAR}` expanded in text; problems are reported.
    fn json(&mut self, value: &Node, key: &str, place: &str) -> Option<Json> {
        match &value.value {
            Value::Null => Some(Json::Null),
            Value::Bool(b) => Some(Json::Bool(*b)),
            Value::Int(i) => {
                let number = i64::try_from(*i)
                    .map(Number::from)
                    .ok()
                    .or_else(|| u64::try_from(*i).ok().map(Number::from));
                if number.is_none() {
                    self.error(
                        value,
                        format!(
                            "`{key}`{place}: the number `{}` is too large",
                            value.shown()
                        ),
                        None,
                    );
                }
                number.map(Json::Number)
            }
            Value::Float(f) => {
                let number = Number::from_f64(*f);
                if number.is_none() {
                    self.error(
                        value,
                        format!(
                            "`{key}`{place}: `{}` is not a number JSON can carry",
                            value.shown()
                        ),
                        None,
                    );
                }
                number.map(Json::Number)
            }
            Value::Str(raw) => self.expand(value, raw, key, false).map(Json::String),
            Value::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                let mut ok = true;
                for item in items {
                    match self.json(item, key, place) {
                        Some(json) => out.push(json),
                        None => ok = false,
                    }
                }
                ok.then_some(Json::Array(out))
            }
            Value::Map(entries) => {
                let mut out = Map::new();
                let mut ok = true;
                let inner = crate::base::i18n::in_key(key, place);
                for (k, v) in entries {
                    let Some(name) = self.key_text(k, &inner) else {
                        ok = false;
                        continue;
                    };
                    if out.contains_key(&name) {
                        self.error(
                            k,
                            format!("duplicate key `{name}`{inner}"),
                            Some("each key may appear once; remove one of them".to_owned()),
                        );
                        ok = false;
                        continue;
                    }
                    match self.json(v, &name, &inner) {
                        Some(json) => {
                            out.insert(name, json);
                        }
                        None => ok = false,
                    }
                }
                ok.then_some(Json::Object(out))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::testing::order_errors;

    #[test]
    fn wrong_fields_are_located() {
        let e = order_errors(
            "dada",
            "\n  receiver:\n    lng: \"113.9\"\n    lat: 91\n    name: true\n    adress: x\n    city: a\n    city: b\n  cargo: {goods_value: 0, goods_weight: 50.5, goods_detail: 3}\n  order_info: {order_type: 2, order_time: 1.5, is_insured: \"0\"}\n  shop: {goods_count: 0, img_url: \"${NOPE}\"}\n",
        );
        let expect = [
            "t.yaml:5:10: error: `lng` in `order.receiver` must be a number from -180 to 180, found the text `113.9`\n  help: write it without quotes",
            "t.yaml:6:10: error: `lat` in `order.receiver` must be a number from -90 to 90, found the number `91`",
            "t.yaml:7:11: error: `name` in `order.receiver` must be text, found the boolean `true`",
            "t.yaml:8:5: error: unknown key `adress` in `order.receiver`\n  help: did you mean `address`?",
            "t.yaml:10:5: error: duplicate key `city` in `order.receiver` (first written at line 9)",
            "t.yaml:11:24: error: `goods_value` in `order.cargo` must be a number above 0 and at most 5000, found the number `0`",
            "t.yaml:11:41: error: `goods_weight` in `order.cargo` must be a number above 0 and at most 50",
            "t.yaml:11:61: error: `goods_detail` in `order.cargo` must be a mapping, found the number `3`",
            "t.yaml:12:28: error: `order_type` in `order.order_info` must be 0 or 1, found the number `2`",
            "t.yaml:12:43: error: `order_time` in `order.order_info` must be a whole number from 0 to 99999999999, found the number `1.5`",
            "t.yaml:12:60: error: `is_insured` in `order.order_info` must be 0 or 1, found the text `0`\n  help: write it without quotes",
            "t.yaml:13:23: error: `goods_count` in `order.shop` must be a whole number from 1, found the number `0`",
            "t.yaml:13:35: error: environment variable `NOPE` is not set (used in `img_url`)",
        ];
        assert_eq!(e.len(), expect.len(), "{e:#?}");
        for (got, want) in e.iter().zip(expect) {
            assert!(got.starts_with(want), "want {want}\ngot  {got}");
        }
    }

    #[test]
    fn pass_through_values_are_checked_too() {
        let e = order_errors(
            "dada",
            "\n  shop:\n    extra: {a: 1, a: 2, x: [\"${NOPE}\"]}\n",
        );
        assert_eq!(e.len(), 2, "{e:#?}");
        assert!(
            e[0].contains("duplicate key `a` in `extra` in `order.shop`"),
            "{e:#?}"
        );
        assert!(e[1].contains("`NOPE` is not set (used in `x`)"), "{e:#?}");
    }
}
