//! Injected faults: the flakiness of the real test environments, on purpose and reproducibly.
//!
//! Syntax (`--faults`): comma-separated `NAME:RATE` items, rates in `[0, 1]` or as `N%`, plus an
//! optional `slow_delay=DURATION` (or `slow_delay:DURATION`; `500ms`, `2s`, `1m30s`, `1h`, at
//! most 24h; default 2s). Names: `-1` (also `errcode=-1`), `45011`, `930556` (also
//! `errcode=45011`, ...), `http500`, `http503`, `slow`, `drop`, `garbled`, and the "applied,
//! then the answer was lost" kinds `applied502`, `applied504`, `applied930556`, `applied-1`
//! (the call takes effect, then comes back as HTTP 502/504 or errcode 930556/-1, as through a
//! proxy that forwarded it or from a carrier that did apply it). `none` or an empty
//! text means no faults. Example: `errcode=-1:0.1,45011:5%,http503:0.1,slow:0.2,drop:0.05,slow_delay=2s`.
//!
//! A `slow` call takes effect like any other (it is applied, logged and kept in the order's
//! history at once); only its answer comes `slow_delay` late, so a client that times out has
//! changed the order without knowing it. The `applied…` kinds take effect too, and only their
//! answer is wrong. The other faults have no effect on the orders.
//!
//! One number is drawn per business call, in arrival order, from a generator seeded with
//! `Config::seed`, and the rates are laid end to end in the order above, so each call gets at
//! most one fault and the same seed with the same calls gives the same faults.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use crate::wechat::errcode;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// How often each fault happens (probability per business call, 0.0 to 1.0; they must add up
/// to at most 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// `errcode` -1, "system error".
    pub system_error: f64,
    /// `errcode` 45011, the minute quota.
    pub minute_quota: f64,
    /// `errcode` 930556, the carrier timed out.
    pub carrier_timeout: f64,
    /// HTTP 500 with no JSON.
    pub http500: f64,
    /// HTTP 503 with no JSON (seen from SF's test environment).
    pub http503: f64,
    /// The call is processed normally and at once (it takes effect, is logged and is kept in
    /// the order history), but the answer is held back for `slow_delay`: a client that gives
    /// up before then never sees it.
    pub slow: f64,
    /// The connection is closed without an answer (the call has no effect).
    pub drop: f64,
    /// HTTP 200 with a body that is not JSON, as a proxy's page would be (no effect).
    pub garbled: f64,
    /// The call takes effect, then its answer is HTTP 502 (a proxy that forwarded it).
    pub applied_http502: f64,
    /// The call takes effect, then its answer is HTTP 504.
    pub applied_http504: f64,
    /// The call takes effect, then its answer is errcode 930556 (the carrier applied it).
    pub applied_carrier_timeout: f64,
    /// The call takes effect, then its answer is errcode -1.
    pub applied_system_error: f64,
    /// How late a `slow` answer is (`slow_delay=DURATION`, in the syntax of
    /// [`crate::base::duration::parse_duration`]; default 2s).
    pub slow_delay: Duration,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            system_error: 0.0,
            minute_quota: 0.0,
            carrier_timeout: 0.0,
            http500: 0.0,
            http503: 0.0,
            slow: 0.0,
            drop: 0.0,
            garbled: 0.0,
            applied_http502: 0.0,
            applied_http504: 0.0,
            applied_carrier_timeout: 0.0,
            applied_system_error: 0.0,
            slow_delay: Duration::from_secs(2),
        }
    }
}

/// One fault, as drawn for a call.
///
/// `Slow` is the only one that lets the call take effect: it is processed as usual, and only
/// its answer waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    Errcode(i64),
    Http(u16),
    Slow(Duration),
    Drop,
    Garbled,
    /// Processed as usual, then answered with this instead of its own answer.
    Applied(Lost),
}

