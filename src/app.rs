//! From a parsed command line to an exit code: files → validated plan → timed execution → report.

use std::io::IsTerminal;
use std::sync::Arc;

use clap::Parser;
use tokio::sync::{mpsc, watch};

use crate::carriers::Carriers;
use crate::cli::{
    CheckArgs, Cli, ColorChoice, Command, GlobalArgs, GraphArgs, GraphFormatChoice, LangChoice,
    NewArgs, PathChoice, PlanArgs, PushFormatChoice, RunArgs, ServeArgs,
};
use crate::describe::{self, GraphFormat};
use crate::duration::format_duration;
use crate::new::{self, PathKind};
use crate::plan::Expect;
use crate::statuses::Status;
use crate::timeline::{self, TimelineOptions};
use std::path::PathBuf;

use crate::client::{Client, Timeouts};
use crate::diag::Diagnostic;
use crate::emulator::{self, Emulator};
use crate::exit;
use crate::plan::Plan;
use crate::report::live::Live;
use crate::report::{self, Console, ReportContext, Style};
use crate::retry::RetryPolicy;
use crate::runner::{self, RunOptions};
use crate::scenario::{self, LoadContext};
use crate::secret::Secret;
use crate::statuses::Lang;
use crate::token::TokenSource;

/// The whole program; `main` only turns the result into the process's exit code.
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
    init_tracing(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return exit::COULD_NOT_RUN;
        }
    };
    runtime.block_on(dispatch(cli))
}

/// Parses the command line. `simulate --speed 10 run x.yaml` is read as `simulate run --speed
/// 10 x.yaml`: options may come before the subcommand's name.
pub fn parse_args(args: Vec<std::ffi::OsString>) -> Result<Cli, clap::Error> {
    let cli = Cli::try_parse_from(&args)?;
    let named = |word: &std::path::Path| {
        ["run", "check", "serve"]
            .iter()
            .any(|c| word == std::path::Path::new(c))
    };
    match cli.run.paths.first() {
        Some(first) if cli.command.is_none() && named(first) => {
            let mut reordered = args;
            if let Some(at) = reordered
                .iter()
                .skip(1)
                .position(|a| std::path::Path::new(a) == first)
            {
                let word = reordered.remove(at + 1);
                reordered.insert(1, word);
            }
            Cli::try_parse_from(reordered)
        }
        _ => Ok(cli),
    }
}

async fn dispatch(cli: Cli) -> u8 {
    let global = cli.global;
    match cli.command {
        Some(Command::Run(args)) => run(&global, args).await,
        Some(Command::Check(args)) => check(&global, &args),
        Some(Command::Serve(args)) => serve(&global, args).await,
        Some(Command::Plan(args)) => plan(&global, &args),
        Some(Command::New(args)) => new_scenario(&global, &args),
        Some(Command::Carriers) => match load_carriers(&global) {
            Ok(carriers) => {
                report::print(&describe::carriers_table(&carriers));
                exit::OK
            }
            Err(code) => code,
        },
        Some(Command::Statuses(args)) => {
            report::print(&describe::statuses_table(lang(args.lang)));
            exit::OK
        }
        Some(Command::Graph(args)) => graph(&global, &args),
        Some(Command::Schema) => match load_carriers(&global) {
            Ok(carriers) => {
                report::print(&describe::scenario_schema_text(&carriers));
                exit::OK
            }
            Err(code) => code,
        },
        Some(Command::Completions(args)) => {
            use clap::CommandFactory;
            let mut out = Vec::new();
            clap_complete::generate(args.shell, &mut Cli::command(), "simulate", &mut out);
            report::print(&String::from_utf8_lossy(&out));
            exit::OK
        }
        Some(Command::Man) => {
            use clap::CommandFactory;
            let mut out = Vec::new();
            match clap_mangen::Man::new(Cli::command()).render(&mut out) {
                Ok(()) => {
                    report::print(&String::from_utf8_lossy(&out));
                    exit::OK
                }
                Err(error) => {
                    eprintln!("error: cannot render the man page: {error}");
                    exit::COULD_NOT_RUN
                }
            }
        }
        None if cli.run.paths.is_empty() => {
            eprintln!(
                "error: no scenario given\n\nUsage: simulate [OPTIONS] <PATH>...\n       simulate --help"
            );
            exit::INVALID
        }
        None => run(&global, cli.run).await,
    }
}

fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "warn,simulate=debug",
        _ => "warn,simulate=trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn load_carriers(global: &GlobalArgs) -> Result<Carriers, u8> {
    Carriers::load(global.carriers.as_deref()).map_err(|problems| {
        print_problems(&problems, "in the carrier file");
        exit::INVALID
    })
}

fn print_problems(problems: &[Diagnostic], context: &str) {
    let mut text = String::new();
    for problem in problems {
        text.push_str(&problem.to_string());
        text.push('\n');
    }
    let files: std::collections::BTreeSet<&str> =
        problems.iter().map(|p| p.file.as_str()).collect();
    text.push_str(&format!(
        "{} problem{} {context} ({} file{}); nothing was sent\n",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        files.len(),
        if files.len() == 1 { "" } else { "s" },
    ));
    eprint!("{text}");
}

fn load_plan(
    global: &GlobalArgs,
    paths: &[PathBuf],
    shard: Option<(usize, usize)>,
    seed: u64,
) -> Result<Plan, u8> {
    let carriers = load_carriers(global)?;
    let mut ctx = LoadContext::from_process_env(chrono::Utc::now());
    ctx.seed = seed;
    let files = match shard {
        None => paths.to_vec(),
        Some((index, count)) => match scenario::collect_files(paths) {
            Ok(files) => shard_files(files, index, count),
            Err(problems) => {
                print_problems(&problems, "in the scenarios");
                return Err(exit::INVALID);
            }
        },
    };
    if files.is_empty() {
        // A shard may be empty when there are fewer files than shards.
        eprintln!("simulate: no scenario in this shard; nothing to do");
        return Ok(Plan {
            carriers_version: carriers.version.clone(),
            seed,
            scenarios: Vec::new(),
        });
    }
    let plan = scenario::load_plan(&files, &carriers, &ctx).map_err(|problems| {
        print_problems(&problems, "in the scenarios");
        exit::INVALID
    })?;
    for scenario in plan
        .scenarios
        .iter()
        .filter(|s| s.fixed_order_id && s.repetition.is_none_or(|(k, _)| k == 1))
    {
        eprintln!(
            "warning: {}: shop_order_id `{}` is the same in every run; the platform refuses to move an order \
             that has ended and limits order calls per day\n  help: add {{{{run_id}}}} to give each run its own",
            scenario.file, scenario.shop_order_id
        );
    }
    Ok(plan)
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

fn check(global: &GlobalArgs, args: &CheckArgs) -> u8 {
    match load_plan(global, &args.paths, None, 0) {
        Ok(plan) => {
            let steps: usize = plan.scenarios.iter().map(|s| s.steps.len()).sum();
            if !global.quiet {
                for scenario in &plan.scenarios {
                    report::print(&format!(
                        "ok  {} ({}, {} steps)\n",
                        scenario.file,
                        scenario.carrier.id,
                        scenario.steps.len()
                    ));
                }
            }
            report::print(&format!(
                "{} scenario{} and {steps} steps are valid (carrier table {})\n",
                plan.scenarios.len(),
                if plan.scenarios.len() == 1 { "" } else { "s" },
                plan.carriers_version
            ));
            exit::OK
        }
        Err(code) => code,
    }
}

fn style(choice: ColorChoice) -> Style {
    let color = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    };
    Style { color }
}

