//! Throughput of the auditd, Zeek and Suricata normalizers against the
//! cheapest possible pass over the same bytes: a plain line split for the
//! text formats, `serde_json` validating into `IgnoredAny` for the JSON
//! ones. Streams of a few MB are generated here from corpus-like records.
//!
//! Run: `cargo bench -p dumpwatch-normalize --bench nsm`. Besides
//! criterion's numbers, a summary table prints MB/s, events/s and the
//! normalizer-to-baseline ratio for each stream (target for the JSON
//! normalizers: at least 0.5x of the IgnoredAny speed).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group};
use dumpwatch_normalize::{DecodeContext, Format, Output, RecordPos, decoder};

mod common;

// The allocator the dumpwatch binary uses (normalizing allocates small
// strings for every event), so the figures are the product's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TARGET: usize = 4 << 20;

fn auditd_stream() -> Vec<u8> {
    let mut s = String::with_capacity(TARGET + 4096);
    let mut serial = 1000u64;
    let mut t = 1_700_000_000_000u64;
    while s.len() < TARGET {
        serial += 1;
        t += 7;
        let (sec, ms) = (t / 1000, t % 1000);
        let pid = 4000 + serial % 30000;
        let h = format!("msg=audit({sec}.{ms:03}:{serial})");
        match serial % 4 {
            0 | 1 => {
                s += &format!(
                    "type=SYSCALL {h}: arch=c000003e syscall=59 success=yes exit=0 a0=55e0c1a2b3c0 a1=55e0c1a2b500 a2=55e0c1a2b600 a3=8 items=2 ppid={} pid={pid} auid=1001 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 tty=pts0 ses=7 comm=\"pg_dump\" exe=\"/usr/lib/postgresql/16/bin/pg_dump\" key=\"exec\"\n",
                    pid - 1
                );
                s += &format!(
                    "type=EXECVE {h}: argc=4 a0=\"pg_dump\" a1=\"-d\" a2=\"shop\" a3=2D2D66696C653D2F746D702F73686F702073716C\n"
                );
                s += &format!("type=CWD {h}: cwd=\"/home/alice\"\n");
                s += &format!(
                    "type=PATH {h}: item=0 name=\"/usr/bin/pg_dump\" inode=5521 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\n"
                );
                s += &format!(
                    "type=PATH {h}: item=1 name=\"/lib64/ld-linux-x86-64.so.2\" inode=2366 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\n"
                );
                s += &format!("type=PROCTITLE {h}: proctitle=70675F64756D70002D640073686F70\n");
            }
            2 => {
                s += &format!(
                    "type=SYSCALL {h}: arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=55e0c1a3c010 a2=241 a3=1b6 items=2 ppid=4100 pid={pid} auid=1001 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 tty=pts0 ses=7 comm=\"bash\" exe=\"/usr/bin/bash\" key=\"dump_files\"\n"
                );
                s += &format!("type=CWD {h}: cwd=\"/home/alice\"\n");
                s += &format!(
                    "type=PATH {h}: item=0 name=\"/tmp/\" inode=131073 dev=08:01 mode=041777 ouid=0 ogid=0 rdev=00:00 nametype=PARENT\n"
                );
                s += &format!(
                    "type=PATH {h}: item=1 name=\"/tmp/shop.sql\" inode=131199 dev=08:01 mode=0100644 ouid=1001 ogid=1001 rdev=00:00 nametype=CREATE\n"
                );
                s += &format!("type=PROCTITLE {h}: proctitle=\"-bash\"\n");
            }
            _ => {
                s += &format!(
                    "type=SYSCALL {h}: arch=c000003e syscall=42 success=no exit=-115 a0=4 a1=7ffc5e1a2c40 a2=10 a3=0 items=0 ppid=4100 pid={pid} auid=1001 uid=1001 gid=1001 euid=1001 suid=1001 fsuid=1001 egid=1001 sgid=1001 fsgid=1001 tty=pts0 ses=7 comm=\"pg_dump\" exe=\"/usr/lib/postgresql/16/bin/pg_dump\" key=\"net\"\n"
                );
                s += &format!("type=SOCKADDR {h}: saddr=020015380A0000050000000000000000\n");
                s += &format!("type=PROCTITLE {h}: proctitle=70675F64756D70002D640073686F70\n");
                s += &format!(
                    "type=USER_ACCT {h}: pid=1298 uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:accounting grantors=pam_unix acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=? addr=10.1.1.1 terminal=ssh res=success'\n"
                );
            }
        }
    }
    s.into_bytes()
}

