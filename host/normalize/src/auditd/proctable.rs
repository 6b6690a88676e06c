//! A bounded table of the processes seen per host, for ancestry.
//!
//! auditd records give a process's pid and ppid but never its parent's
//! name. Every exec (and, when no exec was seen, any syscall) teaches the
//! table a pid's name, path, command line and parent, so later events can
//! name the parent and the chain above it: AN0676 raises severity when a
//! DB client descends from a web server, and ties a shell-redirected dump
//! (`pg_dump db > x.sql`: the shell child opens x.sql, then execs pg_dump
//! under the same pid) to its exec by pid.
//!
//! Memory is bounded: each host keeps at most [`MAX_PER_HOST`] pids
//! (oldest learned first out), and at most [`MAX_HOSTS`] hosts are
//! tracked (the least recently used host is dropped).

use std::collections::{HashMap, VecDeque};

pub(super) const MAX_PER_HOST: usize = 32 * 1024;
pub(super) const MAX_HOSTS: usize = 4096;
/// Longest ancestry chain reported (and loop guard).
pub(super) const MAX_DEPTH: usize = 16;

/// What is known of a pid.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct ProcInfo {
    pub name: Option<String>,
    pub path: Option<String>,
    pub command_line: Option<String>,
    pub ppid: Option<u32>,
}

#[derive(Default)]
struct HostTable {
    procs: HashMap<u32, (u64, ProcInfo)>,
    order: VecDeque<(u32, u64)>,
    last_used: u64,
}

/// Per-host process tables.
#[derive(Default)]
pub(super) struct ProcTable {
    hosts: HashMap<String, HostTable>,
    stamp: u64,
}

impl ProcTable {
    /// Record what an exec (or another syscall, with `overwrite` false)
    /// says about `pid`.
    pub fn learn(&mut self, host: &str, pid: u32, info: ProcInfo, overwrite: bool) {
        self.stamp += 1;
        let stamp = self.stamp;
        if !self.hosts.contains_key(host) {
            if self.hosts.len() >= MAX_HOSTS
                && let Some(oldest) = self
                    .hosts
                    .iter()
                    .min_by_key(|(_, t)| t.last_used)
                    .map(|(h, _)| h.clone())
            {
                self.hosts.remove(&oldest);
            }
            self.hosts.insert(host.to_owned(), HostTable::default());
        }
        let Some(t) = self.hosts.get_mut(host) else {
            return;
        };
        t.last_used = stamp;
        if !overwrite && t.procs.contains_key(&pid) {
            return;
        }
        t.procs.insert(pid, (stamp, info));
        t.order.push_back((pid, stamp));
        while t.procs.len() > MAX_PER_HOST || t.order.len() > 2 * MAX_PER_HOST {
            let Some((old_pid, old_stamp)) = t.order.pop_front() else {
                break;
            };
            // Only drop the entry if it was not learned again since.
            if t.procs.get(&old_pid).is_some_and(|(s, _)| *s == old_stamp) {
                t.procs.remove(&old_pid);
            }
        }
    }

    pub fn get(&self, host: &str, pid: u32) -> Option<&ProcInfo> {
        self.hosts.get(host)?.procs.get(&pid).map(|(_, p)| p)
    }

    /// Names of `pid` and its ancestors, nearest first, as far as known.
    pub fn chain(&self, host: &str, pid: u32) -> Vec<String> {
        let mut out = Vec::new();
        let Some(t) = self.hosts.get(host) else {
            return out;
        };
        let mut cur = Some(pid);
        let mut seen = [0u32; MAX_DEPTH];
        while let Some(p) = cur {
            if out.len() >= MAX_DEPTH || seen[..out.len()].contains(&p) {
                break;
            }
            let Some((_, info)) = t.procs.get(&p) else {
                break;
            };
            seen[out.len()] = p;
            out.push(info.name.clone().unwrap_or_else(|| format!("pid {p}")));
            cur = info.ppid.filter(|&pp| pp != 0 && pp != p);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, ppid: u32) -> ProcInfo {
        ProcInfo {
            name: Some(name.into()),
            ppid: Some(ppid),
            ..Default::default()
        }
    }

    #[test]
    fn chains_follow_parents_and_stop_on_loops() {
        let mut t = ProcTable::default();
        t.learn("h", 1, info("systemd", 0), true);
        t.learn("h", 10, info("nginx", 1), true);
        t.learn("h", 20, info("sh", 10), true);
        assert_eq!(t.chain("h", 20), vec!["sh", "nginx", "systemd"]);
        assert!(t.chain("other", 20).is_empty());
        t.learn("h", 30, info("a", 31), true);
        t.learn("h", 31, info("b", 30), true);
        assert_eq!(t.chain("h", 30), vec!["a", "b"]);
    }

    #[test]
    fn a_syscall_does_not_overwrite_an_exec() {
        let mut t = ProcTable::default();
        t.learn("h", 5, info("pg_dump", 4), true);
        t.learn("h", 5, info("bash", 4), false);
        assert_eq!(
            t.get("h", 5).and_then(|p| p.name.as_deref()),
            Some("pg_dump")
        );
    }

    #[test]
    fn the_table_is_bounded() {
        let mut t = ProcTable::default();
        for pid in 0..(MAX_PER_HOST as u32 + 100) {
            t.learn("h", pid, info("x", 1), true);
        }
        assert!(t.get("h", 0).is_none());
        assert!(t.get("h", MAX_PER_HOST as u32 + 99).is_some());
        assert!(t.hosts["h"].procs.len() <= MAX_PER_HOST);
    }
}
