//! `--step` as a presenter uses it: the real binary on a pseudo-terminal (Python's `pty`), keys
//! typed into it once the screen shows what they answer, the screen read back with `vt100`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};

use crate::common::{Sim, read_json, write_scenario};

/// Runs argv[4:] on a 120×30 pty. argv[1] is `MARK=>KEYS` pairs joined by `|`: once MARK has
/// been written (after the previous KEYS were typed), KEYS (with \r, \n escapes) are typed.
/// argv[2] is how long to wait at most (seconds); argv[3] is `--`. Prints every byte the
/// program wrote, then exits with its code.
const PTY: &str = r#"
import codecs, os, pty, select, struct, sys, fcntl, termios, time
pairs = [p.split("=>", 1) for p in sys.argv[1].split("|") if p]
limit = time.time() + float(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[4], sys.argv[4:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
out, seen_from = b"", 0
while time.time() < limit:
    ready, _, _ = select.select([fd], [], [], 0.1)
    if ready:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    if pairs and pairs[0][0].encode() in out[seen_from:]:
        mark, keys = pairs.pop(0)
        seen_from = len(out)
        time.sleep(0.3)
        os.write(fd, codecs.decode(keys, "unicode_escape").encode())
if time.time() >= limit:
    os.kill(pid, 9)
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status))
"#;

#[tokio::test(flavor = "multi_thread")]
async fn step_shows_what_comes_next_and_enter_p_and_q_steer_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(
        &dir,
        "demo.yaml",
        "name: Step demo\ncarrier: dada\nshop_order_id: step-{{run_id}}\nsteps:\n  - status: 102\n  - status: 201\n    after: 1h\n  - status: 202\n    after: 1h\n",
    );
    let report = dir.path().join("report.json");
    // Enter at "next 201" sends it an hour early; p pauses and p starts the clock again; q ends.
    let keys = "next 201=>\\r|next 202=>p|paused=>p|Enter sends it now=>q";
    let (file_arg, report_arg) = (file.clone(), report.clone());
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args(["-c", PTY, keys, "60", "--"])
            .arg(env!("CARGO_BIN_EXE_simulate"))
            .args(["--local", "--step", "--report-json"])
            .arg(&report_arg)
            .arg(&file_arg)
            .env("TERM", "xterm-256color")
            .env_remove("NO_COLOR")
            .env_remove("LANG")
            .env_remove("LC_ALL")
            .stdin(Stdio::null())
            .output()
            .expect("python3 runs the pty")
    })
    .await
    .unwrap();
    let mut parser = vt100::Parser::new(30, 120, 500);
    parser.process(&output.stdout);
    let screen = parser.screen().contents();
    let raw = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(130),
        "q exits as Ctrl-C:\n{screen}\n{raw}"
    );
    assert!(
        raw.contains("next 201 rider at the store (Step demo) in")
            && raw.contains("Enter sends it now · p pauses the clock · q ends the run"),
        "the next step and the keys are shown:\n{raw}"
    );
    assert!(raw.contains("⏸ paused"), "p pauses:\n{raw}");
    assert!(
        screen.contains("interrupted: 2 of 3 steps sent"),
        "q ends the run after two steps:\n{screen}"
    );
    assert!(
        !screen.contains("q ends the run"),
        "the final frame offers no keys:\n{screen}"
    );
    let report = read_json(&report);
    let steps = report["scenarios"][0]["steps"].as_array().unwrap();
    let outcomes: Vec<&str> = steps
        .iter()
        .map(|s| s["outcome"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(outcomes, ["passed", "passed", "not_sent"], "{report}");
    assert_eq!(report["interrupted"], true, "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn step_off_a_terminal_is_refused_before_anything() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(
        &dir,
        "demo.yaml",
        "carrier: dada\nshop_order_id: step-{{run_id}}\nsteps:\n  - status: 102\n",
    );
    let run = Sim::new()
        .args(["--local", "--step"])
        .path(&file)
        .run()
        .await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(
        run.stderr.contains("error: --step needs a terminal")
            && run.stderr.contains("here stdin is not a terminal"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "nothing ran: {}", run.stdout);
    // Without the live view there is nothing to show the keys in; plan has nothing to steer.
    for extra in [&["--events", "jsonl"][..], &["-q"][..]] {
        let run = Sim::new()
            .args(["--local", "--step"])
            .args(extra)
            .path(&file)
            .run()
            .await;
        assert_eq!(run.code, 2, "{extra:?}: {}", run.all_output());
        assert!(
            run.stderr.contains("which --events and -q turn off"),
            "{}",
            run.stderr
        );
    }
    let run = Sim::new().args(["plan", "--step"]).path(&file).run().await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(run.stderr.contains("plan sends nothing"), "{}", run.stderr);
}
