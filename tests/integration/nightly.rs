//! The nightly job: credentials, retries, rate, jobs, shards, fail-fast, interrupts, reports.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use simulate::emulator::{Config, DEV_APPID, DEV_SECRET, parse_faults};

use crate::common::*;

fn read_json(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("report written");
    serde_json::from_str(&text).expect("report is JSON")
}

pub fn validate_report(report: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("schema/report.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the report schema is a schema");
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "report does not match its schema: {errors:#?}"
    );
}

/// The element and attribute sets of the JUnit schema Jenkins validates against (the
/// strictest of the CI reporters): nothing else may appear.
fn assert_jenkins_schema(xml: &str) {
    let allowed: &[(&str, &[&str])] = &[
        (
            "testsuites",
            &["name", "time", "tests", "failures", "errors"],
        ),
        (
            "testsuite",
            &[
                "name",
                "tests",
                "failures",
                "errors",
                "group",
                "time",
                "skipped",
                "timestamp",
                "hostname",
                "id",
                "package",
                "file",
                "log",
                "url",
            ],
        ),
        ("properties", &[]),
        ("property", &["name", "value"]),
        ("testcase", &["name", "time", "classname", "group"]),
        ("failure", &["type", "message"]),
        ("error", &["type", "message"]),
        ("skipped", &["type", "message"]),
        ("system-out", &[]),
        ("system-err", &[]),
    ];
    let timestamp = regex::Regex::new(r#"timestamp="([^"]*)""#).unwrap();
    let xsd_datetime =
        regex::Regex::new(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$").unwrap();
    for found in timestamp.captures_iter(xml) {
        assert!(
            xsd_datetime.is_match(&found[1]),
            "timestamp `{}` is not the schema's dateTime",
            &found[1]
        );
    }
    let tag = regex::Regex::new(r#"<([a-z-]+)((?:\s+[a-z_]+="[^"]*")*)\s*/?>"#).unwrap();
    let attribute = regex::Regex::new(r#"([a-z_]+)=""#).unwrap();
    let mut seen = 0;
    for found in tag.captures_iter(xml) {
        seen += 1;
        let name = &found[1];
        let Some((_, attributes)) = allowed.iter().find(|(n, _)| *n == name) else {
            panic!("element <{name}> is not in the JUnit schema")
        };
        for a in attribute.captures_iter(&found[2]) {
            assert!(
                attributes.contains(&&a[1]),
                "<{name}> may not carry `{}`",
                &a[1]
            );
        }
        for required in match name {
            "testsuite" => &["name", "tests", "failures", "errors"][..],
            "testcase" => &["name"][..],
            "property" => &["name", "value"][..],
            _ => &[][..],
        } {
            assert!(
                found[2].contains(&format!(" {required}=")),
                "<{name}> needs `{required}`"
            );
        }
    }
    assert!(seen > 3, "no elements found in {xml}");
}

/// Runs `simulate` against the platform, sends it SIGINT once the platform has its first
/// call, and returns its exit status and when the signal went.
async fn interrupt_after_first_call(
    platform: &Platform,
    args: &[&std::ffi::OsStr],
) -> (std::process::ExitStatus, std::time::Instant) {
    signal_after_first_call(platform, args, "-INT").await
}

/// As [`interrupt_after_first_call`], with the given `kill` signal (`-INT`, `-TERM`).
async fn signal_after_first_call(
    platform: &Platform,
    args: &[&std::ffi::OsStr],
    signal: &str,
) -> (std::process::ExitStatus, std::time::Instant) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_simulate"))
        .args([
            "--endpoint",
            &platform.url(),
            "--access-token",
            platform.token.expose(),
        ])
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if platform.calls_received().await >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Let the first answer arrive before the signal.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let interrupted = std::time::Instant::now();
    let kill = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    (status, interrupted)
}

fn steps(report: &serde_json::Value) -> Vec<serde_json::Value> {
    report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["steps"].as_array().unwrap().clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn app_credentials_fetch_a_token() {
    let platform = Platform::start().await;
    let run = Sim::new()
        .args(["--endpoint", &platform.url(), "--speed", "100000"])
        .env("WECHAT_APPID", DEV_APPID)
        .env("WECHAT_APP_SECRET", DEV_SECRET)
        .path(&scenario("dada_happy_path.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    run.assert_no_secrets(&[]);

    let run = Sim::new()
        .args([
            "--endpoint",
            &platform.url(),
            "--appid",
            DEV_APPID,
            "--app-secret",
            "wrong-secret-value",
        ])
        .path(&scenario("dada_happy_path.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert!(
        run.stderr.contains("--app-secret"),
        "names the credential to check:\n{}",
        run.stderr
    );
    run.assert_no_secrets(&["wrong-secret-value"]);
    assert_eq!(
        platform.calls_received().await,
        5,
        "nothing sent with a bad secret"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_fixed_token_ends_the_run_with_exit_3() {
    let platform = Platform::with(Config {
        auto_create: true,
        token_ttl: Duration::from_secs(1),
        ..Config::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        &dir,
        "slow.yaml",
        "carrier: sf\nshop_order_id: exp-{{run_id}}\nsteps:\n  - status: 102\n  - status: 202\n    after: 2500ms\n  - status: 302\n",
    );
    let run = platform.simulate().path(&path).run().await;
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert!(run.stdout.contains("errcode 42001"), "{}", run.stdout);
    assert!(run.stdout.contains("--access-token"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn fetched_tokens_are_renewed_before_they_expire() {
    let platform = Platform::with(Config {
        auto_create: true,
        token_ttl: Duration::from_secs(1),
        ..Config::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        &dir,
        "slow.yaml",
        "carrier: sf\nshop_order_id: renew-{{run_id}}\nsteps:\n  - status: 102\n  - status: 202\n    after: 1500ms\n  - status: 302\n    after: 1500ms\n",
    );
    let run = Sim::new()
        .args([
            "--endpoint",
            &platform.url(),
            "--appid",
            DEV_APPID,
            "--app-secret",
            DEV_SECRET,
        ])
        .path(&path)
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
}

#[tokio::test(flavor = "multi_thread")]
async fn transient_failures_are_retried_and_reported() {
    let platform = Platform::with(Config {
        auto_create: true,
        faults: parse_faults("errcode=-1:0.3,http503:0.2").unwrap(),
        seed: 42,
        ..Config::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let run = platform
        .simulate()
        .args([
            "--speed",
            "100000",
            "--retries",
            "8",
            "--retry-backoff",
            "10ms",
            "--seed",
            "7",
        ])
        .arg("--report-json")
        .path(&report)
        .path(&scenario("dada_happy_path.yaml"))
        .path(&scenario("sf_happy_path.yaml"))
        .run()
        .await;
    let report = read_json(&report);
    validate_report(&report);
    // Half of all calls fail, order/get's too: now and then its questions all fail (0.5^7),
    // and that step is reported unknown, the one failure allowed here.
    let unknown = steps(&report)
        .iter()
        .filter(|s| s["outcome"] != "passed")
        .inspect(|s| {
            assert_eq!(
                s["failure"]["kind"],
                "outcome_unknown",
                "{}",
                run.all_output()
            );
            assert!(
                s["failure"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("order/get could not say")),
                "{}",
                run.all_output()
            );
        })
        .count();
    assert_eq!(
        run.code,
        if unknown == 0 { 0 } else { 1 },
        "{}",
        run.all_output()
    );
    let attempts: usize = steps(&report)
        .iter()
        .map(|s| s["attempts"].as_array().unwrap().len())
        .sum();
    assert!(
        attempts > 8,
        "with 50% faults some steps needed retries: {attempts} attempts"
    );
    assert_eq!(report["settings"]["retries"], 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_carrier_rejection_is_never_retried() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        &dir,
        "bad.yaml",
        "carrier: dada\nshop_order_id: nr-{{run_id}}\nshop:\n  shopid: dadaaee18818d97e236\n  appsecret: wrongwrongwrong\nsteps:\n  - status: 102\n",
    );
    let report = dir.path().join("r.json");
    let run = platform
        .simulate()
        .arg("--report-json")
        .path(&report)
        .path(&path)
        .run()
        .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = read_json(&report);
    validate_report(&report);
    assert_eq!(steps(&report)[0]["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(platform.calls_received().await, 1);
    assert!(
        !report.to_string().contains("wrongwrongwrong"),
        "no appsecret in the report"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_minute_quota_waits_then_retries() {
    let platform = Platform::with(Config {
        auto_create: true,
        faults: parse_faults("45011:0.5").unwrap(),
        seed: 3,
        ..Config::default()
    })
    .await;
    let run = platform
        .simulate()
        .args([
            "--speed",
            "100000",
            "--retries",
            "10",
            "--quota-wait",
            "50ms",
        ])
        .path(&scenario("sf_happy_path.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rate_caps_calls_per_second() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    write_scenarios(
        &dir,
        "r",
        3,
        "carrier: dada\nshop_order_id: rate-{{scenario}}-{{run_id}}\nsteps:\n  - status: 102\n  - status: 201\n  - status: 202\n",
    );
    // 9 calls at 5/s: slots at 0, 0.2 … 1.6 s.
    let run = platform
        .simulate()
        .args(["--rate", "5/s"])
        .path(dir.path())
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(
        run.took >= Duration::from_millis(1600),
        "took {:?}",
        run.took
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_cap_scenarios_in_flight_and_fail_fast_stops_scheduling() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    write_scenarios(
        &dir,
        "j",
        3,
        "carrier: sf\nshop_order_id: jobs-{{scenario}}-{{run_id}}\nsteps:\n  - status: 102\n  - status: 202\n    after: 500ms\n",
    );
    let run = platform
        .simulate()
        .args(["--jobs", "1"])
        .path(dir.path())
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(
        run.took >= Duration::from_millis(1500),
        "one at a time: took {:?}",
        run.took
    );

    // The first scenario (by path) fails; with --fail-fast the others never start.
    write_scenario(
        &dir,
        "a_fails.yaml",
        "carrier: dada\nshop_order_id: ff-{{run_id}}\nshop:\n  shopid: dadaaee18818d97e236\n  appsecret: wrongwrongwrong\nsteps:\n  - status: 102\n",
    );
    let report = dir.path().join("ff.json");
    let run = platform
        .simulate()
        .args(["--jobs", "1", "--fail-fast", "--report-json"])
        .path(&report)
        .path(dir.path())
        .run()
        .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = read_json(&report);
    validate_report(&report);
    assert_eq!(report["summary"]["failed"], 1);
    assert_eq!(report["summary"]["not_sent"], 6);
    assert!(run.stdout.contains("--fail-fast"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn shards_split_the_suite_without_overlap() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    for shard in ["1/3", "2/3", "3/3"] {
        let report = dir.path().join(format!("shard{}.json", &shard[..1]));
        let run = platform
            .simulate()
            .args(["--speed", "100000", "--shard", shard, "--report-json"])
            .path(&report)
            .path(&repo().join("scenarios"))
            .run()
            .await;
        assert_eq!(run.code, 0, "{}", run.all_output());
        for s in read_json(&report)["scenarios"].as_array().unwrap() {
            seen.push(s["file"].as_str().unwrap().to_owned());
        }
    }
    seen.sort();
    let count = seen.len();
    seen.dedup();
    assert_eq!(seen.len(), count, "no file runs in two shards");
    let all = std::fs::read_dir(repo().join("scenarios")).unwrap().count();
    assert_eq!(count, all, "every file runs in some shard");
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_load_and_carry_no_secret() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let bad = write_scenario(
        &dir,
        "bad.yaml",
        "carrier: dada\nshop_order_id: rep-{{run_id}}\nshop:\n  shopid: dadaaee18818d97e236\n  appsecret: wrongwrongwrong\nsteps:\n  - status: 102\n  - status: 201\n",
    );
    let json = dir.path().join("r.json");
    let junit = dir.path().join("r.xml");
    let run = platform
        .simulate()
        .args(["--speed", "100000", "--report-json"])
        .path(&json)
        .arg("--report-junit")
        .path(&junit)
        .path(&scenario("dada_happy_path.yaml"))
        .path(&bad)
        .run()
        .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = read_json(&json);
    validate_report(&report);
    assert_eq!(report["summary"]["steps"], 7);
    assert_eq!(report["summary"]["passed"], 5);
    assert_eq!(report["summary"]["failed"], 1);
    assert_eq!(report["summary"]["not_sent"], 1);
    let first = &steps(&report)[0];
    assert!(first["planned_at"].is_string() && first["sent_at"].is_string());
    assert_eq!(
        first["request"]["path"],
        "/cgi-bin/express/local/business/realmock_update_order?access_token=***"
    );

    let xml = std::fs::read_to_string(&junit).unwrap();
    // quick-junit wants a time zone in `timestamp`, which the JUnit XSD's pattern forbids
    // (the times are UTC); it parses the rest as any CI reporter would.
    let zoneless = regex::Regex::new(r#" timestamp="[^"]*""#).unwrap();
    let parsed = quick_junit::Report::deserialize_from_str(&zoneless.replace_all(&xml, ""))
        .expect("JUnit XML parses");
    assert_eq!(parsed.test_suites.len(), 2);
    assert_eq!(parsed.tests, 7);
    assert_eq!(parsed.failures + parsed.errors, 1);
    let skipped: usize = parsed
        .test_suites
        .iter()
        .flat_map(|s| &s.test_cases)
        .filter(|c| matches!(c.status, quick_junit::TestCaseStatus::Skipped { .. }))
        .count();
    assert_eq!(skipped, 1);
    assert_jenkins_schema(&xml);
    assert!(
        xml.contains(&format!(
            r#"<property name="endpoint" value="{}"/>"#,
            platform.url()
        )),
        "{xml}"
    );
    for text in [xml.as_str(), &report.to_string()] {
        for secret in SECRETS
            .iter()
            .chain(&["wrongwrongwrong", platform.token.expose()])
        {
            assert!(!text.contains(secret), "a report leaks a secret");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn events_stream_as_json_lines() {
    let platform = Platform::start().await;
    let run = platform
        .simulate()
        .args(["--speed", "100000", "--events", "jsonl"])
        .path(&scenario("sf_happy_path.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"run_started"));
    assert_eq!(events[0]["endpoint"], platform.url());
    assert_eq!(events[0]["local_emulator"], false);
    assert_eq!(kinds.last(), Some(&"run_finished"));
    assert_eq!(kinds.iter().filter(|k| **k == "step_sent").count(), 3);
    assert_eq!(kinds.iter().filter(|k| **k == "step_answered").count(), 3);
    assert_eq!(kinds.iter().filter(|k| **k == "step_finished").count(), 3);
    assert!(
        run.stderr.contains("PASSED"),
        "people read stderr:\n{}",
        run.stderr
    );
    run.assert_no_secrets(&[platform.token.expose()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupt_stops_new_calls_writes_reports_and_exits_130() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        &dir,
        "long.yaml",
        "carrier: dada\nshop_order_id: int-{{run_id}}\nsteps:\n  - status: 102\n  - status: 201\n    after: 30s\n  - status: 202\n",
    );
    let report = dir.path().join("int.json");
    let (status, _) = interrupt_after_first_call(
        &platform,
        &[
            "--report-json".as_ref(),
            report.as_os_str(),
            path.as_os_str(),
        ],
    )
    .await;
    assert_eq!(status.code(), Some(130));
    let report = read_json(&report);
    validate_report(&report);
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["summary"]["passed"], 1);
    assert_eq!(report["summary"]["not_sent"], 2);
    assert_eq!(platform.calls_received().await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_orders_are_all_accounted_for() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    write_scenarios(
        &dir,
        "o",
        1000,
        "carrier: sandbox\nshop_order_id: k-{{scenario}}-{{run_id}}\nsteps:\n  - status: 102\n  - status: merchant_cancelled\n    after: 100ms\n",
    );
    let report = dir.path().join("big.json");
    let run = platform
        .simulate()
        .args(["-q", "--report-json"])
        .path(&report)
        .path(dir.path())
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let report = read_json(&report);
    assert_eq!(report["summary"]["scenarios"], 1000);
    assert_eq!(report["summary"]["steps"], 2000);
    assert_eq!(report["summary"]["passed"], 2000);
    assert_eq!(platform.calls_received().await, 2000);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timed_out_call_is_checked_with_order_get_before_it_is_sent_again() {
    // Every call is slow: realmock times out, and so does order/get at first.
    let platform = Platform::with(Config {
        auto_create: true,
        faults: parse_faults("slow:1,slow_delay=700ms").unwrap(),
        ..Config::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("u.json");
    let path = write_scenario(
        &dir,
        "one.yaml",
        "carrier: sandbox\nshop_order_id: u-{{run_id}}\nsteps:\n  - status: 102\n",
    );
    let run = platform
        .simulate()
        .args(["--timeout", "300ms", "--retries", "0", "--report-json"])
        .path(&report)
        .path(&path)
        .run()
        .await;
    // Nobody can tell whether it took: the step fails as "outcome unknown", and is not resent.
    assert_eq!(run.code, 1, "{}", run.all_output());
    assert!(run.stdout.contains("outcome unknown"), "{}", run.stdout);
    let report = read_json(&report);
    validate_report(&report);
    assert_eq!(steps(&report)[0]["failure"]["kind"], "outcome_unknown");
    assert_eq!(steps(&report)[0]["attempts"].as_array().unwrap().len(), 1);

    // With a platform that answers order/get in time, the answer decides: the step passes
    // whether the slow update took (confirmed) or not (sent again).
    let platform = Platform::with(Config {
        auto_create: true,
        faults: parse_faults("slow:0.5,slow_delay=700ms").unwrap(),
        seed: 11,
        ..Config::default()
    })
    .await;
    let report = dir.path().join("u2.json");
    let run = platform
        .simulate()
        .args([
            "--timeout",
            "400ms",
            "--retries",
            "6",
            "--retry-backoff",
            "1s",
            "--speed",
            "100000",
            "--report-json",
        ])
        .path(&report)
        .path(&scenario("sf_happy_path.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    validate_report(&read_json(&report));
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_checks_every_accepted_step_with_order_get() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("v.json");
    let run = platform
        .simulate()
        .args(["--verify", "--speed", "100000", "--report-json"])
        .path(&report)
        .path(&scenario("dada_happy_path.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let report = read_json(&report);
    let verified: Vec<i64> = steps(&report)
        .iter()
        .map(|s| s["verified_status"].as_i64().unwrap())
        .collect();
    assert_eq!(verified, [102, 201, 202, 301, 302]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_order_block_creates_the_order_first() {
    // No auto-create: the order must come from order/add.
    let platform = Platform::with(Config::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("o.json");
    let junit = dir.path().join("o.xml");
    let run = platform
        .simulate()
        .args(["--speed", "100000", "--report-json"])
        .path(&report)
        .arg("--report-junit")
        .path(&junit)
        .path(&scenario("sf_order_created.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(
        run.stdout.contains("order/add  ✓ created, waybill"),
        "{}",
        run.stdout
    );
    let report = read_json(&report);
    validate_report(&report);
    let order = &report["scenarios"][0]["order"];
    assert_eq!(order["outcome"], "created");
    assert_eq!(order["request"]["body"]["delivery_sign"], "***");
    assert_eq!(order["request"]["body"]["delivery_id"], "SFTC");
    assert_eq!(order["answer"]["errcode"], 0);
    assert!(order["waybill_id"].as_str().is_some_and(|w| !w.is_empty()));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("create order"), "{xml}");

    // Without auto-create and without an order block, realmock finds no order: 930563.
    let run = platform
        .simulate()
        .args(["--speed", "100000"])
        .path(&scenario("sf_happy_path.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    assert!(run.stdout.contains("930563"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn order_creation_needs_an_openid_except_locally() {
    let platform = Platform::with(Config::default()).await;
    let run = Sim::new()
        .args([
            "--endpoint",
            &platform.url(),
            "--access-token",
            platform.token.expose(),
        ])
        .path(&scenario("sf_order_created.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(run.stderr.contains("WECHAT_OPENID"), "{}", run.stderr);
    assert_eq!(platform.calls_received().await, 0);

    let run = Sim::new()
        .args(["--local", "--speed", "100000"])
        .path(&scenario("sf_order_created.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
}

#[tokio::test(flavor = "multi_thread")]
async fn repeat_runs_one_path_for_many_orders_and_fixed_ids_are_warned_about() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        &dir,
        "rep.yaml",
        "name: Many\ncarrier: sandbox\nshop_order_id: rep-{{run_id}}-{{repeat}}\nrepeat: 5\nsteps:\n  - status: 102\n  - status: 103\n",
    );
    let report = dir.path().join("rep.json");
    let run = platform
        .simulate()
        .arg("--report-json")
        .path(&report)
        .path(&path)
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let report = read_json(&report);
    let names: Vec<&str> = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Many #1", "Many #2", "Many #3", "Many #4", "Many #5"]
    );
    assert_eq!(platform.calls_received().await, 10);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);

    let fixed = write_scenario(
        &dir,
        "fixed.yaml",
        "carrier: sandbox\nshop_order_id: always-the-same\nsteps:\n  - status: 102\n",
    );
    let run = Sim::new().arg("check").path(&fixed).run().await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(
        run.stderr.contains("warning") && run.stderr.contains("{{run_id}}"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupt_also_stops_calls_waiting_for_a_rate_slot() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        &dir,
        "rate.yaml",
        "carrier: sandbox\nshop_order_id: ri-{{run_id}}\nsteps:\n  - status: 102\n  - status: 201\n  - status: 202\n",
    );
    let (status, interrupted) = interrupt_after_first_call(
        &platform,
        &["--rate".as_ref(), "0.2/s".as_ref(), path.as_os_str()],
    )
    .await;
    assert_eq!(status.code(), Some(130));
    // The next slot was 5 s away: the run stops at once and sends nothing more.
    assert!(
        interrupted.elapsed() < Duration::from_secs(3),
        "took {:?}",
        interrupted.elapsed()
    );
    assert_eq!(platform.calls_received().await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_dropped_after_sending_is_checked_not_resent_blindly() {
    // Every call is dropped, order/get included: nobody can tell whether the update took.
    let platform = Platform::with(Config {
        auto_create: true,
        faults: parse_faults("drop:1").unwrap(),
        ..Config::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("d.json");
    let path = write_scenario(
        &dir,
        "one.yaml",
        "carrier: sandbox\nshop_order_id: d-{{run_id}}\nsteps:\n  - status: 102\n",
    );
    let run = platform
        .simulate()
        .args(["--retries", "1", "--retry-backoff", "20ms", "--report-json"])
        .path(&report)
        .path(&path)
        .run()
        .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = read_json(&report);
    validate_report(&report);
    let step = &steps(&report)[0];
    assert_eq!(step["failure"]["kind"], "outcome_unknown", "{step}");
    assert_eq!(
        step["attempts"].as_array().unwrap().len(),
        1,
        "not sent again without an answer from order/get"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_endpoint_is_a_usage_error() {
    for endpoint in [
        "not a url",
        "ftp://127.0.0.1",
        "http://127.0.0.1:1?access_token=x",
    ] {
        let run = Sim::new()
            .args(["--endpoint", endpoint, "--access-token", "tok-1234"])
            .path(&scenario("sf_happy_path.yaml"))
            .run()
            .await;
        assert_eq!(run.code, 2, "{endpoint}: {}", run.all_output());
        assert!(run.stderr.contains("--endpoint"), "{}", run.stderr);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_a_run_like_ctrl_c() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        &dir,
        "long.yaml",
        "carrier: sandbox\nshop_order_id: term-{{run_id}}\nsteps:\n  - status: 102\n  - status: 103\n    after: 30s\n",
    );
    let report = dir.path().join("term.json");
    let (status, _) = signal_after_first_call(
        &platform,
        &[
            "--report-json".as_ref(),
            report.as_os_str(),
            path.as_os_str(),
        ],
        "-TERM",
    )
    .await;
    assert_eq!(status.code(), Some(130));
    let report = read_json(&report);
    validate_report(&report);
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["summary"]["not_sent"], 1);
}
