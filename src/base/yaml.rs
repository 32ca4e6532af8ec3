//! All YAML reading goes through here, so the parser (serde-saphyr) is named in one file.
//!
//! Two ways in:
//! - [`from_str`] deserializes into a typed value (duplicate keys refused), where the first
//!   problem is enough;
//! - [`parse_tree`] reads a located [`Node`] tree, so that a caller can check every key and
//!   value itself and report every problem of a file with its line and column (scenarios,
//!   the carrier table).
//!
//! Both parse with tight budgets: a scenario or carrier file is a few hundred nodes, so an
//! input that expands past [`MAX_NODES`] (an alias bomb) is refused quickly with bounded memory.

use std::fmt;

use rust_i18n::t;
use serde::de::{self, Deserialize, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{DuplicateKeyPolicy, Error, Options};

use crate::base::diag::Diagnostic;

use serde_saphyr::Spanned;

/// Most nodes (mappings, sequences, scalars, counting alias expansions) a file with anchors
/// may have.
pub const MAX_NODES: usize = 10_000;
/// Most nodes of a file without anchors (`&name`), which no alias can expand: room for
/// thousands of plain steps (a 1,500-step file was refused "through aliases" at 10,000).
pub const MAX_PLAIN_NODES: usize = 200_000;
/// Most aliases (`*name`) a file may use.
pub const MAX_ALIASES: usize = 1_000;
/// Deepest nesting of mappings and sequences.
pub const MAX_DEPTH: usize = 32;

/// The parser's options for `text`: the node budget is [`MAX_NODES`] when the text may hold
/// an anchor, [`MAX_PLAIN_NODES`] when it cannot.
fn options(duplicate_keys: DuplicateKeyPolicy, text: &str) -> Options {
    let max_nodes = if text.contains('&') {
        MAX_NODES
    } else {
        MAX_PLAIN_NODES
    };
    serde_saphyr::options! {
        duplicate_keys: duplicate_keys,
        // `yes`, `no`, `on`, `off`, `y`, `n` stay text; only true/false are booleans.
        strict_booleans: true,
        // `<<:` merges were expanded with the places of the merged mapping, so a merged
        // `status: 102` read as "unknown status `{`": refused, with its place, instead.
        merge_keys: serde_saphyr::MergeKeyPolicy::Error,
        budget: serde_saphyr::budget! {
            max_nodes: max_nodes,
            max_events: 4 * max_nodes,
            max_aliases: MAX_ALIASES,
            max_anchors: MAX_ALIASES,
            max_depth: MAX_DEPTH,
            max_documents: 1,
            max_total_scalar_bytes: 2 * 1024 * 1024,
            max_recorded_anchor_events: 4 * max_nodes,
            max_merge_keys: MAX_ALIASES,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 4 * max_nodes,
            max_replay_stack_depth: MAX_DEPTH,
        },
    }
}

/// Parses `text` (the contents of `file`) into `T`, or says where and why it could not.
pub fn from_str<T: DeserializeOwned>(text: &str, file: &str) -> Result<T, Diagnostic> {
    serde_saphyr::from_str_with_options::<T>(text, options(DuplicateKeyPolicy::Error, text))
        .map_err(|error| diagnostic(&error, file, text))
}

/// One YAML value and where it is written (where it is used, for an alias).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    /// 1-based; 0 only when the parser could not say.
    pub line: u64,
    /// 1-based, in characters.
    pub column: u64,
    /// A scalar exactly as written (with quotes, if any); empty for collections and when
    /// unknown. Lets messages quote `0123` rather than `123`.
    pub written: String,
    /// Byte range of the node in the text, filled in by [`parse_tree`].
    span: Option<(usize, usize)>,
}

