use super::*;

/// Test records: any object; each is logged as an error of kind "seen"
/// whose detail is its `"n"` (or `?`), so the order of records and real
/// errors is kept in one list.
struct Probe;

impl JsonRecord for Probe {
    type Record<'de> = serde_json::Map<String, serde_json::Value>;
    fn read<'de, D: Deserializer<'de>>(d: D, rec: &mut Self::Record<'de>) -> Result<(), D::Error> {
        *rec = Deserialize::deserialize(d)?;
        Ok(())
    }
    fn emit(rec: &mut Self::Record<'_>, pos: RecordPos, out: &mut Output) {
        let n = rec
            .get("n")
            .map_or_else(|| "?".to_owned(), |n| n.to_string());
        out.error(pos, "seen", n);
    }
}

/// Runs `input` through a stream and returns the `"n"` of every record
/// (or `?` for records without one) and the error kinds with their lines.
fn split(input: &str, envelope: Option<&'static str>) -> (Vec<String>, Vec<(u64, &'static str)>) {
    let mut stream = JsonStream::new(envelope);
    let mut out = Output::default();
    let mut offset = 0u64;
    for (i, line) in input.split('\n').enumerate() {
        let pos = RecordPos {
            line: i as u64 + 1,
            offset,
        };
        offset += line.len() as u64 + 1;
        stream.push::<Probe>(line.as_bytes(), pos, &mut out);
    }
    stream.finish(&mut out);
    let seen = out
        .errors
        .iter()
        .filter(|e| e.kind == "seen")
        .map(|e| e.detail.clone())
        .collect();
    let errors = out
        .errors
        .iter()
        .filter(|e| e.kind != "seen")
        .map(|e| (e.pos.line, e.kind))
        .collect();
    (seen, errors)
}

#[test]
fn one_record_per_line() {
    let (seen, errors) = split("{\"n\":1}\n\n{\"n\":2}\r\n  {\"n\":3}", None);
    assert_eq!(seen, ["1", "2", "3"]);
    assert!(errors.is_empty());
}

