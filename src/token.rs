//! Where the access token comes from: given once, or fetched from `/cgi-bin/stable_token` with
//! the app's credentials, shared by every scenario of a run and renewed before it expires.

use std::time::Duration;

use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::secret::{self, Secret};

/// Why no token could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error(
        "the token endpoint refused the app credentials: errcode {errcode} {errmsg}; check --appid / WECHAT_APPID and --app-secret / WECHAT_APP_SECRET"
    )]
    Refused { errcode: i64, errmsg: String },
    #[error("cannot fetch an access token from {endpoint}: {detail}")]
    Unreachable { endpoint: String, detail: String },
}

/// A token, and how it was obtained.
pub enum TokenSource {
    /// `--access-token`: used as is; a refused one cannot be renewed.
    Fixed(Secret),
    /// `--appid` / `--app-secret`: fetched in normal mode (never force-refreshed on our own).
    Stable(StableToken),
}

pub struct StableToken {
    http: reqwest::Client,
    endpoint: String,
    appid: String,
    app_secret: Secret,
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

impl TokenSource {
    pub fn stable(
        endpoint: &str,
        appid: String,
        app_secret: Secret,
        timeout: Duration,
    ) -> Result<TokenSource, TokenError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| TokenError::Unreachable {
                endpoint: endpoint.to_owned(),
                detail: e.to_string(),
            })?;
        Ok(TokenSource::Stable(StableToken {
            http,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            appid,
            app_secret,
            current: Mutex::new(None),
        }))
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
        // One fetch at a time: every scenario waits for the same answer instead of racing.
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

    async fn fetch(&self) -> Result<Cached, TokenError> {
        let url = format!("{}/cgi-bin/stable_token", self.endpoint);
        let body = serde_json::json!({
            "grant_type": "client_credential",
            "appid": self.appid,
            "secret": self.app_secret.expose(),
            "force_refresh": false,
        });
        let unreachable = |detail: String| TokenError::Unreachable {
            endpoint: self.endpoint.clone(),
            detail: secret::redact(&detail, &[&self.app_secret]),
        };
        let response = self
            .http
            .post(&url)
            .json(&body)
            .send()
            .await
            .map_err(|e| unreachable(e.without_url().to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| unreachable(e.without_url().to_string()))?;
        let answer: TokenAnswer = serde_json::from_str(&text)
            .map_err(|_| unreachable(format!("HTTP {status}, an answer that is not a token")))?;
        match (answer.errcode.unwrap_or(0), answer.access_token) {
            (0, Some(token)) if !token.is_empty() => {
                // The platform promises at most 7200 s; anything past a day is not believed.
                let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(7200).min(86_400));
                tracing::debug!(expires_in = lifetime.as_secs(), "fetched an access token");
                Ok(Cached {
                    token: Secret::new(token),
                    renew_at: Instant::now() + lifetime.saturating_sub(renew_margin(lifetime)),
                })
            }
            (errcode, _) => Err(TokenError::Refused {
                errcode,
                errmsg: secret::redact(&answer.errmsg.unwrap_or_default(), &[&self.app_secret]),
            }),
        }
    }
}

/// How long before expiry to renew: the platform's 5 minutes, or a fifth of a short lifetime.
fn renew_margin(lifetime: Duration) -> Duration {
    Duration::from_secs(300).min(lifetime / 5)
}

#[cfg(test)]
mod tests {
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
        let source = TokenSource::Fixed(Secret::new("abc"));
        assert_eq!(source.get().await, Ok(Secret::new("abc")));
        assert!(source.renew(&Secret::new("abc")).await.is_none());
        assert!(!source.can_renew());
    }
}
