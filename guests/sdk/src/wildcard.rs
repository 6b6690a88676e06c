//! Wildcard lists for text that is not a file path: cloud identity ARNs,
//! access key ids, `DATABASE.SCHEMA.TABLE` names, user agents.
//!
//! [`crate::glob`] treats `/` and `\` as path separators that `*` never
//! crosses, which is right for files and wrong for an ARN such as
//! `arn:aws:sts::111122223333:assumed-role/app-reader/session`, where
//! `arn:aws:sts::*:assumed-role/app-*` must match across the `/` as IAM
//! policy wildcards do. Here every character is ordinary:
//!
//! - `*` matches any run of characters, including none (also `/`, `.`, `:`);
//! - `?` matches exactly one character;
//! - `[abc]`, `[a-z]`, `[!a-z]` (or `[^a-z]`) match one character of (not
//!   of) the class; a `]` right after `[` or `[!` is a member;
//! - there is no escape character (write `[*]` for a literal `*`), and `{`
//!   and `}` are refused: the host's prefilter reads them as alternatives,
//!   so accepting them as literals here would make the two disagree.
//!
//! This is the host prefilter's `glob` op with `*` crossing `/`, so a
//! pattern list can be handed to a subscription unchanged.
//!
//! Matching is the classic wildcard algorithm with one backtracking point
//! (the last `*`), linear in practice, with a literal-prefix and
//! literal-suffix fast path for the common `prefix*` / `*suffix` shapes.

use crate::tunables::TunableSet;

/// One token of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Char(char),
    Any,
    Star,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// A compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Pattern {
    tokens: Vec<Token>,
}

/// A compiled list of wildcard patterns; a text matches when any pattern
/// matches all of it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Wildcards {
    patterns: Vec<Pattern>,
    texts: Vec<String>,
    case_insensitive: bool,
}

impl Wildcards {
    /// Compile `patterns` (each trimmed); every invalid or empty pattern is
    /// reported, one message each.
    pub fn compile<S: AsRef<str>>(
        patterns: &[S],
        case_insensitive: bool,
    ) -> Result<Wildcards, Vec<String>> {
        let mut list = Wildcards {
            case_insensitive,
            ..Wildcards::default()
        };
        let mut errors = Vec::new();
        for pattern in patterns {
            let text = pattern.as_ref().trim();
            if text.is_empty() {
                errors.push("an empty pattern matches nothing; remove it".to_string());
                continue;
            }
            match parse(text, case_insensitive) {
                Ok(compiled) => {
                    list.patterns.push(compiled);
                    list.texts.push(text.to_string());
                }
                Err(message) => errors.push(format!("invalid pattern {text:?}: {message}")),
            }
        }
        if errors.is_empty() {
            Ok(list)
        } else {
            Err(errors)
        }
    }

    /// Whether any pattern matches the whole of `text`.
    pub fn matches(&self, text: &str) -> bool {
        if self.patterns.is_empty() {
            return false;
        }
        if self.case_insensitive && text.chars().any(|c| c.is_uppercase()) {
            let lower = text.to_lowercase();
            return self.patterns.iter().any(|p| p.matches(&lower));
        }
        self.patterns.iter().any(|p| p.matches(text))
    }

    /// The first pattern (as given) that matches `text`, for reason lines.
    pub fn first_match(&self, text: &str) -> Option<&str> {
        let lower;
        let text = if self.case_insensitive {
            lower = text.to_lowercase();
            lower.as_str()
        } else {
            text
        };
        self.patterns
            .iter()
            .position(|p| p.matches(text))
            .map(|at| self.texts[at].as_str())
    }

