//! The parts of one audit event, filled record by record: SYSCALL,
//! EXECVE (possibly several records, possibly split arguments), CWD,
//! PATH items, PROCTITLE and SOCKADDR.
//!
//! Only what the normalizer needs is kept, already decoded, so the raw
//! line can be dropped as soon as it is read.

use super::fields::{
    self, ArgKey, Fields, RawFields, decode_value, parse_arg_key, parse_dec, parse_signed,
};
use super::line::RecordType;
use super::sockaddr::{self, SockAddr};
use super::syscalls::{Arch, parse_arg};

/// Most arguments kept for one exec, and most bytes over all of them:
/// beyond these an (absurd or hostile) record is cut, not buffered.
const MAX_ARGS: usize = 16 * 1024;
const MAX_ARG_BYTES: usize = 1 << 20;
/// Most PATH items kept for one event.
const MAX_PATHS: usize = 64;

/// A user id as a record gives it: number, name, or both.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Ident {
    pub id: Option<u32>,
    pub name: Option<String>,
}

impl Ident {
    /// Read a raw or interpreted value: `1000`, `4294967295` (unset),
    /// `alice`, `unset`, `unknown(1001)`.
    fn set_from(&mut self, v: &[u8]) {
        if let Some(n) = parse_dec(v) {
            self.id = u32::try_from(n).ok().filter(|&n| n != u32::MAX);
        } else if v == b"unset" || v == b"-1" {
            self.id = None;
        } else if let Some(inner) = v
            .strip_prefix(b"unknown(")
            .and_then(|r| r.strip_suffix(b")"))
        {
            self.id = parse_dec(inner).and_then(|n| u32::try_from(n).ok());
        } else if !v.is_empty() && v != b"?" {
            self.name = Some(fields::text(v));
        }
    }

    /// An ENRICHED name (`AUID="alice"`); "unset" names nobody.
    fn set_name(&mut self, v: &[u8]) {
        if !v.is_empty() && v != b"unset" && v != b"?" && !v.starts_with(b"unknown(") {
            self.name = Some(fields::text(v));
        }
    }
}

/// The SYSCALL record.
#[derive(Clone, Debug, Default)]
pub(super) struct SyscallRec {
    pub arch: Option<Arch>,
    pub nr: Option<u32>,
    /// The syscall name when the record was interpreted (`syscall=execve`
    /// or ENRICHED `SYSCALL=execve`).
    pub name: Option<String>,
    pub success: Option<bool>,
    pub exit: Option<i64>,
    pub a: [Option<u64>; 4],
    pub pid: Option<u32>,
    pub ppid: Option<u32>,
    pub auid: Ident,
    pub uid: Ident,
    pub euid: Ident,
    pub ses: Option<u32>,
    pub comm: Option<String>,
    pub exe: Option<String>,
}

/// One PATH item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct PathItem {
    pub name: Option<String>,
    pub nametype: NameType,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum NameType {
    Normal,
    Parent,
    Create,
    Delete,
    Unknown,
}

/// The exec arguments gathered from the EXECVE records of an event.
#[derive(Clone, Debug, Default)]
pub(super) struct Argv {
    pub argc: Option<usize>,
    pub args: Vec<Vec<u8>>,
    bytes: usize,
    pub seen: bool,
}

impl Argv {
    fn slot(&mut self, n: usize) -> Option<&mut Vec<u8>> {
        let limit = self.argc.unwrap_or(MAX_ARGS).min(MAX_ARGS);
        if n >= limit {
            return None;
        }
        if self.args.len() <= n {
            self.args.resize_with(n + 1, Vec::new);
        }
        self.args.get_mut(n)
    }

    fn put(&mut self, n: usize, bytes: &[u8]) {
        let room = MAX_ARG_BYTES.saturating_sub(self.bytes);
        let take = bytes.len().min(room);
        if let Some(slot) = self.slot(n) {
            slot.extend_from_slice(&bytes[..take]);
            self.bytes += take;
        }
    }
}

/// Everything kept of one event.
#[derive(Clone, Debug, Default)]
pub(super) struct Parts {
    pub syscall: Option<Box<SyscallRec>>,
    pub argv: Argv,
    pub cwd: Option<String>,
    pub paths: Vec<PathItem>,
    pub proctitle: Option<Vec<u8>>,
    pub sockaddr: Option<SockAddr>,
    /// Set once a record of the event was seen in an interpreted form.
    pub interpreted: bool,
}

/// Add one record's body to the event. `interpreted`: the header said
/// so (`ausearch -i`); the record's own values may say so too.
pub(super) fn add(parts: &mut Parts, rtype: RecordType, body: &[u8], interpreted: bool) {
    // ENRICHED: raw body, 0x1D, interpreted upper-case fields.
    let (raw, enriched) = match memchr::memchr(0x1D, body) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    match rtype {
        RecordType::Syscall => add_syscall(parts, raw, enriched, interpreted),
        RecordType::Execve => add_execve(parts, raw, interpreted),
        RecordType::Cwd => {
            for f in fields_of(raw, interpreted, fields::is_no_key) {
                if f.key == b"cwd" {
                    parts.cwd = decode_value(&f, interpreted).map(|v| fields::text(&v));
                }
            }
        }
        RecordType::Proctitle => {
            for f in fields_of(raw, interpreted, fields::is_no_key) {
                if f.key == b"proctitle" {
                    parts.proctitle = decode_value(&f, interpreted).map(|v| v.into_owned());
                }
            }
        }
        RecordType::Path => add_path(parts, raw, interpreted),
        RecordType::Sockaddr => {
            for f in fields_of(raw, interpreted, fields::is_generic_key) {
                if f.key == b"saddr" {
                    parts.sockaddr = if f.value.first() == Some(&b'{') {
                        sockaddr::from_interpreted(f.value)
                    } else {
                        fields::decode_hex(f.value).and_then(|b| sockaddr::from_raw(&b))
                    };
                }
            }
        }
        RecordType::Eoe | RecordType::AuomsExecve => {}
    }
    if interpreted {
        parts.interpreted = true;
    }
}

