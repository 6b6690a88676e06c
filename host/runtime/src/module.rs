//! A component, checked against the contract and ready to instantiate.
//!
//! Loading refuses, with a message that says what to do, anything that is
//! not a dumpwatch analytic of a contract version this host speaks: bytes
//! that are not WebAssembly, a core module, a component of another world or
//! contract version, a component importing what the sandbox does not offer.

use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;

use crate::bindings::AnalyticPre;
use crate::cache::{ArtifactCache, component_digest};
use crate::instance::AnalyticInstance;
use crate::sandbox::HostState;
use crate::{CONTRACT_VERSION, LoadError, Runtime, wit};

const DETECTOR_EXPORT: &str = "dumpwatch:analytic/detector@";

/// A loaded analytic component.
pub struct AnalyticModule {
    pre: AnalyticPre<HostState>,
    /// Where it came from ("embedded AN0676", a file path), for messages.
    pub origin: String,
    /// Hex SHA-256 of the component bytes.
    pub digest: String,
    /// The manifest the component returned when loaded.
    pub manifest: Arc<wit::Manifest>,
}

/// Which contract version a component exports, if it exports one.
fn contract_version(component: &Component, rt: &Runtime) -> Result<String, Vec<String>> {
    let ty = component.component_type();
    let mut names = Vec::new();
    for (name, item) in ty.exports(&rt.engine) {
        if let Some(v) = name.strip_prefix(DETECTOR_EXPORT)
            && matches!(item.ty, ComponentItem::ComponentInstance(_))
        {
            return Ok(v.to_owned());
        }
        names.push(name.to_owned());
    }
    Err(names)
}

/// `found` is compatible with `expected` when both are 0.x with the same x
/// (semver for 0.x), or share the major version.
fn compatible(found: &str, expected: &str) -> bool {
    let parts = |v: &str| -> Option<(u64, u64)> {
        let mut it = v.split(['.', '-', '+']);
        Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
    };
    match (parts(found), parts(expected)) {
        (Some((0, a)), Some((0, b))) => a == b,
        (Some((a, _)), Some((b, _))) => a == b && a != 0,
        _ => false,
    }
}

impl AnalyticModule {
    /// Check, compile (through the cache when given) and prepare a
    /// component, then read its manifest from a first instance.
    pub fn load(
        rt: &Runtime,
        bytes: &[u8],
        origin: &str,
        cache: Option<&ArtifactCache>,
    ) -> Result<AnalyticModule, LoadError> {
        let origin_s = origin.to_owned();
        if bytes.len() < 8 || &bytes[0..4] != b"\0asm" {
            return Err(LoadError::NotWasm { origin: origin_s });
        }
        // Core modules have layer 0 (bytes 6..8), components layer 1.
        if bytes[6..8] == [0, 0] {
            return Err(LoadError::CoreModule { origin: origin_s });
        }
        let component = match cache {
            Some(c) => c.load_or_compile(&rt.engine, bytes),
            None => Component::new(&rt.engine, bytes).map_err(|e| format!("{e:#}")),
        }
        .map_err(|message| LoadError::Invalid {
            origin: origin_s.clone(),
            message,
        })?;
        match contract_version(&component, rt) {
            Ok(found) if compatible(&found, CONTRACT_VERSION) => {}
            Ok(found) => {
                return Err(LoadError::WrongVersion {
                    origin: origin_s,
                    found,
                    expected: CONTRACT_VERSION.into(),
                });
            }
            Err(exports) => {
                return Err(LoadError::NotAnAnalytic {
                    origin: origin_s,
                    exports: if exports.is_empty() {
                        "nothing".into()
                    } else {
                        exports.join(", ")
                    },
                });
            }
        }
        let instance_pre = rt
            .linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Link {
                origin: origin_s.clone(),
                message: format!("{e:#}"),
            })?;
        let pre = AnalyticPre::new(instance_pre).map_err(|e| LoadError::Link {
            origin: origin_s.clone(),
            message: format!("{e:#}"),
        })?;
        let mut module = AnalyticModule {
            pre,
            origin: origin_s.clone(),
            digest: component_digest(bytes),
            manifest: Arc::new(wit::Manifest {
                id: String::new(),
                name: String::new(),
                version: String::new(),
                description: String::new(),
                strategy: None,
                attacks: Vec::new(),
                tunables: Vec::new(),
            }),
        };
        let mut first = module.instantiate(rt)?;
        let manifest = first.manifest().map_err(|source| LoadError::Manifest {
            origin: origin_s,
            source,
        })?;
        module.manifest = Arc::new(manifest);
        Ok(module)
    }

    /// A fresh instance in its own store, under the runtime's limits.
    pub fn instantiate(&self, rt: &Runtime) -> Result<AnalyticInstance, LoadError> {
        let label = if self.manifest.id.is_empty() {
            self.origin.clone()
        } else {
            self.manifest.id.clone()
        };
        let mut store = Store::new(
            &rt.engine,
            HostState::new(label, rt.limits.memory_bytes, rt.limits.max_guest_output),
        );
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(rt.limits.deadline_ticks());
        // What one call may copy out of the guest. wasmtime's default
        // (128 MiB) is less than a full snapshot of a large analytic
        // (AN0676 with 1,000,000 windows: ~185 MB), yet a legitimate result
        // cannot exceed the guest's own memory, while a hostile list that
        // points every element at the same bytes could: the cap is that.
        store.set_hostcall_fuel(rt.limits.memory_bytes.max(128 << 20));
        let bindings = self
            .pre
            .instantiate(&mut store)
            .map_err(|e| LoadError::Instantiate {
                origin: self.origin.clone(),
                message: format!("{e:#}"),
            })?;
        Ok(AnalyticInstance::new(store, bindings, &rt.limits))
    }
}

#[cfg(test)]
mod tests {
    use super::compatible;

    #[test]
    fn contract_versions() {
        assert!(compatible("0.1.0", "0.1.0"));
        assert!(compatible("0.1.3", "0.1.0"));
        assert!(!compatible("0.2.0", "0.1.0"));
        assert!(!compatible("1.0.0", "0.1.0"));
        assert!(compatible("1.4.0", "1.0.0"));
        assert!(!compatible("x", "0.1.0"));
    }
}
