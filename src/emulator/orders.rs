//! The order book: every order the emulator knows, its rider, and its full history.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::watch;

use super::Limits;
use super::push::Event;
use super::state::{self, Fingerprint, Store};
use super::wire::{Verdict, now_rfc3339};
use crate::model::carriers::Carrier;
use crate::model::statuses::{Outcome, Status};

/// `(shopid, shop_order_id)`: how the platform names an order.
pub(crate) type Key = (String, String);

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
    /// When the rider was assigned (Unix seconds), for the cancel fee's grace.
    #[serde(default)]
    pub rider_assigned_at: Option<i64>,
    /// When delivery started (301), so the rider moves from the store to the receiver.
    #[serde(default)]
    pub delivering_since: Option<i64>,
    /// Expected arrival (Unix seconds), only while delivering (301).
    pub reach_time: Option<i64>,
    /// The current tip (yuan) and how many `order/addtips` were taken.
    // The defaults let state files written before these fields existed load.
    #[serde(default)]
    pub tips: f64,
    #[serde(default)]
    pub tips_given: u32,
    /// `cargo.goods_value`, the cap of some carriers' tips.
    #[serde(default)]
    pub goods_value: f64,
    /// The token the platform gives the carrier for this order; the carrier's
    /// `delivery/update_order` must send it back as `wx_token`.
    #[serde(default = "new_wx_token")]
    pub wx_token: String,
    pub store: Point,
    pub destination: Point,
    pub history: Vec<Entry>,
    /// Entries let go to keep the history within its limit.
    #[serde(default)]
    pub history_dropped: u64,
    /// This order's push queue; one worker per order keeps pushes in order.
    #[serde(skip)]
    pub pushes: Option<UnboundedSender<Event>>,
}

/// A fresh `wx_token` (also for orders kept by a state file from before there were any).
fn new_wx_token() -> String {
    format!("SIMWX{}", uuid::Uuid::new_v4().simple())
}

impl Order {
    /// Where the rider is now: heading to the store, at the store, on the way (moving from
    /// the store towards the receiver as the expected arrival nears), or arrived.
    pub fn rider_position(&self, now: i64) -> Option<Point> {
        if !self.rider_assigned {
            return None;
        }
        let along = |f: f64| Point {
            lng: self.store.lng + (self.destination.lng - self.store.lng) * f,
            lat: self.store.lat + (self.destination.lat - self.store.lat) * f,
        };
        Some(match self.status {
            Status::RiderAssigned => self.approach(),
            Status::Delivering => along(self.progress(now)),
            Status::Delivered | Status::RecipientUnreachable | Status::RecipientRefused => {
                along(1.0)
            }
            _ => self.store,
        })
    }

    /// Where the rider is while heading to the store (102): a little south-west of it.
    pub fn approach(&self) -> Point {
        Point {
            lng: self.store.lng - 0.004,
            lat: self.store.lat - 0.003,
        }
    }

    /// Adds to the history, keeping its first entry (the creation) and the latest ones up to
    /// `limit`; returns how many were let go.
    fn remember(&mut self, entry: Entry, limit: usize) -> u64 {
        self.history.push(entry);
        let limit = limit.max(2);
        let excess = self.history.len().saturating_sub(limit);
        if excess > 0 {
            self.history.drain(1..=excess);
            self.history_dropped += excess as u64;
        }
        excess as u64
    }

    /// How far along the way the rider is while delivering, from 0 at the store; never the
    /// whole way before 302 says so.
    fn progress(&self, now: i64) -> f64 {
        let (Some(since), Some(reach)) = (self.delivering_since, self.reach_time) else {
            return 0.5;
        };
        let total = (reach - since).max(1) as f64;
        (((now - since) as f64) / total).clamp(0.0, 0.95)
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
                "call": crate::wechat::api::Api::call_name(self.carrier.call),
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
            "history_dropped": self.history_dropped,
            "tips": self.tips,
            "wx_token": self.wx_token,
            "history": self.history,
        })
    }
}

