//! The dumpwatch pipeline: from inputs to findings.
//!
//! ```text
//! source ──► normalize ──► enrich ──► prefilter ──► batch ──► analytic ──► dedup ──► sinks
//! (source)   (normalize)   (enrich)   (prefilter)   (flow)    (runtime)    (dedup)   (sink)
//!                     watermarks advance analytics in event time (watermark)
//! ```
//!
//! [`build`] assembles a [`flow::Flow`] from a config and the module
//! sources; [`run_inputs`] drives inputs through it and returns the
//! [`summary::RunSummary`].

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dumpwatch_config::Config;
use dumpwatch_normalize::Format;
use dumpwatch_runtime::cache::ArtifactCache;
use dumpwatch_runtime::{Limits, Runtime};

pub mod analytics;
pub mod dedup;
pub mod enrich;
pub mod flow;
pub mod handover;
pub mod live;
pub mod metrics;
pub mod prefilter;
mod readahead;
pub mod reload;
pub mod sink;
pub mod source;
pub mod summary;
pub mod swap;
pub mod trust;
pub mod tunables;
pub mod watermark;

use analytics::{ModuleSource, load_all};
use dumpwatch_state::Store;
use flow::{Flow, FlowSettings, SourceCheckpoint};
use sink::Sink;
use source::{DeadLetter, InputReader, InputReport, InputSpec};
use summary::{AnalyticLine, RunSummary};

/// How inputs are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Complete files: generous lateness, every window flushed at the end.
    Replay,
    /// Live inputs: per-format lateness from the config.
    Run,
}

/// Built-in allowed lateness per format, from real delivery delays.
pub fn default_lateness(format: &str) -> Duration {
    let mins = match format {
        "cloudtrail" => 15,
        "vpc-flow" => 20,
        "snowflake" => 45,
        "m365" | "office-activity" => 4 * 60,
        "zeek" | "suricata" => 5,
        _ => 1,
    };
    Duration::from_secs(mins * 60)
}

/// The allowed lateness of an input in a mode.
pub fn lateness_ms(cfg: &Config, mode: Mode, format: Option<Format>) -> i64 {
    match mode {
        Mode::Replay => cfg.time.replay_lateness.as_millis_i64(),
        Mode::Run => {
            let name = format.map_or("", |f| f.name());
            cfg.time
                .lateness
                .get(name)
                .map(|d| d.as_millis_i64())
                .unwrap_or_else(|| default_lateness(name).as_millis() as i64)
        }
    }
}

/// The runtime limits a config asks for.
pub fn runtime_limits(cfg: &Config) -> Limits {
    Limits {
        call_timeout: cfg.limits.call_timeout.0,
        epoch_tick: cfg.limits.epoch_tick.0,
        memory_bytes: usize::try_from(cfg.limits.memory.0).unwrap_or(usize::MAX),
        max_instances: cfg.limits.max_instances,
        max_findings_per_call: cfg.limits.max_findings_per_call,
        ..Limits::default()
    }
}

/// The compiled-component cache directory: the config's, else
/// `$XDG_CACHE_HOME/dumpwatch`, else `~/.cache/dumpwatch`.
pub fn cache_dir(cfg: &Config) -> Option<PathBuf> {
    if let Some(d) = &cfg.engine.cache_dir {
        return Some(cfg.resolve(d));
    }
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("dumpwatch"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".cache").join("dumpwatch"))
}

/// The configured sinks (stdout when none is configured).
pub fn open_sinks(cfg: &Config) -> Result<Vec<Box<dyn Sink>>, Vec<String>> {
    sink::open(cfg, None)
}

