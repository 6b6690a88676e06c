//! `dumpwatch normalize`: how dumpwatch understands a log, as NDJSON.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use dumpwatch_normalize::Stats;
use dumpwatch_pipeline::enrich::Inventory;
use dumpwatch_pipeline::source::{DeadLetter, InputReader};

use crate::inputs::{expand, formats_help, parse_format};
use crate::modules::load_config;

#[derive(clap::Args)]
pub struct Args {
    /// Config whose inventory enriches the events (host by address, user
    /// names by uid).
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long, long_help = formats_help())]
    format: Option<String>,
    /// Host name for logs that carry none.
    #[arg(long)]
    host: Option<String>,
    /// Write every malformed record's position and reason here (JSON lines).
    #[arg(long)]
    dead_letter: Option<PathBuf>,
    /// Log files or directories; `-` reads standard input.
    #[arg(required = true)]
    paths: Vec<String>,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let cfg = load_config(args.config.as_deref())?;
    let format = args.format.as_deref().map(parse_format).transpose()?;
    let inputs = expand(&args.paths, format, args.host.as_deref())?;
    let inventory = Inventory::new(&cfg.inventory);
    let mut dead_letter = args
        .dead_letter
        .as_deref()
        .map(DeadLetter::open)
        .transpose()?;
    let max_line = usize::try_from(cfg.engine.max_line_bytes.0).unwrap_or(usize::MAX);
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut total = Stats::default();
    let mut failed = false;
    let mut write_error: Option<std::io::Error> = None;
    for spec in &inputs {
        let mut on_events = |events: &mut Vec<dumpwatch_event::Event>| {
            for mut e in events.drain(..) {
                inventory.enrich(&mut e);
                if write_error.is_none() {
                    let r = serde_json::to_writer(&mut out, &e)
                        .map_err(std::io::Error::other)
                        .and_then(|()| out.write_all(b"\n"));
                    if let Err(err) = r {
                        write_error = Some(err);
                    }
                }
            }
        };
        let result = InputReader::open(spec, max_line, None, Vec::new()).and_then(|mut reader| {
            while reader.pump(4096, dead_letter.as_mut(), &mut on_events)? {}
            Ok(reader.report())
        });
        match result {
            Ok(r) => {
                eprintln!(
                    "{} [{}]: {} normalized, {} skipped, {} errors",
                    r.path,
                    r.format.map_or("unrecognised", |f| f.name()),
                    r.stats.normalized,
                    r.stats.skipped_count(),
                    r.stats.error_count()
                );
                for e in &r.first_errors {
                    eprintln!("  {}:{}: {}: {}", r.path, e.pos.line, e.kind, e.detail);
                }
                total.merge(&r.stats);
            }
            Err(e) => {
                eprintln!("{}: UNREADABLE: {e}", spec.path);
                failed = true;
            }
        }
    }
    out.flush()?;
    if let Some(e) = write_error {
        return Err(e.into());
    }
    if let Some(d) = dead_letter.as_mut() {
        d.flush()?;
    }
    eprintln!(
        "total: {} normalized, {} skipped, {} errors",
        total.normalized,
        total.skipped_count(),
        total.error_count()
    );
    let classes: Vec<String> = total
        .by_class
        .iter()
        .map(|(c, n)| format!("{}={n}", c.as_str()))
        .collect();
    if !classes.is_empty() {
        eprintln!("  by class: {}", classes.join(", "));
    }
    let skipped: Vec<String> = total
        .skipped
        .iter()
        .map(|(k, n)| format!("{k}={n}"))
        .collect();
    if !skipped.is_empty() {
        eprintln!("  skipped by type: {}", skipped.join(", "));
    }
    let errors: Vec<String> = total
        .errors
        .iter()
        .map(|(k, n)| format!("{k}={n}"))
        .collect();
    if !errors.is_empty() {
        eprintln!("  errors by reason: {}", errors.join(", "));
    }
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
