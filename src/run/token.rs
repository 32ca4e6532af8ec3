//! Where the access token comes from: given once, or fetched from `/cgi-bin/stable_token` with
//! the app's credentials, shared by every scenario of a run and renewed before it expires.
//!
//! A fetch retries what is transient (connection errors, timeouts, HTTP 5xx, errcode -1 and
//! 45011) with the run's [`RetryPolicy`]; only the platform's verdict on the credentials
//! ([`CREDENTIALS_REFUSED`]) is a refusal, never retried. Anything else is "unavailable".

use rust_i18n::t;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::base::i18n::Lang;
use crate::base::secret::{self, Secret};
use crate::run::retry::{RetryPolicy, Transient};
use crate::wechat::api::STABLE_TOKEN_PATH;
use crate::wechat::errcode::{self, CREDENTIALS_REFUSED, TOKEN_BUSY};

/// Why no token could be had. Displayed in English (as machine-readable reports keep it);
/// [`TokenError::describe_in`] says it for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// The platform's verdict on the app credentials: fix them, another try will not help.
    Refused { errcode: i64, errmsg: String },
    /// No verdict: the endpoint could not be reached or gave no token, even after the retries
    /// (`attempts` calls in all).
    Unavailable {
        endpoint: String,
        detail: NoToken,
        attempts: u32,
    },
}

/// Why an answer (or its absence) gave no token, in a few words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoToken {
    /// An HTTP error status.
    Http(u16),
    /// An answer that is not a token's JSON.
    NotAToken(u16),
    /// The JSON has no `access_token`.
    NoAccessToken(u16),
    /// The platform's code and message (its own words).
    Errcode { errcode: i64, errmsg: String },
    /// No answer within the timeout.
    NoAnswer(Duration),
    /// The request failed: the HTTP library's words, without the URL.
    Request(String),
    /// The HTTP client could not be built: the library's words.
    Client(String),
}

impl NoToken {
    /// In `lang`; what outside programs said stays in their words.
    pub fn describe_in(&self, lang: Lang) -> String {
        let locale = lang.code();
        match self {
            NoToken::Http(status) => format!("HTTP {status}"),
            NoToken::NotAToken(status) => {
                t!("token.not_a_token", locale = locale, status = status).into_owned()
            }
            NoToken::NoAccessToken(status) => {
                t!("token.no_access_token", locale = locale, status = status).into_owned()
            }
            NoToken::Errcode { errcode, errmsg } => {
                format!("errcode {errcode} {errmsg}").trim_end().to_owned()
            }
            NoToken::NoAnswer(limit) => t!(
                "call.timeout",
                locale = locale,
                limit = crate::base::duration::format_duration(*limit)
            )
            .into_owned(),
            NoToken::Request(text) | NoToken::Client(text) => text.clone(),
        }
    }

    fn redact(self, secrets: &[&Secret]) -> NoToken {
        match self {
            NoToken::Errcode { errcode, errmsg } => NoToken::Errcode {
                errcode,
                errmsg: secret::redact(&errmsg, secrets),
            },
            NoToken::Request(text) => NoToken::Request(secret::redact(&text, secrets)),
            NoToken::Client(text) => NoToken::Client(secret::redact(&text, secrets)),
            other => other,
        }
    }
}

impl std::fmt::Display for NoToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe_in(Lang::En))
    }
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe_in(Lang::En))
    }
}

impl std::error::Error for TokenError {}

impl TokenError {
    /// What went wrong and what to check, in `lang`.
    pub fn describe_in(&self, lang: Lang) -> String {
        match self {
            TokenError::Refused { errcode, errmsg } => refusal_message(*errcode, errmsg, lang),
            TokenError::Unavailable {
                endpoint,
                detail,
                attempts,
            } => {
                let detail = detail.describe_in(lang);
                // A whole sentence each: with one call, and after several.
                if *attempts > 1 {
                    t!(
                        "token.unavailable_after",
                        locale = lang.code(),
                        endpoint = endpoint,
                        path = STABLE_TOKEN_PATH,
                        detail = detail,
                        attempts = attempts
                    )
                } else {
                    t!(
                        "token.unavailable",
                        locale = lang.code(),
                        endpoint = endpoint,
                        path = STABLE_TOKEN_PATH,
                        detail = detail
                    )
                }
                .into_owned()
            }
        }
    }

    /// Whether the credentials were refused (which ends the run), rather than no answer.
    pub fn is_refusal(&self) -> bool {
        matches!(self, TokenError::Refused { .. })
    }
}

