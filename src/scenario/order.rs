//! `order:` — the `order/add` body that creates a scenario's order at the carrier before the
//! first step (realmock only moves orders that exist there).
//!
//! `order: true` (or `{}`) takes every default; a mapping may give `openid` and override the
//! defaults of `sender`, `receiver`, `cargo`, `order_info` and `shop` key by key. Keys of those
//! five that the platform documents are type-checked ([`BLOCKS`]); others pass through as
//! written, since the platform has many optional fields. A key written as `~` drops the
//! default. `${VAR}` expands in every text value.

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value as Json, json};

use super::Checker;
use crate::carriers::Carrier;
use crate::diag::did_you_mean;
use crate::yaml::{Node, Value};

/// The keys `order:` allows.
pub const ORDER_KEYS: [&str; 6] = [
    "openid",
    "sender",
    "receiver",
    "cargo",
    "order_info",
    "shop",
];

/// The environment variable an `order:` without `openid` reads.
pub const OPENID_VAR: &str = "WECHAT_OPENID";

/// What one documented field holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Text (a number written without quotes is taken as its text, e.g. a phone number).
    Text,
    /// A JSON number within `min`..=`max`; above `min` only, when `above_min`.
    Number { min: f64, max: f64, above_min: bool },
    /// A whole number within `min..=max`.
    Integer { min: i64, max: i64 },
    /// A mapping, passed through.
    Object,
}

/// One field of an `order/add` sub-object that the platform documents.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub description: &'static str,
}

/// One sub-object of `order/add` (`sender`, `receiver`, …).
#[derive(Debug, Clone, Copy)]
pub struct Block {
    pub key: &'static str,
    pub description: &'static str,
    pub fields: &'static [Field],
}

const fn text(name: &'static str, description: &'static str) -> Field {
    Field {
        name,
        kind: Kind::Text,
        description,
    }
}

const fn number(name: &'static str, min: f64, max: f64, description: &'static str) -> Field {
    Field {
        name,
        kind: Kind::Number {
            min,
            max,
            above_min: false,
        },
        description,
    }
}

const fn positive(name: &'static str, max: f64, description: &'static str) -> Field {
    Field {
        name,
        kind: Kind::Number {
            min: 0.0,
            max,
            above_min: true,
        },
        description,
    }
}

const fn integer(name: &'static str, min: i64, max: i64, description: &'static str) -> Field {
    Field {
        name,
        kind: Kind::Integer { min, max },
        description,
    }
}

const fn object(name: &'static str, description: &'static str) -> Field {
    Field {
        name,
        kind: Kind::Object,
        description,
    }
}

/// Most a count or an amount written in the file may be: far above anything real.
const BIG: f64 = 1e12;
const UNIX_MAX: i64 = 99_999_999_999;

const ADDRESS: &[Field] = &[
    text(
        "name",
        "Name of the person or store (at most 256 characters).",
    ),
    text("city", "City, e.g. 深圳市."),
    text("address", "Address, e.g. 广东省深圳市南山区深南大道9668号."),
    text(
        "address_detail",
        "Building, floor, room, e.g. 华润万象天地 L1-101.",
    ),
    text(
        "phone",
        "Phone number (at most 64 characters); quote it to keep leading zeros.",
    ),
    number(
        "lng",
        -180.0,
        180.0,
        "Longitude, a number with 6 decimals (GCJ-02 unless coordinate_type is 1).",
    ),
    number(
        "lat",
        -90.0,
        90.0,
        "Latitude, a number with 6 decimals (GCJ-02 unless coordinate_type is 1).",
    ),
    integer(
        "coordinate_type",
        0,
        1,
        "0: Mars coordinates (GCJ-02, the default); 1: Baidu.",
    ),
];

const CARGO: &[Field] = &[
    positive(
        "goods_value",
        5000.0,
        "Value of the goods in yuan, above 0 and at most 5000.",
    ),
    positive(
        "goods_weight",
        50.0,
        "Weight in kg, above 0 and at most 50.",
    ),
    positive("goods_height", BIG, "Height in cm."),
    positive("goods_length", BIG, "Length in cm."),
    positive("goods_width", BIG, "Width in cm."),
    text(
        "cargo_first_class",
        "Category, one of the platform's pairs with cargo_second_class, e.g. 日用百货 / 超市, 果蔬生鲜 / 果蔬, 其他 / 其他.",
    ),
    text(
        "cargo_second_class",
        "Sub-category, paired with cargo_first_class, e.g. 超市.",
    ),
    object(
        "goods_detail",
        "The goods: {goods: [{good_count, good_name, good_price, good_unit}]}.",
    ),
    text("goods_pickup_info", "A note for the rider at pickup."),
    text("goods_delivery_info", "A note for the rider at delivery."),
];

