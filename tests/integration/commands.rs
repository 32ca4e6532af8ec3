//! What people read: snapshots of `statuses`, `carriers`, `graph`, `plan`, `new`, the plain run
//! output, `--help`, completions and the man page. `SIMULATE_BLESS=1 cargo test` rewrites the
//! snapshots in tests/snapshots/ after a deliberate change.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;

/// Compares `actual` with tests/snapshots/NAME, or writes it when blessing.
pub(crate) fn snapshot(name: &str, actual: &str) {
    let path = repo().join("tests").join("snapshots").join(name);
    if std::env::var_os("SIMULATE_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("no snapshot {name}; run with SIMULATE_BLESS=1 to create it"));
    if expected != actual {
        panic!(
            "snapshot {name} differs (SIMULATE_BLESS=1 cargo test rewrites it after a deliberate change)\n--- expected\n{expected}\n--- actual\n{actual}"
        );
    }
}

/// Replaces what changes from run to run (clock times, ports, run ids, lateness) by placeholders.
pub(crate) fn normalize(text: &str) -> String {
    let rules: [(&str, &str); 9] = [
        (
            r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{2}:\d{2}",
            "DATE",
        ),
        (r"\b\d{2}:\d{2}:\d{2}(\.\d+)?\b", "HH:MM:SS"),
        (r"\d{8}-\d{6}-[0-9a-f]{4}", "RUNID"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
        (r" \(\+[0-9a-z.]+ late\)", ""),
        (r"\b[0-9a-f]{40}\b", "SHA1"),
        (r"lateness [0-9a-z.]+( \([^)]*\))?", "lateness N"),
        (r#""action_time":\d+"#, r#""action_time":N"#),
        (r"seed \d+", "seed N"),
    ];
    let mut out = text.to_owned();
    for (pattern, with) in rules {
        out = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&out, with)
            .into_owned();
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn statuses_and_carriers_tables() {
    for (name, args) in [
        ("statuses.txt", &["statuses"][..]),
        ("statuses_zh.txt", &["statuses", "--lang", "zh"][..]),
        ("carriers.txt", &["carriers"][..]),
    ] {
        let run = Sim::new().args(args).run().await;
        assert_eq!(run.code, 0, "{}", run.all_output());
        snapshot(name, &run.stdout);
        run.assert_no_secrets(&["test_app_secrect"]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn graphs_in_both_formats_with_a_highlighted_path() {
    for (name, args) in [
        ("graph_dada.mmd", vec!["graph", "--carrier", "dada"]),
        (
            "graph_sftc.dot",
            vec!["graph", "--carrier", "sf", "--format", "dot"],
        ),
        (
            "graph_dada_refused.mmd",
            vec!["graph", "scenarios/dada_recipient_refused.yaml"],
        ),
    ] {
        let run = Sim::new().args(args).run().await;
        assert_eq!(run.code, 0, "{}", run.all_output());
        snapshot(name, &run.stdout);
    }
    let run = Sim::new().args(["graph", "--carrier", "dad"]).run().await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("did you mean `dada`"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_prints_the_timeline_and_sends_nothing() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        &dir,
        "plan.yaml",
        "name: Plan demo\ncarrier: dada\nshop_order_id: plan-demo-{{run_id}}\nsteps:\n  - status: 102\n    action_msg: 骑手已接单\n  - status: at_store\n    after: 20s..40s\n  - status: 202\n    after: 1m\n    action_msg: it's picked up\n",
    );
    let run = Sim::new()
        .args(["plan", "--seed", "5", "--endpoint", &platform.url()])
        .path(&path)
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    snapshot(
        "plan.txt",
        &normalize(&run.stdout.replace(&dir.path().display().to_string(), "DIR")),
    );
    let curl = Sim::new()
        .args([
            "plan",
            "--curl",
            "--seed",
            "5",
            "--endpoint",
            &platform.url(),
        ])
        .path(&path)
        .run()
        .await;
    assert_eq!(curl.code, 0, "{}", curl.all_output());
    assert!(
        curl.stdout.contains("access_token=$WECHAT_ACCESS_TOKEN"),
        "{}",
        curl.stdout
    );
    snapshot(
        "plan_curl.txt",
        &normalize(
            &curl
                .stdout
                .replace(&dir.path().display().to_string(), "DIR"),
        ),
    );
    run.assert_no_secrets(&[]);
    curl.assert_no_secrets(&[]);
    // The same seed gives the same timeline.
    let again = Sim::new()
        .args(["plan", "--seed", "5", "--endpoint", &platform.url()])
        .path(&path)
        .run()
        .await;
    assert_eq!(normalize(&again.stdout), normalize(&run.stdout));
    assert_eq!(platform.calls_received().await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn new_writes_valid_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    for (carrier, path) in [
        ("dada", "happy"),
        ("dada", "unreachable"),
        ("dada", "refused"),
        ("sandbox", "cancel"),
        ("sf", "happy"),
    ] {
        let file = dir.path().join(format!("{carrier}_{path}.yaml"));
        let run = Sim::new()
            .args(["new", "--carrier", carrier, "--path", path])
            .path(&file)
            .run()
            .await;
        assert_eq!(run.code, 0, "{}", run.all_output());
        let check = Sim::new().arg("check").path(&file).run().await;
        assert_eq!(check.code, 0, "{carrier} {path}: {}", check.all_output());
    }
    snapshot(
        "new_dada_happy.yaml",
        &std::fs::read_to_string(dir.path().join("dada_happy.yaml")).unwrap(),
    );
    let run = Sim::new()
        .args(["new", "--carrier", "sf", "--path", "cancel"])
        .run()
        .await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("happy"),
        "names the paths SF can play: {}",
        run.stderr
    );
    let again = Sim::new()
        .args(["new", "--carrier", "dada"])
        .path(&dir.path().join("dada_happy.yaml"))
        .run()
        .await;
    assert_eq!(again.code, 2, "an existing file is kept");
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_run_output_off_a_terminal() {
    let platform = Platform::start().await;
    let run = platform
        .simulate()
        .args(["--speed", "100000", "--seed", "1", "--jobs", "1"])
        .path(&scenario("sf_happy_path.yaml"))
        .path(&scenario("dada_out_of_order_rejected.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    snapshot("run_plain.txt", &normalize(&run.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn help_completions_and_man_page() {
    let help = Sim::new().arg("--help").run().await;
    assert_eq!(help.code, 0);
    snapshot("help.txt", &help.stdout);
    for shell in ["bash", "zsh", "fish"] {
        let run = Sim::new().args(["completions", shell]).run().await;
        assert_eq!(run.code, 0, "{}", run.all_output());
        assert!(run.stdout.contains("simulate"), "{shell}");
        assert!(
            run.stdout.contains("report-junit"),
            "{shell}: completes the options"
        );
    }
    let man = Sim::new().arg("man").run().await;
    assert_eq!(man.code, 0);
    assert!(
        man.stdout.starts_with(".ie") || man.stdout.contains(".TH simulate"),
        "{}",
        man.stdout
    );
    assert!(man.stdout.contains(".SH"), "roff sections");
}

#[tokio::test(flavor = "multi_thread")]
async fn schema_command_prints_the_committed_schema() {
    let run = Sim::new().arg("schema").run().await;
    assert_eq!(run.code, 0);
    let committed = std::fs::read_to_string(repo().join("schema/scenario.schema.json")).unwrap();
    assert_eq!(run.stdout, committed);
}

#[tokio::test(flavor = "multi_thread")]
async fn schema_carriers_prints_the_committed_carriers_schema() {
    let run = Sim::new().args(["schema", "carriers"]).run().await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let committed = std::fs::read_to_string(repo().join("schema/carriers.schema.json")).unwrap();
    assert_eq!(run.stdout, committed);
    let scenario = Sim::new().args(["schema", "scenario"]).run().await;
    let committed = std::fs::read_to_string(repo().join("schema/scenario.schema.json")).unwrap();
    assert_eq!(scenario.stdout, committed);
}

#[test]
fn normalizing_removes_what_changes_between_runs() {
    let line = "22:41:07.512  Dada  qa-20261128-224107-3f2a  ✓ ok (+2ms late) seed 961394 at http://127.0.0.1:38959; worst lateness 3ms (Dada, step 2)";
    assert_eq!(
        normalize(line),
        "HH:MM:SS  Dada  qa-RUNID  ✓ ok seed N at http://127.0.0.1:PORT; worst lateness N"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_carriers_file_extends_the_table_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let carriers = write_scenario(
        &dir,
        "carriers.yaml",
        "version: team-1\ncarriers:\n  - id: mtps\n    aliases: [meituan]\n    delivery_id: MTPS\n    name: { en: Meituan, zh: 美团配送 }\n    call: realmock\n    version: mtps-1\n    account: { shopid: mtps-test-shop, appsecret: mtps-secret-value-1, shop_no: m1 }\n    statuses: [102, 202, 302]\n",
    );
    let scenario_path = write_scenario(
        &dir,
        "meituan.yaml",
        "carrier: meituan\nshop_order_id: mt-{{run_id}}\nsteps:\n  - status: 102\n  - status: 202\n  - status: 302\n",
    );
    // Without the file the carrier is unknown; with it, check, carriers, the emulator and a
    // local run all know it.
    let run = Sim::new().arg("check").path(&scenario_path).run().await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    let run = Sim::new()
        .arg("--carriers")
        .path(&carriers)
        .arg("check")
        .path(&scenario_path)
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(
        run.stdout.contains("carrier table team-1"),
        "{}",
        run.stdout
    );
    let run = Sim::new()
        .arg("--carriers")
        .path(&carriers)
        .arg("carriers")
        .run()
        .await;
    assert!(
        run.stdout.contains("mtps") && run.stdout.contains("dada"),
        "{}",
        run.stdout
    );
    let run = Sim::new()
        .args(["--local", "--speed", "100000", "--carriers"])
        .path(&carriers)
        .path(&scenario_path)
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    run.assert_no_secrets(&["mtps-secret-value-1"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn colours_follow_color_and_no_color() {
    let path = scenario("sf_happy_path.yaml");
    // The tests run without a terminal: auto means no colour; always forces it.
    let plain = Sim::new()
        .args(["--local", "--speed", "100000"])
        .path(&path)
        .run()
        .await;
    assert!(!plain.stdout.contains('\u{1b}'), "{}", plain.stdout);
    let coloured = Sim::new()
        .args(["--local", "--speed", "100000", "--color", "always"])
        .path(&path)
        .run()
        .await;
    assert!(
        coloured.stdout.contains("\u{1b}[32m"),
        "{}",
        coloured.stdout
    );
    let never = Sim::new()
        .env("NO_COLOR", "")
        .args(["--local", "--speed", "100000", "--color", "never"])
        .path(&path)
        .run()
        .await;
    assert!(!never.stdout.contains('\u{1b}'), "{}", never.stdout);
}
