//! Every way a command ends without doing what was asked, as one value: its exit code (from
//! `base::exit`) and the one renderer that prints it. Commands return these; only
//! [`super::main`] prints them, so each message is written once and exits with its code.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

use rust_i18n::t;

use crate::base::diag::Diagnostic;
use crate::base::exit;
use crate::base::i18n::{self, Noun, count};
use crate::run::client::CallError;
use crate::run::token::TokenError;

/// Why a command did not do what was asked.
#[derive(Debug)]
pub enum AppError {
    /// Bare `simulate` with no scenario: the usage lines follow.
    NoCommand,
    /// `run`, `plan` or `check` without a path.
    NoScenario,
    /// The command line lacks something or contradicts itself.
    Usage(String),
    /// `simulate chek`: a word that is no file, but close to a command's name.
    MistypedCommand {
        word: String,
        command: String,
    },
    /// Files that do not check, every problem with its place; `within` says which files,
    /// e.g. "in the scenarios".
    InvalidFiles {
        problems: Vec<Diagnostic>,
        within: Within,
    },
    /// Valid files and flags that cannot do what was asked, e.g. an unknown carrier.
    Invalid {
        message: String,
        help: Option<String>,
    },
    /// Scenarios that create their order with order/add but give no openid (`file:line` each).
    MissingOpenid(Vec<String>),
    /// `new FILE` would overwrite FILE without `--force`.
    FileExists(PathBuf),
    /// No access token and no app credentials to fetch one.
    NoCredentials,
    /// The platform could not be asked what the command needed to know first.
    NotReached {
        message: String,
        help: Option<String>,
    },
    /// The token could not be had: the credentials were refused, or its endpoint gave none.
    Token(TokenError),
    /// The HTTP client for the calls could not be built.
    Client(CallError),
    Runtime(io::Error),
    Emulator(io::Error),
    Serve {
        addr: SocketAddr,
        error: io::Error,
    },
    /// `--state FILE` could not be opened or loaded: a file problem, not the address's.
    StateFile {
        path: PathBuf,
        not_a_database: bool,
        detail: String,
    },
    ManPage(io::Error),
    /// A file `new` was asked to write.
    Write {
        path: PathBuf,
        error: io::Error,
    },
    /// A report path that cannot take a report, found before anything was sent.
    ReportUnusable {
        path: PathBuf,
        error: io::Error,
    },
    /// Reports that could not be written, after a run that earned `run_code`.
    ReportsNotWritten {
        failures: Vec<(PathBuf, io::Error)>,
        run_code: u8,
    },
}

/// Which files had the problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Within {
    Scenarios,
    CarrierFile,
}

impl From<TokenError> for AppError {
    fn from(error: TokenError) -> AppError {
        AppError::Token(error)
    }
}

impl From<CallError> for AppError {
    fn from(error: CallError) -> AppError {
        AppError::Client(error)
    }
}

impl AppError {
    /// The documented exit code (README, `--help`).
    pub fn exit_code(&self) -> u8 {
        match self {
            AppError::NoCommand
            | AppError::NoScenario
            | AppError::Usage(_)
            | AppError::MistypedCommand { .. }
            | AppError::InvalidFiles { .. }
            | AppError::Invalid { .. }
            | AppError::MissingOpenid(_)
            | AppError::FileExists(_) => exit::INVALID,
            AppError::NoCredentials
            | AppError::NotReached { .. }
            | AppError::Token(_)
            | AppError::Client(_)
            | AppError::Runtime(_)
            | AppError::Emulator(_)
            | AppError::Serve { .. }
            | AppError::StateFile { .. }
            | AppError::ManPage(_)
            | AppError::Write { .. }
            | AppError::ReportUnusable { .. } => exit::COULD_NOT_RUN,
            // A failed or interrupted run keeps its own code; a passed one could not finish.
            AppError::ReportsNotWritten { run_code, .. } if *run_code != exit::OK => *run_code,
            AppError::ReportsNotWritten { .. } => exit::COULD_NOT_RUN,
        }
    }

