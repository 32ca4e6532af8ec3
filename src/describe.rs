//! What `simulate` knows, shown to people and editors: the status table, the carrier table,
//! a carrier's transition graph (Mermaid or DOT) and the JSON Schema of scenario files.
//!
//! Every function here is pure and returns text or a JSON value; the CLI decides where it goes.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::carriers::{Carrier, Carriers};
use crate::scenario::order;
use crate::statuses::{Lang, Outcome, Status};

/// Where the generated scenario schema lives in the repository.
pub const SCHEMA_PATH: &str = "schema/scenario.schema.json";

/// The `$id` of the generated scenario schema.
pub const SCHEMA_ID: &str = "https://simulate.dev/schema/scenario.schema.json";

// ---------------------------------------------------------------------------------------------
// Plain-text tables
// ---------------------------------------------------------------------------------------------

/// Columns a character takes on a terminal: 2 for CJK and full-width forms, 1 otherwise.
fn char_width(c: char) -> usize {
    let wide = matches!(
        u32::from(c),
        0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x20000..=0x2FFFD
            | 0x30000..=0x3FFFD
    );
    if wide { 2 } else { 1 }
}

/// Columns a string takes on a terminal.
fn display_width(text: &str) -> usize {
    text.chars().map(char_width).sum()
}

/// `text` followed by spaces up to `width` terminal columns.
fn pad(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(display_width(text));
    format!("{text}{}", " ".repeat(fill))
}

/// Rows as aligned columns two spaces apart, each line ending in `\n`, no trailing blanks.
fn render_rows(rows: &[Vec<String>], indent: &str) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|col| {
            rows.iter()
                .filter_map(|row| row.get(col))
                .map(|cell| display_width(cell))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| pad(cell, *width))
            .collect();
        let line = format!("{indent}{}", cells.join("  "));
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn terminal_word(outcome: Option<Outcome>, lang: Lang) -> &'static str {
    match (outcome, lang) {
        (Some(Outcome::Success), Lang::En) => "success",
        (Some(Outcome::Failure), Lang::En) => "failure",
        (Some(Outcome::Success), Lang::Zh) => "成功",
        (Some(Outcome::Failure), Lang::Zh) => "失败",
        (None, _) => "—",
    }
}

/// Every status: code, name, phase, both labels and how it ends the order, as aligned columns.
///
/// `lang` picks the headings, the phase and terminal wording, and which label comes first.
pub fn statuses_table(lang: Lang) -> String {
    let header: [&str; 6] = match lang {
        Lang::En => ["CODE", "NAME", "PHASE", "LABEL", "LABEL (ZH)", "TERMINAL"],
        Lang::Zh => ["代码", "名称", "阶段", "说明", "英文说明", "终态"],
    };
    let mut rows = vec![header.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>()];
    for status in Status::all() {
        let phase = status.phase();
        let (phase_text, first, second) = match lang {
            Lang::En => (phase.name(), status.label_en(), status.label_zh()),
            Lang::Zh => (phase.label_zh(), status.label_zh(), status.label_en()),
        };
        rows.push(vec![
            status.code().to_string(),
            status.name().to_owned(),
            format!("{} {phase_text}", phase.number()),
            first.to_owned(),
            second.to_owned(),
            terminal_word(status.terminal(), lang).to_owned(),
        ]);
    }
    render_rows(&rows, "")
}

