//! From a parsed command line to an exit code: files → validated plan → timed execution → report.

pub mod cli;
mod commands;
mod error;
mod manual;
mod merge;
mod paths;
mod run;
mod select;
mod send;

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Parser;
use rust_i18n::t;

use crate::app::cli::{
    Cli, ColorChoice, Command, GlobalArgs, LangChoice, PushArgs, PushModeChoice, ReportCommand,
    RunArgs, SchemaChoice,
};
use crate::app::error::{AppError, Within};
use crate::base::diag::Diagnostic;
use crate::base::exit;
use crate::base::i18n;
use crate::describe;
use crate::emulator::PushSecurity;
use crate::model::carriers::Carriers;
use crate::model::plan::Plan;
use crate::model::statuses::Lang;
use crate::report::{self, Style};
use crate::run::retry::RetryPolicy;
use crate::scenario::{self, LoadContext};
use crate::wechat::push::{AesKey, AesKeyError, PushMode};

pub fn main() -> u8 {
    let cli = match parse_args(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(error) => {
            // clap prints help and version to stdout with success, usage errors to stderr.
            let _ = error.print();
            return if error.use_stderr() {
                exit::INVALID
            } else {
                exit::OK
            };
        }
    };
    init_tracing(cli.global.verbose, cli.global.color);
    i18n::set(lang(cli.global.lang));
    // The one place an error is printed: every command returns its error as a value.
    match start(cli) {
        Ok(code) => code,
        Err(error) => {
            error.print();
            error.exit_code()
        }
    }
}

/// Runs the command on a fresh async runtime; `Ok` holds the exit code it earned.
fn start(cli: Cli) -> Result<u8, AppError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(AppError::Runtime)?
        .block_on(dispatch(cli))
}

/// Parses the command line. `simulate --speed 10 run x.yaml` is read as `simulate run --speed
/// 10 x.yaml`: options may come before the subcommand's name.
pub fn parse_args(args: Vec<std::ffi::OsString>) -> Result<Cli, clap::Error> {
    use clap::CommandFactory;
    let first_try = Cli::try_parse_from(&args);
    if let Ok(cli) = &first_try
        && cli.command.is_some()
    {
        return first_try;
    }
    // Global options may come before the subcommand (`simulate -v statuses`, `simulate
    // --carriers c.yaml serve --addr …`): move the first word that names a subcommand to the
    // front and try again; if that does not parse either, the first answer stands.
    let names: Vec<String> = Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    let Some(at) = args
        .iter()
        .skip(1)
        .position(|a| names.iter().any(|n| a == n.as_str()))
    else {
        return first_try;
    };
    let mut reordered = args.clone();
    let word = reordered.remove(at + 1);
    reordered.insert(1, word);
    match Cli::try_parse_from(reordered) {
        Ok(cli) => Ok(cli),
        Err(_) => first_try,
    }
}

/// The command's exit code: the run's verdict for `run`, else 0 when it did what was asked.
async fn dispatch(cli: Cli) -> Result<u8, AppError> {
    let global = cli.global;
    match cli.command {
        Some(Command::Run(args)) => return run::run(&global, args).await,
        None if cli.run.paths.is_empty() && cli.run.rerun_failed.is_none() => {
            return Err(AppError::NoCommand);
        }
        None => {
            mistyped_command(&cli.run.paths)?;
            return run::run(&global, cli.run).await;
        }
        Some(Command::Send(args)) => return send::send(&global, args).await,
        Some(Command::Check(args)) => commands::check(&global, &args)?,
        Some(Command::Serve(args)) => commands::serve(&global, args).await?,
        Some(Command::Plan(args)) => commands::plan(&global, &args)?,
        Some(Command::New(args)) => commands::new_scenario(&global, &args)?,
        Some(Command::Carriers) => {
            report::print(&describe::carriers_table(&load_carriers(&global)?));
        }
        Some(Command::Statuses) => {
            report::print(&describe::statuses_table(i18n::current()));
        }
        Some(Command::Graph(args)) => commands::graph(&global, &args)?,
        Some(Command::Paths(args)) => paths::paths(&global, &args)?,
        Some(Command::Coverage(args)) => paths::coverage(&global, &args)?,
        Some(Command::Schema(args)) => match args.kind {
            SchemaChoice::Scenario => {
                report::print(&describe::scenario_schema_text(&load_carriers(&global)?));
            }
            // The shape of a carrier file does not depend on any carrier table.
            SchemaChoice::Carriers => report::print(&describe::carriers_schema_text()),
        },
        Some(Command::Completions(args)) => {
            let carriers = load_carriers(&global)?;
            report::print(&manual::completions(args.shell, &carriers));
        }
        Some(Command::Report(args)) => match args.command {
            ReportCommand::Merge(args) => return merge::merge(&global, &args),
        },
        Some(Command::Man(args)) => match &args.dir {
            None => report::print(&manual::main_page()?),
            Some(dir) => {
                for path in manual::write_pages(dir)? {
                    report::print(&format!("{}\n", path.display()));
                }
            }
        },
    }
    Ok(exit::OK)
}

