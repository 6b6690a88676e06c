//! Hot reload of modules and tunables.
//!
//! A reload re-reads the config file and the modules directory, and for
//! each analytic compares what should run (module digest, resolved
//! tunables) with what runs. What changed is built off to the side — loaded
//! through the compiled-component cache (the watcher has usually compiled
//! it already, off the engine thread), instantiated and configured, which
//! validates the tunables — and only then swapped in at a batch boundary,
//! taking over the old instance's state. Anything that fails to read,
//! verify, compile, link, configure or restore leaves the running version in
//! place, and the reason is returned, logged and counted. New module files
//! load new analytics; removed ones unload theirs.
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
use crate::trust::TrustPolicy;
use crate::tunables;

/// What a reload did.
#[derive(Clone, Debug, Default)]
pub struct ReloadReport {
    /// One line per change made.
    pub changes: Vec<String>,
    /// One line per change refused (the old version keeps running).
    pub errors: Vec<String>,
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

/// Reload from the config at `config_path`.
pub fn reload(flow: &mut Flow, config_path: &Path, shipped: &[ModuleSource]) -> ReloadReport {
    let mut report = ReloadReport::default();
    let cfg = match Config::load(config_path) {
        Ok(c) => c,
        Err(e) => {
            report.errors.push(format!("config: {e}"));
            return report;
        }
    };
    let trust = match TrustPolicy::from_config(&cfg) {
        Ok(t) => t,
        Err(p) => {
            report.errors.extend(p);
            return report;
        }
    };
    let sources = desired_sources(&cfg, shipped, &trust, &mut report.errors);
    // Load every source (cache hits when the watcher compiled them); later
    // sources (the modules directory) replace earlier ones of the same id.
    let mut desired: BTreeMap<String, Arc<AnalyticModule>> = BTreeMap::new();
    let mut unreadable_files = false;
    for src in &sources {
        // A module identical to a running one needs no loading.
        if let Some(a) = flow
            .analytics
            .iter()
            .find(|a| a.module.digest == dumpwatch_runtime::cache::component_digest(&src.bytes))
        {
            desired.insert(a.info.id.clone(), a.module.clone());
            continue;
        }
        match AnalyticModule::load(flow.runtime(), &src.bytes, &src.origin, flow.cache()) {
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
        let running = flow.analytics.iter().position(|a| &a.info.id == id);
        if !enabled {
            if running.is_some() {
                flow.remove_analytic(id);
                report.changes.push(format!("{id}: disabled, unloaded"));
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
        if let Some(i) = running {
            let a = &flow.analytics[i];
            if a.module.digest == module.digest && a.info.tunables_hash == hash {
                continue;
            }
        }
        let mut new = match Analytic::build(flow.runtime(), module.clone(), values) {
            Ok(a) => a,
            Err(p) => {
                report.errors.extend(p);
                continue;
            }
        };
        if acfg.is_some_and(|c| c.on_failure == dumpwatch_config::OnFailure::Stop) {
            new.on_failure = FailurePolicy::Stop;
        }
        match running {
            None => {
                report.changes.push(format!(
                    "{id}: loaded v{} (tunables {})",
                    new.info.version, new.info.tunables_hash
                ));
                flow.add_analytic(new);
            }
            Some(i) => {
                let old_hash = flow.analytics[i].info.tunables_hash.clone();
                let module_changed = flow.analytics[i].module.digest != module.digest;
                match flow.replace_analytic(new) {
                    Ok(o) => {
                        let what = match (module_changed, old_hash != hash) {
                            (true, true) => "module and tunables",
                            (true, false) => "module",
                            _ => "tunables",
                        };
                        let state = match &o.dropped {
                            None => format!("{} open windows carried over", o.windows_carried),
                            Some((why, n)) => format!(
                                "the new version rejected the running state ({why}): {n} open windows dropped"
                            ),
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
    // Analytics whose module is gone. When a module file could not be read
    // its analytic stays: an unreadable new version must not unload the
    // running one.
    if !unreadable_files {
        let gone: Vec<String> = flow
            .analytics
            .iter()
            .map(|a| a.info.id.clone())
            .filter(|id| !desired.contains_key(id))
            .collect();
        for id in gone {
            flow.remove_analytic(&id);
            report
                .changes
                .push(format!("{id}: module removed, unloaded"));
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
