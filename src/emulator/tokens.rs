//! Access tokens: the classic `/cgi-bin/token` and `/cgi-bin/stable_token`.
//!
//! Rules, as documented by WeChat: a classic fetch issues a new token and makes the previous
//! classic token of that app "not latest"; the old one keeps working for a 5-minute overlap
//! (or until its own expiry, if sooner), then answers 40001. A stable fetch in normal mode
//! returns the same token while it is valid, and a new one in its last 5 minutes (the old one
//! still works until it expires), so a caller always gets at least 300 s; `force_refresh`
//! issues a new one and the old one answers 40001 at once. The two kinds are independent.
//! Every token lives `token_ttl`, then answers 42001.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::state::Store;

use crate::base::secret::Secret;
use crate::wechat::errcode;

/// How long a superseded classic token still works.
const CLASSIC_OVERLAP: Duration = Duration::from_secs(300);
/// A stable token this close to expiry is replaced by a new one (when lifetimes are long
/// enough for that to mean anything).
const STABLE_ROTATE: Duration = Duration::from_secs(300);
/// Expired tokens are remembered this long, so they answer 42001 rather than 40001.
const REMEMBER_EXPIRED: Duration = Duration::from_secs(3600);

/// Why a token request was refused: the platform's code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub errcode: i64,
    pub message: &'static str,
}

/// What a business call's `access_token` turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Check {
    Valid,
    Unknown,
    Superseded,
    Expired,
}

/// A freshly issued (or re-served) token.
pub(crate) struct Issued {
    pub token: Secret,
    pub expires_in: u64,
}

struct Entry {
    expires: Instant,
    /// After this instant the token answers 40001 "not latest".
    superseded: Option<Instant>,
    /// A third-party platform's token (`api_component_token`), which `shop/add` and `open`
    /// require.
    third_party: bool,
}

#[derive(Default)]
struct Inner {
    tokens: HashMap<String, Entry>,
    latest_classic: HashMap<String, String>,
    stable: HashMap<String, String>,
}

pub(crate) struct Tokens {
    apps: Vec<(String, Secret)>,
    ttl: Duration,
    stable_rotate: Duration,
    inner: Mutex<Inner>,
    /// The state file the tokens are kept in, if any.
    store: Option<Store>,
}

/// Where the token table is kept in the state file.
const STATE_NAME: &str = "tokens";

/// The refusal when an issued token could not be written to the state file.
const NOT_SAVED: Refusal = Refusal {
    errcode: errcode::SYSTEM_BUSY,
    message: "system error: the state file could not be written",
};

impl Tokens {
    pub fn new(apps: Vec<(String, Secret)>, ttl: Duration) -> Tokens {
        // Short test lifetimes (a few seconds) would otherwise rotate on every call.
        let stable_rotate = if ttl > 2 * STABLE_ROTATE {
            STABLE_ROTATE
        } else {
            Duration::ZERO
        };
        Tokens {
            apps,
            ttl,
            stable_rotate,
            inner: Mutex::new(Inner::default()),
            store: None,
        }
    }

    /// How many tokens are known (live or in their overlap).
    pub fn token_count(&self) -> usize {
        self.lock().tokens.len()
    }

    /// Keeps the tokens in `store`, starting from those it already holds.
    pub fn with_store(mut self, store: Store) -> std::io::Result<Tokens> {
        if let Some(text) = store.load_meta(STATE_NAME)? {
            let value: Value = serde_json::from_str(&text).map_err(std::io::Error::other)?;
            *self.lock() = Inner::from_json(&value);
        }
        self.store = Some(store);
        Ok(self)
    }

    /// Writes the table before a token is handed out.
    fn save(&self, inner: &Inner) -> Result<(), Refusal> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        store
            .save_meta(STATE_NAME, &inner.to_json().to_string())
            .map_err(|e| {
                crate::base::console::err(&format!("simulate emulator: {e}\n"));
                NOT_SAVED
            })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Checks `grant_type`, `appid` and `secret` as both token endpoints do.
    pub fn authenticate(
        &self,
        grant_type: Option<&str>,
        appid: Option<&str>,
        secret: Option<&str>,
    ) -> Result<String, Refusal> {
        let appid = appid.filter(|a| !a.is_empty()).ok_or(Refusal {
            errcode: errcode::APPID_MISSING,
            message: "appid missing",
        })?;
        let secret = secret.filter(|s| !s.is_empty()).ok_or(Refusal {
            errcode: errcode::APPSECRET_MISSING,
            message: "appsecret missing",
        })?;
        if grant_type != Some("client_credential") {
            return Err(Refusal {
                errcode: errcode::INVALID_GRANT_TYPE,
                message: "invalid grant_type, must be client_credential",
            });
        }
        let Some((_, expected)) = self.apps.iter().find(|(id, _)| id == appid) else {
            return Err(Refusal {
                errcode: errcode::INVALID_APPID,
                message: "invalid appid",
            });
        };
        if expected.expose() != secret {
            // The reference (platform-wide codes) records 40125 from the token endpoints.
            return Err(Refusal {
                errcode: errcode::INVALID_APPSECRET,
                message: "invalid appsecret",
            });
        }
        Ok(appid.to_owned())
    }

