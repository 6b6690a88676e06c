//! Syscall numbers per architecture, the few that matter as meanings and
//! a name table for the skip counts.
//!
//! The SYSCALL record gives `arch=` (the audit ELF machine: `c000003e`
//! x86_64, `c00000b7` aarch64, `40000003` i386) and `syscall=` (a number,
//! or a name once interpreted). The same number means different calls on
//! different architectures, and on i386 network calls may go through
//! `socketcall(2)` with the call in `a0`.

/// The architectures whose syscall numbers are known here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Arch {
    X86_64,
    Aarch64,
    I386,
    Other,
}

impl Arch {
    /// From `arch=` (hex, or the interpreted name).
    pub fn parse(v: &[u8]) -> Arch {
        match v {
            b"c000003e" | b"x86_64" => Arch::X86_64,
            b"c00000b7" | b"aarch64" => Arch::Aarch64,
            b"40000003" | b"i386" | b"i686" => Arch::I386,
            _ => Arch::Other,
        }
    }
}

/// What a syscall means to dumpwatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Call {
    Execve,
    Connect,
    /// `open(path, flags)`: flags in a1.
    Open,
    /// `openat(dirfd, path, flags)`: flags in a2.
    Openat,
    /// `openat2`: flags sit in a struct the record does not show.
    Openat2,
    Creat,
    Rename,
    /// i386 multiplexer: a0 = 3 is connect.
    Socketcall,
    Unused,
}

macro_rules! table {
    ($name:ident: $($nr:literal => $call:literal),* $(,)?) => {
        /// (number, name, skip kind)
        const $name: &[(u32, &str, &str)] = &[$(($nr, $call, concat!("SYSCALL:", $call))),*];
    };
}

table!(X86_64:
    0 => "read", 1 => "write", 2 => "open", 3 => "close", 4 => "stat", 5 => "fstat",
    6 => "lstat", 7 => "poll", 8 => "lseek", 9 => "mmap", 10 => "mprotect", 11 => "munmap",
    12 => "brk", 13 => "rt_sigaction", 14 => "rt_sigprocmask", 16 => "ioctl", 17 => "pread64",
    18 => "pwrite64", 19 => "readv", 20 => "writev", 21 => "access", 22 => "pipe",
    23 => "select", 32 => "dup", 33 => "dup2", 35 => "nanosleep", 39 => "getpid",
    40 => "sendfile", 41 => "socket", 42 => "connect", 43 => "accept", 44 => "sendto",
    45 => "recvfrom", 46 => "sendmsg", 47 => "recvmsg", 48 => "shutdown", 49 => "bind",
    50 => "listen", 51 => "getsockname", 52 => "getpeername", 53 => "socketpair",
    54 => "setsockopt", 55 => "getsockopt", 56 => "clone", 57 => "fork", 58 => "vfork",
    59 => "execve", 60 => "exit", 61 => "wait4", 62 => "kill", 63 => "uname", 72 => "fcntl",
    76 => "truncate", 77 => "ftruncate", 79 => "getcwd", 80 => "chdir", 81 => "fchdir",
    82 => "rename", 83 => "mkdir", 84 => "rmdir", 85 => "creat", 86 => "link", 87 => "unlink",
    88 => "symlink", 89 => "readlink", 90 => "chmod", 91 => "fchmod", 92 => "chown",
    93 => "fchown", 94 => "lchown", 95 => "umask", 101 => "ptrace", 105 => "setuid",
    106 => "setgid", 112 => "setsid", 113 => "setreuid", 114 => "setregid",
    116 => "setgroups", 117 => "setresuid", 119 => "setresgid", 122 => "setfsuid",
    123 => "setfsgid", 133 => "mknod", 157 => "prctl", 159 => "adjtimex", 160 => "setrlimit",
    161 => "chroot", 164 => "settimeofday", 165 => "mount", 166 => "umount2",
    169 => "reboot", 170 => "sethostname", 175 => "init_module", 176 => "delete_module",
    188 => "setxattr", 189 => "lsetxattr", 190 => "fsetxattr", 197 => "removexattr",
    200 => "tkill", 202 => "futex", 217 => "getdents64", 227 => "clock_settime",
    228 => "clock_gettime", 231 => "exit_group", 232 => "epoll_wait", 234 => "tgkill",
    257 => "openat", 258 => "mkdirat", 259 => "mknodat", 260 => "fchownat",
    263 => "unlinkat", 264 => "renameat", 265 => "linkat", 266 => "symlinkat",
    268 => "fchmodat", 269 => "faccessat", 272 => "unshare", 288 => "accept4",
    292 => "dup3", 293 => "pipe2", 302 => "prlimit64", 308 => "setns", 313 => "finit_module",
    316 => "renameat2", 322 => "execveat", 435 => "clone3", 437 => "openat2",
);

table!(AARCH64:
    5 => "setxattr", 23 => "dup", 24 => "dup3", 25 => "fcntl", 29 => "ioctl",
    33 => "mknodat", 34 => "mkdirat", 35 => "unlinkat", 36 => "symlinkat", 37 => "linkat",
    38 => "renameat", 40 => "mount", 49 => "chdir", 51 => "chroot", 52 => "fchmod",
    53 => "fchmodat", 54 => "fchownat", 55 => "fchown", 56 => "openat", 57 => "close",
    63 => "read", 64 => "write", 93 => "exit", 94 => "exit_group", 113 => "clock_gettime",
    117 => "ptrace", 129 => "kill", 134 => "rt_sigaction", 135 => "rt_sigprocmask",
    144 => "setgid", 146 => "setuid", 147 => "setresuid", 149 => "setresgid",
    167 => "prctl", 170 => "settimeofday", 171 => "adjtimex", 198 => "socket", 200 => "bind",
    201 => "listen", 202 => "accept", 203 => "connect", 204 => "getsockname",
    205 => "getpeername", 206 => "sendto", 207 => "recvfrom", 208 => "setsockopt",
    220 => "clone", 221 => "execve", 242 => "accept4", 276 => "renameat2", 281 => "execveat",
    435 => "clone3", 437 => "openat2",
);

