//! One call's tries, written once for `order/add` and for status updates: wait for a `--rate`
//! slot, get a token, call, renew a refused token once, ask before sending again what may have
//! taken effect, and back off what is transient, within the retry budget.

use std::time::Duration;

use rand::rngs::StdRng;
use tokio::time::Instant;

use crate::base::secret::Secret;
use crate::run::retry::Transient;

use super::Failure;
use super::shared::{Shared, Stop};

/// What one try came to, as the call's owner judges it.
pub(super) enum Verdict<T> {
    /// The call did what it should.
    Done(T),
    /// Final: another try would get the same.
    Fail(Failure),
    /// Worth another try after a backoff.
    Retry(Failure, Transient),
    /// The platform refused the token: renew it once and send again.
    TokenRefused(Failure),
    /// The call may have taken effect: ask before sending it again.
    Unknown(Failure),
}

/// After an unknown outcome: did the call take effect?
pub(super) enum Confirmation<T> {
    Applied(T),
    NotApplied,
    /// Nobody can say now (the question itself failed); why.
    CannotTell(String),
}

/// The call being made: one try, and the question that settles an unknown outcome.
pub(super) trait Exchange {
    type Output;
    /// One try with `token`; `waited` is the backoff waited before it.
    fn attempt(
        &mut self,
        token: &Secret,
        waited: Duration,
    ) -> impl Future<Output = Verdict<Self::Output>> + Send;
    fn confirm(
        &mut self,
        token: &Secret,
    ) -> impl Future<Output = Confirmation<Self::Output>> + Send;
}

/// How the tries ended.
pub(super) enum End<T> {
    Done(T),
    Failed(Failure),
    /// The run stopped first; the last failure seen, if any.
    Interrupted(Option<Failure>),
}

/// Makes the call until it ends: the one place the retry, resend, renew and stop decisions
/// are taken.
///
/// An attempt whose outcome is unknown is never sent again blind: `order/get` is asked first,
/// on a budget of its own ([`crate::run::retry::RetryPolicy::questions`]). A final refusal
/// after such an attempt is checked the same way, since it may be the platform refusing a
/// repeat of what it already applied.
pub(super) async fn drive<E: Exchange + Send>(
    shared: &Shared,
    exchange: &mut E,
    rng: &mut StdRng,
) -> End<E::Output> {
    let mut waited = Duration::ZERO;
    let mut retries = 0u32;
    let mut renewed = false;
    // The last attempt may have taken effect: settle that before sending again.
    let mut unknown = false;
    // Some attempt may have taken effect, even if a question said not yet.
    let mut maybe_applied = false;
    let mut questions = Questions::default();
    let mut last_failure: Option<Failure> = None;
    loop {
        if !shared.paced().await {
            return End::Interrupted(last_failure);
        }
        let token = match shared.platform.token().await {
            Ok(token) => token,
            Err(error) => {
                // A busy or unreachable token endpoint fails this call, not the run.
                if error.is_refusal() {
                    shared.halt(Stop::CredentialsRefused);
                }
                return End::Failed(Failure::Token(error));
            }
        };
        if unknown {
            match questions.settle(shared, exchange, &token, rng).await {
                Settled::Applied(output) => return End::Done(output),
                Settled::NotApplied => unknown = false,
                Settled::CannotTell(detail) => return End::Failed(Failure::OutcomeUnknown(detail)),
                Settled::Interrupted(detail) => {
                    return End::Interrupted(Some(Failure::OutcomeUnknown(detail)));
                }
            }
        }
        let sent_waited = if last_failure.is_none() {
            Duration::ZERO
        } else {
            waited
        };
        let (failure, why) = match exchange.attempt(&token, sent_waited).await {
            Verdict::Done(output) => return End::Done(output),
            Verdict::Fail(failure) => {
                // "From 202 to 202 not allowed" after an attempt that may have taken effect:
                // the refusal of a repeat, which order/get can tell from a real no.
                if maybe_applied
                    && let Settled::Applied(output) =
                        questions.settle(shared, exchange, &token, rng).await
                {
                    return End::Done(output);
                }
                return End::Failed(failure);
            }
            Verdict::TokenRefused(failure) => match renew(shared, &token, &mut renewed).await {
                Renewal::Renewed => continue,
                Renewal::Unavailable(error) => return End::Failed(Failure::Token(error)),
                Renewal::Refused => return End::Failed(failure),
            },
            Verdict::Retry(failure, why) => (failure, why),
            Verdict::Unknown(failure) => {
                unknown = true;
                maybe_applied = true;
                (failure, Transient::NotSent)
            }
        };
        retries += 1;
        let Some(delay) = shared.options.retry.delay(retries, why, waited, rng) else {
            // No more sending; an unknown outcome may still be learnt a success.
            if unknown {
                return match questions.settle(shared, exchange, &token, rng).await {
                    Settled::Applied(output) => End::Done(output),
                    Settled::NotApplied => End::Failed(failure),
                    Settled::CannotTell(detail) => End::Failed(Failure::OutcomeUnknown(detail)),
                    Settled::Interrupted(detail) => {
                        End::Interrupted(Some(Failure::OutcomeUnknown(detail)))
                    }
                };
            }
            return End::Failed(failure);
        };
        tracing::debug!(?delay, retry = retries, "retrying");
        waited += delay;
        if !shared.wait_until(Instant::now() + delay).await {
            // Stopped with an unknown outcome: it stays unknown, never a failure.
            return End::Interrupted(Some(if unknown {
                Failure::OutcomeUnknown(
                    "the run stopped before order/get could say whether the last attempt took effect"
                        .to_owned(),
                )
            } else {
                failure
            }));
        }
        last_failure = Some(failure);
    }
}