    /// `/cgi-bin/token`: always a new token; the previous classic one enters its overlap.
    pub fn issue_classic(&self, appid: &str) -> Result<Issued, Refusal> {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.purge(now);
        let token = new_token();
        if let Some(previous) = inner.latest_classic.insert(appid.to_owned(), token.clone())
            && let Some(entry) = inner.tokens.get_mut(&previous)
        {
            entry.superseded = Some(now + CLASSIC_OVERLAP);
        }
        inner.insert(&token, now + self.ttl);
        self.save(&inner)?;
        Ok(Issued {
            token: Secret::new(token),
            expires_in: seconds(self.ttl),
        })
    }

    /// `/cgi-bin/stable_token`: the current stable token while valid, else (or when forced) a
    /// new one.
    pub fn issue_stable(&self, appid: &str, force_refresh: bool) -> Result<Issued, Refusal> {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.purge(now);
        let current = inner.stable.get(appid).cloned();
        if let Some(current) = &current
            && !force_refresh
            && let Some(entry) = inner.tokens.get(current)
            && entry.expires > now + self.stable_rotate
            && entry.superseded.is_none()
        {
            return Ok(Issued {
                token: Secret::new(current.clone()),
                expires_in: seconds(entry.expires - now),
            });
        }
        // Forced: the old token stops at once. Rotated near expiry: it runs out on its own.
        if force_refresh
            && let Some(current) = current
            && let Some(entry) = inner.tokens.get_mut(&current)
        {
            entry.superseded = Some(now);
        }
        let token = new_token();
        inner.stable.insert(appid.to_owned(), token.clone());
        inner.insert(&token, now + self.ttl);
        self.save(&inner)?;
        Ok(Issued {
            token: Secret::new(token),
            expires_in: seconds(self.ttl),
        })
    }

    /// `api_component_token`: a new third-party token (earlier ones stay valid until they
    /// expire).
    pub fn issue_component(&self) -> Result<Issued, Refusal> {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.purge(now);
        let token = new_token();
        inner.insert(&token, now + self.ttl);
        if let Some(entry) = inner.tokens.get_mut(&token) {
            entry.third_party = true;
        }
        self.save(&inner)?;
        Ok(Issued {
            token: Secret::new(token),
            expires_in: seconds(self.ttl),
        })
    }

    /// Whether `token` was issued to a third-party platform.
    pub fn is_third_party(&self, token: &str) -> bool {
        self.lock()
            .tokens
            .get(token)
            .is_some_and(|entry| entry.third_party)
    }

    /// A stable token for the first configured app, without credentials (`simulate --local`).
    pub fn issue_local(&self) -> Secret {
        let appid = self
            .apps
            .first()
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| super::DEV_APPID.to_owned());
        match self.issue_stable(&appid, false) {
            Ok(issued) => issued.token,
            // Not kept in the state file: still valid while this emulator runs.
            Err(_) => {
                let mut inner = self.lock();
                let token = new_token();
                inner.insert(&token, Instant::now() + self.ttl);
                Secret::new(token)
            }
        }
    }

    pub fn check(&self, token: &str) -> Check {
        let now = Instant::now();
        let inner = self.lock();
        match inner.tokens.get(token) {
            None => Check::Unknown,
            Some(entry) if entry.expires <= now => Check::Expired,
            Some(entry) if entry.superseded.is_some_and(|at| at <= now) => Check::Superseded,
            Some(_) => Check::Valid,
        }
    }
}

/// Every issued token is `SIM_` and this many lowercase hex digits.
const TOKEN_HEX: usize = 128;
const TOKEN_PREFIX: &str = "SIM_";

