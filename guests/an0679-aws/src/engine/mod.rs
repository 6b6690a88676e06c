//! The correlation engine: the reorder buffer, the state per identity
//! (query windows, uploads) and per database address and destination
//! (flow windows), the snapshot events seen, and the cluster marks that
//! tie the two kinds of finding together.
//!
//! How order independence is reached: every observation waits in a
//! [`ReorderBuffer`] until the watermark passes its time, and is then
//! handled in (time, source, id) order. Window anchors, statement counts,
//! the windows an upload is eligible for and the moment an upload becomes
//! an export are therefore decided on the same sorted stream whatever
//! order the events came in. An observation older than the watermark when
//! it arrives is late and is handled at once: it joins the window covering
//! it or the one it would have anchored (which keeps its uid), else opens
//! its own. Duplicates are refused by the buffer while pending and by the
//! windows' ledgers and the uploads' key lists after.
//!
//! A window's finding is rendered whenever the window changed and is
//! emitted when its content differs from what was emitted last (a digest
//! is kept per window), so every change is an update under the same uid
//! and an unchanged finding is never emitted twice.

mod flow;
mod housekeeping;
mod identity;
pub(crate) mod marks;
pub mod persist;

use dumpwatch_sdk::collections::{Map, new_map};
use dumpwatch_sdk::intern::{self, Sym};
use dumpwatch_sdk::reorder::{ReorderBuffer, Slot};
use dumpwatch_sdk::state::DirtyKeys;
use dumpwatch_sdk::types::{Event, Finding, Inspection, Window as WindowRecord};

pub use flow::{FlowKey, FlowWindow};
pub use identity::{ExportedObject, IdentityState, QueryWindow, Upload};
use marks::{ClusterMarks, Mark, Owner};

use crate::config::Config;
use crate::observe::{Fact, Observation, observe};
use crate::report;

