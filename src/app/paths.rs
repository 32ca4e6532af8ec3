//! `simulate paths`, `simulate new --all-paths / --negative DIR` and `simulate coverage`: a
//! carrier's paths, a suite written from them, and what a suite covers. None sends anything.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rust_i18n::t;

use super::error::AppError;
use super::{load_carriers, load_plan_warned, print_warnings};
use crate::app::cli::{CoverageArgs, GlobalArgs, ListFormat, NewArgs, PathsArgs, PathsTo};
use crate::describe::listing;
use crate::describe::suite::{self, Generated};
use crate::model::carriers::{Carrier, Carriers};
use crate::model::coverage;
use crate::model::paths::{self, Goal, Listing, MAX_PATHS};
use crate::report;

fn find_carrier(carriers: &Carriers, name: &str) -> Result<Arc<Carrier>, AppError> {
    match carriers.find(name) {
        Some(carrier) => Ok(carrier.clone()),
        None => {
            let unknown = carriers.unknown(name);
            Err(AppError::Invalid {
                message: unknown.message,
                help: Some(unknown.help),
            })
        }
    }
}

fn json_text(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

pub(super) fn paths(global: &GlobalArgs, args: &PathsArgs) -> Result<(), AppError> {
    let carriers = load_carriers(global)?;
    let carrier = find_carrier(&carriers, &args.carrier)?;
    let goal = match args.to {
        PathsTo::Delivered => Goal::Delivered,
        PathsTo::Failure => Goal::Failure,
        PathsTo::All => Goal::All,
    };
    let found = paths::paths(&carrier, goal, global.max_steps);
    report::print(&match args.format {
        ListFormat::Text => listing::paths_text(&carrier, goal, global.max_steps, &found),
        ListFormat::Json => json_text(&listing::paths_json(
            &carrier,
            goal,
            global.max_steps,
            &found,
        )),
    });
    Ok(())
}

/// What a listing left out, said on stderr when a suite is written from it.
fn warn_left_out(found: &Listing, max_steps: usize) {
    let mut text = String::new();
    match found.cut {
        0 => {}
        1 => text.push_str(&t!("paths.cut_one", max = max_steps)),
        n => text.push_str(&t!("paths.cut_other", count = n, max = max_steps)),
    }
    if found.truncated {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&t!("paths.truncated", max = MAX_PATHS));
    }
    if !text.is_empty() {
        crate::base::console::err(&format!("warning: {text}\n"));
    }
}

pub(super) fn new_suite(global: &GlobalArgs, args: &NewArgs) -> Result<(), AppError> {
    let carriers = load_carriers(global)?;
    let carrier = find_carrier(&carriers, &args.carrier)?;
    let Some(dir) = &args.file else {
        return Err(AppError::Usage(
            t!("suite.needs_dir", carrier = carrier.id).into_owned(),
        ));
    };
    let mut files: Vec<Generated> = Vec::new();
    let mut path_count = 0;
    if args.all_paths {
        let found = paths::paths(&carrier, Goal::All, global.max_steps);
        warn_left_out(&found, global.max_steps);
        path_count = found.paths.len();
        files.extend(
            found.paths.iter().enumerate().map(|(i, path)| {
                suite::path_scenario(&carriers, &carrier, path, i + 1, path_count)
            }),
        );
    }
    let mut negative_count = 0;
    if args.negative {
        let negatives = paths::negatives(&carrier);
        negative_count = negatives.len();
        files.extend(
            negatives
                .iter()
                .map(|n| suite::negative_scenario(&carriers, &carrier, n)),
        );
    }
    if files.is_empty() {
        return Err(AppError::Invalid {
            message: t!("suite.nothing", carrier = carrier.id).into_owned(),
            help: None,
        });
    }
    let targets: Vec<(PathBuf, &Generated)> =
        files.iter().map(|g| (dir.join(&g.file), g)).collect();
    if !args.force {
        let existing: Vec<&PathBuf> = targets
            .iter()
            .map(|(p, _)| p)
            .filter(|p| p.exists())
            .collect();
        if let Some(first) = existing.first() {
            return Err(AppError::Invalid {
                message: t!(
                    "suite.exists",
                    count = existing.len(),
                    dir = dir.display(),
                    file = first.display()
                )
                .into_owned(),
                help: Some(t!("suite.exists_help").into_owned()),
            });
        }
    }
    let write_error = |path: &Path, error| AppError::Write {
        path: path.to_path_buf(),
        error,
    };
    std::fs::create_dir_all(dir).map_err(|e| write_error(dir, e))?;
    for (path, generated) in &targets {
        crate::base::files::write_atomic(path, generated.text.as_bytes())
            .map_err(|e| write_error(path, e))?;
    }
    crate::base::console::err(&format!(
        "{}\n",
        t!(
            "suite.wrote",
            count = targets.len(),
            carrier = carrier.id,
            dir = dir.display(),
            paths = path_count,
            negatives = negative_count,
            command = super::commands::check_command(global, dir)
        )
    ));
    Ok(())
}

pub(super) fn coverage(global: &GlobalArgs, args: &CoverageArgs) -> Result<(), AppError> {
    // Nothing is sent, so a ${VAR} that is not set does not stop it.
    let (_, plan, warnings) = load_plan_warned(global, &args.paths, None, 0, true)?;
    print_warnings(&warnings);
    let found = coverage::of_plan(&plan);
    report::print(&match args.format {
        ListFormat::Text => listing::coverage_text(&found),
        ListFormat::Json => json_text(&serde_json::to_value(&found).unwrap_or_default()),
    });
    Ok(())
}
