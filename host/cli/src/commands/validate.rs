//! `dumpwatch validate`: every problem of a config, its modules and
//! tunables, and its inputs and sinks, reported at once.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use dumpwatch_config::{Config, InputKind, SinkKind};
use dumpwatch_normalize::Format;

use crate::modules::sources;

#[derive(clap::Args)]
pub struct Args {
    /// Pipeline config to check.
    #[arg(long)]
    config: PathBuf,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let cfg = match Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            println!("{e}");
            return Ok(ExitCode::from(1));
        }
    };
    let mut problems = Vec::new();
    for (i, input) in cfg.inputs.iter().enumerate() {
        if let Some(f) = &input.format
            && Format::from_name(f).is_none()
        {
            problems.push(format!("inputs[{i}].format: unknown format {f:?}"));
        }
        if input.kind == InputKind::File
            && let Some(path) = &input.path
            && path != "-"
            && !path.contains(['*', '?', '[', '{'])
            && !cfg.resolve(Path::new(path)).exists()
        {
            problems.push(format!("inputs[{i}].path: {path} does not exist"));
        }
    }
    for name in cfg.time.lateness.keys() {
        if Format::from_name(name).is_none() {
            problems.push(format!("time.lateness: unknown format {name:?}"));
        }
    }
    for s in &cfg.sinks {
        if s.kind == SinkKind::File
            && let Some(path) = &s.path
        {
            let p = cfg.resolve(path);
            let dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
            if !dir.as_os_str().is_empty() && !dir.exists() {
                problems.push(format!(
                    "sinks: directory of {} does not exist",
                    p.display()
                ));
            }
        }
    }
    match sources(&cfg) {
        Ok(modules) => {
            // Loading the analytics configures each on a fresh instance,
            // which validates the tunables.
            // In memory: validating must not touch the real state store.
            let state = dumpwatch_pipeline::StateOptions::default();
            if let Err(p) = dumpwatch_pipeline::build(&cfg, modules, Vec::new(), &state) {
                problems.extend(p);
            }
        }
        Err(p) => problems.extend(p),
    }
    if problems.is_empty() {
        println!("{}: OK", args.config.display());
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{}: {} problem(s)", args.config.display(), problems.len());
        for p in problems {
            println!("  - {p}");
        }
        Ok(ExitCode::from(1))
    }
}
