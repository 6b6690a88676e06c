//! `dumpwatch replay`: logs in, findings out, through fresh analytics.
//! Progress (bytes, events, events/s) goes to stderr: a bar on a
//! terminal, a plain line every few seconds otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use dumpwatch_pipeline::{Mode, StateOptions, build, open_sinks, run_inputs_with_progress};

use crate::inputs::{expand, formats_help, parse_format};
use crate::modules::{load_config, problems, sources};
use crate::progress::ReplayProgress;

#[derive(clap::Args)]
pub struct Args {
    /// Pipeline config (tunables, inventory, modules directory, sinks).
    /// Without one, every shipped analytic runs with its defaults and
    /// findings go to stdout.
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long, long_help = formats_help())]
    format: Option<String>,
    /// Host name for logs that carry none (auditd without node=, eslogger).
    #[arg(long)]
    host: Option<String>,
    /// Write every malformed record's position and reason here (JSON lines).
    #[arg(long)]
    dead_letter: Option<PathBuf>,
    /// Keep analytic state, positions and dedup memory in this directory:
    /// a later replay with the same directory resumes where this one
    /// stopped. Without it, everything lives in memory.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Discard the state directory's store (for a corrupt store) instead of
    /// refusing to start.
    #[arg(long, requires = "state")]
    reset_state: bool,
    /// Log files or directories; `-` reads standard input.
    #[arg(required = true)]
    paths: Vec<String>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let mut cfg = load_config(args.config.as_deref())?;
    if let Some(d) = args.dead_letter {
        cfg.engine.dead_letter = Some(std::env::current_dir()?.join(d));
    }
    let format = args.format.as_deref().map(parse_format).transpose()?;
    let inputs = expand(&args.paths, format, args.host.as_deref())?;
    let modules = sources(&cfg).map_err(|p| problems("modules", p))?;
    let sinks = open_sinks(&cfg).map_err(|p| problems("sinks", p))?;
    let state = StateOptions {
        dir: args
            .state
            .or_else(|| cfg.engine.state_dir.as_ref().map(|d| cfg.resolve(d))),
        reset: args.reset_state,
    };
    let mut flow = build(&cfg, modules, sinks, &state).map_err(|p| problems("pipeline", p))?;
    let mut progress = ReplayProgress::new(&inputs);
    let summary = run_inputs_with_progress(&mut flow, &cfg, Mode::Replay, &inputs, &mut |p| {
        progress.update(p)
    });
    progress.finish();
    eprint!("{}", summary.render());
    if summary.unreadable.is_empty() && summary.fatal.is_none() {
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(2))
    }
}
