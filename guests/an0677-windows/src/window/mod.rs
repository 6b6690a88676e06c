//! One correlation window: a host and user's database tool start (the
//! anchor) and the TimeWindow after it, with the tool's process tree and
//! the exports, archives and egress attributed to it.
//!
//! The attribution rules live here:
//!
//! - the **process tree** is the window's tool starts (roots) and the
//!   processes they started (members: a process start whose parent is a
//!   root), each from its own start on;
//! - an **export** belongs to the window when it was created by the tree,
//!   by the window's user from the anchor on, or by a root's parent at most
//!   RedirectSlack before that root started (`sqlcmd … > out.csv`: cmd.exe
//!   creates the file, then starts sqlcmd); never after the window's end;
//! - an **archive** is an archive file created by the tree or user at or
//!   after the first export (other than that export itself), or an archiver
//!   start with a password switch by the tree (or as a child of a root) or
//!   the user at or after the first export: that one makes the archive
//!   *encrypted*;
//! - **egress** items are the tree's or user's connections and the host's
//!   sensor flows at or after the first export and by the window's end
//!   ([`egress`] decides whether they make the leg).

pub mod egress;

use dumpwatch_sdk::collections::reserve_one;
use dumpwatch_sdk::evidence::{Detail, EvidenceLedger, StoredEvidence};
use dumpwatch_sdk::intern::Sym;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::names::NameBook;
use crate::observe::{Candidate, Kind, Leg, ProcId, flag};
use egress::Egress;

/// Bits of [`Window::flags`].
pub mod state {
    /// Legs held in the ledgers: `1 << Leg` for exec, export and archive
    /// (egress is decided by [`super::egress::Egress::met`]).
    pub const LEGS: u16 = 0b0111;
    /// An archiver with a password switch was attributed.
    pub const ENCRYPTED: u16 = 1 << 4;
    /// A tool start from outside KnownDBToolPaths.
    pub const OUTSIDE_KNOWN_PATH: u16 = 1 << 5;
    /// A tool start under an odd parent.
    pub const ODD_PARENT: u16 = 1 << 6;
    /// A tool start under a web server.
    pub const WEB_PARENT: u16 = 1 << 7;
    /// Changed since its finding was last emitted.
    pub const CHANGED: u16 = 1 << 8;
}

/// A tool start of the window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Root {
    pub time: i64,
    pub process: ProcId,
    pub parent: ProcId,
}

/// A process a root started.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub key: u64,
    pub time: i64,
    pub process: ProcId,
}

/// The earliest event (time, key) behind each factor and what to say about
/// it, so reason lines do not depend on arrival order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Factors {
    /// A tool outside KnownDBToolPaths: its path.
    pub outside_path: Option<(i64, u64, Box<str>)>,
    /// An odd parent's name.
    pub odd_parent: Option<(i64, u64, Sym)>,
    /// A web server parent's name.
    pub web_parent: Option<(i64, u64, Sym)>,
    /// An archiver's password switch.
    pub password: Option<(i64, u64, Sym)>,
}

fn earliest<T: Clone>(slot: &mut Option<(i64, u64, T)>, time: i64, key: u64, value: &T) {
    if slot.as_ref().is_none_or(|(t, k, _)| (time, key) < (*t, *k)) {
        *slot = Some((time, key, value.clone()));
    }
}

/// What offering a candidate to a window did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The window changed.
    pub changed: bool,
    /// Pending events should be offered again: the tree grew or the first
    /// export moved earlier.
    pub rescan: bool,
}

impl Outcome {
    pub fn merge(&mut self, other: Outcome) {
        self.changed |= other.changed;
        self.rescan |= other.rescan;
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
    /// (time, key) of the earliest export.
    pub first_export: Option<(i64, u64)>,
    /// Earliest and latest times of tool starts, exports and archives.
    pub start_time: i64,
    pub end_time: i64,
    pub roots: Vec<Root>,
    pub members: Vec<Member>,
    /// Contributing events of exec, export and archive (saturating).
    pub counts: [u16; 3],
    /// [`state`] bits.
    pub flags: u16,
    /// Tool starts and exports.
    pub ledger: EvidenceLedger,
    /// Archive events (an archive file may also be an export: counted once).
    pub archive: EvidenceLedger,
    /// Archive events that are not also exports.
    pub archive_only: u16,
    pub egress: Egress,
    pub factors: Option<Box<Factors>>,
}

impl Window {
    /// A window anchored at `exec` (which the caller then adds).
    pub fn new(uid: [u8; 16], exec: &Candidate, window_ms: i64) -> Window {
        Window {
            uid,
            anchor: exec.time,
            end: exec.time.saturating_add(window_ms),
            first_export: None,
            start_time: exec.time,
            end_time: exec.time,
            roots: Vec::new(),
            members: Vec::new(),
            counts: [0; 3],
            flags: 0,
            ledger: EvidenceLedger::new(),
            archive: EvidenceLedger::new(),
            archive_only: 0,
            egress: Egress::default(),
            factors: None,
        }
    }

