//! The sub-objects of `order/add` (and `pre_add`, `readd`), checked as the platform documents
//! them: `sender` / `receiver`, `cargo`, `order_info` and `shop`. A bad field is `930561 args
//! error` naming it; a bad `shop` is `9300535`.

use serde_json::{Map, Value};

use crate::emulator::orders::Point;
use crate::emulator::wire::Reply;
use crate::wechat::api::{CARGO_CLASSES, GOODS_VALUE_MAX, GOODS_WEIGHT_MAX};
use crate::wechat::errcode;

type Object = Map<String, Value>;

fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("the string \"{s}\""),
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
        Value::Number(n) => format!("the number {n}"),
    }
}

/// A required non-empty string of at most `max` characters.
fn text<'a>(object: &'a Object, block: &str, name: &str, max: usize) -> Result<&'a str, Reply> {
    match object.get(name) {
        None | Some(Value::Null) => Err(Reply::args(format!("{block}.{name} is missing"))),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(Reply::args(format!("{block}.{name} is empty")))
        }
        Some(Value::String(s)) if s.chars().count() > max => Err(Reply::args(format!(
            "{block}.{name} is longer than {max} characters"
        ))),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(Reply::args(format!(
            "{block}.{name} must be a string, got {}",
            describe(other)
        ))),
    }
}

/// An optional string.
fn opt_text(object: &Object, block: &str, name: &str) -> Result<(), Reply> {
    match object.get(name) {
        None | Some(Value::Null) | Some(Value::String(_)) => Ok(()),
        Some(other) => Err(Reply::args(format!(
            "{block}.{name} must be a string, got {}",
            describe(other)
        ))),
    }
}

/// A required JSON number (a number in a string is refused, as the platform does).
fn number(object: &Object, block: &str, name: &str) -> Result<f64, Reply> {
    match object.get(name) {
        None | Some(Value::Null) => Err(Reply::args(format!("{block}.{name} is missing"))),
        Some(Value::Number(n)) => n
            .as_f64()
            .ok_or_else(|| Reply::args(format!("{block}.{name} is not a usable number"))),
        Some(other) => Err(Reply::args(format!(
            "{block}.{name} must be a JSON number, got {}; send numbers unquoted",
            describe(other)
        ))),
    }
}

fn opt_number(object: &Object, block: &str, name: &str) -> Result<Option<f64>, Reply> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => number(object, block, name).map(Some),
    }
}

/// An optional whole number.
fn opt_integer(object: &Object, block: &str, name: &str) -> Result<Option<i64>, Reply> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| Reply::args(format!("{block}.{name} must be a whole number, got {n}"))),
        Some(other) => Err(Reply::args(format!(
            "{block}.{name} must be a whole number, got {}",
            describe(other)
        ))),
    }
}

/// `sender` or `receiver`: name (≤256), phone (≤64), lng and lat as numbers in range.
pub(super) fn party(object: &Object, block: &str) -> Result<Point, Reply> {
    text(object, block, "name", 256)?;
    text(object, block, "phone", 64)?;
    for name in ["city", "address", "address_detail"] {
        opt_text(object, block, name)?;
    }
    let lng = number(object, block, "lng")?;
    let lat = number(object, block, "lat")?;
    if !(-180.0..=180.0).contains(&lng) {
        return Err(Reply::args(format!(
            "{block}.lng {lng} is not a longitude (-180..180)"
        )));
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err(Reply::args(format!(
            "{block}.lat {lat} is not a latitude (-90..90)"
        )));
    }
    if let Some(kind) = opt_integer(object, block, "coordinate_type")?
        && !(0..=1).contains(&kind)
    {
        return Err(Reply::args(format!(
            "{block}.coordinate_type {kind} is not 0 (GCJ-02) or 1 (Baidu)"
        )));
    }
    Ok(Point { lng, lat })
}

