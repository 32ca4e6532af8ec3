//! Carrier profiles and the transition rule, read from a YAML file (built in, or `--carriers`).
//!
//! The runner, the scenario checks and the emulator all ask this module what a carrier may do
//! and what it requires, so there is one source of truth for supported statuses, transitions
//! and each carrier's quirks ([`quirks`]): nothing outside it tells carriers apart by id.

use rust_i18n::t;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use crate::base::diag::{Diagnostic, did_you_mean};
use crate::base::env::Env;
use crate::base::secret::Secret;
use crate::model::statuses::Status;

mod file;
pub mod quirks;
pub mod rules;
pub use rules::OrderRules;

use file::{At, FileData};
pub use quirks::{
    DefaultsLayer, FieldPath, ORDER_ADD_FIELDS, ORDER_BLOCKS, ORDER_CANCEL_FIELDS, Required,
    SignError,
};

/// The built-in carrier file.
pub const BUILTIN_YAML: &str = include_str!("carriers.yaml");
const BUILTIN_NAME: &str = "<built-in carriers.yaml>";

/// Which WeChat call moves this carrier's orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `realmock_update_order`: forwarded to the carrier's test environment, signed.
    Realmock,
    /// `test_update_order`: the sandbox (`delivery_id` TEST), never reaches a carrier.
    TestUpdateOrder,
    /// No test call reaches this carrier (realmock reaches SF and Dada only): its profile is
    /// for the order APIs, and in the emulator its orders move by the carrier side's
    /// `delivery/update_order`. A scenario cannot play it.
    None,
}

/// A carrier's public test account.
#[derive(Debug, Clone)]
pub struct Account {
    pub shopid: String,
    pub appsecret: Secret,
    pub shop_no: String,
}

/// One carrier profile.
#[derive(Debug, Clone)]
pub struct Carrier {
    pub id: String,
    pub aliases: Vec<String>,
    /// WeChat's `delivery_id` (`SFTC`, `DADA`, `TEST`).
    pub delivery_id: String,
    pub name_en: String,
    pub name_zh: String,
    pub call: Call,
    /// The profile's version, carried into reports.
    pub version: String,
    pub account: Account,
    /// Statuses this carrier's test account can be moved to.
    pub supported: BTreeSet<Status>,
    /// Fields its calls need beyond the platform's own (`required`).
    pub required: Required,
    /// Its answer to a wrong `delivery_sign` (`sign_error`).
    pub sign_error: SignError,
    /// The `order/add` defaults: the table's `order_defaults` with the profile's over them.
    pub order_defaults: Map<String, Json>,
    /// The profile's own `order_defaults`, to lay over another file's table defaults.
    own_defaults: DefaultsLayer,
    /// Its rules for tips, cancels, re-dispatch and pre_add (`order_rules`).
    pub order_rules: OrderRules,
    extra_edges: BTreeSet<(Status, Status)>,
    forbidden_edges: BTreeSet<(Status, Status)>,
    lifecycle: Arc<Lifecycle>,
}

/// The general graph: for each status, the statuses an order may go to next.
#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    next: BTreeMap<Status, Vec<Status>>,
}

impl Lifecycle {
    pub fn next(&self, from: Status) -> &[Status] {
        self.next.get(&from).map(Vec::as_slice).unwrap_or(&[])
    }
}

impl Carrier {
    pub fn supports(&self, status: Status) -> bool {
        self.supported.contains(&status)
    }

    /// Whether an order of this carrier may go from `from` to `to` in one update.
    pub fn allows(&self, from: Status, to: Status) -> bool {
        self.allowed_next(from).contains(&to)
    }

