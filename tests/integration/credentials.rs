//! App credentials: a token fetched from `/cgi-bin/stable_token`, fetched again when the
//! platform retires it, asked again when the endpoint is busy, and refused at once when the
//! credentials are wrong.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use simulate::emulator::{DEV_APPID, DEV_SECRET};

use crate::common::*;

/// What a run says when the platform refused the credentials (at the start or mid-run).
const REFUSED: [&str; 2] = [
    "refused the app credentials",
    "the platform refused the credentials",
];

/// One order for sf: 102 now, 202 `after` later.
fn two_steps(dir: &tempfile::TempDir, id: &str, after: &str) -> std::path::PathBuf {
    write_scenario(
        dir,
        &format!("{id}.yaml"),
        &format!(
            "carrier: sf\nshop_order_id: {id}-{{{{run_id}}}}\nsteps:\n  - status: 102\n  - status: 202\n    after: {after}\n"
        ),
    )
}

/// `simulate run` with app credentials against `endpoint`, quick retries.
fn with_credentials(endpoint: &str, secret: &str) -> Sim {
    Sim::new()
        .args([
            "--endpoint",
            endpoint,
            "--appid",
            DEV_APPID,
            "--app-secret",
            secret,
            "--retries",
            "3",
            "--retry-backoff",
            "20ms",
        ])
        .env("WECHAT_OPENID", "o-simulate-test-openid")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_retired_mid_run_is_fetched_again_and_the_call_retried_once() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = two_steps(&dir, "retired", "1s");
    let run = tokio::spawn(
        with_credentials(&platform.url(), DEV_SECRET)
            .path(&path)
            .run(),
    );

    // Between the steps: a forced refresh retires the token the run holds.
    let waiting = Instant::now();
    while platform.calls_received().await < 1 {
        assert!(
            waiting.elapsed() < Duration::from_secs(3),
            "the first step never arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let forced: Value = reqwest::Client::new()
        .post(format!("{}/cgi-bin/stable_token", platform.url()))
        .json(&json!({
            "grant_type": "client_credential",
            "appid": DEV_APPID,
            "secret": DEV_SECRET,
            "force_refresh": true,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(forced["access_token"].is_string(), "{forced}");

    let run = run.await.unwrap();
    assert_eq!(run.code, 0, "{}", run.all_output());
    run.assert_no_secrets(&[]);
    let orders = orders_list(&platform.orders().await);
    assert_eq!(orders.len(), 1, "{orders:?}");
    let errcodes: Vec<i64> = orders[0]["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e.get("api").is_some())
        .map(|e| e["verdict"]["errcode"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(
        errcodes,
        [0, 40001, 0],
        "the step refused with the retired token is sent once more with the new one"
    );
}

/// A token endpoint on loopback that answers the `n`th fetch (0-based) with `answer(n)` and
/// anything else with 404 (so a run against it gets its token and nothing more).
struct TokenEndpoint {
    url: String,
    fetches: Arc<AtomicUsize>,
    others: Arc<AtomicUsize>,
}

impl TokenEndpoint {
    async fn start(answer: fn(usize) -> Value) -> TokenEndpoint {
        use axum::routing::post;
        let fetches = Arc::new(AtomicUsize::new(0));
        let others = Arc::new(AtomicUsize::new(0));
        let (f, o) = (fetches.clone(), others.clone());
        let app = axum::Router::new()
            .route(
                "/cgi-bin/stable_token",
                post(move || {
                    let answer = answer(f.fetch_add(1, Ordering::SeqCst));
                    async move { axum::Json(answer) }
                }),
            )
            .fallback(move || {
                o.fetch_add(1, Ordering::SeqCst);
                async { axum::http::StatusCode::NOT_FOUND }
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        TokenEndpoint {
            url,
            fetches,
            others,
        }
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    fn others(&self) -> usize {
        self.others.load(Ordering::SeqCst)
    }
}

fn busy() -> Value {
    json!({"errcode": -1, "errmsg": "system error"})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_busy_token_endpoint_is_asked_again() {
    let endpoint = TokenEndpoint::start(|n| {
        if n < 2 {
            busy()
        } else {
            json!({"access_token": "busy-then-fine-token", "expires_in": 7200})
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = two_steps(&dir, "busy", "1ms");
    let run = with_credentials(&endpoint.url, DEV_SECRET)
        .path(&path)
        .run()
        .await;
    let output = run.all_output();
    assert_eq!(endpoint.fetches(), 3, "{output}");
    assert!(
        endpoint.others() > 0,
        "the run went on with the token:\n{output}"
    );
    for said in REFUSED {
        assert!(!output.contains(said), "{output}");
    }
    assert!(!output.contains("unavailable"), "{output}");
    run.assert_no_secrets(&["busy-then-fine-token"]);
    assert!(run.took < Duration::from_secs(5), "took {:?}", run.took);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_endpoint_that_stays_busy_is_unavailable_not_a_refusal() {
    let endpoint = TokenEndpoint::start(|_| busy()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = two_steps(&dir, "down", "1ms");
    let run = with_credentials(&endpoint.url, DEV_SECRET)
        .path(&path)
        .run()
        .await;
    let output = run.all_output();
    assert_eq!(run.code, 3, "{output}");
    assert_eq!(
        endpoint.fetches(),
        4,
        "the first try and 3 retries:\n{output}"
    );
    assert_eq!(endpoint.others(), 0, "nothing sent without a token");
    assert!(
        run.stderr.contains("token endpoint") && run.stderr.contains("is unavailable"),
        "{output}"
    );
    assert!(run.stderr.contains("errcode -1 system error"), "{output}");
    assert!(!output.contains("refused"), "{output}");
    assert!(!output.contains("check --appid"), "{output}");
    run.assert_no_secrets(&[]);
    assert!(run.took < Duration::from_secs(5), "took {:?}", run.took);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_secret_is_refused_at_once() {
    // The emulator's own verdict: 40125 (invalid appsecret) for a secret that is not the app's.
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = two_steps(&dir, "wrong", "1ms");
    let run = with_credentials(&platform.url(), "not-the-dev-secret")
        .path(&path)
        .run()
        .await;
    let output = run.all_output();
    assert_eq!(run.code, 3, "{output}");
    assert!(
        run.stderr.contains(REFUSED[0]) && run.stderr.contains("errcode 40125"),
        "{output}"
    );
    assert!(
        run.stderr.contains("--app-secret"),
        "names the credential:\n{output}"
    );
    run.assert_no_secrets(&["not-the-dev-secret"]);
    assert_eq!(platform.calls_received().await, 0, "nothing sent");
    assert!(run.took < Duration::from_secs(3), "took {:?}", run.took);

    // Asked once: a refusal is an answer, never retried.
    let endpoint = TokenEndpoint::start(
        |_| json!({"errcode": 40001, "errmsg": "invalid credential, AppSecret error"}),
    )
    .await;
    let run = with_credentials(&endpoint.url, "not-the-dev-secret")
        .path(&path)
        .run()
        .await;
    assert_eq!(run.code, 3, "{}", run.all_output());
    assert_eq!(endpoint.fetches(), 1, "{}", run.all_output());
    assert_eq!(endpoint.others(), 0);
    assert!(run.stderr.contains("--app-secret"), "{}", run.stderr);
}
