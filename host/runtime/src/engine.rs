//! The wasmtime engine and the limits every analytic instance runs under.
//!
//! One [`Runtime`] per process. It owns the engine (pooling allocator so an
//! instantiation is a few microseconds, epoch interruption so a runaway
//! guest is stopped), a ticker thread that advances the epoch, and the
//! linker with the sandboxed WASI imports and the `host` interface.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::LoadError;
use crate::bindings::Analytic;
use crate::sandbox::HostState;

/// Resource limits for analytic instances.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Longest a single call into a guest may run.
    pub call_timeout: Duration,
    /// Granularity of deadlines (the epoch tick).
    pub epoch_tick: Duration,
    /// Cap on each linear memory of an instance, in bytes.
    pub memory_bytes: usize,
    /// Most instances alive at once (analytics, plus spares for reloads and
    /// validation).
    pub max_instances: u32,
    /// Most findings accepted from one call; the rest are dropped and
    /// reported.
    pub max_findings_per_call: usize,
    /// Most bytes of guest stdout/stderr kept per call for the host log.
    pub max_guest_output: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            call_timeout: Duration::from_secs(5),
            epoch_tick: Duration::from_millis(10),
            memory_bytes: 512 << 20,
            max_instances: 64,
            max_findings_per_call: 10_000,
            max_guest_output: 64 << 10,
        }
    }
}

impl Limits {
    /// Epoch ticks a call may take.
    pub(crate) fn deadline_ticks(&self) -> u64 {
        let tick = self.epoch_tick.as_micros().max(1);
        (self.call_timeout.as_micros().div_ceil(tick) as u64).max(1)
    }
}

/// The process-wide wasmtime state.
pub struct Runtime {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<HostState>,
    pub(crate) limits: Limits,
    ticker: Option<Ticker>,
}

struct Ticker {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Runtime {
    /// Build the engine, start the epoch ticker and prepare the linker.
    pub fn new(limits: Limits) -> Result<Runtime, LoadError> {
        let engine_err = |e: wasmtime::Error| LoadError::Engine(format!("{e:#}"));
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(limits.max_instances)
            .max_core_instances_per_component(32)
            .total_core_instances(limits.max_instances.saturating_mul(8))
            .max_memories_per_component(8)
            .total_memories(limits.max_instances.saturating_mul(4))
            .max_tables_per_component(16)
            .total_tables(limits.max_instances.saturating_mul(8))
            .total_stacks(limits.max_instances)
            .max_memory_size(limits.memory_bytes);
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
            .cranelift_opt_level(wasmtime::OptLevel::Speed);
        // For analytic authors: `DUMPWATCH_PERF_MAP=1` writes
        // /tmp/perf-<pid>.map, so `perf report` names guest functions.
        if perf_map_requested() {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&config).map_err(engine_err)?;

        let mut linker: Linker<HostState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(engine_err)?;
        Analytic::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)
            .map_err(engine_err)?;

        let stop = Arc::new(AtomicBool::new(false));
        let weak = engine.weak();
        let tick = limits.epoch_tick;
        let stop2 = stop.clone();
        let handle = std::thread::Builder::new()
            .name("dumpwatch-epoch".into())
            .spawn(move || {
                while !stop2.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    match weak.upgrade() {
                        Some(e) => e.increment_epoch(),
                        None => break,
                    }
                }
            })
            .map_err(|e| LoadError::Engine(format!("cannot start epoch ticker: {e}")))?;
        Ok(Runtime {
            engine,
            linker,
            limits,
            ticker: Some(Ticker {
                stop,
                handle: Some(handle),
            }),
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker.take();
    }
}

/// Whether `DUMPWATCH_PERF_MAP` asks for a perf map of guest code. wasmtime
/// names only code it compiled in this process there, so the compiled
/// component cache is bypassed then ([`crate::cache`]).
pub(crate) fn perf_map_requested() -> bool {
    std::env::var_os("DUMPWATCH_PERF_MAP").is_some()
}