fn lang(choice: LangChoice) -> Lang {
    match choice {
        LangChoice::En => Lang::En,
        LangChoice::Zh => Lang::Zh,
    }
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

fn plan(global: &GlobalArgs, args: &PlanArgs) -> u8 {
    let run = &args.run;
    let seed = run.seed.unwrap_or_else(scenario::random_seed);
    let plan = match load_plan(global, &run.paths, run.shard, seed) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    let options = TimelineOptions {
        now: chrono::Local::now(),
        endpoint: if run.local {
            "the local emulator (a loopback port chosen at start)".to_owned()
        } else {
            run.endpoint.clone()
        },
        speed: run.speed,
        lang: lang(run.lang),
        curl: args.curl,
        timeouts: format!(
            "connect {}, total {}",
            format_duration(run.connect_timeout),
            format_duration(run.timeout)
        ),
        retries: retry_policy(run).describe(),
    };
    report::print(&timeline::render(&plan, &options));
    exit::OK
}

fn new_scenario(global: &GlobalArgs, args: &NewArgs) -> u8 {
    let carriers = match load_carriers(global) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let path = match args.path {
        PathChoice::Happy => PathKind::Happy,
        PathChoice::Unreachable => PathKind::Unreachable,
        PathChoice::Refused => PathKind::Refused,
        PathChoice::Cancel => PathKind::Cancel,
    };
    let text = match new::new_scenario(&carriers, &args.carrier, path) {
        Ok(text) => text,
        Err(why) => {
            eprintln!("error: {why}");
            return exit::INVALID;
        }
    };
    let Some(file) = &args.file else {
        report::print(&text);
        return exit::OK;
    };
    if file.exists() && !args.force {
        eprintln!(
            "error: {} exists; pass --force to overwrite it",
            file.display()
        );
        return exit::INVALID;
    }
    match std::fs::write(file, text) {
        Ok(()) => {
            eprintln!(
                "wrote {}; check it with: simulate check {}",
                file.display(),
                file.display()
            );
            exit::OK
        }
        Err(error) => {
            eprintln!("error: cannot write {}: {error}", file.display());
            exit::COULD_NOT_RUN
        }
    }
}

fn graph(global: &GlobalArgs, args: &GraphArgs) -> u8 {
    let carriers = match load_carriers(global) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let format = match args.format {
        GraphFormatChoice::Mermaid => GraphFormat::Mermaid,
        GraphFormatChoice::Dot => GraphFormat::Dot,
    };
    let scenario = match &args.scenario {
        Some(path) => match load_plan(global, std::slice::from_ref(path), None, 0) {
            Ok(plan) => plan.scenarios.into_iter().next(),
            Err(code) => return code,
        },
        None => None,
    };
    let carrier = match (&args.carrier, &scenario) {
        (Some(name), _) => match carriers.find(name) {
            Some(carrier) => carrier.clone(),
            None => {
                let hint = carriers
                    .suggest(name)
                    .map(|s| format!("did you mean `{s}`? "))
                    .unwrap_or_default();
                eprintln!(
                    "error: unknown carrier `{name}`\n  help: {hint}{}",
                    carriers.describe_known()
                );
                return exit::INVALID;
            }
        },
        (None, Some(scenario)) => scenario.carrier.clone(),
        (None, None) => {
            eprintln!("error: give --carrier or a scenario");
            return exit::INVALID;
        }
    };
    // The path an order follows: from 101 through every step that moves it.
    let path: Option<Vec<Status>> = scenario.map(|s| {
        std::iter::once(Status::INITIAL)
            .chain(
                s.steps
                    .iter()
                    .filter(|st| st.expect == Expect::Ok)
                    .map(|st| st.status),
            )
            .collect()
    });
    report::print(&describe::graph(&carrier, format, path.as_deref()));
    exit::OK
}

/// The openid `order/add` carries against the local emulator when a scenario gives none.
const LOCAL_OPENID: &str = "simulate-local-openid";

/// Where the calls go and with which credentials.
struct Target {
    endpoint: String,
    tokens: TokenSource,
    /// Kept alive for the whole run when --local.
    local: Option<Emulator>,
}

async fn target(global: &GlobalArgs, args: &RunArgs) -> Result<Target, u8> {
    if args.local {
        let carriers = Arc::new(load_carriers(global)?);
        let config = emulator::Config {
            auto_create: true,
            callback: args.callback.clone(),
            ..emulator::Config::default()
        };
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        return match Emulator::start(addr, carriers, config).await {
            Ok(started) => Ok(Target {
                endpoint: started.base_url(),
                tokens: TokenSource::Fixed(started.issue_token()),
                local: Some(started),
            }),
            Err(error) => {
                eprintln!("error: cannot start the local emulator: {error}");
                Err(exit::COULD_NOT_RUN)
            }
        };
    }
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    };
    let tokens = match (
        given(&args.access_token),
        given(&args.appid),
        given(&args.app_secret),
    ) {
        (Some(token), _, _) => TokenSource::Fixed(Secret::new(token)),
        (None, Some(appid), Some(secret)) => {
            match TokenSource::stable(&args.endpoint, appid, Secret::new(secret), args.timeout) {
                Ok(source) => source,
                Err(error) => {
                    eprintln!("error: {error}");
                    return Err(exit::COULD_NOT_RUN);
                }
            }
        }
        _ => {
            eprintln!(
                "error: no access token\n  help: pass --access-token TOKEN or set WECHAT_ACCESS_TOKEN; or give \
                 --appid/--app-secret (WECHAT_APPID, WECHAT_APP_SECRET) to fetch one; or add --local to run \
                 against the embedded emulator (no token, no network)"
            );
            return Err(exit::COULD_NOT_RUN);
        }
    };
    Ok(Target {
        endpoint: args.endpoint.clone(),
        tokens,
        local: None,
    })
}