fn codes(statuses: impl IntoIterator<Item = Status>) -> String {
    statuses
        .into_iter()
        .map(|s| s.code().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every carrier profile: names, account (never the appsecret), supported statuses and
/// the transitions it allows, under the table's version.
pub fn carriers_table(carriers: &Carriers) -> String {
    let mut out = format!(
        "carrier table version {} ({} carriers)\n",
        carriers.version,
        carriers.all().len()
    );
    for carrier in carriers.all() {
        out.push('\n');
        out.push_str(&format!(
            "{} — {} ({})\n",
            carrier.id, carrier.name_en, carrier.name_zh
        ));
        let aliases = if carrier.aliases.is_empty() {
            "—".to_owned()
        } else {
            carrier.aliases.join(", ")
        };
        let fields = [
            ("aliases", aliases),
            ("delivery_id", carrier.delivery_id.clone()),
            ("call", carrier.call.name().to_owned()),
            ("version", carrier.version.clone()),
            ("shopid", carrier.account.shopid.clone()),
            ("shop_no", carrier.account.shop_no.clone()),
            ("supported", codes(carrier.supported.iter().copied())),
        ];
        let rows: Vec<Vec<String>> = fields
            .into_iter()
            .map(|(key, value)| vec![key.to_owned(), value])
            .collect();
        out.push_str(&render_rows(&rows, "  "));
        out.push_str("  transitions\n");
        let from: BTreeSet<Status> = std::iter::once(Status::INITIAL)
            .chain(carrier.supported.iter().copied())
            .collect();
        let rows: Vec<Vec<String>> = from
            .into_iter()
            .map(|status| {
                let next = carrier.allowed_next(status);
                let to = if !next.is_empty() {
                    next.iter()
                        .map(|s| s.code().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                } else if let Some(outcome) = status.terminal() {
                    format!("— (ends: {})", terminal_word(Some(outcome), Lang::En))
                } else {
                    "— (dead end: this carrier supports nothing that comes next)".to_owned()
                };
                vec![status.to_string(), format!("→ {to}")]
            })
            .collect();
        out.push_str(&render_rows(&rows, "    "));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Transition graphs
// ---------------------------------------------------------------------------------------------

/// The text format of a transition graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFormat {
    /// A Mermaid flowchart (GitHub and most Markdown viewers render it).
    Mermaid,
    /// Graphviz DOT (`dot -Tsvg`).
    Dot,
}

const SUCCESS_FILL: &str = "#d4edda";
const SUCCESS_STROKE: &str = "#2e7d32";
const FAILURE_FILL: &str = "#f8d7da";
const FAILURE_STROKE: &str = "#c62828";
const PATH_COLOR: &str = "#1565c0";
const OFF_GRAPH_COLOR: &str = "#c62828";

/// One edge of the drawn graph.
struct Edge {
    from: Status,
    to: Status,
    /// The carrier allows it (false: only the scenario's path takes it).
    allowed: bool,
    on_path: bool,
}

/// The graph to draw: nodes in code order and edges in (from, to) order.
struct Drawing {
    nodes: Vec<Status>,
    /// Nodes that are neither 101 nor supported by the carrier (reached by the path or an
    /// extra edge).
    foreign: BTreeSet<Status>,
    on_path: BTreeSet<Status>,
    edges: Vec<Edge>,
}

fn drawing(carrier: &Carrier, path: Option<&[Status]>) -> Drawing {
    let base: BTreeSet<Status> = std::iter::once(Status::INITIAL)
        .chain(carrier.supported.iter().copied())
        .collect();
    let mut edges: BTreeMap<(Status, Status), Edge> = BTreeMap::new();
    for &from in &base {
        for to in carrier.allowed_next(from) {
            edges.insert(
                (from, to),
                Edge {
                    from,
                    to,
                    allowed: true,
                    on_path: false,
                },
            );
        }
    }
    let mut on_path = BTreeSet::new();
    if let Some(path) = path.filter(|p| !p.is_empty()) {
        let mut walk: Vec<Status> = Vec::with_capacity(path.len() + 1);
        if path.first() != Some(&Status::INITIAL) {
            walk.push(Status::INITIAL);
        }
        walk.extend_from_slice(path);
        on_path.extend(walk.iter().copied());
        for pair in walk.windows(2) {
            let (from, to) = (pair[0], pair[1]);
            edges
                .entry((from, to))
                .or_insert(Edge {
                    from,
                    to,
                    allowed: false,
                    on_path: false,
                })
                .on_path = true;
        }
    }
    let mut nodes = base.clone();
    nodes.extend(on_path.iter().copied());
    for edge in edges.values() {
        nodes.insert(edge.from);
        nodes.insert(edge.to);
    }
    let foreign = nodes.difference(&base).copied().collect();
    Drawing {
        nodes: nodes.into_iter().collect(),
        foreign,
        on_path,
        edges: edges.into_values().collect(),
    }
}

fn node_id(status: Status) -> String {
    format!("s{}", status.code())
}

fn id_list(statuses: impl IntoIterator<Item = Status>) -> String {
    statuses
        .into_iter()
        .map(node_id)
        .collect::<Vec<_>>()
        .join(",")
}

/// Text safe inside a Mermaid `"…"` label or comment.
fn mermaid_text(text: &str) -> String {
    text.replace('"', "#quot;").replace(['\n', '\r'], " ")
}

/// A DOT double-quoted string.
fn dot_string(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace(['\n', '\r'], " ");
    format!("\"{escaped}\"")
}

/// The carrier's transition graph: 101 and every supported status, edges from `allowed_next`,
/// terminal statuses styled by outcome.
///
/// With `path` (a scenario's statuses; 101 is put first when missing), the path's nodes and
/// edges are highlighted; steps the carrier does not allow are drawn as red dashed edges.
/// Nodes are in code order and edges in (from, to) order, so the output is deterministic.
pub fn graph(carrier: &Carrier, format: GraphFormat, path: Option<&[Status]>) -> String {
    let drawing = drawing(carrier, path);
    match format {
        GraphFormat::Mermaid => mermaid(carrier, &drawing, path.is_some()),
        GraphFormat::Dot => dot(carrier, &drawing),
    }
}

fn with_outcome(nodes: &[Status], outcome: Outcome) -> Vec<Status> {
    nodes
        .iter()
        .copied()
        .filter(|s| s.terminal() == Some(outcome))
        .collect()
}

fn mermaid(carrier: &Carrier, drawing: &Drawing, has_path: bool) -> String {
    let mut out = String::from("flowchart LR\n");
    out.push_str(&format!(
        "    %% {} ({}), profile {}\n",
        mermaid_text(&carrier.id),
        mermaid_text(&carrier.delivery_id),
        mermaid_text(&carrier.version)
    ));
    for &status in &drawing.nodes {
        out.push_str(&format!("    {}[\"{status}\"]\n", node_id(status)));
    }
    for edge in &drawing.edges {
        let arrow = if edge.allowed {
            "-->"
        } else {
            "-.->|not allowed|"
        };
        out.push_str(&format!(
            "    {} {arrow} {}\n",
            node_id(edge.from),
            node_id(edge.to)
        ));
    }
    out.push_str(&format!(
        "    classDef success fill:{SUCCESS_FILL},stroke:{SUCCESS_STROKE},stroke-width:2px\n"
    ));
    out.push_str(&format!(
        "    classDef failure fill:{FAILURE_FILL},stroke:{FAILURE_STROKE},stroke-width:2px\n"
    ));
    if !drawing.foreign.is_empty() {
        out.push_str("    classDef unsupported stroke-dasharray:5 5\n");
    }
    if has_path {
        out.push_str(&format!(
            "    classDef onpath stroke:{PATH_COLOR},stroke-width:4px\n"
        ));
    }
    let classes = [
        ("success", with_outcome(&drawing.nodes, Outcome::Success)),
        ("failure", with_outcome(&drawing.nodes, Outcome::Failure)),
        ("unsupported", drawing.foreign.iter().copied().collect()),
        ("onpath", drawing.on_path.iter().copied().collect()),
    ];
    for (class, members) in classes {
        if !members.is_empty() {
            out.push_str(&format!("    class {} {class}\n", id_list(members)));
        }
    }
    let indices = |keep: &dyn Fn(&Edge) -> bool| -> String {
        drawing
            .edges
            .iter()
            .enumerate()
            .filter(|(_, e)| keep(e))
            .map(|(i, _)| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let on_path = indices(&|e| e.on_path && e.allowed);
    if !on_path.is_empty() {
        out.push_str(&format!(
            "    linkStyle {on_path} stroke:{PATH_COLOR},stroke-width:4px\n"
        ));
    }
    let off_graph = indices(&|e| !e.allowed);
    if !off_graph.is_empty() {
        out.push_str(&format!(
            "    linkStyle {off_graph} stroke:{OFF_GRAPH_COLOR},stroke-width:4px\n"
        ));
    }
    out
}

fn dot(carrier: &Carrier, drawing: &Drawing) -> String {
    let mut out = format!("digraph {} {{\n", dot_string(&carrier.id));
    out.push_str(&format!(
        "    label={};\n",
        dot_string(&format!(
            "{} ({}), profile {}",
            carrier.id, carrier.delivery_id, carrier.version
        ))
    ));
    out.push_str("    labelloc=t;\n");
    out.push_str("    fontname=\"Helvetica\";\n");
    out.push_str("    rankdir=LR;\n");
    out.push_str("    node [shape=box, style=rounded, fontname=\"Helvetica\"];\n");
    out.push_str("    edge [fontname=\"Helvetica\"];\n");
    for &status in &drawing.nodes {
        let (fill, stroke) = match status.terminal() {
            Some(Outcome::Success) => (Some(SUCCESS_FILL), Some(SUCCESS_STROKE)),
            Some(Outcome::Failure) => (Some(FAILURE_FILL), Some(FAILURE_STROKE)),
            None => (None, None),
        };
        let on_path = drawing.on_path.contains(&status);
        let mut style = vec!["rounded"];
        if fill.is_some() {
            style.push("filled");
        }
        if drawing.foreign.contains(&status) {
            style.push("dashed");
        }
        let mut attrs = vec![format!("label={}", dot_string(&status.to_string()))];
        if style.len() > 1 {
            attrs.push(format!("style=\"{}\"", style.join(",")));
        }
        if let Some(color) = if on_path { Some(PATH_COLOR) } else { stroke } {
            attrs.push(format!("color=\"{color}\""));
        }
        if let Some(fill) = fill {
            attrs.push(format!("fillcolor=\"{fill}\""));
            attrs.push("peripheries=2".to_owned());
        }
        if on_path {
            attrs.push("penwidth=3".to_owned());
        }
        out.push_str(&format!(
            "    {} [{}];\n",
            node_id(status),
            attrs.join(", ")
        ));
    }
    for edge in &drawing.edges {
        let attrs = match (edge.allowed, edge.on_path) {
            (true, false) => String::new(),
            (true, true) => format!(" [color=\"{PATH_COLOR}\", penwidth=3]"),
            (false, _) => format!(
                " [style=dashed, color=\"{OFF_GRAPH_COLOR}\", fontcolor=\"{OFF_GRAPH_COLOR}\", penwidth=3, label=\"not allowed\"]"
            ),
        };
        out.push_str(&format!(
            "    {} -> {}{attrs};\n",
            node_id(edge.from),
            node_id(edge.to)
        ));
    }
    out.push_str("}\n");
    out
}

// ---------------------------------------------------------------------------------------------
// Scenario JSON Schema
// ---------------------------------------------------------------------------------------------

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

fn carrier_schema(carriers: &Carriers) -> Value {
    let names: BTreeSet<String> = carriers
        .all()
        .iter()
        .flat_map(|c| c.names().map(str::to_ascii_lowercase).collect::<Vec<_>>())
        .collect();
    let known: Vec<String> = carriers
        .all()
        .iter()
        .map(|c| {
            let names: Vec<&str> = c.names().collect();
            format!(
                "{} = {} ({}, delivery_id {}; supports {})",
                names.join(" / "),
                c.name_en,
                c.name_zh,
                c.delivery_id,
                codes(c.supported.iter().copied())
            )
        })
        .collect();
    json!({
        "type": "string",
        "enum": names,
        "description": format!(
            "The carrier whose test account the order belongs to, by id or alias; simulate reads \
             them in any case, the schema lists them in lower case. Built-in carriers (table {}): {}. Carriers added \
             with `--carriers FILE` are not listed here.",
            carriers.version,
            known.join("; ")
        ),
    })
}

fn status_schema() -> Value {
    let codes: Vec<u16> = Status::all().map(Status::code).collect();
    let names: Vec<String> = Status::all()
        .map(|s| s.name().to_owned())
        .chain(Status::all().map(|s| s.code().to_string()))
        .collect();
    let table: Vec<String> = Status::all()
        .map(|s| {
            let end = match s.terminal() {
                Some(Outcome::Success) => ", ends the order: success",
                Some(Outcome::Failure) => ", ends the order: failure",
                None => "",
            };
            format!("{s}: {} ({}{end})", s.label_en(), s.label_zh())
        })
        .collect();
    json!({
        "description": format!(
            "The order_status to send: a code (102) or a name (rider_assigned); simulate reads \
             names in any case, the schema lists them in lower case. It must be supported by the carrier and allowed after the previous step (the order \
             starts at 101). {}.",
            table.join("; ")
        ),
        "oneOf": [
            {
                "type": "integer",
                "enum": codes,
                "description": "A status code.",
            },
            {
                "type": "string",
                "enum": names,
                "description": "A status name, or a status code written as text.",
            },
        ],
    })
}

fn duration_schema() -> Value {
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

fn expect_schema() -> Value {
    json!({
        "description": "What the answer must be for the step to pass. Defaults to ok.",
        "oneOf": [
            {
                "type": "string",
                "enum": ["ok", "rejected"],
                "description": "ok: errcode absent or 0 and resultcode 0. rejected: errcode 0 and \
                                any non-zero resultcode (the carrier said no).",
            },
            {
                "type": "object",
                "additionalProperties": false,
                "required": ["errcode"],
                "properties": {
                    "errcode": {
                        "type": "integer",
                        "description": "This exact platform errcode, e.g. 930557.",
                    },
                },
                "description": "The platform answers with this exact errcode.",
            },
            {
                "type": "object",
                "additionalProperties": false,
                "required": ["resultcode"],
                "properties": {
                    "resultcode": {
                        "type": "integer",
                        "description": "This exact carrier resultcode (with errcode 0).",
                    },
                },
                "description": "errcode 0 and this exact carrier resultcode.",
            },
        ],
    })
}

fn shop_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["shopid"],
        "description": "The carrier account to use instead of the carrier's public test account.",
        "properties": {
            "shopid": {
                "type": "string",
                "minLength": 1,
                "description": "The carrier-side shop id (appkey). Quote it when it is all digits.",
            },
            "appsecret": {
                "type": "string",
                "description": "The carrier account's secret, used for delivery_sign; write \
                                ${VAR} to read it from an environment variable instead of \
                                committing it. Never printed.",
            },
        },
    })
}

/// The JSON Schema of one documented `order/add` field; `~` drops the default.
fn order_field_schema(field: &order::Field) -> Value {
    let mut schema = match field.kind {
        order::Kind::Text => json!({ "type": ["string", "null"] }),
        order::Kind::Number {
            min,
            max,
            above_min,
        } => {
            let mut schema = json!({ "type": ["number", "null"] });
            schema[if above_min {
                "exclusiveMinimum"
            } else {
                "minimum"
            }] = json!(min);
            if max < 1e12 {
                schema["maximum"] = json!(max);
            }
            schema
        }
        order::Kind::Integer { min, max } => {
            let mut schema = json!({ "type": ["integer", "null"], "minimum": min });
            if max != i64::MAX {
                schema["maximum"] = json!(max);
            }
            schema
        }
        order::Kind::Object => json!({ "type": ["object", "null"] }),
    };
    schema["description"] = json!(field.description);
    schema
}

/// `order:` — create the order through order/add first.
fn order_schema() -> Value {
    let mut properties = serde_json::Map::new();
    properties.insert(
        "openid".to_owned(),
        json!({
            "type": "string",
            "minLength": 1,
            "description": format!(
                "The openid order/add is called for: a user of the Mini Program (in the sandbox an \
                 admin, developer or operator). Defaults to the environment variable {}; write \
                 ${{VAR}} to read another one.",
                order::OPENID_VAR
            ),
        }),
    );
    for block in &order::BLOCKS {
        let fields: serde_json::Map<String, Value> = block
            .fields
            .iter()
            .map(|f| (f.name.to_owned(), order_field_schema(f)))
            .collect();
        let kind = if block.key == "sender" {
            json!(["object", "null"])
        } else {
            json!("object")
        };
        properties.insert(
            block.key.to_owned(),
            json!({
                "type": kind,
                "additionalProperties": true,
                "properties": fields,
                "description": format!(
                    "{} Keys given here replace the default's one by one; `~` drops one; keys \
                     not listed are sent as written.",
                    block.description
                ),
            }),
        );
    }
    json!({
        "description": "Create the order through order/add before the first step, under the \
                        carrier's test account (realmock only moves orders that exist at the \
                        carrier). `true` takes a plausible default order (sender, receiver, cargo, \
                        order_info with order_time = the start of the run, shop); a mapping changes \
                        some of it. ${VAR} expands in every text value.",
        "oneOf": [
            {
                "type": "boolean",
                "description": "true: create the order with every default; false: create none \
                                (as without `order:`).",
            },
            {
                "type": "object",
                "additionalProperties": false,
                "properties": properties,
                "description": "The openid, and the parts of the order/add body to change.",
            },
        ],
    })
}

fn step_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["status"],
        "description": "One status change, sent at its time.",
        "properties": {
            "status": {
                "$ref": "#/$defs/status",
                "description": "The order_status to send: a code (102) or a name (rider_assigned).",
            },
            "after": {
                "$ref": "#/$defs/duration",
                "description": "How long to wait after the previous step, e.g. 30s or 1m30s; \
                                defaults to 0.",
            },
            "action_msg": {
                "type": "string",
                "description": "The action_msg sent with the update, e.g. 骑手已接单.",
            },
            "skip_transition_check": {
                "type": "boolean",
                "description": "Send this step even if the carrier does not allow it after the \
                                previous one (to test how the platform refuses it). When true, \
                                `expect` is required.",
            },
            "expect": {
                "$ref": "#/$defs/expect",
                "description": "What the answer must be: ok (the default), rejected, \
                                {errcode: N} or {resultcode: N}.",
            },
        },
        "if": {
            "properties": { "skip_transition_check": { "const": true } },
            "required": ["skip_transition_check"],
        },
        "then": { "required": ["expect"] },
    })
}

/// The JSON Schema (draft 2020-12) of scenario files, generated from the status model and the
/// carrier table.
pub fn scenario_schema(carriers: &Carriers) -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "simulate scenario",
        "description": "One delivery order's life for `simulate`: the carrier, the order and the \
                        status changes to send to WeChat, in order. Generated by simulate from \
                        its status model and carrier table; do not edit by hand.",
        "type": "object",
        "additionalProperties": false,
        "required": ["carrier", "shop_order_id", "steps"],
        "properties": {
            "name": {
                "type": "string",
                "description": "A name for reports; defaults to the file name without extension.",
            },
            "carrier": carrier_schema(carriers),
            "shop_order_id": {
                "type": "string",
                "minLength": 1,
                "description": "The order to move, as placed under the carrier's test account. \
                                Templates: {{run_id}}, {{uuid}}, {{scenario}}, {{timestamp}} \
                                (e.g. qa-{{run_id}}), so reruns do not reuse an order; with \
                                `repeat: N`, {{repeat}} is the order's number, 1 to N (without \
                                it, -1 to -N is added at the end).",
            },
            "shop": {
                "$ref": "#/$defs/shop",
                "description": "The carrier account to use (shopid, appsecret); defaults to the \
                                carrier's public test account.",
            },
            "order": {
                "$ref": "#/$defs/order",
                "description": "Create the order through order/add first: true for the \
                                defaults, or a mapping of openid, sender, receiver, cargo, \
                                order_info, shop to change some of them.",
            },
            "repeat": {
                "type": "integer",
                "minimum": 1,
                "maximum": crate::scenario::MAX_REPEAT,
                "description": "Play the steps for this many orders at once, each with its own \
                                order id (see {{repeat}} in shop_order_id) and its own draws of \
                                delay ranges; names get \" #1\" to \" #N\".",
            },
            "steps": {
                "type": "array",
                "minItems": 1,
                "items": { "$ref": "#/$defs/step" },
                "description": "The status changes to send, in order; at least one.",
            },
        },
        "$defs": {
            "shop": shop_schema(),
            "order": order_schema(),
            "step": step_schema(),
            "status": status_schema(),
            "duration": duration_schema(),
            "expect": expect_schema(),
        },
    })
}

