//! Pushes checked by an independent implementation: tests/push/receiver.py verifies the URL
//! signature with hashlib and opens safe-mode messages with PyPI's `cryptography`, for JSON and
//! XML in all three modes, and answers the echostr check. Skipped (with a message) when
//! python3 or `cryptography` is missing, unless SIMULATE_REQUIRE_PYTHON=1.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::common::{Sim, repo, scenario};

const TOKEN: &str = "pushToken2026";
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APPID: &str = "wxsimulate0000dev";

/// Whether the receiver can run here; `None` means skip (the reason is printed).
fn python_ready() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import cryptography.hazmat.primitives.ciphers"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let message = "python3 with the `cryptography` package is not available \
                       (pip install cryptography)";
        assert!(
            std::env::var("SIMULATE_REQUIRE_PYTHON").as_deref() != Ok("1"),
            "SIMULATE_REQUIRE_PYTHON=1 but {message}"
        );
        eprintln!("skipped: {message}");
    }
    ok
}

/// The receiver, listening; its judgements arrive on `lines`.
struct Receiver {
    child: Child,
    stdin: Option<ChildStdin>,
    url: String,
    lines: mpsc::Receiver<Value>,
}

impl Receiver {
    fn start(mode: &str) -> Receiver {
        let mut child = Command::new("python3")
            .arg(repo().join("tests/push/receiver.py"))
            .args(["--token", TOKEN, "--aes-key", AES_KEY, "--appid", APPID])
            .args(["--mode", mode])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 starts");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let (port_tx, port_rx) = mpsc::channel();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(port) = line.strip_prefix("listening ") {
                    let _ = port_tx.send(port.to_owned());
                } else if let Ok(value) = serde_json::from_str::<Value>(&line) {
                    let _ = tx.send(value);
                }
            }
        });
        let port = port_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the receiver says where it listens");
        Receiver {
            child,
            stdin,
            url: format!("http://127.0.0.1:{port}/wx/push?from=simulate"),
            lines,
        }
    }

    fn judged(&self) -> Vec<Value> {
        self.lines.try_iter().collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"");
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn an_independent_handler_accepts_every_push_in_every_mode_and_format() {
    if !python_ready() {
        return;
    }
    for mode in ["plain", "compat", "safe"] {
        for format in ["json", "xml"] {
            let receiver = Receiver::start(mode);
            let run = Sim::new()
                .arg(scenario("dada_happy_path.yaml"))
                .args(["--local", "--speed", "1000", "--callback", &receiver.url])
                .args([
                    "--push-token",
                    TOKEN,
                    "--push-mode",
                    mode,
                    "--aes-key",
                    AES_KEY,
                ])
                .args(["--callback-format", format])
                .run()
                .await;
            assert_eq!(run.code, 0, "{mode}/{format}: {}", run.all_output());
            run.assert_no_secrets(&[TOKEN, AES_KEY]);
            assert!(
                run.stdout.contains("pushes: 5/5 delivered"),
                "{mode}/{format}: {}",
                run.stdout
            );
            std::thread::sleep(Duration::from_millis(200));
            let judged = receiver.judged();
            let echo: Vec<&Value> = judged.iter().filter(|j| j["kind"] == "echostr").collect();
            assert_eq!(echo.len(), 1, "{mode}/{format}: one URL check: {judged:?}");
            assert_eq!(echo[0]["ok"], true, "{judged:?}");
            let pushes: Vec<&Value> = judged.iter().filter(|j| j["kind"] == "push").collect();
            assert!(
                pushes
                    .iter()
                    .all(|p| p["ok"] == true && p["format"] == format),
                "{mode}/{format}: {pushes:?}"
            );
            let statuses: Vec<i64> = pushes
                .iter()
                .filter_map(|p| p["order_status"].as_i64())
                .collect();
            assert_eq!(statuses, [102, 201, 202, 301, 302], "{mode}/{format}");
            assert!(pushes.iter().all(|p| p["event"] == "update_waybill_status"));
        }
    }
}