/// `cargo`: goods_value in (0, 5000] yuan, goods_weight in (0, 50] kg, and a known first
/// category with a second one. Returns the goods value.
pub(super) fn cargo(object: &Object) -> Result<f64, Reply> {
    let value = number(object, "cargo", "goods_value")?;
    if !(value > 0.0 && value <= GOODS_VALUE_MAX) {
        return Err(Reply::args(format!(
            "cargo.goods_value {value} is outside (0, {GOODS_VALUE_MAX}] yuan"
        )));
    }
    let weight = number(object, "cargo", "goods_weight")?;
    if !(weight > 0.0 && weight <= GOODS_WEIGHT_MAX) {
        return Err(Reply::args(format!(
            "cargo.goods_weight {weight} is outside (0, {GOODS_WEIGHT_MAX}] kg"
        )));
    }
    for name in ["goods_height", "goods_length", "goods_width"] {
        if let Some(size) = opt_number(object, "cargo", name)?
            && size <= 0.0
        {
            return Err(Reply::args(format!(
                "cargo.{name} {size} must be more than 0 cm"
            )));
        }
    }
    let first = text(object, "cargo", "cargo_first_class", 64)?;
    let second = text(object, "cargo", "cargo_second_class", 64)?;
    let Some((_, seconds)) = CARGO_CLASSES.iter().find(|(name, _)| *name == first) else {
        let known: Vec<&str> = CARGO_CLASSES.iter().map(|(name, _)| *name).collect();
        return Err(Reply::error(
            errcode::CARGO_CLASS_INVALID,
            format!(
                "cargo_first_class or cargo_second_class invalid: {first} is not a first-level category; known: {}",
                known.join(", ")
            ),
        ));
    };
    if !seconds.contains(&second) {
        return Err(Reply::error(
            errcode::CARGO_CLASS_INVALID,
            format!(
                "cargo_first_class or cargo_second_class invalid: {second} is not under {first}, whose categories are {}",
                seconds.join(", ")
            ),
        ));
    }
    Ok(value)
}

/// A time field in Unix seconds (not milliseconds, not a string).
fn seconds(object: &Object, name: &str) -> Result<Option<i64>, Reply> {
    let Some(value) = opt_integer(object, "order_info", name)? else {
        return Ok(None);
    };
    if value >= 100_000_000_000 {
        return Err(Reply::args(format!(
            "order_info.{name} {value} looks like milliseconds; send Unix seconds ({})",
            value / 1000
        )));
    }
    if value <= 0 {
        return Err(Reply::args(format!(
            "order_info.{name} {value} must be a positive Unix time in seconds"
        )));
    }
    Ok(Some(value))
}

/// `order_info`: `order_type` 0 or 1; a reservation (1) needs `expected_delivery_time` in the
/// future, and the pick-up time before it; every time in Unix seconds; `tips` 0 or more.
/// Returns the tip.
pub(super) fn order_info(object: &Object, now: i64) -> Result<f64, Reply> {
    let order_type = opt_integer(object, "order_info", "order_type")?.unwrap_or(0);
    if !(0..=1).contains(&order_type) {
        return Err(Reply::args(format!(
            "order_info.order_type {order_type} is not 0 (immediate) or 1 (reservation)"
        )));
    }
    seconds(object, "order_time")?;
    let delivery = seconds(object, "expected_delivery_time")?;
    let finish = seconds(object, "expected_finish_time")?;
    let pick = seconds(object, "expected_pick_time")?;
    if order_type == 1 {
        let Some(delivery) = delivery else {
            return Err(Reply::args(
                "order_info.expected_delivery_time is required for a reservation (order_type 1)",
            ));
        };
        for (name, time) in [
            ("expected_delivery_time", Some(delivery)),
            ("expected_finish_time", finish),
            ("expected_pick_time", pick),
        ] {
            if let Some(time) = time
                && time <= now
            {
                return Err(Reply::args(format!(
                    "order_info.{name} {time} is not in the future (now {now}); a reservation is for later"
                )));
            }
        }
        if let Some(pick) = pick
            && pick > delivery
        {
            return Err(Reply::args(format!(
                "order_info.expected_pick_time {pick} is after expected_delivery_time {delivery}"
            )));
        }
    }
    let tips = opt_number(object, "order_info", "tips")?.unwrap_or(0.0);
    if tips < 0.0 {
        return Err(Reply::args(format!("order_info.tips {tips} is negative")));
    }
    Ok(tips)
}

