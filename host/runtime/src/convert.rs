//! Host events to guest records, guest findings to host findings.
//!
//! Only events that passed an analytic's prefilter are converted, so the
//! string copies here are paid for a small share of the traffic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use dumpwatch_event as ev;

use crate::wit;

pub fn ip_to_wit(ip: IpAddr) -> wit::IpAddress {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            wit::IpAddress::Ipv4((a, b, c, d))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            wit::IpAddress::Ipv6((s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]))
        }
    }
}

pub fn ip_from_wit(ip: &wit::IpAddress) -> IpAddr {
    match *ip {
        wit::IpAddress::Ipv4((a, b, c, d)) => IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
        wit::IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => {
            IpAddr::V6(Ipv6Addr::new(a, b, c, d, e, f, g, h))
        }
    }
}

fn endpoint(e: &ev::Endpoint) -> wit::Endpoint {
    wit::Endpoint {
        ip: e.ip.map(ip_to_wit),
        port: e.port,
        hostname: e.hostname.clone(),
    }
}

fn process(p: &ev::Process) -> wit::Process {
    wit::Process {
        pid: p.pid,
        guid: p.guid.clone(),
        name: p.name.clone(),
        path: p.path.clone(),
        command_line: p.command_line.clone(),
        args: p.args.clone(),
        cwd: p.cwd.clone(),
        parent_pid: p.parent_pid,
        parent_guid: p.parent_guid.clone(),
        parent_name: p.parent_name.clone(),
        parent_path: p.parent_path.clone(),
        ancestry: p.ancestry.clone(),
        signing_id: p.signing_id.clone(),
    }
}

fn file_op(op: ev::FileOperation) -> wit::FileOperation {
    match op {
        ev::FileOperation::Create => wit::FileOperation::Create,
        ev::FileOperation::Write => wit::FileOperation::Write,
        ev::FileOperation::Truncate => wit::FileOperation::Truncate,
        ev::FileOperation::Rename => wit::FileOperation::Rename,
        ev::FileOperation::CloseModified => wit::FileOperation::CloseModified,
        ev::FileOperation::Delete => wit::FileOperation::Delete,
    }
}

fn activity(a: &ev::Activity) -> wit::Activity {
    match a {
        ev::Activity::ProcessStart(p) => wit::Activity::ProcessStart(wit::ProcessStart {
            elevation: p.elevation.clone(),
            integrity: p.integrity.clone(),
        }),
        ev::Activity::File(f) => wit::Activity::File(wit::FileActivity {
            operation: file_op(f.operation),
            path: f.path.clone(),
            source_path: f.source_path.clone(),
            size: f.size,
        }),
        ev::Activity::Network(n) => wit::Activity::Network(wit::NetworkFlow {
            src: endpoint(&n.src),
            dst: endpoint(&n.dst),
            protocol: n.protocol,
            app_protocol: n.app_protocol.clone(),
            bytes_out: n.bytes_out,
            bytes_in: n.bytes_in,
            end_time: n.end_time,
            allowed: n.allowed,
            interface_id: n.interface.clone(),
        }),
        ev::Activity::Http(h) => wit::Activity::Http(wit::HttpRequest {
            src: endpoint(&h.src),
            dst: endpoint(&h.dst),
            method: h.method.clone(),
            host: h.host.clone(),
            uri: h.uri.clone(),
            user_agent: h.user_agent.clone(),
            request_bytes: h.request_bytes,
            response_bytes: h.response_bytes,
            status: h.status,
        }),
        ev::Activity::Name(n) => wit::Activity::Name(wit::NetworkName {
            kind: match n.kind {
                ev::NameKind::TlsServerName => wit::NameKind::TlsServerName,
                ev::NameKind::DnsQuery => wit::NameKind::DnsQuery,
            },
            name: n.name.clone(),
            src: endpoint(&n.src),
            dst: endpoint(&n.dst),
            answers: n.answers.iter().copied().map(ip_to_wit).collect(),
        }),
        ev::Activity::CloudApi(c) => wit::Activity::CloudApi(wit::CloudApiCall {
            provider: c.provider.clone(),
            service: c.service.clone(),
            operation: c.operation.clone(),
            region: c.region.clone(),
            source_ip: c.source_ip.clone(),
            user_agent: c.user_agent.clone(),
            error: c.error.clone(),
            resource: c.resource.clone(),
            bucket: c.bucket.clone(),
            key: c.key.clone(),
            bytes_in: c.bytes_in,
            bytes_out: c.bytes_out,
            parameters: c.parameters.clone(),
        }),
        ev::Activity::Query(q) => wit::Activity::Query(wit::DatastoreQuery {
            system: q.system.clone(),
            text: q.text.clone(),
            query_type: q.query_type.clone(),
            database: q.database.clone(),
            schema: q.schema.clone(),
            warehouse: q.warehouse.clone(),
            template_hash: q.template_hash.clone(),
            template_hash_version: q.template_hash_version.clone(),
            rows: q.rows,
            bytes_scanned: q.bytes_scanned,
            status: q.status.clone(),
            end_time: q.end_time,
        }),
        ev::Activity::FileAccess(f) => wit::Activity::FileAccess(wit::FileAccess {
            operation: f.operation.clone(),
            path: f.path.clone(),
            name: f.name.clone(),
            site: f.site.clone(),
            workload: f.workload.clone(),
            client_ip: f.client_ip.clone(),
            user_agent: f.user_agent.clone(),
            application: f.application.clone(),
        }),
    }
}

