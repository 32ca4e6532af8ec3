//! `simulate serve --state FILE`: tokens, orders and their histories kept in SQLite.
//!
//! Each order is one row (its JSON form), each write one transaction with `synchronous=FULL`,
//! made before the call is answered: a killed emulator has lost nothing it acknowledged.
//! Without a state file nothing here runs and the emulator keeps everything in memory.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Deserializer, Serializer};

use super::orders::{DeliveryToken, Key, Order};
use crate::base::text::terminal_safe;
use crate::model::carriers::{Carrier, Carriers};
use crate::model::statuses::Status;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS orders (
    shopid TEXT NOT NULL,
    shop_order_id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (shopid, shop_order_id)
);
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// What a write changes: these orders (written whole), those forgotten, and the rest of the book.
pub(crate) struct Changes<'a> {
    pub orders: &'a [&'a Order],
    pub removed: &'a [Key],
    pub next_seq: u64,
    pub delivery_tokens: &'a BTreeMap<String, DeliveryToken>,
    pub opened: bool,
}

/// The book as the state file keeps it.
pub(crate) struct Saved {
    pub orders: Vec<Order>,
    pub next_seq: u64,
    pub delivery_tokens: BTreeMap<String, DeliveryToken>,
    pub opened: bool,
}

/// The open state file, shared by the order book and the token table.
#[derive(Clone)]
pub(crate) struct Store {
    conn: Arc<Mutex<Connection>>,
}

fn db_error(e: rusqlite::Error) -> io::Error {
    let not_a_database = e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase);
    io::Error::other(StateFileError {
        path: None,
        not_a_database,
        detail: e.to_string(),
    })
}

/// A state file that could not be opened or read, told apart from a listening problem so the
/// user is pointed at the file, not at the address.
#[derive(Debug)]
pub struct StateFileError {
    /// The file, once known (set by [`StateFileError::at`]).
    pub path: Option<std::path::PathBuf>,
    /// SQLite says the file is something else (SQLITE_NOTADB).
    pub not_a_database: bool,
    pub detail: String,
}

impl std::fmt::Display for StateFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.path {
            Some(path) => write!(f, "state file {}: {}", path.display(), self.detail),
            None => write!(f, "state file: {}", self.detail),
        }
    }
}

impl std::error::Error for StateFileError {}

impl StateFileError {
    /// `error` from opening or loading the state file at `path`, as a [`StateFileError`].
    pub fn at(path: &Path, error: io::Error) -> io::Error {
        let (not_a_database, detail) = match error
            .get_ref()
            .and_then(|e| e.downcast_ref::<StateFileError>())
        {
            Some(inner) => (inner.not_a_database, inner.detail.clone()),
            None => (false, error.to_string()),
        };
        io::Error::other(StateFileError {
            path: Some(path.to_owned()),
            not_a_database,
            detail,
        })
    }
}

impl Store {
    pub fn open(path: &Path) -> io::Result<Store> {
        let conn = Connection::open(path).map_err(db_error)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_error)?;
        // FULL: a commit is on disk before the call that made it is answered.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db_error)?;
        conn.execute_batch(SCHEMA).map_err(db_error)?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes these changes in one transaction.
    pub fn save_book(&self, changes: &Changes<'_>) -> io::Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(db_error)?;
        for order in changes.orders {
            let body = serde_json::to_string(order).map_err(io::Error::other)?;
            tx.execute(
                "INSERT INTO orders (shopid, shop_order_id, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (shopid, shop_order_id) DO UPDATE SET body = excluded.body",
                params![order.shopid, order.shop_order_id, body],
            )
            .map_err(db_error)?;
        }
        for (shopid, id) in changes.removed {
            tx.execute(
                "DELETE FROM orders WHERE shopid = ?1 AND shop_order_id = ?2",
                params![shopid, id],
            )
            .map_err(db_error)?;
        }
        put_meta(&tx, "next_seq", &changes.next_seq.to_string())?;
        let tokens = serde_json::to_string(changes.delivery_tokens).map_err(io::Error::other)?;
        put_meta(&tx, "delivery_tokens", &tokens)?;
        put_meta(&tx, "opened", if changes.opened { "1" } else { "0" })?;
        tx.commit().map_err(db_error)
    }