fn zeek_tsv_stream() -> Vec<u8> {
    let mut s = String::from(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n",
    );
    let mut i = 0u64;
    while s.len() < TARGET {
        i += 1;
        s += &format!(
            "{}.{:06}\tC{i:017}\t10.0.{}.{}\t{}\t192.168.0.4\t80\ttcp\thttp\t1.201128\t{}\t403\tSF\tT\tT\t0\tShADadfF\t6\t{}\t5\t615\t-\n",
            1_692_161_622 + i,
            i % 1_000_000,
            i % 250,
            i % 200 + 1,
            40000 + i % 20000,
            i * 13 % 100000,
            i * 13 % 100000 + 300
        );
    }
    s.into_bytes()
}

fn zeek_json_stream() -> Vec<u8> {
    let mut s = String::new();
    let mut i = 0u64;
    while s.len() < TARGET {
        i += 1;
        if i.is_multiple_of(2) {
            s += &format!(
                "{{\"@stream\":\"conn\",\"@system\":\"sensor\",\"@proc\":\"zeek\",\"ts\":{}.{:06},\"uid\":\"C{i:017}\",\"id_orig_h\":\"10.0.1.4\",\"id_orig_p\":{},\"id_resp_h\":\"192.168.0.4\",\"id_resp_p\":80,\"proto\":\"tcp\",\"service\":\"http\",\"duration\":10.706616878509521,\"orig_bytes\":{},\"resp_bytes\":1681,\"conn_state\":\"RSTO\",\"missed_bytes\":0,\"history\":\"ShADdaR\",\"orig_pkts\":12,\"orig_ip_bytes\":1307,\"resp_pkts\":11,\"resp_ip_bytes\":2133,\"orig_l2_addr\":\"00:0d:3a:4d:42:f2\",\"resp_l2_addr\":\"12:34:56:78:9a:bc\"}}\n",
                1_588_205_198 + i,
                i % 1_000_000,
                40000 + i % 20000,
                i * 17 % 3_000_000
            );
        } else {
            s += &format!(
                "{{\"ts\":{}.{:06},\"uid\":\"C{i:017}\",\"id.orig_h\":\"10.0.1.4\",\"id.orig_p\":{},\"id.resp_h\":\"192.168.0.4\",\"id.resp_p\":80,\"trans_depth\":35,\"method\":\"PUT\",\"host\":\"192.168.0.4\",\"uri\":\"/webdav/OfficeSupplies{i}.7z\",\"version\":\"1.1\",\"user_agent\":\"Microsoft-WebDAV-MiniRedir/10.0.18362\",\"request_body_len\":1082089,\"response_body_len\":381,\"status_code\":401,\"status_msg\":\"Unauthorized\",\"tags\":[],\"orig_fuids\":[\"Fa9g6D21RhcZ77voRl\"],\"orig_mime_types\":[\"application/x-7z-compressed\"],\"resp_fuids\":[\"Fum0Op2d9CNtt3NTwj\"],\"resp_mime_types\":[\"text/html\"],\"client_header_names\":[\"CONNECTION\",\"USER-AGENT\",\"IF\",\"TRANSLATE\",\"CONTENT-LENGTH\",\"HOST\"]}}\n",
                1_588_206_741 + i,
                i % 1_000_000,
                40000 + i % 20000
            );
        }
    }
    s.into_bytes()
}