/// The kinds of YAML value, as the core schema resolves plain scalars.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in file order; duplicate keys are kept, for the caller to report.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// "a list", "the number `5`", …: how a message names what was found.
    pub fn describe(&self) -> String {
        let shown = self.shown();
        match &self.value {
            Value::Null => t!("value.null"),
            Value::Bool(_) => t!("value.boolean", value = shown),
            Value::Int(_) | Value::Float(_) => t!("value.number", value = shown),
            Value::Str(_) => t!("value.text", value = shown),
            Value::Seq(_) => t!("value.list", value = shown),
            Value::Map(_) => t!("value.mapping", value = shown),
        }
        .into_owned()
    }

    /// "a list", "a number", …: what was found, without quoting it, for values that may
    /// hold a secret.
    pub fn kind(&self) -> String {
        match &self.value {
            Value::Null => t!("value.null"),
            Value::Bool(_) => t!("kind.boolean"),
            Value::Int(_) | Value::Float(_) => t!("kind.number"),
            Value::Str(_) => t!("kind.text"),
            Value::Seq(_) => t!("kind.list"),
            Value::Map(_) => t!("kind.mapping"),
        }
        .into_owned()
    }

    /// The value in short YAML flow style, as a message would quote it.
    pub fn shown(&self) -> String {
        let mut out = String::new();
        self.render(&mut out, 3);
        const MAX: usize = 60;
        if out.chars().count() > MAX {
            let cut: String = out.chars().take(MAX).collect();
            format!("{cut}…")
        } else {
            out
        }
    }

    /// A scalar's text as the user means it: the string itself, or a number as written.
    /// `None` for null, booleans and collections.
    pub fn as_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(self.written_or(i.to_string())),
            Value::Float(f) => Some(self.written_or(f.to_string())),
            _ => None,
        }
    }

    fn written_or(&self, fallback: String) -> String {
        let w = self.written.trim();
        // Quoted numbers are strings, so a number's written form never has quotes; an alias
        // (`*n`) is not what the user means either.
        if w.is_empty() || w.starts_with('*') || w.starts_with('!') {
            fallback
        } else {
            w.to_owned()
        }
    }

    fn render(&self, out: &mut String, depth: usize) {
        match &self.value {
            Value::Null => out.push('~'),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => out.push_str(&self.written_or(i.to_string())),
            Value::Float(f) => out.push_str(&self.written_or(f.to_string())),
            Value::Str(s) => out.push_str(s),
            Value::Seq(items) if depth == 0 && !items.is_empty() => out.push_str("[…]"),
            Value::Map(entries) if depth == 0 && !entries.is_empty() => out.push_str("{…}"),
            Value::Seq(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.render(out, depth - 1);
                    if out.len() > 200 {
                        out.push_str(", …");
                        break;
                    }
                }
                out.push(']');
            }
            Value::Map(entries) => {
                out.push('{');
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    key.render(out, depth - 1);
                    out.push_str(": ");
                    value.render(out, depth - 1);
                    if out.len() > 200 {
                        out.push_str(", …");
                        break;
                    }
                }
                out.push('}');
            }
        }
    }

    fn fill_written(&mut self, text: &str) {
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|n| n.fill_written(text)),
            Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
                k.fill_written(text);
                v.fill_written(text);
            }),
            _ => {
                if let Some((start, len)) = self.span
                    && let Some(written) =
                        start.checked_add(len).and_then(|end| text.get(start..end))
                {
                    self.written = written.to_owned();
                }
            }
        }
    }
}

/// Reads `text` (the contents of `file`) into a located tree. Duplicate keys are kept (the
/// caller reports them with their place); syntax errors and budget breaches are one located
/// diagnostic. An empty document is a `Null` node.
pub fn parse_tree(text: &str, file: &str) -> Result<Node, Diagnostic> {
    let mut root: Node =
        serde_saphyr::from_str_with_options(text, options(DuplicateKeyPolicy::PassThrough, text))
            .map_err(|error| diagnostic(&error, file, text))?;
    root.fill_written(text);
    Ok(root)
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let located = Spanned::<Value>::deserialize(deserializer)?;
        let span = located.referenced.span();
        let span = match (span.byte_offset(), span.byte_len()) {
            (Some(start), Some(len)) => usize::try_from(start).ok().zip(usize::try_from(len).ok()),
            _ => None,
        };
        Ok(Node {
            value: located.value,
            line: located.referenced.line(),
            column: located.referenced.column(),
            written: String::new(),
            span,
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }

    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        i128::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom("integer too large"))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }

    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Value::deserialize(deserializer)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Value, D::Error> {
        Value::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}

