//! A JSON5 document as a tree of values that remember where they are in the
//! text ([`Node::span`]), so every config error can name its line and column.
//!
//! The `json5` crate (v1) parses JSON5 straight into serde types and reports
//! positions only for its own failures; it exposes no value tree with spans.
//! This is a small recursive-descent parser for exactly the JSON5 grammar
//! (<https://spec.json5.org>), using the `json5` crate's own character classes
//! (`json5::char`) for whitespace, line terminators and identifiers. It is
//! fuzzed (`fuzz/fuzz_targets/config_parse.rs`) and checked value-for-value
//! against `json5::from_str` (`core/tests/config_json5.rs`).
//!
//! Duplicate keys in one object: when both values are objects they are merged
//! key by key (recursively); otherwise the last value wins. Each duplicate is
//! reported in [`Document::duplicates`] so the loader can warn about it. (The
//! seed docs' complete example has `guilds` twice in one object; merging keeps
//! what both halves say.)

use std::collections::HashMap;
use std::fmt;

use super::path::{KeyPath, Seg};
use json5::char::{
    is_json5_identifier, is_json5_identifier_start, is_json5_line_terminator, is_json5_whitespace,
};

/// Deepest nesting of arrays/objects accepted (a config never needs more; it
/// keeps the recursive parser's stack bounded on hostile input).
pub const MAX_DEPTH: usize = 64;

/// A byte range `start..end` in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the value's text is.
    pub span: Span,
    /// The value.
    pub value: Value,
}

/// A JSON5 value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// An integer literal (decimal or hex) that fits an `i128`.
    Int(i128),
    /// Any other number (fractions, exponents, `Infinity`, `NaN`, huge ints).
    Float(f64),
    /// A string, escapes decoded.
    Str(String),
    /// `[...]`
    Array(Vec<Node>),
    /// `{...}`, in source order, keys unique (duplicates merged, see the
    /// module docs).
    Object(Vec<Member>),
}

/// One `key: value` of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The key, escapes decoded.
    pub key: String,
    /// Where the key is written.
    pub key_span: Span,
    /// The value.
    pub value: Node,
}

/// A key written twice in the same object.
#[derive(Debug, Clone, PartialEq)]
pub struct Duplicate {
    /// Where the key is (its full path).
    pub path: KeyPath,
    /// Where the key was first written.
    pub first: Span,
    /// Where it was written again.
    pub again: Span,
    /// True when both values were objects and were merged; false when the
    /// later value replaced the earlier one.
    pub merged: bool,
}

/// A parsed document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The top-level value.
    pub root: Node,
    /// Keys written twice (see the module docs).
    pub duplicates: Vec<Duplicate>,
}

/// Text that is not JSON5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What is wrong, e.g. "expected `,` or `}`".
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SyntaxError {}

/// Parses JSON5 text into a [`Document`].
pub fn parse(text: &str) -> Result<Document, SyntaxError> {
    let mut p = Parser {
        text,
        pos: 0,
        depth: 0,
        path: Vec::new(),
        duplicates: Vec::new(),
    };
    p.skip_trivia()?;
    let root = p.value()?;
    p.skip_trivia()?;
    if p.pos < text.len() {
        return Err(p.err("unexpected text after the end of the document"));
    }
    Ok(Document {
        root,
        duplicates: p.duplicates,
    })
}

/// 1-based line and column of each byte offset in `offsets` (sorted
/// ascending), in one pass over `text`: many diagnostics stay linear.
pub fn line_cols(text: &str, offsets: &[usize]) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(offsets.len());
    let mut line = 1;
    let mut col = 1;
    let mut chars = text.char_indices().peekable();
    for &offset in offsets {
        while let Some(&(i, c)) = chars.peek() {
            if i >= offset {
                break;
            }
            chars.next();
            if is_json5_line_terminator(c) {
                // CR LF is one break (the LF may sit at `offset` itself).
                if c == '\r' && chars.peek().is_some_and(|&(_, n)| n == '\n') {
                    chars.next();
                }
                line += 1;
                col = 1;
            } else {
                col += 1;
            }
        }
        out.push((line, col));
    }
    out
}

/// 1-based line and column (in characters) of a byte offset. A CR LF pair
/// counts as one line break, as do LF, CR, U+2028 and U+2029.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut line = 1;
    let mut col = 1;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if i >= offset {
            break;
        }
        if is_json5_line_terminator(c) {
            if c == '\r' && chars.peek().is_some_and(|&(j, n)| n == '\n' && j < offset) {
                chars.next();
            }
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    (line, col)
}

struct Parser<'t> {
    text: &'t str,
    pos: usize,
    depth: usize,
    path: Vec<Seg>,
    duplicates: Vec<Duplicate>,
}

