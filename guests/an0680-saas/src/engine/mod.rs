//! The correlation engine: the reorder buffer, Snowflake read windows per
//! user, Microsoft 365 download windows per user, and the learned query
//! templates.
//!
//! How order independence is reached: every observation waits in a
//! [`ReorderBuffer`] until the watermark passes its time, and is then
//! handled in (time, source, id) order. Whether a template was seen before
//! a query, the start of the learning period, window anchors, read and
//! download counts are therefore decided on the same sorted stream
//! whatever order the events came in. An observation older than the
//! watermark when it arrives is late and is handled at once against the
//! state kept (see [`windows::place`]). Duplicates are refused by the
//! buffer while pending and by the windows' ledgers after; learning is
//! idempotent.
//!
//! A window's finding is rendered whenever the window changed and emitted
//! when its content differs from what was emitted last (a digest is kept
//! per window).

mod housekeeping;
pub mod learning;
pub mod persist;
pub mod windows;

use dumpwatch_sdk::collections::{Map, new_map};
use dumpwatch_sdk::evidence::StoredEvidence;
use dumpwatch_sdk::intern::{self, Sym};
use dumpwatch_sdk::reorder::{ReorderBuffer, Slot};
use dumpwatch_sdk::state::DirtyKeys;
use dumpwatch_sdk::types::{Event, Finding, Inspection, Window as WindowRecord};
use dumpwatch_sdk::uid::{finding_uid_bytes, to_hex};

use crate::config::Config;
use crate::manifest::ID;
use crate::observe::{Fact, Leg, Observation, QueryFact, observe};
use crate::report;
use learning::Learned;
use windows::{BulkRead, DownloadWindow, Placement, ReadWindow, earliest, insert, place};

/// AN0680's state and logic, independent of the component glue.
pub struct Engine {
    pub(crate) config: Config,
    buffer: ReorderBuffer<Observation>,
    snowflake: Map<Sym, Vec<ReadWindow>>,
    m365: Map<Sym, Vec<DownloadWindow>>,
    learned: Learned,
    watermark: i64,
    swept_at: i64,
    window_count: usize,
    dirty_snowflake: DirtyKeys<Sym>,
    dirty_m365: DirtyKeys<Sym>,
    changed_snowflake: Vec<Sym>,
    changed_m365: Vec<Sym>,
}

impl Default for Engine {
    fn default() -> Engine {
        Engine::new(Config::default())
    }
}

impl Engine {
    pub fn new(config: Config) -> Engine {
        Engine {
            config,
            buffer: ReorderBuffer::new(),
            snowflake: new_map(),
            m365: new_map(),
            learned: Learned::new(),
            watermark: i64::MIN,
            swept_at: i64::MIN,
            window_count: 0,
            dirty_snowflake: DirtyKeys::new(),
            dirty_m365: DirtyKeys::new(),
            changed_snowflake: Vec::new(),
            changed_m365: Vec::new(),
        }
    }

    /// Apply a new configuration; windows are rendered again (thresholds
    /// may have changed what is a finding).
    pub fn reconfigure(&mut self, config: Config) {
        self.config = config;
        for (user, windows) in &mut self.snowflake {
            windows.iter_mut().for_each(|w| w.changed = true);
            self.changed_snowflake.push(user.clone());
        }
        for (user, windows) in &mut self.m365 {
            windows.iter_mut().for_each(|w| w.changed = true);
            self.changed_m365.push(user.clone());
        }
    }

    pub fn watermark(&self) -> i64 {
        self.watermark
    }

    /// Windows held (open or retained).
    pub fn window_count(&self) -> usize {
        self.window_count
    }

    /// Observations waiting for the watermark.
    pub fn pending_count(&self) -> usize {
        self.buffer.len()
    }

    /// (user or role, template) pairs learned.
    pub fn learned_count(&self) -> usize {
        self.learned.len()
    }

    /// Whether `user` (a Snowflake user name) has used template `key`.
    pub fn has_learned(&self, user: &str, key: u64) -> bool {
        self.learned.knows(&(false, Sym::new(user)), key)
    }

    /// Take a batch of events; return findings created or updated.
    pub fn process(&mut self, events: &[Event]) -> Vec<Finding> {
        for event in events {
            let Some(obs) = observe(event, &self.config) else {
                continue;
            };
            if ReorderBuffer::<Observation>::is_late(obs.time, self.watermark) {
                self.handle(obs, true);
            } else {
                let slot = Slot::new(obs.time, &obs.source, &obs.id);
                self.buffer.insert(slot, obs);
            }
        }
        self.enforce_caps();
        self.emit()
    }

