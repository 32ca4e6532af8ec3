//! `simulate new CARRIER PATH`: a valid, commented scenario for one path of one carrier's
//! order life, built from the carrier model rather than from templates, so that it follows
//! whatever the carrier table (built in or `--carriers`) allows.
//!
//! The route starts at 101 and follows [`Carrier::allowed_next`], visiting as many of the
//! path's usual statuses as the carrier supports (SF skips 201 and 301; Dada passes them).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::base::duration::format_duration;
use crate::model::carriers::{Carrier, Carriers};
use crate::model::statuses::Status;
use crate::model::statuses::Status::*;

/// The first line of every generated scenario: editor completion and checks from the JSON
/// Schema. The path is relative, so it resolves when the file sits in `scenarios/` of the
/// repository (next to `schema/`).
pub const SCHEMA_MODELINE: &str = "# yaml-language-server: $schema=../schema/scenario.schema.json";

/// Which life the generated order leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PathKind {
    /// Delivered (302).
    Happy,
    /// Recipient unreachable (304), then returned (401) when the carrier can report it.
    Unreachable,
    /// Recipient refused (305), then returned (401) when the carrier can report it.
    Refused,
    /// Cancelled: by the merchant (103), else by the carrier's system (501) or force
    /// majeure (502).
    Cancel,
}

impl PathKind {
    pub const ALL: [PathKind; 4] = [
        PathKind::Happy,
        PathKind::Unreachable,
        PathKind::Refused,
        PathKind::Cancel,
    ];

    /// As written on the command line.
    pub fn name(self) -> &'static str {
        match self {
            PathKind::Happy => "happy",
            PathKind::Unreachable => "unreachable",
            PathKind::Refused => "refused",
            PathKind::Cancel => "cancel",
        }
    }

    fn spec(self) -> Spec {
        const DELIVERY: &[Status] = &[RiderAssigned, AtStore, PickedUp, Delivering];
        match self {
            PathKind::Happy => Spec {
                waypoints: DELIVERY,
                ends: &[Delivered],
                tail: None,
            },
            PathKind::Unreachable => Spec {
                waypoints: DELIVERY,
                ends: &[RecipientUnreachable],
                tail: Some(Returned),
            },
            PathKind::Refused => Spec {
                waypoints: DELIVERY,
                ends: &[RecipientRefused],
                tail: Some(Returned),
            },
            PathKind::Cancel => Spec {
                waypoints: &[RiderAssigned],
                ends: &[MerchantCancelled, CarrierCancelled, ForceMajeureCancelled],
                tail: None,
            },
        }
    }
}

impl fmt::Display for PathKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PathKind {
    type Err = String;

    fn from_str(text: &str) -> Result<PathKind, String> {
        let text = text.trim();
        PathKind::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| {
                format!(
                    "unknown path `{text}`: the paths are happy, unreachable, refused and cancel"
                )
            })
    }
}

/// How a path is looked for in a carrier's graph.
struct Spec {
    /// Statuses the route may pass, in order; each is visited when the carrier allows it.
    waypoints: &'static [Status],
    /// Where the route may end, most wanted first.
    ends: &'static [Status],
    /// A status to add after the end when the carrier allows it (the return, 401).
    tail: Option<Status>,
}

/// The statuses (after 101) an order of `carrier` goes through on `path`, or why it cannot.
pub fn route(carrier: &Carrier, path: PathKind) -> Result<Vec<Status>, String> {
    let spec = path.spec();
    let mut best: Option<(usize, Vec<Status>)> = None;
    let mut trail = Vec::new();
    search(carrier, &spec, Status::INITIAL, 0, &mut trail, &mut best);
    let Some((_, mut statuses)) = best else {
        return Err(why_not(carrier, path, &spec));
    };
    if let (Some(tail), Some(last)) = (spec.tail, statuses.last().copied())
        && carrier.allows(last, tail)
    {
        statuses.push(tail);
    }
    Ok(statuses)
}

