//! One correlation window: a host and user's database client start (the
//! anchor) and the TimeWindow after it, with the dumps and egress that were
//! attributed to it.
//!
//! The attribution rules live here, in [`Window::accepts`]:
//!
//! - a **dump** belongs to the window when it was written by the window's
//!   user from the anchor on, or by the process tree of one of its client
//!   starts: the same pid from RedirectSlack before that start (shell
//!   redirection opens the file before execve), or a child (parent pid =
//!   the start's pid) from the start on; and never after the window's end;
//! - an **egress** belongs to it when it comes at or after the first dump
//!   and by the window's end, from the same user or process tree, or from a
//!   network sensor (no user) on the same host.
//!
//! Windows are compact (the memory target is a few hundred bytes each):
//! interned strings, the uid as 16 bytes, every time but the anchor as a
//! 32-bit offset from it (TimeWindow is at most [`MAX_WINDOW_MS`], and no
//! contributing event lies further than it from the anchor), factor
//! details boxed and only allocated when a factor applies.

use dumpwatch_sdk::collections::{Inline, reserve_one_inline};
use dumpwatch_sdk::evidence::EvidenceLedger;
use dumpwatch_sdk::intern::Sym;
use dumpwatch_sdk::pack::{Pack, PackError, Packer, Unpacker};
use serde::{Deserialize, Serialize};

use crate::observe::{Candidate, Leg, flag};

/// The longest TimeWindow: every time of a window is held as a 32-bit
/// offset in milliseconds from its anchor, and RedirectSlack is at most
/// TimeWindow, so every offset fits.
pub const MAX_WINDOW_MS: i64 = 24 * 24 * 60 * 60 * 1000;

/// Offset of [`Window::first_dump`] while the window has no dump.
const NO_DUMP: i32 = i32::MAX;

/// Bits of [`Window::flags`].
pub mod state {
    /// Legs: `1 << Leg` (exec 1, dump 2, egress 4).
    pub const LEGS: u16 = 0b111;
    /// A dump under HomeDirectories.
    pub const HOME_DUMP: u16 = 1 << 3;
    /// A client start with a web server ancestor.
    pub const ODD_PARENT: u16 = 1 << 4;
    /// The anchoring client start was outside AutomationWindows.
    pub const OUTSIDE_AUTOMATION: u16 = 1 << 5;
    /// Changed since its finding was last emitted.
    pub const CHANGED: u16 = 1 << 6;
}

/// Details of the aggravating factors, for reason lines; the earliest event
/// (by time, then event key) of each kind, so the text does not depend on
/// arrival order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Factors {
    pub odd_parent: Option<(i64, u64, Sym)>,
    pub home_dump: Option<(i64, u64, Box<str>)>,
}

/// One window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// The finding uid: from the analytic id, host, user and anchor id.
    #[serde(with = "dumpwatch_sdk::uid::raw")]
    pub uid: [u8; 16],
    /// Time of the anchoring client start.
    pub anchor: i64,
    /// Offsets from the anchor of [`Window::end`], [`Window::first_dump`]
    /// ([`NO_DUMP`] when none), [`Window::start_time`] and
    /// [`Window::end_time`].
    end: i32,
    first_dump: i32,
    start_time: i32,
    end_time: i32,
    /// Time and pid of each client start of the window that has a pid
    /// (usually one: held in place).
    pub execs: Inline<(i64, u32), 1>,
    /// Contributing events per leg (saturating).
    pub counts: [u16; 3],
    /// [`state`] bits.
    pub flags: u16,
    pub ledger: EvidenceLedger,
    pub factors: Option<Box<Factors>>,
}

impl Pack for Factors {
    fn pack(&self, out: &mut Packer<'_>) {
        out.put(&self.odd_parent);
        out.put(&self.home_dump);
    }
    fn unpack(input: &mut Unpacker<'_>) -> Result<Self, PackError> {
        Ok(Factors {
            odd_parent: input.get()?,
            home_dump: input.get()?,
        })
    }
}

/// A window as snapshots hold it (state format `an0676/5` on): written by
/// hand, since a full snapshot writes a million of them.
impl Pack for Window {
    fn pack(&self, out: &mut Packer<'_>) {
        out.raw16(&self.uid);
        out.i64(self.anchor);
        for offset in [self.end, self.first_dump, self.start_time, self.end_time] {
            out.i64(i64::from(offset));
        }
        out.put(&self.execs);
        for count in self.counts {
            out.u64(u64::from(count));
        }
        out.u64(u64::from(self.flags));
        out.put(&self.ledger);
        out.put(&self.factors);
    }
    fn unpack(input: &mut Unpacker<'_>) -> Result<Self, PackError> {
        Ok(Window {
            uid: input.raw16()?,
            anchor: input.i64()?,
            end: input.signed()?,
            first_dump: input.signed()?,
            start_time: input.signed()?,
            end_time: input.signed()?,
            execs: input.get()?,
            counts: [input.int()?, input.int()?, input.int()?],
            flags: input.int()?,
            ledger: input.get()?,
            factors: input.get()?,
        })
    }
}

