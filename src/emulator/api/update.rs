//! Status changes: `realmock_update_order` and `test_update_order` (the test tools), the
//! carrier side's `delivery/update_order`, and the merchant's `order/confirm_return`. Each
//! one that is taken queues the same `update_waybill_status` push.

use serde_json::{Map, Value};

use super::{
    Api, Ctx, Move, apply, args, check_sign, check_waybill, ended, find, known_shopids, live_order,
    not_found, sign_field,
};
use crate::emulator::orders::NewOrder;
use crate::emulator::wire::{Fields, Reply, now_unix};
use crate::model::carriers::rules::RETURNING;
use crate::model::carriers::{Call, Lifecycle};
use crate::model::statuses::Status;
use crate::wechat::errcode;

/// Refuses an `action_time` that is not the current time in Unix seconds.
fn check_action_time(action_time: i64, max_skew: std::time::Duration) -> Result<(), Reply> {
    if action_time >= 100_000_000_000 {
        return Err(Reply::args(format!(
            "action_time {action_time} looks like milliseconds; send Unix seconds ({})",
            action_time / 1000
        )));
    }
    if action_time <= 0 {
        return Err(Reply::args(format!(
            "action_time {action_time} must be a positive Unix time in seconds"
        )));
    }
    let now = now_unix();
    let skew = i64::try_from(max_skew.as_secs()).unwrap_or(i64::MAX);
    let off = action_time - now;
    if off.abs() > skew {
        let side = if off > 0 { "ahead of" } else { "behind" };
        return Err(Reply::args(format!(
            "action_time {action_time} is {} s {side} the platform clock ({now}); send the current Unix time in seconds (allowed skew {skew} s)",
            off.abs()
        )));
    }
    Ok(())
}

/// `realmock_update_order` and `test_update_order`.
pub(super) fn update(ctx: &mut Ctx<'_>, fields: &Fields, api: Api) -> Result<Reply, Reply> {
    let shopid = args(fields.string("shopid"))?;
    let shop_order_id = args(fields.string("shop_order_id"))?;
    let code = args(fields.integer("order_status"))?;
    let action_time = args(fields.integer("action_time"))?;
    let action_msg = args(fields.opt_string("action_msg"))?.unwrap_or("");
    let sign = match api {
        Api::Realmock => Some(sign_field(fields)?),
        _ => None,
    };
    let to = status_field(code)?;
    check_action_time(action_time, ctx.shared.max_clock_skew)?;

    let shop_carrier = ctx.shared.carriers.by_shopid(shopid).cloned();
    if api == Api::TestUpdate {
        let sandbox: Vec<&str> = ctx
            .shared
            .carriers
            .all()
            .iter()
            .filter(|c| c.call == Call::TestUpdateOrder)
            .map(|c| c.account.shopid.as_str())
            .collect();
        match &shop_carrier {
            Some(c) if c.call == Call::TestUpdateOrder => {}
            // What does move this carrier's orders comes from its profile's `call`.
            Some(c) if c.call == Call::None => {
                return Err(Reply::args(format!(
                    "test_update_order only moves sandbox orders (shopid {}); {shopid} is {}'s account, whose orders no test call moves: the carrier side's {} does",
                    sandbox.join(", "),
                    c.name_en,
                    Api::CarrierUpdate.name()
                )));
            }
            Some(c) => {
                return Err(Reply::args(format!(
                    "test_update_order only moves sandbox orders (shopid {}); {shopid} is {}'s test account, use {}",
                    sandbox.join(", "),
                    c.name_en,
                    Api::call_name(c.call)
                )));
            }
            None => {
                return Err(Reply::args(format!(
                    "test_update_order needs shopid {}, got {shopid}",
                    sandbox.join(", ")
                )));
            }
        }
    }

    let key = (shopid.to_owned(), shop_order_id.to_owned());
    if !ctx.book.orders.contains_key(&key) {
        if !ctx.shared.auto_create {
            return Err(not_found(shopid, shop_order_id));
        }
        let Some(carrier) = shop_carrier else {
            return Err(Reply::error(
                errcode::SHOP_NOT_BOUND,
                format!(
                    "shopid need bind first: {shopid} is no test account's shopid, so no order can be created for it (known: {})",
                    known_shopids(ctx)
                ),
            ));
        };
        ctx.book.create(NewOrder {
            carrier,
            shopid,
            shop_order_id,
            shop_no: None,
            store: None,
            destination: None,
            tips: 0.0,
            goods_value: 0.0,
            via: "auto_create",
        });
        ctx.effects.note = Some("order did not exist; auto-created at 101 first".into());
    }
    let push = ctx.push_to();
    let order = find(&mut ctx.book, shopid, shop_order_id)?;
    if api == Api::Realmock && order.carrier.call == Call::TestUpdateOrder {
        return Err(Reply::error(
            errcode::CARRIER_SYSTEM_ERROR,
            "delivery system error (realmock_update_order cannot move a sandbox delivery_id TEST order; use test_update_order)",
        ));
    }
    if api == Api::Realmock && order.carrier.call == Call::None {
        // Ours: the platform forwards realmock to SF's and Dada's test systems only.
        return Err(Reply::error(
            errcode::CARRIER_SYSTEM_ERROR,
            format!(
                "delivery system error (realmock_update_order reaches no test system of {}; its orders move by the carrier side's delivery/update_order)",
                order.carrier.name_en
            ),
        ));
    }
    if order.status.is_terminal() {
        return Err(ended(order));
    }
    if let Some(sign) = sign {
        check_sign(&order.carrier, shopid, shop_order_id, sign, Map::new())?;
    }
    let carrier = order.carrier.clone();
    let from = order.status;
    if !carrier.supports(to) {
        let supported: Vec<String> = carrier.supported.iter().map(|s| s.to_string()).collect();
        return Err(Reply::carrier(
            errcode::result::UNSUPPORTED_STATUS,
            format!(
                "status {to} is not supported by {}'s test account; supported: {}",
                carrier.name_en,
                supported.join(", ")
            ),
            Map::new(),
        ));
    }
    if !carrier.allows(from, to) {
        let allowed: Vec<String> = carrier
            .allowed_next(from)
            .iter()
            .map(|s| s.to_string())
            .collect();
        let allowed = if allowed.is_empty() {
            "none".to_owned()
        } else {
            allowed.join(", ")
        };
        return Err(Reply::carrier(
            errcode::result::TRANSITION_NOT_ALLOWED,
            format!(
                "transition not allowed: {} cannot go from {from} to {to}; allowed next: {allowed}",
                carrier.name_en
            ),
            Map::new(),
        ));
    }
    let change = apply(
        order,
        Move {
            to,
            action_time,
            action_msg,
            reach_time: None,
        },
        &push,
    );
    ctx.effects.change = Some(change);
    Ok(Reply::ok(Map::new()))
}

