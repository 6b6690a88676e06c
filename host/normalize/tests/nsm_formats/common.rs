//! Running a decoder over bytes or a fixture file.

use std::io::BufReader;
use std::path::PathBuf;

use dumpwatch_normalize::reader::{Line, LineReader};
use dumpwatch_normalize::{DecodeContext, Event, Format, Output, RecordError, Stats, decoder};

/// What a decoder made of an input.
pub struct Run {
    pub events: Vec<Event>,
    pub errors: Vec<RecordError>,
    pub stats: Stats,
}

impl Run {
    pub fn class_count(&self, class: &str) -> u64 {
        self.stats
            .by_class
            .iter()
            .filter(|(c, _)| c.as_str() == class)
            .map(|(_, n)| *n)
            .sum()
    }

    pub fn skipped(&self, kind: &str) -> u64 {
        self.stats.skipped.get(kind).copied().unwrap_or(0)
    }

    pub fn by_id(&self, id: &str) -> &Event {
        self.events
            .iter()
            .find(|e| e.id == id)
            .unwrap_or_else(|| panic!("no event {id}; ids: {:?}", self.ids()))
    }

    pub fn ids(&self) -> Vec<&str> {
        self.events.iter().map(|e| e.id.as_str()).collect()
    }

    pub fn json(&self, id: &str) -> serde_json::Value {
        serde_json::to_value(self.by_id(id)).expect("serializes")
    }
}

/// Decode `input` as `format`, line by line, as the pipeline does.
pub fn run_with(format: Format, input: &[u8], ctx: &DecodeContext) -> Run {
    let mut dec = decoder(format, ctx);
    let mut out = Output::default();
    let mut reader = LineReader::new(BufReader::new(input), 4 << 20);
    while let Some(line) = reader.next_line().expect("in-memory read") {
        match line {
            Line::Data(bytes, pos) => dec.push(bytes, pos, &mut out),
            Line::TooLong { pos, len } => out.error(pos, "line too long", format!("{len} bytes")),
        }
    }
    dec.finish(&mut out);
    assert!(
        dec.oldest_pending().is_none(),
        "finish leaves nothing pending"
    );
    Run {
        events: std::mem::take(&mut out.events),
        errors: std::mem::take(&mut out.errors),
        stats: out.stats,
    }
}

pub fn run(format: Format, input: &[u8]) -> Run {
    run_with(format, input, &DecodeContext::default())
}

pub fn fixture(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn run_fixture(format: Format, rel: &str) -> Run {
    run(format, &fixture(rel))
}