    pub fn has_leg(&self, leg: Leg) -> bool {
        self.flags & leg.bit() & state::LEGS != 0
    }

    /// Whether this window produces a finding (tool start and export).
    pub fn is_finding(&self) -> bool {
        self.has_leg(Leg::Exec) && self.has_leg(Leg::Export)
    }

    /// Whether a tool start at `time` falls inside the window.
    pub fn covers(&self, time: i64) -> bool {
        (self.anchor..=self.end).contains(&time)
    }

    fn in_tree(&self, process: &ProcId, time: i64) -> bool {
        self.roots
            .iter()
            .any(|root| time >= root.time && root.process.same(process))
            || self
                .members
                .iter()
                .any(|member| time >= member.time && member.process.same(process))
    }

    fn by_user(&self, user: &Sym, candidate: &Candidate) -> bool {
        candidate.time >= self.anchor && candidate.user.as_ref() == Some(user)
    }

    fn by_parent_redirect(&self, candidate: &Candidate, slack_ms: i64) -> bool {
        self.roots.iter().any(|root| {
            (root.time.saturating_sub(slack_ms)..=root.time).contains(&candidate.time)
                && root.parent.same(&candidate.process)
        })
    }

    fn after_first_export(&self, candidate: &Candidate) -> bool {
        self.first_export
            .is_some_and(|(time, key)| candidate.time >= time && candidate.key != key)
            && candidate.time <= self.end
    }

    /// Add a tool start (the anchor or one joining); false when it already
    /// contributed.
    pub fn add_exec(&mut self, exec: &Candidate, config: &Config) -> bool {
        if !self.add_to_ledger(exec, Leg::Exec, config) {
            return false;
        }
        reserve_one(&mut self.roots);
        self.roots.push(Root {
            time: exec.time,
            process: exec.process.clone(),
            parent: exec.parent.clone(),
        });
        let (time, key) = (exec.time, exec.key);
        if exec.has(flag::OUTSIDE_KNOWN_PATH) {
            self.flags |= state::OUTSIDE_KNOWN_PATH;
            let path: Box<str> = match exec.evidence.as_deref().map(|e| &e.detail) {
                Some(Detail::Process {
                    path: Some(path), ..
                }) => Box::from(path.as_str()),
                _ => Box::from(""),
            };
            earliest(&mut self.factors_mut().outside_path, time, key, &path);
        }
        if let Some(parent) = &exec.note {
            if exec.has(flag::WEB_PARENT) {
                self.flags |= state::WEB_PARENT;
                earliest(&mut self.factors_mut().web_parent, time, key, parent);
            } else if exec.has(flag::ODD_PARENT) {
                self.flags |= state::ODD_PARENT;
                earliest(&mut self.factors_mut().odd_parent, time, key, parent);
            }
        }
        true
    }

    /// Offer a non-anchor candidate for the tree, export and archive roles
    /// (in that order); see the module docs for the rules.
    pub fn offer(
        &mut self,
        user: &Sym,
        candidate: &Candidate,
        config: &Config,
        book: &NameBook,
    ) -> Outcome {
        let mut outcome = Outcome::default();
        match candidate.kind {
            Kind::Exec => {}
            Kind::Process => {
                outcome.merge(self.offer_member(candidate));
                outcome.merge(self.offer_archive(user, candidate, config));
            }
            Kind::File => {
                outcome.merge(self.offer_export(user, candidate, config));
                outcome.merge(self.offer_archive(user, candidate, config));
            }
            Kind::Connection | Kind::Flow => {
                outcome.merge(self.offer_egress(user, candidate, config, book));
            }
        }
        outcome
    }

    /// A child of a root joins the tree.
    pub fn offer_member(&mut self, candidate: &Candidate) -> Outcome {
        if candidate.kind != Kind::Process
            || !candidate.has(flag::CHILD)
            || candidate.time > self.end
            || self
                .members
                .iter()
                .any(|member| member.key == candidate.key)
            || !self
                .roots
                .iter()
                .any(|root| candidate.time >= root.time && root.process.same(&candidate.parent))
        {
            return Outcome::default();
        }
        reserve_one(&mut self.members);
        self.members.push(Member {
            key: candidate.key,
            time: candidate.time,
            process: candidate.process.clone(),
        });
        self.flags |= state::CHANGED;
        Outcome {
            changed: true,
            rescan: true,
        }
    }

