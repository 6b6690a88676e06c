//! Compiled components on disk.
//!
//! Compiling a component with Cranelift takes tens of milliseconds to
//! seconds; loading a precompiled artifact takes microseconds. Artifacts are
//! keyed by a digest of wasmtime's `precompile_compatibility_hash` (compiler,
//! target, flags, tunables — everything that makes an artifact loadable by
//! this engine) and a digest of the component bytes, both through SHA-256 so
//! the key is stable across Rust releases (std's `DefaultHasher` is not).
//! Only artifacts this cache wrote are ever deserialized: the directory is
//! the engine's own, never a user-supplied path.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::LoadError;

/// A directory of precompiled components for one engine configuration.
#[derive(Clone, Debug)]
pub struct ArtifactCache {
    dir: PathBuf,
    engine_key: [u8; 32],
}

/// Feeds `Hash` output into SHA-256.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        // Never used: the digest is taken from the inner state.
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// Digest of what makes a compiled artifact loadable by `engine`.
pub fn engine_digest(engine: &Engine) -> [u8; 32] {
    let mut h = ShaHasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut h);
    // The artifact format of this wasmtime release.
    h.write(b"wasmtime-48");
    h.0.finalize().into()
}

/// Hex SHA-256 of component bytes.
pub fn component_digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl ArtifactCache {
    /// A cache in `dir` for `engine` (the directory is created on first
    /// write).
    pub fn new(dir: impl Into<PathBuf>, engine: &Engine) -> ArtifactCache {
        ArtifactCache {
            dir: dir.into(),
            engine_key: engine_digest(engine),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_for(&self, bytes: &[u8]) -> PathBuf {
        let mut h = Sha256::new();
        h.update(self.engine_key);
        h.update(bytes);
        self.dir
            .join(format!("{}.cwasm", hex::encode(&h.finalize()[..20])))
    }

    /// The compiled component for `bytes`: from the cache when present and
    /// loadable, otherwise compiled and stored. A cache that cannot be
    /// written is reported in the log and the component still loads.
    pub fn load_or_compile(&self, engine: &Engine, bytes: &[u8]) -> Result<Component, String> {
        if crate::engine::perf_map_requested() {
            // Deserialized code is missing from the perf map.
            return Component::new(engine, bytes).map_err(|e| format!("{e:#}"));
        }
        let path = self.path_for(bytes);
        if path.exists() {
            // SAFETY: the file was written by `store` below from
            // `Component::serialize` of this same engine configuration (the
            // key includes the engine's compatibility hash) into a directory
            // owned by this engine; wasmtime also checks the header and
            // refuses artifacts of another configuration.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(c) => return Ok(c),
                Err(e) => {
                    tracing::warn!(path = %path.display(), "discarding unloadable cached artifact: {e:#}");
                    let _ = fs::remove_file(&path);
                }
            }
        }
        let component = Component::new(engine, bytes).map_err(|e| format!("{e:#}"))?;
        if let Err(e) = self.store(&path, &component) {
            tracing::warn!("{e}");
        }
        Ok(component)
    }

    fn store(&self, path: &Path, component: &Component) -> Result<(), LoadError> {
        let err = |source| LoadError::Cache {
            path: path.to_path_buf(),
            source,
        };
        let data = component
            .serialize()
            .map_err(|e| err(std::io::Error::other(format!("{e:#}"))))?;
        fs::create_dir_all(&self.dir).map_err(err)?;
        // Write beside, then rename: a reader never sees a partial file.
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let mut f = fs::File::create(&tmp).map_err(err)?;
        f.write_all(&data).map_err(err)?;
        f.sync_all().map_err(err)?;
        fs::rename(&tmp, path).map_err(err)?;
        Ok(())
    }
}