/// [`scenario_schema`] as pretty JSON with a trailing newline, as committed in
/// `schema/scenario.schema.json`.
pub fn scenario_schema_text(carriers: &Carriers) -> String {
    format!("{:#}\n", scenario_schema(carriers))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::{Value, json};

    use super::*;
    use crate::statuses::Status::*;

    fn builtin() -> Carriers {
        match Carriers::builtin() {
            Ok(c) => c,
            Err(problems) => panic!("built-in carrier file is invalid: {problems:?}"),
        }
    }

    fn carrier(name: &str) -> Carrier {
        match builtin().find(name) {
            Some(c) => Carrier::clone(c),
            None => panic!("no carrier {name}"),
        }
    }

    #[test]
    fn widths_count_cjk_as_two_columns() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("达达"), 4);
        assert_eq!(display_width("取货失败，商家取消"), 18);
        assert_eq!(display_width("—"), 1);
        assert_eq!(pad("达", 4), "达  ");
    }

    #[test]
    fn statuses_table_in_english() {
        assert_eq!(statuses_table(Lang::En), STATUSES_EN);
    }

    #[test]
    fn statuses_table_in_chinese() {
        assert_eq!(statuses_table(Lang::Zh), STATUSES_ZH);
    }

    #[test]
    fn statuses_table_columns_line_up_on_a_terminal() {
        for lang in [Lang::En, Lang::Zh] {
            let table = statuses_table(lang);
            // The last column starts at the same terminal column on every line.
            let starts: BTreeSet<usize> = table
                .lines()
                .map(|line| {
                    let last = line.rfind("  ").map_or(0, |i| i + 2);
                    display_width(&line[..last])
                })
                .collect();
            assert_eq!(starts.len(), 1, "{table}");
            assert_eq!(table.lines().count(), 17);
        }
    }

    const STATUSES_EN: &str = r##"CODE  NAME                             PHASE           LABEL                                             LABEL (ZH)                    TERMINAL
