//! The live dashboard (`serve --ui`, `--local --ui`): a page at `/` that shows every order
//! moving, fed by server-sent events, and drives orders through the APIs.
//!
//! The page, its script and its styles are compiled in and reference nothing but this
//! server (a Content-Security-Policy says so to the browser too): it works offline.

mod actions;
mod labels;
mod map;
mod view;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::server::Shared;
use crate::model::statuses::Status;

const INDEX: &str = include_str!("index.html");
const SCRIPT: &str = include_str!("app.js");
const STYLE: &str = include_str!("style.css");

/// Everything the page may load comes from here; nothing else (no CDN, fonts, tiles).
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Changes that come close together are shown together.
const COALESCE: Duration = Duration::from_millis(50);
/// Without changes, the page is still refreshed this often, so a delivering rider moves.
const TICK: Duration = Duration::from_secs(2);

pub(crate) const EVENTS_PATH: &str = "/__simulate/ui/events";

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/", get(index))
        .route("/__simulate/ui/app.js", get(script))
        .route("/__simulate/ui/style.css", get(style))
        .route("/__simulate/ui/state", get(state))
        .route(EVENTS_PATH, get(events))
        .route(
            "/__simulate/ui/orders/{shopid}/{shop_order_id}/{action}",
            post(act),
        )
}

fn asset(content_type: &'static str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// The page, with its words in both languages and the tool's language first.
async fn index() -> Response {
    let boot = labels::boot(crate::base::i18n::current()).to_string();
    // Inside a <script> element: no `<` may end it early.
    let boot = boot.replace('<', "\\u003c");
    let lang = crate::base::i18n::current().code();
    asset(
        "text/html; charset=utf-8",
        INDEX.replace("{{lang}}", lang).replace("{{boot}}", &boot),
    )
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT.to_owned())
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE.to_owned())
}

fn snapshot(shared: &Shared) -> Value {
    let book = shared
        .book
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    view::snapshot(&shared.carriers.lifecycle, &book)
}

/// `GET /__simulate/ui/state`: what the page shows, once.
async fn state(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(snapshot(&shared)).into_response()
}

/// `GET /__simulate/ui/events`: a `snapshot` event at once, then one after every change
/// (changes within [`COALESCE`] together) and every [`TICK`]; it ends when the emulator stops.
async fn events(State(shared): State<Arc<Shared>>) -> Response {
    let changes = shared
        .book
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .subscribe();
    let Some(stop) = shared.ui.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let stream = futures_util::stream::unfold(
        (shared, changes, stop, true),
        |(shared, mut changes, mut stop, first)| async move {
            if !first {
                tokio::select! {
                    changed = changes.changed() => {
                        if changed.is_err() {
                            return None;
                        }
                        tokio::time::sleep(COALESCE).await;
                    }
                    () = tokio::time::sleep(TICK) => {}
                    _ = stop.changed() => return None,
                }
            }
            // Seen before the snapshot is taken: a change after it wakes the next round.
            changes.borrow_and_update();
            let event = Event::default()
                .event("snapshot")
                .data(snapshot(&shared).to_string());
            Some((Ok::<_, Infallible>(event), (shared, changes, stop, false)))
        },
    );
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

fn refusal(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// `POST /__simulate/ui/orders/{shopid}/{shop_order_id}/{move|cancel|confirm_return|tip}` with
/// a JSON body (`{"status": 201}`, `{}`, `{}`, `{"tips": 5}`): made as the API call, whose answer comes back as
/// `{"api": …, "answer": {…}}`. Only JSON is taken, and only from this server's own pages:
/// another site's form cannot send it, and its scripts are refused by the browser without an
/// answer to their preflight.
async fn act(
    State(shared): State<Arc<Shared>>,
    Path((shopid, shop_order_id, action)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !json_body {
        return refusal(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!({ "error": "send a JSON body with Content-Type: application/json" }),
        );
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let own = origin
            .strip_prefix("http://")
            .is_some_and(|rest| rest == host);
        if !own {
            return refusal(
                StatusCode::FORBIDDEN,
                json!({ "error": "actions are taken only from the dashboard's own page" }),
            );
        }
    }
    let fields: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let request = match action.as_str() {
        "move" => match fields
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .and_then(Status::from_code)
        {
            Some(to) => actions::Request::Move(to),
            None => {
                return refusal(
                    StatusCode::BAD_REQUEST,
                    json!({ "error": "move needs {\"status\": CODE}, a status code" }),
                );
            }
        },
        "cancel" => actions::Request::Cancel,
        "confirm_return" => actions::Request::ConfirmReturn,
        "tip" => match fields.get("tips").and_then(Value::as_f64) {
            Some(tips) => actions::Request::Tip(tips),
            None => {
                return refusal(
                    StatusCode::BAD_REQUEST,
                    json!({ "error": "tip needs {\"tips\": YUAN}, a number" }),
                );
            }
        },
        other => {
            return refusal(
                StatusCode::NOT_FOUND,
                json!({ "error": format!("no action {other:?}: move, cancel, confirm_return or tip") }),
            );
        }
    };
    let key = (shopid, shop_order_id);
    match actions::perform(&shared, &key, request) {
        Ok(done) => {
            axum::Json(json!({ "api": done.api.name(), "answer": done.answer })).into_response()
        }
        Err(actions::Refused::NoSuchOrder) => refusal(
            StatusCode::NOT_FOUND,
            json!({ "error": "no such order", "shopid": key.0, "shop_order_id": key.1 }),
        ),
        Err(actions::Refused::NotAllowed(offered)) => refusal(
            StatusCode::CONFLICT,
            json!({
                "error": "not offered for this order now",
                "moves": offered.moves.iter().map(|s| s.code()).collect::<Vec<_>>(),
                "cancel": offered.cancel,
                "confirm_return": offered.confirm_return,
                "tip": offered.tip,
            }),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page must work offline: nothing it ships may point anywhere but this server. The
    /// one `http:` allowed is the SVG namespace, a name that is never fetched.
    #[test]
    fn the_page_references_no_other_server() {
        for (name, text) in [
            ("index.html", INDEX),
            ("app.js", SCRIPT),
            ("style.css", STYLE),
        ] {
            let text = text.replace("\"http://www.w3.org/2000/svg\"", "SVG_NAMESPACE");
            let code: Vec<&str> = text
                .lines()
                // Comments say `//` in prose.
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect();
            for needle in ["http:", "https:", "//", "@import", "url(", "@font-face"] {
                let found: Vec<&&str> = code.iter().filter(|l| l.contains(needle)).collect();
                assert!(found.is_empty(), "{name} has {needle}: {found:?}");
            }
        }
    }

    #[test]
    fn the_boot_data_cannot_close_its_script_element() {
        let boot = labels::boot(crate::base::i18n::Lang::En)
            .to_string()
            .replace('<', "\\u003c");
        assert!(!boot.contains("</"));
        let back: Value = serde_json::from_str(&boot).unwrap_or(Value::Null);
        assert_eq!(back["words"]["zh"]["switch"], "English");
    }
}
