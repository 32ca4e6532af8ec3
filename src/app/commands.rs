//! The commands that send nothing (check, plan, new, graph) and the emulator server.

use std::sync::Arc;

use rust_i18n::t;

use super::error::{AppError, Within};
use super::{load_carriers, load_plan, load_plan_warned, push_format, push_security, retry_policy};
use crate::app::cli::{
    CheckArgs, GlobalArgs, GraphArgs, GraphFormatChoice, NewArgs, PathChoice, PlanArgs, ServeArgs,
};
use crate::base::duration::format_duration;
use crate::base::i18n::{Noun, count};
use crate::describe::new::{self, PathKind};
use crate::describe::{self, GraphFormat};
use crate::emulator;
use crate::model::plan::{Expect, ScenarioPlan};
use crate::model::statuses::Status;
use crate::report;
use crate::report::plan::{self as timeline, TimelineOptions};
use crate::scenario;

pub(super) fn check(global: &GlobalArgs, args: &CheckArgs) -> Result<(), AppError> {
    let (_, plan, warnings) =
        load_plan_warned(global, &args.paths, None, 0, args.allow_missing_env)?;
    if args.strict && !warnings.is_empty() {
        return Err(AppError::InvalidFiles {
            problems: warnings,
            within: Within::Scenarios,
        });
    }
    super::print_warnings(&warnings);
    let steps: usize = plan.scenarios.iter().map(|s| s.steps.len()).sum();
    if !global.quiet {
        // A file with `repeat:` makes several orders; it is one file to check.
        let mut files: Vec<(&ScenarioPlan, usize)> = Vec::new();
        for scenario in &plan.scenarios {
            match files.iter_mut().find(|(s, _)| s.file == scenario.file) {
                Some((_, orders)) => *orders += 1,
                None => files.push((scenario, 1)),
            }
        }
        for (scenario, orders) in files {
            let steps = count(scenario.steps.len(), Noun::Step);
            let line = if orders > 1 {
                t!(
                    "check.ok_file_repeated",
                    file = scenario.file,
                    carrier = scenario.carrier.id,
                    steps = steps,
                    orders = orders
                )
            } else {
                t!(
                    "check.ok_file",
                    file = scenario.file,
                    carrier = scenario.carrier.id,
                    steps = steps
                )
            };
            report::print(&format!("{line}\n"));
        }
    }
    let valid = t!(
        "check.valid",
        scenarios = count(plan.scenarios.len(), Noun::Scenario),
        steps = count(steps, Noun::Step),
        carriers = plan.carriers_version
    );
    report::print(&format!("{valid}\n"));
    Ok(())
}

pub(super) fn plan(global: &GlobalArgs, args: &PlanArgs) -> Result<(), AppError> {
    let run = &args.run;
    if run.step {
        return Err(AppError::Usage(t!("step.not_for_plan").into_owned()));
    }
    let seed = run.seed.unwrap_or_else(scenario::random_seed);
    let (_, plan) = super::load_selected_plan(global, run, seed)?;
    super::warn_long_run(&plan, run.speed);
    let options = TimelineOptions {
        now: chrono::Local::now(),
        endpoint: if run.local {
            // --local picks a free port at start; `simulate serve` listens here by default.
            "http://127.0.0.1:8080".to_owned()
        } else {
            run.endpoint.clone()
        },
        speed: run.speed,
        lang: crate::base::i18n::current(),
        curl: args.curl,
        show_signatures: args.show_signatures,
        timeouts: t!(
            "plan.timeouts",
            connect = format_duration(run.connect_timeout),
            total = format_duration(run.timeout)
        )
        .into_owned(),
        retries: retry_policy(run).describe(crate::base::i18n::current()),
        fallback_openid: run.local.then(|| super::run::LOCAL_OPENID.to_owned()),
    };
    report::print(&timeline::render(&plan, &options));
    Ok(())
}

