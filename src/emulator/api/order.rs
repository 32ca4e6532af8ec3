//! `order/add`, `order/pre_add`, `order/readd`, `order/get`, `order/precancel` and
//! `order/cancel`.

use serde_json::{Map, Value, json};

use super::{
    Api, Ctx, Move, apply, args, bound_carrier, check_sign, check_waybill, checks, ended, find,
    sign_field,
};
use crate::emulator::orders::{DeliveryToken, Key, NewOrder, Order, Point};
use crate::emulator::wire::{Fields, Reply, now_unix};
use crate::model::carriers::Required;
use crate::model::carriers::rules::READD_FROM;
use crate::model::statuses::Status;
use crate::wechat::errcode;

/// Straight-line distance in metres.
fn distance_m(a: Point, b: Point) -> f64 {
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = lat2 - lat1;
    let dlng = (b.lng - a.lng).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlng / 2.0).sin().powi(2);
    2.0 * 6_371_000.0 * h.sqrt().asin()
}

/// What an `order/add`-shaped call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// `order/pre_add`: quotes, creates nothing.
    Quote,
    /// `order/add`.
    Create,
    /// `order/readd`: an ended order of that id starts again with a new waybill.
    Redispatch,
}

/// `order/add`, `order/pre_add` and `order/readd`.
pub(super) fn add(ctx: &mut Ctx<'_>, fields: &Fields, mode: Mode) -> Result<Reply, Reply> {
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
    let cargo = args(fields.object("cargo"))?;
    let order_info = args(fields.object("order_info"))?;
    let shop = args(fields.object("shop"))?;
    let shop_no = args(fields.opt_string("shop_no"))?;
    let delivery_token = args(fields.opt_string("delivery_token"))?;
    args(fields.opt_string("sub_biz_id"))?;
    let carrier = bound_carrier(ctx, shopid, delivery_id)?;
    // The carrier profile's `required.order_add`, which the scenario checks read too.
    if let Some(path) = Required::missing(&carrier.required.order_add, fields.body()) {
        return Err(Reply::args(format!(
            "{path} is required for {}",
            carrier.delivery_id
        )));
    }
    let store = sender.map(|s| checks::party(s, "sender")).transpose()?;
    let destination = checks::party(receiver, "receiver")?;
    let goods_value = checks::cargo(cargo)?;
    let now = now_unix();
    let tips = checks::order_info(order_info, now)?;
    checks::shop(shop)?;
    let key = (shopid.to_owned(), shop_order_id.to_owned());
    match (mode, ctx.book.orders.get(&key)) {
        (Mode::Create, Some(_)) => {
            return Err(Reply::error(
                errcode::ORDER_EXISTS,
                format!("order exists: {shopid}/{shop_order_id} was already added"),
            ));
        }
        (Mode::Redispatch, None) => return Err(super::not_found(shopid, shop_order_id)),
        (Mode::Redispatch, Some(order)) => redispatchable(order)?,
        _ => {}
    }
    let zeros = Map::from_iter([
        ("fee".to_owned(), json!(0)),
        ("waybill_id".to_owned(), json!("")),
    ]);
    check_sign(&carrier, shopid, shop_order_id, sign, zeros)?;
    if mode != Mode::Quote
        && let Some(token) = delivery_token
    {
        take_delivery_token(ctx, token, &key, now)?;
    }

    let distance = match store {
        Some(a) => distance_m(a, destination).round() as i64,
        None => 3000,
    };
    // A plausible tariff: 6 yuan plus 2 per km, in fen-precise yuan.
    let deliverfee = ((6.0 + 2.0 * distance as f64 / 1000.0) * 100.0).round() / 100.0;
    let mut fields_out = Map::from_iter([
        ("fee".to_owned(), json!(deliverfee + tips)),
        ("deliverfee".to_owned(), json!(deliverfee)),
        ("couponfee".to_owned(), json!(0)),
        ("tips".to_owned(), json!(tips)),
        // An integer number of metres, as documented: typed decoders refuse 1246.0.
        ("distance".to_owned(), json!(distance)),
        ("dispatch_duration".to_owned(), json!(300)),
    ]);
    if mode == Mode::Quote && !carrier.order_rules.quote {
        return Ok(Reply::ok(Map::new()));
    }
    if mode == Mode::Quote {
        fields_out.insert("insurancefee".into(), json!(0));
        // Only carriers whose rules say so issue one (Dada); the others quote without.
        if let Some(valid) = carrier.order_rules.delivery_token_seconds {
            let token = uuid::Uuid::new_v4().simple().to_string();
            let expires = now.saturating_add(i64::try_from(valid).unwrap_or(i64::MAX));
            // Expired ones are let go, so that quotes never pile up.
            ctx.book.delivery_tokens.retain(|_, t| t.expires >= now);
            ctx.book
                .delivery_tokens
                .insert(token.clone(), DeliveryToken { key, expires });
            fields_out.insert("delivery_token".into(), json!(token));
        }
        return Ok(Reply::ok(fields_out));
    }
    let order = ctx.book.create(NewOrder {
        carrier,
        shopid,
        shop_order_id,
        shop_no,
        store,
        destination: Some(destination),
        tips,
        goods_value,
        via: match mode {
            Mode::Redispatch => Api::ReAdd.name(),
            _ => Api::Add.name(),
        },
    });
    fields_out.insert("insurancfee".into(), json!(0)); // sic: the platform's spelling
    fields_out.insert("waybill_id".into(), json!(order.waybill_id));
    fields_out.insert("order_status".into(), json!(order.status.code()));
    let wants = |name: &str| order_info.get(name).and_then(Value::as_i64) == Some(1);
    // Four digits the rider asks for, from the waybill so they stay stable; a number, as
    // documented.
    let digits = order.waybill_id.chars().count().saturating_sub(4);
    let code: String = order.waybill_id.chars().skip(digits).collect();
    let code: i64 = code.parse().unwrap_or(1000);
    if wants("is_finish_code_needed") {
        fields_out.insert("finish_code".into(), json!(code));
    }
    if wants("is_pickup_code_needed") {
        fields_out.insert("pickup_code".into(), json!(code));
    }
    Ok(Reply::ok(fields_out))
}

