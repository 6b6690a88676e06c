//! The module sources a command loads: the analytics shipped in this binary
//! and, when the config names one, the modules directory.

use dumpwatch_config::Config;
use dumpwatch_pipeline::analytics::ModuleSource;

/// Shipped analytics followed by the config's modules directory.
pub fn sources(cfg: &Config) -> Result<Vec<ModuleSource>, Vec<String>> {
    let mut out: Vec<ModuleSource> = dumpwatch_bundle::SHIPPED
        .iter()
        .map(|s| ModuleSource::embedded(s.id, s.wasm))
        .collect();
    out.extend(dumpwatch_pipeline::config_modules(cfg)?);
    Ok(out)
}

/// Load a config file, or the defaults when none is given.
pub fn load_config(path: Option<&std::path::Path>) -> anyhow::Result<Config> {
    match path {
        Some(p) => Ok(Config::load(p)?),
        None => Ok(Config::default()),
    }
}

/// Join problems into one error.
pub fn problems(what: &str, list: Vec<String>) -> anyhow::Error {
    let mut s = format!("{what}: {} problem(s)", list.len());
    for p in list {
        s.push_str("\n  - ");
        s.push_str(&p);
    }
    anyhow::anyhow!(s)
}
