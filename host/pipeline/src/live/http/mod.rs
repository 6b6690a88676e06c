//! The HTTP server of `dumpwatch run`: log ingest for Vector's `http` sink
//! and Fluent Bit's `http` output (`POST /ingest/<input>`), Prometheus
//! metrics (`GET /metrics`), a health check (`GET /health`) and the admin
//! reload call (`POST /admin/reload`, bearer token, off unless
//! configured).
//!
//! The server runs on its own tokio runtime in its own threads; the engine
//! stays synchronous. Each request is bounded in every dimension a sender
//! can stretch: connections (further ones wait in the backlog), time to
//! send headers and body (408), body size before and after decompression
//! (413), requests in flight (429), and the decoder queue (503 when the
//! engine is behind). A request is answered 200 only once its events are
//! durable; senders retry on 429 and 5xx, and the deterministic event ids
//! and finding uids absorb what a retry repeats.

pub mod body;
pub mod ingest;
pub mod records;
mod respond;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};

use crate::live::message::ControlHandle;
use crate::metrics::Metrics;
use body::Refusal;
use ingest::{Job, JobQueue, Reply};
use respond::{json, refuse, text};

/// Limits and switches of the server.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    pub listen: SocketAddr,
    pub max_body: usize,
    pub max_in_flight: usize,
    pub request_timeout: Duration,
    pub ack_timeout: Duration,
    pub max_connections: usize,
    pub metrics: bool,
    pub admin_token: Option<String>,
    /// Longest the admin reload call waits for the engine.
    pub reload_timeout: Duration,
}

/// An ingest endpoint: `/ingest/<name>`.
pub struct Endpoint {
    pub name: String,
    pub token: Option<String>,
    pub queue: JobQueue,
}

struct State {
    opts: ServerOptions,
    endpoints: HashMap<String, Endpoint>,
    in_flight: Arc<tokio::sync::Semaphore>,
    metrics: Option<Arc<Metrics>>,
    control: Option<ControlHandle>,
    engine_running: Arc<AtomicBool>,
    started_ms: i64,
}

/// A running server.
pub struct Server {
    pub local_addr: SocketAddr,
    shutdown: Arc<tokio::sync::Notify>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Stop accepting, let requests in progress end (briefly), stop.
    pub fn stop(mut self) {
        self.shutdown.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Bind the address (errors are the caller's at startup) and serve in a
/// new thread until stopped.
pub fn start(
    opts: ServerOptions,
    endpoints: Vec<Endpoint>,
    metrics: Option<Arc<Metrics>>,
    control: Option<ControlHandle>,
    engine_running: Arc<AtomicBool>,
) -> std::io::Result<Server> {
    let listener = std::net::TcpListener::bind(opts.listen)?;
    listener.set_nonblocking(true)?;
    let local_addr = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("dumpwatch-server")
        .enable_all()
        .build()?;
    let state = Arc::new(State {
        in_flight: Arc::new(tokio::sync::Semaphore::new(opts.max_in_flight.max(1))),
        endpoints: endpoints.into_iter().map(|e| (e.name.clone(), e)).collect(),
        opts,
        metrics,
        control,
        engine_running,
        started_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0),
    });
    let shutdown = Arc::new(tokio::sync::Notify::new());
    let stop = shutdown.clone();
    let thread = std::thread::Builder::new()
        .name("dumpwatch-server".into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::error!("server: {e}");
                        return;
                    }
                };
                tokio::select! {
                    () = accept_loop(listener, state) => {}
                    () = stop.notified() => {}
                }
            });
            runtime.shutdown_timeout(Duration::from_secs(2));
        })?;
    Ok(Server {
        local_addr,
        shutdown,
        thread: Some(thread),
    })
}

async fn accept_loop(listener: tokio::net::TcpListener, state: Arc<State>) {
    let connections = Arc::new(tokio::sync::Semaphore::new(
        state.opts.max_connections.max(1),
    ));
    loop {
        // Past the limit, connections wait in the kernel's backlog.
        let Ok(permit) = connections.clone().acquire_owned().await else {
            return;
        };
        let (stream, _peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("server: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        tokio::spawn(async move {
            let timeout = state.opts.request_timeout;
            let service = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, std::convert::Infallible>(route(&state, req).await) }
            });
            // The header timeout also closes idle keep-alive connections,
            // so they give their permit back.
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(timeout)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = conn.await {
                tracing::debug!("server connection: {e}");
            }
            drop(permit);
        });
    }
}

