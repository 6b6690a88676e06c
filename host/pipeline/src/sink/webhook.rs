//! Findings posted over HTTP: to Vector's `http_server` source, a SIEM's
//! HTTP event collector, any webhook.
//!
//! The engine thread never waits on the network: `emit` queues the line
//! (bounded) for a sender thread that batches lines into NDJSON bodies,
//! retries failures with exponential backoff (connection errors, 408, 429,
//! 5xx), and appends what it finally cannot deliver — or what a full queue
//! cannot take — to a dead-letter file with the reason. `flush`, called at
//! each checkpoint's delivery, waits a bounded time for the queue to
//! drain, so in the normal case a delivery recorded in the store has been
//! posted; while the endpoint is failing it does not wait at all — the
//! engine goes on and the sender keeps retrying in the background.
//!
//! Delivery is at least once: after a crash, the findings of the last
//! checkpoint are delivered again; receivers deduplicate by
//! `finding_info.uid` and `metadata.uid`.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::Sink;
use crate::metrics::Metrics;

/// Settings of a webhook sink.
#[derive(Clone, Debug)]
pub struct WebhookOptions {
    pub url: String,
    pub token: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub batch_size: usize,
    pub timeout: Duration,
    pub max_attempts: u32,
    pub retry_backoff: Duration,
    pub max_backoff: Duration,
    pub queue: usize,
    pub dead_letter: Option<PathBuf>,
    pub flush_timeout: Duration,
}

/// Lines queued and lines finished (sent or dead-lettered).
#[derive(Default)]
struct Progress {
    queued: u64,
    finished: u64,
}

struct Shared {
    progress: Mutex<Progress>,
    changed: Condvar,
    stop: AtomicBool,
    /// The last attempt failed: the endpoint is down or refusing, so a
    /// checkpoint does not wait for the queue to drain.
    failing: AtomicBool,
}

/// A webhook destination for findings.
pub struct WebhookSink {
    name: String,
    tx: Option<SyncSender<String>>,
    shared: Arc<Shared>,
    flush_timeout: Duration,
    dead_letter: Arc<Mutex<DeadLetterFile>>,
    thread: Option<JoinHandle<()>>,
    metrics: Option<Arc<Metrics>>,
}

/// Where undeliverable findings go.
struct DeadLetterFile {
    path: Option<PathBuf>,
}

impl DeadLetterFile {
    fn write(&self, sink: &str, reason: &str, lines: &[String]) {
        let Some(path) = &self.path else {
            tracing::error!(
                sink,
                findings = lines.len(),
                "undeliverable findings dropped (no dead-letter file): {reason}"
            );
            return;
        };
        let r = (|| -> io::Result<()> {
            if let Some(dir) = path.parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir)?;
            }
            let mut f = OpenOptions::new().create(true).append(true).open(path)?;
            let mut buf = Vec::new();
            for l in lines {
                let finding: serde_json::Value =
                    serde_json::from_str(l).unwrap_or(serde_json::Value::String(l.clone()));
                let rec = serde_json::json!({ "sink": sink, "reason": reason, "finding": finding });
                serde_json::to_writer(&mut buf, &rec).map_err(io::Error::other)?;
                buf.push(b'\n');
            }
            f.write_all(&buf)?;
            f.sync_data()
        })();
        match r {
            Ok(()) => {
                tracing::warn!(sink, findings = lines.len(), file = %path.display(), "findings written to the dead-letter file: {reason}")
            }
            Err(e) => tracing::error!(
                sink,
                findings = lines.len(),
                "cannot write the dead-letter file {}: {e}",
                path.display()
            ),
        }
    }
}

