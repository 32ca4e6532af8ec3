//! The business APIs: order add / pre_add / get / cancel, realmock_update_order,
//! test_update_order, delivery/getall and shop/get.
//!
//! Checks run in the platform's order: access token (40001 / 42001), JSON (47001), fields
//! (930561), then what WeChat itself knows (binding 930560, order 930562 / 930563, sandbox vs
//! carrier 930557, ended 930565), and only then the carrier's own verdict, which comes back
//! with `errcode` 0 and a non-zero `resultcode`:
//!
//! | resultcode | meaning (chosen here; carriers publish no table) |
//! |---|---|
//! | 2003 `签名错误` | Dada: delivery_sign mismatch (observed code) |
//! | 1 `签名校验失败` | every other carrier: delivery_sign mismatch (闪送's observed code) |
//! | 9101 | the carrier's test account does not support that status |
//! | 9102 | the carrier does not allow that transition (says from/to and the allowed next) |
//! | 9103 | cancel while the goods are already returning (303/304/305) |
//!
//! `action_time` in milliseconds, not positive, or farther than `max_clock_skew` from now is a
//! platform-level `930561 args error` (the platform's schema says Unix seconds and WeChat staff
//! say it must be the current time); so is a `delivery_sign` with surrounding whitespace
//! (a real request with a trailing space got 930561).

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Map, Value, json};

use super::faults::Fault;
use super::orders::{Book, CallRecord, Change, Key, NewOrder, Order, Point};
use super::push::{Agent, Event, FROM_USER_NAME};
use super::server::Shared;
use super::tokens::Check;
use super::wire::{ArgsError, Fields, Reply, Verdict, now_rfc3339, now_unix, redact_body};
use crate::carriers::{Call, Carrier};
use crate::secret::Secret;
use crate::sign;
use crate::statuses::Status;

/// One business API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    PreAdd,
    Add,
    Get,
    Cancel,
    Realmock,
    TestUpdate,
    GetAll,
    ShopGet,
}

impl Api {
    pub const ALL: [Api; 8] = [
        Api::PreAdd,
        Api::Add,
        Api::Get,
        Api::Cancel,
        Api::Realmock,
        Api::TestUpdate,
        Api::GetAll,
        Api::ShopGet,
    ];

    /// The name kept in histories.
    pub fn name(self) -> &'static str {
        match self {
            Api::PreAdd => "order/pre_add",
            Api::Add => "order/add",
            Api::Get => "order/get",
            Api::Cancel => "order/cancel",
            Api::Realmock => Call::Realmock.name(),
            Api::TestUpdate => Call::TestUpdateOrder.name(),
            Api::GetAll => "delivery/getall",
            Api::ShopGet => "shop/get",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Api::PreAdd => "/cgi-bin/express/local/business/order/pre_add",
            Api::Add => "/cgi-bin/express/local/business/order/add",
            Api::Get => "/cgi-bin/express/local/business/order/get",
            Api::Cancel => "/cgi-bin/express/local/business/order/cancel",
            Api::Realmock => Call::Realmock.path(),
            Api::TestUpdate => Call::TestUpdateOrder.path(),
            Api::GetAll => "/cgi-bin/express/local/business/delivery/getall",
            Api::ShopGet => "/cgi-bin/express/local/business/shop/get",
        }
    }

    /// The request fields the documentation lists; anything else is tolerated and noted.
    fn documented(self) -> &'static [&'static str] {
        const ADD: &[&str] = &[
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
        match self {
            Api::PreAdd | Api::Add => ADD,
            Api::Get => &["shopid", "shop_order_id", "delivery_sign", "shop_no"],
            Api::Cancel => &[
                "shopid",
                "shop_order_id",
                "delivery_id",
                "cancel_reason_id",
                "cancel_reason",
                "shop_no",
                "delivery_sign",
                "waybill_id",
            ],
            Api::Realmock => &[
                "shopid",
                "shop_order_id",
                "order_status",
                "action_time",
                "action_msg",
                "delivery_sign",
            ],
            Api::TestUpdate => &[
                "shopid",
                "shop_order_id",
                "order_status",
                "action_time",
                "action_msg",
            ],
            Api::GetAll | Api::ShopGet => &[],
        }
    }
}

/// What a call did besides its answer, for its history entry.
#[derive(Default)]
struct Effects {
    tolerated: Vec<String>,
    change: Option<Change>,
    note: Option<String>,
}

