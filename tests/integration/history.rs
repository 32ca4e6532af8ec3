//! A nightly job keeps its history: stable JUnit names, events with a schema, a lateness
//! threshold, reruns of what failed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;

/// A Dada order created first, then three steps a second apart: it lasts at least 2 s.
const TWO_SECONDS: &str = "name: Nightly order\ncarrier: dada\nshop_order_id: nightly-{{run_id}}\norder: true\nrepeat: 2\nsteps:\n  - status: 102\n  - status: 201\n    after: 1s\n  - status: 202\n    after: 1s\n";

fn testcase_names(xml: &str) -> Vec<String> {
    let name = regex::Regex::new(r#"<testcase name="([^"]*)""#).unwrap();
    name.captures_iter(xml).map(|c| c[1].to_owned()).collect()
}

fn attribute(tag: &str, name: &str) -> String {
    let re = regex::Regex::new(&format!(r#" {name}="([^"]*)""#)).unwrap();
    re.captures(tag)
        .unwrap_or_else(|| panic!("no {name} in {tag}"))[1]
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn junit_names_stay_the_same_from_run_to_run_and_suites_take_the_orders_time() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(&dir, "nightly.yaml", TWO_SECONDS);
    let ids = regex::Regex::new(r#"name="shop_order_id" value="([^"]*)""#).unwrap();
    let mut names = Vec::new();
    let mut order_ids = Vec::new();
    for night in 0..2 {
        let junit = dir.path().join(format!("junit-{night}.xml"));
        let run = platform
            .simulate()
            .arg("--report-junit")
            .path(&junit)
            .path(&path)
            .run()
            .await;
        assert_eq!(run.code, 0, "{}", run.all_output());
        let xml = std::fs::read_to_string(&junit).unwrap();
        assert_jenkins_schema(&xml);
        let suites: Vec<&str> = xml
            .lines()
            .filter(|l| l.trim_start().starts_with("<testsuite "))
            .collect();
        assert_eq!(suites.len(), 2, "{xml}");
        for suite in suites {
            let time: f64 = attribute(suite, "time").parse().unwrap();
            // The order took two 1 s waits; the sum of the call latencies is milliseconds.
            assert!(
                time >= 2.0,
                "testsuite time {time} < the order's 2 s: {suite}"
            );
            assert!(time <= run.took.as_secs_f64(), "{time} > {:?}", run.took);
            assert_eq!(
                attribute(suite, "hostname"),
                gethostname::gethostname().to_string_lossy(),
                "the machine's name, not the endpoint's"
            );
        }
        order_ids.extend(ids.captures_iter(&xml).map(|c| c[1].to_owned()));
        assert!(
            xml.contains(r#"<property name="waybill_id" value=""#),
            "the waybill is a property: {xml}"
        );
        names.push(testcase_names(&xml));
    }
    assert_eq!(
        names[0],
        [
            "Nightly order #1 / create order",
            "Nightly order #1 / step 1 102 rider_assigned",
            "Nightly order #1 / step 2 201 at_store",
            "Nightly order #1 / step 3 202 picked_up",
            "Nightly order #2 / create order",
            "Nightly order #2 / step 1 102 rider_assigned",
            "Nightly order #2 / step 2 201 at_store",
            "Nightly order #2 / step 3 202 picked_up",
        ]
    );
    assert_eq!(names[0], names[1], "CI tracks tests by name across runs");
    order_ids.sort();
    order_ids.dedup();
    assert_eq!(
        order_ids.len(),
        4,
        "each run has its own order ids, as properties"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn folders_skip_hidden_files_and_folders() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("suite");
    std::fs::create_dir_all(suite.join(".github/workflows")).unwrap();
    std::fs::write(
        suite.join(".github/workflows/ci.yml"),
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
    )
    .unwrap();
    std::fs::write(suite.join(".draft.yaml"), "carrier: nope\n").unwrap();
    std::fs::copy(scenario("sf_happy_path.yaml"), suite.join("sf.yaml")).unwrap();
    let check = Sim::new().arg("check").path(&suite).run().await;
    assert_eq!(check.code, 0, "{}", check.all_output());
    assert!(
        !check.all_output().contains("ci.yml"),
        "{}",
        check.all_output()
    );
    let run = platform
        .simulate()
        .args(["--speed", "100000"])
        .path(&suite)
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(run.stdout.contains("1 scenario, 3 steps"), "{}", run.stdout);
}

/// Three steps due at once: with `--rate 1/s` the second cannot leave before a second has
/// passed (a rate wait counts as lateness), however fast the machine.
const ALL_AT_ONCE: &str = "name: Burst\ncarrier: dada\nshop_order_id: late-{{run_id}}\nsteps:\n  - status: 102\n  - status: 201\n  - status: 202\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_step_later_than_max_lateness_fails_the_run_and_is_named() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(&dir, "burst.yaml", ALL_AT_ONCE);
    let json = dir.path().join("r.json");
    let junit = dir.path().join("r.xml");
    let html = dir.path().join("r.html");
    let run = platform
        .simulate()
        .arg("--report-html")
        .path(&html)
        .args([
            "--rate",
            "1/s",
            "--max-lateness",
            "300ms",
            "--events",
            "jsonl",
        ])
        .arg("--report-json")
        .path(&json)
        .arg("--report-junit")
        .path(&junit)
        .path(&path)
        .run()
        .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    assert!(
        run.stderr.contains("✗ Burst, step 2 (")
            && run.stderr.contains(") 201 at_store was sent ")
            && run.stderr.contains(" late, beyond --max-lateness 300ms"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("FAILED: 1 scenario, 3 steps: 3 passed"),
        "{}",
        run.stderr
    );
    let report = read_json(&json);
    validate_report(&report);
    assert_eq!(report["exit_code"], 1);
    assert_eq!(report["settings"]["max_lateness_ms"], 300);
    let late = report["summary"]["over_max_lateness"].as_array().unwrap();
    assert_eq!(late[0]["step"], 2, "{late:?}");
    assert!(late[0]["lateness_ms"].as_u64().unwrap() > 300);
    assert_eq!(
        report["scenarios"][0]["steps"][1]["over_max_lateness"],
        true
    );
    let events = validate_events(&run.stdout);
    let finished = events.last().unwrap();
    assert_eq!(finished["exit_code"], 1);
    assert_eq!(finished["over_max_lateness"][0]["step"], 2);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_jenkins_schema(&xml);
    assert!(
        xml.contains(r#"<failure message="sent "#) && xml.contains(r#"type="max_lateness""#),
        "{xml}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("<b>Too late.</b> Burst, step 2 (")
            && page.contains("beyond --max-lateness 300ms")
            && page.contains("✗ FAILED"),
        "the HTML report names the late step and fails the run"
    );

    // A threshold the run keeps: it passes (an hour of lateness would take a broken machine).
    let run = platform
        .simulate()
        .args(["--speed", "100000", "--max-lateness", "1h"])
        .path(&path)
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
}

const WRONG_SECRET: &str = "carrier: dada\nshop_order_id: again-{{run_id}}\nshop:\n  shopid: dadaaee18818d97e236\n  appsecret: wrongwrongwrong\nsteps:\n  - status: 102\n  - status: 201\n";
const RIGHT_SECRET: &str =
    "carrier: dada\nshop_order_id: again-{{run_id}}\nsteps:\n  - status: 102\n  - status: 201\n";

fn scenario_names(report: &serde_json::Value) -> Vec<String> {
    report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn rerun_failed_plays_only_what_did_not_pass_with_fresh_order_ids() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("suite");
    std::fs::create_dir(&suite).unwrap();
    std::fs::copy(scenario("sf_happy_path.yaml"), suite.join("sf.yaml")).unwrap();
    let bad = suite.join("bad.yaml");
    std::fs::write(&bad, WRONG_SECRET).unwrap();
    let first = dir.path().join("first.json");
    let run = platform
        .simulate()
        .args(["--speed", "100000", "--report-json"])
        .path(&first)
        .path(&suite)
        .run()
        .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let before = read_json(&first);
    assert_eq!(scenario_names(&before), ["bad", "SF happy path"]);

    // Still failing: only that scenario runs, with a new order id.
    let second = dir.path().join("second.json");
    let run = platform
        .simulate()
        .args(["--speed", "100000", "--rerun-failed"])
        .path(&first)
        .arg("--report-json")
        .path(&second)
        .run()
        .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let again = read_json(&second);
    validate_report(&again);
    assert_eq!(scenario_names(&again), ["bad"]);
    assert_ne!(
        again["scenarios"][0]["shop_order_id"],
        before["scenarios"][0]["shop_order_id"]
    );

    // Fixed: the rerun passes.
    std::fs::write(&bad, RIGHT_SECRET).unwrap();
    let run = platform
        .simulate()
        .args(["--speed", "100000", "--rerun-failed"])
        .path(&second)
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(
        run.stdout.contains("PASSED: 1 scenario, 2 steps"),
        "{}",
        run.stdout
    );

    // A report where everything passed: nothing to do, and that is no failure.
    let third = dir.path().join("third.json");
    let run = platform
        .simulate()
        .args(["--speed", "100000", "--report-json"])
        .path(&third)
        .path(&bad)
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let run = platform
        .simulate()
        .arg("--rerun-failed")
        .path(&third)
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(run.stderr.contains("nothing to rerun"), "{}", run.stderr);
    assert!(!run.stdout.contains("bad"), "{}", run.stdout);

    // The file is gone: said, nothing sent.
    std::fs::remove_file(&bad).unwrap();
    let calls = platform.calls_received().await;
    let run = platform
        .simulate()
        .arg("--rerun-failed")
        .path(&first)
        .run()
        .await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(
        run.stderr.contains("names scenario `bad` in ")
            && run.stderr.contains("bad.yaml, which no longer exists"),
        "{}",
        run.stderr
    );
    assert_eq!(platform.calls_received().await, calls, "nothing was sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn rerun_failed_refuses_a_report_that_is_not_ours() {
    let dir = tempfile::tempdir().unwrap();
    let other = write_scenario(&dir, "other.json", "{\"tests\": 3, \"failures\": 1}\n");
    let run = Sim::new().arg("--rerun-failed").path(&other).run().await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(
        run.stderr
            .contains("other.json is not a JSON report of simulate: it has no `tool`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--report-json"), "{}", run.stderr);
    let yaml = scenario("sf_happy_path.yaml");
    let run = Sim::new().arg("--rerun-failed").path(&yaml).run().await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(
        run.stderr
            .contains("is not a JSON report of simulate: it is not JSON"),
        "{}",
        run.stderr
    );
    let run = Sim::new()
        .args(["--rerun-failed", "r.json"])
        .path(&yaml)
        .run()
        .await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(
        run.stderr.contains("give no PATH with it"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn only_runs_the_scenarios_whose_name_matches() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("only.json");
    let run = platform
        .simulate()
        .args([
            "--speed",
            "100000",
            "--only",
            "Dada*",
            "--only",
            "*refused*",
        ])
        .arg("--report-json")
        .path(&json)
        .path(&repo().join("scenarios"))
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let mut names = scenario_names(&read_json(&json));
    names.sort();
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("Dada") || n.contains("refused")),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.starts_with("SF")), "{names:?}");
    assert!(names.len() >= 2, "{names:?}");
    let run = Sim::new()
        .args(["plan", "--only", "Nope*"])
        .path(&repo().join("scenarios"))
        .run()
        .await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(
        run.stderr
            .contains("no scenario's name matches --only Nope*")
            && run.stderr.contains("`SF happy path`"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn check_allows_missing_variables_on_request_and_strict_makes_warnings_errors() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = write_scenario(
        &dir,
        "secrets.yaml",
        "carrier: dada\nshop_order_id: lint-{{run_id}}\nshop:\n  shopid: ${LINT_JOB_SHOPID}\n  appsecret: ${LINT_JOB_APPSECRET}\nsteps:\n  - status: 102\n",
    );
    let fixed = write_scenario(
        &dir,
        "fixed.yaml",
        "carrier: dada\nshop_order_id: always-the-same\nsteps:\n  - status: 102\n",
    );
    let check = |args: &[&str]| Sim::new().arg("check").args(args.to_vec());

    // Without the flag, a missing variable is an error, as it is for a run.
    let run = check(&[]).path(&secrets).run().await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(
        run.stderr.contains(
            "secrets.yaml:4:11: error: environment variable `LINT_JOB_SHOPID` is not set"
        ),
        "{}",
        run.stderr
    );

    let run = check(&["--allow-missing-env"]).path(&secrets).run().await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(
        run.stderr.contains(
            "secrets.yaml:4:11: warning: environment variable `LINT_JOB_SHOPID` is not set"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "secrets.yaml:5:14: warning: environment variable `LINT_JOB_APPSECRET` is not set"
        ),
        "{}",
        run.stderr
    );

    // Other problems stay errors.
    let broken = write_scenario(
        &dir,
        "broken.yaml",
        "carrier: dada\nshop_order_id: lint-{{run_id}}\nshop:\n  shopid: ${LINT_JOB_SHOPID}\n  appsecret: x\nsteps:\n  - status: 999\n",
    );
    let run = check(&["--allow-missing-env"]).path(&broken).run().await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(
        run.stderr.contains("broken.yaml:7:13: error:"),
        "{}",
        run.stderr
    );

    // A run never takes the flag's leniency.
    let run = Sim::new().arg("--local").path(&secrets).run().await;
    assert_eq!(run.code, 2, "{}", run.all_output());

    // --strict: every warning is an error, exit 2.
    let run = check(&[]).path(&fixed).run().await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(
        run.stderr.contains(
            "fixed.yaml: warning: shop_order_id `always-the-same` is the same in every run"
        ),
        "{}",
        run.stderr
    );
    let run = check(&["--strict"]).path(&fixed).run().await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(
        run.stderr.contains(
            "fixed.yaml: error: shop_order_id `always-the-same` is the same in every run"
        ),
        "{}",
        run.stderr
    );
    let run = check(&["--strict", "--allow-missing-env"])
        .path(&secrets)
        .run()
        .await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(
        run.stderr.contains(
            "secrets.yaml:4:11: error: environment variable `LINT_JOB_SHOPID` is not set"
        ),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn man_dir_writes_every_page_the_main_page_refers_to() {
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("man/man1");
    let run = Sim::new().args(["man", "--dir"]).path(&pages).run().await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let written: Vec<String> = std::fs::read_dir(&pages)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(written.contains(&"simulate.1".to_owned()), "{written:?}");
    // roff writes the hyphen as `\-`.
    let reference = regex::Regex::new(r"simulate\\?-([a-z]+)\(1\)").unwrap();
    let mut referred = 0;
    for page in &written {
        let text = std::fs::read_to_string(pages.join(page)).unwrap();
        assert!(text.contains(".TH"), "{page} is a man page");
        for found in reference.captures_iter(&text) {
            referred += 1;
            let file = format!("simulate-{}.1", &found[1]);
            assert!(
                written.contains(&file),
                "{page} refers to {file}, which is not written"
            );
        }
    }
    // Every command of --help has its page.
    let help = Sim::new().arg("--help").run().await.stdout;
    let commands = help
        .split("Commands:")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap();
    for line in commands.lines().filter(|l| !l.trim().is_empty()) {
        let name = line.split_whitespace().next().unwrap();
        if name != "help" {
            assert!(
                written.contains(&format!("simulate-{name}.1")),
                "no page for {name}"
            );
        }
    }
    assert!(referred >= 10, "the main page lists the commands' pages");
    let main = std::fs::read_to_string(pages.join("simulate.1")).unwrap();
    assert!(!main.contains("help(1)"), "no page for help is written");
    assert!(
        main.contains(".SH \"SCENARIO FORMAT\"") && main.contains("shop_order_id: qa-{{run_id}}")
    );
    assert!(main.contains(".SH \"EXIT STATUS\"") && main.contains("130  interrupted"));
    // `simulate man` alone prints the same main page.
    let alone = Sim::new().arg("man").run().await;
    assert_eq!(alone.stdout, main);
}

#[tokio::test(flavor = "multi_thread")]
async fn completions_offer_carrier_ids_after_carrier() {
    let bash = Sim::new().args(["completions", "bash"]).run().await;
    assert_eq!(bash.code, 0, "{}", bash.all_output());
    let after_carrier = bash
        .stdout
        .split("--carrier)")
        .nth(1)
        .expect("a case for --carrier")
        .lines()
        .nth(1)
        .unwrap()
        .to_owned();
    for id in ["sftc", "sf", "dada", "sandbox"] {
        assert!(
            after_carrier.split(['"', ' ']).any(|w| w == id),
            "{id} not offered: {after_carrier}"
        );
    }
    // A carrier file's carriers are offered too.
    let dir = tempfile::tempdir().unwrap();
    let carriers = write_scenario(
        &dir,
        "carriers.yaml",
        "carriers:\n  - id: mtps\n    aliases: [meituan]\n    delivery_id: MTPS\n    name: { en: Meituan, zh: 美团配送 }\n    call: realmock\n    version: mtps-1\n    account: { shopid: s, appsecret: mtps-secret-value-1, shop_no: m1 }\n    statuses: [102, 202, 302]\n",
    );
    let zsh = Sim::new()
        .arg("--carriers")
        .path(&carriers)
        .args(["completions", "zsh"])
        .run()
        .await;
    assert_eq!(zsh.code, 0, "{}", zsh.all_output());
    assert!(zsh.stdout.contains("meituan"), "{}", zsh.stdout);
    // The parser still takes any carrier: the list is for completion only.
    let new = Sim::new()
        .arg("--carriers")
        .path(&carriers)
        .args(["new", "--carrier", "meituan"])
        .run()
        .await;
    assert_eq!(new.code, 0, "{}", new.all_output());
}