    /// Every status this carrier may move an order to from `from`, in code order.
    ///
    /// B is allowed when the carrier supports it and the general graph reaches it from A
    /// through statuses the carrier does not support; explicit extra edges are added and
    /// forbidden ones removed.
    pub fn allowed_next(&self, from: Status) -> Vec<Status> {
        let mut allowed = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut stack: Vec<Status> = self.lifecycle.next(from).to_vec();
        while let Some(status) = stack.pop() {
            if !seen.insert(status) {
                continue;
            }
            if self.supports(status) {
                allowed.insert(status);
            } else {
                stack.extend_from_slice(self.lifecycle.next(status));
            }
        }
        for (a, b) in &self.extra_edges {
            if *a == from {
                allowed.insert(*b);
            }
        }
        allowed.retain(|to| !self.forbidden_edges.contains(&(from, *to)));
        allowed.into_iter().collect()
    }

    /// Every name this carrier answers to.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// The carrier table in force for a run.
#[derive(Debug, Clone)]
pub struct Carriers {
    /// The table's version, carried into reports.
    pub version: String,
    pub lifecycle: Arc<Lifecycle>,
    /// The table's `order_defaults`, before any profile's own.
    order_defaults: Map<String, Json>,
    carriers: Vec<Arc<Carrier>>,
}

impl Carriers {
    /// The table compiled into the binary (it reads no `${VAR}`).
    pub fn builtin() -> Result<Carriers, Vec<Diagnostic>> {
        let data = file::read(BUILTIN_YAML, BUILTIN_NAME, &Env::new())?;
        build(None, data, BUILTIN_NAME)
    }

    /// The built-in table, replaced or extended by `file` when one is given; `${VAR}` in the
    /// file reads `env`.
    pub fn load(file: Option<&Path>, env: &Env) -> Result<Carriers, Vec<Diagnostic>> {
        let builtin = Carriers::builtin()?;
        let Some(path) = file else { return Ok(builtin) };
        let name = path.display().to_string();
        let text = crate::base::files::read_text(path).map_err(|d| vec![d])?;
        Carriers::extend(builtin, &text, &name, env)
    }

    /// `base` replaced or extended by the carrier file `text`, named `file` in messages.
    pub fn extend(
        base: Carriers,
        text: &str,
        file: &str,
        env: &Env,
    ) -> Result<Carriers, Vec<Diagnostic>> {
        let data = file::read(text, file, env)?;
        build(Some(base), data, file)
    }

    /// For the fuzz target (`crate::fuzzing`): `text` as a `--carriers` file.
    pub(crate) fn fuzz_check(text: &str) {
        let Ok(builtin) = Carriers::builtin() else {
            return;
        };
        let env = Env::from([("VAR".to_owned(), "value".to_owned())]);
        if let Ok(table) = Carriers::extend(builtin, text, "fuzz.yaml", &env) {
            for carrier in table.all() {
                for status in Status::all() {
                    let _ = carrier.allowed_next(status);
                }
            }
        }
    }

    pub fn all(&self) -> &[Arc<Carrier>] {
        &self.carriers
    }

    /// A carrier by id or alias, in any case.
    pub fn find(&self, name: &str) -> Option<&Arc<Carrier>> {
        self.carriers
            .iter()
            .find(|c| c.names().any(|n| n.eq_ignore_ascii_case(name.trim())))
    }

    /// The carrier whose test account has this shopid.
    pub fn by_shopid(&self, shopid: &str) -> Option<&Arc<Carrier>> {
        self.carriers.iter().find(|c| c.account.shopid == shopid)
    }

    /// "known carriers: dada, sandbox (test), sftc (sf, shunfeng)", for error messages.
    pub fn describe_known(&self) -> String {
        let list: Vec<String> = self
            .carriers
            .iter()
            .map(|c| {
                if c.aliases.is_empty() {
                    c.id.clone()
                } else {
                    format!("{} ({})", c.id, c.aliases.join(", "))
                }
            })
            .collect();
        t!("carrier.known", list = list.join(", ")).into_owned()
    }

    /// The carrier name closest to a misspelt one.
    pub fn suggest(&self, name: &str) -> Option<&str> {
        did_you_mean(name, self.carriers.iter().flat_map(|c| c.names()))
    }

