//! When a call is worth another try, and how long to wait first.
//!
//! Only what is transient is retried: connection errors, timeouts before the request left,
//! HTTP 5xx and WeChat's busy codes. A carrier's rejection is an answer, never retried.

use std::time::Duration;

use rand::Rng;

use crate::run::client::CallError;
use crate::wechat::body::Answer;
use crate::wechat::errcode::{AMBIGUOUS, BUSY, MINUTE_QUOTA};

/// Bounds on retrying one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// The first backoff; doubles each time, with jitter.
    pub base: Duration,
    /// No single backoff is longer.
    pub cap: Duration,
    /// All backoffs of one step together stay under this.
    pub max_wait: Duration,
    /// How long 45011 (minute quota) makes us wait.
    pub quota_wait: Duration,
    /// How many more times one call asks `order/get` when it could not say whether an unknown
    /// outcome took effect: a budget of its own, as asking is never sending again and must not
    /// use up the call's retries.
    pub questions: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 3,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(8),
            max_wait: Duration::from_secs(90),
            quota_wait: Duration::from_secs(60),
            questions: 6,
        }
    }
}

/// Why an attempt may be repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transient {
    /// Nothing reached the platform (connection refused, reset, connect timeout).
    NotSent,
    /// HTTP 5xx.
    ServerError,
    /// A busy errcode.
    Busy(i64),
}

/// Whether an answer is a transient refusal.
pub fn transient_answer(answer: &Answer) -> Option<Transient> {
    BUSY.contains(&answer.errcode)
        .then_some(Transient::Busy(answer.errcode))
}

/// Whether an answer leaves open that the call took effect: a busy code that may come back
/// from a carrier that did apply the update (-1, 930555, 930556). The minute quota (45011)
/// is refused before anything is done.
pub fn ambiguous_answer(answer: &Answer) -> bool {
    AMBIGUOUS.contains(&answer.errcode)
}

/// Whether a call error may be retried without risk of applying the update twice.
pub fn transient_error(error: &CallError) -> Option<Transient> {
    match error {
        CallError::Connect { .. } => Some(Transient::NotSent),
        CallError::Http { status, .. } if *status >= 500 => Some(Transient::ServerError),
        _ => None,
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1-based), or `None` when the budget is spent.
    pub fn delay(
        &self,
        retry: u32,
        why: Transient,
        waited: Duration,
        rng: &mut impl Rng,
    ) -> Option<Duration> {
        if retry > self.retries {
            return None;
        }
        let delay = match why {
            Transient::Busy(MINUTE_QUOTA) => self.quota_wait,
            _ => self.backoff(retry, rng),
        };
        (waited + delay <= self.max_wait).then_some(delay)
    }

    /// The wait before `order/get` question number `question` (1-based) of the same call, or
    /// `None` when the questions' own budget is spent.
    pub fn question_delay(&self, question: u32, rng: &mut impl Rng) -> Option<Duration> {
        (question <= self.questions).then(|| self.backoff(question, rng))
    }

    fn backoff(&self, n: u32, rng: &mut impl Rng) -> Duration {
        // Equal jitter: half the exponential step, plus up to as much again at random,
        // so concurrent orders that failed together do not retry together.
        let exp = self
            .base
            .saturating_mul(1u32 << n.saturating_sub(1).min(16))
            .min(self.cap);
        let half = exp / 2;
        half + half.mul_f64(rng.random::<f64>())
    }

    /// "3 retries, backoff 500ms doubling to 8s, at most 1m30s in all", for plans.
    pub fn describe(&self, lang: crate::base::i18n::Lang) -> String {
        use crate::base::duration::format_duration as f;
        let locale = lang.code();
        if self.retries == 0 {
            return rust_i18n::t!("retry.none", locale = locale).into_owned();
        }
        rust_i18n::t!(
            "retry.policy",
            locale = locale,
            retries = self.retries,
            base = f(self.base),
            cap = f(self.cap),
            max_wait = f(self.max_wait),
            quota_code = crate::wechat::errcode::MINUTE_QUOTA,
            quota_wait = f(self.quota_wait)
        )
        .into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn backoff_grows_with_jitter_and_stops_at_the_bounds() {
        let policy = RetryPolicy::default();
        let mut rng = StdRng::seed_from_u64(7);
        let mut waited = Duration::ZERO;
        let mut delays = Vec::new();
        for retry in 1..=3 {
            let Some(delay) = policy.delay(retry, Transient::ServerError, waited, &mut rng) else {
                panic!("retry {retry} refused")
            };
            let exp = Duration::from_millis(500 * (1 << (retry - 1)));
            assert!(delay >= exp / 2 && delay <= exp, "retry {retry}: {delay:?}");
            waited += delay;
            delays.push(delay);
        }
        assert_eq!(
            policy.delay(4, Transient::ServerError, waited, &mut rng),
            None
        );
        let tight = RetryPolicy {
            max_wait: Duration::from_millis(100),
            ..policy
        };
        assert_eq!(
            tight.delay(1, Transient::ServerError, Duration::ZERO, &mut rng),
            None
        );
    }

    #[test]
    fn the_minute_quota_waits_the_minute() {
        let policy = RetryPolicy::default();
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(
            policy.delay(1, Transient::Busy(MINUTE_QUOTA), Duration::ZERO, &mut rng),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn only_transient_failures_are_retried() {
        let busy = |errcode| Answer {
            errcode,
            ..Answer::default()
        };
        assert_eq!(transient_answer(&busy(-1)), Some(Transient::Busy(-1)));
        assert_eq!(transient_answer(&busy(45011)), Some(Transient::Busy(45011)));
        assert_eq!(
            transient_answer(&busy(930555)),
            Some(Transient::Busy(930555))
        );
        assert_eq!(
            transient_answer(&busy(930556)),
            Some(Transient::Busy(930556))
        );
        assert_eq!(
            transient_answer(&busy(40014)),
            None,
            "a token error is renewed, not retried"
        );
        assert_eq!(transient_answer(&busy(930565)), None);
        let rejected = Answer {
            resultcode: 2003,
            ..Answer::default()
        };
        assert_eq!(
            transient_answer(&rejected),
            None,
            "a carrier's rejection is never retried"
        );
        let http = |status| CallError::Http {
            status,
            excerpt: String::new(),
        };
        assert_eq!(transient_error(&http(503)), Some(Transient::ServerError));
        assert_eq!(transient_error(&http(404)), None);
        assert_eq!(
            transient_error(&CallError::Timeout(Duration::from_secs(1))),
            None
        );
    }
}