/// Depth-first over the carrier's allowed moves through the waypoints, in order. The best
/// route ends at the most wanted end, then visits the most statuses.
fn search(
    carrier: &Carrier,
    spec: &Spec,
    current: Status,
    next_waypoint: usize,
    trail: &mut Vec<Status>,
    best: &mut Option<(usize, Vec<Status>)>,
) {
    for next in carrier.allowed_next(current) {
        if let Some(rank) = spec.ends.iter().position(|e| *e == next) {
            let better = match best {
                None => true,
                Some((best_rank, best_route)) => {
                    rank < *best_rank || (rank == *best_rank && trail.len() + 1 > best_route.len())
                }
            };
            if better {
                let mut found = trail.clone();
                found.push(next);
                *best = Some((rank, found));
            }
        } else if let Some(offset) = spec.waypoints[next_waypoint.min(spec.waypoints.len())..]
            .iter()
            .position(|w| *w == next)
        {
            trail.push(next);
            search(carrier, spec, next, next_waypoint + offset + 1, trail, best);
            trail.pop();
        }
    }
}

/// Why `carrier` cannot play `path`, and which paths it can.
fn why_not(carrier: &Carrier, path: PathKind, spec: &Spec) -> String {
    let list = |statuses: &[Status]| {
        statuses
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let supported: Vec<Status> = carrier.supported.iter().copied().collect();
    let reason = if !spec.ends.iter().any(|e| carrier.supports(*e)) {
        match spec.ends {
            [one] => format!("it does not support {one}"),
            many => format!("it supports none of {}", list(many)),
        }
    } else {
        let ends: Vec<Status> = spec
            .ends
            .iter()
            .copied()
            .filter(|e| carrier.supports(*e))
            .collect();
        format!(
            "its transitions never reach {} from {}",
            list(&ends),
            Status::INITIAL
        )
    };
    let can: Vec<&str> = PathKind::ALL
        .into_iter()
        .filter(|p| *p != path)
        .filter(|p| {
            let spec = p.spec();
            let mut best = None;
            search(
                carrier,
                &spec,
                Status::INITIAL,
                0,
                &mut Vec::new(),
                &mut best,
            );
            best.is_some()
        })
        .map(PathKind::name)
        .collect();
    let can = if can.is_empty() {
        format!("{} can play none of the paths", carrier.id)
    } else {
        format!("the paths {} can play: {}", carrier.id, can.join(", "))
    };
    format!(
        "{} cannot play the {path} path: {reason} ({} supports {}); {can}",
        carrier.id,
        carrier.id,
        list(&supported)
    )
}

/// The paths `carrier` can play, in [`PathKind::ALL`] order.
#[cfg(test)]
pub fn paths_for(carrier: &Carrier) -> Vec<PathKind> {
    PathKind::ALL
        .into_iter()
        .filter(|p| route(carrier, *p).is_ok())
        .collect()
}

/// A typical time from the status before `status` on its path to `status`.
pub(super) fn typical_delay(status: Status) -> Duration {
    let secs = match status {
        AwaitingRider | RiderAssigned => 0,
        AtStore => 4 * 60,
        PickedUp => 3 * 60 + 30,
        Delivering => 30,
        Delivered => 12 * 60,
        RecipientUnreachable => 10 * 60,
        RecipientRefused => 5 * 60,
        Returned => 15 * 60,
        MerchantCancelled => 2 * 60,
        CarrierCancelled | ForceMajeureCancelled => 5 * 60,
        PickupCancelledByMerchant
        | PickupCancelledByRider
        | PickupCancelledMerchantFault
        | ReturningMerchantCancelled => 3 * 60,
    };
    Duration::from_secs(secs)
}

/// `action_msg` for a status, in Chinese and English.
pub(super) fn action_msg(status: Status) -> String {
    let text = match status {
        RiderAssigned => "骑手已接单 / rider accepted the order",
        AtStore => "骑手已到店 / rider arrived at the store",
        PickedUp => "骑手已取货 / goods picked up",
        Delivering => "骑手配送中 / out for delivery",
        Delivered => "已送达 / delivered",
        RecipientUnreachable => {
            "无法联系收货人，物品返还中 / recipient unreachable, goods on the way back"
        }
        RecipientRefused => "收货人拒收，物品返还中 / recipient refused, goods on the way back",
        Returned => "物品已返还商家 / goods returned to the merchant",
        MerchantCancelled => "商家取消订单 / the merchant cancelled the order",
        CarrierCancelled => "运力系统取消订单 / cancelled by the carrier's system",
        ForceMajeureCancelled => "因不可抗力取消 / cancelled by force majeure",
        other => return format!("{} / {}", other.label_zh(), other.label_en()),
    };
    text.to_owned()
}

/// A valid, commented YAML scenario of `path` for the carrier named `carrier` (id or alias),
/// or why there is none: an unknown carrier, or a path the carrier cannot play (the message
/// names the paths it can).
pub fn new_scenario(carriers: &Carriers, carrier: &str, path: PathKind) -> Result<String, String> {
    let Some(found) = carriers.find(carrier) else {
        return Err(carriers.unknown(carrier).to_string());
    };
    let carrier: &Carrier = found;
    let statuses = route(carrier, path)?;

    // Each step waits the typical times of the path's statuses since the previous step, so a
    // carrier that skips 201 waits for it all the same.
    let spec = path.spec();
    let chain: Vec<Status> = spec
        .waypoints
        .iter()
        .chain(spec.ends)
        .chain(spec.tail.as_slice())
        .copied()
        .collect();
    let mut steps: Vec<(Status, Duration)> = Vec::new();
    let mut previous: Option<usize> = None;
    for status in &statuses {
        let position = chain.iter().position(|s| s == status);
        let delay = match (previous, position) {
            (_, None) => typical_delay(*status),
            (from, Some(to)) => chain[from.map_or(0, |f| f + 1)..=to]
                .iter()
                .filter(|s| !spec.ends.contains(s) || *s == status)
                .map(|s| typical_delay(*s))
                .sum(),
        };
        if position.is_some() {
            previous = position;
        }
        steps.push((*status, delay));
    }
    let total: Duration = steps.iter().map(|(_, d)| *d).sum();

    let title = title(path, &statuses);
    let name = format!("{} {title}", carrier.name_en);
    let route_text: Vec<String> = std::iter::once(Status::INITIAL)
        .chain(statuses.iter().copied())
        .map(|s| s.to_string())
        .collect();

    let mut out = String::new();
    let mut line = |text: &str| {
        out.push_str(text);
        out.push('\n');
    };
    line(SCHEMA_MODELINE);
    let mut header = vec![
        format!(
            "{} ({}), {title}: {}",
            carrier.name_en,
            carrier.name_zh,
            story(path, carrier, &statuses)
        ),
        format!("  {}", route_text.join(" → ")),
    ];
    let minutes = total.as_secs() / 60;
    header.push(if minutes >= 2 {
        let fast = Duration::from_secs(total.as_secs().div_ceil(60));
        format!(
            "It takes about {minutes} minutes; `simulate run --speed 60` plays it in about {}.",
            format_duration(fast)
        )
    } else {
        format!("It takes about {}.", format_duration(total))
    });
    header.push(String::new());
    header.push(format!(
        "Generated by `simulate new --carrier {} --path {path}` from carrier table {} (profile {}). Every step is one the carrier supports and allows after the one before. The delays are typical; write a range such as `after: 3m..5m` to vary a delay from run to run (`--seed` replays one). The schema line above resolves when this file sits in scenarios/ of the simulate repository, next to schema/.",
        carrier.id, carriers.version, carrier.version
    ));
    for paragraph in &header {
        for text in comment_lines(paragraph) {
            line(&text);
        }
    }
    line(&format!("name: {}", yaml_text(&name)));
    line(&format!("carrier: {}", yaml_text(&carrier.id)));
    line(&format!(
        "shop_order_id: {}",
        yaml_text(&format!("{}-{path}-{{{{run_id}}}}", carrier.id))
    ));
    line("steps:");
    for (status, delay) in &steps {
        line(&format!(
            "  - status: {:<23} # {} {}",
            status.name(),
            status.code(),
            status.label_en()
        ));
        line(&format!("    after: {}", format_duration(*delay)));
        line(&format!(
            "    action_msg: {}",
            yaml_text(&action_msg(*status))
        ));
    }
    Ok(out)
}

/// "happy path", "recipient refused", "merchant cancels", …
fn title(path: PathKind, statuses: &[Status]) -> &'static str {
    match path {
        PathKind::Happy => "happy path",
        PathKind::Unreachable => "recipient unreachable",
        PathKind::Refused => "recipient refused",
        PathKind::Cancel => match statuses.last() {
            Some(CarrierCancelled) => "carrier cancels",
            Some(ForceMajeureCancelled) => "force majeure cancels",
            _ => "merchant cancels",
        },
    }
}

