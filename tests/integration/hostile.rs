//! Bad, hostile and absurd input (issue 11): no secret echoed, no terminal control from
//! outside, a remote bind refused without --allow-remote, plans and the emulator bounded.

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serde_json::json;
use simulate::emulator::{Config, Limits};

use crate::common::*;

const TOKEN: &str = "TOKEN9f8e7d6c5b4a";

#[tokio::test(flavor = "multi_thread")]
async fn invalid_values_that_may_hold_a_secret_are_not_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(
        &dir,
        "a.yaml",
        "carrier: dada\nshop_order_id: a-{{run_id}}\nsteps: [{status: 102}]\n",
    );
    for endpoint in [
        format!("http://h/?access_token={TOKEN}"),
        format!("http://user:{TOKEN}@h"),
        format!("ftp://h/{TOKEN}"),
    ] {
        let run = Sim::new()
            .args(["--endpoint", &endpoint])
            .path(&file)
            .run()
            .await;
        assert_eq!(run.code, 2, "{run:?}");
        assert!(
            !run.all_output().contains(TOKEN),
            "{endpoint}: {}",
            run.all_output()
        );
        assert!(run.stderr.contains("--endpoint"), "{}", run.stderr);
        // From the environment, the same.
        let run = Sim::new()
            .env("SIMULATE_ENDPOINT", &endpoint)
            .path(&file)
            .run()
            .await;
        assert_eq!(run.code, 2, "{run:?}");
        assert!(!run.all_output().contains(TOKEN), "{}", run.all_output());
    }
    for app in [format!("wx 1:{TOKEN}"), format!(":{TOKEN}")] {
        let run = Sim::new()
            .args(["serve", "--addr", "127.0.0.1:0", "--app", &app])
            .run()
            .await;
        assert_eq!(run.code, 2, "{run:?}");
        assert!(!run.all_output().contains(TOKEN), "{}", run.all_output());
        assert!(run.stderr.contains("--app"), "{}", run.stderr);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_refuses_a_remote_address_without_allow_remote() {
    // Refused at once; a serve that listens instead is killed after a while and fails here.
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_simulate"))
        .args(["serve", "--addr", "0.0.0.0:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap());
    let output = match tokio::time::timeout(Duration::from_secs(30), output).await {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = std::process::Command::new("kill").arg(&pid).status();
            panic!("serve --addr 0.0.0.0:0 listened instead of refusing");
        }
    };
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(output.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("--allow-remote"), "{stderr}");
    assert!(!stdout.contains("listening"), "{stdout}");

    // With it: served, with a loud warning.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_simulate"))
        .args(["serve", "--addr", "0.0.0.0:0", "--allow-remote"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 256];
    while !seen.contains("ready") {
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "{seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("WARNING"), "{stderr}");
    assert!(stderr.contains("other machines"), "{stderr}");
}

/// A platform that answers every call with `answer`.
async fn hostile_endpoint(answer: serde_json::Value) -> String {
    let app = axum::Router::new().fallback(move || {
        let answer = answer.clone();
        async move { axum::Json(answer) }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

const ESCAPES: &str = "\u{1b}]52;c;ZWNobyBwd25lZA==\u{7}\u{1b}]0;title\u{7}\u{1b}[2J\rPASSED\u{9b}";

#[tokio::test(flavor = "multi_thread")]
async fn text_from_outside_never_reaches_the_terminal_raw() {
    let url = hostile_endpoint(json!({
        "errcode": 0, "errmsg": ESCAPES, "resultcode": 7, "resultmsg": ESCAPES,
    }))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let name = "evil\u{1b}]0;owned\u{7}\u{1b}[2J";
    let file = write_scenario(
        &dir,
        "evil\u{1b}[2J.yaml",
        &format!(
            "name: \"{}\"\ncarrier: sandbox\nshop_order_id: e-{{{{run_id}}}}\nsteps: [{{status: 102}}]\n",
            name.replace('\u{1b}', "\\e").replace('\u{7}', "\\a")
        ),
    );
    for args in [
        vec!["--color", "never"],
        vec!["--color", "always"],
        vec!["-q"],
    ] {
        let run = Sim::new()
            .args([
                "--endpoint",
                &url,
                "--access-token",
                "t0k3n-for-test",
                "--retries",
                "0",
            ])
            .args(args)
            .path(&file)
            .run()
            .await;
        assert_eq!(run.code, 1, "{run:?}");
        let out = run.all_output();
        assert!(out.contains("resultcode 7"), "{out}");
        for (i, _) in out.match_indices('\u{1b}') {
            // Only our own colours: ESC [ digits m.
            let rest = &out[i + 1..];
            let sgr = rest.starts_with('[')
                && rest[1..].find('m').is_some_and(|m| {
                    rest[1..1 + m]
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == ';')
                });
            assert!(sgr, "a raw escape: {out:?}");
        }
        assert!(
            !out.contains('\r') && !out.contains('\u{7}') && !out.contains('\u{9b}'),
            "{out:?}"
        );
    }
    // `plan` and `check` show the name and file escaped too.
    for command in ["plan", "check"] {
        let run = Sim::new().arg(command).path(&file).run().await;
        assert!(
            !run.all_output().contains('\u{1b}'),
            "{command}: {:?}",
            run.all_output()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_emulator_shows_signatures_only_when_asked() {
    let sign_of = |orders: &serde_json::Value| {
        orders_list(orders)
            .iter()
            .flat_map(|o| o["history"].as_array().cloned().unwrap_or_default())
            .filter_map(|e| e["request"]["delivery_sign"].as_str().map(str::to_owned))
            .collect::<Vec<_>>()
    };
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(
        &dir,
        "d.yaml",
        "carrier: dada\nshop_order_id: s-{{run_id}}\nsteps: [{status: 102}]\n",
    );
    for show in [false, true] {
        let platform = Platform::with(Config {
            auto_create: true,
            show_signatures: show,
            ..Config::default()
        })
        .await;
        let run = platform.simulate().path(&file).run().await;
        assert_eq!(run.code, 0, "{run:?}");
        let signs = sign_of(&platform.orders().await);
        assert_eq!(signs.len(), 1, "{signs:?}");
        assert_eq!(signs[0].len() == 40, show, "{signs:?}");
        if !show {
            assert_eq!(signs[0], "***");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn plans_beyond_the_step_limit_are_refused_where_they_grow() {
    let dir = tempfile::tempdir().unwrap();
    let steps: String = (0..1_900)
        .map(|_| "  - {status: 102, skip_transition_check: true, expect: rejected}\n")
        .collect();
    let big = write_scenario(
        &dir,
        "big.yaml",
        &format!(
            "carrier: sandbox\nshop_order_id: \"b-{{{{repeat}}}}-{{{{run_id}}}}\"\nrepeat: 1000\nsteps:\n{steps}"
        ),
    );
    let started = Instant::now();
    let run = Sim::new().arg("check").path(&big).run().await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("big.yaml:3:9: error: 1900 steps × `repeat: 1000` plan 1900000 steps, more than the limit of 100000"), "{}", run.stderr);
    assert!(run.stderr.contains("--max-steps"), "{}", run.stderr);
    assert!(started.elapsed() < Duration::from_secs(60));

    // A plain 1,500-step file is no alias bomb: it checks.
    let steps: String = (0..1_500)
        .map(|_| "  - {status: 102, after: 1s, skip_transition_check: true, expect: rejected}\n")
        .collect();
    let plain = write_scenario(
        &dir,
        "plain.yaml",
        &format!("carrier: sandbox\nshop_order_id: p-{{{{run_id}}}}\nsteps:\n{steps}"),
    );
    let run = Sim::new().arg("check").path(&plain).run().await;
    assert_eq!(run.code, 0, "{run:?}");
    // Beyond the limit it is refused at `steps:`, and --max-steps raises it.
    let run = Sim::new()
        .args(["check", "--max-steps", "1000"])
        .path(&plain)
        .run()
        .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("plain.yaml:3:1: error: 1500 steps, more than the limit of 1000")
            || run
                .stderr
                .contains("1500 steps, more than the limit of 1000"),
        "{}",
        run.stderr
    );

    // Files within the limit each, together over it.
    let small: String = (0..600)
        .map(|_| "  - {status: 102, skip_transition_check: true, expect: rejected}\n")
        .collect();
    for name in ["s1.yaml", "s2.yaml"] {
        write_scenario(
            &dir,
            name,
            &format!("carrier: sandbox\nshop_order_id: \"{name}-{{{{run_id}}}}\"\nsteps:\n{small}"),
        );
    }
    let run = Sim::new()
        .args(["check", "--max-steps", "1000"])
        .path(&dir.path().join("s1.yaml"))
        .path(&dir.path().join("s2.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("s2.yaml: error: with this file the run plans more than 1000 steps"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_name_the_real_problem_once() {
    let dir = tempfile::tempdir().unwrap();
    let merge = write_scenario(
        &dir,
        "merge.yaml",
        "carrier: dada\nshop_order_id: m-{{run_id}}\nsteps:\n  - <<: {status: 102}\n    after: 1s\n",
    );
    let run = Sim::new().arg("check").path(&merge).run().await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("merge keys (`<<:`) are not supported"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("unknown status"), "{}", run.stderr);

    // `repeat: 200` without an openid: its place once, not 200 times.
    let repeated = write_scenario(
        &dir,
        "many.yaml",
        "carrier: dada\nshop_order_id: \"r-{{repeat}}-{{run_id}}\"\nrepeat: 200\norder: true\nsteps: [{status: 102}]\n",
    );
    let run = Sim::new()
        .args([
            "--endpoint",
            "http://127.0.0.1:9",
            "--access-token",
            "x1y2z3w4",
        ])
        .path(&repeated)
        .run()
        .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(
        run.stderr.matches("many.yaml:4").count(),
        1,
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_speed_that_stretches_the_run_past_a_day_is_warned_about() {
    let file = scenario("dada_happy_path.yaml");
    let run = Sim::new()
        .args(["plan", "--speed", "0.001"])
        .path(&file)
        .run()
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("far longer than a day"),
        "{}",
        run.stderr
    );
    let run = Sim::new()
        .args(["plan", "--speed", "60"])
        .path(&file)
        .run()
        .await;
    assert!(!run.stderr.contains("far longer"), "{}", run.stderr);
}

fn small_limits() -> Limits {
    Limits {
        history: 5,
        unmatched: 3,
        body_bytes: 1024,
        ..Limits::DEFAULT
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_emulator_keeps_bounded_excerpts_and_pages_its_listing() {
    let platform = Platform::with(Config {
        auto_create: true,
        limits: small_limits(),
        ..Config::default()
    })
    .await;
    let client = reqwest::Client::new();
    let url = format!(
        "{}/cgi-bin/express/local/business/order/get",
        platform.url()
    );
    let filler = "x".repeat(1_000_000);
    for i in 0..8 {
        // Token-less, JSON and not: all unmatched.
        let body = if i % 2 == 0 {
            format!("{{\"note\":\"{filler}\"}}")
        } else {
            filler.clone()
        };
        client.post(&url).body(body).send().await.unwrap();
    }
    // One order with a long history.
    let token = platform.token.expose().to_owned();
    let update = format!(
        "{}/cgi-bin/express/local/business/test_update_order?access_token={token}",
        platform.url()
    );
    for _ in 0..8 {
        let body = json!({"shopid": "test_shop_id", "shop_order_id": "H-1", "action_time": chrono::Utc::now().timestamp(),
                          "order_status": 102, "action_msg": filler.clone()});
        client.post(&update).json(&body).send().await.unwrap();
    }
    let listing = client
        .get(format!("{}/__simulate/orders", platform.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listing.len() < 64 * 1024, "{} bytes", listing.len());
    let all: serde_json::Value = serde_json::from_str(&listing).unwrap();
    assert_eq!(
        all["unmatched_calls"].as_array().map(Vec::len),
        Some(3),
        "{all}"
    );
    assert_eq!(all["forgotten"]["unmatched_calls"], 5);
    let orders = orders_list(&all);
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["history"].as_array().map(Vec::len), Some(5));
    assert_eq!(orders[0]["history"][0]["kind"], "created");
    assert_eq!(
        orders[0]["history"][1]["request"]["bytes"]
            .as_u64()
            .map(|b| b > 1_000_000),
        Some(true)
    );

    // Paged.
    for id in ["P-1", "P-2", "P-3"] {
        let body = json!({"shopid": "test_shop_id", "shop_order_id": id, "action_time": chrono::Utc::now().timestamp(),
                          "order_status": 102, "action_msg": ""});
        client.post(&update).json(&body).send().await.unwrap();
    }
    let page: serde_json::Value = client
        .get(format!(
            "{}/__simulate/orders?offset=1&limit=2",
            platform.url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<_> = orders_list(&page)
        .iter()
        .map(|o| o["shop_order_id"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(ids, ["P-1", "P-2"]);
    assert_eq!(page["total_orders"], 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn half_sent_requests_are_cut_and_cannot_hold_the_emulator() {
    // The header timeout alone would keep a whole request waiting for a minute behind the
    // half-sent ones: the oldest of them gives up its slot instead.
    let platform = Platform::with(Config {
        limits: Limits {
            connections: 4,
            header_timeout: Duration::from_secs(60),
            ..Limits::DEFAULT
        },
        ..Config::default()
    })
    .await;
    let addr = platform.emulator.local_addr();
    // More half-sent requests than connections allowed.
    let mut stalled = Vec::new();
    for _ in 0..12 {
        let mut tcp = std::net::TcpStream::connect(addr).unwrap();
        tcp.write_all(b"POST /cgi-bin/express/local/business/order/get HTTP/1.1\r\nHost: x\r\n")
            .unwrap();
        stalled.push(tcp);
    }
    let started = Instant::now();
    let answer = reqwest::Client::new()
        .get(format!("{}/__simulate/orders", platform.url()))
        .timeout(Duration::from_secs(30))
        .send()
        .await;
    assert!(answer.is_ok_and(|a| a.status().is_success()));
    // Generous for a loaded machine; without shedding it waited for the header timeout.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    // The first stalled connection was closed by the server.
    let mut first = stalled.remove(0);
    first
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut rest = Vec::new();
    let closed = first.read_to_end(&mut rest).is_ok();
    assert!(closed, "the half-sent request is still open");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_head_that_never_ends_is_cut_at_the_header_timeout() {
    let platform = Platform::with(Config {
        limits: Limits {
            header_timeout: Duration::from_millis(500),
            ..Limits::DEFAULT
        },
        ..Config::default()
    })
    .await;
    let mut tcp = std::net::TcpStream::connect(platform.emulator.local_addr()).unwrap();
    tcp.write_all(b"POST /cgi-bin/express/local/business/order/get HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let started = Instant::now();
    let closed = tokio::task::spawn_blocking(move || tcp.read_to_end(&mut Vec::new()).is_ok())
        .await
        .unwrap();
    assert!(closed, "the half-sent request is still open");
    assert!(started.elapsed() < Duration::from_secs(20));
}
