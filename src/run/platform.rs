//! The seam between the runner's decisions and HTTP: what the runner asks of the platform.
//!
//! [`Wechat`] is the real one (the HTTP client and the token source); the runner's tests use a
//! scripted platform on tokio's paused clock, so retry, resend, renew and stop decisions are
//! tested without a network or a wall clock.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::base::secret::Secret;
use crate::model::carriers::Call;
use crate::run::client::{CallError, Client};
use crate::run::token::{TokenError, TokenSource};
use crate::wechat::body::{Answer, OrderGet, OrderState, UpdateOrder};

/// A boxed future, so that the runner can hold any platform behind one pointer.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// When a status update's request was handed to the connection; set by the platform, read
/// for the step's lateness.
pub type HandedAt = std::sync::OnceLock<tokio::time::Instant>;

/// An answer that may carry the order's state (`order/get`, `order/add`).
pub type StateAnswer = Result<(Answer, Option<OrderState>), CallError>;

/// What the runner needs of the platform.
pub trait Platform: Send + Sync {
    /// The access token to use now.
    fn token(&self) -> Pending<'_, Result<Secret, TokenError>>;
    /// A new token after `rejected` was refused; `None` when this source cannot renew.
    fn renew_token<'a>(
        &'a self,
        rejected: &'a Secret,
    ) -> Pending<'a, Option<Result<Secret, TokenError>>>;
    /// One status update; `handed` is set when its request goes to the connection.
    fn update_order<'a>(
        &'a self,
        call: Call,
        body: &'a UpdateOrder,
        token: &'a Secret,
        handed: &'a HandedAt,
    ) -> Pending<'a, Result<Answer, CallError>>;
    /// `order/get`.
    fn order_get<'a>(&'a self, body: &'a OrderGet, token: &'a Secret) -> Pending<'a, StateAnswer>;
    /// `order/add`.
    fn order_add<'a>(
        &'a self,
        body: &'a serde_json::Value,
        token: &'a Secret,
    ) -> Pending<'a, StateAnswer>;
}

/// The platform over HTTP: WeChat, or an emulator standing in for it.
pub struct Wechat {
    pub client: Client,
    pub tokens: Arc<TokenSource>,
}

impl Platform for Wechat {
    fn token(&self) -> Pending<'_, Result<Secret, TokenError>> {
        Box::pin(self.tokens.get())
    }

    fn renew_token<'a>(
        &'a self,
        rejected: &'a Secret,
    ) -> Pending<'a, Option<Result<Secret, TokenError>>> {
        Box::pin(self.tokens.renew(rejected))
    }

    fn update_order<'a>(
        &'a self,
        call: Call,
        body: &'a UpdateOrder,
        token: &'a Secret,
        handed: &'a HandedAt,
    ) -> Pending<'a, Result<Answer, CallError>> {
        Box::pin(self.client.update_order(call, body, token, handed))
    }

    fn order_get<'a>(&'a self, body: &'a OrderGet, token: &'a Secret) -> Pending<'a, StateAnswer> {
        Box::pin(self.client.order_get(body, token))
    }

    fn order_add<'a>(
        &'a self,
        body: &'a serde_json::Value,
        token: &'a Secret,
    ) -> Pending<'a, StateAnswer> {
        Box::pin(self.client.order_add(body, token))
    }
}
