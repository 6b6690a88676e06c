//! The sandbox an analytic runs in.
//!
//! A Rust `wasm32-wasip2` guest imports WASI interfaces even when it does no
//! I/O (std links `wasi:io`, `wasi:cli`, and `wasi:random`/`wasi:clocks` when
//! it uses `HashMap` or time). Those imports are satisfied by a context that
//! grants nothing: no preopened directories, no environment or arguments,
//! no sockets and no name lookup, a clock frozen at the epoch (analytics work
//! in event time; a real clock would make replays differ), a fixed random
//! seed (runs are reproducible) and stdout/stderr captured, bounded, into the
//! host log. Store limits cap each linear memory.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{
    Deterministic, HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView,
};

use crate::bindings::dumpwatch::analytic::{host, types};

/// The data of one analytic's store.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limits: MeteredLimits,
    /// Analytic id, for log lines (set once the manifest is known).
    pub(crate) label: String,
    output: CapturedOutput,
    /// Log lines the guest wrote during the current call.
    log_lines: u32,
    /// The parts of the snapshot being taken (`host.state-part`); `None`
    /// outside `snapshot`.
    snapshot: Option<SnapshotParts>,
    /// Most bytes one snapshot may hand over: the memory limit, which a
    /// snapshot returned whole could not pass either.
    max_snapshot: usize,
}

/// The parts a snapshot handed over so far.
#[derive(Default)]
struct SnapshotParts {
    parts: Vec<Vec<u8>>,
    bytes: usize,
}

impl HostState {
    pub(crate) fn new(label: String, memory_bytes: usize, max_output: usize) -> HostState {
        let output = CapturedOutput::new(max_output);
        let wasi = WasiCtx::builder()
            .stdout(output.clone())
            .stderr(output.clone())
            .wall_clock(FrozenClock)
            .monotonic_clock(FrozenClock)
            .secure_random(Deterministic::new(vec![0x5a, 0xa5, 0x3c, 0xc3]))
            .insecure_random(Deterministic::new(vec![0x96, 0x69, 0x0f, 0xf0]))
            .insecure_random_seed(0x6475_6d70_7761_7463_6800_0000_0000_0001)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let limits = StoreLimitsBuilder::new()
            .memory_size(memory_bytes)
            .trap_on_grow_failure(true)
            .instances(64)
            .tables(64)
            .memories(16)
            .build();
        HostState {
            wasi,
            table: ResourceTable::new(),
            limits: MeteredLimits {
                limits,
                memory_bytes: 0,
                growing: 0,
            },
            label,
            output,
            log_lines: 0,
            snapshot: None,
            max_snapshot: memory_bytes,
        }
    }

    /// A snapshot begins: take its parts from now on.
    pub(crate) fn begin_snapshot(&mut self) {
        self.snapshot = Some(SnapshotParts::default());
    }

    /// The snapshot has returned: the parts it handed over, in order.
    pub(crate) fn end_snapshot(&mut self) -> Vec<Vec<u8>> {
        self.snapshot.take().map(|s| s.parts).unwrap_or_default()
    }

    /// Move what the guest printed into the host log and reset per-call
    /// counters.
    pub(crate) fn after_call(&mut self) {
        self.log_lines = 0;
        let (bytes, dropped) = self.output.take();
        if !bytes.is_empty() {
            for line in String::from_utf8_lossy(&bytes).lines() {
                tracing::info!(analytic = %self.label, "guest output: {line}");
            }
        }
        if dropped > 0 {
            tracing::warn!(analytic = %self.label, dropped, "guest output over the limit was dropped");
        }
    }
}

/// The store's limits, counting the linear memory they let the guest have.
/// wasmtime has no accessor for a component's memory size; every growth
/// (the initial size included) passes through here.
pub(crate) struct MeteredLimits {
    limits: StoreLimits,
    /// Bytes of linear memory of all the instance's memories.
    pub(crate) memory_bytes: usize,
    /// The growth last allowed, taken back if it then fails.
    growing: usize,
}

