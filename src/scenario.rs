//! Scenario files: from paths to a validated [`Plan`], with every problem of every file.
//!
//! A file is read into a located YAML tree (`yaml::parse_tree`) and checked here key by key,
//! so that one file with an unknown key, a bad status and a bad duration gets three messages,
//! each with its line and column. Nothing partial comes out: either the whole plan or all the
//! problems.
//!
//! `repeat: N` makes N plans of one file (each its own order id: `{{repeat}}`, else `-k` at
//! the end, and its own draws of delay ranges, under `file.yaml#k`); `order:` is checked in
//! [`order`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::carriers::{Call, Carrier, Carriers};
use crate::diag::{Diagnostic, did_you_mean};
use crate::duration::{Delay, draw_in_range, parse_delay};
use crate::plan::{Expect, OrderCreate, Plan, ScenarioPlan, StepPlan};
use crate::secret::{Secret, redact};
use crate::statuses::Status;
use crate::yaml::{self, Node, Value};

pub mod order;

/// Scenario files larger than this are refused before parsing.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// The longest `shop_order_id` (after expansion), in bytes.
pub const MAX_SHOP_ORDER_ID_BYTES: usize = 128;
/// The most orders `repeat:` may make of one file.
pub const MAX_REPEAT: u32 = 1000;

const TOP_KEYS: [&str; 7] = [
    "name",
    "carrier",
    "shop_order_id",
    "shop",
    "order",
    "repeat",
    "steps",
];
const SHOP_KEYS: [&str; 2] = ["shopid", "appsecret"];
const STEP_KEYS: [&str; 5] = [
    "status",
    "after",
    "action_msg",
    "skip_transition_check",
    "expect",
];
const EXPECT_KEYS: [&str; 2] = ["errcode", "resultcode"];
const EXPECT_WORDS: [&str; 2] = ["ok", "rejected"];
const TEMPLATES: [&str; 5] = ["run_id", "uuid", "scenario", "timestamp", "repeat"];
/// Templates that change from run to run: an id without any of them is the same every run.
const FRESH_TEMPLATES: [&str; 3] = ["run_id", "uuid", "timestamp"];
const EXPECT_FORMS: &str =
    "expect: ok (the default), rejected (any non-zero resultcode), {errcode: N} or {resultcode: N}";

/// Values for template expansion, fixed once per run.
#[derive(Clone)]
pub struct LoadContext {
    /// Short unique id of this run, e.g. "20261128-221530-ab12".
    pub run_id: String,
    /// Unix seconds at run start.
    pub timestamp: i64,
    /// The environment, for `${VAR}`.
    pub env: BTreeMap<String, String>,
    /// Delay ranges (`after: 20s..40s`) are drawn from this, the file name and the step
    /// index: the same seed gives the same timeline.
    pub seed: u64,
}

impl LoadContext {
    /// A fresh run id and a [`random_seed`] from `now` and the process environment (variables
    /// that are not UTF-8 are left out). Set `seed` afterwards to replay a run's delays.
    pub fn from_process_env(now: chrono::DateTime<chrono::Utc>) -> LoadContext {
        let suffix: String = uuid::Uuid::new_v4()
            .simple()
            .to_string()
            .chars()
            .take(4)
            .collect();
        LoadContext {
            run_id: format!("{}-{suffix}", now.format("%Y%m%d-%H%M%S")),
            timestamp: now.timestamp(),
            env: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
            seed: random_seed(),
        }
    }
}

/// A fresh seed below one million, short enough to read off a report and type as `--seed`.
pub fn random_seed() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0 % 1_000_000
}

impl fmt::Debug for LoadContext {
    // The environment holds secrets: show only how many variables there are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadContext")
            .field("run_id", &self.run_id)
            .field("timestamp", &self.timestamp)
            .field("seed", &self.seed)
            .field("env", &format_args!("<{} variables>", self.env.len()))
            .finish()
    }
}

/// Reads a file the user named, as UTF-8 text, or says why it cannot.
pub fn read_text(path: &Path) -> Result<String, Diagnostic> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| Diagnostic::whole_file(&name, format!("cannot read the file: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        Diagnostic::whole_file(
            &name,
            format!(
                "the file is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
        .with_help("save the scenario as UTF-8")
    })
}

/// The scenario files named by `paths`: files as given; folders → every `*.yaml` / `*.yml`
/// inside, recursively, sorted by path. Order is kept and no file comes twice. A missing path
/// or a folder without scenarios is an error.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Vec<Diagnostic>> {
    let (files, problems) = gather(paths);
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(problems)
    }
}

/// Loads and checks every scenario file of `paths`: the whole plan, or every problem of
/// every file.
pub fn load_plan(
    paths: &[PathBuf],
    carriers: &Carriers,
    ctx: &LoadContext,
) -> Result<Plan, Vec<Diagnostic>> {
    let (files, mut problems) = gather(paths);
    let mut scenarios = Vec::new();
    // (shopid, shop_order_id) → the file (and repetition) that uses it first.
    let mut orders: BTreeMap<(String, String), String> = BTreeMap::new();
    for path in &files {
        let loaded = load_file(path, carriers, ctx);
        let mut file_problems = loaded.problems;
        // One message per file: a `repeat:` may collide a thousand times.
        let mut collisions: Vec<(&OrderKey, String)> = Vec::new();
        for key in &loaded.orders {
            let pair = (key.shopid.clone(), key.shop_order_id.clone());
            match orders.get(&pair) {
                Some(first) => collisions.push((key, first.clone())),
                None => {
                    orders.insert(pair, key.label());
                }
            }
        }
        if let Some((key, first)) = collisions.first() {
            let more = match collisions.len() - 1 {
                0 => String::new(),
                1 => " (and 1 more order of this file)".to_owned(),
                n => format!(" (and {n} more orders of this file)"),
            };
            file_problems.push(
                Diagnostic::new(
                    &key.file,
                    key.line,
                    key.column,
                    format!(
                        "shop_order_id `{}` of shop `{}` is also used by {first}: the two orders would collide{more}",
                        key.shop_order_id, key.shopid
                    ),
                )
                .with_help("give each scenario its own order id, e.g. `shop_order_id: qa-{{scenario}}-{{run_id}}`"),
            );
        }
        if file_problems.is_empty() {
            scenarios.extend(loaded.plans);
        }
        problems.extend(file_problems);
    }
    if problems.is_empty() {
        Ok(Plan {
            carriers_version: carriers.version.clone(),
            seed: ctx.seed,
            scenarios,
        })
    } else {
        Err(problems)
    }
}

fn gather(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    let mut add = |file: PathBuf, files: &mut Vec<PathBuf>| {
        let identity = std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
        if seen.insert(identity) {
            files.push(file);
        }
    };
    for path in paths {
        let name = path.display().to_string();
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                problems.push(Diagnostic::whole_file(name, "no such file or folder"));
            }
            Err(e) => problems.push(Diagnostic::whole_file(name, format!("cannot read: {e}"))),
            Ok(meta) if meta.is_dir() => {
                let mut found = Vec::new();
                let mut visited = BTreeSet::new();
                let before = problems.len();
                walk(path, &mut found, &mut problems, &mut visited, 0);
                found.sort();
                if found.is_empty() && problems.len() == before {
                    problems.push(
                        Diagnostic::whole_file(
                            name,
                            "no scenario files (*.yaml or *.yml) in this folder",
                        )
                        .with_help("name a scenario file, or a folder that holds some"),
                    );
                }
                for file in found {
                    add(file, &mut files);
                }
            }
            Ok(_) => add(path.clone(), &mut files),
        }
    }
    (files, problems)
}

fn walk(
    dir: &Path,
    found: &mut Vec<PathBuf>,
    problems: &mut Vec<Diagnostic>,
    visited: &mut BTreeSet<PathBuf>,
    depth: usize,
) {
    // Symbolic links may loop; each real folder is read once, and not too deep.
    let identity = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    if depth > 32 || !visited.insert(identity) {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            problems.push(Diagnostic::whole_file(
                dir.display().to_string(),
                format!("cannot read the folder: {e}"),
            ));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            walk(&path, found, problems, visited, depth + 1);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
        {
            found.push(path);
        }
    }
}

/// What checking one file gave.
struct Loaded {
    /// One plan, or one per repetition of `repeat:`; empty when there is a problem.
    plans: Vec<ScenarioPlan>,
    problems: Vec<Diagnostic>,
    /// Every order the file would move, even when it has problems.
    orders: Vec<OrderKey>,
}

impl Loaded {
    fn failed(problem: Diagnostic) -> Loaded {
        Loaded {
            plans: Vec::new(),
            problems: vec![problem],
            orders: Vec::new(),
        }
    }
}

/// Where a scenario's order id is written, to report collisions between files.
struct OrderKey {
    file: String,
    line: u64,
    column: u64,
    shopid: String,
    shop_order_id: String,
    /// k of n, for `repeat:`.
    repetition: Option<(u32, u32)>,
}

impl OrderKey {
    /// The file, and the repetition when there are several.
    fn label(&self) -> String {
        match self.repetition {
            Some((k, n)) => format!("{} (order {k} of {n})", self.file),
            None => self.file.clone(),
        }
    }
}

/// A `shop_order_id` with `${VAR}` and the per-run templates expanded, and `{{repeat}}`
/// still open.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Repeat,
}

/// The order id of repetition `k` (of `repeat:`, or None without): `{{repeat}}` becomes `k`;
/// an id without `{{repeat}}` gets `-k` at the end.
fn render_id(pieces: &[Piece], k: Option<u32>) -> String {
    let mut out = String::new();
    let mut repeated = false;
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Repeat => {
                repeated = true;
                if let Some(k) = k {
                    out.push_str(&k.to_string());
                }
            }
        }
    }
    if let (false, Some(k)) = (repeated, k) {
        out.push_str(&format!("-{k}"));
    }
    out
}

fn load_file(path: &Path, carriers: &Carriers, ctx: &LoadContext) -> Loaded {
    let file = path.display().to_string();
    let fail = Loaded::failed;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.len() > MAX_FILE_BYTES
    {
        return fail(
            Diagnostic::whole_file(
                &file,
                format!(
                    "the file is {} bytes; scenario files are limited to 1 MiB ({MAX_FILE_BYTES} bytes)",
                    meta.len()
                ),
            )
            .with_help("a scenario is a carrier, an order id and a list of steps: a few kilobytes"),
        );
    }
    let text = match read_text(path) {
        Ok(text) => text,
        Err(d) => return fail(d),
    };
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.clone());
    check_text(&text, &file, &stem, carriers, ctx)
}

/// Checks the text of one scenario file.
fn check_text(
    text: &str,
    file: &str,
    stem: &str,
    carriers: &Carriers,
    ctx: &LoadContext,
) -> Loaded {
    if text.len() as u64 > MAX_FILE_BYTES {
        return Loaded::failed(Diagnostic::whole_file(
            file,
            "the file is larger than 1 MiB, the limit for scenario files",
        ));
    }
    let root = match yaml::parse_tree(text, file) {
        Ok(root) => root,
        Err(d) => return Loaded::failed(d),
    };
    let mut checker = Checker {
        file,
        stem,
        carriers,
        ctx,
        problems: Vec::new(),
        secrets: Vec::new(),
        uuid: None,
        templates_used: BTreeSet::new(),
    };
    let (plans, orders) = checker.scenario(&root);
    let secrets: Vec<Secret> = checker.secrets.iter().map(Secret::new).collect();
    let secret_refs: Vec<&Secret> = secrets.iter().collect();
    let mut problems: Vec<Diagnostic> = checker
        .problems
        .into_iter()
        .map(|mut d| {
            // Our messages never quote a secret; this is the last line of defence.
            d.message = redact(&d.message, &secret_refs);
            d.help = d.help.map(|h| redact(&h, &secret_refs));
            d
        })
        .collect();
    problems.sort_by_key(|d| (d.line, d.column));
    Loaded {
        plans: if problems.is_empty() {
            plans
        } else {
            Vec::new()
        },
        problems,
        orders,
    }
}

