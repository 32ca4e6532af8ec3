//! `simulate run`, in three parts: prepare (files, plan, credentials: nothing sent yet),
//! execute (the timed run with its live output) and finish (summary, reports, exit code).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rust_i18n::t;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::error::AppError;
use super::{retry_policy, style};
use crate::app::cli::{GlobalArgs, RunArgs};
use crate::base::i18n::{Noun, count};
use crate::base::keys::{self, KeyReader};
use crate::base::pace::Speed;
use crate::base::secret::Secret;
use crate::emulator::{self, Emulator};
use crate::model::carriers::Carriers;
use crate::model::plan::Plan;
use crate::model::statuses::Lang;
use crate::report::live::{Heartbeat, Live, Look};
use crate::report::{self, Console, Pushes, ReportContext, StepPush};
use crate::run::client::{Client, Timeouts};
use crate::run::steer::Control;
use crate::run::token::TokenSource;
use crate::run::{self as runner, RunOptions, RunRecord};
use crate::scenario;

/// The openid `order/add` carries against the local emulator when a scenario gives none.
pub(super) const LOCAL_OPENID: &str = "simulate-local-openid";

/// `Ok` holds the run's verdict as an exit code; `Err` what kept it from running or from
/// writing its reports.
pub(super) async fn run(global: &GlobalArgs, args: RunArgs) -> Result<u8, AppError> {
    // From the first moment: a SIGTERM during a minute-long token fetch still ends with 130
    // and the reports written.
    let cancel = watch_interrupts();
    let stop = cancel.clone();
    let mut prepared = prepare(global, &args, &cancel).await?;
    let output = Output::new(global, &args, &prepared.target.endpoint);
    let steering = prepared.steering.take();
    let record = if prepared.interrupted {
        drop(steering);
        runner::interrupted_before_start(&prepared.plan, run_options(&args, prepared.seed))
    } else {
        execute(global, &args, &prepared, &output, cancel, steering).await
    };
    finish(&args, prepared, &output, &record, stop).await
}

/// Everything a run needs, checked, before anything is sent.
struct Prepared {
    /// Shared with the printer of events, never copied: a plan of 100,000 orders is large.
    plan: Arc<Plan>,
    /// Printed in the header and the reports, so a run can be repeated with --seed.
    seed: u64,
    target: Target,
    client: Client,
    timeouts: Timeouts,
    /// Ctrl-C or SIGTERM came before the first call could go out.
    interrupted: bool,
    /// `--step`: the terminal's keys, read until the run is over, as the clock's controls.
    steering: Option<(KeyReader, mpsc::UnboundedReceiver<Control>)>,
}

/// Where the calls go and with which credentials.
pub(super) struct Target {
    pub(super) endpoint: String,
    pub(super) tokens: Arc<TokenSource>,
    /// Kept alive for the whole run when --local.
    pub(super) local: Option<Emulator>,
}

impl Target {
    /// Where the calls go, for the header: the local emulator is never mistaken for WeChat.
    pub(super) fn describe(&self) -> String {
        if self.local.is_some() {
            t!("run.target_local", endpoint = self.endpoint).into_owned()
        } else {
            self.endpoint.clone()
        }
    }
}

/// Loads and checks the scenarios, then makes sure the calls can go out: a target, a
/// client and a token.
async fn prepare(
    global: &GlobalArgs,
    args: &RunArgs,
    cancel: &watch::Receiver<bool>,
) -> Result<Prepared, AppError> {
    let seed = args.seed.unwrap_or_else(scenario::random_seed);
    if args.step && (args.events.is_some() || global.quiet) {
        // Both turn the live view off, and with it the line that says what the keys do.
        return Err(AppError::Usage(t!("step.without_view").into_owned()));
    }
    let steering = if args.step { Some(steering()?) } else { None };
    // Without --jobs every scenario starts at once, so no scenario is left for --fail-fast to hold.
    if args.fail_fast && args.jobs.is_none() {
        crate::base::console::err(&format!(
            "{}\n{}\n",
            t!("run.fail_fast_alone"),
            t!("diag.help", help = t!("run.fail_fast_alone_help"))
        ));
    }
    let (carriers, plan) = super::load_selected_plan(global, args, seed)?;
    super::warn_long_run(&plan, args.speed);
    if !args.local {
        require_openids(&plan)?;
    }
    prepare_reports(args)?;
    let timeouts = Timeouts {
        connect: args.connect_timeout,
        total: args.timeout,
    };
    let target = if args.local {
        local_target(carriers, args).await?
    } else {
        remote_target(args)?
    };
    let client = Client::new(&target.endpoint, timeouts, args.connections.get())?;
    // Before anything is sent: a bad credential ends the run here, not at every step.
    let interrupted = tokio::select! {
        fetched = target.tokens.get() => {
            fetched?;
            false
        }
        () = interrupted(cancel.clone()) => true,
    };
    Ok(Prepared {
        plan: Arc::new(plan),
        seed,
        target,
        client,
        timeouts,
        interrupted,
        steering,
    })
}

