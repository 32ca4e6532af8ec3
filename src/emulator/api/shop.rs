//! The third-party calls `shop/add` (bindLocalAccount) and `open` (openDelivery): made with
//! a third-party platform's token (the check is in `process`: 86000 otherwise), answered with
//! `errcode` 0 alone, as documented. Both are asynchronous on the platform (the Mini
//! Program's admin confirms a template message); the emulator takes them at once.

use serde_json::json;

use super::{Ctx, args};
use crate::emulator::wire::{Fields, Reply, Verdict};
use crate::wechat::errcode;

fn done() -> Reply {
    Reply::json(
        json!({ "errcode": errcode::OK, "errmsg": "ok" }),
        Verdict {
            errcode: Some(errcode::OK),
            errmsg: Some("ok".to_owned()),
            ..Verdict::default()
        },
    )
}

/// `shop/add`: binds a carrier account; `delivery_id` must be one `delivery/getall` lists.
pub(super) fn shop_add(ctx: &mut Ctx<'_>, fields: &Fields) -> Result<Reply, Reply> {
    let delivery_id = args(fields.string("delivery_id"))?;
    let known_id = ctx
        .shared
        .carriers
        .all()
        .iter()
        .any(|c| c.delivery_id == delivery_id);
    if !known_id {
        let known: Vec<&str> = ctx
            .shared
            .carriers
            .all()
            .iter()
            .map(|c| c.delivery_id.as_str())
            .collect();
        return Err(Reply::args(format!(
            "delivery_id {delivery_id} is no carrier (known: {})",
            known.join(", ")
        )));
    }
    ctx.effects.note = Some(format!("binding to {delivery_id} requested"));
    Ok(done())
}

/// `open`: opens immediate delivery for the Mini Program, once (930569 after that).
pub(super) fn open(ctx: &mut Ctx<'_>) -> Result<Reply, Reply> {
    if ctx.book.opened {
        return Err(Reply::error(
            errcode::ALREADY_OPEN,
            "already open: immediate delivery is already open for this Mini Program",
        ));
    }
    ctx.book.opened = true;
    Ok(done())
}