/// Everything a call may touch, with the book locked for the whole call so that its history
/// entry, its status change and its push are filed in one step.
struct Ctx<'a> {
    shared: &'a Shared,
    book: MutexGuard<'a, Book>,
    book_ref: &'a Arc<Mutex<Book>>,
    effects: Effects,
}

/// Answers one business call. `fault` is what the dice gave for it (a slow fault has already
/// been waited out by the caller).
pub(crate) fn handle(
    shared: &Shared,
    api: Api,
    token: Option<&str>,
    body: &[u8],
    fault: Option<Fault>,
) -> Reply {
    let secrets = shared.redaction_secrets(token);
    let secret_refs: Vec<&Secret> = secrets.iter().collect();
    let request = redact_body(body, &secret_refs);
    let key = order_key(&request);
    let mut ctx = Ctx {
        shared,
        book: shared
            .book
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
        book_ref: &shared.book,
        effects: Effects::default(),
    };
    let mut reply = match fault {
        Some(Fault::Errcode(code)) => Reply::error(code, fault_message(code)),
        Some(Fault::Http(status)) => injected_http(status),
        Some(Fault::Drop) => Reply {
            drop_connection: true,
            ..injected_http(0)
        },
        Some(Fault::Slow(_)) | None => process(&mut ctx, api, token, body).unwrap_or_else(|r| r),
    };
    if let Some(fault) = fault {
        reply.verdict.fault = Some(fault.to_string());
        if matches!(fault, Fault::Drop) {
            reply.verdict.http_status = 0;
        }
    }
    let Effects {
        tolerated,
        change,
        note,
    } = ctx.effects;
    ctx.book.record(
        key.as_ref(),
        CallRecord {
            time: now_rfc3339(),
            api: api.name(),
            request,
            verdict: Verdict::clone(&reply.verdict),
            tolerated_fields: tolerated,
            status_change: change,
            note,
        },
    );
    reply
}

fn fault_message(code: i64) -> &'static str {
    match code {
        -1 => "system error",
        45_011 => "api minute-quota reach limit  mustslower  retry next minute",
        930_556 => "delivery timeout",
        _ => "injected fault",
    }
}

fn injected_http(status: u16) -> Reply {
    let code = axum::http::StatusCode::from_u16(status)
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    Reply {
        status: code,
        body: None,
        verdict: Box::new(Verdict {
            http_status: status,
            ..Verdict::default()
        }),
        drop_connection: false,
    }
}

/// `(shopid, shop_order_id)` when the body names an order, for filing the call.
fn order_key(request: &Value) -> Option<Key> {
    let shopid = request.get("shopid")?.as_str()?;
    let id = request.get("shop_order_id")?.as_str()?;
    Some((shopid.to_owned(), id.to_owned()))
}

fn process(ctx: &mut Ctx<'_>, api: Api, token: Option<&str>, body: &[u8]) -> Result<Reply, Reply> {
    match token.map(|t| ctx.shared.tokens.check(t)) {
        Some(Check::Valid) => {}
        Some(Check::Expired) => return Err(Reply::error(42_001, "access_token expired")),
        None | Some(Check::Unknown) | Some(Check::Superseded) => {
            return Err(Reply::error(
                40_001,
                "invalid credential, access_token is invalid or not latest",
            ));
        }
    }
    let fields = Fields::parse(body)?;
    ctx.effects.tolerated = fields.undocumented(api.documented());
    match api {
        Api::PreAdd => add(ctx, &fields, false),
        Api::Add => add(ctx, &fields, true),
        Api::Get => get(ctx, &fields),
        Api::Cancel => cancel(ctx, &fields),
        Api::Realmock | Api::TestUpdate => update(ctx, &fields, api),
        Api::GetAll => Ok(get_all(ctx)),
        Api::ShopGet => Ok(shop_get(ctx)),
    }
}

fn args<T>(result: Result<T, ArgsError>) -> Result<T, Reply> {
    result.map_err(Reply::args)
}

/// `delivery_sign`: a string without surrounding whitespace.
fn sign_field(fields: &Fields) -> Result<&str, Reply> {
    let sign = args(fields.string("delivery_sign"))?;
    if sign.trim() != sign {
        return Err(Reply::args(
            "delivery_sign has leading or trailing whitespace",
        ));
    }
    Ok(sign)
}

