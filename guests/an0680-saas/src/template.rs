//! Query templates: what makes two Snowflake queries "the same query".
//!
//! With QUERY_PARAMETERIZED_HASH (literals removed by Snowflake) a template
//! is the hash *and its version*: hashes of different
//! QUERY_PARAMETERIZED_HASH_VERSIONs are never compared. Without the hash
//! (older exports, other views) it is the normalized shape of the query
//! text ([`crate::sql::shape`]). Templates are kept as 64-bit keys; the
//! two kinds live in separate key spaces.

use dumpwatch_sdk::types::DatastoreQuery;
use dumpwatch_sdk::uid::event_key;

use crate::sql;

/// The key of a parameterized hash of `version`.
pub fn hash_key(version: &str, hash: &str) -> u64 {
    event_key(
        "snowflake-parameterized-hash",
        &format!("{}:{}", version.trim(), hash.trim().to_ascii_lowercase()),
    )
}

/// The key of the normalized shape of `text`.
pub fn shape_key(text: &str) -> u64 {
    event_key("snowflake-query-shape", &sql::shape(text))
}

/// A query's template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    /// The key learned and compared: the hash's when present, else the
    /// shape's.
    pub key: u64,
    /// The shape's key too, when the query has text, so `sql:` baseline
    /// entries match queries that have a hash.
    pub shape: Option<u64>,
    /// How an analyst recognises it.
    pub label: String,
}

/// The template of `query`, if it has a hash or text.
pub fn of_query(query: &DatastoreQuery) -> Option<Template> {
    let text = query.text.as_deref().filter(|t| !t.trim().is_empty());
    let shape = text.map(shape_key);
    if let Some(hash) = query.template_hash.as_deref().filter(|h| !h.is_empty()) {
        let version = query
            .template_hash_version
            .as_deref()
            .filter(|v| !v.is_empty())
            .unwrap_or("?");
        return Some(Template {
            key: hash_key(version, hash),
            shape,
            label: format!("QUERY_PARAMETERIZED_HASH {hash} (version {version})"),
        });
    }
    let text = text?;
    let shape_text = sql::shape(text);
    let mut label: String = shape_text.chars().take(160).collect();
    if label.len() < shape_text.len() {
        label.push('…');
    }
    Some(Template {
        key: event_key("snowflake-query-shape", &shape_text),
        shape,
        label: format!("query shape `{label}`"),
    })
}

/// The key of a BaselineQueryTemplates entry: `VERSION:HASH` or
/// `sql:TEXT`.
pub fn baseline_key(entry: &str) -> Result<u64, String> {
    let entry = entry.trim();
    if let Some(text) = entry.strip_prefix("sql:") {
        if sql::shape(text).is_empty() {
            return Err("`sql:` needs a query text after it".into());
        }
        return Ok(shape_key(text));
    }
    let Some((version, hash)) = entry.split_once(':') else {
        return Err(
            "expected `VERSION:HASH` (QUERY_PARAMETERIZED_HASH_VERSION and QUERY_PARAMETERIZED_HASH, \
             e.g. `1:5d41402abc4b2a76b9719d911017c592`) or `sql:` and a query text"
                .into(),
        );
    };
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{version:?} is not a hash version (a number)"));
    }
    if hash.is_empty() || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{hash:?} is not a hexadecimal hash"));
    }
    Ok(hash_key(version, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(text: Option<&str>, hash: Option<&str>, version: Option<&str>) -> DatastoreQuery {
        DatastoreQuery {
            system: "snowflake".into(),
            text: text.map(str::to_string),
            query_type: None,
            database: None,
            schema: None,
            warehouse: None,
            template_hash: hash.map(str::to_string),
            template_hash_version: version.map(str::to_string),
            rows: None,
            bytes_scanned: None,
            status: None,
            end_time: None,
        }
    }

    #[test]
    fn hashes_compare_only_within_a_version() {
        let v1 = of_query(&query(Some("select 1"), Some("ABC123"), Some("1"))).unwrap();
        let v1b = of_query(&query(Some("select 2"), Some("abc123"), Some("1"))).unwrap();
        let v2 = of_query(&query(Some("select 1"), Some("abc123"), Some("2"))).unwrap();
        assert_eq!(v1.key, v1b.key, "case of the hash does not matter");
        assert_ne!(v1.key, v2.key, "another version is another template");
        assert_eq!(baseline_key("1:abc123").unwrap(), v1.key);
        assert!(v1.label.contains("ABC123") && v1.label.contains("version 1"));
    }

    #[test]
    fn without_a_hash_the_shape_is_the_template() {
        let a = of_query(&query(Some("select * from t where id = 1"), None, None)).unwrap();
        let b = of_query(&query(Some("SELECT *  FROM T WHERE ID = 99"), None, None)).unwrap();
        assert_eq!(a.key, b.key);
        assert_eq!(Some(a.key), a.shape);
        assert_eq!(
            baseline_key("sql: select * from t where id = 5").unwrap(),
            a.key
        );
        assert!(
            a.label
                .starts_with("query shape `SELECT * FROM T WHERE ID = ?`"),
            "{}",
            a.label
        );
        assert!(of_query(&query(None, None, None)).is_none());
        assert!(of_query(&query(Some("  "), None, None)).is_none());
        // A `sql:` entry matches a hashed query by its shape.
        let hashed = of_query(&query(
            Some("select * from t where id = 3"),
            Some("ff"),
            Some("1"),
        ))
        .unwrap();
        assert_eq!(hashed.shape, Some(a.key));
    }

    #[test]
    fn bad_baseline_entries_say_why() {
        assert!(
            baseline_key("5d41402abc")
                .unwrap_err()
                .contains("VERSION:HASH")
        );
        assert!(baseline_key("v1:abc").unwrap_err().contains("version"));
        assert!(baseline_key("1:xyz").unwrap_err().contains("hexadecimal"));
        assert!(baseline_key("sql:").unwrap_err().contains("query text"));
    }
}