/// What to say for a refusal: which credential to check, by the code's meaning.
fn refusal_message(errcode: i64, errmsg: &str, lang: Lang) -> String {
    const SECRET: &str = "--app-secret / WECHAT_APP_SECRET";
    const APPID: &str = "--appid / WECHAT_APPID";
    let locale = lang.code();
    let said = format!("errcode {errcode} {errmsg}");
    let said = said.trim_end();
    match errcode {
        errcode::INVALID_CREDENTIAL | errcode::INVALID_APPSECRET => t!(
            "token.refused_secret",
            locale = locale,
            said = said,
            secret = SECRET,
            appid = APPID
        ),
        errcode::APPSECRET_FROZEN => t!(
            "token.refused_frozen",
            locale = locale,
            said = said,
            secret = SECRET
        ),
        errcode::APPSECRET_MISSING => t!(
            "token.refused_secret_missing",
            locale = locale,
            said = said,
            secret = SECRET
        ),
        errcode::INVALID_APPID | errcode::APPID_MISSING => t!(
            "token.refused_appid",
            locale = locale,
            said = said,
            appid = APPID
        ),
        errcode::INVALID_GRANT_TYPE => {
            t!("token.refused_grant_type", locale = locale, said = said)
        }
        errcode::DAILY_QUOTA => t!("token.refused_quota", locale = locale, said = said),
        _ => t!(
            "token.refused_other",
            locale = locale,
            said = said,
            secret = SECRET,
            appid = APPID
        ),
    }
    .into_owned()
}

/// A token, and how it was obtained.
pub enum TokenSource {
    /// `--access-token`: used as is; a refused one cannot be renewed.
    Fixed(Secret),
    /// `--appid` / `--app-secret`: fetched in normal mode (never force-refreshed on our own).
    Stable(Box<StableToken>),
}

pub struct StableToken {
    http: reqwest::Client,
    endpoint: String,
    appid: String,
    app_secret: Secret,
    timeout: Duration,
    retry: RetryPolicy,
    current: Mutex<Option<Cached>>,
}

#[derive(Clone)]
struct Cached {
    token: Secret,
    renew_at: Instant,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    expires_in: Option<u64>,
    errcode: Option<i64>,
    errmsg: Option<String>,
}

/// What one answer (or its absence) of the token endpoint says.
#[derive(Debug, PartialEq)]
enum Reply {
    Token {
        token: String,
        lifetime: Duration,
    },
    Refused {
        errcode: i64,
        errmsg: String,
    },
    /// Worth another try.
    Busy {
        why: Transient,
        detail: NoToken,
    },
    /// No token, and another try would not help.
    Failed(NoToken),
}

impl TokenSource {
    /// Fetches with [`RetryPolicy::default`]; [`TokenSource::with_retry`] sets the run's policy.
    pub fn stable(
        endpoint: &str,
        appid: String,
        app_secret: Secret,
        timeout: Duration,
    ) -> Result<TokenSource, TokenError> {
        let endpoint = endpoint.trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| TokenError::Unavailable {
                endpoint: endpoint.clone(),
                detail: NoToken::Client(e.to_string()).redact(&[&app_secret]),
                attempts: 0,
            })?;
        Ok(TokenSource::Stable(Box::new(StableToken {
            http,
            endpoint,
            appid,
            app_secret,
            timeout,
            retry: RetryPolicy::default(),
            current: Mutex::new(None),
        })))
    }

    /// How a fetch retries what is transient (a fixed token is never fetched).
    pub fn with_retry(self, policy: RetryPolicy) -> TokenSource {
        match self {
            TokenSource::Stable(mut stable) => {
                stable.retry = policy;
                TokenSource::Stable(stable)
            }
            fixed @ TokenSource::Fixed(_) => fixed,
        }
    }

    /// The token to use now (fetching or renewing it when due).
    pub async fn get(&self) -> Result<Secret, TokenError> {
        match self {
            TokenSource::Fixed(token) => Ok(token.clone()),
            TokenSource::Stable(stable) => stable.get(None).await,
        }
    }

    /// The platform refused `rejected`: fetch once more. `None` when a fixed token was refused.
    pub async fn renew(&self, rejected: &Secret) -> Option<Result<Secret, TokenError>> {
        match self {
            TokenSource::Fixed(_) => None,
            TokenSource::Stable(stable) => Some(stable.get(Some(rejected)).await),
        }
    }

    /// Whether a refused token can be replaced (for the message that ends the run).
    pub fn can_renew(&self) -> bool {
        matches!(self, TokenSource::Stable(_))
    }
}

