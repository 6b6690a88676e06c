//! The analytics of a pipeline: which modules to load (shipped ones, then
//! the modules directory, which may replace a shipped analytic by id), their
//! tunables, their compiled prefilters, and one warm instance each.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dumpwatch_config::Config;
use dumpwatch_event::{AnalyticInfo, Event};
use dumpwatch_runtime::cache::ArtifactCache;
use dumpwatch_runtime::convert::event_to_wit;
use dumpwatch_runtime::{AnalyticInstance, AnalyticModule, CallError, Runtime, wit};

use crate::prefilter::Prefilter;
use crate::tunables;

/// Component bytes and where they came from.
#[derive(Clone)]
pub struct ModuleSource {
    /// "embedded AN0676" or a file path, for messages.
    pub origin: String,
    pub bytes: std::borrow::Cow<'static, [u8]>,
    /// True for analytics built into the binary.
    pub shipped: bool,
}

impl ModuleSource {
    pub fn embedded(id: &str, bytes: &'static [u8]) -> ModuleSource {
        ModuleSource {
            origin: format!("embedded {id}"),
            bytes: std::borrow::Cow::Borrowed(bytes),
            shipped: true,
        }
    }
}

/// Read every `*.wasm` in a modules directory, in name order.
pub fn read_modules_dir(dir: &Path) -> Result<Vec<ModuleSource>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("modules directory {}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        let bytes = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        out.push(ModuleSource {
            origin: p.display().to_string(),
            bytes: std::borrow::Cow::Owned(bytes),
            shipped: false,
        });
    }
    Ok(out)
}

/// Counters per analytic, for the summary and metrics.
#[derive(Clone, Debug, Default)]
pub struct AnalyticStats {
    /// Events that passed the prefilter and were handed over.
    pub routed: u64,
    /// `process` and `advance` calls.
    pub calls: u64,
    pub findings_created: u64,
    pub findings_updated: u64,
    /// Findings returned again unchanged (suppressed by dedup).
    pub findings_unchanged: u64,
    /// Calls that trapped, timed out or hit the memory cap.
    pub failures: u64,
    /// Findings dropped because a call returned more than allowed.
    pub findings_dropped: u64,
}

/// What to do when an analytic keeps failing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Quarantine it: stop routing to it, report it, keep the pipeline
    /// running.
    #[default]
    Skip,
    /// Stop the pipeline (after a final checkpoint).
    Stop,
}

/// A call made since the last checkpoint, kept so the analytic can be
/// rebuilt (last checkpoint + these calls) after a trap, and a new version
/// brought up to it on reload. The events are shared: a reload preparation
/// replays the log on its own thread while the engine appends to it.
#[derive(Clone, Debug)]
pub enum ReplayOp {
    Process(Arc<Vec<Event>>),
    Advance(i64),
}

/// One loaded, configured analytic with its warm instance.
pub struct Analytic {
    pub info: Arc<AnalyticInfo>,
    pub module: Arc<AnalyticModule>,
    pub instance: AnalyticInstance,
    pub tunables: Vec<wit::Tunable>,
    pub prefilter: Prefilter,
    pub stats: AnalyticStats,
    /// Events waiting for the next `process` call.
    pub batch: Vec<Event>,
    /// The watermark last passed to `advance`.
    pub advanced_to: i64,
    /// The watermark at the last checkpoint (where a rebuild starts).
    pub checkpoint_advanced_to: i64,
    /// Calls since the last checkpoint, for rebuilding after a trap.
    pub replay: Vec<ReplayOp>,
    /// Events in `replay`.
    pub replay_events: usize,
    /// A full snapshot of this very instance's state line is in the store
    /// (later checkpoints write changes only). False after a swap (the
    /// store holds the previous version's entries) and when the stored
    /// changes have outgrown the full snapshot: the next one is full.
    pub checkpointed: bool,
    /// A rebuild starts from the stored entries (then replays `replay`);
    /// false: from an empty instance. Not the same as `checkpointed`: after
    /// a swap whose new version took the old state, the store's entries
    /// plus the calls since are still exactly the running state.
    pub rebuild_from_store: bool,
    /// Failures since the last successful checkpoint (crash-loop
    /// detection).
    pub consecutive_failures: u32,
    /// Stopped after too many failures; events are no longer routed to it.
    pub quarantined: bool,
    pub on_failure: FailurePolicy,
}