async fn route(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    match (req.method(), path.as_str()) {
        (&Method::GET, "/health") => health(state),
        (&Method::GET, "/metrics") if state.opts.metrics => match &state.metrics {
            Some(m) => {
                let body = m.render(state.started_ms);
                text(
                    200,
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    body,
                )
            }
            None => refuse(&Refusal::new(404, "not found", "no metrics")),
        },
        (_, "/admin/reload") => admin_reload(state, req).await,
        (_, p) if p.starts_with("/ingest/") => {
            let name = p["/ingest/".len()..].trim_end_matches('/').to_owned();
            let started = Instant::now();
            let resp = ingest(state, &name, req, started).await;
            if let Some(m) = &state.metrics {
                let known = state.endpoints.contains_key(&name);
                let label = if known { name.as_str() } else { "(unknown)" };
                m.http_answer(label, resp.status().as_u16());
            }
            resp
        }
        _ => refuse(&Refusal::new(
            404,
            "not found",
            "paths: POST /ingest/<input>, GET /metrics, GET /health, POST /admin/reload",
        )),
    }
}

fn health(state: &State) -> Response<Full<Bytes>> {
    let running = state.engine_running.load(Ordering::Relaxed);
    let age = state.metrics.as_ref().and_then(|m| m.checkpoint_age_secs());
    let body = serde_json::json!({
        "status": if running { "ok" } else { "stopped" },
        "checkpoint_age_seconds": age,
        "inputs": state.endpoints.keys().collect::<Vec<_>>(),
    });
    json(if running { 200 } else { 503 }, &body)
}

/// Compare secrets without an early exit on the first differing byte.
fn same_secret(given: &[u8], want: &[u8]) -> bool {
    let mut diff = given.len() ^ want.len();
    for (i, w) in want.iter().enumerate() {
        diff |= usize::from(given.get(i).copied().unwrap_or(0) ^ w);
    }
    diff == 0
}

fn bearer(req: &Request<Incoming>) -> Option<&[u8]> {
    let h = req.headers().get(hyper::header::AUTHORIZATION)?.as_bytes();
    let (scheme, rest) = h.split_at(h.iter().position(|&b| b == b' ')?);
    scheme
        .eq_ignore_ascii_case(b"bearer")
        .then(|| rest.trim_ascii())
}

fn authorized(req: &Request<Incoming>, token: &str) -> bool {
    bearer(req).is_some_and(|t| same_secret(t, token.as_bytes()))
}

async fn admin_reload(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (Some(token), Some(control)) = (&state.opts.admin_token, &state.control) else {
        return refuse(&Refusal::new(
            404,
            "not found",
            "the admin API is off (set server.admin_token_file)",
        ));
    };
    if req.method() != Method::POST {
        return refuse(&Refusal::new(405, "method", "use POST"));
    }
    if !authorized(&req, token) {
        return refuse(&Refusal::new(
            401,
            "bad token",
            "missing or wrong bearer token",
        ));
    }
    let control = control.clone();
    let timeout = state.opts.reload_timeout;
    let outcome = tokio::task::spawn_blocking(move || control.reload(timeout)).await;
    match outcome {
        Ok(Ok(change)) => json(
            200,
            &serde_json::json!({ "reloaded": true, "change": change }),
        ),
        Ok(Err(e)) => json(
            422,
            &serde_json::json!({ "reloaded": false, "error": e, "note": "the running analytics are unchanged" }),
        ),
        Err(e) => json(
            500,
            &serde_json::json!({ "reloaded": false, "error": e.to_string() }),
        ),
    }
}

fn query_host(req: &Request<Incoming>) -> Result<Option<String>, Refusal> {
    let from_header = req
        .headers()
        .get("x-dumpwatch-host")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let from_query = req.uri().query().and_then(|q| {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "host")
            .map(|(_, v)| v.to_owned())
    });
    match from_query.or(from_header) {
        None => Ok(None),
        Some(h)
            if !h.is_empty()
                && h.len() <= 253
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._:".contains(&b)) =>
        {
            Ok(Some(h))
        }
        Some(h) => Err(Refusal::new(
            400,
            "bad host",
            format!("host {h:?} must be a host name (letters, digits, '-', '.', '_', ':')"),
        )),
    }
}

