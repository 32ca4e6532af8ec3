//! `order/add`, `order/pre_add`, `order/get` and `order/cancel`.

use serde_json::{Map, Value, json};

use super::{Api, Ctx, apply, args, bound_carrier, check_sign, ended, find, sign_field};
use crate::emulator::orders::{NewOrder, Point};
use crate::emulator::wire::{Fields, Reply, now_unix};
use crate::model::carriers::Required;
use crate::model::statuses::Status;
use crate::wechat::errcode;

fn point(object: Option<&Map<String, Value>>) -> Option<Point> {
    let object = object?;
    let lng = object.get("lng")?.as_f64()?;
    let lat = object.get("lat")?.as_f64()?;
    Some(Point { lng, lat })
}

/// Straight-line distance in metres.
fn distance_m(a: Point, b: Point) -> f64 {
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = lat2 - lat1;
    let dlng = (b.lng - a.lng).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlng / 2.0).sin().powi(2);
    2.0 * 6_371_000.0 * h.sqrt().asin()
}

/// `order/add` and `order/pre_add` (which quotes without creating).
pub(super) fn add(ctx: &mut Ctx<'_>, fields: &Fields, create: bool) -> Result<Reply, Reply> {
    let shopid = args(fields.string("shopid"))?;
    let shop_order_id = args(fields.string("shop_order_id"))?;
    if shop_order_id.len() > 128 {
        return Err(Reply::args("shop_order_id is longer than 128 bytes"));
    }
    let delivery_id = args(fields.string("delivery_id"))?;
    let sign = sign_field(fields)?;
    args(fields.string("openid"))?;
    let sender = args(fields.opt_object("sender"))?;
    let receiver = args(fields.object("receiver"))?;
    args(fields.object("cargo"))?;
    let order_info = args(fields.object("order_info"))?;
    args(fields.object("shop"))?;
    let shop_no = args(fields.opt_string("shop_no"))?;
    args(fields.opt_string("delivery_token"))?;
    args(fields.opt_string("sub_biz_id"))?;
    let carrier = bound_carrier(ctx, shopid, delivery_id)?;
    // The carrier profile's `required.order_add`, which the scenario checks read too.
    if let Some(path) = Required::missing(&carrier.required.order_add, fields.body()) {
        return Err(Reply::args(format!(
            "{path} is required for {}",
            carrier.delivery_id
        )));
    }
    let key = (shopid.to_owned(), shop_order_id.to_owned());
    if create && ctx.book.orders.contains_key(&key) {
        return Err(Reply::error(
            errcode::ORDER_EXISTS,
            format!("order exists: {shopid}/{shop_order_id} was already added"),
        ));
    }
    let zeros = Map::from_iter([
        ("fee".to_owned(), json!(0)),
        ("waybill_id".to_owned(), json!("")),
    ]);
    check_sign(&carrier, shopid, shop_order_id, sign, zeros)?;

    let store = point(sender);
    let destination = point(Some(receiver));
    let distance = match (store, destination) {
        (Some(a), Some(b)) => distance_m(a, b).round(),
        _ => 3000.0,
    };
    let tips = order_info
        .get("tips")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    // A plausible tariff: 6 yuan plus 2 per km, in fen-precise yuan.
    let deliverfee = ((6.0 + 2.0 * distance / 1000.0) * 100.0).round() / 100.0;
    let mut fields_out = Map::from_iter([
        ("fee".to_owned(), json!(deliverfee + tips)),
        ("deliverfee".to_owned(), json!(deliverfee)),
        ("couponfee".to_owned(), json!(0)),
        ("tips".to_owned(), json!(tips)),
        ("distance".to_owned(), json!(distance)),
        ("dispatch_duration".to_owned(), json!(300)),
    ]);
    if !create {
        fields_out.insert("insurancefee".into(), json!(0));
        fields_out.insert(
            "delivery_token".into(),
            json!(uuid::Uuid::new_v4().simple().to_string()),
        );
        return Ok(Reply::ok(fields_out));
    }
    let order = ctx.book.create(NewOrder {
        carrier,
        shopid,
        shop_order_id,
        shop_no,
        store,
        destination,
        via: Api::Add.name(),
    });
    fields_out.insert("insurancfee".into(), json!(0)); // sic: the platform's spelling
    fields_out.insert("waybill_id".into(), json!(order.waybill_id));
    fields_out.insert("order_status".into(), json!(order.status.code()));
    let wants = |name: &str| order_info.get(name).and_then(Value::as_i64) == Some(1);
    // Four digits the rider asks for, taken from the waybill so they stay stable.
    let digits = order.waybill_id.chars().count().saturating_sub(4);
    let code: String = order.waybill_id.chars().skip(digits).collect();
    if wants("is_finish_code_needed") {
        fields_out.insert("finish_code".into(), json!(code));
    }
    if wants("is_pickup_code_needed") {
        fields_out.insert("pickup_code".into(), json!(code));
    }
    Ok(Reply::ok(fields_out))
}

