//! Which scenarios a run plays: `--rerun-failed REPORT.json` (those that failed or did not
//! finish in an earlier run) and `--only GLOB` (those whose name matches).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rust_i18n::t;
use serde_json::Value;

use super::error::AppError;
use crate::model::plan::Plan;

/// The scenarios an earlier JSON report says did not pass: their files (in report order,
/// each once) and, per file, the names to play again.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rerun {
    pub files: Vec<PathBuf>,
    pub scenarios: BTreeSet<(String, String)>,
}

/// Reads an earlier `--report-json`: the scenarios that failed or were not finished (a
/// scenario with a failed or unsent step is `failed` there). Every file they name must
/// still exist.
pub fn failed_in(report: &Path) -> Result<Rerun, AppError> {
    let shown = report.display().to_string();
    let not_ours = |why: String| AppError::Invalid {
        message: t!("select.not_our_report", path = shown, why = why).into_owned(),
        help: Some(t!("select.not_our_report_help").into_owned()),
    };
    let text = crate::base::files::read_text(report).map_err(|d| AppError::Invalid {
        message: d.to_string(),
        help: None,
    })?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| not_ours(t!("select.not_json", error = e).into_owned()))?;
    let tool = value["tool"].as_str().unwrap_or_default();
    if !tool.starts_with("simulate ") {
        return Err(not_ours(t!("select.no_tool").into_owned()));
    }
    if value["version"].as_u64() != Some(u64::from(crate::report::json::VERSION)) {
        return Err(not_ours(
            t!(
                "select.wrong_version",
                version = value["version"].to_string(),
                expected = crate::report::json::VERSION
            )
            .into_owned(),
        ));
    }
    let Some(scenarios) = value["scenarios"].as_array() else {
        return Err(not_ours(t!("select.no_scenarios").into_owned()));
    };
    let mut rerun = Rerun::default();
    for scenario in scenarios {
        let (Some(name), Some(file), Some(outcome)) = (
            scenario["name"].as_str(),
            scenario["file"].as_str(),
            scenario["outcome"].as_str(),
        ) else {
            return Err(not_ours(t!("select.no_scenarios").into_owned()));
        };
        if outcome == "passed" {
            continue;
        }
        let path = PathBuf::from(file);
        if !path.is_file() {
            return Err(AppError::Invalid {
                message: t!("select.file_gone", path = shown, name = name, file = file)
                    .into_owned(),
                help: Some(t!("select.file_gone_help").into_owned()),
            });
        }
        if !rerun.files.contains(&path) {
            rerun.files.push(path);
        }
        rerun.scenarios.insert((file.to_owned(), name.to_owned()));
    }
    Ok(rerun)
}

/// The plan with only the scenarios `rerun` names (when given) whose names match one of
/// `only` (when any). A scenario the report names that the files no longer have, an invalid
/// pattern, and a selection that leaves nothing are errors.
pub fn select(
    mut plan: Plan,
    rerun: Option<(&Path, &Rerun)>,
    only: &[String],
) -> Result<Plan, AppError> {
    if let Some((report, rerun)) = rerun {
        let planned: BTreeSet<(String, String)> = plan
            .scenarios
            .iter()
            .map(|s| (s.file.clone(), s.name.clone()))
            .collect();
        let files: BTreeSet<&str> = plan.scenarios.iter().map(|s| s.file.as_str()).collect();
        // Only the files this run loaded (a --shard loads its share).
        if let Some((file, name)) = rerun
            .scenarios
            .iter()
            .find(|k| files.contains(k.0.as_str()) && !planned.contains(*k))
        {
            return Err(AppError::Invalid {
                message: t!(
                    "select.scenario_gone",
                    path = report.display().to_string(),
                    name = name,
                    file = file
                )
                .into_owned(),
                help: Some(t!("select.file_gone_help").into_owned()),
            });
        }
        plan.scenarios
            .retain(|s| rerun.scenarios.contains(&(s.file.clone(), s.name.clone())));
    }
    // An empty shard stays empty without complaint.
    if only.is_empty() || plan.scenarios.is_empty() {
        return Ok(plan);
    }
    let mut patterns = Vec::new();
    for text in only {
        let pattern = glob::Pattern::new(text).map_err(|e| AppError::Invalid {
            message: t!("select.bad_glob", glob = text, error = e.msg).into_owned(),
            help: Some(t!("select.bad_glob_help").into_owned()),
        })?;
        patterns.push(pattern);
    }
    let names: Vec<String> = plan.scenarios.iter().map(|s| s.name.clone()).collect();
    plan.scenarios
        .retain(|s| patterns.iter().any(|p| p.matches(&s.name)));
    if plan.scenarios.is_empty() {
        let mut shown: Vec<String> = names.iter().take(10).map(|n| format!("`{n}`")).collect();
        if names.len() > shown.len() {
            shown.push("…".to_owned());
        }
        return Err(AppError::Invalid {
            message: t!("select.none_match", glob = only.join(", ")).into_owned(),
            help: Some(t!("select.none_match_help", names = shown.join(", ")).into_owned()),
        });
    }
    Ok(plan)
}
