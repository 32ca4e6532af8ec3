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
pub(super) async fn drive<E: Exchange + Send>(
    shared: &Shared,
    exchange: &mut E,
    rng: &mut StdRng,
) -> End<E::Output> {
    let mut waited = Duration::ZERO;
    let mut retries = 0u32;
    let mut renewed = false;
    let mut unknown = false;
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
        // After an unknown outcome, ask before sending again, every time.
        if unknown {
            match exchange.confirm(&token).await {
                Confirmation::Applied(output) => return End::Done(output),
                Confirmation::NotApplied => unknown = false,
                // The question may fail transiently too: ask again later, within budget.
                Confirmation::CannotTell(detail) => {
                    let failure = Failure::OutcomeUnknown(detail);
                    retries += 1;
                    let delay =
                        shared
                            .options
                            .retry
                            .delay(retries, Transient::NotSent, waited, rng);
                    match delay {
                        Some(delay) if shared.wait_until(Instant::now() + delay).await => {
                            waited += delay;
                            last_failure = Some(failure);
                            continue;
                        }
                        _ => return End::Failed(failure),
                    }
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
            Verdict::Fail(failure) => return End::Failed(failure),
            Verdict::TokenRefused(failure) => match renew(shared, &token, &mut renewed).await {
                Renewal::Renewed => continue,
                Renewal::Unavailable(error) => return End::Failed(Failure::Token(error)),
                Renewal::Refused => return End::Failed(failure),
            },
            Verdict::Retry(failure, why) => (failure, why),
            Verdict::Unknown(failure) => {
                unknown = true;
                (failure, Transient::NotSent)
            }
        };
        retries += 1;
        let Some(delay) = shared.options.retry.delay(retries, why, waited, rng) else {
            // The last chance to learn that an unknown outcome was in fact a success.
            if unknown && let Confirmation::Applied(output) = exchange.confirm(&token).await {
                return End::Done(output);
            }
            return End::Failed(failure);
        };
        tracing::debug!(?delay, retry = retries, "retrying");
        waited += delay;
        if !shared.wait_until(Instant::now() + delay).await {
            return End::Interrupted(Some(failure));
        }
        last_failure = Some(failure);
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