fn status_field(code: i64) -> Result<Status, Reply> {
    u16::try_from(code)
        .ok()
        .and_then(Status::from_code)
        .ok_or_else(|| {
            let known: Vec<String> = Status::all().map(|s| s.code().to_string()).collect();
            Reply::args(format!(
                "order_status {code} is not an order status (known: {})",
                known.join(", ")
            ))
        })
}

/// Whether the lifecycle reaches `to` from `from` in one or more moves: a carrier's own
/// system may skip statuses it does not report (as SF skips 201 and 301), never go back.
fn reaches(lifecycle: &Lifecycle, from: Status, to: Status) -> bool {
    let mut seen = std::collections::BTreeSet::new();
    let mut stack = lifecycle.next(from).to_vec();
    while let Some(status) = stack.pop() {
        if status == to {
            return true;
        }
        if seen.insert(status) {
            stack.extend_from_slice(lifecycle.next(status));
        }
    }
    false
}

/// The carrier side's `delivery/update_order`: the carrier reports a status with the order's
/// `wx_token` and `waybill_id`, its rider (`agent`) and expected arrival
/// (`expected_delivery_time`). Any move the lifecycle reaches is taken (the carrier's real
/// system, not its test account); the push carries the rider it named.
pub(super) fn carrier_update(ctx: &mut Ctx<'_>, fields: &Fields) -> Result<Reply, Reply> {
    let wx_token = args(fields.string("wx_token"))?;
    let shopid = args(fields.string("shopid"))?;
    let shop_order_id = args(fields.string("shop_order_id"))?;
    let waybill = args(fields.string("waybill_id"))?;
    let code = args(fields.integer("order_status"))?;
    let action_time = args(fields.integer("action_time"))?;
    let action_msg = args(fields.opt_string("action_msg"))?.unwrap_or("");
    args(fields.opt_string("shop_no"))?;
    args(fields.opt_string("wxa_path"))?;
    let agent = args(fields.opt_object("agent"))?;
    let expected = args(fields.opt_integer("expected_delivery_time"))?;
    let to = status_field(code)?;
    check_action_time(action_time, ctx.shared.max_clock_skew)?;
    let rider = match agent {
        Some(agent) => Some(agent_fields(agent)?),
        None => None,
    };
    if let Some(time) = expected
        && (time <= 0 || time >= 100_000_000_000)
    {
        return Err(Reply::args(format!(
            "expected_delivery_time {time} must be a Unix time in seconds"
        )));
    }
    let lifecycle = ctx.shared.carriers.lifecycle.clone();
    let push = ctx.push_to();
    let order = find(&mut ctx.book, shopid, shop_order_id)?;
    if wx_token != order.wx_token {
        return Err(Reply::args(
            "wx_token is not this order's: send the wx_token the platform gave the carrier for it",
        ));
    }
    check_waybill(order, waybill)?;
    if order.status.is_terminal() {
        return Err(ended(order));
    }
    let from = order.status;
    if !reaches(&lifecycle, from, to) {
        let next: Vec<String> = lifecycle.next(from).iter().map(|s| s.to_string()).collect();
        return Err(Reply::carrier(
            errcode::result::TRANSITION_NOT_ALLOWED,
            format!(
                "transition not allowed: the lifecycle does not reach {to} from {from}; next: {}",
                next.join(", ")
            ),
            Map::new(),
        ));
    }
    if let Some((name, phone)) = rider {
        order.rider.name = name;
        order.rider.phone = phone;
    }
    let change = apply(
        order,
        Move {
            to,
            action_time,
            action_msg,
            reach_time: expected,
        },
        &push,
    );
    ctx.effects.change = Some(change);
    Ok(Reply::ok(Map::new()))
}