/// One sentence on what happens to the order.
fn story(path: PathKind, carrier: &Carrier, statuses: &[Status]) -> String {
    let returned = statuses.last() == Some(&Returned);
    let back = |what: &str, end: Status| {
        if returned {
            format!("{what}, so the goods go back to the merchant and arrive there (401).")
        } else {
            format!(
                "{what}, so the goods go back to the merchant. {} cannot report the return (401), so the scenario ends at {}.",
                carrier.id,
                end.code()
            )
        }
    };
    match path {
        PathKind::Happy => "the rider delivers and the order ends well.".to_owned(),
        PathKind::Unreachable => back("the rider cannot reach the recipient", RecipientUnreachable),
        PathKind::Refused => back("the recipient refuses the goods", RecipientRefused),
        PathKind::Cancel => match statuses.last() {
            Some(CarrierCancelled) => {
                "the carrier's system cancels the order, which ends it.".to_owned()
            }
            Some(ForceMajeureCancelled) => {
                "the order is cancelled by force majeure, which ends it.".to_owned()
            }
            _ => "the merchant cancels the order, which ends it.".to_owned(),
        },
    }
}

/// `text` as comment lines of at most about 96 characters, broken at spaces; leading spaces
/// are kept, line breaks in `text` become spaces, and an empty text is a bare `#`.
pub(super) fn comment_lines(text: &str) -> Vec<String> {
    const WIDTH: usize = 96;
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let indent: String = flat.chars().take_while(|c| *c == ' ').collect();
    let mut lines = Vec::new();
    let mut current = format!("#{}", if flat.is_empty() { "" } else { " " });
    current.push_str(&indent);
    let start_len = current.chars().count();
    for word in flat.split(' ').filter(|w| !w.is_empty()) {
        let len = current.chars().count();
        if len > start_len && len + 1 + word.chars().count() > WIDTH {
            lines.push(std::mem::replace(&mut current, format!("# {indent}")));
        }
        if current.chars().count() > start_len {
            current.push(' ');
        }
        current.push_str(word);
    }
    lines.push(current.trim_end().to_owned());
    lines
}

