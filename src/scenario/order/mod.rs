//! `order:` — the `order/add` body that creates a scenario's order at the carrier before the
//! first step (realmock only moves orders that exist there).
//!
//! `order: true` (or `{}`) takes every default; a mapping may give `openid` and override the
//! defaults of `sender`, `receiver`, `cargo`, `order_info` and `shop` key by key. Keys of those
//! five that the platform documents are type-checked ([`BLOCKS`]); others pass through as
//! written, since the platform has many optional fields. A key written as `~` drops the
//! default. `${VAR}` expands in every text value.

use rust_i18n::t;
use serde_json::{Map, Value as Json};

use super::Checker;
use crate::base::yaml::{Node, Value};
use crate::model::carriers::{Carrier, ORDER_BLOCKS};

mod blocks;
mod defaults;
mod values;

pub use blocks::{BLOCKS, Field, Kind};
pub use defaults::defaults;

/// The keys `order:` allows.
pub const ORDER_KEYS: [&str; 6] = [
    "openid",
    "sender",
    "receiver",
    "cargo",
    "order_info",
    "shop",
];

/// The fields of the order/add body that the runner fills in when it sends it.
const RUNNER_FIELDS: [&str; 3] = ["shop_order_id", "delivery_sign", "openid"];

/// The environment variable an `order:` without `openid` reads.
pub const OPENID_VAR: &str = "WECHAT_OPENID";

/// `order:` as checked: the body without `shop_order_id` (set per order) and `delivery_sign`.
pub(super) struct OrderTemplate {
    pub body: Map<String, Json>,
    pub openid: Option<String>,
    pub line: u64,
}

