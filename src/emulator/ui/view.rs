//! What the dashboard shows of each order: carrier, status, the path it has taken and has
//! left, its timeline of calls and pushes, the map and what may be done to it now.

use std::collections::{BTreeSet, HashMap, VecDeque};

use serde_json::{Value, json};

use super::actions::{self, graph_next};
use super::map::{self, Projection};
use crate::emulator::orders::{Book, Entry, Order};
use crate::emulator::wire::{Verdict, now_rfc3339, now_unix};
use crate::model::carriers::Lifecycle;
use crate::model::statuses::{Outcome, Status};

/// The newest orders shown; older ones are counted, not drawn (a projector shows a few).
pub(crate) const SHOWN_ORDERS: usize = 60;
/// The latest entries of an order's timeline shown.
const TIMELINE_ENTRIES: usize = 40;

fn labels(status: Status) -> Value {
    json!({ "en": status.label_en(), "zh": status.label_zh() })
}

fn status_view(status: Status) -> Value {
    json!({
        "code": status.code(),
        "name": status.name(),
        "label": labels(status),
        "terminal": status.terminal().map(|o| match o {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }),
    })
}

/// The statuses an order went through, in order, from its history (since its last creation:
/// a re-dispatch starts again at 101).
pub(crate) fn visited(order: &Order) -> Vec<Status> {
    let mut path = vec![Status::INITIAL];
    for entry in &order.history {
        match entry {
            Entry::Created { .. } => path = vec![Status::INITIAL],
            Entry::Call(call) => {
                if let Some(to) = call.status_change.and_then(|c| Status::from_code(c.to)) {
                    path.push(to);
                }
            }
            Entry::Push(_) => {}
        }
    }
    // A history trimmed to its limit may have lost moves: it still ends where the order is.
    if path.last() != Some(&order.status) {
        path.push(order.status);
    }
    path
}

/// The fewest moves from `from` to a successful end along `next`, else to any end; empty when
/// no end can be reached (or `from` is one).
pub(crate) fn rest_of_path(from: Status, next: impl Fn(Status) -> Vec<Status>) -> Vec<Status> {
    let search = |goal: &dyn Fn(Status) -> bool| -> Option<Vec<Status>> {
        let mut came_from: HashMap<Status, Status> = HashMap::new();
        let mut seen = BTreeSet::from([from]);
        let mut queue = VecDeque::from([from]);
        while let Some(at) = queue.pop_front() {
            if at != from && goal(at) {
                let mut path = vec![at];
                let mut step = at;
                while let Some(&before) = came_from.get(&step) {
                    if before == from {
                        break;
                    }
                    path.push(before);
                    step = before;
                }
                path.reverse();
                return Some(path);
            }
            for to in next(at) {
                if seen.insert(to) {
                    came_from.insert(to, at);
                    queue.push_back(to);
                }
            }
        }
        None
    };
    if from.is_terminal() {
        return Vec::new();
    }
    search(&|s| s.terminal() == Some(Outcome::Success))
        .or_else(|| search(&|s| s.is_terminal()))
        .unwrap_or_default()
}

/// What a call's answer said, in a few words: the codes and messages that were not zero.
fn answer(verdict: &Verdict) -> (bool, String) {
    if let Some(fault) = &verdict.fault {
        return (false, format!("injected fault: {fault}"));
    }
    if let Some(code) = verdict.errcode.filter(|c| *c != 0) {
        let msg = verdict.errmsg.as_deref().unwrap_or("");
        return (false, format!("errcode {code}: {msg}"));
    }
    if let Some(code) = verdict.resultcode.filter(|c| *c != 0) {
        let msg = verdict.resultmsg.as_deref().unwrap_or("");
        return (false, format!("resultcode {code}: {msg}"));
    }
    if verdict.http_status != 200 {
        return (false, format!("HTTP {}", verdict.http_status));
    }
    (true, String::new())
}

fn timeline(order: &Order) -> Vec<Value> {
    let skip = order.history.len().saturating_sub(TIMELINE_ENTRIES);
    order
        .history
        .iter()
        .skip(skip)
        .map(|entry| match entry {
            Entry::Created { time, via, .. } => json!({
                "time": time, "kind": "created", "api": via, "ok": true,
            }),
            Entry::Call(call) => {
                let (ok, detail) = answer(&call.verdict);
                json!({
                    "time": call.time,
                    "kind": "call",
                    "api": call.api,
                    "ok": ok,
                    "detail": detail,
                    "change": call.status_change.map(|c| json!({ "from": c.from, "to": c.to })),
                    "note": call.note,
                })
            }
            // The merchant's answer is the push's detail (`HTTP 200`, or what the handler
            // replied when it refused).
            Entry::Push(push) => json!({
                "time": push.time,
                "kind": "push",
                "status": push.order_status,
                "attempt": push.attempt,
                "of": push.of,
                "ok": push.outcome == "delivered",
                "detail": push.detail,
                "gave_up": push.gave_up,
            }),
        })
        .collect()
}

