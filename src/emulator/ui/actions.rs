//! What the dashboard may do to an order, and doing it through the APIs themselves.
//!
//! The moves offered are the carrier's graph from where the order is (the test call's
//! transition rule; for a carrier no test call reaches, the lifecycle its carrier side
//! follows), cancel is offered where the carrier's cancel rule takes one, a tip while the
//! order waits for a rider and the carrier takes tips, and the merchant's confirmation that
//! the goods came back while they are returning. Each is then made as the API call a
//! merchant or a carrier would make, signed, with a token the emulator issues: the same
//! checks, history entry and push as any other call.

use serde_json::{Value, json};

use crate::emulator::api::{self, Api};
use crate::emulator::orders::{Key, Order};
use crate::emulator::server::Shared;
use crate::emulator::wire::now_unix;
use crate::model::carriers::rules::RETURNING;
use crate::model::carriers::{Carrier, Lifecycle};
use crate::model::statuses::Status;
use crate::wechat::sign;

/// What the dashboard offers for an order now.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Allowed {
    pub moves: Vec<Status>,
    pub cancel: bool,
    /// The goods are on their way back (303, 304, 305): `order/confirm_return` ends at 401.
    pub confirm_return: bool,
    /// A tip the carrier would take now (the next tier, or a little more than the last).
    pub tip: Option<f64>,
}

/// The statuses an order of `carrier` may go to from `from`: the carrier's graph.
pub(crate) fn graph_next(lifecycle: &Lifecycle, carrier: &Carrier, from: Status) -> Vec<Status> {
    match Api::for_call(carrier.call) {
        Some(_) => carrier.allowed_next(from),
        // Moved by the carrier side's delivery/update_order, which follows the lifecycle.
        None => lifecycle.next(from).to_vec(),
    }
}

/// The statuses the order may go to next.
pub(crate) fn next_statuses(lifecycle: &Lifecycle, order: &Order) -> Vec<Status> {
    if order.status.is_terminal() {
        return Vec::new();
    }
    graph_next(lifecycle, &order.carrier, order.status)
}

pub(crate) fn allowed(lifecycle: &Lifecycle, order: &Order) -> Allowed {
    let live = !order.status.is_terminal();
    let cancel = live
        && !RETURNING.contains(&order.status)
        && order.carrier.order_rules.cancel.allows(order.status);
    let rule = &order.carrier.order_rules.tips;
    let tip = if live && rule.supported && order.status == Status::AwaitingRider {
        let candidates = match &rule.tiers {
            Some(tiers) => tiers.clone(),
            None => vec![order.tips + 2.0, order.tips + 1.0, order.tips + 0.5],
        };
        candidates.into_iter().find(|&tip| {
            rule.refusal(tip, order.tips, order.tips_given, order.goods_value)
                .is_none()
        })
    } else {
        None
    };
    Allowed {
        moves: next_statuses(lifecycle, order),
        cancel,
        confirm_return: live && RETURNING.contains(&order.status),
        tip,
    }
}

/// What the dashboard asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Request {
    Move(Status),
    Cancel,
    ConfirmReturn,
    Tip(f64),
}

/// Why an action was not made.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Refused {
    NoSuchOrder,
    /// Not offered for the order where it is now; what is offered.
    NotAllowed(Allowed),
}

/// The API's answer to an action that was made.
#[derive(Debug, Clone)]
pub(crate) struct Done {
    pub api: Api,
    pub answer: Value,
}

/// Makes `request` on the order `key` as an API call, if the dashboard offers it.
pub(crate) fn perform(shared: &Shared, key: &Key, request: Request) -> Result<Done, Refused> {
    let (api, body) = {
        let book = shared
            .book
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let order = book.orders.get(key).ok_or(Refused::NoSuchOrder)?;
        let offered = allowed(&shared.carriers.lifecycle, order);
        let ok = match request {
            Request::Move(to) => offered.moves.contains(&to),
            Request::Cancel => offered.cancel,
            Request::ConfirmReturn => offered.confirm_return,
            Request::Tip(_) => offered.tip.is_some(),
        };
        if !ok {
            return Err(Refused::NotAllowed(offered));
        }
        call_for(order, request)
    };
    // Not under the lock: the call takes the book itself, as every call does.
    let token = shared.tokens.issue_local();
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let call = api::Call {
        api,
        post: true,
        token: Some(token.expose()),
        body: &bytes,
    };
    let reply = api::handle(shared, call, None);
    Ok(Done {
        api,
        answer: reply.body.unwrap_or(Value::Null),
    })
}