/// `simulate chek` would look for a scenario file `chek`: when no such file exists and the word
/// is close to a command's name, say so instead.
fn mistyped_command(paths: &[std::path::PathBuf]) -> Result<(), AppError> {
    use clap::CommandFactory;
    let Some(first) = paths.first() else {
        return Ok(());
    };
    let word = first.to_string_lossy();
    if first.exists() || word.contains(['/', '.', '\\']) {
        return Ok(());
    }
    let command = Cli::command();
    let names = command.get_subcommands().map(|c| c.get_name());
    match crate::base::diag::did_you_mean(&word, names) {
        Some(name) => Err(AppError::MistypedCommand {
            word: word.into_owned(),
            command: name.to_owned(),
        }),
        None => Ok(()),
    }
}

fn init_tracing(verbose: u8, color: ColorChoice) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "warn,simulate=debug",
        _ => "warn,simulate=trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::base::console::err_writer)
        .with_ansi(colors_on(color, &std::io::stderr()))
        .with_target(false)
        .try_init();
}

fn load_carriers(global: &GlobalArgs) -> Result<Carriers, AppError> {
    Carriers::load(
        global.carriers.as_deref(),
        &crate::base::env::from_process(),
    )
    .map_err(|problems| AppError::InvalidFiles {
        problems,
        within: Within::CarrierFile,
    })
}

fn invalid_scenarios(problems: Vec<Diagnostic>) -> AppError {
    AppError::InvalidFiles {
        problems,
        within: Within::Scenarios,
    }
}

/// The carrier table and the plan of the scenarios under `paths` (this shard's share); the
/// warnings are printed.
fn load_plan(
    global: &GlobalArgs,
    paths: &[PathBuf],
    shard: Option<(usize, usize)>,
    seed: u64,
) -> Result<(Carriers, Plan), AppError> {
    let (carriers, plan, warnings) = load_plan_warned(global, paths, shard, seed, false)?;
    print_warnings(&warnings);
    Ok((carriers, plan))
}

/// Warnings about scenario files on stderr, each at its place.
fn print_warnings(warnings: &[Diagnostic]) {
    for warning in warnings {
        crate::base::console::err(&crate::base::text::terminal_safe(&format!(
            "{}\n",
            warning.warning_text()
        )));
    }
}

