//! Scale: a burst of orders shares a small pool of kept-alive connections.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_200_orders_opens_no_more_connections_than_the_pool() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let burst = write_scenario(
        &dir,
        "burst.yaml",
        "carrier: dada\nshop_order_id: \"burst-{{repeat}}-{{run_id}}\"\nrepeat: 200\nsteps:\n  - status: 102\n  - status: 201\n",
    );
    let run = platform
        .simulate()
        .args(["-q", "--connections", "8"])
        .path(&burst)
        .run()
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let accepted = platform.emulator.connections_accepted();
    // At most 8 calls are in flight; hyper may open a connection while a finished one is
    // still on its way back to the pool, so allow that race twice over. One connection per
    // order (the old behaviour) is 200 and more.
    assert!(
        (1..=16).contains(&accepted),
        "400 calls of 200 orders at once opened {accepted} connections; the pool is 8"
    );
    // The same count, as a load test reads it from outside.
    let stats: serde_json::Value = reqwest::get(format!("{}/__simulate/stats", platform.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Counted as it was accepted: the inspection call's own connection is in.
    assert_eq!(stats["connections_accepted"], accepted + 1, "{stats}");
    assert_eq!(platform.status_changes_applied().await, 400);
}

/// One step per order: what is measured here is the report, not the run.
const PASSING: &str = "carrier: dada\nshop_order_id: \"pass-{{scenario}}-{{repeat}}-{{run_id}}\"\nrepeat: 995\nsteps:\n  - status: 102\n";
/// The carrier accepts 102, which these orders expected it to refuse: each fails.
const FAILING: &str = "carrier: dada\nshop_order_id: \"fail-{{repeat}}-{{run_id}}\"\nrepeat: 5\nsteps:\n  - status: 102\n    expect: rejected\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_order_html_report_stays_small_and_shows_every_failed_order_in_full() {
    let dir = tempfile::tempdir().unwrap();
    write_scenario(&dir, "a-pass.yaml", PASSING);
    write_scenario(&dir, "b-fail.yaml", FAILING);
    let html = dir.path().join("r.html");
    let run = Sim::new()
        .args(["--local", "-q", "--report-html"])
        .arg(&html)
        .path(dir.path())
        .run()
        .await;
    assert_eq!(run.code, 1, "{run:?}");
    let page = std::fs::read_to_string(&html).unwrap();
    // A section per order was about 11.6 KB each (11.6 MB for these); a row is under 1 KB.
    assert!(
        page.len() < 1_500_000,
        "{} bytes for 1,000 orders",
        page.len()
    );
    assert_eq!(page.matches("<details>").count(), 1000, "a row per order");
    // Plan order is path order: the failing file's orders are 996 to 1000.
    for number in 996..=1000 {
        let start = format!("<section class=\"card scenario fail\" id=\"scenario-{number}\"");
        let at = page
            .find(&start)
            .unwrap_or_else(|| panic!("order {number} is not shown in full"));
        let section = &page[at..at + page[at..].find("</section>").unwrap()];
        assert!(section.contains("<svg"), "order {number} has no timeline");
        assert!(section.contains("rejected by the carrier"), "{section}");
    }
    let full = page.matches("<section class=\"card scenario").count();
    assert!(
        (5..=6).contains(&full),
        "{full} orders in full: the failed and the worst"
    );
}

/// Four files: shard 1/2 plays the 1st and 3rd, shard 2/2 the 2nd and the 4th (whose one step
/// fails).
fn suite(dir: &tempfile::TempDir) {
    std::fs::create_dir(dir.path().join("suite")).unwrap();
    let pass = "carrier: dada\nshop_order_id: \"m-{{scenario}}-{{run_id}}\"\nsteps:\n  - status: 102\n  - status: 201\n";
    for name in ["suite/s1.yaml", "suite/s2.yaml", "suite/s3.yaml"] {
        write_scenario(dir, name, pass);
    }
    write_scenario(
        dir,
        "suite/s4.yaml",
        "carrier: dada\nshop_order_id: \"m-{{scenario}}-{{run_id}}\"\nsteps:\n  - status: 102\n    expect: rejected\n",
    );
}

