//! Compiled glob lists for file paths and names.
//!
//! The convention of every glob-list tunable: a pattern without a separator
//! (`/` or `\`) matches the file *name* (`*.sql` matches `/tmp/a.sql`); a
//! pattern with one matches the *whole path* (`/home/**`). Syntax:
//!
//! - `*` any run of characters within one path component, `?` one character;
//! - `**` as a whole component: zero or more components (`/home/**`,
//!   `/srv/**/dump.sql`); elsewhere it is the same as `*`;
//! - `[abc]`, `[a-z]`, `[!a-z]` (or `[^a-z]`): one character of (not of) the
//!   class; a `]` right after the `[` or `[!` is a member;
//! - `{sql,dump}`: alternatives (nesting allowed, at most 256 expansions);
//! - `/` and `\` both separate components, so Windows paths work as
//!   written; there is no escape character (write `[*]` for a literal `*`).
//!
//! The same split is what subscriptions need: name patterns go into a
//! `file.name` test and path patterns into a `file.path` test.
//!
//! Why not the `globset` crate: it compiles globs to regexes, which brings
//! regex-automata, regex-syntax and aho-corasick into the component (about
//! 620 KB of a 1.1 MB AN0676 component, measured) and a randomly seeded
//! hash map at match time. Globs over paths need none of that: a component
//! by component matcher with the classic single-backtrack wildcard algorithm
//! is linear in practice, and the common shapes (`*.sql`, `backup_*.csv`,
//! `/home/**`) take a prefix/suffix fast path.

/// Most alternatives a pattern may expand to.
const MAX_EXPANSIONS: usize = 256;

/// A compiled list of name and path patterns.
#[derive(Clone, Debug, Default)]
pub struct GlobList {
    names: Vec<Pattern>,
    paths: Vec<Pattern>,
    name_patterns: Vec<String>,
    path_patterns: Vec<String>,
    case_insensitive: bool,
    /// Bit `b` set when a file name ending in byte `b` can match a name
    /// pattern; `None` when some pattern can end in anything. Most file
    /// names are rejected by this one lookup.
    name_last_bytes: Option<[u64; 4]>,
}