/// `agent`: the rider's `name` and `phone` (strings), `is_phone_encrypted` 0 or 1.
fn agent_fields(agent: &Map<String, Value>) -> Result<(String, String), Reply> {
    let text = |name: &str| match agent.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(Reply::args(format!(
            "agent.{name} must be a non-empty string"
        ))),
    };
    let name = text("name")?;
    let phone = text("phone")?;
    match agent.get("is_phone_encrypted") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if matches!(n.as_i64(), Some(0 | 1)) => {}
        Some(other) => {
            return Err(Reply::args(format!(
                "agent.is_phone_encrypted must be 0 or 1, got {other}"
            )));
        }
    }
    Ok((name, phone))
}

/// `order/confirm_return`: the merchant has its goods back after 303, 304 or 305; the order
/// ends at 401. Refused (9109) in any other live status.
pub(super) fn confirm_return(ctx: &mut Ctx<'_>, fields: &Fields) -> Result<Reply, Reply> {
    let shopid = args(fields.string("shopid"))?;
    let shop_order_id = args(fields.string("shop_order_id"))?;
    let waybill = args(fields.string("waybill_id"))?;
    let sign = sign_field(fields)?;
    args(fields.opt_string("shop_no"))?;
    let remark = args(fields.opt_string("remark"))?;
    let push = ctx.push_to();
    let order = live_order(&mut ctx.book, shopid, shop_order_id, waybill)?;
    check_sign(&order.carrier, shopid, shop_order_id, sign, Map::new())?;
    if !RETURNING.contains(&order.status) {
        return Err(Reply::carrier(
            errcode::result::NOT_RETURNING,
            format!(
                "nothing to confirm: the goods of {shop_order_id} are not coming back (status {} {}); confirm_return follows 303, 304 or 305",
                order.status.code(),
                order.status.name()
            ),
            Map::new(),
        ));
    }
    let message = remark
        .filter(|r| !r.is_empty())
        .unwrap_or("商家确认收到退回物品");
    let change = apply(
        order,
        Move {
            to: Status::Returned,
            action_time: now_unix(),
            action_msg: message,
            reach_time: None,
        },
        &push,
    );
    ctx.effects.change = Some(change);
    Ok(Reply::ok(Map::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_time_rules() {
        let skew = std::time::Duration::from_secs(600);
        let now = now_unix();
        assert!(check_action_time(now, skew).is_ok());
        assert!(check_action_time(now - 599, skew).is_ok());
        assert!(check_action_time(now + 700, skew).is_err());
        assert!(check_action_time(now * 1000, skew).is_err());
        assert!(check_action_time(0, skew).is_err());
    }
}
