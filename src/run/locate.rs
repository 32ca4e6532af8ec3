//! Where an order is now: `order/get`, made with the run's token, pace and retries (the one
//! retry loop of [`super::exchange`]), before `simulate send` moves it.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use chrono::Utc;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::base::secret::Secret;
use crate::model::plan::{Expect, ScenarioPlan};
use crate::run::client::{CallError, Client};
use crate::run::platform::{Platform, Wechat};
use crate::run::retry::{Transient, transient_error};
use crate::run::token::TokenSource;
use crate::wechat::body::{Answer, OrderGet, OrderState, Signature};
use crate::wechat::errcode::ORDER_NOT_FOUND;

use super::exchange::{self, Confirmation, End, Exchange, Verdict};
use super::order::judge_answer;
use super::shared::{RateLimiter, Shared, Stop};
use super::{CallKind, Failure, RunOptions};

/// What `order/get` said of the order.
#[derive(Debug, Clone)]
pub enum Located {
    /// The platform knows it, at this status.
    At(OrderState),
    /// The platform does not know it (errcode 930563); its answer.
    NotFound(Answer),
    /// The platform could not say, after the retries; the last failure.
    Unanswered(Failure),
    /// Ctrl-C came first.
    Interrupted,
}

/// Asks where `scenario`'s order is, over HTTP.
pub async fn locate(
    scenario: &ScenarioPlan,
    client: &Client,
    tokens: Arc<TokenSource>,
    options: RunOptions,
    cancel: watch::Receiver<bool>,
) -> Located {
    let platform = Arc::new(Wechat {
        client: client.clone(),
        tokens,
    });
    locate_on(scenario, platform, options, cancel).await
}

/// [`locate`] against any platform (tested on a scripted one).
pub async fn locate_on(
    scenario: &ScenarioPlan,
    platform: Arc<dyn Platform>,
    options: RunOptions,
    mut cancel: watch::Receiver<bool>,
) -> Located {
    let (stop, _) = watch::channel(Stop::Running);
    // Nobody listens: the question is not a step of the run, and has no events of its own.
    let (events, _) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        platform,
        rate: options.rate.map(RateLimiter::new),
        permits: None,
        options: options.clone(),
        any_failed: AtomicBool::new(false),
        stop,
        events,
        start: Instant::now(),
        started: Utc::now(),
        clock: None,
        timer: None,
    });
    let watcher = {
        let shared = shared.clone();
        tokio::spawn(async move {
            if cancel.wait_for(|c| *c).await.is_ok() {
                shared.halt(Stop::Interrupted);
            }
        })
    };
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut question = Question {
        scenario,
        shared: &shared,
    };
    let end = exchange::drive(&shared, &mut question, &mut rng).await;
    watcher.abort();
    match end {
        End::Done(located) => located,
        End::Failed(failure) => Located::Unanswered(failure),
        End::Interrupted(_) => Located::Interrupted,
    }
}

/// `order/get` as an exchange. It changes nothing, so every try may be repeated.
struct Question<'a> {
    scenario: &'a ScenarioPlan,
    shared: &'a Shared,
}

impl Exchange for Question<'_> {
    type Output = Located;
    // A question is never "unknown" (see `confirm`), so this never names it in a message.
    const CALL: CallKind = CallKind::Update;

    async fn attempt(&mut self, token: &Secret, _waited: Duration) -> Verdict<Located> {
        let body = OrderGet::for_order(self.scenario, Signature::Computed);
        let asked = self.shared.platform.order_get(&body, token).await;
        let asked =
            asked.map(|(answer, state)| (answer.redacted(&[&self.scenario.appsecret]), state));
        match asked {
            Ok((answer, Some(state))) if answer.is_success() => Verdict::Done(Located::At(state)),
            Ok((answer, _)) if answer.errcode == ORDER_NOT_FOUND => {
                Verdict::Done(Located::NotFound(answer))
            }
            Ok((answer, _)) if answer.is_success() => Verdict::Fail(Failure::Call(
                CallError::Body("order/get answered without an order_status".to_owned()),
            )),
            Ok((answer, _)) => judge_answer(answer, Expect::Ok),
            Err(error) => match read_again(&error) {
                Some(why) => Verdict::Retry(Failure::Call(error), why),
                None => Verdict::Fail(Failure::Call(error)),
            },
        }
    }

    async fn confirm(&mut self, _token: &Secret) -> Confirmation<Located> {
        // Never asked: a question is never "unknown".
        Confirmation::NotApplied
    }
}

/// Whether a question that got no usable answer is worth asking again: what a status update
/// retries, and also what it must not resend blind (a timeout, a dropped connection, a 200
/// that is not JSON), since asking twice changes nothing.
fn read_again(error: &CallError) -> Option<Transient> {
    transient_error(error).or(match error {
        CallError::Timeout(_) | CallError::Dropped(_) | CallError::Body(_) => {
            Some(Transient::NotSent)
        }
        _ => None,
    })
}