async fn run(global: &GlobalArgs, args: RunArgs) -> u8 {
    // Printed in the header and the reports, so a run can be repeated with --seed.
    let seed = args
        .seed
        .unwrap_or_else(|| uuid::Uuid::new_v4().as_u64_pair().0 % 1_000_000);
    let plan = match load_plan(global, &args.paths, args.shard, seed) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    let timeouts = Timeouts {
        connect: args.connect_timeout,
        total: args.timeout,
    };
    // WeChat's order/add needs the openid of a user of the Mini Program; only the emulator
    // does without one.
    if !args.local {
        let missing: Vec<String> = plan
            .scenarios
            .iter()
            .filter_map(|s| {
                let order = s.order.as_ref()?;
                order
                    .openid
                    .is_none()
                    .then(|| format!("{}:{}", s.file, order.line))
            })
            .collect();
        if !missing.is_empty() {
            eprintln!(
                "error: {} creates its order with order/add, which needs an openid\n  help: set `openid:` in the \
                 `order:` block or the environment variable WECHAT_OPENID (an admin, developer or operator of the \
                 Mini Program); nothing was sent",
                missing.join(", ")
            );
            return exit::INVALID;
        }
    }
    let Target {
        endpoint,
        tokens,
        local,
    } = match target(global, &args).await {
        Ok(target) => target,
        Err(code) => return code,
    };
    let client = match Client::new(&endpoint, timeouts) {
        Ok(client) => client,
        Err(error) => {
            eprintln!("error: {error}");
            return exit::COULD_NOT_RUN;
        }
    };
    // Before anything is sent: a bad credential ends the run here, not at every step.
    let tokens = Arc::new(tokens);
    if let Err(error) = tokens.get().await {
        eprintln!("error: {error}");
        return exit::COULD_NOT_RUN;
    }
    let jsonl = args.events.is_some();
    let console = Console {
        style: style(global.color),
        quiet: global.quiet,
        lang: lang(args.lang),
    };
    // With --events jsonl, stdout carries only JSON lines; people read stderr.
    let human = move |text: &str| {
        if jsonl {
            eprint!("{text}");
        } else {
            report::print(text);
        }
    };
    if !global.quiet {
        let steps: usize = plan.scenarios.iter().map(|s| s.steps.len()).sum();
        let target = if local.is_some() {
            format!("the LOCAL EMULATOR at {endpoint} (not WeChat)")
        } else {
            endpoint.clone()
        };
        human(&format!(
            "simulate: {} scenario{}, {steps} steps against {target}; carrier table {}, seed {seed}{}\n",
            plan.scenarios.len(),
            if plan.scenarios.len() == 1 { "" } else { "s" },
            plan.carriers_version,
            if args.speed == 1.0 {
                String::new()
            } else {
                format!(", speed ×{}", args.speed)
            }
        ));
    }

    let (cancel_tx, cancel_rx) = watch::channel(false);
    let signals = tokio::spawn(async move {
        wait_for_interrupt().await;
        let _ = cancel_tx.send(true);
    });
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let printer_plan = plan.clone();
    // The live view needs a terminal and room; CI logs get plain timestamped lines.
    let live_view = !jsonl
        && !global.quiet
        && std::io::stdout().is_terminal()
        && plan.scenarios.len() <= report::live::MAX_ORDERS;
    let speed = args.speed;
    let printer = tokio::spawn(async move {
        let plan = printer_plan;
        let mut live = live_view.then(|| Live::new(&plan, console.style, console.lang, speed));
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
        loop {
            tokio::select! {
                event = events_rx.recv() => {
                    let Some(event) = event else { break };
                    if jsonl && let Some(line) = report::events::line(&plan, &event) {
                        report::print(&format!("{line}\n"));
                    }
                    match live.as_mut() {
                        Some(live) => live.on_event(&plan, &event),
                        None => {
                            if let Some(line) = console.event_line(&plan, &event) {
                                human(&format!("{line}\n"));
                            }
                        }
                    }
                }
                _ = tick.tick(), if live.is_some() => {
                    if let Some(live) = live.as_mut() {
                        live.refresh(&plan);
                    }
                }
            }
        }
        if let Some(live) = live {
            live.finish(&plan);
        }
    });
    let options = RunOptions {
        speed: args.speed,
        retry: retry_policy(&args),
        rate: args.rate,
        jobs: args.jobs.and_then(|j| usize::try_from(j).ok()),
        fail_fast: args.fail_fast,
        verify: args.verify,
        seed,
        // The emulator takes any openid; WeChat needs a real one (checked before the run).
        fallback_openid: args.local.then(|| LOCAL_OPENID.to_owned()),
    };
    let record = runner::run(
        &plan,
        &client,
        tokens.clone(),
        options,
        events_tx,
        cancel_rx,
    )
    .await;
    signals.abort();
    let _ = printer.await;
    human(&console.summary(&plan, &record));
    if record.credentials_refused {
        human(&format!(
            "the run stopped: the platform refused the credentials; check {}\n",
            if tokens.can_renew() {
                "--appid/--app-secret (WECHAT_APPID, WECHAT_APP_SECRET)"
            } else {
                "--access-token / WECHAT_ACCESS_TOKEN"
            }
        ));
    }
    if let Some(emulator) = local {
        // Pushes to --callback go out after the answers: let them arrive (WeChat's rule:
        // 3 attempts of 5 s at most) before the emulator stops.
        emulator
            .drain_pushes(std::time::Duration::from_secs(16))
            .await;
        emulator.shutdown().await;
    }
    let code = report::exit_code(&record);
    let ctx = ReportContext {
        endpoint,
        local: args.local,
        timeouts,
        exit_code: code,
    };
    let mut written = true;
    if let Some(path) = &args.report_json {
        let text = serde_json::to_string_pretty(&report::json::report(&plan, &record, &ctx))
            .unwrap_or_default();
        written &= write_report(path, &(text + "\n"));
    }
    if let Some(path) = &args.report_html {
        written &= write_report(
            path,
            &report::html::report(&plan, &record, &ctx, console.lang),
        );
    }
    if let Some(path) = &args.report_junit {
        match report::junit::report(&plan, &record) {
            Ok(text) => written &= write_report(path, &text),
            Err(error) => {
                eprintln!("error: cannot build the JUnit report: {error}");
                written = false;
            }
        }
    }
    if written || code != exit::OK {
        code
    } else {
        exit::COULD_NOT_RUN
    }
}

