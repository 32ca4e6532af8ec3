//! `simulate run`: credentials, the run itself with its live output, and the reports.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::{lang, load_carriers, load_plan, retry_policy, style};
use crate::app::cli::{GlobalArgs, RunArgs};
use crate::base::exit;
use crate::base::pace::Speed;
use crate::base::secret::Secret;
use crate::base::text::plural;
use crate::emulator::{self, Emulator};
use crate::model::plan::Plan;
use crate::model::statuses::Lang;
use crate::report::live::Live;
use crate::report::{self, Console, ReportContext};
use crate::run::client::{Client, Timeouts};
use crate::run::token::TokenSource;
use crate::run::{self as runner, RunOptions, RunRecord};
use crate::scenario;

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
                // A busy token endpoint is retried like any call, with the run's policy.
                Ok(source) => source.with_retry(retry_policy(args)),
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

pub(super) async fn run(global: &GlobalArgs, args: RunArgs) -> u8 {
    // Printed in the header and the reports, so a run can be repeated with --seed.
    let seed = args.seed.unwrap_or_else(scenario::random_seed);
    let plan = match load_plan(global, &args.paths, args.shard, seed) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    if !args.local
        && let Err(code) = require_openids(&plan)
    {
        return code;
    }
    let timeouts = Timeouts {
        connect: args.connect_timeout,
        total: args.timeout,
    };
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
    let output = Output {
        console: Console {
            style: style(global.color),
            quiet: global.quiet,
            lang: lang(args.lang),
            local: args.local,
        },
        jsonl: args.events.is_some(),
        endpoint: endpoint.clone(),
    };
    if !global.quiet {
        let target = if local.is_some() {
            format!("the LOCAL EMULATOR at {endpoint} (not WeChat)")
        } else {
            endpoint.clone()
        };
        output.human(&header(&plan, &target, seed, args.speed));
    }

    let (cancel_tx, cancel_rx) = watch::channel(false);
    let signals = tokio::spawn(async move {
        wait_for_interrupt().await;
        let _ = cancel_tx.send(true);
    });
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    // The live view needs a terminal and room; CI logs get plain timestamped lines.
    let live_view = !output.jsonl
        && !global.quiet
        && std::io::stdout().is_terminal()
        && plan.scenarios.len() <= report::live::MAX_ORDERS;
    let printer = tokio::spawn(print_events(
        plan.clone(),
        output.clone(),
        live_view,
        args.speed,
        events_rx,
    ));
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
    output.human(&output.console.summary(&plan, &record));
    if record.credentials_refused {
        output.human(&format!(
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
        if !record.interrupted {
            emulator.drain_pushes(Duration::from_secs(16)).await;
        }
        emulator.shutdown().await;
    }
    let code = report::exit_code(&record);
    let ctx = ReportContext {
        endpoint,
        local: args.local,
        timeouts,
        exit_code: code,
    };
    if write_reports(&args, &plan, &record, &ctx, output.console.lang) || code != exit::OK {
        code
    } else {
        exit::COULD_NOT_RUN
    }
}

/// WeChat's order/add needs the openid of a user of the Mini Program; only the emulator does
/// without one.
fn require_openids(plan: &Plan) -> Result<(), u8> {
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
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!(
        "error: {} creates its order with order/add, which needs an openid\n  help: set `openid:` in the \
         `order:` block or the environment variable WECHAT_OPENID (an admin, developer or operator of the \
         Mini Program); nothing was sent",
        missing.join(", ")
    );
    Err(exit::INVALID)
}

fn header(plan: &Plan, target: &str, seed: u64, speed: Speed) -> String {
    let steps: usize = plan.scenarios.iter().map(|s| s.steps.len()).sum();
    format!(
        "simulate: {}, {steps} steps against {target}; carrier table {}, seed {seed}{}\n",
        plural(plan.scenarios.len(), "scenario"),
        plan.carriers_version,
        if speed.is_real_time() {
            String::new()
        } else {
            format!(", speed ×{speed}")
        }
    )
}

/// Where people read the run: stdout, or stderr when stdout carries JSON lines.
#[derive(Clone)]
struct Output {
    console: Console,
    jsonl: bool,
    /// Where the calls go, for the events.
    endpoint: String,
}

impl Output {
    fn human(&self, text: &str) {
        if self.jsonl {
            eprint!("{text}");
        } else {
            report::print(text);
        }
    }
}

/// Shows the events as they come: JSON lines, the live view, or plain lines.
async fn print_events(
    plan: Plan,
    output: Output,
    live_view: bool,
    speed: Speed,
    mut events: mpsc::UnboundedReceiver<runner::Event>,
) {
    let console = output.console;
    let mut live = live_view.then(|| Live::new(&plan, console.style, console.lang, speed));
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { break };
                if output.jsonl
                    && let Some(line) = report::events::line(&plan, &event, &output.endpoint, console.local)
                {
                    report::print(&format!("{line}\n"));
                }
                match live.as_mut() {
                    Some(live) => live.on_event(&plan, &event),
                    None => {
                        if let Some(line) = console.event_line(&plan, &event) {
                            output.human(&format!("{line}\n"));
                        }
                    }
                }
            }
            // The countdowns move with time.
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
}

/// Writes every report asked for; false when one could not be written.
fn write_reports(
    args: &RunArgs,
    plan: &Plan,
    record: &RunRecord,
    ctx: &ReportContext,
    lang: Lang,
) -> bool {
    let mut written = true;
    if let Some(path) = &args.report_json {
        let text = serde_json::to_string_pretty(&report::json::report(plan, record, ctx))
            .unwrap_or_default();
        written &= write_report(path, &(text + "\n"));
    }
    if let Some(path) = &args.report_html {
        written &= write_report(path, &report::html::report(plan, record, ctx, lang));
    }
    if let Some(path) = &args.report_junit {
        written &= write_report(path, &report::junit::report(plan, record, ctx));
    }
    written
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
