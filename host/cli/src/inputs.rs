//! Turning command-line paths into inputs: files as given, directories
//! expanded to the log files under them (sorted, hidden files and
//! documentation/config files skipped), `-` for standard input.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use dumpwatch_normalize::Format;
use dumpwatch_pipeline::source::InputSpec;

/// Parse a `--format` value, listing the valid names on error.
pub fn parse_format(name: &str) -> Result<Format> {
    Format::from_name(name).with_context(|| {
        format!(
            "unknown format {name:?}; known formats: {}",
            Format::ALL
                .iter()
                .map(|f| f.name())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// The `--format` help text: every format with its description.
pub fn formats_help() -> String {
    let mut s = String::from("Input format (detected per file when absent). One of:\n");
    for f in Format::ALL {
        s.push_str(&format!("  {:<14} {}\n", f.name(), f.describe()));
    }
    s
}

fn is_log_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.starts_with('.') || name.starts_with("README") {
        return false;
    }
    !matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("md" | "toml" | "wasm" | "sig" | "cwasm")
    )
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read directory {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if !p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
            {
                walk(&p, out)?;
            }
        } else if is_log_file(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// Expand paths into input specs sharing a format and host.
pub fn expand(
    paths: &[String],
    format: Option<Format>,
    host: Option<&str>,
) -> Result<Vec<InputSpec>> {
    let mut files = Vec::new();
    for p in paths {
        if p == "-" {
            files.push(p.clone());
            continue;
        }
        let path = Path::new(p);
        if path.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            if found.is_empty() {
                bail!("{p}: the directory holds no log files");
            }
            files.extend(found.into_iter().map(|f| f.display().to_string()));
        } else {
            files.push(p.clone());
        }
    }
    Ok(files
        .into_iter()
        .map(|path| InputSpec {
            path,
            format,
            host: host.map(str::to_owned),
            vpc_flow_fields: None,
        })
        .collect())
}
