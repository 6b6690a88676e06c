//! `dumpwatch run`: the pipeline a config describes, with live inputs in
//! their own threads, until every input is done or a signal (SIGINT,
//! SIGTERM) stops it after a final checkpoint.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use dumpwatch_pipeline::live::file::{FileInput, spawn};
use dumpwatch_pipeline::live::{LiveEngine, LiveOptions};
use dumpwatch_pipeline::source::{DeadLetter, InputSpec};
use dumpwatch_pipeline::{Mode, StateOptions, build, lateness_ms, open_sinks};

use crate::inputs::{expand, parse_format};
use crate::modules::{problems, sources};

#[derive(clap::Args)]
pub struct Args {
    /// Pipeline config.
    #[arg(long)]
    config: PathBuf,
    /// Discard the configured state store (for a corrupt store) instead of
    /// refusing to start.
    #[arg(long)]
    reset_state: bool,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let cfg = dumpwatch_config::Config::load(&args.config)?;
    if cfg.inputs.is_empty() {
        bail!("{}: no [[inputs]] configured", args.config.display());
    }
    let mut inputs: Vec<(InputSpec, bool)> = Vec::new();
    for i in &cfg.inputs {
        let format = i.format.as_deref().map(parse_format).transpose()?;
        let path = if i.path == "-" {
            i.path.clone()
        } else {
            cfg.resolve(std::path::Path::new(&i.path))
                .display()
                .to_string()
        };
        for mut spec in expand(&[path], format, i.host.as_deref())? {
            spec.vpc_flow_fields = i.vpc_flow_fields.clone();
            inputs.push((spec, i.follow));
        }
    }
    let modules = sources(&cfg).map_err(|p| problems("modules", p))?;
    let sinks = open_sinks(&cfg).map_err(|p| problems("sinks", p))?;
    let state = StateOptions {
        dir: cfg.engine.state_dir.as_ref().map(|d| cfg.resolve(d)),
        reset: args.reset_state,
    };
    let flow = build(&cfg, modules, sinks, &state).map_err(|p| problems("pipeline", p))?;
    let opts = LiveOptions {
        batch_delay: cfg.engine.batch_delay.0,
        idle_timeout: cfg.time.idle_timeout.0,
        ..LiveOptions::default()
    };
    let mut engine = LiveEngine::new(flow, opts).map_err(anyhow::Error::msg)?;

    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone()).context("installing signal handlers")?;
    }
    let dead_letter = match &cfg.engine.dead_letter {
        Some(p) => Some(Arc::new(Mutex::new(DeadLetter::open(&cfg.resolve(p))?))),
        None => None,
    };
    let max_line = usize::try_from(cfg.engine.max_line_bytes.0).unwrap_or(usize::MAX);
    let mut threads = Vec::new();
    for (spec, follow) in inputs {
        let key = spec.key();
        let resume = key
            .as_ref()
            .and_then(|k| engine.stored_position(k))
            .cloned();
        let format = spec.format.or_else(|| {
            resume
                .as_ref()
                .and_then(|r| r.format.as_deref())
                .and_then(dumpwatch_normalize::Format::from_name)
        });
        let decoder_state = match &key {
            Some(k) => engine.decoder_state(k).map_err(anyhow::Error::msg)?,
            None => Vec::new(),
        };
        let handle = engine.register(key, lateness_ms(&cfg, Mode::Run, format), &spec.path);
        let input = FileInput {
            spec,
            follow,
            max_line,
            resume,
            decoder_state,
            poll: Duration::from_millis(250),
        };
        threads.push(spawn(input, handle, dead_letter.clone(), stop.clone())?);
    }
    let summary = engine.run(&stop);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    if let Some(d) = &dead_letter
        && let Ok(mut d) = d.lock()
    {
        d.flush()?;
    }
    eprint!("{}", summary.render());
    if summary.unreadable.is_empty() && summary.fatal.is_none() {
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(2))
    }
}
