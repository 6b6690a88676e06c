//! Property tests: arbitrary bytes and mutated corpus lines never panic
//! or hang any decoder, and every line ends in a count or stays pending.

use dumpwatch_normalize::{DecodeContext, Format, Output, RecordPos, decoder};
use proptest::prelude::*;

use super::common::fixture;

const SEEDS: &[(Format, &str)] = &[
    (
        Format::Auditd,
        "corpus/linux-auditd/otrf_sh_arp_cache_2020-11-10074812.log",
    ),
    (
        Format::Auditd,
        "corpus/linux-auditd/go-libaudit_auparse_audit-rhel7.log",
    ),
    (
        Format::Auditd,
        "corpus/linux-auditd/otrf_auoms-syslog_log4shell_2022-05-11.jsonl",
    ),
    (Format::Auditd, "written/linux-auditd/enriched.log"),
    (Format::Auditd, "written/linux-auditd/ausearch_i.log"),
    (Format::Zeek, "corpus/zeek/otrf_lsass-campaign-01_conn.log"),
    (
        Format::Zeek,
        "corpus/zeek/otrf_apt29-day1_SCRANTON_http.jsonl",
    ),
    (Format::Zeek, "written/zeek/ssl_dns_http.log"),
    (
        Format::Suricata,
        "corpus/suricata/suricata-verify_detect-engine-state-03_eve.json",
    ),
    (
        Format::Suricata,
        "corpus/suricata/suricata-verify_dns-tcp-www-google-com_eve.json",
    ),
    (Format::Suricata, "written/suricata/eve_v2_v3.json"),
];

fn feed(format: Format, lines: &[Vec<u8>]) -> Output {
    let mut dec = decoder(format, &DecodeContext::default());
    let mut out = Output::default();
    for (i, l) in lines.iter().enumerate() {
        dec.push(
            l,
            RecordPos {
                line: i as u64 + 1,
                offset: 0,
            },
            &mut out,
        );
    }
    dec.finish(&mut out);
    assert!(dec.oldest_pending().is_none());
    out
}

fn seed_lines() -> Vec<(Format, Vec<u8>)> {
    SEEDS
        .iter()
        .flat_map(|(f, p)| {
            fixture(p)
                .split(|&c| c == b'\n')
                .filter(|l| !l.is_empty())
                .map(|l| (*f, l.to_vec()))
                .collect::<Vec<_>>()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(lines in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..20)) {
        for f in [Format::Auditd, Format::Zeek, Format::Suricata] {
            let out = feed(f, &lines);
            let counted = out.stats.normalized + out.stats.skipped_count() + out.stats.error_count();
            prop_assert!(counted <= lines.len() as u64 * 2);
        }
    }

    #[test]
    fn mutated_corpus_lines(
        picks in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..12)
    ) {
        let seeds = seed_lines();
        let mut by_format: Vec<(Format, Vec<Vec<u8>>)> = Vec::new();
        for (line_ix, byte_ix, byte, op) in picks {
            let (f, line) = &seeds[line_ix.index(seeds.len())];
            let mut l = line.clone();
            let at = byte_ix.index(l.len().max(1)).min(l.len());
            match op {
                0 => { if at < l.len() { l[at] = byte; } }
                1 => l.insert(at, byte),
                2 => l.truncate(at),
                _ => { if at < l.len() { l.remove(at); } }
            }
            match by_format.iter_mut().find(|(g, _)| g == f) {
                Some((_, v)) => v.push(l),
                None => by_format.push((*f, vec![l])),
            }
        }
        for (f, lines) in by_format {
            feed(f, &lines);
        }
    }
}