/// The answer an applied call gets instead of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lost {
    Http(u16),
    Errcode(i64),
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Errcode(code) => write!(f, "errcode {code}"),
            Fault::Http(status) => write!(f, "http {status}"),
            Fault::Slow(delay) => write!(f, "slow {} ms", delay.as_millis()),
            Fault::Drop => f.write_str("dropped connection"),
            Fault::Garbled => f.write_str("garbled answer"),
            Fault::Applied(Lost::Http(status)) => write!(f, "applied, then http {status}"),
            Fault::Applied(Lost::Errcode(code)) => write!(f, "applied, then errcode {code}"),
        }
    }
}

impl Faults {
    /// No fault has a non-zero rate.
    pub fn is_none(&self) -> bool {
        self.table().iter().all(|(rate, _)| *rate <= 0.0)
    }

    // The fixed order in which rates are laid out on [0, 1); changing it changes which fault a
    // seed produces, so it is part of the reproducibility promise.
    fn table(&self) -> [(f64, Fault); 12] {
        [
            (self.system_error, Fault::Errcode(-1)),
            (self.minute_quota, Fault::Errcode(errcode::MINUTE_QUOTA)),
            (
                self.carrier_timeout,
                Fault::Errcode(errcode::CARRIER_TIMEOUT),
            ),
            (self.http500, Fault::Http(500)),
            (self.http503, Fault::Http(503)),
            (self.drop, Fault::Drop),
            (self.slow, Fault::Slow(self.slow_delay)),
            (self.garbled, Fault::Garbled),
            (self.applied_http502, Fault::Applied(Lost::Http(502))),
            (self.applied_http504, Fault::Applied(Lost::Http(504))),
            (
                self.applied_carrier_timeout,
                Fault::Applied(Lost::Errcode(errcode::CARRIER_TIMEOUT)),
            ),
            (
                self.applied_system_error,
                Fault::Applied(Lost::Errcode(errcode::SYSTEM_BUSY)),
            ),
        ]
    }

    fn pick(&self, draw: f64) -> Option<Fault> {
        let mut edge = 0.0;
        for (rate, fault) in self.table() {
            edge += rate;
            if draw < edge {
                return Some(fault);
            }
        }
        None
    }
}

impl fmt::Display for Faults {
    /// The `--faults` text that gives these faults back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_none() {
            return f.write_str("none");
        }
        let names = [
            "errcode=-1",
            "45011",
            "930556",
            "http500",
            "http503",
            "drop",
            "slow",
            "garbled",
            "applied502",
            "applied504",
            "applied930556",
            "applied-1",
        ];
        let mut items: Vec<String> = self
            .table()
            .iter()
            .zip(names)
            .filter(|((rate, _), _)| *rate > 0.0)
            .map(|((rate, _), name)| format!("{name}:{rate}"))
            .collect();
        if self.slow > 0.0 {
            items.push(format!(
                "slow_delay={}",
                crate::base::duration::format_duration(self.slow_delay)
            ));
        }
        f.write_str(&items.join(","))
    }
}