/// The guest record of a host event.
pub fn event_to_wit(e: &ev::Event) -> wit::Event {
    wit::Event {
        time: e.time,
        source: e.source.to_owned(),
        id: e.id.clone(),
        device: wit::Device {
            hostname: e.device.hostname.clone(),
            ip: e.device.ip.map(ip_to_wit),
            domain: e.device.domain.clone(),
        },
        actor: wit::Actor {
            user: e.actor.user.clone(),
            uid: e.actor.uid,
            effective_user: e.actor.effective_user.clone(),
            effective_uid: e.actor.effective_uid,
            groups: e.actor.groups.clone(),
            session: e.actor.session.clone(),
            arn: e.actor.arn.clone(),
            issuer_arn: e.actor.issuer_arn.clone(),
            access_key_id: e.actor.access_key_id.clone(),
            identity_type: e.actor.identity_type.clone(),
        },
        process: e.process.as_deref().map(process),
        activity: activity(&e.activity),
    }
}

pub fn class_from_wit(c: wit::EventClass) -> ev::EventClass {
    match c {
        wit::EventClass::ProcessStart => ev::EventClass::ProcessStart,
        wit::EventClass::File => ev::EventClass::File,
        wit::EventClass::Network => ev::EventClass::Network,
        wit::EventClass::Http => ev::EventClass::Http,
        wit::EventClass::Name => ev::EventClass::Name,
        wit::EventClass::CloudApi => ev::EventClass::CloudApi,
        wit::EventClass::Query => ev::EventClass::Query,
        wit::EventClass::FileAccess => ev::EventClass::FileAccess,
    }
}

fn severity(s: wit::Severity) -> ev::Severity {
    match s {
        wit::Severity::Informational => ev::Severity::Informational,
        wit::Severity::Low => ev::Severity::Low,
        wit::Severity::Medium => ev::Severity::Medium,
        wit::Severity::High => ev::Severity::High,
        wit::Severity::Critical => ev::Severity::Critical,
    }
}

pub fn attack_from_wit(a: wit::Attack) -> ev::Attack {
    ev::Attack {
        tactic_id: a.tactic_id,
        tactic_name: a.tactic_name,
        technique_id: a.technique_id,
        technique_name: a.technique_name,
        sub_technique_id: a.sub_technique_id,
        sub_technique_name: a.sub_technique_name,
    }
}

fn evidence(e: wit::Evidence) -> ev::Evidence {
    ev::Evidence {
        leg: e.leg,
        class: class_from_wit(e.class),
        source: e.source,
        id: e.id,
        time: e.time,
        device: e.device,
        user: e.user,
        process_name: e.process_name,
        process_path: e.process_path,
        pid: e.pid,
        command_line: e.command_line,
        parent_name: e.parent_name,
        file: e.file,
        dst: e.dst.map(|d| ev::EvidenceEndpoint {
            ip: d.ip.as_ref().map(ip_from_wit),
            port: d.port,
            hostname: d.hostname,
        }),
        url: e.url,
        query: e.query,
        resource: e.resource,
        bytes: e.bytes,
    }
}

/// The host finding of a guest finding.
pub fn finding_from_wit(f: wit::Finding) -> ev::Finding {
    ev::Finding {
        uid: f.uid,
        title: f.title,
        description: f.description,
        severity: severity(f.severity),
        reasons: f.reasons,
        entities: f
            .entities
            .into_iter()
            .map(|e| ev::Entity {
                kind: e.kind,
                value: e.value,
            })
            .collect(),
        start_time: f.start_time,
        end_time: f.end_time,
        attacks: f.attacks.into_iter().map(attack_from_wit).collect(),
        legs: f.legs,
        evidence: f.evidence.into_iter().map(evidence).collect(),
        event_count: f.event_count,
    }
}