impl GlobList {
    /// Compile `patterns`; every invalid or empty pattern is reported, one
    /// message each.
    pub fn compile<S: AsRef<str>>(
        patterns: &[S],
        case_insensitive: bool,
    ) -> Result<GlobList, Vec<String>> {
        let mut list = GlobList {
            case_insensitive,
            ..GlobList::default()
        };
        let mut errors = Vec::new();
        for pattern in patterns {
            let pattern = pattern.as_ref().trim();
            if pattern.is_empty() {
                errors.push("an empty pattern matches nothing; remove it".to_string());
                continue;
            }
            match compile_pattern(pattern) {
                Ok(compiled) if pattern.contains(is_separator) => {
                    list.paths.extend(compiled);
                    list.path_patterns.push(pattern.to_string());
                }
                Ok(compiled) => {
                    list.names.extend(compiled);
                    list.name_patterns.push(pattern.to_string());
                }
                Err(message) => errors.push(format!("invalid glob {pattern:?}: {message}")),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        list.name_last_bytes = last_bytes(&list.names, case_insensitive);
        Ok(list)
    }

    /// Whether `path` matches: its file name against the name patterns, or
    /// the whole path against the path patterns.
    pub fn matches(&self, path: &str) -> bool {
        let ci = self.case_insensitive;
        if !self.names.is_empty() {
            let name = file_name(path);
            let possible = match (&self.name_last_bytes, name.as_bytes().last()) {
                (Some(bits), Some(&last)) => bits[usize::from(last >> 6)] & (1 << (last & 63)) != 0,
                _ => true,
            };
            if possible
                && self
                    .names
                    .iter()
                    .any(|pattern| pattern.matches_component(name, ci))
            {
                return true;
            }
        }
        self.paths
            .iter()
            .any(|pattern| pattern.matches_path(path, ci))
    }

    /// Patterns without a separator (matched against the file name).
    pub fn name_patterns(&self) -> &[String] {
        &self.name_patterns
    }

    /// Patterns with a separator (matched against the whole path).
    pub fn path_patterns(&self) -> &[String] {
        &self.path_patterns
    }

    pub fn is_case_insensitive(&self) -> bool {
        self.case_insensitive
    }

    pub fn is_empty(&self) -> bool {
        self.name_patterns.is_empty() && self.path_patterns.is_empty()
    }
}

/// The last component of `path` (after the last `/` or `\`).
pub fn file_name(path: &str) -> &str {
    match path.bytes().rposition(|b| b == b'/' || b == b'\\') {
        Some(at) => &path[at + 1..],
        None => path,
    }
}

/// The possible last bytes of names matching `patterns`, when every
/// pattern ends in a literal.
fn last_bytes(patterns: &[Pattern], ci: bool) -> Option<[u64; 4]> {
    let mut bits = [0u64; 4];
    for pattern in patterns {
        let last = match pattern.components.as_slice() {
            [Component::Tokens(Shape::Exact(text))] => text.as_bytes().last().copied(),
            [Component::Tokens(Shape::Affix { suffix, .. })] => suffix.as_bytes().last().copied(),
            [Component::Tokens(Shape::General(tokens))] => match tokens.last() {
                Some(Token::Literal(text)) => text.as_bytes().last().copied(),
                _ => None,
            },
            _ => None,
        }?;
        let mut set = |b: u8| bits[usize::from(b >> 6)] |= 1 << (b & 63);
        set(last);
        if ci {
            set(last.to_ascii_lowercase());
            set(last.to_ascii_uppercase());
        }
    }
    Some(bits)
}

fn is_separator(c: char) -> bool {
    c == '/' || c == '\\'
}

/// One token of a path component.
#[derive(Clone, Debug, PartialEq)]
enum Token {
    Literal(Box<str>),
    /// `?`
    One,
    /// `*`
    Star,
    /// `[...]`: inclusive ranges.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// A path component of a pattern.
#[derive(Clone, Debug, PartialEq)]
enum Component {
    /// `**`: zero or more components.
    Any,
    Tokens(Shape),
}

/// Tokens of a component, with the common shapes recognised.
#[derive(Clone, Debug, PartialEq)]
enum Shape {
    /// A literal, possibly empty.
    Exact(Box<str>),
    /// `prefix*suffix` (either may be empty).
    Affix { prefix: Box<str>, suffix: Box<str> },
    /// Anything else.
    General(Vec<Token>),
}

/// One alternative of a pattern, split into components.
#[derive(Clone, Debug, PartialEq)]
struct Pattern {
    components: Vec<Component>,
}

impl Pattern {
    /// Match a single component (a file name).
    fn matches_component(&self, text: &str, ci: bool) -> bool {
        match self.components.as_slice() {
            [Component::Tokens(shape)] => shape.matches(text, ci),
            [Component::Any] => true,
            _ => false,
        }
    }

    fn matches_path(&self, path: &str, ci: bool) -> bool {
        match_components(&self.components, Some(path), ci)
    }
}

/// Match pattern components against the rest of a path (`None` once every
/// component of the path is used up).
fn match_components(components: &[Component], rest: Option<&str>, ci: bool) -> bool {
    let Some((first, others)) = components.split_first() else {
        return rest.is_none();
    };
    match first {
        Component::Any => {
            // Zero components, then one more at a time.
            let mut rest = rest;
            loop {
                if match_components(others, rest, ci) {
                    return true;
                }
                match rest {
                    None => return false,
                    Some(text) => rest = text.split_once(is_separator).map(|(_, after)| after),
                }
            }
        }
        Component::Tokens(shape) => {
            let Some(text) = rest else { return false };
            let (head, tail) = match text.split_once(is_separator) {
                Some((head, tail)) => (head, Some(tail)),
                None => (text, None),
            };
            shape.matches(head, ci) && match_components(others, tail, ci)
        }
    }
}

impl Shape {
    fn from_tokens(tokens: Vec<Token>) -> Shape {
        match tokens.as_slice() {
            [] => Shape::Exact("".into()),
            [Token::Literal(text)] => Shape::Exact(text.clone()),
            [Token::Star] => Shape::Affix {
                prefix: "".into(),
                suffix: "".into(),
            },
            [Token::Star, Token::Literal(suffix)] => Shape::Affix {
                prefix: "".into(),
                suffix: suffix.clone(),
            },
            [Token::Literal(prefix), Token::Star] => Shape::Affix {
                prefix: prefix.clone(),
                suffix: "".into(),
            },
            [Token::Literal(prefix), Token::Star, Token::Literal(suffix)] => Shape::Affix {
                prefix: prefix.clone(),
                suffix: suffix.clone(),
            },
            _ => Shape::General(tokens),
        }
    }

    fn matches(&self, text: &str, ci: bool) -> bool {
        match self {
            Shape::Exact(literal) => equal(text.as_bytes(), literal.as_bytes(), ci),
            Shape::Affix { prefix, suffix } => {
                let (text, prefix, suffix) =
                    (text.as_bytes(), prefix.as_bytes(), suffix.as_bytes());
                text.len() >= prefix.len() + suffix.len()
                    && equal(&text[..prefix.len()], prefix, ci)
                    && equal(&text[text.len() - suffix.len()..], suffix, ci)
            }
            Shape::General(tokens) => match_tokens(tokens, text, ci),
        }
    }
}

fn equal(a: &[u8], b: &[u8], ci: bool) -> bool {
    if ci {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

/// The classic wildcard algorithm: match left to right, remember the last
/// `*` and, on a mismatch, let it take one more character. Correct because
/// every other token matches a fixed number of characters; linear in
/// practice.
fn match_tokens(tokens: &[Token], text: &str, ci: bool) -> bool {
    let (mut token, mut at) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if let Some(current) = tokens.get(token) {
            let rest = &text[at..];
            let step = match current {
                Token::Star => {
                    star = Some((token, at));
                    token += 1;
                    continue;
                }
                Token::Literal(literal) => {
                    let n = literal.len();
                    (rest.len() >= n && equal(&rest.as_bytes()[..n], literal.as_bytes(), ci))
                        .then_some(n)
                }
                Token::One => rest.chars().next().map(char::len_utf8),
                Token::Class { negated, ranges } => rest.chars().next().and_then(|c| {
                    let inside = ranges.iter().any(|&(low, high)| in_range(c, low, high, ci));
                    (inside != *negated).then_some(c.len_utf8())
                }),
            };
            if let Some(step) = step {
                at += step;
                token += 1;
                continue;
            }
        } else if at == text.len() {
            return true;
        }
        // Mismatch: the last star takes one more character, if any.
        let Some((star_token, star_at)) = star else {
            return false;
        };
        let Some(c) = text[star_at..].chars().next() else {
            return false;
        };
        let next = star_at + c.len_utf8();
        star = Some((star_token, next));
        token = star_token + 1;
        at = next;
    }
}

fn in_range(c: char, low: char, high: char, ci: bool) -> bool {
    if (low..=high).contains(&c) {
        return true;
    }
    ci && {
        let (lower, upper) = (c.to_ascii_lowercase(), c.to_ascii_uppercase());
        (low..=high).contains(&lower) || (low..=high).contains(&upper)
    }
}

/// Expand alternatives and compile each.
fn compile_pattern(pattern: &str) -> Result<Vec<Pattern>, String> {
    expand(pattern)?
        .iter()
        .map(|alternative| compile_one(alternative))
        .collect()
}

/// `a{b,c{d,e}}f` → `abf`, `acdf`, `acef`.
fn expand(pattern: &str) -> Result<Vec<String>, String> {
    let Some(open) = find_unclassed(pattern, '{') else {
        if find_unclassed(pattern, '}').is_some() {
            return Err("`}` without `{`".into());
        }
        return Ok(vec![pattern.to_string()]);
    };
    // The matching close brace and the top-level commas inside.
    let mut depth = 0usize;
    let mut commas = Vec::new();
    let mut close = None;
    let mut in_class = false;
    for (index, c) in pattern[open..].char_indices().map(|(i, c)| (i + open, c)) {
        match c {
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '{' if !in_class => depth += 1,
            '}' if !in_class => {
                depth -= 1;
                if depth == 0 {
                    close = Some(index);
                    break;
                }
            }
            ',' if !in_class && depth == 1 => commas.push(index),
            _ => {}
        }
    }
    let close = close.ok_or("`{` without `}`")?;
    let (before, after) = (&pattern[..open], &pattern[close + 1..]);
    let mut bounds = vec![open];
    bounds.extend(&commas);
    bounds.push(close);
    let mut out = Vec::new();
    for pair in bounds.windows(2) {
        let alternative = &pattern[pair[0] + 1..pair[1]];
        for expanded in expand(&format!("{before}{alternative}{after}"))? {
            out.push(expanded);
            if out.len() > MAX_EXPANSIONS {
                return Err(format!("more than {MAX_EXPANSIONS} alternatives"));
            }
        }
    }
    Ok(out)
}

/// Byte index of `wanted` outside `[...]` classes.
fn find_unclassed(pattern: &str, wanted: char) -> Option<usize> {
    let mut in_class = false;
    let mut chars = pattern.char_indices().peekable();
    while let Some((index, c)) = chars.next() {
        if in_class {
            if c == ']' {
                in_class = false;
            }
        } else if c == '[' {
            in_class = true;
            // A `]` right after `[`, `[!` or `[^` is a member, not the end.
            if let Some(&(_, '!' | '^')) = chars.peek() {
                chars.next();
            }
            if let Some(&(_, ']')) = chars.peek() {
                chars.next();
            }
        } else if c == wanted {
            return Some(index);
        }
    }
    None
}

fn compile_one(pattern: &str) -> Result<Pattern, String> {
    let mut components = Vec::new();
    for part in pattern.split(is_separator) {
        if part == "**" {
            // `a/**/**/b` is the same as `a/**/b`.
            if components.last() != Some(&Component::Any) {
                components.push(Component::Any);
            }
        } else {
            components.push(Component::Tokens(Shape::from_tokens(tokenize(part)?)));
        }
    }
    Ok(Pattern { components })
}

fn tokenize(part: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut literal = String::new();
    let mut chars = part.chars().peekable();
    let flush = |literal: &mut String, tokens: &mut Vec<Token>| {
        if !literal.is_empty() {
            tokens.push(Token::Literal(std::mem::take(literal).into_boxed_str()));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '*' => {
                flush(&mut literal, &mut tokens);
                while chars.peek() == Some(&'*') {
                    chars.next();
                }
                if tokens.last() != Some(&Token::Star) {
                    tokens.push(Token::Star);
                }
            }
            '?' => {
                flush(&mut literal, &mut tokens);
                tokens.push(Token::One);
            }
            '[' => {
                flush(&mut literal, &mut tokens);
                tokens.push(parse_class(&mut chars)?);
            }
            ']' => return Err("`]` without `[`".into()),
            other => literal.push(other),
        }
    }
    flush(&mut literal, &mut tokens);
    Ok(tokens)
}

/// After `[`: `!`/`^` negation, members and `a-z` ranges, up to `]`.
fn parse_class(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<Token, String> {
    let negated = matches!(chars.peek(), Some('!' | '^'));
    if negated {
        chars.next();
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let Some(c) = chars.next() else {
            return Err("`[` without `]`".into());
        };
        if c == ']' && !first {
            break;
        }
        first = false;
        if chars.peek() == Some(&'-') {
            let mut ahead = chars.clone();
            ahead.next();
            match ahead.next() {
                Some(high) if high != ']' => {
                    chars.next();
                    chars.next();
                    if high < c {
                        return Err(format!("range `{c}-{high}` is reversed"));
                    }
                    ranges.push((c, high));
                    continue;
                }
                _ => {}
            }
        }
        ranges.push((c, c));
    }
    Ok(Token::Class { negated, ranges })
}

#[cfg(test)]
mod tests;
