//! One QUERY_HISTORY row, whichever export it came from, and its event.
//!
//! CSV and JSON exports carry the same columns; both are reduced to a
//! [`Row`] of the columns dumpwatch maps (names matched without regard to
//! case: the docs print them in lower case, exports in upper case), and
//! one function turns a row into a `query` event.

use std::borrow::Cow;
use std::fmt;

use dumpwatch_event::time::parse_datetime;
use dumpwatch_event::{Activity, Actor, DatastoreQuery, Event, Timestamp};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::json_cursor::{Bail, Cursor, Fast, KeyCache};
use crate::json_fields::FieldKey;

/// The event's `source`.
pub(crate) const SOURCE: &str = "snowflake";

/// The columns dumpwatch maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Col {
    QueryId,
    QueryText,
    QueryType,
    UserName,
    RoleName,
    WarehouseName,
    DatabaseName,
    SchemaName,
    StartTime,
    EndTime,
    RowsProduced,
    BytesScanned,
    ParameterizedHash,
    ParameterizedHashVersion,
    ExecutionStatus,
}

const COLUMNS: [(&str, Col); 15] = [
    ("QUERY_ID", Col::QueryId),
    ("QUERY_TEXT", Col::QueryText),
    ("QUERY_TYPE", Col::QueryType),
    ("USER_NAME", Col::UserName),
    ("ROLE_NAME", Col::RoleName),
    ("WAREHOUSE_NAME", Col::WarehouseName),
    ("DATABASE_NAME", Col::DatabaseName),
    ("SCHEMA_NAME", Col::SchemaName),
    ("START_TIME", Col::StartTime),
    ("END_TIME", Col::EndTime),
    ("ROWS_PRODUCED", Col::RowsProduced),
    ("BYTES_SCANNED", Col::BytesScanned),
    ("QUERY_PARAMETERIZED_HASH", Col::ParameterizedHash),
    (
        "QUERY_PARAMETERIZED_HASH_VERSION",
        Col::ParameterizedHashVersion,
    ),
    ("EXECUTION_STATUS", Col::ExecutionStatus),
];

/// The column a name stands for, in any case (and with surrounding spaces
/// or quotes, as some CSV writers leave them).
pub(crate) fn column(name: &str) -> Option<Col> {
    // Exports write the names in upper case: an exact match is the common
    // case, and most keys of a row are columns that are not mapped. A
    // `match` compiles to a switch on the length and one comparison, where
    // a scan of the table compared every name (once per key of every row).
    if let Some(c) = exact_column(name) {
        return Some(c);
    }
    // A fold without early exit: the compiler vectorizes it, where `any`
    // walked the name byte by byte (for every unmapped key of every row).
    let may_differ = name.bytes().fold(false, |acc, b| {
        acc | b.is_ascii_lowercase() | (b == b' ') | (b == b'"')
    });
    if !may_differ {
        return None;
    }
    let name = name.trim().trim_matches('"');
    COLUMNS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, c)| c)
}

/// [`column`] as a key code: the column's index in [`COLUMNS`], or past
/// them for a key that is not a mapped column.
fn column_code(name: &str) -> u16 {
    column(name).map_or(u16::MAX, |c| c as u16)
}

/// The column of an upper-case name, as exports write them.
fn exact_column(name: &str) -> Option<Col> {
    Some(match name {
        "QUERY_ID" => Col::QueryId,
        "QUERY_TEXT" => Col::QueryText,
        "QUERY_TYPE" => Col::QueryType,
        "USER_NAME" => Col::UserName,
        "ROLE_NAME" => Col::RoleName,
        "WAREHOUSE_NAME" => Col::WarehouseName,
        "DATABASE_NAME" => Col::DatabaseName,
        "SCHEMA_NAME" => Col::SchemaName,
        "START_TIME" => Col::StartTime,
        "END_TIME" => Col::EndTime,
        "ROWS_PRODUCED" => Col::RowsProduced,
        "BYTES_SCANNED" => Col::BytesScanned,
        "QUERY_PARAMETERIZED_HASH" => Col::ParameterizedHash,
        "QUERY_PARAMETERIZED_HASH_VERSION" => Col::ParameterizedHashVersion,
        "EXECUTION_STATUS" => Col::ExecutionStatus,
        _ => return None,
    })
}