/// `--step`'s keys as the clock's controls: Enter sends now, p pauses, q ends the run. Only
/// on a terminal, which shows what comes next and gives the keys.
fn steering() -> Result<(KeyReader, mpsc::UnboundedReceiver<Control>), AppError> {
    let which = match (
        std::io::stdin().is_terminal(),
        std::io::stdout().is_terminal(),
    ) {
        (true, true) => None,
        (false, true) => Some("stdin"),
        (true, false) => Some("stdout"),
        (false, false) => Some("stdin"),
    };
    if let Some(which) = which {
        return Err(AppError::Invalid {
            message: t!("step.no_terminal", which = which).into_owned(),
            help: Some(t!("step.no_terminal_help").into_owned()),
        });
    }
    let (controls, controlled) = mpsc::unbounded_channel();
    let reader = keys::read_keys(move |key| {
        let control = match key {
            keys::Key::Enter => Control::SendNow,
            keys::Key::Char('p') => Control::TogglePause,
            keys::Key::Char('q') => Control::Quit,
            keys::Key::Char(_) => return,
        };
        let _ = controls.send(control);
    })
    .map_err(|error| {
        let message = if error.kind() == std::io::ErrorKind::Unsupported {
            t!("step.unsupported")
        } else {
            t!("step.keys_failed", error = error)
        };
        AppError::Invalid {
            message: message.into_owned(),
            help: None,
        }
    })?;
    Ok((reader, controlled))
}

/// Every report path made ready before anything is sent (folder created, writable, an
/// earlier run's report removed), so that a run never ends with its calls sent and nowhere
/// to say how they went.
pub(super) fn prepare_reports(args: &RunArgs) -> Result<(), AppError> {
    for path in report_paths(args) {
        crate::base::files::prepare_output(path).map_err(|error| AppError::ReportUnusable {
            path: path.clone(),
            error,
        })?;
    }
    Ok(())
}

fn report_paths(args: &RunArgs) -> impl Iterator<Item = &PathBuf> {
    [&args.report_json, &args.report_html, &args.report_junit]
        .into_iter()
        .flatten()
}

/// Resolves once an interrupt has come; never when the signals cannot be watched.
pub(super) async fn interrupted(mut cancel: watch::Receiver<bool>) {
    if cancel.wait_for(|c| *c).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The embedded emulator on a free loopback port, with a token it issued.
pub(super) async fn local_target(carriers: Carriers, args: &RunArgs) -> Result<Target, AppError> {
    let config = emulator::Config {
        auto_create: true,
        callback: args.callback.clone(),
        callback_format: super::push_format(&args.push),
        push_security: super::push_security(
            &args.push,
            emulator::DEV_APPID,
            args.callback.is_some(),
        )?,
        ui: args.ui,
        // Serves every connection the runner's pool may open.
        limits: emulator::Limits {
            connections: emulator::Limits::DEFAULT
                .connections
                .max(args.connections.get()),
            ..emulator::Limits::DEFAULT
        },
        ..emulator::Config::default()
    };
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let started = Emulator::start(addr, Arc::new(carriers), config)
        .await
        .map_err(AppError::Emulator)?;
    if let Some(warning) = started.callback_warning() {
        crate::base::console::err(&format!("{warning}\n"));
    }
    if let Some(url) = started.dashboard_url() {
        crate::base::console::err(&format!("{}\n", t!("serve.dashboard", url = url)));
    }
    Ok(Target {
        endpoint: started.base_url(),
        tokens: Arc::new(TokenSource::Fixed(started.issue_token())),
        local: Some(started),
    })
}

/// `--endpoint` with `--access-token`, else a token fetched with `--appid`/`--app-secret`.
pub(super) fn remote_target(args: &RunArgs) -> Result<Target, AppError> {
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
            TokenSource::stable(&args.endpoint, appid, Secret::new(secret), args.timeout)?
                // A busy token endpoint is retried like any call, with the run's policy.
                .with_retry(retry_policy(args))
        }
        _ => return Err(AppError::NoCredentials),
    };
    Ok(Target {
        endpoint: args.endpoint.clone(),
        tokens: Arc::new(tokens),
        local: None,
    })
}

