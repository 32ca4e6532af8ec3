//! `simulate plan`: what a run would send, to whom and when, without sending anything.
//!
//! Plain text for people (offsets after `--speed`, wall-clock times if the run started now,
//! each call with its JSON body and the signature shown as a placeholder), or with `curl`
//! a shell script of runnable `curl` commands. Neither ever contains an appsecret or an access
//! token: the token is `***` or the shell variable `$WECHAT_ACCESS_TOKEN`, and the script
//! carries the per-order `delivery_sign`, which is a hash, not the secret.

use std::fmt::Write as _;

use chrono::{DateTime, Local};

use crate::base::duration::{format_duration, format_range, round_to_ms};
use crate::base::pace::Speed;
use crate::base::text::plural;
use crate::model::carriers::Call;
use crate::model::plan::{Expect, Plan, ScenarioPlan, StepPlan};
use crate::model::statuses::Lang;
use crate::wechat::api::Api;
use crate::wechat::body::{Signature, UpdateOrder};

/// How `delivery_sign` is shown outside `--curl`.
pub const SIGN_PLACEHOLDER: &str = "<sha1(shopid+shop_order_id+appsecret)>";
/// The shell variable the curl commands read the access token from.
pub const TOKEN_VARIABLE: &str = "WECHAT_ACCESS_TOKEN";

/// What the timeline is computed against.
#[derive(Debug, Clone)]
pub struct TimelineOptions {
    /// The run's start, if it started now: wall-clock times and `action_time` follow from it.
    pub now: DateTime<Local>,
    /// The platform's base URL.
    pub endpoint: String,
    /// `--speed`: every delay is divided by it.
    pub speed: Speed,
    /// The language of status labels and carrier names.
    pub lang: Lang,
    /// Print a runnable `curl` command per step instead of the call and its body.
    pub curl: bool,
    /// e.g. "connect 5s, total 15s".
    pub timeouts: String,
    /// The retry policy, in words.
    pub retries: String,
    /// The openid `order/add` carries when a scenario gives none (the local emulator's).
    pub fallback_openid: Option<String>,
}

/// The whole timeline of `plan`, ending with a newline.
pub fn render(plan: &Plan, options: &TimelineOptions) -> String {
    let mut out = Out {
        text: String::new(),
        curl: options.curl,
    };
    let speed = options.speed;
    let endpoint = options.endpoint.trim_end_matches('/');
    let steps: usize = plan.scenarios.iter().map(|s| s.steps.len()).sum();
    let ranges = plan
        .scenarios
        .iter()
        .flat_map(|s| &s.steps)
        .filter(|s| s.after_range.is_some())
        .count();

    out.note(&format!(
        "plan: {}, {}; nothing is sent",
        plural(plan.scenarios.len(), "scenario"),
        plural(steps, "step")
    ));
    let seed = if ranges == 0 {
        format!("{} (no delay ranges)", plan.seed)
    } else {
        format!(
            "{} ({} drawn from it; --seed {} gives this timeline again)",
            plan.seed,
            plural(ranges, "delay range"),
            plan.seed
        )
    };
    let speed_text = if speed.is_real_time() {
        "×1 (real time)".to_owned()
    } else {
        format!("×{speed}: every delay is divided by {speed}")
    };
    let fields = [
        ("seed", seed),
        ("carrier table", plan.carriers_version.clone()),
        ("endpoint", endpoint.to_owned()),
        ("speed", speed_text),
        ("timeouts", one_line(&options.timeouts)),
        ("retries", one_line(&options.retries)),
        (
            "if started at",
            options.now.format("%Y-%m-%d %H:%M:%S %:z").to_string(),
        ),
    ];
    for (key, value) in fields {
        out.note(&format!("  {key:<14}{value}"));
    }
    if options.curl {
        out.blank();
        out.note(CURL_PREAMBLE);
        out.command("set -eu");
        out.command(&format!(
            ": \"${{{TOKEN_VARIABLE}:?set {TOKEN_VARIABLE} to an access token}}\""
        ));
        out.command(&format!("ENDPOINT={}", shell_quote(endpoint)));
        out.command("pids=''");
    }

    for scenario in &plan.scenarios {
        out.blank();
        render_scenario(&mut out, scenario, options, speed);
    }
    if options.curl {
        out.blank();
        out.command("for pid in $pids; do wait \"$pid\"; done");
    }
    out.text
}

