//! The router: token endpoints, business APIs (with faults), inspection, and the access log.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::{Value, json};

use super::Config;
use super::api::{self, Api};
use super::conn::Conn;
use super::faults::{Dice, Fault};
use super::orders::Book;
use super::push::Pusher;
use super::state::{StateFileError, Store};
use super::tokens::{Issued, Tokens};
use super::wire::{Reply, Verdict, now_rfc3339, query_param, redact_query};
use crate::base::i18n::{Noun, count};
use crate::base::secret::Secret;
use crate::model::carriers::Carriers;
use crate::wechat::api::{ACCESS_TOKEN_PARAM, COMPONENT_TOKEN_PATH, STABLE_TOKEN_PATH, TOKEN_PATH};
use crate::wechat::errcode;

/// State shared by every handler and push worker.
pub(crate) struct Shared {
    pub carriers: Arc<Carriers>,
    pub tokens: Tokens,
    pub dice: Dice,
    pub book: Arc<Mutex<Book>>,
    pub pusher: Option<Pusher>,
    pub auto_create: bool,
    pub max_clock_skew: Duration,
    pub show_signatures: bool,
    pub limits: super::Limits,
    /// The Mini Program the pushes are addressed to (the first configured app).
    pub appid: String,
    /// App secrets and carrier appsecrets, redacted from anything kept or logged.
    secrets: Vec<Secret>,
    /// Log one line per call to stderr (`simulate serve`), not in-process.
    log: bool,
    /// Connections the server loop accepted, for `GET /__simulate/stats`.
    pub connections_accepted: Arc<AtomicU64>,
    /// With `--ui`: the dashboard is served, and this changes when the emulator stops.
    pub ui: Option<tokio::sync::watch::Receiver<bool>>,
}

impl Shared {
    pub fn new(
        carriers: Arc<Carriers>,
        config: Config,
        log: bool,
        pusher: Option<Pusher>,
    ) -> std::io::Result<Shared> {
        let mut secrets: Vec<Secret> = config.apps.iter().map(|(_, s)| s.clone()).collect();
        secrets.extend(carriers.all().iter().map(|c| c.account.appsecret.clone()));
        let appid = config
            .apps
            .first()
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| super::DEV_APPID.to_owned());
        let mut tokens = Tokens::new(config.apps, config.token_ttl);
        let mut book = Book::new(config.limits);
        if let Some(path) = &config.state {
            let at = |e| StateFileError::at(path, e);
            let store = Store::open(path).map_err(at)?;
            tokens = tokens.with_store(store.clone()).map_err(at)?;
            book = Book::open(store, &carriers, config.limits).map_err(at)?;
            // A restart says what it kept, so a wrong --state file is noticed at once.
            crate::base::console::err(&format!(
                "{}\n",
                rust_i18n::t!(
                    "serve.state_loaded",
                    orders = count(book.order_count(), Noun::Order),
                    tokens = count(tokens.token_count(), Noun::Token),
                    path = crate::base::text::terminal_safe(&path.display().to_string())
                )
            ));
        }
        Ok(Shared {
            tokens,
            dice: Dice::new(config.faults, config.seed),
            book: Arc::new(Mutex::new(book)),
            pusher,
            auto_create: config.auto_create,
            max_clock_skew: config.max_clock_skew,
            show_signatures: config.show_signatures,
            limits: config.limits,
            appid,
            carriers,
            secrets,
            log,
            connections_accepted: Arc::new(AtomicU64::new(0)),
            ui: None,
        })
    }

    /// The secrets a kept request body must not show besides issued tokens (which
    /// `tokens::redact_issued` finds by their shape): configured secrets and the caller's token.
    pub fn redaction_secrets(&self, token: Option<&str>) -> Vec<Secret> {
        let mut all = self.secrets.clone();
        all.extend(token.map(Secret::new));
        all
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let mut router = Router::new()
        .route(TOKEN_PATH, get(classic_token))
        .route(STABLE_TOKEN_PATH, post(stable_token))
        .route(COMPONENT_TOKEN_PATH, post(component_token))
        .route("/__simulate/orders", get(all_orders))
        .route("/__simulate/stats", get(stats))
        .route(
            "/__simulate/orders/{shopid}/{shop_order_id}",
            get(one_order),
        );
    // Every method reaches the handler, so a GET answers 43002 as the platform does rather
    // than a bare 405.
    for api in Api::ALL {
        router = router.route(
            api.path(),
            any(
                move |State(shared): State<Arc<Shared>>,
                      ConnectInfo(conn): ConnectInfo<Conn>,
                      method: Method,
                      RawQuery(query): RawQuery,
                      body: Bytes| async move {
                    business(shared, api, conn, method == Method::POST, query, body).await
                },
            ),
        );
    }
    if shared.ui.is_some() {
        router = router.merge(super::ui::routes());
    }
    router
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            access_log,
        ))
        .layer(axum::middleware::from_fn(late_answer))
        .with_state(shared)
}

