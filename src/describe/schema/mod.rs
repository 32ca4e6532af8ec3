//! The JSON Schemas (draft 2020-12) of scenario files, generated from the status model, the
//! carrier table and the keys the scenario checks allow (`scenario::grammar`), and of carrier
//! files ([`carriers`]), for editors and checks outside `simulate`.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::SCHEMA_ID;
use super::tables::codes;
use crate::model::carriers::Carriers;
use crate::scenario::grammar::{self, Keys};

mod carriers;
mod duration;
mod order;
mod step;

pub use carriers::carriers_schema_text;
use duration::duration_schema;
use order::order_schema;
use step::{expect_schema, status_schema, step_schema};

fn carrier_schema(carriers: &Carriers) -> Value {
    // A scenario can play only the carriers a test call reaches.
    let playable: Vec<&std::sync::Arc<crate::model::carriers::Carrier>> = carriers
        .all()
        .iter()
        .filter(|c| c.call != crate::model::carriers::Call::None)
        .collect();
    let names: Vec<String> = playable
        .iter()
        .flat_map(|c| c.names().map(str::to_ascii_lowercase).collect::<Vec<_>>())
        .collect::<BTreeSet<String>>()
        .into_iter()
        .collect();
    let known: Vec<String> = playable
        .iter()
        .map(|c| {
            let names: Vec<&str> = c.names().collect();
            format!(
                "{} = {} ({}, delivery_id {}; supports {})",
                names.join(" / "),
                c.name_en,
                c.name_zh,
                c.delivery_id,
                codes(c.supported.iter().copied())
            )
        })
        .collect();
    json!({
        "type": "string",
        "anyOf": any_case(&names),
        "description": format!(
            "The carrier whose test account the order belongs to, by id or alias, in any case \
             (simulate reads `SF` as `sf`). Built-in carriers (table {}): {}. Carriers added \
             with `--carriers FILE` are not listed here.",
            carriers.version,
            known.join("; ")
        ),
    })
}

/// `anyOf` for a name taken in any case: the names as listed (editors offer them) or the same
/// letters in another case (JSON Schema patterns have no case-insensitive flag).
pub(super) fn any_case(names: &[String]) -> Value {
    let spelled: Vec<String> = names
        .iter()
        .map(|name| {
            name.chars()
                .map(|c| {
                    let (lower, upper) = (c.to_ascii_lowercase(), c.to_ascii_uppercase());
                    if lower == upper {
                        format!("\\x{:02x}", u32::from(c))
                    } else {
                        format!("[{lower}{upper}]")
                    }
                })
                .collect()
        })
        .collect();
    json!([
        { "enum": names },
        { "pattern": format!("^(?:{})$", spelled.join("|")) },
    ])
}

/// The `properties` of a mapping: one for each key the scenario checks allow, from
/// `property`. A key `property` does not know is left out, which the tests catch.
fn properties(keys: &Keys, property: impl Fn(&str) -> Option<Value>) -> Value {
    Value::Object(
        keys.allowed
            .iter()
            .filter_map(|&key| Some((key.to_owned(), property(key)?)))
            .collect(),
    )
}

fn shop_property(key: &str) -> Option<Value> {
    Some(match key {
        "shopid" => json!({
            "type": "string",
            "minLength": 1,
            "description": "The carrier-side shop id (appkey). Quote it when it is all digits.",
        }),
        "appsecret" => json!({
            "type": "string",
            "description": "The carrier account's secret, used for delivery_sign; write \
                            ${VAR} to read it from an environment variable instead of \
                            committing it. Never printed.",
        }),
        _ => return None,
    })
}

fn shop_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": grammar::SHOP.required,
        "description": "The carrier account to use instead of the carrier's public test account.",
        "properties": properties(&grammar::SHOP, shop_property),
    })
}

