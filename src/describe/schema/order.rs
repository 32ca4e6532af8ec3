//! The JSON Schema of `order:`, generated from the fields of `order/add` that scenarios check.

use serde_json::{Value, json};

use crate::scenario::order;

/// The JSON Schema of one documented `order/add` field; `~` drops the default.
fn order_field_schema(field: &order::Field) -> Value {
    let mut schema = match field.kind {
        order::Kind::Text => json!({ "type": ["string", "null"] }),
        order::Kind::Number {
            min,
            max,
            above_min,
        } => {
            let mut schema = json!({ "type": ["number", "null"] });
            schema[if above_min {
                "exclusiveMinimum"
            } else {
                "minimum"
            }] = json!(min);
            if max < 1e12 {
                schema["maximum"] = json!(max);
            }
            schema
        }
        order::Kind::Integer { min, max } => {
            let mut schema = json!({ "type": ["integer", "null"], "minimum": min });
            if max != i64::MAX {
                schema["maximum"] = json!(max);
            }
            schema
        }
        order::Kind::Object => json!({ "type": ["object", "null"] }),
    };
    schema["description"] = json!(field.description);
    schema
}

/// The schema of each `order/add` block (`sender`, …) by its key: the documented fields
/// type-checked, `~` dropping one, others passed through. Also the blocks of a carrier file's
/// `order_defaults`, which change the defaults in the same way.
pub(super) fn block_schemas() -> serde_json::Map<String, Value> {
    let mut properties = serde_json::Map::new();
    for block in &order::BLOCKS {
        let fields: serde_json::Map<String, Value> = block
            .fields
            .iter()
            .map(|f| (f.name.to_owned(), order_field_schema(f)))
            .collect();
        let kind = if block.key == "sender" {
            json!(["object", "null"])
        } else {
            json!("object")
        };
        properties.insert(
            block.key.to_owned(),
            json!({
                "type": kind,
                "additionalProperties": true,
                "properties": fields,
                "description": format!(
                    "{} Keys given here replace the default's one by one; `~` drops one; keys \
                     not listed are sent as written.",
                    block.description
                ),
            }),
        );
    }
    properties
}

/// `order:` — create the order through order/add first.
pub(super) fn order_schema() -> Value {
    let mut properties = serde_json::Map::new();
    properties.insert(
        "openid".to_owned(),
        json!({
            "type": "string",
            "minLength": 1,
            "description": format!(
                "The openid order/add is called for: a user of the Mini Program (in the sandbox an \
                 admin, developer or operator). Defaults to the environment variable {}; write \
                 ${{VAR}} to read another one.",
                order::OPENID_VAR
            ),
        }),
    );
    properties.extend(block_schemas());
    json!({
        "description": "Create the order through order/add before the first step, under the \
                        carrier's test account (realmock only moves orders that exist at the \
                        carrier). `true` takes a plausible default order (sender, receiver, cargo, \
                        order_info with order_time = the start of the run, shop); a mapping changes \
                        some of it. ${VAR} expands in every text value.",
        "oneOf": [
            {
                "type": "boolean",
                "description": "true: create the order with every default; false: create none \
                                (as without `order:`).",
            },
            {
                "type": "object",
                "additionalProperties": false,
                "properties": properties,
                "description": "The openid, and the parts of the order/add body to change.",
            },
        ],
    })
}