/// As [`load_plan`], with the warnings returned instead of printed: a fixed `shop_order_id`,
/// and with `allow_missing_env` each `${VAR}` that is not set.
fn load_plan_warned(
    global: &GlobalArgs,
    paths: &[PathBuf],
    shard: Option<(usize, usize)>,
    seed: u64,
    allow_missing_env: bool,
) -> Result<(Carriers, Plan, Vec<Diagnostic>), AppError> {
    if paths.is_empty() {
        return Err(AppError::NoScenario);
    }
    let carriers = load_carriers(global)?;
    let mut ctx = LoadContext::from_process_env(chrono::Utc::now());
    ctx.seed = seed;
    ctx.max_steps = global.max_steps;
    ctx.allow_missing_env = allow_missing_env;
    let files = match shard {
        None => paths.to_vec(),
        Some((index, count)) => {
            let files = scenario::collect_files(paths).map_err(invalid_scenarios)?;
            shard_files(files, index, count)
        }
    };
    if files.is_empty() {
        // A shard may be empty when there are fewer files than shards. A notice, not an error.
        crate::base::console::err("simulate: no scenario in this shard; nothing to do\n");
        let plan = Plan {
            carriers_version: carriers.version.clone(),
            seed,
            scenarios: Vec::new(),
        };
        return Ok((carriers, plan, Vec::new()));
    }
    let (plan, mut warnings) =
        scenario::load_plan_with_warnings(&files, &carriers, &ctx).map_err(invalid_scenarios)?;
    for scenario in plan
        .scenarios
        .iter()
        .filter(|s| s.fixed_order_id && s.repetition.is_none_or(|(k, _)| k == 1))
    {
        warnings.push(
            Diagnostic::whole_file(
                scenario.file.clone(),
                rust_i18n::t!("check.fixed_order_id", id = scenario.shop_order_id),
            )
            .with_help(rust_i18n::t!("check.fixed_order_id_help")),
        );
    }
    Ok((carriers, plan, warnings))
}

/// The plan of a run's scenarios: the paths given, or the files of `--rerun-failed`'s
/// report, narrowed to what that report and `--only` select.
fn load_selected_plan(
    global: &GlobalArgs,
    args: &RunArgs,
    seed: u64,
) -> Result<(Carriers, Plan), AppError> {
    let (carriers, plan) = load_selected_files(global, args, seed)?;
    Ok((carriers, on_order(plan, args.order.as_deref())?))
}

/// `--order`: the run's one scenario plays that order, which exists already.
fn on_order(mut plan: Plan, order: Option<&str>) -> Result<Plan, AppError> {
    let Some(order) = order.map(str::trim) else {
        return Ok(plan);
    };
    if order.is_empty() || order.len() > scenario::MAX_SHOP_ORDER_ID_BYTES {
        return Err(AppError::Usage(t!("run_order.empty").into_owned()));
    }
    if let Some(scenario) = plan
        .scenarios
        .iter()
        .find(|s| s.repetition.is_some_and(|(_, n)| n > 1))
    {
        return Err(AppError::Invalid {
            message: t!(
                "run_order.repeat",
                file = scenario.file,
                repeat = scenario.repetition.map_or(1, |(_, n)| n)
            )
            .into_owned(),
            help: Some(t!("run_order.repeat_help").into_owned()),
        });
    }
    if plan.scenarios.len() > 1 {
        let names: Vec<&str> = plan.scenarios.iter().map(|s| s.name.as_str()).collect();
        return Err(AppError::Invalid {
            message: t!(
                "run_order.many",
                count = plan.scenarios.len(),
                names = names.join(", ")
            )
            .into_owned(),
            help: Some(t!("run_order.many_help").into_owned()),
        });
    }
    for scenario in &mut plan.scenarios {
        scenario.shop_order_id = order.to_owned();
        scenario.fixed_order_id = false;
        // The order exists: creating it again would be refused (930562).
        if scenario.order.take().is_some() {
            crate::base::console::err(&crate::base::text::terminal_safe(&format!(
                "{}\n",
                t!(
                    "run_order.skips_create",
                    order = order,
                    file = scenario.file
                )
            )));
        }
    }
    Ok(plan)
}

