//! Scale: a burst of orders shares a small pool of kept-alive connections.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_200_orders_opens_no_more_connections_than_the_pool() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let burst = write_scenario(
        &dir,
        "burst.yaml",
        "carrier: dada\nshop_order_id: \"burst-{{repeat}}-{{run_id}}\"\nrepeat: 200\nsteps:\n  - status: 102\n  - status: 201\n",
    );
    let run = platform
        .simulate()
        .args(["-q", "--connections", "8"])
        .path(&burst)
        .run()
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let accepted = platform.emulator.connections_accepted();
    // At most 8 calls are in flight; hyper may open a connection while a finished one is
    // still on its way back to the pool, so allow that race twice over. One connection per
    // order (the old behaviour) is 200 and more.
    assert!(
        (1..=16).contains(&accepted),
        "400 calls of 200 orders at once opened {accepted} connections; the pool is 8"
    );
    // The same count, as a load test reads it from outside.
    let stats: serde_json::Value = reqwest::get(format!("{}/__simulate/stats", platform.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Counted as it was accepted: the inspection call's own connection is in.
    assert_eq!(stats["connections_accepted"], accepted + 1, "{stats}");
    assert_eq!(platform.status_changes_applied().await, 400);
}
