//! `dumpwatch`: the command-line entry point. Each subcommand lives in
//! `commands/`; this file parses arguments, sets up logging and maps
//! outcomes to exit codes (0 ran, 1 problems found by `validate`, 2 could
//! not run at all).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;
mod inputs;
mod modules;
mod progress;
mod watch;

// Normalizing allocates and frees small strings for every event; glibc's
// allocator spent about a third of the replay time on that, mimalloc a
// fraction of it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Catch database theft in your logs: MITRE ATT&CK DET0242 analytics as
/// sandboxed WebAssembly components.
#[derive(Parser)]
#[command(name = "dumpwatch", version, about, long_about = None)]
struct Cli {
    /// Log level for messages on standard error (error, warn, info, debug,
    /// trace); RUST_LOG overrides it.
    #[arg(long, global = true, default_value = "warn")]
    log_level: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run logs through fresh analytics and print findings (NDJSON, OCSF
    /// Detection Finding) on stdout and a summary on stderr.
    Replay(commands::replay::Args),
    /// Run the pipeline a config describes.
    Run(commands::run::Args),
    /// Print the normalized events of logs as NDJSON (how dumpwatch
    /// understands them) and a summary on stderr.
    Normalize(commands::normalize::Args),
    /// Print an analytic's manifest: a module file, or a shipped analytic's
    /// id.
    Inspect(commands::inspect::Args),
    /// Check a config, its modules and tunables, and report every problem.
    Validate(commands::validate::Args),
    /// Inspect the checkpoint store.
    State(commands::state::Args),
    /// Make an ed25519 key pair for signing modules.
    Keygen(commands::sign::KeygenArgs),
    /// Sign module files (writes `<module>.sig` beside each).
    Sign(commands::sign::SignArgs),
    /// Measure end-to-end throughput (events/s, MB/s) on a generated
    /// stream with planted attack chains, or on your own logs.
    Bench(commands::bench::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cli.log_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let result = match cli.command {
        Command::Replay(a) => commands::replay::run(a),
        Command::Run(a) => commands::run::run(a),
        Command::Normalize(a) => commands::normalize::run(a),
        Command::Inspect(a) => commands::inspect::run(a),
        Command::Validate(a) => commands::validate::run(a),
        Command::State(a) => commands::state::run(a),
        Command::Keygen(a) => commands::sign::keygen(a),
        Command::Sign(a) => commands::sign::sign_modules(a),
        Command::Bench(a) => commands::bench::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dumpwatch: {e:#}");
            ExitCode::from(2)
        }
    }
}
