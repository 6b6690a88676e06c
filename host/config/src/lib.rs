//! The pipeline configuration, `pipeline.toml`.
//!
//! One struct per section, every field documented (the reference for users
//! is `docs/config.md`, kept in step with this file). Loading collects every
//! problem it can find — unknown keys anywhere, out-of-range values,
//! unparsable addresses — and reports them together, so a user fixes a
//! config in one pass. Checks that need the outside world (do the inputs
//! exist, do the modules load, are the tunables valid) belong to the
//! pipeline's `validate`, which builds on [`Config::load`].
//!
//! Relative paths are resolved against the directory of the config file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod inputs;
mod inventory;
mod server;
mod sinks;
pub mod units;

pub use inputs::{InputConfig, InputKind, StdinProtocol, SyslogTransport};
pub use inventory::{HostConfig, InventoryConfig, parse_net};
pub use server::ServerConfig;
pub use sinks::{FindingFormat, SinkConfig, SinkKind};
pub use units::{ByteSize, DurationSetting};

/// Everything wrong with a config, all at once.
#[derive(Debug, thiserror::Error)]
#[error("{}", render(.path, .problems))]
pub struct ConfigError {
    pub path: PathBuf,
    pub problems: Vec<String>,
}

fn render(path: &Path, problems: &[String]) -> String {
    let mut s = format!(
        "{}: {} problem{}",
        path.display(),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        s.push_str("\n  - ");
        s.push_str(p);
    }
    s
}

/// The whole pipeline configuration.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Config {
    /// Engine-wide settings.
    #[serde(default)]
    pub engine: EngineConfig,
    /// Limits for analytic instances.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Event-time settings: allowed lateness per format.
    #[serde(default)]
    pub time: TimeConfig,
    /// Hosts, their addresses and users, for enrichment.
    #[serde(default)]
    pub inventory: InventoryConfig,
    /// Per-analytic settings, by analytic id (`AN0676`).
    #[serde(default)]
    pub analytics: BTreeMap<String, AnalyticConfig>,
    /// Where `dumpwatch run` reads events.
    #[serde(default)]
    pub inputs: Vec<InputConfig>,
    /// Where findings go; stdout when none is given.
    #[serde(default)]
    pub sinks: Vec<SinkConfig>,
    /// The HTTP listener: ingest, metrics, health, admin.
    #[serde(default)]
    pub server: ServerConfig,
    /// Which third-party modules are trusted.
    #[serde(default)]
    pub trust: TrustConfig,
    /// Directory of the config file (relative paths resolve against it).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// `[engine]`
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct EngineConfig {
    /// Events handed to an analytic per call.
    pub batch_size: usize,
    /// Longest an event waits in a partial batch in `run` (event delivery
    /// latency bound).
    pub batch_delay: DurationSetting,
    /// Directory of third-party analytics (`*.wasm`). A module whose
    /// manifest id equals a shipped analytic's replaces it.
    pub modules_dir: Option<PathBuf>,
    /// Where compiled components are cached. Default:
    /// `$XDG_CACHE_HOME/dumpwatch` or `~/.cache/dumpwatch`.
    pub cache_dir: Option<PathBuf>,
    /// Longest input line (record) accepted; longer ones are counted as
    /// errors and skipped.
    pub max_line_bytes: ByteSize,
    /// File that receives every malformed record's position and reason as
    /// JSON lines.
    pub dead_letter: Option<PathBuf>,
    /// How long the host remembers an emitted finding's uid, past the end
    /// of its events in event time, to tell updates from new findings.
    pub dedup_retention: DurationSetting,
    /// In `run`, watch the modules directory and the config file and
    /// reload what changed (SIGHUP and the admin call reload too).
    pub watch: bool,
    /// Directory of the checkpoint store (`state.redb`). Without it state
    /// lives in memory and nothing survives a restart.
    pub state_dir: Option<PathBuf>,
    /// Checkpoint at least this often (wall clock)...
    pub checkpoint_interval: DurationSetting,
    /// ...and after this many events handed to analytics (events every
    /// prefilter drops change no state and do not count).
    pub checkpoint_events: u64,
    /// Events per analytic kept since its last checkpoint to rebuild it
    /// after a trap; past it a checkpoint is taken first.
    pub replay_limit: usize,
    /// Where the batch that made an analytic fail is written, with the
    /// reason (JSON lines). Default: `analytic-dead-letter.ndjson` in the
    /// state directory, if there is one.
    pub analytic_dead_letter: Option<PathBuf>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            batch_size: 512,
            batch_delay: DurationSetting::from_millis(200),
            modules_dir: None,
            cache_dir: None,
            max_line_bytes: ByteSize(4 << 20),
            dead_letter: None,
            dedup_retention: DurationSetting::from_secs(24 * 3600),
            watch: true,
            state_dir: None,
            checkpoint_interval: DurationSetting::from_secs(10),
            checkpoint_events: 100_000,
            replay_limit: 100_000,
            analytic_dead_letter: None,
        }
    }
}

