//! `[server]`: the HTTP listener of `dumpwatch run` — ingest
//! (`POST /ingest/<name>`), `GET /metrics`, `GET /health` and the admin
//! reload call (`POST /admin/reload`).

use std::path::PathBuf;

use serde::Deserialize;

use crate::units::{ByteSize, DurationSetting};

/// `[server]`
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct ServerConfig {
    /// Address to listen on (`127.0.0.1:9880`). Without it no server runs
    /// (and `http` inputs are refused).
    pub listen: Option<String>,
    /// Largest request body, before and after decompression (413 past it).
    pub max_body: ByteSize,
    /// Ingest requests being decoded or waiting for their acknowledgement
    /// at once (counted once their body is read); past it requests are
    /// answered 429.
    pub max_in_flight: usize,
    /// Requests per http input waiting for its decoder; past it requests
    /// are answered 503 (the engine is behind).
    pub queue: usize,
    /// Longest a client may take to send a request's headers and body
    /// (408 past it; a slow client never holds up others).
    pub request_timeout: DurationSetting,
    /// Longest a request waits for its events to become durable before it
    /// is answered 503 (the sender retries; duplicates are absorbed).
    pub ack_timeout: DurationSetting,
    /// Connections served at once; further ones wait in the backlog.
    pub max_connections: usize,
    /// Serve Prometheus metrics at `GET /metrics`.
    pub metrics: bool,
    /// Bearer token that enables `POST /admin/reload` (off without one).
    /// Prefer `admin_token_file`.
    pub admin_token: Option<String>,
    /// File holding the admin token (first line).
    pub admin_token_file: Option<PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: None,
            max_body: ByteSize(10 << 20),
            max_in_flight: 256,
            queue: 16,
            request_timeout: DurationSetting::from_secs(30),
            ack_timeout: DurationSetting::from_secs(30),
            max_connections: 1024,
            metrics: true,
            admin_token: None,
            admin_token_file: None,
        }
    }
}

impl ServerConfig {
    pub(crate) fn check(&self, p: &mut Vec<String>) {
        if let Some(a) = &self.listen
            && a.parse::<std::net::SocketAddr>().is_err()
        {
            p.push(format!(
                "server.listen: {a:?} is not an address with a port (\"127.0.0.1:9880\")"
            ));
        }
        if self.max_body.0 < 1024 {
            p.push("server.max_body must be at least 1KiB".into());
        }
        if self.max_in_flight == 0 || self.queue == 0 || self.max_connections == 0 {
            p.push(
                "server.max_in_flight, server.queue and server.max_connections must be positive"
                    .into(),
            );
        }
        if self.request_timeout.0.is_zero() || self.ack_timeout.0.is_zero() {
            p.push("server.request_timeout and server.ack_timeout must be positive".into());
        }
        if self.admin_token.is_some() && self.admin_token_file.is_some() {
            p.push("server: give admin_token or admin_token_file, not both".into());
        }
        if self
            .admin_token
            .as_deref()
            .is_some_and(|t| t.trim().len() < 16)
        {
            p.push("server.admin_token must be at least 16 characters".into());
        }
    }
}
