//! One correlation window: a host and user's database tool start (the
//! anchor) and the TimeWindow after it, with the exports and cloud sync
//! traffic attributed to it.
//!
//! The attribution rules live here, in [`Window::accepts`]:
//!
//! - an **export** belongs to the window when the tool wrote it: the
//!   writing process is one of the window's tool starts, or a child of one
//!   (its parent), from that start on; or the same pid at most RedirectSlack
//!   before the start (`psql … > ~/Downloads/x.csv`: the shell's child opens
//!   the file, then execs psql — same pid, new pidversion); never after the
//!   window's end. Unlike AN0677 the user's other processes do not count:
//!   on a Mac the user's own apps write to Downloads and Documents all day.
//! - **egress** belongs to it when a network sensor saw the host talk to a
//!   cloud sync domain at or after the first export and by the window's end
//!   (sensors cannot tell users or processes apart: it applies to every
//!   window of the host).

use dumpwatch_sdk::collections::reserve_one;
use dumpwatch_sdk::evidence::EvidenceLedger;
use dumpwatch_sdk::intern::Sym;
use serde::{Deserialize, Serialize};

use crate::observe::{Candidate, Leg, ProcId, flag};

/// Bits of [`Window::flags`].
pub mod state {
    /// Legs: `1 << Leg` (exec 1, export 2, egress 4).
    pub const LEGS: u16 = 0b111;
    /// A tool start by a known user outside UserPrivilegeLevel.
    pub const LOW_PRIVILEGE: u16 = 1 << 3;
    /// A tool start by a user known only by uid.
    pub const UNKNOWN_ROLE: u16 = 1 << 4;
    /// Changed since its finding was last emitted.
    pub const CHANGED: u16 = 1 << 5;
}

/// A tool start of the window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Root {
    pub time: i64,
    pub process: ProcId,
}

/// The earliest event (time, key) behind a factor and what to say about
/// it, so reason lines do not depend on arrival order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Factors {
    /// The groups of a low-privilege user.
    pub groups: Option<(i64, u64, Sym)>,
    /// The cloud sync domain of the earliest egress.
    pub domain: Option<(i64, u64, Sym)>,
}

fn earliest(slot: &mut Option<(i64, u64, Sym)>, time: i64, key: u64, value: &Sym) {
    if slot.as_ref().is_none_or(|(t, k, _)| (time, key) < (*t, *k)) {
        *slot = Some((time, key, value.clone()));
    }
}

/// One window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// The finding uid: from the analytic id, host, user and anchor id.
    #[serde(with = "dumpwatch_sdk::uid::raw")]
    pub uid: [u8; 16],
    /// Time of the anchoring tool start.
    pub anchor: i64,
    /// Last instant legs may have (anchor + TimeWindow).
    pub end: i64,
    /// Time of the earliest export; `i64::MAX` when none.
    pub first_export: i64,
    /// Earliest and latest contributing event times.
    pub start_time: i64,
    pub end_time: i64,
    pub roots: Vec<Root>,
    /// Contributing events per leg (saturating).
    pub counts: [u16; 3],
    /// [`state`] bits.
    pub flags: u16,
    pub ledger: EvidenceLedger,
    pub factors: Option<Box<Factors>>,
}

impl Window {
    /// A window anchored at `exec` (which the caller then adds).
    pub fn new(uid: [u8; 16], exec: &Candidate, window_ms: i64) -> Window {
        Window {
            uid,
            anchor: exec.time,
            end: exec.time.saturating_add(window_ms),
            first_export: i64::MAX,
            start_time: exec.time,
            end_time: exec.time,
            roots: Vec::new(),
            counts: [0; 3],
            flags: 0,
            ledger: EvidenceLedger::new(),
            factors: None,
        }
    }

    pub fn has_leg(&self, leg: Leg) -> bool {
        self.flags & u16::from(leg.bit()) != 0
    }

    /// Whether this window produces a finding (tool start and export).
    pub fn is_finding(&self) -> bool {
        self.has_leg(Leg::Exec) && self.has_leg(Leg::Export)
    }

    /// Whether a tool start at `time` falls inside the window.
    pub fn covers(&self, time: i64) -> bool {
        (self.anchor..=self.end).contains(&time)
    }

    /// Whether the export or egress `candidate` belongs to this window
    /// (see the module docs for the rules).
    pub fn accepts(&self, candidate: &Candidate, slack_ms: i64) -> bool {
        let time = candidate.time;
        if time > self.end {
            return false;
        }
        match candidate.leg {
            Leg::Exec => false,
            Leg::Export => self.roots.iter().any(|root| {
                (time >= root.time
                    && (root.process.same(&candidate.process)
                        || root.process.same(&candidate.parent)))
                    || ((root.time.saturating_sub(slack_ms)..=root.time).contains(&time)
                        && root.process.same_pid(&candidate.process))
            }),
            Leg::Egress => time >= self.first_export,
        }
    }

    /// Add a contributing event; false when it already contributed.
    pub fn add(&mut self, candidate: &Candidate, max_evidence: usize) -> bool {
        let added = self.ledger.add(
            candidate.key,
            candidate.leg.index(),
            candidate.time,
            &candidate.evidence.id,
            max_evidence,
            || candidate.evidence.clone(),
        );
        if !added {
            return false;
        }
        let leg = candidate.leg;
        let count = &mut self.counts[usize::from(leg.index())];
        *count = count.saturating_add(1);
        self.flags |= u16::from(leg.bit()) | state::CHANGED;
        self.start_time = self.start_time.min(candidate.time);
        self.end_time = self.end_time.max(candidate.time);
        let (time, key) = (candidate.time, candidate.key);
        match leg {
            Leg::Exec => {
                reserve_one(&mut self.roots);
                self.roots.push(Root {
                    time,
                    process: candidate.process.clone(),
                });
                if candidate.has(flag::LOW_PRIVILEGE) {
                    self.flags |= state::LOW_PRIVILEGE;
                    if let Some(groups) = &candidate.note {
                        let factors = self.factors.get_or_insert_with(Box::default);
                        earliest(&mut factors.groups, time, key, groups);
                    }
                }
                if candidate.has(flag::UNKNOWN_ROLE) {
                    self.flags |= state::UNKNOWN_ROLE;
                }
            }
            Leg::Export => self.first_export = self.first_export.min(time),
            Leg::Egress => {
                if let Some(domain) = &candidate.note {
                    let factors = self.factors.get_or_insert_with(Box::default);
                    earliest(&mut factors.domain, time, key, domain);
                }
            }
        }
        true
    }

    /// The finding uid as hex.
    pub fn uid_hex(&self) -> String {
        dumpwatch_sdk::uid::to_hex(&self.uid)
    }
}
