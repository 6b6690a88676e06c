//! rsyslog's omprog protocol, answered against a scripted engine: `OK`
//! only after the engine acknowledged, `DEFER_COMMIT` inside transactions,
//! an error line when the engine refuses.

#![allow(clippy::unwrap_used)]

use std::io::{Cursor, Write};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dumpwatch_normalize::{DecodeContext, Format};

use super::{StdinSpec, spawn};
use crate::live::message::{Msg, SourceHandle};

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn spec(omprog: bool) -> StdinSpec {
    StdinSpec {
        name: "stdin".into(),
        format: Format::Auditd,
        ctx: DecodeContext::default(),
        omprog,
        max_line: 1 << 16,
        persistent: true,
        flush_delay: Duration::from_millis(10),
        ack_timeout: Duration::from_secs(5),
        decoder_state: Vec::new(),
        dead_letter: None,
    }
}

const EOE: &str = "node=db01 type=EOE msg=audit(1772445600.000:9):";

/// The engine: records what it got, answers each ack with `verdict`, and
/// checks that no confirmation was written before its ack.
fn engine(
    rx: Receiver<Msg>,
    out: Shared,
    verdict: Result<(), String>,
) -> std::thread::JoinHandle<Vec<usize>> {
    std::thread::spawn(move || {
        let mut acked_at = Vec::new();
        while let Ok(m) = rx.recv_timeout(Duration::from_secs(3)) {
            if let Msg::Events { ack: Some(a), .. } = m {
                // Nothing may be confirmed before the ack.
                std::thread::sleep(Duration::from_millis(30));
                acked_at.push(out.0.lock().unwrap().len());
                a.send(verdict.clone());
            }
        }
        acked_at
    })
}

fn run(input: &str, omprog: bool, verdict: Result<(), String>) -> (String, Vec<usize>) {
    let (tx, rx) = mpsc::sync_channel(16);
    let handle = SourceHandle::new(0, tx, Default::default());
    let out = Shared::default();
    let eng = engine(rx, out.clone(), verdict);
    let threads = spawn(
        spec(omprog),
        Box::new(Cursor::new(input.as_bytes().to_vec())),
        Box::new(out.clone()),
        handle,
        Arc::new(AtomicBool::new(false)),
    )
    .unwrap();
    for t in threads {
        t.join().unwrap();
    }
    let acked_at = eng.join().unwrap();
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    (text, acked_at)
}

#[test]
fn transactions_defer_and_commit_once_durable() {
    let input = format!("BEGIN TRANSACTION\n{EOE}\n{EOE}\nCOMMIT TRANSACTION\n");
    let (out, acked_at) = run(&input, true, Ok(()));
    assert_eq!(out, "OK\nOK\nDEFER_COMMIT\nDEFER_COMMIT\nOK\n");
    // One acknowledgement for the transaction, asked before its OK.
    assert_eq!(acked_at, ["OK\nOK\nDEFER_COMMIT\nDEFER_COMMIT\n".len()]);
}

#[test]
fn single_messages_are_confirmed_after_their_checkpoint() {
    let input = format!("{EOE}\n{EOE}\n");
    let (out, acked_at) = run(&input, true, Ok(()));
    assert_eq!(out, "OK\nOK\nOK\n");
    assert_eq!(acked_at, [3, 6]);
}

#[test]
fn a_refused_checkpoint_is_an_error_line_not_ok() {
    let input = format!("{EOE}\n");
    let (out, _) = run(&input, true, Err("disk full\nreally".into()));
    assert_eq!(out, "OK\nerror: disk full really\n");
}

#[test]
fn plain_lines_write_nothing_back() {
    let (out, acked_at) = run(&format!("{EOE}\n"), false, Ok(()));
    assert_eq!(out, "");
    assert!(acked_at.is_empty());
}
