//! The command line, as clap types. Doc comments are the help text.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::builder::TypedValueParser as _;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::base::duration::parse_duration;
use crate::base::pace::{Rate, Speed};
use crate::base::secret::Secret;
use crate::emulator;

const ABOUT: &str =
    "Play delivery orders through their life on WeChat's immediate-delivery platform";

const LONG_ABOUT: &str = "\
Play delivery orders through their life on WeChat's immediate-delivery platform.

simulate reads YAML scenarios, checks every step against what the carrier supports, then sends
each status change at its time through WeChat's realmock_update_order API (test_update_order for
the sandbox) and reports what happened.

Examples:
  simulate --local scenarios/dada_happy_path.yaml --speed 60
  simulate check scenarios/
  WECHAT_ACCESS_TOKEN=… simulate scenarios/sf_happy_path.yaml
  simulate serve --addr 127.0.0.1:8080";

#[derive(Debug, Parser)]
#[command(
    name = "simulate",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = crate::base::exit::HELP,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// `simulate PATH…` is `simulate run PATH…`.
    #[command(flatten)]
    pub run: RunArgs,

    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate, then send every step at its time (the default command)
    Run(RunArgs),
    /// Validate scenarios and send nothing
    Check(CheckArgs),
    /// Print the timeline a run would follow, and send nothing
    Plan(PlanArgs),
    /// Run the embedded WeChat emulator as an HTTP server
    Serve(ServeArgs),
    /// Move one existing order to a status now, checked against where order/get says it is
    Send(SendArgs),
    /// Write a new, valid scenario for a named path of a carrier
    New(NewArgs),
    /// List the carriers, their statuses and allowed transitions
    Carriers,
    /// List every order status with its phase, names and labels
    Statuses,
    /// Draw a carrier's transition graph (Mermaid or DOT), highlighting a scenario's path
    Graph(GraphArgs),
    /// List every path a carrier's graph allows from 101
    Paths(PathsArgs),
    /// Show which moves of their carriers' graphs scenarios take; send nothing
    Coverage(CoverageArgs),
    /// Print the JSON Schema for scenario files, or for carrier files
    Schema(SchemaArgs),
    /// Print shell completions
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write every page with --dir
    Man(ManArgs),
    /// Work with the JSON reports of earlier runs (merge the shards of one)
    Report(ReportArgs),
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub command: ReportCommand,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Join the JSON reports of a run's shards into one set of reports, with the verdict and
    /// exit code the shards earn together
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' --report-json files, in the order their scenarios are to be listed
    #[arg(required = true, value_name = "REPORT.json")]
    pub reports: Vec<PathBuf>,

    /// Write the merged JSON report
    #[arg(long, value_name = "PATH")]
    pub report_json: Option<PathBuf>,

    /// Write the merged JUnit XML report
    #[arg(long, value_name = "PATH")]
    pub report_junit: Option<PathBuf>,

    /// Write the merged HTML report
    #[arg(long, value_name = "PATH")]
    pub report_html: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub run: RunArgs,

    /// Print each call as a curl command (the token stays a placeholder)
    #[arg(long)]
    pub curl: bool,

    /// Show the real delivery_sign instead of a placeholder (it is a SHA-1 of the appsecret)
    #[arg(long)]
    pub show_signatures: bool,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// The carrier (id or alias)
    #[arg(long)]
    pub carrier: String,

    /// The order's shop_order_id, as the merchant's system created it
    #[arg(long, value_name = "SHOP_ORDER_ID")]
    pub order: String,

    /// The status to move it to: a code (302) or a name (delivered)
    #[arg(long, value_name = "STATUS")]
    pub status: String,

    /// The action_msg sent with the status
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub msg: String,

    /// The carrier-side shop id to send as; default: the carrier's test account
    #[arg(long, value_name = "SHOPID")]
    pub shopid: Option<String>,

    /// The appsecret of --shopid (needed unless it is the test account's)
    #[arg(
        long,
        env = "SIMULATE_APPSECRET",
        hide_env_values = true,
        value_name = "APPSECRET",
        value_parser = secret
    )]
    pub appsecret: Option<Secret>,

    /// Send even when order/get says the carrier does not allow the move, or cannot say where
    /// the order is
    #[arg(long)]
    pub force: bool,

    /// The platform's base URL
    #[arg(
        long,
        env = "SIMULATE_ENDPOINT",
        default_value = "https://api.weixin.qq.com",
        value_parser = Masked(parse_endpoint)
    )]
    pub endpoint: String,

    /// WeChat access token for the calls
    #[arg(
        long,
        env = "WECHAT_ACCESS_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub access_token: Option<String>,

    /// Against a fresh embedded emulator, for trying the command: it knows no order, so the
    /// order starts at 101 (--endpoint and --access-token are then ignored)
    #[arg(long)]
    pub local: bool,

    /// Fetch the token from /cgi-bin/stable_token with this app id (with --app-secret)
    #[arg(
        long,
        env = "WECHAT_APPID",
        requires = "app_secret",
        value_name = "APPID"
    )]
    pub appid: Option<String>,

    /// The app secret for --appid
    #[arg(
        long,
        env = "WECHAT_APP_SECRET",
        hide_env_values = true,
        requires = "appid",
        value_name = "SECRET"
    )]
    pub app_secret: Option<String>,

    /// Give up connecting after this long
    #[arg(long, default_value = "5s", value_parser = parse_timeout, value_name = "DURATION")]
    pub connect_timeout: Duration,

    /// Give up on a call (connect, send, answer) after this long
    #[arg(long, default_value = "15s", value_parser = parse_timeout, value_name = "DURATION")]
    pub timeout: Duration,

    /// Retries of a transient failure (connection error, HTTP 5xx, errcode -1/930555/930556/45011)
    #[arg(long, default_value_t = 3, value_name = "N", help_heading = "Retries")]
    pub retries: u32,

    /// The first backoff; it doubles each retry, with jitter, up to 8s
    #[arg(long, default_value = "500ms", value_parser = parse_duration, value_name = "DURATION", help_heading = "Retries")]
    pub retry_backoff: Duration,

    /// All backoffs of the call together stay under this
    #[arg(long, default_value = "90s", value_parser = parse_duration, value_name = "DURATION", help_heading = "Retries")]
    pub retry_max_wait: Duration,

    /// How long the minute quota (errcode 45011) makes a retry wait
    #[arg(long, default_value = "60s", value_parser = parse_duration, value_name = "DURATION", help_heading = "Retries")]
    pub quota_wait: Duration,

    /// After the update is accepted, check with order/get that the order got there
    #[arg(long)]
    pub verify: bool,

    /// Seed for the retry jitter
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Write a JSON report (the same as a run's, with one step)
    #[arg(long, value_name = "PATH", help_heading = "Reports")]
    pub report_json: Option<PathBuf>,

    /// Stream events to stdout as JSON lines, as a run does (the line for people moves to stderr)
    #[arg(long, value_enum, value_name = "FORMAT", help_heading = "Reports")]
    pub events: Option<EventsFormat>,
}