/// `text` with everything shaped like a token this emulator issues replaced by `***`, live
/// or not. One pass over the text whatever the number of tokens issued: redacting against
/// the list of live tokens cost a scan per token, 2.7 s a call after 30,000 token requests.
pub(crate) fn redact_issued(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(TOKEN_PREFIX) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(TOKEN_PREFIX) {
        let after = &rest[at + TOKEN_PREFIX.len()..];
        let hex = after
            .bytes()
            .take(TOKEN_HEX)
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        out.push_str(&rest[..at]);
        if hex == TOKEN_HEX {
            out.push_str(crate::base::secret::REDACTED);
            rest = &after[TOKEN_HEX..];
        } else {
            out.push_str(TOKEN_PREFIX);
            rest = after;
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

impl Inner {
    /// The table with instants as Unix milliseconds, for the state file.
    fn to_json(&self) -> Value {
        let (now, wall) = (Instant::now(), unix_ms(SystemTime::now()));
        let at = |i: Instant| {
            if i >= now {
                wall + millis(i - now)
            } else {
                wall - millis(now - i)
            }
        };
        let tokens: serde_json::Map<String, Value> = self
            .tokens
            .iter()
            .map(|(token, e)| {
                (
                    token.clone(),
                    json!({
                        "expires": at(e.expires),
                        "superseded": e.superseded.map(at),
                        "third_party": e.third_party,
                    }),
                )
            })
            .collect();
        json!({
            "tokens": tokens,
            "latest_classic": self.latest_classic,
            "stable": self.stable,
        })
    }

    fn from_json(value: &Value) -> Inner {
        let (now, wall) = (Instant::now(), unix_ms(SystemTime::now()));
        let at = |ms: i64| {
            if ms >= wall {
                now + Duration::from_millis(u64::try_from(ms - wall).unwrap_or(0))
            } else {
                let ago = Duration::from_millis(u64::try_from(wall - ms).unwrap_or(0));
                now.checked_sub(ago).unwrap_or(now)
            }
        };
        let map = |name: &str| -> HashMap<String, String> {
            value
                .get(name)
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default()
        };
        let mut tokens = HashMap::new();
        if let Some(Value::Object(kept)) = value.get("tokens") {
            for (token, entry) in kept {
                let Some(expires) = entry.get("expires").and_then(Value::as_i64) else {
                    continue;
                };
                let superseded = entry.get("superseded").and_then(Value::as_i64).map(at);
                let third_party = entry.get("third_party").and_then(Value::as_bool);
                tokens.insert(
                    token.clone(),
                    Entry {
                        expires: at(expires),
                        superseded,
                        third_party: third_party.unwrap_or(false),
                    },
                );
            }
        }
        Inner {
            tokens,
            latest_classic: map("latest_classic"),
            stable: map("stable"),
        }
    }

    fn insert(&mut self, token: &str, expires: Instant) {
        self.tokens.insert(
            token.to_owned(),
            Entry {
                expires,
                superseded: None,
                third_party: false,
            },
        );
    }

    fn purge(&mut self, now: Instant) {
        self.tokens
            .retain(|_, e| e.expires + REMEMBER_EXPIRED > now);
    }
}

fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map(millis).unwrap_or(0)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Whole seconds, rounded up so a 1.5 s lifetime does not read as 1 s.
fn seconds(d: Duration) -> u64 {
    let whole = d.as_secs();
    if d.subsec_nanos() > 0 {
        whole + 1
    } else {
        whole
    }
}

/// A token in the platform's alphabet and rough length (real ones are ~136 characters).
fn new_token() -> String {
    let mut token = String::from("SIM_");
    for _ in 0..4 {
        token.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    token
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(ttl: Duration) -> Tokens {
        Tokens::new(vec![("wxa".into(), Secret::new("sa"))], ttl)
    }

    #[test]
    fn authenticate_gives_the_documented_codes() {
        let t = tokens(Duration::from_secs(60));
        let code = |g, a, s| t.authenticate(g, a, s).err().map(|r| r.errcode);
        assert_eq!(
            code(Some("client_credential"), Some("wxa"), Some("sa")),
            None
        );
        assert_eq!(
            code(Some("client_credential"), Some("wxb"), Some("sa")),
            Some(40_013)
        );
        assert_eq!(
            code(Some("client_credential"), Some("wxa"), Some("no")),
            Some(40_125)
        );
        assert_eq!(
            code(Some("password"), Some("wxa"), Some("sa")),
            Some(40_002)
        );
        assert_eq!(code(None, Some("wxa"), Some("sa")), Some(40_002));
        assert_eq!(
            code(Some("client_credential"), None, Some("sa")),
            Some(41_002)
        );
        assert_eq!(
            code(Some("client_credential"), Some("wxa"), None),
            Some(41_004)
        );
    }

    #[test]
    fn classic_supersedes_with_overlap() {
        let t = tokens(Duration::from_secs(60));
        let first = t.issue_classic("wxa").unwrap_or_else(|_| panic!());
        let second = t.issue_classic("wxa").unwrap_or_else(|_| panic!());
        assert_ne!(first.token, second.token);
        assert_eq!(second.expires_in, 60);
        // Still inside the overlap.
        assert_eq!(t.check(first.token.expose()), Check::Valid);
        assert_eq!(t.check(second.token.expose()), Check::Valid);
        assert_eq!(t.check("nonsense"), Check::Unknown);
    }

    #[test]
    fn stable_is_reused_until_forced() {
        let t = tokens(Duration::from_secs(60));
        let a = t.issue_stable("wxa", false).unwrap_or_else(|_| panic!());
        let b = t.issue_stable("wxa", false).unwrap_or_else(|_| panic!());
        assert_eq!(a.token, b.token);
        let c = t.issue_stable("wxa", true).unwrap_or_else(|_| panic!());
        assert_ne!(a.token, c.token);
        assert_eq!(t.check(a.token.expose()), Check::Superseded);
        assert_eq!(t.check(c.token.expose()), Check::Valid);
        assert_eq!(t.issue_local(), c.token);
    }

    #[test]
    fn stable_rotates_near_expiry_and_keeps_the_old_one_valid() {
        let mut t = tokens(Duration::from_millis(200));
        t.stable_rotate = Duration::from_millis(150);
        let a = t.issue_stable("wxa", false).unwrap_or_else(|_| panic!());
        std::thread::sleep(Duration::from_millis(80));
        let b = t.issue_stable("wxa", false).unwrap_or_else(|_| panic!());
        assert_ne!(a.token, b.token, "rotated inside the window");
        assert_eq!(t.check(a.token.expose()), Check::Valid);
        // Long lifetimes rotate 300 s before expiry; short ones never early.
        assert_eq!(
            tokens(Duration::from_secs(7200)).stable_rotate,
            STABLE_ROTATE
        );
        assert_eq!(tokens(Duration::from_secs(1)).stable_rotate, Duration::ZERO);
    }

    #[test]
    fn issued_tokens_are_redacted_by_their_shape() {
        let t = tokens(Duration::from_secs(60));
        let a = t
            .issue_classic("wxa")
            .map(|i| i.token)
            .unwrap_or_else(|_| panic!());
        let b = t
            .issue_stable("wxa", false)
            .map(|i| i.token)
            .unwrap_or_else(|_| panic!());
        let text = format!("x{}y {} SIM_abc", a.expose(), b.expose());
        assert_eq!(redact_issued(&text), "x***y *** SIM_abc");
        assert!(matches!(
            redact_issued("plain"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn redaction_does_not_grow_with_the_tokens_issued() {
        // 30,000 token requests made one call take 2.7 s when every live token was searched
        // for; shape matching costs the same whatever was issued. Compared, not timed: the
        // redaction secrets of a call no longer include the live tokens.
        let t = tokens(Duration::from_secs(60));
        for _ in 0..3_000 {
            let _ = t.issue_classic("wxa");
        }
        assert!(t.lock().tokens.len() >= 3_000);
        let body = format!("{{\"access_token\":\"{}\"}}", new_token());
        assert_eq!(redact_issued(&body), "{\"access_token\":\"***\"}");
    }

    #[test]
    fn component_tokens_are_third_party() {
        let t = tokens(Duration::from_secs(60));
        let c = t.issue_component().unwrap_or_else(|_| panic!());
        assert_eq!(t.check(c.token.expose()), Check::Valid);
        assert!(t.is_third_party(c.token.expose()));
        let plain = t.issue_stable("wxa", false).unwrap_or_else(|_| panic!());
        assert!(!t.is_third_party(plain.token.expose()));
    }

    #[test]
    fn tokens_expire() {
        let t = tokens(Duration::from_millis(1));
        let a = t.issue_classic("wxa").unwrap_or_else(|_| panic!());
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(t.check(a.token.expose()), Check::Expired);
        let s = t.issue_stable("wxa", false).unwrap_or_else(|_| panic!());
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(t.check(s.token.expose()), Check::Expired);
        // An expired stable token is replaced, not served again.
        assert_ne!(
            t.issue_stable("wxa", false)
                .unwrap_or_else(|_| panic!())
                .token,
            s.token
        );
    }
}