/// A parser error as a located diagnostic, in words a scenario author understands.
fn diagnostic(error: &Error, file: &str, text: &str) -> Diagnostic {
    // Without an anchor (`&name`) there is no alias to blame for a file that is too large.
    let anchors = text.contains('&');
    let (line, column) = error
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    let (message, help) = match original_error(error) {
        Error::Budget { breach, .. } => budget_message(breach, anchors),
        Error::MergeKeyNotAllowed { .. } => (
            t!("yaml.merge_key").into_owned(),
            Some(t!("yaml.merge_key_help").into_owned()),
        ),
        Error::AliasReplayLimitExceeded { .. }
        | Error::AliasExpansionLimitExceeded { .. }
        | Error::AliasReplayStackDepthExceeded { .. }
        | Error::AliasReplayCounterOverflow { .. } => alias_bomb(),
        Error::DuplicateMappingKey { key, .. } => (
            match key {
                Some(key) => t!("yaml.duplicate_key", key = key).into_owned(),
                None => t!("yaml.duplicate_key_unnamed").into_owned(),
            },
            Some(t!("yaml.duplicate_key_help").into_owned()),
        ),
        other => {
            let message = strip_position(&other.to_string());
            // YAML forbids tabs in indentation; editors often insert them unseen.
            let help = if message.contains("tab") {
                Some(t!("yaml.tab_help").into_owned())
            } else {
                run_together(text, line)
                    .map(|key| t!("yaml.run_together_help", key = key).into_owned())
            };
            (message, help)
        }
    };
    let diagnostic = Diagnostic::new(file, line, column, t!("yaml.invalid", detail = message));
    match help {
        Some(help) => diagnostic.with_help(help),
        None => diagnostic,
    }
}

/// The key of a `key:value` written without the space YAML needs, on the error's line or the
/// one before it (the parser often notices on the next line).
fn run_together(text: &str, line: u64) -> Option<String> {
    let line = usize::try_from(line).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    [line.checked_sub(2), line.checked_sub(1)]
        .into_iter()
        .flatten()
        .filter_map(|i| lines.get(i))
        .find_map(|written| {
            let written = written.trim_start().trim_start_matches("- ");
            let (key, rest) = written.split_once(':')?;
            let plain_key = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            let glued = rest.chars().next().is_some_and(|c| !c.is_whitespace());
            // `http://…` and `12:30` are values, not keys.
            (plain_key
                && glued
                && !rest.starts_with("//")
                && !key.chars().all(|c| c.is_ascii_digit()))
            .then(|| key.to_owned())
        })
}

/// The error under the snippet and alias wrappers.
fn original_error(mut error: &Error) -> &Error {
    while let Error::AliasError { error: inner, .. } | Error::WithSnippet { error: inner, .. } =
        error
    {
        error = inner;
    }
    error
}

fn alias_bomb() -> (String, Option<String>) {
    (
        t!("yaml.alias_bomb", nodes = MAX_NODES).into_owned(),
        Some(
            t!(
                "yaml.alias_bomb_help",
                nodes = MAX_NODES,
                aliases = MAX_ALIASES
            )
            .into_owned(),
        ),
    )
}

fn budget_message(breach: &BudgetBreach, anchors: bool) -> (String, Option<String>) {
    match breach {
        BudgetBreach::Nodes { .. } | BudgetBreach::Events { .. } if !anchors => (
            t!("yaml.too_many_values", values = MAX_PLAIN_NODES).into_owned(),
            Some(t!("yaml.too_many_values_help").into_owned()),
        ),
        BudgetBreach::Nodes { .. }
        | BudgetBreach::Events { .. }
        | BudgetBreach::Aliases { .. }
        | BudgetBreach::Anchors { .. }
        | BudgetBreach::AliasAnchorRatio { .. } => alias_bomb(),
        BudgetBreach::Depth { .. } => (
            t!("yaml.too_deep", depth = MAX_DEPTH).into_owned(),
            Some(t!("yaml.too_deep_help").into_owned()),
        ),
        BudgetBreach::Documents { .. } => (
            t!("yaml.documents").into_owned(),
            Some(t!("yaml.documents_help").into_owned()),
        ),
        other => (
            t!("yaml.too_complex", detail = format!("{other:?}")).into_owned(),
            Some(t!("yaml.too_complex_help").into_owned()),
        ),
    }
}

