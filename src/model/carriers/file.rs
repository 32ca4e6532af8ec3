//! Reading one carrier file: a located tree checked key by key, so that every problem of the
//! file is reported at once with its line and column (a wrong type or an unknown key is a
//! problem of the carrier table, not "invalid YAML"), `${VAR}` expanded in every text value,
//! and the appsecret never quoted.

use rust_i18n::t;
use std::collections::{BTreeMap, BTreeSet};

use crate::base::diag::{Diagnostic, did_you_mean};
use crate::base::env::{self, Env};
use crate::base::fields::{self, Fields, Keys};
use crate::base::secret::{Secret, redact};
use crate::base::yaml::{self, Node, Value};
use serde_json::{Map, Value as Json};

use crate::model::carriers::quirks::{
    DefaultsLayer, FieldPath, OPTIONAL_BLOCK, ORDER_ADD_FIELDS, ORDER_BLOCKS, ORDER_CANCEL_FIELDS,
    Required, SignError,
};
use crate::model::carriers::rules::{self, OrderRules};
use crate::model::carriers::{Account, Call};
use crate::model::statuses::Status;

const TOP_KEYS: [&str; 5] = [
    "version",
    "replace_builtin",
    "lifecycle",
    "order_defaults",
    "carriers",
];
const CARRIER_KEYS: [&str; 14] = [
    "id",
    "aliases",
    "delivery_id",
    "name",
    "call",
    "version",
    "account",
    "statuses",
    "extra_edges",
    "forbidden_edges",
    "required",
    "sign_error",
    "order_defaults",
    "order_rules",
];
const REQUIRED_KEYS: [&str; 2] = ["order_add", "order_cancel"];
const SIGN_ERROR_KEYS: [&str; 2] = ["resultcode", "resultmsg"];
const NAME_KEYS: [&str; 2] = ["en", "zh"];
const ACCOUNT_KEYS: [&str; 3] = ["shopid", "appsecret", "shop_no"];
const CALLS: [(&str, Call); 3] = [
    ("realmock", Call::Realmock),
    ("test_update_order", Call::TestUpdateOrder),
    ("none", Call::None),
];

/// Where something was written: line and column, 1-based.
pub(super) type At = (u64, u64);

/// A carrier file as checked, before it is merged with the table it extends.
pub(super) struct FileData {
    pub version: Option<String>,
    pub replace_builtin: bool,
    pub lifecycle: Option<BTreeMap<Status, Vec<Status>>>,
    pub order_defaults: Option<DefaultsLayer>,
    pub carriers: Vec<CarrierData>,
    /// Where the file's top mapping starts, for problems of the whole table.
    pub at: At,
}

/// One profile as written (ids and aliases lower-cased).
pub(super) struct CarrierData {
    pub id: String,
    pub id_at: At,
    pub aliases: Vec<(String, At)>,
    pub delivery_id: String,
    pub name_en: String,
    pub name_zh: String,
    pub call: Call,
    pub version: String,
    pub account: Account,
    pub supported: BTreeSet<Status>,
    pub extra_edges: BTreeSet<(Status, Status)>,
    pub forbidden_edges: BTreeSet<(Status, Status)>,
    pub required: Required,
    pub sign_error: SignError,
    pub order_defaults: DefaultsLayer,
    pub order_rules: OrderRules,
}

/// Reads the carrier file `text` (named `file`): its data, or every problem in it.
pub(super) fn read(text: &str, file: &str, env: &Env) -> Result<FileData, Vec<Diagnostic>> {
    let root = yaml::parse_tree(text, file).map_err(|d| vec![d])?;
    let mut reader = Reader {
        file,
        env,
        problems: Vec::new(),
        secrets: Vec::new(),
        names: Vec::new(),
    };
    let data = reader.file(&root);
    let Reader {
        mut problems,
        secrets,
        names,
        ..
    } = reader;
    if problems.is_empty()
        && let Some(data) = data
    {
        return Ok(data);
    }
    // The table is not built when a profile has problems, so the file's own name clashes
    // are found here, to be reported with the rest (clashes with built-ins come once the
    // profiles read).
    problems.extend(clashes_within(&names, file));
    let secrets: Vec<&Secret> = secrets.iter().collect();
    let mut problems: Vec<Diagnostic> = problems
        .into_iter()
        .map(|mut d| {
            // Our messages never quote the appsecret; this is the last line of defence.
            d.message = redact(&d.message, &secrets);
            d.help = d.help.map(|h| redact(&h, &secrets));
            d
        })
        .collect();
    problems.sort_by_key(|d| (d.line, d.column));
    Err(problems)
}

/// The checks of one file: every problem is collected, none stops the others.
struct Reader<'a> {
    file: &'a str,
    env: &'a Env,
    problems: Vec<Diagnostic>,
    /// The appsecrets as written and as expanded, masked in every message.
    secrets: Vec<Secret>,
    /// Each profile's id and aliases with their places, read even from a profile with
    /// problems.
    names: Vec<Names>,
}

