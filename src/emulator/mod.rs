//! An embedded stand-in for WeChat's immediate-delivery platform and the carriers' test systems.
//!
//! It answers the token endpoints and the business APIs (`order/add`, `pre_add`, `get`,
//! `cancel`, `realmock_update_order`, `test_update_order`, `delivery/getall`, `shop/get`) with
//! the platform's codes, pushes `update_waybill_status` events to a merchant URL, injects
//! reproducible faults, and shows every order's history under `/__simulate/orders`.
//! Supported statuses and transitions come only from the [`Carriers`] it is given.

mod api;
mod conn;
mod faults;
mod orders;
mod push;
mod server;
mod shed;
mod state;
pub use state::StateFileError;
mod tokens;
mod ui;
mod wire;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rust_i18n::t;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

pub use faults::{Faults, parse_faults};
pub use orders::PushOutcome;
pub use push::{PushFormat, PushSecurity, UrlCheckFailure};

use crate::base::secret::Secret;
use crate::model::carriers::Carriers;

/// The documented development app, configured when no `--app` is given.
pub const DEV_APPID: &str = "wxsimulate0000dev";
/// Its app secret (public on purpose: it only opens the local emulator).
pub const DEV_SECRET: &str = "simulate-dev-secret";

/// How long `shutdown` waits for open connections before cutting them: under the 5 s a
/// supervisor commonly grants after SIGTERM, with room to print and exit (it took 5.03–5.10 s
/// under load when the wait itself was 5 s).
const SHUTDOWN_GRACE: Duration = Duration::from_millis(4_000);

/// Everything that shapes the emulator's behaviour.
#[derive(Debug, Clone)]
pub struct Config {
    /// appid → app secret.
    pub apps: Vec<(String, Secret)>,
    pub token_ttl: Duration,
    /// Realmock/test updates on an unknown order create it at 101 first.
    pub auto_create: bool,
    /// The merchant's push URL; no pushes without it.
    pub callback: Option<String>,
    pub callback_format: PushFormat,
    /// Signature and encryption of pushes (the merchant's message-push settings).
    pub push_security: PushSecurity,
    /// Per push attempt.
    pub push_timeout: Duration,
    pub push_attempts: u32,
    /// After a failed push attempt, before the next.
    pub push_retry_delay: Duration,
    pub faults: Faults,
    /// Seeds the fault draw.
    pub seed: u64,
    /// How far `action_time` may be from now.
    pub max_clock_skew: Duration,
    /// The SQLite file that keeps tokens and orders across restarts; in memory without it.
    pub state: Option<std::path::PathBuf>,
    /// Keep the real `delivery_sign` in the history (`serve --show-signatures`); `***`
    /// otherwise, since a weak appsecret can be brute-forced from it.
    pub show_signatures: bool,
    pub limits: Limits,
    /// Serve the live dashboard at `/` (`--ui`).
    pub ui: bool,
}

/// What the emulator keeps and serves at most, so that a long-lived or abused emulator stays
/// bounded. What it keeps is at most `orders × history × body_bytes` (plus `unmatched ×
/// body_bytes`); each is a `serve` flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Orders kept; creating one more forgets the oldest.
    pub orders: usize,
    /// History entries kept per order: its creation and the latest ones.
    pub history: usize,
    /// Calls that named no known order kept (the latest ones).
    pub unmatched: usize,
    /// Bytes of a request body kept; a longer one is kept as an excerpt of this many bytes.
    pub body_bytes: usize,
    /// Connections served at once; more wait in the listen queue.
    pub connections: usize,
    /// A connection that has not sent a whole request head in this long is closed.
    pub header_timeout: Duration,
    /// A connection with nothing sent or received for this long is closed.
    pub idle_timeout: Duration,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        orders: 2_000,
        history: 100,
        unmatched: 500,
        body_bytes: 4_096,
        connections: 1_024,
        header_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(60),
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            apps: vec![(DEV_APPID.to_owned(), Secret::new(DEV_SECRET))],
            token_ttl: Duration::from_secs(7200),
            auto_create: false,
            callback: None,
            callback_format: PushFormat::Json,
            push_security: PushSecurity::default(),
            push_timeout: Duration::from_secs(5),
            push_attempts: 3,
            push_retry_delay: Duration::from_secs(1),
            faults: Faults::default(),
            seed: 0,
            max_clock_skew: Duration::from_secs(600),
            state: None,
            show_signatures: false,
            limits: Limits::DEFAULT,
            ui: false,
        }
    }
}

/// Parses `APPID:SECRET` (for a clap value parser). The secret may itself contain `:`.
pub fn parse_app(text: &str) -> Result<(String, Secret), String> {
    let Some((appid, secret)) = text.split_once(':') else {
        return Err(t!("serve.app_shape").into_owned());
    };
    let appid = appid.trim();
    if appid.is_empty() || appid.chars().any(char::is_whitespace) {
        return Err(t!("serve.app_appid").into_owned());
    }
    if secret.is_empty() {
        return Err(t!("serve.app_secret_empty", appid = appid).into_owned());
    }
    Ok((appid.to_owned(), Secret::new(secret)))
}