    /// An export file.
    pub fn offer_export(&mut self, user: &Sym, candidate: &Candidate, config: &Config) -> Outcome {
        if candidate.kind != Kind::File
            || !candidate.has(flag::EXPORT)
            || candidate.time > self.end
            || !(self.in_tree(&candidate.process, candidate.time)
                || self.by_user(user, candidate)
                || self.by_parent_redirect(candidate, config.slack_ms))
        {
            return Outcome::default();
        }
        if !self.add_to_ledger(candidate, Leg::Export, config) {
            return Outcome::default();
        }
        let order = (candidate.time, candidate.key);
        let moved = self.first_export.is_none_or(|first| order < first);
        if moved {
            self.first_export = Some(order);
        }
        Outcome {
            changed: true,
            rescan: moved,
        }
    }

    /// An archive file, or an archiver start with a password switch.
    pub fn offer_archive(&mut self, user: &Sym, candidate: &Candidate, config: &Config) -> Outcome {
        let eligible = match candidate.kind {
            Kind::File => {
                candidate.has(flag::ARCHIVE)
                    && (self.in_tree(&candidate.process, candidate.time)
                        || self.by_user(user, candidate))
            }
            Kind::Process => {
                candidate.has(flag::PASSWORD)
                    && (self.in_tree(&candidate.process, candidate.time)
                        || self.in_tree(&candidate.parent, candidate.time)
                        || self.by_user(user, candidate))
            }
            _ => false,
        };
        if !eligible || !self.after_first_export(candidate) {
            return Outcome::default();
        }
        let Some(evidence) = &candidate.evidence else {
            return Outcome::default();
        };
        let also_export = self.ledger.contains(candidate.key);
        let added = self.archive.add(
            candidate.key,
            Leg::Archive.index(),
            candidate.time,
            &evidence.id,
            config.max_evidence,
            || StoredEvidence {
                leg: Leg::Archive.index(),
                ..(**evidence).clone()
            },
        );
        if !added {
            return Outcome::default();
        }
        self.count(Leg::Archive, candidate.time);
        if !also_export {
            self.archive_only = self.archive_only.saturating_add(1);
        }
        if candidate.has(flag::PASSWORD) {
            self.flags |= state::ENCRYPTED;
            if let Some(switch) = &candidate.note {
                earliest(
                    &mut self.factors_mut().password,
                    candidate.time,
                    candidate.key,
                    switch,
                );
            }
        }
        Outcome {
            changed: true,
            rescan: false,
        }
    }

    /// A connection (by the tree or user) or a sensor flow (the host's).
    pub fn offer_egress(
        &mut self,
        user: &Sym,
        candidate: &Candidate,
        config: &Config,
        book: &NameBook,
    ) -> Outcome {
        let attributed = match candidate.kind {
            Kind::Flow => true,
            Kind::Connection => {
                self.in_tree(&candidate.process, candidate.time) || self.by_user(user, candidate)
            }
            _ => false,
        };
        if !attributed || !self.after_first_export(candidate) {
            return Outcome::default();
        }
        if !self.egress.add(candidate, book, config) {
            return Outcome::default();
        }
        self.flags |= state::CHANGED;
        Outcome {
            changed: true,
            rescan: false,
        }
    }

    fn add_to_ledger(&mut self, candidate: &Candidate, leg: Leg, config: &Config) -> bool {
        let Some(evidence) = &candidate.evidence else {
            return false;
        };
        let added = self.ledger.add(
            candidate.key,
            leg.index(),
            candidate.time,
            &evidence.id,
            config.max_evidence,
            || (**evidence).clone(),
        );
        if added {
            self.count(leg, candidate.time);
        }
        added
    }

    fn count(&mut self, leg: Leg, time: i64) {
        let count = &mut self.counts[usize::from(leg.index())];
        *count = count.saturating_add(1);
        self.flags |= leg.bit() | state::CHANGED;
        self.start_time = self.start_time.min(time);
        self.end_time = self.end_time.max(time);
    }

    fn factors_mut(&mut self) -> &mut Factors {
        self.factors.get_or_insert_with(Box::default)
    }

    /// Contributing events: tool starts, exports, archives, and the egress
    /// items once they make the leg.
    pub fn event_count(&self, egress_met: bool) -> u32 {
        let mut count = self
            .ledger
            .count()
            .saturating_add(u32::from(self.archive_only));
        if egress_met {
            count = count.saturating_add(self.egress.ledger.count());
        }
        count
    }

    /// The finding uid as hex.
    pub fn uid_hex(&self) -> String {
        dumpwatch_sdk::uid::to_hex(&self.uid)
    }
}