/// A profile's id and aliases, where written.
struct Names {
    id: (String, At),
    aliases: Vec<(String, At)>,
}

/// "carrier `x` is defined twice", at `at`, with where the first one is.
pub(super) fn defined_twice(file: &str, id: &str, at: At, first_line: u64) -> Diagnostic {
    Diagnostic::new(file, at.0, at.1, t!("carrier_file.defined_twice", id = id))
        .with_help(t!("carrier_file.defined_twice_help", line = first_line).into_owned())
}

/// "the name `x` belongs to both `a` and `b`".
pub(super) fn name_clash(name: &str, first: &str, second: &str) -> String {
    t!(
        "carrier_file.name_clash",
        name = name,
        first = first,
        second = second
    )
    .into_owned()
}

/// Ids written twice and names shared by two profiles of one file.
fn clashes_within(names: &[Names], file: &str) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let mut ids: BTreeMap<&str, At> = BTreeMap::new();
    let mut owners: BTreeMap<&str, &str> = BTreeMap::new();
    for profile in names {
        let (id, at) = (&profile.id.0, profile.id.1);
        if let Some(first) = ids.get(id.as_str()) {
            problems.push(defined_twice(file, id, at, first.0));
            continue;
        }
        ids.insert(id, at);
        let all = std::iter::once((id, at)).chain(profile.aliases.iter().map(|(a, at)| (a, *at)));
        for (name, at) in all {
            match owners.get(name.as_str()) {
                Some(owner) if *owner != id.as_str() => problems.push(Diagnostic::new(
                    file,
                    at.0,
                    at.1,
                    name_clash(name, owner, id),
                )),
                _ => {
                    owners.insert(name, id);
                }
            }
        }
    }
    problems
}

