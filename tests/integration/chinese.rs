//! `--lang zh`, and a zh locale by default: what people read is in Chinese, through the binary;
//! machine-readable output keeps its English keys.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::commands::{normalize, snapshot};
use crate::common::{Platform, Sim, fixture, scenario, validate_events};

/// The Chinese forms of what `normalize` replaces for English.
fn normalize_zh(text: &str) -> String {
    let text = normalize(text);
    let rules = [
        (r" \(晚 [0-9a-z.]+\)", ""),
        (r"最大迟到 [0-9a-z.]+(（[^）]*）)?", "最大迟到 N"),
        (r"种子 \d+", "种子 N"),
    ];
    let mut out = text;
    for (pattern, with) in rules {
        out = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&out, with)
            .into_owned();
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_run_speaks_chinese_from_header_to_summary() {
    let run = Sim::new()
        .args([
            "--local", "--lang", "zh", "--speed", "100000", "--seed", "1",
        ])
        .path(&scenario("sf_happy_path.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(
        run.stdout
            .contains("通过：1 个场景，3 个步骤：3 个通过，0 个失败，0 个未发送"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("本地模拟器"), "{}", run.stdout);
    snapshot("run_plain_zh.txt", &normalize_zh(&run.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_zh_locale_chooses_chinese_and_lang_en_overrides_it() {
    let bad = fixture("invalid/bad_transition.yaml");
    let zh = Sim::new()
        .env("LANG", "zh_CN.UTF-8")
        .arg("check")
        .path(&bad)
        .run()
        .await;
    assert_eq!(zh.code, 2, "{}", zh.all_output());
    assert!(
        zh.stderr.contains(
            "6:13: 错误：dada 不能从 102 rider_assigned 变为 302 delivered；允许的下一个状态：201 at_store"
        ),
        "{}",
        zh.stderr
    );
    assert!(
        zh.stderr.contains("  提示：若要有意测试配送公司拒绝此变更"),
        "{}",
        zh.stderr
    );
    let en = Sim::new()
        .env("LANG", "zh_CN.UTF-8")
        .args(["--lang", "en", "check"])
        .path(&bad)
        .run()
        .await;
    assert!(
        en.stderr
            .contains("6:13: error: dada cannot go from 102 rider_assigned to 302 delivered"),
        "{}",
        en.stderr
    );
    // LC_ALL outranks LANG, as in every POSIX program.
    let c = Sim::new()
        .env("LANG", "zh_CN.UTF-8")
        .env("LC_ALL", "C")
        .arg("check")
        .path(&bad)
        .run()
        .await;
    assert!(c.stderr.contains(": error: "), "{}", c.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn machine_readable_output_stays_english_under_zh() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let run = platform
        .simulate()
        .args(["--lang", "zh", "--speed", "100000", "--events", "jsonl"])
        .arg("--report-json")
        .arg(&json)
        .path(&scenario("dada_out_of_order_rejected.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let mut texts = vec![report];
    texts.extend(validate_events(&run.stdout));
    for value in &texts {
        let mut chinese = Vec::new();
        chinese_outside_data(value, &mut chinese);
        assert!(
            chinese.is_empty(),
            "Chinese in machine-readable output: {chinese:?}"
        );
    }
    assert!(run.stderr.contains("通过"), "{}", run.stderr);
}

/// Strings with Chinese in them, except the data that is Chinese on purpose: the status's
/// Chinese label and the scenario's own `action_msg`.
fn chinese_outside_data(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s)
            if s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) =>
        {
            out.push(s.clone());
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| chinese_outside_data(v, out)),
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                if key != "label_zh" && key != "action_msg" {
                    chinese_outside_data(v, out);
                }
            }
        }
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_in_chinese_with_their_exit_codes() {
    let run = Sim::new()
        .args(["--lang", "zh"])
        .path(&scenario("sf_happy_path.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert!(
        run.stderr
            .starts_with("错误：没有 access token\n  提示：请传入 --access-token TOKEN"),
        "{}",
        run.stderr
    );
    let check = Sim::new()
        .args(["check", "--lang", "zh"])
        .path(&fixture("invalid/bad_transition.yaml"))
        .run()
        .await;
    assert!(
        check
            .stderr
            .ends_with("场景中有 1 个问题（1 个文件）；未发送任何请求\n"),
        "{}",
        check.stderr
    );
}
