//! Samples written here in every auditd form (see
//! tests/fixtures/written/linux-auditd/README.md).

use dumpwatch_normalize::{DecodeContext, Format};

use super::common::*;

fn written(name: &str) -> Run {
    let r = run_fixture(Format::Auditd, &format!("written/linux-auditd/{name}"));
    assert_eq!(r.stats.error_count(), 0, "{name}: {:?}", r.errors);
    r
}

#[test]
fn shell_redirected_dump_links_the_file_to_the_exec_by_pid() {
    let r = written("raw_pg_dump_redirect.log");
    assert_eq!(r.class_count("process_start"), 2);
    let file = r.json("1700000000.512:1002");
    assert_eq!(file["file"]["operation"], "create");
    assert_eq!(file["file"]["path"], "/tmp/shop.sql");
    assert_eq!(file["process"]["name"], "bash");
    assert_eq!(file["process"]["pid"], 4242);
    assert_eq!(file["process"]["parent_name"], "bash");
    let exec = r.json("1700000000.513:1003");
    assert_eq!(exec["process"]["pid"], 4242);
    assert_eq!(exec["process"]["name"], "pg_dump");
    assert_eq!(exec["process"]["command_line"], "pg_dump shop");
    assert_eq!(exec["process"]["ancestry"], serde_json::json!(["bash"]));
    let conn = r.json("1700000000.540:1005");
    assert_eq!(conn["network"]["dst"]["ip"], "10.0.0.5");
    assert_eq!(conn["network"]["dst"]["port"], 5432);
    assert_eq!(conn["process"]["command_line"], "pg_dump shop");
    assert_eq!(r.skipped("SYSCALL:connect:unix"), 1);
}

#[test]
fn enriched_names_come_from_the_interpreted_tail() {
    let r = written("enriched.log");
    let v = r.json("db01:1700001000.250:2001");
    assert_eq!(v["actor"]["user"], "carol");
    assert_eq!(v["actor"]["uid"], 1002);
    assert_eq!(v["actor"]["effective_user"], "root");
    assert_eq!(v["actor"]["effective_uid"], 0);
    assert_eq!(v["process"]["args"][3], "-eSELECT * FROM customers");
    let c = r.json("db01:1700001000.260:2002");
    assert_eq!(c["network"]["dst"]["ip"], "192.168.1.10");
    assert_eq!(c["network"]["dst"]["port"], 3306);
    assert_eq!(r.skipped("USER_LOGIN"), 1);
}

#[test]
fn ausearch_interpreted_output_uses_the_configured_zone() {
    let ctx = DecodeContext {
        timezone: Some(jiff::tz::TimeZone::fixed(jiff::tz::offset(-4))),
        ..Default::default()
    };
    let bytes = fixture("written/linux-auditd/ausearch_i.log");
    let r = run_with(Format::Auditd, &bytes, &ctx);
    assert_eq!(r.stats.error_count(), 0, "{:?}", r.errors);
    // 10/04/2024 16:31:50.464 at UTC-4 is 20:31:50.464Z.
    let v = r.json("1728073910.464:387");
    assert_eq!(v["time_iso"], "2024-10-04T20:31:50.464Z");
    assert_eq!(v["actor"]["user"], "bob");
    assert_eq!(
        v["process"]["args"],
        serde_json::json!([
            "mysqldump",
            "--all-databases",
            "--result-file=/tmp/all dbs.sql"
        ])
    );
    assert_eq!(v["process"]["cwd"], "/home/bob/my dumps");
    let f = r.json("1728073910.470:388");
    assert_eq!(f["file"]["path"], "/tmp/all dbs.sql");
    let n = r.json("1728073910.480:389");
    assert_eq!(n["network"]["dst"]["port"], 3306);
    // Default: UTC.
    let utc = run(Format::Auditd, &bytes);
    assert!(utc.ids().contains(&"1728059510.464:387"));
}

#[test]
fn kernel_lines_use_numeric_types_and_per_arch_numbers() {
    let r = written("kernel.log");
    let psql = r.json("1700002000.120:3001");
    assert_eq!(psql["process"]["name"], "psql");
    assert_eq!(
        psql["process"]["args"],
        serde_json::json!(["psql", "-d", "billing"])
    );
    // i386 socketcall(SYS_CONNECT), host from the journal line.
    let c = r.json("db04:1700002000.300:3002");
    assert_eq!(c["network"]["dst"]["ip"], "172.16.0.20");
    assert_eq!(r.skipped("1131"), 1);
}

#[test]
fn syslog_host_names_the_device_unless_node_does() {
    let r = written("syslog.log");
    assert_eq!(
        r.json("db02:1728059510.464:501")["device"]["hostname"],
        "db02"
    );
    assert_eq!(
        r.json("db03:1728059511.100:501")["device"]["hostname"],
        "db03"
    );
    let mv = r.json("db05:1728059512.000:77");
    assert_eq!(mv["file"]["operation"], "rename");
    assert_eq!(mv["file"]["source_path"], "/var/backups/crm.archive");
    assert_eq!(mv["file"]["path"], "/tmp/crm.7z");
}

#[test]
fn split_arguments_over_several_execve_records_are_joined() {
    let r = written("split_args.log");
    let v = r.json("1700003000.010:4001");
    assert_eq!(
        v["process"]["args"],
        serde_json::json!([
            "psql",
            "-d",
            "crm",
            "COPY (SELECT * FROM customers) TO STDOUT WITH CSV HEADER",
            "-o/tmp/customers.csv"
        ])
    );
    assert_eq!(v["process"]["cwd"], "/home/dave m");
}

#[test]
fn interleaved_events_and_repeated_serials_across_hosts() {
    let r = written("interleaved.log");
    assert_eq!(r.class_count("process_start"), 4);
    let dump = r.json("web01:1700004001.500:12");
    assert_eq!(
        dump["process"]["ancestry"],
        serde_json::json!(["dash", "nginx"])
    );
    assert_eq!(dump["process"]["parent_name"], "dash");
    let sh = r.json("web01:1700004001.000:11");
    assert_eq!(sh["process"]["args"][2], "mysqldump --all-databases");
    assert_eq!(r.json("web02:1700004001.000:11")["process"]["name"], "ls");
}

#[test]
fn a_checkpoint_never_passes_a_buffered_event() {
    use dumpwatch_normalize::{Output, RecordPos, decoder};
    let mut dec = decoder(Format::Auditd, &DecodeContext::default());
    let mut out = Output::default();
    let lines = fixture("written/linux-auditd/raw_pg_dump_redirect.log");
    let mut offset = 0u64;
    for (i, line) in lines.split(|&c| c == b'\n').take(3).enumerate() {
        let pos = RecordPos {
            line: i as u64 + 1,
            offset,
        };
        dec.push(line, pos, &mut out);
        offset += line.len() as u64 + 1;
    }
    assert_eq!(dec.oldest_pending().map(|p| p.line), Some(1));
    assert!(out.events.is_empty());
    dec.finish(&mut out);
    assert_eq!(out.events.len(), 1);
    assert_eq!(dec.oldest_pending(), None);
}
