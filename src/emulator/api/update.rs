//! `realmock_update_order` and `test_update_order`.

use serde_json::Map;

use super::{Api, Ctx, apply, args, check_sign, ended, find, known_shopids, not_found, sign_field};
use crate::emulator::orders::NewOrder;
use crate::emulator::wire::{Fields, Reply, now_unix};
use crate::model::carriers::Call;
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
    let to = u16::try_from(code)
        .ok()
        .and_then(Status::from_code)
        .ok_or_else(|| {
            let known: Vec<String> = Status::all().map(|s| s.code().to_string()).collect();
            Reply::args(format!(
                "order_status {code} is not an order status (known: {})",
                known.join(", ")
            ))
        })?;
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
            Some(c) => {
                return Err(Reply::args(format!(
                    "test_update_order only moves sandbox orders (shopid {}); {shopid} is {}'s test account, use realmock_update_order",
                    sandbox.join(", "),
                    c.name_en
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
            via: "auto_create",
        });
        ctx.effects.note = Some("order did not exist; auto-created at 101 first".into());
    }
    let pusher = ctx.shared.pusher.clone();
    let appid = ctx.shared.appid.clone();
    let book_ref = ctx.book_ref;
    let order = find(&mut ctx.book, shopid, shop_order_id)?;
    if api == Api::Realmock && order.carrier.call == Call::TestUpdateOrder {
        return Err(Reply::error(
            errcode::CARRIER_SYSTEM_ERROR,
            "delivery system error (realmock_update_order cannot move a sandbox delivery_id TEST order; use test_update_order)",
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
        to,
        action_time,
        action_msg,
        pusher.as_ref(),
        book_ref,
        &appid,
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
