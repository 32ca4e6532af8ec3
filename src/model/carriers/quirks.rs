//! What one carrier does differently from the others, as data of its profile: the fields its
//! API refuses to go without, its answer to a wrong `delivery_sign`, and the defaults of the
//! `order/add` body. The scenario checks and the emulator read the same values.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value as Json};

/// The sub-objects of `order/add` that the defaults (and a scenario's `order:`) give.
pub const ORDER_BLOCKS: [&str; 5] = ["sender", "receiver", "cargo", "order_info", "shop"];

/// The fields of an `order/add` (and `order/pre_add`) body the platform documents.
pub const ORDER_ADD_FIELDS: [&str; 13] = [
    "shopid",
    "shop_order_id",
    "delivery_id",
    "openid",
    "sender",
    "receiver",
    "cargo",
    "order_info",
    "shop",
    "delivery_sign",
    "shop_no",
    "delivery_token",
    "sub_biz_id",
];

/// The fields of an `order/cancel` body the platform documents.
pub const ORDER_CANCEL_FIELDS: [&str; 8] = [
    "shopid",
    "shop_order_id",
    "delivery_id",
    "cancel_reason_id",
    "cancel_reason",
    "shop_no",
    "delivery_sign",
    "waybill_id",
];

/// The one block the platform lets an order go without (when the account has a shop_no), so
/// the only one a default may drop with `~`.
pub const OPTIONAL_BLOCK: &str = "sender";

/// A field of a request body by its path: `sender`, `order_info.order_time`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath(Vec<String>);

impl FieldPath {
    /// Names of letters, digits and `_`, joined by dots; `None` for anything else.
    pub fn parse(text: &str) -> Option<FieldPath> {
        let names: Vec<String> = text.split('.').map(str::to_owned).collect();
        let plain =
            |n: &String| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        names.iter().all(plain).then_some(FieldPath(names))
    }

    /// The top-level field (`order_info` of `order_info.order_time`).
    pub fn top(&self) -> &str {
        self.0.first().map(String::as_str).unwrap_or_default()
    }

    /// The field itself (`order_time` of `order_info.order_time`).
    pub fn leaf(&self) -> &str {
        self.0.last().map(String::as_str).unwrap_or_default()
    }

    /// The objects it is in, joined by dots; empty for a top-level field.
    pub fn parents(&self) -> String {
        let end = self.0.len().saturating_sub(1);
        self.0[..end].join(".")
    }

    /// The value at this path in `body`, unless it is absent or null.
    pub fn find<'a>(&self, body: &'a Map<String, Json>) -> Option<&'a Json> {
        let (first, rest) = self.0.split_first()?;
        let mut value = body.get(first)?;
        for name in rest {
            value = value.as_object()?.get(name)?;
        }
        (!value.is_null()).then_some(value)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

/// Fields a carrier's calls need beyond what the platform asks of every carrier. None by
/// default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Required {
    /// In `order/add` and `order/pre_add`.
    pub order_add: Vec<FieldPath>,
    /// In `order/cancel`.
    pub order_cancel: Vec<FieldPath>,
}

impl Required {
    /// The first of `paths` that `body` lacks.
    pub fn missing<'p>(paths: &'p [FieldPath], body: &Map<String, Json>) -> Option<&'p FieldPath> {
        paths.iter().find(|p| p.find(body).is_none())
    }
}

/// A carrier's answer to a wrong `delivery_sign`: `errcode` 0 with this `resultcode`, and
/// `resultmsg` starting with this text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignError {
    pub resultcode: i64,
    pub resultmsg: String,
}

impl Default for SignError {
    /// What 闪送 answers; carriers publish no code, so it stands for any that has none.
    fn default() -> Self {
        SignError {
            resultcode: 1,
            resultmsg: "签名校验失败".to_owned(),
        }
    }
}

/// One layer of `order/add` defaults as written: per block, the keys it sets (a null drops
/// one), or `None` for a block written `~` (dropped whole).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DefaultsLayer(pub BTreeMap<String, Option<Map<String, Json>>>);

impl DefaultsLayer {
    /// `base` with this layer over it, key by key within each block: a block given here
    /// changes only the keys it names (nested values are replaced whole).
    pub fn over(&self, base: &Map<String, Json>) -> Map<String, Json> {
        let mut out = base.clone();
        for (block, keys) in &self.0 {
            let Some(keys) = keys else {
                out.remove(block);
                continue;
            };
            let mut target = match out.remove(block) {
                Some(Json::Object(map)) => map,
                _ => Map::new(),
            };
            for (key, value) in keys {
                if value.is_null() {
                    target.remove(key);
                } else {
                    target.insert(key.clone(), value.clone());
                }
            }
            out.insert(block.clone(), Json::Object(target));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Json) -> Map<String, Json> {
        match value {
            Json::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn paths_parse_print_and_find() {
        let path = FieldPath::parse("order_info.order_time");
        let Some(path) = path else { panic!("no path") };
        assert_eq!(
            (path.top(), path.leaf(), path.parents().as_str()),
            ("order_info", "order_time", "order_info")
        );
        assert_eq!(path.to_string(), "order_info.order_time");
        let body = object(json!({"order_info": {"order_time": 5, "note": null}, "sender": {}}));
        assert_eq!(path.find(&body), Some(&json!(5)));
        let note = FieldPath::parse("order_info.note");
        assert_eq!(
            note.and_then(|p| p.find(&body).cloned()),
            None,
            "null is missing"
        );
        let sender = FieldPath::parse("sender");
        assert!(sender.is_some_and(|p| p.find(&body).is_some() && p.parents().is_empty()));
        for bad in ["", "a..b", ".a", "a.", "a b", "sender[0]"] {
            assert_eq!(FieldPath::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn layers_change_keys_one_by_one() {
        let base = object(json!({
            "sender": {"name": "a", "city": "深圳市"},
            "cargo": {"goods_value": 1, "goods_detail": {"goods": [1]}},
        }));
        let layer = DefaultsLayer(BTreeMap::from([
            (
                "sender".to_owned(),
                Some(object(json!({"city": "上海市", "name": null}))),
            ),
            (
                "cargo".to_owned(),
                Some(object(json!({"goods_detail": {"goods": [2]}}))),
            ),
            ("shop".to_owned(), Some(object(json!({"goods_count": 1})))),
        ]));
        assert_eq!(
            Json::Object(layer.over(&base)),
            json!({
                "sender": {"city": "上海市"},
                "cargo": {"goods_value": 1, "goods_detail": {"goods": [2]}},
                "shop": {"goods_count": 1},
            })
        );
        let drop = DefaultsLayer(BTreeMap::from([("sender".to_owned(), None)]));
        assert!(!drop.over(&base).contains_key("sender"));
    }
}
