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

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use rust_i18n::t;

use crate::base::diag::Diagnostic;
use crate::base::env::{self, Env};
use crate::base::secret::Secret;
use crate::base::yaml;
use crate::model::carriers::Carriers;
use crate::model::plan::{Plan, ScenarioPlan};

mod collisions;
mod delays;
mod document;
mod expect;
mod fields;
mod files;
pub mod grammar;
pub mod order;
mod secrets;
mod shop;
mod steps;
mod templates;
#[cfg(test)]
pub(crate) mod testing;

pub use crate::base::files::read_text;
use collisions::{Claimed, OrderKey};
pub use files::collect_files;

/// Scenario files larger than this are refused before parsing.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// The longest `shop_order_id` (after expansion), in bytes.
pub const MAX_SHOP_ORDER_ID_BYTES: usize = 128;
/// The most orders `repeat:` may make of one file.
pub const MAX_REPEAT: u32 = 1000;
/// The most steps a run may plan (steps × repeats, over every file), unless `--max-steps`
/// says otherwise: 1,900 steps with `repeat: 1000` passed as 1.9 million steps, and `plan`
/// then took 951 MB.
pub const MAX_PLAN_STEPS: usize = 100_000;

/// Values for template expansion, fixed once per run.
#[derive(Clone)]
pub struct LoadContext {
    /// Short unique id of this run, e.g. "20261128-221530-ab12".
    pub run_id: String,
    /// Unix seconds at run start.
    pub timestamp: i64,
    /// The environment, for `${VAR}`.
    pub env: Env,
    /// Delay ranges (`after: 20s..40s`) are drawn from this, the file name and the step
    /// index: the same seed gives the same timeline.
    pub seed: u64,
    /// The most steps the plan may have, over every file and repetition (`--max-steps`).
    pub max_steps: usize,
    /// `check --allow-missing-env`: a `${VAR}` that is not set is a warning, not an error
    /// (a pull-request lint job has no secrets). Never for a run.
    pub allow_missing_env: bool,
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
            env: env::from_process(),
            seed: random_seed(),
            max_steps: MAX_PLAN_STEPS,
            allow_missing_env: false,
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
            .field("max_steps", &self.max_steps)
            .field("env", &format_args!("<{} variables>", self.env.len()))
            .finish()
    }
}

/// Loads and checks every scenario file of `paths`: the whole plan, or every problem of
/// every file.
#[cfg(test)]
pub fn load_plan(
    paths: &[PathBuf],
    carriers: &Carriers,
    ctx: &LoadContext,
) -> Result<Plan, Vec<Diagnostic>> {
    load_plan_with_warnings(paths, carriers, ctx).map(|(plan, _)| plan)
}

/// Loads and checks every scenario file of `paths`: the whole plan and the warnings the files
/// gave, or every problem of every file. With `allow_missing_env`, each `${VAR}` that is not
/// set is a warning at its place.
pub fn load_plan_with_warnings(
    paths: &[PathBuf],
    carriers: &Carriers,
    ctx: &LoadContext,
) -> Result<(Plan, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (files, mut problems) = files::gather(paths);
    let mut warnings = Vec::new();
    let mut scenarios = Vec::new();
    let mut claimed = Claimed::default();
    let mut planned_steps = 0usize;
    let mut over_limit = false;
    for path in &files {
        let loaded = load_file(path, carriers, ctx);
        warnings.extend(loaded.warnings);
        let mut file_problems = loaded.problems;
        file_problems.extend(claimed.claim(&loaded.orders));
        let steps: usize = loaded.plans.iter().map(|p| p.steps.len()).sum();
        planned_steps = planned_steps.saturating_add(steps);
        if planned_steps > ctx.max_steps && !over_limit && file_problems.is_empty() {
            // Each file is within the limit (checked in the file); together they are not.
            over_limit = true;
            file_problems.push(
                Diagnostic::whole_file(
                    loaded.plans.first().map_or("", |p| p.file.as_str()),
                    t!(
                        "scenario_check.run_too_many_steps",
                        max = ctx.max_steps,
                        planned = planned_steps
                    ),
                )
                .with_help(t!(
                    "scenario_check.run_too_many_steps_help",
                    default = MAX_PLAN_STEPS
                )),
            );
        }
        if file_problems.is_empty() {
            scenarios.extend(loaded.plans);
        }
        problems.extend(file_problems);
    }
    if problems.is_empty() {
        let plan = Plan {
            carriers_version: carriers.version.clone(),
            seed: ctx.seed,
            scenarios,
        };
        Ok((plan, warnings))
    } else {
        Err(problems)
    }
}