/// `shop`: `img_url` an http(s) URL, `goods_name` and `goods_count` (at least 1), unless a
/// `detail_list` gives the goods. Anything wrong is 9300535.
pub(super) fn shop(object: &Object) -> Result<(), Reply> {
    let bad = |why: String| {
        Reply::error(
            errcode::SHOP_FIELDS_INVALID,
            format!("shop img_url, goods_name or goods_count invalid: {why}"),
        )
    };
    match object.get("img_url") {
        Some(Value::String(url)) if url.starts_with("http://") || url.starts_with("https://") => {}
        Some(other) => {
            return Err(bad(format!(
                "img_url must be an http(s) URL, got {}",
                describe(other)
            )));
        }
        None => return Err(bad("img_url is missing".to_owned())),
    }
    let listed = object
        .get("detail_list")
        .and_then(Value::as_array)
        .is_some_and(|list| !list.is_empty());
    if listed {
        return Ok(());
    }
    match object.get("goods_name") {
        Some(Value::String(name)) if !name.trim().is_empty() => {}
        Some(other) => {
            return Err(bad(format!(
                "goods_name must be a non-empty string, got {}",
                describe(other)
            )));
        }
        None => return Err(bad("goods_name is missing".to_owned())),
    }
    match object.get("goods_count").and_then(Value::as_i64) {
        Some(count) if count >= 1 => Ok(()),
        _ => Err(bad(format!(
            "goods_count must be a whole number of at least 1, got {}",
            object
                .get("goods_count")
                .map_or("nothing".to_owned(), describe)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Object {
        match value {
            Value::Object(map) => map,
            other => panic!("{other}"),
        }
    }

    fn code(result: Result<impl Sized, Reply>) -> Option<i64> {
        result.err().and_then(|r| r.verdict.errcode)
    }

    #[test]
    fn parties_need_numeric_coordinates() {
        let good = object(json!({"name": "a", "phone": "1", "lng": 113.3, "lat": 23.1}));
        assert!(party(&good, "sender").is_ok());
        let quoted = object(json!({"name": "a", "phone": "1", "lng": "113.3", "lat": 23.1}));
        assert_eq!(code(party(&quoted, "sender")), Some(930561));
        let no_phone = object(json!({"name": "a", "lng": 113.3, "lat": 23.1}));
        assert_eq!(code(party(&no_phone, "receiver")), Some(930561));
        let far = object(json!({"name": "a", "phone": "1", "lng": 200.0, "lat": 23.1}));
        assert_eq!(code(party(&far, "receiver")), Some(930561));
    }

    #[test]
    fn cargo_ranges_and_categories() {
        let good = json!({"goods_value": 36.5, "goods_weight": 1.2, "cargo_first_class": "日用百货", "cargo_second_class": "超市"});
        assert_eq!(cargo(&object(good.clone())).ok(), Some(36.5));
        for (key, value, expected) in [
            ("goods_value", json!(0), 930561),
            ("goods_value", json!(5000.5), 930561),
            ("goods_weight", json!(51), 930561),
            ("cargo_second_class", json!(""), 930561),
            // Not in the platform's table, or under another first level.
            ("cargo_first_class", json!("火箭"), 930570),
            ("cargo_first_class", json!("快餐"), 930570),
            ("cargo_second_class", json!("果蔬"), 930570),
        ] {
            let mut bad = object(good.clone());
            bad.insert(key.to_owned(), value);
            assert_eq!(code(cargo(&bad)), Some(expected), "{key}");
        }
        // Every pair of the table is taken.
        for (first, seconds) in CARGO_CLASSES {
            for second in seconds {
                let mut pair = object(good.clone());
                pair.insert("cargo_first_class".into(), json!(first));
                pair.insert("cargo_second_class".into(), json!(second));
                assert!(cargo(&pair).is_ok(), "{first} / {second}");
            }
        }
    }

    #[test]
    fn reservations_and_times() {
        let now = 1_800_000_000;
        assert!(order_info(&object(json!({"order_type": 0})), now).is_ok());
        let no_time = object(json!({"order_type": 1}));
        assert_eq!(code(order_info(&no_time, now)), Some(930561));
        let past = object(json!({"order_type": 1, "expected_delivery_time": now - 5}));
        assert_eq!(code(order_info(&past, now)), Some(930561));
        let later = object(json!({"order_type": 1, "expected_delivery_time": now + 3600}));
        assert!(order_info(&later, now).is_ok());
        let millis = object(json!({"order_time": now * 1000}));
        assert_eq!(code(order_info(&millis, now)), Some(930561));
    }

    #[test]
    fn a_bad_shop_is_9300535() {
        let good = json!({"img_url": "https://x/y.png", "goods_name": "n", "goods_count": 1});
        assert!(shop(&object(good.clone())).is_ok());
        for (key, value) in [
            ("img_url", json!("ftp://x")),
            ("goods_name", json!("")),
            ("goods_count", json!(0)),
        ] {
            let mut bad = object(good.clone());
            bad.insert(key.to_owned(), value);
            assert_eq!(code(shop(&bad)), Some(9300535), "{key}");
        }
    }
}