    /// Event time has reached `watermark`: handle what it released in
    /// order, expire what can no longer matter, return changed findings.
    pub fn advance(&mut self, watermark: i64) -> Vec<Finding> {
        if watermark <= self.watermark {
            return self.emit();
        }
        self.watermark = watermark;
        for (_, obs) in self.buffer.release(watermark) {
            self.handle(obs, false);
        }
        // Emit before the sweep can drop a window completed just now (at
        // end of input both happen in this one call).
        let mut findings = self.emit();
        self.sweep();
        self.enforce_caps();
        intern::maybe_sweep();
        findings.extend(self.emit());
        findings
    }

    fn handle(&mut self, obs: Observation, late: bool) {
        match &obs.fact {
            Fact::Query(query) => self.on_query(&obs, query, late),
            Fact::Download {
                user,
                site,
                sharepoint,
            } => self.on_download(&obs, user, site.as_ref(), *sharepoint, late),
        }
    }

    fn on_query(&mut self, obs: &Observation, query: &QueryFact, late: bool) {
        let config = &self.config;
        let in_learning = self.learned.in_learning(obs.time, config.learning_ms);
        let user = (false, query.user.clone());
        let role = query.role.clone().map(|r| (true, r));
        let baseline = config.baseline.contains(&query.template)
            || query.shape.is_some_and(|s| config.baseline.contains(&s));
        let known = baseline
            || self.learned.knows(&user, query.template)
            || role
                .as_ref()
                .is_some_and(|r| self.learned.knows(r, query.template));
        let sensitive = !query.tables.is_empty();
        let new_template = !known && !in_learning && (sensitive || !config.new_on_sensitive_only);
        self.learned.learn(&user, query.template, obs.time);
        if let Some(role) = &role {
            self.learned.learn(role, query.template, obs.time);
        }
        // Baseline templates are expected BI and ETL work: they feed no leg.
        if baseline || (!sensitive && !new_template) {
            return;
        }
        let Some(evidence) = &obs.evidence else {
            return;
        };
        let bulk = sensitive && query.whole && query.large;
        let leg = if bulk {
            Leg::BulkRead
        } else if new_template {
            Leg::NewTemplate
        } else {
            Leg::RepeatedRead
        };
        let windows = self.snowflake.entry(query.user.clone()).or_default();
        let index = match place(windows, obs.time, obs.key, late, config.window_ms) {
            Placement::Join(index) => index,
            Placement::Duplicate => return,
            Placement::Open => {
                let uid = finding_uid_bytes(ID, &["snowflake", &query.user], &obs.id);
                self.window_count += 1;
                insert(windows, ReadWindow::new(uid, obs.time, config.window_ms))
            }
        };
        let window = &mut windows[index];
        if !window.ledger.add(
            obs.key,
            leg.index(),
            obs.time,
            &obs.id,
            config.max_evidence,
            || with_leg(evidence, leg),
        ) {
            return;
        }
        window.queries = window.queries.saturating_add(1);
        window.start_time = window.start_time.min(obs.time);
        window.end_time = window.end_time.max(obs.time);
        for table in &query.tables {
            window.read(table);
        }
        if bulk {
            window.bulk = window.bulk.saturating_add(1);
            let earlier = window
                .first_bulk
                .as_ref()
                .is_none_or(|b| (obs.time, &*obs.id) < (b.time, &*b.id));
            if earlier && let Some(table) = query.tables.first() {
                window.first_bulk = Some(BulkRead {
                    time: obs.time,
                    id: obs.id.clone(),
                    table: table.clone(),
                    rows: query.rows,
                    bytes: query.bytes,
                });
            }
        }
        if new_template {
            window.new_templates = window.new_templates.saturating_add(1);
            if let Some(label) = &query.label {
                let entry = (obs.time, obs.id.clone(), label.clone());
                let at = window
                    .new_labels
                    .partition_point(|e| (e.0, &e.1) < (entry.0, &entry.1));
                window.new_labels.insert(at, entry);
                window.new_labels.truncate(3);
            }
        }
        if let Some((_, role)) = &role {
            window.add_role(role);
        }
        if config.off_hours.contains(obs.time) {
            earliest(&mut window.off_hours, obs.time, &obs.id);
        }
        window.changed = true;
        self.dirty_snowflake.mark(query.user.clone());
        self.changed_snowflake.push(query.user.clone());
    }

