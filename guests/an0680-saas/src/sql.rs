//! Just enough SQL reading for Snowflake QUERY_HISTORY text: the
//! normalized *shape* of a query (a template id when
//! QUERY_PARAMETERIZED_HASH is absent), the tables it reads, and whether it
//! reads them whole.
//!
//! This is a tokenizer, not a parser: Snowflake's grammar is large and
//! QUERY_TEXT may be cut at 100,000 characters, so the reader must accept
//! anything and never fail. What it understands:
//!
//! - comments (`-- …`, `// …`, `/* … */`) are dropped; string literals
//!   (`'…'` with `''` or `\'` inside, `$$…$$`) and numbers become `?`;
//!   unquoted words are upper-cased; whitespace collapses to one space;
//!   `"quoted"` identifiers keep their text;
//! - a table read is a name after `FROM` or `JOIN` (also in sub-queries and
//!   `COPY INTO … FROM`), comma-separated lists after `FROM` included;
//!   `FROM (…)`, `FROM @stage`, table functions `TABLE(…)` and the `FROM`
//!   of `DELETE FROM` are not reads; unqualified names are completed with
//!   the query's database and schema;
//! - a *star read* selects `*` (or `t.*`) somewhere; a *filtered* query has
//!   a `WHERE`, `LIMIT`, `TOP`, `SAMPLE`/`TABLESAMPLE` or `QUALIFY`.

/// A lexical token.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    /// An unquoted word, upper-cased.
    Word(String),
    /// A `"quoted"` identifier, text as written.
    Quoted(String),
    /// A literal (string or number), shown as `?`.
    Literal,
    /// Any other character (`.`, `,`, `(`, `*`, `@` …).
    Symbol(char),
}

fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied();
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if (c == '-' && at(i + 1) == Some('-')) || (c == '/' && at(i + 1) == Some('/')) {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && at(i + 1) == Some('/')) {
                i += 1;
            }
            i += 2;
        } else if c == '\'' {
            i += 1;
            while i < chars.len() {
                match chars[i] {
                    '\\' => i += 2,
                    '\'' if at(i + 1) == Some('\'') => i += 2,
                    '\'' => break,
                    _ => i += 1,
                }
            }
            i += 1;
            tokens.push(Token::Literal);
        } else if c == '$' && at(i + 1) == Some('$') {
            i += 2;
            while i < chars.len() && !(chars[i] == '$' && at(i + 1) == Some('$')) {
                i += 1;
            }
            i += 2;
            tokens.push(Token::Literal);
        } else if c == '"' {
            let mut name = String::new();
            i += 1;
            while i < chars.len() {
                if chars[i] == '"' {
                    if at(i + 1) == Some('"') {
                        name.push('"');
                        i += 2;
                        continue;
                    }
                    break;
                }
                name.push(chars[i]);
                i += 1;
            }
            i += 1;
            tokens.push(Token::Quoted(name));
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            tokens.push(Token::Literal);
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let mut word = String::new();
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                word.extend(chars[i].to_uppercase());
                i += 1;
            }
            tokens.push(Token::Word(word));
        } else {
            tokens.push(Token::Symbol(c));
            i += 1;
        }
    }
    tokens
}

/// The normalized shape of `text`: literals replaced by `?`, comments
/// dropped, words upper-cased, tokens separated by single spaces. Two runs
/// of one query with different literals have the same shape.
pub fn shape(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4096));
    for token in tokenize(text) {
        if !out.is_empty() {
            out.push(' ');
        }
        match token {
            Token::Word(word) => out.push_str(&word),
            Token::Quoted(name) => {
                out.push('"');
                out.push_str(&name);
                out.push('"');
            }
            Token::Literal => out.push('?'),
            Token::Symbol(c) => out.push(c),
        }
    }
    out
}

/// What a query reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reads {
    /// Tables read, `DATABASE.SCHEMA.TABLE`, in order of appearance,
    /// without repeats. A part that cannot be resolved is `?`.
    pub tables: Vec<String>,
    /// A `SELECT *` or `SELECT t.*`.
    pub star: bool,
    /// A `WHERE`, `LIMIT`, `TOP`, `SAMPLE`, `TABLESAMPLE` or `QUALIFY`.
    pub filtered: bool,
}

impl Reads {
    /// `SELECT *` or an unfiltered read: the whole table, or all of its
    /// columns.
    pub fn whole(&self) -> bool {
        self.star || !self.filtered
    }
}

const FILTERS: &[&str] = &["WHERE", "LIMIT", "TOP", "SAMPLE", "TABLESAMPLE", "QUALIFY"];

