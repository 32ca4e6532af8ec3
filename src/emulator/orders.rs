//! The order book: every order the emulator knows, its rider, and its full history.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedSender;

use super::push::Event;
use super::state::{self, Fingerprint, Store};
use super::wire::{Verdict, now_rfc3339};
use crate::model::carriers::Carrier;
use crate::model::statuses::{Outcome, Status};

/// `(shopid, shop_order_id)`: how the platform names an order.
pub(crate) type Key = (String, String);

/// Calls that named no known order are kept too, up to this many (the oldest go first).
const UNMATCHED_KEPT: usize = 500;

/// A longitude/latitude pair (GCJ-02, as the platform uses).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Point {
    pub lng: f64,
    pub lat: f64,
}

/// Where orders start when `order/add` gave no coordinates: the platform docs' sample
/// (Guangzhou, TIT Creative Park).
pub(crate) const DEFAULT_STORE: Point = Point {
    lng: 113.324_52,
    lat: 23.099_994,
};

/// A plausible rider, fixed per order so every push and `order/get` agree.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Rider {
    pub name: String,
    pub phone: String,
}

const RIDER_NAMES: [&str; 6] = ["张师傅", "李骑手", "王小明", "陈师傅", "刘骑手", "赵师傅"];

impl Rider {
    pub fn for_order(seq: u64) -> Rider {
        let index = usize::try_from(seq % RIDER_NAMES.len() as u64).unwrap_or(0);
        Rider {
            name: RIDER_NAMES[index].to_owned(),
            // 1380013xxxx is a documentation number range, never a real subscriber.
            phone: format!("1380013{:04}", seq % 10_000),
        }
    }
}

/// One line of an order's history.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Entry {
    Created {
        time: String,
        via: String,
        order_status: u16,
    },
    Call(CallRecord),
    Push(PushRecord),
}

/// A call received, with what was answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CallRecord {
    pub time: String,
    pub api: String,
    /// The JSON body with credentials removed (`delivery_sign` kept).
    pub request: Value,
    pub verdict: Verdict,
    /// Top-level fields the API's documentation does not list: accepted, noted here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerated_fields: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_change: Option<Change>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Change {
    pub from: u16,
    pub to: u16,
}

/// What became of one pushed status change, after all its attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushOutcome {
    pub shopid: String,
    pub shop_order_id: String,
    pub order_status: u16,
    pub delivered: bool,
    pub attempts: u32,
    /// The last attempt's result: `HTTP 200`, `timeout after 5000 ms`, ...
    pub detail: String,
}

/// One attempt at pushing one status change to the merchant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PushRecord {
    pub time: String,
    pub order_status: u16,
    pub attempt: u32,
    pub of: u32,
    pub format: String,
    /// `delivered` or `failed`.
    pub outcome: String,
    /// `HTTP 200`, `HTTP 500`, `timeout after 5000 ms`, `connection error: ...`.
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    pub elapsed_ms: u64,
    /// The last attempt failed: WeChat drops the event.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gave_up: bool,
}

/// Serialized whole (less its push queue) into the state file.
#[derive(Serialize, Deserialize)]
pub(crate) struct Order {
    pub shopid: String,
    pub shop_order_id: String,
    #[serde(with = "state::carrier_ref")]
    pub carrier: Arc<Carrier>,
    pub waybill_id: String,
    pub shop_no: String,
    #[serde(with = "state::status_code")]
    pub status: Status,
    pub created_at: String,
    pub rider: Rider,
    pub rider_assigned: bool,
    /// Expected arrival (Unix seconds), only while delivering (301).
    pub reach_time: Option<i64>,
    pub store: Point,
    pub destination: Point,
    pub history: Vec<Entry>,
    /// This order's push queue; one worker per order keeps pushes in order.
    #[serde(skip)]
    pub pushes: Option<UnboundedSender<Event>>,
}