    fn on_download(
        &mut self,
        obs: &Observation,
        user: &Sym,
        site: Option<&Sym>,
        sharepoint: bool,
        late: bool,
    ) {
        let config = &self.config;
        let Some(evidence) = &obs.evidence else {
            return;
        };
        let windows = self.m365.entry(user.clone()).or_default();
        let index = match place(windows, obs.time, obs.key, late, config.download_window_ms) {
            Placement::Join(index) => index,
            Placement::Duplicate => return,
            Placement::Open => {
                let uid = finding_uid_bytes(ID, &["m365", user], &obs.id);
                self.window_count += 1;
                insert(
                    windows,
                    DownloadWindow::new(uid, obs.time, config.download_window_ms),
                )
            }
        };
        let window = &mut windows[index];
        if !window.ledger.add(
            obs.key,
            Leg::BulkDownload.index(),
            obs.time,
            &obs.id,
            config.max_evidence,
            || evidence.clone(),
        ) {
            return;
        }
        window.downloads = window.downloads.saturating_add(1);
        window.start_time = window.start_time.min(obs.time);
        window.end_time = window.end_time.max(obs.time);
        if let Some(site) = site {
            window.add_site(site);
        }
        window.sharepoint |= sharepoint;
        if config.off_hours.contains(obs.time) {
            earliest(&mut window.off_hours, obs.time, &obs.id);
        }
        window.changed = true;
        self.dirty_m365.mark(user.clone());
        self.changed_m365.push(user.clone());
    }

    /// Findings of windows that changed and whose content differs from
    /// what was emitted, in (start time, uid) order.
    fn emit(&mut self) -> Vec<Finding> {
        let config = &self.config;
        let mut findings = Vec::new();
        let mut users = std::mem::take(&mut self.changed_snowflake);
        users.sort_unstable();
        users.dedup();
        for user in users {
            let Some(windows) = self.snowflake.get_mut(&user) else {
                continue;
            };
            let mut emitted = false;
            for window in windows.iter_mut().filter(|w| w.changed) {
                window.changed = false;
                if !window.is_finding(config) {
                    continue;
                }
                let finding = report::snowflake::finding(&user, window, config);
                let digest = report::digest(&finding);
                if digest != window.emitted {
                    window.emitted = digest;
                    findings.push(finding);
                    emitted = true;
                }
            }
            if emitted {
                self.dirty_snowflake.mark(user);
            }
        }
        let mut users = std::mem::take(&mut self.changed_m365);
        users.sort_unstable();
        users.dedup();
        for user in users {
            let Some(windows) = self.m365.get_mut(&user) else {
                continue;
            };
            let mut emitted = false;
            for window in windows.iter_mut().filter(|w| w.changed) {
                window.changed = false;
                if !window.is_finding(config) {
                    continue;
                }
                let finding = report::m365::finding(&user, window, config);
                let digest = report::digest(&finding);
                if digest != window.emitted {
                    window.emitted = digest;
                    findings.push(finding);
                    emitted = true;
                }
            }
            if emitted {
                self.dirty_m365.mark(user);
            }
        }
        findings.sort_by(|a, b| (a.start_time, &a.uid).cmp(&(b.start_time, &b.uid)));
        findings
    }

    /// Open windows (not past their end), oldest first, at most `limit`.
    pub fn inspect(&self, limit: u32) -> Inspection {
        let config = &self.config;
        let mut open: Vec<(i64, String, WindowRecord)> = Vec::new();
        for (user, windows) in &self.snowflake {
            for w in windows.iter().filter(|w| w.end >= self.watermark) {
                let mut legs = Vec::new();
                if w.bulk > 0 {
                    legs.push(Leg::BulkRead.name().to_string());
                }
                if w.has_repeated(config) {
                    legs.push(Leg::RepeatedRead.name().to_string());
                }
                if w.new_templates > 0 {
                    legs.push(Leg::NewTemplate.name().to_string());
                }
                let entity = format!("snowflake/{user}");
                open.push((
                    w.anchor,
                    entity.clone(),
                    WindowRecord {
                        entity,
                        start: w.anchor,
                        end: w.end,
                        legs,
                        events: w.queries,
                        finding: w.is_finding(config).then(|| to_hex(&w.uid)),
                    },
                ));
            }
        }
        for (user, windows) in &self.m365 {
            for w in windows.iter().filter(|w| w.end >= self.watermark) {
                let entity = format!("m365/{user}");
                let legs = if w.is_finding(config) {
                    vec![Leg::BulkDownload.name().to_string()]
                } else {
                    Vec::new()
                };
                open.push((
                    w.anchor,
                    entity.clone(),
                    WindowRecord {
                        entity,
                        start: w.anchor,
                        end: w.end,
                        legs,
                        events: w.downloads,
                        finding: w.is_finding(config).then(|| to_hex(&w.uid)),
                    },
                ));
            }
        }
        open.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        Inspection {
            open_windows: open.len() as u64,
            windows: open
                .into_iter()
                .take(limit as usize)
                .map(|(_, _, record)| record)
                .collect(),
        }
    }
}

/// `evidence` shown under `leg`.
fn with_leg(evidence: &StoredEvidence, leg: Leg) -> StoredEvidence {
    let mut evidence = evidence.clone();
    evidence.leg = leg.index();
    evidence
}
