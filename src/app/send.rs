//! `simulate send`: one status update for an order that exists, now. It is made as a run's
//! only step (the same target, token, retries, events, reports and exit codes), after
//! `order/get` has said where the order is and the carrier's graph allows the move.

use rust_i18n::t;
use tokio::sync::mpsc;

use super::error::AppError;
use super::run::{self as run_cmd, Target};
use crate::app::cli::{GlobalArgs, SendArgs};
use crate::base::exit;
use crate::base::secret::Secret;
use crate::model::carriers::{Call, Carrier};
use crate::model::plan::{Expect, Plan, ScenarioPlan, StepPlan};
use crate::model::statuses::Status;
use crate::report::{self, ReportContext};
use crate::run::client::{Client, Timeouts};
use crate::run::locate::{self, Located};
use crate::run::{self as runner, StepOutcome};
use crate::scenario;

/// The scenario name a send has in events and reports.
const NAME: &str = "send";

pub(super) async fn send(global: &GlobalArgs, args: SendArgs) -> Result<u8, AppError> {
    let cancel = run_cmd::watch_interrupts();
    let run_args = args
        .run_args()
        .map_err(|error| AppError::Usage(error.to_string()))?;
    let carriers = super::load_carriers(global)?;
    let carrier = match carriers.find(&args.carrier) {
        Some(carrier) => carrier.clone(),
        None => {
            let unknown = carriers.unknown(&args.carrier);
            return Err(AppError::Invalid {
                message: unknown.message,
                help: Some(unknown.help),
            });
        }
    };
    let to = target_status(&carrier, &args.status, args.force)?;
    let (shopid, appsecret) = shop(&carrier, &args)?;
    let order = args.order.trim().to_owned();
    if order.is_empty() || order.len() > scenario::MAX_SHOP_ORDER_ID_BYTES {
        return Err(AppError::Usage(
            t!("send.bad_order", max = scenario::MAX_SHOP_ORDER_ID_BYTES).into_owned(),
        ));
    }
    let seed = args.seed.unwrap_or_else(scenario::random_seed);
    let plan = std::sync::Arc::new(Plan {
        carriers_version: carriers.version.clone(),
        seed,
        scenarios: vec![ScenarioPlan {
            name: NAME.to_owned(),
            file: String::new(),
            carrier: carrier.clone(),
            shop_order_id: order,
            shopid,
            appsecret,
            steps: vec![StepPlan {
                index: 0,
                status: to,
                at: std::time::Duration::ZERO,
                after: std::time::Duration::ZERO,
                after_range: None,
                action_msg: args.msg.clone(),
                expect: Expect::Ok,
                checked: !args.force,
                line: 0,
            }],
            order: None,
            repetition: None,
            fixed_order_id: false,
        }],
    });
    run_cmd::prepare_reports(&run_args)?;
    let timeouts = Timeouts {
        connect: run_args.connect_timeout,
        total: run_args.timeout,
    };
    let target = if args.local {
        run_cmd::local_target(carriers, &run_args).await?
    } else {
        run_cmd::remote_target(&run_args)?
    };
    let client = Client::new(&target.endpoint, timeouts, run_args.connections.get())?;
    let options = run_cmd::run_options(&run_args, seed);
    let interrupted = tokio::select! {
        fetched = target.tokens.get() => {
            fetched?;
            false
        }
        () = run_cmd::interrupted(cancel.clone()) => true,
    };
    let jsonl = args.events.is_some();
    let human = |text: &str| {
        if jsonl {
            crate::base::console::err(&crate::base::text::terminal_safe(text));
        } else {
            report::print(text);
        }
    };
    let located = if interrupted {
        Located::Interrupted
    } else {
        locate::locate(
            &plan.scenarios[0],
            &client,
            target.tokens.clone(),
            options.clone(),
            cancel.clone(),
        )
        .await
    };
    let from = match decide(
        &carrier,
        &plan.scenarios[0],
        to,
        &located,
        args.local,
        args.force,
    ) {
        Ok(Decision::Send { from, note }) => {
            if let Some(note) = note {
                crate::base::console::err(&crate::base::text::terminal_safe(&format!("{note}\n")));
            }
            from
        }
        Ok(Decision::Interrupted) => {
            shutdown(target).await;
            human(&format!("{}\n", t!("send.interrupted_before")));
            return Ok(exit::INTERRUPTED);
        }
        Err(error) => {
            shutdown(target).await;
            return Err(error);
        }
    };
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let endpoint = target.endpoint.clone();
    let local = args.local;
    let printer = {
        let plan = std::sync::Arc::clone(&plan);
        tokio::spawn(async move {
            while let Some(event) = events_rx.recv().await {
                if jsonl && let Some(line) = report::events::line(&plan, &event, &endpoint, local) {
                    report::print(&format!("{line}\n"));
                }
            }
        })
    };
    let record = runner::run(
        &plan,
        &client,
        target.tokens.clone(),
        options,
        events_tx,
        cancel,
    )
    .await;
    let _ = printer.await;
    let Target {
        endpoint,
        tokens,
        local: emulator,
    } = target;
    if let Some(emulator) = emulator {
        emulator.shutdown().await;
    }
    let lang = crate::base::i18n::current();
    let style = super::style(global.color);
    if let Some(step) = record.scenarios.first().and_then(|s| s.steps.first()) {
        let line = report::send::line(&report::send::Moved {
            carrier: &carrier.id,
            order: &plan.scenarios[0].shop_order_id,
            from,
            to,
            record: step,
            local: args.local,
            lang,
            style,
        });
        // -q: only what went wrong.
        if !(global.quiet && matches!(step.outcome, StepOutcome::Passed(_))) {
            human(&format!("{line}\n"));
        }
        if record.credentials_refused {
            human(&run_cmd::credentials_refused(&tokens));
        }
    }
    let code = report::exit_code(&record);
    let ctx = ReportContext {
        endpoint,
        local: args.local,
        timeouts,
        exit_code: code,
        pushes: None,
    };
    let failures = run_cmd::write_reports(&run_args, &plan, &record, &ctx, lang);
    let result = if failures.is_empty() {
        Ok(code)
    } else {
        Err(AppError::ReportsNotWritten {
            failures,
            run_code: code,
        })
    };
    if jsonl {
        let exit = result
            .as_ref()
            .map_or_else(AppError::exit_code, |code| *code);
        if let Some(line) = report::events::run_finished(&plan, &record, exit) {
            report::print(&format!("{line}\n"));
        }
    }
    result
}

