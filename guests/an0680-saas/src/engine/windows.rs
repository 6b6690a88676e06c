//! The two kinds of window and how an event joins one.
//!
//! A [`ReadWindow`] holds one Snowflake user's queries that read a
//! sensitive table or used a new template, within TimeWindow of the first;
//! a [`DownloadWindow`] one Microsoft 365 user's downloads within
//! BulkDownloadWindow of the first. Both are anchored at their first event
//! (events are handled in event-time order, see [`super`]); an event
//! joins the window covering it, a late one the window it would have
//! anchored (which keeps its uid), any other opens a window.

use dumpwatch_sdk::collections::reserve_one;
use dumpwatch_sdk::evidence::EvidenceLedger;
use dumpwatch_sdk::intern::Sym;
use serde::{Deserialize, Serialize};

use crate::config::Config;

/// Most tables, roles, sites and template labels a window names.
pub const MAX_NAMED: usize = 16;

/// What placement needs of a window.
pub trait Anchored {
    fn anchor(&self) -> i64;
    fn end(&self) -> i64;
    fn has_event(&self, key: u64) -> bool;
}

/// Where an event goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Into the window at this index.
    Join(usize),
    /// Into a new window anchored at it.
    Open,
    /// Nowhere: it already contributed to a window it does not fall in.
    Duplicate,
}

/// Where an event at `time` goes in `windows` (sorted by anchor).
pub fn place<W: Anchored>(
    windows: &[W],
    time: i64,
    key: u64,
    late: bool,
    length_ms: i64,
) -> Placement {
    if let Some(index) = windows
        .iter()
        .position(|w| w.anchor() <= time && time <= w.end())
    {
        return Placement::Join(index);
    }
    if late {
        let reach = time.saturating_add(length_ms);
        if let Some(index) = windows
            .iter()
            .position(|w| w.anchor() > time && w.anchor() <= reach)
        {
            return Placement::Join(index);
        }
    }
    if windows.iter().any(|w| w.has_event(key)) {
        return Placement::Duplicate;
    }
    Placement::Open
}

/// Insert `window` keeping anchor order; its index.
pub fn insert<W: Anchored>(windows: &mut Vec<W>, window: W) -> usize {
    let at = windows.partition_point(|w| w.anchor() <= window.anchor());
    reserve_one(windows);
    windows.insert(at, window);
    at
}

/// Reads of one sensitive table in a window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableReads {
    pub table: Box<str>,
    pub reads: u32,
}

/// The first bulk read of a window, for reason lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkRead {
    pub time: i64,
    pub id: Box<str>,
    pub table: Box<str>,
    pub rows: Option<u64>,
    pub bytes: Option<u64>,
}

/// One Snowflake user's window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReadWindow {
    #[serde(with = "dumpwatch_sdk::uid::raw")]
    pub uid: [u8; 16],
    pub anchor: i64,
    pub end: i64,
    pub start_time: i64,
    pub end_time: i64,
    /// Contributing queries.
    pub queries: u32,
    pub bulk: u32,
    pub first_bulk: Option<BulkRead>,
    /// Reads per sensitive table, sorted by table; at most [`MAX_NAMED`].
    pub tables: Vec<TableReads>,
    pub new_templates: u32,
    /// Labels of the earliest new templates, with their time and id.
    pub new_labels: Vec<(i64, Box<str>, Box<str>)>,
    /// Roles used, sorted.
    pub roles: Vec<Sym>,
    /// Time and id of the earliest contributing query in
    /// OffHoursAccessWindow.
    pub off_hours: Option<(i64, Box<str>)>,
    pub ledger: EvidenceLedger,
    pub emitted: u64,
    pub changed: bool,
}

impl Anchored for ReadWindow {
    fn anchor(&self) -> i64 {
        self.anchor
    }
    fn end(&self) -> i64 {
        self.end
    }
    fn has_event(&self, key: u64) -> bool {
        self.ledger.contains(key)
    }
}

