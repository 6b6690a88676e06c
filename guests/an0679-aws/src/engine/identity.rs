//! One identity's state: its query windows (Data API statements anchored
//! at the first one, TimeWindow long) and its S3 multipart uploads (parts
//! summed per upload id), and the rules that tie an S3 write to a window:
//!
//! - a write at time `t` is *eligible* for a window whose statements reach
//!   back to it: first statement ≤ `t` ≤ last statement + ExportWindow.
//!   Observations are handled in event-time order, so when a write is
//!   handled every statement before it is known and the last statement is
//!   the latest one at or before `t` (a statement later than the allowed
//!   lateness may stretch this);
//! - a multipart upload is claimed by every window eligible at the time of
//!   any of its parts, and becomes an export once its key matches
//!   ExportFilePatterns or its parts sum to more than S3ExportThreshold;
//!   from then on its totals (bytes, parts) are copied to its claimants, so
//!   they never depend on the order parts came in;
//! - a PutObject (already known to be an export, or it would not be
//!   observed) is added to the windows eligible at its time.

use dumpwatch_sdk::collections::reserve_one;
use dumpwatch_sdk::evidence::{EvidenceLedger, StoredEvidence};
use dumpwatch_sdk::intern::Sym;
use dumpwatch_sdk::uid::finding_uid_bytes;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::manifest::ID;
use crate::observe::{Leg, Observation};

/// Most clusters and exported objects a window lists by name.
pub const MAX_NAMED: usize = 16;
/// Most part keys an upload remembers for de-duplication (S3 allows
/// 10,000 parts per upload).
pub const MAX_PARTS: usize = 10_000;

/// One exported object as a window sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedObject {
    pub bucket: Sym,
    /// Object key, or `(upload <id>)` while a multipart upload's key is
    /// unknown.
    pub name: Box<str>,
    /// Multipart upload id; none for a PutObject.
    pub upload: Option<Box<str>>,
    pub first: i64,
    pub last: i64,
    pub bytes: u64,
    /// Write events (PutObject, parts, completion) behind it.
    pub events: u32,
}

/// One query window of an identity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueryWindow {
    #[serde(with = "dumpwatch_sdk::uid::raw")]
    pub uid: [u8; 16],
    pub anchor: i64,
    /// Last instant a statement may join (anchor + TimeWindow).
    pub end: i64,
    pub first_statement: i64,
    pub last_statement: i64,
    pub statements: u32,
    /// Statements by a caller IAMAccessPatterns does not allow.
    pub unauthorized: u32,
    /// Clusters queried (sorted, at most [`MAX_NAMED`]).
    pub clusters: Vec<Sym>,
    /// Exported objects, in (first, name) order, at most [`MAX_NAMED`];
    /// `more_objects` counts the rest.
    pub objects: Vec<ExportedObject>,
    pub more_objects: u32,
    pub more_bytes: u64,
    pub more_events: u32,
    /// Time of the latest contributing event.
    pub last_event: i64,
    pub ledger: EvidenceLedger,
    /// Digest of the finding last emitted; 0 before the first.
    pub emitted: u64,
    /// Changed since last rendered.
    pub changed: bool,
}

impl QueryWindow {
    fn new(uid: [u8; 16], time: i64, window_ms: i64) -> QueryWindow {
        QueryWindow {
            uid,
            anchor: time,
            end: time.saturating_add(window_ms),
            first_statement: time,
            last_statement: time,
            statements: 0,
            unauthorized: 0,
            clusters: Vec::new(),
            objects: Vec::new(),
            more_objects: 0,
            more_bytes: 0,
            more_events: 0,
            last_event: time,
            ledger: EvidenceLedger::new(),
            emitted: 0,
            changed: false,
        }
    }

    /// The query leg: a statement by a caller outside IAMAccessPatterns, or
    /// more statements than DBQueryVerbosityThreshold.
    pub fn has_query_leg(&self, config: &Config) -> bool {
        self.unauthorized > 0 || u64::from(self.statements) > config.verbosity
    }

