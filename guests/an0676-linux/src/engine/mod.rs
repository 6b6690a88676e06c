//! The correlation engine: windows per host and user, the events waiting
//! for a window, and the event-time bookkeeping that makes the findings
//! independent of arrival order.
//!
//! How order independence is reached:
//!
//! - A client start does not open a window when it arrives but when the
//!   watermark reaches its time ([`Engine::advance`]): only then can no
//!   earlier start of the same host and user still arrive. Waiting starts
//!   are *pending*; when they become final they are placed greedily in
//!   (time, id) order: a start inside an existing window of its host and
//!   user joins it, any other opens a window anchored at itself. A start
//!   that arrives inside an existing window joins it at once (the greedy
//!   rule would put it there anyway).
//! - Dumps and egress are matched against every window of their host when
//!   they arrive, and are also kept pending as long as a window that is not
//!   final yet could still claim them (until the watermark passes their
//!   time plus RedirectSlack). A window scans the pending events when it
//!   opens, when a start joins it (a new pid for process-tree matching) and
//!   when its first dump moves earlier (earlier egress becomes eligible).
//! - Evidence keeps the earliest events per leg, the counts count distinct
//!   events, factor details keep the earliest event: all functions of the
//!   set of events, not of their order.
//! - A window's finding is emitted whenever it changed, from `process` or
//!   `advance`; windows exist only once final, so the first emission always
//!   has its final anchor and uid.
//!
//! Housekeeping is driven by an agenda ordered by the next time each host
//! needs attention (a pending start becoming final, a pending event expiring,
//! a retained window expiring), so `advance` costs nothing for hosts with
//! nothing due; and a host that is due walks its windows only when its
//! lower bound of their ends says one may have expired.

mod housekeeping;
pub mod persist;
mod place;

use std::collections::BTreeSet;

use dumpwatch_sdk::collections::{Map, new_map, reserve_one};
use dumpwatch_sdk::intern::{self, Sym};
use dumpwatch_sdk::state::DirtyKeys;
use dumpwatch_sdk::types::{Event, Finding, Inspection, Window as WindowRecord};

use crate::config::Config;
use crate::observe::{Candidate, LEG_NAMES, Leg, observe};
use crate::report;
use crate::window::{Window, state};

/// The windows of one user on one host, sorted by anchor.
#[derive(Debug, Clone)]
struct UserWindows {
    user: Sym,
    windows: Vec<Window>,
}

/// Everything about one host.
#[derive(Debug, Clone)]
struct HostState {
    /// Sorted by user.
    users: Vec<UserWindows>,
    /// Client starts not final yet, and dumps and egress that a window not
    /// final yet could still claim. Unordered.
    pending: Vec<Candidate>,
    /// The time under which the host is on the agenda; `i64::MAX` when it
    /// is not.
    due: i64,
    /// No window of this host ends before this: lowered as windows open,
    /// made exact again when housekeeping visits them all. While it is at
    /// or past the watermark every window of the host is open, and
    /// counting them reads only the user list (a checkpoint counts them).
    earliest_end: i64,
}

impl HostState {
    fn new() -> HostState {
        HostState {
            users: Vec::new(),
            pending: Vec::new(),
            due: i64::MAX,
            earliest_end: i64::MAX,
        }
    }

    fn is_empty(&self) -> bool {
        self.users.is_empty() && self.pending.is_empty()
    }

    /// Index of `user`'s windows, inserted empty when absent.
    fn user_slot(&mut self, user: &Sym) -> usize {
        match self.users.binary_search_by(|entry| entry.user.cmp(user)) {
            Ok(index) => index,
            Err(index) => {
                reserve_one(&mut self.users);
                self.users.insert(
                    index,
                    UserWindows {
                        user: user.clone(),
                        windows: Vec::new(),
                    },
                );
                index
            }
        }
    }
}

/// AN0676's state and logic, independent of the component glue.
pub struct Engine {
    pub(crate) config: Config,
    hosts: Map<Sym, HostState>,
    /// (due time, host) for every host with something due.
    agenda: BTreeSet<(i64, Sym)>,
    watermark: i64,
    /// Windows held, open or retained.
    window_count: usize,
    /// Candidates held pending.
    pending_count: usize,
    /// (host, user) whose windows changed since the last snapshot.
    dirty_windows: DirtyKeys<(Sym, Sym)>,
    /// Hosts whose pending events changed since the last snapshot.
    dirty_pending: DirtyKeys<Sym>,
    /// (host, user) that may hold windows with a changed finding.
    changed: Vec<(Sym, Sym)>,
    /// Bytes per window of the last full snapshot or restore: what the next
    /// full snapshot reserves ([`FIRST_ENTRY_BYTES`] before either).
    entry_bytes: usize,
    /// A restore in parts in progress.
    restoring: Option<Box<persist::Restoring>>,
}

/// About what a window with its client-start evidence takes in a snapshot,
/// for the first full one.
const FIRST_ENTRY_BYTES: usize = 192;

impl Default for Engine {
    fn default() -> Engine {
        Engine::new(Config::default())
    }
}

impl Engine {
    pub fn new(config: Config) -> Engine {
        Engine {
            config,
            hosts: new_map(),
            agenda: BTreeSet::new(),
            watermark: i64::MIN,
            window_count: 0,
            pending_count: 0,
            dirty_windows: DirtyKeys::new(),
            dirty_pending: DirtyKeys::new(),
            changed: Vec::new(),
            entry_bytes: FIRST_ENTRY_BYTES,
            restoring: None,
        }
    }

