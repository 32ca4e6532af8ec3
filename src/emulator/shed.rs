//! Connections that sent part of a request head and not the rest, oldest first: when the
//! server is out of room (every connection slot taken, or no file descriptor left), it closes
//! the oldest of them rather than make a client with a whole request wait out the header
//! timeout behind half-sent ones. A connection that sent nothing yet is never shed: it may be
//! a client's spare, about to carry a request.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// A connection headless for less than this is not shed: under a burst of new connections a
/// whole request may wait this long to be read, and a half-sent one is older.
const MIN_AGE: Duration = Duration::from_secs(2);

#[derive(Default)]
pub(crate) struct Headless {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next: u64,
    /// Oldest first.
    open: VecDeque<Entry>,
}

struct Entry {
    id: u64,
    since: Instant,
    /// Some bytes of a request arrived.
    heard: Arc<AtomicBool>,
    shed: Arc<Notify>,
}

impl Headless {
    /// A connection just accepted, headless until its ticket says otherwise; `heard` is set
    /// once some bytes of a request arrived.
    pub fn register(self: &Arc<Self>, heard: Arc<AtomicBool>) -> Ticket {
        let shed = Arc::new(Notify::new());
        let mut inner = self.lock();
        let id = inner.next;
        inner.next += 1;
        inner.open.push_back(Entry {
            id,
            since: Instant::now(),
            heard,
            shed: shed.clone(),
        });
        Ticket {
            id,
            shed,
            headless: self.clone(),
        }
    }

    /// Tells the oldest half-sent connection to close, if it has been so for [`MIN_AGE`];
    /// whether there was one.
    pub fn shed_oldest(&self) -> bool {
        self.shed_older_than(MIN_AGE)
    }

    fn shed_older_than(&self, age: Duration) -> bool {
        let mut inner = self.lock();
        let Some(at) = inner
            .open
            .iter()
            .take_while(|e| e.since.elapsed() >= age)
            .position(|e| e.heard.load(Ordering::Acquire))
        else {
            return false;
        };
        match inner.open.remove(at) {
            Some(entry) => {
                entry.shed.notify_one();
                true
            }
            None => false,
        }
    }

    fn remove(&self, id: u64) {
        let mut inner = self.lock();
        if let Some(at) = inner.open.iter().position(|e| e.id == id) {
            inner.open.remove(at);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One connection's place among the headless ones; it leaves when dropped.
pub(crate) struct Ticket {
    id: u64,
    shed: Arc<Notify>,
    headless: Arc<Headless>,
}

impl Ticket {
    /// A whole request head arrived: the connection is never shed from now on.
    pub fn headed(&self) {
        self.headless.remove(self.id);
    }

    /// Completes when the server wants this connection closed.
    pub async fn shed(&self) {
        self.shed.notified().await;
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.headless.remove(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_oldest_headless_connection_is_shed_and_one_with_a_head_never() {
        let headless = Arc::new(Headless::default());
        let heard = || Arc::new(AtomicBool::new(true));
        let silent = headless.register(Arc::new(AtomicBool::new(false)));
        let first = headless.register(heard());
        let second = headless.register(heard());
        let third = headless.register(heard());
        first.headed();
        // A fresh one may simply not have been read yet.
        assert!(!headless.shed_oldest());
        assert!(headless.shed_older_than(Duration::ZERO));
        // The second was told; it completes at once.
        tokio::time::timeout(std::time::Duration::from_secs(5), second.shed())
            .await
            .unwrap_or_else(|_| panic!("the second was not shed"));
        drop(third);
        // One that sent nothing may be a client's spare connection.
        let _ = &silent;
        assert!(
            !headless.shed_older_than(Duration::ZERO),
            "only the one with a head is left"
        );
    }
}
