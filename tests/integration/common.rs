//! Shared helpers: start the real emulator on loopback, run the real binary against it.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use simulate::base::secret::Secret;
use simulate::emulator::{Config, Emulator};
use simulate::model::carriers::Carriers;

/// The public test secrets; no output of ours may contain them.
pub const SECRETS: [&str; 3] = [
    "d80400f91e156f63b38886e616d84590",
    "1c6f40492d6d89caaad80b85f7d31670",
    "simulate-dev-secret",
];

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn scenario(name: &str) -> PathBuf {
    repo().join("scenarios").join(name)
}

pub fn fixture(name: &str) -> PathBuf {
    repo().join("tests").join("fixtures").join(name)
}

/// A running emulator with a token for it.
pub struct Platform {
    pub emulator: Emulator,
    pub token: Secret,
}

impl Platform {
    pub async fn start() -> Platform {
        Platform::with(Config {
            auto_create: true,
            ..Config::default()
        })
        .await
    }

    pub async fn with(config: Config) -> Platform {
        let carriers = Arc::new(Carriers::builtin().expect("built-in carriers"));
        let emulator = Emulator::start("127.0.0.1:0".parse().unwrap(), carriers, config)
            .await
            .expect("emulator starts");
        let token = emulator.issue_token();
        Platform { emulator, token }
    }

    pub fn url(&self) -> String {
        self.emulator.base_url()
    }

    /// `simulate` pointed at this emulator with a valid token.
    pub fn simulate(&self) -> Sim {
        Sim::new()
            .args(["--endpoint", &self.url()])
            .env("WECHAT_ACCESS_TOKEN", self.token.expose())
            .env("WECHAT_OPENID", "o-simulate-test-openid")
    }

    /// Every order the emulator knows, as its inspection endpoint reports them.
    pub async fn orders(&self) -> serde_json::Value {
        reqwest::get(format!("{}/__simulate/orders", self.url()))
            .await
            .expect("inspection answers")
            .json()
            .await
            .expect("inspection is JSON")
    }

    /// How many business calls (any verdict) the emulator received.
    pub async fn calls_received(&self) -> usize {
        let orders = self.orders().await;
        let list = orders_list(&orders);
        list.iter()
            .map(|o| {
                o["history"]
                    .as_array()
                    .map_or(0, |h| h.iter().filter(|e| e.get("api").is_some()).count())
            })
            .sum()
    }

    /// Status changes the emulator applied, over all orders: one per step that reached it,
    /// however many calls (questions, refused repeats) a loaded machine needed to get there.
    pub async fn status_changes_applied(&self) -> usize {
        let orders = self.orders().await;
        orders_list(&orders)
            .iter()
            .map(|o| {
                o["history"].as_array().map_or(0, |h| {
                    h.iter()
                        .filter(|e| e.get("status_change").is_some_and(|c| !c.is_null()))
                        .count()
                })
            })
            .sum()
    }
}

/// The array of orders in an inspection answer (bare array or `{"orders": […]}`).
pub fn orders_list(value: &serde_json::Value) -> Vec<serde_json::Value> {
    value
        .as_array()
        .or_else(|| value["orders"].as_array())
        .cloned()
        .unwrap_or_default()
}

/// A `simulate` command line, run off the async runtime.
pub struct Sim {
    command: Command,
}

/// What a finished `simulate` did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Run {
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    pub fn assert_no_secrets(&self, extra: &[&str]) {
        let text = self.all_output();
        for secret in SECRETS.iter().chain(extra) {
            assert!(!text.contains(secret), "output leaks a secret:\n{text}");
        }
    }
}

impl Sim {
    pub fn new() -> Sim {
        let mut command = Command::new(env!("CARGO_BIN_EXE_simulate"));
        command
            .env_remove("WECHAT_ACCESS_TOKEN")
            .env_remove("SIMULATE_ENDPOINT")
            .env_remove("RUST_LOG")
            .env_remove("WECHAT_OPENID")
            .env_remove("WECHAT_APPID")
            .env_remove("WECHAT_APP_SECRET")
            // English unless a test asks for another language: the locale must not choose.
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env_remove("LANG")
            .env("NO_COLOR", "1")
            .current_dir(repo())
            .stdin(Stdio::null());
        Sim { command }
    }