impl Reader<'_> {
    fn error(&mut self, at: &Node, message: impl Into<String>, help: Option<String>) {
        self.problems
            .push(fields::located(self.file, at, message, help));
    }

    /// `expected` is a phrase of the catalogue (`expected.…`, `carrier_file.expected_…`).
    fn wrong_type(&mut self, value: &Node, key: &str, place: &str, expected: &str) {
        let found = value.describe();
        let message = t!(
            "fields.wrong_type",
            key = key,
            place = place,
            expected = expected,
            found = found
        );
        self.error(value, message, None);
    }

    fn fields<'n>(&mut self, node: &'n Node, keys: &Keys<'_>) -> Option<Fields<'n>> {
        fields::read(node, keys, self.file, &mut self.problems)
    }

    /// Reports each of `required` that `fields` lacks, at its key or else at `node`.
    fn require(&mut self, fields: &Fields<'_>, node: &Node, required: &[&str], place: &str) {
        for key in required {
            if !fields.missing(key) {
                continue;
            }
            match fields.key(key) {
                Some(at) => {
                    let message = t!("carrier_file.no_value", key = key, place = place);
                    self.error(at, message, None);
                }
                None => {
                    let message = t!("carrier_file.missing", key = key, place = place);
                    self.error(node, message, None);
                }
            }
        }
    }

    fn file(&mut self, root: &Node) -> Option<FileData> {
        let at = (root.line.max(1), root.column.max(1));
        if root.value == Value::Null {
            // An empty file changes nothing.
            return Some(FileData {
                version: None,
                replace_builtin: false,
                lifecycle: None,
                order_defaults: None,
                carriers: Vec::new(),
                at,
            });
        }
        let keys = Keys {
            allowed: &TOP_KEYS,
            place: "",
            within: &t!("carrier_file.within_top"),
            what: &t!("carrier_file.a_file"),
            secret: false,
        };
        let fields = self.fields(root, &keys)?;
        let version = fields
            .given("version")
            .and_then(|v| self.text(v, "version", ""));
        let replace_builtin = match fields.given("replace_builtin") {
            Some(node) => match node.value {
                Value::Bool(b) => b,
                _ => {
                    self.wrong_type(node, "replace_builtin", "", &t!("expected.bool"));
                    false
                }
            },
            None => false,
        };
        let lifecycle = fields.given("lifecycle").and_then(|n| self.lifecycle(n));
        let order_defaults = fields
            .given("order_defaults")
            .and_then(|n| self.order_defaults(n, ""));
        let carriers = match fields.given("carriers") {
            Some(node) => match &node.value {
                Value::Seq(items) => items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, item)| self.carrier(item, i + 1))
                    .collect(),
                _ => {
                    let expected = t!("carrier_file.expected_profiles");
                    self.wrong_type(node, "carriers", "", &expected);
                    Vec::new()
                }
            },
            None => Vec::new(),
        };
        Some(FileData {
            version,
            replace_builtin,
            lifecycle,
            order_defaults,
            carriers,
            at,
        })
    }

    fn lifecycle(&mut self, node: &Node) -> Option<BTreeMap<Status, Vec<Status>>> {
        let Value::Map(entries) = &node.value else {
            let expected = t!("carrier_file.expected_lifecycle");
            self.wrong_type(node, "lifecycle", "", &expected);
            return None;
        };
        let mut next = BTreeMap::new();
        let mut first_line = BTreeMap::new();
        for (key, value) in entries {
            let from = self.status(key, "lifecycle");
            let to = self.statuses(value, "lifecycle", "");
            if let Some(from) = from {
                if let Some(line) = first_line.insert(from, key.line) {
                    let message = t!(
                        "carrier_file.lifecycle_duplicate",
                        code = from.code(),
                        line = line
                    );
                    let help = t!("carrier_file.lifecycle_duplicate_help").into_owned();
                    self.error(key, message, Some(help));
                    continue;
                }
                if let Some(to) = to {
                    next.insert(from, to);
                }
            }
        }
        Some(next)
    }

    fn carrier(&mut self, node: &Node, number: usize) -> Option<CarrierData> {
        // Named by its id when it has a readable one, else by its place in the list.
        let id = match &node.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_text().as_deref() == Some("id"))
                .and_then(|(_, v)| v.as_text())
                .map(|id| id.trim().to_ascii_lowercase())
                .filter(|id| !id.is_empty() && !id.contains("${")),
            _ => None,
        };
        let place = match &id {
            Some(id) => t!("place.carrier", id = id).into_owned(),
            None => t!("place.carrier_number", n = number).into_owned(),
        };
        let keys = Keys {
            allowed: &CARRIER_KEYS,
            place: &place,
            within: &t!("place.a_carrier"),
            what: &t!("carrier_file.carrier_number", n = number),
            secret: false,
        };
        let fields = self.fields(node, &keys)?;
        self.require(
            &fields,
            node,
            &[
                "id",
                "delivery_id",
                "name",
                "call",
                "version",
                "account",
                "statuses",
            ],
            &place,
        );
        let problems_before = self.problems.len();
        let id = fields.given("id").and_then(|v| {
            let text = self.text(v, "id", &place)?;
            let id = text.trim().to_ascii_lowercase();
            if id.is_empty() {
                self.error(v, t!("carrier_file.empty_id"), None);
                return None;
            }
            Some((id, (v.line, v.column)))
        });
        let aliases = match fields.given("aliases") {
            Some(node) => self.aliases(node, &place),
            None => Vec::new(),
        };
        if let Some(id) = &id {
            self.names.push(Names {
                id: id.clone(),
                aliases: aliases.clone(),
            });
        }
        let delivery_id = fields
            .given("delivery_id")
            .and_then(|v| self.text(v, "delivery_id", &place));
        let name = fields.given("name").and_then(|v| self.names(v, &place));
        let call = fields.given("call").and_then(|v| self.call(v, &place));
        let version = fields
            .given("version")
            .and_then(|v| self.text(v, "version", &place));
        let account = fields
            .given("account")
            .and_then(|v| self.account(v, &place));
        let supported = fields
            .given("statuses")
            .and_then(|v| self.statuses(v, "statuses", &place));
        let extra_edges = match fields.given("extra_edges") {
            Some(v) => self.edges(v, "extra_edges", &place),
            None => Some(BTreeSet::new()),
        };
        let forbidden_edges = match fields.given("forbidden_edges") {
            Some(v) => self.edges(v, "forbidden_edges", &place),
            None => Some(BTreeSet::new()),
        };
        let required = match fields.given("required") {
            Some(v) => self.required(v, &place),
            None => Some(Required::default()),
        };
        let sign_error = match fields.given("sign_error") {
            Some(v) => self.sign_error(v, &place),
            None => Some(SignError::default()),
        };
        let order_defaults = match fields.given("order_defaults") {
            Some(v) => self.order_defaults(v, &place),
            None => Some(DefaultsLayer::default()),
        };
        let order_rules = match fields.given("order_rules") {
            Some(v) => self.order_rules(v, &place),
            None => Some(OrderRules::default()),
        };
        if self.problems.len() != problems_before {
            return None;
        }
        let ((id, id_at), delivery_id, (name_en, name_zh), call, version, account) =
            (id?, delivery_id?, name?, call?, version?, account?);
        Some(CarrierData {
            id,
            id_at,
            aliases,
            delivery_id,
            name_en,
            name_zh,
            call,
            version,
            account,
            supported: supported?.into_iter().collect(),
            extra_edges: extra_edges?,
            forbidden_edges: forbidden_edges?,
            required: required?,
            sign_error: sign_error?,
            order_defaults: order_defaults?,
            order_rules: order_rules?,
        })
    }

    /// `order_rules`: read as JSON, then as [`OrderRules`], then checked for values that
    /// cannot work; every problem is located at the block.
    fn order_rules(&mut self, node: &Node, place: &str) -> Option<OrderRules> {
        let json = self.json(node, "order_rules", place)?;
        match serde_json::from_value::<OrderRules>(json) {
            Ok(rules) => {
                let within = crate::base::i18n::in_key("order_rules", place);
                let problems = rules::problems(&rules, &within);
                for problem in &problems {
                    self.error(node, problem.as_str(), None);
                }
                problems.is_empty().then_some(rules)
            }
            Err(e) => {
                // serde's own words say what is wrong with the block.
                let message = t!(
                    "carrier_file.order_rules_unreadable",
                    place = place,
                    detail = e.to_string()
                );
                self.error(node, message, None);
                None
            }
        }
    }

    fn required(&mut self, node: &Node, place: &str) -> Option<Required> {
        let within = crate::base::i18n::in_key("required", place);
        let keys = Keys {
            allowed: &REQUIRED_KEYS,
            place: &within,
            within: &within,
            what: &format!("`required`{place}"),
            secret: false,
        };
        let fields = self.fields(node, &keys)?;
        let mut paths = |key: &str, known: &[&'static str]| match fields.given(key) {
            Some(v) => self.paths(v, key, &within, known),
            None => Some(Vec::new()),
        };
        let order_add = paths("order_add", &ORDER_ADD_FIELDS);
        let order_cancel = paths("order_cancel", &ORDER_CANCEL_FIELDS);
        Some(Required {
            order_add: order_add?,
            order_cancel: order_cancel?,
        })
    }

    /// Field paths whose first name is one of `known`, the call's documented fields.
    fn paths(
        &mut self,
        node: &Node,
        key: &str,
        place: &str,
        known: &[&'static str],
    ) -> Option<Vec<FieldPath>> {
        let Value::Seq(items) = &node.value else {
            self.wrong_type(node, key, place, &t!("carrier_file.expected_field_names"));
            return None;
        };
        let found: Vec<Option<FieldPath>> = items
            .iter()
            .map(|item| {
                let text = self.text(item, key, place)?;
                let path = FieldPath::parse(text.trim());
                let Some(path) = path else {
                    let message = t!(
                        "carrier_file.not_a_field_name",
                        text = text,
                        key = key,
                        place = place
                    );
                    let help = t!("carrier_file.not_a_field_name_help").into_owned();
                    self.error(item, message, Some(help));
                    return None;
                };
                if !known.contains(&path.top()) {
                    let list = known.join(", ");
                    let help = match did_you_mean(path.top(), known.iter().copied()) {
                        Some(s) => t!("carrier_file.field_did_you_mean", field = s, list = list),
                        None => t!("carrier_file.fields_of_call", list = list),
                    };
                    let message = t!(
                        "carrier_file.no_field",
                        field = path.top(),
                        key = key,
                        place = place
                    );
                    self.error(item, message, Some(help.into_owned()));
                    return None;
                }
                Some(path)
            })
            .collect();
        found.into_iter().collect()
    }

    fn sign_error(&mut self, node: &Node, place: &str) -> Option<SignError> {
        let within = crate::base::i18n::in_key("sign_error", place);
        let keys = Keys {
            allowed: &SIGN_ERROR_KEYS,
            place: &within,
            within: &within,
            what: &format!("`sign_error`{place}"),
            secret: false,
        };
        let fields = self.fields(node, &keys)?;
        self.require(&fields, node, &SIGN_ERROR_KEYS, &within);
        let resultcode = fields.given("resultcode").and_then(|v| match v.value {
            Value::Int(0) => {
                let message = t!("carrier_file.resultcode_zero", place = within);
                let help = t!("carrier_file.resultcode_zero_help").into_owned();
                self.error(v, message, Some(help));
                None
            }
            Value::Int(code) => match i64::try_from(code) {
                Ok(code) => Some(code),
                Err(_) => {
                    self.wrong_type(v, "resultcode", &within, &t!("expected.whole_number"));
                    None
                }
            },
            _ => {
                self.wrong_type(v, "resultcode", &within, &t!("expected.whole_number"));
                None
            }
        });
        let resultmsg = fields
            .given("resultmsg")
            .and_then(|v| self.text(v, "resultmsg", &within));
        Some(SignError {
            resultcode: resultcode?,
            resultmsg: resultmsg?,
        })
    }

    /// `order_defaults`: a mapping of order/add blocks, each a mapping of its fields.
    fn order_defaults(&mut self, node: &Node, place: &str) -> Option<DefaultsLayer> {
        let within = crate::base::i18n::in_key("order_defaults", place);
        let keys = Keys {
            allowed: &ORDER_BLOCKS,
            place: &within,
            within: &within,
            what: &format!("`order_defaults`{place}"),
            secret: false,
        };
        let fields = self.fields(node, &keys)?;
        let mut layer = BTreeMap::new();
        let mut ok = true;
        for (block, (key, value)) in &fields.found {
            match &value.value {
                Value::Null if *block == OPTIONAL_BLOCK => {
                    layer.insert((*block).to_owned(), None);
                }
                Value::Null => {
                    let message = t!("carrier_file.no_value", key = block, place = within);
                    let help = t!(
                        "carrier_file.block_no_value_help",
                        block = block,
                        optional = OPTIONAL_BLOCK
                    )
                    .into_owned();
                    self.error(key, message, Some(help));
                    ok = false;
                }
                Value::Map(entries) => {
                    let place =
                        crate::base::i18n::in_key(&format!("order_defaults.{block}"), place);
                    match self.json_object(entries, &place) {
                        Some(map) => {
                            layer.insert((*block).to_owned(), Some(map));
                        }
                        None => ok = false,
                    }
                }
                _ => {
                    let expected = t!("carrier_file.expected_fields_mapping");
                    self.wrong_type(value, block, &within, &expected);
                    ok = false;
                }
            }
        }
        ok.then_some(DefaultsLayer(layer))
    }

    /// A mapping as a JSON object, `${VAR}` expanded in its texts; `None` after a problem.
    fn json_object(&mut self, entries: &[(Node, Node)], place: &str) -> Option<Map<String, Json>> {
        let mut map = Map::new();
        let mut lines: BTreeMap<String, u64> = BTreeMap::new();
        let mut ok = true;
        for (key, value) in entries {
            let Some(name) = key.as_text() else {
                let found = key.describe();
                let message = t!("carrier_file.key_not_text", place = place, found = found);
                self.error(key, message, None);
                ok = false;
                continue;
            };
            if let Some(line) = lines.insert(name.clone(), key.line) {
                let message = t!(
                    "fields.duplicate_key",
                    key = name,
                    place = place,
                    line = line
                );
                let help = t!("fields.duplicate_key_help").into_owned();
                self.error(key, message, Some(help));
                ok = false;
                continue;
            }
            match self.json(value, &name, place) {
                Some(v) => {
                    map.insert(name, v);
                }
                None => ok = false,
            }
        }
        ok.then_some(map)
    }

    fn json(&mut self, node: &Node, key: &str, place: &str) -> Option<Json> {
        Some(match &node.value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => match (u64::try_from(*i), i64::try_from(*i)) {
                (Ok(u), _) => Json::from(u),
                (_, Ok(i)) => Json::from(i),
                _ => {
                    let message = t!("carrier_file.too_large", key = key, place = place);
                    self.error(node, message, None);
                    return None;
                }
            },
            Value::Float(f) => match serde_json::Number::from_f64(*f) {
                Some(n) => Json::Number(n),
                None => {
                    let found = node.describe();
                    let message = t!(
                        "carrier_file.not_finite",
                        key = key,
                        place = place,
                        found = found
                    );
                    self.error(node, message, None);
                    return None;
                }
            },
            Value::Str(raw) => Json::String(self.expand(node, raw, key, false)?),
            Value::Seq(items) => {
                let values: Vec<Option<Json>> =
                    items.iter().map(|i| self.json(i, key, place)).collect();
                Json::Array(values.into_iter().collect::<Option<Vec<Json>>>()?)
            }
            Value::Map(entries) => {
                Json::Object(self.json_object(entries, &crate::base::i18n::in_key(key, place))?)
            }
        })
    }

    fn aliases(&mut self, node: &Node, place: &str) -> Vec<(String, At)> {
        let Value::Seq(items) = &node.value else {
            self.wrong_type(node, "aliases", place, &t!("carrier_file.expected_names"));
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| {
                let text = self.text(item, "aliases", place)?;
                let alias = text.trim().to_ascii_lowercase();
                if alias.is_empty() {
                    let message = t!("carrier_file.empty_alias", place = place);
                    self.error(item, message, None);
                    return None;
                }
                Some((alias, (item.line, item.column)))
            })
            .collect()
    }

    fn names(&mut self, node: &Node, place: &str) -> Option<(String, String)> {
        let within = crate::base::i18n::in_key("name", place);
        let keys = Keys {
            allowed: &NAME_KEYS,
            place: &within,
            within: &within,
            what: &format!("`name`{place}"),
            secret: false,
        };
        let fields = self.fields(node, &keys)?;
        self.require(&fields, node, &NAME_KEYS, &within);
        let en = fields.given("en").and_then(|v| self.text(v, "en", &within));
        let zh = fields.given("zh").and_then(|v| self.text(v, "zh", &within));
        Some((en?, zh?))
    }

    fn call(&mut self, node: &Node, place: &str) -> Option<Call> {
        let words: Vec<&str> = CALLS.iter().map(|(w, _)| *w).collect();
        let text = node.as_text();
        if let Some((_, call)) = CALLS.iter().find(|(w, _)| Some(*w) == text.as_deref()) {
            return Some(*call);
        }
        let help = text
            .as_deref()
            .and_then(|t| did_you_mean(t, words.iter().copied()))
            .map(|s| t!("carrier_file.call_did_you_mean", word = s).into_owned());
        let expected = match words.split_last() {
            Some((last, rest)) => t!("expected.either", min = rest.join(", "), max = last),
            None => "".into(),
        };
        let found = node.describe();
        let message = t!(
            "fields.wrong_type",
            key = "call",
            place = place,
            expected = expected,
            found = found
        );
        self.error(node, message, help);
        None
    }

    fn account(&mut self, node: &Node, place: &str) -> Option<Account> {
        let within = crate::base::i18n::in_key("account", place);
        let keys = Keys {
            allowed: &ACCOUNT_KEYS,
            place: &within,
            within: &within,
            what: &format!("`account`{place}"),
            secret: true,
        };
        let fields = self.fields(node, &keys)?;
        self.require(&fields, node, &ACCOUNT_KEYS, &within);
        let shopid = fields
            .given("shopid")
            .and_then(|v| self.text(v, "shopid", &within));
        let appsecret = fields
            .given("appsecret")
            .and_then(|v| self.appsecret(v, &within));
        let shop_no = fields
            .given("shop_no")
            .and_then(|v| self.text(v, "shop_no", &within));
        Some(Account {
            shopid: shopid?,
            appsecret: appsecret?,
            shop_no: shop_no?,
        })
    }

    /// The appsecret: text, `${VAR}` expanded; never quoted, and masked in every message.
    fn appsecret(&mut self, node: &Node, place: &str) -> Option<Secret> {
        let Some(raw) = node.as_text() else {
            let message = t!(
                "carrier_file.appsecret_not_text",
                place = place,
                kind = node.kind()
            );
            let help = t!("carrier_file.appsecret_not_text_help").into_owned();
            self.error(node, message, Some(help));
            return None;
        };
        self.secrets.push(Secret::new(raw.clone()));
        let expanded = self.expand(node, &raw, "appsecret", true)?;
        if expanded.trim().is_empty() {
            let message = t!("carrier_file.appsecret_empty", place = place);
            let help = t!("carrier_file.appsecret_empty_help").into_owned();
            self.error(node, message, Some(help));
            return None;
        }
        Some(Secret::new(expanded))
    }

    /// A text value (a number is taken as written), `${VAR}` expanded.
    fn text(&mut self, node: &Node, key: &str, place: &str) -> Option<String> {
        let Some(raw) = node.as_text() else {
            self.wrong_type(node, key, place, &t!("expected.text"));
            return None;
        };
        self.expand(node, &raw, key, false)
    }

    fn expand(&mut self, node: &Node, raw: &str, key: &str, secret: bool) -> Option<String> {
        match env::expand(raw, self.env, key, secret) {
            Ok(expanded) => {
                if secret {
                    self.secrets
                        .extend(expanded.read.into_iter().map(Secret::new));
                }
                Some(expanded.text)
            }
            Err(problems) => {
                for problem in problems {
                    self.error(node, problem.message, Some(problem.help));
                }
                None
            }
        }
    }

    /// A status code; a problem when it is none.
    fn status(&mut self, node: &Node, key: &str) -> Option<Status> {
        match &node.value {
            Value::Int(code) => {
                let found = u16::try_from(*code).ok().and_then(Status::from_code);
                if found.is_none() {
                    let message = t!("carrier_file.unknown_code", code = code);
                    self.error(node, message, Some(known_codes()));
                }
                found
            }
            _ => {
                let found = node.describe();
                let message = t!("carrier_file.code_not_number", key = key, found = found);
                self.error(node, message, Some(known_codes()));
                None
            }
        }
    }

    /// A list of status codes, in order; `None` after a problem.
    fn statuses(&mut self, node: &Node, key: &str, place: &str) -> Option<Vec<Status>> {
        let Value::Seq(items) = &node.value else {
            self.wrong_type(node, key, place, &t!("carrier_file.expected_codes"));
            return None;
        };
        let found: Vec<Option<Status>> = items.iter().map(|i| self.status(i, key)).collect();
        found.into_iter().collect()
    }

    fn edges(&mut self, node: &Node, key: &str, place: &str) -> Option<BTreeSet<(Status, Status)>> {
        let Value::Seq(items) = &node.value else {
            self.wrong_type(node, key, place, &t!("carrier_file.expected_edges"));
            return None;
        };
        let mut edges = BTreeSet::new();
        let mut ok = true;
        for item in items {
            match &item.value {
                Value::Seq(pair) if pair.len() == 2 => {
                    let from = self.status(&pair[0], key);
                    let to = self.status(&pair[1], key);
                    match (from, to) {
                        (Some(from), Some(to)) => {
                            edges.insert((from, to));
                        }
                        _ => ok = false,
                    }
                }
                _ => {
                    let found = item.describe();
                    let message = t!(
                        "carrier_file.bad_edge",
                        key = key,
                        place = place,
                        found = found
                    );
                    self.error(item, message, None);
                    ok = false;
                }
            }
        }
        ok.then_some(edges)
    }
}

