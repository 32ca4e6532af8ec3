//! `simulate plan`: what a run would send, to whom and when, without sending anything.
//!
//! Plain text for people (offsets after `--speed`, wall-clock times if the run started now,
//! each call with its JSON body and the signature shown as a placeholder), or with `curl`
//! a shell script of `curl` commands. Neither ever contains an appsecret or an access token:
//! the token is `***` or the shell variable `$WECHAT_ACCESS_TOKEN`. `delivery_sign` is a
//! placeholder unless asked for (`--show-signatures`): it is a SHA-1 of the appsecret, from
//! which a weak appsecret can be brute-forced.

use chrono::{DateTime, Local};
use rust_i18n::t;

use crate::base::duration::{format_duration, format_range, round_to_ms};
use crate::base::i18n::{Noun, count_in};
use crate::base::pace::Speed;
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

    let lang = options.lang;
    let locale = lang.code();
    out.note(&t!(
        "plan.header",
        locale = locale,
        scenarios = count_in(lang, plan.scenarios.len(), Noun::Scenario),
        steps = count_in(lang, steps, Noun::Step)
    ));
    let seed = if ranges == 0 {
        t!("plan.seed_no_ranges", locale = locale, seed = plan.seed)
    } else {
        t!(
            "plan.seed_ranges",
            locale = locale,
            seed = plan.seed,
            ranges = count_in(lang, ranges, Noun::DelayRange)
        )
    };
    let speed_text = if speed.is_real_time() {
        t!("plan.speed_real_time", locale = locale)
    } else {
        t!("plan.speed", locale = locale, speed = speed)
    };
    let fields = [
        (t!("plan.field_seed", locale = locale), seed.into_owned()),
        (
            t!("plan.field_carriers", locale = locale),
            plan.carriers_version.clone(),
        ),
        (
            t!("plan.field_endpoint", locale = locale),
            endpoint.to_owned(),
        ),
        (
            t!("plan.field_speed", locale = locale),
            speed_text.into_owned(),
        ),
        (
            t!("plan.field_timeouts", locale = locale),
            one_line(&options.timeouts),
        ),
        (
            t!("plan.field_retries", locale = locale),
            one_line(&options.retries),
        ),
        (
            t!("plan.field_started", locale = locale),
            options.now.format("%Y-%m-%d %H:%M:%S %:z").to_string(),
        ),
    ];
    // Aligned by display width: a Chinese character takes two columns.
    let width = fields
        .iter()
        .map(|(key, _)| console::measure_text_width(key))
        .max()
        .unwrap_or(0)
        + 1;
    for (key, value) in fields {
        let pad = " ".repeat(width.saturating_sub(console::measure_text_width(&key)));
        out.note(&format!("  {key}{pad}{value}"));
    }
    if options.curl {
        out.blank();
        out.note(&t!(
            "plan.curl_preamble",
            locale = locale,
            variable = TOKEN_VARIABLE
        ));
        out.command("set -eu");
        let unset = t!(
            "plan.token_unset",
            locale = locale,
            variable = TOKEN_VARIABLE
        );
        out.command(&format!(": \"${{{TOKEN_VARIABLE}:?{unset}}}\""));
        if !options.show_signatures {
            out.note(&t!(
                "plan.sign_placeholder",
                locale = locale,
                placeholder = SIGN_PLACEHOLDER
            ));
        }
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
    /// A line for people (several, if it holds newlines): a shell comment in a script.
    fn note(&mut self, text: &str) {
        for line in text.lines() {
            if self.curl {
                self.text.push_str("# ");
            }
            self.text.push_str(line);
            self.text.push('\n');
        }
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
    let lang = options.lang;
    let locale = lang.code();
    let carrier_name = match lang {
        Lang::En => &carrier.name_en,
        Lang::Zh => &carrier.name_zh,
    };
    out.note(&one_line(&scenario.name));
    out.note(&t!(
        "plan.scenario_file",
        locale = locale,
        file = one_line(&scenario.file)
    ));
    out.note(&t!(
        "plan.scenario_carrier",
        locale = locale,
        id = carrier.id,
        name = one_line(carrier_name),
        delivery_id = carrier.delivery_id,
        profile = carrier.version
    ));
    out.note(&t!(
        "plan.scenario_order",
        locale = locale,
        order = one_line(&scenario.shop_order_id),
        shop = one_line(&scenario.shopid)
    ));
    let call = Api::call_name(carrier.call);
    out.note(&match carrier.call {
        Call::Realmock => t!("plan.call_signed", locale = locale, call = call),
        // A carrier no test call reaches is refused when the scenario is loaded.
        Call::TestUpdateOrder | Call::None => {
            t!("plan.call_unsigned", locale = locale, call = call)
        }
    });

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
        let clock = options.now.format("%H:%M:%S");
        let create = t!("plan.create_order", locale = locale, api = Api::Add.name());
        out.note(&format!("  #0   +0s  {clock}  {create}"));
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
        out.note(&format!("       {}", step_details(step, lang)));
        let action_time = if options.curl {
            ACTION_TIME_MARK
        } else {
            planned.map_or(0, |t| t.timestamp())
        };
        let body = UpdateOrder::for_step(scenario, step, action_time, signature);
        let json = serde_json::to_string(&body).unwrap_or_else(|e| {
            t!("plan.body_unwritable", locale = locale, error = e).into_owned()
        });
        // A carrier no test call reaches is refused when the scenario is loaded.
        let path = Api::for_call(carrier.call).map_or("", Api::path);
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
fn step_details(step: &StepPlan, lang: Lang) -> String {
    let locale = lang.code();
    let mut clauses = vec![match step.after_range {
        Some((low, high)) => t!(
            "plan.after_drawn",
            locale = locale,
            range = format_range(low, high),
            drawn = format_duration(step.after)
        ),
        None => t!(
            "plan.after",
            locale = locale,
            after = format_duration(step.after)
        ),
    }];
    if step.expect != Expect::Ok {
        let expected = super::expect_in(&step.expect, lang);
        clauses.push(t!("plan.expect", locale = locale, expected = expected));
    }
    if !step.checked {
        clauses.push(t!("plan.unchecked", locale = locale));
    }
    clauses.join(&t!("plan.clause_separator", locale = locale))
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
            text.starts_with("计划：1 个场景，2 个步骤；不发送任何请求\n"),
            "{text}"
        );
        assert!(
            text.contains("  配送公司   dada（达达），delivery_id DADA"),
            "{text}"
        );
        assert!(text.contains("102 rider_assigned  分配骑手成功"), "{text}");
        // Keys aligned by display width (配送公司表 is ten columns wide).
        assert!(text.contains("  速度       ×1（实时）\n"), "{text}");
        assert!(
            text.contains("间隔 20s..40s（抽取：31s）；预期 被配送公司拒绝；跳过状态流转检查"),
            "{text}"
        );
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
