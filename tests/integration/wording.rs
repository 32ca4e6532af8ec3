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