impl Window {
    /// A window anchored at `exec` (which the caller then adds as a leg).
    pub fn new(uid: [u8; 16], exec: &Candidate, window_ms: i64) -> Window {
        let mut flags = 0;
        if exec.has(flag::OUTSIDE_AUTOMATION) {
            flags |= state::OUTSIDE_AUTOMATION;
        }
        Window {
            uid,
            anchor: exec.time,
            end: clamp_offset(window_ms),
            first_dump: NO_DUMP,
            start_time: 0,
            end_time: 0,
            execs: Inline::new(),
            counts: [0; 3],
            flags,
            ledger: EvidenceLedger::new(),
            factors: None,
        }
    }

    /// Last instant legs may have (anchor + TimeWindow).
    pub fn end(&self) -> i64 {
        self.at(self.end)
    }

    /// Time of the earliest attributed dump; `i64::MAX` when none.
    pub fn first_dump(&self) -> i64 {
        match self.first_dump {
            NO_DUMP => i64::MAX,
            offset => self.at(offset),
        }
    }

    /// Time of the earliest contributing event.
    pub fn start_time(&self) -> i64 {
        self.at(self.start_time)
    }

    /// Time of the latest contributing event.
    pub fn end_time(&self) -> i64 {
        self.at(self.end_time)
    }

    fn at(&self, offset: i32) -> i64 {
        self.anchor.saturating_add(i64::from(offset))
    }

    /// The offset of `time` from the anchor.
    fn offset(&self, time: i64) -> i32 {
        clamp_offset(time.saturating_sub(self.anchor))
    }

    pub fn has_leg(&self, leg: Leg) -> bool {
        self.flags & u16::from(leg.bit()) != 0
    }

    /// Whether this window produces a finding (client start and dump).
    pub fn is_finding(&self) -> bool {
        self.has_leg(Leg::Exec) && self.has_leg(Leg::Dump)
    }

    /// Whether a client start at `time` falls inside the window.
    pub fn covers(&self, time: i64) -> bool {
        (self.anchor..=self.end()).contains(&time)
    }

    /// Whether the dump or egress `candidate` belongs to this window of
    /// `user` (see the module docs for the rules).
    pub fn accepts(&self, user: &Sym, candidate: &Candidate, slack_ms: i64) -> bool {
        match candidate.leg {
            Leg::Exec => false,
            Leg::Dump => self.attributed(user, candidate, slack_ms),
            Leg::Egress => {
                candidate.time >= self.first_dump()
                    && candidate.time <= self.end()
                    && (candidate.has(flag::SENSOR) || self.attributed(user, candidate, slack_ms))
            }
        }
    }

    fn attributed(&self, user: &Sym, candidate: &Candidate, slack_ms: i64) -> bool {
        let time = candidate.time;
        if time > self.end() {
            return false;
        }
        if time >= self.anchor && candidate.user.as_ref() == Some(user) {
            return true;
        }
        self.execs.iter().any(|&(start, pid)| {
            (candidate.pid == Some(pid) && time >= start.saturating_sub(slack_ms))
                || (candidate.ppid == Some(pid) && time >= start)
        })
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
        let offset = self.offset(candidate.time);
        self.start_time = self.start_time.min(offset);
        self.end_time = self.end_time.max(offset);
        let order = (candidate.time, candidate.key);
        match leg {
            Leg::Exec => {
                if let Some(pid) = candidate.pid {
                    reserve_one_inline(&mut self.execs);
                    self.execs.push((candidate.time, pid));
                }
                if let (true, Some(parent)) = (candidate.has(flag::ODD_PARENT), &candidate.note) {
                    self.flags |= state::ODD_PARENT;
                    let factors = self.factors.get_or_insert_with(Box::default);
                    if factors
                        .odd_parent
                        .as_ref()
                        .is_none_or(|(t, k, _)| order < (*t, *k))
                    {
                        factors.odd_parent = Some((candidate.time, candidate.key, parent.clone()));
                    }
                }
            }
            Leg::Dump => {
                self.first_dump = self.first_dump.min(offset);
                if candidate.has(flag::HOME_DUMP) {
                    self.flags |= state::HOME_DUMP;
                    let path = match &candidate.evidence.detail {
                        dumpwatch_sdk::evidence::Detail::File { path, .. } => path.clone(),
                        _ => Box::from(""),
                    };
                    let factors = self.factors.get_or_insert_with(Box::default);
                    if factors
                        .home_dump
                        .as_ref()
                        .is_none_or(|(t, k, _)| order < (*t, *k))
                    {
                        factors.home_dump = Some((candidate.time, candidate.key, path));
                    }
                }
            }
            Leg::Egress => {}
        }
        true
    }

    /// The finding uid as hex.
    pub fn uid_hex(&self) -> String {
        dumpwatch_sdk::uid::to_hex(&self.uid)
    }
}

/// An offset in milliseconds as held. Every offset a window meets lies
/// within ±[`MAX_WINDOW_MS`] (see the module docs); the clamp only keeps a
/// broken invariant from wrapping, and stays below [`NO_DUMP`].
fn clamp_offset(ms: i64) -> i32 {
    let limit = i64::from(NO_DUMP) - 1;
    ms.clamp(-limit, limit) as i32
}