101   awaiting_rider                   1 acceptance    waiting for a rider                               等待分配骑手                  —
102   rider_assigned                   1 acceptance    rider assigned                                    分配骑手成功                  —
103   merchant_cancelled               1 acceptance    merchant cancelled the order                      商家取消订单                  failure
201   at_store                         2 pickup        rider at the store                                骑手到店开始取货              —
202   picked_up                        2 pickup        picked up                                         取货成功                      —
203   pickup_cancelled_by_merchant     2 pickup        pickup failed: merchant cancelled                 取货失败，商家取消            failure
204   pickup_cancelled_by_rider        2 pickup        pickup failed: rider cancelled                    取货失败，骑手因自身原因取消  failure
205   pickup_cancelled_merchant_fault  2 pickup        pickup failed: rider cancelled, merchant's fault  取货失败，骑手因商家原因取消  failure
301   delivering                       3 delivery      out for delivery                                  配送中                        —
302   delivered                        3 delivery      delivered                                         配送成功                      success
303   returning_merchant_cancelled     3 delivery      merchant cancelled, goods returning               商家取消，物品开始返还商家    —
304   recipient_unreachable            3 delivery      recipient unreachable, goods returning            无法联系收货人，物品开始返还  —
305   recipient_refused                3 delivery      recipient refused, goods returning                收货人拒收，物品开始返还      —
401   returned                         4 return        goods returned to the merchant                    货品返还商户成功              failure
501   carrier_cancelled                5 cancellation  cancelled by the carrier's system                 因运力系统原因取消            failure
502   force_majeure_cancelled          5 cancellation  cancelled by force majeure                        因不可抗力取消                failure
"##;

    const STATUSES_ZH: &str = r##"代码  名称                             阶段                    说明                          英文说明                                          终态