impl SendArgs {
    /// The run options these flags stand for, so that a send is made exactly as a run's step:
    /// every option send does not have keeps a run's default.
    pub fn run_args(&self) -> Result<RunArgs, clap::Error> {
        #[derive(Parser)]
        struct Defaults {
            #[command(flatten)]
            run: RunArgs,
        }
        use clap::{CommandFactory, FromArgMatches};
        // No argument and no environment variable (SIMULATE_PUSH_TOKEN would need a
        // --callback send does not have): clap fills in each default, and the fields below
        // take send's own values.
        let matches = Defaults::command()
            .mut_args(|arg| arg.env(None::<&str>))
            .try_get_matches_from(["simulate"])?;
        let mut run = Defaults::from_arg_matches(&matches)?.run;
        run.endpoint = self.endpoint.clone();
        run.access_token = self.access_token.clone();
        run.local = self.local;
        run.appid = self.appid.clone();
        run.app_secret = self.app_secret.clone();
        run.connect_timeout = self.connect_timeout;
        run.timeout = self.timeout;
        run.retries = self.retries;
        run.retry_backoff = self.retry_backoff;
        run.retry_max_wait = self.retry_max_wait;
        run.quota_wait = self.quota_wait;
        run.verify = self.verify;
        run.seed = self.seed;
        run.report_json = self.report_json.clone();
        run.events = self.events;
        Ok(run)
    }
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The carrier (id or alias)
    #[arg(long)]
    pub carrier: String,