async fn ingest(
    state: &State,
    name: &str,
    req: Request<Incoming>,
    started: Instant,
) -> Response<Full<Bytes>> {
    let count = |r: &Refusal| {
        if let Some(m) = &state.metrics {
            m.rejected(name, r.reason);
        }
    };
    let Some(ep) = state.endpoints.get(name) else {
        let r = Refusal::new(
            404,
            "unknown input",
            format!(
                "no http input named {name:?} (configured: {})",
                state
                    .endpoints
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        return refuse(&r);
    };
    let r = ingest_request(state, ep, req, started).await;
    match r {
        Ok(resp) => resp,
        Err(refusal) => {
            count(&refusal);
            if refusal.code >= 500 || refusal.code == 429 {
                tracing::debug!(input = %name, "{}", refusal.detail);
            }
            refuse(&refusal)
        }
    }
}

async fn ingest_request(
    state: &State,
    ep: &Endpoint,
    req: Request<Incoming>,
    started: Instant,
) -> Result<Response<Full<Bytes>>, Refusal> {
    if req.method() != Method::POST && req.method() != Method::PUT {
        return Err(Refusal::new(405, "method", "send logs with POST"));
    }
    if let Some(token) = &ep.token
        && !authorized(&req, token)
    {
        return Err(Refusal::new(
            401,
            "bad token",
            "missing or wrong bearer token",
        ));
    }
    let host = query_host(&req)?;
    let encoding = body::encoding(
        req.headers()
            .get(hyper::header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok()),
    )?;
    let content_type = req
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // Refuse a type we cannot read before reading the body.
    if content_type.is_some() {
        body::kind(content_type.as_deref(), b"")?;
    }
    let max = state.opts.max_body;
    if let Some(len) = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > max as u64
    {
        return Err(Refusal::new(
            413,
            "body too large",
            format!("the body of {len} bytes exceeds the {max}-byte limit"),
        ));
    }
    // The body is read before a request counts as in flight: a slow
    // client holds its connection (and at most `max_body` of memory) until
    // the request timeout, never a slot other senders need.
    let deadline = started + state.opts.request_timeout;
    let limited = Limited::new(req.into_body(), max);
    let collected = tokio::time::timeout_at(deadline.into(), limited.collect()).await;
    let raw = match collected {
        Err(_) => {
            return Err(Refusal::new(
                408,
                "slow client",
                "the request body did not arrive in time",
            ));
        }
        Ok(Err(e)) => {
            return Err(if e.is::<http_body_util::LengthLimitError>() {
                Refusal::new(
                    413,
                    "body too large",
                    format!("the body exceeds the {max}-byte limit"),
                )
            } else {
                Refusal::new(400, "broken body", format!("reading the body: {e}"))
            });
        }
        Ok(Ok(c)) => c.to_bytes(),
    };
    let Ok(permit) = state.in_flight.clone().try_acquire_owned() else {
        return Err(Refusal::new(
            429,
            "too many requests",
            "too many requests in flight; retry later",
        ));
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let answer_by = Instant::now() + state.opts.ack_timeout;
    let job = Job {
        body: raw.to_vec(),
        encoding,
        content_type,
        host,
        reply: tx,
        deadline: answer_by,
    };
    if ep.queue.offer(job).is_err() {
        return Err(Refusal::new(
            503,
            "engine behind",
            "the engine is behind; retry later",
        ));
    }
    let reply = tokio::time::timeout_at(answer_by.into(), rx).await;
    drop(permit);
    match reply {
        Ok(Ok(Reply::Accepted { records, events })) => Ok(json(
            200,
            &serde_json::json!({ "records": records, "events": events }),
        )),
        Ok(Ok(Reply::Refused(r))) => Err(r),
        Ok(Err(_)) => Err(Refusal::new(
            503,
            "engine stopped",
            "the engine stopped; retry",
        )),
        Err(_) => Err(Refusal::new(
            503,
            "not acknowledged",
            "the events were not made durable in time; retry",
        )),
    }
}