    /// What stderr shows, every line ending in a newline.
    pub fn render(&self) -> String {
        match self {
            AppError::NoCommand => error_text(&t!("error.no_command"), None),
            AppError::NoScenario => error_text(
                &t!("error.no_scenario"),
                Some(&t!("error.no_scenario_help")),
            ),
            AppError::Usage(message) => error_text(message, None),
            AppError::MistypedCommand { word, command } => error_text(
                &t!("error.mistyped_command", word = word),
                Some(&t!("error.mistyped_command_help", command = command)),
            ),
            AppError::InvalidFiles { problems, within } => problems_text(problems, *within),
            AppError::Invalid { message, help } | AppError::NotReached { message, help } => {
                error_text(message, help.as_deref())
            }
            AppError::MissingOpenid(places) => error_text(
                &t!("error.missing_openid", places = places.join(", ")),
                Some(&t!("error.missing_openid_help")),
            ),
            AppError::FileExists(path) => {
                error_text(&t!("error.file_exists", path = path.display()), None)
            }
            AppError::NoCredentials => error_text(
                &t!("error.no_credentials"),
                Some(&t!("error.no_credentials_help")),
            ),
            AppError::Token(error) => error_text(&error.describe_in(i18n::current()), None),
            AppError::Client(error) => error_text(&error.describe_in(i18n::current()), None),
            AppError::Runtime(error) => error_text(&t!("error.runtime", error = error), None),
            AppError::Emulator(error) => error_text(&t!("error.emulator", error = error), None),
            AppError::Serve { addr, error } => {
                error_text(&t!("error.serve", addr = addr, error = error), None)
            }
            AppError::StateFile {
                path,
                not_a_database,
                detail,
            } => {
                let path = path.display();
                let message = if *not_a_database {
                    t!("error.state_not_database", path = path, error = detail)
                } else {
                    t!("error.state_open", path = path, error = detail)
                };
                error_text(&message, Some(&t!("error.state_help")))
            }
            AppError::ManPage(error) => error_text(&t!("error.man_page", error = error), None),
            AppError::Write { path, error } => error_text(
                &t!("error.write", path = path.display(), error = error),
                None,
            ),
            AppError::ReportUnusable { path, error } => error_text(
                &t!(
                    "error.report_unusable",
                    path = path.display(),
                    error = error
                ),
                Some(&t!("error.report_unusable_help")),
            ),
            AppError::ReportsNotWritten { failures, run_code } => {
                let mut text: String = failures
                    .iter()
                    .map(|(path, error)| {
                        error_text(
                            &t!(
                                "error.report_not_written",
                                path = path.display(),
                                error = error
                            ),
                            None,
                        )
                    })
                    .collect();
                if *run_code != exit::OK {
                    // The exit code is the run's; say that the reports failed too.
                    text.push_str(&t!("error.run_code_note", code = run_code));
                    text.push('\n');
                }
                text
            }
        }
    }

    /// Prints [`Self::render`] to stderr. A closed stderr is no reason to panic: the exit
    /// code still tells.
    pub fn print(&self) {
        let text = self.render();
        let _ = io::stderr()
            .lock()
            .write_all(crate::base::text::terminal_safe(&text).as_bytes());
    }
}

/// `error: message`, then `  help: …` when there is help.
fn error_text(message: &str, help: Option<&str>) -> String {
    let mut text = t!("error.line", message = message).into_owned();
    text.push('\n');
    if let Some(help) = help {
        text.push_str(&t!("diag.help", help = help));
        text.push('\n');
    }
    text
}