async fn shutdown(target: Target) {
    if let Some(emulator) = target.local {
        emulator.shutdown().await;
    }
}

/// `--status`, as a code or a name, that the carrier can be moved to (any with `--force`).
fn target_status(carrier: &Carrier, text: &str, force: bool) -> Result<Status, AppError> {
    let Some(status) = Status::parse(text) else {
        return Err(AppError::Invalid {
            message: t!("send.unknown_status", status = text.trim()).into_owned(),
            help: Some(t!("send.unknown_status_help").into_owned()),
        });
    };
    if carrier.call == Call::None {
        return Err(AppError::Invalid {
            message: t!("send.no_call", carrier = carrier.id).into_owned(),
            help: None,
        });
    }
    if !carrier.supports(status) && !force {
        return Err(AppError::Invalid {
            message: t!(
                "send.unsupported",
                carrier = carrier.id,
                status = status,
                supported = list(carrier.supported.iter().copied())
            )
            .into_owned(),
            help: Some(t!("send.force_help").into_owned()),
        });
    }
    Ok(status)
}

/// The account to send as: the carrier's test account, or `--shopid` with its appsecret.
fn shop(carrier: &Carrier, args: &SendArgs) -> Result<(String, Secret), AppError> {
    let account = &carrier.account;
    match (args.shopid.as_deref().map(str::trim), &args.appsecret) {
        (None, None) => Ok((account.shopid.clone(), account.appsecret.clone())),
        (None, Some(_)) => Err(AppError::Usage(
            t!("send.appsecret_without_shopid").into_owned(),
        )),
        (Some(""), _) => Err(AppError::Usage(t!("send.empty_shopid").into_owned())),
        (Some(id), Some(secret)) if !secret.expose().trim().is_empty() => {
            Ok((id.to_owned(), secret.clone()))
        }
        (Some(id), _) if id == account.shopid => {
            Ok((account.shopid.clone(), account.appsecret.clone()))
        }
        (Some(id), _) => Err(AppError::Usage(
            t!("send.appsecret_missing", shopid = id).into_owned(),
        )),
    }
}

/// What to do once `order/get` has answered (or not).
#[derive(Debug)]
enum Decision {
    /// Send; where the order is (None when nobody could say); a note for stderr.
    Send {
        from: report::send::From,
        note: Option<String>,
    },
    Interrupted,
}