    /// Which path of the order's life
    #[arg(long, value_enum, default_value_t = PathChoice::Happy)]
    pub path: PathChoice,

    /// Write here instead of to stdout (an existing file is kept unless --force); with
    /// --all-paths or --negative, the folder to write the scenarios into
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Overwrite FILE (or the files of --all-paths and --negative) if it exists
    #[arg(long)]
    pub force: bool,

    /// Write one scenario for every path of the carrier's graph (`simulate paths`) into the
    /// folder FILE; --max-steps bounds their length
    #[arg(long, conflicts_with = "path", help_heading = "Suites")]
    pub all_paths: bool,

    /// Write one scenario for every move the carrier refuses from each status it can reach,
    /// expecting the refusal, into the folder FILE (with --all-paths: both)
    #[arg(long, conflicts_with = "path", help_heading = "Suites")]
    pub negative: bool,
}

#[derive(Debug, Args)]
pub struct PathsArgs {
    /// The carrier (id or alias)
    #[arg(long)]
    pub carrier: String,

    /// Which paths: those that end delivered, the others (a failure, or a status where the
    /// carrier goes no further), or all
    #[arg(long, value_enum, default_value_t = PathsTo::All)]
    pub to: PathsTo,

    /// Output format
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PathsTo {
    Delivered,
    Failure,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct CoverageArgs {
    /// Scenario files, or folders (every *.yaml / *.yml inside)
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PathChoice {
    Happy,
    Unreachable,
    Refused,
    Cancel,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which files the schema describes
    #[arg(value_enum, default_value_t = SchemaChoice::Scenario)]
    pub kind: SchemaChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaChoice {
    /// Scenario files (schema/scenario.schema.json)
    Scenario,
    /// Carrier files for --carriers (schema/carriers.schema.json)
    Carriers,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The carrier (id or alias); default: the scenario's
    #[arg(long, required_unless_present = "scenario")]
    pub carrier: Option<String>,

    /// Output format
    #[arg(long, value_enum, default_value_t = GraphFormatChoice::Mermaid)]
    pub format: GraphFormatChoice,

    /// A scenario whose path to highlight
    #[arg(value_name = "SCENARIO")]
    pub scenario: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormatChoice {
    Mermaid,
    Dot,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write simulate.1 and a page for every subcommand (simulate-run.1, …) into this folder
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// A carrier file that replaces or extends the built-in carrier profiles
    #[arg(long, global = true, value_name = "FILE")]
    pub carriers: Option<PathBuf>,

    /// Print only failures and the final verdict
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// More detail on stderr (-v debug, -vv trace); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// The most steps a run may plan (steps × repeat, over every file)
    #[arg(long, global = true, default_value_t = crate::scenario::MAX_PLAN_STEPS, value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize), value_name = "N")]
    pub max_steps: usize,

    /// When to use colours (NO_COLOR is honoured)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Language of everything printed for people [default: zh when LC_ALL, LC_MESSAGES or LANG
    /// is a zh locale, else en]
    #[arg(long, global = true, value_enum, value_name = "LANG")]
    pub lang: Option<LangChoice>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LangChoice {
    En,
    Zh,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Scenario files, or folders (every *.yaml / *.yml inside)
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// The platform's base URL
    #[arg(
        long,
        env = "SIMULATE_ENDPOINT",
        default_value = "https://api.weixin.qq.com",
        value_parser = Masked(parse_endpoint)
    )]
    pub endpoint: String,

    /// WeChat access token for the calls
    #[arg(
        long,
        env = "WECHAT_ACCESS_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub access_token: Option<String>,

    /// Run against the embedded emulator on a loopback port: no token, no network
    /// (--endpoint and --access-token are then ignored)
    #[arg(long)]
    pub local: bool,

    /// With --local: the merchant URL that receives update_waybill_status pushes
    #[arg(long, requires = "local", value_name = "URL")]
    pub callback: Option<String>,

    /// With --local: serve the live dashboard at the emulator's address, and keep serving it
    /// after the run until Ctrl-C
    #[arg(long, requires = "local")]
    pub ui: bool,

    #[command(flatten)]
    pub push: PushArgs,

    /// Divide every delay by F (60 plays a minute in a second)
    #[arg(long, default_value_t = Speed::REAL_TIME, value_parser = Speed::from_str, value_name = "F")]
    pub speed: Speed,

    /// Give up connecting after this long
    #[arg(long, default_value = "5s", value_parser = parse_timeout, value_name = "DURATION")]
    pub connect_timeout: Duration,

    /// Give up on a call (connect, send, answer) after this long
    #[arg(long, default_value = "15s", value_parser = parse_timeout, value_name = "DURATION")]
    pub timeout: Duration,

    /// Connections to the platform open at once, kept alive and reused; a step waiting for
    /// one is late by that wait
    #[arg(long, default_value_t = crate::run::client::DEFAULT_CONNECTIONS, value_name = "N")]
    pub connections: std::num::NonZeroUsize,

    /// Fetch the token from /cgi-bin/stable_token with this app id (with --app-secret)
    #[arg(
        long,
        env = "WECHAT_APPID",
        requires = "app_secret",
        value_name = "APPID"
    )]
    pub appid: Option<String>,

    /// The app secret for --appid
    #[arg(
        long,
        env = "WECHAT_APP_SECRET",
        hide_env_values = true,
        requires = "appid",
        value_name = "SECRET"
    )]
    pub app_secret: Option<String>,

