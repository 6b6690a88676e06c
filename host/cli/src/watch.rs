//! Hot reload for `dumpwatch run`: what a reload does (re-read the config
//! and the modules directory, swap what changed), and what triggers one —
//! SIGHUP, and a watcher on the modules directory and the config file.
//!
//! The watcher compiles changed modules into the artifact cache in its own
//! thread, with its own engine of the same configuration, so the engine
//! thread's reload loads them from the cache instead of compiling on the
//! hot path.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use dumpwatch_config::Config;
use dumpwatch_pipeline::analytics::ModuleSource;
use dumpwatch_pipeline::live::{ControlHandle, LiveEngine};
use dumpwatch_pipeline::{cache_dir, reload, runtime_limits};
use dumpwatch_runtime::cache::ArtifactCache;
use dumpwatch_runtime::{AnalyticModule, Runtime};
use notify::{RecursiveMode, Watcher};

/// How long a burst of file changes must be quiet before reloading.
const DEBOUNCE: Duration = Duration::from_millis(300);
/// Longest a trigger waits for the engine's answer.
const ANSWER: Duration = Duration::from_secs(120);
/// How often the trigger threads look at the stop flag: `run` joins them
/// at shutdown, so this bounds how long they delay the exit.
const POLL: Duration = Duration::from_millis(20);

fn shipped() -> Vec<ModuleSource> {
    dumpwatch_bundle::SHIPPED
        .iter()
        .map(|s| ModuleSource::embedded(s.id, s.wasm))
        .collect()
}

/// Install the reload procedure into the engine and start its triggers.
pub fn install(
    engine: &mut LiveEngine,
    config_path: &Path,
    cfg: &Config,
    stop: Arc<AtomicBool>,
) -> Result<Vec<JoinHandle<()>>> {
    let path = config_path.to_path_buf();
    let ship = shipped();
    engine.set_reloader(Arc::new(move |ctx| reload::prepare(ctx, &path, &ship)));
    let control = engine.control();
    let mut threads = Vec::new();
    threads.push(sighup(control.clone(), stop.clone())?);
    if cfg.engine.watch {
        threads.push(watcher(
            control,
            config_path.to_path_buf(),
            cfg.clone(),
            stop,
        )?);
    }
    Ok(threads)
}

fn sighup(control: ControlHandle, stop: Arc<AtomicBool>) -> Result<JoinHandle<()>> {
    let flag = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGHUP, flag.clone())
        .context("installing the SIGHUP handler")?;
    Ok(std::thread::Builder::new()
        .name("dumpwatch-sighup".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if flag.swap(false, Ordering::Relaxed) {
                    tracing::info!("SIGHUP: reloading");
                    report(control.reload(ANSWER));
                }
                std::thread::sleep(POLL);
            }
        })?)
}

fn report(r: Result<String, String>) {
    match r {
        Ok(s) => tracing::info!("reload: {s}"),
        Err(e) => tracing::error!("reload: {e}"),
    }
}

fn watcher(
    control: ControlHandle,
    config_path: PathBuf,
    cfg: Config,
    stop: Arc<AtomicBool>,
) -> Result<JoinHandle<()>> {
    let (tx, rx) = std::sync::mpsc::channel();
    // Watch the config's directory (editors replace files by renaming),
    // but react only to the config file and module files: the directory
    // may also hold the logs, the state store and the findings file.
    let config_dir = config_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let config_name = config_path.file_name().map(|n| n.to_owned());
    let modules_dir = cfg.engine.modules_dir.as_ref().map(|d| cfg.resolve(d));
    let modules_for_filter = modules_dir.clone();
    let config_dir_for_filter = config_dir.clone();
    let mut w = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        let Ok(ev) = ev else { return };
        let relevant = ev.paths.iter().any(|p| {
            let is_config = p.file_name().map(|n| n.to_owned()) == config_name
                && p.parent()
                    .is_some_and(|d| same_dir(d, &config_dir_for_filter));
            let is_module = modules_for_filter
                .as_ref()
                .is_some_and(|d| p.parent().is_some_and(|parent| same_dir(parent, d)))
                && p.extension().is_some_and(|x| x == "wasm" || x == "sig");
            is_config || is_module
        });
        if relevant {
            let _ = tx.send(());
        }
    })
    .context("starting the file watcher")?;
    w.watch(&config_dir, RecursiveMode::NonRecursive)
        .with_context(|| format!("watching {}", config_dir.display()))?;
    if let Some(d) = &modules_dir {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
        w.watch(d, RecursiveMode::NonRecursive)
            .with_context(|| format!("watching {}", d.display()))?;
    }
    Ok(std::thread::Builder::new()
        .name("dumpwatch-watch".into())
        .spawn(move || {
            let _keep = w;
            // The precompiler's own engine (same limits, so the same
            // compatibility hash and the same cache entries), made at the
            // first change: most runs never need it.
            let mut precompiler: Option<(Runtime, Option<ArtifactCache>)> = None;
            while !stop.load(Ordering::Relaxed) {
                if rx.recv_timeout(POLL).is_err() {
                    continue;
                }
                // Wait for the burst to settle.
                let mut last = Instant::now();
                while last.elapsed() < DEBOUNCE {
                    if rx.recv_timeout(DEBOUNCE).is_ok() {
                        last = Instant::now();
                    }
                }
                if precompiler.is_none() {
                    precompiler = Runtime::new(runtime_limits(&cfg)).ok().map(|rt| {
                        let cache = cache_dir(&cfg).map(|d| ArtifactCache::new(d, rt.engine()));
                        (rt, cache)
                    });
                }
                if let (Some((rt, Some(cache))), Some(dir)) = (&precompiler, &modules_dir) {
                    precompile(rt, cache, dir);
                }
                tracing::info!("module or config change: reloading");
                report(control.reload(ANSWER));
            }
        })?)
}

/// Whether two directory paths name the same directory (the watcher
/// reports canonical paths).
fn same_dir(a: &Path, b: &Path) -> bool {
    a == b
        || match (a.canonicalize(), b.canonicalize()) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        }
}

/// Compile every module of the directory into the cache (cache hits for
/// unchanged ones are cheap).
fn precompile(rt: &Runtime, cache: &ArtifactCache, dir: &Path) {
    let Ok(list) = dumpwatch_pipeline::analytics::read_modules_dir(dir) else {
        return;
    };
    for m in list {
        if let Err(e) = AnalyticModule::load(rt, &m.bytes, &m.origin, Some(cache)) {
            tracing::warn!("{e}");
        }
    }
}