pub(super) fn new_scenario(global: &GlobalArgs, args: &NewArgs) -> Result<(), AppError> {
    if args.all_paths || args.negative {
        return super::paths::new_suite(global, args);
    }
    let carriers = load_carriers(global)?;
    let path = match args.path {
        PathChoice::Happy => PathKind::Happy,
        PathChoice::Unreachable => PathKind::Unreachable,
        PathChoice::Refused => PathKind::Refused,
        PathChoice::Cancel => PathKind::Cancel,
    };
    let text =
        new::new_scenario(&carriers, &args.carrier, path).map_err(|message| AppError::Invalid {
            message,
            help: None,
        })?;
    let Some(file) = &args.file else {
        report::print(&text);
        return Ok(());
    };
    if file.exists() && !args.force {
        return Err(AppError::FileExists(file.clone()));
    }
    std::fs::write(file, text).map_err(|error| AppError::Write {
        path: file.clone(),
        error,
    })?;
    // A note, not an error: where the file went and what to do next.
    let note = t!(
        "new.wrote",
        path = file.display().to_string(),
        command = check_command(global, file)
    );
    crate::base::console::err(&format!("{note}\n"));
    Ok(())
}

/// "simulate check [--carriers FILE] PATH": what checks a file just written, with the carrier
/// table it was written from.
pub(super) fn check_command(global: &GlobalArgs, path: &std::path::Path) -> String {
    match &global.carriers {
        Some(carriers) => format!(
            "simulate check --carriers {} {}",
            carriers.display(),
            path.display()
        ),
        None => format!("simulate check {}", path.display()),
    }
}

pub(super) fn graph(global: &GlobalArgs, args: &GraphArgs) -> Result<(), AppError> {
    let carriers = load_carriers(global)?;
    let format = match args.format {
        GraphFormatChoice::Mermaid => GraphFormat::Mermaid,
        GraphFormatChoice::Dot => GraphFormat::Dot,
    };
    let scenario = match &args.scenario {
        Some(path) => {
            let (_, plan) = load_plan(global, std::slice::from_ref(path), None, 0)?;
            plan.scenarios.into_iter().next()
        }
        None => None,
    };
    let carrier = match (&args.carrier, &scenario) {
        (Some(name), _) => match carriers.find(name) {
            Some(carrier) => carrier.clone(),
            None => {
                let unknown = carriers.unknown(name);
                return Err(AppError::Invalid {
                    message: unknown.message,
                    help: Some(unknown.help),
                });
            }
        },
        (None, Some(scenario)) => scenario.carrier.clone(),
        (None, None) => return Err(AppError::Usage(t!("graph.no_carrier").into_owned())),
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
    Ok(())
}

/// The emulator as an HTTP server, until Ctrl-C or SIGTERM.
pub(super) async fn serve(global: &GlobalArgs, args: ServeArgs) -> Result<(), AppError> {
    let carriers = Arc::new(load_carriers(global)?);
    let mut config = emulator::Config {
        token_ttl: args.token_ttl,
        auto_create: args.auto_create,
        callback: args.callback,
        callback_format: push_format(&args.push),
        seed: args.seed,
        show_signatures: args.show_signatures,
        ui: args.ui,
        limits: emulator::Limits {
            orders: args.max_orders,
            history: args.max_history,
            unmatched: args.max_unmatched,
            body_bytes: args.max_body_bytes,
            connections: args.max_connections,
            header_timeout: args.header_timeout,
            idle_timeout: args.idle_timeout,
        },
        ..emulator::Config::default()
    };
    if !args.addr.ip().is_loopback() {
        if !args.allow_remote {
            return Err(AppError::Invalid {
                message: t!("serve.not_loopback", addr = args.addr.to_string()).into_owned(),
                help: Some(t!("serve.not_loopback_help").into_owned()),
            });
        }
        let warning = t!("serve.remote_warning", addr = args.addr.to_string());
        crate::base::console::err(&format!("{warning}\n"));
    }
    if !args.apps.is_empty() {
        config.apps = args.apps;
    }
    // Pushes are the Mini Program's: the first configured app.
    let appid = config
        .apps
        .first()
        .map(|(id, _)| id.clone())
        .unwrap_or_default();
    config.push_security = push_security(&args.push, &appid, config.callback.is_some())?;
    config.state = args.state;
    if let Some(faults) = args.faults {
        config.faults = faults;
    }
    emulator::serve(args.addr, carriers, config)
        .await
        .map_err(|error| {
            match error
                .get_ref()
                .and_then(|e| e.downcast_ref::<emulator::StateFileError>())
            {
                Some(emulator::StateFileError {
                    path: Some(path),
                    not_a_database,
                    detail,
                }) => AppError::StateFile {
                    path: path.clone(),
                    not_a_database: *not_a_database,
                    detail: detail.clone(),
                },
                _ => AppError::Serve {
                    addr: args.addr,
                    error,
                },
            }
        })
}