    /// Every kept order, with its carrier looked up again in `carriers` (an order whose
    /// carrier is no longer in the table is skipped, with a warning), and the rest of the book.
    pub fn load_book(&self, carriers: &Carriers) -> io::Result<Saved> {
        let conn = self.lock();
        let mut statement = conn
            .prepare("SELECT shopid, shop_order_id, body FROM orders")
            .map_err(db_error)?;
        let rows = statement
            .query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })
            .map_err(db_error)?;
        let mut orders = Vec::new();
        CARRIERS.with(|c| *c.borrow_mut() = Some(carriers.clone()));
        for row in rows {
            let (shopid, id, body) = row.map_err(db_error)?;
            match serde_json::from_str::<Order>(&body) {
                Ok(order) => orders.push(order),
                Err(e) => crate::base::console::err(&format!(
                    "{}\n",
                    rust_i18n::t!(
                        "serve.state_order_skipped",
                        order = terminal_safe(&format!("{shopid}/{id}")),
                        error = e.to_string()
                    )
                )),
            }
        }
        CARRIERS.with(|c| *c.borrow_mut() = None);
        let next_seq = get_meta(&conn, "next_seq")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        // Unreadable tokens are let go: they were good for three minutes only.
        let delivery_tokens = get_meta(&conn, "delivery_tokens")?
            .and_then(|v| serde_json::from_str(&v).ok())
            .unwrap_or_default();
        let opened = get_meta(&conn, "opened")?.is_some_and(|v| v == "1");
        Ok(Saved {
            orders,
            next_seq,
            delivery_tokens,
            opened,
        })
    }

    pub fn save_meta(&self, name: &str, value: &str) -> io::Result<()> {
        let conn = self.lock();
        put_meta(&conn, name, value)
    }

    pub fn load_meta(&self, name: &str) -> io::Result<Option<String>> {
        get_meta(&self.lock(), name)
    }
}

fn put_meta(conn: &Connection, name: &str, value: &str) -> io::Result<()> {
    conn.execute(
        "INSERT INTO meta (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![name, value],
    )
    .map(|_| ())
    .map_err(db_error)
}

fn get_meta(conn: &Connection, name: &str) -> io::Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE name = ?1", [name], |row| {
        row.get(0)
    })
    .optional()
    .map_err(db_error)
}

/// The delivery tokens and `open` flag as one text, to tell whether they changed since written.
pub(crate) fn meta_text(tokens: &BTreeMap<String, DeliveryToken>, opened: bool) -> String {
    format!(
        "{opened} {}",
        serde_json::to_string(tokens).unwrap_or_default()
    )
}

/// Which order rows changed since they were written: every call or push on an order adds a
/// history line (counted with those the history limit let go), so the count and the status tell.
pub(crate) type Fingerprint = (u64, u16);

pub(crate) fn fingerprint(order: &Order) -> Fingerprint {
    (
        order.history.len() as u64 + order.history_dropped,
        order.status.code(),
    )
}

thread_local! {
    /// The carrier table orders are read back against, only while [`Store::load_orders`] runs
    /// (serde's derive has no way to hand it to the field).
    static CARRIERS: RefCell<Option<Carriers>> = const { RefCell::new(None) };
}

/// An order's carrier is kept as its id and looked up again when read back, so a restart
/// with an updated carrier file uses the updated profile.
pub(crate) mod carrier_ref {
    use super::*;

