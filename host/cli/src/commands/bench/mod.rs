//! `dumpwatch bench`: end-to-end throughput on a generated stream (or on
//! the user's own logs), in three stages over the same bytes, so their
//! ratios say where the time goes:
//!
//! 1. read + line split — the floor any line-oriented reader pays;
//! 2. normalize — reading, format decoding, normalized events;
//! 3. pipeline — everything `dumpwatch replay` does: normalize, enrich,
//!    prefilter, route batches into the shipped WASM analytics, watermarks,
//!    findings rendered as OCSF JSON (written to a sink that counts them).
//!
//! Each stage runs `--rounds` times and the fastest round is reported: a
//! shared machine's noise only ever slows a round down.

mod stream;

use std::io::{BufRead, BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use dumpwatch_normalize::Format;
use dumpwatch_pipeline::sink::Sink;
use dumpwatch_pipeline::source::{InputReader, InputSpec};
use dumpwatch_pipeline::{Mode, StateOptions, build, run_inputs};

use crate::inputs::expand;
use crate::modules::{load_config, problems, sources};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum StreamKind {
    /// auditd (raw form) from 50 hosts; the chains are AN0676's.
    Linux,
    /// Sysmon 1/3/11 as NXLog-flattened JSON from 50 hosts; the chains are
    /// AN0677's.
    Windows,
}

#[derive(clap::Args)]
pub struct Args {
    /// The generated stream.
    #[arg(long, value_enum, default_value_t = StreamKind::Linux)]
    stream: StreamKind,
    /// Events in the generated stream.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Percent of the events that concern an analytic (half of them in
    /// complete attack chains, the rest database client starts that must
    /// give no finding); the rest is noise the prefilter drops.
    #[arg(long, default_value_t = 1.0)]
    relevant: f64,
    /// Runs of each stage; the fastest is reported.
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// Write the generated stream here (and keep it) instead of a
    /// temporary file.
    #[arg(long)]
    keep: Option<PathBuf>,
    /// Pipeline config (tunables, inventory, modules directory); sinks and
    /// state settings in it are ignored.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Format of PATHs (detected per file when absent).
    #[arg(long)]
    format: Option<String>,
    /// Bench these logs instead of a generated stream.
    paths: Vec<String>,
}

/// Findings counted, not written: the bench measures the engine, not the
/// terminal.
struct CountingSink(Arc<Mutex<u64>>);

impl Sink for CountingSink {
    fn emit(&mut self, _line: &str) -> std::io::Result<()> {
        if let Ok(mut n) = self.0.lock() {
            *n += 1;
        }
        Ok(())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
    fn name(&self) -> String {
        "bench counter".into()
    }
}

/// One stage's best round.
struct Stage {
    name: &'static str,
    best: Duration,
    events: u64,
    bytes: u64,
}

impl Stage {
    fn events_per_sec(&self) -> f64 {
        self.events as f64 / self.best.as_secs_f64().max(1e-9)
    }
    fn mb_per_sec(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.best.as_secs_f64().max(1e-9)
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    if args.rounds == 0 {
        bail!("--rounds must be at least 1");
    }
    let cfg = load_config(args.config.as_deref())?;
    let tmp = tempfile::tempdir().context("creating a temporary directory")?;
    let (inputs, generated) = if args.paths.is_empty() {
        let path = args.keep.clone().unwrap_or_else(|| {
            tmp.path().join(match args.stream {
                StreamKind::Linux => "audit.log",
                StreamKind::Windows => "sysmon.json",
            })
        });
        let written = generate(&path, args.stream, args.events, args.relevant)?;
        eprintln!(
            "generated {} events ({:.1} MB) in {}: {} attack chains, {} decoys",
            written.events,
            written.bytes as f64 / 1e6,
            path.display(),
            written.chains,
            written.decoys
        );
        let format = match args.stream {
            StreamKind::Linux => Format::Auditd,
            StreamKind::Windows => Format::WindowsJson,
        };
        (
            vec![InputSpec {
                path: path.display().to_string(),
                format: Some(format),
                host: None,
                vpc_flow_fields: None,
            }],
            Some(written),
        )
    } else {
        let format = args
            .format
            .as_deref()
            .map(crate::inputs::parse_format)
            .transpose()?;
        (expand(&args.paths, format, None)?, None)
    };
    let max_line = usize::try_from(cfg.engine.max_line_bytes.0).unwrap_or(usize::MAX);

    let mut split = None;
    let mut normalize = None;
    let mut pipeline = None;
    let mut findings = 0;
    // Rounds interleave the stages, so a slow spell of the machine does not
    // land on one stage only.
    for _ in 0..args.rounds {
        keep_best(&mut split, line_split(&inputs)?);
        keep_best(&mut normalize, normalize_only(&inputs, max_line)?);
        let (stage, n) = full_pipeline(&cfg, &inputs)?;
        keep_best(&mut pipeline, stage);
        findings = n;
    }
    let stages: Vec<Stage> = [split, normalize, pipeline].into_iter().flatten().collect();
    let floor = stages.first().map_or(1.0, Stage::mb_per_sec);
    println!(
        "{:<22} {:>12} {:>10} {:>10} {:>14}",
        "stage", "events/s", "MB/s", "best (s)", "vs line split"
    );
    for s in &stages {
        println!(
            "{:<22} {:>12.0} {:>10.1} {:>10.3} {:>13.2}x",
            s.name,
            s.events_per_sec(),
            s.mb_per_sec(),
            s.best.as_secs_f64(),
            s.mb_per_sec() / floor
        );
    }
    println!("findings: {findings}");
    if let Some(w) = generated {
        // The count is part of the result: a fast engine that misses the
        // planted chains has measured nothing.
        println!(
            "planted chains: {} (each must give one finding), decoys: {}",
            w.chains, w.decoys
        );
        if findings != w.chains {
            eprintln!(
                "dumpwatch bench: {findings} findings for {} planted chains",
                w.chains
            );
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn keep_best(best: &mut Option<Stage>, s: Stage) {
    if best.as_ref().is_none_or(|b| s.best < b.best) {
        *best = Some(s);
    }
}

fn generate(path: &Path, kind: StreamKind, events: u64, relevant: f64) -> Result<stream::Written> {
    if !(0.0..=100.0).contains(&relevant) {
        bail!("--relevant is a percentage: 0 to 100");
    }
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let out = BufWriter::with_capacity(1 << 20, file);
    let w = match kind {
        StreamKind::Linux => stream::linux(out, events, relevant),
        StreamKind::Windows => stream::windows(out, events, relevant),
    }
    .with_context(|| format!("writing {}", path.display()))?;
    Ok(w)
}

fn line_split(inputs: &[InputSpec]) -> Result<Stage> {
    let started = Instant::now();
    let mut lines = 0;
    let mut bytes = 0;
    let mut buf = Vec::with_capacity(64 * 1024);
    for spec in inputs {
        let file = std::fs::File::open(&spec.path)
            .with_context(|| format!("cannot open {}", spec.path))?;
        let mut r = BufReader::with_capacity(256 * 1024, file);
        loop {
            buf.clear();
            let n = r.read_until(b'\n', &mut buf)?;
            if n == 0 {
                break;
            }
            bytes += n as u64;
            lines += 1;
        }
    }
    Ok(Stage {
        name: "read + line split",
        best: started.elapsed(),
        // Lines, not events: an auditd event spans several lines.
        events: lines,
        bytes,
    })
}

fn normalize_only(inputs: &[InputSpec], max_line: usize) -> Result<Stage> {
    let started = Instant::now();
    let mut events = 0;
    let mut bytes = 0;
    for spec in inputs {
        let mut reader = InputReader::open(spec, max_line, None, Vec::new())
            .with_context(|| format!("cannot open {}", spec.path))?;
        let mut count = |evs: &mut Vec<dumpwatch_event::Event>| {
            events += evs.len() as u64;
            evs.clear();
        };
        while reader.pump(4096, None, &mut count)? {}
        bytes += reader.report().bytes;
    }
    Ok(Stage {
        name: "normalize",
        best: started.elapsed(),
        events,
        bytes,
    })
}

fn full_pipeline(cfg: &dumpwatch_config::Config, inputs: &[InputSpec]) -> Result<(Stage, u64)> {
    let modules = sources(cfg).map_err(|p| problems("modules", p))?;
    let found = Arc::new(Mutex::new(0u64));
    let sinks: Vec<Box<dyn Sink>> = vec![Box::new(CountingSink(found.clone()))];
    // Built outside the clock: loading components is start-up, not
    // throughput (and comes from the artifact cache after the first run).
    let mut flow = build(cfg, modules, sinks, &StateOptions::default())
        .map_err(|p| problems("pipeline", p))?;
    let started = Instant::now();
    let summary = run_inputs(&mut flow, cfg, Mode::Replay, inputs);
    let best = started.elapsed();
    if let Some((path, why)) = summary.unreadable.first() {
        bail!("{path}: {why}");
    }
    if let Some(f) = &summary.fatal {
        bail!("the pipeline stopped: {f}");
    }
    let findings = summary
        .analytics
        .iter()
        .map(|a| a.stats.findings_created)
        .sum();
    Ok((
        Stage {
            name: "pipeline (replay)",
            best,
            events: summary.total_events(),
            bytes: summary.total_bytes(),
        },
        findings,
    ))
}