impl WebhookSink {
    pub fn start(opts: WebhookOptions, metrics: Option<Arc<Metrics>>) -> io::Result<WebhookSink> {
        let name = format!("webhook:{}", opts.url);
        let (tx, rx) = mpsc::sync_channel::<String>(opts.queue.max(1));
        let shared = Arc::new(Shared {
            progress: Mutex::new(Progress::default()),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
            failing: AtomicBool::new(false),
        });
        let dead_letter = Arc::new(Mutex::new(DeadLetterFile {
            path: opts.dead_letter.clone(),
        }));
        let flush_timeout = opts.flush_timeout;
        let sender = Sender {
            name: name.clone(),
            agent: ureq::Agent::config_builder()
                .timeout_global(Some(opts.timeout))
                .http_status_as_error(false)
                .build()
                .into(),
            opts,
            shared: shared.clone(),
            dead_letter: dead_letter.clone(),
            metrics: metrics.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("dumpwatch-webhook".into())
            .spawn(move || sender.run(rx))?;
        Ok(WebhookSink {
            name,
            tx: Some(tx),
            shared,
            flush_timeout,
            dead_letter,
            thread: Some(thread),
            metrics,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.shared
            .progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}

impl Sink for WebhookSink {
    fn emit(&mut self, line: &str) -> io::Result<()> {
        let Some(tx) = &self.tx else {
            return Err(io::Error::other("the webhook sender stopped"));
        };
        match tx.try_send(line.to_owned()) {
            Ok(()) => {
                self.lock().queued += 1;
                Ok(())
            }
            Err(TrySendError::Full(l)) | Err(TrySendError::Disconnected(l)) => {
                if let Some(m) = &self.metrics {
                    m.sink_delivery(&self.name, "dead_letter", 1);
                }
                if let Ok(d) = self.dead_letter.lock() {
                    d.write(
                        &self.name,
                        "the send queue is full (the endpoint is down or slow)",
                        &[l],
                    );
                }
                Ok(())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        let deadline = Instant::now() + self.flush_timeout;
        let mut p = self.lock();
        while p.finished < p.queued {
            if self.shared.failing.load(Ordering::Relaxed) {
                // Retrying in the background: waiting would only stall the
                // engine (and every acknowledgement behind it).
                break;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::warn!(sink = %self.name, waiting = p.queued - p.finished, "findings still queued for the webhook; sending goes on in the background");
                break;
            }
            p = self
                .shared
                .changed
                .wait_timeout(p, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        Ok(())
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

impl Drop for WebhookSink {
    fn drop(&mut self) {
        // Let the queue drain (bounded), then stop the sender.
        let _ = self.flush();
        self.shared.stop.store(true, Ordering::Relaxed);
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Sender {
    name: String,
    opts: WebhookOptions,
    agent: ureq::Agent,
    shared: Arc<Shared>,
    dead_letter: Arc<Mutex<DeadLetterFile>>,
    metrics: Option<Arc<Metrics>>,
}

/// What one attempt came to.
enum Attempt {
    Sent,
    Retry(String),
    Fail(String),
}

impl Sender {
    fn run(self, rx: Receiver<String>) {
        let mut batch: Vec<String> = Vec::new();
        loop {
            // Collect a batch: what is queued now, up to the batch size.
            let first = if batch.is_empty() {
                match rx.recv_timeout(Duration::from_millis(200)) {
                    Ok(l) => Some(l),
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            } else {
                None
            };
            batch.extend(first);
            while batch.len() < self.opts.batch_size {
                match rx.try_recv() {
                    Ok(l) => batch.push(l),
                    Err(_) => break,
                }
            }
            self.deliver(&batch);
            let n = batch.len() as u64;
            batch.clear();
            let mut p = self
                .shared
                .progress
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            p.finished += n;
            self.shared.changed.notify_all();
        }
    }

    fn deliver(&self, batch: &[String]) {
        let mut body = Vec::with_capacity(batch.iter().map(|l| l.len() + 1).sum());
        for l in batch {
            body.extend_from_slice(l.as_bytes());
            body.push(b'\n');
        }
        let mut delay = self.opts.retry_backoff;
        let mut attempt = 1;
        loop {
            let outcome = self.attempt(&body);
            self.shared
                .failing
                .store(!matches!(outcome, Attempt::Sent), Ordering::Relaxed);
            match outcome {
                Attempt::Sent => {
                    self.count("sent", batch.len());
                    return;
                }
                Attempt::Fail(reason) => {
                    self.count("dead_letter", batch.len());
                    self.dead_lettered(&reason, batch);
                    return;
                }
                Attempt::Retry(reason) => {
                    if attempt >= self.opts.max_attempts {
                        self.count("dead_letter", batch.len());
                        self.dead_lettered(&format!("{reason} (after {attempt} attempts)"), batch);
                        return;
                    }
                    self.count("retried", batch.len());
                    tracing::warn!(sink = %self.name, attempt, "delivery failed: {reason}; retrying in {delay:?}");
                    if self.sleep(delay) {
                        // Stopping: one last try was the previous one.
                        self.dead_lettered(&format!("{reason} (stopped while retrying)"), batch);
                        return;
                    }
                    delay = (delay * 2).min(self.opts.max_backoff);
                    attempt += 1;
                }
            }
        }
    }

    /// Sleep, waking early when stopping; `true` when stopping.
    fn sleep(&self, d: Duration) -> bool {
        let until = Instant::now() + d;
        while Instant::now() < until {
            if self.shared.stop.load(Ordering::Relaxed) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20).min(d));
        }
        false
    }

    fn attempt(&self, body: &[u8]) -> Attempt {
        let mut req = self
            .agent
            .post(&self.opts.url)
            .header("Content-Type", "application/x-ndjson");
        if let Some(t) = &self.opts.token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        for (k, v) in &self.opts.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        match req.send(body) {
            Ok(resp) => {
                let code = resp.status().as_u16();
                match code {
                    200..=299 => Attempt::Sent,
                    408 | 429 | 500..=599 => Attempt::Retry(format!("HTTP {code}")),
                    _ => Attempt::Fail(format!("HTTP {code} (not retried)")),
                }
            }
            Err(e) => Attempt::Retry(e.to_string()),
        }
    }

    fn dead_lettered(&self, reason: &str, batch: &[String]) {
        if let Ok(d) = self.dead_letter.lock() {
            d.write(&self.name, reason, batch);
        }
    }

    fn count(&self, outcome: &str, n: usize) {
        if let Some(m) = &self.metrics {
            m.sink_delivery(&self.name, outcome, n as u64);
        }
    }
}