/// The keys of one mapping that the checks know, each with its key and value nodes.
struct Fields<'n> {
    found: BTreeMap<&'static str, (&'n Node, &'n Node)>,
    /// Known keys that an unknown key was probably meant to be (`stauts` → `status`): not
    /// reported again as missing.
    suggested: BTreeSet<&'static str>,
}

impl<'n> Fields<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.found.get(key).map(|(_, value)| *value)
    }

    /// The value, unless absent or written as nothing (`key:` / `key: ~`).
    fn given(&self, key: &str) -> Option<&'n Node> {
        self.get(key).filter(|v| v.value != Value::Null)
    }

    fn key(&self, key: &str) -> Option<&'n Node> {
        self.found.get(key).map(|(k, _)| *k)
    }

    /// Whether a missing `key` is worth reporting (no misspelt key stands in for it).
    fn missing(&self, key: &str) -> bool {
        self.given(key).is_none() && !self.suggested.contains(key)
    }
}

struct Checker<'a> {
    file: &'a str,
    stem: &'a str,
    carriers: &'a Carriers,
    ctx: &'a LoadContext,
    problems: Vec<Diagnostic>,
    /// Secret values met in this file, redacted from every message as a last line of defence.
    secrets: Vec<String>,
    /// `{{uuid}}`: one per scenario.
    uuid: Option<String>,
    /// The templates met while expanding (only `shop_order_id` has any).
    templates_used: BTreeSet<&'static str>,
}

/// Where a step leaves the order, for the transition checks.
struct Track {
    current: Status,
    /// The step (1-based) that ended the order, and with which status.
    ended_by: Option<(usize, Status)>,
}

impl<'a> Checker<'a> {
    fn error(&mut self, at: &Node, message: impl Into<String>, help: Option<String>) {
        let d = Diagnostic::new(self.file, at.line, at.column, message);
        self.problems.push(match help {
            Some(help) => d.with_help(help),
            None => d,
        });
    }

    /// "`key`{place} must be {expected}, found …".
    fn wrong_type(&mut self, value: &Node, key: &str, place: &str, expected: &str) {
        let found = value.describe();
        self.error(
            value,
            format!("`{key}`{place} must be {expected}, found {found}"),
            None,
        );
    }