    /// Apply a new configuration to the existing state. Due times depend on
    /// RedirectSlack and LateRetention, so the agenda is rebuilt.
    pub fn reconfigure(&mut self, config: Config) {
        self.config = config;
        self.rebuild_agenda();
    }

    pub fn watermark(&self) -> i64 {
        self.watermark
    }

    /// Windows held (open or retained).
    pub fn window_count(&self) -> usize {
        self.window_count
    }

    /// Events held pending.
    pub fn pending_count(&self) -> usize {
        self.pending_count
    }

    /// Take a batch of events; return findings created or updated.
    pub fn process(&mut self, events: &[Event]) -> Vec<Finding> {
        for event in events {
            if let Some((host, candidate)) = observe(event, &self.config) {
                match candidate.leg {
                    Leg::Exec => self.on_exec(host, candidate),
                    Leg::Dump | Leg::Egress => self.on_leg(host, candidate),
                }
            }
        }
        self.enforce_caps();
        self.emit()
    }

    /// Event time has reached `watermark`: place the starts that became
    /// final, expire what can no longer matter, return changed findings.
    pub fn advance(&mut self, watermark: i64) -> Vec<Finding> {
        if watermark > self.watermark {
            self.watermark = watermark;
            let mut due_hosts = Vec::new();
            while let Some((due, _)) = self.agenda.first() {
                if *due > watermark {
                    break;
                }
                if let Some((_, host)) = self.agenda.pop_first() {
                    due_hosts.push(host);
                }
            }
            for host in &due_hosts {
                self.finalize_starts(host);
            }
            // Emit before housekeeping can drop a window placed just now.
            let mut findings = self.emit();
            for host in &due_hosts {
                self.housekeep(host);
            }
            self.enforce_caps();
            intern::maybe_sweep();
            findings.extend(self.emit());
            return findings;
        }
        self.emit()
    }

    /// Findings of windows that changed since their last emission, in
    /// (start time, uid) order.
    fn emit(&mut self) -> Vec<Finding> {
        let mut changed = std::mem::take(&mut self.changed);
        changed.sort_unstable();
        changed.dedup();
        let mut findings = Vec::new();
        for (host, user) in changed {
            let Some(host_state) = self.hosts.get_mut(&host) else {
                continue;
            };
            let Ok(slot) = host_state
                .users
                .binary_search_by(|entry| entry.user.cmp(&user))
            else {
                continue;
            };
            for window in &mut host_state.users[slot].windows {
                if window.flags & state::CHANGED == 0 {
                    continue;
                }
                window.flags &= !state::CHANGED;
                if window.is_finding() {
                    findings.push(report::finding(&host, &user, window, &self.config));
                }
            }
        }
        findings.sort_by(|a, b| (a.start_time, &a.uid).cmp(&(b.start_time, &b.uid)));
        findings
    }

    /// Open windows (not past their end), oldest first, at most `limit`.
    pub fn inspect(&self, limit: u32) -> Inspection {
        if limit == 0 {
            // The host asks for the count at every checkpoint: no list to
            // build and sort (a million windows took 0.14 s).
            let open_windows = self
                .hosts
                .values()
                .map(|h| {
                    if h.earliest_end >= self.watermark {
                        h.users.iter().map(|e| e.windows.len()).sum()
                    } else {
                        h.users
                            .iter()
                            .flat_map(|e| e.windows.iter())
                            .filter(|w| w.end() >= self.watermark)
                            .count()
                    }
                })
                .sum::<usize>() as u64;
            return Inspection {
                open_windows,
                windows: Vec::new(),
            };
        }
        let mut open: Vec<(i64, &Sym, &Sym, &Window)> = Vec::new();
        for (host, host_state) in &self.hosts {
            for entry in &host_state.users {
                for window in &entry.windows {
                    if window.end() >= self.watermark {
                        open.push((window.anchor, host, &entry.user, window));
                    }
                }
            }
        }
        open.sort_unstable_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
        let open_windows = open.len() as u64;
        let windows = open
            .into_iter()
            .take(limit as usize)
            .map(|(_, host, user, window)| WindowRecord {
                entity: format!("{host}/{user}"),
                start: window.anchor,
                end: window.end(),
                legs: [Leg::Exec, Leg::Dump, Leg::Egress]
                    .into_iter()
                    .filter(|leg| window.has_leg(*leg))
                    .map(|leg| LEG_NAMES[usize::from(leg.index())].to_string())
                    .collect(),
                events: window.ledger.count(),
                finding: window.is_finding().then(|| window.uid_hex()),
            })
            .collect();
        Inspection {
            open_windows,
            windows,
        }
    }

    /// Remember that `host`/`user`'s windows changed: for the next
    /// snapshot and the next emission.
    fn touch(&mut self, host: &Sym, user: &Sym) {
        self.dirty_windows.mark((host.clone(), user.clone()));
        self.changed.push((host.clone(), user.clone()));
    }

    /// Put `host` on the agenda at `at` unless it is due earlier already.
    fn schedule(
        agenda: &mut BTreeSet<(i64, Sym)>,
        host: &Sym,
        host_state: &mut HostState,
        at: i64,
    ) {
        if at < host_state.due {
            if host_state.due != i64::MAX {
                agenda.remove(&(host_state.due, host.clone()));
            }
            host_state.due = at;
            agenda.insert((at, host.clone()));
        }
    }
}
