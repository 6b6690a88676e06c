//! Syslog input: what rsyslog (`omfwd`) and syslog-ng (`network()`,
//! `syslog()`) forward, over TCP (RFC 6587 framing) or UDP (a message per
//! datagram), RFC 3164 or RFC 5424.
//!
//! ```text
//! TCP connection threads ─┐ (host, payload) batches
//! UDP receive thread ─────┴──(bounded)──► decoder thread ──► engine
//! ```
//!
//! Connection threads frame and parse; one decoder thread per input feeds
//! each payload to the decoder of its sending host (the syslog HOSTNAME
//! names the device when the payload does not) and sends the events on.
//! The channels block when the engine is behind, so TCP senders are slowed
//! by TCP flow control and nothing is dropped; UDP has no flow control,
//! and what the kernel drops while the engine is behind is gone.
//!
//! Syslog has no application-level acknowledgement: events received and
//! not yet checkpointed are lost in a crash (rsyslog's and syslog-ng's
//! disk queues do not know what dumpwatch processed). Where that matters,
//! use the stdin input under rsyslog's `omprog` with confirmations, or
//! HTTP.

pub mod framing;
pub mod parse;

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dumpwatch_normalize::{DecodeContext, Format};
use dumpwatch_state::Entry;

use crate::live::hosts::HostDecoders;
use crate::live::message::{Msg, SourceHandle};
use crate::metrics::{Metrics, SourceLabel};
use crate::source::DeadLetter;
use framing::{Frame, Framer};

/// How a syslog input listens and decodes.
pub struct SyslogSpec {
    pub name: String,
    pub listen: SocketAddr,
    pub udp: bool,
    pub format: Format,
    pub ctx: DecodeContext,
    pub max_hosts: usize,
    pub max_message: usize,
    pub max_connections: usize,
    pub idle_timeout: Duration,
    /// Longest events wait in the decoder before going to the engine.
    pub flush_delay: Duration,
    pub decoder_state: Vec<Entry>,
    pub dead_letter: Option<Arc<Mutex<DeadLetter>>>,
}

