//! The guest SDK's event type to the host's, field for field (both are
//! generated from `wit/analytic.wit`), so a native and a WASM run of an
//! analytic get exactly the same events.

use dumpwatch_runtime::wit as h;
use dumpwatch_sdk::types as g;

fn ip(a: &g::IpAddress) -> h::IpAddress {
    match *a {
        g::IpAddress::Ipv4(t) => h::IpAddress::Ipv4(t),
        g::IpAddress::Ipv6(t) => h::IpAddress::Ipv6(t),
    }
}

fn endpoint(e: &g::Endpoint) -> h::Endpoint {
    h::Endpoint {
        ip: e.ip.as_ref().map(ip),
        port: e.port,
        hostname: e.hostname.clone(),
    }
}

fn process(p: &g::Process) -> h::Process {
    h::Process {
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

fn activity(a: &g::Activity) -> h::Activity {
    match a {
        g::Activity::ProcessStart(p) => h::Activity::ProcessStart(h::ProcessStart {
            elevation: p.elevation.clone(),
            integrity: p.integrity.clone(),
        }),
        g::Activity::File(f) => h::Activity::File(h::FileActivity {
            operation: match f.operation {
                g::FileOperation::Create => h::FileOperation::Create,
                g::FileOperation::Write => h::FileOperation::Write,
                g::FileOperation::Truncate => h::FileOperation::Truncate,
                g::FileOperation::Rename => h::FileOperation::Rename,
                g::FileOperation::CloseModified => h::FileOperation::CloseModified,
                g::FileOperation::Delete => h::FileOperation::Delete,
            },
            path: f.path.clone(),
            source_path: f.source_path.clone(),
            size: f.size,
        }),
        g::Activity::Network(n) => h::Activity::Network(h::NetworkFlow {
            src: endpoint(&n.src),
            dst: endpoint(&n.dst),
            protocol: n.protocol,
            app_protocol: n.app_protocol.clone(),
            bytes_out: n.bytes_out,
            bytes_in: n.bytes_in,
            end_time: n.end_time,
            allowed: n.allowed,
            interface_id: n.interface_id.clone(),
        }),
        g::Activity::Http(x) => h::Activity::Http(h::HttpRequest {
            src: endpoint(&x.src),
            dst: endpoint(&x.dst),
            method: x.method.clone(),
            host: x.host.clone(),
            uri: x.uri.clone(),
            user_agent: x.user_agent.clone(),
            request_bytes: x.request_bytes,
            response_bytes: x.response_bytes,
            status: x.status,
        }),
        other => panic!("the AN0676 bench stream has no {other:?}"),
    }
}

pub fn event(e: &g::Event) -> h::Event {
    h::Event {
        time: e.time,
        source: e.source.clone(),
        id: e.id.clone(),
        device: h::Device {
            hostname: e.device.hostname.clone(),
            ip: e.device.ip.as_ref().map(ip),
            domain: e.device.domain.clone(),
        },
        actor: h::Actor {
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
        process: e.process.as_ref().map(process),
        activity: activity(&e.activity),
    }
}
