//! Replay progress on stderr: an indicatif bar (bytes of all inputs,
//! events, events/s) when stderr is a terminal; otherwise a plain line
//! every few seconds, so logs of a long replay under a scheduler still
//! show it moving.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use dumpwatch_pipeline::Progress;
use dumpwatch_pipeline::source::InputSpec;
use indicatif::{ProgressBar, ProgressStyle};

/// Plain progress lines at most this often.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

pub struct ReplayProgress {
    bar: Option<ProgressBar>,
    total: u64,
    /// Bytes of the inputs finished before the current one.
    done_bytes: u64,
    done_events: u64,
    current: usize,
    last_bytes: u64,
    last_events: u64,
    started: Instant,
    last_line: Instant,
}

impl ReplayProgress {
    pub fn new(inputs: &[InputSpec]) -> ReplayProgress {
        let total: u64 = inputs
            .iter()
            .filter(|s| s.path != "-")
            .filter_map(|s| std::fs::metadata(&s.path).ok())
            .map(|m| m.len())
            .sum();
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::new(total);
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            b.set_style(style);
            b.enable_steady_tick(Duration::from_millis(200));
            b
        });
        ReplayProgress {
            bar,
            total,
            done_bytes: 0,
            done_events: 0,
            current: 0,
            last_bytes: 0,
            last_events: 0,
            started: Instant::now(),
            last_line: Instant::now(),
        }
    }

    fn rate(&self, events: u64) -> f64 {
        events as f64 / self.started.elapsed().as_secs_f64().max(1e-3)
    }

    pub fn update(&mut self, p: &Progress<'_>) {
        if p.input != self.current {
            self.done_bytes += self.last_bytes;
            self.done_events += self.last_events;
            self.current = p.input;
        }
        self.last_bytes = p.bytes;
        self.last_events = p.events;
        let bytes = self.done_bytes + p.bytes;
        let events = self.done_events + p.events;
        let rate = self.rate(events);
        match &self.bar {
            Some(b) => {
                b.set_position(bytes);
                b.set_message(format!(
                    "{events} events, {rate:.0} events/s ({}/{}: {})",
                    p.input + 1,
                    p.inputs,
                    p.path
                ));
            }
            None if self.last_line.elapsed() >= PLAIN_EVERY => {
                self.last_line = Instant::now();
                let pct = if self.total > 0 {
                    format!("{:.0}%", bytes as f64 * 100.0 / self.total as f64)
                } else {
                    "?".into()
                };
                eprintln!(
                    "replay: {pct} ({bytes} of {} bytes), {events} events, {rate:.0} events/s, input {}/{}",
                    self.total,
                    p.input + 1,
                    p.inputs
                );
            }
            None => {}
        }
    }

    pub fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        let events = self.done_events + self.last_events;
        if self.started.elapsed() >= PLAIN_EVERY || std::io::stderr().is_terminal() {
            eprintln!(
                "replay: {events} events in {:.1}s ({:.0} events/s)",
                self.started.elapsed().as_secs_f64(),
                self.rate(events)
            );
        }
    }
}