impl ResourceLimiter for MeteredLimits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        self.growing = if allowed {
            desired.saturating_sub(current)
        } else {
            0
        };
        self.memory_bytes = self.memory_bytes.saturating_add(self.growing);
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.memory_bytes = self.memory_bytes.saturating_sub(self.growing);
        self.growing = 0;
        self.limits.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Most `log` lines one call may write; the rest are dropped so a guest
/// cannot flood the host log.
const MAX_LOG_LINES_PER_CALL: u32 = 1000;
/// Longest log line kept.
const MAX_LOG_LINE: usize = 4096;

/// The `types` interface has no functions; the trait is a marker.
impl types::Host for HostState {}

impl host::Host for HostState {
    fn state_part(&mut self, entries: Vec<u8>) -> wasmtime::Result<()> {
        let Some(snapshot) = self.snapshot.as_mut() else {
            wasmtime::bail!("state-part called outside snapshot");
        };
        snapshot.bytes = snapshot.bytes.saturating_add(entries.len());
        if snapshot.bytes > self.max_snapshot {
            wasmtime::bail!(
                "snapshot handed over more than {} bytes (the memory limit)",
                self.max_snapshot
            );
        }
        if !entries.is_empty() {
            snapshot.parts.push(entries);
        }
        Ok(())
    }

    fn log(&mut self, level: host::Level, message: String) {
        self.log_lines += 1;
        if self.log_lines > MAX_LOG_LINES_PER_CALL {
            if self.log_lines == MAX_LOG_LINES_PER_CALL + 1 {
                tracing::warn!(analytic = %self.label, "guest log limit reached for this call");
            }
            return;
        }
        let mut msg = message.as_str();
        if msg.len() > MAX_LOG_LINE {
            let mut cut = MAX_LOG_LINE;
            while !msg.is_char_boundary(cut) {
                cut -= 1;
            }
            msg = &msg[..cut];
        }
        let a = &self.label;
        match level {
            host::Level::Trace => tracing::trace!(analytic = %a, "{msg}"),
            host::Level::Debug => tracing::debug!(analytic = %a, "{msg}"),
            host::Level::Info => tracing::info!(analytic = %a, "{msg}"),
            host::Level::Warn => tracing::warn!(analytic = %a, "{msg}"),
            host::Level::Error => tracing::error!(analytic = %a, "{msg}"),
        }
    }
}

/// A clock that always reads the epoch: the guest learns nothing about the
/// host's time.
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// Guest stdout/stderr, kept up to a bound and drained after each call.
#[derive(Clone)]
struct CapturedOutput {
    inner: Arc<Mutex<Captured>>,
}

struct Captured {
    buf: Vec<u8>,
    cap: usize,
    dropped: u64,
}

impl CapturedOutput {
    fn new(cap: usize) -> Self {
        CapturedOutput {
            inner: Arc::new(Mutex::new(Captured {
                buf: Vec::new(),
                cap,
                dropped: 0,
            })),
        }
    }

    fn append(&self, bytes: &[u8]) {
        let mut g = match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let room = g.cap.saturating_sub(g.buf.len());
        let n = room.min(bytes.len());
        g.buf.extend_from_slice(&bytes[..n]);
        g.dropped += (bytes.len() - n) as u64;
    }

    fn take(&self) -> (Vec<u8>, u64) {
        let mut g = match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let dropped = std::mem::take(&mut g.dropped);
        (std::mem::take(&mut g.buf), dropped)
    }
}

impl IsTerminal for CapturedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CapturedOutput {
    async fn ready(&mut self) {}
}

#[wasmtime_wasi::async_trait]
impl OutputStream for CapturedOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        // Always writable: output past the cap is counted and dropped.
        Ok(64 * 1024)
    }
}

impl tokio::io::AsyncWrite for CapturedOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
