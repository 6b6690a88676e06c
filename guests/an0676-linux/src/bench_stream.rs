//! A reproducible benchmark stream: what a Linux fleet with a network
//! sensor delivers when nothing is prefiltered, with 1 % of the events
//! relevant to AN0676 (client starts by unexpected users, dump writes,
//! uploads) forming real exec → dump → egress chains.
//!
//! The native bench and the host's WASM bench both build their input with
//! [`generate`], so the comparison runs on the same events. The generator
//! is SplitMix64 (a fixed, published algorithm) rather than a `rand` RNG so
//! the stream for a seed never changes with a dependency upgrade.

use dumpwatch_sdk::testing::{EventBuilder, ip};
use dumpwatch_sdk::types::{Event, FileOperation};

/// Start of the stream: 2024-01-01 00:00 UTC.
pub const START: i64 = 1_704_067_200_000;
/// Event time between consecutive events.
pub const STEP_MS: i64 = 10;
/// Relevant events per 1000.
pub const RELEVANT_PER_MILLE: u64 = 10;

const HOSTS: u64 = 200;
const USERS: u64 = 50;
const COMMON_TOOLS: [&str; 8] = [
    "bash",
    "ls",
    "grep",
    "sshd",
    "cron",
    "python3",
    "systemctl",
    "cat",
];
const DB_TOOLS: [&str; 5] = ["psql", "pg_dump", "mysqldump", "mongodump", "mysql"];
const LOG_PATHS: [&str; 5] = [
    "/var/log/syslog",
    "/tmp/build.log",
    "/home/u/.bash_history",
    "/var/lib/app/state.json",
    "/etc/hosts",
];
const DUMP_PATHS: [&str; 4] = [
    "/tmp/export.sql",
    "/var/tmp/crm.csv",
    "/home/u/db.sql.gz",
    "/srv/out/users.bson",
];

/// SplitMix64: tiny, fast, and fully specified.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One recent client start that later dumps and uploads refer to.
#[derive(Clone, Copy)]
struct Incident {
    host: u64,
    user: u64,
    pid: u32,
}

/// `count` events, time-ordered, [`STEP_MS`] apart from [`START`], ids
/// `b<n>`; about [`RELEVANT_PER_MILLE`] ‰ of them relevant.
pub fn generate(seed: u64, count: usize) -> Vec<Event> {
    let mut rng = SplitMix64(seed);
    let mut incidents: Vec<Incident> = Vec::new();
    let mut events = Vec::with_capacity(count);
    for n in 0..count {
        let time = START + n as i64 * STEP_MS;
        let id = format!("b{n}");
        let event = if rng.below(1000) < RELEVANT_PER_MILLE {
            relevant(&mut rng, &mut incidents, &id, time)
        } else {
            noise(&mut rng, &id, time)
        };
        events.push(event);
    }
    events
}

fn host(n: u64) -> String {
    format!("host-{n:03}")
}

fn user(n: u64) -> String {
    format!("user{n:02}")
}

fn relevant(rng: &mut SplitMix64, incidents: &mut Vec<Incident>, id: &str, time: i64) -> Event {
    let kind = if incidents.is_empty() {
        0
    } else {
        rng.below(3)
    };
    match kind {
        0 => {
            let incident = Incident {
                host: rng.below(HOSTS),
                user: rng.below(USERS),
                pid: 10_000 + rng.below(50_000) as u32,
            };
            if incidents.len() == 16 {
                incidents.remove(0);
            }
            incidents.push(incident);
            let tool = DB_TOOLS[rng.below(DB_TOOLS.len() as u64) as usize];
            EventBuilder::exec("auditd", id, time, tool)
                .host(&host(incident.host))
                .user(&user(incident.user), 1000 + incident.user as u32)
                .pid(incident.pid)
                .parent("bash", incident.pid - 1)
                .command_line(&format!("{tool} -h db.internal -U app crm"))
                .build()
        }
        1 => {
            let incident = incidents[rng.below(incidents.len() as u64) as usize];
            let path = DUMP_PATHS[rng.below(DUMP_PATHS.len() as u64) as usize];
            EventBuilder::file("auditd", id, time, FileOperation::Create, path)
                .host(&host(incident.host))
                .user(&user(incident.user), 1000 + incident.user as u32)
                .pid(incident.pid)
                .parent_pid(incident.pid - 1)
                .process_name("bash")
                .build()
        }
        _ => {
            let incident = incidents[rng.below(incidents.len() as u64) as usize];
            EventBuilder::http("zeek", id, time, "POST", ip("203.0.113.7"), 443)
                .host(&host(incident.host))
                .target("files.example.com", "/upload")
                .request_bytes(5_000_000)
                .build()
        }
    }
}

