//! Durations as scenario files write them: `500ms`, `30s`, `2m`, `1h`, `1m30s`, `1.5s`, `0`.
//!
//! Hand-written so that every kind of mistake gets its own message: a missing unit, a negative
//! value, an absurd length, or text that is not a duration at all.

use std::time::Duration;

/// The longest delay one step may have.
pub const MAX_STEP: Duration = Duration::from_secs(24 * 60 * 60);

const EXAMPLES: &str = "write a number with a unit, e.g. 500ms, 30s, 2m, 1h, 1m30s or 1.5s";

const NANOS_PER_MS: u128 = 1_000_000;
const NANOS_PER_S: u128 = 1_000 * NANOS_PER_MS;
const NANOS_PER_M: u128 = 60 * NANOS_PER_S;
const NANOS_PER_H: u128 = 60 * NANOS_PER_M;

/// Units from largest to smallest, as written.
const UNITS: [(&str, u128); 4] = [
    ("h", NANOS_PER_H),
    ("m", NANOS_PER_M),
    ("s", NANOS_PER_S),
    ("ms", NANOS_PER_MS),
];

/// Parses a delay such as `1m30s`; the error says what is wrong and how to write it.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("empty duration: {EXAMPLES}"));
    }
    if text.starts_with('-') {
        return Err(format!(
            "negative duration `{text}`: a step cannot happen before the one before it; use 0s to send right away"
        ));
    }
    let body = text.strip_prefix('+').unwrap_or(text);
    if body == "0" {
        return Ok(Duration::ZERO);
    }
    if is_bare_number(body) {
        return Err(format!(
            "duration `{text}` has no unit: add a unit: ms, s, m or h (e.g. `{body}s`)"
        ));
    }
    let malformed = || format!("`{text}` is not a duration: {EXAMPLES}");

    let mut rest = body;
    let mut total: u128 = 0;
    // Index into UNITS of the last unit used; units must go from largest to smallest, each once.
    let mut last_unit: Option<usize> = None;
    while !rest.is_empty() {
        let (int_part, after_int) = split_digits(rest);
        if int_part.is_empty() {
            return Err(malformed());
        }
        let (frac_part, after_number) = match after_int.strip_prefix('.') {
            Some(after_dot) => {
                let (frac, after_frac) = split_digits(after_dot);
                if frac.is_empty() {
                    return Err(malformed());
                }
                (frac, after_frac)
            }
            None => ("", after_int),
        };
        let unit_len = after_number
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after_number.len());
        let unit = &after_number[..unit_len];
        let Some(unit_index) = UNITS.iter().position(|(name, _)| *name == unit) else {
            return Err(if unit.is_empty() {
                malformed()
            } else {
                format!("unknown unit `{unit}` in `{text}`: use ms, s, m or h ({EXAMPLES})")
            });
        };
        if last_unit.is_some_and(|last| unit_index <= last) {
            return Err(format!(
                "`{text}` repeats a unit or puts a smaller one first: write units from largest to smallest, each once, e.g. 1h2m3s"
            ));
        }
        last_unit = Some(unit_index);
        let per_unit = UNITS[unit_index].1;
        total = total.saturating_add(component_nanos(int_part, frac_part, per_unit));
        rest = after_number[unit_len..].trim_start();
    }
    let limit = MAX_STEP.as_nanos();
    if total > limit {
        return Err(format!(
            "duration `{text}` is absurd for one step: the limit is {} per step",
            format_duration(MAX_STEP)
        ));
    }
    // total ≤ 24h in nanoseconds, far below u64::MAX.
    Ok(Duration::from_nanos(
        u64::try_from(total).unwrap_or(u64::MAX),
    ))
}

/// `1m30s`, `250ms`, `1h`, `0s`; below a millisecond as a decimal, e.g. `1.5ms`.
pub fn format_duration(d: Duration) -> String {
    let mut nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (name, per_unit) in &UNITS[..3] {
        let count = nanos / per_unit;
        if count > 0 {
            out.push_str(&format!("{count}{name}"));
        }
        nanos %= per_unit;
    }
    if nanos > 0 {
        let ms = nanos / NANOS_PER_MS;
        let sub = nanos % NANOS_PER_MS;
        if sub == 0 {
            out.push_str(&format!("{ms}ms"));
        } else {
            let digits = format!("{sub:06}");
            out.push_str(&format!("{ms}.{}ms", digits.trim_end_matches('0')));
        }
    }
    out
}

fn is_bare_number(text: &str) -> bool {
    let (int_part, rest) = split_digits(text);
    if int_part.is_empty() {
        return false;
    }
    match rest.strip_prefix('.') {
        None => rest.is_empty(),
        Some(frac) => !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()),
    }
}

