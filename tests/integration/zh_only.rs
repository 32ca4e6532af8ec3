//! `--lang zh` leaves no English sentence: what people read is Chinese. The English words to
//! look for come from the English catalogue itself (every word of it that the Chinese one
//! does not also use, such as key names), so a message added in English only is caught
//! without this list being kept by hand.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use crate::common::{Sim, repo};

/// Words of four letters or more (an `_` joins a word: `rider_assigned` is one).
fn words(text: &str) -> BTreeSet<String> {
    regex::Regex::new(r"[A-Za-z_]{4,}")
        .unwrap()
        .find_iter(text)
        .map(|m| m.as_str().to_ascii_lowercase())
        .filter(|w| !w.contains('_'))
        .collect()
}

/// The words of the English messages that the Chinese ones never use.
fn english_words() -> BTreeSet<String> {
    let read = |lang: &str| std::fs::read_to_string(repo().join(format!("locales/{lang}.yml")));
    let values = |text: String| -> String {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once(": ").map(|(_, v)| v.to_owned()))
            // Placeholders are names, not words anyone reads.
            .map(|v| {
                regex::Regex::new(r"%\{[a-z_]+\}")
                    .unwrap()
                    .replace_all(&v, "")
                    .into_owned()
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let english = words(&values(read("en").unwrap()));
    let chinese = words(&values(read("zh").unwrap()));
    english.difference(&chinese).cloned().collect()
}

/// The English words of the catalogue found in `text`, outside quoted values (`…`), file
/// paths and ids (`qa-sf-created-…`), which are the user's own, and status names after their
/// code (`302 delivered`), which are identifiers.
fn english_in(text: &str) -> Vec<String> {
    let quoted = regex::Regex::new(r"`[^`]*`|\S+\.ya?ml\S*|\S+-\S+|\b\d{3} [a-z_]+").unwrap();
    let text = quoted.replace_all(text, " ");
    let english = english_words();
    // Carrier ids and aliases are names (`sandbox (test)`), and `none` is a carrier file's
    // `call:` value: the same in every language.
    let names = ["dada", "sandbox", "test", "none"];
    words(&text)
        .into_iter()
        .filter(|w| english.contains(w) && !names.contains(&w.as_str()))
        .collect()
}

#[test]
fn the_word_list_is_not_empty() {
    // Without this, a broken reader would let every check below pass.
    let english = english_words();
    for word in ["must", "found", "unknown", "allowed", "expected", "passed"] {
        assert!(english.contains(word), "{word} missing from {english:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn check_of_invalid_files_speaks_chinese_only() {
    let run = Sim::new()
        .args(["--lang", "zh", "check", "tests/fixtures/invalid"])
        .run()
        .await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(run.stderr.contains("错误："), "{}", run.stderr);
    assert!(run.stderr.contains("提示："), "{}", run.stderr);
    assert!(run.stderr.contains("未知状态"), "{}", run.stderr);
    // The YAML parser's own words (`unclosed bracket`) are not ours to translate.
    let ours: String = run
        .stderr
        .lines()
        .filter(|l| !l.contains("syntax.yaml"))
        .collect::<Vec<_>>()
        .join("\n");
    let left = english_in(&ours);
    assert!(left.is_empty(), "English left: {left:?}\n{}", run.stderr);
    // The same files in English say the same things in English.
    let english = Sim::new()
        .args(["check", "tests/fixtures/invalid"])
        .run()
        .await;
    assert!(!english_in(&english.stderr).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_speaks_chinese_only() {
    for curl in [false, true] {
        let mut sim = Sim::new().args(["--lang", "zh", "plan", "--seed", "1"]);
        if curl {
            sim = sim.arg("--curl");
        }
        let run = sim.arg("scenarios/sf_order_created.yaml").run().await;
        assert_eq!(run.code, 0, "{}", run.all_output());
        assert!(run.stdout.contains("不发送任何请求"), "{}", run.stdout);
        // The calls themselves (JSON bodies, curl commands, shell) are machine text.
        let people: String = run
            .stdout
            .lines()
            .filter(|l| {
                let t = l.trim_start_matches('#').trim_start();
                !(t.starts_with('{')
                    || t.starts_with("POST ")
                    || l.trim_start().starts_with("curl ")
                    || !l.starts_with('#') && curl)
            })
            .collect::<Vec<_>>()
            .join("\n");
        let name_free = people.replace("SF order created and delivered", "");
        let left = english_in(&name_free);
        assert!(left.is_empty(), "English left: {left:?}\n{}", run.stdout);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_html_report_is_labelled_in_the_chosen_language() {
    let dir = tempfile::tempdir().unwrap();
    let labels = [
        ("Settings", "设置"),
        ("Worst lateness", "最大延迟"),
        ("Started", "开始"),
        ("Exit code", "退出码"),
        ("Not sent", "未发送"),
        ("Planned", "计划"),
        ("Generated by", "生成"),
        ("LOCAL EMULATOR", "本地模拟器"),
    ];
    for lang in ["en", "zh"] {
        let path = dir.path().join(format!("{lang}.html"));
        let run = Sim::new()
            .args([
                "--lang", lang, "--local", "--speed", "100000", "--seed", "1",
            ])
            .arg("--report-html")
            .arg(&path)
            .arg("scenarios/sf_happy_path.yaml")
            .run()
            .await;
        assert_eq!(run.code, 0, "{}", run.all_output());
        let html = std::fs::read_to_string(&path).unwrap();
        assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{lang}");
        for (english, chinese) in labels {
            let (shown, absent) = if lang == "en" {
                (english, chinese)
            } else {
                (chinese, english)
            };
            assert!(html.contains(shown), "{lang}: no {shown}");
            assert!(!html.contains(absent), "{lang}: {absent} is there");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_carrier_table_and_a_token_refusal_speak_chinese() {
    let table = Sim::new().args(["--lang", "zh", "carriers"]).run().await;
    assert_eq!(table.code, 0, "{}", table.all_output());
    assert!(table.stdout.contains("状态流转"), "{}", table.stdout);
    // A profile's heading line carries the carrier's English and Chinese names: data.
    let rows: String = table
        .stdout
        .lines()
        .filter(|l| !l.contains(" — "))
        .collect::<Vec<_>>()
        .join("\n");
    let left = english_in(&rows);
    assert!(left.is_empty(), "English left: {left:?}\n{}", table.stdout);

    let platform = crate::common::Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = crate::common::write_scenario(
        &dir,
        "refused.yaml",
        "carrier: sf\nshop_order_id: refused-{{run_id}}\nsteps:\n  - status: 102\n",
    );
    let run = Sim::new()
        .args(["--lang", "zh", "--endpoint", &platform.url()])
        .args(["--appid", simulate::emulator::DEV_APPID])
        .args(["--app-secret", "not-the-dev-secret"])
        .env("WECHAT_OPENID", "o-simulate-test-openid")
        .path(&path)
        .run()
        .await;
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert!(run.stderr.contains("拒绝了应用凭证"), "{}", run.stderr);
    assert!(run.stderr.contains("errcode 40125"), "{}", run.stderr);
    let without_errmsg = regex::Regex::new(r"errcode 40125[^；]*")
        .unwrap()
        .replace_all(&run.stderr, "");
    let left = english_in(&without_errmsg);
    assert!(left.is_empty(), "English left: {left:?}\n{}", run.stderr);
}

/// What a reader sees of an HTML report: its text outside tags, styles and scripts, and the
/// tooltips (`title="…"` and SVG `<title>`), with the entities that hide words decoded.
fn readable(html: &str) -> String {
    // The platform's own messages (`<q>…</q>`) and the scenario's (`“…”`) are not ours.
    let hidden =
        regex::Regex::new(r"(?s)<style.*?</style>|<script.*?</script>|<q>.*?</q>|“[^”]*”").unwrap();
    let html = hidden.replace_all(html, " ");
    let attrs = regex::Regex::new(r#"title="([^"]*)""#).unwrap();
    let mut text: Vec<String> = attrs
        .captures_iter(&html)
        .map(|c| c[1].to_owned())
        .collect();
    let tags = regex::Regex::new(r"<[^>]*>").unwrap();
    text.push(tags.replace_all(&html, " ").into_owned());
    let text = text
        .join("\n")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    // In a tooltip the platform's message follows its code to the end of the line.
    let platform = regex::Regex::new(r"(?m)(errcode|resultcode) -?\d+ [^,\n]*").unwrap();
    platform.replace_all(&text, " ").into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chinese_html_report_has_no_english_in_its_steps_or_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zh.html");
    // A passing run and one with an expected rejection: step details, `expects`, `as
    // expected`, tooltips, the legend and the axis all appear.
    let run = Sim::new()
        .args([
            "--lang", "zh", "--local", "--speed", "100000", "--seed", "1",
        ])
        .arg("--report-html")
        .arg(&path)
        .args([
            "scenarios/sf_happy_path.yaml",
            "scenarios/dada_out_of_order_rejected.yaml",
        ])
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.contains("<title id="), "no timeline in the report");
    // The scenarios' own names and messages are the user's words.
    let mut text = readable(&html)
        .replace("SF happy path", " ")
        .replace("Dada", " ");
    // Each status also shows its label in the other language, on purpose (`lang="en"`).
    for status in simulate::model::statuses::Status::all() {
        text = text.replace(status.label_en(), " ");
    }
    let left = english_in(&text);
    assert!(left.is_empty(), "English left: {left:?}\n{text}");
}