/// The paths given, or the files of `--rerun-failed`'s report, narrowed to what that report
/// and `--only` select.
fn load_selected_files(
    global: &GlobalArgs,
    args: &RunArgs,
    seed: u64,
) -> Result<(Carriers, Plan), AppError> {
    let Some(report) = &args.rerun_failed else {
        let (carriers, plan) = load_plan(global, &args.paths, args.shard, seed)?;
        return Ok((carriers, select::select(plan, None, &args.only)?));
    };
    if !args.paths.is_empty() {
        return Err(AppError::Usage(
            rust_i18n::t!("select.paths_and_rerun").into_owned(),
        ));
    }
    let rerun = select::failed_in(report)?;
    if rerun.files.is_empty() {
        // As an empty shard: the reports are still written, with nothing in them.
        let notice = rust_i18n::t!(
            "select.nothing_to_rerun",
            path = report.display().to_string()
        );
        crate::base::console::err(&format!("{notice}\n"));
        let carriers = load_carriers(global)?;
        let plan = Plan {
            carriers_version: carriers.version.clone(),
            seed,
            scenarios: Vec::new(),
        };
        return Ok((carriers, plan));
    }
    let (carriers, plan) = load_plan(global, &rerun.files, args.shard, seed)?;
    let plan = select::select(plan, Some((report, &rerun)), &args.only)?;
    Ok((carriers, plan))
}

/// Longer than this, at the run's `--speed`, and the run gets a warning before it starts.
const LONG_RUN: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Warns when `--speed` (below 1) stretches the run past [`LONG_RUN`] of wall-clock time:
/// `--speed 0.001` planned the 20-minute sample over 14 days without a word.
fn warn_long_run(plan: &Plan, speed: crate::base::pace::Speed) {
    if let Some(text) = long_run_warning(plan, speed) {
        crate::base::console::err(&crate::base::text::terminal_safe(&text));
    }
}

fn long_run_warning(plan: &Plan, speed: crate::base::pace::Speed) -> Option<String> {
    let (scenario, last) = plan
        .scenarios
        .iter()
        .filter_map(|s| Some((s, s.steps.last()?.planned_offset(speed))))
        .max_by_key(|(_, d)| *d)?;
    (last > LONG_RUN).then(|| {
        let warning = t!(
            "run.long_run",
            speed = speed,
            lasts =
                crate::base::duration::format_duration(crate::base::duration::round_to_ms(last)),
            name = scenario.name
        );
        let help = t!("diag.help", help = t!("run.long_run_help"));
        format!("{warning}\n{help}\n")
    })
}

/// Share `index` (1-based) of `count` of the files: every count-th file by path.
pub fn shard_files(mut files: Vec<PathBuf>, index: usize, count: usize) -> Vec<PathBuf> {
    files.sort();
    files
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % count == index - 1)
        .map(|(_, f)| f)
        .collect()
}

fn style(choice: ColorChoice) -> Style {
    Style {
        color: colors_on(choice, &std::io::stdout()),
    }
}

/// `--color`, else colours only on a terminal and without `NO_COLOR`.
fn colors_on(choice: ColorChoice, stream: &impl IsTerminal) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && stream.is_terminal()
        }
    }
}

/// `--lang`, else the locale's language.
fn lang(choice: Option<LangChoice>) -> Lang {
    match choice {
        Some(LangChoice::En) => Lang::En,
        Some(LangChoice::Zh) => Lang::Zh,
        None => Lang::from_locale(|name| std::env::var(name).ok()),
    }
}

/// The merchant's push settings from `--push-token`, `--push-mode` and `--aes-key`, for pushes
/// sent as `appid`'s. Messages name the flags, never the values.
fn push_format(push: &PushArgs) -> crate::emulator::PushFormat {
    match push.callback_format {
        cli::PushFormatChoice::Json => crate::emulator::PushFormat::Json,
        cli::PushFormatChoice::Xml => crate::emulator::PushFormat::Xml,
    }
}

