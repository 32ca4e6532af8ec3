//! The commands that send nothing (check, plan, new, graph) and the emulator server.

use std::sync::Arc;

use super::{lang, load_carriers, load_plan, retry_policy};
use crate::app::cli::{
    CheckArgs, GlobalArgs, GraphArgs, GraphFormatChoice, NewArgs, PathChoice, PlanArgs,
    PushFormatChoice, ServeArgs,
};
use crate::base::duration::format_duration;
use crate::base::exit;
use crate::describe::new::{self, PathKind};
use crate::describe::{self, GraphFormat};
use crate::emulator;
use crate::model::plan::Expect;
use crate::model::statuses::Status;
use crate::report;
use crate::report::plan::{self as timeline, TimelineOptions};
use crate::scenario;

pub(super) fn check(global: &GlobalArgs, args: &CheckArgs) -> u8 {
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

pub(super) fn plan(global: &GlobalArgs, args: &PlanArgs) -> u8 {
    let run = &args.run;
    let seed = run.seed.unwrap_or_else(scenario::random_seed);
    let plan = match load_plan(global, &run.paths, run.shard, seed) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    let options = TimelineOptions {
        now: chrono::Local::now(),
        endpoint: if run.local {
            // --local picks a free port at start; `simulate serve` listens here by default.
            "http://127.0.0.1:8080".to_owned()
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

pub(super) fn new_scenario(global: &GlobalArgs, args: &NewArgs) -> u8 {
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

pub(super) fn graph(global: &GlobalArgs, args: &GraphArgs) -> u8 {
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
                let unknown = carriers.unknown(name);
                eprintln!("error: {}\n  help: {}", unknown.message, unknown.help);
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
pub(super) async fn serve(global: &GlobalArgs, args: ServeArgs) -> u8 {
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
