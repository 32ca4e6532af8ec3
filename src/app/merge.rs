//! `simulate report merge REPORT.json...`: the JSON reports of a run's shards joined into one
//! set of reports (JSON, JUnit, HTML, written as a run writes them), with the summary and
//! the exit code the shards earn together.

use std::path::Path;

use rust_i18n::t;

use super::cli::{GlobalArgs, MergeArgs};
use super::error::AppError;
use super::run::ReportPaths;
use crate::base::i18n::{Noun, count};
use crate::report::shapes::Document;
use crate::report::{self, Console};

pub(super) fn merge(global: &GlobalArgs, args: &MergeArgs) -> Result<u8, AppError> {
    let carriers = super::load_carriers(global)?;
    let paths = ReportPaths {
        json: args.report_json.as_ref(),
        junit: args.report_junit.as_ref(),
        html: args.report_html.as_ref(),
    };
    // The same shard twice (a careless glob) would count its orders twice.
    let mut seen = std::collections::BTreeSet::new();
    for path in &args.reports {
        let identity = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        if !seen.insert(identity) {
            return Err(AppError::Invalid {
                message: t!("merge.twice", path = path.display().to_string()).into_owned(),
                help: Some(t!("merge.twice_help").into_owned()),
            });
        }
    }
    // A report that could not be written is known before any is read.
    paths.prepare()?;
    let documents = args
        .reports
        .iter()
        .map(|path| read(path))
        .collect::<Result<Vec<_>, _>>()?;
    let merged = report::merge::merge(documents, &carriers).map_err(|(index, why)| {
        let path = args.reports.get(index).map(|p| p.as_path());
        not_ours(path.unwrap_or(Path::new("-")), why.0)
    })?;
    let console = Console {
        style: super::style(global.color),
        quiet: global.quiet,
        lang: crate::base::i18n::current(),
        local: merged.ctx.local,
    };
    if !global.quiet {
        report::print(&format!(
            "{}\n",
            t!(
                "merge.header",
                files = count(args.reports.len(), Noun::File),
                scenarios = count(merged.plan.scenarios.len(), Noun::Scenario)
            )
        ));
    }
    report::print(&console.summary(&merged.plan, &merged.record));
    let code = merged.ctx.exit_code;
    let failures = paths.write(&merged.plan, &merged.record, &merged.ctx, console.lang);
    if failures.is_empty() {
        Ok(code)
    } else {
        Err(AppError::ReportsNotWritten {
            failures,
            run_code: code,
        })
    }
}

/// One shard's report, or an error that names it and says what is wrong with it.
fn read(path: &Path) -> Result<Document, AppError> {
    let text = crate::base::files::read_text(path).map_err(|d| AppError::Invalid {
        message: d.to_string(),
        help: None,
    })?;
    match serde_json::from_str::<Document>(&text) {
        Ok(document) if document.head.version == report::json::VERSION => Ok(document),
        Ok(document) => Err(not_ours(
            path,
            t!(
                "select.wrong_version",
                version = document.head.version,
                expected = report::json::VERSION
            )
            .into_owned(),
        )),
        // Say what is wrong in the terms a person checks first: JSON at all, ours, the version.
        Err(error) => Err(not_ours(path, why_unreadable(&text, &error))),
    }
}

fn why_unreadable(text: &str, error: &serde_json::Error) -> String {
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => return t!("select.not_json", error = e).into_owned(),
    };
    if !value["tool"]
        .as_str()
        .is_some_and(|t| t.starts_with("simulate "))
    {
        return t!("select.no_tool").into_owned();
    }
    if value["version"].as_u64() != Some(u64::from(report::json::VERSION)) {
        return t!(
            "select.wrong_version",
            version = value["version"].to_string(),
            expected = report::json::VERSION
        )
        .into_owned();
    }
    t!("merge.bad_shape", error = error).into_owned()
}

fn not_ours(path: &Path, why: String) -> AppError {
    AppError::Invalid {
        message: t!(
            "select.not_our_report",
            path = path.display().to_string(),
            why = why
        )
        .into_owned(),
        help: Some(t!("merge.not_our_report_help").into_owned()),
    }
}
