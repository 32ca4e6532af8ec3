//! Durations as scenario files write them: `500ms`, `30s`, `2m`, `1h`, `1m30s`, `1.5s`, `0`.
//!
//! Hand-written so that every kind of mistake gets its own message: a missing unit, a negative
//! value, an absurd length, or text that is not a duration at all.

use rust_i18n::t;
use std::time::Duration;

/// The longest delay one step may have.
pub const MAX_STEP: Duration = Duration::from_secs(24 * 60 * 60);

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
        return Err(t!("duration.empty").into_owned());
    }
    if text.starts_with('-') {
        return Err(t!("duration.negative", text = text).into_owned());
    }
    let body = text.strip_prefix('+').unwrap_or(text);
    if body == "0" {
        return Ok(Duration::ZERO);
    }
    if is_bare_number(body) {
        return Err(t!("duration.no_unit", text = text, body = body).into_owned());
    }
    let malformed = || t!("duration.malformed", text = text).into_owned();

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
                t!("duration.unknown_unit", unit = unit, text = text).into_owned()
            });
        };
        if last_unit.is_some_and(|last| unit_index <= last) {
            return Err(t!("duration.unit_order", text = text).into_owned());
        }
        last_unit = Some(unit_index);
        let per_unit = UNITS[unit_index].1;
        total = total.saturating_add(component_nanos(int_part, frac_part, per_unit));
        rest = after_number[unit_len..].trim_start();
    }
    let limit = MAX_STEP.as_nanos();
    if total > limit {
        return Err(t!(
            "duration.absurd",
            text = text,
            limit = format_duration(MAX_STEP)
        )
        .into_owned());
    }
    // total ≤ 24h in nanoseconds, far below u64::MAX.
    Ok(Duration::from_nanos(
        u64::try_from(total).unwrap_or(u64::MAX),
    ))
}

/// A step's delay as written: one duration, or a range (`20s..40s`) that each run draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delay {
    Fixed(Duration),
    /// Low and high end, both included; low ≤ high.
    Range(Duration, Duration),
}

/// What is wrong with a delay, and where in its text (in characters from the start), so a
/// message can point at the bad end of a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelayProblem {
    pub offset: usize,
    pub message: String,
}

