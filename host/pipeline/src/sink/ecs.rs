//! An Elastic Common Schema view of a finding, for sinks that feed an
//! Elastic-shaped SIEM (`format = "ecs"`).
//!
//! Findings are rendered once, as OCSF JSON, and staged in the checkpoint
//! outbox in that form; an ECS sink converts each line as it writes it.
//! The mapping follows ECS's alert conventions: `event.kind: alert`,
//! `rule.*` for the analytic, `threat.*` for ATT&CK, `host.*`, `user.*`
//! and `destination.*` from the finding's entities; what ECS has no field
//! for (tunables hash, legs, evidence, dedup key) stays under `dumpwatch.*`.

use std::io;

use serde_json::{Map, Value, json};

use super::Sink;

fn iso(ms: &Value) -> Value {
    ms.as_i64()
        .and_then(|m| jiff::Timestamp::from_millisecond(m).ok())
        .map(|t| json!(t.to_string()))
        .unwrap_or(Value::Null)
}

fn put(o: &mut Map<String, Value>, k: &str, v: Value) {
    if !v.is_null() {
        o.insert(k.to_owned(), v);
    }
}

/// ECS `event.severity` is a number; `event.risk_score` 0–100 by OCSF
/// severity (informational … critical).
fn risk_score(severity_id: i64) -> i64 {
    match severity_id {
        1 => 10,
        2 => 25,
        3 => 50,
        4 => 75,
        5 | 6 => 95,
        _ => 0,
    }
}

/// Convert one OCSF Detection Finding (as JSON text) to its ECS view.
pub fn ocsf_to_ecs(line: &str) -> Result<String, String> {
    let f: Value = serde_json::from_str(line).map_err(|e| format!("not a finding: {e}"))?;
    let fi = &f["finding_info"];
    let analytic = &fi["analytic"];
    let unmapped = &f["unmapped"];
    let entities = unmapped["entities"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let entity = |k: &str| entities.get(k).cloned().unwrap_or(Value::Null);

    let mut event = Map::new();
    put(&mut event, "kind", json!("alert"));
    put(&mut event, "category", json!(["intrusion_detection"]));
    put(&mut event, "type", json!(["info"]));
    let activity = f["activity_name"].as_str().unwrap_or("").to_lowercase();
    put(
        &mut event,
        "action",
        json!(format!("detection-finding-{activity}")),
    );
    put(&mut event, "id", f["metadata"]["uid"].clone());
    put(&mut event, "start", iso(&f["start_time"]));
    put(&mut event, "end", iso(&f["end_time"]));
    let sev = f["severity_id"].as_i64().unwrap_or(0);
    put(&mut event, "severity", json!(sev));
    put(&mut event, "risk_score", json!(risk_score(sev)));
    put(&mut event, "reason", f["risk_details"].clone());
    put(&mut event, "dataset", json!("dumpwatch.finding"));
    put(&mut event, "module", json!("dumpwatch"));
    put(&mut event, "provider", json!("dumpwatch"));

    let mut rule = Map::new();
    put(&mut rule, "id", analytic["uid"].clone());
    put(&mut rule, "name", analytic["name"].clone());
    put(&mut rule, "version", analytic["version"].clone());
    put(&mut rule, "category", analytic["category"].clone());
    put(&mut rule, "description", fi["desc"].clone());
    put(&mut rule, "ruleset", json!("MITRE ATT&CK DET0242"));

    let attacks = fi["attacks"].as_array().cloned().unwrap_or_default();
    let field = |a: &Value, p: &str, k: &str| a[p][k].as_str().map(str::to_owned);
    let collect = |p: &str, k: &str| -> Vec<String> {
        let mut v: Vec<String> = attacks.iter().filter_map(|a| field(a, p, k)).collect();
        v.dedup();
        v
    };
    let mut technique = Map::new();
    put(&mut technique, "id", json!(collect("technique", "uid")));
    put(&mut technique, "name", json!(collect("technique", "name")));
    let sub_ids = collect("sub_technique", "uid");
    if !sub_ids.is_empty() {
        technique.insert(
            "subtechnique".into(),
            json!({ "id": sub_ids, "name": collect("sub_technique", "name") }),
        );
    }
    let threat = json!({
        "framework": "MITRE ATT&CK",
        "technique": technique,
        "tactic": { "id": collect("tactic", "uid"), "name": collect("tactic", "name") },
    });

    let mut out = Map::new();
    put(&mut out, "@timestamp", iso(&f["time"]));
    put(&mut out, "message", f["message"].clone());
    out.insert("event".into(), Value::Object(event));
    out.insert("rule".into(), Value::Object(rule));
    out.insert("threat".into(), threat);
    put(
        &mut out,
        "observer",
        json!({ "vendor": "dumpwatch", "product": "dumpwatch", "version": f["metadata"]["product"]["version"] }),
    );
    let host = entity("host");
    if !host.is_null() {
        out.insert("host".into(), json!({ "name": host }));
    }
    let user = entity("user");
    let identity = entity("identity");
    if !user.is_null() || !identity.is_null() {
        let mut u = Map::new();
        put(
            &mut u,
            "name",
            if user.is_null() {
                identity.clone()
            } else {
                user
            },
        );
        if !identity.is_null() {
            put(&mut u, "id", identity);
        }
        out.insert("user".into(), Value::Object(u));
    }
    let dest = entity("destination");
    if !dest.is_null() {
        out.insert("destination".into(), json!({ "address": dest }));
    }
    out.insert(
        "dumpwatch".into(),
        json!({
            "finding_uid": fi["uid"],
            "activity": f["activity_name"],
            "tunables_hash": unmapped["tunables_hash"],
            "legs": unmapped["legs"],
            "reasons": unmapped["reasons"],
            "entities": entities,
            "evidence": f["evidences"],
            "related_events": fi["related_events"],
            "ocsf_class_uid": f["class_uid"],
        }),
    );
    Ok(Value::Object(out).to_string())
}

/// Writes the ECS view of each finding to the sink it wraps.
pub struct EcsSink {
    inner: Box<dyn Sink>,
}

impl EcsSink {
    pub fn new(inner: Box<dyn Sink>) -> EcsSink {
        EcsSink { inner }
    }
}

impl Sink for EcsSink {
    fn emit(&mut self, line: &str) -> io::Result<()> {
        let ecs = ocsf_to_ecs(line).map_err(io::Error::other)?;
        self.inner.emit(&ecs)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
    fn name(&self) -> String {
        self.inner.name()
    }
    fn size(&mut self) -> Option<u64> {
        self.inner.size()
    }
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.inner.truncate(len)
    }
}
