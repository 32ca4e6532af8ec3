//! A merchant's SDK from the npm registry against `simulate serve`: node-easywechat (EasyWeChat
//! for Node.js) fetches a stable token and makes the delivery calls (getall, order/add,
//! order/get, realmock_update_order, order/cancel) through its own client, pointed at serve by
//! its `http.baseURL` setting. tests/sdk/ holds the script and the locked package; .ci/run
//! installs it with `npm ci`. Skipped (with a message) when node or the package is missing,
//! unless SIMULATE_REQUIRE_SDK=1.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::Command;

use crate::common::repo;
use crate::serve_child::Serve;

fn sdk_ready() -> bool {
    let dir = repo().join("tests/sdk");
    let installed = dir
        .join("node_modules/node-easywechat/package.json")
        .exists();
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if installed && node {
        return true;
    }
    let message = "node and tests/sdk/node_modules are needed (cd tests/sdk && npm ci)";
    assert!(
        std::env::var("SIMULATE_REQUIRE_SDK").as_deref() != Ok("1"),
        "SIMULATE_REQUIRE_SDK=1 but {message}"
    );
    eprintln!("skipped: {message}");
    false
}

#[tokio::test]
async fn node_easywechat_runs_its_delivery_calls_against_serve() {
    if !sdk_ready() {
        return;
    }
    let serve = Serve::start(&[]);
    let base = serve.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(repo().join("tests/sdk/delivery.js"))
            .current_dir(repo().join("tests/sdk"))
            .env("SIMULATE_BASE_URL", &base)
            .env_remove("HTTP_PROXY")
            .env_remove("HTTPS_PROXY")
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .output()
    })
    .await
    .expect("thread")
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for step in [
        "\"token\"",
        "\"delivery/getall\"",
        "\"order/add\"",
        "\"order/get\"",
        "\"realmock_update_order\"",
        "\"order/cancel\"",
        "\"done\"",
    ] {
        assert!(stdout.contains(step), "{step} missing:\n{stdout}");
    }
    drop(serve);
}
