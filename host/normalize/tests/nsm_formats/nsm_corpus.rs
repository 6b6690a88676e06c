//! The Zeek and Suricata corpus files, and samples written here.

use dumpwatch_normalize::Format;

use super::common::*;

#[test]
fn zeek_corpus_files() {
    let files = [
        ("otrf_apt29-day1_SCRANTON_conn.jsonl", "network", 134),
        ("otrf_apt29-day1_SCRANTON_http.jsonl", "http", 62),
        ("otrf_lsass-campaign-01_conn.log", "network", 112),
        ("otrf_lsass-campaign-01_http.log", "http", 0),
        ("otrf_lsass-campaign-01_files.log", "http", 0),
        ("zeek-btest_mysql_wireshark_mysql.log", "network", 0),
        ("zeek-btest_mysql_plain-aws-rds_mysql.log", "network", 0),
        (
            "zeek-btest_postgresql_greenhouse-app_postgresql.log",
            "network",
            0,
        ),
    ];
    for (name, class, n) in files {
        let r = run_fixture(Format::Zeek, &format!("corpus/zeek/{name}"));
        assert_eq!(r.stats.error_count(), 0, "{name}: {:?}", r.errors);
        assert_eq!(r.class_count(class), n, "{name}: {:?}", r.stats);
        assert_eq!(r.stats.normalized, n, "{name}: {:?}", r.stats);
    }
    let files = run_fixture(Format::Zeek, "corpus/zeek/otrf_lsass-campaign-01_files.log");
    assert_eq!(files.skipped("files"), 3);
    let mysql = run_fixture(
        Format::Zeek,
        "corpus/zeek/zeek-btest_mysql_wireshark_mysql.log",
    );
    assert_eq!(mysql.skipped("mysql"), 18);
    // Response-only records of a one-sided capture have no method.
    let http = run_fixture(Format::Zeek, "corpus/zeek/otrf_lsass-campaign-01_http.log");
    assert_eq!(http.skipped("http:no method"), 3);
}

#[test]
fn webdav_upload_and_its_connection() {
    let http = run_fixture(
        Format::Zeek,
        "corpus/zeek/otrf_apt29-day1_SCRANTON_http.jsonl",
    );
    let put = http
        .events
        .iter()
        .map(|e| serde_json::to_value(e).expect("json"))
        .find(|v| v["http"]["method"] == "PUT" && v["http"]["request_bytes"] == 1_082_089)
        .expect("the WebDAV PUT");
    assert_eq!(put["http"]["uri"], "/webdav/OfficeSupplies.7z");
    assert_eq!(put["http"]["host"], "192.168.0.4");
    assert_eq!(put["http"]["src"]["ip"], "10.0.1.4");
    assert_eq!(put["http"]["dst"]["port"], 80);
    assert_eq!(
        put["http"]["user_agent"],
        "Microsoft-WebDAV-MiniRedir/10.0.18362"
    );
    assert_eq!(put["http"]["status"], 401);
    assert!(
        put["id"]
            .as_str()
            .expect("id")
            .starts_with("CPKuRr3fL4F8tgqXQ1:")
    );

    let conn = run_fixture(
        Format::Zeek,
        "corpus/zeek/otrf_apt29-day1_SCRANTON_conn.jsonl",
    );
    let upload = conn
        .events
        .iter()
        .map(|e| serde_json::to_value(e).expect("json"))
        .find(|v| v["network"]["bytes_out"] == 2_181_167)
        .expect("the upload flow");
    assert_eq!(upload["network"]["dst"]["ip"], "192.168.0.4");
    assert_eq!(upload["network"]["dst"]["port"], 80);
    assert_eq!(upload["network"]["protocol"], 6);
    assert_eq!(upload["network"]["app_protocol"], "http");
    let end = upload["network"]["end_time"].as_i64().expect("end");
    assert!(end >= upload["time"].as_i64().expect("time"));
}