101   awaiting_rider                   1 配送公司接单阶段      等待分配骑手                  waiting for a rider                               —
102   rider_assigned                   1 配送公司接单阶段      分配骑手成功                  rider assigned                                    —
103   merchant_cancelled               1 配送公司接单阶段      商家取消订单                  merchant cancelled the order                      失败
201   at_store                         2 骑手取货阶段          骑手到店开始取货              rider at the store                                —
202   picked_up                        2 骑手取货阶段          取货成功                      picked up                                         —
203   pickup_cancelled_by_merchant     2 骑手取货阶段          取货失败，商家取消            pickup failed: merchant cancelled                 失败
204   pickup_cancelled_by_rider        2 骑手取货阶段          取货失败，骑手因自身原因取消  pickup failed: rider cancelled                    失败
205   pickup_cancelled_merchant_fault  2 骑手取货阶段          取货失败，骑手因商家原因取消  pickup failed: rider cancelled, merchant's fault  失败
301   delivering                       3 骑手配送阶段          配送中                        out for delivery                                  —
302   delivered                        3 骑手配送阶段          配送成功                      delivered                                         成功
303   returning_merchant_cancelled     3 骑手配送阶段          商家取消，物品开始返还商家    merchant cancelled, goods returning               —
304   recipient_unreachable            3 骑手配送阶段          无法联系收货人，物品开始返还  recipient unreachable, goods returning            —
305   recipient_refused                3 骑手配送阶段          收货人拒收，物品开始返还      recipient refused, goods returning                —
401   returned                         4 骑手返回配送货品阶段  货品返还商户成功              goods returned to the merchant                    失败
501   carrier_cancelled                5 取消阶段              因运力系统原因取消            cancelled by the carrier's system                 失败
502   force_majeure_cancelled          5 取消阶段              因不可抗力取消                cancelled by force majeure                        失败
"##;

    #[test]
    fn carriers_table_shows_profiles_and_transitions() {
        assert_eq!(carriers_table(&builtin()), CARRIERS);
    }

    #[test]
    fn carriers_table_never_shows_an_appsecret() {
        let table = builtin();
        let text = carriers_table(&table);
        for c in table.all() {
            let secret = c.account.appsecret.expose();
            assert!(!secret.is_empty());
            assert!(!text.contains(secret), "{} secret shown", c.id);
        }
        assert!(!text.contains("appsecret"));
    }

    #[test]
    fn mermaid_graph_of_dada() {
        assert_eq!(
            graph(&carrier("dada"), GraphFormat::Mermaid, None),
            DADA_MERMAID
        );
    }

    #[test]
    fn dot_graph_of_dada() {
        assert_eq!(graph(&carrier("dada"), GraphFormat::Dot, None), DADA_DOT);
    }

    /// SF with a path that visits an unsupported status, repeats one and skips the check.
    const SF_PATH: [Status; 5] = [RiderAssigned, AtStore, PickedUp, PickedUp, Delivered];

    #[test]
    fn mermaid_graph_highlights_a_path() {
        assert_eq!(
            graph(&carrier("sf"), GraphFormat::Mermaid, Some(&SF_PATH)),
            SF_PATH_MERMAID
        );
    }

    #[test]
    fn dot_graph_highlights_a_path() {
        assert_eq!(
            graph(&carrier("sf"), GraphFormat::Dot, Some(&SF_PATH)),
            SF_PATH_DOT
        );
    }

    #[test]
    fn a_path_starts_at_101_whether_or_not_it_says_so() {
        let sf = carrier("sftc");
        let with_initial = [AwaitingRider, RiderAssigned, PickedUp, Delivered];
        for format in [GraphFormat::Mermaid, GraphFormat::Dot] {
            assert_eq!(
                graph(&sf, format, Some(&with_initial)),
                graph(&sf, format, Some(&with_initial[1..]))
            );
        }
        // An empty path highlights nothing.
        assert_eq!(
            graph(&sf, GraphFormat::Dot, Some(&[])),
            graph(&sf, GraphFormat::Dot, None)
        );
    }

    #[test]
    fn mermaid_link_styles_point_at_the_right_edges() {
        let sf = carrier("sftc");
        let text = graph(&sf, GraphFormat::Mermaid, Some(&SF_PATH));
        let edges: Vec<&str> = text.lines().filter(|l| l.contains("->")).collect();
        let blue = text
            .lines()
            .find_map(|l| {
                l.strip_prefix("    linkStyle ")
                    .filter(|l| l.contains(PATH_COLOR))
            })
            .unwrap_or_default();
        let indices = blue.split(' ').next().unwrap_or_default();
        for index in indices.split(',') {
            let edge = edges[index.parse::<usize>().unwrap_or(usize::MAX)];
            assert!(edge.contains("-->"), "{edge}");
        }
        assert_eq!(indices, "0,5");
    }

    // --- schema ---

    fn schema() -> Value {
        scenario_schema(&builtin())
    }

    fn validator() -> jsonschema::Validator {
        match jsonschema::draft202012::new(&schema()) {
            Ok(v) => v,
            Err(e) => panic!("the schema does not compile: {e}"),
        }
    }

    fn yaml(text: &str) -> Value {
        match serde_saphyr::from_str::<Value>(text) {
            Ok(v) => v,
            Err(e) => panic!("bad YAML in the test: {e}\n{text}"),
        }
    }

    /// Where the validator finds problems, as JSON pointers.
    fn problems(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
        validator
            .iter_errors(doc)
            .map(|e| e.instance_path().to_string())
            .collect()
    }

    #[test]
    fn committed_schema_is_current() {
        let generated = scenario_schema_text(&builtin());
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA_PATH);
        if std::env::var_os("SIMULATE_BLESS").is_some()
            && let Err(e) = std::fs::write(&path, &generated)
        {
            panic!("cannot write {}: {e}", path.display());
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{SCHEMA_PATH} is stale (the status model or the carrier table changed); \
             regenerate it with `SIMULATE_BLESS=1 cargo test --lib describe::tests::committed_schema_is_current` \
             and commit the result"
        );
    }

    #[test]
    fn schema_is_valid_draft_2020_12() {
        let schema = schema();
        if let Err(e) = jsonschema::meta::validate(&schema) {
            panic!("not a valid JSON Schema: {e}");
        }
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(schema["$id"], SCHEMA_ID);
        assert!(scenario_schema_text(&builtin()).ends_with("}\n"));
    }

    #[test]
    fn every_property_has_a_description() {
        fn walk(value: &Value, at: &str, missing: &mut Vec<String>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::Object(props)) = map.get("properties") {
                        for (name, prop) in props {
                            if prop.get("description").is_none() {
                                missing.push(format!("{at}/properties/{name}"));
                            }
                        }
                    }
                    // `if` only tests a value; it is not shown to anyone.
                    for (key, child) in map.iter().filter(|(key, _)| *key != "if") {
                        walk(child, &format!("{at}/{key}"), missing);
                    }
                }
                Value::Array(items) => {
                    for (i, child) in items.iter().enumerate() {
                        walk(child, &format!("{at}/{i}"), missing);
                    }
                }
                _ => {}
            }
        }
        let mut missing = Vec::new();
        walk(&schema(), "", &mut missing);
        assert!(missing.is_empty(), "no description: {missing:?}");
    }

    #[test]
    fn schema_lists_every_carrier_name_and_status() {
        let schema = schema();
        assert_eq!(
            schema["properties"]["carrier"]["enum"],
            json!(["dada", "sandbox", "sf", "sftc", "shunfeng", "test"])
        );
        assert_eq!(
            schema["properties"]["repeat"]["maximum"],
            json!(crate::scenario::MAX_REPEAT)
        );
        let order = &schema["$defs"]["order"]["oneOf"][1]["properties"];
        let keys: Vec<&str> = order
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut expected = crate::scenario::order::ORDER_KEYS.to_vec();
        expected.sort_unstable();
        assert_eq!(keys, expected);
        assert!(
            schema["properties"]["shop_order_id"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("{{repeat}}"))
        );
        let status = &schema["$defs"]["status"]["oneOf"];
        assert_eq!(status[0]["enum"].as_array().map(Vec::len), Some(16));
        assert_eq!(status[1]["enum"].as_array().map(Vec::len), Some(32));
    }

    #[test]
    fn scenario_files_are_valid() {
        let validator = validator();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return; // No scenarios yet; the inline documents below still run.
        };
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        files.sort();
        for file in files {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => panic!("cannot read {}: {e}", file.display()),
            };
            let doc = yaml(&text);
            let errors: Vec<String> = validator
                .iter_errors(&doc)
                .map(|e| format!("{}: {e}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
        }
    }

    #[test]
    fn inline_valid_documents_pass() {
        let validator = validator();
        let docs = [
            "carrier: dada\nshop_order_id: qa-1\nsteps:\n  - status: 102\n",
            r#"
name: Everything
carrier: SHUNFENG_PLACEHOLDER
shop_order_id: qa-{{run_id}}-{{uuid}}
shop:
  shopid: dadaaee18818d97e236
  appsecret: ${DADA_APPSECRET}
steps:
  - status: rider_assigned
    after: 0
    action_msg: 骑手已接单
  - status: "201"
    after: 1m30s
  - status: 202
    after: 1.5s
    expect: ok
  - status: 302
    after: 500ms
    skip_transition_check: true
    expect: rejected
  - status: 302
    after: 1h
    skip_transition_check: false
  - status: delivered
    skip_transition_check: true
    expect: { errcode: 930557 }
  - status: delivered
    after: 2m
    skip_transition_check: true
    expect: { resultcode: 2003 }
"#,
            "carrier: test\nshop_order_id: x\nshop: { shopid: test_shop_id }\nsteps: [{status: 103, after: 0s}]\n",
            "carrier: dada\nshop_order_id: \"x-{{repeat}}\"\nrepeat: 1000\norder: true\nsteps: [{status: 102, after: 20s..40s}]\n",
            "carrier: dada\nshop_order_id: x\norder: false\nrepeat: 1\nsteps: [{status: 102, after: 0..1m}]\n",
            "carrier: dada\nshop_order_id: x\norder: {}\nsteps: [{status: 102}]\n",
            r#"
carrier: sf
shop_order_id: qa-{{run_id}}
order:
  openid: ${WECHAT_OPENID}
  sender: { name: 店, lng: 113.947521, lat: 22.539102, coordinate_type: 0, door: "3" }
  receiver: { name: 张三, phone: "13800138000", address_detail: ~ }
  cargo:
    goods_value: 12.5
    goods_weight: 1
    goods_detail: { goods: [{ good_name: 书, good_count: 1 }] }
    anything: [1, 2]
  order_info: { order_type: 0, order_time: 1795904130, is_insured: 0, tips: 0 }
  shop: { wxa_path: /p, goods_count: 2 }
steps:
  - { status: 102, after: 20s..40s }
"#,
            "carrier: dada\nshop_order_id: x\norder: {sender: ~}\nsteps: [{status: 102}]\n",
        ];
        for doc in docs {
            let doc = yaml(&doc.replace("SHUNFENG_PLACEHOLDER", "shunfeng"));
            let found = problems(&validator, &doc);
            assert!(found.is_empty(), "{doc}: {found:?}");
        }
    }

    #[test]
    fn inline_invalid_documents_are_rejected_where_they_are_wrong() {
        let validator = validator();
        let base = "carrier: dada\nshop_order_id: qa-1\n";
        let cases: [(&str, String, &str); 34] = [
            (
                "unknown top-level key",
                format!("{base}speed: 2\nsteps: [{{status: 102}}]\n"),
                "",
            ),
            (
                "unknown step key",
                format!("{base}steps: [{{status: 102, delay: 5s}}]\n"),
                "/steps/0",
            ),
            (
                "unknown shop key",
                format!("{base}shop: {{shopid: a, shop_no: b}}\nsteps: [{{status: 102}}]\n"),
                "/shop",
            ),
            (
                "shop without shopid",
                format!("{base}shop: {{appsecret: x}}\nsteps: [{{status: 102}}]\n"),
                "/shop",
            ),
            (
                "unknown carrier",
                "carrier: meituan\nshop_order_id: a\nsteps: [{status: 102}]\n".to_owned(),
                "/carrier",
            ),
            (
                "missing carrier",
                "shop_order_id: a\nsteps: [{status: 102}]\n".to_owned(),
                "",
            ),
            (
                "missing shop_order_id",
                "carrier: dada\nsteps: [{status: 102}]\n".to_owned(),
                "",
            ),
            (
                "bad status code",
                format!("{base}steps: [{{status: 999}}]\n"),
                "/steps/0/status",
            ),
            (
                "bad status name",
                format!("{base}steps: [{{status: teleported}}]\n"),
                "/steps/0/status",
            ),
            (
                "missing status",
                format!("{base}steps: [{{after: 1s}}]\n"),
                "/steps/0",
            ),
            (
                "duration without unit",
                format!("{base}steps: [{{status: 102, after: \"30\"}}]\n"),
                "/steps/0/after",
            ),
            (
                "duration as a bare number",
                format!("{base}steps: [{{status: 102, after: 30}}]\n"),
                "/steps/0/after",
            ),
            (
                "unknown duration unit",
                format!("{base}steps: [{{status: 102, after: 5sec}}]\n"),
                "/steps/0/after",
            ),
            (
                "units out of order",
                format!("{base}steps: [{{status: 102, after: 30s1m}}]\n"),
                "/steps/0/after",
            ),
            (
                "negative duration",
                format!("{base}steps: [{{status: 102, after: -5s}}]\n"),
                "/steps/0/after",
            ),
            (
                "skip_transition_check without expect",
                format!(
                    "{base}steps:\n  - status: 102\n  - status: 302\n    skip_transition_check: true\n"
                ),
                "/steps/1",
            ),
            ("empty steps", format!("{base}steps: []\n"), "/steps"),
            (
                "unknown expect word",
                format!("{base}steps: [{{status: 102, expect: maybe}}]\n"),
                "/steps/0/expect",
            ),
            (
                "expect with two codes",
                format!("{base}steps: [{{status: 102, expect: {{errcode: 1, resultcode: 2}}}}]\n"),
                "/steps/0/expect",
            ),
            (
                "expect code as text",
                format!("{base}steps: [{{status: 102, expect: {{errcode: \"x\"}}}}]\n"),
                "/steps/0/expect",
            ),
            (
                "range without a unit",
                format!("{base}steps: [{{status: 102, after: 20s..40}}]\n"),
                "/steps/0/after",
            ),
            (
                "range with three dots",
                format!("{base}steps: [{{status: 102, after: 20s...40s}}]\n"),
                "/steps/0/after",
            ),
            (
                "repeat zero",
                format!("{base}repeat: 0\nsteps: [{{status: 102}}]\n"),
                "/repeat",
            ),
            (
                "repeat too many",
                format!("{base}repeat: 1001\nsteps: [{{status: 102}}]\n"),
                "/repeat",
            ),
            (
                "repeat as text",
                format!("{base}repeat: \"3\"\nsteps: [{{status: 102}}]\n"),
                "/repeat",
            ),
            (
                "order as text",
                format!("{base}order: later\nsteps: [{{status: 102}}]\n"),
                "/order",
            ),
            (
                "order as null",
                format!("{base}order:\nsteps: [{{status: 102}}]\n"),
                "/order",
            ),
            (
                "unknown order key",
                format!("{base}order: {{reciever: {{name: x}}}}\nsteps: [{{status: 102}}]\n"),
                "/order",
            ),
            (
                "coordinate as text",
                format!(
                    "{base}order: {{receiver: {{lng: \"113.9\"}}}}\nsteps: [{{status: 102}}]\n"
                ),
                "/order",
            ),
            (
                "goods worth nothing",
                format!("{base}order: {{cargo: {{goods_value: 0}}}}\nsteps: [{{status: 102}}]\n"),
                "/order",
            ),
            (
                "too heavy",
                format!("{base}order: {{cargo: {{goods_weight: 51}}}}\nsteps: [{{status: 102}}]\n"),
                "/order",
            ),
            (
                "order type 2",
                format!(
                    "{base}order: {{order_info: {{order_type: 2}}}}\nsteps: [{{status: 102}}]\n"
                ),
                "/order",
            ),
            (
                "receiver dropped",
                format!("{base}order: {{receiver: ~}}\nsteps: [{{status: 102}}]\n"),
                "/order",
            ),
            (
                "empty openid",
                format!("{base}order: {{openid: \"\"}}\nsteps: [{{status: 102}}]\n"),
                "/order",
            ),
        ];
        for (what, text, at) in cases {
            let doc = yaml(&text);
            let found = problems(&validator, &doc);
            assert!(
                found.iter().any(|p| p == at),
                "{what}: expected a problem at {at:?}, got {found:?}\n{text}"
            );
        }
    }

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
            let parser_ok = crate::duration::parse_delay(text).is_ok();
            assert_eq!(
                schema_ok, parser_ok,
                "{text:?}: schema {schema_ok}, parser {parser_ok}"
            );
        }
    }

    const CARRIERS: &str = r##"carrier table version 2026-11-28 (3 carriers)

