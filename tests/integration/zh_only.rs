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
/// paths and ids (`qa-sf-created-…`), which are the user's own, status names after their
/// code (`302 delivered`), and lists of key names after a Chinese colon (`允许的键：id,
/// aliases, call`), which are identifiers.
fn english_in(text: &str) -> Vec<String> {
    let quoted = regex::Regex::new(
        r"`[^`]*`|\S+\.ya?ml\S*|\S+-\S+|\b\d{3} [a-z_]+|：[a-z_]+(?:, [a-z_]+){2,}",
    )
    .unwrap();
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
        ("Worst lateness", "最大迟到"),
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

/// A carrier file with a problem of nearly every kind the checker finds: wrong types, unknown
/// and missing keys, unknown codes, bad edges, field paths, a zero `resultcode`, order
/// defaults without a value, impossible `order_rules`, an empty alias, a profile that is not a
/// mapping, and an id written twice.
const BAD_CARRIERS: &str = "replace_builtin: yes
lifecycle:
  101: [102, 999]
  abc: [102]
carriers:
  - id: acme
    aliases: [\"\"]
    delivry_id: ACME
    name: { en: Acme Courier }
    call: realmok
    version: acme-1
    account: { shopid: m, appsecret: [x], shop_no: n }
    statuses: 102
    extra_edges: [5, [102, 998]]
    forbidden_edges: 7
    required:
      order_add: [sendr, order_info..order_time]
    sign_error: { resultcode: 0, resultmsg: x }
    order_defaults:
      receiver: ~
      cargo: [1]
    order_rules:
      cancel: { allowed_at: [999, 302], fee_after_rider: -1 }
      tips: { max: 0 }
      delivery_token_seconds: 0
  - 5
  - id: acme
    delivery_id: ACME
    name: { en: Acme, zh: 示例 }
    call: realmock
    version: acme-2
    account: { shopid: m, appsecret: s, shop_no: n }
    statuses: [102]
extra: 1
";

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_carrier_file_speaks_chinese_in_check_carriers_and_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let carriers = crate::common::write_scenario(&dir, "carriers.yaml", BAD_CARRIERS);
    let commands: [&[&str]; 3] = [
        &["check", "scenarios/dada_happy_path.yaml"],
        &["carriers"],
        &[
            "--local",
            "--speed",
            "100000",
            "scenarios/dada_happy_path.yaml",
        ],
    ];
    for command in commands {
        let run = Sim::new()
            .args(["--lang", "zh", "--carriers"])
            .path(&carriers)
            .args(command)
            .run()
            .await;
        assert_eq!(run.code, 2, "{command:?}: {}", run.all_output());
        let problems = run.stderr.matches("错误：").count();
        assert!(problems >= 20, "{command:?}: {problems}\n{}", run.stderr);
        for said in [
            "定义了两次",
            "未知状态码 999",
            "不是该接口的字段",
            "不能为 0",
        ] {
            assert!(
                run.stderr.contains(said),
                "{command:?}: {said}\n{}",
                run.stderr
            );
        }
        let left = english_in(&run.stderr);
        assert!(
            left.is_empty(),
            "{command:?}: English left: {left:?}\n{}",
            run.stderr
        );
    }
    // The same file in English says it in English.
    let english = Sim::new()
        .arg("--carriers")
        .path(&carriers)
        .args(["check", "scenarios/dada_happy_path.yaml"])
        .run()
        .await;
    assert!(
        english.stderr.contains("carrier `acme` is defined twice"),
        "{}",
        english.stderr
    );
    assert!(!english_in(&english.stderr).is_empty());
}

/// The words people read in a graph: the title, node labels and edge labels, without the
/// Mermaid and DOT syntax around them.
fn graph_words(text: &str) -> String {
    let labels = regex::Regex::new(r#"%% (.*)|\["([^"]*)"\]|\|([^|]*)\||label="([^"]*)""#).unwrap();
    labels
        .captures_iter(text)
        .filter_map(|c| {
            c.iter()
                .skip(1)
                .flatten()
                .next()
                .map(|m| m.as_str().to_owned())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn graph_speaks_chinese() {
    let dir = tempfile::tempdir().unwrap();
    // A path the carrier does not allow (202 before 201), drawn as "not allowed".
    let path = crate::common::write_scenario(
        &dir,
        "path.yaml",
        "carrier: dada\nshop_order_id: g-{{run_id}}\nsteps:\n  - status: 102\n  - status: 202\n    skip_transition_check: true\n    expect: ok\n",
    );
    for format in ["mermaid", "dot"] {
        let run = Sim::new()
            .args(["--lang", "zh", "graph", "--format", format])
            .path(&path)
            .run()
            .await;
        assert_eq!(run.code, 0, "{format}: {}", run.all_output());
        let words = graph_words(&run.stdout);
        for said in ["配置", "102 ", "骑手"] {
            assert!(words.contains(said), "{format}: {said}\n{}", run.stdout);
        }
        let left = english_in(&words);
        assert!(
            left.is_empty(),
            "{format}: English left: {left:?}\n{}",
            run.stdout
        );
        let english = Sim::new()
            .args(["graph", "--format", format])
            .path(&path)
            .run()
            .await;
        assert!(
            !english_in(&graph_words(&english.stdout)).is_empty(),
            "{}",
            english.stdout
        );
    }
}

/// A merchant URL on loopback that answers the URL check and accepts every push, and a token
/// endpoint that is always down (HTTP 500).
async fn merchant_and_broken_token_endpoint() -> String {
    use axum::extract::RawQuery;
    use axum::routing::{get, post};
    let app = axum::Router::new()
        .route(
            "/hook",
            get(|RawQuery(q): RawQuery| async move {
                q.unwrap_or_default()
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("echostr="))
                    .unwrap_or_default()
                    .to_owned()
            })
            .post(|| async { "success" }),
        )
        .route(
            "/cgi-bin/stable_token",
            post(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

// Multi-threaded: the merchant must answer while this thread waits for serve to start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_its_calls_and_pushes_in_chinese() {
    let merchant = merchant_and_broken_token_endpoint().await;
    let hook = format!("{merchant}/hook");
    let serve = crate::serve_child::Serve::start(&[
        "--lang",
        "zh",
        "--auto-create",
        "--callback",
        &hook,
        "--push-token",
        "simulateToken1",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let path = crate::common::write_scenario(
        &dir,
        "one.yaml",
        "carrier: sandbox\nshop_order_id: zh-serve-{{run_id}}\nsteps:\n  - status: 102\n",
    );
    let run = Sim::new()
        .args(["--lang", "zh", "--endpoint", &serve.base])
        .args(["--appid", simulate::emulator::DEV_APPID])
        .args(["--app-secret", "simulate-dev-secret"])
        .path(&path)
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let mut console = String::new();
    for _ in 0..200 {
        console = serve.console();
        if console.contains("推送 ") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let said = format!("{}\n{console}", serve.announced.join("\n"));
    assert!(serve.announced[0].contains("正在监听"), "{said}");
    assert!(said.contains("回调 URL 校验通过"), "{said}");
    // The access log: the token call and the status change, each with its time taken.
    let access =
        regex::Regex::new(r"(?m)^\S+ POST /cgi-bin/\S+ http=200 .*耗时 \d+ 毫秒$").unwrap();
    assert!(access.find_iter(&console).count() >= 2, "{said}");
    let push = regex::Regex::new(
        r"(?m)^\S+ 推送 test_shop_id/zh-serve-\S+ 状态 102 第 1/3 次尝试 已送达（HTTP 200）耗时 \d+ 毫秒$",
    )
    .unwrap();
    assert!(push.is_match(&console), "{said}");
    let left = english_in(&said);
    assert!(left.is_empty(), "English left: {left:?}\n{said}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_endpoint_that_stays_down_is_said_in_chinese_with_its_attempts() {
    let endpoint = merchant_and_broken_token_endpoint().await;
    let dir = tempfile::tempdir().unwrap();
    let path = crate::common::write_scenario(
        &dir,
        "down.yaml",
        "carrier: sf\nshop_order_id: down-{{run_id}}\nsteps:\n  - status: 102\n",
    );
    let run = Sim::new()
        .args(["--lang", "zh", "--endpoint", &endpoint])
        .args(["--appid", simulate::emulator::DEV_APPID])
        .args(["--app-secret", "simulate-dev-secret"])
        .args(["--retries", "1", "--retry-backoff", "10ms"])
        .path(&path)
        .run()
        .await;
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert!(
        run.stderr.contains("不可用：HTTP 500（共尝试 2 次）"),
        "{}",
        run.stderr
    );
    let left = english_in(&run.stderr);
    assert!(left.is_empty(), "English left: {left:?}\n{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_late_local_run_sums_up_in_chinese() {
    let dir = tempfile::tempdir().unwrap();
    // Two steps due at once: at 2 calls a second the second leaves half a second late,
    // however fast the machine.
    let path = crate::common::write_scenario(
        &dir,
        "late.yaml",
        "name: Burst\ncarrier: dada\nshop_order_id: zh-late-{{run_id}}\nsteps:\n  - status: 102\n  - status: 201\n",
    );
    let run = Sim::new()
        .args([
            "--lang",
            "zh",
            "--local",
            "--rate",
            "2/s",
            "--max-lateness",
            "100ms",
        ])
        .path(&path)
        .run()
        .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let summary = run.stdout.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with("失败：1 个场景，2 个步骤：2 个通过")
            && summary.contains("；最大迟到 ")
            && summary.ends_with("对接的是本地模拟器，不是微信"),
        "{}",
        run.all_output()
    );
    assert!(
        run.stdout.contains("超过 --max-lateness 100ms"),
        "{}",
        run.stdout
    );
    let people = run.all_output().replace("Burst", " ");
    let left = english_in(&people);
    assert!(
        left.is_empty(),
        "English left: {left:?}\n{}",
        run.all_output()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_files_folders_patterns_and_shops_are_said_in_chinese() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("nothing-here");
    std::fs::create_dir(&empty).unwrap();
    let shop = crate::common::write_scenario(
        &dir,
        "shop.yaml",
        "carrier: dada\nshop_order_id: \"\"\nshop: {shopid: \"\"}\nsteps:\n  - status: 102\n",
    );
    let run = Sim::new()
        .args(["--lang", "zh", "check", "no-such-file.yaml", "x*[.yaml"])
        .path(&empty)
        .path(&shop)
        .run()
        .await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    for said in [
        "没有这个文件",
        "没有场景文件",
        "通配模式",
        "为空",
        "没有 `appsecret`",
    ] {
        assert!(run.stderr.contains(said), "{said}\n{}", run.stderr);
    }
    // The glob library's own words (`invalid range pattern`) are not ours.
    let ours = regex::Regex::new(r"通配模式：.*")
        .unwrap()
        .replace_all(&run.stderr, "");
    let left = english_in(&ours);
    assert!(left.is_empty(), "English left: {left:?}\n{}", run.stderr);
}
