//! One call's tries, written once for `order/add` and for status updates: wait for a `--rate`
//! slot, get a token, call, renew a refused token once, ask before sending again what may have
//! taken effect, and back off what is transient, within the retry budget.

use std::time::Duration;

use rand::rngs::StdRng;
use tokio::time::Instant;

use crate::base::secret::Secret;
use crate::run::retry::Transient;

use super::shared::{Shared, Stop};
use super::{CallKind, Failure, Unanswered, Unsettled};

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
    /// The question itself got no answer that says.
    CannotTell(Unanswered),
    /// The run stopped before the question could be asked.
    Stopped,
}

/// The call being made: one try, and the question that settles an unknown outcome.
pub(super) trait Exchange {
    type Output;
    /// Which call this is, for saying why its outcome is unknown.
    const CALL: CallKind;
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
/// on a budget of its own for each such attempt ([`crate::run::retry::RetryPolicy::questions`]). A final refusal
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
        if unknown && let Some(failure) = last_failure.take() {
            match settle(shared, exchange, &token, rng, failure).await {
                Settled::Applied(output) => return End::Done(output),
                Settled::NotApplied(failure) => {
                    unknown = false;
                    last_failure = Some(failure);
                }
                Settled::CannotTell(unsettled) => {
                    return End::Failed(Failure::OutcomeUnknown(unsettled));
                }
                Settled::Interrupted(unsettled) => {
                    return End::Interrupted(Some(Failure::OutcomeUnknown(unsettled)));
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
                        settle(shared, exchange, &token, rng, failure.clone()).await
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
                return match settle(shared, exchange, &token, rng, failure).await {
                    Settled::Applied(output) => End::Done(output),
                    Settled::NotApplied(failure) => End::Failed(failure),
                    Settled::CannotTell(unsettled) => {
                        End::Failed(Failure::OutcomeUnknown(unsettled))
                    }
                    Settled::Interrupted(unsettled) => {
                        End::Interrupted(Some(Failure::OutcomeUnknown(unsettled)))
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
                Failure::OutcomeUnknown(Unsettled {
                    call: E::CALL,
                    last_try: Box::new(failure),
                    questions: Vec::new(),
                    stopped: true,
                })
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
    /// It did not take; the last try's failure, given back.
    NotApplied(Failure),
    /// The questions' budget is spent and none could say.
    CannotTell(Unsettled),
    /// The run stopped before a question could say.
    Interrupted(Unsettled),
}

/// Asks `order/get` until the platform says whether the last try (which got `failure`) took
/// effect, or the questions' budget is spent. Each unknown try has a budget of its own
/// ([`crate::run::retry::RetryPolicy::questions`]), so a try late in a call is asked about as
/// often as the first.
async fn settle<E: Exchange + Send>(
    shared: &Shared,
    exchange: &mut E,
    token: &Secret,
    rng: &mut StdRng,
    failure: Failure,
) -> Settled<E::Output> {
    let mut unsettled = Unsettled {
        call: E::CALL,
        last_try: Box::new(failure),
        questions: Vec::new(),
        stopped: false,
    };
    loop {
        match exchange.confirm(token).await {
            Confirmation::Applied(output) => return Settled::Applied(output),
            Confirmation::NotApplied => return Settled::NotApplied(*unsettled.last_try),
            Confirmation::CannotTell(got) => unsettled.questions.push(got),
            Confirmation::Stopped => {
                unsettled.stopped = true;
                return Settled::Interrupted(unsettled);
            }
        }
        if shared.stopped().is_some() {
            unsettled.stopped = true;
            return Settled::Interrupted(unsettled);
        }
        let asked = u32::try_from(unsettled.questions.len()).unwrap_or(u32::MAX);
        let Some(delay) = shared.options.retry.question_delay(asked, rng) else {
            return Settled::CannotTell(unsettled);
        };
        tracing::debug!(?delay, question = asked, "asking order/get again");
        if !shared.wait_until(Instant::now() + delay).await {
            unsettled.stopped = true;
            return Settled::Interrupted(unsettled);
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
