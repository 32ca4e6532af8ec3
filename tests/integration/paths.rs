//! `simulate paths`, `simulate new --all-paths / --negative DIR` and `simulate coverage`, and
//! the coverage every run's reports carry, through the real binary (runs against `--local`'s
//! emulator, on loopback).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use crate::common::*;

/// A carrier added with `--carriers`, with a re-dispatch (301 back to 202) that makes a cycle.
const LOOPY: &str = "carriers:\n  - id: loopy\n    delivery_id: LOOPY\n    name: { en: Loopy Express, zh: 环线快送 }\n    call: realmock\n    version: loopy-1\n    account: { shopid: loopy-shop, appsecret: loopy-secret, shop_no: \"1\" }\n    statuses: [102, 202, 301, 302, 304]\n    extra_edges: [[301, 202]]\n";

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread")]
async fn paths_lists_every_path_and_says_what_max_steps_cut() {
    let run = Sim::new().args(["paths", "--carrier", "dada"]).run().await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(
        run.stdout,
        "dada (Dada), profile dada-2026-11: 3 paths from 101 awaiting_rider\n  \
         1. 101 → 102 → 201 → 202 → 301 → 302 — 5 steps, ends delivered\n  \
         2. 101 → 102 → 201 → 202 → 301 → 304 — 5 steps, stops at 304 recipient_unreachable: dada has no move from there\n  \
         3. 101 → 102 → 201 → 202 → 301 → 305 — 5 steps, stops at 305 recipient_refused: dada has no move from there\n"
    );
    let delivered = Sim::new()
        .args([
            "paths",
            "--carrier",
            "sandbox",
            "--to",
            "delivered",
            "--format",
            "json",
        ])
        .run()
        .await;
    assert_eq!(delivered.code, 0, "{}", delivered.all_output());
    let json: serde_json::Value = serde_json::from_str(&delivered.stdout).unwrap();
    assert_eq!(json["paths"].as_array().unwrap().len(), 1);
    assert_eq!(
        json["paths"][0]["statuses"],
        serde_json::json!([101, 102, 201, 202, 301, 302])
    );
    let cut = Sim::new()
        .args(["paths", "--carrier", "sandbox", "--max-steps", "3"])
        .run()
        .await;
    assert_eq!(cut.code, 0, "{}", cut.all_output());
    assert!(
        cut.stdout
            .contains("paths longer than --max-steps 3 are not listed (cut at 1 place)"),
        "{}",
        cut.stdout
    );
    let zh = Sim::new()
        .args(["paths", "--carrier", "sf", "--lang", "zh"])
        .run()
        .await;
    assert!(zh.stdout.contains("以送达结束"), "{}", zh.stdout);
    let unknown = Sim::new().args(["paths", "--carrier", "dad"]).run().await;
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("did you mean `dada`?"),
        "{}",
        unknown.stderr
    );
}