impl Checker<'_> {
    /// Checks `order:` (its key and value nodes); `Some(None)` when the scenario creates no
    /// order (`order: false`), `None` after a problem (reported). `shop` is the account the
    /// scenario uses (None when it is wrong; reported elsewhere).
    pub(super) fn order(
        &mut self,
        key: &Node,
        node: &Node,
        carrier: Option<&Carrier>,
        shop: Option<&str>,
    ) -> Option<Option<OrderTemplate>> {
        let fields = match &node.value {
            Value::Bool(false) => return Some(None),
            Value::Bool(true) => None,
            Value::Map(_) => Some(self.fields(
                node,
                &ORDER_KEYS,
                &crate::base::i18n::in_key("order", ""),
                &crate::base::i18n::in_key("order", ""),
                "`order`",
            )?),
            Value::Null => {
                self.error(
                    key,
                    "`order` has no value",
                    Some("write `order: true` to create the order with the defaults, or a mapping of openid, sender, receiver, cargo, order_info, shop to change some of them".to_owned()),
                );
                return None;
            }
            _ => {
                self.wrong_type(node, "order", "", &t!("expected.order"));
                return None;
            }
        };
        let mut ok = true;
        let openid = match fields.as_ref().and_then(|f| f.given("openid")) {
            Some(value) => match value.as_text() {
                Some(raw) => match self.expand(value, &raw, "openid", false) {
                    Some(id) if id.trim().is_empty() => {
                        self.error(
                            value,
                            "`openid` in `order` is empty",
                            Some(format!(
                                "give the openid of an admin, developer or operator of the Mini Program, or leave `openid` out to read {OPENID_VAR}"
                            )),
                        );
                        ok = false;
                        None
                    }
                    Some(id) => Some(id.trim().to_owned()),
                    None => {
                        ok = false;
                        None
                    }
                },
                None => {
                    self.wrong_type(
                        value,
                        "openid",
                        &crate::base::i18n::in_key("order", ""),
                        &t!("expected.text"),
                    );
                    ok = false;
                    None
                }
            },
            None => self
                .ctx
                .env
                .get(OPENID_VAR)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty()),
        };

        let timestamp = self.ctx.timestamp;
        let mut parts = carrier.map(|c| defaults(c, timestamp)).unwrap_or_default();
        for block in &BLOCKS {
            let Some(value) = fields.as_ref().and_then(|f| f.get(block.key)) else {
                continue;
            };
            let place = crate::base::i18n::in_key(&format!("order.{}", block.key), "");
            match &value.value {
                Value::Null if block.key == "sender" => {
                    parts.remove("sender");
                }
                Value::Null => {
                    let at = fields
                        .as_ref()
                        .and_then(|f| f.key(block.key))
                        .unwrap_or(value);
                    self.error(
                        at,
                        format!("`{}` in `order` has no value", block.key),
                        Some(format!(
                            "order/add needs `{}`: leave the key out for the defaults, or give the fields to change",
                            block.key
                        )),
                    );
                    ok = false;
                }
                Value::Map(entries) => {
                    let mut target = match parts.remove(block.key) {
                        Some(Json::Object(map)) => map,
                        _ => Map::new(),
                    };
                    if !self.block_fields(block, entries, &place, &mut target) {
                        ok = false;
                    }
                    parts.insert(block.key.to_owned(), Json::Object(target));
                }
                _ => {
                    self.wrong_type(
                        value,
                        block.key,
                        &crate::base::i18n::in_key("order", ""),
                        &t!("expected.mapping"),
                    );
                    ok = false;
                }
            }
        }

        if let Some(shop) = shop {
            parts.insert("shopid".to_owned(), shop.into());
        }
        if let Some(carrier) = carrier {
            let shop_no = (shop == Some(carrier.account.shopid.as_str()))
                .then(|| carrier.account.shop_no.clone())
                .filter(|n| !n.is_empty());
            parts.insert("delivery_id".to_owned(), carrier.delivery_id.clone().into());
            if let Some(shop_no) = &shop_no {
                parts.insert("shop_no".to_owned(), shop_no.clone().into());
            }
            // What the carrier's profile says its order/add needs (the emulator reads the same).
            let required = &carrier.required.order_add;
            for path in required {
                if path.find(&parts).is_some() || RUNNER_FIELDS.contains(&path.top()) {
                    continue;
                }
                let at = fields
                    .as_ref()
                    .and_then(|f| f.key(path.top()))
                    .unwrap_or(key);
                if !ORDER_BLOCKS.contains(&path.top()) {
                    self.error(
                        at,
                        format!(
                            "{} needs `{path}` in order/add, which a scenario cannot give",
                            carrier.id
                        ),
                        Some("the carrier table requires it (`required.order_add`); besides the blocks of `order:`, simulate sends only shopid, shop_no, delivery_id, shop_order_id, delivery_sign and openid".to_owned()),
                    );
                    ok = false;
                    continue;
                }
                let parents = path.parents();
                let within = if parents.is_empty() {
                    "`order`".to_owned()
                } else {
                    format!("`order.{parents}`")
                };
                let leaf = path.leaf();
                let help = if path.find(&defaults(carrier, timestamp)).is_some() {
                    format!(
                        "{}'s order/add requires it: leave `{leaf}` out for the default, or give a value",
                        carrier.name_en
                    )
                } else {
                    format!(
                        "{}'s order/add requires it, and the carrier table has no default for it: give it",
                        carrier.name_en
                    )
                };
                self.error(
                    at,
                    format!("{} needs `{leaf}` in {within}", carrier.id),
                    Some(help),
                );
                ok = false;
            }
            let sender_required = required.iter().any(|p| p.top() == "sender");
            if !parts.contains_key("sender") && !sender_required && shop_no.is_none() {
                let at = fields.as_ref().and_then(|f| f.key("sender")).unwrap_or(key);
                self.error(
                    at,
                    "`order` has no `sender`, and the shop has no shop_no to stand for it",
                    Some("leave `sender` out for the default store, or give its fields".to_owned()),
                );
                ok = false;
            }
        }
        if !ok || carrier.is_none() || shop.is_none() {
            return None;
        }
        if let Some(openid) = &openid {
            parts.insert("openid".to_owned(), openid.clone().into());
        }
        Some(Some(OrderTemplate {
            body: parts,
            openid,
            line: key.line,
        }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::scenario::testing::{
        ctx, order_errors, order_of, order_with, plans_or_messages, problems,
    };

    #[test]
    fn fixture_bad_order() {
        let p = problems("bad_order.yaml");
        let found: Vec<(u64, u64)> = p.iter().map(|d| (d.line, d.column)).collect();
        assert_eq!(found, [(5, 3), (7, 10), (10, 18)], "{p:#?}");
        assert!(p[0].message.contains("unknown key `reciever` in `order`"));
        assert!(
            p[0].help
                .as_deref()
                .is_some_and(|h| h.contains("did you mean `receiver`?"))
        );
        assert!(
            p[1].message
                .contains("`lng` in `order.sender` must be a number")
        );
        assert!(
            p[2].message
                .contains("`goods_value` in `order.cargo` must be a number above 0")
        );
    }

    #[test]
    fn no_order_block_or_false_means_no_order() {
        for text in [
            "carrier: dada\nshop_order_id: x\nsteps: [{status: 102}]\n",
            "carrier: dada\nshop_order_id: x\norder: false\nsteps: [{status: 102}]\n",
        ] {
            match plans_or_messages(text, &ctx()) {
                Ok(plans) => assert!(plans[0].order.is_none()),
                Err(p) => panic!("{p:#?}"),
            }
        }
    }

    #[test]
    fn keys_override_the_defaults_one_by_one() {
        let mut ctx = ctx();
        ctx.env.insert("WHO".to_owned(), "李四".to_owned());
        let order = order_with(
            "sf",
            "\n  receiver:\n    name: 收件人${WHO}\n    phone: 13912345678\n    lat: 22.5\n    coordinate_type: 1\n    door_code: \"0815\"\n    address_detail: ~\n  cargo:\n    goods_value: 12\n    goods_detail: {goods: [{good_name: 书, good_count: 2, good_price: 6.0}]}\n  order_info: {order_type: 0, order_time: 1795900000, note: \"${WHO}\"}\n  shop: {goods_name: 书, goods_count: 2, extra: [1, true, ~, {a: b}]}\n",
            &ctx,
        );
        let body = &order.body;
        let receiver = &body["receiver"];
        assert_eq!(receiver["name"], json!("收件人李四"));
        assert_eq!(receiver["phone"], json!("13912345678"));
        assert_eq!(receiver["lat"], json!(22.5));
        assert_eq!(receiver["coordinate_type"], json!(1));
        assert_eq!(receiver["door_code"], json!("0815"));
        assert!(
            receiver.get("address_detail").is_none(),
            "~ drops a default"
        );
        assert_eq!(receiver["city"], json!("深圳市"), "other defaults stay");
        assert_eq!(body["cargo"]["goods_value"], json!(12));
        assert_eq!(body["cargo"]["goods_weight"], json!(1.2));
        assert_eq!(
            body["cargo"]["goods_detail"]["goods"][0]["good_name"],
            json!("书")
        );
        assert_eq!(body["order_info"]["order_time"], json!(1_795_900_000));
        assert_eq!(body["order_info"]["note"], json!("李四"));
        assert_eq!(body["shop"]["goods_count"], json!(2));
        assert_eq!(body["shop"]["wxa_path"], json!("/pages/order/detail"));
        assert_eq!(body["shop"]["extra"], json!([1, true, null, {"a": "b"}]));
        assert_eq!(body["sender"]["name"], json!("simulate 测试门店"));
    }

    #[test]
    fn openid_from_the_block_or_the_environment() {
        let order = order_of("dada", "\n  openid: oABC123\n");
        assert_eq!(order.openid.as_deref(), Some("oABC123"));
        assert_eq!(order.body["openid"], json!("oABC123"));
        let mut ctx = ctx();
        ctx.env.insert(OPENID_VAR.to_owned(), "oFromEnv".to_owned());
        let order = order_with("dada", " true", &ctx);
        assert_eq!(order.openid.as_deref(), Some("oFromEnv"));
        assert_eq!(order.body["openid"], json!("oFromEnv"));
        let order = order_with("dada", "\n  openid: oGiven\n", &ctx);
        assert_eq!(order.openid.as_deref(), Some("oGiven"));
        ctx.env.insert("MY_OPENID".to_owned(), "oVar".to_owned());
        let order = order_with("dada", "\n  openid: ${MY_OPENID}\n", &ctx);
        assert_eq!(order.openid.as_deref(), Some("oVar"));
        ctx.env.insert(OPENID_VAR.to_owned(), " ".to_owned());
        assert_eq!(order_with("dada", " true", &ctx).openid, None);

        // The runner's body: signed, with the openid (or a fallback).
        let order = order_of("dada", " true");
        let body = order.signed_body("abc", Some("oLocal"));
        assert_eq!(
            (&body["delivery_sign"], &body["openid"]),
            (&json!("abc"), &json!("oLocal"))
        );
        assert!(order.signed_body("abc", None).get("openid").is_none());
        let order = order_of("dada", "\n  openid: oMine\n");
        assert_eq!(
            order.signed_body("abc", Some("oLocal"))["openid"],
            json!("oMine")
        );
    }

    #[test]
    fn a_custom_shop_gets_no_test_shop_no() {
        let text = "carrier: dada\nshop_order_id: x\nshop: {shopid: mine, appsecret: s}\norder: true\nsteps: [{status: 102}]\n";
        let plans = match plans_or_messages(text, &ctx()) {
            Ok(p) => p,
            Err(p) => panic!("{p:#?}"),
        };
        let Some(order) = &plans[0].order else {
            panic!("no order")
        };
        assert_eq!(order.body["shopid"], json!("mine"));
        assert!(order.body.get("shop_no").is_none());
        // Without a shop_no, the sender cannot be left out.
        let text = "carrier: dada\nshop_order_id: x\nshop: {shopid: mine, appsecret: s}\norder:\n  sender: ~\nsteps: [{status: 102}]\n";
        let p = match plans_or_messages(text, &ctx()) {
            Ok(_) => panic!("accepted"),
            Err(p) => p,
        };
        assert!(
            p[0].contains("t.yaml:5:3: error: `order` has no `sender`"),
            "{p:#?}"
        );
        // With the test account's shop_no it can (not for SF).
        let order = order_of("dada", "\n  sender: ~\n");
        assert!(order.body.get("sender").is_none());
    }

    #[test]
    fn wrong_blocks_are_located() {
        let e = order_errors("dada", "\n  reciever: {name: x}\n  opneid: o\n");
        assert_eq!(e.len(), 2, "{e:#?}");
        assert!(
            e[0].starts_with("t.yaml:4:3: error: unknown key `reciever` in `order`"),
            "{e:#?}"
        );
        assert!(e[0].contains("did you mean `receiver`?"), "{e:#?}");
        assert!(
            e[0].contains(
                "allowed keys in `order`: openid, sender, receiver, cargo, order_info, shop"
            ),
            "{e:#?}"
        );
        assert!(e[1].contains("did you mean `openid`?"), "{e:#?}");

        let e = order_errors("dada", "");
        assert!(
            e[0].starts_with("t.yaml:3:1: error: `order` has no value"),
            "{e:#?}"
        );
        assert!(e[0].contains("order: true"), "{e:#?}");
        let e = order_errors("dada", " yes");
        assert!(
            e[0].contains("`order` must be true, false or a mapping of openid, sender"),
            "{e:#?}"
        );
        let e = order_errors("dada", "\n  receiver: [a]\n  openid: [o]\n  cargo:\n");
        assert_eq!(e.len(), 3, "{e:#?}");
        assert!(
            e[0].contains(
                "t.yaml:4:13: error: `receiver` in `order` must be a mapping, found the list `[a]`"
            ),
            "{e:#?}"
        );
        assert!(e[1].contains("`openid` in `order` must be text"), "{e:#?}");
        assert!(
            e[2].contains("t.yaml:6:3: error: `cargo` in `order` has no value"),
            "{e:#?}"
        );
        let e = order_errors("dada", "\n  openid: \"\"\n");
        assert!(e[0].contains("`openid` in `order` is empty"), "{e:#?}");
    }

    #[test]
    fn sf_needs_a_sender_and_an_order_time() {
        let e = order_errors("sf", "\n  sender: ~\n  order_info: {order_time: ~}\n");
        assert_eq!(e.len(), 2, "{e:#?}");
        assert!(
            e[0].starts_with("t.yaml:4:3: error: sftc needs `sender` in `order`"),
            "{e:#?}"
        );
        assert!(
            e[1].starts_with("t.yaml:5:3: error: sftc needs `order_time` in `order.order_info`"),
            "{e:#?}"
        );
        // Dada does not need the order time.
        let order = order_of("dada", "\n  order_info: {order_time: ~}\n");
        assert!(order.body["order_info"].get("order_time").is_none());
    }

    #[test]
    fn a_carrier_files_required_fields_and_defaults_are_checked() {
        let user = "carriers:\n  - id: acme\n    delivery_id: ACME\n    name: { en: Acme Courier, zh: 示例快送 }\n    call: realmock\n    version: acme-1\n    account: { shopid: m, appsecret: y, shop_no: n }\n    statuses: [102, 302]\n    required:\n      order_add: [shop_no, receiver.door_code, order_info.order_time, sub_biz_id, cargo.goods_height]\n    order_defaults:\n      receiver: { door_code: \"0815\" }\n";
        let table = match crate::model::carriers::Carriers::extend(
            crate::scenario::testing::carriers(),
            user,
            "c.yaml",
            &crate::base::env::Env::new(),
        ) {
            Ok(t) => t,
            Err(p) => panic!("{p:#?}"),
        };
        let check = |order: &str| {
            let text = format!(
                "carrier: acme\nshop_order_id: x\norder:{order}\nsteps: [{{status: 102}}]\n"
            );
            crate::scenario::check_text(&text, "t.yaml", "t", &table, &ctx())
        };
        // The test account's shop_no and the run's order time count; sub_biz_id has no default.
        let loaded = check(" true");
        let p: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
        assert_eq!(p.len(), 2, "{p:#?}");
        assert!(
            p[1].starts_with("t.yaml:3:1: error: acme needs `goods_height` in `order.cargo`\n  help: Acme Courier's order/add requires it, and the carrier table has no default for it: give it"),
            "{p:#?}"
        );
        assert!(
            p[0].starts_with("t.yaml:3:1: error: acme needs `sub_biz_id` in order/add, which a scenario cannot give"),
            "{p:#?}"
        );
        let loaded = check("\n  receiver: {door_code: ~}\n  order_info: {order_time: ~}\n");
        let p: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
        assert_eq!(p.len(), 4, "{p:#?}");
        assert!(
            p[2].starts_with("t.yaml:4:3: error: acme needs `door_code` in `order.receiver`\n  help: Acme Courier's order/add requires it: leave `door_code` out for the default"),
            "{p:#?}"
        );
        assert!(
            p[3].starts_with("t.yaml:5:3: error: acme needs `order_time` in `order.order_info`"),
            "{p:#?}"
        );
        // Without `required`, sender may be dropped where the account has a shop_no, and the
        // body follows the profile's defaults.
        let plain = user.replace(
            "    required:\n      order_add: [shop_no, receiver.door_code, order_info.order_time, sub_biz_id, cargo.goods_height]\n",
            "",
        );
        let table = match crate::model::carriers::Carriers::extend(
            crate::scenario::testing::carriers(),
            &plain,
            "c.yaml",
            &crate::base::env::Env::new(),
        ) {
            Ok(t) => t,
            Err(p) => panic!("{p:#?}"),
        };
        let text = "carrier: acme\nshop_order_id: x\norder: {sender: ~}\nsteps: [{status: 102}]\n";
        let loaded = crate::scenario::check_text(text, "t.yaml", "t", &table, &ctx());
        assert!(loaded.problems.is_empty(), "{:#?}", loaded.problems);
        let Some(order) = &loaded.plans[0].order else {
            panic!("no order")
        };
        assert!(order.body.get("sender").is_none());
        assert_eq!(order.body["receiver"]["door_code"], json!("0815"));
        assert_eq!(order.body["order_info"]["order_time"], json!(1_795_904_130));
        assert_eq!(order.body["delivery_id"], json!("ACME"));
    }
}
