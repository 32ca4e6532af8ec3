//! The JSON report's shapes (`schema/report.schema.json`), written by a run one scenario at a
//! time and read back by `simulate report merge`: the same types both ways, so what a report
//! says survives a merge unchanged.

use serde::{Deserialize, Serialize};

use crate::wechat::body::{Answer, UpdateOrder};

/// Everything of a report but its scenarios (which are streamed after it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Head {
    pub version: u32,
    pub tool: String,
    pub started: String,
    pub finished: String,
    pub endpoint: String,
    pub local_emulator: bool,
    pub carriers_version: String,
    pub interrupted: bool,
    pub credentials_refused: bool,
    pub exit_code: u8,
    pub settings: Settings,
    pub summary: Summary,
    pub pushes: Option<PushTotals>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub speed: f64,
    pub seed: u64,
    pub connect_timeout_ms: u64,
    pub timeout_ms: u64,
    pub retries: u32,
    pub retry_backoff_ms: u64,
    pub retry_backoff_cap_ms: u64,
    pub retry_max_wait_ms: u64,
    pub quota_wait_ms: u64,
    pub rate_per_second: Option<f64>,
    pub jobs: Option<usize>,
    pub fail_fast: bool,
    pub verify: bool,
    pub max_lateness_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub scenarios: usize,
    pub steps: usize,
    pub passed: usize,
    pub failed: usize,
    pub not_sent: usize,
    pub worst_lateness_ms: Option<u64>,
    pub over_max_lateness: Vec<LateShape>,
}

/// A step sent later than `--max-lateness`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LateShape {
    pub scenario: String,
    pub file: String,
    pub step: usize,
    pub status: u16,
    pub lateness_ms: u64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct PushTotals {
    pub delivered: usize,
    pub made: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioShape {
    pub name: String,
    pub file: String,
    pub carrier: String,
    pub carrier_version: String,
    pub delivery_id: String,
    pub call: String,
    pub shopid: String,
    pub shop_order_id: String,
    pub started: String,
    /// When its last step had its outcome (absent in reports of earlier versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
    /// `repeat: n`: this is repetition `[k, n]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repetition: Option<(u32, u32)>,
    pub outcome: String,
    pub order: Option<OrderShape>,
    pub steps: Vec<StepShape>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderShape {
    pub sent_at: String,
    pub attempts: usize,
    pub waybill_id: Option<String>,
    pub outcome: String,
    pub failure: Option<FailureShape>,
    pub request: RequestShape<serde_json::Value>,
    pub answer: Option<Answer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureShape {
    pub kind: String,
    pub message: String,
}

/// A request as reports show it: the token and the signature as `***`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestShape<B> {
    pub method: String,
    pub path: String,
    pub body: B,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepShape {
    pub index: usize,
    pub line: u64,
    pub status: u16,
    pub status_name: String,
    pub label_en: String,
    pub label_zh: String,
    pub expect: String,
    pub transition_checked: bool,
    pub planned_offset_ms: u64,
    pub planned_at: String,
    pub sent_at: Option<String>,
    /// Rounded to the millisecond, as before `lateness_us`.
    pub lateness_ms: Option<u64>,
    #[serde(default)]
    pub lateness_us: Option<u64>,
    pub over_max_lateness: bool,
    pub latency_ms: Option<u64>,
    pub outcome: String,
    pub failure: Option<FailureShape>,
    pub not_sent_reason: Option<String>,
    pub verified_status: Option<i64>,
    pub request: Option<RequestShape<UpdateOrder>>,
    pub answer: Option<Answer>,
    pub attempts: Vec<AttemptShape>,
    pub push: Option<PushShape>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttemptShape {
    pub sent: String,
    pub action_time: i64,
    /// Milliseconds.
    pub latency: u64,
    /// The backoff before this attempt, milliseconds.
    pub waited: u64,
    pub result: ResultShape,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResultShape {
    Answer { answer: Answer },
    Error { error: String, error_kind: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushShape {
    pub delivered: bool,
    pub attempts: u32,
    pub detail: String,
}

/// A whole report as read back (its scenarios in memory).
#[derive(Debug, Deserialize)]
pub struct Document {
    #[serde(flatten)]
    pub head: Head,
    pub scenarios: Vec<ScenarioShape>,
}