/// The modules directory's analytics, if one is configured, each checked
/// against the trust policy (signatures).
pub fn config_modules(cfg: &Config) -> Result<Vec<ModuleSource>, Vec<String>> {
    let Some(d) = &cfg.engine.modules_dir else {
        return Ok(Vec::new());
    };
    let trust = trust::TrustPolicy::from_config(cfg)?;
    let mut problems = Vec::new();
    let mut out = Vec::new();
    for m in analytics::read_modules_dir(&cfg.resolve(d)).map_err(|e| vec![e])? {
        match trust.check(std::path::Path::new(&m.origin), &m.bytes) {
            Ok(()) => out.push(m),
            Err(e) => problems.push(e),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// How a pipeline keeps its state.
#[derive(Clone, Debug, Default)]
pub struct StateOptions {
    /// Directory of the store; `None` keeps state in memory.
    pub dir: Option<PathBuf>,
    /// Discard an existing (possibly corrupt) store.
    pub reset: bool,
}

/// The store file inside a state directory.
pub fn store_path(dir: &std::path::Path) -> PathBuf {
    dir.join("state.redb")
}

/// Build a pipeline: runtime, analytics (configured, prefilters compiled),
/// inventory, dedup memory, sinks, and the checkpoint store.
pub fn build(
    cfg: &Config,
    modules: Vec<ModuleSource>,
    sinks: Vec<Box<dyn Sink>>,
    state: &StateOptions,
) -> Result<Flow, Vec<String>> {
    let rt = Runtime::new(runtime_limits(cfg)).map_err(|e| vec![e.to_string()])?;
    let cache = cache_dir(cfg).map(|d| ArtifactCache::new(d, rt.engine()));
    let analytics = load_all(&rt, cfg, modules, cache.as_ref())?;
    let store = match &state.dir {
        Some(d) => Store::open(&store_path(d), state.reset),
        None => Store::in_memory(),
    }
    .map_err(|e| vec![e.to_string()])?;
    let dead_letter_path = cfg
        .engine
        .analytic_dead_letter
        .as_ref()
        .map(|p| cfg.resolve(p))
        .or_else(|| {
            state
                .dir
                .as_ref()
                .map(|d| d.join("analytic-dead-letter.ndjson"))
        });
    let analytic_dead_letter = match dead_letter_path {
        Some(p) => {
            if let Some(dir) = p.parent() {
                std::fs::create_dir_all(dir).map_err(|e| vec![format!("{}: {e}", p.display())])?;
            }
            Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&p)
                    .map_err(|e| vec![format!("analytic dead-letter {}: {e}", p.display())])?,
            )
        }
        None => None,
    };
    let settings = FlowSettings {
        batch_size: cfg.engine.batch_size,
        checkpoint_events: cfg.engine.checkpoint_events,
        checkpoint_interval: cfg.engine.checkpoint_interval.0,
        replay_limit: cfg.engine.replay_limit,
        max_restarts: cfg.limits.max_restarts,
        ..FlowSettings::default()
    };
    Ok(Flow::new(
        rt,
        analytics,
        enrich::Inventory::new(&cfg.inventory),
        dedup::Dedup::new(cfg.engine.dedup_retention.as_millis_i64()),
        sinks,
        watermark::Watermarks::new(now_ms(), cfg.time.clock_skew.as_millis_i64()),
        settings,
        store,
        analytic_dead_letter,
        cache,
    ))
}

/// Where a replay stands, for a progress display.
#[derive(Clone, Debug)]
pub struct Progress<'a> {
    /// Index of the input being read, and how many there are.
    pub input: usize,
    pub inputs: usize,
    pub path: &'a str,
    /// Bytes of this input read in this run.
    pub bytes: u64,
    /// Events normalized from this input.
    pub events: u64,
}

/// Lines read between checks for a due checkpoint.
const LINES_PER_PUMP: usize = 4096;
/// How long a fatal stop waits for a reader to finish its pump.
const READER_GRACE: Duration = Duration::from_secs(2);

/// Read every input through the flow, checkpointing as configured, then
/// flush every window and write a final checkpoint. Inputs resume from
/// their stored positions. Inputs that cannot be read are reported in the
/// summary; the others still run.
pub fn run_inputs(flow: &mut Flow, cfg: &Config, mode: Mode, inputs: &[InputSpec]) -> RunSummary {
    run_inputs_with_progress(flow, cfg, mode, inputs, &mut |_| {})
}

