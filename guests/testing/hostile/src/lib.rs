//! Misbehaving analytics, for the sandbox tests.
//!
//! Each behaves normally — one finding per `marker-*` process start (uid =
//! the event id), so a test can count that every event was processed
//! exactly once — until it sees a process start named `hostile-trigger`,
//! then it misbehaves in its own way. Thin crates (`hostile-loop`, …) build
//! each as a real component with [`hostile_analytic!`].

use dumpwatch_sdk::prelude::*;

/// How an analytic misbehaves on its trigger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misbehaviour {
    /// Spin forever (stopped by the epoch deadline).
    Loop,
    /// Allocate until the memory cap stops it.
    Memory,
    /// Panic (a trap).
    Trap,
    /// Return far more findings than a call may.
    Flood,
    /// Try to read a host file and open a socket through WASI, and report
    /// what happened in a finding.
    Wasi,
    /// Behave; write state in format `n` and refuse any other format (for
    /// the reload tests: a new version that cannot take the old state).
    StateFormat(u8),
    /// From the trigger on, return snapshots that are not state frames (a
    /// length that runs past the end).
    GarbledState,
    /// On the trigger, hand the host a part of a snapshot from `process`,
    /// outside any snapshot.
    StrayPart,
    /// From the trigger on, hand the host parts of a snapshot without end,
    /// until it refuses them.
    PartFlood,
}

/// The shared implementation.
pub struct Core {
    pub id: &'static str,
    pub kind: Misbehaviour,
    pub processed: u64,
    /// The trigger was seen (what `GarbledState` waits for).
    pub triggered: bool,
}

fn finding(id: &str, uid: &str, title: String, e: &Event) -> Finding {
    Finding {
        uid: uid.to_owned(),
        title,
        description: "sandbox test".into(),
        severity: Severity::Informational,
        reasons: vec![],
        entities: vec![Entity {
            kind: "host".into(),
            value: e.device.hostname.clone().unwrap_or_default(),
        }],
        start_time: e.time,
        end_time: e.time,
        attacks: vec![],
        legs: vec![id.to_owned()],
        evidence: vec![],
        event_count: 1,
    }
}

/// Hand `part` to the host as a part of a snapshot (`host.state-part`),
/// whether or not a snapshot is being taken.
fn hand_over(part: &[u8]) {
    #[cfg(target_arch = "wasm32")]
    dumpwatch_sdk::bindings::dumpwatch::analytic::host::state_part(part);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = part;
}

fn process_name(e: &Event) -> &str {
    e.process
        .as_ref()
        .and_then(|p| p.name.as_deref())
        .unwrap_or("")
}

impl Core {
    pub fn manifest(&self) -> Manifest {
        Manifest {
            id: self.id.into(),
            name: format!("sandbox test: {:?}", self.kind),
            version: "0.0.1".into(),
            description: "Misbehaves on a process start named hostile-trigger.".into(),
            strategy: None,
            attacks: vec![],
            tunables: vec![],
        }
    }

    pub fn configure(&mut self, _t: Vec<Tunable>) -> Result<Vec<Subscription>, Vec<ConfigError>> {
        Ok(vec![subscribe::subscription(
            EventClass::ProcessStart,
            &[],
            vec![subscribe::glob(
                "process.name",
                ["marker-*", "hostile-trigger"],
            )],
        )])
    }

    pub fn process(&mut self, events: Vec<Event>) -> Vec<Finding> {
        let mut out = Vec::new();
        for e in &events {
            if process_name(e) == "hostile-trigger" {
                out.extend(self.misbehave(e));
                continue;
            }
            self.processed += 1;
            out.push(finding(self.id, &e.id, format!("processed {}", e.id), e));
        }
        out
    }

