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

use std::collections::{HashMap, HashSet, VecDeque};

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
    /// (host, pid) learned or forgotten since the last
    /// [`ProcTable::take_changes`]: the table is checkpointed with the
    /// source, so ancestry survives a restart.
    dirty: HashSet<(String, u32)>,
}

/// Encode a checkpoint key: host, NUL, pid (little endian).
fn key(host: &str, pid: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(host.len() + 5);
    k.extend_from_slice(host.as_bytes());
    k.push(0);
    k.extend_from_slice(&pid.to_le_bytes());
    k
}

fn put_opt(out: &mut Vec<u8>, v: &Option<String>) {
    match v {
        Some(s) => {
            out.push(1);
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        None => out.push(0),
    }
}

fn get_opt(b: &mut &[u8]) -> Option<Option<String>> {
    let (&flag, rest) = b.split_first()?;
    *b = rest;
    if flag == 0 {
        return Some(None);
    }
    let len = u32::from_le_bytes(b.get(..4)?.try_into().ok()?) as usize;
    let s = b.get(4..4 + len)?;
    let out = String::from_utf8(s.to_vec()).ok()?;
    *b = &b[4 + len..];
    Some(Some(out))
}

fn encode(info: &ProcInfo) -> Vec<u8> {
    let mut out = Vec::new();
    put_opt(&mut out, &info.name);
    put_opt(&mut out, &info.path);
    put_opt(&mut out, &info.command_line);
    match info.ppid {
        Some(p) => {
            out.push(1);
            out.extend_from_slice(&p.to_le_bytes());
        }
        None => out.push(0),
    }
    out
}

fn decode(mut b: &[u8]) -> Option<ProcInfo> {
    let name = get_opt(&mut b)?;
    let path = get_opt(&mut b)?;
    let command_line = get_opt(&mut b)?;
    let ppid = match b.first()? {
        0 => None,
        _ => Some(u32::from_le_bytes(b.get(1..5)?.try_into().ok()?)),
    };
    Some(ProcInfo {
        name,
        path,
        command_line,
        ppid,
    })
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
                && let Some(t) = self.hosts.remove(&oldest)
            {
                for pid in t.procs.keys() {
                    self.dirty.insert((oldest.clone(), *pid));
                }
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
        self.dirty.insert((host.to_owned(), pid));
        while t.procs.len() > MAX_PER_HOST || t.order.len() > 2 * MAX_PER_HOST {
            let Some((old_pid, old_stamp)) = t.order.pop_front() else {
                break;
            };
            // Only drop the entry if it was not learned again since.
            if t.procs.get(&old_pid).is_some_and(|(s, _)| *s == old_stamp) {
                t.procs.remove(&old_pid);
                self.dirty.insert((host.to_owned(), old_pid));
            }
        }
    }

    /// Entries learned or forgotten since the last call (`None`: forgotten),
    /// for a checkpoint.
    pub fn take_changes(&mut self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let mut out: Vec<(Vec<u8>, Option<Vec<u8>>)> = self
            .dirty
            .drain()
            .map(|(host, pid)| {
                let v = self
                    .hosts
                    .get(&host)
                    .and_then(|t| t.procs.get(&pid))
                    .map(|(_, info)| encode(info));
                (key(&host, pid), v)
            })
            .collect();
        out.sort();
        out
    }

    /// Load the entries a checkpoint stored (oldest stamp order is not
    /// kept: restored entries count as learned now, in key order).
    pub fn restore(&mut self, entries: Vec<(Vec<u8>, Vec<u8>)>) {
        for (k, v) in entries {
            // host, NUL, then the pid's 4 bytes (which may hold NULs too).
            let Some(nul) = k.len().checked_sub(5).filter(|&i| k[i] == 0) else {
                continue;
            };
            let (Ok(host), Some(pid)) = (
                std::str::from_utf8(&k[..nul]),
                k.get(nul + 1..nul + 5)
                    .and_then(|b| b.try_into().ok())
                    .map(u32::from_le_bytes),
            ) else {
                continue;
            };
            if let Some(info) = decode(&v) {
                self.learn(host, pid, info, true);
            }
        }
        // What was just restored is already stored.
        self.dirty.clear();
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
    fn changes_round_trip_through_a_checkpoint() {
        let mut t = ProcTable::default();
        t.learn("h", 10, info("nginx", 1), true);
        t.learn("h", 20, info("sh", 10), true);
        let changes = t.take_changes();
        assert_eq!(changes.len(), 2);
        assert!(t.take_changes().is_empty(), "nothing new");
        let mut restored = ProcTable::default();
        restored.restore(
            changes
                .into_iter()
                .map(|(k, v)| (k, v.expect("present")))
                .collect(),
        );
        assert_eq!(restored.chain("h", 20), vec!["sh", "nginx"]);
        assert!(restored.take_changes().is_empty());
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
