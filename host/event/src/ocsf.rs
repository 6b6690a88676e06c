//! OCSF Detection Finding (class 2004) rendering of a finding.
//!
//! Times are epoch milliseconds, as OCSF defines `timestamp_t`. `time` is
//! the event time at which the finding (or this update of it) became true,
//! not the wall clock, so a replay of the same logs renders the same bytes.
//! What OCSF has no attribute for goes under `unmapped`.

use serde_json::{Map, Value, json};

use crate::{Attack, EmittedFinding, Evidence, EvidenceEndpoint};

/// The OCSF schema version this rendering follows.
pub const OCSF_VERSION: &str = "1.4.0";

/// Product name and version written into `metadata.product`.
pub struct Product<'a> {
    pub name: &'a str,
    pub version: &'a str,
}

fn attack_json(a: &Attack) -> Value {
    let mut o = json!({
        "tactic": { "uid": a.tactic_id, "name": a.tactic_name },
        "technique": { "uid": a.technique_id, "name": a.technique_name },
    });
    if let Some(id) = &a.sub_technique_id {
        o["sub_technique"] = json!({
            "uid": id,
            "name": a.sub_technique_name.clone().unwrap_or_default(),
        });
    }
    o
}

fn endpoint_json(e: &EvidenceEndpoint) -> Value {
    let mut o = Map::new();
    if let Some(ip) = e.ip {
        o.insert("ip".into(), json!(ip.to_string()));
    }
    if let Some(p) = e.port {
        o.insert("port".into(), json!(p));
    }
    if let Some(h) = &e.hostname {
        o.insert("hostname".into(), json!(h));
    }
    Value::Object(o)
}

fn put(o: &mut Map<String, Value>, k: &str, v: Option<Value>) {
    if let Some(v) = v {
        o.insert(k.into(), v);
    }
}

/// OCSF `evidences[]` entry for one contributing event.
fn evidence_json(e: &Evidence) -> Value {
    let mut o = Map::new();
    o.insert("uid".into(), json!(e.id));
    o.insert("name".into(), json!(e.leg));
    if e.process_name.is_some() || e.process_path.is_some() || e.pid.is_some() {
        let mut p = Map::new();
        put(&mut p, "name", e.process_name.as_ref().map(|v| json!(v)));
        put(&mut p, "pid", e.pid.map(|v| json!(v)));
        put(
            &mut p,
            "cmd_line",
            e.command_line.as_ref().map(|v| json!(v)),
        );
        if let Some(path) = &e.process_path {
            p.insert(
                "file".into(),
                json!({ "path": path, "name": basename(path) }),
            );
        }
        if let Some(parent) = &e.parent_name {
            p.insert("parent_process".into(), json!({ "name": parent }));
        }
        if let Some(u) = &e.user {
            p.insert("user".into(), json!({ "name": u }));
        }
        o.insert("process".into(), Value::Object(p));
    }
    if let Some(u) = &e.user {
        o.insert("actor".into(), json!({ "user": { "name": u } }));
    }
    if let Some(d) = &e.device {
        o.insert("device".into(), json!({ "hostname": d }));
    }
    if let Some(f) = &e.file {
        o.insert("file".into(), json!({ "path": f, "name": basename(f) }));
    }
    if let Some(dst) = &e.dst {
        o.insert("dst_endpoint".into(), endpoint_json(dst));
    }
    if let Some(u) = &e.url {
        o.insert("url".into(), json!({ "url_string": u }));
    }
    if let Some(q) = &e.query {
        o.insert("data".into(), json!({ "query": q }));
    }
    if let Some(r) = &e.resource {
        o.insert("resources".into(), json!([{ "uid": r }]));
    }
    let mut unmapped = Map::new();
    unmapped.insert("source".into(), json!(e.source));
    unmapped.insert("time".into(), json!(e.time));
    unmapped.insert("class".into(), json!(e.class.as_str()));
    put(&mut unmapped, "bytes", e.bytes.map(|b| json!(b)));
    o.insert("unmapped".into(), Value::Object(unmapped));
    Value::Object(o)
}

fn basename(p: &str) -> &str {
    p.rsplit(['/', '\\']).next().unwrap_or(p)
}

