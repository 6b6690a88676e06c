//! Reading an application launch out of a LaunchServices or RunningBoard
//! log message.
//!
//! Apple documents none of these messages and their wording changes
//! between releases, so this reads only two robust features, wherever they
//! sit in the text: an absolute path to an application bundle (`/….app`,
//! optionally continued to `/Contents/MacOS/<executable>`), and a pid in
//! one of the forms these daemons print (`[app<…(501)>:4321]`,
//! `pid 4321`, `pid=4321`, `pid: 4321`). A message counts as a launch only
//! if it also contains the word "launch" (any case); see
//! [`super::is_launch_daemon`] for whose messages are read at all.

/// An application launch named by a log message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Launch {
    /// The executable inside the bundle when the message names it, else
    /// the bundle (`/Applications/TablePlus.app`).
    pub path: String,
    /// The bundle path (`/Applications/TablePlus.app`).
    pub bundle: String,
    pub pid: Option<u32>,
    /// User the app runs as, from RunningBoard's `app<…(501)>` identity or
    /// `uid 501`.
    pub uid: Option<u32>,
}

/// The launch a message describes, if it describes one.
pub(crate) fn parse(message: &str) -> Option<Launch> {
    if !contains_ignore_case(message, "launch") {
        return None;
    }
    let (bundle, path) = app_path(message)?;
    Some(Launch {
        path: path.to_owned(),
        bundle: bundle.to_owned(),
        pid: pid(message),
        uid: uid(message),
    })
}

fn contains_ignore_case(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Characters that end a path in running text.
fn ends_path(c: u8) -> bool {
    matches!(
        c,
        b'"' | b'\'' | b'>' | b')' | b']' | b',' | b';' | b'}' | b'\n' | b'\t'
    )
}

/// Characters that may come right before the `/` that starts a path.
fn starts_path(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'"' | b'\'' | b'<' | b'(' | b'[' | b'=' | b':' | b',' | b'\t'
    )
}

/// The first application bundle path in `msg`: (bundle, executable or
/// bundle). Bundle names may contain spaces ("DB Browser for SQLite.app"),
/// so the start is the last `/` before `.app` that follows a delimiter,
/// not the last space.
fn app_path(msg: &str) -> Option<(&str, &str)> {
    let b = msg.as_bytes();
    let mut from = 0;
    while let Some(i) = msg[from..].find(".app") {
        let dot = from + i;
        let end = dot + 4;
        from = end;
        if end < b.len() && !(b[end] == b'/' || b[end] == b' ' || ends_path(b[end])) {
            continue; // ".application…", ".apple…"
        }
        let Some(start) = (0..dot)
            .rev()
            .find(|&s| b[s] == b'/' && (s == 0 || starts_path(b[s - 1])))
        else {
            continue;
        };
        if b[start..dot].iter().any(|&c| ends_path(c)) {
            continue;
        }
        let bundle = &msg[start..end];
        let exe_prefix = "/Contents/MacOS/";
        let path = if msg[end..].starts_with(exe_prefix) {
            let exe_start = end + exe_prefix.len();
            let exe_end = b[exe_start..]
                .iter()
                .position(|&c| ends_path(c) || c == b' ')
                .map_or(b.len(), |k| exe_start + k);
            if exe_end > exe_start {
                &msg[start..exe_end]
            } else {
                bundle
            }
        } else {
            bundle
        };
        return Some((bundle, path));
    }
    None
}

fn digits_at(b: &[u8], at: usize) -> Option<u32> {
    let n = b[at.min(b.len())..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if n == 0 || n > 9 {
        return None;
    }
    std::str::from_utf8(&b[at..at + n]).ok()?.parse().ok()
}

/// The pid a message names.
fn pid(msg: &str) -> Option<u32> {
    let b = msg.as_bytes();
    // RunningBoard identities: `[app<application.x.y.123.456(501)>:4321]`.
    if let Some(p) = msg
        .match_indices(">:")
        .find_map(|(i, _)| digits_at(b, i + 2))
    {
        return Some(p);
    }
    let lower = msg.to_ascii_lowercase();
    lower.match_indices("pid").find_map(|(i, _)| {
        // Not the tail of a longer word ("rapid", "euid" is fine: no pid).
        if i > 0 && b[i - 1].is_ascii_alphabetic() {
            return None;
        }
        let mut j = i + 3;
        while j < b.len() && matches!(b[j], b' ' | b'=' | b':' | b'#') {
            j += 1;
        }
        digits_at(b, j)
    })
}

/// The user a message names.
fn uid(msg: &str) -> Option<u32> {
    let b = msg.as_bytes();
    if let Some(u) = msg.match_indices(")>").find_map(|(i, _)| {
        let open = msg[..i].rfind('(')?;
        digits_at(b, open + 1).filter(|_| b[open + 1..i].iter().all(u8::is_ascii_digit))
    }) {
        return Some(u);
    }
    msg.match_indices("uid ")
        .find_map(|(i, _)| digits_at(b, i + 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_runningboard_identity_and_executable() {
        let m = "[app<application.com.tinyapp.TablePlus.12345678.12345691(501)>:4321] Executing launch request for /Applications/TablePlus.app/Contents/MacOS/TablePlus (LaunchServices)";
        assert_eq!(
            parse(m),
            Some(Launch {
                path: "/Applications/TablePlus.app/Contents/MacOS/TablePlus".into(),
                bundle: "/Applications/TablePlus.app".into(),
                pid: Some(4321),
                uid: Some(501),
            })
        );
    }

    #[test]
    fn bundle_names_with_spaces_and_pid_forms() {
        let m = "LAUNCH: launched \"/Applications/DB Browser for SQLite.app\" pid=812";
        let l = parse(m).expect("a launch");
        assert_eq!(l.bundle, "/Applications/DB Browser for SQLite.app");
        assert_eq!(l.path, l.bundle);
        assert_eq!(l.pid, Some(812));
        assert_eq!(l.uid, None);
    }

    #[test]
    fn not_a_launch() {
        assert_eq!(
            parse("Acquiring assertion for /Applications/Mail.app"),
            None
        );
        assert_eq!(parse("launch of com.apple.xpc.launchd.oneshot"), None);
        assert_eq!(parse("launch request: path /usr/bin/psql"), None);
        assert_eq!(
            parse("Launch: /Users/x/.application/support.app.json"),
            None
        );
        assert_eq!(parse(""), None);
    }
}