/// The crate's message repeats the position we already print in front.
fn strip_position(message: &str) -> String {
    let first = message.lines().next().unwrap_or(message);
    let first = first.trim_start_matches("error: ");
    let first = match first.split_once(": ") {
        Some((head, rest)) if head.starts_with("line ") && head.contains(" column ") => rest,
        _ => first,
    };
    match first.find(" at line ") {
        Some(at) => first[..at].to_owned(),
        None => first.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(text: &str) -> Node {
        match parse_tree(text, "t.yaml") {
            Ok(node) => node,
            Err(d) => panic!("{d}"),
        }
    }

    fn error(text: &str) -> Diagnostic {
        match parse_tree(text, "t.yaml") {
            Ok(node) => panic!("accepted: {node:?}"),
            Err(d) => d,
        }
    }

    fn entries(node: &Node) -> &[(Node, Node)] {
        match &node.value {
            Value::Map(entries) => entries,
            other => panic!("not a map: {other:?}"),
        }
    }

    #[test]
    fn locates_keys_and_values_and_keeps_duplicates() {
        let root =
            tree("name: \"Dada\"\nafter: 030\nflag: yes\nsteps:\n  - {status: 102}\nname: x\n");
        let e = entries(&root);
        assert_eq!(e.len(), 5);
        assert_eq!((e[0].0.line, e[0].0.column), (1, 1));
        assert_eq!(e[0].1.value, Value::Str("Dada".to_owned()));
        assert_eq!((e[0].1.line, e[0].1.column), (1, 7));
        assert_eq!(e[1].1.as_text().as_deref(), Some("030"));
        assert_eq!(e[2].1.value, Value::Str("yes".to_owned()));
        let Value::Seq(steps) = &e[3].1.value else {
            panic!("steps")
        };
        let step = entries(&steps[0]);
        assert_eq!((step[0].1.line, step[0].1.column), (5, 14));
        assert_eq!(steps[0].shown(), "{status: 102}");
        assert_eq!((e[4].0.line, e[4].0.column), (6, 1));
    }

    #[test]
    fn kinds_name_the_shape_without_the_value() {
        let root = tree("a: [s3cr3t]\nb: {k: s3cr3t}\nc: s3cr3t\nd: 12345\ne: true\nf: ~\n");
        let kinds: Vec<String> = entries(&root).iter().map(|(_, v)| v.kind()).collect();
        assert_eq!(
            kinds,
            [
                "a list",
                "a mapping",
                "text",
                "a number",
                "a boolean",
                "nothing (null)"
            ]
        );
    }

    #[test]
    fn empty_document_is_null() {
        assert_eq!(tree("").value, Value::Null);
        assert_eq!(tree("# only a comment\n").value, Value::Null);
    }

    #[test]
    fn syntax_errors_are_located_without_repeating_the_position() {
        let d = error("a: [1, 2\nb: 3\n");
        assert_eq!((d.line, d.column), (2, 2));
        assert!(d.message.starts_with("invalid YAML: "), "{}", d.message);
        assert!(!d.message.contains("line"), "{}", d.message);
        let d = error("a: \"open\n");
        assert_eq!((d.line, d.column), (1, 4));
        assert!(d.message.contains("unclosed quote"), "{}", d.message);
    }

    #[test]
    fn several_documents_are_refused() {
        let d = error("a: 1\n---\nb: 2\n");
        assert!(
            d.message.contains("more than one YAML document"),
            "{}",
            d.message
        );
    }

    #[test]
    fn alias_bombs_and_deep_nesting_are_refused_quickly() {
        let mut text = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let mut previous = 'a';
        for name in "bcdefghi".chars() {
            let refs = vec![format!("*{previous}"); 9].join(",");
            text.push_str(&format!("{name}: &{name} [{refs}]\n"));
            previous = name;
        }
        let started = std::time::Instant::now();
        let d = error(&text);
        // A guard against a hang, not a speed measurement: it holds on a loaded machine.
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        assert!(d.message.contains("aliases"), "{}", d.message);
        assert!(d.line > 0);

        let deep = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let started = std::time::Instant::now();
        let d = error(&deep);
        // A guard against a hang, not a speed measurement: it holds on a loaded machine.
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        assert!(d.message.starts_with("invalid YAML"), "{}", d.message);
    }

    #[test]
    fn a_tab_in_the_indentation_gets_a_help_line() {
        let d = error("steps:\n\t- status: 102\n");
        assert!(d.message.contains("tab"), "{}", d.message);
        assert_eq!(
            d.help.as_deref(),
            Some("indent with spaces: YAML does not allow tabs in indentation")
        );
    }

    #[test]
    fn typed_parsing_refuses_duplicate_keys() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            a: u32,
        }
        let d = match from_str::<T>("a: 1\na: 2\n", "t.yaml") {
            Ok(t) => panic!("accepted {t:?}"),
            Err(d) => d,
        };
        assert_eq!((d.line, d.column), (2, 1));
        assert_eq!(d.message, "invalid YAML: duplicate key `a`");
    }

    #[test]
    fn a_key_run_together_with_its_value_gets_a_hint_that_does_not_show_the_value() {
        let text = "shop:\n  shopid: s\n  appsecret:PASTEDSECRET9876\n  other: 1\n";
        let Err(d) = parse_tree(text, "f.yaml") else {
            panic!("accepted")
        };
        let shown = d.to_string();
        assert!(shown.contains("`appsecret` looks run together"), "{shown}");
        assert!(!shown.contains("PASTEDSECRET9876"), "{shown}");
        assert_eq!(run_together("url: http://x\n", 1), None);
    }
}
