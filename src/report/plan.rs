//! `simulate plan`: what a run would send, to whom and when, without sending anything.
//!
//! Plain text for people (offsets after `--speed`, wall-clock times if the run started now,
//! each call with its JSON body and the signature shown as a placeholder), or with `curl`
//! a shell script of `curl` commands. Neither ever contains an appsecret or an access token:
//! the token is `***` or the shell variable `$WECHAT_ACCESS_TOKEN`. `delivery_sign` is a
//! placeholder unless asked for (`--show-signatures`): it is a SHA-1 of the appsecret, from
//! which a weak appsecret can be brute-forced.

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
    /// Print a `curl` command per step instead of the call and its body.
    pub curl: bool,
    /// Show the real `delivery_sign` instead of a placeholder (`--show-signatures`).
    pub show_signatures: bool,
    /// e.g. "connect 5s, total 15s".
    pub timeouts: String,
    /// The retry policy, in words.
    pub retries: String,
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
        out.note(
            "Each command sends one step; run it at the time shown above it. The access token",
        );
        out.note(&format!(
            "is read from ${TOKEN_VARIABLE}, which must be set; it is never printed."
        ));
        if !options.show_signatures {
            out.note(&format!(
                "delivery_sign is the placeholder {SIGN_PLACEHOLDER}; add --show-signatures to put"
            ));
            out.note(
                "the real signature in the commands (a SHA-1 of the appsecret: keep it private).",
            );
        }
        out.command(&format!("ENDPOINT={}", shell_quote(endpoint)));
    }

    for scenario in &plan.scenarios {
        out.blank();
        render_scenario(&mut out, scenario, options, speed);
    }
    out.text
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
            // Refused when the scenario is loaded.
            Call::None => "none (no test call reaches this carrier)",
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
    let signature = if options.show_signatures {
        Signature::Computed
    } else {
        Signature::Shown(SIGN_PLACEHOLDER)
    };
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
        let body = UpdateOrder::for_step(
            scenario,
            step,
            planned.map_or(0, |t| t.timestamp()),
            signature,
        );
        let json = serde_json::to_string(&body)
            .unwrap_or_else(|e| format!("<the body cannot be written: {e}>"));
        // A carrier no test call reaches is refused when the scenario is loaded.
        let path = Api::for_call(carrier.call).map_or("", Api::path);
        if options.curl {
            out.command(&format!(
                "curl -sS -X POST \"$ENDPOINT{path}?access_token=${TOKEN_VARIABLE}\" -H 'Content-Type: application/json' -d {}",
                shell_quote(&json)
            ));
        } else {
            out.note(&format!("       POST {path}?access_token=***"));
            out.note(&format!("       {json}"));
        }
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
            show_signatures: curl,
            timeouts: "connect 5s, total 15s".to_owned(),
            retries: "none".to_owned(),
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
        let t = options.now.timestamp();
        let zone = options.now.format("%:z");
        let expected = format!(
            r#"# plan: 2 scenarios, 3 steps; nothing is sent
#   seed          42 (1 delay range drawn from it; --seed 42 gives this timeline again)
#   carrier table 2026-11-28
#   endpoint      https://api.weixin.qq.com
#   speed         ×2: every delay is divided by 2
#   timeouts      connect 5s, total 15s
#   retries       none
#   if started at 2026-11-28 22:15:30 {zone}

# Each command sends one step; run it at the time shown above it. The access token
# is read from $WECHAT_ACCESS_TOKEN, which must be set; it is never printed.
ENDPOINT='https://api.weixin.qq.com'

# Dada out of order
#   file     scenarios/dada.yaml
#   carrier  dada (Dada), delivery_id DADA, profile dada-2026-11
#   order    qa-1 (shop dadaaee18818d97e236)
#   call     realmock_update_order, signed with delivery_sign
#   #1   +0s        22:15:30  102 rider_assigned  rider assigned
#        after 0s
curl -sS -X POST "$ENDPOINT/cgi-bin/express/local/business/realmock_update_order?access_token=$WECHAT_ACCESS_TOKEN" -H 'Content-Type: application/json' -d '{{"shopid":"dadaaee18818d97e236","shop_order_id":"qa-1","action_time":{t0},"order_status":102,"action_msg":"骑手已接单","delivery_sign":"211176d055a1b6a693f802f9bacccc8dcd3e5ad0"}}'
#   #2   +15s500ms  22:15:45  302 delivered  delivered
#        after 20s..40s (drawn: 31s); expect rejected by the carrier; transition check skipped
curl -sS -X POST "$ENDPOINT/cgi-bin/express/local/business/realmock_update_order?access_token=$WECHAT_ACCESS_TOKEN" -H 'Content-Type: application/json' -d '{{"shopid":"dadaaee18818d97e236","shop_order_id":"qa-1","action_time":{t1},"order_status":302,"action_msg":"rider'\''s \"done\" 已送达","delivery_sign":"211176d055a1b6a693f802f9bacccc8dcd3e5ad0"}}'

# Sandbox
#   file     scenarios/sandbox.yaml
#   carrier  sandbox (WeChat sandbox), delivery_id TEST, profile sandbox-2026-11
#   order    qa-2 (shop test_shop_id)
#   call     test_update_order (the sandbox; not signed)
#   #1   +45s  22:16:15  103 merchant_cancelled  merchant cancelled the order
#        after 1m30s
curl -sS -X POST "$ENDPOINT/cgi-bin/express/local/business/test_update_order?access_token=$WECHAT_ACCESS_TOKEN" -H 'Content-Type: application/json' -d '{{"shopid":"test_shop_id","shop_order_id":"qa-2","action_time":{t2},"order_status":103,"action_msg":""}}'
"#,
            t0 = t,
            t1 = t + 15,
            t2 = t + 45,
        );
        assert_eq!(render(&plan(), &options), expected);
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
    fn signatures_show_only_when_asked() {
        // The Dada vector of `plan()`: SHA-1 of shopid + "qa-1" + its appsecret.
        let sign = "211176d055a1b6a693f802f9bacccc8dcd3e5ad0";
        for curl in [false, true] {
            let mut options = options(curl);
            options.show_signatures = false;
            let text = render(&plan(), &options);
            assert!(!text.contains(sign), "curl {curl}: {text}");
            assert!(text.contains(SIGN_PLACEHOLDER), "{text}");
            options.show_signatures = true;
            assert!(render(&plan(), &options).contains(sign));
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
