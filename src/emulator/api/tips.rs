//! `order/addtips`: a tip for a rider, while the order waits for one (101). The new tip
//! replaces the old and must be larger; the carrier's `order_rules.tips` add its caps, counts
//! and tiers (SF at most 10 tips and 200 yuan, Dada at most 30 yuan and not above the goods
//! value, 闪送 fixed tiers, MTPS none).

use serde_json::Map;

use super::{Ctx, args, check_sign, live_order, sign_field};
use crate::emulator::wire::{Fields, Reply};
use crate::model::statuses::Status;
use crate::wechat::errcode;

pub(super) fn add_tips(ctx: &mut Ctx<'_>, fields: &Fields) -> Result<Reply, Reply> {
    let shopid = args(fields.string("shopid"))?;
    let shop_order_id = args(fields.string("shop_order_id"))?;
    let waybill = args(fields.string("waybill_id"))?;
    let tip = args(fields.number("tips"))?;
    let sign = sign_field(fields)?;
    args(fields.opt_string("remark"))?;
    args(fields.opt_string("shop_no"))?;
    args(fields.opt_string("openid"))?;
    let order = live_order(&mut ctx.book, shopid, shop_order_id, waybill)?;
    check_sign(&order.carrier, shopid, shop_order_id, sign, Map::new())?;
    let rule = &order.carrier.order_rules.tips;
    if !rule.supported {
        return Err(Reply::carrier(
            errcode::result::TIPS_NOT_SUPPORTED,
            format!("{} takes no tips", order.carrier.name_en),
            Map::new(),
        ));
    }
    if order.status != Status::AwaitingRider {
        return Err(Reply::carrier(
            errcode::result::TIPS_NOT_WAITING,
            format!(
                "tips are taken only while the order waits for a rider (101); it is at {} ({})",
                order.status.code(),
                order.status.name()
            ),
            Map::new(),
        ));
    }
    if let Some(why) = rule.refusal(tip, order.tips, order.tips_given, order.goods_value) {
        return Err(Reply::carrier(
            errcode::result::TIPS_REFUSED,
            format!("{}: {why}", order.carrier.name_en),
            Map::new(),
        ));
    }
    order.tips = tip;
    order.tips_given += 1;
    ctx.effects.note = Some(format!("tip is now {tip} yuan"));
    Ok(Reply::ok(Map::new()))
}