/// Parses the `--faults` syntax described in this module's documentation.
pub fn parse_faults(text: &str) -> Result<Faults, String> {
    let mut faults = Faults::default();
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("none") {
        return Ok(faults);
    }
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        if let Some(value) = item
            .strip_prefix("slow_delay=")
            .or_else(|| item.strip_prefix("slow_delay:"))
        {
            faults.slow_delay = parse_slow_delay(value)?;
            continue;
        }
        let Some((name, rate)) = item.rsplit_once(':') else {
            return Err(format!(
                "fault `{item}` needs a rate, e.g. `{item}:0.1` or `{item}:10%`"
            ));
        };
        let rate = parse_rate(rate).map_err(|e| format!("fault `{item}`: {e}"))?;
        let name = name.trim();
        let code = name
            .strip_prefix("errcode=")
            .or_else(|| name.strip_prefix("errcode"))
            .unwrap_or(name);
        let slot = match code {
            "-1" => &mut faults.system_error,
            "45011" => &mut faults.minute_quota,
            "930556" => &mut faults.carrier_timeout,
            "http500" | "500" => &mut faults.http500,
            "http503" | "503" => &mut faults.http503,
            "slow" => &mut faults.slow,
            "drop" => &mut faults.drop,
            "garbled" => &mut faults.garbled,
            "applied502" => &mut faults.applied_http502,
            "applied504" => &mut faults.applied_http504,
            "applied930556" => &mut faults.applied_carrier_timeout,
            "applied-1" => &mut faults.applied_system_error,
            _ => {
                return Err(format!(
                    "unknown fault `{name}`; known: -1, 45011, 930556 (optionally as errcode=N), \
                     http500, http503, slow, drop, garbled, applied502, applied504, \
                     applied930556, applied-1, and slow_delay=DURATION"
                ));
            }
        };
        *slot = rate;
    }
    let total: f64 = faults.table().iter().map(|(rate, _)| rate).sum();
    if total > 1.0 + 1e-9 {
        return Err(format!(
            "fault rates add up to {total}, more than 1 (each call gets at most one fault)"
        ));
    }
    Ok(faults)
}

fn parse_rate(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let (number, scale) = match text.strip_suffix('%') {
        Some(n) => (n.trim(), 100.0),
        None => (text, 1.0),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a rate (use 0.1 or 10%)"))?;
    let rate = value / scale;
    if !(0.0..=1.0).contains(&rate) {
        return Err(format!("rate `{text}` is outside 0..1 (0%..100%)"));
    }
    Ok(rate)
}

/// `slow_delay`'s value, in the project's duration syntax (`500ms`, `2s`, `1m30s`, `1h`, at
/// most 24h).
fn parse_slow_delay(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err(format!(
            "slow_delay `{text}` is negative: write how long the answer is held back, e.g. 2s"
        ));
    }
    crate::base::duration::parse_duration(text).map_err(|e| format!("slow_delay: {e}"))
}

/// The seeded draw, one per business call.
pub(crate) struct Dice {
    faults: Faults,
    rng: Mutex<StdRng>,
}

