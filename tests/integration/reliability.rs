//! Issue 11: the report is never wrong about a step, and reports survive what CI does to them
//! (killed runs, unwritable paths, closed pipes, signals before the first call).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::common::{Platform, scenario};

#[tokio::test(flavor = "multi_thread")]
async fn an_unwritable_report_path_exits_3_before_anything_is_sent() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    // A file where the report's folder should be: it cannot be created.
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "").unwrap();
    let run = platform
        .simulate()
        .args(["--speed", "100000", "--report-junit"])
        .arg(blocker.join("junit.xml"))
        .path(&scenario("dada_happy_path.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert!(run.stderr.contains("nothing was sent"), "{}", run.stderr);
    assert_eq!(platform.calls_received().await, 0);

    // A missing folder is created, and the report lands there.
    let report = dir.path().join("new/deeper/report.json");
    let run = platform
        .simulate()
        .args(["--speed", "100000", "--report-json"])
        .arg(&report)
        .path(&scenario("dada_happy_path.yaml"))
        .run()
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(report.is_file());
}

#[tokio::test(flavor = "multi_thread")]
async fn after_sigkill_no_earlier_report_looks_current() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    std::fs::write(&report, "{\"exit_code\": 0}\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_simulate"))
        .args([
            "--endpoint",
            &platform.url(),
            "--access-token",
            platform.token.expose(),
        ])
        .arg("--report-json")
        .arg(&report)
        .arg(scenario("dada_happy_path.yaml"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if platform.calls_received().await >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !report.exists(),
        "the previous run's report is still in place"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_leaves_no_truncated_report() {
    // A 64 KiB tmpfs when this machine lets us mount one; otherwise nothing to show here
    // (the atomic write itself is unit-tested in base::files).
    let dir = tempfile::tempdir().unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(dir.path())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    }
    let platform = Platform::start().await;
    // Fill the disk to the brim but for a few KiB: the reports cannot fit.
    let filler = dir.path().join("filler");
    let _ = std::fs::write(&filler, vec![b'x'; 60 * 1024]);
    let run = platform
        .simulate()
        .args(["--speed", "100000"])
        .arg("--report-json")
        .arg(dir.path().join("r.json"))
        .arg("--report-html")
        .arg(dir.path().join("r.html"))
        .arg("--report-junit")
        .arg(dir.path().join("r.xml"))
        .path(&scenario("dada_happy_path.yaml"))
        .run()
        .await;
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let texts: HashMap<String, String> = names
        .iter()
        .filter_map(|n| Some((n.clone(), std::fs::read_to_string(dir.path().join(n)).ok()?)))
        .collect();
    let _ = Command::new("umount").arg(dir.path()).status();
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert!(
        run.stderr.contains("cannot write the report"),
        "{}",
        run.stderr
    );
    // What is there is whole; the rest is not there at all.
    for (name, end) in [("r.json", "}\n"), ("r.html", "</html>\n"), ("r.xml", ">\n")] {
        if let Some(text) = texts.get(name) {
            assert!(
                text.ends_with(end),
                "{name} is truncated: {} bytes",
                text.len()
            );
        }
    }
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

/// Runs `simulate` with its stderr (or stdout) into a pipe that is closed at once.
fn with_closed_pipe(mut command: Command, close_stdout: bool) -> std::process::Output {
    if close_stdout {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
    } else {
        command.stderr(Stdio::piped()).stdout(Stdio::piped());
    }
    let mut child = command.spawn().unwrap();
    if close_stdout {
        drop(child.stdout.take());
    } else {
        drop(child.stderr.take());
    }
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn events_with_stderr_into_a_closed_pipe_still_write_the_report() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let mut command = Command::new(env!("CARGO_BIN_EXE_simulate"));
    command
        .args([
            "--endpoint",
            &platform.url(),
            "--access-token",
            platform.token.expose(),
        ])
        .args(["--speed", "100000", "--events", "jsonl", "--report-json"])
        .arg(&report)
        .arg(scenario("dada_happy_path.yaml"))
        .env("NO_COLOR", "1");
    let output = tokio::task::spawn_blocking(move || with_closed_pipe(command, false))
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(report.is_file(), "no report");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_log_and_the_warnings_survive_a_closed_stderr() {
    // `-vv` logs through tracing, whose writer reported a failed write with a panicking
    // eprint!; the long-run warning was an eprint! of its own. Both exited 101.
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let mut command = Command::new(env!("CARGO_BIN_EXE_simulate"));
    command
        .args(["-vv", "--local", "--speed", "100000", "--report-json"])
        .arg(&report)
        .arg(scenario("dada_happy_path.yaml"));
    let output = tokio::task::spawn_blocking(move || with_closed_pipe(command, false))
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(report.is_file(), "no report");

    let mut command = Command::new(env!("CARGO_BIN_EXE_simulate"));
    command
        .args(["plan", "--speed", "0.001"])
        .arg(scenario("dada_happy_path.yaml"));
    let output = tokio::task::spawn_blocking(move || with_closed_pipe(command, false))
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(!output.stdout.is_empty(), "{output:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_into_a_closed_pipe_keeps_answering() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_simulate"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The address is printed first; then nobody reads any more (`| head -2`).
    let mut stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut seen = String::new();
    let mut buffer = [0u8; 4096];
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let url = loop {
        let n = stdout.read(&mut buffer).unwrap_or(0);
        seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
        if let Some(url) = seen
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
        {
            break url.trim_end_matches(['/', ',', '.']).to_owned();
        }
        assert!(
            n > 0 && std::time::Instant::now() < deadline,
            "no address in {seen:?}"
        );
    };
    drop(stdout);
    drop(stderr);
    let client = reqwest::Client::new();
    for _ in 0..5 {
        let answer = client
            .post(format!(
                "{url}/cgi-bin/express/local/business/order/get?access_token=x"
            ))
            .body("{}")
            .send()
            .await
            .expect("the emulator still answers");
        let body = answer.text().await.unwrap();
        assert!(body.contains("errcode"), "an empty reply: {body:?}");
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    assert_ne!(status.code(), Some(101), "it panicked");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_the_token_fetch_exits_130_with_the_reports() {
    // A token endpoint that takes the connection and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let child = Command::new(env!("CARGO_BIN_EXE_simulate"))
        .args([
            "--endpoint",
            &endpoint,
            "--appid",
            "wx-test",
            "--app-secret",
            "s3cret-value",
        ])
        .arg("--report-json")
        .arg(&report)
        .arg(scenario("dada_happy_path.yaml"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the token request has arrived.
    let (_held, _) = tokio::task::spawn_blocking(move || listener.accept().unwrap())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["summary"]["not_sent"], 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_interrupt_forces_the_exit_at_once() {
    // The calls hang: the first SIGINT waits for them, the second does not.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let mut child = Command::new(env!("CARGO_BIN_EXE_simulate"))
        .args([
            "--endpoint",
            &endpoint,
            "--access-token",
            "t0ken",
            "--timeout",
            "60s",
        ])
        .arg(scenario("dada_happy_path.yaml"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (_held, _) = tokio::task::spawn_blocking(move || listener.accept().unwrap())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pid = child.id().to_string();
    let _ = Command::new("kill").args(["-INT", &pid]).status();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let _ = Command::new("kill").args(["-INT", &pid]).status();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "waited out the call"
    );
}
