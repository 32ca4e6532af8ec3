//! The JSON Schema of `after:`: patterns that accept what `duration::parse_delay` reads.

use serde_json::{Value, json};

/// One component of a duration: a number, optionally with decimals, and `unit`.
fn duration_part(unit: &str) -> String {
    format!("[0-9]+(?:\\.[0-9]+)?{unit}")
}

/// One duration as `duration::parse_duration` reads it, unanchored: `0`, or components with
/// units from largest to smallest, each at most once (the 24h limit is not expressed), with
/// spaces around.
fn duration_core() -> String {
    let [h, m, s, ms] = ["h", "m", "s", "ms"].map(duration_part);
    let gap = "\\s*";
    let opt = |part: &str| format!("(?:{gap}{part})?");
    let from_h = format!("{h}{}{}{}", opt(&m), opt(&s), opt(&ms));
    let from_m = format!("{m}{}{}", opt(&s), opt(&ms));
    let from_s = format!("{s}{}", opt(&ms));
    format!("\\s*\\+?(?:0|{from_h}|{from_m}|{from_s}|{ms})\\s*")
}

/// The durations `duration::parse_duration` reads.
fn duration_pattern() -> String {
    format!("^{}$", duration_core())
}

/// The ranges `duration::parse_delay` reads: two durations joined by `..` (that the low end
/// is not above the high end is not expressed).
fn range_pattern() -> String {
    let core = duration_core();
    format!("^{core}\\.\\.{core}$")
}

pub(super) fn duration_schema() -> Value {
    json!({
        "description": "How long to wait after the previous step (after the start, for the first \
                        step) before sending this one: a number with a unit, ms, s, m or h, units \
                        from largest to smallest, e.g. 500ms, 30s, 2m, 1h, 1m30s, 1.5s; or 0; or \
                        a range such as 20s..40s, from which each run draws one delay (`--seed` \
                        replays a run's draws). At most 24h per step. Defaults to 0.",
        "oneOf": [
            {
                "type": "string",
                "pattern": duration_pattern(),
                "description": "A duration such as 500ms, 30s, 2m, 1h, 1m30s or 1.5s.",
            },
            {
                "type": "string",
                "pattern": range_pattern(),
                "description": "A range such as 20s..40s or 0..2m: each run waits a delay drawn \
                                between the two ends, both included; the low end must not be \
                                above the high end.",
            },
            {
                "type": "integer",
                "const": 0,
                "description": "Send right away.",
            },
        ],
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::describe::tests::validator;

    #[test]
    fn duration_pattern_agrees_with_the_parser() {
        let validator = validator();
        let texts = [
            "0",
            "0s",
            "0ms",
            "500ms",
            "30s",
            "2m",
            "1h",
            "1m30s",
            "1m 30s",
            " 30s ",
            "+5s",
            "1.5s",
            "0.25s",
            "2.5ms",
            "1.5h",
            "1h2m3s4ms",
            "23h59m59.999s",
            "30",
            "1.5",
            "00",
            "0.0",
            "-5s",
            "-0",
            "",
            "soon",
            "s",
            "1.s",
            ".5s",
            "1..5s",
            "30 s x",
            "1m30",
            "1s-",
            "3d",
            "5sec",
            "1S",
            "30s1m",
            "1s1s",
            "1ms5s",
            "1h1h",
            "1 s",
            // Ranges.
            "20s..40s",
            "0..30s",
            "0..0",
            "1m..1m30s",
            " 20s .. 40s ",
            "20s ..40s",
            "+1s..+2s",
            "1.5s..2.5s",
            "500ms..1s",
            "1h..2h30m",
            "0s..23h59m59.999s",
            "20s..",
            "..40s",
            "..",
            "20s..40",
            "20..40s",
            "20s...40s",
            "20s. .40s",
            "1s..2s..3s",
            "-5s..5s",
            "5s..-1s",
            "soon..later",
            "30s1m..2m",
            "1s..3d",
            "1 s..2s",
            "0.0..1s",
            "1s.. 2 s",
        ];
        for text in texts {
            let doc = json!({"carrier": "dada", "shop_order_id": "a", "steps": [{"status": 102, "after": text}]});
            let schema_ok = validator.is_valid(&doc);
            let parser_ok = crate::base::duration::parse_delay(text).is_ok();
            assert_eq!(
                schema_ok, parser_ok,
                "{text:?}: schema {schema_ok}, parser {parser_ok}"
            );
        }
    }
}