    pub fn serialize<S: Serializer>(carrier: &Arc<Carrier>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&carrier.id)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<Carrier>, D::Error> {
        let id = String::deserialize(d)?;
        CARRIERS.with(|c| {
            c.borrow()
                .as_ref()
                .and_then(|carriers| carriers.find(&id).cloned())
                .ok_or_else(|| {
                    serde::de::Error::custom(format!("carrier `{id}` is not in the carrier table"))
                })
        })
    }
}

/// A status is kept as its code.
pub(crate) mod status_code {
    use super::*;

    pub fn serialize<S: Serializer>(status: &Status, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u16(status.code())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Status, D::Error> {
        let code = u16::deserialize(d)?;
        Status::from_code(code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown order status {code}")))
    }
}

#[cfg(test)]
mod tests {
    use super::super::Limits;
    use super::super::orders::{Book, CallRecord, DeliveryToken, NewOrder};
    use super::super::wire::{Verdict, now_rfc3339};
    use super::*;

    fn carriers() -> Carriers {
        Carriers::builtin().unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn open(path: &Path, limits: Limits) -> Book {
        let store = Store::open(path).unwrap_or_else(|e| panic!("{e}"));
        Book::open(store, &carriers(), limits).unwrap_or_else(|e| panic!("{e}"))
    }

    fn add(book: &mut Book, id: &str) -> String {
        let Some(dada) = carriers().find("dada").cloned() else {
            panic!("no dada")
        };
        book.create(NewOrder {
            carrier: dada,
            shopid: "s",
            shop_order_id: id,
            shop_no: None,
            store: None,
            destination: None,
            tips: 2.0,
            goods_value: 30.0,
            via: "order/add",
        })
        .waybill_id
        .clone()
    }

    fn call() -> CallRecord {
        CallRecord {
            time: now_rfc3339(),
            api: "order/addtips".to_owned(),
            request: serde_json::json!({"shopid": "s"}),
            verdict: Verdict::default(),
            tolerated_fields: vec![],
            status_change: None,
            note: None,
        }
    }

    fn key(id: &str) -> Key {
        ("s".to_owned(), id.to_owned())
    }

    #[test]
    fn orders_come_back_with_every_field_their_history_and_the_counter() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("state.sqlite");
        let mut book = open(&path, Limits::DEFAULT);
        let waybill = add(&mut book, "o");
        let Some(order) = book.orders.get_mut(&key("o")) else {
            panic!("just added")
        };
        order.status = Status::Delivering;
        order.rider_assigned = true;
        order.rider_assigned_at = Some(1_700_000_000);
        order.delivering_since = Some(1_700_000_100);
        order.reach_time = Some(1_700_000_900);
        order.tips = 5.0;
        order.tips_given = 2;
        let wx_token = order.wx_token.clone();
        book.delivery_tokens.insert(
            "DT1".to_owned(),
            DeliveryToken {
                key: key("p"),
                expires: 1_700_000_180,
            },
        );
        book.opened = true;
        book.record(Some(&key("o")), call());
        assert!(book.persist().is_ok());
        drop(book);

        let mut again = open(&path, Limits::DEFAULT);
        let Some(order) = again.orders.get(&key("o")) else {
            panic!("order lost")
        };
        assert_eq!(order.waybill_id, waybill);
        assert_eq!(order.history.len(), 2);
        assert_eq!(order.carrier.id, "dada");
        assert_eq!(order.status, Status::Delivering);
        assert_eq!(
            (order.tips, order.tips_given, order.goods_value),
            (5.0, 2, 30.0)
        );
        assert_eq!(order.wx_token, wx_token);
        assert_eq!(order.rider_assigned_at, Some(1_700_000_000));
        assert_eq!(order.delivering_since, Some(1_700_000_100));
        assert_eq!(order.reach_time, Some(1_700_000_900));
        assert!(again.opened);
        assert_eq!(
            again.delivery_tokens.get("DT1").map(|t| t.expires),
            Some(1_700_000_180)
        );
        assert_ne!(
            add(&mut again, "o2"),
            waybill,
            "the waybill counter came back"
        );
    }

    #[test]
    fn a_delivery_token_alone_is_written() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("state.sqlite");
        let mut book = open(&path, Limits::DEFAULT);
        book.delivery_tokens.insert(
            "DT2".to_owned(),
            DeliveryToken {
                key: key("q"),
                expires: 1_900_000_000,
            },
        );
        assert!(book.persist().is_ok());
        drop(book);
        let mut again = open(&path, Limits::DEFAULT);
        assert!(
            again.delivery_tokens.contains_key("DT2"),
            "pre_add's token lost"
        );
        again.delivery_tokens.clear();
        again.opened = true;
        assert!(again.persist().is_ok());
        drop(again);
        let third = open(&path, Limits::DEFAULT);
        assert!(third.delivery_tokens.is_empty() && third.opened);
    }

    #[test]
    fn a_change_beyond_the_history_limit_is_still_written() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("state.sqlite");
        let limits = Limits {
            history: 3,
            ..Limits::DEFAULT
        };
        let mut book = open(&path, limits);
        add(&mut book, "o");
        for _ in 0..5 {
            book.record(Some(&key("o")), call());
            assert!(book.persist().is_ok());
        }
        if let Some(order) = book.orders.get_mut(&key("o")) {
            order.tips = 9.0;
        }
        // At the limit the history's length stays 3; the tip's call must still be written.
        book.record(Some(&key("o")), call());
        assert!(book.persist().is_ok());
        drop(book);
        let again = open(&path, limits);
        assert_eq!(again.orders.get(&key("o")).map(|o| o.tips), Some(9.0));
    }