/// Parses `30s` or a range `20s..40s` (spaces around `..` allowed). Both ends of a range
/// follow [`parse_duration`] and its limits, and the low end must not be above the high end.
/// Every problem is returned (both ends may be wrong).
pub fn parse_delay(text: &str) -> Result<Delay, Vec<DelayProblem>> {
    let Some((low_text, high_text)) = text.split_once("..") else {
        return parse_duration(text)
            .map(Delay::Fixed)
            .map_err(|message| vec![DelayProblem { offset: 0, message }]);
    };
    let whole = text.trim();
    let low_offset = chars_before_content(text, 0);
    let high_start = low_text.len() + 2;
    let high_offset = chars_before_content(text, high_start);
    let problem = |offset: usize, message: String| DelayProblem { offset, message };
    if high_text.starts_with('.') || high_text.contains("..") {
        return Err(vec![problem(
            low_offset,
            t!("range.malformed", range = whole).into_owned(),
        )]);
    }
    let mut problems = Vec::new();
    if low_text.trim().is_empty() {
        problems.push(problem(
            low_offset,
            t!("range.no_low_end", range = whole).into_owned(),
        ));
    }
    if high_text.trim().is_empty() {
        problems.push(problem(
            high_offset,
            t!("range.no_high_end", range = whole).into_owned(),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let low = parse_duration(low_text).map_err(|e| {
        problem(
            low_offset,
            t!("range.low_end", range = whole, problem = e).into_owned(),
        )
    });
    let high = parse_duration(high_text).map_err(|e| {
        problem(
            high_offset,
            t!("range.high_end", range = whole, problem = e).into_owned(),
        )
    });
    match (low, high) {
        (Ok(low), Ok(high)) if low > high => Err(vec![problem(
            low_offset,
            t!(
                "range.backwards",
                range = whole,
                low = format_duration(low),
                high = format_duration(high)
            )
            .into_owned(),
        )]),
        (Ok(low), Ok(high)) => Ok(Delay::Range(low, high)),
        (low, high) => Err([low.err(), high.err()].into_iter().flatten().collect()),
    }
}

/// Characters in `text` before the first non-space at or after byte `from`.
fn chars_before_content(text: &str, from: usize) -> usize {
    let rest = text.get(from..).unwrap_or("");
    let spaces = rest.len() - rest.trim_start().len();
    text.get(..from + spaces)
        .map(|t| t.chars().count())
        .unwrap_or(0)
}

/// `20s..40s`, as a range is written.
pub fn format_range(low: Duration, high: Duration) -> String {
    format!("{}..{}", format_duration(low), format_duration(high))
}

/// One delay from `low..=high`, drawn deterministically from `seed`, the scenario's file name
/// and the step's index: the same three always give the same delay, on every platform and
/// release (a fixed hash, not a library generator whose stream may change). The result is a
/// whole number of milliseconds when the range holds one, else `low`.
pub fn draw_in_range(
    low: Duration,
    high: Duration,
    seed: u64,
    file_name: &str,
    index: usize,
) -> Duration {
    let (low, high) = if low <= high {
        (low, high)
    } else {
        (high, low)
    };
    let lowest_ms = low.as_nanos().div_ceil(NANOS_PER_MS);
    let highest_ms = high.as_nanos() / NANOS_PER_MS;
    if highest_ms < lowest_ms {
        return low;
    }
    let span = highest_ms - lowest_ms + 1;
    let key = mix(seed, file_name, index);
    // Multiply-shift: uniform enough for spans far below 2^64 (a day is 8.64e7 ms).
    let pick = lowest_ms + ((u128::from(key) * span) >> 64);
    let nanos = pick.saturating_mul(NANOS_PER_MS);
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX)).clamp(low, high)
}

/// FNV-1a over the seed, the name and the index, then the SplitMix64 finaliser.
fn mix(seed: u64, name: &str, index: usize) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let index = u64::try_from(index).unwrap_or(u64::MAX);
    let bytes = seed
        .to_le_bytes()
        .into_iter()
        .chain(name.bytes())
        .chain([0xff])
        .chain(index.to_le_bytes());
    let mut hash = OFFSET;
    for byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(PRIME);
    }
    let mut z = hash.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
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

/// `d` to the nearest millisecond, half a millisecond up: the one rounding rule for every
/// duration shown or reported in milliseconds, so the console, the plan and the reports agree.
pub fn round_to_ms(d: Duration) -> Duration {
    Duration::from_millis(whole_ms(d))
}