/// The script's opening comment (a shell comment: `#` is added to each line).
const CURL_PREAMBLE: &str = "A script: bash this file. The orders run side by side as in a run, each step after a sleep as planned (divided by --speed), with action_time taken when it is sent. The access token is read from $WECHAT_ACCESS_TOKEN, which must be set; it is never printed.";

/// Stands for `action_time` in a body, replaced in the script by `$(date +%s)`.
const ACTION_TIME_MARK: i64 = -1_234_567_890_123;

/// The JSON `body` as a shell word, with its `action_time` computed when the command runs.
fn curl_body(json: &str) -> String {
    let mark = format!("\"action_time\":{ACTION_TIME_MARK}");
    match json.split_once(&mark) {
        Some((head, tail)) => format!(
            "{}\"$(date +%s)\"{}",
            shell_quote(&format!("{head}\"action_time\":")),
            shell_quote(tail)
        ),
        None => shell_quote(json),
    }
}

fn curl_command(path: &str, body: &str) -> String {
    format!(
        "  curl -sS -w '\\n' -X POST \"$ENDPOINT{path}?access_token=${TOKEN_VARIABLE}\" -H 'Content-Type: application/json' -d {body}"
    )
}

/// Output where, for `--curl`, everything but the commands is a shell comment.
struct Out {
    text: String,
    curl: bool,
}

impl Out {
    fn note(&mut self, line: &str) {
        if self.curl {
            self.text.push_str("# ");
        }
        self.text.push_str(line);
        self.text.push('\n');
    }

    fn command(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
    }

    fn blank(&mut self) {
        self.text.push('\n');
    }
}