fn push_security(
    push: &PushArgs,
    appid: &str,
    has_callback: bool,
) -> Result<PushSecurity, AppError> {
    let mode = match push.push_mode {
        PushModeChoice::Plain => PushMode::Plain,
        PushModeChoice::Compat => PushMode::Compat,
        PushModeChoice::Safe => PushMode::Safe,
    };
    let token = match &push.push_token {
        Some(token) if token.expose().trim().is_empty() => {
            return Err(AppError::Usage(t!("error.push_token_empty").into_owned()));
        }
        Some(token) if token.expose().chars().any(|c| !c.is_ascii_alphanumeric()) => {
            return Err(AppError::Usage(t!("error.push_token_chars").into_owned()));
        }
        other => other.clone(),
    };
    // The MP console will not save compatible or safe mode without a Token.
    if token.is_none() && mode != PushMode::Plain {
        return Err(AppError::Usage(
            t!("error.push_token_missing", mode = mode.name()).into_owned(),
        ));
    }
    if token.is_none() && has_callback {
        crate::base::console::err(&format!("{}\n", t!("warning.push_token_empty")));
    }
    let aes_key = match (&push.aes_key, mode.encrypts()) {
        (None, true) => {
            return Err(AppError::Usage(
                t!("error.aes_key_missing", mode = mode.name()).into_owned(),
            ));
        }
        (None, false) => None,
        (Some(key), _) => Some(AesKey::parse(key).map_err(|why| {
            AppError::Usage(
                match why {
                    AesKeyError::Length(length) => t!("error.aes_key_length", length = length),
                    AesKeyError::NotBase64 => t!("error.aes_key_not_base64"),
                }
                .into_owned(),
            )
        })?),
    };
    Ok(PushSecurity {
        token,
        mode,
        aes_key,
        appid: appid.to_owned(),
    })
}

fn retry_policy(args: &RunArgs) -> RetryPolicy {
    RetryPolicy {
        retries: args.retries,
        base: args.retry_backoff,
        max_wait: args.retry_max_wait,
        quota_wait: args.quota_wait,
        ..RetryPolicy::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        match parse_args(args.iter().map(std::ffi::OsString::from).collect()) {
            Ok(cli) => cli,
            Err(error) => panic!("{args:?}: {error}"),
        }
    }

    #[test]
    fn options_may_come_before_the_subcommand() {
        let cli = parse(&["simulate", "--speed", "10", "run", "a.yaml"]);
        let Some(Command::Run(run)) = cli.command else {
            panic!("not run")
        };
        assert_eq!(run.speed.get(), 10.0);
        assert_eq!(run.paths, [std::path::PathBuf::from("a.yaml")]);
        let cli = parse(&["simulate", "-q", "check", "a.yaml"]);
        assert!(matches!(cli.command, Some(Command::Check(_))));
        assert!(cli.global.quiet);
        let cli = parse(&["simulate", "-v", "--carriers", "c.yaml", "statuses"]);
        assert!(matches!(cli.command, Some(Command::Statuses)));
        assert_eq!(cli.global.verbose, 1);
        let cli = parse(&["simulate", "--color", "never", "carriers"]);
        assert!(matches!(cli.command, Some(Command::Carriers)));
        let cli = parse(&[
            "simulate",
            "--carriers",
            "c.yaml",
            "serve",
            "--addr",
            "127.0.0.1:0",
        ]);
        assert!(matches!(cli.command, Some(Command::Serve(_))));
        let cli = parse(&["simulate", "-q", "graph", "--carrier", "dada"]);
        assert!(matches!(cli.command, Some(Command::Graph(_))));
        let cli = parse(&["simulate", "a.yaml", "b.yaml"]);
        assert!(cli.command.is_none());
        assert_eq!(cli.run.paths.len(), 2);
    }

    #[test]
    fn shards_split_files_by_path_without_overlap() {
        let files: Vec<PathBuf> = ["d.yaml", "a.yaml", "c.yaml", "b.yaml", "e.yaml"]
            .iter()
            .map(PathBuf::from)
            .collect();
        let shards: Vec<Vec<PathBuf>> = (1..=2).map(|i| shard_files(files.clone(), i, 2)).collect();
        assert_eq!(shards[0], ["a.yaml", "c.yaml", "e.yaml"].map(PathBuf::from));
        assert_eq!(shards[1], ["b.yaml", "d.yaml"].map(PathBuf::from));
        assert_eq!(shard_files(files.clone(), 1, 1).len(), 5);
        assert!(shard_files(files, 7, 7).is_empty());
    }
}
