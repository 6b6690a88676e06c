//! `dumpwatch state show`: what the checkpoint store holds — analytics and
//! their open windows by entity, source positions and watermarks, dedup
//! memory, undelivered findings, size.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use dumpwatch_event::time::format_rfc3339_ms;
use dumpwatch_pipeline::handover::restore_stored;
use dumpwatch_pipeline::{Mode, lateness_ms, runtime_limits, store_path};
use dumpwatch_runtime::{AnalyticModule, Runtime};
use dumpwatch_state::Store;

use crate::modules::{load_config, sources};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: StateCommand,
}

#[derive(clap::Subcommand)]
enum StateCommand {
    /// List what the store holds.
    Show(ShowArgs),
}

#[derive(clap::Args)]
struct ShowArgs {
    /// Config naming the state directory (`engine.state_dir`), modules and
    /// lateness.
    #[arg(long)]
    config: Option<PathBuf>,
    /// State directory (overrides the config's).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Most windows listed per analytic.
    #[arg(long, default_value_t = 50)]
    windows: u32,
}

fn when(ms: i64) -> String {
    match ms {
        i64::MIN => "none yet".into(),
        i64::MAX => "end of input".into(),
        t => format_rfc3339_ms(t),
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    let StateCommand::Show(args) = args.command;
    let cfg = load_config(args.config.as_deref())?;
    let Some(dir) = args
        .state
        .or_else(|| cfg.engine.state_dir.as_ref().map(|d| cfg.resolve(d)))
    else {
        bail!("no state directory: give --state DIR or a config with engine.state_dir");
    };
    let path = store_path(&dir);
    if !path.exists() {
        bail!("{}: no state store here", path.display());
    }
    let store = Store::open(&path, false)?;
    let loaded = store.load()?;
    let sizes = store.sizes()?;
    println!(
        "state store {} ({} bytes, {} checkpoints)",
        path.display(),
        sizes.file_bytes.unwrap_or(0),
        loaded.checkpoints
    );

    // Open windows come from the analytics themselves: restore each stored
    // state into a fresh instance of its module and ask it.
    let rt = Runtime::new(runtime_limits(&cfg))?;
    let mut modules = Vec::new();
    for src in sources(&cfg).map_err(|p| anyhow::anyhow!(p.join("; ")))? {
        if let Ok(m) = AnalyticModule::load(&rt, &src.bytes, &src.origin, None) {
            modules.push(Arc::new(m));
        }
    }
    println!("analytics:");
    for (id, rec) in &loaded.analytics {
        let (entries, bytes, held) = sizes
            .entries_by_analytic
            .get(id)
            .copied()
            .unwrap_or_default();
        println!(
            "  {id} v{} (module {}, tunables {}): advanced to {}, {} open windows, {entries} entries, {bytes} bytes \
             (stored as a full snapshot of {} bytes and {} bytes of changes since)",
            rec.version,
            &rec.module_digest[..rec.module_digest.len().min(12)],
            rec.tunables_hash,
            when(rec.advanced_to),
            rec.open_windows,
            held.base,
            held.changes
        );
        let Some(module) = modules.iter().find(|m| &m.manifest.id == id) else {
            println!("    (no loaded module has this id: windows cannot be listed)");
            continue;
        };
        let mut inst = module.instantiate(&rt)?;
        let (restored, _) = restore_stored(&mut inst, id, &store.view()?)
            .map_err(|e| anyhow::anyhow!("{id}: {e}"))?;
        match restored {
            Ok(Ok(())) => {
                let ins = inst.inspect(args.windows).context("inspect")?;
                for w in &ins.windows {
                    println!(
                        "    {}  {} → {}  legs [{}]  {} events{}",
                        w.entity,
                        when(w.start),
                        when(w.end),
                        w.legs.join(", "),
                        w.events,
                        w.finding
                            .as_ref()
                            .map(|f| format!("  finding {f}"))
                            .unwrap_or_default()
                    );
                }
                if ins.open_windows > ins.windows.len() as u64 {
                    println!(
                        "    … and {} more",
                        ins.open_windows - ins.windows.len() as u64
                    );
                }
            }
            Ok(Err(e)) => println!("    (the loaded module rejects this state: {e})"),
            Err(e) => println!("    (restoring failed: {e})"),
        }
    }
    println!("sources:");
    for (key, rec) in &loaded.sources {
        let format = rec
            .format
            .as_deref()
            .and_then(dumpwatch_normalize::Format::from_name);
        let wm = if rec.max_seen == i64::MIN {
            i64::MIN
        } else {
            rec.max_seen
                .saturating_sub(lateness_ms(&cfg, Mode::Run, format))
        };
        println!(
            "  {key} [{}]: offset {} (line {}){}, newest event {}, watermark {}",
            rec.format.as_deref().unwrap_or("?"),
            rec.offset,
            rec.line,
            if rec.done { ", read to the end" } else { "" },
            when(rec.max_seen),
            when(wm)
        );
    }
    println!("dedup memory: {} findings", sizes.dedup);
    println!("undelivered findings: {}", sizes.outbox);
    for (sink, len) in &loaded.delivered {
        println!("  sink {sink}: {len} bytes at the last delivery");
    }
    Ok(ExitCode::SUCCESS)
}