/// The tables `text` reads, completed with `database` and `schema`.
pub fn reads(text: &str, database: Option<&str>, schema: Option<&str>) -> Reads {
    let tokens = tokenize(text);
    let mut out = Reads::default();
    let word = |i: usize| match tokens.get(i) {
        Some(Token::Word(w)) => Some(w.as_str()),
        _ => None,
    };
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Word(w) if FILTERS.contains(&w.as_str()) => out.filtered = true,
            Token::Word(w) if w == "SELECT" => {
                let mut j = i + 1;
                if matches!(word(j), Some("DISTINCT") | Some("ALL")) {
                    j += 1;
                }
                if tokens.get(j) == Some(&Token::Symbol('*'))
                    || (matches!(tokens.get(j), Some(Token::Word(_) | Token::Quoted(_)))
                        && tokens.get(j + 1) == Some(&Token::Symbol('.'))
                        && tokens.get(j + 2) == Some(&Token::Symbol('*')))
                {
                    out.star = true;
                }
            }
            Token::Word(w) if w == "FROM" || w == "JOIN" => {
                // `DELETE FROM t` deletes; `EXTRACT(YEAR FROM d)`,
                // `TRIM('x' FROM c)`, `SUBSTRING(c FROM 2)` read columns.
                let previous = i.checked_sub(1).and_then(|p| tokens.get(p));
                let not_a_read = match previous {
                    Some(Token::Word(p)) => p == "DELETE" || DATE_PARTS.contains(&p.as_str()),
                    Some(Token::Literal) => true,
                    _ => false,
                };
                if w == "FROM" && not_a_read {
                    continue;
                }
                let mut j = i + 1;
                while let Some((name, next)) = table_name(&tokens, j) {
                    let resolved = resolve(&name, database, schema);
                    if !out.tables.contains(&resolved) {
                        out.tables.push(resolved);
                    }
                    j = skip_alias(&tokens, next);
                    if w == "FROM" && tokens.get(j) == Some(&Token::Symbol(',')) {
                        j += 1;
                        continue;
                    }
                    break;
                }
            }
            _ => {}
        }
    }
    out
}

/// Words before a `FROM` inside EXTRACT, TRIM and the like.
const DATE_PARTS: &[&str] = &[
    "YEAR",
    "QUARTER",
    "MONTH",
    "WEEK",
    "DAY",
    "DAYOFWEEK",
    "DAYOFYEAR",
    "DOW",
    "DOY",
    "HOUR",
    "MINUTE",
    "SECOND",
    "MILLISECOND",
    "MICROSECOND",
    "NANOSECOND",
    "EPOCH",
    "EPOCH_SECOND",
    "TIMEZONE_HOUR",
    "TIMEZONE_MINUTE",
    "BOTH",
    "LEADING",
    "TRAILING",
];

/// Words that follow a table reference and are not an alias.
const NOT_ALIAS: &[&str] = &[
    "WHERE",
    "JOIN",
    "INNER",
    "LEFT",
    "RIGHT",
    "FULL",
    "CROSS",
    "NATURAL",
    "ON",
    "USING",
    "GROUP",
    "ORDER",
    "LIMIT",
    "HAVING",
    "UNION",
    "EXCEPT",
    "MINUS",
    "INTERSECT",
    "QUALIFY",
    "SAMPLE",
    "TABLESAMPLE",
    "AT",
    "BEFORE",
    "CHANGES",
    "MATCH_RECOGNIZE",
    "PIVOT",
    "UNPIVOT",
    "WINDOW",
    "FILE_FORMAT",
    "PATTERN",
    "FILES",
    "VALIDATION_MODE",
    "OFFSET",
    "FETCH",
    "LATERAL",
    "CONNECT",
    "START",
    "FOR",
    "RETURNING",
    "SET",
    "WHEN",
    "THEN",
    "HEADER",
    "PARTITION",
    "OVERWRITE",
];

/// The dotted name starting at `j`: its parts and the index after it.
/// None for a sub-query, a stage (`@`), a table function or a keyword.
fn table_name(tokens: &[Token], mut j: usize) -> Option<(Vec<String>, usize)> {
    let mut parts = Vec::new();
    loop {
        let part = match tokens.get(j)? {
            Token::Word(w) => {
                if parts.is_empty()
                    && (w == "TABLE" || w == "LATERAL" || NOT_ALIAS.contains(&w.as_str()))
                {
                    return None;
                }
                w.clone()
            }
            Token::Quoted(name) => name.clone(),
            _ => return None,
        };
        parts.push(part);
        j += 1;
        if tokens.get(j) == Some(&Token::Symbol('.')) && parts.len() < 3 {
            j += 1;
            continue;
        }
        return Some((parts, j));
    }
}

/// Skip `AS alias` or a bare alias after a table name.
fn skip_alias(tokens: &[Token], mut j: usize) -> usize {
    if let Some(Token::Word(w)) = tokens.get(j)
        && w == "AS"
    {
        j += 1;
    }
    match tokens.get(j) {
        Some(Token::Word(w)) if !NOT_ALIAS.contains(&w.as_str()) => j + 1,
        Some(Token::Quoted(_)) => j + 1,
        _ => j,
    }
}

fn resolve(parts: &[String], database: Option<&str>, schema: Option<&str>) -> String {
    let db = || {
        database
            .filter(|d| !d.is_empty())
            .unwrap_or("?")
            .to_uppercase()
    };
    let sc = || {
        schema
            .filter(|s| !s.is_empty())
            .unwrap_or("?")
            .to_uppercase()
    };
    match parts {
        [table] => format!("{}.{}.{table}", db(), sc()),
        [schema, table] => format!("{}.{schema}.{table}", db()),
        [database, schema, table] => format!("{database}.{schema}.{table}"),
        _ => parts.join("."),
    }
}

#[cfg(test)]
mod tests;
