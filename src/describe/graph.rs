//! A carrier's transition graph as Mermaid or Graphviz DOT, optionally with a scenario's path
//! drawn over it.

use std::collections::{BTreeMap, BTreeSet};

use rust_i18n::t;

use crate::base::i18n::{self, Lang};
use crate::model::carriers::Carrier;
use crate::model::statuses::{Outcome, Status};

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

/// A node's label: the code and the name a scenario writes (`102 rider_assigned`), or the
/// code and the Chinese label in Chinese.
fn node_label(status: Status) -> String {
    match i18n::current() {
        Lang::En => status.to_string(),
        lang => format!("{} {}", status.code(), status.label(lang)),
    }
}

/// The graph's title: the carrier, its `delivery_id` and profile version.
fn title(carrier: &Carrier) -> String {
    t!(
        "graph.title",
        id = carrier.id,
        delivery_id = carrier.delivery_id,
        version = carrier.version
    )
    .into_owned()
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
    out.push_str(&format!("    %% {}\n", mermaid_text(&title(carrier))));
    for &status in &drawing.nodes {
        out.push_str(&format!(
            "    {}[\"{}\"]\n",
            node_id(status),
            mermaid_text(&node_label(status))
        ));
    }
    let not_allowed = format!("-.->|{}|", mermaid_text(&t!("graph.not_allowed")));
    for edge in &drawing.edges {
        let arrow = if edge.allowed { "-->" } else { &not_allowed };
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
    out.push_str(&format!("    label={};\n", dot_string(&title(carrier))));
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
        let mut attrs = vec![format!("label={}", dot_string(&node_label(status)))];
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
                " [style=dashed, color=\"{OFF_GRAPH_COLOR}\", fontcolor=\"{OFF_GRAPH_COLOR}\", penwidth=3, label={}]",
                dot_string(&t!("graph.not_allowed"))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::describe::tests::builtin;
    use crate::model::statuses::Status::*;

    fn carrier(name: &str) -> Carrier {
        match builtin().find(name) {
            Some(c) => Carrier::clone(c),
            None => panic!("no carrier {name}"),
        }
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