/// WeChat's order/add needs the openid of a user of the Mini Program; only the emulator does
/// without one.
fn require_openids(plan: &Plan) -> Result<(), AppError> {
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
    // `repeat: 200` makes 200 plans of one file: name its place once.
    let mut missing = missing;
    missing.dedup();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(AppError::MissingOpenid(missing))
    }
}

/// The timed run: the header, every step at its time with its events shown as they come,
/// until the last step or Ctrl-C.
async fn execute(
    global: &GlobalArgs,
    args: &RunArgs,
    prepared: &Prepared,
    output: &Output,
    cancel_rx: watch::Receiver<bool>,
    steering: Option<(KeyReader, mpsc::UnboundedReceiver<Control>)>,
) -> RunRecord {
    let plan = &prepared.plan;
    if !global.quiet {
        let target = prepared.target.describe();
        output.human(&header(plan, &target, prepared.seed, args.speed));
    }
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    // The live view needs a terminal and room; CI logs get plain timestamped lines.
    let live_view = !output.jsonl && !global.quiet && std::io::stdout().is_terminal();
    let printer = tokio::spawn(print_events(
        Arc::clone(plan),
        output.clone(),
        (live_view, steering.is_some()),
        args.speed,
        events_rx,
    ));
    let options = run_options(args, prepared.seed);
    let tokens = prepared.target.tokens.clone();
    let record = match steering {
        None => {
            runner::run(
                plan,
                &prepared.client,
                tokens,
                options,
                events_tx,
                cancel_rx,
            )
            .await
        }
        Some((keys, controls)) => {
            let record = runner::run_steered(
                plan,
                &prepared.client,
                tokens,
                options,
                events_tx,
                cancel_rx,
                controls,
            )
            .await;
            // The terminal as it was, before the summary is printed.
            drop(keys);
            record
        }
    };
    let _ = printer.await;
    record
}

pub(super) fn run_options(args: &RunArgs, seed: u64) -> RunOptions {
    RunOptions {
        speed: args.speed,
        retry: retry_policy(args),
        rate: args.rate,
        jobs: args.jobs.and_then(|j| usize::try_from(j).ok()),
        fail_fast: args.fail_fast,
        verify: args.verify,
        seed,
        // The emulator takes any openid; WeChat needs a real one (checked before the run).
        fallback_openid: args.local.then(|| LOCAL_OPENID.to_owned()),
        max_lateness: args.max_lateness,
    }
}

/// After the run: the summary, the local emulator's last pushes, the reports; the run's
/// verdict as an exit code.
async fn finish(
    args: &RunArgs,
    prepared: Prepared,
    output: &Output,
    record: &RunRecord,
    stop: watch::Receiver<bool>,
) -> Result<u8, AppError> {
    let Prepared {
        plan,
        target,
        timeouts,
        ..
    } = prepared;
    // The pushes are drained first, so that the summary can tell what became of them.
    let mut pushes = None;
    let mut dashboard = None;
    if let Some(emulator) = target.local {
        if emulator.callback_check().is_some() {
            if !record.interrupted {
                emulator.drain_pushes(PUSH_DRAIN).await;
            }
            pushes = Some(step_pushes(&plan, record, &emulator.push_outcomes()));
        }
        // --ui: the dashboard stays up for the room after the run; a Ctrl-C that ended the
        // run ends it too.
        if args.ui && !record.interrupted {
            dashboard = Some(emulator);
        } else {
            emulator.shutdown().await;
        }
    }
    output.human(&output.console.summary(&plan, record));
    if let Some(pushes) = &pushes {
        output.human(&pushes.summary());
    }
    if record.credentials_refused {
        output.human(&credentials_refused(&target.tokens));
    }
    let code = report::exit_code(record);
    let ctx = ReportContext {
        endpoint: target.endpoint,
        local: args.local,
        timeouts,
        exit_code: code,
        pushes,
    };
    let failures = write_reports(args, &plan, record, &ctx, output.console.lang);
    let result = if failures.is_empty() {
        Ok(code)
    } else {
        Err(AppError::ReportsNotWritten {
            failures,
            run_code: code,
        })
    };
    // The stream's last line carries the code the process ends with, reports included.
    if output.jsonl {
        let exit = result
            .as_ref()
            .map_or_else(AppError::exit_code, |code| *code);
        if let Some(line) = report::events::run_finished(&plan, record, exit) {
            report::print(&format!("{line}\n"));
        }
    }
    if let Some(emulator) = dashboard {
        keep_serving(emulator, stop).await;
    }
    result
}

