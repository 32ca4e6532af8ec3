//! The emulator's HTTP server loop, and connections a handler can cut (the `drop` fault).
//!
//! axum gives a handler no socket. Each accepted stream carries a shared "killed" flag that the
//! handler reaches through `ConnectInfo`; once set, every read and write fails, so hyper drops
//! the connection without writing the answer and the client sees the connection close.
//!
//! The loop is ours rather than `axum::serve` so that it can be bounded: at most
//! `limits.connections` at once (the rest wait in the listen queue instead of using up file
//! descriptors), a request head must arrive within `limits.header_timeout`, and a connection
//! with no traffic for `limits.idle_timeout` is closed. When every slot is taken or no file
//! descriptor is left, the oldest connection that sent half a request head is closed to make
//! room (see `shed`): 600 half-sent requests made a whole one wait 8.5 s.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use rust_i18n::t;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, oneshot, watch};
use tokio::task::JoinSet;

use super::Limits;
use super::shed::Headless;

/// At most one accept warning this often; the others are counted into the next one.
const WARN_EVERY: Duration = Duration::from_secs(5);

/// Binds `addr` with a listen queue of at least `limits.connections` (and never less than
/// the usual 1024), so that a client opening as many connections as the emulator serves at
/// once is never left waiting out SYN retransmits.
pub(crate) fn bind(addr: std::net::SocketAddr, limits: &Limits) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    let backlog = u32::try_from(limits.connections.max(1024)).unwrap_or(u32::MAX);
    socket.listen(backlog)
}

/// Serves `router` on `listener` until `stop` fires, then lets open connections finish their
/// call (the caller bounds how long).
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    accepted_count: Arc<AtomicU64>,
    mut stop: oneshot::Receiver<()>,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.connections.max(1)));
    let (closing, closing_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut warnings = Warnings::default();
    let headless = Arc::new(Headless::default());
    loop {
        let tcp = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    // Usually out of file descriptors: free one held by a connection that
                    // sent no request head, or back off instead of spinning.
                    warnings.accept_failed(&e);
                    let pause = if headless.shed_oldest() { 5 } else { 50 };
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                    continue;
                }
            },
        };
        accepted_count.fetch_add(1, Ordering::Relaxed);
        // Full: a connection that has sent half a request head gives up its slot; when every
        // one is busy with a request (or too fresh to judge), this one waits for a slot.
        let permit = loop {
            if let Ok(permit) = permits.clone().try_acquire_owned() {
                break Some(permit);
            }
            headless.shed_oldest();
            tokio::select! {
                _ = &mut stop => break None,
                permit = permits.clone().acquire_owned() => break Some(permit.map_err(io::Error::other)?),
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
        };
        let Some(permit) = permit else { break };
        // Small JSON answers: do not let Nagle hold them back.
        let _ = tcp.set_nodelay(true);
        let killed = Arc::new(AtomicBool::new(false));
        let heard = Arc::new(AtomicBool::new(false));
        let stream = Stream {
            inner: tcp,
            killed: killed.clone(),
            heard: heard.clone(),
            idle: limits.idle_timeout,
            deadline: Box::pin(tokio::time::sleep(limits.idle_timeout)),
        };
        let routes = hyper_util::service::TowerToHyperService::new(
            router
                .clone()
                .layer(axum::Extension(ConnectInfo(Conn { killed }))),
        );
        let ticket = Arc::new(headless.register(heard));
        let headed = ticket.clone();
        let service = hyper::service::service_fn(move |request| {
            headed.headed();
            hyper::service::Service::call(&routes, request)
        });
        let mut closing = closing_rx.clone();
        let header_timeout = limits.header_timeout;
        connections.spawn(async move {
            let _permit = permit;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout);
            let connection =
                builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                // Dropped unanswered: it never sent a whole request head.
                _ = ticket.shed() => {}
                _ = closing.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
        while connections.try_join_next().is_some() {}
    }
    let _ = closing.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// Accept failures, warned about at most once per [`WARN_EVERY`]: under a flood of
/// connections they come every 50 ms.
#[derive(Default)]
struct Warnings {
    last: Option<Instant>,
    suppressed: u64,
}

impl Warnings {
    fn accept_failed(&mut self, error: &io::Error) {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|at| now.duration_since(at) < WARN_EVERY)
        {
            self.suppressed += 1;
            return;
        }
        if self.suppressed > 0 {
            let warning = t!(
                "serve.accept_failed_more",
                error = error.to_string(),
                more = self.suppressed
            );
            tracing::warn!("{warning}");
        } else {
            tracing::warn!("{}", t!("serve.accept_failed", error = error.to_string()));
        }
        self.last = Some(now);
        self.suppressed = 0;
    }
}

pub(crate) struct Stream {
    inner: TcpStream,
    killed: Arc<AtomicBool>,
    /// Set by the first bytes read: a connection that sent nothing is never shed.
    heard: Arc<AtomicBool>,
    idle: Duration,
    /// Reset by every byte read or written; when it passes, the connection is closed.
    deadline: Pin<Box<tokio::time::Sleep>>,
}

fn cut() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "connection dropped by fault injection",
    )
}

impl Stream {
    fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    fn active(&mut self) {
        self.deadline
            .as_mut()
            .reset(tokio::time::Instant::now() + self.idle);
    }

    /// `Pending` from the socket becomes an error once the idle deadline has passed.
    fn idle_check<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match poll {
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "connection idle for too long",
                ))),
                Poll::Pending => Poll::Pending,
            },
            ready => {
                self.active();
                ready
            }
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.is_killed() {
            return Poll::Ready(Err(cut()));
        }
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.heard.store(true, Ordering::Release);
        }
        this.idle_check(cx, poll)
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.is_killed() {
            return Poll::Ready(Err(cut()));
        }
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.idle_check(cx, poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.is_killed() {
            return Poll::Ready(Err(cut()));
        }
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.idle_check(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.is_killed() {
            return Poll::Ready(Err(cut()));
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// What a handler knows about its connection: a way to cut it.
#[derive(Clone)]
pub(crate) struct Conn {
    killed: Arc<AtomicBool>,
}

impl Conn {
    /// Makes the connection fail from now on; the answer being prepared is never written.
    pub fn cut(&self) {
        self.killed.store(true, Ordering::Release);
    }
}