    fn misbehave(&mut self, e: &Event) -> Vec<Finding> {
        self.triggered = true;
        match self.kind {
            Misbehaviour::Loop => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            Misbehaviour::Memory => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![7u8; 8 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            Misbehaviour::Trap => panic!("hostile analytic panics on purpose"),
            Misbehaviour::Flood => (0..200_000)
                .map(|i| finding(self.id, &format!("flood-{i}"), String::new(), e))
                .collect(),
            Misbehaviour::StateFormat(_) | Misbehaviour::GarbledState | Misbehaviour::PartFlood => {
                Vec::new()
            }
            Misbehaviour::StrayPart => {
                let mut part = Vec::new();
                dumpwatch_frames::put(&mut part, b"stray", Some(b"part"));
                hand_over(&part);
                Vec::new()
            }
            Misbehaviour::Wasi => {
                let file = match std::fs::read_to_string("/etc/passwd") {
                    Ok(s) => format!("file ALLOWED ({} bytes)", s.len()),
                    Err(err) => format!("file denied: {err}"),
                };
                let socket = match std::net::TcpStream::connect("127.0.0.1:80") {
                    Ok(_) => "socket ALLOWED".to_owned(),
                    Err(err) => format!("socket denied: {err}"),
                };
                let env = match std::env::var("HOME") {
                    Ok(v) => format!("env ALLOWED ({v})"),
                    Err(_) => "env denied".to_owned(),
                };
                let clock = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                vec![finding(
                    self.id,
                    "wasi-probe",
                    format!("{file}; {socket}; {env}; clock {clock}"),
                    e,
                )]
            }
        }
    }

    fn format(&self) -> u8 {
        match self.kind {
            Misbehaviour::StateFormat(n) => n,
            _ => 1,
        }
    }

    pub fn snapshot(&mut self, _mode: SnapshotMode) -> Vec<u8> {
        if self.triggered && self.kind == Misbehaviour::GarbledState {
            // A key of 100 bytes, of which 3 follow.
            return vec![100, b'a', b'b', b'c'];
        }
        if self.triggered && self.kind == Misbehaviour::PartFlood {
            let mut part = Vec::new();
            let filler = vec![7u8; 4 << 20];
            for n in 0u32.. {
                part.clear();
                dumpwatch_frames::put(&mut part, &n.to_le_bytes(), Some(&filler));
                hand_over(&part);
            }
        }
        let mut frames = Vec::new();
        dumpwatch_frames::put(&mut frames, b"format", Some(&[self.format()]));
        dumpwatch_frames::put(
            &mut frames,
            b"processed",
            Some(&self.processed.to_le_bytes()),
        );
        frames
    }

    pub fn restore(&mut self, frames: Vec<u8>) -> Result<(), String> {
        let entries = dumpwatch_frames::frames(&frames)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| err.to_string())?;
        if let Some(found) = entries
            .iter()
            .find(|e| e.key == b"format")
            .and_then(|e| e.value)
            .and_then(|v| v.first().copied())
            && found != self.format()
        {
            return Err(format!(
                "state format {found} is not this version's format {}",
                self.format()
            ));
        }
        self.processed = 0;
        for e in entries {
            if e.key == b"processed"
                && let Some(v) = e.value
                && let Ok(b) = <[u8; 8]>::try_from(v)
            {
                self.processed = u64::from_le_bytes(b);
            }
        }
        Ok(())
    }
}

/// Define a misbehaving analytic type with an id and a behaviour.
#[macro_export]
macro_rules! hostile_analytic {
    ($name:ident, $id:literal, $kind:expr) => {
        pub struct $name($crate::Core);

        impl Default for $name {
            fn default() -> Self {
                $name($crate::Core {
                    id: $id,
                    kind: $kind,
                    processed: 0,
                    triggered: false,
                })
            }
        }

        impl dumpwatch_sdk::Analytic for $name {
            fn manifest(&self) -> dumpwatch_sdk::types::Manifest {
                self.0.manifest()
            }
            fn configure(
                &mut self,
                t: Vec<dumpwatch_sdk::types::Tunable>,
            ) -> Result<
                Vec<dumpwatch_sdk::types::Subscription>,
                Vec<dumpwatch_sdk::types::ConfigError>,
            > {
                self.0.configure(t)
            }
            fn process(
                &mut self,
                e: Vec<dumpwatch_sdk::types::Event>,
            ) -> Vec<dumpwatch_sdk::types::Finding> {
                self.0.process(e)
            }
            fn advance(&mut self, _w: i64) -> Vec<dumpwatch_sdk::types::Finding> {
                Vec::new()
            }
            fn snapshot(&mut self, m: dumpwatch_sdk::types::SnapshotMode) -> Vec<u8> {
                self.0.snapshot(m)
            }
            fn restore(&mut self, e: Vec<u8>) -> Result<(), String> {
                self.0.restore(e)
            }
            fn inspect(&self, _limit: u32) -> dumpwatch_sdk::types::Inspection {
                dumpwatch_sdk::types::Inspection {
                    open_windows: 0,
                    windows: Vec::new(),
                }
            }
        }

        dumpwatch_sdk::export_analytic!($name);
    };
}