/// For every built-in carrier that has a graph and for one added with --carriers: the suite
/// `new --all-paths --negative` writes passes `check`, and `coverage` finds 100% of its moves
/// and of its refused moves.
#[tokio::test(flavor = "multi_thread")]
async fn all_paths_pass_check_and_cover_every_move() {
    let dir = tempfile::tempdir().unwrap();
    let carriers_file = write_scenario(&dir, "loopy-carriers.yaml", LOOPY);
    for (carrier, paths) in [("sftc", 1), ("dada", 3), ("sandbox", 23), ("loopy", 3)] {
        let out = dir.path().join(carrier);
        let mut new = Sim::new();
        if carrier == "loopy" {
            new = new.arg("--carriers").path(&carriers_file);
        }
        let new = new
            .args(["new", "--carrier", carrier, "--all-paths"])
            .path(&out)
            .run()
            .await;
        assert_eq!(new.code, 0, "{carrier}: {}", new.all_output());
        assert!(
            new.stderr
                .contains(&format!("({paths} paths, 0 refused moves)")),
            "{carrier}: {}",
            new.stderr
        );
        assert_eq!(yaml_files(&out).len(), paths, "{carrier}");
        // The hint checks the suite with the carrier table it was written from.
        let hint = if carrier == "loopy" {
            format!("simulate check --carriers {} ", carriers_file.display())
        } else {
            "simulate check ".to_owned()
        };
        assert!(new.stderr.contains(&hint), "{carrier}: {}", new.stderr);
        let with_carriers = |sim: Sim| {
            if carrier == "loopy" {
                sim.arg("--carriers").path(&carriers_file)
            } else {
                sim
            }
        };
        let check = with_carriers(Sim::new())
            .arg("check")
            .path(&out)
            .run()
            .await;
        assert_eq!(check.code, 0, "{carrier}: {}", check.all_output());
        let coverage = with_carriers(Sim::new())
            .args(["coverage", "--format", "json"])
            .path(&out)
            .run()
            .await;
        assert_eq!(coverage.code, 0, "{carrier}: {}", coverage.all_output());
        let json: serde_json::Value = serde_json::from_str(&coverage.stdout).unwrap();
        let c = &json["carriers"][0];
        assert_eq!(c["carrier"], carrier);
        assert_eq!(c["edges"]["percent"], 100.0, "{carrier}: {c:#}");
        assert_eq!(c["uncovered"], serde_json::json!([]), "{carrier}");
        assert_eq!(c["negatives"]["covered"], 0, "{carrier}");

        // Again with the refused moves: refused without --force, then written over.
        let again = with_carriers(Sim::new())
            .args(["new", "--carrier", carrier, "--all-paths", "--negative"])
            .path(&out)
            .run()
            .await;
        assert_eq!(again.code, 2, "{carrier}: {}", again.all_output());
        assert!(
            again
                .stderr
                .contains(&format!("{paths} of the files to write already exist in")),
            "{}",
            again.stderr
        );
        assert!(again.stderr.contains("add --force"), "{}", again.stderr);
        let forced = with_carriers(Sim::new())
            .args([
                "new",
                "--carrier",
                carrier,
                "--all-paths",
                "--negative",
                "--force",
            ])
            .path(&out)
            .run()
            .await;
        assert_eq!(forced.code, 0, "{carrier}: {}", forced.all_output());
        let check = with_carriers(Sim::new())
            .arg("check")
            .path(&out)
            .run()
            .await;
        assert_eq!(check.code, 0, "{carrier}: {}", check.all_output());
        let coverage = with_carriers(Sim::new())
            .args(["coverage", "--format", "json"])
            .path(&out)
            .run()
            .await;
        let json: serde_json::Value = serde_json::from_str(&coverage.stdout).unwrap();
        let c = &json["carriers"][0];
        assert_eq!(c["edges"]["percent"], 100.0, "{carrier}");
        assert_eq!(c["negatives"]["percent"], 100.0, "{carrier}: {c:#}");
        assert_eq!(c["outside_graph"], serde_json::json!([]), "{carrier}");
    }
    // The cycle is walked once: 101-102-202-301-202 stops where every move was taken.
    assert!(
        dir.path()
            .join("loopy/loopy_101-102-202-301-202.yaml")
            .exists()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn coverage_text_names_what_a_suite_misses() {
    let run = Sim::new()
        .arg("coverage")
        .path(&scenario("dada_happy_path.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "dada (profile dada-2026-11, 1 scenario): 5 of 7 moves covered (71.4%); 0 of 42 refused moves tested (0%)"
    );
    assert!(
        run.stdout
            .contains("  ✗ 301 delivering → 304 recipient_unreachable: not covered\n"),
        "{}",
        run.stdout
    );
    let zh = Sim::new()
        .args(["coverage", "--lang", "zh"])
        .path(&scenario("dada_happy_path.yaml"))
        .run()
        .await;
    assert!(zh.stdout.contains("未覆盖"), "{}", zh.stdout);
}

/// Negative scenarios played against the local emulator: it refuses each move, so each step's
/// expectation is met and the run passes; the reports carry what was refused.
#[tokio::test(flavor = "multi_thread")]
async fn negative_scenarios_pass_against_the_emulator() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dada");
    let new = Sim::new()
        .args(["new", "--carrier", "dada", "--negative"])
        .path(&out)
        .run()
        .await;
    assert_eq!(new.code, 0, "{}", new.all_output());
    assert!(
        new.stderr.contains("(0 paths, 42 refused moves)"),
        "{}",
        new.stderr
    );
    let picked: Vec<PathBuf> = [
        "dada_negative_101-to-302.yaml",
        "dada_negative_102-to-302.yaml",
        "dada_negative_102-to-102.yaml",
        "dada_negative_301-to-201.yaml",
        "dada_negative_304-to-302.yaml",
    ]
    .iter()
    .map(|f| out.join(f))
    .collect();
    let json_path = dir.path().join("report.json");
    let html_path = dir.path().join("report.html");
    let mut run = Sim::new().args(["--local", "--speed", "100000", "--seed", "3"]);
    for file in &picked {
        run = run.path(file);
    }
    let run = run
        .arg("--report-json")
        .path(&json_path)
        .arg("--report-html")
        .path(&html_path)
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(
        run.stdout.contains("as expected: rejected by the carrier"),
        "{}",
        run.stdout
    );
    let report = read_json(&json_path);
    validate_report(&report);
    let c = &report["coverage"]["carriers"][0];
    assert_eq!(c["carrier"], "dada");
    assert_eq!(c["negatives"]["covered"], 5, "{c:#}");
    let tested: Vec<(i64, i64)> = c["negatives_tested"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["from"].as_i64().unwrap(), m["to"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        tested,
        [(101, 302), (102, 102), (102, 302), (301, 201), (304, 302)]
    );
    // The ways there were accepted: every move up to 304 was sent.
    assert_eq!(c["edges"]["covered"], 5, "{c:#}");
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(
        html.contains("class=\"coverage-graph\""),
        "the graph is drawn"
    );
    assert!(html.contains("class=\"edge covered\" data-from=\"301\" data-to=\"304\""));
    assert!(html.contains("class=\"edge uncovered\" data-from=\"301\" data-to=\"305\""));
    assert!(
        html.contains(
            "Refused as expected: 101 → 302, 102 → 102, 102 → 302, 301 → 201, 304 → 302."
        )
    );
}

/// A run counts only what was accepted: a step the carrier refused (unexpectedly) and the
/// steps after it cover nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_run_reports_only_what_was_accepted() {
    let dir = tempfile::tempdir().unwrap();
    // 302 straight after 102 is refused by the emulator, so 201 is never sent.
    let file = write_scenario(
        &dir,
        "broken.yaml",
        "carrier: dada\nshop_order_id: cov-{{run_id}}\nsteps:\n  - status: 102\n  - status: 302\n    skip_transition_check: true\n    expect: ok\n  - status: 201\n    skip_transition_check: true\n    expect: ok\n",
    );
    let json_path = dir.path().join("report.json");
    let run = Sim::new()
        .args(["--local", "--speed", "100000"])
        .path(&file)
        .arg("--report-json")
        .path(&json_path)
        .run()
        .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = read_json(&json_path);
    validate_report(&report);
    let c = &report["coverage"]["carriers"][0];
    assert_eq!(c["edges"]["covered"], 1, "{c:#}");
    assert_eq!(c["outside_graph"], serde_json::json!([]), "{c:#}");
    // The same file, read without running, would take the move outside the graph.
    let coverage = Sim::new()
        .args(["coverage", "--format", "json"])
        .path(&file)
        .run()
        .await;
    let json: serde_json::Value = serde_json::from_str(&coverage.stdout).unwrap();
    assert_eq!(
        json["carriers"][0]["outside_graph"][0],
        serde_json::json!({"from": 102, "to": 302, "scenarios": 1})
    );
}