    /// Retries of a transient failure (connection error, HTTP 5xx, errcode -1/930555/930556/45011)
    #[arg(long, default_value_t = 3, value_name = "N", help_heading = "Retries")]
    pub retries: u32,

    /// The first backoff; it doubles each retry, with jitter, up to 8s
    #[arg(long, default_value = "500ms", value_parser = parse_duration, value_name = "DURATION", help_heading = "Retries")]
    pub retry_backoff: Duration,

    /// All backoffs of one step together stay under this
    #[arg(long, default_value = "90s", value_parser = parse_duration, value_name = "DURATION", help_heading = "Retries")]
    pub retry_max_wait: Duration,

    /// How long the minute quota (errcode 45011) makes a retry wait
    #[arg(long, default_value = "60s", value_parser = parse_duration, value_name = "DURATION", help_heading = "Retries")]
    pub quota_wait: Duration,

    /// At most N calls per second across the run, e.g. 5/s
    #[arg(long, value_parser = Rate::from_str, value_name = "N/s")]
    pub rate: Option<Rate>,

    /// Fail the run (exit 1) when a step is sent later than this after its planned time
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub max_lateness: Option<Duration>,

    /// At most N scenarios in flight at once
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..), value_name = "N", help_heading = "Many scenarios")]
    pub jobs: Option<u32>,

    /// Run only share I of N of the files (by path), e.g. 2/4, for a CI matrix; auto/N takes I
    /// from JOB_COMPLETION_INDEX (0-based, a Kubernetes Indexed Job)
    #[arg(long, value_parser = parse_shard, value_name = "I/N", help_heading = "Many scenarios")]
    pub shard: Option<(usize, usize)>,

    /// After the first failure, start no new scenario
    #[arg(long, help_heading = "Many scenarios")]
    pub fail_fast: bool,

    /// Run again only the scenarios that failed or did not finish in this earlier
    /// --report-json (their files, fresh order ids); no PATH needed
    #[arg(long, value_name = "REPORT.json", help_heading = "Many scenarios")]
    pub rerun_failed: Option<PathBuf>,

    /// Run only the scenarios whose name matches this glob, e.g. 'Dada*' (repeatable)
    #[arg(long, value_name = "GLOB", help_heading = "Many scenarios")]
    pub only: Vec<String>,

    /// After each accepted step, check with order/get that the order reached the status
    #[arg(long)]
    pub verify: bool,

    /// Play the one scenario on this order, which exists already (e.g. placed in the
    /// merchant's app), instead of the file's shop_order_id
    #[arg(long, value_name = "SHOP_ORDER_ID")]
    pub order: Option<String>,

    /// On a terminal: show what comes next before each step; Enter sends it now, p pauses
    /// the clock (and starts it again), q ends the run as Ctrl-C does
    #[arg(long)]
    pub step: bool,

    /// Seed for random delays (`after: 20s..40s`) and retry jitter; printed when not given
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Write a JUnit XML report (one testcase per step)
    #[arg(long, value_name = "PATH", help_heading = "Reports")]
    pub report_junit: Option<PathBuf>,

    /// Write a JSON report (every scenario, order, step and attempt)
    #[arg(long, value_name = "PATH", help_heading = "Reports")]
    pub report_json: Option<PathBuf>,

    /// Write a self-contained HTML report with a timeline per order
    #[arg(long, value_name = "PATH", help_heading = "Reports")]
    pub report_html: Option<PathBuf>,

    /// Stream events to stdout as JSON lines (the human output moves to stderr)
    #[arg(long, value_enum, value_name = "FORMAT", help_heading = "Reports")]
    pub events: Option<EventsFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventsFormat {
    Jsonl,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Scenario files, or folders (every *.yaml / *.yml inside)
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// A ${VAR} that is not set is a warning, not an error (a lint job without the secrets;
    /// a run still needs every variable)
    #[arg(long)]
    pub allow_missing_env: bool,

    /// Warnings (a missing ${VAR} with --allow-missing-env, a fixed shop_order_id) are errors
    /// (exit 2)
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free one)
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// App credentials the token endpoints accept (repeatable); default: the documented
    /// development pair wxsimulate0000dev:simulate-dev-secret
    #[arg(long = "app", value_name = "APPID:SECRET", value_parser = Masked(emulator::parse_app))]
    pub apps: Vec<(String, crate::base::secret::Secret)>,

    /// Lifetime of issued access tokens
    #[arg(long, default_value = "7200s", value_parser = parse_duration, value_name = "DURATION")]
    pub token_ttl: Duration,

    /// A status update for an unknown order creates it first (at 101)
    #[arg(long)]
    pub auto_create: bool,

    /// The merchant URL that receives update_waybill_status pushes
    #[arg(long, value_name = "URL")]
    pub callback: Option<String>,

    #[command(flatten)]
    pub push: PushArgs,

    /// Keep tokens, orders and histories in this SQLite file, so a restart keeps them
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// Fault rates for resilience testing, e.g. "errcode=-1:0.1,http503:0.05,drop:0.02"
    #[arg(long, value_parser = emulator::parse_faults, value_name = "SPEC")]
    pub faults: Option<emulator::Faults>,

    /// Seed for the fault sequence (same seed, same sequence)
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Listen on an address other than loopback: anyone who reaches it gets tokens for the
    /// development credentials and sees every request
    #[arg(long)]
    pub allow_remote: bool,

    /// Keep the real delivery_sign in the history at /__simulate/orders (default: `***`)
    #[arg(long)]
    pub show_signatures: bool,

    /// Serve a live dashboard of every order at / (offline, English and Chinese)
    #[arg(long)]
    pub ui: bool,

    /// Orders kept; beyond it the oldest is forgotten
    #[arg(long, default_value_t = emulator::Limits::DEFAULT.orders, value_name = "N", help_heading = "Limits")]
    pub max_orders: usize,

    /// History entries kept per order (its creation and the latest ones)
    #[arg(long, default_value_t = emulator::Limits::DEFAULT.history, value_name = "N", help_heading = "Limits")]
    pub max_history: usize,

    /// Calls that named no known order kept (the latest ones)
    #[arg(long, default_value_t = emulator::Limits::DEFAULT.unmatched, value_name = "N", help_heading = "Limits")]
    pub max_unmatched: usize,

    /// Bytes of a request body kept in the history; a longer body is kept as an excerpt
    #[arg(long, default_value_t = emulator::Limits::DEFAULT.body_bytes, value_name = "BYTES", help_heading = "Limits")]
    pub max_body_bytes: usize,

    /// Connections served at once; more wait to be accepted
    #[arg(long, default_value_t = emulator::Limits::DEFAULT.connections, value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize), value_name = "N", help_heading = "Limits")]
    pub max_connections: usize,

    /// A connection that has not sent a whole request head in this long is closed
    #[arg(long, default_value = "10s", value_parser = parse_timeout, value_name = "DURATION", help_heading = "Limits")]
    pub header_timeout: Duration,

    /// A connection with nothing sent or received for this long is closed
    #[arg(long, default_value = "60s", value_parser = parse_timeout, value_name = "DURATION", help_heading = "Limits")]
    pub idle_timeout: Duration,
}

