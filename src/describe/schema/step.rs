//! The JSON Schema of one step: its status, what it expects back, and the keys around them
//! (durations are in `duration`).

use serde_json::{Value, json};

use super::properties;
use crate::model::statuses::{Outcome, Status};
use crate::scenario::grammar::{self, EXPECT_CODES, EXPECT_WORDS};

pub(super) fn status_schema() -> Value {
    let codes: Vec<u16> = Status::all().map(Status::code).collect();
    let names: Vec<String> = Status::all()
        .map(|s| s.name().to_owned())
        .chain(Status::all().map(|s| s.code().to_string()))
        .collect();
    let table: Vec<String> = Status::all()
        .map(|s| {
            let end = match s.terminal() {
                Some(Outcome::Success) => ", ends the order: success",
                Some(Outcome::Failure) => ", ends the order: failure",
                None => "",
            };
            format!("{s}: {} ({}{end})", s.label_en(), s.label_zh())
        })
        .collect();
    json!({
        "description": format!(
            "The order_status to send: a code (102) or a name (rider_assigned, in any case). It must be supported by the carrier and allowed after the previous step (the order \
             starts at 101). {}.",
            table.join("; ")
        ),
        "oneOf": [
            {
                "type": "integer",
                "enum": codes,
                "description": "A status code.",
            },
            {
                "type": "string",
                "anyOf": super::any_case(&names),
                "description": "A status name in any case, or a status code written as text.",
            },
        ],
    })
}

/// `expect: {errcode: N}` or `{resultcode: N}`: the code's own description and the form's.
fn expect_code_descriptions(code: &str) -> Option<(&'static str, &'static str)> {
    match code {
        "errcode" => Some((
            "This exact platform errcode, e.g. 930557.",
            "The platform answers with this exact errcode.",
        )),
        "resultcode" => Some((
            "This exact carrier resultcode (with errcode 0).",
            "errcode 0 and this exact carrier resultcode.",
        )),
        _ => None,
    }
}

pub(super) fn expect_schema() -> Value {
    let words = json!({
        "type": "string",
        "enum": EXPECT_WORDS,
        "description": "ok: errcode absent or 0 and resultcode 0. rejected: errcode 0 and \
                        any non-zero resultcode (the carrier said no).",
    });
    let codes = EXPECT_CODES.iter().filter_map(|&code| {
        let (description, form) = expect_code_descriptions(code)?;
        Some(json!({
            "type": "object",
            "additionalProperties": false,
            "required": [code],
            "properties": {
                code: { "type": "integer", "description": description },
            },
            "description": form,
        }))
    });
    json!({
        "description": "What the answer must be for the step to pass. Defaults to ok.",
        "oneOf": std::iter::once(words).chain(codes).collect::<Vec<_>>(),
    })
}

fn step_property(key: &str) -> Option<Value> {
    Some(match key {
        "status" => json!({
            "$ref": "#/$defs/status",
            "description": "The order_status to send: a code (102) or a name (rider_assigned).",
        }),
        "after" => json!({
            "$ref": "#/$defs/duration",
            "description": "How long to wait after the previous step, e.g. 30s or 1m30s; \
                            defaults to 0.",
        }),
        "action_msg" => json!({
            "type": "string",
            "description": "The action_msg sent with the update, e.g. 骑手已接单.",
        }),
        "skip_transition_check" => json!({
            "type": "boolean",
            "description": "Send this step even if the carrier does not allow it after the \
                            previous one (to test how the platform refuses it). When true, \
                            `expect` is required.",
        }),
        "expect" => json!({
            "$ref": "#/$defs/expect",
            "description": "What the answer must be: ok (the default), rejected, \
                            {errcode: N} or {resultcode: N}.",
        }),
        _ => return None,
    })
}

pub(super) fn step_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": grammar::STEP.required,
        "description": "One status change, sent at its time.",
        "properties": properties(&grammar::STEP, step_property),
        "if": {
            "properties": { "skip_transition_check": { "const": true } },
            "required": ["skip_transition_check"],
        },
        "then": { "required": ["expect"] },
    })
}