#[test]
fn tsv_conn_maps_columns_by_name() {
    let r = run_fixture(Format::Zeek, "corpus/zeek/otrf_lsass-campaign-01_conn.log");
    let v = r.json("CX6po61SVaO8po0uh8");
    assert_eq!(v["time"], 1_692_161_643_549i64);
    assert_eq!(v["network"]["dst"]["ip"], "10.0.5.13");
    assert_eq!(v["network"]["dst"]["port"], 80);
    assert_eq!(v["network"]["bytes_in"], 403);
    assert_eq!(v["network"]["end_time"], 1_692_161_644_750i64);
}

#[test]
fn zeek_written_samples() {
    let r = run_fixture(Format::Zeek, "written/zeek/ssl_dns_http.log");
    assert_eq!(r.class_count("name"), 3, "{:?}", r.stats);
    assert_eq!(r.class_count("http"), 1, "{:?}", r.stats);
    assert_eq!(r.skipped("ssl:no server name"), 1);
    let tls = r.json("CsslAAAA1");
    assert_eq!(tls["name"]["kind"], "tls_server_name");
    assert_eq!(tls["name"]["name"], "bucket.s3.amazonaws.com");
    let dns = r.json("CdnsAAAA1:4242");
    assert_eq!(dns["name"]["name"], "dropbox.com");
    assert_eq!(
        dns["name"]["answers"],
        serde_json::json!(["162.125.1.18", "2620:100:6017:18::a27d:212"])
    );
    let iso = r.json("CdnsAAAA2:7");
    assert_eq!(iso["time_iso"], "2024-03-01T10:00:05.250Z");
    let post = r.json("ChttpAAA1:1");
    assert_eq!(post["http"]["method"], "POST");
    assert_eq!(post["http"]["uri"], "/upload?name=a b");
    assert_eq!(post["http"]["request_bytes"], 52_428_800);

    let masked = run_fixture(Format::Zeek, "written/zeek/masked_ts_conn.log");
    assert_eq!(masked.stats.errors.get("missing time"), Some(&2));
    assert_eq!(masked.stats.error_count(), 2);
    assert_eq!(masked.class_count("network"), 1);
}

#[test]
fn suricata_corpus_files() {
    let files = [
        ("suricata-verify_detect-engine-state-03_eve.json", 1),
        ("suricata-verify_detect-ldap-operation_eve.json", 1),
        ("suricata-verify_output-eve-fileinfo_eve.json", 1),
        ("suricata-verify_alert-testmyids_eve.json", 0),
        ("suricata-verify_tls-json-output-ids_eve.json", 1),
        ("suricata-verify_dns-tcp-www-google-com_eve.json", 2),
    ];
    for (name, n) in files {
        let r = run_fixture(Format::Suricata, &format!("corpus/suricata/{name}"));
        assert_eq!(r.stats.error_count(), 0, "{name}: {:?}", r.errors);
        assert_eq!(r.stats.normalized, n, "{name}: {:?}", r.stats);
    }
}

