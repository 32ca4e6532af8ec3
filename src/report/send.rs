//! The one line `simulate send` prints: which order, from where to where, and what came of it.

use rust_i18n::t;

use crate::base::duration::{format_duration, round_to_ms};
use crate::model::statuses::{Lang, Status};
use crate::run::{StepOutcome, StepRecord};

use super::{Style, describe_answer_in, describe_failure_in};

/// Where the order was before the update, as far as `order/get` could tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum From {
    At(Status),
    /// A status code no table of ours knows.
    Code(i64),
    /// Not known to the local emulator, which creates it at this status.
    New(Status),
    /// Nobody could say (sent with `--force`).
    Unknown,
}

/// What the line is about.
pub struct Moved<'a> {
    pub carrier: &'a str,
    pub order: &'a str,
    pub from: From,
    pub to: Status,
    pub record: &'a StepRecord,
    pub local: bool,
    pub lang: Lang,
    pub style: Style,
}

/// One line, in the chosen language: ✓ moved, ✗ not moved (and why), or ■ not sent.
pub fn line(moved: &Moved<'_>) -> String {
    let locale = moved.lang.code();
    let from = match moved.from {
        From::At(status) => status.to_string(),
        From::Code(code) => t!("send.from_code", locale = locale, code = code).into_owned(),
        From::New(status) => t!("send.from_new", locale = locale, status = status).into_owned(),
        From::Unknown => t!("send.from_unknown", locale = locale).into_owned(),
    };
    let local = if moved.local {
        t!("send.local", locale = locale)
    } else {
        "".into()
    };
    let (carrier, order, to) = (moved.carrier, moved.order, moved.to);
    match &moved.record.outcome {
        StepOutcome::Passed(answer) => {
            let latency = moved
                .record
                .latency
                .map(|l| format_duration(round_to_ms(l)))
                .unwrap_or_default();
            moved.style.green(&t!(
                "send.moved",
                locale = locale,
                carrier = carrier,
                order = order,
                from = from,
                to = to,
                answer = describe_answer_in(answer, moved.lang),
                latency = latency,
                local = local
            ))
        }
        StepOutcome::Failed(failure) => moved.style.red(&t!(
            "send.not_moved",
            locale = locale,
            carrier = carrier,
            order = order,
            from = from,
            to = to,
            why = describe_failure_in(failure, moved.lang),
            local = local
        )),
        StepOutcome::NotSent(why) => moved.style.yellow(&t!(
            "send.not_sent",
            locale = locale,
            carrier = carrier,
            order = order,
            to = to,
            why = why.describe_in(moved.lang),
            local = local
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{Failure, NotSent};
    use crate::wechat::body::Answer;
    use std::time::Duration;

    fn record(outcome: StepOutcome) -> StepRecord {
        StepRecord {
            planned: chrono::Utc::now(),
            sent: Some(chrono::Utc::now()),
            lateness: None,
            latency: Some(Duration::from_millis(12)),
            attempts: Vec::new(),
            verified: None,
            outcome,
        }
    }

    fn status(code: u16) -> Status {
        Status::from_code(code).unwrap_or_else(|| panic!("{code}"))
    }

    fn text(from: From, outcome: StepOutcome, lang: Lang, local: bool) -> String {
        line(&Moved {
            carrier: "dada",
            order: "o-1",
            from,
            to: status(302),
            record: &record(outcome),
            local,
            lang,
            style: Style { color: false },
        })
    }

    #[test]
    fn one_line_for_each_outcome_in_both_languages() {
        let ok = StepOutcome::Passed(Answer::default());
        assert_eq!(
            text(From::At(status(301)), ok.clone(), Lang::En, false),
            "✓ dada order o-1 moved from 301 delivering to 302 delivered: ok (12ms)"
        );
        assert_eq!(
            text(From::New(status(101)), ok.clone(), Lang::En, true),
            "✓ dada order o-1 moved from 101 awaiting_rider (a new order of the local emulator) to 302 delivered: ok (12ms) — against the local emulator, not WeChat"
        );
        let refused = StepOutcome::Failed(Failure::Unexpected {
            answer: Answer {
                resultcode: 9102,
                resultmsg: "not allowed".into(),
                ..Answer::default()
            },
            expected: crate::model::plan::Expect::Ok,
        });
        let failed = text(From::Unknown, refused, Lang::En, false);
        assert!(
            failed.starts_with(
                "✗ dada order o-1 was not moved from an unknown status to 302 delivered: "
            ) && failed.contains("9102"),
            "{failed}"
        );
        let zh = text(From::At(status(301)), ok, Lang::Zh, false);
        assert!(zh.contains("订单 o-1") && !zh.contains("moved"), "{zh}");
        let not_sent = text(
            From::At(status(301)),
            StepOutcome::NotSent(NotSent::Interrupted),
            Lang::En,
            false,
        );
        assert!(
            not_sent.starts_with("■ dada order o-1 was not moved to 302 delivered: "),
            "{not_sent}"
        );
        for line in [failed, not_sent] {
            assert!(!line.contains('\n'), "{line}");
        }
    }
}