    /// The patterns as given (trimmed), for subscriptions and messages.
    pub fn patterns(&self) -> &[String] {
        &self.texts
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_case_insensitive(&self) -> bool {
        self.case_insensitive
    }
}

fn parse(text: &str, case_insensitive: bool) -> Result<Pattern, String> {
    let fold = |c: char| {
        if case_insensitive {
            c.to_lowercase().next().unwrap_or(c)
        } else {
            c
        }
    };
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => {
                // `**` is the same as `*` here: there are no separators.
                if tokens.last() != Some(&Token::Star) {
                    tokens.push(Token::Star);
                }
            }
            '?' => tokens.push(Token::Any),
            '{' | '}' => {
                return Err(format!(
                    "{c:?} is not supported (no alternatives); write one pattern per alternative"
                ));
            }
            '[' => {
                let mut negated = false;
                if matches!(chars.peek(), Some('!') | Some('^')) {
                    negated = true;
                    chars.next();
                }
                let mut ranges = Vec::new();
                let mut first = true;
                let mut closed = false;
                while let Some(member) = chars.next() {
                    if member == ']' && !first {
                        closed = true;
                        break;
                    }
                    first = false;
                    let low = fold(member);
                    if chars.peek() == Some(&'-') {
                        let mut ahead = chars.clone();
                        ahead.next();
                        match ahead.peek() {
                            Some(&high) if high != ']' => {
                                chars.next();
                                chars.next();
                                let high = fold(high);
                                if high < low {
                                    return Err(format!(
                                        "the range {member}-{high} runs backwards"
                                    ));
                                }
                                ranges.push((low, high));
                                continue;
                            }
                            _ => {}
                        }
                    }
                    ranges.push((low, low));
                }
                if !closed {
                    return Err("a `[` class is not closed with `]`".into());
                }
                tokens.push(Token::Class { negated, ranges });
            }
            other => tokens.push(Token::Char(fold(other))),
        }
    }
    Ok(Pattern { tokens })
}

impl Token {
    /// Whether this single-character token accepts `c` (never called on
    /// `Star`).
    fn accepts(&self, c: char) -> bool {
        match self {
            Token::Char(expected) => *expected == c,
            Token::Any => true,
            Token::Class { negated, ranges } => {
                let inside = ranges.iter().any(|&(low, high)| (low..=high).contains(&c));
                inside != *negated
            }
            Token::Star => false,
        }
    }
}

impl Pattern {
    fn matches(&self, text: &str) -> bool {
        let tokens = &self.tokens;
        // Fast paths: `literal*` and `*literal`.
        if let [Token::Star, rest @ ..] = tokens.as_slice()
            && let Some(suffix) = literal(rest)
        {
            return text.ends_with(suffix.as_str());
        }
        if let [rest @ .., Token::Star] = tokens.as_slice()
            && let Some(prefix) = literal(rest)
        {
            return text.starts_with(prefix.as_str());
        }
        let chars: Vec<char> = text.chars().collect();
        let (mut t, mut p) = (0usize, 0usize);
        // Position of the last star and the text position it was tried at.
        let mut star: Option<(usize, usize)> = None;
        while t < chars.len() {
            match tokens.get(p) {
                Some(Token::Star) => {
                    star = Some((p, t));
                    p += 1;
                }
                Some(token) if token.accepts(chars[t]) => {
                    t += 1;
                    p += 1;
                }
                _ => match star {
                    // Let the last star swallow one more character.
                    Some((star_p, star_t)) => {
                        p = star_p + 1;
                        t = star_t + 1;
                        star = Some((star_p, star_t + 1));
                    }
                    None => return false,
                },
            }
        }
        tokens[p..].iter().all(|token| *token == Token::Star)
    }
}

/// The tokens as a literal string, when they are all plain characters.
fn literal(tokens: &[Token]) -> Option<String> {
    tokens
        .iter()
        .map(|token| match token {
            Token::Char(c) => Some(*c),
            _ => None,
        })
        .collect()
}

impl TunableSet<'_> {
    /// A glob-list tunable read as [`Wildcards`] (for ARNs, table names, user
    /// agents: `*` crosses every character); every bad pattern is recorded
    /// as an error of `name`.
    pub fn wildcards(&mut self, name: &str, case_insensitive: bool) -> Wildcards {
        let list = self.text_list(name);
        match Wildcards::compile(&list, case_insensitive) {
            Ok(wildcards) => wildcards,
            Err(messages) => {
                for message in messages {
                    self.error(name, message);
                }
                Wildcards::default()
            }
        }
    }
}

#[cfg(test)]
mod tests;
