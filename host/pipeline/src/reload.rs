//! Hot reload of modules and tunables.
//!
//! A reload re-reads the config file and the modules directory, and for
//! each analytic compares what should run (module digest, resolved
//! tunables) with what runs. It has two halves:
//!
//! - [`prepare`] runs off the engine thread, from a [`ReloadContext`]: it
//!   loads what changed through the compiled-component cache (the watcher
//!   has usually compiled it already), instantiates and configures it,
//!   which validates the tunables, and restores each new version from the
//!   last checkpoint (see `swap`);
//! - [`commit`] runs on the engine thread at a batch boundary: it swaps the
//!   prepared versions in, each taking over the running state, and loads
//!   and unloads analytics.
//!
//! Anything that fails to read, verify, compile, link, configure or restore
//! leaves the running version in place, and the reason is returned, logged
//! and counted. New module files load new analytics; removed ones unload
//! theirs.
//!
//! Only modules and tunables reload; the other sections of the config
//! (inputs, sinks, inventory) take effect at the next start.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use dumpwatch_config::Config;
use dumpwatch_runtime::AnalyticModule;

use crate::analytics::{Analytic, FailurePolicy, ModuleSource};
use crate::flow::Flow;
use crate::swap::{PreparedSwap, ReloadContext};
use crate::trust::TrustPolicy;
use crate::tunables;

/// What a reload did.
#[derive(Clone, Debug, Default)]
pub struct ReloadReport {
    /// One line per change made.
    pub changes: Vec<String>,
    /// One line per change refused (the old version keeps running).
    pub errors: Vec<String>,
    /// A new version refused the running state and started empty: the
    /// stored checkpoint no longer describes it, so one should follow.
    pub state_dropped: bool,
}

impl ReloadReport {
    /// A one-line (or few-line) account for logs and the admin call.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.changes.is_empty() && self.errors.is_empty() {
            parts.push("nothing changed".to_owned());
        }
        parts.extend(self.changes.iter().cloned());
        parts.extend(self.errors.iter().map(|e| format!("REFUSED: {e}")));
        parts.join("; ")
    }
}

