//! `simulate serve --state FILE`: tokens, orders and their histories kept in SQLite.
//!
//! Each order is one row (its JSON form), each write one transaction with `synchronous=FULL`,
//! made before the call is answered: a killed emulator has lost nothing it acknowledged.
//! Without a state file nothing here runs and the emulator keeps everything in memory.

use std::cell::RefCell;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Deserializer, Serializer};

use super::orders::{Key, Order};
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

/// The open state file, shared by the order book and the token table.
#[derive(Clone)]
pub(crate) struct Store {
    conn: Arc<Mutex<Connection>>,
}

fn db_error(e: rusqlite::Error) -> io::Error {
    io::Error::other(format!("state file: {e}"))
}

impl Store {
    pub fn open(path: &Path) -> io::Result<Store> {
        let conn = Connection::open(path).map_err(|e| {
            io::Error::other(format!(
                "cannot open the state file {}: {e}",
                path.display()
            ))
        })?;
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

    /// Writes these orders (and the waybill counter) in one transaction.
    pub fn save_orders(&self, orders: &[&Order], next_seq: u64) -> io::Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(db_error)?;
        for order in orders {
            let body = serde_json::to_string(order).map_err(io::Error::other)?;
            tx.execute(
                "INSERT INTO orders (shopid, shop_order_id, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (shopid, shop_order_id) DO UPDATE SET body = excluded.body",
                params![order.shopid, order.shop_order_id, body],
            )
            .map_err(db_error)?;
        }
        put_meta(&tx, "next_seq", &next_seq.to_string())?;
        tx.commit().map_err(db_error)
    }

    /// Every kept order, with its carrier looked up again in `carriers` (an order whose
    /// carrier is no longer in the table is skipped, with a warning), and the waybill counter.
    pub fn load_orders(&self, carriers: &Carriers) -> io::Result<(Vec<Order>, u64)> {
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
                Err(e) => eprintln!(
                    "simulate emulator: the state file's order {shopid}/{id} is skipped: {e}"
                ),
            }
        }
        CARRIERS.with(|c| *c.borrow_mut() = None);
        let next_seq = get_meta(&conn, "next_seq")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok((orders, next_seq))
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

/// Which order rows changed since they were written: an order changes only with a new
/// history line or a new status, so those two tell.
pub(crate) type Fingerprint = (usize, u16);

pub(crate) fn fingerprint(order: &Order) -> Fingerprint {
    (order.history.len(), order.status.code())
}

pub(crate) fn key_of(order: &Order) -> Key {
    order.key()
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
    use super::super::orders::{Book, CallRecord, NewOrder};
    use super::super::wire::{Verdict, now_rfc3339};
    use super::*;

    #[test]
    fn orders_come_back_with_their_history_and_counter() {
        let Ok(dir) = tempfile::tempdir() else {
            panic!()
        };
        let path = dir.path().join("state.sqlite");
        let Ok(carriers) = Carriers::builtin() else {
            panic!()
        };
        let Some(dada) = carriers.find("dada").cloned() else {
            panic!()
        };
        let Ok(store) = Store::open(&path) else {
            panic!()
        };
        let Ok(mut book) = Book::open(store, &carriers) else {
            panic!()
        };
        let waybill = book
            .create(NewOrder {
                carrier: dada.clone(),
                shopid: "s",
                shop_order_id: "o",
                shop_no: None,
                store: None,
                destination: None,
                via: "order/add",
            })
            .waybill_id
            .clone();
        let key = ("s".to_owned(), "o".to_owned());
        book.record(
            Some(&key),
            CallRecord {
                time: now_rfc3339(),
                api: "order/add".to_owned(),
                request: serde_json::json!({"shopid": "s"}),
                verdict: Verdict::default(),
                tolerated_fields: vec![],
                status_change: None,
                note: None,
            },
        );
        assert!(book.persist().is_ok());
        drop(book);

        let Ok(store) = Store::open(&path) else {
            panic!()
        };
        let Ok(mut again) = Book::open(store, &carriers) else {
            panic!()
        };
        let Some(order) = again.orders.get(&key) else {
            panic!("order lost")
        };
        assert_eq!(order.waybill_id, waybill);
        assert_eq!(order.history.len(), 2);
        assert_eq!(order.carrier.id, "dada");
        let next = again
            .create(NewOrder {
                carrier: dada,
                shopid: "s",
                shop_order_id: "o2",
                shop_no: None,
                store: None,
                destination: None,
                via: "order/add",
            })
            .waybill_id
            .clone();
        assert_ne!(next, waybill, "the waybill counter came back too");
    }
}