/// What a connection hands the decoder thread.
enum Item {
    /// (host or "", payload) messages.
    Messages(Vec<(String, Vec<u8>)>),
    /// A message that could not be used (too long, broken framing).
    Problem(&'static str, String),
}

/// Messages batched per channel send (and read size).
const BATCH: usize = 512;
const READ_SIZE: usize = 64 << 10;

/// A started syslog input: its socket is bound.
pub struct SyslogInput {
    pub local_addr: SocketAddr,
    pub threads: Vec<JoinHandle<()>>,
}

/// Bind and start the input; threads end when `stop` is set or the engine
/// is gone.
pub fn spawn(
    spec: SyslogSpec,
    handle: SourceHandle,
    metrics: Option<Arc<Metrics>>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<SyslogInput> {
    let (tx, rx) = mpsc::sync_channel::<Item>(64);
    let mut threads = Vec::new();
    let local_addr;
    let counter = metrics.as_ref().map(|m| {
        m.syslog_messages
            .get_or_create(&SourceLabel {
                source: spec.name.clone(),
            })
            .clone()
    });
    if spec.udp {
        let sock = UdpSocket::bind(spec.listen)?;
        sock.set_read_timeout(Some(Duration::from_millis(200)))?;
        local_addr = sock.local_addr()?;
        let stop = stop.clone();
        let max = spec.max_message;
        let counter = counter.clone();
        threads.push(
            std::thread::Builder::new()
                .name(format!("dumpwatch-syslog-udp-{}", spec.name))
                .spawn(move || udp_loop(sock, tx, max, counter, &stop))?,
        );
    } else {
        let listener = TcpListener::bind(spec.listen)?;
        listener.set_nonblocking(true)?;
        local_addr = listener.local_addr()?;
        let stop = stop.clone();
        let max = spec.max_message;
        let limit = spec.max_connections.max(1);
        let idle = spec.idle_timeout;
        let counter = counter.clone();
        threads.push(
            std::thread::Builder::new()
                .name(format!("dumpwatch-syslog-tcp-{}", spec.name))
                .spawn(move || tcp_accept_loop(listener, tx, max, limit, idle, counter, stop))?,
        );
    }
    let stop2 = stop.clone();
    threads.push(
        std::thread::Builder::new()
            .name(format!("dumpwatch-syslog-{}", spec.name))
            .spawn(move || decode_loop(spec, handle, rx, &stop2))?,
    );
    Ok(SyslogInput {
        local_addr,
        threads,
    })
}

type Counter = prometheus_client::metrics::counter::Counter;

fn parse_into(msg: &[u8], out: &mut Vec<(String, Vec<u8>)>) {
    let m = parse::parse(msg);
    if m.payload.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    out.push((m.host.unwrap_or("").to_owned(), m.payload.to_vec()));
}

fn udp_loop(
    sock: UdpSocket,
    tx: SyncSender<Item>,
    max: usize,
    counter: Option<Counter>,
    stop: &AtomicBool,
) {
    let mut buf = vec![0u8; 65_536];
    while !stop.load(Ordering::Relaxed) {
        let n = match sock.recv_from(&mut buf) {
            Ok((n, _)) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(e) => {
                tracing::warn!("syslog udp: {e}");
                continue;
            }
        };
        if let Some(c) = &counter {
            c.inc();
        }
        let item = if n > max {
            Item::Problem(
                "message too long",
                format!("datagram of {n} bytes exceeds the {max}-byte limit"),
            )
        } else {
            let mut v = Vec::with_capacity(1);
            parse_into(&buf[..n], &mut v);
            Item::Messages(v)
        };
        if tx.send(item).is_err() {
            return;
        }
    }
}

fn tcp_accept_loop(
    listener: TcpListener,
    tx: SyncSender<Item>,
    max: usize,
    limit: usize,
    idle: Duration,
    counter: Option<Counter>,
    stop: Arc<AtomicBool>,
) {
    let open = Arc::new(AtomicUsize::new(0));
    while !stop.load(Ordering::Relaxed) {
        if open.load(Ordering::Relaxed) >= limit {
            // Further connections wait in the backlog.
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        let (stream, peer) = match listener.accept() {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(e) => {
                tracing::warn!("syslog tcp: accept failed: {e}");
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        open.fetch_add(1, Ordering::Relaxed);
        let tx = tx.clone();
        let stop = stop.clone();
        let open2 = open.clone();
        let counter = counter.clone();
        let spawned = std::thread::Builder::new()
            .name("dumpwatch-syslog-conn".into())
            .spawn(move || {
                if let Err(e) = connection(stream, &tx, max, idle, counter.as_ref(), &stop) {
                    tracing::debug!(%peer, "syslog connection: {e}");
                }
                open2.fetch_sub(1, Ordering::Relaxed);
            });
        if spawned.is_err() {
            open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

fn connection(
    mut stream: TcpStream,
    tx: &SyncSender<Item>,
    max: usize,
    idle: Duration,
    counter: Option<&Counter>,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_millis(250)))?;
    let mut framer = Framer::new(max);
    let mut buf = vec![0u8; READ_SIZE];
    let mut last = Instant::now();
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let n = match stream.read(&mut buf) {
            Ok(0) => {
                let mut batch = Vec::new();
                let mut problems = Vec::new();
                framer.finish(&mut |f| frame(f, &mut batch, &mut problems));
                send(tx, batch, problems, counter);
                return Ok(());
            }
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if last.elapsed() >= idle {
                    return Ok(());
                }
                continue;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        last = Instant::now();
        let mut batch = Vec::new();
        let mut problems = Vec::new();
        framer.feed(&buf[..n], &mut |f| frame(f, &mut batch, &mut problems));
        let broken = problems.iter().any(|(k, _)| *k == "broken framing");
        if !send(tx, batch, problems, counter) || broken {
            return Ok(());
        }
    }
}

fn frame(
    f: Frame<'_>,
    batch: &mut Vec<(String, Vec<u8>)>,
    problems: &mut Vec<(&'static str, String)>,
) {
    match f {
        Frame::Message(m) => parse_into(m, batch),
        Frame::TooLong(n) => problems.push((
            "message too long",
            format!("message of {n} bytes exceeds the limit; skipped"),
        )),
        Frame::Broken => problems.push((
            "broken framing",
            "an octet count that is not a number; connection closed".into(),
        )),
    }
}

/// Hand a read's messages on (blocking while the engine is behind);
/// `false` when the input is stopping.
fn send(
    tx: &SyncSender<Item>,
    batch: Vec<(String, Vec<u8>)>,
    problems: Vec<(&'static str, String)>,
    counter: Option<&Counter>,
) -> bool {
    if let Some(c) = counter {
        c.inc_by(batch.len() as u64);
    }
    for (k, d) in problems {
        if tx.send(Item::Problem(k, d)).is_err() {
            return false;
        }
    }
    if batch.is_empty() {
        return true;
    }
    for chunk in batch.chunks(BATCH) {
        if tx.send(Item::Messages(chunk.to_vec())).is_err() {
            return false;
        }
    }
    true
}

fn decode_loop(spec: SyslogSpec, handle: SourceHandle, rx: Receiver<Item>, stop: &AtomicBool) {
    let mut decoders = HostDecoders::new(
        &spec.name,
        spec.format,
        spec.ctx.clone(),
        spec.max_hosts,
        spec.decoder_state,
        spec.dead_letter.clone(),
    );
    let mut dirty = false;
    let mut since = Instant::now();
    loop {
        let item = rx.recv_timeout(spec.flush_delay);
        let idle = matches!(item, Err(RecvTimeoutError::Timeout));
        match item {
            Ok(Item::Messages(ms)) => {
                for (host, payload) in ms {
                    decoders.add_bytes(payload.len() as u64);
                    decoders.push(&host, &payload);
                }
                if !dirty {
                    since = Instant::now();
                }
                dirty = true;
            }
            Ok(Item::Problem(kind, detail)) => {
                decoders.record_error(kind, detail);
                dirty = true;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                flush(&mut decoders, &handle);
                return;
            }
        }
        if dirty && (since.elapsed() >= spec.flush_delay || idle) {
            if !flush(&mut decoders, &handle) {
                return;
            }
            dirty = false;
        }
        if stop.load(Ordering::Relaxed) && !dirty {
            return;
        }
    }
}

fn flush(decoders: &mut HostDecoders, handle: &SourceHandle) -> bool {
    let (events, state_changes, report) = decoders.take();
    handle
        .send(Msg::Events {
            src: handle.id,
            events,
            position: None,
            state_changes,
            report: Some(report),
            ack: None,
        })
        .is_ok()
}

#[cfg(test)]
mod tests;