async fn business(
    shared: Arc<Shared>,
    api: Api,
    conn: Conn,
    post: bool,
    query: Option<String>,
    body: Bytes,
) -> Response {
    // Drawn first, before anything about the call is looked at, so the fault sequence depends
    // only on the order of arrival.
    let fault = shared.dice.roll();
    let token = query_param(query.as_deref(), ACCESS_TOKEN_PARAM);
    // The call takes effect and is kept in the history now, before any delay: a client that
    // gives up on a slow answer (and so drops this future) has still been heard.
    let call = api::Call {
        api,
        post,
        token: token.as_deref(),
        body: &body,
    };
    let reply = api::handle(&shared, call, fault);
    if reply.drop_connection {
        conn.cut();
    }
    let mut response = reply.into_response();
    if let Some(Fault::Slow(delay)) = fault {
        // Only the answer is late: `late_answer` waits, after the access log has its line.
        response.extensions_mut().insert(LateAnswer(delay));
    }
    response
}

/// How long a `slow` answer is held back, set by [`business`] and waited out by
/// [`late_answer`].
#[derive(Debug, Clone, Copy)]
struct LateAnswer(Duration);

/// The outermost layer: holds back an answer marked [`LateAnswer`]. Everything about the call
/// (its effect, its history entry, its log line) is done by then, so a client that gives up
/// and makes hyper drop this future loses nothing but the answer.
async fn late_answer(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if let Some(LateAnswer(delay)) = response.extensions().get::<LateAnswer>().copied() {
        tokio::time::sleep(delay).await;
    }
    response
}

fn token_reply(result: Result<Issued, super::tokens::Refusal>) -> Reply {
    match result {
        Ok(issued) => Reply::json(
            json!({ "access_token": issued.token.expose(), "expires_in": issued.expires_in }),
            Verdict {
                errcode: Some(0),
                ..Verdict::default()
            },
        ),
        Err(refusal) => Reply::error(refusal.errcode, refusal.message),
    }
}

/// `GET /cgi-bin/token?grant_type=client_credential&appid=..&secret=..`
async fn classic_token(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Reply {
    let q = query.as_deref();
    let grant = query_param(q, "grant_type");
    let appid = query_param(q, "appid");
    let secret = query_param(q, "secret");
    token_reply(
        shared
            .tokens
            .authenticate(grant.as_deref(), appid.as_deref(), secret.as_deref())
            .and_then(|appid| shared.tokens.issue_classic(&appid)),
    )
}

/// `POST /cgi-bin/stable_token` with `{grant_type, appid, secret, force_refresh}`.
async fn stable_token(State(shared): State<Arc<Shared>>, body: Bytes) -> Reply {
    let value = match serde_json::from_slice::<Value>(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return Reply::error(
                errcode::DATA_FORMAT_ERROR,
                "data format error: the body must be a JSON object",
            );
        }
    };
    let text = |name: &str| value.get(name).and_then(Value::as_str);
    let force = match value.get("force_refresh") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Reply::args("force_refresh must be a boolean"),
    };
    token_reply(
        shared
            .tokens
            .authenticate(text("grant_type"), text("appid"), text("secret"))
            .and_then(|appid| shared.tokens.issue_stable(&appid, force)),
    )
}

/// `POST /cgi-bin/component/api_component_token`: a third-party platform's token. The
/// emulator's third-party platforms are its configured apps (the same appid and secret); any
/// non-empty `component_verify_ticket` is taken.
async fn component_token(State(shared): State<Arc<Shared>>, body: Bytes) -> Reply {
    let value = match serde_json::from_slice::<Value>(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return Reply::error(
                errcode::DATA_FORMAT_ERROR,
                "data format error: the body must be a JSON object",
            );
        }
    };
    let text = |name: &str| value.get(name).and_then(Value::as_str);
    if text("component_verify_ticket").is_none_or(str::is_empty) {
        return Reply::args("component_verify_ticket is missing");
    }
    match shared.tokens.authenticate(
        Some("client_credential"),
        text("component_appid"),
        text("component_appsecret"),
    ) {
        Ok(_) => match shared.tokens.issue_component() {
            Ok(issued) => Reply::json(
                json!({
                    "component_access_token": issued.token.expose(),
                    "expires_in": issued.expires_in,
                }),
                Verdict {
                    errcode: Some(0),
                    ..Verdict::default()
                },
            ),
            Err(refusal) => Reply::error(refusal.errcode, refusal.message),
        },
        Err(refusal) => Reply::error(refusal.errcode, refusal.message),
    }
}

fn inspect(body: Value) -> Reply {
    Reply::json(body, Verdict::default())
}

/// Orders serialized per lock: the listing never holds the book for its whole length.
const LISTING_CHUNK: usize = 32;

/// `GET /__simulate/orders[?offset=N&limit=M]`: `{"orders": […], "unmatched_calls": […],
/// "total_orders": N, "forgotten": {…}}`. Written a few orders at a time, the book locked for
/// each few only, so calls go on while a long listing is written (it is not one snapshot: an
/// order may move between two chunks).
/// How the server itself is doing: what a load test needs to see from outside.
async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    let accepted = shared.connections_accepted.load(Ordering::Relaxed);
    axum::Json(json!({ "connections_accepted": accepted })).into_response()
}