/// `order/get`.
pub(super) fn get(ctx: &mut Ctx<'_>, fields: &Fields) -> Result<Reply, Reply> {
    let shopid = args(fields.string("shopid"))?;
    let shop_order_id = args(fields.string("shop_order_id"))?;
    let sign = sign_field(fields)?;
    args(fields.opt_string("shop_no"))?;
    let order = find(&mut ctx.book, shopid, shop_order_id)?;
    check_sign(&order.carrier, shopid, shop_order_id, sign, Map::new())?;
    let position = order.rider_position();
    let (name, phone) = if order.rider_assigned {
        (order.rider.name.clone(), order.rider.phone.clone())
    } else {
        (String::new(), String::new())
    };
    let mut out = Map::from_iter([
        ("order_status".to_owned(), json!(order.status.code())),
        ("waybill_id".to_owned(), json!(order.waybill_id)),
        ("rider_name".to_owned(), json!(name)),
        ("rider_phone".to_owned(), json!(phone)),
        (
            "rider_lng".to_owned(),
            json!(position.map_or(0.0, |p| p.lng)),
        ),
        (
            "rider_lat".to_owned(),
            json!(position.map_or(0.0, |p| p.lat)),
        ),
    ]);
    if let Some(reach) = order.reach_time {
        // Seconds remaining, per the getOrder documentation.
        out.insert("reach_time".into(), json!((reach - now_unix()).max(0)));
    }
    Ok(Reply::ok(out))
}

/// `order/cancel`: 101/102 → 103 (before pickup), 201 → 203 (during pickup), 202/301 → 303
/// (the rider holds the goods, so they go back). Returning orders (303/304/305) cannot be
/// cancelled (9103); ended ones answer 930565. The move must exist in the shared lifecycle,
/// but need not be in the carrier's realmock set: cancels come from the merchant, not from
/// the carrier's test tool.
pub(super) fn cancel(ctx: &mut Ctx<'_>, fields: &Fields) -> Result<Reply, Reply> {
    let shopid = args(fields.string("shopid"))?;
    let shop_order_id = args(fields.string("shop_order_id"))?;
    let delivery_id = args(fields.string("delivery_id"))?;
    let reason_id = args(fields.integer("cancel_reason_id"))?;
    if !(1..=6).contains(&reason_id) {
        return Err(Reply::args(format!(
            "cancel_reason_id {reason_id} is not 1..6"
        )));
    }
    let reason = args(fields.opt_string("cancel_reason"))?;
    if reason_id == 6 && reason.is_none_or(str::is_empty) {
        return Err(Reply::args(
            "cancel_reason is required when cancel_reason_id is 6",
        ));
    }
    let sign = sign_field(fields)?;
    args(fields.opt_string("shop_no"))?;
    let waybill = args(fields.opt_string("waybill_id"))?;
    let lifecycle = ctx.shared.carriers.lifecycle.clone();
    let pusher = ctx.shared.pusher.clone();
    let appid = ctx.shared.appid.clone();
    let book_ref = ctx.book_ref;
    let order = find(&mut ctx.book, shopid, shop_order_id)?;
    if order.carrier.delivery_id != delivery_id {
        return Err(Reply::error(
            errcode::ORDER_NOT_FOUND,
            format!(
                "order not exists: {shop_order_id} is a {} order, not {delivery_id}",
                order.carrier.delivery_id
            ),
        ));
    }
    if let Some(path) = Required::missing(&order.carrier.required.order_cancel, fields.body()) {
        return Err(Reply::args(format!(
            "{path} is required for {}",
            order.carrier.delivery_id
        )));
    }
    match waybill {
        Some(w) if w != order.waybill_id => {
            return Err(Reply::args(format!(
                "waybill_id {w} is not this order's ({})",
                order.waybill_id
            )));
        }
        _ => {}
    }
    if order.status.is_terminal() {
        return Err(ended(order));
    }
    check_sign(&order.carrier, shopid, shop_order_id, sign, Map::new())?;
    let from = order.status;
    let to = match from {
        Status::AwaitingRider | Status::RiderAssigned => Status::MerchantCancelled,
        Status::AtStore => Status::PickupCancelledByMerchant,
        Status::PickedUp | Status::Delivering => Status::ReturningMerchantCancelled,
        _ => {
            return Err(Reply::carrier(
                errcode::result::CANCEL_WHILE_RETURNING,
                format!(
                    "cannot cancel: the goods are already returning to the merchant (status {} {}); wait for 401",
                    from.code(),
                    from.name()
                ),
                Map::new(),
            ));
        }
    };
    if !lifecycle.next(from).contains(&to) {
        return Err(Reply::carrier(
            errcode::result::TRANSITION_NOT_ALLOWED,
            format!(
                "cannot cancel from {} {}: the lifecycle has no move to {} {}",
                from.code(),
                from.name(),
                to.code(),
                to.name()
            ),
            Map::new(),
        ));
    }
    let deduct_fee = if order.rider_assigned { 2.0 } else { 0.0 };
    let message = reason.unwrap_or("商家取消").to_owned();
    let change = apply(
        order,
        to,
        now_unix(),
        &message,
        pusher.as_ref(),
        book_ref,
        &appid,
    );
    ctx.effects.change = Some(change);
    Ok(Reply::ok(Map::from_iter([
        ("deduct_fee".to_owned(), json!(deduct_fee)),
        (
            "desc".to_owned(),
            json!(format!("cancelled: {} {}", to.code(), to.name())),
        ),
    ])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_is_roughly_right() {
        let a = Point {
            lng: 113.0,
            lat: 23.0,
        };
        let b = Point {
            lng: 113.0,
            lat: 23.01,
        };
        let d = distance_m(a, b);
        assert!((1100.0..1125.0).contains(&d), "{d}");
    }
}