fn suricata_stream() -> Vec<u8> {
    let mut s = String::new();
    let mut i = 0u64;
    while s.len() < TARGET {
        i += 1;
        let flow = 1_746_257_912_426_707u64 + i;
        let ts = format!(
            "2023-12-27T08:{:02}:{:02}.668726+0000",
            (i / 60) % 60,
            i % 60
        );
        match i % 5 {
            0 => {
                s += &format!(
                    "{{\"timestamp\":\"{ts}\",\"flow_id\":{flow},\"event_type\":\"http\",\"src_ip\":\"10.0.0.8\",\"src_port\":60118,\"dest_ip\":\"198.51.100.7\",\"dest_port\":8080,\"proto\":\"TCP\",\"tx_id\":0,\"http\":{{\"hostname\":\"www.server.lan\",\"url\":\"/upload.cgi?id={i}\",\"http_user_agent\":\"curl/8.5.0\",\"http_content_type\":\"text/html\",\"http_method\":\"POST\",\"protocol\":\"HTTP/1.1\",\"status\":200,\"length\":39}}}}\n"
                )
            }
            1 => {
                s += &format!(
                    "{{\"timestamp\":\"{ts}\",\"flow_id\":{flow},\"event_type\":\"flow\",\"src_ip\":\"10.0.0.8\",\"src_port\":60118,\"dest_ip\":\"198.51.100.7\",\"dest_port\":8080,\"proto\":\"TCP\",\"app_proto\":\"http\",\"flow\":{{\"pkts_toserver\":5,\"pkts_toclient\":5,\"bytes_toserver\":626,\"bytes_toclient\":338,\"start\":\"{ts}\",\"end\":\"{ts}\",\"age\":0,\"state\":\"closed\",\"reason\":\"shutdown\",\"alerted\":false}},\"tcp\":{{\"tcp_flags\":\"1b\",\"tcp_flags_ts\":\"1b\",\"tcp_flags_tc\":\"13\",\"syn\":true,\"fin\":true,\"psh\":true,\"ack\":true,\"state\":\"closed\"}}}}\n"
                )
            }
            2 => {
                s += &format!(
                    "{{\"timestamp\":\"{ts}\",\"flow_id\":{flow},\"event_type\":\"tls\",\"src_ip\":\"10.16.1.11\",\"src_port\":54684,\"dest_ip\":\"24.244.4.23\",\"dest_port\":443,\"proto\":\"TCP\",\"tls\":{{\"subject\":\"C=US, ST=California, L=Mountain View, O=Google Inc, CN=www.google.com\",\"issuerdn\":\"C=US, O=Google Inc, CN=Google Internet Authority G2\",\"fingerprint\":\"90:86:a4:3b:f5:cf:1b:2e:4e:f7:97:96:f9:de:ba:b9:66:35:86:3f\",\"sni\":\"www.google.com\",\"version\":\"TLS 1.2\",\"notbefore\":\"2016-09-14T08:20:40\",\"notafter\":\"2016-12-07T08:19:00\"}}}}\n"
                )
            }
            3 => {
                s += &format!(
                    "{{\"timestamp\":\"{ts}\",\"flow_id\":{flow},\"pcap_cnt\":5,\"event_type\":\"dns\",\"src_ip\":\"10.16.1.11\",\"src_port\":38195,\"dest_ip\":\"8.8.4.4\",\"dest_port\":53,\"proto\":\"UDP\",\"dns\":{{\"type\":\"query\",\"id\":{},\"rrname\":\"www{i}.google.com\",\"rrtype\":\"A\",\"tx_id\":0}}}}\n",
                    i % 65536
                )
            }
            _ => {
                s += &format!(
                    "{{\"timestamp\":\"{ts}\",\"flow_id\":{flow},\"pcap_cnt\":9,\"event_type\":\"alert\",\"src_ip\":\"82.165.177.154\",\"src_port\":80,\"dest_ip\":\"10.16.1.11\",\"dest_port\":54186,\"proto\":\"TCP\",\"alert\":{{\"action\":\"allowed\",\"gid\":1,\"signature_id\":2100498,\"rev\":7,\"signature\":\"GPL ATTACK_RESPONSE id check returned root\",\"category\":\"Potentially Bad Traffic\",\"severity\":2}},\"http\":{{\"hostname\":\"www.testmyids.com\",\"url\":\"/\",\"http_user_agent\":\"curl/7.43.0\",\"http_method\":\"GET\",\"protocol\":\"HTTP/1.1\",\"status\":200,\"length\":39}}}}\n"
                )
            }
        }
    }
    s.into_bytes()
}