impl Order {
    /// Where the rider is now: heading to the store, at the store, on the way, or arrived.
    pub fn rider_position(&self) -> Option<Point> {
        if !self.rider_assigned {
            return None;
        }
        let along = |f: f64| Point {
            lng: self.store.lng + (self.destination.lng - self.store.lng) * f,
            lat: self.store.lat + (self.destination.lat - self.store.lat) * f,
        };
        Some(match self.status {
            Status::RiderAssigned => Point {
                lng: self.store.lng - 0.004,
                lat: self.store.lat - 0.003,
            },
            Status::Delivering => along(0.5),
            Status::Delivered | Status::RecipientUnreachable | Status::RecipientRefused => {
                along(1.0)
            }
            _ => self.store,
        })
    }

    pub fn key(&self) -> Key {
        (self.shopid.clone(), self.shop_order_id.clone())
    }

    /// The inspection view (`/__simulate/orders`).
    pub fn to_json(&self) -> Value {
        let terminal = self.status.terminal().map(|o| match o {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        });
        json!({
            "shopid": self.shopid,
            "shop_order_id": self.shop_order_id,
            "carrier": {
                "id": self.carrier.id,
                "delivery_id": self.carrier.delivery_id,
                "name": self.carrier.name_en,
                "call": crate::wechat::api::Api::for_call(self.carrier.call).name(),
            },
            "status": {
                "code": self.status.code(),
                "name": self.status.name(),
                "label": self.status.label_en(),
                "terminal": terminal,
            },
            "waybill_id": self.waybill_id,
            "shop_no": self.shop_no,
            "created_at": self.created_at,
            "rider": if self.rider_assigned { json!(self.rider) } else { Value::Null },
            "history": self.history,
        })
    }
}

/// Everything the emulator remembers, behind one lock.
#[derive(Default)]
pub(crate) struct Book {
    pub orders: BTreeMap<Key, Order>,
    /// Calls that named no order (unknown order, unparsable body, token errors without one).
    pub unmatched: VecDeque<Value>,
    next_seq: u64,
    /// The state file, with what each order looked like when last written to it.
    store: Option<Store>,
    saved: HashMap<Key, Fingerprint>,
}

/// What `order/add` (or auto-create) needs to open an order.
pub(crate) struct NewOrder<'a> {
    pub carrier: Arc<Carrier>,
    pub shopid: &'a str,
    pub shop_order_id: &'a str,
    pub shop_no: Option<&'a str>,
    pub store: Option<Point>,
    pub destination: Option<Point>,
    pub via: &'static str,
}

impl Book {
    /// The book kept in `store`, with the orders it already holds.
    pub fn open(
        store: Store,
        carriers: &crate::model::carriers::Carriers,
    ) -> std::io::Result<Book> {
        let (orders, next_seq) = store.load_orders(carriers)?;
        let mut book = Book {
            next_seq,
            ..Book::default()
        };
        for order in orders {
            let key = order.key();
            book.saved.insert(key.clone(), state::fingerprint(&order));
            book.orders.insert(key, order);
        }
        book.store = Some(store);
        Ok(book)
    }

