//! `dumpwatch inspect`: what an analytic is and what it wants.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use dumpwatch_pipeline::analytics::Analytic;
use dumpwatch_pipeline::runtime_limits;
use dumpwatch_runtime::{AnalyticModule, Runtime, wit};
use serde_json::{Value, json};

#[derive(clap::Args)]
pub struct Args {
    /// A component file (`*.wasm`) or the id of a shipped analytic (AN0676).
    module: String,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

fn value_json(v: &wit::TunableValue) -> Value {
    match v {
        wit::TunableValue::Flag(b) => json!(b),
        wit::TunableValue::Integer(i) => json!(i),
        wit::TunableValue::Text(s) => json!(s),
        wit::TunableValue::TextList(l) => json!(l),
    }
}

fn kind(k: wit::TunableKind) -> &'static str {
    match k {
        wit::TunableKind::Flag => "flag",
        wit::TunableKind::Integer => "integer",
        wit::TunableKind::Duration => "duration (ms)",
        wit::TunableKind::Bytes => "bytes",
        wit::TunableKind::Text => "text",
        wit::TunableKind::TextList => "text list",
        wit::TunableKind::GlobList => "glob list",
        wit::TunableKind::CidrList => "CIDR list",
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    let cfg = dumpwatch_config::Config::default();
    let rt = Runtime::new(runtime_limits(&cfg))?;
    let (bytes, origin): (Vec<u8>, String) = if Path::new(&args.module).exists() {
        (
            std::fs::read(&args.module).with_context(|| format!("cannot read {}", args.module))?,
            args.module.clone(),
        )
    } else {
        let s = dumpwatch_bundle::SHIPPED
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(&args.module))
            .ok_or_else(|| {
                anyhow!(
                    "{}: no such file, and no shipped analytic has this id (shipped: {})",
                    args.module,
                    dumpwatch_bundle::SHIPPED
                        .iter()
                        .map(|s| s.id)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
        (s.wasm.to_vec(), format!("embedded {}", s.id))
    };
    let module = std::sync::Arc::new(AnalyticModule::load(&rt, &bytes, &origin, None)?);
    let m = module.manifest.clone();
    let configured = Analytic::build(&rt, module.clone(), &BTreeMap::new());
    if args.json {
        let v = json!({
            "id": m.id,
            "name": m.name,
            "version": m.version,
            "strategy": m.strategy,
            "description": m.description,
            "digest": module.digest,
            "attacks": m.attacks.iter().map(|a| json!({
                "tactic": a.tactic_id, "technique": a.technique_id, "sub_technique": a.sub_technique_id,
            })).collect::<Vec<_>>(),
            "tunables": m.tunables.iter().map(|t| json!({
                "name": t.name, "kind": kind(t.kind), "default": value_json(&t.default), "description": t.description,
            })).collect::<Vec<_>>(),
            "default_tunables_hash": configured.as_ref().ok().map(|a| a.info.tunables_hash.clone()),
            "configure_errors": configured.as_ref().err(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("{} {} v{}", m.id, m.name, m.version);
        if let Some(s) = &m.strategy {
            println!("  strategy: {s}");
        }
        println!("  module: {origin} (sha256 {})", module.digest);
        println!("  {}", m.description);
        for a in &m.attacks {
            println!(
                "  ATT&CK: {} {} / {} {}{}",
                a.tactic_id,
                a.tactic_name,
                a.technique_id,
                a.technique_name,
                a.sub_technique_id
                    .as_ref()
                    .map(|s| format!(" / {s}"))
                    .unwrap_or_default()
            );
        }
        println!("  tunables:");
        for t in &m.tunables {
            println!(
                "    {} ({}) = {}",
                t.name,
                kind(t.kind),
                value_json(&t.default)
            );
            for line in t.description.lines() {
                println!("        {line}");
            }
        }
        match &configured {
            Ok(a) => println!("  default tunables hash: {}", a.info.tunables_hash),
            Err(e) => println!("  default tunables are rejected: {}", e.join("; ")),
        }
    }
    Ok(ExitCode::SUCCESS)
}