/// `order/readd` takes an order that ended cancelled or after a delivery exception, of a
/// carrier that re-dispatches.
fn redispatchable(order: &Order) -> Result<(), Reply> {
    if !order.carrier.order_rules.readd {
        return Err(Reply::carrier(
            errcode::result::READD_NOT_SUPPORTED,
            format!(
                "{} does not re-dispatch orders; add a new order with another shop_order_id",
                order.carrier.name_en
            ),
            Map::new(),
        ));
    }
    if !order.status.is_terminal() {
        return Err(Reply::error(
            errcode::ORDER_EXISTS,
            format!(
                "order exists: {} is live at {} ({}); only a cancelled or failed order can be re-dispatched",
                order.shop_order_id,
                order.status.code(),
                order.status.name()
            ),
        ));
    }
    if !READD_FROM.contains(&order.status) {
        return Err(Reply::carrier(
            errcode::result::READD_NOT_ENDED,
            format!(
                "cannot re-dispatch {}: it ended at {} ({}), not cancelled or failed",
                order.shop_order_id,
                order.status.code(),
                order.status.name()
            ),
            Map::new(),
        ));
    }
    Ok(())
}

/// A `delivery_token` given to `order/add` must be one `pre_add` issued for that order, not
/// yet expired; it is used up.
fn take_delivery_token(ctx: &mut Ctx<'_>, token: &str, key: &Key, now: i64) -> Result<(), Reply> {
    match ctx.book.delivery_tokens.get(token) {
        None => Err(Reply::args(format!(
            "delivery_token {token} is unknown; quote with order/pre_add first"
        ))),
        Some(t) if &t.key != key => Err(Reply::args(format!(
            "delivery_token was issued for order {}, not {}",
            t.key.1, key.1
        ))),
        Some(t) if t.expires < now => Err(Reply::args(format!(
            "delivery_token expired {} s ago; quote again with order/pre_add",
            now - t.expires
        ))),
        Some(_) => {
            ctx.book.delivery_tokens.remove(token);
            Ok(())
        }
    }
}

/// `order/get`.
pub(super) fn get(ctx: &mut Ctx<'_>, fields: &Fields) -> Result<Reply, Reply> {
    let shopid = args(fields.string("shopid"))?;
    let shop_order_id = args(fields.string("shop_order_id"))?;
    let sign = sign_field(fields)?;
    args(fields.opt_string("shop_no"))?;
    // Not a documented field of get, but SDKs send it: a wrong one is refused as cancel does.
    let delivery_id = args(fields.opt_string("delivery_id"))?;
    let order = find(&mut ctx.book, shopid, shop_order_id)?;
    if let Some(delivery_id) = delivery_id {
        check_delivery_id(order, delivery_id)?;
    }
    check_sign(&order.carrier, shopid, shop_order_id, sign, Map::new())?;
    let now = now_unix();
    let position = order.rider_position(now);
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
        out.insert("reach_time".into(), json!((reach - now).max(0)));
    }
    Ok(Reply::ok(out))
}

