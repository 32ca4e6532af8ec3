//! The validated plan: what a run will send, to whom, and when. Built by `scenario` from files,
//! consumed by `runner` (and printed by `simulate plan`). Nothing in a plan needs checking again.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone};

use crate::base::pace::Speed;
use crate::base::secret::Secret;
use crate::model::carriers::Carrier;
use crate::model::statuses::Status;

/// Every scenario of a run, all valid.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The carrier table's version, carried into reports.
    pub carriers_version: String,
    /// The seed every delay range of the run was drawn with (`--seed`, or a random one).
    pub seed: u64,
    pub scenarios: Vec<ScenarioPlan>,
}

/// One order's life, as one file describes it.
#[derive(Debug, Clone)]
pub struct ScenarioPlan {
    /// `name:` or, by default, the file name without extension.
    pub name: String,
    /// The file as the user named it (or as found inside a named folder).
    pub file: String,
    pub carrier: Arc<Carrier>,
    /// With `{{…}}` templates expanded for this run.
    pub shop_order_id: String,
    pub shopid: String,
    pub appsecret: Secret,
    pub steps: Vec<StepPlan>,
    /// `order:`: create the order through `order/add` before the first step.
    pub order: Option<OrderCreate>,
    /// `repeat: N` makes N plans of one file: this is repetition k of n (1-based). None
    /// without `repeat:`.
    pub repetition: Option<(u32, u32)>,
    /// The written `shop_order_id` uses none of `{{run_id}}`, `{{uuid}}`, `{{timestamp}}`, so
    /// every run reuses the same order id (the platform refuses to move an order that has
    /// ended, and order calls have daily limits): worth a warning.
    pub fixed_order_id: bool,
}

/// The `order/add` call that creates a scenario's order at the carrier before its first step.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderCreate {
    /// The order/add body without `delivery_sign` (the runner signs it) and without `openid`
    /// when not given: shopid, shop_order_id, delivery_id, shop_no (the carrier's test
    /// account's, when the scenario uses that account), sender, receiver, cargo, order_info,
    /// shop. Numbers are JSON numbers.
    pub body: serde_json::Value,
    /// `order.openid`, else the environment's WECHAT_OPENID; None when neither.
    pub openid: Option<String>,
    /// Where `order:` is written (1-based line), for messages.
    pub line: u64,
}

impl OrderCreate {
    /// The body to POST: [`OrderCreate::body`] with `delivery_sign`, and `openid` (this
    /// order's, else `fallback_openid`, e.g. a placeholder for the local emulator; left out
    /// when both are None).
    pub fn signed_body(
        &self,
        delivery_sign: &str,
        fallback_openid: Option<&str>,
    ) -> serde_json::Value {
        let mut body = self.body.clone();
        if let serde_json::Value::Object(map) = &mut body {
            if let Some(openid) = self.openid.as_deref().or(fallback_openid) {
                map.insert("openid".to_owned(), openid.into());
            }
            map.insert("delivery_sign".to_owned(), delivery_sign.into());
        }
        body
    }
}

/// One status change.
#[derive(Debug, Clone)]
pub struct StepPlan {
    /// 0-based position in the scenario.
    pub index: usize,
    pub status: Status,
    /// When to send, from the start of the run (the sum of `after:` so far), before `--speed`.
    pub at: Duration,
    /// The delay after the previous step (after the start, for the first), before `--speed`:
    /// as written, or drawn from `after_range`.
    pub after: Duration,
    /// `after: 20s..40s` as written (low, high), when the delay is a range; for display.
    pub after_range: Option<(Duration, Duration)>,
    pub action_msg: String,
    pub expect: Expect,
    /// False when the scenario skipped the transition check for this step on purpose.
    pub checked: bool,
    /// Where the step is written (1-based line), for messages.
    pub line: u64,
}

impl StepPlan {
    /// How long after its order's start the step is due at `speed`.
    pub fn planned_offset(&self, speed: Speed) -> Duration {
        speed.scale(self.at)
    }

    /// The wall-clock time the step is due at `speed` when its order starts at `start`;
    /// None past the end of the calendar. The run and `simulate plan` both read it here, so
    /// a plan shows the times a run keeps.
    pub fn planned_at<Tz: TimeZone>(
        &self,
        start: &DateTime<Tz>,
        speed: Speed,
    ) -> Option<DateTime<Tz>> {
        let offset = chrono::Duration::from_std(self.planned_offset(speed)).ok()?;
        start.clone().checked_add_signed(offset)
    }
}

/// What a step must get back for it to pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// `errcode` absent or 0 and `resultcode` 0.
    Ok,
    /// This exact platform `errcode`.
    Errcode(i64),
    /// `errcode` 0 and this exact carrier `resultcode`.
    Resultcode(i64),
    /// `errcode` 0 and any non-zero `resultcode`: the carrier said no.
    Rejected,
}

impl Expect {
    /// Whether an answer with these codes meets the expectation.
    pub fn met_by(self, errcode: i64, resultcode: i64) -> bool {
        match self {
            Expect::Ok => errcode == 0 && resultcode == 0,
            Expect::Errcode(code) => errcode == code,
            Expect::Resultcode(code) => errcode == 0 && resultcode == code,
            Expect::Rejected => errcode == 0 && resultcode != 0,
        }
    }
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expect::Ok => f.write_str("ok"),
            Expect::Errcode(code) => write!(f, "errcode {code}"),
            Expect::Resultcode(code) => write!(f, "resultcode {code}"),
            Expect::Rejected => f.write_str("rejected by the carrier"),
        }
    }
}

/// The text [`Expect`]'s `Display` writes, read back (as a report keeps it).
impl std::str::FromStr for Expect {
    type Err = ();

    fn from_str(text: &str) -> Result<Expect, ()> {
        let code = |rest: &str| rest.trim().parse::<i64>().map_err(|_| ());
        match text {
            "ok" => Ok(Expect::Ok),
            "rejected by the carrier" => Ok(Expect::Rejected),
            _ => match text.split_once(' ') {
                Some(("errcode", rest)) => code(rest).map(Expect::Errcode),
                Some(("resultcode", rest)) => code(rest).map(Expect::Resultcode),
                _ => Err(()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expectations_read_back_as_they_are_written() {
        for expect in [
            Expect::Ok,
            Expect::Rejected,
            Expect::Errcode(930565),
            Expect::Resultcode(-2),
        ] {
            assert_eq!(expect.to_string().parse::<Expect>(), Ok(expect));
        }
        assert!("sure".parse::<Expect>().is_err());
    }

    #[test]
    fn expectations() {
        assert!(Expect::Ok.met_by(0, 0));
        assert!(!Expect::Ok.met_by(0, 2003));
        assert!(!Expect::Ok.met_by(930565, 0));
        assert!(Expect::Errcode(930565).met_by(930565, 0));
        assert!(Expect::Resultcode(2003).met_by(0, 2003));
        assert!(!Expect::Resultcode(2003).met_by(0, 1));
        assert!(Expect::Rejected.met_by(0, 1));
        assert!(!Expect::Rejected.met_by(0, 0));
    }
}
