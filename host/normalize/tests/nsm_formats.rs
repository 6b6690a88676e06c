//! Integration tests of the auditd, Zeek and Suricata normalizers: the
//! permissively licensed corpus, samples written here, bad input and
//! fuzzing. One test binary, one module per concern.

mod nsm_formats {
    mod auditd_corpus;
    mod auditd_written;
    mod bad_input;
    pub mod common;
    mod fuzz;
    mod nsm_corpus;
}
