//! `dumpwatch keygen` and `dumpwatch sign`: keys and detached signatures
//! for third-party modules (formats: `host/pipeline/src/trust.rs`,
//! `docs/analytics.md`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use dumpwatch_pipeline::trust::{generate_key, sign, signature_path};

#[derive(clap::Args)]
pub struct KeygenArgs {
    /// Where to write the key pair: `NAME.key` (private, readable by the
    /// owner only) and `NAME.pub` (public, for `trust.trusted_keys`).
    #[arg(long)]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct SignArgs {
    /// Private key file written by `dumpwatch keygen`.
    #[arg(long)]
    key: PathBuf,
    /// Module files to sign; each gets `<module>.sig` beside it.
    #[arg(required = true)]
    modules: Vec<PathBuf>,
}

pub fn keygen(args: KeygenArgs) -> Result<ExitCode> {
    let private = args.out.with_extension("key");
    let public = args.out.with_extension("pub");
    for p in [&private, &public] {
        if p.exists() {
            bail!("{} exists; refusing to overwrite a key", p.display());
        }
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let (private_text, public_text) = generate_key(seed);
    write_private(&private, &private_text)?;
    std::fs::write(&public, public_text)
        .with_context(|| format!("writing {}", public.display()))?;
    println!("private key: {}", private.display());
    println!(
        "public key:  {} (add it to trust.trusted_keys)",
        public.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

pub fn sign_modules(args: SignArgs) -> Result<ExitCode> {
    let key = std::fs::read_to_string(&args.key)
        .with_context(|| format!("reading {}", args.key.display()))?;
    for m in &args.modules {
        let bytes = std::fs::read(m).with_context(|| format!("reading {}", m.display()))?;
        let sig = sign(&key, &bytes).map_err(|e| anyhow::anyhow!("{}: {e}", args.key.display()))?;
        let out = signature_path(m);
        std::fs::write(&out, sig).with_context(|| format!("writing {}", out.display()))?;
        println!("{}: signed → {}", m.display(), out.display());
    }
    Ok(ExitCode::SUCCESS)
}
