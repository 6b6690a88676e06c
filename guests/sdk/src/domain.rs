//! Domain name lists: "this domain or any subdomain of it".
//!
//! Tunables such as cloud storage or cloud sync domains name registrable
//! domains (`dropbox.com`), and a DNS query, TLS server name or HTTP Host
//! matches when it is the domain itself or ends with `.` + the domain
//! (`content.dropboxapi.com` matches `dropboxapi.com`; `notdropbox.com`
//! does not match `dropbox.com`). Names compare ASCII case-insensitively and
//! without a trailing dot, as DNS does.
//!
//! Entries are validated when the tunable is read: a leading `*.` or `.` is
//! accepted and dropped (it means the same thing here), anything else that
//! is not a host name (spaces, `/`, `:`, a `*` elsewhere, empty labels,
//! labels over 63 characters) is an error naming the entry.
//!
//! The host's prefilter has no label-aware test; [`DomainList::suffixes`]
//! gives the values for a `suffix-nocase` subscription test, which is
//! looser (it also passes `notdropbox.com`), and the analytic re-checks
//! with [`DomainList::matching`].

use crate::tunables::TunableSet;

/// A validated list of domains.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DomainList {
    /// Lower case, no leading `*.`/`.`, no trailing dot; sorted, no
    /// duplicates.
    domains: Vec<String>,
}

impl DomainList {
    /// Parse and validate `entries`; every bad entry is reported, one
    /// message each.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<DomainList, Vec<String>> {
        let mut domains = Vec::new();
        let mut errors = Vec::new();
        for entry in entries {
            match normalize(entry.as_ref()) {
                Ok(domain) => domains.push(domain),
                Err(message) => errors.push(message),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        domains.sort_unstable();
        domains.dedup();
        Ok(DomainList { domains })
    }

    /// The longest listed domain that `name` is or is a subdomain of.
    /// `name` may carry a trailing dot and any case; a `:port` suffix is
    /// not removed here (see [`host_without_port`]).
    pub fn matching(&self, name: &str) -> Option<&str> {
        let name = name.trim().trim_end_matches('.');
        let mut best: Option<&str> = None;
        for domain in &self.domains {
            if is_within(name, domain) && best.is_none_or(|b| domain.len() > b.len()) {
                best = Some(domain);
            }
        }
        best
    }

    /// Whether `name` is a listed domain or a subdomain of one.
    pub fn matches(&self, name: &str) -> bool {
        self.matching(name).is_some()
    }

    /// The domains, normalized, for messages and documentation.
    pub fn domains(&self) -> &[String] {
        &self.domains
    }

    /// Values for a `suffix-nocase` subscription test: each domain as is
    /// (a looser test than [`DomainList::matching`]; see the module docs).
    pub fn suffixes(&self) -> &[String] {
        &self.domains
    }

    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }
}

/// Whether `name` equals `domain` or ends with `.domain`, ignoring ASCII
/// case.
fn is_within(name: &str, domain: &str) -> bool {
    let (name, domain) = (name.as_bytes(), domain.as_bytes());
    if name.len() < domain.len() {
        return false;
    }
    let cut = name.len() - domain.len();
    name[cut..].eq_ignore_ascii_case(domain) && (cut == 0 || name[cut - 1] == b'.')
}

/// An HTTP Host header without its port: `files.example.com:8443` →
/// `files.example.com`, `[2001:db8::1]:443` → `2001:db8::1`. A bare IPv6
/// address (several colons, no brackets) is returned unchanged.
pub fn host_without_port(host: &str) -> &str {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port))
            if !name.contains(':')
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            name
        }
        _ => host,
    }
}

impl TunableSet<'_> {
    /// A text-list tunable read as a [`DomainList`]; every bad entry is
    /// recorded as an error of `name` (and the list is then empty, so the
    /// caller can finish reading).
    pub fn domain_list(&mut self, name: &str) -> DomainList {
        let list = self.text_list(name);
        match DomainList::parse(&list) {
            Ok(domains) => domains,
            Err(messages) => {
                for message in messages {
                    self.error(name, message);
                }
                DomainList::default()
            }
        }
    }
}