/// [`round_to_ms`] as a number of milliseconds, saturating far past any real duration.
pub fn whole_ms(d: Duration) -> u64 {
    let millis = d.as_nanos().saturating_add(NANOS_PER_MS / 2) / NANOS_PER_MS;
    u64::try_from(millis).unwrap_or(u64::MAX)
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

    /// `draw_in_range(0..24h, seed 42, "dada_happy_path.yaml", 0)`, fixed forever.
    const PINNED: Duration = Duration::from_millis(14_940_686);

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

    fn delay(text: &str) -> Delay {
        match parse_delay(text) {
            Ok(d) => d,
            Err(e) => panic!("`{text}` refused: {e:?}"),
        }
    }

    fn delay_err(text: &str) -> Vec<DelayProblem> {
        match parse_delay(text) {
            Ok(d) => panic!("`{text}` accepted as {d:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn delays_are_fixed_or_ranges() {
        assert_eq!(delay("30s"), Delay::Fixed(Duration::from_secs(30)));
        assert_eq!(
            delay("20s..40s"),
            Delay::Range(Duration::from_secs(20), Duration::from_secs(40))
        );
        assert_eq!(
            delay(" 0 .. 1m30s "),
            Delay::Range(Duration::ZERO, Duration::from_secs(90))
        );
        assert_eq!(
            delay("5s..5s"),
            Delay::Range(Duration::from_secs(5), Duration::from_secs(5))
        );
        assert_eq!(
            format_range(Duration::from_secs(20), Duration::from_secs(90)),
            "20s..1m30s"
        );
    }

    #[test]
    fn bad_ranges_say_which_end_and_where() {
        let e = delay_err("20s..");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].offset, 5);
        assert!(e[0].message.contains("has no high end"), "{e:?}");
        assert!(e[0].message.contains("e.g. 20s..40s"), "{e:?}");
        let e = delay_err("..40s");
        assert_eq!((e[0].offset, e.len()), (0, 1));
        assert!(e[0].message.contains("has no low end"), "{e:?}");
        let e = delay_err("20s..4O");
        assert_eq!(e[0].offset, 5);
        assert!(
            e[0].message
                .starts_with("the high end of the range `20s..4O`: "),
            "{e:?}"
        );
        let e = delay_err("20..soon");
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].message.contains("the low end"), "{e:?}");
        assert!(e[0].message.contains("add a unit"), "{e:?}");
        assert_eq!(e[1].offset, 4);
        let e = delay_err("40s .. 20s");
        assert!(e[0].message.contains("goes backwards"), "{e:?}");
        assert!(e[0].message.contains("write `20s..40s`"), "{e:?}");
        assert!(delay_err("1s...2s")[0].message.contains("is not a range"));
        assert!(
            delay_err("1s..2s..3s")[0]
                .message
                .contains("is not a range")
        );
        assert!(delay_err("1s..25h")[0].message.contains("absurd"));
        assert!(
            delay_err("-5s..5s")[0]
                .message
                .contains("negative duration")
        );
        // A bad fixed delay is unchanged.
        assert_eq!(
            delay_err("soon")[0].message,
            "`soon` is not a duration: write a number with a unit, e.g. 500ms, 30s, 2m, 1h, 1m30s or 1.5s"
        );
        assert_eq!(delay_err("测试..x")[0].offset, 0);
        assert_eq!(delay_err("测试..x")[1].offset, 4);
    }

    #[test]
    fn draws_are_deterministic_and_within_the_range() {
        let (low, high) = (Duration::from_secs(20), Duration::from_secs(40));
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..200 {
            let d = draw_in_range(low, high, seed, "a.yaml", 3);
            assert!(low <= d && d <= high, "{d:?}");
            assert_eq!(d.subsec_nanos() % 1_000_000, 0, "{d:?}");
            assert_eq!(d, draw_in_range(low, high, seed, "a.yaml", 3));
            seen.insert(d);
        }
        assert!(seen.len() > 190, "{}", seen.len());
        let a: Vec<Duration> = (0..8)
            .map(|i| draw_in_range(low, high, 7, "a.yaml", i))
            .collect();
        let b: Vec<Duration> = (0..8)
            .map(|i| draw_in_range(low, high, 7, "b.yaml", i))
            .collect();
        assert_ne!(a, b);
        // Degenerate and sub-millisecond ranges.
        let five = Duration::from_secs(5);
        assert_eq!(draw_in_range(five, five, 1, "a", 0), five);
        let (l, h) = (Duration::from_micros(1100), Duration::from_micros(1900));
        assert_eq!(draw_in_range(l, h, 1, "a", 0), l);
        let (l, h) = (Duration::from_micros(900), Duration::from_micros(1100));
        assert_eq!(draw_in_range(l, h, 1, "a", 0), Duration::from_millis(1));
        // Both ends are reachable.
        let (l, h) = (Duration::ZERO, Duration::from_millis(1));
        let ends: std::collections::BTreeSet<Duration> =
            (0..64).map(|s| draw_in_range(l, h, s, "a", 0)).collect();
        assert_eq!(ends.len(), 2);
        // Pinned values: the generator must not change between releases.
        assert_eq!(
            draw_in_range(Duration::ZERO, MAX_STEP, 42, "dada_happy_path.yaml", 0),
            PINNED
        );
    }

    #[test]
    fn milliseconds_round_to_the_nearest() {
        assert_eq!(whole_ms(Duration::from_micros(1499)), 1);
        assert_eq!(whole_ms(Duration::from_micros(1500)), 2);
        assert_eq!(whole_ms(Duration::from_micros(400)), 0);
        assert_eq!(whole_ms(Duration::from_secs(3)), 3000);
        assert_eq!(whole_ms(Duration::MAX), u64::MAX);
        assert_eq!(
            round_to_ms(Duration::from_nanos(6_666_666_667)),
            Duration::from_millis(6667)
        );
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