fn order_view(lifecycle: &Lifecycle, order: &Order, now: i64) -> Value {
    let done = visited(order);
    let rest = rest_of_path(order.status, |s| graph_next(lifecycle, &order.carrier, s));
    let mut path: Vec<Value> = done
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let state = if i + 1 == done.len() {
                "current"
            } else {
                "done"
            };
            json!({ "code": s.code(), "label": labels(*s), "state": state })
        })
        .collect();
    path.extend(
        rest.iter()
            .map(|s| json!({ "code": s.code(), "label": labels(*s), "state": "next" })),
    );
    let moves_made = done.len() - 1;
    let projection = Projection::fit(&[order.store, order.destination, order.approach()]);
    let rider = order.rider_position(now).map(|p| projection.project(p));
    let offered = actions::allowed(lifecycle, order);
    json!({
        "shopid": order.shopid,
        "shop_order_id": order.shop_order_id,
        "waybill_id": order.waybill_id,
        "created_at": order.created_at,
        "carrier": {
            "id": order.carrier.id,
            "delivery_id": order.carrier.delivery_id,
            "name": { "en": order.carrier.name_en, "zh": order.carrier.name_zh },
        },
        "status": status_view(order.status),
        "rider": order.rider_assigned.then(|| json!(order.rider)),
        "tips": order.tips,
        "path": path,
        "progress": { "done": moves_made, "total": moves_made + rest.len() },
        "map": {
            "width": map::WIDTH,
            "height": map::HEIGHT,
            "store": projection.project(order.store),
            "receiver": projection.project(order.destination),
            "rider": rider,
        },
        "actions": {
            "moves": offered.moves.iter().map(|s| status_view(*s)).collect::<Vec<_>>(),
            "cancel": offered.cancel,
            "confirm_return": offered.confirm_return,
            "tip": offered.tip,
        },
        "timeline": timeline(order),
        "history_dropped": order.history_dropped,
    })
}

/// Everything the page draws, newest order first.
pub(crate) fn snapshot(lifecycle: &Lifecycle, book: &Book) -> Value {
    let now = now_unix();
    let mut orders: Vec<&Order> = book.orders.values().collect();
    orders.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.shop_order_id.cmp(&a.shop_order_id))
    });
    let shown: Vec<Value> = orders
        .iter()
        .take(SHOWN_ORDERS)
        .map(|o| order_view(lifecycle, o, now))
        .collect();
    json!({
        "at": now_rfc3339(),
        "total": orders.len(),
        "orders": shown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::carriers::Carriers;

    fn carriers() -> Carriers {
        Carriers::builtin().unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn rest(table: &Carriers, carrier: &str, from: u16) -> Vec<u16> {
        let Some(carrier) = table.find(carrier).cloned() else {
            panic!("{carrier}")
        };
        let from = Status::from_code(from).unwrap_or_else(|| panic!("{from}"));
        rest_of_path(from, |s| graph_next(&table.lifecycle, &carrier, s))
            .iter()
            .map(|s| s.code())
            .collect()
    }

    #[test]
    fn the_rest_of_the_path_heads_for_delivery_by_the_carriers_graph() {
        let table = carriers();
        assert_eq!(rest(&table, "dada", 101), [102, 201, 202, 301, 302]);
        assert_eq!(rest(&table, "dada", 202), [301, 302]);
        assert_eq!(rest(&table, "sftc", 101), [102, 202, 302]);
        assert!(rest(&table, "dada", 302).is_empty());
        // Dada cannot leave 304 (it does not report 401): nothing left to draw.
        assert!(rest(&table, "dada", 304).is_empty());
        // Returning goods head for 401, an end that is no success.
        assert_eq!(rest(&table, "sandbox", 304), [401]);
    }

    #[test]
    fn a_snapshot_shows_the_newest_orders_with_their_path_so_far() {
        let table = carriers();
        let Some(dada) = table.find("dada").cloned() else {
            panic!("dada")
        };
        let mut book = Book::default();
        let order = book.create(crate::emulator::orders::NewOrder {
            carrier: dada,
            shopid: "dadaaee18818d97e236",
            shop_order_id: "UI-2",
            shop_no: None,
            store: None,
            destination: None,
            tips: 0.0,
            goods_value: 10.0,
            via: "order/add",
        });
        order.status = Status::RiderAssigned;
        order.rider_assigned = true;
        let view = snapshot(&table.lifecycle, &book);
        assert_eq!(view["total"], 1);
        let order = &view["orders"][0];
        assert_eq!(order["status"]["code"], 102);
        assert_eq!(
            order["status"]["label"]["zh"],
            Status::RiderAssigned.label_zh()
        );
        let path: Vec<(u64, &str)> = order["path"]
            .as_array()
            .map(|p| {
                p.iter()
                    .map(|s| {
                        (
                            s["code"].as_u64().unwrap_or(0),
                            s["state"].as_str().unwrap_or(""),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            path,
            [
                (101, "done"),
                (102, "current"),
                (201, "next"),
                (202, "next"),
                (301, "next"),
                (302, "next")
            ]
        );
        assert_eq!(order["progress"], json!({ "done": 1, "total": 5 }));
        assert_eq!(order["actions"]["moves"][0]["code"], 201);
        assert!(order["map"]["rider"]["x"].is_number());
        assert_eq!(order["timeline"][0]["kind"], "created");
    }
}
