//! A followed glob: new files, rename and copy-truncate rotation, and a
//! restart from the stored positions, each line read exactly once.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use dumpwatch_normalize::Format;
use dumpwatch_state::Entry;

use super::{TailSpec, spawn};
use crate::live::message::{Msg, SourceHandle};

/// A VPC flow record (v2 fields): one line, one event; the source port
/// tells the lines apart.
fn flow(port: u32) -> String {
    format!(
        "2 111122223333 eni-0f1e2d3c4b5a69788 10.20.3.41 203.0.113.9 {port} 443 6 10 8000 1772445600 1772445660 ACCEPT OK\n"
    )
}

fn append(path: &Path, ports: std::ops::Range<u32>) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for p in ports {
        f.write_all(flow(p).as_bytes()).unwrap();
    }
}

struct Run {
    rx: Receiver<Msg>,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
    store: BTreeMap<Vec<u8>, Vec<u8>>,
    ports: Vec<u32>,
}

impl Run {
    fn start(dir: &Path, stored: Vec<Entry>) -> Run {
        let (tx, rx) = mpsc::sync_channel(16);
        let handle = SourceHandle::new(0, tx, Default::default());
        let stop = Arc::new(AtomicBool::new(false));
        let spec = TailSpec {
            name: "flows".into(),
            pattern: format!("{}/flows.log*", dir.display()),
            format: Some(Format::VpcFlow),
            host: None,
            vpc_flow_fields: None,
            max_line: 1 << 20,
            poll: Duration::from_millis(10),
            rescan: Duration::from_millis(10),
        };
        let thread = spawn(spec, stored, handle, None, stop.clone()).unwrap();
        Run {
            rx,
            stop,
            thread,
            store: BTreeMap::new(),
            ports: Vec::new(),
        }
    }

    /// Collect messages until `n` events in all arrived (or time out).
    fn until(&mut self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.ports.len() < n && Instant::now() < deadline {
            if let Ok(Msg::Events {
                events,
                state_changes,
                ..
            }) = self.rx.recv_timeout(Duration::from_millis(50))
            {
                for e in events {
                    self.ports.push(port(&e));
                }
                for (k, v) in state_changes {
                    match v {
                        Some(v) => self.store.insert(k, v),
                        None => self.store.remove(&k),
                    };
                }
            }
        }
        // Late duplicates would show up in a short while.
        let settle = Instant::now() + Duration::from_millis(150);
        while Instant::now() < settle {
            if let Ok(Msg::Events {
                events,
                state_changes,
                ..
            }) = self.rx.recv_timeout(Duration::from_millis(20))
            {
                for e in events {
                    self.ports.push(port(&e));
                }
                for (k, v) in state_changes {
                    match v {
                        Some(v) => self.store.insert(k, v),
                        None => self.store.remove(&k),
                    };
                }
            }
        }
    }

    fn stop(self) -> (BTreeMap<Vec<u8>, Vec<u8>>, Vec<u32>) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        // Drain so the thread is not blocked on a full channel.
        while self.rx.recv_timeout(Duration::from_millis(30)).is_ok() {}
        self.thread.join().unwrap();
        (self.store, self.ports)
    }
}

fn port(e: &dumpwatch_event::Event) -> u32 {
    match &e.activity {
        dumpwatch_event::Activity::Network(f) => u32::from(f.src.port.unwrap_or(0)),
        _ => 0,
    }
}

fn sorted(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v
}

#[test]
fn rotation_new_files_and_restart_read_every_line_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let log = dir.join("flows.log");
    append(&log, 1000..1003);
    let mut run = Run::start(dir, Vec::new());
    run.until(3);
    assert_eq!(sorted(run.ports.clone()), [1000, 1001, 1002]);

    // Rename rotation inside the glob; the writer still appends to the
    // renamed file before it reopens, then writes the new file.
    std::fs::rename(&log, dir.join("flows.log.1")).unwrap();
    append(&dir.join("flows.log.1"), 1003..1005);
    append(&log, 1005..1007);
    run.until(7);
    assert_eq!(sorted(run.ports.clone()), (1000..1007).collect::<Vec<_>>());

    // Copy-truncate rotation of the live file (the copy's name is outside
    // the pattern).
    std::fs::copy(&log, dir.join("old-flows.2")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&log, 1007..1008);
    run.until(8);
    assert_eq!(sorted(run.ports.clone()), (1000..1008).collect::<Vec<_>>());

    // A new file of the pattern.
    append(&dir.join("flows.log.new"), 2000..2002);
    run.until(10);
    let mut want: Vec<u32> = (1000..1008).collect();
    want.extend([2000, 2001]);
    assert_eq!(sorted(run.ports.clone()), want);
    let (store, before) = run.stop();
    let before = before.len();

    // Restart from the stored positions: nothing is read again; new lines
    // are.
    let stored: Vec<Entry> = store.into_iter().collect();
    append(&log, 1008..1010);
    let mut run = Run::start(dir, stored);
    run.until(2);
    assert_eq!(
        sorted(run.ports.clone()),
        [1008, 1009],
        "after {before} events before the restart"
    );
    run.stop();
}
