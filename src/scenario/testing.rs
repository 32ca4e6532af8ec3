//! Helpers for the tests of scenario checks (and of `new`, which loads what it writes).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{LoadContext, check_text, load_plan};
use crate::base::diag::Diagnostic;
use crate::model::carriers::Carriers;
use crate::model::plan::{OrderCreate, ScenarioPlan};

/// The built-in carrier table.
pub(crate) fn carriers() -> Carriers {
    match Carriers::builtin() {
        Ok(c) => c,
        Err(p) => panic!("{p:?}"),
    }
}

/// A fixed run: the same ids, time and seed every time.
pub(crate) fn ctx() -> LoadContext {
    LoadContext {
        run_id: "20261128-221530-ab12".to_owned(),
        timestamp: 1_795_904_130,
        env: BTreeMap::new(),
        seed: 42,
        max_steps: super::MAX_PLAN_STEPS,
        allow_missing_env: false,
    }
}

pub(crate) fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/invalid").join(name)
}

/// Every problem of one fixture, which must not load.
pub(crate) fn problems(name: &str) -> Vec<Diagnostic> {
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
pub(crate) fn one(name: &str, line: u64, column: u64, needles: &[&str]) -> Diagnostic {
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
pub(crate) fn check_all(
    text: &str,
    ctx: &LoadContext,
) -> Result<Vec<ScenarioPlan>, Vec<Diagnostic>> {
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
pub(crate) fn check_with(text: &str, ctx: &LoadContext) -> Result<ScenarioPlan, Vec<Diagnostic>> {
    check_all(text, ctx).map(|mut plans| {
        assert_eq!(plans.len(), 1);
        plans.remove(0)
    })
}

pub(crate) fn check(text: &str) -> Result<ScenarioPlan, Vec<Diagnostic>> {
    check_with(text, &ctx())
}

pub(crate) fn ok(text: &str) -> ScenarioPlan {
    match check(text) {
        Ok(plan) => plan,
        Err(p) => panic!("{p:#?}"),
    }
}

pub(crate) fn errors(text: &str) -> Vec<String> {
    match check(text) {
        Ok(plan) => panic!("accepted: {plan:?}"),
        Err(p) => p.iter().map(ToString::to_string).collect(),
    }
}

/// Every plan of one scenario text, which must load.
pub(crate) fn all(text: &str) -> Vec<ScenarioPlan> {
    match check_all(text, &ctx()) {
        Ok(plans) => plans,
        Err(p) => panic!("{p:#?}"),
    }
}

/// [`check_all`], with the problems as text.
pub(crate) fn plans_or_messages(
    text: &str,
    ctx: &LoadContext,
) -> Result<Vec<ScenarioPlan>, Vec<String>> {
    check_all(text, ctx).map_err(|p| p.iter().map(ToString::to_string).collect())
}

/// The order of a scenario for `carrier` with this `order:` block (YAML, indented by 2).
pub(crate) fn order_of(carrier: &str, block: &str) -> OrderCreate {
    order_with(carrier, block, &ctx())
}

pub(crate) fn order_with(carrier: &str, block: &str, ctx: &LoadContext) -> OrderCreate {
    let text = format!(
        "carrier: {carrier}\nshop_order_id: o-{{{{run_id}}}}\norder:{block}\nsteps: [{{status: 102}}]\n"
    );
    match plans_or_messages(&text, ctx) {
        Ok(mut plans) => match plans.remove(0).order {
            Some(order) => order,
            None => panic!("no order:\n{text}"),
        },
        Err(p) => panic!("{}\n{text}", p.join("\n")),
    }
}

/// The problems of a scenario for `carrier` with this `order:` block.
pub(crate) fn order_errors(carrier: &str, block: &str) -> Vec<String> {
    let text = format!(
        "carrier: {carrier}\nshop_order_id: o-1\norder:{block}\nsteps: [{{status: 102}}]\n"
    );
    match plans_or_messages(&text, &ctx()) {
        Ok(plans) => panic!("accepted: {:?}", plans[0].order),
        Err(p) => p,
    }
}

pub(crate) fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent()
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        panic!("{e}");
    }
    if let Err(e) = std::fs::write(path, text) {
        panic!("{e}");
    }
}

pub(crate) fn tempdir() -> tempfile::TempDir {
    match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("{e}"),
    }
}

/// A scenario that loads, with an order id of its own in every file.
pub(crate) const VALID: &str =
    "carrier: dada\nshop_order_id: \"{{scenario}}-{{run_id}}\"\nsteps: [{status: 102}]\n";
