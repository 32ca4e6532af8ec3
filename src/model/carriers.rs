//! Carrier profiles and the transition rule, read from a YAML file (built in, or `--carriers`).
//!
//! The runner and the emulator both ask this module what a carrier may do, so there is one
//! source of truth for supported statuses and transitions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use crate::base::diag::{Diagnostic, did_you_mean};
use crate::base::secret::Secret;
use crate::base::yaml::{self, Spanned};
use crate::model::statuses::Status;

pub mod rules;
pub use rules::OrderRules;

/// The built-in carrier file.
pub const BUILTIN_YAML: &str = include_str!("carriers.yaml");
const BUILTIN_NAME: &str = "<built-in carriers.yaml>";

/// Which WeChat call moves this carrier's orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Call {
    /// `realmock_update_order`: forwarded to the carrier's test environment, signed.
    Realmock,
    /// `test_update_order`: the sandbox (`delivery_id` TEST), never reaches a carrier.
    TestUpdateOrder,
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
    carriers: Vec<Arc<Carrier>>,
}

impl Carriers {
    /// The table compiled into the binary.
    pub fn builtin() -> Result<Carriers, Vec<Diagnostic>> {
        let raw = parse(BUILTIN_YAML, BUILTIN_NAME)?;
        build(None, raw, BUILTIN_NAME)
    }