#[tokio::test]
async fn a_handler_with_another_token_refuses_the_pushes_and_the_url_check() {
    if !python_ready() {
        return;
    }
    let receiver = Receiver::start("plain");
    let run = Sim::new()
        .arg(scenario("dada_happy_path.yaml"))
        .args(["--local", "--speed", "1000", "--callback", &receiver.url])
        .args(["--push-token", "someOtherToken"])
        .run()
        .await;
    let out = run.all_output();
    assert!(out.contains("failed the platform's URL check"), "{out}");
    assert!(out.contains("pushes: 0/5 delivered"), "{out}");
    run.assert_no_secrets(&["someOtherToken"]);
    let judged = receiver.judged();
    assert!(judged.iter().all(|j| j["ok"] == false), "{judged:?}");
}

/// A merchant URL on loopback that accepts every push and answers the URL check.
async fn accepting_receiver() -> String {
    use axum::extract::RawQuery;
    use axum::routing::get;
    let app = axum::Router::new().route(
        "/hook",
        get(|RawQuery(q): RawQuery| async move {
            q.unwrap_or_default()
                .split('&')
                .find_map(|kv| kv.strip_prefix("echostr="))
                .unwrap_or_default()
                .to_owned()
        })
        .post(|| async { "success" }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/hook")
}

#[tokio::test]
async fn a_local_run_with_a_callback_reports_every_push_in_every_report() {
    let url = accepting_receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let (json, junit, html) = (
        dir.path().join("r.json"),
        dir.path().join("r.xml"),
        dir.path().join("r.html"),
    );
    let run = Sim::new()
        .arg(scenario("dada_happy_path.yaml"))
        .args(["--local", "--speed", "1000", "--callback", &url])
        .args(["--push-token", TOKEN])
        .arg("--report-json")
        .arg(&json)
        .arg("--report-junit")
        .arg(&junit)
        .arg("--report-html")
        .arg(&html)
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(
        run.stdout.contains("pushes: 5/5 delivered\n"),
        "{}",
        run.stdout
    );
    assert!(
        !run.all_output().contains("URL check"),
        "{}",
        run.all_output()
    );
    run.assert_no_secrets(&[TOKEN]);

    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    crate::common::validate_report(&report);
    assert_eq!(report["pushes"]["delivered"], 5);
    assert_eq!(report["pushes"]["made"], 5);
    let steps = report["scenarios"][0]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 5);
    for step in steps {
        assert_eq!(step["push"]["delivered"], true, "{step}");
        assert_eq!(step["push"]["attempts"], 1);
        assert_eq!(step["push"]["detail"], "HTTP 200");
    }
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(r#"<property name="pushes.delivered" value="5"/>"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<property name="step.5.push" value="delivered"/>"#),
        "{xml}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(
        page.matches("push: accepted (HTTP 200, 1 attempt)").count(),
        5
    );
}

#[tokio::test]
async fn without_a_callback_reports_say_nothing_of_pushes() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let run = Sim::new()
        .arg(scenario("dada_happy_path.yaml"))
        .args(["--local", "--speed", "1000", "--report-json"])
        .arg(&json)
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(!run.stdout.contains("pushes:"), "{}", run.stdout);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    crate::common::validate_report(&report);
    assert!(report["pushes"].is_null());
    assert!(report["scenarios"][0]["steps"][0]["push"].is_null());
}