dada — Dada (达达)
  aliases      —
  delivery_id  DADA
  call         realmock_update_order
  version      dada-2026-11
  shopid       dadaaee18818d97e236
  shop_no      77071-47913
  supported    102 201 202 301 302 304 305
  transitions
    101 awaiting_rider         → 102
    102 rider_assigned         → 201
    201 at_store               → 202
    202 picked_up              → 301
    301 delivering             → 302, 304, 305
    302 delivered              → — (ends: success)
    304 recipient_unreachable  → — (dead end: this carrier supports nothing that comes next)
    305 recipient_refused      → — (dead end: this carrier supports nothing that comes next)

sandbox — WeChat sandbox (微信沙盒)
  aliases      test
  delivery_id  TEST
  call         test_update_order
  version      sandbox-2026-11
  shopid       test_shop_id
  shop_no      test_shop_no
  supported    102 103 201 202 203 204 205 301 302 303 304 305 401 501 502
  transitions
    101 awaiting_rider                   → 102, 103, 501, 502
    102 rider_assigned                   → 103, 201, 203, 204, 205, 501, 502
    103 merchant_cancelled               → — (ends: failure)
    201 at_store                         → 202, 203, 204, 205, 501, 502
    202 picked_up                        → 301, 303, 501, 502
    203 pickup_cancelled_by_merchant     → — (ends: failure)
    204 pickup_cancelled_by_rider        → — (ends: failure)
    205 pickup_cancelled_merchant_fault  → — (ends: failure)
    301 delivering                       → 302, 303, 304, 305, 501, 502
    302 delivered                        → — (ends: success)
    303 returning_merchant_cancelled     → 401
    304 recipient_unreachable            → 401
    305 recipient_refused                → 401
    401 returned                         → — (ends: failure)
    501 carrier_cancelled                → — (ends: failure)
    502 force_majeure_cancelled          → — (ends: failure)