    /// Reads a mapping's keys, reporting unknown and duplicate keys; `None` when `node` is
    /// not a mapping (reported as `what` must be a mapping).
    fn fields<'n>(
        &mut self,
        node: &'n Node,
        allowed: &[&'static str],
        place: &str,
        within: &str,
        what: &str,
    ) -> Option<Fields<'n>> {
        let Value::Map(entries) = &node.value else {
            let found = node.describe();
            self.error(
                node,
                format!("{what} must be a mapping, found {found}"),
                None,
            );
            return None;
        };
        let mut found: BTreeMap<&'static str, (&'n Node, &'n Node)> = BTreeMap::new();
        let mut suggested = BTreeSet::new();
        for (key, value) in entries {
            let name = key.as_text().unwrap_or_else(|| key.shown());
            match allowed.iter().find(|a| **a == name) {
                Some(known) => {
                    if let Some((first, _)) = found.get(known) {
                        let first_line = first.line;
                        self.error(
                            key,
                            format!(
                                "duplicate key `{name}`{place} (first written at line {first_line})"
                            ),
                            Some("each key may appear once; remove one of them".to_owned()),
                        );
                    } else {
                        found.insert(known, (key, value));
                    }
                }
                None => {
                    let list = allowed.join(", ");
                    let help = match did_you_mean(&name, allowed.iter().copied()) {
                        Some(s) => {
                            suggested.insert(s);
                            format!("did you mean `{s}`? allowed keys{within}: {list}")
                        }
                        None => format!("allowed keys{within}: {list}"),
                    };
                    self.error(key, format!("unknown key `{name}`{place}"), Some(help));
                }
            }
        }
        Some(Fields { found, suggested })
    }

    fn scenario(&mut self, root: &Node) -> (Vec<ScenarioPlan>, Vec<OrderKey>) {
        if root.value == Value::Null {
            self.problems.push(
                Diagnostic::whole_file(self.file, "the file is empty")
                    .with_help("a scenario needs at least `carrier`, `shop_order_id` and `steps`"),
            );
            return (Vec::new(), Vec::new());
        }
        let Some(fields) = self.fields(root, &TOP_KEYS, "", "", "a scenario") else {
            return (Vec::new(), Vec::new());
        };
        for required in ["carrier", "shop_order_id", "steps"] {
            if fields.missing(required) {
                let at = fields.key(required).unwrap_or(root);
                let message = if fields.get(required).is_some() {
                    format!("`{required}` has no value")
                } else {
                    format!("missing `{required}`")
                };
                let help = match required {
                    "carrier" => self.carriers.describe_known(),
                    "shop_order_id" => {
                        "e.g. `shop_order_id: qa-{{run_id}}` (a fresh id every run)".to_owned()
                    }
                    _ => "e.g. `steps:` then `  - status: rider_assigned` and `    after: 0s`"
                        .to_owned(),
                };
                self.error(at, message, Some(help));
            }
        }

        let name = match fields.given("name") {
            Some(node) => match node.as_text() {
                Some(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
                Some(_) => Some(self.stem.to_owned()),
                None => {
                    self.wrong_type(node, "name", "", "text");
                    None
                }
            },
            None => Some(self.stem.to_owned()),
        };

        let carrier = fields.given("carrier").and_then(|node| self.carrier(node));

        // None: written wrong (reported); Some(None): no `repeat:`.
        let repeat = match fields.given("repeat") {
            Some(node) => self.repeat(node).map(Some),
            None => Some(None),
        };

        let shop_order_id_node = fields.given("shop_order_id");
        let shop_order_id =
            shop_order_id_node.and_then(|node| self.shop_order_id(node, repeat.as_ref()));
        let fixed_order_id = !FRESH_TEMPLATES
            .iter()
            .any(|t| self.templates_used.contains(t));

        let shop = self.shop(fields.get("shop"), carrier.as_deref());

        // None: written wrong (reported); Some(None): no order to create.
        let order = match (fields.key("order"), fields.get("order")) {
            (Some(key), Some(node)) => self.order(
                key,
                node,
                carrier.as_deref(),
                shop.as_ref().map(|(shopid, _)| shopid.as_str()),
            ),
            _ => Some(None),
        };

        let steps = fields
            .given("steps")
            .and_then(|node| self.steps(node, carrier.as_deref()));

        // k of n for each order the file makes; one order without `repeat:`.
        let repetitions: Vec<Option<(u32, u32)>> = match repeat {
            Some(Some(n)) => (1..=n).map(|k| Some((k, n))).collect(),
            _ => vec![None],
        };
        let mut orders = Vec::new();
        if let (Some((shopid, _)), Some(pieces), Some(node)) =
            (&shop, &shop_order_id, shop_order_id_node)
        {
            for repetition in &repetitions {
                orders.push(OrderKey {
                    file: self.file.to_owned(),
                    line: node.line,
                    column: node.column,
                    shopid: shopid.clone(),
                    shop_order_id: render_id(pieces, repetition.map(|(k, _)| k)),
                    repetition: *repetition,
                });
            }
        }
        let (
            Some(name),
            Some(carrier),
            Some(pieces),
            Some((shopid, appsecret)),
            Some(order),
            Some(steps),
        ) = (name, carrier, shop_order_id, shop, order, steps)
        else {
            return (Vec::new(), orders);
        };
        let draw_name = self.draw_name();
        let plans = repetitions
            .into_iter()
            .map(|repetition| {
                let k = repetition.map(|(k, _)| k);
                let shop_order_id = render_id(&pieces, k);
                let order = order.as_ref().map(|template| {
                    let mut body = template.body.clone();
                    body.insert("shop_order_id".to_owned(), shop_order_id.clone().into());
                    OrderCreate {
                        body: serde_json::Value::Object(body),
                        openid: template.openid.clone(),
                        line: template.line,
                    }
                });
                let (name, steps) = match k {
                    Some(k) => (
                        format!("{name} #{k}"),
                        redraw(&steps, self.ctx.seed, &format!("{draw_name}#{k}")),
                    ),
                    None => (name.clone(), steps.clone()),
                };
                ScenarioPlan {
                    name,
                    file: self.file.to_owned(),
                    carrier: carrier.clone(),
                    shop_order_id,
                    shopid: shopid.clone(),
                    appsecret: appsecret.clone(),
                    steps,
                    order,
                    repetition,
                    fixed_order_id,
                }
            })
            .collect();
        (plans, orders)
    }

    /// The file name delay ranges are drawn with (see `duration::draw_in_range`).
    fn draw_name(&self) -> String {
        Path::new(self.file)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.file.to_owned())
    }

    /// `repeat: N`, 1 ≤ N ≤ [`MAX_REPEAT`].
    fn repeat(&mut self, node: &Node) -> Option<u32> {
        let expected = format!("a whole number from 1 to {MAX_REPEAT}");
        match node.value {
            Value::Int(n) => match u32::try_from(n) {
                Ok(n) if (1..=MAX_REPEAT).contains(&n) => Some(n),
                _ => {
                    let found = node.describe();
                    self.error(
                        node,
                        format!("`repeat` must be {expected}, found {found}"),
                        Some(format!(
                            "`repeat: N` plays the steps for N orders at once, each with its own order id; at most {MAX_REPEAT} (order calls have daily limits)"
                        )),
                    );
                    None
                }
            },
            _ => {
                self.wrong_type(node, "repeat", "", &expected);
                None
            }
        }
    }

    fn carrier(&mut self, node: &Node) -> Option<Arc<Carrier>> {
        let Some(name) = node.as_text() else {
            self.wrong_type(node, "carrier", "", "a carrier id or alias");
            return None;
        };
        if let Some(carrier) = self.carriers.find(&name) {
            return Some(carrier.clone());
        }
        let known = self.carriers.describe_known();
        let help = match self.carriers.suggest(&name) {
            Some(s) => format!("did you mean `{s}`? {known}"),
            None => known,
        };
        self.error(node, format!("unknown carrier `{name}`"), Some(help));
        None
    }

    /// The order id as pieces (see [`render_id`]). `repeat` is `repeat:` as read: None when
    /// written wrong (reported), `Some(None)` when absent.
    fn shop_order_id(&mut self, node: &Node, repeat: Option<&Option<u32>>) -> Option<Vec<Piece>> {
        let Some(raw) = node.as_text() else {
            self.wrong_type(node, "shop_order_id", "", "text");
            return None;
        };
        let pieces = self.expand_parts(node, &raw, "shop_order_id", true, false)?;
        let has_repeat = pieces.contains(&Piece::Repeat);
        if has_repeat && repeat == Some(&None) {
            self.error(
                node,
                "`{{repeat}}` in `shop_order_id` needs `repeat: N`",
                Some("`{{repeat}}` is the number (1 to N) of each order that `repeat: N` makes; add `repeat:`, or remove `{{repeat}}`".to_owned()),
            );
            return None;
        }
        if !has_repeat && render_id(&pieces, None).trim().is_empty() {
            self.error(
                node,
                "`shop_order_id` is empty",
                Some("e.g. `shop_order_id: qa-{{run_id}}`".to_owned()),
            );
            return None;
        }
        // The longest id is the last repetition's.
        let last = repeat.copied().flatten();
        let longest = render_id(&pieces, last);
        if longest.len() > MAX_SHOP_ORDER_ID_BYTES {
            let which = match last {
                Some(n) => format!(" (for order {n} of `repeat`)"),
                None => String::new(),
            };
            self.error(
                node,
                format!(
                    "`shop_order_id` is {} bytes after expansion{which}; the limit is {MAX_SHOP_ORDER_ID_BYTES}",
                    longest.len()
                ),
                Some("use a shorter prefix; {{run_id}} is about 20 bytes, {{uuid}} 36".to_owned()),
            );
            return None;
        }
        Some(pieces)
    }

    /// The shop to send as: `shop:` when given, else the carrier's test account.
    fn shop(&mut self, node: Option<&Node>, carrier: Option<&Carrier>) -> Option<(String, Secret)> {
        let node = match node {
            Some(node) if node.value != Value::Null => node,
            _ => {
                return carrier.map(|c| (c.account.shopid.clone(), c.account.appsecret.clone()));
            }
        };
        let fields = self.fields(node, &SHOP_KEYS, " in `shop`", " in `shop`", "`shop`")?;
        let shopid = match fields.given("shopid") {
            Some(value) => match value.as_text() {
                Some(raw) => match self.expand(value, &raw, "shopid", false) {
                    Some(id) if id.trim().is_empty() => {
                        self.error(value, "`shopid` in `shop` is empty", None);
                        None
                    }
                    other => other,
                },
                None => {
                    self.wrong_type(value, "shopid", " in `shop`", "text");
                    None
                }
            },
            None if !fields.missing("shopid") => None,
            None => {
                let at = fields.key("shopid").unwrap_or(node);
                self.error(
                    at,
                    "`shop` has no `shopid`",
                    Some("give the carrier-side shop id (appkey), or remove `shop:` to use the carrier's test account".to_owned()),
                );
                None
            }
        };
        let appsecret = match fields.given("appsecret") {
            Some(value) => {
                match value.as_text() {
                    Some(raw) => {
                        self.secrets.push(raw.clone());
                        match self.expand(value, &raw, "appsecret", true) {
                            Some(secret) if secret.is_empty() => {
                                self.error(
                                    value,
                                    "`appsecret` in `shop` is empty",
                                    Some(
                                        "check that the variable it reads is set to the secret"
                                            .to_owned(),
                                    ),
                                );
                                None
                            }
                            Some(secret) => Some(Secret::new(secret)),
                            None => None,
                        }
                    }
                    None => {
                        // Never quote what was written there: it may be the secret.
                        self.error(
                        value,
                        "`appsecret` in `shop` must be text (the value is not shown)",
                        Some("e.g. `appsecret: ${DADA_APPSECRET}` to read it from the environment".to_owned()),
                    );
                        None
                    }
                }
            }
            None if !fields.missing("appsecret") => None,
            None => match carrier {
                Some(c) if c.call == Call::Realmock => {
                    let at = fields.key("appsecret").unwrap_or(node);
                    self.error(
                        at,
                        format!(
                            "`shop` has no `appsecret`; {} updates are signed with the shop's appsecret",
                            c.id
                        ),
                        Some("add e.g. `appsecret: ${SHOP_APPSECRET}` (read from the environment), or remove `shop:` to use the carrier's test account".to_owned()),
                    );
                    None
                }
                Some(c) => Some(c.account.appsecret.clone()),
                // The carrier is unknown, already reported.
                None => None,
            },
        };
        Some((shopid?, appsecret?))
    }

    fn steps(&mut self, node: &Node, carrier: Option<&Carrier>) -> Option<Vec<StepPlan>> {
        let Value::Seq(items) = &node.value else {
            self.wrong_type(node, "steps", "", "a list of steps");
            return None;
        };
        if items.is_empty() {
            self.error(
                node,
                "`steps` is empty; a scenario needs at least one step",
                Some("e.g. `steps: [{status: rider_assigned, after: 0s}]`".to_owned()),
            );
            return None;
        }
        let mut track = Track {
            current: Status::INITIAL,
            ended_by: None,
        };
        let mut at = Duration::ZERO;
        let mut plans = Vec::new();
        let mut complete = true;
        for (index, item) in items.iter().enumerate() {
            match self.step(index, item, carrier, &mut track, &mut at) {
                Some(step) => plans.push(step),
                None => complete = false,
            }
        }
        complete.then_some(plans)
    }

    fn step(
        &mut self,
        index: usize,
        node: &Node,
        carrier: Option<&Carrier>,
        track: &mut Track,
        at: &mut Duration,
    ) -> Option<StepPlan> {
        let number = index + 1;
        let place = format!(" in step {number}");
        let fields = self.fields(
            node,
            &STEP_KEYS,
            &place,
            " in a step",
            &format!("step {number}"),
        )?;

        let status = match fields.given("status") {
            Some(value) => self.status(value, &place),
            None if !fields.missing("status") => None,
            None => {
                let at_node = fields.key("status").unwrap_or(node);
                let message = if fields.get("status").is_some() {
                    format!("`status`{place} has no value")
                } else {
                    format!("step {number} has no `status`")
                };
                self.error(
                    at_node,
                    message,
                    Some("e.g. `status: rider_assigned` or `status: 102`".to_owned()),
                );
                None
            }
        };

        let after = match fields.given("after") {
            Some(value) => self.after(value, &place),
            None => Some(Delay::Fixed(Duration::ZERO)),
        };
        let after = after.map(|delay| match delay {
            Delay::Fixed(d) => (d, None),
            Delay::Range(low, high) => {
                let drawn = draw_in_range(low, high, self.ctx.seed, &self.draw_name(), index);
                (drawn, Some((low, high)))
            }
        });
        if let Some((after, _)) = after {
            *at = at.saturating_add(after);
        }

        let action_msg = match fields.given("action_msg") {
            Some(value) => match value.as_text() {
                Some(raw) => self.expand(value, &raw, "action_msg", false),
                None => {
                    self.wrong_type(value, "action_msg", &place, "text");
                    None
                }
            },
            None => Some(String::new()),
        };

        let skip = match fields.given("skip_transition_check") {
            Some(value) => match value.value {
                Value::Bool(b) => Some(b),
                _ => {
                    self.wrong_type(value, "skip_transition_check", &place, "true or false");
                    None
                }
            },
            None => Some(false),
        };

        let expect_node = fields.given("expect");
        let expect = match expect_node {
            Some(value) => self.expect(value, &place),
            None => Some(Expect::Ok),
        };

        if skip == Some(true)
            && expect_node.is_none()
            && let Some(value) = fields.get("skip_transition_check")
        {
            self.error(
                value,
                format!("`skip_transition_check: true`{place} needs an explicit `expect:`"),
                Some(format!(
                    "a step that skips the check is a deliberate negative test: say what it should get, e.g. `expect: rejected`; {EXPECT_FORMS}"
                )),
            );
        }

        let checked = skip != Some(true);
        if let (Some(status), Some(status_node)) = (status, fields.given("status")) {
            if checked {
                self.transition(status, status_node, number, carrier, track);
            }
            // Only a step that must succeed moves the order.
            if expect.is_none() || expect == Some(Expect::Ok) {
                track.current = status;
                if status.is_terminal() && track.ended_by.is_none() {
                    track.ended_by = Some((number, status));
                }
            }
        }

        let (after, after_range) = after?;
        Some(StepPlan {
            index,
            status: status?,
            at: *at,
            after,
            after_range,
            action_msg: action_msg?,
            expect: expect?,
            checked,
            line: node.line,
        })
    }

    fn status(&mut self, value: &Node, place: &str) -> Option<Status> {
        let text = match &value.value {
            Value::Int(_) | Value::Str(_) => value.as_text().unwrap_or_default(),
            _ => {
                self.wrong_type(
                    value,
                    "status",
                    place,
                    "a status code or name, e.g. 102 or rider_assigned",
                );
                return None;
            }
        };
        if let Some(status) = Status::parse(&text) {
            return Some(status);
        }
        let all: Vec<String> = Status::all().map(|s| s.to_string()).collect();
        let list = format!("statuses: {}", all.join(", "));
        let help = match did_you_mean(&text, Status::all().map(Status::name)) {
            Some(s) => format!("did you mean `{s}`? {list}"),
            None => list,
        };
        self.error(
            value,
            format!("unknown status `{}`{place}", text.trim()),
            Some(help),
        );
        None
    }

    fn after(&mut self, value: &Node, place: &str) -> Option<Delay> {
        let text = match &value.value {
            Value::Str(s) => s.clone(),
            Value::Int(0) => return Some(Delay::Fixed(Duration::ZERO)),
            Value::Int(_) | Value::Float(_) => value.as_text().unwrap_or_default(),
            _ => {
                self.wrong_type(
                    value,
                    "after",
                    place,
                    "a duration such as 30s, 2m or 1m30s, or a range such as 20s..40s",
                );
                return None;
            }
        };
        match parse_delay(&text) {
            Ok(delay) => Some(delay),
            Err(problems) => {
                // Point at the bad end of a range when the value is written plainly on one
                // line (quotes or escapes would shift the columns).
                let plain = value.written == text && !text.contains('\n');
                for problem in problems {
                    let column = if plain {
                        value
                            .column
                            .saturating_add(u64::try_from(problem.offset).unwrap_or(0))
                    } else {
                        value.column
                    };
                    let d = Diagnostic::new(
                        self.file,
                        value.line,
                        column,
                        format!("`after`{place}: {}", problem.message),
                    );
                    self.problems.push(d);
                }
                None
            }
        }
    }

    fn expect(&mut self, value: &Node, place: &str) -> Option<Expect> {
        match &value.value {
            Value::Str(word) => match word.trim() {
                "ok" => Some(Expect::Ok),
                "rejected" => Some(Expect::Rejected),
                other => {
                    let help = match did_you_mean(other, EXPECT_WORDS) {
                        Some(s) => format!("did you mean `{s}`? {EXPECT_FORMS}"),
                        None => EXPECT_FORMS.to_owned(),
                    };
                    self.error(
                        value,
                        format!("unknown expectation `{other}`{place}"),
                        Some(help),
                    );
                    None
                }
            },
            Value::Map(_) => {
                let expect_place = format!(" in `expect`{place}");
                let fields = self.fields(
                    value,
                    &EXPECT_KEYS,
                    &expect_place,
                    " in `expect`",
                    "`expect`",
                )?;
                let errcode = fields.given("errcode");
                let resultcode = fields.given("resultcode");
                let (key, code_node) = match (errcode, resultcode) {
                    (Some(e), None) => ("errcode", e),
                    (None, Some(r)) => ("resultcode", r),
                    (Some(_), Some(r)) => {
                        self.error(
                            r,
                            format!("`expect`{place} gives both `errcode` and `resultcode`"),
                            Some(format!("give one of them; {EXPECT_FORMS}")),
                        );
                        return None;
                    }
                    (None, None) => {
                        if !fields.found.is_empty()
                            || matches!(&value.value, Value::Map(e) if e.is_empty())
                        {
                            self.error(
                                value,
                                format!("`expect`{place} needs `errcode` or `resultcode`"),
                                Some(EXPECT_FORMS.to_owned()),
                            );
                        }
                        return None;
                    }
                };
                match code_node.value {
                    Value::Int(code) => match i64::try_from(code) {
                        Ok(code) if key == "errcode" => Some(Expect::Errcode(code)),
                        Ok(code) => Some(Expect::Resultcode(code)),
                        Err(_) => {
                            self.wrong_type(code_node, key, &expect_place, "a whole number");
                            None
                        }
                    },
                    _ => {
                        self.wrong_type(code_node, key, &expect_place, "a whole number");
                        None
                    }
                }
            }
            _ => {
                self.wrong_type(
                    value,
                    "expect",
                    place,
                    "ok, rejected, {errcode: N} or {resultcode: N}",
                );
                None
            }
        }
    }

    /// The support and transition checks of a checked step whose status is known.
    fn transition(
        &mut self,
        status: Status,
        at: &Node,
        number: usize,
        carrier: Option<&Carrier>,
        track: &Track,
    ) {
        if let Some((ended_at, ended_with)) = track.ended_by {
            self.error(
                at,
                format!(
                    "step {number} ({status}) comes after the order ended: step {ended_at} set {ended_with}, which ends the order"
                ),
                Some("remove the step, or to test that the platform refuses it add `skip_transition_check: true` and an `expect:`".to_owned()),
            );
            return;
        }
        let Some(carrier) = carrier else { return };
        if !carrier.supports(status) {
            let supported: Vec<String> = carrier.supported.iter().map(|s| s.to_string()).collect();
            self.error(
                at,
                format!("{} does not support {status} (step {number})", carrier.id),
                Some(format!("{} supports: {}", carrier.id, supported.join(", "))),
            );
            return;
        }
        if !carrier.allows(track.current, status) {
            let next: Vec<String> = carrier
                .allowed_next(track.current)
                .iter()
                .map(|s| s.to_string())
                .collect();
            let next = if next.is_empty() {
                "none".to_owned()
            } else {
                next.join(", ")
            };
            self.error(
                at,
                format!(
                    "{} cannot go from {} to {status}; allowed next: {next}",
                    carrier.id, track.current
                ),
                Some("to test that the carrier refuses it on purpose, add `skip_transition_check: true` and `expect: rejected`".to_owned()),
            );
        }
    }

    /// Expands `${VAR}` in one value. Every problem in it is reported; `None` if there was
    /// one. A `secret` value's expansion is remembered for redaction, and never quoted.
    fn expand(&mut self, node: &Node, raw: &str, key: &str, secret: bool) -> Option<String> {
        let pieces = self.expand_parts(node, raw, key, false, secret)?;
        Some(render_id(&pieces, None))
    }

    /// Expands `${VAR}` (and, when `templates`, `{{run_id}}` and friends, leaving
    /// `{{repeat}}` open) in one value. Every problem in it is reported; `None` if there was
    /// one. A `secret` value's expansion is remembered for redaction, and never quoted.
    fn expand_parts(
        &mut self,
        node: &Node,
        raw: &str,
        key: &str,
        templates: bool,
        secret: bool,
    ) -> Option<Vec<Piece>> {
        let mut pieces = Vec::new();
        let mut out = String::new();
        let mut rest = raw;
        let mut ok = true;
        loop {
            let var = rest.find("${");
            let tpl = if templates { rest.find("{{") } else { None };
            let (start, is_var) = match (var, tpl) {
                (Some(v), Some(t)) if t < v => (t, false),
                (Some(v), _) => (v, true),
                (None, Some(t)) => (t, false),
                (None, None) => break,
            };
            out.push_str(&rest[..start]);
            let open = &rest[start + 2..];
            let close = if is_var { "}" } else { "}}" };
            let Some(end) = open.find(close) else {
                let what = if is_var { "`${`" } else { "`{{`" };
                self.error(
                    node,
                    format!("unclosed {what} in `{key}`"),
                    Some(if is_var {
                        "write `${NAME}` to read the environment variable NAME".to_owned()
                    } else {
                        format!("templates: {}", template_list())
                    }),
                );
                ok = false;
                rest = "";
                break;
            };
            let name = open[..end].trim();
            rest = &open[end + close.len()..];
            if is_var {
                if !is_var_name(name) {
                    self.error(
                        node,
                        format!("`${{{name}}}` in `{key}` is not a variable name"),
                        Some("a name is letters, digits and `_`, not starting with a digit, e.g. `${DADA_APPSECRET}`".to_owned()),
                    );
                    ok = false;
                    continue;
                }
                match self.ctx.env.get(name) {
                    Some(value) => {
                        if secret {
                            self.secrets.push(value.clone());
                        }
                        out.push_str(value);
                    }
                    None => {
                        self.error(
                            node,
                            format!("environment variable `{name}` is not set (used in `{key}`)"),
                            Some(format!(
                                "set `{name}` before running, or write the value in the file"
                            )),
                        );
                        ok = false;
                    }
                }
            } else {
                if let Some(known) = TEMPLATES.iter().find(|t| **t == name) {
                    self.templates_used.insert(known);
                }
                match name {
                    "repeat" => {
                        pieces.push(Piece::Text(std::mem::take(&mut out)));
                        pieces.push(Piece::Repeat);
                    }
                    "run_id" => out.push_str(&self.ctx.run_id),
                    "uuid" => {
                        let uuid = self
                            .uuid
                            .get_or_insert_with(|| uuid::Uuid::new_v4().to_string());
                        out.push_str(uuid);
                    }
                    "scenario" => out.push_str(self.stem),
                    "timestamp" => out.push_str(&self.ctx.timestamp.to_string()),
                    other => {
                        let list = template_list();
                        let help = match did_you_mean(other, TEMPLATES) {
                            Some(s) => format!("did you mean `{{{{{s}}}}}`? templates: {list}"),
                            None => format!("templates: {list}"),
                        };
                        self.error(
                            node,
                            format!("unknown template `{{{{{other}}}}}` in `{key}`"),
                            Some(help),
                        );
                        ok = false;
                    }
                }
            }
        }
        out.push_str(rest);
        pieces.push(Piece::Text(out));
        ok.then_some(pieces)
    }
}

