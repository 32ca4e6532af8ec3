//! `--report-html` in a real browser: the real binary writes the report of a run with a passing
//! and a failing order, and headless Chromium (Debian's `chromium`) renders it to a DOM and to
//! a screenshot. Skipped (with a message) on a machine without Chromium, unless
//! SIMULATE_REQUIRE_BROWSER=1, which .ci/run sets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);

/// The labels of every step of both scenarios below.
const DADA_HAPPY: [&str; 5] = [
    "rider assigned",
    "rider at the store",
    "picked up",
    "out for delivery",
    "delivered",
];

/// What a finished Chromium run left behind.
struct Browser {
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Runs headless Chromium with a fresh profile, killing it after [`BROWSER_TIMEOUT`].
fn chromium(work: &Path, name: &str, args: &[String]) -> Browser {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: these tests render the HTML report in a real browser; \
         install Debian's chromium (`apt-get update && apt-get install -y chromium`)"
    );
    let profile = tempfile::tempdir().unwrap();
    let out_path = work.join(format!("{name}.stdout"));
    let err_path = work.join(format!("{name}.stderr"));
    let started = Instant::now();
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .expect("chromium starts");
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium {args:?} did not finish within {BROWSER_TIMEOUT:?}; stderr:\n{}",
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let browser = Browser {
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
        took: started.elapsed(),
    };
    assert!(
        status.success(),
        "chromium {args:?} failed ({status}):\n{}",
        browser.stderr
    );
    browser
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// Where the last report and screenshot are kept for people to look at.
/// Whether Chromium is there; when it is not, a skip message, or a failure under
/// SIMULATE_REQUIRE_BROWSER=1 (which .ci/run sets).
fn browser_ready() -> bool {
    if Path::new(CHROMIUM).exists() {
        return true;
    }
    let message = format!(
        "{CHROMIUM} is missing: this test renders the HTML report in a real browser; \
         install Debian's chromium (`apt-get update && apt-get install -y chromium`)"
    );
    assert!(
        std::env::var("SIMULATE_REQUIRE_BROWSER").as_deref() != Ok("1"),
        "SIMULATE_REQUIRE_BROWSER=1 but {message}"
    );
    eprintln!("skipped: {message}");
    false
}

fn keep_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html-report")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_html_report_renders_in_a_real_browser() {
    // Before anything else: without Chromium the test says so and skips (a fresh machine's
    // `cargo test` passes), unless CI asks for the browser (SIMULATE_REQUIRE_BROWSER=1).
    if !browser_ready() {
        return;
    }
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    // A wrong appsecret: the carrier refuses the signature, and the rest is not sent. The name
    // carries markup, which must arrive as text.
    let wrong = write_scenario(
        &dir,
        "wrong_secret.yaml",
        "name: \"Dada wrong secret <b>&</b> 'q'\"\ncarrier: dada\nshop_order_id: bad-sign-{{run_id}}\n\
         shop:\n  shopid: dadaaee18818d97e236\n  appsecret: ${WRONG_SECRET}\n\
         steps:\n  - status: 102\n  - status: 201\n    after: 2m\n  - status: 202\n    after: 3m\n",
    );
    let html_path = dir.path().join("report.html");
    let run = platform
        .simulate()
        .env("WRONG_SECRET", "0000wrongwrongwrong0000")
        .args(["--speed", "100000", "--report-html"])
        .arg(&html_path)
        .path(&scenario("dada_happy_path.yaml"))
        .path(&wrong)
        .run()
        .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let html = std::fs::read_to_string(&html_path).expect("the HTML report is written");
    for secret in SECRETS
        .iter()
        .chain(&["0000wrongwrongwrong0000", platform.token.expose()])
    {
        assert!(!html.contains(secret), "the HTML report leaks a secret");
    }
    let keep = keep_dir();
    std::fs::create_dir_all(&keep).unwrap();
    let kept_html = keep.join("report.html");
    std::fs::copy(&html_path, &kept_html).unwrap();
    drop(platform);

    let work = dir.path().to_owned();
    let shot = work.join("shot.png");
    let (dom, screenshot) = tokio::task::spawn_blocking({
        let html_path = html_path.clone();
        let shot = shot.clone();
        move || {
            let dom = chromium(
                &work,
                "dom",
                &["--dump-dom".to_owned(), file_url(&html_path)],
            );
            let screenshot = chromium(
                &work,
                "screenshot",
                &[
                    format!("--screenshot={}", shot.display()),
                    "--window-size=1280,1600".to_owned(),
                    file_url(&html_path),
                ],
            );
            (dom, screenshot)
        }
    })
    .await
    .unwrap();
    eprintln!(
        "chromium: --dump-dom took {:?}, --screenshot took {:?}",
        dom.took, screenshot.took
    );

    // 1. The rendered DOM: every step of both orders, the failure and the verdict.
    let text = &dom.stdout;
    assert!(
        text.contains("</html>"),
        "no DOM was dumped:\n{}",
        dom.stderr
    );
    for label in DADA_HAPPY.iter().chain(&DADA_HAPPY[..3]) {
        assert!(text.contains(label), "the DOM lacks {label:?}");
    }
    for code in ["102", "201", "202", "301", "302"] {
        assert!(text.contains(code), "the DOM lacks {code}");
    }
    assert!(text.contains("FAILED"), "no verdict");
    assert!(text.contains("resultcode 2003"), "no failure reason");
    assert!(text.contains("not sent (an earlier step failed)"));
    assert!(text.contains("Dada happy path"));
    // The name's markup stayed text: no <b> element came of it.
    assert!(
        text.contains("Dada wrong secret &lt;b&gt;&amp;&lt;/b&gt;"),
        "{text}"
    );
    assert!(
        !text.contains("<b>&amp;</b>"),
        "a scenario name became markup"
    );

    // 2. The screenshot: a real PNG with something on it.
    let png = std::fs::read(&shot).expect("chromium wrote the screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert!(
        png.len() > 20 * 1024,
        "the screenshot is suspiciously small ({} bytes): a blank page?",
        png.len()
    );
    let kept_shot = keep.join("shot.png");
    std::fs::copy(&shot, &kept_shot).unwrap();
    eprintln!(
        "report: {}\nscreenshot: {}",
        kept_html.display(),
        kept_shot.display()
    );
}