/// AN0679's state and logic, independent of the component glue.
pub struct Engine {
    pub(crate) config: Config,
    buffer: ReorderBuffer<Observation>,
    identities: Map<Sym, IdentityState>,
    flows: Map<FlowKey, Vec<FlowWindow>>,
    /// Snapshot events already reported (event key → event time).
    reported: Map<u64, i64>,
    marks: ClusterMarks,
    watermark: i64,
    /// Watermark of the last expiry sweep.
    swept_at: i64,
    window_count: usize,
    upload_count: usize,
    dirty_identities: DirtyKeys<Sym>,
    dirty_flows: DirtyKeys<FlowKey>,
    dirty_reported: DirtyKeys<u64>,
    changed_identities: Vec<Sym>,
    changed_flows: Vec<FlowKey>,
    /// Snapshot findings made and not yet returned.
    outgoing: Vec<Finding>,
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
            identities: new_map(),
            flows: new_map(),
            reported: new_map(),
            marks: ClusterMarks::new(),
            watermark: i64::MIN,
            swept_at: i64::MIN,
            window_count: 0,
            upload_count: 0,
            dirty_identities: DirtyKeys::new(),
            dirty_flows: DirtyKeys::new(),
            dirty_reported: DirtyKeys::new(),
            changed_identities: Vec::new(),
            changed_flows: Vec::new(),
            outgoing: Vec::new(),
        }
    }

    /// Apply a new configuration to the existing state; windows are
    /// rendered again (thresholds may have changed what is a finding).
    pub fn reconfigure(&mut self, config: Config) {
        self.config = config;
        self.rebuild_marks();
        self.touch_everything();
    }

    pub fn watermark(&self) -> i64 {
        self.watermark
    }

    /// Query and flow windows held (open or retained).
    pub fn window_count(&self) -> usize {
        self.window_count
    }

    /// Multipart uploads tracked.
    pub fn upload_count(&self) -> usize {
        self.upload_count
    }

    /// Observations waiting for the watermark.
    pub fn pending_count(&self) -> usize {
        self.buffer.len()
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
                let slot = Slot::new(obs.time, &obs.evidence.source, &obs.evidence.id);
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
        // Emit before the sweep can drop a window completed just now: at
        // end of input the watermark is the largest timestamp, which both
        // releases everything and ends every retention.
        let mut findings = self.emit();
        self.sweep();
        self.enforce_caps();
        intern::maybe_sweep();
        findings.extend(self.emit());
        findings
    }

    /// Handle one observation, in event-time order or late.
    fn handle(&mut self, obs: Observation, late: bool) {
        match &obs.fact {
            Fact::Statement {
                identity,
                unauthorized,
                cluster,
            } => {
                let state = self.identities.entry(identity.clone()).or_default();
                if state.on_statement(
                    identity,
                    &obs,
                    *unauthorized,
                    cluster.as_ref(),
                    late,
                    &self.config,
                ) {
                    self.window_count += 1;
                }
                let identity = identity.clone();
                self.touch_identity(&identity);
            }
            Fact::Write {
                identity,
                bucket,
                object,
                upload,
                bytes,
                named,
            } => {
                // A PutObject matters only to windows of its identity.
                if upload.is_none() && !self.identities.contains_key(identity) {
                    return;
                }
                let state = self.identities.entry(identity.clone()).or_default();
                self.upload_count += state.on_write(
                    &obs,
                    bucket,
                    object.as_deref(),
                    upload.as_deref(),
                    *bytes,
                    *named,
                    &self.config,
                );
                let identity = identity.clone();
                self.touch_identity(&identity);
            }
            Fact::Flow {
                src,
                dst,
                bytes,
                cluster,
            } => {
                let key = (*src, *dst);
                let windows = self.flows.entry(key).or_default();
                if flow::on_flow(
                    windows,
                    key,
                    &obs,
                    *bytes,
                    cluster.as_ref(),
                    late,
                    &self.config,
                ) {
                    self.window_count += 1;
                }
                self.touch_flow(key);
            }
            Fact::Snapshot {
                identity,
                resource,
                action,
            } => {
                if self.reported.contains_key(&obs.key) {
                    return;
                }
                self.reported.insert(obs.key, obs.time);
                self.dirty_reported.mark(obs.key);
                let finding = report::snapshot::finding(&obs, identity, resource, action);
                self.outgoing.push(finding);
            }
        }
    }

    /// `identity`'s windows changed: snapshot it, render it, mark the
    /// clusters of its findings.
    fn touch_identity(&mut self, identity: &Sym) {
        self.dirty_identities.mark(identity.clone());
        self.changed_identities.push(identity.clone());
        let Some(state) = self.identities.get(identity) else {
            return;
        };
        let mut wake = Vec::new();
        for window in state.windows.iter().filter(|w| w.changed) {
            if !window.is_finding(&self.config) {
                continue;
            }
            for cluster in &window.clusters {
                let mark = Mark {
                    owner: Owner::Query(identity.clone(), window.anchor),
                    start: window.anchor,
                    end: window.export_end(&self.config),
                    uid: window.uid,
                    label: Box::from(&**identity),
                };
                wake.extend(self.marks.add(cluster, mark));
            }
        }
        self.wake(wake);
    }

    /// `key`'s flow windows changed.
    fn touch_flow(&mut self, key: FlowKey) {
        self.dirty_flows.mark(key);
        self.changed_flows.push(key);
        let Some(windows) = self.flows.get(&key) else {
            return;
        };
        let mut wake = Vec::new();
        for window in windows.iter().filter(|w| w.changed) {
            let (true, Some(cluster)) = (window.is_finding(&self.config), &window.cluster) else {
                continue;
            };
            let mark = Mark {
                owner: Owner::Flow(key, window.anchor),
                start: window.anchor,
                end: window.end,
                uid: window.uid,
                label: format!("{} to {}", key.0, key.1).into_boxed_str(),
            };
            wake.extend(self.marks.add(cluster, mark));
        }
        self.wake(wake);
    }

    /// Render these windows again: a finding on their cluster appeared.
    fn wake(&mut self, owners: Vec<Owner>) {
        for owner in owners {
            match owner {
                Owner::Query(identity, anchor) => {
                    if let Some(state) = self.identities.get_mut(&identity)
                        && let Some(w) = state.windows.iter_mut().find(|w| w.anchor == anchor)
                    {
                        w.changed = true;
                        self.changed_identities.push(identity);
                    }
                }
                Owner::Flow(key, anchor) => {
                    if let Some(windows) = self.flows.get_mut(&key)
                        && let Some(w) = windows.iter_mut().find(|w| w.anchor == anchor)
                    {
                        w.changed = true;
                        self.changed_flows.push(key);
                    }
                }
            }
        }
    }

    /// Rebuild the cluster marks from the windows that are findings.
    fn rebuild_marks(&mut self) {
        self.marks.clear();
        let config = &self.config;
        for (identity, state) in &self.identities {
            for window in state.windows.iter().filter(|w| w.is_finding(config)) {
                for cluster in &window.clusters {
                    self.marks.add(
                        cluster,
                        Mark {
                            owner: Owner::Query(identity.clone(), window.anchor),
                            start: window.anchor,
                            end: window.export_end(config),
                            uid: window.uid,
                            label: Box::from(&**identity),
                        },
                    );
                }
            }
        }
        for (key, windows) in &self.flows {
            for window in windows.iter().filter(|w| w.is_finding(config)) {
                if let Some(cluster) = &window.cluster {
                    self.marks.add(
                        cluster,
                        Mark {
                            owner: Owner::Flow(*key, window.anchor),
                            start: window.anchor,
                            end: window.end,
                            uid: window.uid,
                            label: format!("{} to {}", key.0, key.1).into_boxed_str(),
                        },
                    );
                }
            }
        }
    }

    /// Mark every window changed (after reconfigure).
    fn touch_everything(&mut self) {
        for (identity, state) in &mut self.identities {
            state.windows.iter_mut().for_each(|w| w.changed = true);
            self.changed_identities.push(identity.clone());
        }
        for (key, windows) in &mut self.flows {
            windows.iter_mut().for_each(|w| w.changed = true);
            self.changed_flows.push(*key);
        }
    }

    /// Findings of windows that changed since they were last rendered and
    /// whose content differs from what was emitted, plus new snapshot
    /// findings; in (start time, uid) order.
    fn emit(&mut self) -> Vec<Finding> {
        let mut findings = std::mem::take(&mut self.outgoing);
        let mut identities = std::mem::take(&mut self.changed_identities);
        identities.sort_unstable();
        identities.dedup();
        for identity in identities {
            let Some(state) = self.identities.get_mut(&identity) else {
                continue;
            };
            let mut emitted = false;
            for window in state.windows.iter_mut().filter(|w| w.changed) {
                window.changed = false;
                if !window.is_finding(&self.config) {
                    continue;
                }
                let finding = report::query::finding(&identity, window, &self.marks, &self.config);
                let digest = report::digest(&finding);
                if digest != window.emitted {
                    window.emitted = digest;
                    findings.push(finding);
                    emitted = true;
                }
            }
            if emitted {
                self.dirty_identities.mark(identity);
            }
        }
        let mut keys = std::mem::take(&mut self.changed_flows);
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            let Some(windows) = self.flows.get_mut(&key) else {
                continue;
            };
            let mut emitted = false;
            for window in windows.iter_mut().filter(|w| w.changed) {
                window.changed = false;
                if !window.is_finding(&self.config) {
                    continue;
                }
                let finding = report::flow::finding(key, window, &self.marks, &self.config);
                let digest = report::digest(&finding);
                if digest != window.emitted {
                    window.emitted = digest;
                    findings.push(finding);
                    emitted = true;
                }
            }
            if emitted {
                self.dirty_flows.mark(key);
            }
        }
        findings.sort_by(|a, b| (a.start_time, &a.uid).cmp(&(b.start_time, &b.uid)));
        findings
    }

    /// Open windows (not past their end), oldest first, at most `limit`.
    pub fn inspect(&self, limit: u32) -> Inspection {
        let config = &self.config;
        let mut open: Vec<(i64, String, WindowRecord)> = Vec::new();
        for (identity, state) in &self.identities {
            for w in state
                .windows
                .iter()
                .filter(|w| w.export_end(config) >= self.watermark)
            {
                let mut legs = Vec::new();
                if w.has_query_leg(config) {
                    legs.push("query".to_string());
                }
                if w.has_export() {
                    legs.push("export".to_string());
                }
                let entity = format!("identity/{identity}");
                open.push((
                    w.anchor,
                    entity.clone(),
                    WindowRecord {
                        entity,
                        start: w.anchor,
                        end: w.export_end(config),
                        legs,
                        events: w.event_count(),
                        finding: w
                            .is_finding(config)
                            .then(|| dumpwatch_sdk::uid::to_hex(&w.uid)),
                    },
                ));
            }
        }
        for (key, windows) in &self.flows {
            for w in windows.iter().filter(|w| w.end >= self.watermark) {
                let entity = format!("flow/{} -> {}", key.0, key.1);
                open.push((
                    w.anchor,
                    entity.clone(),
                    WindowRecord {
                        entity,
                        start: w.anchor,
                        end: w.end,
                        legs: vec!["flow".to_string()],
                        events: w.records,
                        finding: w
                            .is_finding(config)
                            .then(|| dumpwatch_sdk::uid::to_hex(&w.uid)),
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