async fn all_orders(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    // A bad number is refused, not ignored: a listing that silently shows everything misleads.
    let number = |name: &'static str| -> Result<Option<usize>, &'static str> {
        match query_param(query.as_deref(), name) {
            None => Ok(None),
            Some(text) => text.trim().parse::<usize>().map(Some).map_err(|_| name),
        }
    };
    let refuse = |name: &str| {
        let text = query_param(query.as_deref(), name).unwrap_or_default();
        inspect(json!({
            "error": format!("{name} must be a whole number of 0 or more, not {text:?}"),
            "parameter": name,
        }))
        .with_status(StatusCode::BAD_REQUEST)
        .into_response()
    };
    let (offset, limit) = match (number("offset"), number("limit")) {
        (Ok(offset), Ok(limit)) => (offset.unwrap_or(0), limit.unwrap_or(usize::MAX)),
        (Err(name), _) | (_, Err(name)) => return refuse(name),
    };
    let lock = || {
        shared
            .book
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    let (keys, total) = {
        let book = lock();
        let keys: Vec<_> = book
            .orders
            .keys()
            .skip(offset)
            .take(limit)
            .cloned()
            .collect();
        (keys, book.orders.len())
    };
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(b"{\"orders\":[");
    let mut first = true;
    for chunk in keys.chunks(LISTING_CHUNK) {
        {
            let book = lock();
            for key in chunk {
                // Forgotten since the keys were taken: left out.
                let Some(order) = book.orders.get(key) else {
                    continue;
                };
                if !first {
                    out.push(b',');
                }
                first = false;
                let _ = serde_json::to_writer(&mut out, &order.to_json());
            }
        }
        tokio::task::yield_now().await;
    }
    out.extend_from_slice(b"],\"unmatched_calls\":");
    {
        let book = lock();
        let _ = serde_json::to_writer(&mut out, &book.unmatched);
        out.extend_from_slice(b",\"forgotten\":");
        let _ = serde_json::to_writer(&mut out, &book.forgotten);
    }
    out.extend_from_slice(format!(",\"total_orders\":{total}}}").as_bytes());
    let mut response = (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        out,
    )
        .into_response();
    response.extensions_mut().insert(Verdict {
        http_status: 200,
        ..Verdict::default()
    });
    response
}

async fn one_order(
    State(shared): State<Arc<Shared>>,
    Path((shopid, shop_order_id)): Path<(String, String)>,
) -> Reply {
    let book = shared
        .book
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match book.orders.get(&(shopid.clone(), shop_order_id.clone())) {
        Some(order) => inspect(order.to_json()),
        None => inspect(json!({
            "error": "no such order",
            "shopid": shopid,
            "shop_order_id": shop_order_id,
        }))
        .with_status(StatusCode::NOT_FOUND),
    }
}

/// Any other path: the platform's JSON answer, never a bare 404.
async fn not_found() -> Reply {
    Reply::error(errcode::INVALID_URL, "invalid url")
}

/// One stderr line per call: time, method, path with credentials redacted, verdict, and how
/// long the call took to handle.
///
/// Written as soon as the call has been handled, before a `slow` answer is held back (see
/// [`late_answer`]), so a client that hangs up on a slow answer does not lose the line; the
/// delay shows in the verdict's `fault="slow N ms"`, not in the duration.
async fn access_log(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    if !shared.log {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request
        .uri()
        .query()
        .map(|q| format!("?{}", redact_query(q)))
        .unwrap_or_default();
    let started = Instant::now();
    let response = next.run(request).await;
    let verdict = response
        .extensions()
        .get::<Verdict>()
        .map(Verdict::summary)
        .unwrap_or_else(|| format!("http={}", response.status().as_u16()));
    // A closed stderr (`serve 2>&1 | head`) stops the log, never the answers.
    let line = rust_i18n::t!(
        "serve.access",
        time = now_rfc3339(),
        method = method,
        path = format!("{path}{query}"),
        verdict = verdict,
        ms = started.elapsed().as_millis()
    );
    crate::base::console::err(&format!("{line}\n"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_redacts_against_the_same_few_secrets_however_many_tokens_were_issued() {
        // Every live token was searched for in every kept body: after 30,000 token
        // requests one call took 2.7 s. Issued tokens are now found by their shape.
        let carriers = Arc::new(Carriers::builtin().unwrap_or_else(|e| panic!("{e:?}")));
        let shared =
            Shared::new(carriers, Config::default(), false, None).unwrap_or_else(|e| panic!("{e}"));
        let before = shared.redaction_secrets(Some("caller")).len();
        for _ in 0..3_000 {
            let _ = shared.tokens.issue_classic(super::super::DEV_APPID);
        }
        assert_eq!(shared.redaction_secrets(Some("caller")).len(), before);
    }
}