/// The carrier's signature check, with a `resultmsg` that says what was wrong.
fn check_sign(
    carrier: &Carrier,
    shopid: &str,
    shop_order_id: &str,
    sign: &str,
    zeros: Map<String, Value>,
) -> Result<(), Reply> {
    let secret = &carrier.account.appsecret;
    if sign::verify(shopid, Some(shop_order_id), secret, sign) {
        return Ok(());
    }
    let (code, label) = if carrier.delivery_id == "DADA" {
        (2003, "签名错误")
    } else {
        (1, "签名校验失败")
    };
    let why = if sign.len() != 40 || !sign.chars().all(|c| c.is_ascii_hexdigit()) {
        format!(
            "delivery_sign must be 40 hex characters (SHA-1), got {} characters",
            sign.chars().count()
        )
    } else if sign::verify(
        shopid,
        Some(shop_order_id),
        secret,
        &sign.to_ascii_lowercase(),
    ) {
        "delivery_sign is upper-case hex; the carrier compares lowercase".to_owned()
    } else if sign::verify(shopid, None, secret, sign) {
        "delivery_sign was computed without shop_order_id; sign SHA1(shopid + shop_order_id + appsecret)"
            .to_owned()
    } else {
        format!(
            "delivery_sign does not match SHA1(shopid + shop_order_id + appsecret) for shopid {shopid} \
             and shop_order_id {shop_order_id}, using {}'s test-account appsecret",
            carrier.name_en
        )
    };
    Err(Reply::carrier(code, format!("{label}: {why}"), zeros))
}

/// The carrier a (shopid, delivery_id) pair is bound to, or 930560.
fn bound_carrier(ctx: &Ctx<'_>, shopid: &str, delivery_id: &str) -> Result<Arc<Carrier>, Reply> {
    match ctx.shared.carriers.by_shopid(shopid) {
        Some(c) if c.delivery_id == delivery_id => Ok(c.clone()),
        Some(c) => Err(Reply::error(
            930_560,
            format!(
                "shopid need bind first: shopid {shopid} is bound to delivery_id {}, not {delivery_id}",
                c.delivery_id
            ),
        )),
        None => Err(Reply::error(
            930_560,
            format!(
                "shopid need bind first: {shopid} is no test account's shopid (known: {})",
                known_shopids(ctx)
            ),
        )),
    }
}