/// Every problem, then how many in how many files.
fn problems_text(problems: &[Diagnostic], within: Within) -> String {
    let mut text = String::new();
    for problem in problems {
        text.push_str(&problem.to_string());
        text.push('\n');
    }
    let files: std::collections::BTreeSet<&str> =
        problems.iter().map(|p| p.file.as_str()).collect();
    let problems = count(problems.len(), Noun::Problem);
    let files = count(files.len(), Noun::File);
    let line = match within {
        Within::Scenarios => t!(
            "error.problems_in_scenarios",
            problems = problems,
            files = files
        ),
        Within::CarrierFile => {
            t!(
                "error.problems_in_carrier_file",
                problems = problems,
                files = files
            )
        }
    };
    text.push_str(&line);
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io_error() -> io::Error {
        io::Error::new(io::ErrorKind::PermissionDenied, "denied")
    }

    #[test]
    fn usage_and_input_errors_exit_2_and_say_so() {
        let cases = [
            (
                AppError::NoCommand,
                "error: no scenario given\n\nUsage: simulate [OPTIONS] <PATH>...\n       simulate --help\n",
            ),
            (
                AppError::NoScenario,
                "error: no scenario given\n  help: name scenario files or folders, e.g. simulate run scenarios/\n",
            ),
            (
                AppError::Usage("give --carrier or a scenario".to_owned()),
                "error: give --carrier or a scenario\n",
            ),
            (
                AppError::Invalid {
                    message: "unknown carrier `x`".to_owned(),
                    help: Some("known: dada".to_owned()),
                },
                "error: unknown carrier `x`\n  help: known: dada\n",
            ),
            (
                AppError::MissingOpenid(vec!["a.yaml:3".to_owned(), "b.yaml:4".to_owned()]),
                "error: a.yaml:3, b.yaml:4 creates its order with order/add, which needs an openid\n  help: set \
                 `openid:` in the `order:` block or the environment variable WECHAT_OPENID (an admin, developer \
                 or operator of the Mini Program); nothing was sent\n",
            ),
            (
                AppError::FileExists(PathBuf::from("x.yaml")),
                "error: x.yaml exists; pass --force to overwrite it\n",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.render(), text);
            assert_eq!(error.exit_code(), exit::INVALID, "{text}");
        }
    }

    #[test]
    fn file_problems_are_listed_then_counted() {
        let problems = vec![
            Diagnostic::new("a.yaml", 2, 3, "bad").with_help("fix it"),
            Diagnostic::new("a.yaml", 4, 1, "worse"),
            Diagnostic::whole_file("b.yaml", "unreadable"),
        ];
        let error = AppError::InvalidFiles {
            problems,
            within: Within::Scenarios,
        };
        assert_eq!(
            error.render(),
            "a.yaml:2:3: error: bad\n  help: fix it\na.yaml:4:1: error: worse\nb.yaml: error: unreadable\n\
             3 problems in the scenarios (2 files); nothing was sent\n"
        );
        assert_eq!(error.exit_code(), exit::INVALID);
        let one = AppError::InvalidFiles {
            problems: vec![Diagnostic::new("c.yaml", 1, 1, "bad")],
            within: Within::CarrierFile,
        };
        assert_eq!(
            one.render(),
            "c.yaml:1:1: error: bad\n1 problem in the carrier file (1 file); nothing was sent\n"
        );
    }

    #[test]
    fn what_stops_a_run_from_starting_exits_3() {
        let cases = [
            (
                AppError::NoCredentials,
                "error: no access token\n  help: pass --access-token TOKEN or set WECHAT_ACCESS_TOKEN; or give \
                 --appid/--app-secret (WECHAT_APPID, WECHAT_APP_SECRET) to fetch one; or add --local to run \
                 against the embedded emulator (no token, no network)\n",
            ),
            (
                AppError::Client(CallError::Other("no TLS".to_owned())),
                "error: request failed: no TLS\n",
            ),
            (
                AppError::Runtime(io_error()),
                "error: cannot start the async runtime: denied\n",
            ),
            (
                AppError::Emulator(io_error()),
                "error: cannot start the local emulator: denied\n",
            ),
            (
                AppError::Serve {
                    addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
                    error: io_error(),
                },
                "error: cannot serve on 127.0.0.1:8080: denied\n",
            ),
            (
                AppError::ManPage(io_error()),
                "error: cannot render the man page: denied\n",
            ),
            (
                AppError::Write {
                    path: PathBuf::from("new.yaml"),
                    error: io_error(),
                },
                "error: cannot write new.yaml: denied\n",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.render(), text);
            assert_eq!(error.exit_code(), exit::COULD_NOT_RUN, "{text}");
        }
        let token = AppError::from(TokenError::Unavailable {
            endpoint: "http://127.0.0.1:9".to_owned(),
            detail: crate::run::token::NoToken::Request("refused".to_owned()),
            attempts: 1,
        });
        assert!(
            token
                .render()
                .starts_with("error: the token endpoint http://127.0.0.1:9/")
        );
        assert_eq!(token.exit_code(), exit::COULD_NOT_RUN);
    }

    #[test]
    fn unwritten_reports_are_each_named_and_keep_a_failed_runs_code() {
        let failures = || {
            vec![
                (PathBuf::from("r.json"), io_error()),
                (PathBuf::from("r.xml"), io_error()),
            ]
        };
        let passed = AppError::ReportsNotWritten {
            failures: failures(),
            run_code: exit::OK,
        };
        assert_eq!(
            passed.render(),
            "error: cannot write the report r.json: denied\nerror: cannot write the report r.xml: denied\n"
        );
        assert_eq!(passed.exit_code(), exit::COULD_NOT_RUN);
        for run_code in [exit::STEP_FAILED, exit::COULD_NOT_RUN, exit::INTERRUPTED] {
            let failed = AppError::ReportsNotWritten {
                failures: failures(),
                run_code,
            };
            assert_eq!(failed.exit_code(), run_code);
        }
    }
}