/// Everything the emulator remembers, behind one lock, within [`Limits`].
pub(crate) struct Book {
    pub orders: BTreeMap<Key, Order>,
    /// Calls that named no order (unknown order, unparsable body, token errors without one).
    pub unmatched: VecDeque<Value>,
    /// `delivery_token`s from `order/pre_add`, with what they were issued for.
    pub delivery_tokens: BTreeMap<String, DeliveryToken>,
    /// Immediate delivery was opened (`open`); a second `open` answers 930569.
    pub opened: bool,
    /// Orders by age, to forget the oldest beyond `limits.orders`.
    created: VecDeque<Key>,
    /// What was let go to stay within the limits, shown in the listing.
    pub forgotten: Forgotten,
    limits: Limits,
    next_seq: u64,
    /// The state file, with what each order looked like when last written to it, and the
    /// orders forgotten since (to delete from it).
    store: Option<Store>,
    saved: HashMap<Key, Fingerprint>,
    removed: Vec<Key>,
    /// The delivery tokens and `open` flag as last written ([`state::meta_text`]).
    saved_meta: String,
    /// Counts every change (an order created, a call or a push filed), so the dashboard's
    /// feed wakes up when there is something new to show.
    changes: watch::Sender<u64>,
}

/// Counts of what the limits made the emulator let go.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub(crate) struct Forgotten {
    pub orders: u64,
    pub history_entries: u64,
    pub unmatched_calls: u64,
}

/// A `delivery_token` quoted by `order/pre_add`, good for one `order/add` of that order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DeliveryToken {
    pub key: Key,
    /// Unix seconds after which `order/add` refuses it.
    pub expires: i64,
}

/// What `order/add` (or auto-create) needs to open an order.
pub(crate) struct NewOrder<'a> {
    pub carrier: Arc<Carrier>,
    pub shopid: &'a str,
    pub shop_order_id: &'a str,
    pub shop_no: Option<&'a str>,
    pub store: Option<Point>,
    pub destination: Option<Point>,
    pub tips: f64,
    pub goods_value: f64,
    pub via: &'static str,
}

impl Default for Book {
    fn default() -> Book {
        Book::new(Limits::DEFAULT)
    }
}

impl Book {
    pub fn new(limits: Limits) -> Book {
        Book {
            orders: BTreeMap::new(),
            unmatched: VecDeque::new(),
            delivery_tokens: BTreeMap::new(),
            opened: false,
            created: VecDeque::new(),
            forgotten: Forgotten::default(),
            limits,
            next_seq: 0,
            store: None,
            saved: HashMap::new(),
            removed: Vec::new(),
            saved_meta: String::new(),
            changes: watch::Sender::new(0),
        }
    }

    /// Wakes whenever the book changes.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The book kept in `store`, with the orders it already holds.
    /// How many orders the book holds.
    pub fn order_count(&self) -> usize {
        self.orders.len()
    }

    pub fn open(
        store: Store,
        carriers: &crate::model::carriers::Carriers,
        limits: Limits,
    ) -> std::io::Result<Book> {
        let saved = store.load_book(carriers)?;
        let mut book = Book {
            next_seq: saved.next_seq,
            delivery_tokens: saved.delivery_tokens,
            opened: saved.opened,
            ..Book::new(limits)
        };
        let mut orders = saved.orders;
        // Oldest first, so the limit forgets the same orders it would have.
        orders.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        for order in orders {
            let key = order.key();
            book.saved.insert(key.clone(), state::fingerprint(&order));
            book.created.push_back(key.clone());
            book.orders.insert(key, order);
        }
        book.saved_meta = state::meta_text(&book.delivery_tokens, book.opened);
        book.store = Some(store);
        Ok(book)
    }