sftc — SF Express City (顺丰同城急送)
  aliases      sf, shunfeng
  delivery_id  SFTC
  call         realmock_update_order
  version      sftc-2026-11
  shopid       1534713176
  shop_no      3243279847393
  supported    102 202 302
  transitions
    101 awaiting_rider  → 102
    102 rider_assigned  → 202
    202 picked_up       → 302
    302 delivered       → — (ends: success)
"##;

    const DADA_MERMAID: &str = r##"flowchart LR
    %% dada (DADA), profile dada-2026-11
    s101["101 awaiting_rider"]
    s102["102 rider_assigned"]
    s201["201 at_store"]
    s202["202 picked_up"]
    s301["301 delivering"]
    s302["302 delivered"]
    s304["304 recipient_unreachable"]
    s305["305 recipient_refused"]
    s101 --> s102
    s102 --> s201
    s201 --> s202
    s202 --> s301
    s301 --> s302
    s301 --> s304
    s301 --> s305
    classDef success fill:#d4edda,stroke:#2e7d32,stroke-width:2px
    classDef failure fill:#f8d7da,stroke:#c62828,stroke-width:2px
    class s302 success
"##;

    const DADA_DOT: &str = r##"digraph "dada" {
    label="dada (DADA), profile dada-2026-11";
    labelloc=t;
    fontname="Helvetica";
    rankdir=LR;
    node [shape=box, style=rounded, fontname="Helvetica"];
    edge [fontname="Helvetica"];
    s101 [label="101 awaiting_rider"];
    s102 [label="102 rider_assigned"];
    s201 [label="201 at_store"];
    s202 [label="202 picked_up"];
    s301 [label="301 delivering"];
    s302 [label="302 delivered", style="rounded,filled", color="#2e7d32", fillcolor="#d4edda", peripheries=2];
    s304 [label="304 recipient_unreachable"];
    s305 [label="305 recipient_refused"];
    s101 -> s102;
    s102 -> s201;
    s201 -> s202;
    s202 -> s301;
    s301 -> s302;
    s301 -> s304;
    s301 -> s305;
}
"##;

    const SF_PATH_MERMAID: &str = r##"flowchart LR
    %% sftc (SFTC), profile sftc-2026-11
    s101["101 awaiting_rider"]
    s102["102 rider_assigned"]
    s201["201 at_store"]
    s202["202 picked_up"]
    s302["302 delivered"]
    s101 --> s102
    s102 -.->|not allowed| s201
    s102 --> s202
    s201 -.->|not allowed| s202
    s202 -.->|not allowed| s202
    s202 --> s302
    classDef success fill:#d4edda,stroke:#2e7d32,stroke-width:2px
    classDef failure fill:#f8d7da,stroke:#c62828,stroke-width:2px
    classDef unsupported stroke-dasharray:5 5
    classDef onpath stroke:#1565c0,stroke-width:4px
    class s302 success
    class s201 unsupported
    class s101,s102,s201,s202,s302 onpath
    linkStyle 0,5 stroke:#1565c0,stroke-width:4px
    linkStyle 1,3,4 stroke:#c62828,stroke-width:4px