fn render_scenario(
    out: &mut Out,
    scenario: &ScenarioPlan,
    options: &TimelineOptions,
    speed: Speed,
) {
    let carrier = &scenario.carrier;
    let carrier_name = match options.lang {
        Lang::En => &carrier.name_en,
        Lang::Zh => &carrier.name_zh,
    };
    out.note(&one_line(&scenario.name));
    out.note(&format!("  file     {}", one_line(&scenario.file)));
    out.note(&format!(
        "  carrier  {} ({}), delivery_id {}, profile {}",
        carrier.id,
        one_line(carrier_name),
        carrier.delivery_id,
        carrier.version
    ));
    out.note(&format!(
        "  order    {} (shop {})",
        one_line(&scenario.shop_order_id),
        one_line(&scenario.shopid)
    ));
    out.note(&format!(
        "  call     {}",
        match carrier.call {
            Call::Realmock => "realmock_update_order, signed with delivery_sign",
            Call::TestUpdateOrder => "test_update_order (the sandbox; not signed)",
        }
    ));

    let offsets: Vec<String> = scenario
        .steps
        .iter()
        .map(|step| {
            format!(
                "+{}",
                format_duration(round_to_ms(step.planned_offset(speed)))
            )
        })
        .collect();
    let width = offsets.iter().map(|o| o.chars().count()).max().unwrap_or(0);
    let signature = if options.curl {
        Signature::Computed
    } else {
        Signature::Shown(SIGN_PLACEHOLDER)
    };
    if options.curl {
        out.command("(");
    }
    if let Some(create) = &scenario.order {
        let sign = match signature {
            Signature::Computed => crate::wechat::sign::delivery_sign(
                &scenario.shopid,
                Some(&scenario.shop_order_id),
                &scenario.appsecret,
            ),
            Signature::Shown(placeholder) => placeholder.to_owned(),
        };
        let body = create.signed_body(&sign, options.fallback_openid.as_deref());
        let path = Api::Add.path();
        out.note(&format!(
            "  #0   +0s  {}  order/add: create the order",
            options.now.format("%H:%M:%S")
        ));
        if options.curl {
            out.command(&curl_command(path, &shell_quote(&body.to_string())));
        } else {
            out.note(&format!("       POST {path}?access_token=***"));
            out.note(&format!("       {body}"));
        }
    }
    let mut previous = std::time::Duration::ZERO;
    for (step, offset) in scenario.steps.iter().zip(&offsets) {
        let planned = step.planned_at(&options.now, speed);
        let clock = match planned {
            Some(t) => {
                let days = (t.date_naive() - options.now.date_naive()).num_days();
                if days == 0 {
                    t.format("%H:%M:%S").to_string()
                } else {
                    format!("{} (+{days}d)", t.format("%H:%M:%S"))
                }
            }
            None => "--:--:--".to_owned(),
        };
        out.note(&format!(
            "  #{:<3} {offset:<width$}  {clock}  {} {}  {}",
            step.index + 1,
            step.status.code(),
            step.status.name(),
            step.status.label(options.lang)
        ));
        out.note(&format!("       {}", step_details(step)));
        let action_time = if options.curl {
            ACTION_TIME_MARK
        } else {
            planned.map_or(0, |t| t.timestamp())
        };
        let body = UpdateOrder::for_step(scenario, step, action_time, signature);
        let json = serde_json::to_string(&body)
            .unwrap_or_else(|e| format!("<the body cannot be written: {e}>"));
        let path = Api::for_call(carrier.call).path();
        if options.curl {
            let at = step.planned_offset(speed);
            let wait = at.saturating_sub(previous);
            previous = at;
            out.command(&format!("  sleep {:.3}", wait.as_secs_f64()));
            out.command(&curl_command(path, &curl_body(&json)));
        } else {
            out.note(&format!("       POST {path}?access_token=***"));
            out.note(&format!("       {json}"));
        }
    }
    if options.curl {
        out.command(") &");
        out.command("pids=\"$pids $!\"");
    }
}

/// "after 30s", "after 20s..40s (drawn: 31s417ms); expect rejected by the carrier; …".
fn step_details(step: &StepPlan) -> String {
    let mut text = match step.after_range {
        Some((low, high)) => format!(
            "after {} (drawn: {})",
            format_range(low, high),
            format_duration(step.after)
        ),
        None => format!("after {}", format_duration(step.after)),
    };
    if step.expect != Expect::Ok {
        let _ = write!(text, "; expect {}", step.expect);
    }
    if !step.checked {
        text.push_str("; transition check skipped");
    }
    text
}

