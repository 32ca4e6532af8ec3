//! The JSON Schema (draft 2020-12) of carrier files (the built-in table and `--carriers FILE`),
//! generated from the status model and the fields the carrier table reads.

use serde_json::{Value, json};

use super::order::block_schemas;
use crate::describe::CARRIERS_SCHEMA_ID;
use crate::model::carriers::{ORDER_ADD_FIELDS, ORDER_CANCEL_FIELDS, SignError};
use crate::model::statuses::Status;

/// A field path whose first name is one of `fields`: `sender`, `order_info.order_time`.
fn path_schema(fields: &[&str], call: &str) -> Value {
    json!({
        "type": "array",
        "items": {
            "type": "string",
            "pattern": format!("^({})(\\.[A-Za-z0-9_]+)*$", fields.join("|")),
        },
        "description": format!(
            "Fields {call} must carry for this carrier beyond what the platform requires, by \
             name, with dots for one inside an object (e.g. order_info.order_time). Fields of \
             the call: {}.",
            fields.join(", ")
        ),
    })
}

fn text(description: &str) -> Value {
    json!({ "type": "string", "description": description })
}

fn carrier_schema() -> Value {
    let default_sign = SignError::default();
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["id", "delivery_id", "name", "call", "version", "account", "statuses"],
        "description": "One carrier profile. A profile whose id is a built-in one replaces that \
                        profile whole, quirks included.",
        "properties": {
            "id": {
                "type": "string",
                "minLength": 1,
                "description": "The carrier's id, as scenarios name it (`carrier: sftc`); read \
                                in any case.",
            },
            "aliases": {
                "type": "array",
                "items": { "type": "string", "minLength": 1 },
                "description": "Other names scenarios may use for the carrier.",
            },
            "delivery_id": text("WeChat's delivery_id of the carrier (SFTC, DADA, TEST, …)."),
            "name": {
                "type": "object",
                "additionalProperties": false,
                "required": ["en", "zh"],
                "description": "The carrier's name for reports.",
                "properties": {
                    "en": text("In English."),
                    "zh": text("In Chinese."),
                },
            },
            "call": {
                "enum": ["realmock", "test_update_order", "none"],
                "description": "Which WeChat call moves the carrier's orders: realmock \
                                (realmock_update_order, signed, forwarded to the carrier's test \
                                environment), test_update_order (the sandbox, not signed) or none \
                                (no test call reaches the carrier: a profile for the order APIs \
                                only, which scenarios cannot play).",
            },
            "version": text("The profile's version, carried into reports."),
            "account": {
                "type": "object",
                "additionalProperties": false,
                "required": ["shopid", "appsecret", "shop_no"],
                "description": "The carrier's public test account, used when a scenario gives \
                                no `shop:`.",
                "properties": {
                    "shopid": text("The carrier-side shop id (appkey). Quote it when it is all digits."),
                    "appsecret": text("The account's secret, for delivery_sign; write ${VAR} to \
                                       read it from an environment variable instead of \
                                       committing it. Never printed."),
                    "shop_no": text("The store's number under the account."),
                },
            },
            "statuses": {
                "type": "array",
                "items": { "$ref": "#/$defs/status" },
                "description": "The statuses the test account can be moved to. It may move \
                                from A to B when B is here and the lifecycle reaches B from A \
                                through statuses that are not.",
            },
            "extra_edges": {
                "type": "array",
                "items": { "$ref": "#/$defs/edge" },
                "description": "Moves [from, to] allowed besides those the lifecycle gives.",
            },
            "forbidden_edges": {
                "type": "array",
                "items": { "$ref": "#/$defs/edge" },
                "description": "Moves [from, to] refused although the lifecycle gives them.",
            },
            "required": {
                "type": "object",
                "additionalProperties": false,
                "description": "Fields the carrier's calls need beyond the platform's own; \
                                none by default. The scenario check and the emulator read the \
                                same list.",
                "properties": {
                    "order_add": path_schema(&ORDER_ADD_FIELDS, "order/add and order/pre_add"),
                    "order_cancel": path_schema(&ORDER_CANCEL_FIELDS, "order/cancel"),
                },
            },
            "sign_error": {
                "type": "object",
                "additionalProperties": false,
                "required": ["resultcode", "resultmsg"],
                "description": format!(
                    "The carrier's answer to a wrong delivery_sign, as the emulator gives it: \
                     errcode 0 with this resultcode, and a resultmsg starting with this text. \
                     Default: resultcode {} {}.",
                    default_sign.resultcode, default_sign.resultmsg
                ),
                "properties": {
                    "resultcode": {
                        "type": "integer",
                        "not": { "const": 0 },
                        "description": "Not 0, which means success.",
                    },
                    "resultmsg": text("The start of the resultmsg."),
                },
            },
            "order_defaults": {
                "$ref": "#/$defs/order_defaults",
                "description": "Changes to the table's order_defaults for this carrier, key by \
                                key.",
            },
            "order_rules": order_rules_schema(),
        },
    })
}