/// `steps` with every ranged delay drawn again under `name` (one repetition of `repeat:`
/// draws its own delays), and the send times that follow.
fn redraw(steps: &[StepPlan], seed: u64, name: &str) -> Vec<StepPlan> {
    let mut at = Duration::ZERO;
    steps
        .iter()
        .map(|step| {
            let mut step = step.clone();
            if let Some((low, high)) = step.after_range {
                step.after = draw_in_range(low, high, seed, name, step.index);
            }
            at = at.saturating_add(step.after);
            step.at = at;
            step
        })
        .collect()
}

fn template_list() -> String {
    TEMPLATES
        .iter()
        .map(|t| format!("{{{{{t}}}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statuses::Status::*;

    fn carriers() -> Carriers {
        match Carriers::builtin() {
            Ok(c) => c,
            Err(p) => panic!("{p:?}"),
        }
    }

    fn ctx() -> LoadContext {
        LoadContext {
            run_id: "20261128-221530-ab12".to_owned(),
            timestamp: 1_795_904_130,
            env: BTreeMap::new(),
            seed: 42,
        }
    }

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    fn fixture(name: &str) -> PathBuf {
        root().join("tests/fixtures/invalid").join(name)
    }

    /// Every problem of one fixture, which must not load.
    fn problems(name: &str) -> Vec<Diagnostic> {
        match load_plan(&[fixture(name)], &carriers(), &ctx()) {
            Ok(plan) => panic!("{name} loaded: {plan:?}"),
            Err(problems) => {
                for p in &problems {
                    assert!(p.file.ends_with(name), "{p}");
                }
                problems
            }
        }
    }

    /// The fixture's only problem is at `line:column` and its message contains `needles`.
    fn one(name: &str, line: u64, column: u64, needles: &[&str]) -> Diagnostic {
        let problems = problems(name);
        assert_eq!(problems.len(), 1, "{name}: {problems:#?}");
        let p = problems.into_iter().next().unwrap_or_else(|| panic!());
        assert_eq!((p.line, p.column), (line, column), "{p}");
        let text = p.to_string();
        for needle in needles {
            assert!(text.contains(needle), "{name}: `{needle}` not in:\n{text}");
        }
        p
    }

    /// Checks one scenario text (as file `t.yaml`): every plan it makes.
    fn check_all(text: &str, ctx: &LoadContext) -> Result<Vec<ScenarioPlan>, Vec<Diagnostic>> {
        let loaded = check_text(text, "t.yaml", "t", &carriers(), ctx);
        if loaded.problems.is_empty() {
            assert!(!loaded.plans.is_empty(), "no plan and no problem");
            Ok(loaded.plans)
        } else {
            assert!(loaded.plans.is_empty(), "plans despite problems");
            Err(loaded.problems)
        }
    }

    /// Checks one scenario text (as file `t.yaml`) without `repeat:`.
    fn check_with(text: &str, ctx: &LoadContext) -> Result<ScenarioPlan, Vec<Diagnostic>> {
        check_all(text, ctx).map(|mut plans| {
            assert_eq!(plans.len(), 1);
            plans.remove(0)
        })
    }

    fn check(text: &str) -> Result<ScenarioPlan, Vec<Diagnostic>> {
        check_with(text, &ctx())
    }

    fn ok(text: &str) -> ScenarioPlan {
        match check(text) {
            Ok(plan) => plan,
            Err(p) => panic!("{p:#?}"),
        }
    }

    fn errors(text: &str) -> Vec<String> {
        match check(text) {
            Ok(plan) => panic!("accepted: {plan:?}"),
            Err(p) => p.iter().map(ToString::to_string).collect(),
        }
    }

    // --- sample scenarios ---

    #[test]
    fn every_sample_scenario_loads() {
        let dir = root().join("scenarios");
        let files = match collect_files(std::slice::from_ref(&dir)) {
            Ok(files) => files,
            Err(p) => panic!("{p:?}"),
        };
        assert!(files.len() >= 6, "{files:?}");
        for file in &files {
            let text = match std::fs::read_to_string(file) {
                Ok(t) => t,
                Err(e) => panic!("{e}"),
            };
            assert!(
                text.starts_with(
                    "# yaml-language-server: $schema=../schema/scenario.schema.json\n"
                ),
                "{}: the first line names the schema",
                file.display()
            );
        }
        let plan = match load_plan(&[dir], &carriers(), &ctx()) {
            Ok(plan) => plan,
            Err(problems) => {
                let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
                panic!("{}", text.join("\n"))
            }
        };
        assert_eq!(plan.scenarios.len(), files.len());
        assert_eq!(plan.carriers_version, carriers().version);
        for s in &plan.scenarios {
            assert!(
                s.shop_order_id.contains("20261128-221530-ab12"),
                "{}",
                s.file
            );
            assert_eq!(s.shopid, s.carrier.account.shopid);
        }
        let by_name = |n: &str| plan.scenarios.iter().find(|s| s.file.ends_with(n));
        let Some(happy) = by_name("dada_happy_path.yaml") else {
            panic!("no dada_happy_path")
        };
        let codes: Vec<u16> = happy.steps.iter().map(|s| s.status.code()).collect();
        assert_eq!(codes, [102, 201, 202, 301, 302]);
        assert_eq!(happy.steps[4].at, Duration::from_secs(20 * 60));
        let Some(negative) = by_name("dada_out_of_order_rejected.yaml") else {
            panic!("no dada_out_of_order_rejected")
        };
        assert_eq!(negative.steps[1].status, Delivered);
        assert_eq!(negative.steps[1].expect, Expect::Rejected);
        assert!(!negative.steps[1].checked);
        let ends = |n: &str| {
            by_name(n)
                .and_then(|s| s.steps.last())
                .map(|s| s.status.code())
        };
        assert_eq!(ends("sf_happy_path.yaml"), Some(302));
        assert_eq!(ends("dada_recipient_unreachable.yaml"), Some(304));
        assert_eq!(ends("dada_recipient_refused.yaml"), Some(305));
        assert_eq!(ends("sandbox_merchant_cancel.yaml"), Some(103));
        for s in &plan.scenarios {
            assert!(!s.fixed_order_id, "{}", s.file);
            assert_eq!(s.repetition, None, "{}", s.file);
        }
        let Some(created) = by_name("sf_order_created.yaml") else {
            panic!("no sf_order_created")
        };
        let Some(order) = &created.order else {
            panic!("sf_order_created creates no order")
        };
        assert_eq!(order.body["receiver"]["name"], "顺丰测试收件人");
        assert_eq!(order.body["receiver"]["city"], "深圳市");
        assert_eq!(order.body["delivery_id"], "SFTC");
        assert_eq!(order.body["shop_order_id"], created.shop_order_id.as_str());
        assert_eq!(order.body["order_info"]["order_time"], ctx().timestamp);
        assert!(created.steps.iter().all(|s| s.after_range.is_some()));
        assert_eq!(ends("sf_order_created.yaml"), Some(302));
        let Some(refused) = by_name("dada_recipient_refused.yaml") else {
            panic!("no dada_recipient_refused")
        };
        assert_eq!(
            refused.steps[4].after_range,
            Some((Duration::from_secs(600), Duration::from_secs(18 * 60)))
        );
    }

    // --- fixtures: one class of invalid input each ---

    #[test]
    fn fixture_syntax() {
        one("syntax.yaml", 4, 8, &["invalid YAML", "unclosed bracket"]);
    }

    #[test]
    fn fixture_unknown_key() {
        one(
            "unknown_key.yaml",
            7,
            5,
            &[
                "unknown key `stauts` in step 2",
                "did you mean `status`?",
                "allowed keys in a step: status, after",
            ],
        );
    }

    #[test]
    fn fixture_wrong_type() {
        one(
            "wrong_type.yaml",
            4,
            8,
            &["`steps` must be a list of steps, found the number `5`"],
        );
    }

    #[test]
    fn fixture_unknown_carrier() {
        one(
            "unknown_carrier.yaml",
            2,
            10,
            &[
                "unknown carrier `dad`",
                "did you mean `dada`?",
                "known carriers: dada, sandbox",
            ],
        );
    }

    #[test]
    fn fixture_unknown_status() {
        one(
            "unknown_status.yaml",
            7,
            13,
            &[
                "unknown status `delivred` in step 3",
                "did you mean `delivered`?",
                "101 awaiting_rider",
                "502 force_majeure_cancelled",
            ],
        );
    }

    #[test]
    fn fixture_unsupported_status() {
        one(
            "unsupported_status.yaml",
            6,
            13,
            &[
                "dada does not support 103 merchant_cancelled",
                "dada supports: 102 rider_assigned, 201 at_store",
            ],
        );
    }

    #[test]
    fn fixture_bad_transition() {
        let p = one(
            "bad_transition.yaml",
            6,
            13,
            &[
                "dada cannot go from 102 rider_assigned to 302 delivered; allowed next: 201 at_store",
            ],
        );
        assert!(
            p.to_string()
                .contains("bad_transition.yaml:6:13: error: dada cannot go")
        );
    }

    #[test]
    fn fixture_after_terminal() {
        one(
            "after_terminal.yaml",
            8,
            13,
            &["step 4 (102 rider_assigned) comes after the order ended: step 3 set 302 delivered"],
        );
    }

    #[test]
    fn fixture_bad_duration() {
        let p = problems("bad_duration.yaml");
        assert_eq!(p.len(), 2, "{p:#?}");
        assert_eq!((p[0].line, p[0].column), (6, 12));
        assert!(
            p[0].message.contains("`soon` is not a duration"),
            "{}",
            p[0]
        );
        assert!(p[0].message.contains("e.g. 500ms, 30s"), "{}", p[0]);
        assert_eq!((p[1].line, p[1].column), (8, 12));
        assert!(
            p[1].message.contains("add a unit: ms, s, m or h"),
            "{}",
            p[1]
        );
    }

    #[test]
    fn fixture_bad_range() {
        let p = problems("bad_range.yaml");
        assert_eq!(p.len(), 2, "{p:#?}");
        assert_eq!((p[0].line, p[0].column), (6, 17));
        assert!(
            p[0].message.contains("the high end of the range `20s..40`"),
            "{}",
            p[0]
        );
        assert_eq!((p[1].line, p[1].column), (8, 12));
        assert!(p[1].message.contains("goes backwards"), "{}", p[1]);
        assert!(p[1].message.contains("write `2m..5m`"), "{}", p[1]);
    }

    #[test]
    fn fixture_negative_duration() {
        one(
            "negative_duration.yaml",
            8,
            12,
            &["negative duration `-5s`"],
        );
    }

    #[test]
    fn fixture_absurd_duration() {
        one(
            "absurd_duration.yaml",
            6,
            12,
            &["`25h` is absurd", "the limit is 24h per step"],
        );
    }

    #[test]
    fn fixture_empty_steps() {
        one("empty_steps.yaml", 4, 8, &["`steps` is empty"]);
    }

    #[test]
    fn fixture_missing_variable() {
        one(
            "missing_variable.yaml",
            6,
            14,
            &["environment variable `SIMULATE_TEST_SURELY_UNSET` is not set (used in `appsecret`)"],
        );
    }

    #[test]
    fn fixture_skip_without_expect() {
        one(
            "skip_without_expect.yaml",
            7,
            28,
            &[
                "`skip_transition_check: true` in step 2 needs an explicit `expect:`",
                "expect: rejected",
            ],
        );
    }

    #[test]
    fn fixture_duplicate_key() {
        one(
            "duplicate_key.yaml",
            4,
            1,
            &["duplicate key `carrier` (first written at line 2)"],
        );
    }

    #[test]
    fn fixture_unknown_template() {
        one(
            "unknown_template.yaml",
            3,
            16,
            &[
                "unknown template `{{runid}}` in `shop_order_id`",
                "did you mean `{{run_id}}`?",
                "templates: {{run_id}}, {{uuid}}, {{scenario}}, {{timestamp}}, {{repeat}}",
            ],
        );
    }

    #[test]
    fn fixture_bad_repeat() {
        one(
            "bad_repeat.yaml",
            4,
            9,
            &["`repeat` must be a whole number from 1 to 1000, found the number `0`"],
        );
    }

    #[test]
    fn fixture_bad_order() {
        let p = problems("bad_order.yaml");
        let found: Vec<(u64, u64)> = p.iter().map(|d| (d.line, d.column)).collect();
        assert_eq!(found, [(5, 3), (7, 10), (10, 18)], "{p:#?}");
        assert!(p[0].message.contains("unknown key `reciever` in `order`"));
        assert!(
            p[0].help
                .as_deref()
                .is_some_and(|h| h.contains("did you mean `receiver`?"))
        );
        assert!(
            p[1].message
                .contains("`lng` in `order.sender` must be a number")
        );
        assert!(
            p[2].message
                .contains("`goods_value` in `order.cargo` must be a number above 0")
        );
    }

    #[test]
    fn fixture_bad_expect() {
        one(
            "bad_expect.yaml",
            8,
            13,
            &[
                "unknown expectation `reject` in step 2",
                "did you mean `rejected`?",
            ],
        );
    }

    #[test]
    fn fixture_alias_bomb_is_refused_quickly() {
        let started = std::time::Instant::now();
        one("alias_bomb.yaml", 10, 11, &["invalid YAML", "aliases"]);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn fixture_not_utf8() {
        one("not_utf8.yaml", 0, 0, &["not UTF-8"]);
    }

    #[test]
    fn fixture_several_problems_are_all_reported() {
        let p = problems("several_problems.yaml");
        let found: Vec<(u64, u64)> = p.iter().map(|d| (d.line, d.column)).collect();
        assert_eq!(
            found,
            [(6, 5), (7, 13), (9, 13), (10, 12), (12, 12)],
            "{p:#?}"
        );
        assert!(p[0].message.contains("unknown key `afterr`"));
        assert!(p[1].message.contains("unknown status `teleported`"));
        assert!(
            p[2].message
                .contains("`status` in step 3 must be a status code or name")
        );
        assert!(p[2].message.contains("found the list `[1]`"));
        assert!(p[3].message.contains("`1 minute` is not a duration"));
        assert!(p[4].message.contains("negative duration"));
    }

    #[test]
    fn every_invalid_fixture_fails_and_problems_of_all_files_are_reported() {
        let dir = root().join("tests/fixtures/invalid");
        let files = match collect_files(std::slice::from_ref(&dir)) {
            Ok(files) => files,
            Err(p) => panic!("{p:?}"),
        };
        assert!(files.len() >= 18);
        for file in &files {
            assert!(
                load_plan(std::slice::from_ref(file), &carriers(), &ctx()).is_err(),
                "{} loaded",
                file.display()
            );
        }
        let problems = match load_plan(&[dir], &carriers(), &ctx()) {
            Ok(_) => panic!("loaded"),
            Err(p) => p,
        };
        let failing: BTreeSet<&str> = problems.iter().map(|p| p.file.as_str()).collect();
        assert_eq!(failing.len(), files.len());
    }

    // --- the plan ---

    #[test]
    fn builds_the_plan_with_times_lines_and_expectations() {
        let plan = ok(
            "carrier: SF\nshop_order_id: qa-{{run_id}}\nsteps:\n  - status: 102\n    after: 1s\n    action_msg: 骑手已接单\n  - status: picked_up\n    after: 1m30s\n  - status: delivered\n    after: 500ms\n    expect: {errcode: 930565}\n    skip_transition_check: true\n",
        );
        assert_eq!(plan.name, "t");
        assert_eq!(plan.file, "t.yaml");
        assert_eq!(plan.carrier.id, "sftc");
        assert_eq!(plan.shop_order_id, "qa-20261128-221530-ab12");
        assert_eq!(plan.shopid, "1534713176");
        assert_eq!(plan.appsecret, plan.carrier.account.appsecret);
        let s = &plan.steps;
        assert_eq!(s.len(), 3);
        assert_eq!((s[0].index, s[0].status, s[0].line), (0, RiderAssigned, 4));
        assert_eq!(s[0].at, Duration::from_secs(1));
        assert_eq!(s[0].action_msg, "骑手已接单");
        assert_eq!(s[1].at, Duration::from_secs(91));
        assert_eq!(
            (s[1].line, s[1].expect, s[1].checked),
            (7, Expect::Ok, true)
        );
        assert_eq!(s[1].action_msg, "");
        assert_eq!(s[2].at, Duration::from_millis(91_500));
        assert_eq!(
            (s[2].expect, s[2].checked),
            (Expect::Errcode(930_565), false)
        );
    }

    #[test]
    fn expectations_in_every_form() {
        let plan = ok(
            "carrier: sandbox\nshop_order_id: x\nsteps:\n  - {status: 102, expect: ok}\n  - {status: 302, expect: rejected, skip_transition_check: true}\n  - {status: 302, expect: {resultcode: 2003}, skip_transition_check: true}\n  - {status: 103, expect: {errcode: -1}}\n  - {status: 201}\n",
        );
        let e: Vec<Expect> = plan.steps.iter().map(|s| s.expect).collect();
        assert_eq!(
            e,
            [
                Expect::Ok,
                Expect::Rejected,
                Expect::Resultcode(2003),
                Expect::Errcode(-1),
                Expect::Ok
            ]
        );
        // Steps expecting a refusal leave the order at 102, so 201 is allowed after them.
        let errs = errors(
            "carrier: sandbox\nshop_order_id: x\nsteps:\n  - {status: 102, expect: {errcode: x}}\n  - {status: 102, skip_transition_check: true, expect: {errcode: 1, resultcode: 2}}\n  - {status: 102, skip_transition_check: true, expect: {}}\n  - {status: 102, skip_transition_check: true, expect: [ok]}\n  - {status: 102, skip_transition_check: true, expect: {errocde: 1}}\n",
        );
        assert!(
            errs[0].contains(
                "`errcode` in `expect` in step 1 must be a whole number, found the text `x`"
            ),
            "{errs:#?}"
        );
        assert!(
            errs[1].contains("gives both `errcode` and `resultcode`"),
            "{errs:#?}"
        );
        assert!(
            errs[2].contains("needs `errcode` or `resultcode`"),
            "{errs:#?}"
        );
        assert!(
            errs[3].contains("`expect` in step 4 must be ok, rejected"),
            "{errs:#?}"
        );
        assert!(
            errs[4].contains("unknown key `errocde` in `expect` in step 5"),
            "{errs:#?}"
        );
        assert!(errs[4].contains("did you mean `errcode`?"), "{errs:#?}");
        assert_eq!(errs.len(), 5, "{errs:#?}");
    }

    #[test]
    fn refused_steps_do_not_move_the_order() {
        let plan = ok(
            "carrier: dada\nshop_order_id: x\nsteps:\n  - status: 102\n  - status: 302\n    skip_transition_check: true\n    expect: rejected\n  - status: 201\n",
        );
        assert_eq!(plan.steps.len(), 3);
        // A successful unchecked step does move it.
        let errs = errors(
            "carrier: dada\nshop_order_id: x\nsteps:\n  - status: 102\n  - status: 302\n    skip_transition_check: true\n    expect: ok\n  - status: 201\n",
        );
        assert_eq!(errs.len(), 1, "{errs:#?}");
        assert!(errs[0].contains(
            "step 3 (201 at_store) comes after the order ended: step 2 set 302 delivered"
        ));
    }

    #[test]
    fn skipped_checks_still_need_a_known_status() {
        let errs = errors(
            "carrier: dada\nshop_order_id: x\nsteps:\n  - status: 999\n    skip_transition_check: true\n    expect: rejected\n",
        );
        assert!(
            errs[0].contains("t.yaml:4:13: error: unknown status `999`"),
            "{errs:#?}"
        );
        let plan = ok(
            "carrier: dada\nshop_order_id: x\nsteps:\n  - status: 103\n    skip_transition_check: true\n    expect: rejected\n",
        );
        assert!(!plan.steps[0].checked);
    }

    #[test]
    fn durations_accept_zero_and_refuse_other_bare_numbers() {
        let plan = ok(
            "carrier: sf\nshop_order_id: x\nsteps:\n  - {status: 102, after: 0}\n  - {status: 202, after: 1.5s}\n  - {status: 302, after: ~}\n",
        );
        assert_eq!(plan.steps[2].at, Duration::from_millis(1500));
        let errs = errors(
            "carrier: sf\nshop_order_id: x\nsteps:\n  - {status: 102, after: 30}\n  - {status: 202, after: 1.5}\n  - {status: 302, after: -3}\n  - {status: 302, after: true, skip_transition_check: true, expect: rejected}\n",
        );
        assert!(
            errs[0].contains("`30` has no unit: add a unit"),
            "{errs:#?}"
        );
        assert!(errs[1].contains("`1.5` has no unit"), "{errs:#?}");
        assert!(errs[2].contains("negative duration `-3`"), "{errs:#?}");
        assert!(
            errs[3].contains("`after` in step 4 must be a duration"),
            "{errs:#?}"
        );
    }

    #[test]
    fn delay_ranges_resolve_to_one_delay_each() {
        let plan = ok(
            "carrier: dada\nshop_order_id: x\nsteps:\n  - {status: 102, after: 0s..10s}\n  - {status: 201, after: 1m}\n  - {status: 202, after: \"20s .. 40s\"}\n",
        );
        let s = &plan.steps;
        assert_eq!(
            s[0].after_range,
            Some((Duration::ZERO, Duration::from_secs(10)))
        );
        assert!(s[0].after <= Duration::from_secs(10));
        assert_eq!(s[0].at, s[0].after);
        assert_eq!(
            (s[1].after, s[1].after_range),
            (Duration::from_secs(60), None)
        );
        assert_eq!(s[1].at, s[0].at + Duration::from_secs(60));
        assert_eq!(
            s[2].after_range,
            Some((Duration::from_secs(20), Duration::from_secs(40)))
        );
        assert!((Duration::from_secs(20)..=Duration::from_secs(40)).contains(&s[2].after));
        assert_eq!(s[2].at, s[1].at + s[2].after);
        // The draw is the documented one: seed, file name, step index.
        assert_eq!(
            s[2].after,
            draw_in_range(
                Duration::from_secs(20),
                Duration::from_secs(40),
                42,
                "t.yaml",
                2
            )
        );
    }

    #[test]
    fn bad_ranges_point_at_the_bad_end() {
        let errs = errors(
            "carrier: dada\nshop_order_id: x\nsteps:\n  - {status: 102, after: 20s..40}\n  - {status: 201, after: 5m..2m}\n  - {status: 202, after: \"1s..\"}\n  - {status: 301, after: ..25h}\n  - {status: 302, after: 1s..25h}\n",
        );
        assert_eq!(errs.len(), 5, "{errs:#?}");
        assert!(
            errs[0].starts_with(
                "t.yaml:4:31: error: `after` in step 1: the high end of the range `20s..40`: duration `40` has no unit"
            ),
            "{errs:#?}"
        );
        assert!(
            errs[1].starts_with(
                "t.yaml:5:26: error: `after` in step 2: the range `5m..2m` goes backwards"
            ),
            "{errs:#?}"
        );
        // Quoted: the column is the value's.
        assert!(
            errs[2].starts_with(
                "t.yaml:6:26: error: `after` in step 3: the range `1s..` has no high end"
            ),
            "{errs:#?}"
        );
        assert!(errs[3].contains("t.yaml:7:26: error"), "{errs:#?}");
        assert!(errs[3].contains("has no low end"), "{errs:#?}");
        assert!(errs[4].contains("t.yaml:8:30: error"), "{errs:#?}");
        assert!(errs[4].contains("absurd"), "{errs:#?}");
    }

    /// Writes `files` (name, text) into a fresh folder and loads them all with `seed`.
    fn plan_of(files: &[(&str, &str)], seed: u64) -> Plan {
        let dir = tempdir();
        for (name, text) in files {
            write(&dir.path().join(name), text);
        }
        let mut ctx = ctx();
        ctx.seed = seed;
        match load_plan(&[dir.path().to_path_buf()], &carriers(), &ctx) {
            Ok(plan) => plan,
            Err(p) => panic!("{p:#?}"),
        }
    }

    fn offsets(plan: &Plan) -> Vec<Vec<Duration>> {
        plan.scenarios
            .iter()
            .map(|s| s.steps.iter().map(|st| st.at).collect())
            .collect()
    }

    #[test]
    fn the_seed_fixes_the_timeline() {
        let text = "carrier: dada\nshop_order_id: \"{{scenario}}-{{run_id}}\"\nsteps:\n  - {status: 102, after: 0s..30s}\n  - {status: 201, after: 2m..6m}\n  - {status: 202, after: 1m..5m}\n  - {status: 301, after: 10s..1m}\n  - {status: 302, after: 8m..15m}\n";
        let files = [("a.yaml", text), ("b.yaml", text)];
        let first = plan_of(&files, 7);
        assert_eq!(first.seed, 7);
        assert_eq!(offsets(&first), offsets(&plan_of(&files, 7)));
        // Different scenarios draw differently.
        assert_ne!(offsets(&first)[0], offsets(&first)[1]);
        // Different seeds give (in general) different timelines.
        let mut distinct = BTreeSet::new();
        for seed in 0..20 {
            let plan = plan_of(&files[..1], seed);
            for step in &plan.scenarios[0].steps {
                let Some((low, high)) = step.after_range else {
                    panic!("no range")
                };
                assert!(low <= step.after && step.after <= high, "{step:?}");
            }
            distinct.insert(offsets(&plan));
        }
        assert!(distinct.len() >= 19, "{}", distinct.len());
    }

    // --- repeat ---

    fn all(text: &str) -> Vec<ScenarioPlan> {
        match check_all(text, &ctx()) {
            Ok(plans) => plans,
            Err(p) => panic!("{p:#?}"),
        }
    }

    #[test]
    fn repeat_makes_one_plan_per_order() {
        let plans = all(
            "name: Load\ncarrier: dada\nshop_order_id: qa-{{run_id}}\nrepeat: 3\norder: true\nsteps:\n  - {status: 102, after: 1s..9s}\n  - {status: 201, after: 1m}\n",
        );
        assert_eq!(plans.len(), 3);
        for (i, plan) in plans.iter().enumerate() {
            let k = i as u32 + 1;
            assert_eq!(plan.name, format!("Load #{k}"));
            assert_eq!(plan.repetition, Some((k, 3)));
            assert_eq!(plan.shop_order_id, format!("qa-20261128-221530-ab12-{k}"));
            assert!(!plan.fixed_order_id);
            let Some(order) = &plan.order else {
                panic!("no order")
            };
            assert_eq!(
                order.body["shop_order_id"],
                serde_json::json!(plan.shop_order_id)
            );
            // Each order draws its own delays, under `t.yaml#k`.
            let s = &plan.steps;
            assert_eq!(
                s[0].after,
                draw_in_range(
                    Duration::from_secs(1),
                    Duration::from_secs(9),
                    42,
                    &format!("t.yaml#{k}"),
                    0
                )
            );
            assert_eq!(s[1].at, s[0].after + Duration::from_secs(60));
        }
        let firsts: BTreeSet<Duration> = plans.iter().map(|p| p.steps[0].after).collect();
        assert!(firsts.len() > 1, "{firsts:?}");
        // The same seed gives the same delays.
        let again = all(
            "name: Load\ncarrier: dada\nshop_order_id: qa-{{run_id}}\nrepeat: 3\norder: true\nsteps:\n  - {status: 102, after: 1s..9s}\n  - {status: 201, after: 1m}\n",
        );
        let at = |plans: &[ScenarioPlan]| -> Vec<Duration> {
            plans.iter().map(|p| p.steps[1].at).collect()
        };
        assert_eq!(at(&plans), at(&again));
        // Without `repeat:`, nothing changes.
        let one = ok("carrier: dada\nshop_order_id: x\nsteps: [{status: 102}]\n");
        assert_eq!((one.name.as_str(), one.repetition), ("t", None));
        assert!(one.order.is_none());
    }

    #[test]
    fn the_repeat_template_places_the_number() {
        let plans = all(
            "carrier: sandbox\nshop_order_id: \"load-{{repeat}}-of-{{run_id}}\"\nrepeat: 12\nsteps: [{status: 102}]\n",
        );
        let ids: Vec<&str> = plans.iter().map(|p| p.shop_order_id.as_str()).collect();
        assert_eq!(ids[0], "load-1-of-20261128-221530-ab12");
        assert_eq!(ids[11], "load-12-of-20261128-221530-ab12");
        assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 12);
        assert_eq!(plans[11].name, "t #12");
        let plans = all(
            "carrier: sandbox\nshop_order_id: \"{{repeat}}\"\nrepeat: 1\nsteps: [{status: 102}]\n",
        );
        assert_eq!(
            (plans[0].shop_order_id.as_str(), plans[0].repetition),
            ("1", Some((1, 1)))
        );
        assert!(plans[0].fixed_order_id);
    }

    #[test]
    fn bad_repeats_are_located() {
        for (value, found) in [
            ("0", "the number `0`"),
            ("1001", "the number `1001`"),
            ("-2", "the number `-2`"),
            ("2.5", "the number `2.5`"),
            ("\"3\"", "the text `3`"),
            ("[3]", "the list `[3]`"),
        ] {
            let errs = errors(&format!(
                "carrier: dada\nshop_order_id: x\nrepeat: {value}\nsteps: [{{status: 102}}]\n"
            ));
            assert_eq!(errs.len(), 1, "{errs:#?}");
            assert!(
                errs[0].starts_with(&format!(
                    "t.yaml:3:9: error: `repeat` must be a whole number from 1 to 1000, found {found}"
                )),
                "{errs:#?}"
            );
        }
        // `repeat: ~` is no repeat.
        assert_eq!(
            ok("carrier: dada\nshop_order_id: x\nrepeat: ~\nsteps: [{status: 102}]\n").repetition,
            None
        );
        let errs =
            errors("carrier: dada\nshop_order_id: \"a{{repeat}}\"\nsteps: [{status: 102}]\n");
        assert!(
            errs[0].starts_with(
                "t.yaml:2:16: error: `{{repeat}}` in `shop_order_id` needs `repeat: N`"
            ),
            "{errs:#?}"
        );
        // A bad `repeat:` is reported once, not again at `{{repeat}}`.
        let errs = errors(
            "carrier: dada\nshop_order_id: \"a{{repeat}}\"\nrepeat: 0\nsteps: [{status: 102}]\n",
        );
        assert_eq!(errs.len(), 1, "{errs:#?}");
        // The longest id counts.
        let id = "x".repeat(MAX_SHOP_ORDER_ID_BYTES - 3);
        all(&format!(
            "carrier: dada\nshop_order_id: {id}\nrepeat: 99\nsteps: [{{status: 102}}]\n"
        ));
        let errs = errors(&format!(
            "carrier: dada\nshop_order_id: {id}\nrepeat: 100\nsteps: [{{status: 102}}]\n"
        ));
        assert!(
            errs[0].contains(
                "is 129 bytes after expansion (for order 100 of `repeat`); the limit is 128"
            ),
            "{errs:#?}"
        );
    }

    #[test]
    fn repeated_orders_collide_with_other_files() {
        let dir = tempdir();
        let d = dir.path();
        write(
            &d.join("a.yaml"),
            "carrier: dada\nshop_order_id: batch\nrepeat: 5\nsteps: [{status: 102}]\n",
        );
        write(
            &d.join("b.yaml"),
            "carrier: dada\nshop_order_id: \"batch-{{repeat}}\"\nrepeat: 3\nsteps: [{status: 102}]\n",
        );
        write(
            &d.join("c.yaml"),
            "carrier: dada\nshop_order_id: batch-9\nsteps: [{status: 102}]\n",
        );
        let problems = match load_plan(&[d.to_path_buf()], &carriers(), &ctx()) {
            Ok(p) => panic!("{p:?}"),
            Err(p) => p,
        };
        assert_eq!(problems.len(), 1, "{problems:#?}");
        let p = &problems[0];
        assert!(p.file.ends_with("b.yaml"), "{p}");
        assert_eq!((p.line, p.column), (2, 16));
        assert!(
            p.message
                .contains("shop_order_id `batch-1` of shop `dadaaee18818d97e236` is also used by"),
            "{p}"
        );
        assert!(p.message.contains("a.yaml (order 1 of 5)"), "{p}");
        assert!(
            p.message.ends_with("(and 2 more orders of this file)"),
            "{p}"
        );
        // Apart, they load: 5 + 3 + 1 plans.
        write(
            &d.join("b.yaml"),
            "carrier: dada\nshop_order_id: \"other-{{repeat}}\"\nrepeat: 3\nsteps: [{status: 102}]\n",
        );
        match load_plan(&[d.to_path_buf()], &carriers(), &ctx()) {
            Ok(plan) => assert_eq!(plan.scenarios.len(), 9),
            Err(p) => panic!("{p:#?}"),
        }
    }

    #[test]
    fn fixed_order_ids_are_flagged() {
        let mut ctx = ctx();
        ctx.env.insert("TPL".to_owned(), "{{run_id}}".to_owned());
        for (id, fixed) in [
            ("fixed-1", true),
            ("\"{{scenario}}\"", true),
            ("\"${TPL}\"", true),
            ("qa-{{run_id}}", false),
            ("\"{{uuid}}\"", false),
            ("t-{{timestamp}}", false),
            ("\"{{scenario}}-{{ run_id }}\"", false),
        ] {
            let text = format!("carrier: dada\nshop_order_id: {id}\nsteps: [{{status: 102}}]\n");
            match check_with(&text, &ctx) {
                Ok(plan) => assert_eq!(plan.fixed_order_id, fixed, "{id}"),
                Err(p) => panic!("{id}: {p:#?}"),
            }
        }
    }

    // --- templates and variables ---

    #[test]
    fn templates_expand_per_run_and_per_scenario() {
        let plan = ok(
            "carrier: dada\nshop_order_id: \"{{scenario}}-{{ run_id }}-{{timestamp}}-{{uuid}}-{{uuid}}\"\nsteps: [{status: 102}]\n",
        );
        let id = plan.shop_order_id;
        assert!(id.starts_with("t-20261128-221530-ab12-1795904130-"), "{id}");
        let uuids = &id["t-20261128-221530-ab12-1795904130-".len()..];
        assert_eq!(uuids.len(), 36 * 2 + 1, "{id}");
        assert_eq!(&uuids[..36], &uuids[37..], "one uuid per scenario");
        let other = ok("carrier: dada\nshop_order_id: \"{{uuid}}\"\nsteps: [{status: 102}]\n");
        assert_ne!(
            other.shop_order_id,
            uuids[..36],
            "a fresh uuid for each scenario"
        );
    }

    #[test]
    fn variables_expand_and_missing_ones_are_named() {
        let mut ctx = ctx();
        ctx.env.insert("SHOP".to_owned(), "shop-1".to_owned());
        ctx.env
            .insert("SECRET".to_owned(), "s3cr3t-value-from-env".to_owned());
        ctx.env.insert("WHO".to_owned(), "张三".to_owned());
        ctx.env.insert("TPL".to_owned(), "{{run_id}}".to_owned());
        let text = "carrier: dada\nshop_order_id: ${SHOP}-{{run_id}}-${TPL}\nshop:\n  shopid: ${SHOP}\n  appsecret: ${SECRET}\nsteps:\n  - status: 102\n    action_msg: 骑手${WHO}已接单 $5\n";
        let plan = match check_with(text, &ctx) {
            Ok(plan) => plan,
            Err(p) => panic!("{p:#?}"),
        };
        // Expanded values are not expanded again.
        assert_eq!(plan.shop_order_id, "shop-1-20261128-221530-ab12-{{run_id}}");
        assert_eq!(plan.shopid, "shop-1");
        assert_eq!(plan.appsecret.expose(), "s3cr3t-value-from-env");
        assert_eq!(plan.steps[0].action_msg, "骑手张三已接单 $5");
        let errs = errors(
            "carrier: dada\nshop_order_id: ${NOPE_A}-${NOPE_B}\nsteps:\n  - {status: 102, action_msg: \"${1BAD} ${OPEN\"}\n",
        );
        assert!(
            errs[0].contains("`NOPE_A` is not set (used in `shop_order_id`)"),
            "{errs:#?}"
        );
        assert!(errs[1].contains("`NOPE_B` is not set"), "{errs:#?}");
        assert!(
            errs[2].contains("`${1BAD}` in `action_msg` is not a variable name"),
            "{errs:#?}"
        );
        assert!(
            errs[3].contains("unclosed `${` in `action_msg`"),
            "{errs:#?}"
        );
    }

    #[test]
    fn shop_order_ids_must_be_short_and_not_empty() {
        let long = "x".repeat(MAX_SHOP_ORDER_ID_BYTES);
        ok(&format!(
            "carrier: dada\nshop_order_id: {long}\nsteps: [{{status: 102}}]\n"
        ));
        let errs = errors(&format!(
            "carrier: dada\nshop_order_id: {long}{{{{run_id}}}}\nsteps: [{{status: 102}}]\n"
        ));
        assert!(
            errs[0].contains("bytes after expansion; the limit is 128"),
            "{errs:#?}"
        );
        let errs = errors("carrier: dada\nshop_order_id: \"\"\nsteps: [{status: 102}]\n");
        assert!(errs[0].contains("`shop_order_id` is empty"), "{errs:#?}");
        let errs = errors("carrier: dada\nshop_order_id: \"a{{run_id\"\nsteps: [{status: 102}]\n");
        assert!(
            errs[0].contains("unclosed `{{` in `shop_order_id`"),
            "{errs:#?}"
        );
    }

    // --- the shop and its secret ---

    #[test]
    fn shop_needs_a_shopid_and_for_realmock_an_appsecret() {
        let plan = ok(
            "carrier: sandbox\nshop_order_id: x\nshop: {shopid: 12345}\nsteps: [{status: 102}]\n",
        );
        assert_eq!(plan.shopid, "12345");
        assert_eq!(plan.appsecret, plan.carrier.account.appsecret);
        let plan = ok(
            "carrier: dada\nshop_order_id: x\nshop: {shopid: \"007\", appsecret: abc}\nsteps: [{status: 102}]\n",
        );
        assert_eq!(
            (plan.shopid.as_str(), plan.appsecret.expose()),
            ("007", "abc")
        );
        let errs =
            errors("carrier: dada\nshop_order_id: x\nshop: {shopid: s}\nsteps: [{status: 102}]\n");
        assert!(
            errs[0]
                .contains("t.yaml:3:7: error: `shop` has no `appsecret`; dada updates are signed"),
            "{errs:#?}"
        );
        let errs = errors(
            "carrier: dada\nshop_order_id: x\nshop: {appsecret: abcdef, shop_no: 1}\nsteps: [{status: 102}]\n",
        );
        assert!(
            errs.iter().any(|e| e.contains("`shop` has no `shopid`")),
            "{errs:#?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.contains("unknown key `shop_no` in `shop`")),
            "{errs:#?}"
        );
        let errs = errors("carrier: dada\nshop_order_id: x\nshop: dada\nsteps: [{status: 102}]\n");
        assert!(
            errs[0].contains("`shop` must be a mapping, found the text `dada`"),
            "{errs:#?}"
        );
    }

    #[test]
    fn the_secret_never_appears_in_a_message() {
        let secret = "TOPSECRET-0123456789";
        let texts = [
            format!(
                "carrier: dada\nshop_order_id: {secret}\nshop:\n  shopid: s\n  appsecret: {secret}\nsteps: [{{status: 999}}]\n"
            ),
            format!(
                "carrier: dada\nshop_order_id: x\nshop:\n  shopid: s\n  appsecret: [{secret}]\nsteps: []\n"
            ),
            format!(
                "carrier: dada\nshop_order_id: x\nshop:\n  shopid: s\n  appsecret: \"{secret}${{UNSET_VAR}}\"\nsteps: [{{status: 999}}]\n"
            ),
            format!(
                "carrier: dada\nshop_order_id: x\nshop:\n  shopid: s\n  appsecret: {{{secret}: 1}}\nsteps: []\n"
            ),
        ];
        for text in &texts {
            let errs = errors(text);
            for e in &errs {
                assert!(!e.contains(secret), "{e}");
            }
        }
        let mut ctx = ctx();
        ctx.env.insert("S".to_owned(), secret.to_owned());
        let problems = match check_with(
            &format!(
                "carrier: dada\nshop_order_id: {secret}${{S}}-{{{{nope}}}}\nshop: {{shopid: s, appsecret: \"${{S}}\"}}\nsteps: [{{status: 102}}]\n"
            ),
            &ctx,
        ) {
            Ok(_) => panic!("accepted"),
            Err(p) => p,
        };
        for p in &problems {
            assert!(!p.to_string().contains(secret), "{p}");
        }
        assert!(!format!("{ctx:?}").contains(secret));
    }

    // --- structure ---

    #[test]
    fn missing_keys_wrong_types_and_odd_files() {
        let errs = errors("name: x\n");
        assert_eq!(errs.len(), 3, "{errs:#?}");
        assert!(
            errs[0].contains("t.yaml:1:1: error: missing `carrier`"),
            "{errs:#?}"
        );
        assert!(errs[0].contains("known carriers"), "{errs:#?}");
        assert!(errs[1].contains("missing `shop_order_id`"), "{errs:#?}");
        assert!(errs[2].contains("missing `steps`"), "{errs:#?}");
        let errs = errors("carier: dada\nshop_order_id: x\nsteps: [{status: 102}]\n");
        assert_eq!(
            errs.len(),
            1,
            "a typo is not reported again as missing: {errs:#?}"
        );
        assert!(errs[0].contains("did you mean `carrier`?"));
        let errs = errors("carrier:\nshop_order_id: x\nsteps:\n  - status:\n  - 102\n");
        assert!(
            errs[0].contains("t.yaml:1:1: error: `carrier` has no value"),
            "{errs:#?}"
        );
        assert!(
            errs[1].contains("`status` in step 1 has no value"),
            "{errs:#?}"
        );
        assert!(
            errs[2].contains("step 2 must be a mapping, found the number `102`"),
            "{errs:#?}"
        );
        let errs = errors(
            "carrier: [dada]\nshop_order_id: {a: 1}\nname: true\nsteps:\n  - {status: 102, skip_transition_check: yes, expect: rejected, action_msg: [a]}\n",
        );
        assert!(
            errs[0].contains("`carrier` must be a carrier id or alias, found the list `[dada]`"),
            "{errs:#?}"
        );
        assert!(
            errs[1].contains("`shop_order_id` must be text, found the mapping `{a: 1}`"),
            "{errs:#?}"
        );
        assert!(
            errs[2].contains("`name` must be text, found the boolean `true`"),
            "{errs:#?}"
        );
        assert!(
            errs.iter().any(|e| e.contains(
                "`skip_transition_check` in step 1 must be true or false, found the text `yes`"
            )),
            "{errs:#?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.contains("`action_msg` in step 1 must be text")),
            "{errs:#?}"
        );
        let errs = errors("- carrier: dada\n");
        assert!(
            errs[0].contains("a scenario must be a mapping, found the list"),
            "{errs:#?}"
        );
        let errs = errors("");
        assert_eq!(
            errs,
            [
                "t.yaml: error: the file is empty\n  help: a scenario needs at least `carrier`, `shop_order_id` and `steps`"
            ]
        );
        let errs =
            errors("carrier: dada\nshop_order_id: x\nsteps: [{status: 102}]\n---\ncarrier: sf\n");
        assert!(errs[0].contains("more than one YAML document"), "{errs:#?}");
    }

    #[test]
    fn names_default_to_the_file_stem() {
        assert_eq!(
            ok("carrier: dada\nshop_order_id: x\nsteps: [{status: 102}]\n").name,
            "t"
        );
        assert_eq!(
            ok("name: \" Dada 达达 \"\ncarrier: dada\nshop_order_id: x\nsteps: [{status: 102}]\n")
                .name,
            "Dada 达达"
        );
        assert_eq!(
            ok("name: 2026\ncarrier: dada\nshop_order_id: 0042\nsteps: [{status: \"102\"}]\n")
                .shop_order_id,
            "0042"
        );
    }

    #[test]
    fn unknown_carrier_still_checks_the_steps() {
        let errs = errors(
            "carrier: meituan\nshop_order_id: x\nsteps:\n  - status: nope\n  - status: 302\n  - status: 102\n",
        );
        assert_eq!(errs.len(), 3, "{errs:#?}");
        assert!(errs[0].contains("unknown carrier `meituan`"));
        assert!(errs[1].contains("unknown status `nope`"));
        assert!(errs[2].contains("comes after the order ended"));
    }

    #[test]
    fn bom_and_crlf_are_fine() {
        let plan = ok(
            "\u{feff}carrier: dada\r\nshop_order_id: x\r\nsteps:\r\n  - status: 102\r\n    action_msg: 骑手已接单\r\n",
        );
        assert_eq!(plan.steps[0].action_msg, "骑手已接单");
        assert_eq!(plan.steps[0].line, 4);
    }

    #[test]
    fn odd_inputs_never_panic() {
        let odd = [
            "~",
            "[]",
            "{}",
            "42",
            "\"text\"",
            "? [a, b]\n: c\n",
            "~: 1\n",
            "1: 2\n",
            "*x\n",
            "&a [*a]\n",
            "a: !!binary aGVsbG8=\n",
            "carrier: !custom dada\n",
            "steps: !!map {}\n",
            "<<: {carrier: dada}\nshop_order_id: x\nsteps: [{status: 102}]\n",
            "carrier: dada\nshop_order_id: x\nsteps: [{status: 102, after: 1e400}]\n",
            "carrier: dada\nshop_order_id: x\nsteps: [{status: 99999999999999999999999999999999999999}]\n",
            "carrier: dada\nshop_order_id: x\nsteps: [{status: 102, after: .inf}]\n",
            "carrier: dada\nshop_order_id: x\nsteps: [{status: 102, after: \"1.9999999999999999999999h\"}]\n",
            "carrier: dada\nshop_order_id: \"${\"\nsteps: [{status: 102, action_msg: \"}}{{${}\"}]\n",
            "carrier: dada\nshop_order_id: \"{{}}{{é}}${é}\"\nsteps: [{status: 102}]\n",
            "\t\tcarrier: dada\n",
            "carrier: 'dada\n",
            "%YAML 1.2\n---\ncarrier: dada\n",
            "\0",
        ];
        for text in odd {
            let _ = check(text);
        }
        // Every prefix of a real scenario, and every line dropped from it.
        let text = match std::fs::read_to_string(root().join("scenarios/dada_happy_path.yaml")) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        for (end, _) in text.char_indices().step_by(7) {
            let _ = check(&text[..end]);
        }
        let lines: Vec<&str> = text.lines().collect();
        for skip in 0..lines.len() {
            let mut copy = lines.clone();
            copy.remove(skip);
            let _ = check(&copy.join("\n"));
        }
    }

    // --- files and folders ---

    fn write(path: &Path, text: &str) {
        if let Some(parent) = path.parent()
            && let Err(e) = std::fs::create_dir_all(parent)
        {
            panic!("{e}");
        }
        if let Err(e) = std::fs::write(path, text) {
            panic!("{e}");
        }
    }

    fn tempdir() -> tempfile::TempDir {
        match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        }
    }

    const VALID: &str =
        "carrier: dada\nshop_order_id: \"{{scenario}}-{{run_id}}\"\nsteps: [{status: 102}]\n";

    #[test]
    fn collects_files_and_folders_in_a_stable_order_without_duplicates() {
        let dir = tempdir();
        let d = dir.path();
        write(&d.join("b.yaml"), VALID);
        write(&d.join("a.yml"), VALID);
        write(&d.join("sub/c.YAML"), VALID);
        write(&d.join("notes.txt"), "not a scenario");
        write(&d.join("empty/readme.md"), "");
        let given = vec![d.join("b.yaml"), d.to_path_buf(), d.join("./b.yaml")];
        let files = match collect_files(&given) {
            Ok(f) => f,
            Err(p) => panic!("{p:?}"),
        };
        assert_eq!(
            files,
            [d.join("b.yaml"), d.join("a.yml"), d.join("sub/c.YAML")]
        );
        let problems = match collect_files(&[d.join("missing.yaml"), d.join("empty")]) {
            Ok(f) => panic!("{f:?}"),
            Err(p) => p,
        };
        assert_eq!(problems.len(), 2);
        assert!(
            problems[0]
                .to_string()
                .ends_with("missing.yaml: error: no such file or folder")
        );
        assert!(
            problems[1]
                .message
                .contains("no scenario files (*.yaml or *.yml) in this folder")
        );
        // load_plan reports those and the problems of the files it did find.
        write(
            &d.join("bad.yaml"),
            "carrier: nope\nshop_order_id: x\nsteps: [{status: 102}]\n",
        );
        let problems = match load_plan(
            &[d.join("missing.yaml"), d.join("bad.yaml")],
            &carriers(),
            &ctx(),
        ) {
            Ok(p) => panic!("{p:?}"),
            Err(p) => p,
        };
        assert_eq!(problems.len(), 2, "{problems:#?}");
    }

    #[test]
    fn two_scenarios_with_one_order_id_collide() {
        let dir = tempdir();
        let d = dir.path();
        let fixed = "carrier: dada\nshop_order_id: fixed-1\nsteps: [{status: 102}]\n";
        write(&d.join("one.yaml"), fixed);
        write(&d.join("two.yaml"), fixed);
        write(
            &d.join("three.yaml"),
            "carrier: dada\nshop_order_id: fixed-1\nshop: {shopid: other, appsecret: x}\nsteps: [{status: 102}]\n",
        );
        let problems = match load_plan(&[d.to_path_buf()], &carriers(), &ctx()) {
            Ok(p) => panic!("{p:?}"),
            Err(p) => p,
        };
        assert_eq!(problems.len(), 1, "{problems:#?}");
        let p = &problems[0];
        assert!(p.file.ends_with("two.yaml"), "{p}");
        assert_eq!((p.line, p.column), (2, 16));
        assert!(
            p.message
                .contains("shop_order_id `fixed-1` of shop `dadaaee18818d97e236` is also used by"),
            "{p}"
        );
        assert!(p.message.contains("one.yaml"), "{p}");
        // {{scenario}} keeps files apart.
        write(&d.join("one.yaml"), VALID);
        write(&d.join("two.yaml"), VALID);
        write(&d.join("three.yaml"), VALID);
        match load_plan(&[d.to_path_buf()], &carriers(), &ctx()) {
            Ok(plan) => assert_eq!(plan.scenarios.len(), 3),
            Err(p) => panic!("{p:#?}"),
        }
    }

    #[test]
    fn large_and_unreadable_files_are_refused_whole() {
        let dir = tempdir();
        let big = dir.path().join("big.yaml");
        write(
            &big,
            &format!("# {}\n", "x".repeat(MAX_FILE_BYTES as usize)),
        );
        let problems = match load_plan(&[big], &carriers(), &ctx()) {
            Ok(p) => panic!("{p:?}"),
            Err(p) => p,
        };
        assert_eq!((problems[0].line, problems[0].column), (0, 0));
        assert!(
            problems[0].message.contains("limited to 1 MiB"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn load_context_from_the_process() {
        let now = chrono::DateTime::from_timestamp(1_795_904_130, 0).unwrap_or_default();
        let ctx = LoadContext::from_process_env(now);
        assert_eq!(ctx.timestamp, 1_795_904_130);
        assert!(ctx.run_id.starts_with("20261128-221530-"), "{}", ctx.run_id);
        assert_eq!(ctx.run_id.len(), "20261128-221530-ab12".len());
        assert_ne!(ctx.run_id, LoadContext::from_process_env(now).run_id);
        assert!(ctx.env.contains_key("PATH") || ctx.env.is_empty());
        assert!(format!("{ctx:?}").contains("variables"));
    }
}