    /// The built-in table, replaced or extended by `file` when one is given.
    pub fn load(file: Option<&Path>) -> Result<Carriers, Vec<Diagnostic>> {
        let builtin_raw = parse(BUILTIN_YAML, BUILTIN_NAME)?;
        let builtin = build(None, builtin_raw, BUILTIN_NAME)?;
        let Some(path) = file else { return Ok(builtin) };
        let name = path.display().to_string();
        let text = crate::base::files::read_text(path).map_err(|d| vec![d])?;
        let raw = parse(&text, &name)?;
        build(Some(builtin), raw, &name)
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

    /// A carrier by WeChat `delivery_id`.
    pub fn by_delivery_id(&self, delivery_id: &str) -> Option<&Arc<Carrier>> {
        self.carriers.iter().find(|c| c.delivery_id == delivery_id)
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
        format!("known carriers: {}", list.join(", "))
    }

    /// The carrier name closest to a misspelt one.
    pub fn suggest(&self, name: &str) -> Option<&str> {
        did_you_mean(name, self.carriers.iter().flat_map(|c| c.names()))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: Option<String>,
    #[serde(default)]
    replace_builtin: bool,
    lifecycle: Option<BTreeMap<u16, Vec<Spanned<u16>>>>,
    #[serde(default)]
    carriers: Vec<RawCarrier>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCarrier {
    id: Spanned<String>,
    #[serde(default)]
    aliases: Vec<String>,
    delivery_id: String,
    name: RawNames,
    call: Call,
    version: String,
    account: RawAccount,
    statuses: Vec<Spanned<u16>>,
    #[serde(default)]
    extra_edges: Vec<Spanned<[u16; 2]>>,
    #[serde(default)]
    forbidden_edges: Vec<Spanned<[u16; 2]>>,
    #[serde(default)]
    order_rules: OrderRules,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNames {
    en: String,
    zh: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    shopid: String,
    appsecret: Secret,
    shop_no: String,
}

fn parse(text: &str, file: &str) -> Result<RawFile, Vec<Diagnostic>> {
    yaml::from_str::<RawFile>(text, file).map_err(|d| vec![d])
}

fn status_at(code: &Spanned<u16>, file: &str, problems: &mut Vec<Diagnostic>) -> Option<Status> {
    let found = Status::from_code(code.value);
    if found.is_none() {
        let (line, column) = yaml::position(code);
        problems.push(
            Diagnostic::new(
                file,
                line,
                column,
                format!("unknown status code {}", code.value),
            )
            .with_help(known_codes()),
        );
    }
    found
}

fn known_codes() -> String {
    let codes: Vec<String> = Status::all().map(|s| s.code().to_string()).collect();
    format!("status codes are {}", codes.join(", "))
}

fn edges(
    raw: &[Spanned<[u16; 2]>],
    file: &str,
    problems: &mut Vec<Diagnostic>,
) -> BTreeSet<(Status, Status)> {
    raw.iter()
        .filter_map(|edge| {
            let [a, b] = edge.value;
            let from = status_at(
                &Spanned::new(a, edge.referenced, edge.defined),
                file,
                problems,
            )?;
            let to = status_at(
                &Spanned::new(b, edge.referenced, edge.defined),
                file,
                problems,
            )?;
            Some((from, to))
        })
        .collect()
}

fn build(base: Option<Carriers>, raw: RawFile, file: &str) -> Result<Carriers, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let lifecycle = match raw.lifecycle {
        Some(map) => {
            let mut next = BTreeMap::new();
            for (from, targets) in map {
                let Some(from_status) = Status::from_code(from) else {
                    problems.push(
                        Diagnostic::whole_file(
                            file,
                            format!("lifecycle: unknown status code {from}"),
                        )
                        .with_help(known_codes()),
                    );
                    continue;
                };
                let to: Vec<Status> = targets
                    .iter()
                    .filter_map(|t| status_at(t, file, &mut problems))
                    .collect();
                next.insert(from_status, to);
            }
            Arc::new(Lifecycle { next })
        }
        None => match &base {
            Some(base) => base.lifecycle.clone(),
            None => {
                problems.push(Diagnostic::whole_file(
                    file,
                    "the carrier file has no `lifecycle`",
                ));
                Arc::new(Lifecycle::default())
            }
        },
    };
    let version = raw
        .version
        .or_else(|| base.as_ref().map(|b| b.version.clone()))
        .unwrap_or_else(|| "unversioned".to_owned());

    let mut carriers: Vec<Arc<Carrier>> = match &base {
        Some(base) if !raw.replace_builtin => base
            .carriers
            .iter()
            // Built-in profiles follow the new lifecycle when the file gives one.
            .map(|c| {
                Arc::new(Carrier {
                    lifecycle: lifecycle.clone(),
                    ..Carrier::clone(c)
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut ids_in_file = BTreeSet::new();
    for rc in raw.carriers {
        let id = rc.id.value.trim().to_ascii_lowercase();
        let (line, column) = yaml::position(&rc.id);
        if id.is_empty() {
            problems.push(Diagnostic::new(
                file,
                line,
                column,
                "a carrier id must not be empty",
            ));
            continue;
        }
        if !ids_in_file.insert(id.clone()) {
            problems.push(Diagnostic::new(
                file,
                line,
                column,
                format!("carrier `{id}` is defined twice"),
            ));
            continue;
        }
        let supported: BTreeSet<Status> = rc
            .statuses
            .iter()
            .filter_map(|s| status_at(s, file, &mut problems))
            .collect();
        let carrier = Carrier {
            id: id.clone(),
            aliases: rc
                .aliases
                .iter()
                .map(|a| a.trim().to_ascii_lowercase())
                .collect(),
            delivery_id: rc.delivery_id,
            name_en: rc.name.en,
            name_zh: rc.name.zh,
            call: rc.call,
            version: rc.version,
            account: Account {
                shopid: rc.account.shopid,
                appsecret: rc.account.appsecret,
                shop_no: rc.account.shop_no,
            },
            supported,
            order_rules: rc.order_rules,
            extra_edges: edges(&rc.extra_edges, file, &mut problems),
            forbidden_edges: edges(&rc.forbidden_edges, file, &mut problems),
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
                problems.push(Diagnostic::whole_file(
                    file,
                    format!(
                        "the name `{name}` belongs to both `{other}` and `{}`",
                        carrier.id
                    ),
                ));
            }
        }
    }
    carriers.sort_by(|a, b| a.id.cmp(&b.id));
    if problems.is_empty() {
        Ok(Carriers {
            version,
            lifecycle,
            carriers,
        })
    } else {
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
    fn builtin_has_three_carriers_with_their_accounts() {
        let table = builtin();
        let ids: Vec<&str> = table.all().iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["dada", "sandbox", "sftc"]);
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
        assert!(table.find("meituan").is_none());
        assert_eq!(table.suggest("dad"), Some("dada"));
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
        assert_eq!(sets[2], ("sftc".to_owned(), vec![102, 202, 302]));
        assert_eq!(
            sets[1].1.len(),
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
  - id: mtps
    aliases: [meituan]
    delivery_id: MTPS
    name: { en: Meituan, zh: 美团配送 }
    call: realmock
    version: mtps-1
    account: { shopid: m, appsecret: y, shop_no: n }
    statuses: [102, 302]
"#;
        let base = builtin();
        let raw = match parse(user, "user.yaml") {
            Ok(raw) => raw,
            Err(e) => panic!("{e:?}"),
        };
        let table = match build(Some(base), raw, "user.yaml") {
            Ok(t) => t,
            Err(e) => panic!("{e:?}"),
        };
        assert_eq!(table.all().len(), 4);
        let Some(dada) = table.find("dada") else {
            panic!("no dada")
        };
        assert_eq!(dada.version, "dada-custom");
        assert_eq!(codes(&dada.allowed_next(RiderAssigned)), [201, 202]);
        assert!(dada.allowed_next(Delivering).is_empty());
        assert_eq!(
            table.find("meituan").map(|c| c.delivery_id.as_str()),
            Some("MTPS")
        );
    }

    #[test]
    fn a_bad_user_file_says_where() {
        let user = "carriers:\n  - id: x\n    delivery_id: X\n    name: { en: X, zh: X }\n    call: realmock\n    version: v\n    account: { shopid: s, appsecret: x, shop_no: n }\n    statuses: [102, 999]\n";
        let problems =
            match parse(user, "bad.yaml").and_then(|raw| build(Some(builtin()), raw, "bad.yaml")) {
                Ok(_) => panic!("accepted"),
                Err(p) => p,
            };
        assert_eq!(problems.len(), 1);
        assert_eq!((problems[0].line, problems[0].column), (8, 21));
        assert!(problems[0].message.contains("999"));
    }
}