/// `order_rules`: the carrier's tips, cancels, re-dispatch and delivery_token in the emulator.
fn order_rules_schema() -> Value {
    let money = |d: &str| json!({ "type": "number", "minimum": 0, "description": d });
    json!({
        "type": "object",
        "additionalProperties": false,
        "description": "How the emulator answers the merchant's order calls for this carrier.",
        "properties": {
            "tips": {
                "type": "object",
                "additionalProperties": false,
                "description": "order/addtips: only at 101, each tip above the last; these limits on top.",
                "properties": {
                    "supported": { "type": "boolean", "description": "Takes tips at all (default true)." },
                    "max": money("The largest tip, in yuan."),
                    "times": { "type": "integer", "minimum": 0, "description": "Tips per order." },
                    "tiers": { "type": "array", "items": { "type": "number" }, "description": "The only amounts taken." },
                    "within_goods_value": { "type": "boolean", "description": "Not above cargo.goods_value." },
                },
            },
            "cancel": {
                "type": "object",
                "additionalProperties": false,
                "description": "order/precancel and order/cancel.",
                "properties": {
                    "allowed_at": { "type": "array", "items": { "type": "integer" }, "description": "Statuses a cancel is taken at (default 101, 102, 201, 202, 301)." },
                    "refusal": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["resultcode", "resultmsg"],
                        "description": "The carrier's answer to a cancel at another status (default 9110).",
                        "properties": {
                            "resultcode": { "type": "integer", "description": "The carrier's resultcode." },
                            "resultmsg": text("The carrier's answer."),
                        },
                    },
                    "fee_before_rider": money("deduct_fee before a rider is assigned (default 0)."),
                    "fee_after_rider": money("deduct_fee once a rider is assigned (default 2)."),
                    "grace_seconds": { "type": "integer", "minimum": 0, "description": "Free this long after a rider is assigned (default 0)." },
                },
            },
            "readd": { "type": "boolean", "description": "Takes order/readd (default true)." },
            "delivery_token_seconds": { "type": "integer", "minimum": 1, "description": "order/pre_add issues a delivery_token valid this long." },
            "quote": { "type": "boolean", "description": "order/pre_add answers the fee, distance and time (default true); false: only its result code." },
        },
    })
}

/// The JSON Schema (draft 2020-12) of carrier files.
pub fn carriers_schema() -> Value {
    let codes: Vec<u16> = Status::all().map(Status::code).collect();
    let code_keys: Vec<String> = codes.iter().map(u16::to_string).collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": CARRIERS_SCHEMA_ID,
        "title": "simulate carrier table",
        "description": "Carrier profiles for `simulate`: the built-in table, or a file given \
                        with `--carriers FILE` that replaces or extends it. ${VAR} in any text \
                        value reads the environment variable VAR. Generated by simulate from \
                        its status model and the fields it reads; do not edit by hand.",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "version": text("The table's version, carried into reports; defaults to the \
                             built-in table's."),
            "replace_builtin": {
                "type": "boolean",
                "description": "true: drop the built-in profiles (their lifecycle and \
                                order_defaults still apply unless given here).",
            },
            "lifecycle": {
                "type": "object",
                "propertyNames": { "enum": code_keys },
                "additionalProperties": {
                    "type": "array",
                    "items": { "$ref": "#/$defs/status" },
                },
                "description": "For each status, the statuses an order may go to next; \
                                defaults to the built-in table's.",
            },
            "order_defaults": {
                "$ref": "#/$defs/order_defaults",
                "description": "The order/add body a scenario's `order:` starts from, for \
                                every carrier; a file given with --carriers changes the \
                                built-in one key by key. order_info.order_time is the start of \
                                the run unless given.",
            },
            "carriers": {
                "type": "array",
                "items": { "$ref": "#/$defs/carrier" },
                "description": "The carrier profiles.",
            },
        },
        "$defs": {
            "status": {
                "type": "integer",
                "enum": codes,
                "description": "A status code.",
            },
            "edge": {
                "type": "array",
                "prefixItems": [{ "$ref": "#/$defs/status" }, { "$ref": "#/$defs/status" }],
                "items": false,
                "minItems": 2,
                "maxItems": 2,
                "description": "A move [from, to].",
            },
            "order_defaults": {
                "type": "object",
                "additionalProperties": false,
                "properties": block_schemas(),
                "description": "Defaults of the order/add blocks; a key written ~ drops one, \
                                and `sender: ~` drops the store (an account with a shop_no may \
                                go without it).",
            },
            "carrier": carrier_schema(),
        },
    })
}

