//! What `simulate` knows, shown to people and editors: the status table, the carrier table,
//! a carrier's transition graph (Mermaid or DOT) and the JSON Schema of scenario files.
//!
//! Every function here is pure and returns text or a JSON value; the CLI decides where it goes.

mod graph;
pub mod new;
mod schema;
mod tables;

pub use graph::{GraphFormat, graph};
#[cfg(test)]
pub use schema::scenario_schema;
pub use schema::scenario_schema_text;
pub use tables::{carriers_table, statuses_table};

/// Where the generated scenario schema lives in the repository.
#[cfg(test)]
pub const SCHEMA_PATH: &str = "schema/scenario.schema.json";

/// The `$id` of the generated scenario schema.
pub const SCHEMA_ID: &str = "https://simulate.dev/schema/scenario.schema.json";

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::Value;

    use super::*;
    use crate::model::carriers::Carriers;

    pub(super) fn builtin() -> Carriers {
        match Carriers::builtin() {
            Ok(c) => c,
            Err(problems) => panic!("built-in carrier file is invalid: {problems:?}"),
        }
    }

    pub(super) fn schema() -> Value {
        scenario_schema(&builtin())
    }

    pub(super) fn validator() -> jsonschema::Validator {
        match jsonschema::draft202012::new(&schema()) {
            Ok(v) => v,
            Err(e) => panic!("the schema does not compile: {e}"),
        }
    }

    #[test]
    fn committed_schema_is_current() {
        let generated = scenario_schema_text(&builtin());
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA_PATH);
        if std::env::var_os("SIMULATE_BLESS").is_some()
            && let Err(e) = std::fs::write(&path, &generated)
        {
            panic!("cannot write {}: {e}", path.display());
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{SCHEMA_PATH} is stale (the status model or the carrier table changed); \
             regenerate it with `SIMULATE_BLESS=1 cargo test --lib describe::tests::committed_schema_is_current` \
             and commit the result"
        );
    }
}
