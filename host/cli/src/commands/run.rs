//! `dumpwatch run`: the pipeline a config describes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use dumpwatch_pipeline::source::InputSpec;
use dumpwatch_pipeline::{Mode, StateOptions, build, open_sinks, run_inputs};

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
    let mut inputs: Vec<InputSpec> = Vec::new();
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
            inputs.push(spec);
        }
    }
    let modules = sources(&cfg).map_err(|p| problems("modules", p))?;
    let sinks = open_sinks(&cfg).map_err(|p| problems("sinks", p))?;
    let state = StateOptions {
        dir: cfg.engine.state_dir.as_ref().map(|d| cfg.resolve(d)),
        reset: args.reset_state,
    };
    let mut flow = build(&cfg, modules, sinks, &state).map_err(|p| problems("pipeline", p))?;
    let summary = run_inputs(&mut flow, &cfg, Mode::Run, &inputs);
    eprint!("{}", summary.render());
    if summary.unreadable.is_empty() && summary.fatal.is_none() {
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(2))
    }
}
