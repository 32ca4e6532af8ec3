//! `simulate run` / `simulate check`: the real binary against the real emulator.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use simulate::emulator::{Config, parse_faults};

use crate::common::*;

fn status_of(orders: &serde_json::Value, shopid: &str) -> Vec<i64> {
    orders_list(orders)
        .iter()
        .filter(|o| o["shopid"] == shopid)
        .map(|o| {
            o["status"]["code"]
                .as_i64()
                .or_else(|| o["status"].as_i64())
                .or_else(|| o["order_status"].as_i64())
                .unwrap_or(-1)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_carrier_runs_its_happy_path_with_exit_0() {
    let platform = Platform::start().await;
    let run = platform
        .simulate()
        .args(["--speed", "100000"])
        .path(&scenario("dada_happy_path.yaml"))
        .path(&scenario("sf_happy_path.yaml"))
        .path(&scenario("sandbox_merchant_cancel.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let orders = platform.orders().await;
    assert_eq!(status_of(&orders, "dadaaee18818d97e236"), [302]);
    assert_eq!(status_of(&orders, "1534713176"), [302]);
    assert_eq!(status_of(&orders, "test_shop_id"), [103]);
    // One line per step as it happens, then the verdict.
    assert!(run.stdout.contains("302 delivered"), "{}", run.stdout);
    assert!(run.stdout.contains("PASSED: 3 scenarios"), "{}", run.stdout);
    assert_eq!(platform.calls_received().await, 5 + 3 + 2);
    run.assert_no_secrets(&[platform.token.expose()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_folder_runs_every_scenario_in_it() {
    let platform = Platform::start().await;
    let run = platform
        .simulate()
        .args(["--speed", "100000", "run"])
        .path(&repo().join("scenarios"))
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let scenarios = std::fs::read_dir(repo().join("scenarios"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        })
        .count();
    assert!(
        run.stdout
            .contains(&format!("PASSED: {scenarios} scenarios")),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn steps_go_out_at_their_time_and_never_overlap() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        &dir,
        "timed.yaml",
        "carrier: dada\nshop_order_id: timed-{{run_id}}\nsteps:\n  - status: 102\n  - status: 201\n    after: 600ms\n  - status: 202\n    after: 600ms\n  - status: 301\n    after: 600ms\n",
    );
    let report = dir.path().join("timed.json");
    let run = platform
        .simulate()
        .arg("--report-json")
        .path(&report)
        .path(&path)
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    // Each step left at its deadline from the one start instant: planned offsets 0, 600,
    // 1200, 1800 ms; lateness small (generous for a loaded 2-core machine), no drift.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let steps = report["scenarios"][0]["steps"].as_array().unwrap().clone();
    let offsets: Vec<i64> = steps
        .iter()
        .map(|s| s["planned_offset_ms"].as_i64().unwrap())
        .collect();
    assert_eq!(offsets, [0, 600, 1200, 1800]);
    let sent: Vec<chrono::DateTime<chrono::FixedOffset>> = steps
        .iter()
        .map(|s| chrono::DateTime::parse_from_rfc3339(s["sent_at"].as_str().unwrap()).unwrap())
        .collect();
    // Lateness is bounded only loosely (a loaded 2-core machine can stall a process for
    // half a second); what proves one start instant is that each send time is its planned
    // offset plus its own lateness, with no earlier step's lateness carried over.
    let late: Vec<i64> = steps
        .iter()
        .map(|s| s["lateness_ms"].as_i64().unwrap())
        .collect();
    for i in 0..steps.len() {
        assert!(late[i] < 1500, "step {} was {} ms late", i + 1, late[i]);
        let since_first = (sent[i] - sent[0]).num_milliseconds();
        let expected = offsets[i] + late[i] - late[0];
        assert!(
            (since_first - expected).abs() <= 50,
            "step {}: sent {since_first} ms after step 1, planned {} ms plus lateness {} ms",
            i + 1,
            offsets[i],
            late[i] - late[0]
        );
    }
    // Strictly one after another: each answer came before the next request left.
    for pair in steps.windows(2) {
        let answered = chrono::DateTime::parse_from_rfc3339(pair[0]["sent_at"].as_str().unwrap())
            .unwrap()
            + chrono::Duration::milliseconds(pair[0]["latency_ms"].as_i64().unwrap());
        let next =
            chrono::DateTime::parse_from_rfc3339(pair[1]["sent_at"].as_str().unwrap()).unwrap();
        assert!(
            answered <= next + chrono::Duration::milliseconds(1),
            "steps overlap"
        );
    }
    // 1.8 s of plan; generous upper bound for a loaded 2-core machine.
    assert!(
        run.took >= Duration::from_millis(1800),
        "took {:?}",
        run.took
    );
    assert!(run.took < Duration::from_secs(10), "took {:?}", run.took);
    assert!(run.stdout.contains("worst lateness"), "{}", run.stdout);

    // --speed divides every delay: 3 × 1 s at speed 4 is 0.75 s.
    let path = write_scenario(
        &dir,
        "fast.yaml",
        "carrier: dada\nshop_order_id: fast-{{run_id}}\nsteps:\n  - status: 102\n  - status: 201\n    after: 1s\n  - status: 202\n    after: 1s\n  - status: 301\n    after: 1s\n",
    );
    let run = platform
        .simulate()
        .args(["--speed", "4"])
        .path(&path)
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(
        run.took >= Duration::from_millis(750),
        "took {:?}",
        run.took
    );
    assert!(
        run.took < Duration::from_millis(2900),
        "took {:?}",
        run.took
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn scenarios_run_concurrently() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    write_scenarios(
        &dir,
        "s",
        4,
        "carrier: sf\nshop_order_id: c-{{run_id}}-{{scenario}}\nsteps:\n  - status: 102\n  - status: 202\n    after: 1s\n",
    );
    let run = platform.simulate().path(dir.path()).run().await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    // Four orders of 1 s each, together: well under 4 s.
    assert!(
        run.took < Duration::from_millis(3500),
        "took {:?}",
        run.took
    );
    assert_eq!(platform.calls_received().await, 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_input_exits_2_and_sends_nothing() {
    let platform = Platform::start().await;
    let invalid = repo().join("tests").join("fixtures").join("invalid");
    let mut files: Vec<_> = std::fs::read_dir(&invalid)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "fixtures: {files:?}");
    for file in &files {
        // Each invalid file alongside a valid one: nothing at all may be sent.
        let run = platform
            .simulate()
            .args(["--speed", "1000"])
            .path(&scenario("dada_happy_path.yaml"))
            .path(file)
            .run()
            .await;
        assert_eq!(run.code, 2, "{}: {}", file.display(), run.all_output());
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            run.stderr.contains(&name),
            "{name}: the message names the file:\n{}",
            run.stderr
        );
        assert!(run.stderr.contains("nothing was sent"), "{}", run.stderr);
        run.assert_no_secrets(&[platform.token.expose()]);
    }
    assert_eq!(platform.calls_received().await, 0);
    assert!(orders_list(&platform.orders().await).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn check_validates_without_sending() {
    let run = Sim::new()
        .arg("check")
        .path(&repo().join("scenarios"))
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(run.stdout.contains("are valid"), "{}", run.stdout);

    let run = Sim::new()
        .arg("check")
        .path(&fixture("invalid/bad_transition.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(run.stderr.contains("allowed next"), "{}", run.stderr);

    let run = Sim::new()
        .arg("check")
        .path(&repo().join("no-such-file.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 2, "{}", run.all_output());
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_errors_exit_2() {
    let run = Sim::new().run().await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    let run = Sim::new().args(["--speed", "0", "x.yaml"]).run().await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    let run = Sim::new().arg("--no-such-flag").run().await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    let run = Sim::new().arg("--help").run().await;
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("130"),
        "exit codes are in --help:\n{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_token_exits_3_and_says_how_to_give_one() {
    let run = Sim::new()
        .args(["--endpoint", "http://127.0.0.1:9"])
        .path(&scenario("dada_happy_path.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert!(run.stderr.contains("WECHAT_ACCESS_TOKEN"), "{}", run.stderr);
    assert!(run.stderr.contains("--access-token"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_endpoint_exits_3() {
    // Bind then drop: the port is free and nothing answers.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let run = Sim::new()
        .args([
            "--endpoint",
            &format!("http://127.0.0.1:{port}"),
            "--access-token",
            "tok-unreachable-1234",
        ])
        .args(["--connect-timeout", "2s"])
        .path(&scenario("sf_happy_path.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert!(run.stdout.contains("cannot connect"), "{}", run.stdout);
    run.assert_no_secrets(&["tok-unreachable-1234"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_token_exits_3() {
    let platform = Platform::start().await;
    let run = Sim::new()
        .args([
            "--endpoint",
            &platform.url(),
            "--access-token",
            "not-a-real-token-5678",
        ])
        .path(&scenario("dada_happy_path.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert!(run.stdout.contains("errcode 40001"), "{}", run.stdout);
    assert!(
        run.stdout.contains("access token was refused"),
        "{}",
        run.stdout
    );
    run.assert_no_secrets(&["not-a-real-token-5678"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_carrier_rejection_fails_the_order_and_stops_it() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    // A wrong appsecret: the carrier refuses the signature.
    let path = write_scenario(
        &dir,
        "wrong_secret.yaml",
        "carrier: dada\nshop_order_id: bad-sign-{{run_id}}\nshop:\n  shopid: dadaaee18818d97e236\n  appsecret: ${WRONG_SECRET}\nsteps:\n  - status: 102\n  - status: 201\n  - status: 202\n",
    );
    let other = scenario("sf_happy_path.yaml");
    let run = platform
        .simulate()
        .env("WRONG_SECRET", "0000wrongwrongwrong0000")
        .args(["--speed", "100000"])
        .path(&path)
        .path(&other)
        .run()
        .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    assert!(run.stdout.contains("resultcode 2003"), "{}", run.stdout);
    assert!(
        run.stdout.contains("not sent (an earlier step failed)"),
        "{}",
        run.stdout
    );
    // The other order went on to the end.
    assert_eq!(status_of(&platform.orders().await, "1534713176"), [302]);
    run.assert_no_secrets(&["0000wrongwrongwrong0000", platform.token.expose()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expected_rejection_passes() {
    let platform = Platform::start().await;
    let run = platform
        .simulate()
        .args(["--speed", "100000"])
        .path(&scenario("dada_out_of_order_rejected.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(run.stdout.contains("resultcode"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn http_errors_and_timeouts_fail_the_step() {
    let platform = Platform::with(Config {
        auto_create: true,
        faults: parse_faults("http503:1").unwrap(),
        ..Config::default()
    })
    .await;
    let run = platform
        .simulate()
        .path(&scenario("sf_happy_path.yaml"))
        // 5xx is retried: a short backoff keeps the test quick.
        .args([
            "--speed",
            "100000",
            "--retries",
            "2",
            "--retry-backoff",
            "20ms",
        ])
        .run()
        .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    assert!(run.stdout.contains("HTTP 503"), "{}", run.stdout);

    let platform = Platform::with(Config {
        auto_create: true,
        faults: parse_faults("slow:1,slow_delay=3s").unwrap(),
        ..Config::default()
    })
    .await;
    let run = platform
        .simulate()
        .args(["--speed", "100000", "--timeout", "300ms"])
        .path(&scenario("sf_happy_path.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    assert!(
        run.stdout.contains("no answer within 300ms"),
        "{}",
        run.stdout
    );

    // A 200 whose body is not the platform's JSON (a proxy's page): the step fails, unreadable.
    let platform = Platform::with(Config {
        auto_create: true,
        faults: parse_faults("garbled:1").unwrap(),
        ..Config::default()
    })
    .await;
    let run = platform
        .simulate()
        .args(["--speed", "100000"])
        .path(&scenario("sf_happy_path.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    assert!(run.stdout.contains("unreadable answer"), "{}", run.stdout);
    assert!(
        run.stdout.contains("not sent (an earlier step failed)"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_stay_out_of_output_at_every_verbosity() {
    let platform = Platform::start().await;
    for verbosity in [&["-q"][..], &[][..], &["-v"][..], &["-vv"][..]] {
        let run = platform
            .simulate()
            .args(verbosity)
            .args(["--speed", "100000"])
            .path(&scenario("dada_happy_path.yaml"))
            .path(&scenario("sf_happy_path.yaml"))
            .run()
            .await;
        assert_eq!(run.code, 0, "{}", run.all_output());
        run.assert_no_secrets(&[platform.token.expose()]);
    }
    let run = platform
        .simulate()
        .env("RUST_LOG", "trace")
        .args(["--speed", "100000"])
        .path(&scenario("dada_happy_path.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(!run.stderr.is_empty(), "trace logging is on");
    run.assert_no_secrets(&[platform.token.expose()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn local_runs_need_no_token_and_say_so() {
    let run = Sim::new()
        .args(["--local", "--speed", "100000"])
        .path(&scenario("dada_happy_path.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(run.stdout.contains("LOCAL EMULATOR"), "{}", run.stdout);
    run.assert_no_secrets(&[]);
    // Even the quietest output says where it ran.
    let quiet = Sim::new()
        .args(["--local", "-q", "--speed", "100000"])
        .path(&scenario("dada_happy_path.yaml"))
        .run()
        .await;
    assert_eq!(quiet.code, 0, "{}", quiet.all_output());
    assert!(
        quiet
            .stdout
            .contains("against the local emulator, not WeChat"),
        "{}",
        quiet.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn local_runs_push_status_changes_to_the_callback() {
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/push",
        axum::routing::post(move |body: axum::Json<serde_json::Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body.0);
                "success"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/push", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let run = Sim::new()
        .args(["--local", "--speed", "100000", "--callback", &url])
        .path(&scenario("sf_happy_path.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let statuses: Vec<i64> = received
        .lock()
        .unwrap()
        .iter()
        .map(|e| e["order_status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [102, 202, 302]);
    let first = received.lock().unwrap()[0].clone();
    assert_eq!(first["Event"], "update_waybill_status");
    assert_eq!(first["shopid"], "1534713176");
}