    /// Writes every order changed since the last write to the state file, if there is one.
    /// Called before a change is answered: an error means the change is not durable.
    pub fn persist(&mut self) -> std::io::Result<()> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let changed: Vec<&Order> = self
            .orders
            .values()
            .filter(|o| self.saved.get(&o.key()) != Some(&state::fingerprint(o)))
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        store.save_orders(&changed, self.next_seq)?;
        let written: Vec<(Key, Fingerprint)> = changed
            .iter()
            .map(|o| (state::key_of(o), state::fingerprint(o)))
            .collect();
        self.saved.extend(written);
        Ok(())
    }

    /// Opens an order at 101 with a new waybill id.
    pub fn create(&mut self, new: NewOrder<'_>) -> &mut Order {
        self.next_seq += 1;
        let seq = self.next_seq;
        let store = new.store.unwrap_or(DEFAULT_STORE);
        let destination = new.destination.unwrap_or(Point {
            lng: store.lng + 0.02,
            lat: store.lat + 0.015,
        });
        let now = now_rfc3339();
        let order = Order {
            shopid: new.shopid.to_owned(),
            shop_order_id: new.shop_order_id.to_owned(),
            waybill_id: format!("SIM{}{seq:010}", new.carrier.delivery_id),
            shop_no: new
                .shop_no
                .map(str::to_owned)
                .unwrap_or_else(|| new.carrier.account.shop_no.clone()),
            carrier: new.carrier,
            status: Status::INITIAL,
            created_at: now.clone(),
            rider: Rider::for_order(seq),
            rider_assigned: false,
            reach_time: None,
            store,
            destination,
            history: vec![Entry::Created {
                time: now,
                via: new.via.to_owned(),
                order_status: Status::INITIAL.code(),
            }],
            pushes: None,
        };
        let key = order.key();
        self.orders.entry(key).or_insert(order)
    }

    /// Files a call under its order, or among the unmatched ones.
    pub fn record(&mut self, key: Option<&Key>, record: CallRecord) {
        match key.and_then(|k| self.orders.get_mut(k)) {
            Some(order) => order.history.push(Entry::Call(record)),
            None => {
                if self.unmatched.len() >= UNMATCHED_KEPT {
                    self.unmatched.pop_front();
                }
                let mut value = json!(record);
                if let (Some((shopid, id)), Value::Object(map)) = (key, &mut value) {
                    map.insert("shopid".into(), json!(shopid));
                    map.insert("shop_order_id".into(), json!(id));
                }
                self.unmatched.push_back(value);
            }
        }
    }

    pub fn record_push(&mut self, key: &Key, record: PushRecord) {
        if let Some(order) = self.orders.get_mut(key) {
            order.history.push(Entry::Push(record));
        }
    }

    /// One outcome per pushed status change: its attempts folded into the last one's result.
    pub fn push_outcomes(&self) -> Vec<PushOutcome> {
        let mut out: Vec<PushOutcome> = Vec::new();
        for order in self.orders.values() {
            for entry in &order.history {
                let Entry::Push(push) = entry else { continue };
                let outcome = PushOutcome {
                    shopid: order.shopid.clone(),
                    shop_order_id: order.shop_order_id.clone(),
                    order_status: push.order_status,
                    delivered: push.outcome == "delivered",
                    attempts: push.attempt,
                    detail: push.detail.clone(),
                };
                match out.last_mut() {
                    Some(last) if push.attempt > 1 && last.order_status == push.order_status => {
                        *last = outcome;
                    }
                    _ => out.push(outcome),
                }
            }
        }
        out
    }

    pub fn to_json(&self) -> Value {
        let orders: Vec<Value> = self.orders.values().map(Order::to_json).collect();
        json!({
            "orders": orders,
            "unmatched_calls": self.unmatched,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::carriers::Carriers;

    fn dada() -> Arc<Carrier> {
        let Ok(carriers) = Carriers::builtin() else {
            panic!("built-in carriers")
        };
        match carriers.find("dada") {
            Some(c) => c.clone(),
            None => panic!("no dada"),
        }
    }

    #[test]
    fn create_opens_at_101_with_a_waybill_and_history() {
        let mut book = Book::default();
        let order = book.create(NewOrder {
            carrier: dada(),
            shopid: "dadaaee18818d97e236",
            shop_order_id: "A1",
            shop_no: None,
            store: None,
            destination: None,
            via: "order/add",
        });
        assert_eq!(order.status, Status::AwaitingRider);
        assert_eq!(order.waybill_id, "SIMDADA0000000001");
        assert_eq!(order.shop_no, "77071-47913");
        assert!(order.rider_position().is_none());
        let view = order.to_json();
        assert_eq!(view["status"]["code"], 101);
        assert_eq!(view["carrier"]["delivery_id"], "DADA");
        assert_eq!(view["history"][0]["kind"], "created");
    }

    #[test]
    fn unmatched_calls_are_bounded() {
        let mut book = Book::default();
        for _ in 0..(UNMATCHED_KEPT + 3) {
            book.record(
                None,
                CallRecord {
                    time: now_rfc3339(),
                    api: "order/get".to_owned(),
                    request: Value::Null,
                    verdict: Verdict::default(),
                    tolerated_fields: vec![],
                    status_change: None,
                    note: None,
                },
            );
        }
        assert_eq!(book.unmatched.len(), UNMATCHED_KEPT);
    }

    #[test]
    fn riders_are_plausible_and_stable() {
        let a = Rider::for_order(7);
        let b = Rider::for_order(7);
        assert_eq!(a.name, b.name);
        assert_eq!(a.phone.len(), 11);
        assert!(a.phone.starts_with("138"));
    }
}
