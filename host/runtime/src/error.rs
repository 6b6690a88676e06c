//! Errors of loading a component and of calling into one.

use std::path::PathBuf;

/// Why a component could not be loaded. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{origin}: cannot read module: {source}")]
    Read {
        origin: String,
        source: std::io::Error,
    },
    #[error("{origin}: not a WebAssembly file (no \\0asm header)")]
    NotWasm { origin: String },
    #[error(
        "{origin}: this is a core WebAssembly module, not a component; build the analytic for the \
         wasm32-wasip2 target (or wrap it with `wasm-tools component new`)"
    )]
    CoreModule { origin: String },
    #[error("{origin}: invalid component: {message}")]
    Invalid { origin: String, message: String },
    #[error(
        "{origin}: the component targets contract dumpwatch:analytic@{found}; this host speaks \
         {expected}.x"
    )]
    WrongVersion {
        origin: String,
        found: String,
        expected: String,
    },
    #[error(
        "{origin}: the component does not export dumpwatch:analytic/detector (is it a dumpwatch \
         analytic built against wit/analytic.wit?); it exports: {exports}"
    )]
    NotAnAnalytic { origin: String, exports: String },
    #[error("{origin}: cannot link: {message}")]
    Link { origin: String, message: String },
    #[error("{origin}: cannot instantiate: {message}")]
    Instantiate { origin: String, message: String },
    #[error("{origin}: manifest call failed: {source}")]
    Manifest { origin: String, source: CallError },
    #[error("compiled-artifact cache {path}: {source}")]
    Cache {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("wasmtime engine: {0}")]
    Engine(String),
}

/// Why a call into an analytic failed. After any of these the instance is
/// poisoned and must be replaced.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    #[error("call exceeded its deadline of {0} ms (epoch interruption)")]
    Timeout(u64),
    #[error("memory limit reached: {0}")]
    MemoryLimit(String),
    #[error("guest trapped: {0}")]
    Trap(String),
    #[error("instance is poisoned by an earlier failure and must be re-instantiated")]
    Poisoned,
    /// The call returned, but what it returned breaks the contract (state
    /// frames that do not parse).
    #[error("returned invalid output: {0}")]
    Invalid(String),
}
