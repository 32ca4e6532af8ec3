//! How fast a run goes: `--speed` (how much faster than the scenario's own time) and `--rate`
//! (at most how many calls a second).
//!
//! Both are numbers a run divides by, so each type holds only a finite value within its
//! bounds: no code past the command line meets a zero, a negative number or infinity.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

/// The factor every delay is divided by: 60 plays a minute in a second.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Speed(f64);

impl Speed {
    /// The scenario's own time.
    pub const REAL_TIME: Speed = Speed(1.0);
    /// The slowest: a second of the scenario takes about 17 minutes.
    pub const MIN: Speed = Speed(0.001);
    /// The fastest: a day of the scenario takes under a tenth of a second.
    pub const MAX: Speed = Speed(1_000_000.0);

    /// `factor` as a speed; None unless it is finite and from [`Self::MIN`] to [`Self::MAX`].
    pub fn new(factor: f64) -> Option<Speed> {
        (factor.is_finite() && (Self::MIN.0..=Self::MAX.0).contains(&factor))
            .then_some(Speed(factor))
    }

    pub fn get(self) -> f64 {
        self.0
    }

    pub fn is_real_time(self) -> bool {
        self == Self::REAL_TIME
    }

    /// `offset` of the scenario's time in run time (`offset / speed`), saturating instead of
    /// overflowing.
    pub fn scale(self, offset: Duration) -> Duration {
        Duration::try_from_secs_f64(offset.as_secs_f64() / self.0).unwrap_or(Duration::MAX)
    }
}

impl Default for Speed {
    fn default() -> Speed {
        Speed::REAL_TIME
    }
}

/// The number as given: `2`, `0.5`, `60`.
impl fmt::Display for Speed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// `--speed`: a number, optionally followed by `x` (`2x`).
impl FromStr for Speed {
    type Err = String;

    fn from_str(text: &str) -> Result<Speed, String> {
        let factor: f64 = text
            .trim()
            .trim_end_matches('x')
            .parse()
            .map_err(|_| format!("`{text}` is not a number; use e.g. 2, 10 or 0.5"))?;
        Speed::new(factor).ok_or_else(|| {
            format!(
                "`{text}` is out of range; the speed must be from {} to {}",
                Speed::MIN,
                Speed::MAX
            )
        })
    }
}

/// At most this many calls a second, across the whole run.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Rate(f64);

impl Rate {
    /// One call every 1000 seconds.
    pub const MIN: Rate = Rate(0.001);
    /// One call every 10 microseconds: no limit that matters.
    pub const MAX: Rate = Rate(100_000.0);

    /// `per_second` as a rate; None unless it is finite and from [`Self::MIN`] to [`Self::MAX`].
    pub fn new(per_second: f64) -> Option<Rate> {
        (per_second.is_finite() && (Self::MIN.0..=Self::MAX.0).contains(&per_second))
            .then_some(Rate(per_second))
    }

    pub fn per_second(self) -> f64 {
        self.0
    }

    /// The time between two calls: `1 / rate` seconds, from 10 µs to 1000 s.
    pub fn interval(self) -> Duration {
        Duration::try_from_secs_f64(1.0 / self.0).unwrap_or(Duration::MAX)
    }
}

/// Calls per second as given: `5`, `0.5`.
impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// `--rate`: calls per second, optionally followed by `/s` (`5/s`).
impl FromStr for Rate {
    type Err = String;

    fn from_str(text: &str) -> Result<Rate, String> {
        let number = text.trim().trim_end_matches("/s");
        number
            .parse::<f64>()
            .ok()
            .and_then(Rate::new)
            .ok_or_else(|| {
                format!(
                    "`{text}` is not a rate; use calls per second from {} to {}, e.g. 5/s or 0.5/s",
                    Rate::MIN,
                    Rate::MAX
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speed(text: &str) -> Result<f64, String> {
        text.parse::<Speed>().map(Speed::get)
    }

    fn rate(text: &str) -> Result<f64, String> {
        text.parse::<Rate>().map(Rate::per_second)
    }

    #[test]
    fn speeds_are_positive_numbers() {
        assert_eq!(speed("60"), Ok(60.0));
        assert_eq!(speed("2x"), Ok(2.0));
        assert_eq!(speed(" 0.001 "), Ok(0.001));
        assert_eq!(speed("1000000"), Ok(1_000_000.0));
        for bad in ["0", "-1", "inf", "NaN", "1e-300", "1000001", "0.0009"] {
            assert_eq!(
                speed(bad),
                Err(format!(
                    "`{bad}` is out of range; the speed must be from 0.001 to 1000000"
                ))
            );
        }
        assert_eq!(
            speed("fast"),
            Err("`fast` is not a number; use e.g. 2, 10 or 0.5".to_owned())
        );
    }

    #[test]
    fn speeds_cannot_hold_what_a_run_cannot_divide_by() {
        for bad in [
            0.0,
            -1.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e-300,
            1e300,
        ] {
            assert_eq!(Speed::new(bad), None, "{bad}");
        }
        assert_eq!(Speed::default(), Speed::REAL_TIME);
        assert!(Speed::REAL_TIME.is_real_time());
        assert!(!Speed::MAX.is_real_time());
        assert_eq!(Speed::REAL_TIME.to_string(), "1");
        assert_eq!(
            Speed::new(0.5).map(|s| s.to_string()),
            Some("0.5".to_owned())
        );
    }

    #[test]
    fn speed_divides_offsets() {
        let scale = |offset: Duration, factor: f64| Speed::new(factor).map(|s| s.scale(offset));
        assert_eq!(
            scale(Duration::from_secs(60), 60.0),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            scale(Duration::from_millis(300), 1.0),
            Some(Duration::from_millis(300))
        );
        assert_eq!(
            scale(Duration::from_secs(1), 0.5),
            Some(Duration::from_secs(2))
        );
        // The slowest speed never overflows, even for the longest offsets.
        assert_eq!(Speed::MIN.scale(Duration::MAX), Duration::MAX);
        assert_eq!(Speed::MAX.scale(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn rates_are_calls_per_second_within_bounds() {
        assert_eq!(rate("5/s"), Ok(5.0));
        assert_eq!(rate("0.5"), Ok(0.5));
        assert_eq!(rate(" 100000/s "), Ok(100_000.0));
        for bad in ["0/s", "fast", "-1", "inf/s", "100001", "0.0001/s", ""] {
            assert_eq!(
                rate(bad),
                Err(format!(
                    "`{bad}` is not a rate; use calls per second from 0.001 to 100000, e.g. 5/s or 0.5/s"
                ))
            );
        }
        for bad in [0.0, -5.0, f64::NAN, f64::INFINITY, 1e-9] {
            assert_eq!(Rate::new(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_rate_spaces_calls_by_its_interval() {
        let interval = |per_second: f64| Rate::new(per_second).map(Rate::interval);
        assert_eq!(interval(10.0), Some(Duration::from_millis(100)));
        assert_eq!(interval(0.5), Some(Duration::from_secs(2)));
        assert_eq!(Rate::MIN.interval(), Duration::from_secs(1000));
        assert_eq!(Rate::MAX.interval(), Duration::from_micros(10));
        assert_eq!(Rate::new(5.0).map(|r| r.to_string()), Some("5".to_owned()));
    }
}