/// What the `order/get` questions came to.
enum Settled<T> {
    Applied(T),
    NotApplied,
    /// The questions' budget is spent and none could say; why.
    CannotTell(String),
    /// The run stopped before a question could say; why.
    Interrupted(String),
}

/// The `order/get` questions of one call, counted apart from its retries.
#[derive(Default)]
struct Questions {
    asked_in_vain: u32,
}

impl Questions {
    /// Asks until the platform says whether the call took effect, or the budget is spent.
    async fn settle<E: Exchange + Send>(
        &mut self,
        shared: &Shared,
        exchange: &mut E,
        token: &Secret,
        rng: &mut StdRng,
    ) -> Settled<E::Output> {
        loop {
            let detail = match exchange.confirm(token).await {
                Confirmation::Applied(output) => return Settled::Applied(output),
                Confirmation::NotApplied => return Settled::NotApplied,
                Confirmation::CannotTell(detail) => detail,
            };
            if shared.stopped().is_some() {
                return Settled::Interrupted(detail);
            }
            self.asked_in_vain += 1;
            let Some(delay) = shared.options.retry.question_delay(self.asked_in_vain, rng) else {
                return Settled::CannotTell(detail);
            };
            tracing::debug!(
                ?delay,
                question = self.asked_in_vain,
                "asking order/get again"
            );
            if !shared.wait_until(Instant::now() + delay).await {
                return Settled::Interrupted(detail);
            }
        }
    }
}

/// What renewing a refused token came to.
enum Renewal {
    /// A new token: send the call again.
    Renewed,
    /// The token endpoint could not answer; the credentials may still be fine.
    Unavailable(crate::run::token::TokenError),
    /// The credentials are refused; the run has been stopped.
    Refused,
}

/// The platform refused `token`: fetch a new one, once per call. When that is not possible
/// because the credentials are refused, the whole run stops here.
async fn renew(shared: &Shared, token: &Secret, renewed: &mut bool) -> Renewal {
    if !*renewed {
        match shared.platform.renew_token(token).await {
            Some(Ok(_)) => {
                *renewed = true;
                return Renewal::Renewed;
            }
            // No new token now, but nothing says the credentials are wrong.
            Some(Err(error)) if !error.is_refusal() => return Renewal::Unavailable(error),
            _ => {}
        }
    }
    shared.halt(Stop::CredentialsRefused);
    Renewal::Refused
}