/// The schema of one top-level key of a scenario.
fn scenario_property(key: &str, carriers: &Carriers) -> Option<Value> {
    Some(match key {
        "name" => json!({
            "type": "string",
            "description": "A name for reports; defaults to the file name without extension.",
        }),
        "carrier" => carrier_schema(carriers),
        "shop_order_id" => json!({
            "type": "string",
            "minLength": 1,
            "description": "The order to move, as placed under the carrier's test account. \
                            Templates: {{run_id}}, {{uuid}}, {{scenario}}, {{timestamp}} \
                            (e.g. qa-{{run_id}}), so reruns do not reuse an order; with \
                            `repeat: N`, {{repeat}} is the order's number, 1 to N (without \
                            it, -1 to -N is added at the end).",
        }),
        "shop" => json!({
            "$ref": "#/$defs/shop",
            "description": "The carrier account to use (shopid, appsecret); defaults to the \
                            carrier's public test account.",
        }),
        "order" => json!({
            "$ref": "#/$defs/order",
            "description": "Create the order through order/add first: true for the \
                            defaults, or a mapping of openid, sender, receiver, cargo, \
                            order_info, shop to change some of them.",
        }),
        "repeat" => json!({
            "type": "integer",
            "minimum": 1,
            "maximum": crate::scenario::MAX_REPEAT,
            "description": "Play the steps for this many orders at once, each with its own \
                            order id (see {{repeat}} in shop_order_id) and its own draws of \
                            delay ranges; names get \" #1\" to \" #N\".",
        }),
        "steps" => json!({
            "type": "array",
            "minItems": 1,
            "items": { "$ref": "#/$defs/step" },
            "description": "The status changes to send, in order; at least one.",
        }),
        _ => return None,
    })
}

/// The JSON Schema (draft 2020-12) of scenario files, generated from the status model and the
/// carrier table.
pub fn scenario_schema(carriers: &Carriers) -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "simulate scenario",
        "description": "One delivery order's life for `simulate`: the carrier, the order and the \
                        status changes to send to WeChat, in order. Generated by simulate from \
                        its status model and carrier table; do not edit by hand.",
        "type": "object",
        "additionalProperties": false,
        "required": grammar::SCENARIO.required,
        "properties": properties(&grammar::SCENARIO, |key| scenario_property(key, carriers)),
        "$defs": {
            "shop": shop_schema(),
            "order": order_schema(),
            "step": step_schema(),
            "status": status_schema(),
            "duration": duration_schema(),
            "expect": expect_schema(),
        },
    })
}