async fn shard(dir: &tempfile::TempDir, shard: &str, json: &std::path::Path) -> Run {
    Sim::new()
        .args(["--local", "-q", "--shard", shard, "--report-json"])
        .arg(json)
        .path(&dir.path().join("suite"))
        .run()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shards_merge_into_one_set_of_reports_with_the_verdict_they_earn_together() {
    let dir = tempfile::tempdir().unwrap();
    suite(&dir);
    let (one, two) = (dir.path().join("1.json"), dir.path().join("2.json"));
    let first = shard(&dir, "1/2", &one).await;
    assert_eq!(first.code, 0, "{first:?}");
    let second = shard(&dir, "2/2", &two).await;
    assert_eq!(second.code, 1, "{second:?}");

    let (json, junit, html) = (
        dir.path().join("out/all.json"),
        dir.path().join("out/all.xml"),
        dir.path().join("out/all.html"),
    );
    let merged = Sim::new()
        .args(["report", "merge"])
        .arg(&one)
        .arg(&two)
        .arg("--report-json")
        .arg(&json)
        .arg("--report-junit")
        .arg(&junit)
        .arg("--report-html")
        .arg(&html)
        .run()
        .await;
    assert_eq!(merged.code, 1, "a failed shard fails the merge: {merged:?}");
    assert!(
        merged.stdout.contains("2 files merged: 4 scenarios"),
        "{merged:?}"
    );
    assert!(
        merged
            .stdout
            .contains("FAILED: 4 scenarios, 7 steps: 6 passed, 1 failed, 0 not sent"),
        "{merged:?}"
    );

    let report = read_json(&json);
    validate_report(&report);
    assert_eq!(report["exit_code"], 1);
    assert_eq!(report["summary"]["scenarios"], 4);
    assert_eq!(report["summary"]["passed"], 6);
    assert_eq!(report["summary"]["failed"], 1);
    let files: Vec<&str> = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["file"].as_str().unwrap().rsplit('/').next().unwrap())
        .collect();
    assert_eq!(files, ["s1.yaml", "s3.yaml", "s2.yaml", "s4.yaml"]);
    // The shards' scenarios, as they reported them.
    let shard_two = read_json(&two);
    assert_eq!(report["scenarios"][2], shard_two["scenarios"][0]);
    assert_eq!(report["scenarios"][3], shard_two["scenarios"][1]);

    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_jenkins_schema(&xml);
    // quick-junit wants a time zone in `timestamp`, which the JUnit XSD forbids (see nightly.rs).
    let zoneless = regex::Regex::new(r#" timestamp="[^"]*""#).unwrap();
    let parsed = quick_junit::Report::deserialize_from_str(&zoneless.replace_all(&xml, ""))
        .expect("JUnit XML parses");
    assert_eq!(parsed.test_suites.len(), 4);
    assert_eq!(parsed.tests, 7);
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"simulate\" tests=\"7\" failures=\"1\" errors=\"0\""),
        "{xml}"
    );
    assert_eq!(xml.matches("<testsuite ").count(), 4);
    assert!(std::fs::read_to_string(&html).unwrap().contains("FAILED"));

    // The passing shard alone passes.
    let alone = Sim::new().args(["report", "merge"]).arg(&one).run().await;
    assert_eq!(alone.code, 0, "{alone:?}");
}

#[tokio::test]
async fn merge_names_a_report_it_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let notes = write_scenario(&dir, "notes.json", "{\"hello\": 1}");
    let old = write_scenario(
        &dir,
        "old.json",
        "{\"tool\": \"simulate 0.0.1\", \"version\": 0}",
    );
    for (path, why) in [
        (&notes, "it has no `tool` that names simulate"),
        (
            &old,
            "its format version is 0, and this simulate reads version 1",
        ),
    ] {
        let run = Sim::new().args(["report", "merge"]).arg(path).run().await;
        assert_eq!(run.code, 2, "{run:?}");
        let shown = path.display().to_string();
        assert!(
            run.stderr
                .contains(&format!("{shown} is not a JSON report of simulate: {why}")),
            "{run:?}"
        );
    }
    // The same report twice would count its orders twice.
    let run = Sim::new()
        .args(["report", "merge"])
        .arg(&notes)
        .arg(dir.path().join(".").join("notes.json"))
        .run()
        .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("is given twice: its orders would be counted twice"),
        "{run:?}"
    );
}

#[tokio::test]
async fn shard_auto_takes_its_index_from_a_kubernetes_indexed_job() {
    let dir = tempfile::tempdir().unwrap();
    suite(&dir);
    let json = dir.path().join("r.json");
    let run = Sim::new()
        .env("JOB_COMPLETION_INDEX", "1")
        .args(["--local", "-q", "--shard", "auto/2", "--report-json"])
        .arg(&json)
        .path(&dir.path().join("suite"))
        .run()
        .await;
    assert_eq!(
        run.code, 1,
        "index 1 is shard 2/2, with the failing file: {run:?}"
    );
    let files: Vec<String> = read_json(&json)["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["file"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(files, ["s2.yaml", "s4.yaml"]);
    let unset = Sim::new()
        .args(["--local", "--shard", "auto/2"])
        .path(&dir.path().join("suite"))
        .run()
        .await;
    assert_eq!(unset.code, 2, "{unset:?}");
    assert!(
        unset.stderr.contains("JOB_COMPLETION_INDEX is not set"),
        "{unset:?}"
    );
    let beyond = Sim::new()
        .env("JOB_COMPLETION_INDEX", "2")
        .args(["--local", "--shard", "auto/2"])
        .path(&dir.path().join("suite"))
        .run()
        .await;
    assert_eq!(beyond.code, 2, "{beyond:?}");
    assert!(
        beyond.stderr.contains("JOB_COMPLETION_INDEX is 2"),
        "{beyond:?}"
    );
}
