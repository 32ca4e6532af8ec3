//! What `simulate` knows, shown to people and editors: the status table, the carrier table,
//! a carrier's transition graph (Mermaid or DOT) and the JSON Schemas of scenario and carrier
//! files.
//!
//! Every function here is pure and returns text or a JSON value; the CLI decides where it goes.

mod graph;
pub mod listing;
pub mod new;
mod schema;
pub mod suite;
mod tables;

pub use graph::{GraphFormat, graph};
#[cfg(test)]
pub use schema::scenario_schema;
pub use schema::{carriers_schema_text, scenario_schema_text};
pub use tables::{carriers_table, statuses_table};

/// Where the generated scenario schema lives in the repository.
#[cfg(test)]
pub const SCHEMA_PATH: &str = "schema/scenario.schema.json";

/// The `$id` of the generated scenario schema.
pub const SCHEMA_ID: &str = "https://simulate.dev/schema/scenario.schema.json";

/// Where the generated carrier-file schema lives in the repository.
#[cfg(test)]
pub const CARRIERS_SCHEMA_PATH: &str = "schema/carriers.schema.json";

/// The `$id` of the generated carrier-file schema.
pub const CARRIERS_SCHEMA_ID: &str = "https://simulate.dev/schema/carriers.schema.json";

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

    /// `generated` is what `path` (in the repository) holds, or is written there when blessing.
    fn committed_is_current(path: &str, generated: &str, test: &str) {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        if std::env::var_os("SIMULATE_BLESS").is_some()
            && let Err(e) = std::fs::write(&file, generated)
        {
            panic!("cannot write {}: {e}", file.display());
        }
        let committed = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            committed == generated,
            "{path} is stale (the status model or the carrier table changed); \
             regenerate it with `SIMULATE_BLESS=1 cargo test --lib describe::tests::{test}` \
             and commit the result"
        );
    }

    #[test]
    fn committed_schema_is_current() {
        committed_is_current(
            SCHEMA_PATH,
            &scenario_schema_text(&builtin()),
            "committed_schema_is_current",
        );
    }

    #[test]
    fn committed_carriers_schema_is_current() {
        committed_is_current(
            CARRIERS_SCHEMA_PATH,
            &carriers_schema_text(),
            "committed_carriers_schema_is_current",
        );
    }
}