fn normalize(entry: &str) -> Result<String, String> {
    let trimmed = entry.trim();
    let bare = trimmed
        .strip_prefix("*.")
        .or_else(|| trimmed.strip_prefix('.'))
        .unwrap_or(trimmed)
        .trim_end_matches('.');
    let invalid = |why: &str| format!("{entry:?} is not a domain name: {why}");
    if bare.is_empty() {
        return Err(invalid("it is empty"));
    }
    if bare.len() > 253 {
        return Err(invalid("longer than 253 characters"));
    }
    for label in bare.split('.') {
        if label.is_empty() {
            return Err(invalid("it has an empty label (`..`)"));
        }
        if label.len() > 63 {
            return Err(invalid("a label is longer than 63 characters"));
        }
        if let Some(bad) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(invalid(&format!(
                "{bad:?} is not allowed (letters, digits, `-` and `_` only; a leading `*.` is accepted)"
            )));
        }
    }
    Ok(bare.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> DomainList {
        DomainList::parse(entries).unwrap()
    }

    #[test]
    fn a_domain_matches_itself_and_its_subdomains_only() {
        let domains = list(&["dropbox.com", "drive.google.com"]);
        for yes in [
            "dropbox.com",
            "www.dropbox.com",
            "CONTENT.Dropbox.COM",
            "dl.dropbox.com.",
            "drive.google.com",
            "a.b.drive.google.com",
        ] {
            assert!(domains.matches(yes), "{yes}");
        }
        for no in [
            "notdropbox.com",
            "dropbox.com.evil.net",
            "dropbox.co",
            "google.com",
            "docs.google.com",
            "",
            "com",
        ] {
            assert!(!domains.matches(no), "{no}");
        }
    }

    #[test]
    fn the_longest_matching_domain_is_reported() {
        let domains = list(&["google.com", "drive.google.com"]);
        assert_eq!(
            domains.matching("x.drive.google.com"),
            Some("drive.google.com")
        );
        assert_eq!(domains.matching("mail.google.com"), Some("google.com"));
    }

    #[test]
    fn entries_are_normalized() {
        let domains = list(&[" *.Dropbox.com ", ".box.com", "mega.nz.", "box.com"]);
        assert_eq!(domains.domains(), ["box.com", "dropbox.com", "mega.nz"]);
        assert_eq!(domains.suffixes().len(), 3);
    }

    #[test]
    fn every_bad_entry_is_reported() {
        let errors = DomainList::parse(&[
            "ok.example",
            "",
            "a..b",
            "https://x.com/",
            "files.*.example",
            "sp ace.com",
            &"x".repeat(64),
        ])
        .unwrap_err();
        assert_eq!(errors.len(), 6, "{errors:?}");
        assert!(errors[2].contains("https://x.com/"), "{errors:?}");
        assert!(errors[3].contains("'*'"), "{errors:?}");
    }

    #[test]
    fn a_tunable_reads_as_a_domain_list_with_every_error() {
        use crate::tunables::spec;
        use crate::types::{Tunable, TunableValue};
        let specs = [spec::text_list(
            "Domains",
            &["dropbox.com"],
            "cloud storage",
        )];
        let mut set = TunableSet::new(&specs, &[]);
        assert!(set.domain_list("Domains").matches("www.dropbox.com"));
        assert!(set.finish().is_ok());
        let given = [Tunable {
            name: "Domains".into(),
            value: TunableValue::TextList(vec!["a b".into(), "ok.example".into(), "x/y".into()]),
        }];
        let mut set = TunableSet::new(&specs, &given);
        assert!(set.domain_list("Domains").is_empty());
        let errors = set.finish().unwrap_err();
        assert_eq!(errors.len(), 2);
        assert!(errors.iter().all(|e| e.tunable == "Domains"));
    }

    #[test]
    fn ports_come_off_host_headers() {
        assert_eq!(
            host_without_port("files.example.com:8443"),
            "files.example.com"
        );
        assert_eq!(host_without_port("files.example.com"), "files.example.com");
        assert_eq!(host_without_port("[2001:db8::1]:443"), "2001:db8::1");
        assert_eq!(host_without_port("2001:db8::1"), "2001:db8::1");
        assert_eq!(host_without_port("example.com:"), "example.com:");
    }
}