/// Whether to send, from where `order/get` says the order is. The carrier's graph decides
/// (`allowed_next`, from carriers.yaml); `--force` sends whatever it says, with a note.
fn decide(
    carrier: &Carrier,
    scenario: &ScenarioPlan,
    to: Status,
    located: &Located,
    local: bool,
    force: bool,
) -> Result<Decision, AppError> {
    use report::send::From;
    let order = &scenario.shop_order_id;
    let from = match located {
        Located::Interrupted => return Ok(Decision::Interrupted),
        Located::At(state) => {
            match u16::try_from(state.order_status)
                .ok()
                .and_then(Status::from_code)
            {
                Some(status) => From::At(status),
                None => {
                    let message = t!(
                        "send.status_unknown",
                        order = order,
                        code = state.order_status
                    )
                    .into_owned();
                    return forced(force, From::Code(state.order_status), message.clone()).ok_or(
                        AppError::Invalid {
                            message,
                            help: Some(t!("send.force_help").into_owned()),
                        },
                    );
                }
            }
        }
        // A fresh local emulator knows no order: its first update creates it at 101, as a
        // --local run's orders are.
        Located::NotFound(_) if local => From::New(Status::INITIAL),
        Located::NotFound(answer) => {
            let message = t!(
                "send.not_found",
                order = order,
                shopid = scenario.shopid,
                errcode = answer.errcode,
                errmsg = crate::base::text::printable(&answer.errmsg)
            )
            .into_owned();
            return forced(force, From::Unknown, message.clone()).ok_or(AppError::Invalid {
                message,
                help: Some(t!("send.not_found_help").into_owned()),
            });
        }
        Located::Unanswered(failure) => {
            let why = report::describe_failure_in(failure, crate::base::i18n::current());
            let message = t!("send.unlocated", order = order, why = why).into_owned();
            return forced(force, From::Unknown, message.clone()).ok_or(AppError::NotReached {
                message,
                help: Some(t!("send.unlocated_help").into_owned()),
            });
        }
    };
    let (From::At(status) | From::New(status)) = from else {
        return Ok(Decision::Send { from, note: None });
    };
    if carrier.allows(status, to) {
        return Ok(Decision::Send { from, note: None });
    }
    let allowed = carrier.allowed_next(status);
    let ended = allowed.is_empty();
    let message = if ended {
        t!(
            "send.ended",
            carrier = carrier.id,
            order = order,
            from = status,
            to = to
        )
    } else {
        t!(
            "send.not_allowed",
            carrier = carrier.id,
            order = order,
            from = status,
            to = to,
            allowed = list(allowed.into_iter())
        )
    }
    .into_owned();
    let help = if ended {
        t!("send.ended_help")
    } else {
        t!("send.force_help")
    };
    forced(force, from, message.clone()).ok_or(AppError::Invalid {
        message,
        help: Some(help.into_owned()),
    })
}

/// With `--force`: send anyway, saying what the check found.
fn forced(force: bool, from: report::send::From, found: String) -> Option<Decision> {
    force.then(|| Decision::Send {
        from,
        note: Some(t!("send.forced", found = found).into_owned()),
    })
}