/// Normalize a whole stream; returns the number of events.
fn normalize(format: Format, bytes: &[u8]) -> u64 {
    let mut dec = decoder(format, &DecodeContext::default());
    let mut out = Output::default();
    let mut offset = 0u64;
    let mut events = 0u64;
    for (i, line) in bytes.split(|&c| c == b'\n').enumerate() {
        dec.push(
            line,
            RecordPos {
                line: i as u64 + 1,
                offset,
            },
            &mut out,
        );
        offset += line.len() as u64 + 1;
        events += out.events.len() as u64;
        out.events.clear();
    }
    dec.finish(&mut out);
    events + out.events.len() as u64
}

/// The line split every normalizer starts from.
fn split_lines(bytes: &[u8]) -> u64 {
    bytes
        .split(|&c| c == b'\n')
        .map(|l| black_box(l).len() as u64)
        .sum()
}

/// serde_json validating each line, building nothing.
fn ignored_any(bytes: &[u8]) -> u64 {
    let mut n = 0;
    for l in bytes.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
        if serde_json::from_slice::<serde::de::IgnoredAny>(l).is_ok() {
            n += 1;
        }
    }
    n
}

struct Stream {
    name: &'static str,
    format: Format,
    bytes: Vec<u8>,
    baseline_name: &'static str,
    baseline: fn(&[u8]) -> u64,
}

fn streams() -> Vec<Stream> {
    vec![
        Stream {
            name: "auditd",
            format: Format::Auditd,
            bytes: auditd_stream(),
            baseline_name: "line split",
            baseline: split_lines,
        },
        Stream {
            name: "zeek_tsv",
            format: Format::Zeek,
            bytes: zeek_tsv_stream(),
            baseline_name: "line split",
            baseline: split_lines,
        },
        Stream {
            name: "zeek_json",
            format: Format::Zeek,
            bytes: zeek_json_stream(),
            baseline_name: "IgnoredAny",
            baseline: ignored_any,
        },
        Stream {
            name: "suricata_json",
            format: Format::Suricata,
            bytes: suricata_stream(),
            baseline_name: "IgnoredAny",
            baseline: ignored_any,
        },
    ]
}

fn bench(c: &mut Criterion) {
    for s in streams() {
        let mut g = c.benchmark_group(s.name);
        g.throughput(Throughput::Bytes(s.bytes.len() as u64));
        g.sample_size(10);
        g.bench_function("normalize", |b| {
            b.iter(|| normalize(s.format, black_box(&s.bytes)))
        });
        g.bench_function(s.baseline_name, |b| {
            b.iter(|| (s.baseline)(black_box(&s.bytes)))
        });
        g.finish();
    }
}

fn summary() {
    common::header();
    for s in streams() {
        let (norm, base, events) =
            common::paired(|| normalize(s.format, &s.bytes), || (s.baseline)(&s.bytes));
        common::row(s.name, s.bytes.len(), events, norm, base, s.baseline_name);
    }
}

criterion_group!(benches, bench);

fn main() {
    if common::table_only() {
        summary();
        return;
    }
    benches();
    if common::full_run() {
        summary();
    }
    Criterion::default().configure_from_args().final_summary();
}