    /// Writes every order changed since the last write to the state file, if there is one,
    /// with the delivery tokens and the `open` flag. Called before a change is answered: an
    /// error means the change is not durable.
    pub fn persist(&mut self) -> std::io::Result<()> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let changed: Vec<&Order> = self
            .orders
            .values()
            .filter(|o| self.saved.get(&o.key()) != Some(&state::fingerprint(o)))
            .collect();
        // pre_add's tokens and `open` change no order, so they are compared on their own.
        let meta = state::meta_text(&self.delivery_tokens, self.opened);
        if changed.is_empty() && self.removed.is_empty() && meta == self.saved_meta {
            return Ok(());
        }
        store.save_book(&state::Changes {
            orders: &changed,
            removed: &self.removed,
            next_seq: self.next_seq,
            delivery_tokens: &self.delivery_tokens,
            opened: self.opened,
        })?;
        let written: Vec<(Key, Fingerprint)> = changed
            .iter()
            .map(|o| (o.key(), state::fingerprint(o)))
            .collect();
        self.saved.extend(written);
        for key in std::mem::take(&mut self.removed) {
            self.saved.remove(&key);
        }
        self.saved_meta = meta;
        Ok(())
    }

    /// Opens an order at 101 with a new waybill id, forgetting the oldest order beyond
    /// `limits.orders`. An order of that key that ended is replaced by its re-dispatch
    /// (`order/readd`), keeping its history and push queue.
    pub fn create(&mut self, new: NewOrder<'_>) -> &mut Order {
        let key = (new.shopid.to_owned(), new.shop_order_id.to_owned());
        if !self.orders.contains_key(&key) {
            while self.orders.len() >= self.limits.orders.max(1) {
                let Some(oldest) = self.created.pop_front() else {
                    break;
                };
                if self.orders.remove(&oldest).is_some() {
                    self.forgotten.orders += 1;
                    if self.store.is_some() {
                        self.removed.push(oldest);
                    }
                }
            }
            self.created.push_back(key);
        }
        self.next_seq += 1;
        let seq = self.next_seq;
        let key = (new.shopid.to_owned(), new.shop_order_id.to_owned());
        let (history, history_dropped, pushes) = match self.orders.remove(&key) {
            Some(old) => (old.history, old.history_dropped, old.pushes),
            None => (Vec::new(), 0, None),
        };
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
            rider_assigned_at: None,
            delivering_since: None,
            reach_time: None,
            tips: new.tips,
            tips_given: 0,
            goods_value: new.goods_value,
            wx_token: new_wx_token(),
            store,
            destination,
            history,
            history_dropped,
            pushes,
        };
        let mut order = order;
        order.history.push(Entry::Created {
            time: now,
            via: new.via.to_owned(),
            order_status: Status::INITIAL.code(),
        });
        self.changed();
        self.orders.entry(key).or_insert(order)
    }

    /// Files a call under its order, or among the unmatched ones.
    pub fn record(&mut self, key: Option<&Key>, record: CallRecord) {
        self.changed();
        let limit = self.limits.history;
        match key.and_then(|k| self.orders.get_mut(k)) {
            Some(order) => {
                self.forgotten.history_entries += order.remember(Entry::Call(record), limit);
            }
            None => {
                while self.unmatched.len() >= self.limits.unmatched.max(1) {
                    self.unmatched.pop_front();
                    self.forgotten.unmatched_calls += 1;
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
        self.changed();
        let limit = self.limits.history;
        if let Some(order) = self.orders.get_mut(key) {
            self.forgotten.history_entries += order.remember(Entry::Push(record), limit);
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
        let mut book = Book::new(Limits::DEFAULT);
        let order = book.create(NewOrder {
            carrier: dada(),
            shopid: "dadaaee18818d97e236",
            shop_order_id: "A1",
            shop_no: None,
            store: None,
            destination: None,
            tips: 0.0,
            goods_value: 10.0,
            via: "order/add",
        });
        assert_eq!(order.status, Status::AwaitingRider);
        assert_eq!(order.waybill_id, "SIMDADA0000000001");
        assert_eq!(order.shop_no, "77071-47913");
        assert!(order.rider_position(0).is_none());
        let view = order.to_json();
        assert_eq!(view["status"]["code"], 101);
        assert_eq!(view["carrier"]["delivery_id"], "DADA");
        assert_eq!(view["history"][0]["kind"], "created");
    }

    fn call() -> CallRecord {
        CallRecord {
            time: now_rfc3339(),
            api: "order/get".to_owned(),
            request: Value::Null,
            verdict: Verdict::default(),
            tolerated_fields: vec![],
            status_change: None,
            note: None,
        }
    }

    fn open(book: &mut Book, id: &str) -> Key {
        book.create(NewOrder {
            carrier: dada(),
            shopid: "dadaaee18818d97e236",
            shop_order_id: id,
            shop_no: None,
            store: None,
            destination: None,
            tips: 0.0,
            goods_value: 0.0,
            via: "order/add",
        })
        .key()
    }

    #[test]
    fn the_rider_moves_towards_the_receiver_while_delivering() {
        let mut book = Book::default();
        let order = book.create(NewOrder {
            carrier: dada(),
            shopid: "dadaaee18818d97e236",
            shop_order_id: "A2",
            shop_no: None,
            store: None,
            destination: None,
            tips: 0.0,
            goods_value: 10.0,
            via: "order/add",
        });
        order.status = Status::Delivering;
        order.rider_assigned = true;
        order.delivering_since = Some(1000);
        order.reach_time = Some(2000);
        let at = |t| order.rider_position(t).map(|p| p.lng);
        let (start, middle, end) = (at(1000), at(1500), at(5000));
        let store = order.store.lng;
        let dest = order.destination.lng;
        assert_eq!(start, Some(store));
        assert!(middle.is_some_and(|m| (m - (store + dest) / 2.0).abs() < 1e-9));
        assert!(end.is_some_and(|e| e < dest), "not arrived before 302");
    }

    #[test]
    fn a_redispatch_keeps_the_history_and_gets_a_new_waybill() {
        let mut book = Book::default();
        let new = |via| NewOrder {
            carrier: dada(),
            shopid: "dadaaee18818d97e236",
            shop_order_id: "A3",
            shop_no: None,
            store: None,
            destination: None,
            tips: 0.0,
            goods_value: 10.0,
            via,
        };
        let first = book.create(new("order/add")).waybill_id.clone();
        book.orders
            .values_mut()
            .for_each(|o| o.status = Status::MerchantCancelled);
        let again = book.create(new("order/readd"));
        assert_ne!(again.waybill_id, first);
        assert_eq!(again.status, Status::AwaitingRider);
        assert_eq!(again.history.len(), 2);
    }

    #[test]
    fn unmatched_calls_are_bounded() {
        let mut book = Book::new(Limits::DEFAULT);
        for _ in 0..(Limits::DEFAULT.unmatched + 3) {
            book.record(None, call());
        }
        assert_eq!(book.unmatched.len(), Limits::DEFAULT.unmatched);
        assert_eq!(book.forgotten.unmatched_calls, 3);
    }

    #[test]
    fn history_keeps_the_creation_and_the_latest_entries() {
        let mut book = Book::new(Limits {
            history: 5,
            ..Limits::DEFAULT
        });
        let key = open(&mut book, "A");
        for _ in 0..200 {
            book.record(Some(&key), call());
        }
        let Some(order) = book.orders.get(&key) else {
            panic!("the order is kept")
        };
        assert_eq!(order.history.len(), 5);
        assert!(matches!(order.history[0], Entry::Created { .. }));
        assert_eq!(order.history_dropped, 196);
        assert_eq!(order.to_json()["history_dropped"], 196);
    }

    #[test]
    fn the_oldest_orders_are_forgotten_beyond_the_limit() {
        let mut book = Book::new(Limits {
            orders: 3,
            ..Limits::DEFAULT
        });
        for id in ["A", "B", "C", "D", "E"] {
            open(&mut book, id);
        }
        // Creating an order that exists forgets nothing.
        open(&mut book, "E");
        let ids: Vec<&str> = book.orders.keys().map(|(_, id)| id.as_str()).collect();
        assert_eq!(ids, ["C", "D", "E"]);
        assert_eq!(book.forgotten.orders, 2);
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
