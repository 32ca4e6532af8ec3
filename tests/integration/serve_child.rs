//! `simulate serve` as a child process, for tests that need the real command (kill -9, SDKs).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `simulate serve`, announced and ready; killed when dropped.
pub struct Serve {
    pub child: Child,
    pub base: String,
    /// Everything it printed on stdout up to `ready`.
    #[allow(dead_code)]
    pub announced: Vec<String>,
    /// Its console (stderr) so far.
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Serve {
    pub fn start(extra: &[&str]) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_simulate"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(extra)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("simulate serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut sink = sink.lock().unwrap();
                sink.push_str(&line);
                sink.push('\n');
            }
        });
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let done = line == "ready";
                lines.push(line);
                if done {
                    let _ = tx.send(lines);
                    return;
                }
            }
            let _ = tx.send(lines);
        });
        let announced = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        // The first line says where it listens, in the chosen language: the URL ends it.
        let base = announced
            .first()
            .and_then(|l| l.find("http://").map(|at| l[at..].to_owned()));
        let Some(base) = base else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("simulate serve did not say where it listens: {announced:?}");
        };
        Serve {
            child,
            base,
            announced,
            log,
        }
    }

    pub fn console(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill_9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