/// An order named with another carrier's `delivery_id` is "not found" for that carrier (930563).
fn check_delivery_id(order: &Order, delivery_id: &str) -> Result<(), Reply> {
    if order.carrier.delivery_id == delivery_id {
        return Ok(());
    }
    Err(Reply::error(
        errcode::ORDER_NOT_FOUND,
        format!(
            "order not exists: {} is a {} order, not {delivery_id}",
            order.shop_order_id, order.carrier.delivery_id
        ),
    ))
}

/// `order/precancel` (`commit` false: quotes, changes nothing) and `order/cancel`.
///
/// 101/102 → 103 (before pickup), 201 → 203 (during pickup), 202/301 → 303 (the rider holds
/// the goods, so they go back). Returning orders (303/304/305) cannot be cancelled (9103);
/// ended ones answer 930565. The carrier's `order_rules.cancel` says at which statuses it
/// takes a cancel (Dada: only before pickup) and what it costs; precancel quotes exactly what
/// cancel then charges.
pub(super) fn cancel(ctx: &mut Ctx<'_>, fields: &Fields, commit: bool) -> Result<Reply, Reply> {
    let shopid = args(fields.string("shopid"))?;
    let shop_order_id = args(fields.string("shop_order_id"))?;
    let delivery_id = args(fields.string("delivery_id"))?;
    let reason_id = if commit {
        Some(args(fields.integer("cancel_reason_id"))?)
    } else {
        args(fields.opt_integer("cancel_reason_id"))?
    };
    if let Some(reason_id) = reason_id
        && !(1..=6).contains(&reason_id)
    {
        return Err(Reply::args(format!(
            "cancel_reason_id {reason_id} is not 1..6"
        )));
    }
    let reason = args(fields.opt_string("cancel_reason"))?;
    if reason_id == Some(6) && reason.is_none_or(str::is_empty) {
        return Err(Reply::args(
            "cancel_reason is required when cancel_reason_id is 6",
        ));
    }
    let sign = sign_field(fields)?;
    args(fields.opt_string("shop_no"))?;
    let waybill = args(fields.opt_string("waybill_id"))?;
    let lifecycle = ctx.shared.carriers.lifecycle.clone();
    let push = ctx.push_to();
    let order = find(&mut ctx.book, shopid, shop_order_id)?;
    check_delivery_id(order, delivery_id)?;
    if let Some(path) = Required::missing(&order.carrier.required.order_cancel, fields.body()) {
        return Err(Reply::args(format!(
            "{path} is required for {}",
            order.carrier.delivery_id
        )));
    }
    if let Some(waybill) = waybill {
        check_waybill(order, waybill)?;
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
    let rule = &order.carrier.order_rules.cancel;
    if !rule.allows(from) {
        let allowed: Vec<String> = rule.allowed_at.iter().map(u16::to_string).collect();
        return Err(Reply::carrier(
            rule.refusal.resultcode,
            format!(
                "{}: {} takes a cancel only at {}, the order is at {} ({})",
                rule.refusal.resultmsg,
                order.carrier.name_en,
                allowed.join(", "),
                from.code(),
                from.name()
            ),
            Map::new(),
        ));
    }
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
    let now = now_unix();
    let rider_for = order
        .rider_assigned_at
        .map(|at| u64::try_from(now - at).unwrap_or(0));
    let quote = rule.quote(rider_for);
    if !commit {
        return Ok(Reply::ok(Map::from_iter([
            ("deduct_fee".to_owned(), json!(quote.deduct_fee)),
            ("desc".to_owned(), json!(quote.desc)),
        ])));
    }
    let message = reason.unwrap_or("商家取消").to_owned();
    let change = apply(
        order,
        Move {
            to,
            action_time: now,
            action_msg: &message,
            reach_time: None,
        },
        &push,
    );
    ctx.effects.change = Some(change);
    Ok(Reply::ok(Map::from_iter([
        ("deduct_fee".to_owned(), json!(quote.deduct_fee)),
        (
            "desc".to_owned(),
            json!(format!(
                "cancelled: {} {}; {}",
                to.code(),
                to.name(),
                quote.desc
            )),
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