/// Render one emitted finding as an OCSF Detection Finding object.
pub fn detection_finding(f: &EmittedFinding, product: &Product<'_>) -> Value {
    let fi = &f.finding;
    let a = &f.analytic;
    let activity_id = f.activity.id();
    let related: Vec<Value> = fi
        .evidence
        .iter()
        .map(|e| {
            let (type_uid, type_name) = e.class.ocsf_type();
            json!({
                "uid": e.id,
                "type_uid": type_uid,
                "type_name": type_name,
                "product_uid": e.source,
                "first_seen_time": e.time,
                "last_seen_time": e.time,
            })
        })
        .collect();
    let mut analytic = json!({
        "uid": a.id,
        "name": a.name,
        "version": a.version,
        "type_id": 1,
        "type": "Rule",
    });
    if let Some(s) = &a.strategy {
        analytic["category"] = json!(s);
    }
    // By kind, the first of each kind (the analytic lists the main one
    // first); every entity, in order, under `entity_list`.
    let mut entities = Map::new();
    for e in &fi.entities {
        entities
            .entry(e.kind.clone())
            .or_insert_with(|| json!(e.value));
    }
    let entity_list: Vec<Value> = fi
        .entities
        .iter()
        .map(|e| json!({ "kind": e.kind, "value": e.value }))
        .collect();
    let mut out = json!({
        "class_uid": 2004,
        "class_name": "Detection Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "activity_id": activity_id,
        "activity_name": f.activity.name(),
        "type_uid": 200400 + activity_id as u32,
        "type_name": format!("Detection Finding: {}", f.activity.name()),
        "time": fi.end_time,
        "start_time": fi.start_time,
        "end_time": fi.end_time,
        "severity_id": fi.severity.id(),
        "severity": fi.severity.name(),
        "status_id": 1,
        "status": "New",
        "is_alert": true,
        "message": fi.title,
        "metadata": {
            "version": OCSF_VERSION,
            "product": { "name": product.name, "vendor_name": product.name, "version": product.version },
            "uid": format!("{}:{}", fi.uid, fi.event_count),
        },
        "finding_info": {
            "uid": fi.uid,
            "title": fi.title,
            "desc": fi.description,
            "analytic": analytic,
            "attacks": fi.attacks.iter().map(attack_json).collect::<Vec<_>>(),
            "related_events": related,
            "related_events_count": fi.event_count,
            "first_seen_time": fi.start_time,
            "last_seen_time": fi.end_time,
            "types": fi.legs,
        },
        "evidences": fi.evidence.iter().map(evidence_json).collect::<Vec<_>>(),
        "risk_details": fi.reasons.join("; "),
        "unmapped": {
            "analytic_version": a.version,
            "tunables_hash": a.tunables_hash,
            "dedup_key": fi.uid,
            "legs": fi.legs,
            "reasons": fi.reasons,
            "entities": entities,
            "entity_list": entity_list,
        },
    });
    if let Some(host) = fi.entities.iter().find(|e| e.kind == "host") {
        out["device"] = json!({ "hostname": host.value, "type_id": 0 });
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{AnalyticInfo, Entity, EventClass, Finding, FindingActivity, Severity};

    #[test]
    fn renders_required_ocsf_attributes() {
        let f = EmittedFinding {
            activity: FindingActivity::Update,
            analytic: Arc::new(AnalyticInfo {
                id: "AN0676".into(),
                name: "Linux database dump".into(),
                version: "1.0.0".into(),
                strategy: Some("DET0242".into()),
                tunables_hash: "ab".into(),
            }),
            finding: Finding {
                uid: "u1".into(),
                title: "t".into(),
                description: "d".into(),
                severity: Severity::High,
                reasons: vec!["r1".into(), "r2".into()],
                entities: vec![Entity {
                    kind: "host".into(),
                    value: "db01".into(),
                }],
                start_time: 1,
                end_time: 2,
                attacks: vec![],
                legs: vec!["exec".into()],
                evidence: vec![Evidence {
                    leg: "exec".into(),
                    class: EventClass::ProcessStart,
                    source: "auditd".into(),
                    id: "e1".into(),
                    time: 1,
                    device: None,
                    user: Some("alice".into()),
                    process_name: Some("pg_dump".into()),
                    process_path: None,
                    pid: Some(7),
                    command_line: None,
                    parent_name: None,
                    file: None,
                    dst: None,
                    url: None,
                    query: None,
                    resource: None,
                    bytes: None,
                }],
                event_count: 1,
            },
        };
        let v = detection_finding(
            &f,
            &Product {
                name: "dumpwatch",
                version: "0",
            },
        );
        assert_eq!(v["class_uid"], 2004);
        assert_eq!(v["type_uid"], 200402);
        assert_eq!(v["severity_id"], 4);
        assert_eq!(v["finding_info"]["uid"], "u1");
        assert_eq!(v["finding_info"]["related_events"][0]["type_uid"], 100701);
        assert_eq!(v["evidences"][0]["process"]["pid"], 7);
        assert_eq!(v["device"]["hostname"], "db01");
        assert_eq!(v["risk_details"], "r1; r2");
        assert_eq!(v["metadata"]["version"], OCSF_VERSION);
        assert_eq!(v["unmapped"]["entity_list"][0]["kind"], "host");
    }

    #[test]
    fn several_entities_of_one_kind_are_all_kept() {
        let f = EmittedFinding {
            activity: FindingActivity::Create,
            analytic: Arc::new(AnalyticInfo {
                id: "X".into(),
                name: "x".into(),
                version: "1".into(),
                strategy: None,
                tunables_hash: "h".into(),
            }),
            finding: Finding {
                uid: "u".into(),
                title: "t".into(),
                description: "d".into(),
                severity: Severity::Low,
                reasons: vec![],
                entities: vec![
                    Entity {
                        kind: "bucket".into(),
                        value: "first".into(),
                    },
                    Entity {
                        kind: "bucket".into(),
                        value: "second".into(),
                    },
                ],
                start_time: 0,
                end_time: 0,
                attacks: vec![],
                legs: vec![],
                evidence: vec![],
                event_count: 0,
            },
        };
        let v = detection_finding(
            &f,
            &Product {
                name: "d",
                version: "0",
            },
        );
        assert_eq!(v["unmapped"]["entities"]["bucket"], "first");
        assert_eq!(
            v["unmapped"]["entity_list"].as_array().map(Vec::len),
            Some(2)
        );
    }
}