/// The call (and its body) a merchant or carrier would make for `request`.
fn call_for(order: &Order, request: Request) -> (Api, Value) {
    let signature = sign::delivery_sign(
        &order.shopid,
        Some(&order.shop_order_id),
        &order.carrier.account.appsecret,
    );
    match request {
        Request::Move(to) => match Api::for_call(order.carrier.call) {
            Some(api) => {
                let mut body = json!({
                    "shopid": order.shopid,
                    "shop_order_id": order.shop_order_id,
                    "action_time": now_unix(),
                    "order_status": to.code(),
                    "action_msg": to.label_zh(),
                });
                if api == Api::Realmock {
                    body["delivery_sign"] = json!(signature);
                }
                (api, body)
            }
            None => (
                Api::CarrierUpdate,
                json!({
                    "wx_token": order.wx_token,
                    "shopid": order.shopid,
                    "shop_order_id": order.shop_order_id,
                    "shop_no": order.shop_no,
                    "waybill_id": order.waybill_id,
                    "action_time": now_unix(),
                    "order_status": to.code(),
                    "action_msg": to.label_zh(),
                }),
            ),
        },
        Request::Cancel => (
            Api::Cancel,
            json!({
                "shopid": order.shopid,
                "shop_order_id": order.shop_order_id,
                "delivery_id": order.carrier.delivery_id,
                "shop_no": order.shop_no,
                "waybill_id": order.waybill_id,
                "cancel_reason_id": 1,
                "delivery_sign": signature,
            }),
        ),
        Request::ConfirmReturn => (
            Api::ConfirmReturn,
            json!({
                "shopid": order.shopid,
                "shop_order_id": order.shop_order_id,
                "shop_no": order.shop_no,
                "waybill_id": order.waybill_id,
                "delivery_sign": signature,
            }),
        ),
        Request::Tip(tips) => (
            Api::AddTips,
            json!({
                "shopid": order.shopid,
                "shop_order_id": order.shop_order_id,
                "shop_no": order.shop_no,
                "waybill_id": order.waybill_id,
                "tips": tips,
                "delivery_sign": signature,
            }),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::orders::{Book, NewOrder};
    use crate::model::carriers::Carriers;

    fn carriers() -> Carriers {
        Carriers::builtin().unwrap_or_else(|e| panic!("{e:?}"))
    }

    /// An order of `carrier` at `status`, with `tips` given once.
    fn offered(table: &Carriers, carrier: &str, status: u16, tips: f64) -> Allowed {
        let Some(carrier) = table.find(carrier).cloned() else {
            panic!("{carrier}")
        };
        let mut book = Book::default();
        let shopid = carrier.account.shopid.clone();
        let order = book.create(NewOrder {
            carrier,
            shopid: &shopid,
            shop_order_id: "UI-1",
            shop_no: None,
            store: None,
            destination: None,
            tips,
            goods_value: 20.0,
            via: "order/add",
        });
        order.status = Status::from_code(status).unwrap_or_else(|| panic!("{status}"));
        allowed(&table.lifecycle, order)
    }

    fn codes(statuses: &[Status]) -> Vec<u16> {
        statuses.iter().map(|s| s.code()).collect()
    }

    #[test]
    fn moves_follow_each_carriers_graph() {
        let table = carriers();
        assert_eq!(codes(&offered(&table, "dada", 101, 0.0).moves), [102]);
        assert_eq!(codes(&offered(&table, "dada", 102, 0.0).moves), [201]);
        assert_eq!(
            codes(&offered(&table, "dada", 301, 0.0).moves),
            [302, 304, 305]
        );
        // SF skips what it does not report.
        assert_eq!(codes(&offered(&table, "sftc", 102, 0.0).moves), [202]);
        assert_eq!(
            codes(&offered(&table, "sandbox", 101, 0.0).moves),
            [102, 103, 501, 502]
        );
        // An ended order offers nothing, nor does a status the carrier cannot leave.
        let ended = offered(&table, "dada", 302, 0.0);
        assert!(ended.moves.is_empty() && !ended.cancel && ended.tip.is_none());
        assert!(offered(&table, "dada", 304, 0.0).moves.is_empty());
    }

    #[test]
    fn a_carrier_no_test_call_reaches_moves_along_the_lifecycle() {
        let table = carriers();
        assert_eq!(
            codes(&offered(&table, "ss", 101, 0.0).moves),
            codes(table.lifecycle.next(Status::AwaitingRider))
        );
    }

    #[test]
    fn cancel_is_offered_where_the_carriers_rule_takes_one() {
        let table = carriers();
        assert!(offered(&table, "dada", 201, 0.0).cancel);
        // Dada takes a cancel only before pickup.
        assert!(!offered(&table, "dada", 202, 0.0).cancel);
        assert!(offered(&table, "sftc", 202, 0.0).cancel);
        // Returning goods cannot be cancelled; the merchant confirms they came back.
        assert!(!offered(&table, "sandbox", 304, 0.0).cancel);
    }

    #[test]
    fn returning_goods_can_be_confirmed_back_even_where_the_carrier_has_no_move() {
        let table = carriers();
        let returning = offered(&table, "dada", 304, 0.0);
        assert!(returning.confirm_return && returning.moves.is_empty());
        assert!(offered(&table, "sandbox", 303, 0.0).confirm_return);
        assert!(!offered(&table, "dada", 301, 0.0).confirm_return);
        assert!(!offered(&table, "sandbox", 401, 0.0).confirm_return);
    }

    #[test]
    fn a_tip_is_offered_while_waiting_for_a_rider_as_the_carrier_takes_it() {
        let table = carriers();
        assert_eq!(offered(&table, "dada", 101, 0.0).tip, Some(2.0));
        assert_eq!(offered(&table, "dada", 102, 0.0).tip, None);
        // 闪送 takes only its tiers: the next one above the last tip.
        assert_eq!(offered(&table, "ss", 101, 3.0).tip, Some(5.0));
        // MTPS takes none.
        assert_eq!(offered(&table, "mtps", 101, 0.0).tip, None);
        // Dada's cap is 30 yuan and the goods value (20 here).
        assert_eq!(offered(&table, "dada", 101, 19.0).tip, Some(20.0));
        assert_eq!(offered(&table, "dada", 101, 20.0).tip, None);
    }
}