impl Dice {
    pub fn new(faults: Faults, seed: u64) -> Dice {
        Dice {
            faults,
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }

    /// Draws for one call. Always draws, even with no faults configured, so that the sequence
    /// depends only on how many calls came before.
    pub fn roll(&self) -> Option<Fault> {
        let draw: f64 = self
            .rng
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .random();
        self.faults.pick(draw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let faults = parse_faults(
            "errcode=-1:0.1,45011:0.05,930556:0.05,http500:0.1,http503:0.1,slow:0.2,drop:0.05,slow_delay=2s",
        );
        let Ok(faults) = faults else {
            panic!("{faults:?}")
        };
        assert_eq!(faults.system_error, 0.1);
        assert_eq!(faults.minute_quota, 0.05);
        assert_eq!(faults.carrier_timeout, 0.05);
        assert_eq!(faults.http500, 0.1);
        assert_eq!(faults.http503, 0.1);
        assert_eq!(faults.slow, 0.2);
        assert_eq!(faults.drop, 0.05);
        assert_eq!(faults.slow_delay, Duration::from_secs(2));
        assert_eq!(parse_faults(&faults.to_string()), Ok(faults));
    }

    #[test]
    fn accepts_percentages_and_short_names() {
        let Ok(faults) = parse_faults("-1:10%, drop:0.5, slow_delay=250ms") else {
            panic!()
        };
        assert_eq!(faults.system_error, 0.1);
        assert_eq!(faults.drop, 0.5);
        assert_eq!(faults.slow_delay, Duration::from_millis(250));
        assert_eq!(parse_faults("none"), Ok(Faults::default()));
        assert_eq!(parse_faults(""), Ok(Faults::default()));
    }

    #[test]
    fn refuses_what_it_cannot_mean() {
        for bad in [
            "drop",
            "drop:2",
            "drop:-0.1",
            "teleport:0.1",
            "drop:0.6,http500:0.6",
            "slow_delay=2",
            "slow:x",
        ] {
            let result = parse_faults(bad);
            assert!(result.is_err(), "{bad} gave {result:?}");
        }
        let Err(message) = parse_faults("teleport:0.1") else {
            panic!()
        };
        assert!(message.contains("http503"), "{message}");
    }

    #[test]
    fn slow_delay_uses_the_project_duration_syntax() {
        let delay = |text: &str| parse_faults(text).map(|f| f.slow_delay);
        assert_eq!(delay("slow_delay=500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(delay("slow_delay:2s"), Ok(Duration::from_secs(2)));
        assert_eq!(delay("slow_delay=1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(
            delay("slow:0.1, slow_delay= 1h"),
            Ok(Duration::from_secs(3600))
        );
        assert_eq!(delay("slow_delay=1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(delay("slow_delay=0"), Ok(Duration::ZERO));

        let message = |text: &str| match parse_faults(text) {
            Ok(faults) => panic!("{text} gave {faults:?}"),
            Err(message) => message,
        };
        let m = message("slow_delay=2");
        assert!(
            m.starts_with("slow_delay: ") && m.contains("no unit"),
            "{m}"
        );
        assert!(m.contains("`2s`"), "{m}");
        let m = message("slow_delay=999999h");
        assert!(m.contains("24h"), "{m}");
        assert!(!m.contains("needs a unit"), "{m}");
        let m = message("slow_delay=-1s");
        assert!(m.contains("negative"), "{m}");
        let m = message("slow_delay=2 fortnights");
        assert!(m.starts_with("slow_delay: "), "{m}");
        assert!(message("slow_delay=").contains("empty"));
    }

    #[test]
    fn slow_delays_print_back_as_they_parse() {
        for text in [
            "slow:0.5,slow_delay=1m30s",
            "slow:1,slow_delay=1.5ms",
            "slow:1,slow_delay=24h",
        ] {
            let Ok(faults) = parse_faults(text) else {
                panic!("{text}")
            };
            assert_eq!(faults.to_string(), text);
            assert_eq!(parse_faults(&faults.to_string()), Ok(faults));
        }
    }

    #[test]
    fn same_seed_same_faults() {
        let Ok(faults) = parse_faults("-1:0.2,http500:0.2,drop:0.2") else {
            panic!()
        };
        let a = Dice::new(faults.clone(), 7);
        let b = Dice::new(faults.clone(), 7);
        let c = Dice::new(faults, 8);
        let run = |d: &Dice| (0..50).map(|_| d.roll()).collect::<Vec<_>>();
        let first = run(&a);
        assert_eq!(first, run(&b));
        assert_ne!(first, run(&c));
        assert!(first.contains(&None));
        assert!(first.contains(&Some(Fault::Drop)));
    }

    #[test]
    fn applied_faults_parse_and_print_back() {
        let text = "applied502:0.1,applied504:0.1,applied930556:0.1,applied-1:0.1";
        let Ok(faults) = parse_faults(text) else {
            panic!("{text}")
        };
        assert_eq!(faults.applied_http502, 0.1);
        assert_eq!(faults.applied_system_error, 0.1);
        assert_eq!(faults.to_string(), text);
        let always = Dice::new(
            Faults {
                applied_carrier_timeout: 1.0,
                ..Faults::default()
            },
            1,
        );
        assert_eq!(always.roll(), Some(Fault::Applied(Lost::Errcode(930556))));
    }

    #[test]
    fn no_faults_never_fire() {
        let dice = Dice::new(Faults::default(), 1);
        assert!((0..100).all(|_| dice.roll().is_none()));
        let always = Dice::new(
            Faults {
                http503: 1.0,
                ..Faults::default()
            },
            1,
        );
        assert!((0..100).all(|_| always.roll() == Some(Fault::Http(503))));
    }
}