fn split_digits(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text.split_at(end)
}

/// `int.frac` units in nanoseconds, exact, saturating for absurdly long numbers.
fn component_nanos(int_part: &str, frac_part: &str, per_unit: u128) -> u128 {
    let int_part = int_part.trim_start_matches('0');
    // More than 20 digits is far past any limit; saturate so the caller reports "absurd".
    if int_part.len() > 20 {
        return u128::MAX;
    }
    let whole = int_part.parse::<u128>().unwrap_or(0);
    // Digits past nanosecond precision of the largest unit do not matter.
    let frac_part = &frac_part[..frac_part.len().min(18)];
    let frac = frac_part.parse::<u128>().unwrap_or(0);
    let scale = 10u128.pow(u32::try_from(frac_part.len()).unwrap_or(0));
    whole
        .saturating_mul(per_unit)
        .saturating_add(frac.saturating_mul(per_unit) / scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Duration {
        match parse_duration(text) {
            Ok(d) => d,
            Err(e) => panic!("`{text}` refused: {e}"),
        }
    }

    fn err(text: &str) -> String {
        match parse_duration(text) {
            Ok(d) => panic!("`{text}` accepted as {d:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn parses_single_units() {
        assert_eq!(ok("500ms"), Duration::from_millis(500));
        assert_eq!(ok("30s"), Duration::from_secs(30));
        assert_eq!(ok("2m"), Duration::from_secs(120));
        assert_eq!(ok("1h"), Duration::from_secs(3600));
        assert_eq!(ok("0"), Duration::ZERO);
        assert_eq!(ok("0s"), Duration::ZERO);
        assert_eq!(ok("0ms"), Duration::ZERO);
        assert_eq!(ok(" 30s "), Duration::from_secs(30));
    }

    #[test]
    fn parses_combinations_and_decimals() {
        assert_eq!(ok("1m30s"), Duration::from_secs(90));
        assert_eq!(ok("1h2m3s4ms"), Duration::from_millis(3_723_004));
        assert_eq!(ok("1m 30s"), Duration::from_secs(90));
        assert_eq!(ok("1.5s"), Duration::from_millis(1500));
        assert_eq!(ok("0.25s"), Duration::from_millis(250));
        assert_eq!(ok("1.1s"), Duration::from_millis(1100));
        assert_eq!(ok("1.5h"), Duration::from_secs(5400));
        assert_eq!(ok("2.5ms"), Duration::from_micros(2500));
        assert_eq!(ok("24h"), MAX_STEP);
        assert_eq!(ok("23h59m59.999s"), MAX_STEP - Duration::from_millis(1));
    }

    #[test]
    fn bare_numbers_need_a_unit() {
        for text in ["30", "1.5", "00", "0.0"] {
            let e = err(text);
            assert!(e.contains("add a unit: ms, s, m or h"), "{text}: {e}");
        }
    }

    #[test]
    fn negative_has_its_own_message() {
        for text in ["-5s", "-1", "-0"] {
            let e = err(text);
            assert!(e.starts_with("negative duration"), "{text}: {e}");
        }
    }

    #[test]
    fn absurd_lengths_name_the_limit() {
        for text in [
            "25h",
            "24h1ms",
            "1441m",
            "99999999999999999999999999h",
            "86401s",
        ] {
            let e = err(text);
            assert!(e.contains("absurd"), "{text}: {e}");
            assert!(e.contains("24h per step"), "{text}: {e}");
        }
    }

    #[test]
    fn malformed_text_gets_examples() {
        for text in [
            "", "soon", "s", "1.s", ".5s", "1..5s", "30 s x", "1m30", "1s-", "3d", "5sec", "1S",
        ] {
            let e = err(text);
            assert!(e.contains("e.g."), "{text:?}: {e}");
        }
        assert!(err("3d").contains("unknown unit `d`"));
        assert!(err("30s1m").contains("largest to smallest"));
        assert!(err("1s1s").contains("largest to smallest"));
    }

    #[test]
    fn formats_compactly_and_round_trips() {
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_duration(Duration::from_secs(3600)), "1h");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1s500ms");
        assert_eq!(format_duration(Duration::from_micros(1500)), "1.5ms");
        assert_eq!(format_duration(Duration::from_nanos(1)), "0.000001ms");
        for text in [
            "1h2m3s4ms",
            "1.5s",
            "2.5ms",
            "24h",
            "59m59s999ms",
            "0.000001ms",
        ] {
            let d = ok(text);
            assert_eq!(ok(&format_duration(d)), d, "{text}");
        }
    }
}