/// The merchant's message-push settings, as configured in the MP console. The values are
/// secrets: they are parsed without checks here (clap would echo a refused value) and checked
/// in `app::push_security`, whose messages never show them.
#[derive(Debug, Clone, Args)]
pub struct PushArgs {
    /// Format of the pushes
    #[arg(long, value_enum, default_value_t = PushFormatChoice::Json, help_heading = "Pushes")]
    pub callback_format: PushFormatChoice,

    /// The push Token: every push URL carries signature, timestamp and nonce made with it
    #[arg(
        long,
        env = "SIMULATE_PUSH_TOKEN",
        hide_env_values = true,
        requires = "callback",
        value_name = "TOKEN",
        value_parser = secret,
        help_heading = "Pushes"
    )]
    pub push_token: Option<Secret>,

    /// Message encryption: plain, compat (message and its encrypted copy) or safe (encrypted
    /// only); compat and safe need --aes-key
    #[arg(long, value_enum, default_value_t = PushModeChoice::Plain, requires = "callback", help_heading = "Pushes")]
    pub push_mode: PushModeChoice,

    /// The 43-character EncodingAESKey for --push-mode compat or safe
    #[arg(
        long,
        env = "SIMULATE_AES_KEY",
        hide_env_values = true,
        requires = "callback",
        value_name = "KEY",
        value_parser = secret,
        help_heading = "Pushes"
    )]
    pub aes_key: Option<Secret>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PushModeChoice {
    Plain,
    Compat,
    Safe,
}