fn known_shopids(ctx: &Ctx<'_>) -> String {
    ctx.shared
        .carriers
        .all()
        .iter()
        .map(|c| format!("{} for {}", c.account.shopid, c.delivery_id))
        .collect::<Vec<_>>()
        .join(", ")
}

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
fn add(ctx: &mut Ctx<'_>, fields: &Fields, create: bool) -> Result<Reply, Reply> {
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
    if carrier.delivery_id == "SFTC" && sender.is_none() {
        return Err(Reply::args("sender is required for SFTC"));
    }
    let key = (shopid.to_owned(), shop_order_id.to_owned());
    if create && ctx.book.orders.contains_key(&key) {
        return Err(Reply::error(
            930_562,
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

fn find<'b>(book: &'b mut Book, shopid: &str, shop_order_id: &str) -> Result<&'b mut Order, Reply> {
    book.orders
        .get_mut(&(shopid.to_owned(), shop_order_id.to_owned()))
        .ok_or_else(|| not_found(shopid, shop_order_id))
}

fn not_found(shopid: &str, shop_order_id: &str) -> Reply {
    Reply::error(
        930_563,
        format!("order not exists: no order {shop_order_id} under shopid {shopid}; add it first"),
    )
}

fn ended(order: &Order) -> Reply {
    Reply::error(
        930_565,
        format!(
            "order is finished: {} is at {} ({}), a final status",
            order.shop_order_id,
            order.status.code(),
            order.status.name()
        ),
    )
}

/// `order/get`.
fn get(ctx: &mut Ctx<'_>, fields: &Fields) -> Result<Reply, Reply> {
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
fn cancel(ctx: &mut Ctx<'_>, fields: &Fields) -> Result<Reply, Reply> {
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
            930_563,
            format!(
                "order not exists: {shop_order_id} is a {} order, not {delivery_id}",
                order.carrier.delivery_id
            ),
        ));
    }
    match waybill {
        None if order.carrier.delivery_id == "SFTC" => {
            return Err(Reply::args("waybill_id is required for SFTC"));
        }
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
                9103,
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
            9102,
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
fn update(ctx: &mut Ctx<'_>, fields: &Fields, api: Api) -> Result<Reply, Reply> {
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
                930_560,
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
            930_557,
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
            9101,
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
            9102,
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

/// Moves an order, assigns its rider, and queues the push (in the order's own queue, under
/// the book lock, so pushes keep the order of the changes).
fn apply(
    order: &mut Order,
    to: Status,
    action_time: i64,
    action_msg: &str,
    pusher: Option<&super::push::Pusher>,
    book: &Arc<Mutex<Book>>,
    appid: &str,
) -> Change {
    let from = order.status;
    order.status = to;
    let before_rider = matches!(
        to,
        Status::AwaitingRider
            | Status::MerchantCancelled
            | Status::CarrierCancelled
            | Status::ForceMajeureCancelled
    );
    if !before_rider {
        order.rider_assigned = true;
    }
    // Twenty minutes from the moment delivery starts.
    order.reach_time = (to == Status::Delivering).then_some(action_time + 1200);
    if let Some(pusher) = pusher {
        let (name, phone) = if order.rider_assigned {
            (order.rider.name.clone(), order.rider.phone.clone())
        } else {
            (String::new(), String::new())
        };
        let event = Event {
            to_user_name: super::push::to_user_name(appid),
            from_user_name: FROM_USER_NAME.to_owned(),
            create_time: now_unix(),
            msg_type: "event",
            event: "update_waybill_status",
            shopid: order.shopid.clone(),
            shop_order_id: order.shop_order_id.clone(),
            waybill_id: order.waybill_id.clone(),
            action_time,
            order_status: to.code(),
            action_msg: action_msg.to_owned(),
            shop_no: order.shop_no.clone(),
            agent: Agent {
                name,
                phone,
                reach_time: order.reach_time,
            },
        };
        let key = order.key();
        let queue = order
            .pushes
            .get_or_insert_with(|| pusher.spawn_queue(Arc::downgrade(book), key));
        // A closed queue means the emulator is stopping; the push is simply not sent.
        let _ = queue.send(event);
    }
    Change {
        from: from.code(),
        to: to.code(),
    }
}

fn get_all(ctx: &Ctx<'_>) -> Reply {
    let list: Vec<Value> = ctx
        .shared
        .carriers
        .all()
        .iter()
        .map(|c| json!({ "delivery_id": c.delivery_id, "delivery_name": c.name_zh }))
        .collect();
    Reply::ok(Map::from_iter([("list".to_owned(), json!(list))]))
}

fn shop_get(ctx: &Ctx<'_>) -> Reply {
    let list: Vec<Value> = ctx
        .shared
        .carriers
        .all()
        .iter()
        .map(|c| json!({ "shopid": c.account.shopid, "delivery_id": c.delivery_id, "audit_result": 0 }))
        .collect();
    Reply::ok(Map::from_iter([("shop_list".to_owned(), json!(list))]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carriers::Carriers;
    use crate::sign::tests::VECTORS;

    fn carriers() -> Carriers {
        match Carriers::builtin() {
            Ok(c) => c,
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn every_reference_vector_passes_the_carrier_check() {
        let table = carriers();
        let mut checked = 0;
        for (shopid, order, _secret, expected) in VECTORS {
            let Some(carrier) = table.by_shopid(shopid) else {
                continue; // `1`/`2` belongs to no test account.
            };
            match order {
                Some(order) => {
                    assert!(
                        check_sign(carrier, shopid, order, expected, Map::new()).is_ok(),
                        "{shopid} {order}"
                    );
                }
                None => {
                    // The no-order-id rule is recognised and explained, not accepted, on
                    // APIs that carry a shop_order_id.
                    let Err(reply) = check_sign(carrier, shopid, "X-1", expected, Map::new())
                    else {
                        panic!("{shopid}: accepted a sign without the order id")
                    };
                    let text = reply.verdict.resultmsg.clone().unwrap_or_default();
                    assert!(text.contains("without shop_order_id"), "{text}");
                }
            }
            checked += 1;
        }
        assert_eq!(checked, 7);
    }

    #[test]
    fn sign_refusals_use_the_carriers_codes() {
        let table = carriers();
        let code = |name: &str| {
            let Some(carrier) = table.find(name) else {
                panic!("{name}")
            };
            let shopid = carrier.account.shopid.clone();
            check_sign(carrier, &shopid, "A", &"0".repeat(40), Map::new())
                .err()
                .and_then(|r| r.verdict.resultcode)
        };
        assert_eq!(code("dada"), Some(2003));
        assert_eq!(code("sftc"), Some(1));
        assert_eq!(code("sandbox"), Some(1));
    }

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