"##;

    const SF_PATH_DOT: &str = r##"digraph "sftc" {
    label="sftc (SFTC), profile sftc-2026-11";
    labelloc=t;
    fontname="Helvetica";
    rankdir=LR;
    node [shape=box, style=rounded, fontname="Helvetica"];
    edge [fontname="Helvetica"];
    s101 [label="101 awaiting_rider", color="#1565c0", penwidth=3];
    s102 [label="102 rider_assigned", color="#1565c0", penwidth=3];
    s201 [label="201 at_store", style="rounded,dashed", color="#1565c0", penwidth=3];
    s202 [label="202 picked_up", color="#1565c0", penwidth=3];
    s302 [label="302 delivered", style="rounded,filled", color="#1565c0", fillcolor="#d4edda", peripheries=2, penwidth=3];
    s101 -> s102 [color="#1565c0", penwidth=3];
    s102 -> s201 [style=dashed, color="#c62828", fontcolor="#c62828", penwidth=3, label="not allowed"];
    s102 -> s202;
    s201 -> s202 [style=dashed, color="#c62828", fontcolor="#c62828", penwidth=3, label="not allowed"];
    s202 -> s202 [style=dashed, color="#c62828", fontcolor="#c62828", penwidth=3, label="not allowed"];
    s202 -> s302 [color="#1565c0", penwidth=3];
}
"##;
}