/// Text from a file or the command line on one line: control characters become spaces.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `text` as one POSIX shell word: in single quotes, each `'` written as `'\''`.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use chrono::TimeZone;

    use super::*;
    use crate::base::secret::Secret;
    use crate::model::carriers::Carriers;
    use crate::model::plan::ScenarioPlan;
    use crate::model::statuses::Status;

    const SECRET: &str = "1c6f40492d6d89caaad80b85f7d31670";

    fn carriers() -> Carriers {
        match Carriers::builtin() {
            Ok(c) => c,
            Err(p) => panic!("{p:?}"),
        }
    }

    fn step(index: usize, status: Status, at: u64, after: u64, msg: &str) -> StepPlan {
        StepPlan {
            index,
            status,
            at: Duration::from_secs(at),
            after: Duration::from_secs(after),
            after_range: None,
            action_msg: msg.to_owned(),
            expect: Expect::Ok,
            checked: true,
            line: 0,
        }
    }

    fn plan() -> Plan {
        let table = carriers();
        let carrier = |id: &str| -> Arc<crate::model::carriers::Carrier> {
            match table.find(id) {
                Some(c) => c.clone(),
                None => panic!("no {id}"),
            }
        };
        let mut second = step(1, Status::Delivered, 31, 31, "rider's \"done\" 已送达");
        second.after_range = Some((Duration::from_secs(20), Duration::from_secs(40)));
        second.expect = Expect::Rejected;
        second.checked = false;
        Plan {
            carriers_version: "2026-11-28".to_owned(),
            seed: 42,
            scenarios: vec![
                ScenarioPlan {
                    name: "Dada out of order".to_owned(),
                    file: "scenarios/dada.yaml".to_owned(),
                    carrier: carrier("dada"),
                    shop_order_id: "qa-1".to_owned(),
                    shopid: "dadaaee18818d97e236".to_owned(),
                    appsecret: Secret::new(SECRET),
                    steps: vec![step(0, Status::RiderAssigned, 0, 0, "骑手已接单"), second],
                    order: None,
                    repetition: None,
                    fixed_order_id: false,
                },
                ScenarioPlan {
                    name: "Sandbox".to_owned(),
                    file: "scenarios/sandbox.yaml".to_owned(),
                    carrier: carrier("sandbox"),
                    shop_order_id: "qa-2".to_owned(),
                    shopid: "test_shop_id".to_owned(),
                    appsecret: Secret::new("test_app_secrect"),
                    steps: vec![step(0, Status::MerchantCancelled, 90, 90, "")],
                    order: None,
                    repetition: None,
                    fixed_order_id: false,
                },
            ],
        }
    }

    fn options(curl: bool) -> TimelineOptions {
        let now = match Local.with_ymd_and_hms(2026, 11, 28, 22, 15, 30).single() {
            Some(t) => t,
            None => panic!("no such local time"),
        };
        let Some(speed) = Speed::new(2.0) else {
            panic!("2 is a speed")
        };
        TimelineOptions {
            now,
            endpoint: "https://api.weixin.qq.com/".to_owned(),
            speed,
            lang: Lang::En,
            curl,
            timeouts: "connect 5s, total 15s".to_owned(),
            retries: "none".to_owned(),
            fallback_openid: None,
        }
    }

    #[test]
    fn the_timeline_shows_every_call() {
        let options = options(false);
        let t = options.now.timestamp();
        let zone = options.now.format("%:z");
        let expected = format!(
            r#"plan: 2 scenarios, 3 steps; nothing is sent
  seed          42 (1 delay range drawn from it; --seed 42 gives this timeline again)
  carrier table 2026-11-28
  endpoint      https://api.weixin.qq.com
  speed         ×2: every delay is divided by 2
  timeouts      connect 5s, total 15s
  retries       none
  if started at 2026-11-28 22:15:30 {zone}

Dada out of order
  file     scenarios/dada.yaml
  carrier  dada (Dada), delivery_id DADA, profile dada-2026-11
  order    qa-1 (shop dadaaee18818d97e236)
  call     realmock_update_order, signed with delivery_sign
  #1   +0s        22:15:30  102 rider_assigned  rider assigned
       after 0s
       POST /cgi-bin/express/local/business/realmock_update_order?access_token=***
       {{"shopid":"dadaaee18818d97e236","shop_order_id":"qa-1","action_time":{t0},"order_status":102,"action_msg":"骑手已接单","delivery_sign":"<sha1(shopid+shop_order_id+appsecret)>"}}
  #2   +15s500ms  22:15:45  302 delivered  delivered
       after 20s..40s (drawn: 31s); expect rejected by the carrier; transition check skipped
       POST /cgi-bin/express/local/business/realmock_update_order?access_token=***
       {{"shopid":"dadaaee18818d97e236","shop_order_id":"qa-1","action_time":{t1},"order_status":302,"action_msg":"rider's \"done\" 已送达","delivery_sign":"<sha1(shopid+shop_order_id+appsecret)>"}}

Sandbox
  file     scenarios/sandbox.yaml
  carrier  sandbox (WeChat sandbox), delivery_id TEST, profile sandbox-2026-11
  order    qa-2 (shop test_shop_id)
  call     test_update_order (the sandbox; not signed)
  #1   +45s  22:16:15  103 merchant_cancelled  merchant cancelled the order
       after 1m30s
       POST /cgi-bin/express/local/business/test_update_order?access_token=***
       {{"shopid":"test_shop_id","shop_order_id":"qa-2","action_time":{t2},"order_status":103,"action_msg":""}}
"#,
            t0 = t,
            t1 = t + 15,
            t2 = t + 45,
        );
        assert_eq!(render(&plan(), &options), expected);
    }

    #[test]
    fn curl_commands_are_runnable_and_quoted() {
        let options = options(true);
        let text = render(&plan(), &options);
        for line in [
            "set -eu",
            ": \"${WECHAT_ACCESS_TOKEN:?set WECHAT_ACCESS_TOKEN to an access token}\"",
            "ENDPOINT='https://api.weixin.qq.com'",
            // Sleeps as planned within each order, divided by --speed 2.
            "  sleep 0.000",
            "  sleep 15.500",
            "  sleep 45.000",
            // action_time is taken when the command runs, not when the plan was printed.
            "  curl -sS -w '\\n' -X POST \"$ENDPOINT/cgi-bin/express/local/business/realmock_update_order?access_token=$WECHAT_ACCESS_TOKEN\" -H 'Content-Type: application/json' -d '{\"shopid\":\"dadaaee18818d97e236\",\"shop_order_id\":\"qa-1\",\"action_time\":'\"$(date +%s)\"',\"order_status\":302,\"action_msg\":\"rider'\\''s \\\"done\\\" 已送达\",\"delivery_sign\":\"211176d055a1b6a693f802f9bacccc8dcd3e5ad0\"}'",
            ") &",
            "for pid in $pids; do wait \"$pid\"; done",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "no line {line:?} in:\n{text}"
            );
        }
        assert!(
            !text.contains(&options.now.timestamp().to_string()),
            "{text}"
        );
    }

    #[test]
    fn chinese_labels_and_days_ahead() {
        let mut options = options(false);
        options.lang = Lang::Zh;
        options.speed = Speed::REAL_TIME;
        let mut plan = plan();
        plan.scenarios.truncate(1);
        plan.scenarios[0].steps[1].at = Duration::from_secs(2 * 3600);
        let text = render(&plan, &options);
        assert!(
            text.contains("  carrier  dada (达达), delivery_id DADA"),
            "{text}"
        );
        assert!(text.contains("102 rider_assigned  分配骑手成功"), "{text}");
        assert!(text.contains("  speed         ×1 (real time)\n"), "{text}");
        assert!(
            text.contains("  #2   +2h  00:15:30 (+1d)  302 delivered  配送成功"),
            "{text}"
        );
    }

    #[test]
    fn odd_speeds_never_panic() {
        // Zero, negative and infinite speeds cannot be made (base::pace); the extremes can.
        for speed in [Speed::MIN, Speed::MAX] {
            let mut options = options(false);
            options.speed = speed;
            let text = render(&plan(), &options);
            assert!(text.contains("#2"), "{speed}: {text}");
        }
    }

    #[test]
    fn secrets_never_appear() {
        let secrets = [SECRET, "test_app_secrect"];
        for curl in [false, true] {
            let text = render(&plan(), &options(curl));
            for secret in secrets {
                assert!(!text.contains(secret), "curl {curl}: {text}");
            }
            assert!(!text.contains("access_token=ey"), "{text}");
            for line in text.lines().filter(|l| l.contains("access_token=")) {
                let placeholder = if curl {
                    "access_token=$WECHAT_ACCESS_TOKEN\""
                } else {
                    "access_token=***\n"
                };
                assert!(format!("{line}\n").contains(placeholder), "{line}");
            }
        }
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("$HOME `x` \\"), "'$HOME `x` \\'");
    }
}