/// A running emulator. Dropping it stops the server (without waiting); prefer [`shutdown`].
///
/// [`shutdown`]: Emulator::shutdown
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<server::Shared>,
    stop_server: Option<oneshot::Sender<()>>,
    // Dropping this sender stops every push worker.
    stop_pushes: Option<watch::Sender<bool>>,
    task: Option<JoinHandle<io::Result<()>>>,
    /// The push URL's echostr check at start, when there is a push URL.
    callback_check: Option<Result<(), UrlCheckFailure>>,
}

impl Emulator {
    /// Binds `addr` (port 0 picks a free port), starts serving in the background and returns.
    pub async fn start(
        addr: SocketAddr,
        carriers: Arc<Carriers>,
        config: Config,
    ) -> io::Result<Emulator> {
        Emulator::start_with_log(addr, carriers, config, false).await
    }

    async fn start_with_log(
        addr: SocketAddr,
        carriers: Arc<Carriers>,
        mut config: Config,
        log: bool,
    ) -> io::Result<Emulator> {
        if let Some(url) = &config.callback {
            check_callback(url)?;
        }
        if config.push_security.appid.is_empty() {
            // Pushes are the Mini Program's: the first configured app.
            config.push_security.appid = config
                .apps
                .first()
                .map(|(id, _)| id.clone())
                .unwrap_or_else(|| DEV_APPID.to_owned());
        }
        let listener = conn::bind(addr, &config.limits)?;
        let addr = listener.local_addr()?;
        let (stop_pushes, stop_rx) = watch::channel(false);
        let pusher = match &config.callback {
            Some(url) => Some(
                push::Pusher::new(
                    url.clone(),
                    config.callback_format,
                    config.push_security.clone(),
                    (
                        config.push_timeout,
                        config.push_attempts,
                        config.push_retry_delay,
                    ),
                    stop_rx.clone(),
                    log,
                )
                .map_err(io::Error::other)?,
            ),
            None => None,
        };
        let callback_check = match &pusher {
            Some(pusher) => Some(pusher.verify_url().await),
            None => None,
        };
        let config_limits = config.limits;
        let ui = config.ui;
        let mut shared = server::Shared::new(carriers, config, log, pusher)?;
        if ui {
            // The dashboard's feeds end when the emulator stops, so that shutdown does not
            // wait for open pages.
            shared.ui = Some(stop_rx.clone());
        }
        let shared = Arc::new(shared);
        let router = server::router(shared.clone());
        let (stop_server, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(conn::serve(
            listener,
            router,
            config_limits,
            shared.connections_accepted.clone(),
            stopped,
        ));
        Ok(Emulator {
            addr,
            shared,
            stop_server: Some(stop_server),
            stop_pushes: Some(stop_pushes),
            task: Some(task),
            callback_check,
        })
    }

    /// Every push made so far, order by order, in the order they were made.
    pub fn push_outcomes(&self) -> Vec<PushOutcome> {
        let book = self
            .shared
            .book
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        book.push_outcomes()
    }

    /// How the push URL answered the echostr check at start (`None` without a push URL).
    pub fn callback_check(&self) -> Option<&Result<(), UrlCheckFailure>> {
        self.callback_check.as_ref()
    }

    /// The problem with the push URL's echostr check, as one line for the console.
    pub fn callback_warning(&self) -> Option<String> {
        match self.callback_check.as_ref()? {
            Ok(()) => None,
            Err(why) => Some(why.warning()),
        }
    }

    /// `http://127.0.0.1:PORT` (a wildcard bind is reached through loopback).
    pub fn base_url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// The dashboard's address, when it is served (`--ui`).
    pub fn dashboard_url(&self) -> Option<String> {
        self.shared
            .ui
            .as_ref()
            .map(|_| format!("{}/", self.base_url()))
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A valid token for the first configured app, issued in-process (no credentials needed).
    /// Connections accepted since the start (also at `GET /__simulate/stats`).
    pub fn connections_accepted(&self) -> u64 {
        self.shared
            .connections_accepted
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn issue_token(&self) -> Secret {
        self.shared.tokens.issue_local()
    }

    /// Waits until every accepted status change has been pushed (or given up on), at most `limit`.
    pub async fn drain_pushes(&self, limit: Duration) {
        let Some(pusher) = &self.shared.pusher else {
            return;
        };
        let deadline = tokio::time::Instant::now() + limit;
        while pusher.pending() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops accepting, lets open calls finish (up to 4 s), stops pushes, and waits.
    pub async fn shutdown(mut self) {
        self.stop_pushes.take();
        if let Some(stop) = self.stop_server.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            match tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => {
                    tracing::warn!("{}", t!("serve.stopped_with_error", error = e.to_string()));
                }
                Ok(Err(e)) => tracing::warn!("{}", t!("serve.task_failed", error = e.to_string())),
                Err(_) => task.abort(),
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop_pushes.take();
        if let Some(stop) = self.stop_server.take() {
            let _ = stop.send(());
        }
    }
}

/// For the fuzz target (`crate::fuzzing`): one business call, handled as the server would.
pub(crate) fn fuzz_call(api: u8, valid_token: bool, query: &str, body: &[u8]) {
    static SHARED: std::sync::OnceLock<Option<(server::Shared, Secret)>> =
        std::sync::OnceLock::new();
    let Some((shared, token)) = SHARED.get_or_init(|| {
        let carriers = Arc::new(Carriers::builtin().ok()?);
        let config = Config {
            auto_create: true,
            limits: Limits {
                orders: 64,
                history: 16,
                unmatched: 16,
                body_bytes: 256,
                ..Limits::DEFAULT
            },
            ..Config::default()
        };
        let shared = server::Shared::new(carriers, config, false, None).ok()?;
        let token = shared.tokens.issue_local();
        Some((shared, token))
    }) else {
        return;
    };
    let _ = wire::redact_query(query);
    let from_query = wire::query_param(Some(query), "access_token");
    let token = if valid_token {
        Some(token.expose().to_owned())
    } else {
        from_query
    };
    let api = api::Api::ALL[usize::from(api) % api::Api::ALL.len()];
    let call = api::Call {
        api,
        post: true,
        token: token.as_deref(),
        body,
    };
    let _ = api::handle(shared, call, None);
}

/// Refuses a push URL that could never be reached, at start rather than on every push.
fn check_callback(url: &str) -> io::Result<()> {
    let invalid = |why: String| io::Error::new(io::ErrorKind::InvalidInput, why);
    // The URL itself is not echoed: it may carry the merchant's own token.
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| invalid(t!("serve.callback_invalid", error = e.to_string()).into_owned()))?;
    match parsed.scheme() {
        "http" | "https" => Ok(()),
        other => Err(invalid(
            t!("serve.callback_scheme", scheme = other).into_owned(),
        )),
    }
}

/// `simulate serve`: runs until Ctrl-C or SIGTERM, logging one line per call to stderr.
pub async fn serve(addr: SocketAddr, carriers: Arc<Carriers>, config: Config) -> io::Result<()> {
    let emulator = Emulator::start_with_log(addr, carriers, config, true).await?;
    let mut banner = t!(
        "serve.listening",
        url = format!("http://{}", emulator.local_addr())
    )
    .into_owned();
    banner.push('\n');
    if let Some(url) = emulator.dashboard_url() {
        banner.push_str(&t!("serve.dashboard", url = url));
        banner.push('\n');
    }
    if emulator.callback_check().is_some_and(Result::is_ok) {
        banner.push_str(&t!("serve.url_check_passed"));
        banner.push('\n');
    }
    // `ready` is the marker scripts and tests wait for: the same in every language.
    banner.push_str("ready\n");
    // Nobody reading stdout (`| head -2` after these lines) is no reason to stop serving.
    crate::base::console::out(&banner);
    if let Some(warning) = emulator.callback_warning() {
        crate::base::console::err(&format!("{warning}\n"));
    }
    wait_for_stop_signal().await?;
    crate::base::console::err(&format!("{}\n", t!("serve.stopping")));
    emulator.shutdown().await;
    Ok(())
}

async fn wait_for_stop_signal() -> io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_app_splits_at_the_first_colon() {
        let Ok((appid, secret)) = parse_app("wx123:se:cret") else {
            panic!()
        };
        assert_eq!(appid, "wx123");
        assert_eq!(secret.expose(), "se:cret");
        assert!(parse_app("wx123").is_err());
        assert!(parse_app(":secret").is_err());
        assert!(parse_app("wx123:").is_err());
        assert!(parse_app("wx 1:s").is_err());
    }

    #[test]
    fn callback_urls_are_checked() {
        assert!(check_callback("http://127.0.0.1:9/hook").is_ok());
        assert!(check_callback("https://merchant.example/wx?token=1").is_ok());
        assert!(check_callback("merchant.example/hook").is_err());
        assert!(check_callback("ftp://merchant.example/hook").is_err());
    }

    #[test]
    fn config_defaults_match_the_platform() {
        let config = Config::default();
        assert_eq!(config.apps.len(), 1);
        assert_eq!(config.apps[0].0, DEV_APPID);
        assert_eq!(config.token_ttl, Duration::from_secs(7200));
        assert_eq!(config.push_timeout, Duration::from_secs(5));
        assert_eq!(config.push_attempts, 3);
        assert!(config.faults.is_none());
        assert!(!config.auto_create);
        assert_eq!(config.callback_format, PushFormat::Json);
        assert_eq!(config.max_clock_skew, Duration::from_secs(600));
        // Secrets never print.
        assert!(!format!("{config:?}").contains(DEV_SECRET));
    }
}
