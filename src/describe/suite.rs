//! `simulate new --all-paths DIR` and `--negative`: a whole suite for one carrier, one valid,
//! commented scenario per path of its graph ([`crate::model::paths`]) and one per move it
//! refuses, written with the same delays, messages and comments as `simulate new`.

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use super::new::{SCHEMA_MODELINE, action_msg, comment_lines, typical_delay, yaml_text};
use crate::base::duration::format_duration;
use crate::model::carriers::{Carrier, Carriers};
use crate::model::paths::{End, Negative, Path, codes};
use crate::model::statuses::Status;

/// One generated file: its name (no folder) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub file: String,
    pub text: String,
}

/// The wait before a refused move: long enough to read in a live view, short for a suite.
const REFUSED_AFTER: Duration = Duration::from_secs(30);

/// Longer lists of codes make unwieldy file names and order ids: such paths are numbered.
const MAX_CODES_IN_NAME: usize = 64;

/// `carrier.id` as it may stand in a file name and an order id.
fn slug(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// How long a move from `from` to `to` typically takes: the typical times of the statuses the
/// general lifecycle passes between them (the carrier skips them but the rider does not), or
/// of `to` alone when the lifecycle has no such way (an `extra_edges` move).
fn move_delay(carriers: &Carriers, carrier: &Carrier, from: Status, to: Status) -> Duration {
    let mut queue = VecDeque::from([(from, Duration::ZERO)]);
    let mut seen = BTreeSet::from([from]);
    while let Some((at, spent)) = queue.pop_front() {
        for &next in carriers.lifecycle.next(at) {
            let spent = spent + typical_delay(next);
            if next == to {
                return spent;
            }
            if !carrier.supports(next) && seen.insert(next) {
                queue.push_back((next, spent));
            }
        }
    }
    typical_delay(to)
}

fn words(statuses: &[Status]) -> String {
    statuses
        .iter()
        .map(|s| s.label_en())
        .collect::<Vec<_>>()
        .join(" → ")
}

fn route_line(statuses: &[Status]) -> String {
    let shown: Vec<String> = statuses.iter().map(|s| s.to_string()).collect();
    format!("  {}", shown.join(" → "))
}

fn about(total: Duration) -> String {
    let minutes = total.as_secs() / 60;
    if minutes >= 2 {
        let fast = Duration::from_secs(total.as_secs().div_ceil(60));
        format!(
            "It takes about {minutes} minutes; `simulate run --speed 60` plays it in about {}.",
            format_duration(fast)
        )
    } else {
        format!("It takes about {}.", format_duration(total))
    }
}

fn why_it_ends(carrier: &Carrier, path: &Path) -> String {
    let last = path.statuses.last().copied().unwrap_or(Status::INITIAL);
    match path.end {
        End::Delivered => format!("It ends well: {last} ends the order."),
        End::Failed => format!("It ends at {last}, which ends the order as a failure."),
        End::NoMove => format!(
            "It stops at {last}: {} has no move from there (the order stays live).",
            carrier.id
        ),
        End::Exhausted => format!(
            "It stops at {last}: every move {} allows from there was already taken on this path, and a path never takes a move twice.",
            carrier.id
        ),
    }
}

struct Writer(String);

impl Writer {
    fn line(&mut self, text: &str) {
        self.0.push_str(text);
        self.0.push('\n');
    }

    fn comment(&mut self, paragraph: &str) {
        for text in comment_lines(paragraph) {
            self.line(&text);
        }
    }

    fn step(&mut self, status: Status, after: Duration, extra: &[&str]) {
        self.line(&format!(
            "  - status: {:<23} # {} {}",
            status.name(),
            status.code(),
            status.label_en()
        ));
        self.line(&format!("    after: {}", format_duration(after)));
        self.line(&format!(
            "    action_msg: {}",
            yaml_text(&action_msg(status))
        ));
        for text in extra {
            self.line(&format!("    {text}"));
        }
    }

    fn head(&mut self, name: &str, carrier: &Carrier, order_id: &str) {
        self.line(&format!("name: {}", yaml_text(name)));
        self.line(&format!("carrier: {}", yaml_text(&carrier.id)));
        self.line(&format!(
            "shop_order_id: {}",
            yaml_text(&format!("{order_id}-{{{{run_id}}}}"))
        ));
        self.line("steps:");
    }
}

/// The scenario of path number `number` (1-based) of `count` of `carrier`.
pub fn path_scenario(
    carriers: &Carriers,
    carrier: &Carrier,
    path: &Path,
    number: usize,
    count: usize,
) -> Generated {
    let id = slug(&carrier.id);
    let codes_text = path.codes();
    let short = codes_text.len() <= MAX_CODES_IN_NAME;
    let file = if short {
        format!("{id}_{codes_text}.yaml")
    } else {
        format!("{id}_path-{number}.yaml")
    };
    let order_id = if short {
        format!("{id}-{}", codes(&path.statuses[1..]))
    } else {
        format!("{id}-path-{number}")
    };
    let moves: Vec<(Status, Duration)> = path
        .edges()
        .map(|(from, to)| (to, move_delay(carriers, carrier, from, to)))
        .collect();
    let total: Duration = moves.iter().map(|(_, d)| *d).sum();

    let mut out = Writer(String::new());
    out.line(SCHEMA_MODELINE);
    out.comment(&format!(
        "{} ({}), path {number} of {count}: {}.",
        carrier.name_en,
        carrier.name_zh,
        words(&path.statuses[1..])
    ));
    out.comment(&route_line(&path.statuses));
    out.comment(&why_it_ends(carrier, path));
    out.comment(&about(total));
    out.comment("");
    out.comment(&format!(
        "Generated by `simulate new --carrier {} --all-paths DIR` from carrier table {} (profile {}): one file for each path the carrier's graph allows from 101 (`simulate paths --carrier {}` lists them; `simulate coverage DIR` shows which moves a suite takes). Every step is one the carrier supports and allows after the one before. The delays are typical; write a range such as `after: 3m..5m` to vary a delay from run to run (`--seed` replays one).",
        carrier.id, carriers.version, carrier.version, carrier.id
    ));
    out.head(
        &format!("{}: {}", carrier.name_en, words(&path.statuses[1..])),
        carrier,
        &order_id,
    );
    for (status, after) in moves {
        out.step(status, after, &[]);
    }
    Generated { file, text: out.0 }
}

/// The scenario that takes the order to `negative.from()` by allowed moves, then tries the
/// refused move and expects the carrier to refuse it.
pub fn negative_scenario(carriers: &Carriers, carrier: &Carrier, negative: &Negative) -> Generated {
    let id = slug(&carrier.id);
    let from = negative.from();
    let to = negative.to;
    let file = format!("{id}_negative_{}-to-{}.yaml", from.code(), to.code());
    let order_id = format!("{id}-neg-{}-{}", from.code(), to.code());
    let moves: Vec<(Status, Duration)> = negative
        .way
        .windows(2)
        .map(|w| (w[1], move_delay(carriers, carrier, w[0], w[1])))
        .collect();
    let total: Duration = moves.iter().map(|(_, d)| *d).sum::<Duration>() + REFUSED_AFTER;
    let allowed: Vec<String> = carrier
        .allowed_next(from)
        .iter()
        .map(|s| s.to_string())
        .collect();
    let allowed = if allowed.is_empty() {
        "none".to_owned()
    } else {
        allowed.join(", ")
    };

    let mut out = Writer(String::new());
    out.line(SCHEMA_MODELINE);
    let what = if from == to {
        format!("{to} again")
    } else {
        format!("{to}")
    };
    out.comment(&format!(
        "{} ({}), a move it must refuse: from {from} to {what}.",
        carrier.name_en, carrier.name_zh
    ));
    let mut shown = negative.way.clone();
    shown.push(to);
    out.comment(&format!("{} (refused)", route_line(&shown)));
    out.comment(&format!(
        "The order gets to {from} by allowed moves; then the last step sends {to}, which {} does not allow from {from} (allowed next: {allowed}). The step passes when the carrier refuses it (`expect: rejected`: errcode 0 and a non-zero resultcode), so the order stays at {from}.",
        carrier.id
    ));
    out.comment(&about(total));
    out.comment("");
    out.comment(&format!(
        "Generated by `simulate new --carrier {} --negative DIR` from carrier table {} (profile {}): one file for each move the carrier refuses from each live status it can reach (`simulate coverage DIR` counts them).",
        carrier.id, carriers.version, carrier.version
    ));
    out.head(
        &format!(
            "{}: refuses {} after {}",
            carrier.name_en,
            to.label_en(),
            from.label_en()
        ),
        carrier,
        &order_id,
    );
    for (status, after) in moves {
        out.step(status, after, &[]);
    }
    out.step(
        to,
        REFUSED_AFTER,
        &[
            "skip_transition_check: true  # sent on purpose",
            "expect: rejected",
        ],
    );
    Generated { file, text: out.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::paths::{Goal, negatives, paths};
    use crate::scenario::load_plan;
    use crate::scenario::testing::{carriers, ctx};

    fn carrier(table: &Carriers, id: &str) -> Carrier {
        match table.find(id) {
            Some(c) => (**c).clone(),
            None => panic!("no {id}"),
        }
    }

    /// Writes every generated file of every built-in carrier and loads them all at once (so
    /// their order ids must differ too).
    #[test]
    fn every_path_and_negative_of_every_carrier_loads() {
        let table = carriers();
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        let mut files = Vec::new();
        for c in table.all() {
            let listing = paths(c, Goal::All, 100);
            let mut generated: Vec<Generated> = listing
                .paths
                .iter()
                .enumerate()
                .map(|(i, p)| path_scenario(&table, c, p, i + 1, listing.paths.len()))
                .collect();
            generated.extend(negatives(c).iter().map(|n| negative_scenario(&table, c, n)));
            for g in generated {
                let file = dir.path().join(&g.file);
                assert!(!file.exists(), "{} twice", g.file);
                if let Err(e) = std::fs::write(&file, &g.text) {
                    panic!("{e}");
                }
                files.push(file);
            }
        }
        // dada 3 + 42, sftc 1 + 6, sandbox 23 + 90; ss and mtps have no statuses.
        assert_eq!(files.len(), 165);
        match load_plan(&files, &table, &ctx()) {
            Ok(plan) => assert_eq!(plan.scenarios.len(), files.len()),
            Err(problems) => {
                let p: Vec<String> = problems.iter().map(ToString::to_string).collect();
                panic!("{}", p.join("\n"))
            }
        }
    }

    #[test]
    fn a_path_reads_well() {
        let table = carriers();
        let sf = carrier(&table, "sftc");
        let listing = paths(&sf, Goal::All, 100);
        let g = path_scenario(&table, &sf, &listing.paths[0], 1, 1);
        assert_eq!(g.file, "sftc_101-102-202-302.yaml");
        assert_eq!(
            g.text,
            r#"# yaml-language-server: $schema=../schema/scenario.schema.json
# SF Express City (顺丰同城急送), path 1 of 1: rider assigned → picked up → delivered.
#   101 awaiting_rider → 102 rider_assigned → 202 picked_up → 302 delivered
# It ends well: 302 delivered ends the order.
# It takes about 20 minutes; `simulate run --speed 60` plays it in about 20s.
#
# Generated by `simulate new --carrier sftc --all-paths DIR` from carrier table 2026-11-28
# (profile sftc-2026-11): one file for each path the carrier's graph allows from 101 (`simulate
# paths --carrier sftc` lists them; `simulate coverage DIR` shows which moves a suite takes).
# Every step is one the carrier supports and allows after the one before. The delays are
# typical; write a range such as `after: 3m..5m` to vary a delay from run to run (`--seed`
# replays one).
name: "SF Express City: rider assigned → picked up → delivered"
carrier: sftc
shop_order_id: sftc-102-202-302-{{run_id}}
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
    fn a_negative_reads_well() {
        let table = carriers();
        let dada = carrier(&table, "dada");
        let Some(n) = negatives(&dada)
            .into_iter()
            .find(|n| n.from() == Status::RiderAssigned && n.to == Status::Delivered)
        else {
            panic!("no 102 → 302")
        };
        let g = negative_scenario(&table, &dada, &n);
        assert_eq!(g.file, "dada_negative_102-to-302.yaml");
        assert!(
            g.text.contains("  - status: delivered               # 302 delivered\n    after: 30s\n    action_msg: 已送达 / delivered\n    skip_transition_check: true  # sent on purpose\n    expect: rejected\n"),
            "{}",
            g.text
        );
        assert!(
            g.text.contains("(allowed next: 201 at_store)"),
            "{}",
            g.text
        );
        assert!(
            g.text
                .contains("name: \"Dada: refuses delivered after rider assigned\"")
        );
    }
}
