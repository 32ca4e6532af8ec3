//! Connections that have not sent a request head yet, oldest first: when the server is out
//! of room (every connection slot taken, or no file descriptor left), it closes the oldest of
//! them rather than make a client with a whole request wait out the header timeout behind
//! half-sent ones.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

#[derive(Default)]
pub(crate) struct Headless {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next: u64,
    /// Oldest first.
    open: VecDeque<(u64, Arc<Notify>)>,
}

impl Headless {
    /// A connection just accepted, headless until its ticket says otherwise.
    pub fn register(self: &Arc<Self>) -> Ticket {
        let shed = Arc::new(Notify::new());
        let mut inner = self.lock();
        let id = inner.next;
        inner.next += 1;
        inner.open.push_back((id, shed.clone()));
        Ticket {
            id,
            shed,
            headless: self.clone(),
        }
    }

    /// Tells the oldest headless connection to close; whether there was one.
    pub fn shed_oldest(&self) -> bool {
        match self.lock().open.pop_front() {
            Some((_, shed)) => {
                shed.notify_one();
                true
            }
            None => false,
        }
    }

    fn remove(&self, id: u64) {
        let mut inner = self.lock();
        if let Some(at) = inner.open.iter().position(|(i, _)| *i == id) {
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
        let first = headless.register();
        let second = headless.register();
        let third = headless.register();
        first.headed();
        assert!(headless.shed_oldest());
        // The second was told; it completes at once.
        tokio::time::timeout(std::time::Duration::from_secs(5), second.shed())
            .await
            .unwrap_or_else(|_| panic!("the second was not shed"));
        drop(third);
        assert!(!headless.shed_oldest(), "only the one with a head is left");
    }
}
