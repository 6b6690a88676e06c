//! Prometheus metrics of a live run, served at `GET /metrics`.
//!
//! The registry and its metric families come from `prometheus-client` (the
//! Prometheus project's Rust client: OpenMetrics text encoding, labelled
//! families). Two kinds of producers fill them:
//!
//! * sources and servers count what only they see (HTTP requests by answer,
//!   rejected requests by reason, syslog frames, webhook deliveries) with
//!   direct `inc` calls;
//! * the engine's cumulative counts (events and parse errors per source,
//!   events routed, findings and traps per analytic, late events) live in
//!   the single-threaded flow. The engine thread copies them here every
//!   observation tick ([`EngineObserver`]): the flow stays free of shared
//!   atomics on its hot path, and a scrape never waits for the engine.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::flow::{Flow, TimeStats};
use crate::source::InputReport;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabel {
    pub source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceKindLabel {
    pub source: String,
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AnalyticLabel {
    pub analytic: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FindingLabel {
    pub analytic: String,
    /// `create` or `update`.
    pub activity: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabel {
    pub input: String,
    pub code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub input: String,
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SinkLabel {
    pub sink: String,
    pub outcome: String,
}

/// Every metric of a live run.
pub struct Metrics {
    registry: Registry,
    pub events_in: Family<SourceLabel, Counter>,
    pub parse_errors: Family<SourceKindLabel, Counter>,
    pub late_events: Family<SourceLabel, Counter>,
    pub events_routed: Family<AnalyticLabel, Counter>,
    pub findings: Family<FindingLabel, Counter>,
    pub guest_traps: Family<AnalyticLabel, Counter>,
    /// Linear memory each analytic's instance has grown to.
    pub guest_memory: Family<AnalyticLabel, Gauge>,
    pub reloads: Family<OutcomeLabel, Counter>,
    pub checkpoints: Counter,
    checkpoint_age: Gauge<f64, AtomicU64>,
    /// Unix ms of the last checkpoint (0: none yet).
    last_checkpoint_ms: AtomicI64,
    pub queue_depth: Gauge,
    pub http_requests: Family<RequestLabel, Counter>,
    pub ingest_rejected: Family<ReasonLabel, Counter>,
    pub syslog_messages: Family<SourceLabel, Counter>,
    pub sink_deliveries: Family<SinkLabel, Counter>,
    pub up: Gauge,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("dumpwatch");
        let m = Metrics {
            events_in: Family::default(),
            parse_errors: Family::default(),
            late_events: Family::default(),
            events_routed: Family::default(),
            findings: Family::default(),
            guest_memory: Family::default(),
            guest_traps: Family::default(),
            reloads: Family::default(),
            checkpoints: Counter::default(),
            checkpoint_age: Gauge::default(),
            last_checkpoint_ms: AtomicI64::new(0),
            queue_depth: Gauge::default(),
            http_requests: Family::default(),
            ingest_rejected: Family::default(),
            syslog_messages: Family::default(),
            sink_deliveries: Family::default(),
            up: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "events_in",
            "Events normalized, per source",
            m.events_in.clone(),
        );
        registry.register(
            "parse_errors",
            "Malformed records, per source and reason",
            m.parse_errors.clone(),
        );
        registry.register(
            "late_events",
            "Events older than their source's watermark, per source",
            m.late_events.clone(),
        );
        registry.register(
            "events_routed",
            "Events that passed an analytic's prefilter",
            m.events_routed.clone(),
        );
        registry.register(
            "findings",
            "Findings emitted, per analytic and activity (create, update)",
            m.findings.clone(),
        );
        registry.register(
            "guest_traps",
            "Analytic calls that trapped, timed out or hit the memory cap",
            m.guest_traps.clone(),
        );
        registry.register(
            "guest_memory_bytes",
            "Linear memory of each analytic's instance (its high-water mark: wasm memory never shrinks)",
            m.guest_memory.clone(),
        );
        registry.register(
            "reloads",
            "Reloads of modules and tunables, per outcome",
            m.reloads.clone(),
        );
        registry.register("checkpoints", "Checkpoints written", m.checkpoints.clone());
        registry.register(
            "checkpoint_age_seconds",
            "Seconds since the last checkpoint (since start when none yet)",
            m.checkpoint_age.clone(),
        );
        registry.register(
            "queue_depth",
            "Messages from sources waiting for the engine thread",
            m.queue_depth.clone(),
        );
        registry.register(
            "http_requests",
            "Ingest requests, per input and answer code",
            m.http_requests.clone(),
        );
        registry.register(
            "ingest_rejected",
            "Ingest requests or frames refused, per input and reason",
            m.ingest_rejected.clone(),
        );
        registry.register(
            "syslog_messages",
            "Syslog messages received, per input",
            m.syslog_messages.clone(),
        );
        registry.register(
            "sink_deliveries",
            "Webhook batches per sink and outcome (sent, retried, dead_letter)",
            m.sink_deliveries.clone(),
        );
        registry.register("up", "1 while the engine runs", m.up.clone());
        for outcome in ["ok", "failed"] {
            let _ = m.reloads.get_or_create(&OutcomeLabel {
                outcome: outcome.to_owned(),
            });
        }
        Metrics { registry, ..m }
    }

    /// Note a checkpoint that just committed.
    pub fn checkpoint_done(&self) {
        self.last_checkpoint_ms.store(now_ms(), Ordering::Relaxed);
    }

    /// Seconds since the last checkpoint, if there was one.
    pub fn checkpoint_age_secs(&self) -> Option<f64> {
        match self.last_checkpoint_ms.load(Ordering::Relaxed) {
            0 => None,
            t => Some((now_ms() - t).max(0) as f64 / 1000.0),
        }
    }

    /// The OpenMetrics text of every metric.
    pub fn render(&self, started_ms: i64) -> String {
        let age = self
            .checkpoint_age_secs()
            .unwrap_or_else(|| (now_ms() - started_ms).max(0) as f64 / 1000.0);
        self.checkpoint_age.set(age);
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!("encoding metrics: {e}");
        }
        out
    }

    /// Count an HTTP answer.
    pub fn http_answer(&self, input: &str, code: u16) {
        self.http_requests
            .get_or_create(&RequestLabel {
                input: input.to_owned(),
                code: code.to_string(),
            })
            .inc();
    }

    /// Count a refused request or frame.
    pub fn rejected(&self, input: &str, reason: &str) {
        self.ingest_rejected
            .get_or_create(&ReasonLabel {
                input: input.to_owned(),
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// Count a webhook batch outcome.
    pub fn sink_delivery(&self, sink: &str, outcome: &str, n: u64) {
        self.sink_deliveries
            .get_or_create(&SinkLabel {
                sink: sink.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc_by(n);
    }
}

/// Raise a counter to a cumulative total kept elsewhere. A total that went
/// down (an analytic rebuilt by a reload starts its counts anew) counts in
/// full from there.
fn follow(counter: &Counter, total: u64, last: &mut u64) {
    let add = if total >= *last { total - *last } else { total };
    if add > 0 {
        counter.inc_by(add);
    }
    *last = total;
}

/// The engine thread's side: copies the flow's and the sources' cumulative
/// counts into the shared metrics.
pub struct EngineObserver {
    metrics: Arc<Metrics>,
    last: HashMap<(u8, String, String), u64>,
    checkpoints_seen: u64,
}

impl EngineObserver {
    pub fn new(metrics: Arc<Metrics>) -> EngineObserver {
        metrics.up.set(1);
        EngineObserver {
            metrics,
            last: HashMap::new(),
            checkpoints_seen: 0,
        }
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    fn follow(&mut self, kind: u8, a: &str, b: &str, counter: &Counter, total: u64) {
        let last = self
            .last
            .entry((kind, a.to_owned(), b.to_owned()))
            .or_insert(0);
        follow(counter, total, last);
    }

    /// Copy the counts of the flow and of each source (name, report,
    /// event-time counts).
    pub fn observe<'a>(
        &mut self,
        flow: &Flow,
        sources: impl Iterator<Item = (&'a InputReport, &'a TimeStats)>,
        queue_depth: i64,
    ) {
        let m = self.metrics.clone();
        for (report, time) in sources {
            let src = report.path.as_str();
            let label = SourceLabel {
                source: src.to_owned(),
            };
            self.follow(
                0,
                src,
                "",
                &m.events_in.get_or_create(&label),
                report.stats.normalized,
            );
            self.follow(1, src, "", &m.late_events.get_or_create(&label), time.late);
            for (kind, n) in &report.stats.errors {
                let c = m.parse_errors.get_or_create(&SourceKindLabel {
                    source: src.to_owned(),
                    kind: (*kind).to_owned(),
                });
                self.follow(2, src, kind, &c, *n);
            }
        }
        for a in &flow.analytics {
            let id = a.info.id.as_str();
            let label = AnalyticLabel {
                analytic: id.to_owned(),
            };
            self.follow(
                3,
                id,
                "",
                &m.events_routed.get_or_create(&label),
                a.stats.routed,
            );
            self.follow(
                4,
                id,
                "",
                &m.guest_traps.get_or_create(&label),
                a.stats.failures,
            );
            m.guest_memory
                .get_or_create(&label)
                .set(i64::try_from(a.instance.memory_bytes()).unwrap_or(i64::MAX));
            for (activity, n) in [
                ("create", a.stats.findings_created),
                ("update", a.stats.findings_updated),
            ] {
                let c = m.findings.get_or_create(&FindingLabel {
                    analytic: id.to_owned(),
                    activity: activity.to_owned(),
                });
                self.follow(5, id, activity, &c, n);
            }
        }
        if flow.checkpoints != self.checkpoints_seen {
            let add = flow.checkpoints.saturating_sub(self.checkpoints_seen);
            m.checkpoints.inc_by(add);
            self.checkpoints_seen = flow.checkpoints;
            m.checkpoint_done();
        }
        m.queue_depth.set(queue_depth);
    }

    /// Count a reload's outcome.
    pub fn reload(&self, ok: bool) {
        self.metrics
            .reloads
            .get_or_create(&OutcomeLabel {
                outcome: if ok { "ok" } else { "failed" }.to_owned(),
            })
            .inc();
    }

    /// The engine stopped.
    pub fn stopped(&self) {
        self.metrics.up.set(0);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn cumulative_totals_become_counter_increments() {
        let c = Counter::<u64>::default();
        let mut last = 0;
        follow(&c, 5, &mut last);
        follow(&c, 5, &mut last);
        follow(&c, 9, &mut last);
        assert_eq!(c.get(), 9);
        // A reset source counts again from zero.
        follow(&c, 2, &mut last);
        assert_eq!(c.get(), 11);
    }

    #[test]
    fn renders_text_format_with_labels() {
        let m = Metrics::new();
        m.http_answer("auditd", 200);
        m.http_answer("auditd", 200);
        m.rejected("auditd", "bad token");
        let text = m.render(now_ms());
        assert!(
            text.contains("dumpwatch_http_requests_total{input=\"auditd\",code=\"200\"} 2"),
            "{text}"
        );
        assert!(
            text.contains(
                "dumpwatch_ingest_rejected_total{input=\"auditd\",reason=\"bad token\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("dumpwatch_checkpoint_age_seconds"), "{text}");
        // Reload outcomes show from the start (families without samples
        // are left out of the text).
        assert!(
            text.contains("dumpwatch_reloads_total{outcome=\"ok\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("dumpwatch_reloads_total{outcome=\"failed\"} 0"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
