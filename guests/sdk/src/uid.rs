//! Deterministic identifiers: finding uids and event keys.
//!
//! A finding's uid must be the same for the same events in any arrival
//! order and after any restart, so it is a hash of what defines the window
//! (analytic id, entity, the event that anchors the window), never of
//! arrival order or a counter. SHA-256 is used because it is stable across
//! releases and platforms (std's hashers are not promised to be).

use sha2::{Digest, Sha256};

/// The uid of a finding: SHA-256 over the analytic id, each entity part and
/// the anchoring event's id, each length-prefixed so `("ab","c")` and
/// `("a","bc")` differ; truncated to 128 bits, 32 lower-case hex digits.
pub fn finding_uid(analytic_id: &str, entity: &[&str], first_event_id: &str) -> String {
    hex::encode(finding_uid_bytes(analytic_id, entity, first_event_id))
}

/// [`finding_uid`] as 16 raw bytes, for state that stores it compactly.
pub fn finding_uid_bytes(analytic_id: &str, entity: &[&str], first_event_id: &str) -> [u8; 16] {
    let mut hasher = Sha256::new();
    feed(&mut hasher, analytic_id);
    hasher.update((entity.len() as u32).to_le_bytes());
    for part in entity {
        feed(&mut hasher, part);
    }
    feed(&mut hasher, first_event_id);
    let digest = hasher.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

/// Lower-case hex of `bytes` (a uid kept as [`finding_uid_bytes`]).
pub fn to_hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Serde for a uid kept as 16 bytes, as one byte string: postcard writes
/// a `[u8; 16]` as sixteen separate bytes, one call each, which a snapshot
/// of a million windows felt. Use as `#[serde(with = "dumpwatch_sdk::uid::raw")]`.
pub mod raw {
    use serde::de::{self, Deserializer, Visitor};
    use serde::ser::Serializer;

    pub fn serialize<S: Serializer>(uid: &[u8; 16], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(uid)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<[u8; 16], D::Error> {
        deserializer.deserialize_bytes(Raw)
    }

    struct Raw;

    impl Visitor<'_> for Raw {
        type Value = [u8; 16];

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("16 bytes")
        }

        fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<[u8; 16], E> {
            bytes
                .try_into()
                .map_err(|_| E::invalid_length(bytes.len(), &self))
        }
    }
}

/// A 64-bit key for an event, from its source and id: what tells duplicates
/// of one event apart from different events. Stable, so it can be stored in
/// snapshots.
pub fn event_key(source: &str, id: &str) -> u64 {
    let mut hasher = Sha256::new();
    feed(&mut hasher, source);
    feed(&mut hasher, id);
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

fn feed(hasher: &mut Sha256, part: &str) {
    hasher.update((part.len() as u32).to_le_bytes());
    hasher.update(part.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Held(#[serde(with = "raw")] [u8; 16]);

    #[test]
    fn a_raw_uid_is_one_byte_string_and_must_be_16_bytes() {
        let held = Held(finding_uid_bytes("AN0676", &["h", "u"], "e1"));
        let bytes = crate::codec::encode(&held).unwrap();
        assert_eq!(bytes.len(), 17, "a length byte and the uid");
        assert_eq!(crate::codec::decode::<Held>(&bytes).unwrap(), held);
        let short = crate::codec::encode(&serde_bytes_of(&held.0[..15])).unwrap();
        assert!(crate::codec::decode::<Held>(&short).is_err());
    }

    /// A byte string as postcard writes one.
    fn serde_bytes_of(bytes: &[u8]) -> impl serde::Serialize + '_ {
        struct Bytes<'a>(&'a [u8]);
        impl serde::Serialize for Bytes<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(self.0)
            }
        }
        Bytes(bytes)
    }

    #[test]
    fn uid_is_stable_and_shaped() {
        let uid = finding_uid("AN0676", &["db-01", "alice"], "db-01:1700000000.123:42");
        assert_eq!(uid.len(), 32);
        assert!(
            uid.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(
            uid,
            finding_uid("AN0676", &["db-01", "alice"], "db-01:1700000000.123:42")
        );
        assert_eq!(
            uid,
            hex::encode(finding_uid_bytes(
                "AN0676",
                &["db-01", "alice"],
                "db-01:1700000000.123:42"
            ))
        );
    }

    #[test]
    fn every_part_matters_and_boundaries_are_kept() {
        let base = finding_uid("AN0676", &["h", "u"], "e");
        assert_ne!(base, finding_uid("AN0677", &["h", "u"], "e"));
        assert_ne!(base, finding_uid("AN0676", &["h", "v"], "e"));
        assert_ne!(base, finding_uid("AN0676", &["h", "u"], "f"));
        assert_ne!(
            finding_uid("A", &["ab", "c"], "e"),
            finding_uid("A", &["a", "bc"], "e")
        );
        assert_ne!(
            finding_uid("A", &["a"], "b"),
            finding_uid("A", &["a", "b"], "")
        );
    }

    #[test]
    fn event_key_separates_source_and_id() {
        assert_eq!(event_key("auditd", "1"), event_key("auditd", "1"));
        assert_ne!(event_key("auditd", "1"), event_key("zeek", "1"));
        assert_ne!(event_key("ab", "c"), event_key("a", "bc"));
    }
}