impl StableToken {
    async fn get(&self, rejected: Option<&Secret>) -> Result<Secret, TokenError> {
        // One fetch at a time: every scenario waits for the same answer (retries included)
        // instead of racing, so a busy endpoint is not hit once per order.
        let mut current = self.current.lock().await;
        if let Some(cached) = current.as_ref() {
            let refused = rejected.is_some_and(|r| *r == cached.token);
            if !refused && Instant::now() < cached.renew_at {
                return Ok(cached.token.clone());
            }
        }
        let fetched = self.fetch().await?;
        *current = Some(fetched.clone());
        Ok(fetched.token)
    }

    /// Fetches a token, retrying what is transient within the policy's bounds.
    async fn fetch(&self) -> Result<Cached, TokenError> {
        // Jitter only; nothing here needs to be repeatable with --seed.
        let mut rng = StdRng::seed_from_u64(uuid::Uuid::new_v4().as_u64_pair().0);
        let (mut attempts, mut waited) = (0u32, Duration::ZERO);
        loop {
            attempts += 1;
            let (why, detail) = match self.attempt().await {
                Reply::Token { token, lifetime } => {
                    tracing::debug!(expires_in = lifetime.as_secs(), "fetched an access token");
                    return Ok(Cached {
                        token: Secret::new(token),
                        renew_at: Instant::now() + lifetime.saturating_sub(renew_margin(lifetime)),
                    });
                }
                Reply::Refused { errcode, errmsg } => {
                    return Err(TokenError::Refused {
                        errcode,
                        errmsg: secret::redact(&errmsg, &[&self.app_secret]),
                    });
                }
                Reply::Busy { why, detail } => (Some(why), detail),
                Reply::Failed(detail) => (None, detail),
            };
            let detail = detail.redact(&[&self.app_secret]);
            let delay = why.and_then(|why| self.retry.delay(attempts, why, waited, &mut rng));
            let Some(delay) = delay else {
                return Err(TokenError::Unavailable {
                    endpoint: self.endpoint.clone(),
                    detail,
                    attempts,
                });
            };
            tracing::debug!(attempt = attempts, ?delay, %detail, "no access token yet; trying again");
            tokio::time::sleep(delay).await;
            waited += delay;
        }
    }

    /// One call to `/cgi-bin/stable_token`.
    async fn attempt(&self) -> Reply {
        let url = format!("{}{STABLE_TOKEN_PATH}", self.endpoint);
        let body = serde_json::json!({
            "grant_type": "client_credential",
            "appid": self.appid,
            "secret": self.app_secret.expose(),
            "force_refresh": false,
        });
        // Asking for a stable token in normal mode changes nothing: any failure may be retried.
        let failed = |e: reqwest::Error| Reply::Busy {
            why: Transient::NotSent,
            detail: describe(e, self.timeout),
        };
        let response = match self.http.post(&url).json(&body).send().await {
            Ok(response) => response,
            Err(e) => return failed(e),
        };
        let status = response.status().as_u16();
        match response.text().await {
            Ok(text) => classify(status, &text),
            Err(e) => failed(e),
        }
    }
}

/// What an answer of the token endpoint means.
fn classify(status: u16, text: &str) -> Reply {
    if status >= 500 {
        return Reply::Busy {
            why: Transient::ServerError,
            detail: NoToken::Http(status),
        };
    }
    let Ok(answer) = serde_json::from_str::<TokenAnswer>(text) else {
        return Reply::Failed(NoToken::NotAToken(status));
    };
    let errmsg = answer.errmsg.unwrap_or_default();
    match answer.errcode.unwrap_or(0) {
        0 => match answer.access_token.filter(|t| !t.is_empty()) {
            Some(token) => Reply::Token {
                token,
                // The platform promises at most 7200 s; anything past a day is not believed.
                lifetime: Duration::from_secs(answer.expires_in.unwrap_or(7200).min(86_400)),
            },
            None => Reply::Failed(NoToken::NoAccessToken(status)),
        },
        errcode if CREDENTIALS_REFUSED.contains(&errcode) => Reply::Refused { errcode, errmsg },
        errcode if TOKEN_BUSY.contains(&errcode) => Reply::Busy {
            why: Transient::Busy(errcode),
            detail: NoToken::Errcode { errcode, errmsg },
        },
        errcode => Reply::Failed(NoToken::Errcode { errcode, errmsg }),
    }
}

