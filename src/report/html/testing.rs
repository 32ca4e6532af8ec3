//! A plan and its record built by hand, for the tests of the report's parts: one order of four
//! steps that passed, passed late, failed and were never sent, with markup and the appsecret
//! where they must not show.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::base::secret::Secret;
use crate::model::carriers::Carriers;
use crate::model::plan::{Expect, Plan, ScenarioPlan, StepPlan};
use crate::model::statuses::Status;
use crate::report::ReportContext;
use crate::run::client::Timeouts;
use crate::run::{
    Attempt, AttemptResult, Failure, NotSent, RunOptions, RunRecord, ScenarioRecord, StepOutcome,
    StepRecord,
};
use crate::wechat::body::Answer;

pub(super) const SECRET: &str = "s3cr3t-appsecret-value";

fn step_plan(index: usize, status: Status, at_s: u64, msg: &str) -> StepPlan {
    StepPlan {
        index,
        status,
        at: Duration::from_secs(at_s),
        after: Duration::ZERO,
        after_range: None,
        action_msg: msg.to_owned(),
        expect: Expect::Ok,
        checked: true,
        line: 8 + 3 * index as u64,
    }
}

pub(crate) fn fixture() -> (Plan, RunRecord, ReportContext) {
    let carriers = Carriers::builtin().unwrap_or_else(|_| panic!("built-in carriers"));
    let dada = Arc::clone(carriers.find("dada").unwrap_or_else(|| panic!("dada")));
    let start = DateTime::parse_from_rfc3339("2026-11-28T22:41:07.500Z")
        .unwrap_or_else(|e| panic!("{e}"))
        .with_timezone(&Utc);
    let at = |s: i64, ms: i64| start + TimeDelta::seconds(s) + TimeDelta::milliseconds(ms);
    let ok = |msg: &str| Answer {
        errcode: 0,
        errmsg: "ok".into(),
        resultcode: 0,
        resultmsg: msg.into(),
    };
    let attempt = |sent, answer: Answer| Attempt {
        sent,
        action_time: 0,
        latency: Duration::from_millis(12),
        waited: Duration::ZERO,
        result: AttemptResult::Answer(answer),
    };
    let rejected = Answer {
        errcode: 0,
        errmsg: "ok".into(),
        resultcode: 2003,
        resultmsg: "签名错误 <b>sign</b>".into(),
    };
    let plan = Plan {
        carriers_version: "2026-11-28".into(),
        seed: 42,
        scenarios: vec![ScenarioPlan {
            name: "Dada <script>alert(1)</script> \"path\"".into(),
            file: "scenarios/it's <odd>.yaml".into(),
            carrier: dada,
            shop_order_id: "qa-1".into(),
            shopid: "dadaaee18818d97e236".into(),
            appsecret: Secret::new(SECRET),
            order: None,
            repetition: Some((2, 3)),
            fixed_order_id: false,
            steps: vec![
                step_plan(0, Status::RiderAssigned, 0, "骑手已接单 <i>"),
                step_plan(1, Status::AtStore, 240, ""),
                step_plan(2, Status::PickedUp, 450, ""),
                step_plan(3, Status::Delivering, 480, ""),
            ],
        }],
    };
    let record = RunRecord {
        started: start,
        finished: at(481, 0),
        interrupted: false,
        credentials_refused: false,
        options: RunOptions::default(),
        scenarios: vec![ScenarioRecord {
            order: None,
            started: start,
            finished: at(480, 30),
            steps: vec![
                StepRecord {
                    planned: start,
                    sent: Some(at(0, 3)),
                    lateness: Some(Duration::from_millis(3)),
                    latency: Some(Duration::from_millis(12)),
                    attempts: vec![attempt(at(0, 3), ok("ok"))],
                    verified: None,
                    outcome: StepOutcome::Passed(ok("ok")),
                },
                StepRecord {
                    planned: at(240, 0),
                    sent: Some(at(242, 500)),
                    lateness: Some(Duration::from_millis(2500)),
                    latency: Some(Duration::from_millis(12)),
                    attempts: vec![attempt(at(242, 500), ok(""))],
                    verified: None,
                    outcome: StepOutcome::Passed(ok("")),
                },
                StepRecord {
                    planned: at(450, 0),
                    sent: Some(at(450, 1)),
                    lateness: Some(Duration::from_millis(1)),
                    latency: Some(Duration::from_millis(12)),
                    attempts: vec![attempt(at(450, 1), rejected.clone())],
                    verified: None,
                    outcome: StepOutcome::Failed(Failure::Unexpected {
                        answer: Answer {
                            resultmsg: format!("bad sign for {SECRET}"),
                            ..rejected
                        },
                        expected: Expect::Ok,
                    }),
                },
                StepRecord {
                    planned: at(480, 0),
                    sent: None,
                    lateness: None,
                    latency: None,
                    attempts: Vec::new(),
                    verified: None,
                    outcome: StepOutcome::NotSent(NotSent::EarlierStepFailed),
                },
            ],
        }],
    };
    let ctx = ReportContext {
        endpoint: "http://127.0.0.1:40775".into(),
        local: true,
        timeouts: Timeouts::default(),
        exit_code: 1,
        pushes: None,
    };
    (plan, record, ctx)
}