/// `--local --ui` after the run: the dashboard stays until Ctrl-C or SIGTERM.
async fn keep_serving(emulator: Emulator, stop: watch::Receiver<bool>) {
    if let Some(url) = emulator.dashboard_url() {
        crate::base::console::err(&format!("{}\n", t!("run.dashboard_stays", url = url)));
    }
    interrupted(stop).await;
    emulator.shutdown().await;
}

/// Which credential to check when the platform refused the token mid-run.
pub(super) fn credentials_refused(tokens: &TokenSource) -> String {
    format!(
        "the run stopped: the platform refused the credentials; check {}\n",
        if tokens.can_renew() {
            "--appid/--app-secret (WECHAT_APPID, WECHAT_APP_SECRET)"
        } else {
            "--access-token / WECHAT_ACCESS_TOKEN"
        }
    )
}

/// Pushes to --callback go out after the answers: let them arrive (WeChat's rule: 3 attempts
/// of 5 s at most, spaced) before the emulator stops.
const PUSH_DRAIN: Duration = Duration::from_secs(18);

/// Each step's push: the first not yet matched push of the scenario's order with the step's
/// status (a refused step made none).
fn step_pushes(plan: &Plan, record: &RunRecord, outcomes: &[emulator::PushOutcome]) -> Pushes {
    let mut used = vec![false; outcomes.len()];
    let steps = plan
        .scenarios
        .iter()
        .zip(&record.scenarios)
        .map(|(scenario, scenario_record)| {
            scenario
                .steps
                .iter()
                .zip(&scenario_record.steps)
                .map(|(step, step_record)| {
                    // A step never sent made no push.
                    step_record.sent?;
                    let found = outcomes.iter().enumerate().position(|(i, o)| {
                        !used[i]
                            && o.shopid == scenario.shopid
                            && o.shop_order_id == scenario.shop_order_id
                            && o.order_status == step.status.code()
                    })?;
                    used[found] = true;
                    let o = &outcomes[found];
                    Some(StepPush {
                        delivered: o.delivered,
                        attempts: o.attempts,
                        detail: o.detail.clone(),
                    })
                })
                .collect()
        })
        .collect();
    Pushes { steps }
}

fn header(plan: &Plan, target: &str, seed: u64, speed: Speed) -> String {
    let steps: usize = plan.scenarios.iter().map(|s| s.steps.len()).sum();
    let speed = if speed.is_real_time() {
        "".into()
    } else {
        t!("run.header_speed", speed = speed)
    };
    let line = t!(
        "run.header",
        scenarios = count(plan.scenarios.len(), Noun::Scenario),
        steps = count(steps, Noun::Step),
        target = target,
        carriers = plan.carriers_version,
        seed = seed,
        speed = speed
    );
    format!("{line}\n")
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
    fn new(global: &GlobalArgs, args: &RunArgs, endpoint: &str) -> Output {
        Output {
            console: Console {
                style: style(global.color),
                quiet: global.quiet,
                lang: crate::base::i18n::current(),
                local: args.local,
            },
            jsonl: args.events.is_some(),
            endpoint: endpoint.to_owned(),
        }
    }

    fn human(&self, text: &str) {
        if self.jsonl {
            crate::base::console::err(&crate::base::text::terminal_safe(text));
        } else {
            report::print(text);
        }
    }
}

