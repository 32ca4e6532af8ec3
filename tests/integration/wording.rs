//! What the tool says in the small cases: counts, warnings, typos, verbosity.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Platform, Sim, write_scenario};

#[tokio::test(flavor = "multi_thread")]
async fn a_mistyped_command_is_named_not_looked_for_as_a_file() {
    let run = Sim::new().args(["chek", "scenarios/"]).run().await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(
        run.stderr.contains("did you mean `simulate check`?"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_step_is_one_step_and_a_repeated_file_is_checked_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        &dir,
        "one.yaml",
        "carrier: dada\nshop_order_id: one-{{run_id}}-{{repeat}}\nrepeat: 3\nsteps:\n  - status: 102\n",
    );
    let run = Sim::new().arg("check").path(&path).run().await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(
        run.stdout.matches("one.yaml").count(),
        1,
        "the file once, not once per repeat:\n{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("(dada, 1 step, repeated 3 times)"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("1 steps"), "{}", run.stdout);
    let platform = Platform::start().await;
    let single = write_scenario(
        &dir,
        "single.yaml",
        "carrier: dada\nshop_order_id: single-{{run_id}}\nsteps:\n  - status: 102\n",
    );
    let run = platform.simulate().path(&single).run().await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(
        run.stdout.contains("1 scenario, 1 step against"),
        "{}",
        run.stdout
    );
    assert!(
        !run.all_output().contains("1 steps"),
        "{}",
        run.all_output()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fail_fast_without_jobs_warns_that_it_has_nothing_to_stop() {
    let run = Sim::new()
        .args(["--local", "--speed", "100000", "--fail-fast"])
        .arg("scenarios/sf_happy_path.yaml")
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(
        run.stderr
            .contains("--fail-fast has nothing to stop without --jobs"),
        "{}",
        run.stderr
    );
    let with_jobs = Sim::new()
        .args(["--local", "--speed", "100000", "--fail-fast", "--jobs", "1"])
        .arg("scenarios/sf_happy_path.yaml")
        .run()
        .await;
    assert!(
        !with_jobs.stderr.contains("nothing to stop"),
        "{}",
        with_jobs.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn double_verbose_shows_trace_detail_without_secrets() {
    let platform = Platform::start().await;
    let run = platform
        .simulate()
        .args(["-vv", "--speed", "100000"])
        .arg("scenarios/dada_happy_path.yaml")
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(run.stderr.contains("TRACE"), "{}", run.stderr);
    assert!(
        run.stderr.contains("\"order_status\":102"),
        "the request body: {}",
        run.stderr
    );
    run.assert_no_secrets(&[platform.token.expose()]);
    let once = platform
        .simulate()
        .args(["-v", "--speed", "100000"])
        .arg("scenarios/dada_happy_path.yaml")
        .run()
        .await;
    assert!(!once.stderr.contains("TRACE"), "{}", once.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_curl_plan_is_a_script_bash_runs_with_every_step_accepted() {
    // No auto-create: the order exists only if the script's order/add creates it.
    let platform = Platform::with(simulate::emulator::Config::default()).await;
    let plan = platform
        .simulate()
        .args(["plan", "--curl", "--show-signatures", "--speed", "2000"])
        .arg("scenarios/sf_order_created.yaml")
        .run()
        .await;
    assert_eq!(plan.code, 0, "{}", plan.all_output());
    let script = plan.stdout.clone();
    let shown = script.clone();
    assert!(script.contains("set -eu"), "{script}");
    assert!(
        script.contains("/order/add?"),
        "the order/add call: {script}"
    );
    assert!(script.contains("\"$(date +%s)\""), "{script}");
    assert!(script.contains("sleep "), "{script}");
    let token = platform.token.expose().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .env("WECHAT_ACCESS_TOKEN", token)
            .output()
            .expect("bash runs")
    })
    .await
    .unwrap();
    let answers = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{shown}\n{answers}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = answers.lines().collect();
    assert_eq!(
        lines.len(),
        4,
        "order/add and three steps, one answer a line: {answers}"
    );
    for line in lines {
        let answer: serde_json::Value = serde_json::from_str(line).expect("an answer is JSON");
        assert_eq!(answer["errcode"], 0, "{line}");
        assert_eq!(answer["resultcode"].as_i64().unwrap_or(0), 0, "{line}");
    }
    let orders = platform.orders().await.to_string();
    assert!(orders.contains("302"), "the order was delivered: {orders}");
}