    pub fn args<I, S>(mut self, args: I) -> Sim
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.command.args(args);
        self
    }

    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Sim {
        self.command.arg(arg);
        self
    }

    pub fn path(self, path: &Path) -> Sim {
        self.arg(path)
    }

    pub fn env(mut self, key: &str, value: &str) -> Sim {
        self.command.env(key, value);
        self
    }

    pub async fn run(mut self) -> Run {
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let Output {
                status,
                stdout,
                stderr,
            } = self.command.output().expect("simulate runs");
            Run {
                code: status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&stdout).into_owned(),
                stderr: String::from_utf8_lossy(&stderr).into_owned(),
                took: started.elapsed(),
            }
        })
        .await
        .expect("runner thread")
    }
}

/// Writes a scenario into a temporary folder and returns its path.
pub fn write_scenario(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write scenario");
    path
}

/// Writes `count` copies of a scenario, named `PREFIX0000.yaml`…, into a temporary folder (use
/// `{{scenario}}` in its order id to keep them apart).
pub fn write_scenarios(dir: &tempfile::TempDir, prefix: &str, count: usize, text: &str) {
    for i in 0..count {
        write_scenario(dir, &format!("{prefix}{i:04}.yaml"), text);
    }
}

pub fn read_json(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("report written");
    serde_json::from_str(&text).expect("report is JSON")
}

pub fn validate_report(report: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("schema/report.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the report schema is a schema");
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "report does not match its schema: {errors:#?}"
    );
}

/// The element and attribute sets of the JUnit schema Jenkins validates against (the
/// strictest of the CI reporters): nothing else may appear.
pub fn assert_jenkins_schema(xml: &str) {
    let allowed: &[(&str, &[&str])] = &[
        (
            "testsuites",
            &["name", "time", "tests", "failures", "errors"],
        ),
        (
            "testsuite",
            &[
                "name",
                "tests",
                "failures",
                "errors",
                "group",
                "time",
                "skipped",
                "timestamp",
                "hostname",
                "id",
                "package",
                "file",
                "log",
                "url",
            ],
        ),
        ("properties", &[]),
        ("property", &["name", "value"]),
        ("testcase", &["name", "time", "classname", "group"]),
        ("failure", &["type", "message"]),
        ("error", &["type", "message"]),
        ("skipped", &["type", "message"]),
        ("system-out", &[]),
        ("system-err", &[]),
    ];
    let timestamp = regex::Regex::new(r#"timestamp="([^"]*)""#).unwrap();
    let xsd_datetime =
        regex::Regex::new(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$").unwrap();
    for found in timestamp.captures_iter(xml) {
        assert!(
            xsd_datetime.is_match(&found[1]),
            "timestamp `{}` is not the schema's dateTime",
            &found[1]
        );
    }
    let tag = regex::Regex::new(r#"<([a-z-]+)((?:\s+[a-z_]+="[^"]*")*)\s*/?>"#).unwrap();
    let attribute = regex::Regex::new(r#"([a-z_]+)=""#).unwrap();
    let mut seen = 0;
    for found in tag.captures_iter(xml) {
        seen += 1;
        let name = &found[1];
        let Some((_, attributes)) = allowed.iter().find(|(n, _)| *n == name) else {
            panic!("element <{name}> is not in the JUnit schema")
        };
        for a in attribute.captures_iter(&found[2]) {
            assert!(
                attributes.contains(&&a[1]),
                "<{name}> may not carry `{}`",
                &a[1]
            );
        }
        for required in match name {
            "testsuite" => &["name", "tests", "failures", "errors"][..],
            "testcase" => &["name"][..],
            "property" => &["name", "value"][..],
            _ => &[][..],
        } {
            assert!(
                found[2].contains(&format!(" {required}=")),
                "<{name}> needs `{required}`"
            );
        }
    }
    assert!(seen > 3, "no elements found in {xml}");
}

/// Every line of an `--events jsonl` stream, each checked against `schema/events.schema.json`.
pub fn validate_events(stdout: &str) -> Vec<serde_json::Value> {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("schema/events.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the events schema is a schema");
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    for event in &events {
        let errors: Vec<String> = validator
            .iter_errors(event)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "event does not match schema/events.schema.json: {event}\n{errors:#?}"
        );
    }
    assert!(!events.is_empty(), "no events in {stdout:?}");
    events
}