/// For the fuzz target (`crate::fuzzing`): checks one file's text, and the plans it gives.
pub(crate) fn fuzz_check(text: &str) {
    static CARRIERS: std::sync::OnceLock<Option<Carriers>> = std::sync::OnceLock::new();
    let Some(carriers) = CARRIERS.get_or_init(|| Carriers::builtin().ok()) else {
        return;
    };
    let ctx = LoadContext {
        run_id: "20261128-221530-ab12".to_owned(),
        timestamp: 1_795_904_130,
        env: std::collections::BTreeMap::from([("VAR".to_owned(), "value".to_owned())]),
        seed: 42,
        max_steps: MAX_PLAN_STEPS,
        allow_missing_env: false,
    };
    let loaded = check_text(text, "fuzz.yaml", "fuzz", carriers, &ctx);
    for problem in &loaded.problems {
        let _ = problem.to_string();
    }
}

/// What checking one file gave.
struct Loaded {
    /// One plan, or one per repetition of `repeat:`; empty when there is a problem.
    plans: Vec<ScenarioPlan>,
    problems: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    /// Every order the file would move, even when it has problems.
    orders: Vec<OrderKey>,
}

impl Loaded {
    fn failed(problem: Diagnostic) -> Loaded {
        Loaded {
            plans: Vec::new(),
            problems: vec![problem],
            warnings: Vec::new(),
            orders: Vec::new(),
        }
    }
}

fn load_file(path: &Path, carriers: &Carriers, ctx: &LoadContext) -> Loaded {
    // File names are shown on terminals: one named with escape sequences shows them escaped.
    let file = crate::base::text::printable(&path.display().to_string()).into_owned();
    let fail = Loaded::failed;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.len() > MAX_FILE_BYTES
    {
        return fail(
            Diagnostic::whole_file(
                &file,
                t!(
                    "scenario_check.file_too_large",
                    bytes = meta.len(),
                    limit = MAX_FILE_BYTES
                ),
            )
            .with_help(t!("scenario_check.file_too_large_help")),
        );
    }
    let text = match read_text(path) {
        Ok(text) => text,
        Err(d) => return fail(d),
    };
    let stem = path
        .file_stem()
        .map(|s| crate::base::text::printable(&s.to_string_lossy()).into_owned())
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
            t!("scenario_check.text_too_large"),
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
        warnings: Vec::new(),
        // Before any check: whatever shape `shop:` has, what it holds is masked.
        secrets: secrets::collect(&root, &ctx.env),
        uuid: None,
        templates_used: BTreeSet::new(),
    };
    let (plans, orders) = checker.scenario(&root);
    let checker_warnings = std::mem::take(&mut checker.warnings);
    let secrets: Vec<Secret> = secrets::tidy(checker.secrets)
        .into_iter()
        .map(Secret::new)
        .collect();
    let mut problems: Vec<Diagnostic> = checker
        .problems
        .into_iter()
        .map(|mut d| {
            // Our messages never quote a secret; this is the last line of defence.
            d.message = secrets::mask(&d.message, &secrets);
            d.help = d.help.map(|h| secrets::mask(&h, &secrets));
            d
        })
        .collect();
    problems.sort_by_key(|d| (d.line, d.column));
    let warnings = checker_warnings;
    Loaded {
        plans: if problems.is_empty() {
            plans
        } else {
            Vec::new()
        },
        problems,
        warnings,
        orders,
    }
}

/// The checks of one file: every problem is collected, none stops the others.
struct Checker<'a> {
    file: &'a str,
    stem: &'a str,
    carriers: &'a Carriers,
    ctx: &'a LoadContext,
    problems: Vec<Diagnostic>,
    /// What is worth saying but does not stop the file (see [`LoadContext::allow_missing_env`]).
    warnings: Vec<Diagnostic>,
    /// Texts of this file that may be secrets (see [`secrets`]), and the values of the
    /// variables `appsecret` reads: redacted from every message as a last line of defence.
    secrets: Vec<String>,
    /// `{{uuid}}`: one per scenario.
    uuid: Option<String>,
    /// The templates met while expanding (only `shop_order_id` has any).
    templates_used: BTreeSet<&'static str>,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use super::*;
    use crate::model::plan::Expect;
    use crate::model::statuses::Status::*;
    use crate::scenario::testing::{carriers, check, ctx, ok, one, problems, root, tempdir, write};

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

    #[test]
    fn fixture_syntax() {
        one("syntax.yaml", 4, 8, &["invalid YAML", "unclosed bracket"]);
    }

    #[test]
    fn fixture_alias_bomb_is_refused_quickly() {
        let started = std::time::Instant::now();
        one("alias_bomb.yaml", 10, 11, &["invalid YAML", "aliases"]);
        // A guard against a hang (an unbudgeted bomb takes minutes and gigabytes), not a speed
        // measurement: the bound holds on a loaded 2-core machine.
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
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