    pub fn has_export(&self) -> bool {
        !self.objects.is_empty() || self.more_objects > 0
    }

    pub fn is_finding(&self, config: &Config) -> bool {
        self.has_query_leg(config) && self.has_export()
    }

    /// Whether a write at `time` is eligible (see the module docs).
    pub fn eligible(&self, time: i64, config: &Config) -> bool {
        self.first_statement <= time
            && time <= self.last_statement.saturating_add(config.export_window_ms)
    }

    /// When the window stops mattering: its last eligible write time.
    pub fn export_end(&self, config: &Config) -> i64 {
        self.end.saturating_add(config.export_window_ms)
    }

    pub fn export_bytes(&self) -> u64 {
        self.objects
            .iter()
            .map(|o| o.bytes)
            .fold(self.more_bytes, u64::saturating_add)
    }

    pub fn export_events(&self) -> u32 {
        self.objects
            .iter()
            .map(|o| o.events)
            .fold(self.more_events, u32::saturating_add)
    }

    pub fn object_count(&self) -> u32 {
        (self.objects.len() as u32).saturating_add(self.more_objects)
    }

    /// Contributing events: statements and write events.
    pub fn event_count(&self) -> u32 {
        self.statements.saturating_add(self.export_events())
    }

    fn add_statement(
        &mut self,
        obs: &Observation,
        unauthorized: bool,
        cluster: Option<&Sym>,
        max: usize,
    ) -> bool {
        let added = self.ledger.add(
            obs.key,
            Leg::Query.index(),
            obs.time,
            &obs.evidence.id,
            max,
            || obs.evidence.clone(),
        );
        if !added {
            return false;
        }
        self.statements = self.statements.saturating_add(1);
        if unauthorized {
            self.unauthorized = self.unauthorized.saturating_add(1);
        }
        self.first_statement = self.first_statement.min(obs.time);
        self.last_statement = self.last_statement.max(obs.time);
        self.last_event = self.last_event.max(obs.time);
        if let Some(cluster) = cluster
            && let Err(at) = self.clusters.binary_search(cluster)
            && self.clusters.len() < MAX_NAMED
        {
            reserve_one(&mut self.clusters);
            self.clusters.insert(at, cluster.clone());
        }
        self.changed = true;
        true
    }

    /// Record (or refresh) an exported object's totals in the named list.
    /// False when the list is full and does not hold it: the caller adds
    /// to the totals past the list instead.
    fn set_object(&mut self, object: ExportedObject) -> bool {
        self.last_event = self.last_event.max(object.last);
        let same = |o: &ExportedObject| {
            o.bucket == object.bucket
                && match (&o.upload, &object.upload) {
                    (Some(a), Some(b)) => a == b,
                    (None, None) => o.name == object.name && o.first == object.first,
                    _ => false,
                }
        };
        if let Some(existing) = self.objects.iter_mut().find(|o| same(o)) {
            if *existing != object {
                *existing = object;
                self.objects
                    .sort_by(|a, b| (a.first, &a.name).cmp(&(b.first, &b.name)));
                self.changed = true;
            }
            return true;
        }
        if self.objects.len() >= MAX_NAMED {
            return false;
        }
        let at = self
            .objects
            .partition_point(|o| (o.first, &o.name) <= (object.first, &object.name));
        reserve_one(&mut self.objects);
        self.objects.insert(at, object);
        self.changed = true;
        true
    }

    /// Add to the totals of objects past the named list.
    fn add_unlisted(&mut self, new_object: bool, bytes: u64, events: u32, last: i64) {
        self.last_event = self.last_event.max(last);
        if new_object {
            self.more_objects = self.more_objects.saturating_add(1);
        }
        self.more_bytes = self.more_bytes.saturating_add(bytes);
        self.more_events = self.more_events.saturating_add(events);
        self.changed = true;
    }
}

/// A window that claims an upload, and what it has been given of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub anchor: i64,
    pub bytes: u64,
    pub events: u32,
}

