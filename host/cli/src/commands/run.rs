//! `dumpwatch run`: the pipeline a config describes, with live inputs in
//! their own threads — files (followed, globs and directories rescanned),
//! standard input (plain or rsyslog `omprog`), syslog over TCP or UDP, and
//! HTTP ingest — and the HTTP server (ingest, metrics, health, admin
//! reload), until every input is done or a signal (SIGINT, SIGTERM) stops
//! it after a final checkpoint.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use dumpwatch_config::{Config, InputConfig, InputKind, SinkKind, StdinProtocol, SyslogTransport};
use dumpwatch_normalize::{DecodeContext, Format};
use dumpwatch_pipeline::live::file::{FileInput, spawn as spawn_file};
use dumpwatch_pipeline::live::http::ingest::{IngestSpec, spawn as spawn_ingest};
use dumpwatch_pipeline::live::http::records::RecordRules;
use dumpwatch_pipeline::live::http::{Endpoint, ServerOptions};
use dumpwatch_pipeline::live::stdin::StdinSpec;
use dumpwatch_pipeline::live::syslog::SyslogSpec;
use dumpwatch_pipeline::live::tail::{TailSpec, expand_pattern, is_glob};
use dumpwatch_pipeline::live::{LiveEngine, LiveOptions};
use dumpwatch_pipeline::metrics::Metrics;
use dumpwatch_pipeline::sink::read_secret;
use dumpwatch_pipeline::source::{DeadLetter, InputSpec};
use dumpwatch_pipeline::{Mode, StateOptions, build, lateness_ms};

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

/// How often followed files are checked for growth and rotation.
const DEFAULT_POLL: Duration = Duration::from_millis(250);
/// Longest syslog and stdin lines wait before going to the engine.
const FLUSH_DELAY: Duration = Duration::from_millis(100);

/// Everything started for the inputs, to stop and join at the end.
struct Started {
    threads: Vec<JoinHandle<()>>,
    endpoints: Vec<Endpoint>,
}

fn decode_context(cfg: &InputConfig) -> DecodeContext {
    DecodeContext {
        host: cfg.host.clone(),
        vpc_flow_fields: cfg.vpc_flow_fields.clone(),
        ..Default::default()
    }
}

fn required_format(i: usize, input: &InputConfig) -> Result<Format> {
    match &input.format {
        Some(f) => parse_format(f),
        None => bail!("inputs[{i}]: a {} input needs a format", input.kind.name()),
    }
}

/// Does the config put findings on stdout (the default without sinks)?
fn findings_on_stdout(cfg: &Config) -> bool {
    cfg.sinks.is_empty() || cfg.sinks.iter().any(|s| s.kind == SinkKind::Stdout)
}

