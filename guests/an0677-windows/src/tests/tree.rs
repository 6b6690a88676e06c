//! Process-tree attribution: children of the tool, the parent shell's
//! redirection, Security 4688 pids against Sysmon GUIDs.

use super::*;

const OUT: &str = r"C:\Users\Public\dump.csv";

#[test]
fn a_file_created_by_a_child_of_the_tool_is_its_export_whoever_the_child_runs_as() {
    // sqlcmd's `!!` runs a command through cmd.exe; the child runs as
    // another account (a service), so only the tree ties it to alice.
    let child = P {
        guid: "{child-cmd}",
        pid: 4500,
    };
    let f = only(vec![
        sqlcmd("e1", T0, "ws01", "alice", ALICE_SQLCMD),
        start(
            "p1",
            T0 + 5 * SEC,
            "ws01",
            "svc-batch",
            child,
            CMD,
            ALICE_SQLCMD,
            SQLCMD,
            r"cmd.exe /c copy C:\x.csv C:\Users\Public\dump.csv",
        ),
        file("f1", T0 + 6 * SEC, "ws01", "svc-batch", child, OUT),
    ]);
    assert_eq!(
        evidence_ids(&f),
        ["e1", "f1"],
        "the child itself is not evidence"
    );
    // Without the child's start the file is someone else's.
    assert!(
        findings(vec![
            sqlcmd("e1", T0, "ws01", "alice", ALICE_SQLCMD),
            file("f1", T0 + 6 * SEC, "ws01", "svc-batch", child, OUT),
        ])
        .is_empty()
    );
}

#[test]
fn the_parent_shell_redirecting_output_just_before_the_start_is_the_export() {
    // `sqlcmd … > dump.csv`: cmd.exe (the tool's parent) creates the file,
    // then starts sqlcmd.
    let shell = P {
        guid: "{shell}",
        pid: 4099,
    };
    let redirect = file("f1", T0 - 2 * SEC, "ws01", "alice", shell, OUT);
    let f = only(vec![
        redirect.clone(),
        sqlcmd("e1", T0, "ws01", "alice", ALICE_SQLCMD),
    ]);
    assert_eq!(evidence_ids(&f), ["f1", "e1"]);
    assert_eq!(f.start_time, T0 - 2 * SEC);
    // Longer before than RedirectSlack (5 s): not the export.
    let early = file("f1", T0 - 6 * SEC, "ws01", "alice", shell, OUT);
    assert!(findings(vec![early, sqlcmd("e1", T0, "ws01", "alice", ALICE_SQLCMD)]).is_empty());
    // Another process of alice just before: not the export either.
    let other = file("f1", T0 - 2 * SEC, "ws01", "alice", ALICE_CURL, OUT);
    assert!(findings(vec![other, sqlcmd("e1", T0, "ws01", "alice", ALICE_SQLCMD)]).is_empty());
}

#[test]
fn security_4688_starts_match_sysmon_files_by_pid() {
    // bcp from Security 4688 (no GUID, pids from the hex fields), file from
    // Sysmon 11 (GUID and decimal pid) under another account.
    let bcp = start_4688(
        "s1",
        T0,
        "ws01",
        "alice",
        6716,
        &BCP.replace("Program Files", "Users\\alice\\Downloads"),
        8720,
        POWERSHELL,
    );
    let by_pid = file(
        "f1",
        T0 + 3 * SEC,
        "ws01",
        "system",
        P {
            guid: "{bcp}",
            pid: 6716,
        },
        OUT,
    );
    let f = only(vec![bcp.clone(), by_pid]);
    assert_eq!(evidence_ids(&f), ["s1", "f1"]);
    assert!(
        f.reasons[0].contains("outside KnownDBToolPaths"),
        "{:?}",
        f.reasons
    );
    assert!(f.reasons[0].contains("powershell.exe"), "{:?}", f.reasons);
    // Another pid: not the tool's.
    let other = file(
        "f1",
        T0 + 3 * SEC,
        "ws01",
        "system",
        P {
            guid: "{x}",
            pid: 6717,
        },
        OUT,
    );
    assert!(findings(vec![bcp.clone(), other]).is_empty());
    // A child started from 4688 (pids only) ties its files by pid too.
    let child = start_4688(
        "s2",
        T0 + SEC,
        "ws01",
        "system",
        7000,
        CMD,
        6716,
        r"C:\Users\alice\Downloads\bcp.exe",
    );
    let by_child = file(
        "f2",
        T0 + 4 * SEC,
        "ws01",
        "system",
        P {
            guid: "{c}",
            pid: 7000,
        },
        OUT,
    );
    let f = only(vec![bcp, child, by_child]);
    assert_eq!(evidence_ids(&f), ["s1", "f2"]);
}

#[test]
fn guids_win_over_reused_pids() {
    // Both sides have GUIDs: a different process that reused the pid is not
    // the tool.
    let reused = file(
        "f1",
        T0 + 3 * SEC,
        "ws01",
        "bob",
        P {
            guid: "{other}",
            pid: ALICE_SQLCMD.pid,
        },
        OUT,
    );
    assert!(
        findings(vec![
            sqlcmd("e1", T0, "ws01", "alice", ALICE_SQLCMD),
            reused
        ])
        .is_empty()
    );
}

#[test]
fn a_second_start_joins_the_window_and_its_tree_counts() {
    let second = P {
        guid: "{a-bcp}",
        pid: 5100,
    };
    let f = only(vec![
        sqlcmd("e1", T0, "ws01", "alice", ALICE_SQLCMD),
        start(
            "e2",
            T0 + 2 * MIN,
            "ws01",
            "alice",
            second,
            BCP,
            P {
                guid: "{ps}",
                pid: 5000,
            },
            POWERSHELL,
            r"bcp crm.dbo.orders out C:\Users\Public\o.csv -c -T",
        ),
        file(
            "f1",
            T0 + 3 * MIN,
            "ws01",
            "system",
            second,
            r"C:\Users\Public\o.csv",
        ),
    ]);
    assert_eq!(evidence_ids(&f), ["e1", "e2", "f1"]);
    assert!(
        f.description.contains("2 starts in this window"),
        "{}",
        f.description
    );
    assert_eq!(
        f.uid,
        dumpwatch_sdk::uid::finding_uid("AN0677", &["ws01", "alice"], "e1")
    );
}