/// A multipart upload being summed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Upload {
    pub bucket: Sym,
    pub upload: Box<str>,
    pub object: Option<Box<str>>,
    pub first: i64,
    pub last: i64,
    pub bytes: u64,
    pub events: u32,
    /// Keys of the events seen, sorted.
    pub keys: Vec<u64>,
    pub named: bool,
    /// The earliest events, as evidence.
    pub evidence: Vec<StoredEvidence>,
    /// The windows that claim it.
    pub claimants: Vec<Claim>,
}

impl Upload {
    pub fn is_export(&self, config: &Config) -> bool {
        self.named || self.bytes > config.export_bytes
    }

    fn summary(&self) -> ExportedObject {
        ExportedObject {
            bucket: self.bucket.clone(),
            name: self
                .object
                .clone()
                .unwrap_or_else(|| format!("(upload {})", self.upload).into_boxed_str()),
            upload: Some(self.upload.clone()),
            first: self.first,
            last: self.last,
            bytes: self.bytes,
            events: self.events,
        }
    }
}

/// Everything about one identity.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IdentityState {
    /// Sorted by anchor.
    pub windows: Vec<QueryWindow>,
    pub uploads: Vec<Upload>,
}

impl IdentityState {
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty() && self.uploads.is_empty()
    }

    /// A statement. Returns true when it opened a window.
    pub fn on_statement(
        &mut self,
        identity: &Sym,
        obs: &Observation,
        unauthorized: bool,
        cluster: Option<&Sym>,
        late: bool,
        config: &Config,
    ) -> bool {
        let time = obs.time;
        let covering = self
            .windows
            .iter()
            .position(|w| w.anchor <= time && time <= w.end);
        // A statement later than the lateness just before a window it would
        // have anchored joins it: that window's finding keeps its uid.
        let reach = time.saturating_add(config.window_ms);
        let before = || {
            late.then(|| {
                self.windows
                    .iter()
                    .position(|w| w.anchor > time && w.anchor <= reach)
            })
            .flatten()
        };
        let mut opened = false;
        let index = match covering.or_else(before) {
            Some(index) => index,
            None => {
                if self.windows.iter().any(|w| w.ledger.contains(obs.key)) {
                    return false;
                }
                let uid = finding_uid_bytes(ID, &["identity", identity], &obs.evidence.id);
                let window = QueryWindow::new(uid, time, config.window_ms);
                let at = self.windows.partition_point(|w| w.anchor <= time);
                reserve_one(&mut self.windows);
                self.windows.insert(at, window);
                opened = true;
                at
            }
        };
        let window = &mut self.windows[index];
        window.add_statement(obs, unauthorized, cluster, config.max_evidence);
        if late {
            // Uploads handled before this statement may be eligible now.
            let anchor = window.anchor;
            for at in 0..self.uploads.len() {
                let upload = &self.uploads[at];
                let reaches = upload.first >= time
                    && upload.first <= time.saturating_add(config.export_window_ms);
                if reaches && !upload.claimants.iter().any(|c| c.anchor == anchor) {
                    self.uploads[at].claimants.push(Claim {
                        anchor,
                        bytes: 0,
                        events: 0,
                    });
                    self.apply_upload(at, config);
                }
            }
        }
        opened
    }

    /// An S3 write. Returns the number of uploads started (0 or 1).
    #[allow(clippy::too_many_arguments)]
    pub fn on_write(
        &mut self,
        obs: &Observation,
        bucket: &Sym,
        object: Option<&str>,
        upload: Option<&str>,
        bytes: u64,
        named: bool,
        config: &Config,
    ) -> usize {
        let eligible: Vec<i64> = self
            .windows
            .iter()
            .filter(|w| w.eligible(obs.time, config))
            .map(|w| w.anchor)
            .collect();
        let Some(upload) = upload else {
            // A PutObject: an export on its own.
            for anchor in eligible {
                let Some(window) = self.windows.iter_mut().find(|w| w.anchor == anchor) else {
                    continue;
                };
                let added = window.ledger.add(
                    obs.key,
                    Leg::Export.index(),
                    obs.time,
                    &obs.evidence.id,
                    config.max_evidence,
                    || obs.evidence.clone(),
                );
                let listed = added
                    && window.set_object(ExportedObject {
                        bucket: bucket.clone(),
                        name: Box::from(object.unwrap_or("(no key)")),
                        upload: None,
                        first: obs.time,
                        last: obs.time,
                        bytes,
                        events: 1,
                    });
                if added && !listed {
                    window.add_unlisted(true, bytes, 1, obs.time);
                }
            }
            return 0;
        };
        let (at, started) = match self
            .uploads
            .iter()
            .position(|u| u.bucket == *bucket && &*u.upload == upload)
        {
            Some(at) => (at, 0),
            None => {
                reserve_one(&mut self.uploads);
                self.uploads.push(Upload {
                    bucket: bucket.clone(),
                    upload: Box::from(upload),
                    object: None,
                    first: obs.time,
                    last: obs.time,
                    bytes: 0,
                    events: 0,
                    keys: Vec::new(),
                    named: false,
                    evidence: Vec::new(),
                    claimants: Vec::new(),
                });
                (self.uploads.len() - 1, 1)
            }
        };
        let entry = &mut self.uploads[at];
        let Err(slot) = entry.keys.binary_search(&obs.key) else {
            return started; // a duplicate
        };
        if entry.keys.len() < MAX_PARTS {
            entry.keys.insert(slot, obs.key);
        }
        entry.events = entry.events.saturating_add(1);
        entry.bytes = entry.bytes.saturating_add(bytes);
        entry.first = entry.first.min(obs.time);
        entry.last = entry.last.max(obs.time);
        entry.named |= named;
        if entry.object.is_none() {
            entry.object = object.map(Box::from);
        }
        keep_earliest(&mut entry.evidence, &obs.evidence, config.max_evidence);
        for anchor in eligible {
            if !entry.claimants.iter().any(|c| c.anchor == anchor) {
                entry.claimants.push(Claim {
                    anchor,
                    bytes: 0,
                    events: 0,
                });
            }
        }
        self.apply_upload(at, config);
        started
    }

    /// Copy upload `at`'s totals and evidence to its claimants, once it is
    /// an export. Claims remember what they were given, so copying again
    /// only adds what is new.
    fn apply_upload(&mut self, at: usize, config: &Config) {
        let upload = &mut self.uploads[at];
        if !upload.is_export(config) {
            return;
        }
        let summary = upload.summary();
        for claim in &mut upload.claimants {
            let Some(window) = self.windows.iter_mut().find(|w| w.anchor == claim.anchor) else {
                continue;
            };
            for evidence in &upload.evidence {
                let key = dumpwatch_sdk::uid::event_key(&evidence.source, &evidence.id);
                window.ledger.add(
                    key,
                    Leg::Export.index(),
                    evidence.time,
                    &evidence.id,
                    config.max_evidence,
                    || evidence.clone(),
                );
            }
            let new_object = claim.events == 0;
            let listed = (new_object || window.objects.iter().any(|o| o.upload == summary.upload))
                && window.set_object(summary.clone());
            if !listed {
                window.add_unlisted(
                    new_object,
                    summary.bytes.saturating_sub(claim.bytes),
                    summary.events.saturating_sub(claim.events),
                    summary.last,
                );
            }
            claim.bytes = summary.bytes;
            claim.events = summary.events;
        }
    }
}

/// Keep the `max` earliest evidence items by (time, id).
fn keep_earliest(list: &mut Vec<StoredEvidence>, item: &StoredEvidence, max: usize) {
    let at = list.partition_point(|e| e.order(item) == std::cmp::Ordering::Less);
    if at >= max {
        return;
    }
    list.insert(at, item.clone());
    list.truncate(max);
}