/// Shows the events as they come: JSON lines, the live view, or plain lines (with a heartbeat
/// in long silences).
async fn print_events(
    plan: Arc<Plan>,
    output: Output,
    (live_view, steering): (bool, bool),
    speed: Speed,
    mut events: mpsc::UnboundedReceiver<runner::Event>,
) {
    let console = output.console;
    let look = Look {
        style: console.style,
        lang: console.lang,
    };
    let mut live = live_view.then(|| {
        let live = Live::new(&plan, console, speed);
        if steering { live.steering() } else { live }
    });
    // Quiet runs and JSON lines stay as asked.
    let mut heart = (!live_view && !output.jsonl && !console.quiet)
        .then(|| Heartbeat::new(&plan, speed, look, Instant::now()));
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
                if let Some(heart) = heart.as_mut() {
                    heart.on_event(&plan, &event, Instant::now());
                }
                match live.as_mut() {
                    Some(live) => live.on_event(&plan, &event),
                    None => {
                        if let Some(line) = console.event_line(&plan, &event) {
                            output.human(&format!("{line}\n"));
                            if let Some(heart) = heart.as_mut() {
                                heart.printed(Instant::now());
                            }
                        }
                    }
                }
            }
            // The countdowns move with time; a silent log gets its heartbeat.
            _ = tick.tick() => {
                if let Some(live) = live.as_mut() {
                    live.refresh(&plan);
                }
                if let Some(heart) = heart.as_mut()
                    && let Some(line) = heart.beat(&plan, Instant::now())
                {
                    output.human(&format!("{line}\n"));
                }
            }
        }
    }
    if let Some(live) = live {
        live.finish(&plan);
    }
}

/// Writes every report asked for; the ones that could not be written, with why.
pub(super) fn write_reports(
    args: &RunArgs,
    plan: &Plan,
    record: &RunRecord,
    ctx: &ReportContext,
    lang: Lang,
) -> Vec<(PathBuf, std::io::Error)> {
    let paths = ReportPaths {
        json: args.report_json.as_ref(),
        junit: args.report_junit.as_ref(),
        html: args.report_html.as_ref(),
    };
    paths.write(plan, record, ctx, lang)
}

/// Where the reports go (a run's, or `report merge`'s).
pub(super) struct ReportPaths<'a> {
    pub(super) json: Option<&'a PathBuf>,
    pub(super) junit: Option<&'a PathBuf>,
    pub(super) html: Option<&'a PathBuf>,
}

impl ReportPaths<'_> {
    /// Every path made ready before anything is done (folder created, writable, an earlier
    /// report removed).
    pub(super) fn prepare(&self) -> Result<(), AppError> {
        for path in [self.json, self.html, self.junit].into_iter().flatten() {
            crate::base::files::prepare_output(path).map_err(|error| AppError::ReportUnusable {
                path: path.clone(),
                error,
            })?;
        }
        Ok(())
    }

    /// Writes every report asked for; the ones that could not be written, with why.
    pub(super) fn write(
        &self,
        plan: &Plan,
        record: &RunRecord,
        ctx: &ReportContext,
        lang: Lang,
    ) -> Vec<(PathBuf, std::io::Error)> {
        type Writer<'w> = &'w dyn Fn(&mut dyn std::io::Write) -> std::io::Result<()>;
        let mut failures = Vec::new();
        // Whole or not at all: a full disk or a kill mid-write leaves no truncated report.
        // Each is streamed to its file, never held whole in memory.
        let mut write = |path: &PathBuf, write: Writer<'_>| {
            if let Err(error) = crate::base::files::write_atomic_with(path, |out| write(out)) {
                failures.push((path.clone(), error));
            }
        };
        if let Some(path) = self.json {
            write(path, &|out| report::json::write(plan, record, ctx, out));
        }
        if let Some(path) = self.html {
            write(path, &|out| {
                report::html::write(plan, record, ctx, lang, out)
            });
        }
        if let Some(path) = self.junit {
            write(path, &|out| report::junit::write(plan, record, ctx, out));
        }
        failures
    }
}

/// Watches Ctrl-C and SIGTERM for the whole command: the first stops the run, which still
/// writes its reports; the second ends the process at once, without waiting for the calls
/// in flight. The handlers are in place when this returns.
pub(super) fn watch_interrupts() -> watch::Receiver<bool> {
    let (cancel, cancelled) = watch::channel(false);
    let mut signals = Signals::new();
    tokio::spawn(async move {
        signals.next().await;
        let _ = cancel.send(true);
        signals.next().await;
        crate::base::console::err(
            "simulate: interrupted again; exiting now, without waiting for the calls in flight or writing the reports\n",
        );
        // --step's raw mode must not outlive the process.
        crate::base::keys::restore_terminal();
        std::process::exit(i32::from(crate::base::exit::INTERRUPTED));
    });
    cancelled
}

/// Ctrl-C anywhere; SIGTERM too on Unix.
struct Signals {
    #[cfg(unix)]
    streams: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    fn new() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let streams = signal(SignalKind::interrupt())
                .and_then(|int| Ok((int, signal(SignalKind::terminate())?)))
                .ok();
            Signals { streams }
        }
        #[cfg(not(unix))]
        {
            Signals {}
        }
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        if let Some((int, term)) = &mut self.streams {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