/// "201 at_store, 203 pickup_cancelled_by_merchant".
fn list(statuses: impl Iterator<Item = Status>) -> String {
    statuses
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::carriers::Carriers;
    use crate::report::send::From;
    use crate::run::Failure;
    use crate::run::client::CallError;
    use crate::wechat::body::{Answer, OrderState};
    use std::sync::Arc;

    fn dada() -> (Arc<Carrier>, ScenarioPlan) {
        let carriers = Carriers::builtin().unwrap_or_else(|p| panic!("{p:?}"));
        let carrier = carriers.find("dada").cloned().unwrap_or_else(|| panic!());
        let scenario = ScenarioPlan {
            name: NAME.into(),
            file: String::new(),
            carrier: carrier.clone(),
            shop_order_id: "o-1".into(),
            shopid: carrier.account.shopid.clone(),
            appsecret: carrier.account.appsecret.clone(),
            steps: Vec::new(),
            order: None,
            repetition: None,
            fixed_order_id: false,
        };
        (carrier, scenario)
    }

    fn at(code: i64) -> Located {
        Located::At(OrderState {
            order_status: code,
            waybill_id: "w".into(),
        })
    }

    fn status(code: u16) -> Status {
        Status::from_code(code).unwrap_or_else(|| panic!("{code}"))
    }

    fn refusal(decided: Result<Decision, AppError>) -> (u8, String) {
        match decided {
            Err(error) => (error.exit_code(), error.render()),
            Ok(decision) => panic!("sent: {decision:?}"),
        }
    }

    #[test]
    fn an_allowed_move_is_sent_and_a_refused_one_names_the_allowed_statuses() {
        let (dada, scenario) = dada();
        let decided = decide(&dada, &scenario, status(302), &at(301), false, false);
        assert!(
            matches!(decided, Ok(Decision::Send { from: From::At(s), note: None }) if s.code() == 301),
            "{decided:?}"
        );
        let (code, text) = refusal(decide(
            &dada,
            &scenario,
            status(302),
            &at(102),
            false,
            false,
        ));
        assert_eq!(code, exit::INVALID);
        assert!(
            text.contains("dada cannot move order o-1 from 102 rider_assigned to 302 delivered")
                && text.contains("allowed next: 201 at_store")
                && text.contains("--force"),
            "{text}"
        );
        let (_, text) = refusal(decide(
            &dada,
            &scenario,
            status(301),
            &at(302),
            false,
            false,
        ));
        assert!(text.contains("has ended at 302 delivered"), "{text}");
        assert!(
            text.contains("930565") && !text.contains("one of those"),
            "{text}"
        );
    }

    #[test]
    fn force_sends_what_the_check_refuses_and_says_so() {
        let (dada, scenario) = dada();
        let decided = decide(&dada, &scenario, status(302), &at(102), false, true);
        let Ok(Decision::Send {
            from: From::At(from),
            note: Some(note),
        }) = decided
        else {
            panic!("{decided:?}")
        };
        assert_eq!(from.code(), 102);
        assert!(
            note.contains("--force") && note.contains("allowed next: 201"),
            "{note}"
        );
    }

    #[test]
    fn an_unknown_order_is_refused_except_by_the_local_emulator_which_creates_it() {
        let (dada, scenario) = dada();
        let missing = Located::NotFound(Answer {
            errcode: 930563,
            errmsg: "order not exists".into(),
            ..Answer::default()
        });
        let (code, text) = refusal(decide(
            &dada,
            &scenario,
            status(102),
            &missing,
            false,
            false,
        ));
        assert_eq!(code, exit::INVALID);
        assert!(
            text.contains("930563") && text.contains("nothing was sent"),
            "{text}"
        );
        let local = decide(&dada, &scenario, status(102), &missing, true, false);
        assert!(
            matches!(local, Ok(Decision::Send { from: From::New(s), .. }) if s.code() == 101),
            "{local:?}"
        );
        // Still checked from 101.
        let (_, text) = refusal(decide(&dada, &scenario, status(302), &missing, true, false));
        assert!(text.contains("allowed next: 102 rider_assigned"), "{text}");
        let forced = decide(&dada, &scenario, status(102), &missing, false, true);
        assert!(
            matches!(
                forced,
                Ok(Decision::Send {
                    from: From::Unknown,
                    note: Some(_)
                })
            ),
            "{forced:?}"
        );
    }

    #[test]
    fn when_order_get_cannot_say_nothing_is_sent_without_force() {
        let (dada, scenario) = dada();
        let unanswered = Located::Unanswered(Failure::Call(CallError::Timeout(
            std::time::Duration::from_secs(15),
        )));
        let (code, text) = refusal(decide(
            &dada,
            &scenario,
            status(102),
            &unanswered,
            false,
            false,
        ));
        assert_eq!(code, exit::COULD_NOT_RUN);
        assert!(text.contains("cannot tell where order o-1 is"), "{text}");
        assert!(matches!(
            decide(&dada, &scenario, status(102), &unanswered, false, true),
            Ok(Decision::Send {
                from: From::Unknown,
                note: Some(_)
            })
        ));
        assert!(matches!(
            decide(
                &dada,
                &scenario,
                status(102),
                &Located::Interrupted,
                false,
                true
            ),
            Ok(Decision::Interrupted)
        ));
    }

    #[test]
    fn statuses_the_carrier_cannot_reach_and_accounts_without_a_secret_are_refused() {
        let (dada, _) = dada();
        let refused = target_status(&dada, "203", false);
        let Err(error) = refused else {
            panic!("{refused:?}")
        };
        assert!(
            error.render().contains("dada cannot be moved to 203"),
            "{}",
            error.render()
        );
        assert!(target_status(&dada, "203", true).is_ok());
        assert!(target_status(&dada, "delivered", false).is_ok());
        assert!(target_status(&dada, "999", false).is_err());
    }
}