pub(super) fn known_codes() -> String {
    let codes: Vec<String> = Status::all().map(|s| s.code().to_string()).collect();
    t!("carrier_file.known_codes", list = codes.join(", ")).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::carriers::Carriers;

    fn env(pairs: &[(&str, &str)]) -> Env {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn builtin() -> Carriers {
        match Carriers::builtin() {
            Ok(c) => c,
            Err(p) => panic!("{p:?}"),
        }
    }

    fn problems(text: &str, env: &Env) -> Vec<String> {
        match Carriers::extend(builtin(), text, "c.yaml", env) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(p) => p.iter().map(ToString::to_string).collect(),
        }
    }

    fn table(text: &str, env: &Env) -> Carriers {
        match Carriers::extend(builtin(), text, "c.yaml", env) {
            Ok(t) => t,
            Err(p) => panic!("{p:#?}"),
        }
    }

    const ACME: &str = "carriers:\n  - id: acme\n    delivery_id: ACME\n    name: { en: Acme Courier, zh: 示例快送 }\n    call: realmock\n    version: acme-1\n    account:\n      shopid: SHOPID\n      appsecret: SECRET\n      shop_no: m1\n    statuses: [102, 302]\n";

    fn acme(shopid: &str, secret: &str) -> String {
        ACME.replace("SHOPID", shopid).replace("SECRET", secret)
    }

    #[test]
    fn every_problem_is_located_and_none_is_called_invalid_yaml() {
        let text = "replace_builtin: yes\nlifecycle:\n  101: [102, 999]\n  abc: [102]\ncarriers:\n  - id: acme\n    delivry_id: ACME\n    name: { en: Acme Courier }\n    call: realmok\n    version: acme-1\n    account: { shopid: m, appsecret: [s3cr3t-in-a-list], shop_no: n }\n    statuses: 102\n  - 5\nextra: 1\n";
        let p = problems(text, &env(&[]));
        let expected = [
            "c.yaml:1:18: error: `replace_builtin` must be true or false, found the text `yes`",
            "c.yaml:3:14: error: unknown status code 999",
            "c.yaml:4:3: error: a status code in `lifecycle` must be a number, found the text `abc`",
            "c.yaml:7:5: error: unknown key `delivry_id` in carrier `acme`",
            "c.yaml:8:11: error: missing `zh` in `name` in carrier `acme`",
            "c.yaml:9:11: error: `call` in carrier `acme` must be realmock, test_update_order or none, found the text `realmok`",
            "c.yaml:11:38: error: `appsecret` in `account` in carrier `acme` must be text, found a list (the value is not shown)",
            "c.yaml:12:15: error: `statuses` in carrier `acme` must be a list of status codes, found the number `102`",
            "c.yaml:13:5: error: carrier 2 must be a mapping, found the number `5`",
            "c.yaml:14:1: error: unknown key `extra`",
        ];
        assert_eq!(p.len(), expected.len(), "{p:#?}");
        for (found, want) in p.iter().zip(expected) {
            assert!(found.starts_with(want), "{found}\n  wanted {want}");
        }
        assert!(p[3].contains("did you mean `delivery_id`?"), "{p:#?}");
        assert!(p[5].contains("did you mean `realmock`?"), "{p:#?}");
        assert!(p.iter().all(|m| !m.contains("invalid YAML")), "{p:#?}");
        assert!(p.iter().all(|m| !m.contains("s3cr3t")), "{p:#?}");
        // A misspelt key is not reported missing as well.
        assert!(
            !p.iter().any(|m| m.contains("missing `delivery_id`")),
            "{p:#?}"
        );
    }

    #[test]
    fn missing_fields_and_syntax_errors() {
        let p = problems("carriers:\n  - id: x\n    call: realmock\n", &env(&[]));
        let missing: Vec<&str> = p
            .iter()
            .map(|m| m.trim_start_matches("c.yaml:2:5: error: missing "))
            .collect();
        assert_eq!(
            missing,
            [
                "`delivery_id` in carrier `x`",
                "`name` in carrier `x`",
                "`version` in carrier `x`",
                "`account` in carrier `x`",
                "`statuses` in carrier `x`"
            ]
        );
        // Only a file that is not YAML at all is "invalid YAML".
        let p = problems("carriers: [\n", &env(&[]));
        assert!(p[0].contains("error: invalid YAML"), "{p:#?}");
    }

    #[test]
    fn variables_expand_in_every_text_value() {
        let env = env(&[
            ("FN_SECRET", "fn-secret-from-env-1"),
            ("FN_SHOP", "fn-shop"),
        ]);
        let t = table(&acme("${FN_SHOP}", "${FN_SECRET}"), &env);
        let Some(c) = t.find("acme") else {
            panic!("no acme")
        };
        assert_eq!(c.account.shopid, "fn-shop");
        assert_eq!(c.account.appsecret.expose(), "fn-secret-from-env-1");
        // A value read from a variable is not expanded again.
        let env2 = crate::base::env::Env::from([("V".to_owned(), "${FN_SHOP}".to_owned())]);
        let t = table(&acme("${V}", "x"), &env2);
        assert_eq!(
            t.find("acme").map(|c| c.account.shopid.clone()).as_deref(),
            Some("${FN_SHOP}")
        );
    }

    #[test]
    fn a_missing_variable_is_located_and_a_secret_is_never_quoted() {
        let p = problems(&acme("${NO_SUCH_SHOP}", "${NO_SUCH_SECRET}"), &env(&[]));
        assert_eq!(
            p,
            [
                "c.yaml:8:15: error: environment variable `NO_SUCH_SHOP` is not set (used in `shopid`)\n  help: set `NO_SUCH_SHOP` before running, or write the value in the file",
                "c.yaml:9:18: error: environment variable `NO_SUCH_SECRET` is not set (used in `appsecret`)\n  help: set `NO_SUCH_SECRET` before running, or write the value in the file",
            ]
        );
        // A secret written where a variable name belongs, or run together with its key.
        let p = problems(&acme("s", "${d80400f91e156f63}"), &env(&[]));
        assert!(p[0].contains("not shown"), "{p:#?}");
        assert!(!p[0].contains("d80400f9"), "{p:#?}");
        let text = acme("s", "x").replace("appsecret: x", "appsecret:Leaky1234567: x");
        let p = problems(&text, &env(&[]));
        assert!(p.iter().all(|m| !m.contains("Leaky1234567")), "{p:#?}");
        assert!(
            p[0].contains(
                "unknown key in `account` in carrier `acme` (not shown: it may hold a secret)"
            ),
            "{p:#?}"
        );
        // The last line of defence: a message that would quote the secret masks it.
        let env = env(&[("S", "the-secret-value-9")]);
        let text = format!("version: [the-secret-value-9]\n{}", acme("s", "${S}"));
        let p = problems(&text, &env);
        assert_eq!(
            p,
            ["c.yaml:1:10: error: `version` must be text, found the list `[***]`"]
        );
        let text =
            acme("s", "plain-secret-8").replace("version: acme-1", "version: [plain-secret-8]");
        let p = problems(&text, &env);
        assert!(p[0].contains("found the list `[***]`"), "{p:#?}");
    }

    #[test]
    fn duplicate_ids_and_name_clashes_are_located() {
        let twice = format!(
            "{}{}",
            acme("a", "x"),
            &acme("b", "y")["carriers:\n".len()..]
        );
        let p = problems(&twice, &env(&[]));
        assert_eq!(
            p,
            [
                "c.yaml:12:9: error: carrier `acme` is defined twice\n  help: its first profile is at line 2 (ids are compared in lower case): merge the two or rename one"
            ]
        );
        let clash = acme("a", "x").replace("    delivery_id", "    aliases: [sf]\n    delivery_id");
        let p = problems(&clash, &env(&[]));
        assert_eq!(
            p,
            ["c.yaml:3:15: error: the name `sf` belongs to both `sftc` and `acme`"]
        );
        let empty = table("", &env(&[]));
        assert_eq!(empty.all().len(), 5);
    }

    #[test]
    fn name_clashes_are_reported_with_the_other_problems_at_once() {
        // A bad `call` in the first profile, and the second one's id written again (in
        // another case) with an alias the first one has.
        let first = acme("a", "x").replace("call: realmock", "call: realmok");
        let second = acme("b", "y")["carriers:\n".len()..]
            .replace("id: acme", "id: ACME")
            .replace("    delivery_id", "    aliases: [acme]\n    delivery_id");
        let p = problems(&format!("{first}{second}"), &env(&[]));
        assert_eq!(p.len(), 2, "{p:#?}");
        assert!(p[0].contains("`call` in carrier `acme` must be"), "{p:#?}");
        assert!(p[1].contains("carrier `acme` is defined twice"), "{p:#?}");
        assert!(p[1].contains("first profile is at line 2"), "{p:#?}");
    }

    #[test]
    fn odd_files_are_problems_not_panics() {
        for text in [
            "- a\n",
            "[]\n",
            "7\n",
            "carriers: {a: 1}\n",
            "carriers: [~, [], 5, {}]\n",
            "carriers: [{id: [x], name: [], account: ~, statuses: [[1]]}]\n",
            "carriers: [{id: \"  \", aliases: [\"\", [a]], extra_edges: [1, [102], [\"a\", 102]]}]\n",
            "lifecycle: [1]\n",
            "lifecycle: {101: 5, [a]: [102], 101: [102]}\n",
            "order_defaults: {sender: {lng: .nan}, cargo: {a: {b: [{c: ~}]}, [k]: 1}}\n",
            "order_defaults: 5\n",
            "? [a]\n: b\n",
            "replace_builtin: ~\nversion: ~\ncarriers: ~\n",
        ] {
            // Either a table or located problems; never a panic.
            if let Err(problems) = Carriers::extend(builtin(), text, "c.yaml", &env(&[])) {
                assert!(!problems.is_empty(), "{text}");
            }
        }
    }
}