table!(I386:
    1 => "exit", 2 => "fork", 3 => "read", 4 => "write", 5 => "open", 6 => "close",
    8 => "creat", 9 => "link", 10 => "unlink", 11 => "execve", 12 => "chdir", 15 => "chmod",
    23 => "setuid", 26 => "ptrace", 37 => "kill", 38 => "rename", 39 => "mkdir",
    40 => "rmdir", 54 => "ioctl", 79 => "settimeofday", 82 => "select", 102 => "socketcall",
    120 => "clone", 124 => "adjtimex", 174 => "rt_sigaction", 175 => "rt_sigprocmask",
    265 => "clock_gettime", 295 => "openat", 301 => "unlinkat", 302 => "renameat",
    353 => "renameat2", 358 => "execveat", 359 => "socket", 361 => "bind", 362 => "connect",
    364 => "accept4", 369 => "sendto", 437 => "openat2",
);

fn table(arch: Arch) -> &'static [(u32, &'static str, &'static str)] {
    match arch {
        Arch::X86_64 => X86_64,
        Arch::Aarch64 => AARCH64,
        Arch::I386 => I386,
        Arch::Other => &[],
    }
}

/// The name of a syscall number, when known.
pub(super) fn name_of(arch: Arch, nr: u32) -> Option<(&'static str, &'static str)> {
    table(arch)
        .iter()
        .find(|(n, _, _)| *n == nr)
        .map(|(_, name, kind)| (*name, *kind))
}

/// The skip kind `SYSCALL:<name>` for an interpreted name.
pub(super) fn kind_of_name(name: &[u8]) -> Option<&'static str> {
    X86_64
        .iter()
        .chain(AARCH64)
        .chain(I386)
        .find(|(_, n, _)| n.as_bytes() == name)
        .map(|(_, _, kind)| *kind)
}

/// What a syscall name means.
pub(super) fn call_of_name(name: &[u8]) -> Call {
    match name {
        b"execve" | b"execveat" => Call::Execve,
        b"connect" => Call::Connect,
        b"open" => Call::Open,
        b"openat" => Call::Openat,
        b"openat2" => Call::Openat2,
        b"creat" => Call::Creat,
        b"rename" | b"renameat" | b"renameat2" => Call::Rename,
        b"socketcall" => Call::Socketcall,
        _ => Call::Unused,
    }
}

/// Open flags that make an open a write (values shared by x86_64,
/// aarch64 and i386).
pub(super) const O_WRONLY: u64 = 0o1;
pub(super) const O_RDWR: u64 = 0o2;
pub(super) const O_CREAT: u64 = 0o100;
pub(super) const O_TRUNC: u64 = 0o1000;
pub(super) const O_APPEND: u64 = 0o2000;

/// `socketcall` call number of connect.
pub(super) const SYS_CONNECT: u64 = 3;

/// A syscall argument as a number: kernel hex (`241`), `0x…` (the
/// "values in place" rendering), or `ausearch -i` flag names
/// (`O_WRONLY|O_CREAT|O_TRUNC`, `AT_FDCWD`, `connect` for socketcall).
pub(super) fn parse_arg(v: &[u8]) -> Option<u64> {
    if let Some(n) = super::fields::parse_hex_num(v) {
        return Some(n);
    }
    if v.starts_with(b"O_") {
        let mut bits = 0;
        for flag in v.split(|&c| c == b'|') {
            bits |= match flag {
                b"O_RDONLY" => 0,
                b"O_WRONLY" => O_WRONLY,
                b"O_RDWR" => O_RDWR,
                b"O_CREAT" => O_CREAT,
                b"O_TRUNC" => O_TRUNC,
                b"O_APPEND" => O_APPEND,
                _ => 0,
            };
        }
        return Some(bits);
    }
    match v {
        b"connect" => Some(SYS_CONNECT),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_per_arch() {
        assert_eq!(name_of(Arch::X86_64, 59).map(|n| n.0), Some("execve"));
        assert_eq!(
            name_of(Arch::X86_64, 42).map(|n| n.1),
            Some("SYSCALL:connect")
        );
        assert_eq!(name_of(Arch::Aarch64, 221).map(|n| n.0), Some("execve"));
        assert_eq!(name_of(Arch::Aarch64, 203).map(|n| n.0), Some("connect"));
        assert_eq!(name_of(Arch::I386, 102).map(|n| n.0), Some("socketcall"));
        assert_eq!(name_of(Arch::I386, 11).map(|n| n.0), Some("execve"));
        assert_eq!(name_of(Arch::Other, 59), None);
        assert_eq!(call_of_name(b"openat"), Call::Openat);
    }

    #[test]
    fn arguments_in_every_rendering() {
        assert_eq!(parse_arg(b"241"), Some(0x241));
        assert_eq!(parse_arg(b"0x1fd05c0"), Some(0x1fd05c0));
        assert_eq!(parse_arg(b"O_WRONLY|O_CREAT|O_TRUNC"), Some(0o1101));
        assert_eq!(parse_arg(b"O_RDONLY"), Some(0));
        assert_eq!(parse_arg(b"AT_FDCWD"), None);
    }
}