fn noise(rng: &mut SplitMix64, id: &str, time: i64) -> Event {
    let h = host(rng.below(HOSTS));
    let u = rng.below(USERS);
    let pid = 2_000 + rng.below(60_000) as u32;
    match rng.below(10) {
        0..=2 => {
            let tool = COMMON_TOOLS[rng.below(COMMON_TOOLS.len() as u64) as usize];
            EventBuilder::exec("auditd", id, time, tool)
                .host(&h)
                .user(&user(u), 1000 + u as u32)
                .pid(pid)
                .parent("bash", pid - 1)
                .command_line(tool)
                .build()
        }
        3..=5 => {
            let path = LOG_PATHS[rng.below(LOG_PATHS.len() as u64) as usize];
            EventBuilder::file("auditd", id, time, FileOperation::Write, path)
                .host(&h)
                .user(&user(u), 1000 + u as u32)
                .pid(pid)
                .process_name("rsyslogd")
                .build()
        }
        6 | 7 => EventBuilder::network("auditd", id, time, ip("10.0.3.4"), 5432)
            .host(&h)
            .user(&user(u), 1000 + u as u32)
            .pid(pid)
            .process_name("python3")
            .build(),
        _ => EventBuilder::http("zeek", id, time, "GET", ip("198.51.100.20"), 443)
            .host(&h)
            .target("updates.example.com", "/index.json")
            .request_bytes(0)
            .build(),
    }
}

/// Time of the first [`client_start`]: 2024-01-01 01:00 UTC.
pub const CLIENT_START_T0: i64 = 1_704_099_600_000;

/// The database client start that opens window `k` of the state benches
/// (host `k % 500`, user `k / 500`, four a millisecond from
/// [`CLIENT_START_T0`]): each distinct `k` is one open window with its
/// client-start evidence. The native state bench and the host's WASM one
/// both use it.
pub fn client_start(k: usize) -> Event {
    let time = CLIENT_START_T0 + (k / 4) as i64;
    EventBuilder::exec("auditd", &format!("x{k}"), time, "pg_dump")
        .host(&format!("host-{}", k % 500))
        .user(&format!("user{}", k / 500), 10_000 + (k / 500) as u32)
        .pid(1000 + k as u32)
        .parent("bash", 999)
        .command_line("pg_dump -h db.internal -U app -d crm")
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::observe::observe;

    #[test]
    fn the_stream_is_reproducible_and_about_one_percent_relevant() {
        let a = generate(7, 20_000);
        assert_eq!(a, generate(7, 20_000));
        assert_ne!(a, generate(8, 20_000));
        let config = Config::default();
        let relevant = a
            .iter()
            .filter(|event| observe(event, &config).is_some())
            .count();
        assert!(
            (150..=250).contains(&relevant),
            "{relevant} relevant of 20000"
        );
        assert!(a.windows(2).all(|pair| pair[0].time < pair[1].time));
    }

    #[test]
    fn the_stream_produces_findings() {
        use dumpwatch_sdk::Analytic;
        let mut analytic = crate::An0676::default();
        let events = generate(1, 50_000);
        let end = events.last().map(|e| e.time).unwrap_or(0);
        let mut findings = analytic.process(events);
        findings.extend(analytic.advance(end));
        assert!(findings.len() > 10, "{} findings", findings.len());
    }
}