impl ReadWindow {
    pub fn new(uid: [u8; 16], time: i64, length_ms: i64) -> ReadWindow {
        ReadWindow {
            uid,
            anchor: time,
            end: time.saturating_add(length_ms),
            start_time: time,
            end_time: time,
            queries: 0,
            bulk: 0,
            first_bulk: None,
            tables: Vec::new(),
            new_templates: 0,
            new_labels: Vec::new(),
            roles: Vec::new(),
            off_hours: None,
            ledger: EvidenceLedger::new(),
            emitted: 0,
            changed: false,
        }
    }

    /// The most reads of one table, and that table.
    pub fn most_read(&self) -> Option<&TableReads> {
        self.tables
            .iter()
            .max_by(|a, b| a.reads.cmp(&b.reads).then(b.table.cmp(&a.table)))
    }

    pub fn has_repeated(&self, config: &Config) -> bool {
        self.most_read().is_some_and(|t| t.reads > config.repeated)
    }

    pub fn is_finding(&self, config: &Config) -> bool {
        self.bulk > 0 || self.new_templates > 0 || self.has_repeated(config)
    }

    /// Count a table read.
    pub fn read(&mut self, table: &str) {
        match self.tables.binary_search_by(|t| (*t.table).cmp(table)) {
            Ok(at) => self.tables[at].reads = self.tables[at].reads.saturating_add(1),
            Err(at) if self.tables.len() < MAX_NAMED => {
                reserve_one(&mut self.tables);
                self.tables.insert(
                    at,
                    TableReads {
                        table: Box::from(table),
                        reads: 1,
                    },
                );
            }
            Err(_) => {}
        }
    }

    pub fn add_role(&mut self, role: &Sym) {
        if let Err(at) = self.roles.binary_search(role)
            && self.roles.len() < MAX_NAMED
        {
            reserve_one(&mut self.roles);
            self.roles.insert(at, role.clone());
        }
    }
}

/// One Microsoft 365 user's download window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DownloadWindow {
    #[serde(with = "dumpwatch_sdk::uid::raw")]
    pub uid: [u8; 16],
    pub anchor: i64,
    pub end: i64,
    pub start_time: i64,
    pub end_time: i64,
    pub downloads: u32,
    /// Sites downloaded from, sorted; at most [`MAX_NAMED`].
    pub sites: Vec<Sym>,
    /// A download from SharePoint or OneDrive.
    pub sharepoint: bool,
    pub off_hours: Option<(i64, Box<str>)>,
    pub ledger: EvidenceLedger,
    pub emitted: u64,
    pub changed: bool,
}

impl Anchored for DownloadWindow {
    fn anchor(&self) -> i64 {
        self.anchor
    }
    fn end(&self) -> i64 {
        self.end
    }
    fn has_event(&self, key: u64) -> bool {
        self.ledger.contains(key)
    }
}

impl DownloadWindow {
    pub fn new(uid: [u8; 16], time: i64, length_ms: i64) -> DownloadWindow {
        DownloadWindow {
            uid,
            anchor: time,
            end: time.saturating_add(length_ms),
            start_time: time,
            end_time: time,
            downloads: 0,
            sites: Vec::new(),
            sharepoint: false,
            off_hours: None,
            ledger: EvidenceLedger::new(),
            emitted: 0,
            changed: false,
        }
    }

    pub fn is_finding(&self, config: &Config) -> bool {
        self.downloads > config.downloads
    }

    pub fn add_site(&mut self, site: &Sym) {
        if let Err(at) = self.sites.binary_search(site)
            && self.sites.len() < MAX_NAMED
        {
            reserve_one(&mut self.sites);
            self.sites.insert(at, site.clone());
        }
    }
}

/// The earlier of an off-hours mark and (time, id).
pub fn earliest(current: &mut Option<(i64, Box<str>)>, time: i64, id: &str) -> bool {
    if current
        .as_ref()
        .is_none_or(|(t, i)| (time, id) < (*t, &**i))
    {
        *current = Some((time, Box::from(id)));
        return true;
    }
    false
}