/// [`carriers_schema`] as pretty JSON with a trailing newline, as committed in
/// `schema/carriers.schema.json`.
pub fn carriers_schema_text() -> String {
    format!("{:#}\n", carriers_schema())
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::describe::schema::tests::missing_descriptions;

    fn validator() -> jsonschema::Validator {
        match jsonschema::draft202012::new(&carriers_schema()) {
            Ok(v) => v,
            Err(e) => panic!("the carriers schema does not compile: {e}"),
        }
    }

    fn yaml(text: &str) -> Value {
        match serde_saphyr::from_str::<Value>(text) {
            Ok(v) => v,
            Err(e) => panic!("bad YAML in the test: {e}\n{text}"),
        }
    }

    fn problems(doc: &str) -> Vec<String> {
        validator()
            .iter_errors(&yaml(doc))
            .map(|e| e.instance_path().to_string())
            .collect()
    }

    #[test]
    fn schema_is_valid_and_described() {
        let schema = carriers_schema();
        if let Err(e) = jsonschema::meta::validate(&schema) {
            panic!("not a valid JSON Schema: {e}");
        }
        assert_eq!(schema["$id"], CARRIERS_SCHEMA_ID);
        let missing = missing_descriptions(&schema);
        assert!(missing.is_empty(), "no description: {missing:?}");
    }

    #[test]
    fn the_builtin_carrier_file_is_valid() {
        let found = problems(crate::model::carriers::BUILTIN_YAML);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn user_files_are_checked_where_they_are_wrong() {
        let acme = "carriers:\n  - id: acme\n    delivery_id: ACME\n    name: { en: Acme Courier, zh: 示例快送 }\n    call: realmock\n    version: acme-1\n    account: { shopid: m, appsecret: \"${ACME_SECRET}\", shop_no: m1 }\n    statuses: [102, 302]\n";
        let valid = format!(
            "{acme}    required: {{ order_add: [sender, order_info.order_time], order_cancel: [waybill_id] }}\n    sign_error: {{ resultcode: 40013, resultmsg: 签名错误 }}\n    order_defaults:\n      sender: ~\n      receiver: {{ city: 北京市, lng: 116.4, door: 3 }}\n    extra_edges: [[102, 302]]\nversion: team-1\nreplace_builtin: true\norder_defaults:\n  cargo: {{ goods_value: 10 }}\nlifecycle:\n  101: [102]\n"
        );
        assert_eq!(problems(&valid), Vec::<String>::new());
        let cases = [
            ("unknown top key", format!("{acme}speed: 1\n"), ""),
            (
                "unknown carrier key",
                acme.replace("    call:", "    cal: x\n    call:"),
                "/carriers/0",
            ),
            (
                "missing account",
                acme.replace(
                    "    account: { shopid: m, appsecret: \"${ACME_SECRET}\", shop_no: m1 }\n",
                    "",
                ),
                "/carriers/0",
            ),
            (
                "bad status",
                acme.replace("[102, 302]", "[102, 999]"),
                "/carriers/0/statuses/1",
            ),
            (
                "bad call",
                acme.replace("call: realmock", "call: mock"),
                "/carriers/0/call",
            ),
            (
                "unknown required field",
                format!("{acme}    required: {{ order_add: [sendr] }}\n"),
                "/carriers/0/required/order_add/0",
            ),
            (
                "resultcode 0",
                format!("{acme}    sign_error: {{ resultcode: 0, resultmsg: x }}\n"),
                "/carriers/0/sign_error/resultcode",
            ),
            (
                "sign_error without its message",
                format!("{acme}    sign_error: {{ resultcode: 5 }}\n"),
                "/carriers/0/sign_error",
            ),
            (
                "unknown defaults block",
                format!("{acme}    order_defaults: {{ store: {{}} }}\n"),
                "/carriers/0/order_defaults",
            ),
            (
                "a coordinate as text",
                format!("{acme}order_defaults: {{ sender: {{ lng: \"1\" }} }}\n"),
                "/order_defaults/sender/lng",
            ),
            (
                "an edge of three",
                format!("{acme}    extra_edges: [[102, 202, 302]]\n"),
                "/carriers/0/extra_edges/0",
            ),
            (
                "a lifecycle key that is no status",
                format!("{acme}lifecycle: {{ 999: [102] }}\n"),
                "/lifecycle",
            ),
        ];
        for (what, text, at) in cases {
            let found = problems(&text);
            assert!(
                found.iter().any(|p| p == at),
                "{what}: expected a problem at {at:?}, got {found:?}\n{text}"
            );
        }
    }
}
