//! The names of cloud storage destinations, per host: which address a
//! process (Sysmon 22 DNS query, by its ProcessGuid) or the host (a
//! sensor's DNS answer or TLS server name) saw for a cloud storage name,
//! and when.
//!
//! A Sysmon network connection names its destination by a reverse lookup at
//! best (`DestinationHostname`, often `-`), and a sensor flow not at all, so
//! the name the process asked for comes from these answers. The rule that
//! names a connection to address `a` at time `t` is a function of the set of
//! answers, never of their arrival order:
//!
//! - answers for `a` from `t - NameRetention` to `t + 2 s` (a query logged
//!   just after the connection still counts);
//! - the same process's answers before the host's, then the latest, then
//!   the greatest name.
//!
//! A connection keeps the answer that names it; a new answer replaces it
//! only when it ranks higher, so the result is the best of every answer
//! seen, even after old answers have been forgotten.
//!
//! Only cloud storage names are delivered (see the subscriptions), so the
//! book stays small; it is still capped per host (MaxNamesPerHost).

use std::collections::BTreeMap;
use std::net::IpAddr;

use dumpwatch_sdk::intern::Sym;
use serde::{Deserialize, Serialize};

use crate::observe::Answers;

/// How long after a connection an answer still names it.
pub const NAME_AFTER_MS: i64 = 2_000;

/// One answer: at `time`, `name` resolved to (or was served from) the
/// address it is filed under, for process `guid` or the whole host.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Answer {
    pub time: i64,
    pub name: Sym,
    pub guid: Option<Sym>,
}

impl Answer {
    /// Whether this answer may name a connection at `time`.
    pub fn names_at(&self, time: i64, retention_ms: i64) -> bool {
        (time.saturating_sub(retention_ms)..=time.saturating_add(NAME_AFTER_MS))
            .contains(&self.time)
    }

    /// How good a name it is for a connection by process `guid`: the same
    /// process's answers first, then the latest, then the greatest name.
    pub fn rank(&self, guid: Option<&Sym>) -> (bool, i64, &Sym) {
        (
            guid.is_some() && self.guid.as_ref() == guid,
            self.time,
            &self.name,
        )
    }
}

/// The answers of one host, by address, each list sorted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NameBook {
    by_ip: BTreeMap<IpAddr, Vec<Answer>>,
    len: usize,
}

impl NameBook {
    /// Record `answers`; returns the addresses that got a new answer (a
    /// duplicated event adds nothing).
    pub fn add(&mut self, answers: &Answers) -> Vec<IpAddr> {
        let mut added = Vec::new();
        for ip in &answers.ips {
            let answer = Answer {
                time: answers.time,
                name: answers.name.clone(),
                guid: answers.guid.clone(),
            };
            let list = self.by_ip.entry(*ip).or_default();
            if let Err(at) = list.binary_search(&answer) {
                list.insert(at, answer);
                self.len += 1;
                added.push(*ip);
            }
        }
        added
    }

    /// The answer that names a connection to `ip` at `time` by process
    /// `guid` (see the module docs for the rule).
    pub fn resolve(
        &self,
        ip: IpAddr,
        time: i64,
        guid: Option<&Sym>,
        retention_ms: i64,
    ) -> Option<Answer> {
        let list = self.by_ip.get(&ip)?;
        list.iter()
            .filter(|answer| answer.names_at(time, retention_ms))
            .max_by(|a, b| a.rank(guid).cmp(&b.rank(guid)))
            .cloned()
    }

    /// Forget answers older than `before`; returns how many.
    pub fn expire(&mut self, before: i64) -> usize {
        let mut dropped = 0;
        self.by_ip.retain(|_, list| {
            let keep_from = list.partition_point(|answer| answer.time < before);
            dropped += keep_from;
            list.drain(..keep_from);
            !list.is_empty()
        });
        self.len -= dropped;
        dropped
    }

    /// Forget the oldest answers beyond `max`; returns how many.
    pub fn cap(&mut self, max: usize) -> usize {
        if self.len <= max {
            return 0;
        }
        let mut times: Vec<i64> = self
            .by_ip
            .values()
            .flat_map(|list| list.iter().map(|answer| answer.time))
            .collect();
        let excess = self.len - max;
        let (_, &mut cutoff, _) = times.select_nth_unstable(excess - 1);
        // Strictly older than the cutoff go; at the cutoff as many as still
        // needed, in address order.
        let mut at_cutoff = excess - times.iter().filter(|&&time| time < cutoff).count();
        let mut dropped = 0;
        self.by_ip.retain(|_, list| {
            list.retain(|answer| {
                let drop = answer.time < cutoff || (answer.time == cutoff && at_cutoff > 0);
                if drop && answer.time == cutoff {
                    at_cutoff -= 1;
                }
                dropped += usize::from(drop);
                !drop
            });
            !list.is_empty()
        });
        self.len -= dropped;
        dropped
    }

    /// Time of the oldest answer.
    pub fn oldest(&self) -> Option<i64> {
        self.by_ip
            .values()
            .filter_map(|list| list.first().map(|answer| answer.time))
            .min()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn answers(time: i64, name: &str, guid: Option<&str>, ips: &[&str]) -> Answers {
        Answers {
            time,
            guid: guid.map(Sym::new),
            name: Sym::new(name),
            ips: ips.iter().map(|text| ip(text)).collect(),
        }
    }

    #[test]
    fn the_own_process_then_the_latest_answer_names_a_connection() {
        let mut book = NameBook::default();
        book.add(&answers(1_000, "www.dropbox.com", None, &["203.0.113.9"]));
        book.add(&answers(
            5_000,
            "dl.dropboxusercontent.com",
            None,
            &["203.0.113.9"],
        ));
        book.add(&answers(
            2_000,
            "content.dropboxapi.com",
            Some("{a}"),
            &["203.0.113.9"],
        ));
        let a = Sym::new("{a}");
        let resolve = |guid| book.resolve(ip("203.0.113.9"), 10_000, guid, 60_000);
        let name = |answer: Option<Answer>| answer.map(|answer| answer.name.to_string());
        assert_eq!(
            name(resolve(Some(&a))).as_deref(),
            Some("content.dropboxapi.com")
        );
        assert_eq!(
            name(resolve(None)).as_deref(),
            Some("dl.dropboxusercontent.com")
        );
        // Outside the retention, or more than 2 s after: nothing.
        assert_eq!(book.resolve(ip("203.0.113.9"), 100_000, None, 60_000), None);
        assert_eq!(book.resolve(ip("203.0.113.9"), -1_001, None, 60_000), None);
        assert_eq!(book.resolve(ip("198.51.100.1"), 10_000, None, 60_000), None);
    }

    #[test]
    fn duplicates_add_nothing_and_expiry_and_caps_forget_the_oldest() {
        let mut book = NameBook::default();
        let first = answers(1_000, "mega.nz", None, &["203.0.113.1", "203.0.113.2"]);
        assert_eq!(book.add(&first).len(), 2);
        assert!(book.add(&first).is_empty());
        book.add(&answers(3_000, "mega.nz", None, &["203.0.113.3"]));
        book.add(&answers(4_000, "mega.nz", None, &["203.0.113.4"]));
        assert_eq!((book.len(), book.oldest()), (4, Some(1_000)));
        assert_eq!(book.cap(3), 1);
        assert_eq!(book.len(), 3);
        assert_eq!(book.expire(3_500), 2);
        assert_eq!((book.len(), book.oldest()), (1, Some(4_000)));
        assert_eq!(book.expire(10_000), 1);
        assert!(book.is_empty() && book.oldest().is_none());
    }
}