impl Analytic {
    /// Configure a fresh instance of `module` with the config's tunables.
    pub fn build(
        rt: &Runtime,
        module: Arc<AnalyticModule>,
        values: &BTreeMap<String, toml::Value>,
    ) -> Result<Analytic, Vec<String>> {
        let m = module.manifest.clone();
        let tunables = tunables::resolve(&m, values)?;
        let mut instance = module.instantiate(rt).map_err(|e| vec![e.to_string()])?;
        instance.set_label(&m.id);
        let subs = configure(&mut instance, &m.id, &tunables)?;
        let prefilter = Prefilter::compile(&subs).map_err(|errs| {
            errs.into_iter()
                .map(|e| format!("{}: {e}", m.id))
                .collect::<Vec<_>>()
        })?;
        let info = Arc::new(AnalyticInfo {
            id: m.id.clone(),
            name: m.name.clone(),
            version: m.version.clone(),
            strategy: m.strategy.clone(),
            tunables_hash: tunables::hash(&tunables),
        });
        Ok(Analytic {
            info,
            module,
            instance,
            tunables,
            prefilter,
            stats: AnalyticStats::default(),
            batch: Vec::new(),
            advanced_to: i64::MIN,
            checkpoint_advanced_to: i64::MIN,
            replay: Vec::new(),
            replay_events: 0,
            checkpointed: false,
            rebuild_from_store: false,
            consecutive_failures: 0,
            quarantined: false,
            on_failure: FailurePolicy::default(),
        })
    }

    /// Replace a failed instance with a fresh, configured one.
    pub fn reinstantiate(&mut self, rt: &Runtime) -> Result<(), String> {
        let mut instance = self.module.instantiate(rt).map_err(|e| e.to_string())?;
        instance.set_label(&self.info.id);
        configure(&mut instance, &self.info.id, &self.tunables).map_err(|e| e.join("; "))?;
        self.instance = instance;
        Ok(())
    }

    /// Make the calls of a replay log again, in order, after the checkpoint
    /// they follow was restored: the instance reaches the state they led
    /// to. Returns the findings they produced.
    pub fn replay_calls(&mut self, ops: &[ReplayOp]) -> Result<Vec<wit::Finding>, CallError> {
        let mut findings = Vec::new();
        for op in ops {
            match op {
                ReplayOp::Process(batch) => {
                    let wit_batch: Vec<wit::Event> = batch.iter().map(event_to_wit).collect();
                    findings.extend(self.instance.process(&wit_batch)?);
                }
                ReplayOp::Advance(w) => {
                    findings.extend(self.instance.advance(*w)?);
                    self.advanced_to = *w;
                }
            }
        }
        Ok(findings)
    }
}

fn configure(
    instance: &mut AnalyticInstance,
    id: &str,
    tunables: &[wit::Tunable],
) -> Result<Vec<wit::Subscription>, Vec<String>> {
    match instance.configure(tunables) {
        Ok(Ok(subs)) => Ok(subs),
        Ok(Err(errors)) => Err(errors
            .into_iter()
            .map(|e| format!("{id}: tunable `{}`: {}", e.tunable, e.message))
            .collect()),
        Err(e @ CallError::Timeout(_))
        | Err(e @ CallError::Trap(_))
        | Err(e @ CallError::MemoryLimit(_))
        | Err(e @ CallError::Poisoned)
        | Err(e @ CallError::Invalid(_)) => Err(vec![format!("{id}: configure failed: {e}")]),
    }
}

/// Load every module (shipped first, then the modules directory, which
/// replaces shipped analytics of the same id), skip disabled ones, and
/// configure each. Every problem is collected.
pub fn load_all(
    rt: &Runtime,
    cfg: &Config,
    sources: Vec<ModuleSource>,
    cache: Option<&ArtifactCache>,
) -> Result<Vec<Analytic>, Vec<String>> {
    let mut problems = Vec::new();
    let mut by_id: BTreeMap<String, Arc<AnalyticModule>> = BTreeMap::new();
    for src in sources {
        match AnalyticModule::load(rt, &src.bytes, &src.origin, cache) {
            Ok(m) => {
                let id = m.manifest.id.clone();
                if id.trim().is_empty() {
                    problems.push(format!("{}: the manifest has an empty id", src.origin));
                    continue;
                }
                if let Some(prev) = by_id.get(&id) {
                    if src.shipped {
                        problems.push(format!(
                            "{}: analytic id {id} is already used by {}",
                            src.origin, prev.origin
                        ));
                        continue;
                    }
                    tracing::info!(analytic = %id, module = %src.origin, replaces = %prev.origin, "module replaces analytic");
                }
                by_id.insert(id, Arc::new(m));
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    for id in cfg.analytics.keys() {
        if !by_id.contains_key(id) {
            problems.push(format!(
                "analytics.{id}: no loaded analytic has this id (loaded: {})",
                by_id.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    let empty = BTreeMap::new();
    let mut out = Vec::new();
    for (id, module) in by_id {
        let acfg = cfg.analytics.get(&id);
        if acfg.is_some_and(|a| !a.enabled) {
            continue;
        }
        let values = acfg.map_or(&empty, |a| &a.tunables);
        match Analytic::build(rt, module, values) {
            Ok(mut a) => {
                if acfg.is_some_and(|c| c.on_failure == dumpwatch_config::OnFailure::Stop) {
                    a.on_failure = FailurePolicy::Stop;
                }
                out.push(a)
            }
            Err(errs) => problems.extend(errs),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}