/// `[limits]`: what one analytic instance may use.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct LimitsConfig {
    /// Longest one call into an analytic may run.
    pub call_timeout: DurationSetting,
    /// Deadline granularity.
    pub epoch_tick: DurationSetting,
    /// Cap on each linear memory of an analytic instance.
    pub memory: ByteSize,
    /// Most analytic instances alive at once.
    pub max_instances: u32,
    /// Most findings accepted from one call.
    pub max_findings_per_call: usize,
    /// Failures an analytic may have without a successful checkpoint in
    /// between before its `on_failure` policy applies.
    pub max_restarts: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            call_timeout: DurationSetting::from_secs(5),
            epoch_tick: DurationSetting::from_millis(10),
            memory: ByteSize(512 << 20),
            max_instances: 64,
            max_findings_per_call: 10_000,
            max_restarts: 5,
        }
    }
}

/// `[time]`: event-time settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct TimeConfig {
    /// Allowed lateness per format name (`auditd = "1m"`, `cloudtrail =
    /// "15m"`); formats not listed use the built-in default for that
    /// format.
    pub lateness: BTreeMap<String, DurationSetting>,
    /// Allowed lateness in `replay`, for every format (the files are
    /// complete, so it can be generous).
    pub replay_lateness: DurationSetting,
    /// Event times further than this in the future (by the wall clock)
    /// are counted as absurd and do not advance the watermark.
    pub clock_skew: DurationSetting,
    /// In `run`, a live source that delivers nothing for this long stops
    /// holding windows open: its watermark follows the wall clock.
    pub idle_timeout: DurationSetting,
}

impl Default for TimeConfig {
    fn default() -> Self {
        TimeConfig {
            lateness: BTreeMap::new(),
            replay_lateness: DurationSetting::from_secs(3600),
            clock_skew: DurationSetting::from_secs(300),
            idle_timeout: DurationSetting::from_secs(300),
        }
    }
}

/// `[trust]`: signatures of third-party modules.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TrustConfig {
    /// Refuse modules of the modules directory without a valid signature
    /// (`<module>.wasm.sig`) by one of `trusted_keys`. A signature that is
    /// present but invalid is refused either way.
    #[serde(default)]
    pub require_signatures: bool,
    /// Public keys: paths of `*.pub` files written by `dumpwatch keygen`, or
    /// the 64 hex digits of a key.
    #[serde(default)]
    pub trusted_keys: Vec<String>,
}

/// `[analytics.<ID>]`
#[derive(Clone, Debug, Deserialize)]
pub struct AnalyticConfig {
    /// Load this analytic (shipped or from the modules directory).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Tunable values by name; unset tunables keep their defaults.
    #[serde(default)]
    pub tunables: BTreeMap<String, toml::Value>,
    /// What to do when the analytic keeps failing (traps, timeouts, memory
    /// cap) past `limits.max_restarts`: quarantine it and go on (`skip`),
    /// or stop the pipeline (`stop`).
    #[serde(default)]
    pub on_failure: OnFailure,
}

/// `analytics.<ID>.on_failure`
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    #[default]
    Skip,
    Stop,
}

fn yes() -> bool {
    true
}