/// The module sources a config asks for: the shipped ones, then the
/// modules directory (each verified against the trust policy).
pub fn desired_sources(
    cfg: &Config,
    shipped: &[ModuleSource],
    trust: &TrustPolicy,
    errors: &mut Vec<String>,
) -> Vec<ModuleSource> {
    let mut out: Vec<ModuleSource> = shipped
        .iter()
        .map(|s| ModuleSource {
            origin: s.origin.clone(),
            bytes: s.bytes.clone(),
            shipped: true,
        })
        .collect();
    if let Some(dir) = &cfg.engine.modules_dir {
        match crate::analytics::read_modules_dir(&cfg.resolve(dir)) {
            Ok(list) => {
                for m in list {
                    match trust.check(Path::new(&m.origin), &m.bytes) {
                        Ok(()) => out.push(m),
                        Err(e) => errors.push(e),
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }
    out
}

/// A reload, prepared and waiting for the engine thread to apply it.
pub struct ReloadPlan {
    /// What the preparation refused.
    report: ReloadReport,
    steps: Vec<Step>,
}

impl ReloadPlan {
    /// A reload that changes nothing, for this reason.
    pub fn refused(reason: String) -> ReloadPlan {
        ReloadPlan {
            report: ReloadReport {
                errors: vec![reason],
                ..Default::default()
            },
            steps: Vec::new(),
        }
    }
}

enum Step {
    /// A new analytic.
    Load(Box<Analytic>),
    /// A running analytic to unload, and why.
    Unload(String, &'static str),
    /// A new version of a running analytic.
    Swap {
        prepared: Box<PreparedSwap>,
        /// Which of module and tunables changed.
        what: &'static str,
        old_hash: String,
    },
}

/// Reload from the config at `config_path`: prepare, then commit, on this
/// thread.
pub fn reload(flow: &mut Flow, config_path: &Path, shipped: &[ModuleSource]) -> ReloadReport {
    let plan = prepare(flow.reload_context(), config_path, shipped);
    commit(flow, plan)
}

/// Work out and build what a reload changes, off the engine thread.
pub fn prepare(ctx: ReloadContext, config_path: &Path, shipped: &[ModuleSource]) -> ReloadPlan {
    let mut plan = ReloadPlan {
        report: ReloadReport::default(),
        steps: Vec::new(),
    };
    let report = &mut plan.report;
    let cfg = match Config::load(config_path) {
        Ok(c) => c,
        Err(e) => {
            report.errors.push(format!("config: {e}"));
            return plan;
        }
    };
    let trust = match TrustPolicy::from_config(&cfg) {
        Ok(t) => t,
        Err(p) => {
            report.errors.extend(p);
            return plan;
        }
    };
    let sources = desired_sources(&cfg, shipped, &trust, &mut report.errors);
    // Load every source (cache hits when the watcher compiled them); later
    // sources (the modules directory) replace earlier ones of the same id.
    let mut desired: BTreeMap<String, Arc<AnalyticModule>> = BTreeMap::new();
    let mut unreadable_files = false;
    for src in &sources {
        // A module identical to a running one needs no loading.
        let digest = dumpwatch_runtime::cache::component_digest(&src.bytes);
        if let Some(a) = ctx.running.iter().find(|a| a.module.digest == digest) {
            desired.insert(a.info.id.clone(), a.module.clone());
            continue;
        }
        match AnalyticModule::load(&ctx.rt, &src.bytes, &src.origin, ctx.cache.as_ref()) {
            Ok(m) => {
                desired.insert(m.manifest.id.clone(), Arc::new(m));
            }
            Err(e) => {
                unreadable_files |= !src.shipped;
                report.errors.push(e.to_string());
            }
        }
    }
    let empty = BTreeMap::new();
    for (id, module) in &desired {
        let acfg = cfg.analytics.get(id);
        let enabled = acfg.is_none_or(|a| a.enabled);
        let running = ctx.running.iter().find(|a| &a.info.id == id);
        if !enabled {
            if running.is_some() {
                plan.steps.push(Step::Unload(id.clone(), "disabled"));
            }
            continue;
        }
        let values = acfg.map_or(&empty, |a| &a.tunables);
        let tunables = match tunables::resolve(&module.manifest, values) {
            Ok(t) => t,
            Err(p) => {
                report.errors.extend(p);
                continue;
            }
        };
        let hash = tunables::hash(&tunables);
        if let Some(r) = running
            && r.module.digest == module.digest
            && r.info.tunables_hash == hash
        {
            continue;
        }
        let mut new = match Analytic::build(&ctx.rt, module.clone(), values) {
            Ok(a) => a,
            Err(p) => {
                report.errors.extend(p);
                continue;
            }
        };
        if acfg.is_some_and(|c| c.on_failure == dumpwatch_config::OnFailure::Stop) {
            new.on_failure = FailurePolicy::Stop;
        }
        let Some(r) = running else {
            plan.steps.push(Step::Load(Box::new(new)));
            continue;
        };
        let what = match (
            r.module.digest != module.digest,
            r.info.tunables_hash != hash,
        ) {
            (true, true) => "module and tunables",
            (true, false) => "module",
            _ => "tunables",
        };
        match ctx.prepare(r, new) {
            Ok(prepared) => plan.steps.push(Step::Swap {
                prepared: Box::new(prepared),
                what,
                old_hash: r.info.tunables_hash.clone(),
            }),
            Err(e) => report.errors.push(e),
        }
    }
    // Analytics whose module is gone. When a module file could not be read
    // its analytic stays: an unreadable new version must not unload the
    // running one.
    if !unreadable_files {
        for r in &ctx.running {
            if !desired.contains_key(&r.info.id) {
                plan.steps
                    .push(Step::Unload(r.info.id.clone(), "module removed"));
            }
        }
    }
    plan
}

/// Apply a prepared reload to the flow, on the engine thread.
pub fn commit(flow: &mut Flow, plan: ReloadPlan) -> ReloadReport {
    let mut report = plan.report;
    // Analytics change only while the stored state and their replay logs
    // describe one checkpoint.
    if let Err(e) = flow.wait_commit() {
        report.errors.push(format!("reload not applied: {e}"));
        return report;
    }
    for step in plan.steps {
        match step {
            Step::Load(new) => {
                let id = new.info.id.clone();
                if flow.analytics.iter().any(|a| a.info.id == id) {
                    report
                        .errors
                        .push(format!("{id}: loaded by another reload meanwhile"));
                    continue;
                }
                report.changes.push(format!(
                    "{id}: loaded v{} (tunables {})",
                    new.info.version, new.info.tunables_hash
                ));
                flow.add_analytic(*new);
            }
            Step::Unload(id, why) => {
                if flow.remove_analytic(&id).is_some() {
                    report.changes.push(format!("{id}: {why}, unloaded"));
                }
            }
            Step::Swap {
                prepared,
                what,
                old_hash,
            } => {
                let id = prepared.new.info.id.clone();
                let hash = prepared.new.info.tunables_hash.clone();
                match flow.commit_swap(*prepared) {
                    Ok(o) => {
                        let state = match &o.dropped {
                            None => format!("{} open windows carried over", o.windows_carried),
                            Some((why, n)) => {
                                report.state_dropped = true;
                                format!(
                                    "the new version rejected the running state ({why}): {n} open windows dropped"
                                )
                            }
                        };
                        report.changes.push(format!(
                            "{id}: {what} changed, v{} → v{}, tunables {old_hash} → {hash}; {state}",
                            o.from, o.to
                        ));
                    }
                    Err(e) => report.errors.push(e),
                }
            }
        }
    }
    for c in &report.changes {
        tracing::info!("reload: {c}");
    }
    for e in &report.errors {
        tracing::error!("reload refused: {e}");
    }
    report
}