const ORDER_INFO: &[Field] = &[
    text(
        "delivery_service_code",
        "The carrier's service code; SF and Dada leave it out.",
    ),
    integer(
        "order_type",
        0,
        1,
        "0: deliver now (the default); 1: reservation (needs the expected_* times).",
    ),
    integer(
        "order_time",
        0,
        UNIX_MAX,
        "When the order was placed, Unix seconds; SF requires it. Defaults to the start of the run.",
    ),
    integer(
        "expected_delivery_time",
        0,
        UNIX_MAX,
        "Reservation: when to deliver, Unix seconds.",
    ),
    integer(
        "expected_finish_time",
        0,
        UNIX_MAX,
        "Reservation: when delivery should be done, Unix seconds.",
    ),
    integer(
        "expected_pick_time",
        0,
        UNIX_MAX,
        "Reservation: when to pick up, Unix seconds.",
    ),
    text(
        "poi_seq",
        "The store's own order number, shown to the rider.",
    ),
    text("note", "A note on the order."),
    integer(
        "is_insured",
        0,
        1,
        "1: insure the goods (needs declared_value).",
    ),
    positive(
        "declared_value",
        BIG,
        "Declared value in yuan, for insurance.",
    ),
    number("tips", 0.0, BIG, "Tip for the rider in yuan."),
    integer(
        "is_direct_delivery",
        0,
        1,
        "1: deliver directly, no other stops.",
    ),
    number(
        "cash_on_delivery",
        0.0,
        BIG,
        "Cash the rider collects at delivery, in yuan.",
    ),
    number(
        "cash_on_pickup",
        0.0,
        BIG,
        "Cash the rider collects at pickup, in yuan.",
    ),
    integer(
        "rider_pick_method",
        1,
        2,
        "1: from the store to the user; 2: from the user to the store.",
    ),
    integer(
        "is_finish_code_needed",
        0,
        1,
        "1: the recipient gives a code at delivery.",
    ),
    integer(
        "is_pickup_code_needed",
        0,
        1,
        "1: the store gives a code at pickup.",
    ),
];

const SHOP: &[Field] = &[
    text(
        "wxa_path",
        "The Mini Program page the delivery notification opens.",
    ),
    text("img_url", "Picture of the goods, an https URL."),
    text("goods_name", "Name of the goods."),
    integer(
        "goods_count",
        1,
        i64::MAX,
        "How many goods (required without detail_list).",
    ),
    text(
        "wxa_appid",
        "The Mini Program's appid, when it is not the caller.",
    ),
];

/// The five sub-objects of `order/add` that `order:` may override, with their documented
/// fields (the schema is generated from these).
pub const BLOCKS: [Block; 5] = [
    Block {
        key: "sender",
        description: "Where the rider picks up: the store. SF requires it; other carriers may leave it out (`sender: ~`) when the account has a shop_no.",
        fields: ADDRESS,
    },
    Block {
        key: "receiver",
        description: "Where the goods go.",
        fields: ADDRESS,
    },
    Block {
        key: "cargo",
        description: "What is delivered.",
        fields: CARGO,
    },
    Block {
        key: "order_info",
        description: "How the order is delivered.",
        fields: ORDER_INFO,
    },
    Block {
        key: "shop",
        description: "What the recipient's notification shows (not the carrier account: that is the scenario's `shop:`).",
        fields: SHOP,
    },
];

/// A plausible store and customer for test orders.
struct Place {
    name: &'static str,
    city: &'static str,
    address: &'static str,
    address_detail: &'static str,
    phone: &'static str,
    lng: f64,
    lat: f64,
}

impl Place {
    fn json(&self) -> Json {
        json!({
            "name": self.name,
            "city": self.city,
            "address": self.address,
            "address_detail": self.address_detail,
            "phone": self.phone,
            "lng": self.lng,
            "lat": self.lat,
        })
    }
}