#[test]
fn suricata_flow_tls_fileinfo_dns() {
    let r = run_fixture(
        Format::Suricata,
        "corpus/suricata/suricata-verify_detect-engine-state-03_eve.json",
    );
    let flow = r.json("1746257912426707:flow");
    assert_eq!(flow["network"]["bytes_out"], 626);
    assert_eq!(flow["network"]["bytes_in"], 338);
    assert_eq!(flow["network"]["app_protocol"], "http");
    assert_eq!(flow["time_iso"], "2023-12-27T08:54:54.668Z");
    assert_eq!(flow["network"]["end_time"], 1_703_667_294_669i64);
    assert_eq!(r.skipped("stats"), 1);

    let tls = run_fixture(
        Format::Suricata,
        "corpus/suricata/suricata-verify_tls-json-output-ids_eve.json",
    );
    assert_eq!(
        tls.json("1880489165303449:tls")["name"]["name"],
        "www.google.com"
    );

    let fi = run_fixture(
        Format::Suricata,
        "corpus/suricata/suricata-verify_output-eve-fileinfo_eve.json",
    );
    let v = fi.json("841252990914572:fileinfo:0:0");
    // A download is logged from the server: turned to the request's side.
    assert_eq!(v["http"]["src"]["ip"], "10.16.1.11");
    assert_eq!(v["http"]["dst"]["port"], 80);
    assert_eq!(v["http"]["uri"], "/download/eicar.com");
    assert_eq!(v["http"]["response_bytes"], 68);

    let dns = run_fixture(
        Format::Suricata,
        "corpus/suricata/suricata-verify_dns-tcp-www-google-com_eve.json",
    );
    let q = dns.json("358186737135978:dns:0");
    assert_eq!(q["name"]["name"], "www.google.com");
    assert_eq!(q["name"]["answers"].as_array().expect("answers").len(), 12);
    assert_eq!(dns.skipped("dns:answer"), 12);
}

#[test]
fn suricata_written_samples() {
    let r = run_fixture(Format::Suricata, "written/suricata/eve_v2_v3.json");
    assert_eq!(r.stats.error_count(), 0, "{:?}", r.errors);
    let post = r.json("77:http:3");
    assert_eq!(post["http"]["method"], "POST");
    assert_eq!(post["http"]["request_bytes"], 1_048_576);
    let up = r.json("77:fileinfo:3:1");
    assert_eq!(up["http"]["request_bytes"], 1_048_576);
    assert_eq!(up["http"]["src"]["ip"], "10.0.0.8");
    let v2 = r.json("88:dns:0");
    assert_eq!(v2["name"]["answers"], serde_json::json!(["93.184.216.34"]));
    let v3 = r.json("99:dns:0");
    assert_eq!(v3["name"]["name"], "files.example.net");
    assert_eq!(v3["name"]["answers"], serde_json::json!(["203.0.113.9"]));
    assert_eq!(r.skipped("tls:no sni"), 1);
    assert_eq!(r.skipped("alert"), 1);
}

#[test]
fn formats_are_detected_from_the_first_lines() {
    let cases = [
        (
            "corpus/linux-auditd/otrf_sh_arp_cache_2020-11-10074812.log",
            Format::Auditd,
        ),
        (
            "corpus/linux-auditd/otrf_auoms-syslog_log4shell_2022-05-11.jsonl",
            Format::Auditd,
        ),
        (
            "corpus/linux-auditd/go-libaudit_auparse_audit-rhel7.log",
            Format::Auditd,
        ),
        ("written/linux-auditd/ausearch_i.log", Format::Auditd),
        ("written/linux-auditd/kernel.log", Format::Auditd),
        ("written/linux-auditd/syslog.log", Format::Auditd),
        ("written/linux-auditd/enriched.log", Format::Auditd),
        ("corpus/zeek/otrf_lsass-campaign-01_conn.log", Format::Zeek),
        (
            "corpus/zeek/otrf_apt29-day1_SCRANTON_conn.jsonl",
            Format::Zeek,
        ),
        (
            "corpus/zeek/zeek-btest_postgresql_greenhouse-app_postgresql.log",
            Format::Zeek,
        ),
        ("written/zeek/ssl_dns_http.log", Format::Zeek),
        (
            "corpus/suricata/suricata-verify_detect-engine-state-03_eve.json",
            Format::Suricata,
        ),
        (
            "corpus/suricata/suricata-verify_dns-tcp-www-google-com_eve.json",
            Format::Suricata,
        ),
        ("written/suricata/eve_v2_v3.json", Format::Suricata),
    ];
    for (path, want) in cases {
        let bytes = fixture(path);
        let sample = &bytes[..bytes.len().min(64 * 1024)];
        assert_eq!(dumpwatch_normalize::detect(sample), Some(want), "{path}");
    }
}