/// Never fails, so that clap never prints the value.
fn secret(text: &str) -> Result<Secret, String> {
    Ok(Secret::new(text))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PushFormatChoice {
    Json,
    Xml,
}

/// A value parser whose errors never repeat the value. clap's own message ("invalid value 'X'
/// for '--endpoint'") would print a token in a URL or the secret of `--app APPID:SECRET`; the
/// parsers wrapped here say what is wrong without quoting what was given.
#[derive(Clone)]
struct Masked<T>(fn(&str) -> Result<T, String>);

impl<T: Clone + Send + Sync + 'static> clap::builder::TypedValueParser for Masked<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let name = arg
            .and_then(clap::Arg::get_long)
            .map(|long| format!("--{long}"))
            .unwrap_or_else(|| "an option".to_owned());
        let why = match value.to_str() {
            Some(text) => match (self.0)(text) {
                Ok(value) => return Ok(value),
                Err(why) => why,
            },
            None => "it is not valid UTF-8".to_owned(),
        };
        let mut cmd = cmd.clone();
        Err(cmd.error(
            clap::error::ErrorKind::ValueValidation,
            format!("invalid value for {name} (not shown, it may hold a secret): {why}"),
        ))
    }
}

/// A base URL the calls can go to: http or https, with a host, no query.
fn parse_endpoint(text: &str) -> Result<String, String> {
    let help =
        "give the platform's base URL, e.g. https://api.weixin.qq.com or http://127.0.0.1:8080";
    let url = reqwest::Url::parse(text.trim()).map_err(|e| format!("not a URL ({e}); {help}"))?;
    // Errors name the URL by its scheme and host only: its path, query and credentials may
    // each carry a secret.
    let shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "`{shown}` is not an http or https URL with a host; {help}"
        ));
    }
    if url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(format!(
            "`{shown}` carries a query, fragment or credentials (not shown); the token goes in \
             --access-token; {help}"
        ));
    }
    Ok(text.trim().trim_end_matches('/').to_owned())
}

/// A timeout: a duration above zero (a zero timeout would fail every call).
fn parse_timeout(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        d if d.is_zero() => Err(format!(
            "`{text}`: a timeout must be above zero, e.g. 500ms or 15s"
        )),
        d => Ok(d),
    }
}

fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    parse_shard_with(text, std::env::var(JOB_INDEX).ok().as_deref())
}

/// Kubernetes sets this in every pod of an Indexed Job: 0, 1, … N-1.
const JOB_INDEX: &str = "JOB_COMPLETION_INDEX";