#[tokio::test]
async fn push_settings_are_checked_without_showing_them() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["--push-mode", "safe", "--push-token", TOKEN],
            "--push-mode safe needs --aes-key",
        ),
        (
            &[
                "--push-mode",
                "compat",
                "--push-token",
                TOKEN,
                "--aes-key",
                "tooShortKeySecret",
            ],
            "--aes-key (not shown): the EncodingAESKey must be 43 characters",
        ),
        // The MP console does not save compatible or safe mode without a Token.
        (
            &["--push-mode", "safe", "--aes-key", AES_KEY],
            "--push-mode safe needs --push-token TOKEN",
        ),
        (
            &["--push-mode", "compat", "--aes-key", AES_KEY],
            "--push-mode compat needs --push-token TOKEN",
        ),
        (
            &["--push-token", "bad token!secret"],
            "--push-token (not shown) must be letters and digits",
        ),
    ];
    for (flags, expected) in cases {
        let run = Sim::new()
            .arg(scenario("dada_happy_path.yaml"))
            .args(["--local", "--callback", "http://127.0.0.1:9/hook"])
            .args(flags)
            .run()
            .await;
        assert_eq!(run.code, 2, "{flags:?}: {}", run.all_output());
        assert!(run.stderr.contains(expected), "{flags:?}: {}", run.stderr);
        run.assert_no_secrets(&["tooShortKeySecret", "bad token!secret"]);
        let serve = std::process::Command::new(env!("CARGO_BIN_EXE_simulate"))
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--callback",
                "http://127.0.0.1:9/h",
            ])
            .args(flags)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&serve.stderr);
        assert_eq!(serve.status.code(), Some(2), "{flags:?}: {err}");
        assert!(err.contains(expected), "{flags:?}: {err}");
        assert!(!err.contains("tooShortKeySecret") && !err.contains("bad token!secret"));
    }
}

// Multi-threaded: the receiver must answer while this thread waits for serve to start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_pushes_without_a_token_are_announced_once_as_unsigned() {
    const WARNING: &str =
        "warning: --callback without --push-token: pushes are signed with an empty Token";
    let url = accepting_receiver().await;
    let unsigned = crate::serve_child::Serve::start(&["--callback", &url]);
    let signed = crate::serve_child::Serve::start(&["--callback", &url, "--push-token", TOKEN]);
    // stderr is read on its own thread: give it time to catch up with stdout's `ready`.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !unsigned.console().contains(WARNING) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let console = unsigned.console();
    assert_eq!(console.matches(WARNING).count(), 1, "{console}");
    assert!(!signed.console().contains(WARNING), "{}", signed.console());
}

// Multi-threaded: the receiver must answer while this thread waits for serve to start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_checks_the_callback_url_and_logs_every_push_attempt() {
    let url = accepting_receiver().await;
    let serve = crate::serve_child::Serve::start(&["--auto-create", "--callback", &url]);
    assert!(
        serve
            .announced
            .iter()
            .any(|l| l == "callback URL check passed (echostr answered)"),
        "{:?}",
        serve.announced
    );
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let token: Value = http
        .get(format!(
            "{}/cgi-bin/token?grant_type=client_credential&appid={APPID}&secret=simulate-dev-secret",
            serve.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let body = serde_json::json!({"shopid": "test_shop_id", "shop_order_id": "LOG-1",
        "order_status": 102, "action_time": chrono::Utc::now().timestamp(), "action_msg": "x"});
    let answer: Value = http
        .post(format!(
            "{}/cgi-bin/express/local/business/test_update_order?access_token={token}",
            serve.base
        ))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["errcode"], 0, "{answer}");
    let mut console = String::new();
    for _ in 0..100 {
        console = serve.console();
        if console.contains(" push ") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let line = console
        .lines()
        .find(|l| l.contains(" push "))
        .unwrap_or_else(|| panic!("no push line:\n{console}"));
    let pattern = regex::Regex::new(
        r"^\d{4}-\d\d-\d\dT\S+ push test_shop_id/LOG-1 status 102 attempt 1/3 delivered \(HTTP 200\) \d+ ms$",
    )
    .unwrap();
    assert!(pattern.is_match(line), "{line}");
}

#[tokio::test]
async fn serve_reports_a_callback_url_that_fails_the_check_and_starts_anyway() {
    // Nothing listens on port 9 of loopback.
    let serve = crate::serve_child::Serve::start(&["--callback", "http://127.0.0.1:9/hook"]);
    let mut console = String::new();
    for _ in 0..100 {
        console = serve.console();
        if console.contains("URL check") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        console.contains("warning: the callback URL failed the platform's URL check")
            && console.contains("connection error"),
        "{console}"
    );
    // Serving all the same.
    let answer = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("{}/__simulate/orders", serve.base))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
}
