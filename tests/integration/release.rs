//! The release workflow is only run on a tag, long after a change to it: these checks make a
//! dropped platform or a broken trigger fail `cargo test` instead of the next release.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::common::repo;

fn workflow() -> Value {
    let path = repo().join(".github/workflows/release.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// Every `target` of the build matrix, with the runner it builds on.
fn targets(workflow: &Value) -> Vec<(String, String)> {
    workflow["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .expect("jobs.build.strategy.matrix.include is a list")
        .iter()
        .map(|t| {
            let field = |k: &str| t[k].as_str().unwrap_or_default().to_owned();
            (field("target"), field("os"))
        })
        .collect()
}

#[test]
fn a_version_tag_starts_the_release() {
    let workflow = workflow();
    let tags = &workflow["on"]["push"]["tags"];
    assert_eq!(tags, &serde_json::json!(["v*"]), "{workflow:#}");
}

#[test]
fn the_five_platforms_are_built_each_on_its_own_kind_of_runner() {
    let targets = targets(&workflow());
    let want = [
        ("x86_64-unknown-linux-musl", "ubuntu"),
        ("aarch64-unknown-linux-musl", "ubuntu"),
        ("x86_64-apple-darwin", "macos"),
        ("aarch64-apple-darwin", "macos"),
        ("x86_64-pc-windows-msvc", "windows"),
    ];
    for (target, runner) in want {
        let found = targets.iter().find(|(t, _)| t == target);
        let (_, os) = found.unwrap_or_else(|| panic!("{target} missing from {targets:?}"));
        assert!(
            os.starts_with(runner),
            "{target} builds on {os}, not {runner}"
        );
    }
    assert_eq!(targets.len(), want.len(), "{targets:?}");
}

#[test]
fn the_archives_and_their_sums_go_to_the_release() {
    let workflow = workflow();
    let text = workflow.to_string();
    for needed in [
        "tar czf",
        "7z a",
        "sha256",
        "SHA256SUMS",
        "softprops/action-gh-release",
    ] {
        assert!(text.contains(needed), "{needed} missing from the workflow");
    }
    assert_eq!(workflow["jobs"]["release"]["needs"], "build");
}