fn write_report(path: &std::path::Path, text: &str) -> bool {
    match std::fs::write(path, text) {
        Ok(()) => true,
        Err(error) => {
            eprintln!("error: cannot write the report {}: {error}", path.display());
            false
        }
    }
}

/// Ctrl-C anywhere; SIGTERM too on Unix.
async fn wait_for_interrupt() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn serve(global: &GlobalArgs, args: ServeArgs) -> u8 {
    let carriers = match load_carriers(global) {
        Ok(c) => Arc::new(c),
        Err(code) => return code,
    };
    let mut config = emulator::Config {
        token_ttl: args.token_ttl,
        auto_create: args.auto_create,
        callback: args.callback,
        callback_format: match args.callback_format {
            PushFormatChoice::Json => emulator::PushFormat::Json,
            PushFormatChoice::Xml => emulator::PushFormat::Xml,
        },
        seed: args.seed,
        ..emulator::Config::default()
    };
    if !args.apps.is_empty() {
        config.apps = args.apps;
    }
    if let Some(faults) = args.faults {
        config.faults = faults;
    }
    match emulator::serve(args.addr, carriers, config).await {
        Ok(()) => exit::OK,
        Err(error) => {
            eprintln!("error: cannot serve on {}: {error}", args.addr);
            exit::COULD_NOT_RUN
        }
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
        assert_eq!(run.speed, 10.0);
        assert_eq!(run.paths, [std::path::PathBuf::from("a.yaml")]);
        let cli = parse(&["simulate", "-q", "check", "a.yaml"]);
        assert!(matches!(cli.command, Some(Command::Check(_))));
        assert!(cli.global.quiet);
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