/// `I/N`, or `auto/N` with I taken from `job_index` (0-based, as Kubernetes counts).
fn parse_shard_with(text: &str, job_index: Option<&str>) -> Result<(usize, usize), String> {
    let bad = || format!("`{text}` is not a shard; use I/N with 1 <= I <= N, e.g. 2/4");
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let n = n.trim().parse::<usize>().map_err(|_| bad())?;
    if i.trim() == "auto" && n >= 1 {
        let Some(index) = job_index.map(str::trim) else {
            return Err(rust_i18n::t!("shard.auto_unset", var = JOB_INDEX, n = n).into_owned());
        };
        return match index.parse::<usize>() {
            Ok(index) if index < n => Ok((index + 1, n)),
            Ok(_) => Err(rust_i18n::t!(
                "shard.auto_out_of_range",
                var = JOB_INDEX,
                index = index,
                n = n,
                last = n - 1
            )
            .into_owned()),
            Err(_) => Err(rust_i18n::t!(
                "shard.auto_not_a_number",
                var = JOB_INDEX,
                index = format!("{index:?}")
            )
            .into_owned()),
        };
    }
    let i = i.trim().parse::<usize>().map_err(|_| bad())?;
    if i >= 1 && i <= n {
        Ok((i, n))
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn send_is_made_with_a_runs_options_and_its_own_values() {
        let cli = Cli::try_parse_from([
            "simulate",
            "send",
            "--carrier",
            "dada",
            "--order",
            "o-1",
            "--status",
            "302",
            "--endpoint",
            "http://127.0.0.1:9/",
            "--retries",
            "7",
            "--timeout",
            "2s",
        ]);
        let Ok(Cli {
            command: Some(Command::Send(send)),
            ..
        }) = cli
        else {
            panic!("{cli:?}")
        };
        let run = send.run_args().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(run.endpoint, "http://127.0.0.1:9");
        assert_eq!(run.retries, 7);
        assert_eq!(run.timeout, Duration::from_secs(2));
        // What send has no option for keeps a run's default.
        assert!(run.paths.is_empty() && run.speed.is_real_time() && run.order.is_none());
        assert_eq!(run.connections, crate::run::client::DEFAULT_CONNECTIONS);
    }

    #[test]
    fn a_bare_path_means_run() {
        let cli = Cli::try_parse_from(["simulate", "a.yaml", "--speed", "10"]);
        let Ok(cli) = cli else { panic!("{cli:?}") };
        assert!(cli.command.is_none());
        assert_eq!(cli.run.paths, [PathBuf::from("a.yaml")]);
        assert_eq!(cli.run.speed.get(), 10.0);
    }

    #[test]
    fn shards() {
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
        assert!(parse_shard("0/4").is_err());
        assert!(parse_shard("5/4").is_err());
        assert!(parse_shard("x").is_err());
        // A Kubernetes Indexed Job counts from 0.
        assert_eq!(parse_shard_with("auto/4", Some("0")), Ok((1, 4)));
        assert_eq!(parse_shard_with("auto/4", Some("3")), Ok((4, 4)));
        let out_of_range = parse_shard_with("auto/4", Some("4"))
            .err()
            .unwrap_or_default();
        assert!(
            out_of_range.contains("JOB_COMPLETION_INDEX is 4"),
            "{out_of_range}"
        );
        assert!(out_of_range.contains("0 to 3"), "{out_of_range}");
        let unset = parse_shard_with("auto/4", None).err().unwrap_or_default();
        assert!(unset.contains("JOB_COMPLETION_INDEX is not set"), "{unset}");
        let garbled = parse_shard_with("auto/4", Some("two"))
            .err()
            .unwrap_or_default();
        assert!(garbled.contains("\"two\""), "{garbled}");
        assert!(parse_shard_with("auto/0", Some("0")).is_err());
    }

    #[test]
    fn endpoints_and_timeouts() {
        assert_eq!(
            parse_endpoint("http://127.0.0.1:8080/"),
            Ok("http://127.0.0.1:8080".to_owned())
        );
        assert!(parse_endpoint("https://api.weixin.qq.com").is_ok());
        for bad in [
            "not a url",
            "",
            "ftp://x",
            "http://x?access_token=1",
            "localhost:8080",
        ] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_timeout("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("0").is_err());
    }
}