const SHENZHEN: [Place; 2] = [
    Place {
        name: "simulate 测试门店",
        city: "深圳市",
        address: "广东省深圳市南山区深南大道9668号",
        address_detail: "华润万象天地 L1-101",
        phone: "0755-86000001",
        lng: 113.947521,
        lat: 22.539102,
    },
    Place {
        name: "测试收件人",
        city: "深圳市",
        address: "广东省深圳市南山区科苑南路2666号",
        address_detail: "中国华润大厦 18楼",
        phone: "13800138000",
        lng: 113.950741,
        lat: 22.516223,
    },
];

const SHANGHAI: [Place; 2] = [
    Place {
        name: "simulate 测试门店",
        city: "上海市",
        address: "上海市黄浦区南京东路800号",
        address_detail: "1楼 101室",
        phone: "021-63500001",
        lng: 121.481462,
        lat: 31.236873,
    },
    Place {
        name: "测试收件人",
        city: "上海市",
        address: "上海市静安区南京西路1266号",
        address_detail: "恒隆广场 21楼",
        phone: "13900139000",
        lng: 121.453821,
        lat: 31.228137,
    },
];

/// The defaults of the five sub-objects for `carrier`, with `order_time` = `timestamp`:
/// Dada's orders are in Shanghai, the others' in Shenzhen.
pub fn defaults(carrier: &Carrier, timestamp: i64) -> Map<String, Json> {
    let [sender, receiver] = if carrier.delivery_id == "DADA" {
        &SHANGHAI
    } else {
        &SHENZHEN
    };
    let mut out = Map::new();
    out.insert("sender".to_owned(), sender.json());
    out.insert("receiver".to_owned(), receiver.json());
    out.insert(
        "cargo".to_owned(),
        json!({
            "goods_value": 36.5,
            "goods_weight": 1.2,
            "cargo_first_class": "日用百货",
            "cargo_second_class": "超市",
            "goods_detail": {
                "goods": [
                    {"good_count": 1, "good_name": "测试商品", "good_price": 36.5, "good_unit": "件"},
                ],
            },
        }),
    );
    out.insert(
        "order_info".to_owned(),
        json!({
            "order_type": 0,
            "order_time": timestamp,
            "is_insured": 0,
            "note": "simulate 测试订单 / test order",
        }),
    );
    out.insert(
        "shop".to_owned(),
        json!({
            "wxa_path": "/pages/order/detail",
            "img_url": "https://simulate.dev/img/goods.png",
            "goods_name": "测试商品",
            "goods_count": 1,
        }),
    );
    out
}

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
            Value::Map(_) => {
                Some(self.fields(node, &ORDER_KEYS, " in `order`", " in `order`", "`order`")?)
            }
            Value::Null => {
                self.error(
                    key,
                    "`order` has no value",
                    Some("write `order: true` to create the order with the defaults, or a mapping of openid, sender, receiver, cargo, order_info, shop to change some of them".to_owned()),
                );
                return None;
            }
            _ => {
                self.wrong_type(
                    node,
                    "order",
                    "",
                    "true, false or a mapping of openid, sender, receiver, cargo, order_info, shop",
                );
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
                    self.wrong_type(value, "openid", " in `order`", "text");
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
            let place = format!(" in `order.{}`", block.key);
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
                    self.wrong_type(value, block.key, " in `order`", "a mapping");
                    ok = false;
                }
            }
        }

        let at = fields.as_ref().and_then(|f| f.key("sender")).unwrap_or(key);
        if let Some(carrier) = carrier {
            let shop_no = (shop == Some(carrier.account.shopid.as_str()))
                .then(|| carrier.account.shop_no.clone())
                .filter(|n| !n.is_empty());
            if !parts.contains_key("sender") {
                if carrier.delivery_id == "SFTC" {
                    self.error(
                        at,
                        format!("{} needs `sender` in `order`", carrier.id),
                        Some("SF's order/add requires the store's address: leave `sender` out for the default, or give its fields".to_owned()),
                    );
                    ok = false;
                } else if shop_no.is_none() {
                    self.error(
                        at,
                        "`order` has no `sender`, and the shop has no shop_no to stand for it",
                        Some(
                            "leave `sender` out for the default store, or give its fields"
                                .to_owned(),
                        ),
                    );
                    ok = false;
                }
            }
            let has_order_time = parts
                .get("order_info")
                .and_then(|o| o.get("order_time"))
                .is_some();
            if carrier.delivery_id == "SFTC" && !has_order_time {
                let at = fields
                    .as_ref()
                    .and_then(|f| f.key("order_info"))
                    .unwrap_or(key);
                self.error(
                    at,
                    format!("{} needs `order_time` in `order.order_info`", carrier.id),
                    Some(
                        "leave `order_time` out for the start of the run, or give Unix seconds"
                            .to_owned(),
                    ),
                );
                ok = false;
            }
            parts.insert("delivery_id".to_owned(), carrier.delivery_id.clone().into());
            if let Some(shop_no) = shop_no {
                parts.insert("shop_no".to_owned(), shop_no.into());
            }
        }
        if let Some(shop) = shop {
            parts.insert("shopid".to_owned(), shop.into());
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

    /// Applies one sub-object's entries over its defaults in `target`; false after a problem.
    fn block_fields(
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
                    self.wrong_type(value, name, place, "text");
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
                    (true, true) => format!("a number above {min}"),
                    (true, false) => format!("a number above {min} and at most {max}"),
                    (false, true) => format!("a number from {min}"),
                    (false, false) => format!("a number from {min} to {max}"),
                };
                let Some(number) = number else {
                    let help = matches!(value.value, Value::Str(_)).then(|| {
                        "write it without quotes: the platform wants JSON numbers, not text"
                            .to_owned()
                    });
                    let found = value.describe();
                    self.error(
                        value,
                        format!("`{name}`{place} must be {expected}, found {found}"),
                        help,
                    );
                    return None;
                };
                let in_range = if above_min {
                    number > min
                } else {
                    number >= min
                } && number <= max;
                if !in_range {
                    let found = value.describe();
                    self.error(
                        value,
                        format!("`{name}`{place} must be {expected}, found {found}"),
                        None,
                    );
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
                    format!("a whole number from {min}")
                } else if max - min == 1 {
                    format!("{min} or {max}")
                } else {
                    format!("a whole number from {min} to {max}")
                };
                match whole {
                    Some(i) if (min..=max).contains(&i) => Some(Json::from(i)),
                    _ => {
                        let help = matches!(value.value, Value::Str(_)).then(|| {
                            "write it without quotes: the platform wants JSON numbers, not text"
                                .to_owned()
                        });
                        let found = value.describe();
                        self.error(
                            value,
                            format!("`{name}`{place} must be {expected}, found {found}"),
                            help,
                        );
                        None
                    }
                }
            }
            Kind::Object => match value.value {
                Value::Map(_) => self.json(value, name, place),
                _ => {
                    self.wrong_type(value, name, place, "a mapping");
                    None
                }
            },
        }
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
                let inner = format!(" in `{key}`{place}");
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
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use serde_json::{Value as Json, json};

    use super::super::{LoadContext, check_text};
    use super::*;
    use crate::carriers::Carriers;
    use crate::plan::{OrderCreate, ScenarioPlan};
    use crate::sign::delivery_sign;

    fn carriers() -> Carriers {
        match Carriers::builtin() {
            Ok(c) => c,
            Err(p) => panic!("{p:?}"),
        }
    }

    fn ctx() -> LoadContext {
        LoadContext {
            run_id: "20261128-221530-ab12".to_owned(),
            timestamp: 1_795_904_130,
            env: BTreeMap::new(),
            seed: 42,
        }
    }

    fn check_with(text: &str, ctx: &LoadContext) -> Result<Vec<ScenarioPlan>, Vec<String>> {
        let loaded = check_text(text, "t.yaml", "t", &carriers(), ctx);
        if loaded.problems.is_empty() {
            Ok(loaded.plans)
        } else {
            Err(loaded.problems.iter().map(ToString::to_string).collect())
        }
    }

    /// The order of a scenario for `carrier` with this `order:` block (YAML, indented by 2).
    fn order_of(carrier: &str, block: &str) -> OrderCreate {
        order_with(carrier, block, &ctx())
    }

    fn order_with(carrier: &str, block: &str, ctx: &LoadContext) -> OrderCreate {
        let text = format!(
            "carrier: {carrier}\nshop_order_id: o-{{{{run_id}}}}\norder:{block}\nsteps: [{{status: 102}}]\n"
        );
        match check_with(&text, ctx) {
            Ok(mut plans) => match plans.remove(0).order {
                Some(order) => order,
                None => panic!("no order:\n{text}"),
            },
            Err(p) => panic!("{}\n{text}", p.join("\n")),
        }
    }

    fn errors(carrier: &str, block: &str) -> Vec<String> {
        let text = format!(
            "carrier: {carrier}\nshop_order_id: o-1\norder:{block}\nsteps: [{{status: 102}}]\n"
        );
        match check_with(&text, &ctx()) {
            Ok(plans) => panic!("accepted: {:?}", plans[0].order),
            Err(p) => p,
        }
    }

    /// Decimals of a JSON number as serialized.
    fn decimals(value: &Json) -> usize {
        let text = value.to_string();
        text.split_once('.').map_or(0, |(_, d)| d.len())
    }

    #[test]
    fn defaults_for_every_carrier() {
        let table = carriers();
        for carrier in table.all() {
            let order = order_of(&carrier.id, " true");
            let body = &order.body;
            assert_eq!(order.line, 3);
            assert_eq!(order.openid, None);
            assert_eq!(body["shopid"], json!(carrier.account.shopid));
            assert_eq!(body["shop_order_id"], json!("o-20261128-221530-ab12"));
            assert_eq!(body["delivery_id"], json!(carrier.delivery_id));
            assert_eq!(body["shop_no"], json!(carrier.account.shop_no));
            assert!(body.get("delivery_sign").is_none());
            assert!(body.get("openid").is_none());
            for side in ["sender", "receiver"] {
                for key in ["name", "city", "address", "address_detail", "phone"] {
                    assert!(body[side][key].as_str().is_some_and(|s| !s.is_empty()));
                }
                for key in ["lng", "lat"] {
                    assert!(body[side][key].is_f64(), "{side}.{key}");
                    assert_eq!(decimals(&body[side][key]), 6, "{side}.{key}");
                }
            }
            let cargo = &body["cargo"];
            assert!(
                cargo["goods_value"]
                    .as_f64()
                    .is_some_and(|v| v > 0.0 && v <= 5000.0)
            );
            assert!(
                cargo["goods_weight"]
                    .as_f64()
                    .is_some_and(|v| v > 0.0 && v <= 50.0)
            );
            assert_eq!(
                (&cargo["cargo_first_class"], &cargo["cargo_second_class"]),
                (&json!("日用百货"), &json!("超市"))
            );
            assert!(cargo["goods_detail"]["goods"][0]["good_count"].is_u64());
            assert_eq!(body["order_info"]["order_type"], json!(0));
            assert_eq!(body["order_info"]["order_time"], json!(1_795_904_130));
            assert_eq!(body["order_info"]["is_insured"], json!(0));
            for key in ["wxa_path", "img_url", "goods_name"] {
                assert!(body["shop"][key].is_string(), "shop.{key}");
            }
            assert_eq!(body["shop"]["goods_count"], json!(1));
            // Only fields order/add documents.
            let keys: Vec<&str> = body
                .as_object()
                .map(|m| m.keys().map(String::as_str).collect())
                .unwrap_or_default();
            assert_eq!(
                keys,
                [
                    "cargo",
                    "delivery_id",
                    "order_info",
                    "receiver",
                    "sender",
                    "shop",
                    "shop_no",
                    "shop_order_id",
                    "shopid"
                ]
            );
        }
        assert_eq!(
            order_of("dada", " {}").body["sender"]["city"],
            json!("上海市")
        );
        assert_eq!(
            order_of("sf", " {}").body["sender"]["city"],
            json!("深圳市")
        );
    }

    #[test]
    fn no_order_block_or_false_means_no_order() {
        for text in [
            "carrier: dada\nshop_order_id: x\nsteps: [{status: 102}]\n",
            "carrier: dada\nshop_order_id: x\norder: false\nsteps: [{status: 102}]\n",
        ] {
            match check_with(text, &ctx()) {
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
        let plans = match check_with(text, &ctx()) {
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
        let p = match check_with(text, &ctx()) {
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
        let e = errors("dada", "\n  reciever: {name: x}\n  opneid: o\n");
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

        let e = errors("dada", "");
        assert!(
            e[0].starts_with("t.yaml:3:1: error: `order` has no value"),
            "{e:#?}"
        );
        assert!(e[0].contains("order: true"), "{e:#?}");
        let e = errors("dada", " yes");
        assert!(
            e[0].contains("`order` must be true, false or a mapping of openid, sender"),
            "{e:#?}"
        );
        let e = errors("dada", "\n  receiver: [a]\n  openid: [o]\n  cargo:\n");
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
        let e = errors("dada", "\n  openid: \"\"\n");
        assert!(e[0].contains("`openid` in `order` is empty"), "{e:#?}");
    }

    #[test]
    fn wrong_fields_are_located() {
        let e = errors(
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
    fn sf_needs_a_sender_and_an_order_time() {
        let e = errors("sf", "\n  sender: ~\n  order_info: {order_time: ~}\n");
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
    fn pass_through_values_are_checked_too() {
        let e = errors(
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

    #[test]
    fn every_block_documents_its_fields() {
        for block in &BLOCKS {
            assert!(!block.description.is_empty());
            for field in block.fields {
                assert!(
                    field.description.ends_with('.'),
                    "{}.{}",
                    block.key,
                    field.name
                );
            }
        }
        let keys: Vec<&str> = BLOCKS.iter().map(|b| b.key).collect();
        assert_eq!(keys, ORDER_KEYS[1..]);
    }

    /// The default body of every carrier, signed as the runner will, is accepted by the
    /// emulator's order/add, and the first realmock/test update then moves the order.
    #[tokio::test]
    async fn the_emulator_accepts_the_default_orders() {
        let table = Arc::new(carriers());
        let emulator = match crate::emulator::Emulator::start(
            ([127, 0, 0, 1], 0).into(),
            table.clone(),
            crate::emulator::Config::default(),
        )
        .await
        {
            Ok(e) => e,
            Err(e) => panic!("{e}"),
        };
        let token = emulator.issue_token().expose().to_owned();
        let http = match reqwest::Client::builder()
            .no_proxy()
            .timeout(std::time::Duration::from_secs(10))
            .build()
        {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let post = |path: String, body: Json| {
            let request = http
                .post(format!(
                    "{}{path}?access_token={token}",
                    emulator.base_url()
                ))
                .json(&body);
            async move {
                match request.send().await {
                    Ok(r) => r.json::<Json>().await.unwrap_or_else(|e| panic!("{e}")),
                    Err(e) => panic!("{e}"),
                }
            }
        };
        let mut ctx = ctx();
        ctx.timestamp = chrono::Utc::now().timestamp();
        let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios/sf_order_created.yaml");
        let sample = match super::super::load_plan(&[sample], &table, &ctx) {
            Ok(plan) => plan.scenarios,
            Err(p) => panic!("{p:#?}"),
        };
        let mut plans_of: Vec<Vec<ScenarioPlan>> = vec![sample];
        for carrier in table.all() {
            for block in [
                " true",
                "\n  receiver: {name: 王五}\n  openid: oTESTopenid\n",
            ] {
                let text = format!(
                    "carrier: {}\nshop_order_id: \"{{{{scenario}}}}-{{{{repeat}}}}-{{{{uuid}}}}\"\nrepeat: 2\norder:{block}\nsteps: [{{status: 102}}]\n",
                    carrier.id
                );
                let plans = match check_with(&text, &ctx) {
                    Ok(p) => p,
                    Err(p) => panic!("{p:#?}"),
                };
                assert_eq!(plans.len(), 2);
                plans_of.push(plans);
            }
        }
        for plan in plans_of.iter().flatten() {
            let Some(order) = &plan.order else {
                panic!("no order")
            };
            let sign = delivery_sign(&plan.shopid, Some(&plan.shop_order_id), &plan.appsecret);
            let body = order.signed_body(&sign, Some("oLOCALopenid"));
            let answer = post(
                "/cgi-bin/express/local/business/order/add".to_owned(),
                body.clone(),
            )
            .await;
            assert_eq!(
                answer["errcode"].as_i64().unwrap_or(0),
                0,
                "{answer}\n{body:#}"
            );
            assert_eq!(answer["resultcode"].as_i64(), Some(0), "{answer}");
            assert!(answer["waybill_id"].is_string(), "{answer}");
            assert_eq!(answer["order_status"], json!(101), "{answer}");
            let mut update = json!({
                "shopid": plan.shopid,
                "shop_order_id": plan.shop_order_id,
                "order_status": plan.steps[0].status.code(),
                "action_time": chrono::Utc::now().timestamp(),
                "action_msg": "",
            });
            if plan.carrier.call == crate::carriers::Call::Realmock {
                update["delivery_sign"] = json!(sign);
            }
            let answer = post(plan.carrier.call.path().to_owned(), update).await;
            assert_eq!(answer["errcode"].as_i64().unwrap_or(0), 0, "{answer}");
            assert_eq!(answer["resultcode"].as_i64(), Some(0), "{answer}");
        }
        emulator.shutdown().await;
    }
}