/// The field iterator for a body in the given rendering.
pub(super) fn fields_of(raw: &[u8], interpreted: bool, is_key: fn(&[u8]) -> bool) -> Fields<'_> {
    Fields::new(raw, interpreted, is_key)
}

fn add_syscall(parts: &mut Parts, raw: &[u8], enriched: Option<&[u8]>, interpreted: bool) {
    let mut sc = SyscallRec::default();
    // The raw form never has a non-hex arch; seeing one means the values
    // were interpreted in place even under an epoch header.
    let mut interp = interpreted;
    if !interp && let Some(f) = RawFields::new(raw).find(|f| f.key == b"arch") {
        interp = !f.value.iter().all(u8::is_ascii_hexdigit);
    }
    for f in fields_of(raw, interp, fields::is_generic_key) {
        let v = f.value;
        match f.key {
            b"arch" => sc.arch = Some(Arch::parse(v)),
            b"syscall" => match parse_dec(v) {
                Some(n) => sc.nr = u32::try_from(n).ok(),
                None => sc.name = Some(fields::text(v)),
            },
            b"success" => sc.success = Some(v == b"yes"),
            b"exit" => {
                // Interpreted: `exit=EINPROGRESS(Operation now in progress)`.
                sc.exit = parse_signed(v).or_else(|| v.starts_with(b"EINPROGRESS").then_some(-115))
            }
            b"a0" => sc.a[0] = parse_arg(v),
            b"a1" => sc.a[1] = parse_arg(v),
            b"a2" => sc.a[2] = parse_arg(v),
            b"a3" => sc.a[3] = parse_arg(v),
            b"pid" => sc.pid = parse_dec(v).and_then(|n| u32::try_from(n).ok()),
            b"ppid" => sc.ppid = parse_dec(v).and_then(|n| u32::try_from(n).ok()),
            b"auid" => sc.auid.set_from(v),
            b"uid" => sc.uid.set_from(v),
            b"euid" => sc.euid.set_from(v),
            b"ses" => {
                sc.ses = parse_dec(v)
                    .and_then(|n| u32::try_from(n).ok())
                    .filter(|&n| n != u32::MAX)
            }
            b"comm" => sc.comm = decode_value(&f, interp).map(|b| fields::text(&b)),
            b"exe" => sc.exe = decode_value(&f, interp).map(|b| fields::text(&b)),
            _ => {}
        }
    }
    if let Some(tail) = enriched {
        for f in RawFields::new(tail) {
            match f.key {
                b"AUID" => sc.auid.set_name(f.value),
                b"UID" => sc.uid.set_name(f.value),
                b"EUID" => sc.euid.set_name(f.value),
                b"SYSCALL" => sc.name = Some(fields::text(f.value)),
                b"ARCH" if sc.arch.is_none() => sc.arch = Some(Arch::parse(f.value)),
                _ => {}
            }
        }
    }
    if interp {
        parts.interpreted = true;
    }
    parts.syscall = Some(Box::new(sc));
}

fn add_execve(parts: &mut Parts, raw: &[u8], interpreted: bool) {
    // Raw arguments are quoted or hex; an unquoted non-hex argument means
    // this record was interpreted in place (`a0=top`).
    let interp = interpreted
        || RawFields::new(raw).any(|f| {
            parse_arg_key(f.key).is_some()
                && !f.quoted
                && !fields::is_kernel_hex(f.value)
                && f.value != b"(null)"
        });
    let argv = &mut parts.argv;
    argv.seen = true;
    for f in fields_of(raw, interp, fields::is_execve_key) {
        if f.key == b"argc" {
            if argv.argc.is_none() {
                argv.argc = parse_dec(f.value).map(|n| n.min(MAX_ARGS as u64) as usize);
            }
            continue;
        }
        let Some(ak) = parse_arg_key(f.key) else {
            continue;
        };
        match ak {
            ArgKey::Whole(n) | ArgKey::Chunk(n, _) => {
                let v = decode_value(&f, interp).unwrap_or_default();
                argv.put(n, &v);
            }
            ArgKey::Len(n) => {
                // Make sure the slot exists even if no chunk follows.
                let _ = argv.slot(n);
            }
        }
    }
}

fn add_path(parts: &mut Parts, raw: &[u8], interpreted: bool) {
    if parts.paths.len() >= MAX_PATHS {
        return;
    }
    let mut name = None;
    let mut nametype = NameType::Unknown;
    for f in fields_of(raw, interpreted, fields::is_generic_key) {
        match f.key {
            b"name" => name = decode_value(&f, interpreted).map(|b| fields::text(&b)),
            // `objtype=` is the pre-2.6.x spelling.
            b"nametype" | b"objtype" => {
                nametype = match f.value {
                    b"NORMAL" => NameType::Normal,
                    b"PARENT" => NameType::Parent,
                    b"CREATE" => NameType::Create,
                    b"DELETE" => NameType::Delete,
                    _ => NameType::Unknown,
                }
            }
            _ => {}
        }
    }
    parts.paths.push(PathItem { name, nametype });
}
