//! Digests of findings: tell a changed finding from an unchanged one.
//!
//! An analytic that re-renders a window's finding whenever the window is
//! touched (a duplicate arrived, a correlated window changed) should emit
//! it only when its content changed. Keeping the last emitted finding
//! costs memory and snapshot space; keeping a 64-bit digest of it does
//! not. The digest feeds every field, length-prefixed, into SHA-256, so it
//! is stable across builds and platforms and can be stored in snapshots
//! (formatting the finding with `Debug` would be neither a contract nor
//! small: it links every binding type's `Debug` code into the component).

use sha2::{Digest, Sha256};

use crate::address::to_ip;
use crate::event::class_index;
use crate::severity::rank;
use crate::types::{Endpoint, Finding};

/// A digest of every field of `finding`; never 0, so 0 can mean "not
/// emitted yet".
pub fn finding_digest(finding: &Finding) -> u64 {
    let mut h = Feed(Sha256::new());
    h.text(&finding.uid);
    h.text(&finding.title);
    h.text(&finding.description);
    h.bytes(&[rank(finding.severity)]);
    h.texts(&finding.reasons);
    h.count(finding.entities.len());
    for entity in &finding.entities {
        h.text(&entity.kind);
        h.text(&entity.value);
    }
    h.number(finding.start_time);
    h.number(finding.end_time);
    h.count(finding.attacks.len());
    for attack in &finding.attacks {
        h.text(&attack.tactic_id);
        h.text(&attack.technique_id);
        h.option(attack.sub_technique_id.as_deref());
    }
    h.texts(&finding.legs);
    h.count(finding.evidence.len());
    for e in &finding.evidence {
        h.text(&e.leg);
        h.bytes(&[class_index(e.class)]);
        h.text(&e.source);
        h.text(&e.id);
        h.number(e.time);
        for text in [
            &e.device,
            &e.user,
            &e.process_name,
            &e.process_path,
            &e.command_line,
            &e.parent_name,
            &e.file,
            &e.url,
            &e.query,
            &e.resource,
        ] {
            h.option(text.as_deref());
        }
        h.number(e.pid.map_or(-1, i64::from));
        h.number(e.bytes.map_or(-1, |b| i64::try_from(b).unwrap_or(i64::MAX)));
        h.endpoint(e.dst.as_ref());
    }
    h.count(finding.event_count as usize);
    let digest = h.0.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first).max(1)
}

struct Feed(Sha256);

impl Feed {
    fn bytes(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn count(&mut self, n: usize) {
        self.0.update((n as u64).to_le_bytes());
    }

    fn number(&mut self, n: i64) {
        self.0.update(n.to_le_bytes());
    }

    fn text(&mut self, text: &str) {
        self.count(text.len());
        self.0.update(text.as_bytes());
    }

    fn texts(&mut self, texts: &[String]) {
        self.count(texts.len());
        for text in texts {
            self.text(text);
        }
    }

    fn option(&mut self, text: Option<&str>) {
        match text {
            None => self.bytes(&[0]),
            Some(text) => {
                self.bytes(&[1]);
                self.text(text);
            }
        }
    }

    fn endpoint(&mut self, endpoint: Option<&Endpoint>) {
        let Some(endpoint) = endpoint else {
            return self.bytes(&[0]);
        };
        self.bytes(&[1]);
        self.option(
            endpoint
                .ip
                .as_ref()
                .map(|ip| to_ip(ip).to_string())
                .as_deref(),
        );
        self.number(endpoint.port.map_or(-1, i64::from));
        self.option(endpoint.hostname.as_deref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Entity, EventClass, Evidence, Severity};

    fn finding() -> Finding {
        Finding {
            uid: "u".into(),
            title: "t".into(),
            description: "d".into(),
            severity: Severity::Medium,
            reasons: vec!["r".into()],
            entities: vec![Entity {
                kind: "user".into(),
                value: "alice".into(),
            }],
            start_time: 1,
            end_time: 2,
            attacks: vec![crate::attack::T1213_006.to_wit()],
            legs: vec!["a".into()],
            evidence: vec![Evidence {
                leg: "a".into(),
                class: EventClass::Query,
                source: "snowflake".into(),
                id: "q1".into(),
                time: 1,
                device: None,
                user: Some("alice".into()),
                process_name: None,
                process_path: None,
                pid: None,
                command_line: None,
                parent_name: None,
                file: None,
                dst: None,
                url: None,
                query: Some("select 1".into()),
                resource: None,
                bytes: Some(5),
            }],
            event_count: 1,
        }
    }

    #[test]
    fn every_field_counts_and_equal_findings_agree() {
        let base = finding();
        assert_eq!(finding_digest(&base), finding_digest(&finding()));
        assert_ne!(finding_digest(&base), 0);
        let mut changed = Vec::new();
        let mut f = finding();
        f.severity = Severity::High;
        changed.push(f);
        let mut f = finding();
        f.reasons.push("r2".into());
        changed.push(f);
        let mut f = finding();
        f.event_count = 2;
        changed.push(f);
        let mut f = finding();
        f.evidence[0].bytes = Some(6);
        changed.push(f);
        let mut f = finding();
        f.evidence[0].query = None;
        changed.push(f);
        let mut f = finding();
        f.end_time = 3;
        changed.push(f);
        for f in &changed {
            assert_ne!(finding_digest(f), finding_digest(&base), "{f:?}");
        }
        // Boundaries are kept: ("ab", "c") differs from ("a", "bc").
        let mut a = finding();
        a.reasons = vec!["ab".into(), "c".into()];
        let mut b = finding();
        b.reasons = vec!["a".into(), "bc".into()];
        assert_ne!(finding_digest(&a), finding_digest(&b));
    }
}