/// [`scenario_schema`] as pretty JSON with a trailing newline, as committed in
/// `schema/scenario.schema.json`.
pub fn scenario_schema_text(carriers: &Carriers) -> String {
    format!("{:#}\n", scenario_schema(carriers))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::{Value, json};

    use super::*;
    use crate::describe::tests::{builtin, schema, validator};

    fn yaml(text: &str) -> Value {
        match serde_saphyr::from_str::<Value>(text) {
            Ok(v) => v,
            Err(e) => panic!("bad YAML in the test: {e}\n{text}"),
        }
    }

    /// Where the validator finds problems, as JSON pointers.
    fn problems(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
        validator
            .iter_errors(doc)
            .map(|e| e.instance_path().to_string())
            .collect()
    }

    #[test]
    fn schema_is_valid_draft_2020_12() {
        let schema = schema();
        if let Err(e) = jsonschema::meta::validate(&schema) {
            panic!("not a valid JSON Schema: {e}");
        }
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(schema["$id"], SCHEMA_ID);
        assert!(scenario_schema_text(&builtin()).ends_with("}\n"));
    }

    /// Where a property of `schema` has no description, as paths.
    pub(super) fn missing_descriptions(schema: &Value) -> Vec<String> {
        fn walk(value: &Value, at: &str, missing: &mut Vec<String>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::Object(props)) = map.get("properties") {
                        for (name, prop) in props {
                            if prop.get("description").is_none() {
                                missing.push(format!("{at}/properties/{name}"));
                            }
                        }
                    }
                    // `if` only tests a value; it is not shown to anyone.
                    for (key, child) in map.iter().filter(|(key, _)| *key != "if") {
                        walk(child, &format!("{at}/{key}"), missing);
                    }
                }
                Value::Array(items) => {
                    for (i, child) in items.iter().enumerate() {
                        walk(child, &format!("{at}/{i}"), missing);
                    }
                }
                _ => {}
            }
        }
        let mut missing = Vec::new();
        walk(schema, "", &mut missing);
        missing
    }

    #[test]
    fn every_property_has_a_description() {
        let missing = missing_descriptions(&schema());
        assert!(missing.is_empty(), "no description: {missing:?}");
    }

    #[test]
    fn schema_lists_every_carrier_name_and_status() {
        let schema = schema();
        assert_eq!(
            schema["properties"]["carrier"]["anyOf"][0]["enum"],
            json!(["dada", "sandbox", "sf", "sftc", "shunfeng", "test"])
        );
        assert_eq!(
            schema["properties"]["repeat"]["maximum"],
            json!(crate::scenario::MAX_REPEAT)
        );
        let order = &schema["$defs"]["order"]["oneOf"][1]["properties"];
        let keys: Vec<&str> = order
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut expected = crate::scenario::order::ORDER_KEYS.to_vec();
        expected.sort_unstable();
        assert_eq!(keys, expected);
        assert!(
            schema["properties"]["shop_order_id"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("{{repeat}}"))
        );
        let status = &schema["$defs"]["status"]["oneOf"];
        assert_eq!(status[0]["enum"].as_array().map(Vec::len), Some(16));
        assert_eq!(
            status[1]["anyOf"][0]["enum"].as_array().map(Vec::len),
            Some(32)
        );
    }

    #[test]
    fn names_pass_in_any_case_as_the_tool_reads_them() {
        let validator = validator();
        for doc in [
            "carrier: SF\nshop_order_id: qa-1\nsteps:\n  - status: Rider_Assigned\n",
            "carrier: Dada\nshop_order_id: qa-1\nsteps:\n  - status: DELIVERED\n",
        ] {
            assert_eq!(
                problems(&validator, &yaml(doc)),
                Vec::<String>::new(),
                "{doc}"
            );
        }
        for doc in [
            "carrier: SFX\nshop_order_id: qa-1\nsteps:\n  - status: 102\n",
            "carrier: sf\nshop_order_id: qa-1\nsteps:\n  - status: delivred\n",
        ] {
            assert!(!problems(&validator, &yaml(doc)).is_empty(), "{doc}");
        }
    }

    /// The keys of a schema object, sorted.
    fn keys_of(object: &Value) -> Vec<String> {
        object
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn sorted(keys: &[&str]) -> Vec<String> {
        let mut keys: Vec<String> = keys.iter().map(|&k| k.to_owned()).collect();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn schema_has_exactly_the_keys_the_checks_allow() {
        let schema = schema();
        for (at, keys) in [
            ("", &grammar::SCENARIO),
            ("/$defs/step", &grammar::STEP),
            ("/$defs/shop", &grammar::SHOP),
        ] {
            let object = schema.pointer(at).unwrap_or(&Value::Null);
            assert_eq!(keys_of(&object["properties"]), sorted(keys.allowed), "{at}");
            assert_eq!(object["required"], json!(keys.required), "{at}");
            assert_eq!(object["additionalProperties"], json!(false), "{at}");
        }
        let expect = &schema["$defs"]["expect"]["oneOf"];
        assert_eq!(expect[0]["enum"], json!(grammar::EXPECT_WORDS));
        let codes: Vec<String> = expect
            .as_array()
            .map(|forms| {
                forms
                    .iter()
                    .skip(1)
                    .flat_map(|f| keys_of(&f["properties"]))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(codes, grammar::EXPECT_CODES);
    }

    #[test]
    fn scenario_files_are_valid() {
        let validator = validator();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return; // No scenarios yet; the inline documents below still run.
        };
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        files.sort();
        for file in files {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => panic!("cannot read {}: {e}", file.display()),
            };
            let doc = yaml(&text);
            let errors: Vec<String> = validator
                .iter_errors(&doc)
                .map(|e| format!("{}: {e}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
        }
    }

    #[test]
    fn inline_valid_documents_pass() {
        let validator = validator();
        let docs = [
            "carrier: dada\nshop_order_id: qa-1\nsteps:\n  - status: 102\n",
            r#"
name: Everything
carrier: SHUNFENG_PLACEHOLDER
shop_order_id: qa-{{run_id}}-{{uuid}}
shop:
  shopid: dadaaee18818d97e236
  appsecret: ${DADA_APPSECRET}
steps:
  - status: rider_assigned
    after: 0
    action_msg: 骑手已接单
  - status: "201"
    after: 1m30s
  - status: 202
    after: 1.5s
    expect: ok
  - status: 302
    after: 500ms
    skip_transition_check: true
    expect: rejected
  - status: 302
    after: 1h
    skip_transition_check: false
  - status: delivered
    skip_transition_check: true
    expect: { errcode: 930557 }
  - status: delivered
    after: 2m
    skip_transition_check: true
    expect: { resultcode: 2003 }
"#,
            "carrier: test\nshop_order_id: x\nshop: { shopid: test_shop_id }\nsteps: [{status: 103, after: 0s}]\n",
            "carrier: dada\nshop_order_id: \"x-{{repeat}}\"\nrepeat: 1000\norder: true\nsteps: [{status: 102, after: 20s..40s}]\n",
            "carrier: dada\nshop_order_id: x\norder: false\nrepeat: 1\nsteps: [{status: 102, after: 0..1m}]\n",
            "carrier: dada\nshop_order_id: x\norder: {}\nsteps: [{status: 102}]\n",
            r#"
carrier: sf
shop_order_id: qa-{{run_id}}
order:
  openid: ${WECHAT_OPENID}
  sender: { name: 店, lng: 113.947521, lat: 22.539102, coordinate_type: 0, door: "3" }
  receiver: { name: 张三, phone: "13800138000", address_detail: ~ }
  cargo:
    goods_value: 12.5
    goods_weight: 1
    goods_detail: { goods: [{ good_name: 书, good_count: 1 }] }
    anything: [1, 2]
  order_info: { order_type: 0, order_time: 1795904130, is_insured: 0, tips: 0 }
  shop: { wxa_path: /p, goods_count: 2 }
steps:
  - { status: 102, after: 20s..40s }
"#,
            "carrier: dada\nshop_order_id: x\norder: {sender: ~}\nsteps: [{status: 102}]\n",
        ];
        for doc in docs {
            let doc = yaml(&doc.replace("SHUNFENG_PLACEHOLDER", "shunfeng"));
            let found = problems(&validator, &doc);
            assert!(found.is_empty(), "{doc}: {found:?}");
        }
    }

    #[test]
    fn inline_invalid_documents_are_rejected_where_they_are_wrong() {
        let validator = validator();
        let base = "carrier: dada\nshop_order_id: qa-1\n";
        let cases: [(&str, String, &str); 34] = [
            (
                "unknown top-level key",
                format!("{base}speed: 2\nsteps: [{{status: 102}}]\n"),
                "",
            ),
            (
                "unknown step key",
                format!("{base}steps: [{{status: 102, delay: 5s}}]\n"),
                "/steps/0",
            ),
            (
                "unknown shop key",
                format!("{base}shop: {{shopid: a, shop_no: b}}\nsteps: [{{status: 102}}]\n"),
                "/shop",
            ),
            (
                "shop without shopid",
                format!("{base}shop: {{appsecret: x}}\nsteps: [{{status: 102}}]\n"),
                "/shop",
            ),
            (
                "unknown carrier",
                "carrier: meituan\nshop_order_id: a\nsteps: [{status: 102}]\n".to_owned(),
                "/carrier",
            ),
            (
                "missing carrier",
                "shop_order_id: a\nsteps: [{status: 102}]\n".to_owned(),
                "",
            ),
            (
                "missing shop_order_id",
                "carrier: dada\nsteps: [{status: 102}]\n".to_owned(),
                "",
            ),
            (
                "bad status code",
                format!("{base}steps: [{{status: 999}}]\n"),
                "/steps/0/status",
            ),
            (
                "bad status name",
                format!("{base}steps: [{{status: teleported}}]\n"),
                "/steps/0/status",
            ),
            (
                "missing status",
                format!("{base}steps: [{{after: 1s}}]\n"),
                "/steps/0",
            ),
            (
                "duration without unit",
                format!("{base}steps: [{{status: 102, after: \"30\"}}]\n"),
                "/steps/0/after",
            ),
            (
                "duration as a bare number",
                format!("{base}steps: [{{status: 102, after: 30}}]\n"),
                "/steps/0/after",
            ),
            (
                "unknown duration unit",
                format!("{base}steps: [{{status: 102, after: 5sec}}]\n"),
                "/steps/0/after",
            ),
            (
                "units out of order",
                format!("{base}steps: [{{status: 102, after: 30s1m}}]\n"),
                "/steps/0/after",
            ),
            (
                "negative duration",
                format!("{base}steps: [{{status: 102, after: -5s}}]\n"),
                "/steps/0/after",
            ),
            (
                "skip_transition_check without expect",
                format!(
                    "{base}steps:\n  - status: 102\n  - status: 302\n    skip_transition_check: true\n"
                ),
                "/steps/1",
            ),
            ("empty steps", format!("{base}steps: []\n"), "/steps"),
            (
                "unknown expect word",
                format!("{base}steps: [{{status: 102, expect: maybe}}]\n"),
                "/steps/0/expect",
            ),
            (
                "expect with two codes",
                format!("{base}steps: [{{status: 102, expect: {{errcode: 1, resultcode: 2}}}}]\n"),
                "/steps/0/expect",
            ),
            (
                "expect code as text",
                format!("{base}steps: [{{status: 102, expect: {{errcode: \"x\"}}}}]\n"),
                "/steps/0/expect",
            ),
            (
                "range without a unit",
                format!("{base}steps: [{{status: 102, after: 20s..40}}]\n"),
                "/steps/0/after",
            ),
            (
                "range with three dots",
                format!("{base}steps: [{{status: 102, after: 20s...40s}}]\n"),
                "/steps/0/after",
            ),
            (
                "repeat zero",
                format!("{base}repeat: 0\nsteps: [{{status: 102}}]\n"),
                "/repeat",
            ),
            (
                "repeat too many",
                format!("{base}repeat: 1001\nsteps: [{{status: 102}}]\n"),
                "/repeat",
            ),
            (
                "repeat as text",
                format!("{base}repeat: \"3\"\nsteps: [{{status: 102}}]\n"),
                "/repeat",
            ),
            (
                "order as text",
                format!("{base}order: later\nsteps: [{{status: 102}}]\n"),
                "/order",
            ),
            (
                "order as null",
                format!("{base}order:\nsteps: [{{status: 102}}]\n"),
                "/order",
            ),
            (
                "unknown order key",
                format!("{base}order: {{reciever: {{name: x}}}}\nsteps: [{{status: 102}}]\n"),
                "/order",
            ),
            (
                "coordinate as text",
                format!(
                    "{base}order: {{receiver: {{lng: \"113.9\"}}}}\nsteps: [{{status: 102}}]\n"
                ),
                "/order",
            ),
            (
                "goods worth nothing",
                format!("{base}order: {{cargo: {{goods_value: 0}}}}\nsteps: [{{status: 102}}]\n"),
                "/order",
            ),
            (
                "too heavy",
                format!("{base}order: {{cargo: {{goods_weight: 51}}}}\nsteps: [{{status: 102}}]\n"),
                "/order",
            ),
            (
                "order type 2",
                format!(
                    "{base}order: {{order_info: {{order_type: 2}}}}\nsteps: [{{status: 102}}]\n"
                ),
                "/order",
            ),
            (
                "receiver dropped",
                format!("{base}order: {{receiver: ~}}\nsteps: [{{status: 102}}]\n"),
                "/order",
            ),
            (
                "empty openid",
                format!("{base}order: {{openid: \"\"}}\nsteps: [{{status: 102}}]\n"),
                "/order",
            ),
        ];
        for (what, text, at) in cases {
            let doc = yaml(&text);
            let found = problems(&validator, &doc);
            assert!(
                found.iter().any(|p| p == at),
                "{what}: expected a problem at {at:?}, got {found:?}\n{text}"
            );
        }
    }
}