    #[test]
    fn orders_forgotten_by_the_limit_leave_the_state_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("state.sqlite");
        let limits = Limits {
            orders: 2,
            ..Limits::DEFAULT
        };
        let mut book = open(&path, limits);
        for id in ["a", "b", "c"] {
            add(&mut book, id);
            assert!(book.persist().is_ok());
        }
        drop(book);
        let mut again = open(&path, limits);
        let ids: Vec<&str> = again.orders.keys().map(|(_, id)| id.as_str()).collect();
        assert_eq!(ids, ["b", "c"]);
        // Still the oldest first after a restart.
        add(&mut again, "d");
        let ids: Vec<&str> = again.orders.keys().map(|(_, id)| id.as_str()).collect();
        assert_eq!(ids, ["c", "d"]);
    }

    #[test]
    fn an_order_kept_before_the_merchant_apis_still_loads() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("state.sqlite");
        let store = Store::open(&path).unwrap_or_else(|e| panic!("{e}"));
        // An order row as the first --state release wrote it: no tips, fees, wx_token...
        let old = r#"{"shopid":"s","shop_order_id":"old","carrier":"sf","waybill_id":"SIMSFTC0000000007","shop_no":"","status":102,"created_at":"2026-11-30T10:00:00.000Z","rider":{"name":"张师傅","phone":"13800130007"},"rider_assigned":true,"reach_time":null,"store":{"lng":113.3,"lat":23.1},"destination":{"lng":113.32,"lat":23.115},"history":[{"kind":"created","time":"2026-11-30T10:00:00.000Z","via":"order/add","order_status":101}]}"#;
        {
            let conn = store.lock();
            let done = conn.execute(
                "INSERT INTO orders (shopid, shop_order_id, body) VALUES ('s', 'old', ?1)",
                [old],
            );
            assert!(done.is_ok(), "{done:?}");
        }
        let book =
            Book::open(store, &carriers(), Limits::DEFAULT).unwrap_or_else(|e| panic!("{e}"));
        let Some(order) = book.orders.get(&key("old")) else {
            panic!("the old order did not load")
        };
        assert_eq!(order.status, Status::RiderAssigned);
        assert_eq!((order.tips, order.tips_given), (0.0, 0));
        assert!(order.wx_token.starts_with("SIMWX"), "{}", order.wx_token);
        assert_eq!(order.history_dropped, 0);
    }
}