/// [`run_inputs`], reporting progress after every pump of lines.
pub fn run_inputs_with_progress(
    flow: &mut Flow,
    cfg: &Config,
    mode: Mode,
    inputs: &[InputSpec],
    progress: &mut dyn FnMut(&Progress<'_>),
) -> RunSummary {
    let started = Instant::now();
    let mut summary = RunSummary::default();
    let restored = match flow.restore() {
        Ok(r) => r,
        Err(e) => {
            summary.fatal = Some(e.to_string());
            return summary;
        }
    };
    summary.restore = restored.clone();
    let mut dead_letter = match &cfg.engine.dead_letter {
        Some(p) => match DeadLetter::open(&cfg.resolve(p)) {
            Ok(d) => Some(d),
            Err(e) => {
                tracing::error!("dead-letter file {}: {e}", p.display());
                None
            }
        },
        None => None,
    };
    // Register every source first: one not yet read holds the watermark.
    let keys: Vec<Option<String>> = inputs.iter().map(InputSpec::key).collect();
    let mut positions: Vec<SourceCheckpoint> = Vec::new();
    for (spec, key) in inputs.iter().zip(&keys) {
        let rec = key.as_ref().and_then(|k| restored.sources.get(k));
        let format = spec.format.or_else(|| {
            rec.and_then(|r| r.format.as_deref())
                .and_then(Format::from_name)
        });
        let id = flow.add_source(lateness_ms(cfg, mode, format), rec.map(|r| r.max_seen));
        positions.push(SourceCheckpoint {
            id,
            key: key.clone(),
            record: rec.cloned().unwrap_or_default(),
            state_changes: Vec::new(),
        });
    }
    let max_line = usize::try_from(cfg.engine.max_line_bytes.0).unwrap_or(usize::MAX);
    for (n, spec) in inputs.iter().enumerate() {
        let id = positions[n].id;
        let resume = keys[n].as_ref().and_then(|k| restored.sources.get(k));
        let decoder_state = match &keys[n] {
            Some(k) => match flow.decoder_state(k) {
                Ok(s) => s,
                Err(e) => {
                    summary.fatal = Some(e.to_string());
                    break;
                }
            },
            None => Vec::new(),
        };
        let reader = match InputReader::open(spec, max_line, resume, decoder_state) {
            Ok(r) => r,
            Err(e) => {
                summary.unreadable.push((spec.path.clone(), e.to_string()));
                flow.finish_source(id);
                continue;
            }
        };
        if let Some(f) = reader.format() {
            flow.set_lateness(id, lateness_ms(cfg, mode, Some(f)));
            flow.set_source_format(id, f);
        }
        // The reader decodes on its own thread, a few pumps ahead.
        let (pumps, reading) = match readahead::spawn(reader, dead_letter.take(), LINES_PER_PUMP) {
            Ok(r) => r,
            Err(e) => {
                summary.fatal = Some(format!("{}: cannot start its reader: {e}", spec.path));
                break;
            }
        };
        let mut last_report = InputReport::default();
        for mut pumped in pumps.iter() {
            for mut batch in pumped.batches.drain(..) {
                flow.ingest(id, &mut batch);
            }
            if let Some(e) = &pumped.error {
                summary.unreadable.push((spec.path.clone(), e.to_string()));
            }
            progress(&Progress {
                input: n,
                inputs: inputs.len(),
                path: &spec.path,
                bytes: pumped.report.bytes,
                events: pumped.report.stats.normalized,
            });
            positions[n].record = pumped.position;
            positions[n].state_changes.extend(pumped.state_changes);
            last_report = pumped.report;
            if let Some(stop) = flow.stopped() {
                summary.fatal = Some(stop.to_owned());
                break;
            }
            if flow.checkpoint_due()
                && let Err(e) = flow.begin_checkpoint(&mut positions)
            {
                summary.fatal = Some(e.to_string());
                break;
            }
            if !pumped.more {
                break;
            }
        }
        // Dropping the receiver stops the reader after its current pump.
        drop(pumps);
        if summary.fatal.is_some() {
            // Stopping anyway: give the reader a moment to finish its pump
            // (and its dead-letter lines), but a reader blocked on a pipe
            // (stdin) that may never be written again is not waited for.
            let deadline = Instant::now() + READER_GRACE;
            while !reading.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let report = if summary.fatal.is_some() && !reading.is_finished() {
            tracing::warn!(
                "{}: its reader is still waiting for input; not waiting for it",
                spec.path
            );
            last_report
        } else {
            match reading.join() {
                Ok((report, dl)) => {
                    dead_letter = dl;
                    report
                }
                Err(_) => {
                    summary.fatal = Some(format!("{}: the reading thread panicked", spec.path));
                    last_report
                }
            }
        };
        flow.finish_source(id);
        flow.advance(false);
        summary.inputs.push((report, flow.time_stats(id).clone()));
        if summary.fatal.is_some() {
            break;
        }
    }
    if summary.fatal.is_none()
        && let Err(e) = flow.finish(&mut positions)
    {
        summary.fatal = Some(e.to_string());
    }
    if let Some(d) = dead_letter.as_mut()
        && let Err(e) = d.flush()
    {
        tracing::error!("dead-letter file: {e}");
    }
    summary.analytics = flow
        .analytics
        .iter()
        .map(|a| AnalyticLine {
            id: a.info.id.clone(),
            version: a.info.version.clone(),
            tunables_hash: a.info.tunables_hash.clone(),
            stats: a.stats.clone(),
            quarantined: a.quarantined,
        })
        .collect();
    summary.sink_errors = flow.sink_errors;
    summary.checkpoints = flow.checkpoints;
    summary.elapsed = started.elapsed();
    summary
}