/// A value as the export wrote it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value<'a> {
    Text(Cow<'a, str>),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

/// The mapped columns of one row.
#[derive(Debug, Default)]
pub(crate) struct Row<'a> {
    values: [Option<Value<'a>>; COLUMNS.len()],
}

impl<'a> Row<'a> {
    /// Set a column; empty text and `\N` (Snowflake's default NULL in
    /// unloaded files) are NULL.
    pub(crate) fn set(&mut self, col: Col, value: Value<'a>) {
        let null = matches!(&value, Value::Text(t) if t.is_empty() || t == "\\N");
        self.values[col as usize] = (!null).then_some(value);
    }

    fn get(&self, col: Col) -> Option<&Value<'a>> {
        self.values[col as usize].as_ref()
    }

    /// The column as text, taken out of the row: a value the parser
    /// already had to copy (one with escapes, as query texts often have)
    /// is moved into the event rather than copied again. Each column is
    /// read once.
    fn take_text(&mut self, col: Col) -> Option<String> {
        match self.values[col as usize].take()? {
            Value::Text(t) => Some(t.into_owned()),
            Value::Unsigned(n) => Some(n.to_string()),
            Value::Signed(n) => Some(n.to_string()),
            Value::Float(f) => Some(f.to_string()),
        }
    }

    fn count(&self, col: Col, name: &str) -> Result<Option<u64>, RowError> {
        let bad = |v: &dyn fmt::Debug| RowError("invalid field", format!("{name} {v:?}"));
        match self.get(col) {
            None => Ok(None),
            Some(Value::Unsigned(n)) => Ok(Some(*n)),
            Some(Value::Signed(n)) => u64::try_from(*n).map(Some).map_err(|_| bad(n)),
            Some(Value::Float(f)) if f.is_finite() && *f >= 0.0 && f.fract() == 0.0 => {
                Ok(Some(*f as u64))
            }
            Some(Value::Float(f)) => Err(bad(f)),
            Some(Value::Text(t)) => {
                // NUMBER columns print as integers; a `.0` is a float
                // rendering of the same integer.
                let digits = t.trim().strip_suffix(".0").unwrap_or(t.trim());
                digits.parse().map(Some).map_err(|_| bad(t))
            }
        }
    }

    fn time(&self, col: Col, name: &str) -> Result<Option<Timestamp>, RowError> {
        match self.get(col) {
            None => Ok(None),
            Some(v) => timestamp(v)
                .map(Some)
                .ok_or_else(|| RowError("invalid time", format!("{name} {v:?}"))),
        }
    }
}

