//! The live view as a person sees it: the real binary on a pseudo-terminal (Python's `pty`,
//! present on every machine the project builds on), its bytes replayed through a terminal
//! emulator (`vt100`), and the screen read back after the run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::{Platform, scenario};

/// Runs argv[5:] on a pty of argv[1] columns × argv[2] rows. Once argv[3] (text) has been
/// written, resizes the terminal to argv[4] columns when argv[4] is given, else sends one
/// Ctrl-C through the terminal, as a keyboard would. Prints every byte the program wrote;
/// exits with the program's code.
const PTY: &str = r#"
import os, pty, sys, select, struct, fcntl, termios, time
cols, rows, mark, resize = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode(), sys.argv[4]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[5], sys.argv[5:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
out, sent, resized = b"", False, False
while True:
    ready, _, _ = select.select([fd], [], [], 0.1)
    if ready:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    if mark and not resize and not sent and mark in out:
        time.sleep(0.3)
        os.write(fd, b"\x03")
        sent = True
    if resize and not resized and mark in out:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, int(resize), 0, 0))
        os.kill(pid, 28)
        resized = True
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
"#;

struct Screen {
    code: i32,
    text: String,
    raw: String,
}

fn on_terminal(cols: u16, rows: u16, mark: &str, resize: &str, args: &[&str]) -> Screen {
    let mut command = Command::new("python3");
    command
        .args([
            "-c",
            PTY,
            &cols.to_string(),
            &rows.to_string(),
            mark,
            resize,
        ])
        .arg(env!("CARGO_BIN_EXE_simulate"))
        .args(args)
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    let output = command.output().expect("python3 runs the pty");
    let mut parser = vt100::Parser::new(rows, cols, 500);
    parser.process(&output.stdout);
    Screen {
        code: output.status.code().unwrap_or(-1),
        text: parser.screen().contents(),
        raw: String::from_utf8_lossy(&output.stdout).into_owned(),
    }
}

fn write_scenario(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .expect("scenario written");
    path.to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn after_ctrl_c_the_final_frame_shows_each_order_interrupted_and_nothing_stale() {
    let platform = Platform::start().await;
    let url = platform.url();
    let token = platform.token.expose().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(
        &dir,
        "slow.yaml",
        "name: Slow order\ncarrier: dada\nshop_order_id: pty-{{run_id}}\nsteps:\n  - status: 102\n  - status: 201\n    after: 1h\n  - status: 202\n  - status: 301\n  - status: 302\n",
    );
    let screen = tokio::task::spawn_blocking(move || {
        on_terminal(
            100,
            24,
            "next 201",
            "",
            &["--endpoint", &url, "--access-token", &token, &file],
        )
    })
    .await
    .unwrap();
    let text = &screen.text;
    assert_eq!(screen.code, 130, "interrupted runs exit 130:\n{text}");
    assert!(
        text.contains("interrupted: 1 of 5 steps sent"),
        "the order shows it was interrupted after one step:\n{text}"
    );
    assert!(
        !text.contains("✓ done"),
        "an interrupted order is not done:\n{text}"
    );
    assert!(
        text.contains("1/5"),
        "the bar counts the step sent:\n{text}"
    );
    assert!(
        !text.contains("next 201"),
        "no line of an earlier frame stays on screen:\n{text}"
    );
    assert!(!text.contains("^C"), "the echoed ^C is cleared:\n{text}");
    assert!(
        text.contains("total  ") && text.contains("1/5 steps sent"),
        "the total line:\n{text}"
    );
    assert!(text.contains("1 passed, 0 failed, 4 not sent"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_order_shows_its_counts_and_a_red_bar() {
    let platform = Platform::start().await;
    let url = platform.url();
    let token = platform.token.expose().to_owned();
    let dir = tempfile::tempdir().unwrap();
    // 102, then 302, which Dada refuses after 102, then 201 never sent.
    let file = write_scenario(
        &dir,
        "refused.yaml",
        "name: Refused order\ncarrier: dada\nshop_order_id: pty-{{run_id}}\nsteps:\n  - status: 102\n  - status: 302\n    after: 1s\n    skip_transition_check: true\n    expect: ok\n  - status: 201\n    skip_transition_check: true\n    expect: ok\n",
    );
    let screen = tokio::task::spawn_blocking(move || {
        on_terminal(
            120,
            24,
            "",
            "",
            &[
                "--endpoint",
                &url,
                "--access-token",
                &token,
                "--color",
                "always",
                &file,
            ],
        )
    })
    .await
    .unwrap();
    let text = &screen.text;
    assert_eq!(screen.code, 1, "{text}\n{}", screen.raw);
    assert!(text.contains("2/3"), "two steps went out:\n{text}");
    assert!(!text.contains("3/3"), "{text}");
    assert!(
        text.contains("✗ 1 passed, 1 failed, 1 not sent"),
        "the counts:\n{text}"
    );
    // The bar of the failed order is painted red.
    assert!(screen.raw.contains("\x1b[31m█"), "a red bar");
}

#[tokio::test(flavor = "multi_thread")]
async fn lines_are_cut_to_the_terminal_width_and_a_resize_is_honoured() {
    let file = scenario("dada_happy_path.yaml")
        .to_string_lossy()
        .into_owned();
    let screen = tokio::task::spawn_blocking(move || {
        on_terminal(
            60,
            24,
            "steps sent",
            "40",
            &["--local", "--speed", "60", &file],
        )
    })
    .await
    .unwrap();
    assert_eq!(screen.code, 0, "{}", screen.text);
    // vt100 keeps wrapped lines joined: a line longer than the screen would show as more
    // characters between two newlines than the width.
    let frame_lines: Vec<&str> = screen
        .raw
        .split("\x1b[2K")
        .skip(1)
        .map(|l| l.split(['\r', '\n']).next().unwrap_or(""))
        .collect();
    assert!(!frame_lines.is_empty());
    let last = frame_lines.last().unwrap();
    assert!(
        console_width(last) < 40,
        "after the resize, lines fit 40 columns: {last:?}"
    );
    for line in &frame_lines {
        assert!(console_width(line) < 60, "{line:?}");
    }
}

fn console_width(line: &str) -> usize {
    let plain = regex::Regex::new("\x1b\\[[0-9;]*[A-Za-z]")
        .unwrap()
        .replace_all(line, "");
    plain
        .chars()
        .map(|c| {
            if ('\u{2e80}'..='\u{9fff}').contains(&c) {
                2
            } else {
                1
            }
        })
        .sum()
}