impl Parser<'_> {
    fn err(&self, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            offset: self.pos,
            message: message.into(),
        }
    }

    fn err_at(&self, offset: usize, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            offset,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn peek2(&self) -> Option<char> {
        let mut it = self.text[self.pos..].chars();
        it.next();
        it.next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn found(&self) -> String {
        match self.peek() {
            None => "the end of the file".to_owned(),
            Some(c) => format!("`{}`", c.escape_debug()),
        }
    }

    /// Skips whitespace and comments.
    fn skip_trivia(&mut self) -> Result<(), SyntaxError> {
        loop {
            match self.peek() {
                Some(c) if is_json5_whitespace(c) => {
                    self.bump();
                }
                Some('/') => {
                    let start = self.pos;
                    self.bump();
                    match self.bump() {
                        Some('/') => {
                            while let Some(c) = self.peek() {
                                if is_json5_line_terminator(c) {
                                    break;
                                }
                                self.bump();
                            }
                        }
                        Some('*') => loop {
                            match self.bump() {
                                None => return Err(self.err_at(start, "unterminated `/*` comment")),
                                Some('*') if self.eat('/') => break,
                                Some(_) => {}
                            }
                        },
                        _ => return Err(self.err_at(start, "expected `//` or `/*` comment")),
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self) -> Result<Node, SyntaxError> {
        let start = self.pos;
        let value = match self.peek() {
            None => return Err(self.err("expected a value, found the end of the file")),
            Some('{') => self.nested(Self::object)?,
            Some('[') => self.nested(Self::array)?,
            Some('"' | '\'') => Value::Str(self.string()?),
            Some('+' | '-' | '.' | '0'..='9') => self.number()?,
            Some(c) if is_json5_identifier_start(c) || c == '\\' => {
                let word = self.identifier()?;
                match word.as_str() {
                    "null" => Value::Null,
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "Infinity" => Value::Float(f64::INFINITY),
                    "NaN" => Value::Float(f64::NAN),
                    _ => {
                        return Err(self.err_at(
                            start,
                            format!("expected a value, found `{word}` (strings need quotes)"),
                        ))
                    }
                }
            }
            Some(_) => return Err(self.err(format!("expected a value, found {}", self.found()))),
        };
        Ok(Node {
            span: Span {
                start,
                end: self.pos,
            },
            value,
        })
    }

    fn nested(
        &mut self,
        f: fn(&mut Self) -> Result<Value, SyntaxError>,
    ) -> Result<Value, SyntaxError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.err(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.depth += 1;
        let v = f(self);
        self.depth -= 1;
        v
    }

    fn array(&mut self) -> Result<Value, SyntaxError> {
        self.bump(); // '['
        let mut items = Vec::new();
        loop {
            self.skip_trivia()?;
            if self.eat(']') {
                return Ok(Value::Array(items));
            }
            self.path.push(Seg::Index(items.len()));
            let v = self.value();
            self.path.pop();
            items.push(v?);
            self.skip_trivia()?;
            if self.eat(',') {
                continue;
            }
            if self.eat(']') {
                return Ok(Value::Array(items));
            }
            return Err(self.err(format!("expected `,` or `]`, found {}", self.found())));
        }
    }

    fn object(&mut self) -> Result<Value, SyntaxError> {
        self.bump(); // '{'
        let mut members: Vec<Member> = Vec::new();
        // Where each key is in `members`: finding a duplicate stays O(1) per
        // key, so an object with many keys parses in linear time (issue 16).
        let mut index: HashMap<String, usize> = HashMap::new();
        loop {
            self.skip_trivia()?;
            if self.eat('}') {
                return Ok(Value::Object(members));
            }
            let key_start = self.pos;
            let key = match self.peek() {
                Some('"' | '\'') => self.string()?,
                Some(c) if is_json5_identifier_start(c) || c == '\\' => self.identifier()?,
                _ => {
                    return Err(self.err(format!("expected a key or `}}`, found {}", self.found())))
                }
            };
            let key_span = Span {
                start: key_start,
                end: self.pos,
            };
            self.skip_trivia()?;
            if !self.eat(':') {
                return Err(self.err(format!(
                    "expected `:` after the key, found {}",
                    self.found()
                )));
            }
            self.skip_trivia()?;
            self.path.push(Seg::Key(key.clone()));
            let value = self.value();
            self.path.pop();
            let member = Member {
                key,
                key_span,
                value: value?,
            };
            match index.get(&member.key) {
                Some(&at) => merge_member(
                    &mut members[at],
                    member,
                    &mut self.path,
                    &mut self.duplicates,
                ),
                None => {
                    index.insert(member.key.clone(), members.len());
                    members.push(member);
                }
            }
            self.skip_trivia()?;
            if self.eat(',') {
                continue;
            }
            if self.eat('}') {
                return Ok(Value::Object(members));
            }
            return Err(self.err(format!("expected `,` or `}}`, found {}", self.found())));
        }
    }

    /// A quoted string (the opening quote is next).
    fn string(&mut self) -> Result<String, SyntaxError> {
        let start = self.pos;
        let Some(quote) = self.bump() else {
            return Err(self.err("expected a string"));
        };
        let mut out = String::new();
        loop {
            let at = self.pos;
            match self.bump() {
                None => return Err(self.err_at(start, "unterminated string")),
                Some(c) if c == quote => return Ok(out),
                Some('\n' | '\r') => {
                    return Err(self.err_at(
                        at,
                        "line break inside a string (end the line with `\\` to continue it)",
                    ))
                }
                Some('\\') => {
                    if let Some(c) = self.escape(at)? {
                        out.push(c);
                    }
                }
                Some(c) => out.push(c),
            }
        }
    }

    /// After a backslash inside a string. `None` for a line continuation.
    fn escape(&mut self, at: usize) -> Result<Option<char>, SyntaxError> {
        let Some(c) = self.bump() else {
            return Err(self.err_at(at, "unterminated escape sequence"));
        };
        Ok(Some(match c {
            c if is_json5_line_terminator(c) => {
                if c == '\r' {
                    self.eat('\n');
                }
                return Ok(None);
            }
            'b' => '\u{8}',
            't' => '\t',
            'n' => '\n',
            'v' => '\u{b}',
            'f' => '\u{c}',
            'r' => '\r',
            '0' => {
                if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    return Err(self.err_at(at, "invalid escape sequence"));
                }
                '\0'
            }
            '1'..='9' => return Err(self.err_at(at, "invalid escape sequence")),
            'x' => {
                let v = self.hex_digits(at, 2)?;
                char::from_u32(v).ok_or_else(|| self.err_at(at, "invalid escape sequence"))?
            }
            'u' => self.unicode_escape(at)?,
            other => other,
        }))
    }

    fn hex_digits(&mut self, at: usize, n: usize) -> Result<u32, SyntaxError> {
        let mut v = 0u32;
        for _ in 0..n {
            match self.bump().and_then(|c| c.to_digit(16)) {
                Some(d) => v = v * 16 + d,
                None => return Err(self.err_at(at, "invalid escape sequence")),
            }
        }
        Ok(v)
    }

    /// After `\u`: four hex digits, or a surrogate pair `\uD83D\uDE00`.
    fn unicode_escape(&mut self, at: usize) -> Result<char, SyntaxError> {
        let a = self.hex_digits(at, 4)?;
        if let Some(c) = char::from_u32(a) {
            return Ok(c);
        }
        if !(self.eat('\\') && self.eat('u')) {
            return Err(self.err_at(at, "invalid escape sequence (lone surrogate)"));
        }
        let b = self.hex_digits(at, 4)?;
        let units = [a, b].map(|u| u16::try_from(u).unwrap_or(0));
        let mut it = char::decode_utf16(units);
        match (it.next(), it.next()) {
            (Some(Ok(c)), None) => Ok(c),
            _ => Err(self.err_at(at, "invalid escape sequence (bad surrogate pair)")),
        }
    }

    /// An ECMAScript 5.1 IdentifierName (object keys, `null`, `true`, ...).
    fn identifier(&mut self) -> Result<String, SyntaxError> {
        let start = self.pos;
        let mut out = String::new();
        loop {
            let at = self.pos;
            let allowed = |c: char| {
                if at == start {
                    is_json5_identifier_start(c)
                } else {
                    is_json5_identifier(c)
                }
            };
            match self.peek() {
                Some('\\') => {
                    self.bump();
                    if !self.eat('u') {
                        return Err(self.err_at(at, "invalid escape sequence in a key"));
                    }
                    let c = self.unicode_escape(at)?;
                    if !allowed(c) {
                        return Err(self.err_at(at, "invalid character in a key"));
                    }
                    out.push(c);
                }
                Some(c) if allowed(c) => {
                    self.bump();
                    out.push(c);
                }
                _ => break,
            }
        }
        if out.is_empty() {
            return Err(self.err(format!("expected a key, found {}", self.found())));
        }
        Ok(out)
    }

    fn number(&mut self) -> Result<Value, SyntaxError> {
        let start = self.pos;
        let neg = match self.peek() {
            Some('-') => {
                self.bump();
                true
            }
            Some('+') => {
                self.bump();
                false
            }
            _ => false,
        };
        let digits_start = self.pos;
        match self.peek() {
            Some('I' | 'N') => {
                let word = self.identifier()?;
                return match word.as_str() {
                    "Infinity" if neg => Ok(Value::Float(f64::NEG_INFINITY)),
                    "Infinity" => Ok(Value::Float(f64::INFINITY)),
                    "NaN" => Ok(Value::Float(f64::NAN)),
                    _ => Err(self.err_at(start, "expected a number")),
                };
            }
            Some('0') if matches!(self.peek2(), Some('x' | 'X')) => {
                self.bump();
                self.bump();
                let hex_start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                    self.bump();
                }
                let hex = &self.text[hex_start..self.pos];
                if hex.is_empty() {
                    return Err(self.err("expected hex digits after `0x`"));
                }
                return match u128::from_str_radix(hex, 16) {
                    Ok(u) => Ok(signed(neg, u)),
                    Err(_) => Err(self.err_at(start, "number too large")),
                };
            }
            Some('0') if self.peek2().is_some_and(|c| c.is_ascii_digit()) => {
                return Err(self.err_at(start, "numbers may not start with a leading zero"));
            }
            Some('.' | '0'..='9') => {}
            _ => return Err(self.err(format!("expected a number, found {}", self.found()))),
        }
        // DecimalLiteral: digits [. digits] [exp] | . digits [exp]
        let int_digits = self.skip_digits();
        let mut is_int = true;
        if self.eat('.') {
            is_int = false;
            let frac = self.skip_digits();
            if int_digits == 0 && frac == 0 {
                return Err(self.err_at(start, "expected digits around `.`"));
            }
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            is_int = false;
            self.bump();
            if matches!(self.peek(), Some('+' | '-')) {
                self.bump();
            }
            if self.skip_digits() == 0 {
                return Err(self.err("expected digits in the exponent"));
            }
        }
        let body = &self.text[digits_start..self.pos];
        if is_int {
            if let Ok(u) = body.parse::<u128>() {
                return Ok(signed(neg, u));
            }
        }
        let f: f64 = body
            .parse()
            .map_err(|_| self.err_at(start, "invalid number"))?;
        Ok(Value::Float(if neg { -f } else { f }))
    }

    fn skip_digits(&mut self) -> usize {
        let s = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
        self.pos - s
    }
}

fn signed(neg: bool, u: u128) -> Value {
    match i128::try_from(u) {
        Ok(i) if neg => Value::Int(-i),
        Ok(i) => Value::Int(i),
        Err(_) if neg && u == i128::MIN.unsigned_abs() => Value::Int(i128::MIN),
        #[allow(clippy::cast_precision_loss)] // only for ints beyond i128: approximate is fine
        Err(_) => Value::Float(if neg { -(u as f64) } else { u as f64 }),
    }
}

/// Adds `member` to `members`, merging or replacing a duplicate key.
fn insert_member(
    members: &mut Vec<Member>,
    member: Member,
    path: &mut Vec<Seg>,
    duplicates: &mut Vec<Duplicate>,
) {
    let Some(existing) = members.iter_mut().find(|m| m.key == member.key) else {
        members.push(member);
        return;
    };
    merge_member(existing, member, path, duplicates);
}

/// Merges `member` into `existing`, a member with the same key: objects are
/// merged key by key, anything else is replaced; the duplicate is recorded.
fn merge_member(
    existing: &mut Member,
    member: Member,
    path: &mut Vec<Seg>,
    duplicates: &mut Vec<Duplicate>,
) {
    path.push(Seg::Key(member.key.clone()));
    let merged = matches!(
        (&existing.value.value, &member.value.value),
        (Value::Object(_), Value::Object(_))
    );
    duplicates.push(Duplicate {
        path: KeyPath(path.clone()),
        first: existing.key_span,
        again: member.key_span,
        merged,
    });
    if merged {
        if let (Value::Object(into), Value::Object(from)) =
            (&mut existing.value.value, member.value.value)
        {
            for m in from {
                insert_member(into, m, path, duplicates);
            }
        }
        existing.value.span.end = existing.value.span.end.max(member.value.span.end);
    } else {
        existing.key_span = member.key_span;
        existing.value = member.value;
    }
    path.pop();
}

impl Node {
    /// The member `key` of an object node.
    pub fn member(&self, key: &str) -> Option<&Member> {
        match &self.value {
            Value::Object(members) => members.iter().find(|m| m.key == key),
            _ => None,
        }
    }

    /// A short name of the value's type for error messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Array(_) => "a list",
            Value::Object(_) => "an object",
        }
    }
}

/// True when `text` holds nothing but whitespace and comments.
pub fn is_blank(text: &str) -> bool {
    let mut p = Parser {
        text,
        pos: 0,
        depth: 0,
        path: Vec::new(),
        duplicates: Vec::new(),
    };
    p.skip_trivia().is_ok() && p.pos == text.len()
}