/// A row that cannot become an event: error kind and detail.
#[derive(Debug)]
pub(crate) struct RowError(pub &'static str, pub String);

/// The event time rule: a timestamp text with its offset
/// (`2024-01-25 10:11:12.123 -0800`, `…123000000 +0000`, ISO 8601 with `T`
/// and `Z` or an offset; no zone = UTC), or epoch numbers (as numbers or
/// digit strings) whose magnitude gives the unit: seconds below 1e11,
/// milliseconds below 1e14, microseconds below 1e17, else nanoseconds.
pub(crate) fn timestamp(v: &Value) -> Option<Timestamp> {
    match v {
        Value::Text(t) => {
            let t = t.trim();
            parse_datetime(t).or_else(|| {
                let n: f64 = t.parse().ok()?;
                t.bytes()
                    .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
                    .then(|| epoch_scaled(n))?
            })
        }
        Value::Unsigned(n) => epoch_scaled(*n as f64),
        Value::Signed(n) => epoch_scaled(*n as f64),
        Value::Float(f) => epoch_scaled(*f),
    }
}

fn epoch_scaled(n: f64) -> Option<Timestamp> {
    if !n.is_finite() {
        return None;
    }
    let a = n.abs();
    let ms = if a < 1e11 {
        n * 1e3
    } else if a < 1e14 {
        n
    } else if a < 1e17 {
        n / 1e3
    } else if a < 1e20 {
        n / 1e6
    } else {
        return None;
    };
    Some(ms.floor() as Timestamp)
}

/// The `query` event of a row.
pub(crate) fn to_event(row: &mut Row) -> Result<Event, RowError> {
    let Some(id) = row.take_text(Col::QueryId) else {
        return Err(RowError("missing field", "no QUERY_ID".into()));
    };
    let Some(time) = row.time(Col::StartTime, "START_TIME")? else {
        return Err(RowError("missing time", "no START_TIME".into()));
    };
    let query = DatastoreQuery {
        system: SOURCE.to_owned(),
        text: row.take_text(Col::QueryText),
        query_type: row.take_text(Col::QueryType),
        database: row.take_text(Col::DatabaseName),
        schema: row.take_text(Col::SchemaName),
        warehouse: row.take_text(Col::WarehouseName),
        template_hash: row.take_text(Col::ParameterizedHash),
        template_hash_version: row.take_text(Col::ParameterizedHashVersion),
        rows: row.count(Col::RowsProduced, "ROWS_PRODUCED")?,
        bytes_scanned: row.count(Col::BytesScanned, "BYTES_SCANNED")?,
        status: row.take_text(Col::ExecutionStatus),
        end_time: row.time(Col::EndTime, "END_TIME")?,
    };
    Ok(Event {
        time,
        source: SOURCE,
        id,
        device: Default::default(),
        actor: Actor {
            user: row.take_text(Col::UserName),
            groups: row.take_text(Col::RoleName).into_iter().collect(),
            ..Default::default()
        },
        process: None,
        activity: Activity::Query(query),
    })
}

/// Reads a JSON export row with the cursor, as [`RowSeed`] reads it:
/// keys that are mapped columns set their cell (a later one wins, `null`
/// leaves the cell), others are skipped. A value serde would render
/// (negative and fractional numbers) or refuse (objects, arrays) bails.
pub(crate) fn read_fast<'a>(
    c: &mut Cursor<'a>,
    keys: &mut KeyCache,
    row: &mut Row<'a>,
) -> Fast<()> {
    c.object()?;
    let mut first = true;
    let mut at = KeyCache::chain(0);
    while let Some(code) = c.cached_key(&mut first, keys, &mut at, column_code)? {
        let Some(&col) = COLUMNS.get(usize::from(code)).map(|(_, c)| c) else {
            c.skip()?;
            continue;
        };
        let value = match c.peek()? {
            b'"' => Value::Text(c.string()?.decode()?),
            b'0'..=b'9' => Value::Unsigned(c.unsigned()?.1),
            b'n' => {
                c.null()?;
                continue;
            }
            b't' | b'f' => Value::Text(c.text()?.ok_or(Bail)?),
            _ => return Err(Bail),
        };
        row.set(col, value);
    }
    Ok(())
}

/// Reads a JSON export row (an object whose keys are column names in any
/// case) into the row it holds; keys that are not mapped columns are
/// skipped unparsed.
pub(crate) struct RowSeed<'r, 'a>(pub &'r mut Row<'a>);

impl<'de> RowSeed<'_, 'de> {
    pub(crate) fn read<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a QUERY_HISTORY row object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let row = self.0;
        while let Some(col) = map.next_key_seed(FieldKey(column))? {
            match col {
                Some(col) => map.next_value_seed(CellSeed(&mut *row, col))?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Reads one mapped column's value straight into its cell of the row
/// (JSON `null` leaves the cell as it was).
struct CellSeed<'r, 'a>(&'r mut Row<'a>, Col);

impl<'de> DeserializeSeed<'de> for CellSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CellSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, number or boolean")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
        self.0.set(self.1, Value::Text(Cow::Borrowed(v)));
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.set(self.1, Value::Text(Cow::Owned(v.to_owned())));
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.0.set(self.1, Value::Unsigned(v));
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.0.set(self.1, Value::Signed(v));
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.0.set(self.1, Value::Float(v));
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        let text = if v { "true" } else { "false" };
        self.0.set(self.1, Value::Text(Cow::Borrowed(text)));
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_names_agree_with_the_table() {
        for (i, (name, col)) in COLUMNS.into_iter().enumerate() {
            // Key codes and row cells index the table by the column.
            assert_eq!(col as usize, i, "{name}");
            assert_eq!(usize::from(column_code(name)), i, "{name}");
            assert_eq!(exact_column(name), Some(col), "{name}");
            assert_eq!(column(&name.to_ascii_lowercase()), Some(col), "{name}");
        }
        assert_eq!(exact_column("QUERY_TAG"), None);
    }
}