pub fn run(args: Args) -> Result<ExitCode> {
    let cfg = Config::load(&args.config)?;
    if cfg.inputs.is_empty() {
        bail!("{}: no [[inputs]] configured", args.config.display());
    }
    let omprog = cfg
        .inputs
        .iter()
        .any(|i| i.kind == InputKind::Stdin && i.protocol == Some(StdinProtocol::Omprog));
    if omprog && findings_on_stdout(&cfg) {
        bail!(
            "{}: the omprog protocol answers rsyslog on stdout, so findings cannot go there: configure a file or webhook sink",
            args.config.display()
        );
    }
    let metrics = Arc::new(Metrics::new());
    let modules = sources(&cfg).map_err(|p| problems("modules", p))?;
    let sinks =
        dumpwatch_pipeline::sink::open(&cfg, Some(&metrics)).map_err(|p| problems("sinks", p))?;
    let state = StateOptions {
        dir: cfg.engine.state_dir.as_ref().map(|d| cfg.resolve(d)),
        reset: args.reset_state,
    };
    let persistent = state.dir.is_some();
    let flow = build(&cfg, modules, sinks, &state).map_err(|p| problems("pipeline", p))?;
    let opts = LiveOptions {
        batch_delay: cfg.engine.batch_delay.0,
        idle_timeout: cfg.time.idle_timeout.0,
        lateness: dumpwatch_normalize::Format::ALL
            .iter()
            .map(|f| (f.name().to_owned(), lateness_ms(&cfg, Mode::Run, Some(*f))))
            .collect(),
        ..LiveOptions::default()
    };
    let mut engine = LiveEngine::new(flow, opts).map_err(anyhow::Error::msg)?;
    engine.set_metrics(metrics.clone());

    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone()).context("installing signal handlers")?;
    }
    // Hot reload: SIGHUP, the admin call and a watcher on modules and config.
    let reload_threads = crate::watch::install(&mut engine, &args.config, &cfg, stop.clone())?;
    let dead_letter = match &cfg.engine.dead_letter {
        Some(p) => Some(Arc::new(Mutex::new(DeadLetter::open(&cfg.resolve(p))?))),
        None => None,
    };
    let mut started = Started {
        threads: Vec::new(),
        endpoints: Vec::new(),
    };
    for (i, input) in cfg.inputs.iter().enumerate() {
        start_input(
            &cfg,
            i,
            input,
            &mut engine,
            &mut started,
            dead_letter.as_ref(),
            &metrics,
            &stop,
            persistent,
        )
        .with_context(|| format!("inputs[{i}] ({})", input.display_name()))?;
    }
    let engine_running = Arc::new(AtomicBool::new(true));
    let server = match &cfg.server.listen {
        Some(listen) => {
            let admin_token = match (&cfg.server.admin_token, &cfg.server.admin_token_file) {
                (Some(t), _) => Some(t.clone()),
                (None, Some(f)) => Some(read_secret(&cfg.resolve(f)).map_err(anyhow::Error::msg)?),
                (None, None) => None,
            };
            let opts = ServerOptions {
                listen: listen
                    .parse()
                    .with_context(|| format!("server.listen {listen:?}"))?,
                max_body: usize::try_from(cfg.server.max_body.0).unwrap_or(usize::MAX),
                max_in_flight: cfg.server.max_in_flight,
                request_timeout: cfg.server.request_timeout.0,
                ack_timeout: cfg.server.ack_timeout.0,
                max_connections: cfg.server.max_connections,
                metrics: cfg.server.metrics,
                admin_token,
                reload_timeout: Duration::from_secs(120),
            };
            let s = dumpwatch_pipeline::live::http::start(
                opts,
                std::mem::take(&mut started.endpoints),
                Some(metrics.clone()),
                Some(engine.control()),
                engine_running.clone(),
            )
            .with_context(|| format!("server.listen {listen}"))?;
            tracing::info!("listening on http://{}", s.local_addr);
            Some(s)
        }
        None => None,
    };
    let summary = engine.run(&stop);
    engine_running.store(false, Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    if let Some(s) = server {
        s.stop();
    }
    for t in started.threads.into_iter().chain(reload_threads) {
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

#[allow(clippy::too_many_arguments)]
fn start_input(
    cfg: &Config,
    i: usize,
    input: &InputConfig,
    engine: &mut LiveEngine,
    started: &mut Started,
    dead_letter: Option<&Arc<Mutex<DeadLetter>>>,
    metrics: &Arc<Metrics>,
    stop: &Arc<AtomicBool>,
    persistent: bool,
) -> Result<()> {
    let max_line = usize::try_from(cfg.engine.max_line_bytes.0).unwrap_or(usize::MAX);
    let name = input.display_name();
    match input.kind {
        InputKind::File if input.path.as_deref() == Some("-") && input.format.is_some() => {
            let format = required_format(i, input)?;
            start_stdin(
                cfg,
                input,
                format,
                false,
                engine,
                started,
                dead_letter,
                stop,
                persistent,
            )
        }
        InputKind::File => start_files(cfg, input, engine, started, dead_letter, stop, max_line),
        InputKind::Stdin => {
            let format = required_format(i, input)?;
            let omprog = input.protocol == Some(StdinProtocol::Omprog);
            start_stdin(
                cfg,
                input,
                format,
                omprog,
                engine,
                started,
                dead_letter,
                stop,
                persistent,
            )
        }
        InputKind::Syslog => {
            let format = required_format(i, input)?;
            let key = format!("syslog:{name}");
            let decoder_state = engine.decoder_state(&key).map_err(anyhow::Error::msg)?;
            let handle =
                engine.register(Some(key), lateness_ms(cfg, Mode::Run, Some(format)), &name);
            let listen = input.listen.as_deref().unwrap_or_default();
            let spec = SyslogSpec {
                name: name.clone(),
                listen: listen
                    .parse()
                    .with_context(|| format!("listen {listen:?}"))?,
                udp: input.transport == Some(SyslogTransport::Udp),
                format,
                ctx: decode_context(input),
                max_hosts: input.max_hosts(),
                max_message: input
                    .max_message_bytes
                    .map_or(max_line, |b| usize::try_from(b.0).unwrap_or(usize::MAX)),
                max_connections: input.max_connections.unwrap_or(256),
                idle_timeout: input.idle_timeout.map_or(Duration::from_secs(600), |d| d.0),
                flush_delay: FLUSH_DELAY,
                decoder_state,
                dead_letter: dead_letter.cloned(),
            };
            let s = dumpwatch_pipeline::live::syslog::spawn(
                spec,
                handle,
                Some(metrics.clone()),
                stop.clone(),
            )
            .with_context(|| format!("listening on {listen}"))?;
            tracing::info!(input = %name, "syslog listening on {}", s.local_addr);
            started.threads.extend(s.threads);
            Ok(())
        }
        InputKind::Http => {
            let format = required_format(i, input)?;
            let key = format!("http:{name}");
            let decoder_state = engine.decoder_state(&key).map_err(anyhow::Error::msg)?;
            let handle =
                engine.register(Some(key), lateness_ms(cfg, Mode::Run, Some(format)), &name);
            let token = match (&input.token, &input.token_file) {
                (Some(t), _) => Some(t.clone()),
                (None, Some(f)) => Some(read_secret(&cfg.resolve(f)).map_err(anyhow::Error::msg)?),
                (None, None) => None,
            };
            let spec = IngestSpec {
                name: name.clone(),
                format,
                ctx: decode_context(input),
                rules: RecordRules {
                    message_field: input.message_field.clone(),
                    host_field: input.host_field.clone(),
                },
                max_hosts: input.max_hosts(),
                max_line,
                max_body: usize::try_from(cfg.server.max_body.0).unwrap_or(usize::MAX),
                decoder_state,
                dead_letter: dead_letter.cloned(),
            };
            let (queue, threads) = spawn_ingest(spec, handle, cfg.server.queue)?;
            started.threads.extend(threads);
            started.endpoints.push(Endpoint { name, token, queue });
            Ok(())
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn start_stdin(
    cfg: &Config,
    input: &InputConfig,
    format: Format,
    omprog: bool,
    engine: &mut LiveEngine,
    started: &mut Started,
    dead_letter: Option<&Arc<Mutex<DeadLetter>>>,
    stop: &Arc<AtomicBool>,
    persistent: bool,
) -> Result<()> {
    let name = input.name.clone().unwrap_or_else(|| "stdin".into());
    let key = format!("stdin:{name}");
    let decoder_state = engine.decoder_state(&key).map_err(anyhow::Error::msg)?;
    let handle = engine.register(Some(key), lateness_ms(cfg, Mode::Run, Some(format)), &name);
    if omprog && std::io::stdout().is_terminal() {
        tracing::warn!("the omprog protocol expects rsyslog on stdout, not a terminal");
    }
    let spec = StdinSpec {
        name,
        format,
        ctx: decode_context(input),
        omprog,
        max_line: usize::try_from(cfg.engine.max_line_bytes.0).unwrap_or(usize::MAX),
        persistent,
        flush_delay: FLUSH_DELAY,
        ack_timeout: cfg.server.ack_timeout.0,
        decoder_state,
        dead_letter: dead_letter.cloned(),
    };
    let stdin: Box<dyn std::io::BufRead + Send> = Box::new(std::io::BufReader::with_capacity(
        256 << 10,
        std::io::stdin(),
    ));
    let threads = dumpwatch_pipeline::live::stdin::spawn(
        spec,
        stdin,
        Box::new(std::io::stdout()),
        handle,
        stop.clone(),
    )?;
    started.threads.extend(threads);
    Ok(())
}

fn start_files(
    cfg: &Config,
    input: &InputConfig,
    engine: &mut LiveEngine,
    started: &mut Started,
    dead_letter: Option<&Arc<Mutex<DeadLetter>>>,
    stop: &Arc<AtomicBool>,
    max_line: usize,
) -> Result<()> {
    let format = input.format.as_deref().map(parse_format).transpose()?;
    let raw = input.path.clone().unwrap_or_default();
    let path = if raw == "-" {
        raw.clone()
    } else {
        cfg.resolve(Path::new(&raw)).display().to_string()
    };
    let poll = input.poll_interval.map_or(DEFAULT_POLL, |d| d.0);
    let pattern = is_glob(&path) || Path::new(&path).is_dir();
    if input.follow && pattern {
        // A followed directory or glob: one group that picks up new files.
        let name = input.name.clone().unwrap_or_else(|| path.clone());
        let key = format!("tail:{path}");
        let stored = engine.decoder_state(&key).map_err(anyhow::Error::msg)?;
        let handle = engine.register(Some(key), lateness_ms(cfg, Mode::Run, format), &name);
        let spec = TailSpec {
            name,
            pattern: path,
            format,
            host: input.host.clone(),
            vpc_flow_fields: input.vpc_flow_fields.clone(),
            max_line,
            poll,
            rescan: poll.max(Duration::from_secs(1)),
        };
        let t = dumpwatch_pipeline::live::tail::spawn(
            spec,
            stored,
            handle,
            dead_letter.cloned(),
            stop.clone(),
        )
        .map_err(anyhow::Error::msg)?;
        started.threads.push(t);
        return Ok(());
    }
    let specs: Vec<InputSpec> = if is_glob(&path) {
        let files = expand_pattern(&path).map_err(anyhow::Error::msg)?;
        if files.is_empty() {
            bail!("{path}: no file matches");
        }
        files
            .into_iter()
            .map(|f| InputSpec {
                path: f.display().to_string(),
                format,
                host: input.host.clone(),
                vpc_flow_fields: None,
            })
            .collect()
    } else {
        expand(&[path], format, input.host.as_deref())?
    };
    for mut spec in specs {
        spec.vpc_flow_fields = input.vpc_flow_fields.clone();
        let key = spec.key();
        let resume = key
            .as_ref()
            .and_then(|k| engine.stored_position(k))
            .cloned();
        let format = spec.format.or_else(|| {
            resume
                .as_ref()
                .and_then(|r| r.format.as_deref())
                .and_then(Format::from_name)
        });
        let decoder_state = match &key {
            Some(k) => engine.decoder_state(k).map_err(anyhow::Error::msg)?,
            None => Vec::new(),
        };
        let handle = engine.register(key, lateness_ms(cfg, Mode::Run, format), &spec.path);
        let file = FileInput {
            spec,
            follow: input.follow,
            max_line,
            resume,
            decoder_state,
            poll,
        };
        started.threads.push(spawn_file(
            file,
            handle,
            dead_letter.cloned(),
            stop.clone(),
        )?);
    }
    Ok(())
}