/// A failed call in a few words, without its URL: "no answer within 10s", "error sending
/// request: Connection refused (os error 111)".
fn describe(error: reqwest::Error, timeout: Duration) -> NoToken {
    if error.is_timeout() {
        return NoToken::NoAnswer(timeout);
    }
    let error = error.without_url();
    // The innermost cause says what happened; the outer ones only that a request failed.
    let mut cause: Option<&dyn std::error::Error> = None;
    let mut next = std::error::Error::source(&error);
    while let Some(source) = next {
        cause = Some(source);
        next = source.source();
    }
    NoToken::Request(match cause {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_string(),
    })
}

/// How long before expiry to renew: the platform's 5 minutes, or a fifth of a short lifetime.
fn renew_margin(lifetime: Duration) -> Duration {
    Duration::from_secs(300).min(lifetime / 5)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn tokens_are_renewed_before_they_expire() {
        assert_eq!(
            renew_margin(Duration::from_secs(7200)),
            Duration::from_secs(300)
        );
        assert_eq!(
            renew_margin(Duration::from_secs(10)),
            Duration::from_secs(2)
        );
        assert_eq!(renew_margin(Duration::ZERO), Duration::ZERO);
    }

    #[tokio::test]
    async fn a_fixed_token_cannot_be_renewed() {
        let source = TokenSource::Fixed(Secret::new("abc")).with_retry(RetryPolicy::default());
        assert_eq!(source.get().await, Ok(Secret::new("abc")));
        assert!(source.renew(&Secret::new("abc")).await.is_none());
        assert!(!source.can_renew());
    }

    fn errcode(code: i64) -> String {
        format!(r#"{{"errcode":{code},"errmsg":"msg {code}"}}"#)
    }

    #[test]
    fn only_a_verdict_on_the_credentials_is_a_refusal() {
        for code in CREDENTIALS_REFUSED {
            assert_eq!(
                classify(200, &errcode(code)),
                Reply::Refused {
                    errcode: code,
                    errmsg: format!("msg {code}")
                },
                "{code}"
            );
        }
        assert_eq!(
            classify(200, &errcode(-1)),
            Reply::Busy {
                why: Transient::Busy(-1),
                detail: NoToken::Errcode {
                    errcode: -1,
                    errmsg: "msg -1".to_owned()
                }
            }
        );
        assert!(matches!(
            classify(200, &errcode(45011)),
            Reply::Busy {
                why: Transient::Busy(45011),
                ..
            }
        ));
        // A 5xx is busy whatever its body says.
        for (status, body) in [(500, "oops"), (502, ""), (503, &errcode(40001))] {
            assert!(
                matches!(
                    classify(status, body),
                    Reply::Busy {
                        why: Transient::ServerError,
                        ..
                    }
                ),
                "{status} {body}"
            );
        }
        // No token, no verdict, and no point in asking again.
        assert_eq!(
            classify(404, "<html>not found</html>"),
            Reply::Failed(NoToken::NotAToken(404))
        );
        assert_eq!(
            classify(200, &errcode(40164)),
            Reply::Failed(NoToken::Errcode {
                errcode: 40164,
                errmsg: "msg 40164".to_owned()
            })
        );
        assert!(matches!(
            classify(200, r#"{"errcode":0,"access_token":""}"#),
            Reply::Failed(_)
        ));
        assert_eq!(
            classify(200, r#"{"access_token":"T","expires_in":7200}"#),
            Reply::Token {
                token: "T".to_owned(),
                lifetime: Duration::from_secs(7200)
            }
        );
        assert_eq!(
            classify(
                200,
                r#"{"errcode":0,"access_token":"T","expires_in":9999999}"#
            ),
            Reply::Token {
                token: "T".to_owned(),
                lifetime: Duration::from_secs(86_400)
            }
        );
    }

    #[test]
    fn messages_name_the_credential_or_say_the_endpoint_is_unavailable() {
        let refused = |errcode| {
            TokenError::Refused {
                errcode,
                errmsg: "m".to_owned(),
            }
            .to_string()
        };
        for code in [40001, 40125, 40243, 41004] {
            assert!(refused(code).contains("--app-secret"), "{}", refused(code));
        }
        for code in [40013, 41002] {
            let text = refused(code);
            assert!(
                text.contains("--appid") && !text.contains("--app-secret"),
                "{text}"
            );
        }
        assert!(refused(45009).contains("quota"), "{}", refused(45009));
        assert!(refused(40001).contains("errcode 40001 m"));
        let unavailable = TokenError::Unavailable {
            endpoint: "http://x".to_owned(),
            detail: NoToken::Errcode {
                errcode: -1,
                errmsg: "system error".to_owned(),
            },
            attempts: 4,
        };
        let text = unavailable.to_string();
        assert!(
            text.starts_with(
                "the token endpoint http://x/cgi-bin/stable_token is unavailable: errcode -1"
            ),
            "{text}"
        );
        assert!(!text.contains("refused"), "{text}");
        assert!(
            !unavailable.is_refusal()
                && TokenError::Refused {
                    errcode: 40001,
                    errmsg: String::new()
                }
                .is_refusal()
        );
    }

    /// A token endpoint on loopback that gives the `n`th call (0-based) `answer(n)`.
    async fn endpoint(answer: fn(usize) -> (u16, String)) -> (String, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let app = axum::Router::new().route(
            "/cgi-bin/stable_token",
            axum::routing::post(move || {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                let (status, body) = answer(n);
                async move {
                    (
                        axum::http::StatusCode::from_u16(status).unwrap_or_default(),
                        body,
                    )
                }
            }),
        );
        let (listener, url) = loopback().await;
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, calls)
    }

    async fn loopback() -> (tokio::net::TcpListener, String) {
        let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
            Ok(listener) => listener,
            Err(error) => panic!("cannot listen on loopback: {error}"),
        };
        let url = match listener.local_addr() {
            Ok(addr) => format!("http://{addr}"),
            Err(error) => panic!("{error}"),
        };
        (listener, url)
    }

    async fn no_token(source: TokenSource) -> TokenError {
        match source.get().await {
            Ok(_) => panic!("a token came"),
            Err(error) => error,
        }
    }

    fn source(url: &str, retries: u32) -> TokenSource {
        let policy = RetryPolicy {
            retries,
            base: Duration::from_millis(2),
            ..RetryPolicy::default()
        };
        match TokenSource::stable(
            url,
            "wxapp".to_owned(),
            Secret::new("s3cr3t-value"),
            Duration::from_secs(2),
        ) {
            Ok(source) => source.with_retry(policy),
            Err(error) => panic!("{error}"),
        }
    }

    const TOKEN: &str = r#"{"access_token":"T1","expires_in":7200}"#;

    #[tokio::test]
    async fn a_busy_endpoint_is_asked_again() {
        let (url, calls) = endpoint(|n| match n {
            0 => (200, errcode(-1)),
            1 => (503, String::new()),
            _ => (200, TOKEN.to_owned()),
        })
        .await;
        assert_eq!(source(&url, 3).get().await, Ok(Secret::new("T1")));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_busy_endpoint_is_unavailable_once_the_retries_are_spent() {
        let (url, calls) = endpoint(|_| (200, errcode(-1))).await;
        let error = no_token(source(&url, 2)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(
            error,
            TokenError::Unavailable {
                endpoint: url,
                detail: NoToken::Errcode {
                    errcode: -1,
                    errmsg: "msg -1".to_owned()
                },
                attempts: 3
            }
        );
        let text = error.to_string();
        assert!(
            text.contains(": errcode -1 msg -1 (after 3 attempts); "),
            "{text}"
        );
        // The count is part of the Chinese sentence, not an English suffix.
        let chinese = error.describe_in(Lang::Zh);
        assert!(chinese.contains("共尝试 3 次"), "{chinese}");
        assert!(!chinese.contains("attempts"), "{chinese}");
    }

    #[tokio::test]
    async fn a_refusal_is_never_retried_and_never_shows_the_secret() {
        let (url, calls) = endpoint(|_| {
            (
                200,
                r#"{"errcode":40001,"errmsg":"invalid appsecret s3cr3t-value"}"#.to_owned(),
            )
        })
        .await;
        let error = no_token(source(&url, 3)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(error.is_refusal());
        let text = error.to_string();
        assert!(!text.contains("s3cr3t-value"), "{text}");
        assert!(text.contains("--app-secret"), "{text}");
    }

    #[tokio::test]
    async fn an_answer_that_is_not_a_token_is_not_retried() {
        let (url, calls) = endpoint(|_| (404, "no such page".to_owned())).await;
        let error = no_token(source(&url, 3)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(!error.is_refusal(), "{error}");
    }

    #[tokio::test]
    async fn an_endpoint_that_cannot_be_reached_is_unavailable() {
        // A port nobody listens on any more.
        let (listener, url) = loopback().await;
        drop(listener);
        let error = no_token(source(&url, 1)).await;
        let TokenError::Unavailable { attempts, .. } = &error else {
            panic!("{error}")
        };
        assert_eq!(*attempts, 2);
        assert!(
            error.to_string().contains(" (after 2 attempts); "),
            "{error}"
        );
    }
}