#[test]
fn pretty_printed_record_and_arrays() {
    let input = "{\n  \"n\": 1,\n  \"s\": \"a } ] { [ \\\" x\"\n}\n[\n  {\"n\": 2},\n  {\n    \"n\": 3\n  }\n]\n[{\"n\":4},{\"n\":5}]";
    let (seen, errors) = split(input, None);
    assert_eq!(seen, ["1", "2", "3", "4", "5"]);
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn envelopes_compact_and_pretty() {
    let input = "{\"Records\":[{\"n\":1},{\"n\":2}]}\n{\"Records\": [{\n    \"n\": 3,\n    \"x\": [1, {\"y\": 2}]\n}, {\"n\": 4}\n]}\n{\n  \"Records\" :\n  [\n    {\"n\": 5}\n  ]\n}";
    let (seen, errors) = split(input, Some("Records"));
    assert_eq!(seen, ["1", "2", "3", "4", "5"]);
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn an_object_with_another_first_key_is_one_record() {
    // Not the envelope: `Records` is not the first key, or not an array.
    let input = "{\n\"n\": 1, \"Records\": [{\"n\": 9}]\n}\n{\n\"Records\": 7\n}\n{\n\"resources\": [{\"n\": 8}], \"n\": 2\n}";
    let (seen, errors) = split(input, Some("Records"));
    assert_eq!(seen, ["1", "?", "2"]);
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn a_malformed_record_keeps_its_neighbours() {
    // Compact envelope: the bad record fails the fast path; the splitter
    // salvages the others.
    let (seen, errors) = split(
        "{\"Records\":[{\"n\":1},{\"n\":2 \"x\":3},{\"n\":3}]}",
        Some("Records"),
    );
    assert_eq!(seen, ["1", "3"]);
    assert_eq!(errors, [(1, "invalid JSON")]);
    // Pretty envelope.
    let input = "{\"Records\": [\n  {\"n\": 1},\n  {\"n\": tru},\n  {\"n\": 3}\n]}";
    let (seen, errors) = split(input, Some("Records"));
    assert_eq!(seen, ["1", "3"]);
    assert_eq!(errors, [(3, "invalid JSON")]);
    // Array with a scalar element.
    let (seen, errors) = split("[\n{\"n\":1},\n5,\n{\"n\":2}\n]", None);
    assert_eq!(seen, ["1", "2"]);
    assert_eq!(errors, [(3, "invalid record")]);
}

#[test]
fn a_truncated_line_is_given_up_at_the_next_record() {
    let input = "{\"n\":1}\n{\"n\":2, \"s\": \"cut here\n{\"n\":3}\n{\"n\":4";
    let (seen, errors) = split(input, None);
    assert_eq!(seen, ["1", "3"]);
    assert_eq!(errors, [(2, "truncated JSON"), (4, "truncated JSON")]);
}

#[test]
fn a_cut_off_envelope_keeps_the_records_before() {
    let input = "{\"Records\": [\n  {\"n\": 1},\n  {\"n\": 2},\n  {\"n\": 3, \"s\": \"abc";
    let (seen, errors) = split(input, Some("Records"));
    assert_eq!(seen, ["1", "2"]);
    assert_eq!(errors, [(4, "truncated JSON")]);
    let (seen, errors) = split("{\"Records\": [\n  {\"n\": 1},", Some("Records"));
    assert_eq!(seen, ["1"]);
    assert_eq!(errors, [(1, "truncated JSON")]);
}

#[test]
fn text_outside_values_is_an_error_per_line() {
    let (seen, errors) = split("hello\n}]}\n{\"n\":1}\n{\"n\":2} trailing", None);
    assert_eq!(seen, ["1"]);
    assert_eq!(
        errors,
        [
            (1, "invalid JSON"),
            (2, "invalid JSON"),
            (4, "invalid JSON")
        ]
    );
}

#[test]
fn oversized_records_are_dropped_with_a_reason() {
    let big = "x".repeat(MAX_RECORD);
    let input = format!("[\n{{\"n\":1,\n\"s\":\"{big}\"}},\n{{\"n\":2}}\n]");
    let (seen, errors) = split(&input, None);
    assert_eq!(seen, ["2"]);
    assert_eq!(errors, [(2, "record too large")]);
}

#[test]
fn pending_position_is_the_open_value() {
    let mut stream = JsonStream::new(None);
    let mut out = Output::default();
    let pos = |line| RecordPos {
        line,
        offset: line * 10,
    };
    stream.push::<Probe>(b"[", pos(1), &mut out);
    stream.push::<Probe>(b"{\"n\":1},", pos(2), &mut out);
    assert_eq!(stream.oldest_pending(), Some(pos(1)));
    stream.push::<Probe>(b"]", pos(3), &mut out);
    assert_eq!(stream.oldest_pending(), None);
}

#[test]
fn compact_records_in_an_open_array_resync_per_record() {
    let input = "[\n{\"n\":1},\n{\"n\":2, \"s\": \"cut\n{\"n\":3},\n{\"n\":4}\n]";
    let (seen, errors) = split(input, None);
    assert_eq!(seen, ["1", "3", "4"]);
    assert_eq!(errors, [(3, "truncated JSON")]);
}

#[test]
fn a_one_pass_envelope_that_fails_is_taken_back_and_split() {
    // The second record is not an object: the one-pass parse fails after
    // emitting the first; that is taken back and the splitter emits it
    // once, with the error for the bad one.
    let (seen, errors) = split("{\"Records\":[{\"n\":1},7,{\"n\":3}]}", Some("Records"));
    assert_eq!(seen, ["1", "3"]);
    assert_eq!(errors, [(1, "invalid record")]);
    // Not UTF-8: each record is checked on its own.
    let mut stream = JsonStream::new(None);
    let mut out = Output::default();
    let pos = RecordPos { line: 1, offset: 0 };
    stream.push::<Probe>(b"[{\"n\":1},{\"n\":\"\xff\"},{\"n\":3}]", pos, &mut out);
    let kinds: Vec<&str> = out.errors.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["seen", "invalid UTF-8", "seen"]);
}