/// `text` as a YAML scalar that reads back as this exact string: plain when that is safe,
/// else double-quoted.
pub(super) fn yaml_text(text: &str) -> String {
    let first = text.chars().next();
    let looks_like_other_type = matches!(
        text.to_ascii_lowercase().as_str(),
        "" | "~" | "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
    ) || text.parse::<f64>().is_ok()
        || text.starts_with(['0', '+', '-', '.'])
            && text
                .chars()
                .skip(1)
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    let plain = !looks_like_other_type
        && first.is_some_and(|c| !"-?:,[]{}#&*!|>'\"%@`".contains(c) && !c.is_whitespace())
        && !text.ends_with(char::is_whitespace)
        && !text.contains(": ")
        && !text.contains(" #")
        && !text.ends_with(':')
        && !text.chars().any(char::is_control);
    if plain {
        return text.to_owned();
    }
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_plan;
    use crate::scenario::testing::{carriers, ctx};

    fn codes(statuses: &[Status]) -> Vec<u16> {
        statuses.iter().map(|s| s.code()).collect()
    }

    #[test]
    fn paths_parse_and_print() {
        for path in PathKind::ALL {
            assert_eq!(path.name().parse::<PathKind>(), Ok(path));
            assert_eq!(path.to_string(), path.name());
        }
        assert_eq!(" Happy ".parse::<PathKind>(), Ok(PathKind::Happy));
        let e = "sad".parse::<PathKind>().err().unwrap_or_default();
        assert_eq!(
            e,
            "unknown path `sad`: the paths are happy, unreachable, refused and cancel"
        );
    }

    #[test]
    fn routes_follow_each_carrier() {
        let table = carriers();
        let route_of = |carrier: &str, path: PathKind| {
            let Some(c) = table.find(carrier) else {
                panic!("no {carrier}")
            };
            route(c, path).map(|r| codes(&r))
        };
        assert_eq!(
            route_of("dada", PathKind::Happy),
            Ok(vec![102, 201, 202, 301, 302])
        );
        assert_eq!(
            route_of("dada", PathKind::Unreachable),
            Ok(vec![102, 201, 202, 301, 304])
        );
        assert_eq!(
            route_of("dada", PathKind::Refused),
            Ok(vec![102, 201, 202, 301, 305])
        );
        assert_eq!(route_of("sf", PathKind::Happy), Ok(vec![102, 202, 302]));
        assert_eq!(
            route_of("sandbox", PathKind::Unreachable),
            Ok(vec![102, 201, 202, 301, 304, 401])
        );
        assert_eq!(
            route_of("sandbox", PathKind::Refused),
            Ok(vec![102, 201, 202, 301, 305, 401])
        );
        assert_eq!(route_of("sandbox", PathKind::Cancel), Ok(vec![102, 103]));
        let Some(dada) = table.find("dada") else {
            panic!()
        };
        assert_eq!(
            paths_for(dada),
            [PathKind::Happy, PathKind::Unreachable, PathKind::Refused]
        );
    }

    #[test]
    fn impossible_paths_say_why_and_what_is_possible() {
        let table = carriers();
        let err = |carrier: &str, path: PathKind| match new_scenario(&table, carrier, path) {
            Ok(text) => panic!("{carrier} {path}:\n{text}"),
            Err(e) => e,
        };
        assert_eq!(
            err("sftc", PathKind::Unreachable),
            "sftc cannot play the unreachable path: it does not support 304 recipient_unreachable (sftc supports 102 rider_assigned, 202 picked_up, 302 delivered); the paths sftc can play: happy"
        );
        assert!(err("sf", PathKind::Refused).contains("does not support 305 recipient_refused"));
        assert!(err("sf", PathKind::Cancel).ends_with("the paths sftc can play: happy"));
        assert_eq!(
            err("dada", PathKind::Cancel),
            "dada cannot play the cancel path: it supports none of 103 merchant_cancelled, 501 carrier_cancelled, 502 force_majeure_cancelled (dada supports 102 rider_assigned, 201 at_store, 202 picked_up, 301 delivering, 302 delivered, 304 recipient_unreachable, 305 recipient_refused); the paths dada can play: happy, unreachable, refused"
        );
        assert!(
            err("dad", PathKind::Happy).starts_with("unknown carrier `dad`: did you mean `dada`?")
        );
    }

    /// Every built-in carrier × every path: a scenario that loads without a problem, or a
    /// clear refusal.
    #[test]
    fn every_generated_scenario_loads() {
        let table = carriers();
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        let mut played = Vec::new();
        for carrier in table.all() {
            for path in PathKind::ALL {
                let text = match new_scenario(&table, &carrier.id, path) {
                    Ok(text) => text,
                    Err(e) => {
                        assert!(e.contains("cannot play"), "{e}");
                        continue;
                    }
                };
                assert!(text.starts_with(&format!("{SCHEMA_MODELINE}\n")), "{text}");
                let file = dir.path().join(format!("{}_{path}.yaml", carrier.id));
                if let Err(e) = std::fs::write(&file, &text) {
                    panic!("{e}");
                }
                let plan = match load_plan(std::slice::from_ref(&file), &table, &ctx()) {
                    Ok(plan) => plan,
                    Err(problems) => {
                        let p: Vec<String> = problems.iter().map(ToString::to_string).collect();
                        panic!("{}\n{text}", p.join("\n"))
                    }
                };
                let scenario = &plan.scenarios[0];
                assert_eq!(scenario.carrier.id, carrier.id);
                assert_eq!(
                    scenario.shop_order_id,
                    format!("{}-{path}-20261128-221530-ab12", carrier.id)
                );
                assert!(scenario.steps.iter().all(|s| !s.action_msg.is_empty()));
                assert!(scenario.steps.last().is_some_and(|s| s.status.is_terminal()
                    || matches!(s.status, RecipientUnreachable | RecipientRefused)));
                played.push(format!("{}:{path}", carrier.id));
            }
        }
        assert_eq!(
            played,
            [
                "dada:happy",
                "dada:unreachable",
                "dada:refused",
                "sandbox:happy",
                "sandbox:unreachable",
                "sandbox:refused",
                "sandbox:cancel",
                "sftc:happy"
            ]
        );
    }

    #[test]
    fn every_generated_scenario_meets_the_schema() {
        let table = carriers();
        let schema = crate::describe::scenario_schema(&table);
        let validator = match jsonschema::draft202012::new(&schema) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        for carrier in table.all() {
            for path in paths_for(carrier) {
                let text = match new_scenario(&table, &carrier.id, path) {
                    Ok(t) => t,
                    Err(e) => panic!("{e}"),
                };
                let doc = match crate::base::yaml::from_str::<serde_json::Value>(&text, "new.yaml")
                {
                    Ok(d) => d,
                    Err(e) => panic!("{e}\n{text}"),
                };
                let errors: Vec<String> =
                    validator.iter_errors(&doc).map(|e| e.to_string()).collect();
                assert!(errors.is_empty(), "{}:{path}: {errors:#?}", carrier.id);
            }
        }
    }

    #[test]
    fn the_sf_happy_path_reads_well() {
        let text = match new_scenario(&carriers(), "SF", PathKind::Happy) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            text,
            r#"# yaml-language-server: $schema=../schema/scenario.schema.json
# SF Express City (顺丰同城急送), happy path: the rider delivers and the order ends well.
#   101 awaiting_rider → 102 rider_assigned → 202 picked_up → 302 delivered
# It takes about 20 minutes; `simulate run --speed 60` plays it in about 20s.
#
# Generated by `simulate new --carrier sftc --path happy` from carrier table 2026-11-28 (profile
# sftc-2026-11). Every step is one the carrier supports and allows after the one before. The
# delays are typical; write a range such as `after: 3m..5m` to vary a delay from run to run
# (`--seed` replays one). The schema line above resolves when this file sits in scenarios/ of
# the simulate repository, next to schema/.
name: SF Express City happy path
carrier: sftc
shop_order_id: sftc-happy-{{run_id}}
steps:
  - status: rider_assigned          # 102 rider assigned
    after: 0s
    action_msg: 骑手已接单 / rider accepted the order
  - status: picked_up               # 202 picked up
    after: 7m30s
    action_msg: 骑手已取货 / goods picked up
  - status: delivered               # 302 delivered
    after: 12m30s
    action_msg: 已送达 / delivered
"#
        );
    }

    #[test]
    fn dada_unreachable_explains_the_missing_return() {
        let text = match new_scenario(&carriers(), "dada", PathKind::Unreachable) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        assert!(
            text.contains("dada cannot report the return (401), so the scenario ends at 304."),
            "{text}"
        );
        assert!(
            text.contains("after: 10m\n    action_msg: 无法联系收货人"),
            "{text}"
        );
        let text = match new_scenario(&carriers(), "test", PathKind::Refused) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        assert!(text.contains("arrive there (401)"), "{text}");
        assert!(text.contains("  - status: returned"), "{text}");
    }

    #[test]
    fn yaml_text_quotes_only_when_needed() {
        assert_eq!(yaml_text("dada-happy-{{run_id}}"), "dada-happy-{{run_id}}");
        assert_eq!(yaml_text("已送达 / delivered"), "已送达 / delivered");
        assert_eq!(yaml_text("a: b"), "\"a: b\"");
        assert_eq!(yaml_text("{x}"), "\"{x}\"");
        assert_eq!(yaml_text("123"), "\"123\"");
        assert_eq!(yaml_text("true"), "\"true\"");
        assert_eq!(yaml_text("a \"q\" #1\n"), "\"a \\\"q\\\" #1\\n\"");
        assert_eq!(yaml_text(""), "\"\"");
    }
}