impl Config {
    /// Read, parse and check a config file; every problem found is
    /// reported.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let fail = |problems| ConfigError {
            path: path.to_path_buf(),
            problems,
        };
        let text =
            std::fs::read_to_string(path).map_err(|e| fail(vec![format!("cannot read: {e}")]))?;
        let mut cfg = Config::parse(&text).map_err(fail)?;
        cfg.base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(cfg)
    }

    /// Parse and check config text (relative paths stay relative).
    pub fn parse(text: &str) -> Result<Config, Vec<String>> {
        let mut unknown = Vec::new();
        let de = toml::Deserializer::parse(text).map_err(|e| vec![format!("{e}")])?;
        let cfg: Config = serde_ignored::deserialize(de, |path| {
            unknown.push(format!("unknown key `{path}`"));
        })
        .map_err(|e| vec![format!("{e}")])?;
        let mut problems = unknown;
        cfg.check(&mut problems);
        if problems.is_empty() {
            Ok(cfg)
        } else {
            Err(problems)
        }
    }

    fn check(&self, p: &mut Vec<String>) {
        let e = &self.engine;
        if e.batch_size == 0 || e.batch_size > 1_000_000 {
            p.push(format!(
                "engine.batch_size must be between 1 and 1000000 (got {})",
                e.batch_size
            ));
        }
        if e.checkpoint_interval.0.is_zero() {
            p.push("engine.checkpoint_interval must be positive".into());
        }
        if e.checkpoint_events == 0 {
            p.push("engine.checkpoint_events must be positive".into());
        }
        if e.replay_limit == 0 {
            p.push("engine.replay_limit must be positive".into());
        }
        if e.max_line_bytes.0 < 1024 {
            p.push("engine.max_line_bytes must be at least 1KiB".into());
        }
        let l = &self.limits;
        if l.call_timeout.0.is_zero() {
            p.push("limits.call_timeout must be positive".into());
        }
        if l.epoch_tick.0.is_zero() || l.epoch_tick > l.call_timeout {
            p.push("limits.epoch_tick must be positive and at most limits.call_timeout".into());
        }
        if l.memory.0 < (16 << 20) {
            p.push("limits.memory must be at least 16MiB".into());
        }
        if l.max_instances < 2 {
            p.push("limits.max_instances must be at least 2".into());
        }
        if l.max_findings_per_call == 0 {
            p.push("limits.max_findings_per_call must be positive".into());
        }
        self.inventory.check(p);
        for (i, input) in self.inputs.iter().enumerate() {
            input.check(i, p);
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, input) in self.inputs.iter().enumerate() {
            if input.kind != InputKind::File && !names.insert(input.display_name()) {
                p.push(format!(
                    "inputs[{i}]: another input is already named {:?}; give each a distinct `name`",
                    input.display_name()
                ));
            }
        }
        if self.server.listen.is_none() && self.inputs.iter().any(|i| i.kind == InputKind::Http) {
            p.push(
                "http inputs need server.listen (the address the ingest server listens on)".into(),
            );
        }
        if self
            .inputs
            .iter()
            .filter(|i| i.kind == InputKind::Stdin || i.path.as_deref() == Some("-"))
            .count()
            > 1
        {
            p.push("only one input can read standard input".into());
        }
        for (i, s) in self.sinks.iter().enumerate() {
            s.check(i, p);
        }
        let omprog = self
            .inputs
            .iter()
            .any(|i| i.kind == InputKind::Stdin && i.protocol == Some(StdinProtocol::Omprog));
        if omprog
            && (self.sinks.is_empty() || self.sinks.iter().any(|s| s.kind == SinkKind::Stdout))
        {
            p.push("an omprog stdin input answers rsyslog on stdout: findings need a file or webhook sink, not stdout".into());
        }
        self.server.check(p);
        for (id, a) in &self.analytics {
            if id.trim().is_empty() {
                p.push("analytics: an analytic id is empty".into());
            }
            for name in a.tunables.keys() {
                if name.trim().is_empty() {
                    p.push(format!("analytics.{id}.tunables: an empty tunable name"));
                }
            }
        }
    }

    /// Resolve a config-relative path.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_has_defaults() {
        let c = Config::parse("").expect("empty is valid");
        assert_eq!(c.engine.batch_size, 512);
        assert_eq!(c.limits.memory, ByteSize(512 << 20));
        assert!(c.analytics.is_empty());
    }

    #[test]
    fn every_problem_is_reported() {
        let err = Config::parse(
            r#"
            [engine]
            batch_size = 0
            colour = "blue"
            [limits]
            memory = "1MiB"
            [inventory.hosts.db01]
            addresses = ["10.0.0.300"]
            [analytics.AN0676]
            tunabels = {}
            "#,
        )
        .expect_err("invalid");
        let all = err.join("\n");
        assert!(all.contains("unknown key `engine.colour`"), "{all}");
        assert!(
            all.contains("unknown key `analytics.AN0676.tunabels`"),
            "{all}"
        );
        assert!(all.contains("batch_size"), "{all}");
        assert!(all.contains("limits.memory"), "{all}");
        assert!(all.contains("10.0.0.300"), "{all}");
        assert_eq!(err.len(), 5, "{all}");
    }

    #[test]
    fn parses_a_full_config() {
        let c = Config::parse(
            r#"
            [engine]
            batch_size = 64
            batch_delay = "50ms"
            [time]
            lateness = { cloudtrail = "15m" }
            [inventory.hosts.db01]
            addresses = ["10.0.0.5", "10.0.1.0/28"]
            users = { 1000 = "alice" }
            [inventory.users]
            1001 = "bob"
            [analytics.AN0676.tunables]
            AllowedDBClients = ["postgres"]
            TimeWindow = "10m"
            [[inputs]]
            path = "logs/audit.log"
            format = "auditd"
            host = "db01"
            [[sinks]]
            type = "file"
            path = "findings.ndjson"
            "#,
        )
        .expect("valid");
        assert_eq!(c.engine.batch_delay, DurationSetting::from_millis(50));
        assert_eq!(
            c.time.lateness.get("cloudtrail"),
            Some(&DurationSetting::from_secs(900))
        );
        assert_eq!(c.inventory.hosts["db01"].addresses.len(), 2);
        assert_eq!(c.analytics["AN0676"].tunables.len(), 2);
        assert_eq!(c.sinks[0].kind, SinkKind::File);
    }

    #[test]
    fn live_inputs_sinks_and_server_parse() {
        let c = Config::parse(
            r#"
            [server]
            listen = "127.0.0.1:9880"
            max_body = "2MiB"
            admin_token = "0123456789abcdef0123"
            [[inputs]]
            type = "http"
            format = "auditd"
            token = "s3cret"
            host_field = "host"
            [[inputs]]
            type = "syslog"
            listen = "127.0.0.1:6514"
            transport = "udp"
            format = "auditd"
            [[inputs]]
            type = "stdin"
            format = "auditd"
            protocol = "omprog"
            [[inputs]]
            path = "/var/log/audit/audit.log*"
            follow = true
            [[sinks]]
            type = "file"
            path = "f.ndjson"
            max_size = "10MiB"
            max_age = "1d"
            format = "ecs"
            [[sinks]]
            type = "webhook"
            url = "http://127.0.0.1:8080/findings"
            "#,
        )
        .expect("valid");
        assert_eq!(c.inputs[0].kind, InputKind::Http);
        assert_eq!(c.inputs[0].display_name(), "auditd");
        assert_eq!(c.inputs[1].transport, Some(SyslogTransport::Udp));
        assert_eq!(c.inputs[2].protocol, Some(StdinProtocol::Omprog));
        assert_eq!(c.inputs[3].kind, InputKind::File);
        assert_eq!(c.sinks[0].format, FindingFormat::Ecs);
        assert_eq!(c.sinks[1].kind, SinkKind::Webhook);
        assert_eq!(c.server.max_body, ByteSize(2 << 20));
    }

    #[test]
    fn misplaced_and_unknown_live_keys_are_all_reported() {
        let err = Config::parse(
            r#"
            [[inputs]]
            type = "http"
            format = "auditd"
            listen = "127.0.0.1:1"
            colour = "red"
            [[inputs]]
            type = "syslog"
            format = "auditd"
            listen = "localhost"
            [[inputs]]
            type = "stdin"
            [[sinks]]
            type = "file"
            url = "http://x"
            [[sinks]]
            type = "webhook"
            url = "ftp://x"
            retries = 3
            "#,
        )
        .expect_err("invalid");
        let all = err.join("\n");
        for want in [
            "inputs[0].listen does not apply to a http input",
            "unknown key `inputs.0.colour`",
            "inputs[1].listen",
            "inputs[2].format is required",
            "sinks[0].path is required",
            "sinks[0].url does not apply to a file sink",
            "sinks[1].url \"ftp://x\"",
            "unknown key `sinks.1.retries`",
            "need server.listen",
        ] {
            assert!(all.contains(want), "missing {want:?} in:\n{all}");
        }
    }
}