    /// What to say about a name that is no carrier's: the one wording for every command.
    pub fn unknown(&self, name: &str) -> UnknownCarrier {
        let known = self.describe_known();
        UnknownCarrier {
            message: t!("carrier.unknown", name = name).into_owned(),
            help: match self.suggest(name) {
                Some(s) => t!("carrier.did_you_mean", name = s, known = known).into_owned(),
                None => known,
            },
        }
    }
}

/// "unknown carrier `dad`", with the help "did you mean `dada`? known carriers: …".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCarrier {
    pub message: String,
    pub help: String,
}

impl std::fmt::Display for UnknownCarrier {
    /// On one line, for messages without a separate help.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.message, self.help)
    }
}

/// Builds the table of `data` (read from `file`) over `base`, the table it extends.
fn build(base: Option<Carriers>, data: FileData, file: &str) -> Result<Carriers, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let at = |(line, column): At, message: String| Diagnostic::new(file, line, column, message);
    let lifecycle = match data.lifecycle {
        Some(next) => Arc::new(Lifecycle { next }),
        None => match &base {
            Some(base) => base.lifecycle.clone(),
            None => {
                problems.push(at(data.at, t!("carrier_file.no_lifecycle").into_owned()));
                Arc::new(Lifecycle::default())
            }
        },
    };
    let version = data
        .version
        .or_else(|| base.as_ref().map(|b| b.version.clone()))
        .unwrap_or_else(|| "unversioned".to_owned());
    // A file's table defaults change the ones it extends key by key, as profiles do.
    let order_defaults = data.order_defaults.unwrap_or_default().over(
        &base
            .as_ref()
            .map(|b| b.order_defaults.clone())
            .unwrap_or_default(),
    );

    let mut carriers: Vec<Arc<Carrier>> = match &base {
        Some(base) if !data.replace_builtin => base
            .carriers
            .iter()
            // Built-in profiles follow the new lifecycle and table defaults when the file
            // gives them.
            .map(|c| {
                Arc::new(Carrier {
                    lifecycle: lifecycle.clone(),
                    order_defaults: c.own_defaults.over(&order_defaults),
                    ..Carrier::clone(c)
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    // Where each name of this file's profiles is written, to locate a clash.
    let mut written: BTreeMap<(String, String), At> = BTreeMap::new();
    let mut ids_in_file: BTreeMap<String, At> = BTreeMap::new();
    for rc in data.carriers {
        let id = rc.id;
        if let Some(first) = ids_in_file.get(&id) {
            problems.push(file::defined_twice(file, &id, rc.id_at, first.0));
            continue;
        }
        ids_in_file.insert(id.clone(), rc.id_at);
        written.insert((id.clone(), id.clone()), rc.id_at);
        for (alias, alias_at) in &rc.aliases {
            written.insert((id.clone(), alias.clone()), *alias_at);
        }
        let carrier = Carrier {
            id: id.clone(),
            aliases: rc.aliases.into_iter().map(|(a, _)| a).collect(),
            delivery_id: rc.delivery_id,
            name_en: rc.name_en,
            name_zh: rc.name_zh,
            call: rc.call,
            version: rc.version,
            account: rc.account,
            supported: rc.supported,
            required: rc.required,
            sign_error: rc.sign_error,
            order_defaults: rc.order_defaults.over(&order_defaults),
            own_defaults: rc.order_defaults,
            order_rules: rc.order_rules,
            extra_edges: rc.extra_edges,
            forbidden_edges: rc.forbidden_edges,
            lifecycle: lifecycle.clone(),
        };
        carriers.retain(|c| c.id != id);
        carriers.push(Arc::new(carrier));
    }
    // Every name must point at one carrier.
    let mut owners: BTreeMap<String, String> = BTreeMap::new();
    for carrier in &carriers {
        for name in carrier.names() {
            if let Some(other) = owners.insert(name.to_owned(), carrier.id.clone()) {
                let place = written
                    .get(&(carrier.id.clone(), name.to_owned()))
                    .or_else(|| written.get(&(other.clone(), name.to_owned())))
                    .copied()
                    .unwrap_or(data.at);
                problems.push(at(place, file::name_clash(name, &other, &carrier.id)));
            }
        }
    }
    carriers.sort_by(|a, b| a.id.cmp(&b.id));
    if problems.is_empty() {
        Ok(Carriers {
            version,
            lifecycle,
            order_defaults,
            carriers,
        })
    } else {
        problems.sort_by_key(|d| (d.line, d.column));
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    fn builtin() -> Carriers {
        match Carriers::builtin() {
            Ok(c) => c,
            Err(problems) => panic!("built-in carrier file is invalid: {problems:?}"),
        }
    }

    fn codes(statuses: &[Status]) -> Vec<u16> {
        statuses.iter().map(|s| s.code()).collect()
    }

    #[test]
    fn builtin_has_five_carriers_with_their_accounts() {
        let table = builtin();
        let ids: Vec<&str> = table.all().iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["dada", "mtps", "sandbox", "sftc", "ss"]);
        let sf = table.find("SF").map(|c| c.id.clone());
        assert_eq!(sf.as_deref(), Some("sftc"));
        assert_eq!(
            table.find("shunfeng").map(|c| c.delivery_id.as_str()),
            Some("SFTC")
        );
        assert_eq!(
            table.find("Test").map(|c| c.call),
            Some(Call::TestUpdateOrder)
        );
        assert!(table.find("acmeco").is_none());
        // 闪送 and MTPS have profiles for the order APIs, but no test call reaches them.
        for (name, delivery_id) in [("meituan", "MTPS"), ("ss", "SS"), ("shansong", "SS")] {
            let found = table.find(name);
            assert_eq!(found.map(|c| c.delivery_id.as_str()), Some(delivery_id));
            assert_eq!(found.map(|c| c.call), Some(Call::None));
        }
        assert_eq!(table.suggest("dad"), Some("dada"));
        assert_eq!(
            table.unknown("dad").to_string(),
            "unknown carrier `dad`: did you mean `dada`? known carriers: dada, mtps (meituan), sandbox (test), sftc (sf, shunfeng), ss (shansong)"
        );
        assert_eq!(
            table.unknown("zzzzzz").help,
            "known carriers: dada, mtps (meituan), sandbox (test), sftc (sf, shunfeng), ss (shansong)"
        );
        let dada = table
            .find("dada")
            .map(|c| (c.account.shopid.clone(), c.account.shop_no.clone()));
        assert_eq!(
            dada,
            Some(("dadaaee18818d97e236".to_owned(), "77071-47913".to_owned()))
        );
    }

    #[test]
    fn supported_sets_match_the_published_lists() {
        let table = builtin();
        let sets: Vec<(String, Vec<u16>)> = table
            .all()
            .iter()
            .map(|c| (c.id.clone(), c.supported.iter().map(|s| s.code()).collect()))
            .collect();
        assert_eq!(
            sets[0],
            ("dada".to_owned(), vec![102, 201, 202, 301, 302, 304, 305])
        );
        assert_eq!(sets[1], ("mtps".to_owned(), vec![]));
        assert_eq!(sets[3], ("sftc".to_owned(), vec![102, 202, 302]));
        assert_eq!(sets[4], ("ss".to_owned(), vec![]));
        assert_eq!(
            sets[2].1.len(),
            15,
            "the sandbox takes every status but the initial one"
        );
    }

    #[test]
    fn sf_skips_the_statuses_it_does_not_support() {
        let table = builtin();
        let Some(sf) = table.find("sftc") else {
            panic!("no sftc")
        };
        assert_eq!(codes(&sf.allowed_next(AwaitingRider)), [102]);
        assert_eq!(codes(&sf.allowed_next(RiderAssigned)), [202]);
        assert_eq!(codes(&sf.allowed_next(PickedUp)), [302]);
        assert!(sf.allowed_next(Delivered).is_empty());
        assert!(!sf.allows(RiderAssigned, Delivered));
    }

    #[test]
    fn dada_must_pass_at_store_and_delivering() {
        let table = builtin();
        let Some(dada) = table.find("dada") else {
            panic!("no dada")
        };
        assert_eq!(codes(&dada.allowed_next(RiderAssigned)), [201]);
        assert_eq!(codes(&dada.allowed_next(AtStore)), [202]);
        assert_eq!(codes(&dada.allowed_next(PickedUp)), [301]);
        assert_eq!(codes(&dada.allowed_next(Delivering)), [302, 304, 305]);
        assert!(
            dada.allowed_next(RecipientUnreachable).is_empty(),
            "401 is not Dada's"
        );
    }

    #[test]
    fn sandbox_follows_the_general_graph() {
        let table = builtin();
        let Some(sandbox) = table.find("sandbox") else {
            panic!("no sandbox")
        };
        assert_eq!(
            codes(&sandbox.allowed_next(AwaitingRider)),
            [102, 103, 501, 502]
        );
        assert_eq!(
            codes(&sandbox.allowed_next(RiderAssigned)),
            [103, 201, 203, 204, 205, 501, 502]
        );
        assert_eq!(codes(&sandbox.allowed_next(RecipientRefused)), [401]);
        for status in Status::all().filter(|s| s.is_terminal()) {
            assert!(
                sandbox.allowed_next(status).is_empty(),
                "{status} is terminal"
            );
        }
    }

    #[test]
    fn a_user_file_extends_replaces_and_edits_edges() {
        let user = r#"
carriers:
  - id: dada
    delivery_id: DADA
    name: { en: Dada, zh: 达达 }
    call: realmock
    version: dada-custom
    account: { shopid: s, appsecret: x, shop_no: n }
    statuses: [102, 201, 202, 301, 302]
    extra_edges: [[102, 202]]
    forbidden_edges: [[301, 302]]
  - id: acme
    aliases: [acmeco]
    delivery_id: ACME
    name: { en: Acme Courier, zh: 示例快送 }
    call: realmock
    version: acme-1
    account: { shopid: m, appsecret: y, shop_no: n }
    statuses: [102, 302]
"#;
        let table = match Carriers::extend(builtin(), user, "user.yaml", &Env::new()) {
            Ok(t) => t,
            Err(e) => panic!("{e:?}"),
        };
        assert_eq!(table.all().len(), 6);
        let Some(dada) = table.find("dada") else {
            panic!("no dada")
        };
        assert_eq!(dada.version, "dada-custom");
        assert_eq!(codes(&dada.allowed_next(RiderAssigned)), [201, 202]);
        assert!(dada.allowed_next(Delivering).is_empty());
        assert_eq!(
            table.find("acmeco").map(|c| c.delivery_id.as_str()),
            Some("ACME")
        );
    }

    #[test]
    fn a_bad_user_file_says_where() {
        let user = "carriers:\n  - id: x\n    delivery_id: X\n    name: { en: X, zh: X }\n    call: realmock\n    version: v\n    account: { shopid: s, appsecret: x, shop_no: n }\n    statuses: [102, 999]\n";
        let problems = match Carriers::extend(builtin(), user, "bad.yaml", &Env::new()) {
            Ok(_) => panic!("accepted"),
            Err(p) => p,
        };
        assert_eq!(problems.len(), 1);
        assert_eq!((problems[0].line, problems[0].column), (8, 21));
        assert!(problems[0].message.contains("999"));
    }

    #[test]
    fn carrier_file_problems_never_show_a_secret() {
        let secret = "d80400f91e156f63b38886e616d84590";
        let carrier = |account: &str, extra: &str| {
            format!(
                "carriers:\n  - id: x\n{extra}    delivery_id: X\n    name: {{ en: X, zh: X }}\n    call: realmock\n    version: v\n    account: {account}\n    statuses: [102]\n"
            )
        };
        let texts = [
            // A secret where a key belongs: in `account:`, at the top of a carrier, at the top.
            carrier(&format!("{{ shopid: s, {secret}: x, shop_no: n }}"), ""),
            carrier(
                "{ shopid: s, appsecret: x, shop_no: n }",
                &format!("    {secret}: 1\n"),
            ),
            format!(
                "{secret}: 1\n{}",
                carrier("{ shopid: s, appsecret: x, shop_no: n }", "")
            ),
            // The secret's key run together with it, and a secret of the wrong type.
            carrier(
                &format!("{{ shopid: s, appsecret{secret}: x, shop_no: n }}"),
                "",
            ),
            carrier(
                &format!("{{ shopid: s, appsecret: [{secret}], shop_no: n }}"),
                "",
            ),
        ];
        for text in texts {
            let Err(problems) = Carriers::extend(builtin(), &text, "c.yaml", &Env::new()) else {
                panic!("loaded: {text}")
            };
            let shown = format!("{problems:?}");
            assert!(!shown.contains("d80400f9"), "{text}\n{shown}");
        }
    }

    #[test]
    fn builtin_quirks_are_data() {
        let table = builtin();
        let quirks = |id: &str| match table.find(id) {
            Some(c) => {
                let paths = |p: &[FieldPath]| p.iter().map(ToString::to_string).collect::<Vec<_>>();
                (
                    paths(&c.required.order_add),
                    paths(&c.required.order_cancel),
                    c.sign_error.clone(),
                    c.order_defaults["sender"]["city"].clone(),
                )
            }
            None => panic!("no {id}"),
        };
        let default_sign = SignError {
            resultcode: 1,
            resultmsg: "签名校验失败".to_owned(),
        };
        assert_eq!(SignError::default(), default_sign);
        assert_eq!(
            quirks("sftc"),
            (
                vec!["sender".to_owned(), "order_info.order_time".to_owned()],
                vec!["waybill_id".to_owned()],
                default_sign.clone(),
                "深圳市".into()
            )
        );
        assert_eq!(
            quirks("dada"),
            (
                vec![],
                vec![],
                SignError {
                    resultcode: 2003,
                    resultmsg: "签名错误".to_owned()
                },
                "上海市".into()
            )
        );
        assert_eq!(
            quirks("sandbox"),
            (vec![], vec![], default_sign, "深圳市".into())
        );
        // Dada changes only the places, key by key: the rest is the table's.
        let Some(dada) = table.find("dada") else {
            panic!("no dada")
        };
        assert_eq!(dada.order_defaults["sender"]["name"], "simulate 测试门店");
        assert_eq!(dada.order_defaults["cargo"]["goods_value"], 36.5);
        assert!(
            dada.order_defaults["order_info"]
                .get("order_time")
                .is_none()
        );
    }

    #[test]
    fn a_user_file_gives_a_carrier_every_quirk() {
        let user = r#"
order_defaults:
  cargo: { goods_value: 99, cargo_second_class: ~ }
carriers:
  - id: acme
    delivery_id: ACME
    name: { en: Acme Courier, zh: 示例快送 }
    call: realmock
    version: acme-1
    account: { shopid: m, appsecret: y, shop_no: n }
    statuses: [102, 302]
    required:
      order_add: [shop_no, order_info.expected_delivery_time]
      order_cancel: [cancel_reason]
    sign_error: { resultcode: 40013, resultmsg: 美团签名错误 }
    order_defaults:
      sender: ~
      receiver: { city: 北京市 }
      order_info: { order_type: 1, expected_delivery_time: 1795990000 }
"#;
        let table = match Carriers::extend(builtin(), user, "user.yaml", &Env::new()) {
            Ok(t) => t,
            Err(e) => panic!("{e:#?}"),
        };
        let Some(acme) = table.find("acme") else {
            panic!("no acme")
        };
        let paths: Vec<String> = acme
            .required
            .order_add
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(paths, ["shop_no", "order_info.expected_delivery_time"]);
        assert_eq!(acme.required.order_cancel[0].to_string(), "cancel_reason");
        assert_eq!(
            (
                acme.sign_error.resultcode,
                acme.sign_error.resultmsg.as_str()
            ),
            (40013, "美团签名错误")
        );
        let d = &acme.order_defaults;
        assert!(d.get("sender").is_none(), "`sender: ~` drops the block");
        assert_eq!(d["receiver"]["city"], "北京市");
        assert_eq!(
            d["receiver"]["name"], "测试收件人",
            "the rest is the table's"
        );
        assert_eq!(d["order_info"]["order_type"], 1);
        assert_eq!(d["order_info"]["is_insured"], 0);
        // The file's table defaults change the built-in profiles too, under their own.
        for id in ["acme", "dada", "sftc"] {
            let Some(c) = table.find(id) else {
                panic!("no {id}")
            };
            assert_eq!(c.order_defaults["cargo"]["goods_value"], 99, "{id}");
            assert!(
                c.order_defaults["cargo"]
                    .get("cargo_second_class")
                    .is_none()
            );
        }
        assert_eq!(
            table
                .find("dada")
                .map(|c| c.order_defaults["sender"]["city"].clone()),
            Some("上海市".into())
        );
        // A profile that replaces a built-in one replaces its quirks: SF without `required`.
        let replaced = user.replace("id: acme", "id: sftc").replace(
            "    required:
      order_add: [shop_no, order_info.expected_delivery_time]
      order_cancel: [cancel_reason]
",
            "",
        );
        let table = match Carriers::extend(builtin(), &replaced, "user.yaml", &Env::new()) {
            Ok(t) => t,
            Err(e) => panic!("{e:#?}"),
        };
        assert_eq!(
            table.find("sftc").map(|c| c.required.clone()),
            Some(Required::default())
        );
    }

    #[test]
    fn bad_quirks_are_located() {
        let user = "carriers:\n  - id: x\n    delivery_id: X\n    name: { en: X, zh: X }\n    call: realmock\n    version: v\n    account: { shopid: s, appsecret: x, shop_no: n }\n    statuses: [102]\n    required:\n      order_add: [sendr, order_info..order_time, [a]]\n      order_cancle: []\n    sign_error: { resultcode: 0 }\n    order_defaults:\n      receiver: ~\n      cargo: [1]\n      shop: { goods_count: 1, a: 1, a: 2 }\n      store: {}\n";
        let problems = match Carriers::extend(builtin(), user, "bad.yaml", &Env::new()) {
            Ok(_) => panic!("accepted"),
            Err(p) => p,
        };
        let found: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let expected = [
            "bad.yaml:10:19: error: `sendr` in `order_add` in `required` in carrier `x` is no field of the call",
            "bad.yaml:10:26: error: `order_info..order_time` in `order_add` in `required` in carrier `x` is not a field name",
            "bad.yaml:10:50: error: `order_add` in `required` in carrier `x` must be text, found the list `[a]`",
            "bad.yaml:11:7: error: unknown key `order_cancle` in `required` in carrier `x`",
            "bad.yaml:12:17: error: missing `resultmsg` in `sign_error` in carrier `x`",
            "bad.yaml:12:31: error: `resultcode` in `sign_error` in carrier `x` must not be 0",
            "bad.yaml:14:7: error: `receiver` in `order_defaults` in carrier `x` has no value",
            "bad.yaml:15:14: error: `cargo` in `order_defaults` in carrier `x` must be a mapping of its fields, found the list `[1]`",
            "bad.yaml:16:37: error: duplicate key `a` in `order_defaults.shop` in carrier `x` (first written at line 16)",
            "bad.yaml:17:7: error: unknown key `store` in `order_defaults` in carrier `x`",
        ];
        assert_eq!(found.len(), expected.len(), "{found:#?}");
        for (found, want) in found.iter().zip(expected) {
            assert!(found.starts_with(want), "{found}\n  wanted {want}");
        }
        assert!(found[0].contains("did you mean `sender`?"), "{found:#?}");
        assert!(
            found[3].contains("did you mean `order_cancel`?"),
            "{found:#?}"
        );
    }
}
