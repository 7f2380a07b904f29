//! Reading an existing /etc/docker/daemon.json, strictly, with positions.
//!
//! The parser is hand-written rather than serde_json's so that every refusal names the
//! mistake a person actually made (a comment, a trailing comma, a typographic quote, a
//! second object pasted below the first) at the line and column where it is. It builds
//! `serde_json` values, so the rest of the module works with `serde_json::Map` (whose
//! key order is the file's, thanks to `preserve_order`).
//!
//! It accepts the JSON grammar (RFC 8259) and refuses, besides, what a rewrite could
//! lose or some dockerd release stumbles on:
//! - an empty file (dockerd 20.10 fails with "EOF"; newer releases accept it);
//! - a byte order mark (20.10 rejects it; newer releases skip it);
//! - a key repeated in one object (Go keeps the last one silently; a rewrite would drop
//!   the other, so the operator has to choose);
//! - invalid UTF-8 and unpaired surrogate escapes (Go turns them into U+FFFD);
//! - an integer beyond 64 bits (it could not be written back exactly).

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

use super::error::{DaemonJsonError, ErrorKind};

/// Deepest nesting of objects and arrays accepted (serde_json's own limit is 128 too).
/// It keeps the recursion bounded, so no input can overflow the stack.
const MAX_DEPTH: usize = 128;

const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];

/// Parses the bytes of an existing daemon.json into its top-level object, keeping the
/// file's key order. Any input yields either the map or an error with line and column;
/// nothing panics.
pub fn parse_existing(bytes: &[u8]) -> Result<Map<String, Value>, DaemonJsonError> {
    if bytes.starts_with(UTF8_BOM) {
        return Err(DaemonJsonError::new(
            ErrorKind::ByteOrderMark,
            1,
            1,
            "the file starts with a UTF-8 byte order mark (BOM), which dockerd 20.10 and other older releases reject",
            "save the file as UTF-8 without BOM, for example with: sed -i '1s/^\\xEF\\xBB\\xBF//' /etc/docker/daemon.json",
        ));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(DaemonJsonError::new(
            ErrorKind::ByteOrderMark,
            1,
            1,
            "the file starts with a UTF-16 byte order mark: it is UTF-16 encoded, and dockerd reads UTF-8",
            "convert it to UTF-8, for example with: iconv -f UTF-16 -t UTF-8",
        ));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => return Err(invalid_utf8(bytes, e.valid_up_to())),
    };
    if text.chars().all(is_json_whitespace) {
        return Err(DaemonJsonError::new(
            ErrorKind::Empty,
            1,
            1,
            "the file is empty, and dockerd 20.10 refuses an empty daemon.json (it fails with \"EOF\")",
            "write {} into it, or delete the file",
        ));
    }
    Parser::new(text).parse_document()
}

fn invalid_utf8(bytes: &[u8], valid_up_to: usize) -> DaemonJsonError {
    let prefix = bytes
        .get(..valid_up_to)
        .and_then(|b| std::str::from_utf8(b).ok())
        .unwrap_or("");
    let (line, column) = end_position(prefix.chars());
    let byte = bytes.get(valid_up_to).copied().unwrap_or(0);
    DaemonJsonError::new(
        ErrorKind::InvalidUtf8,
        line,
        column,
        format!("the file is not valid UTF-8 (byte 0x{byte:02X} here)"),
        "dockerd reads daemon.json as UTF-8; if the file was written as Latin-1, convert it with: iconv -f LATIN1 -t UTF-8",
    )
}

/// Line and column of the position just after `chars`.
fn end_position(chars: impl Iterator<Item = char>) -> (usize, usize) {
    let mut line = 1;
    let mut column = 1;
    for c in chars {
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}

fn is_json_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Spacing that looks like whitespace but is not JSON whitespace (pasted from web pages
/// and documents): no-break space, the Unicode spaces, zero-width space, a stray BOM.
fn is_foreign_space(c: char) -> bool {
    !is_json_whitespace(c) && (c.is_whitespace() || matches!(c, '\u{200B}' | '\u{FEFF}'))
}

/// The name of a typographic quotation mark that word processors and chat tools put in
/// place of `"` or `'`.
fn typographic_quote(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{201C}' => "left double quotation mark",
        '\u{201D}' => "right double quotation mark",
        '\u{201E}' => "double low-9 quotation mark",
        '\u{201F}' => "double high-reversed-9 quotation mark",
        '\u{2018}' => "left single quotation mark",
        '\u{2019}' => "right single quotation mark",
        '\u{201A}' => "single low-9 quotation mark",
        '\u{201B}' => "single high-reversed-9 quotation mark",
        '\u{00AB}' => "left-pointing double angle quotation mark",
        '\u{00BB}' => "right-pointing double angle quotation mark",
        '\u{2032}' => "prime",
        '\u{2033}' => "double prime",
        '\u{FF02}' => "fullwidth quotation mark",
        _ => return None,
    })
}

/// How a character is named in a message: printable ASCII in quotes, anything else with
/// its code point (and a name for the invisible ones people meet in practice).
fn describe_char(c: char) -> String {
    match c {
        '\0' => "a NUL character (is the file UTF-16 encoded?)".to_string(),
        '\t' => "a tab".to_string(),
        '\n' | '\r' => "a line break".to_string(),
        '\u{00A0}' => "a no-break space (U+00A0)".to_string(),
        '\u{200B}' => "a zero-width space (U+200B)".to_string(),
        '\u{FEFF}' => "a zero-width no-break space or byte order mark (U+FEFF)".to_string(),
        c if c.is_ascii_graphic() || c == ' ' => format!("'{c}'"),
        c if c.is_control() || c.is_whitespace() => format!("U+{:04X}", u32::from(c)),
        c => format!("'{c}' (U+{:04X})", u32::from(c)),
    }
}

fn starts_value(c: char) -> bool {
    matches!(c, '{' | '[' | '"' | '-' | 't' | 'f' | 'n') || c.is_ascii_digit()
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    /// Positions of the `{` and `[` that are open, innermost last.
    open: Vec<usize>,
    /// Where the string parsed last holds a typographic quote, while no other token has
    /// been read since: a syntax error right after such a string is most likely that
    /// quote's fault, and is reported there.
    recent_typo: Option<usize>,
}

type PResult<T> = Result<T, DaemonJsonError>;

impl Parser {
    fn new(text: &str) -> Self {
        Parser {
            chars: text.chars().collect(),
            pos: 0,
            open: Vec::new(),
            recent_typo: None,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, index: usize) -> Option<char> {
        self.chars.get(index).copied()
    }

    fn line_col(&self, index: usize) -> (usize, usize) {
        end_position(self.chars.iter().take(index).copied())
    }

    fn error(
        &self,
        kind: ErrorKind,
        at: usize,
        reason: impl Into<String>,
        advice: impl Into<String>,
    ) -> DaemonJsonError {
        let (line, column) = self.line_col(at);
        DaemonJsonError::new(kind, line, column, reason, advice)
    }

    fn syntax(&self, at: usize, reason: impl Into<String>) -> DaemonJsonError {
        self.error(
            ErrorKind::Syntax,
            at,
            reason,
            "correct the JSON syntax there; `python3 -m json.tool /etc/docker/daemon.json` shows the same spot",
        )
    }

    fn typo_error(&self, at: usize, inside_string: bool) -> DaemonJsonError {
        let c = self.peek_at(at).unwrap_or('"');
        let name = typographic_quote(c).unwrap_or("typographic quotation mark");
        let reason = if inside_string {
            format!(
                "typographic quote {c} ({name}, U+{:04X}) where a straight double quote \" was meant to close or open the string",
                u32::from(c)
            )
        } else {
            format!(
                "typographic quote {c} ({name}, U+{:04X}) where JSON needs a straight double quote \"",
                u32::from(c)
            )
        };
        self.error(
            ErrorKind::TypographicQuote,
            at,
            reason,
            "replace typographic quotes (“ ” ‘ ’) with straight double quotes \"; word processors, chat tools and some web pages substitute them",
        )
    }

    /// Reports `err` at a typographic quote of the string just read, if it has one.
    fn blame_recent(&self, err: DaemonJsonError) -> DaemonJsonError {
        match self.recent_typo {
            Some(at) => self.typo_error(at, true),
            None => err,
        }
    }

    fn comment_error(&self, at: usize, style: &str) -> DaemonJsonError {
        self.error(
            ErrorKind::Comment,
            at,
            format!("comments are not allowed in JSON (a {style} comment starts here)"),
            "delete the comment: dockerd rejects //, /* */ and # comments in daemon.json; keep notes in another file",
        )
    }

    /// The file ended while the innermost open object or array was still open; the
    /// error points at where that one opened.
    fn eof_error(&self) -> DaemonJsonError {
        match self.open.last() {
            Some(&at) => {
                let (what, close) = if self.peek_at(at) == Some('[') {
                    ("array", ']')
                } else {
                    ("object", '}')
                };
                self.error(
                    ErrorKind::UnexpectedEnd,
                    at,
                    format!("the {what} that opens here is never closed: the file ends first (missing '{close}'?)"),
                    "complete or close it; the file may have been cut short while being written",
                )
            }
            None => self.syntax(self.pos, "the file ends where a value was expected"),
        }
    }

    /// Skips JSON whitespace; refuses comments and look-alike spaces, which can only
    /// appear between tokens.
    fn skip_ws(&mut self) -> PResult<()> {
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\n' | '\r' => self.pos += 1,
                '/' => match self.peek_at(self.pos + 1) {
                    Some('/') => return Err(self.comment_error(self.pos, "//")),
                    Some('*') => return Err(self.comment_error(self.pos, "/* */")),
                    _ => break,
                },
                '#' => return Err(self.comment_error(self.pos, "#")),
                c if is_foreign_space(c) => {
                    return Err(self.error(
                        ErrorKind::Syntax,
                        self.pos,
                        format!(
                            "{} is not allowed between JSON tokens; only spaces, tabs and line breaks are",
                            describe_char(c)
                        ),
                        "retype the spacing there; it was probably pasted from a web page or a document",
                    ));
                }
                _ => break,
            }
        }
        Ok(())
    }

    fn parse_document(mut self) -> PResult<Map<String, Value>> {
        self.skip_ws()?;
        let start = self.pos;
        let map = match self.peek() {
            Some('{') => self.parse_object()?,
            Some(c) => return Err(self.not_an_object(start, c)),
            None => return Err(self.syntax(start, "the file holds no JSON value")),
        };
        let end = self.pos;
        self.skip_ws()?;
        match self.peek() {
            None => Ok(map),
            Some(c) => Err(self.after_document(end, c)),
        }
    }

    fn not_an_object(&self, at: usize, c: char) -> DaemonJsonError {
        let what = match c {
            '[' => "an array",
            '"' => "a string",
            't' | 'f' => "a boolean",
            'n' => "null",
            c if c == '-' || c.is_ascii_digit() => "a number",
            c if typographic_quote(c).is_some() => return self.typo_error(at, false),
            c => {
                return self.syntax(
                    at,
                    format!(
                        "expected '{{' at the start of the top-level object, found {}",
                        describe_char(c)
                    ),
                );
            }
        };
        self.error(
            ErrorKind::NotAnObject,
            at,
            format!(
                "the top-level value is {what}, but daemon.json must be one JSON object {{ … }}"
            ),
            "put the settings inside one pair of braces: { \"key\": value, … }",
        )
    }

    fn after_document(&mut self, end: usize, c: char) -> DaemonJsonError {
        let at = self.pos;
        let (line, column) = self.line_col(end.saturating_sub(1));
        let multiple = |p: &Parser, at: usize| {
            p.error(
                ErrorKind::MultipleValues,
                at,
                format!(
                    "more than one JSON value: the top-level object ends at line {line}, column {column}, and another value starts here"
                ),
                "merge the members into the first object (separated by commas) or delete the extra value; daemon.json holds exactly one object",
            )
        };
        if starts_value(c) {
            return multiple(self, at);
        }
        match c {
            ',' => {
                self.pos += 1;
                if self.skip_ws().is_ok()
                    && let Some(next) = self.peek()
                    && starts_value(next)
                {
                    return multiple(self, self.pos);
                }
                self.error(
                    ErrorKind::TrailingComma,
                    at,
                    "a comma after the end of the top-level object",
                    "delete the comma",
                )
            }
            '}' | ']' => self.syntax(
                at,
                format!(
                    "unexpected '{c}' after the end of the top-level object, which closes at line {line}, column {column} (one closing bracket too many?)"
                ),
            ),
            c => self.syntax(
                at,
                format!(
                    "unexpected {} after the end of the top-level object, which closes at line {line}, column {column}",
                    describe_char(c)
                ),
            ),
        }
    }

    fn enter(&mut self) -> PResult<()> {
        if self.open.len() >= MAX_DEPTH {
            return Err(self.error(
                ErrorKind::TooDeep,
                self.pos,
                format!("objects and arrays are nested more than {MAX_DEPTH} levels deep"),
                "daemon.json needs three levels at most; this file is not a daemon configuration",
            ));
        }
        self.open.push(self.pos);
        self.pos += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.pos += 1;
        self.open.pop();
        self.recent_typo = None;
    }

    fn parse_value(&mut self) -> PResult<Value> {
        self.recent_typo = None;
        let at = self.pos;
        match self.peek() {
            None => Err(self.eof_error()),
            Some('{') => self.parse_object().map(Value::Object),
            Some('[') => self.parse_array().map(Value::Array),
            Some('"') => self.parse_string().map(Value::String),
            Some(c) if c == '-' || c.is_ascii_digit() => self.parse_number(),
            Some(c) if c.is_alphabetic() || c == '_' => self.parse_word(),
            Some(c) => Err(self.not_a_value(at, c)),
        }
    }

    fn not_a_value(&self, at: usize, c: char) -> DaemonJsonError {
        if typographic_quote(c).is_some() {
            return self.typo_error(at, false);
        }
        match c {
            '\'' => self.error(
                ErrorKind::Syntax,
                at,
                "single quotes are not allowed in JSON: strings need double quotes \"",
                "replace the single quotes around the text with double quotes",
            ),
            '+' => self.syntax(at, "a JSON number must not start with '+'"),
            '.' => self.syntax(
                at,
                "a JSON number must start with a digit (write 0.5, not .5)",
            ),
            c => self.syntax(at, format!("expected a value, found {}", describe_char(c))),
        }
    }

    /// A word outside quotes: `true`, `false`, `null`, or a mistake.
    fn parse_word(&mut self) -> PResult<Value> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || matches!(c, '_' | '-' | '.') {
                self.pos += 1;
            } else {
                break;
            }
        }
        let word: String = self.chars[start..self.pos].iter().collect();
        match word.as_str() {
            "true" => return Ok(Value::Bool(true)),
            "false" => return Ok(Value::Bool(false)),
            "null" => return Ok(Value::Null),
            _ => {}
        }
        let reason = if let Some(literal) = ["true", "false", "null"]
            .into_iter()
            .find(|l| l.eq_ignore_ascii_case(&word))
        {
            format!("JSON literals are lowercase: write {literal}, not {word}")
        } else if matches!(word.as_str(), "NaN" | "Infinity") {
            format!("{word} is not a JSON number")
        } else {
            format!("unquoted text {word}: JSON strings must be in double quotes (\"{word}\")")
        };
        Err(self.syntax(start, reason))
    }

    fn parse_number(&mut self) -> PResult<Value> {
        let start = self.pos;
        if self.peek() == Some('-') {
            self.pos += 1;
        }
        match self.peek() {
            Some('0') => {
                self.pos += 1;
                if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    return Err(self.syntax(
                        start,
                        "a JSON number must not have a leading zero (write 8, not 08)",
                    ));
                }
            }
            Some(c) if c.is_ascii_digit() => self.skip_digits(),
            _ => return Err(self.syntax(start, "'-' must be followed by a digit")),
        }
        let mut integer = true;
        if self.peek() == Some('.') {
            integer = false;
            self.pos += 1;
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Err(self.syntax(
                    self.pos.saturating_sub(1),
                    "a digit must follow the decimal point (write 1.0, not 1.)",
                ));
            }
            self.skip_digits();
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            integer = false;
            self.pos += 1;
            if matches!(self.peek(), Some('+' | '-')) {
                self.pos += 1;
            }
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Err(self.syntax(start, "the exponent of this number has no digits"));
            }
            self.skip_digits();
        }
        if self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                self.pos += 1;
            }
            let word: String = self.chars[start..self.pos].iter().collect();
            return Err(self.syntax(
                start,
                format!("unquoted text {word}: JSON strings must be in double quotes (\"{word}\")"),
            ));
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        let number = if integer {
            if text == "-0" {
                // As serde_json and Go read it: a negative zero is a float.
                Number::from_f64(-0.0).unwrap_or_else(|| Number::from(0))
            } else if let Ok(i) = text.parse::<i64>() {
                Number::from(i)
            } else if let Ok(u) = text.parse::<u64>() {
                Number::from(u)
            } else {
                return Err(self.syntax(
                    start,
                    format!("the integer {text} is too large to be kept exactly; no daemon.json setting takes it"),
                ));
            }
        } else {
            match text.parse::<f64>().ok().and_then(Number::from_f64) {
                Some(n) => n,
                None => {
                    return Err(self.syntax(start, format!("the number {text} is out of range")));
                }
            }
        };
        Ok(Value::Number(number))
    }

    fn skip_digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    /// A string, the cursor on its opening quote. Sets `recent_typo`.
    fn parse_string(&mut self) -> PResult<String> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut typo: Option<usize> = None;
        loop {
            let Some(c) = self.peek() else {
                if let Some(at) = typo {
                    return Err(self.typo_error(at, true));
                }
                return Err(self.error(
                    ErrorKind::UnexpectedEnd,
                    start,
                    "the string that opens here is never closed: the file ends first",
                    "add the closing double quote \"",
                ));
            };
            match c {
                '"' => {
                    self.pos += 1;
                    self.recent_typo = typo;
                    return Ok(out);
                }
                '\\' => out.push(self.parse_escape()?),
                '\n' | '\r' => {
                    if let Some(at) = typo {
                        return Err(self.typo_error(at, true));
                    }
                    return Err(self.error(
                        ErrorKind::Syntax,
                        start,
                        "the string that opens here runs into a line break: a JSON string must end on the line where it starts",
                        "add the missing closing double quote \" (or write a line break inside a string as \\n)",
                    ));
                }
                c if u32::from(c) < 0x20 => {
                    let hint = if c == '\t' {
                        "write a tab inside a string as \\t"
                    } else {
                        "write it as a \\u escape"
                    };
                    return Err(self.error(
                        ErrorKind::Syntax,
                        self.pos,
                        format!(
                            "control character U+{:04X} inside a string is not allowed in JSON",
                            u32::from(c)
                        ),
                        hint,
                    ));
                }
                c => {
                    if typo.is_none() && typographic_quote(c).is_some() {
                        typo = Some(self.pos);
                    }
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// An escape sequence, the cursor on its backslash.
    fn parse_escape(&mut self) -> PResult<char> {
        let at = self.pos;
        self.pos += 1;
        let Some(c) = self.peek() else {
            return Err(self.eof_in_string(at));
        };
        self.pos += 1;
        Ok(match c {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let first = self.hex4(at)?;
                let code = if (0xD800..0xDC00).contains(&first) {
                    if self.peek() == Some('\\') && self.peek_at(self.pos + 1) == Some('u') {
                        let low_at = self.pos;
                        self.pos += 2;
                        let low = self.hex4(low_at)?;
                        if !(0xDC00..0xE000).contains(&low) {
                            return Err(self.lone_surrogate(at, first));
                        }
                        0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        return Err(self.lone_surrogate(at, first));
                    }
                } else if (0xDC00..0xE000).contains(&first) {
                    return Err(self.lone_surrogate(at, first));
                } else {
                    first
                };
                match char::from_u32(code) {
                    Some(c) => c,
                    None => return Err(self.lone_surrogate(at, code)),
                }
            }
            other => {
                return Err(self.error(
                    ErrorKind::Syntax,
                    at,
                    format!("invalid escape \\{other} in a string"),
                    "a backslash inside a JSON string must be doubled (\\\\), as in \"C:\\\\dir\"; valid escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX",
                ));
            }
        })
    }

    fn eof_in_string(&self, at: usize) -> DaemonJsonError {
        self.error(
            ErrorKind::UnexpectedEnd,
            at,
            "the file ends inside an escape sequence of a string",
            "complete the string and close it with a double quote \"",
        )
    }

    /// Four hex digits after `\u`; `at` is the backslash.
    fn hex4(&mut self, at: usize) -> PResult<u32> {
        let mut code = 0u32;
        for _ in 0..4 {
            match self.peek().and_then(|c| c.to_digit(16)) {
                Some(d) => {
                    code = code * 16 + d;
                    self.pos += 1;
                }
                None => {
                    return Err(
                        self.syntax(at, "\\u in a string must be followed by four hex digits")
                    );
                }
            }
        }
        Ok(code)
    }

    fn lone_surrogate(&self, at: usize, code: u32) -> DaemonJsonError {
        self.syntax(
            at,
            format!("\\u{code:04X} is half of a UTF-16 surrogate pair without its other half"),
        )
    }

    fn parse_object(&mut self) -> PResult<Map<String, Value>> {
        self.enter()?;
        let mut map = Map::new();
        let mut first_seen: HashMap<String, usize> = HashMap::new();
        self.skip_ws()?;
        if self.peek() == Some('}') {
            self.leave();
            return Ok(map);
        }
        loop {
            self.skip_ws()?;
            let key_at = self.pos;
            let key = match self.peek() {
                Some('"') => self.parse_string()?,
                Some(c) => return Err(self.bad_key(c)),
                None => return Err(self.eof_error()),
            };
            self.skip_ws()?;
            match self.peek() {
                Some(':') => self.pos += 1,
                Some(c) => {
                    let err = if c == '=' {
                        self.syntax(self.pos, "use ':' between a key and its value, not '='")
                    } else {
                        self.syntax(
                            self.pos,
                            format!(
                                "expected ':' after the key \"{key}\", found {}",
                                describe_char(c)
                            ),
                        )
                    };
                    return Err(self.blame_recent(err));
                }
                None => return Err(self.eof_error()),
            }
            self.skip_ws()?;
            let value = self.parse_value()?;
            if let Some(&first) = first_seen.get(&key) {
                let (line, column) = self.line_col(first);
                return Err(self.error(
                    ErrorKind::DuplicateKey,
                    key_at,
                    format!("duplicate key \"{key}\": it is already set at line {line}, column {column}"),
                    "delete the one you do not want: dockerd silently uses the last one, and a rewrite would keep only one",
                ));
            }
            first_seen.insert(key.clone(), key_at);
            map.insert(key, value);
            self.skip_ws()?;
            match self.peek() {
                Some(',') => {
                    let comma = self.pos;
                    self.pos += 1;
                    self.skip_ws()?;
                    if self.peek() == Some('}') {
                        return Err(self.trailing_comma(comma, '}'));
                    }
                }
                Some('}') => {
                    self.leave();
                    return Ok(map);
                }
                Some(c) => return Err(self.blame_recent(self.after_member(c, '}'))),
                None => return Err(self.eof_error()),
            }
        }
    }

    fn parse_array(&mut self) -> PResult<Vec<Value>> {
        self.enter()?;
        let mut items = Vec::new();
        self.skip_ws()?;
        if self.peek() == Some(']') {
            self.leave();
            return Ok(items);
        }
        loop {
            self.skip_ws()?;
            items.push(self.parse_value()?);
            self.skip_ws()?;
            match self.peek() {
                Some(',') => {
                    let comma = self.pos;
                    self.pos += 1;
                    self.skip_ws()?;
                    if self.peek() == Some(']') {
                        return Err(self.trailing_comma(comma, ']'));
                    }
                }
                Some(']') => {
                    self.leave();
                    return Ok(items);
                }
                Some(c) => return Err(self.blame_recent(self.after_member(c, ']'))),
                None => return Err(self.eof_error()),
            }
        }
    }

    fn trailing_comma(&self, comma: usize, close: char) -> DaemonJsonError {
        let last = if close == '}' { "member" } else { "element" };
        self.error(
            ErrorKind::TrailingComma,
            comma,
            format!("trailing comma before '{close}': JSON allows no comma after the last {last}"),
            "delete this comma",
        )
    }

    fn bad_key(&mut self, c: char) -> DaemonJsonError {
        let at = self.pos;
        if typographic_quote(c).is_some() {
            return self.typo_error(at, false);
        }
        match c {
            '\'' => self.error(
                ErrorKind::Syntax,
                at,
                "single quotes are not allowed in JSON: keys need double quotes \"",
                "replace the single quotes around the key with double quotes",
            ),
            c if c.is_alphanumeric() || c == '_' => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
                {
                    self.pos += 1;
                }
                let word: String = self.chars[start..self.pos].iter().collect();
                self.syntax(
                    at,
                    format!("object keys must be in double quotes: write \"{word}\", not {word}"),
                )
            }
            c => self.syntax(
                at,
                format!(
                    "expected a key in double quotes, found {}",
                    describe_char(c)
                ),
            ),
        }
    }

    fn after_member(&self, c: char, close: char) -> DaemonJsonError {
        let at = self.pos;
        let (what, items) = if close == '}' {
            ("object", "members")
        } else {
            ("array", "elements")
        };
        if starts_value(c) || typographic_quote(c).is_some() || c == '\'' {
            return self.syntax(
                at,
                format!("missing comma: expected ',' or '{close}' here, between two {items} of an {what}"),
            );
        }
        let opened = self
            .open
            .last()
            .map(|&o| {
                let (line, column) = self.line_col(o);
                format!(" (the {what} opens at line {line}, column {column})")
            })
            .unwrap_or_default();
        self.syntax(
            at,
            format!(
                "expected ',' or '{close}', found {}{opened}",
                describe_char(c)
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(input: &str) -> DaemonJsonError {
        match parse_existing(input.as_bytes()) {
            Ok(map) => panic!("expected an error for {input:?}, got {map:?}"),
            Err(e) => e,
        }
    }

    fn at(input: &str) -> (ErrorKind, usize, usize) {
        let e = err(input);
        (e.kind(), e.line(), e.column())
    }

    #[test]
    fn parses_a_realistic_file_keeping_order() {
        let text = r#"{
    "log-driver": "json-file",
    "log-opts": {"max-size": "100m", "max-file": "3"},
    "exec-opts": ["native.cgroupdriver=systemd"],
    "default-address-pools": [{"base": "10.10.0.0/16", "size": 24}],
    "live-restore": true,
    "mtu": 1450,
    "ratio": -1.5e2,
    "nothing": null
}
"#;
        let map = parse_existing(text.as_bytes()).expect("valid");
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "log-driver",
                "log-opts",
                "exec-opts",
                "default-address-pools",
                "live-restore",
                "mtu",
                "ratio",
                "nothing"
            ]
        );
        assert_eq!(
            map["log-opts"],
            json!({"max-size": "100m", "max-file": "3"})
        );
        assert_eq!(map["mtu"], json!(1450));
        assert_eq!(map["ratio"], json!(-150.0));
        assert_eq!(map["nothing"], Value::Null);
        let nested: Vec<&str> = map["log-opts"]
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(nested, ["max-size", "max-file"]);
    }

    #[test]
    fn agrees_with_serde_json_on_valid_input() {
        let text = r#"{"a": "\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t", "b": [1, -0, 0.25, 1E3, 18446744073709551615, -9223372036854775808], "c": {}, "d": [], "e": "caf\u00e9 “quoted”"}"#;
        let ours = parse_existing(text.as_bytes()).expect("valid");
        let theirs: Map<String, Value> = serde_json::from_str(text).expect("valid for serde_json");
        assert_eq!(ours, theirs);
    }

    #[test]
    fn accepts_crlf_and_tabs() {
        let map = parse_existing(b"{\r\n\t\"debug\": true\r\n}\r\n").expect("valid");
        assert_eq!(map["debug"], json!(true));
    }

    #[test]
    fn empty_and_whitespace_only_files_are_refused() {
        for input in ["", "   ", "\n\n", " \t\r\n"] {
            let e = err(input);
            assert_eq!(
                (e.kind(), e.line(), e.column()),
                (ErrorKind::Empty, 1, 1),
                "{input:?}"
            );
            assert!(e.to_string().contains("empty"));
            assert!(e.advice().contains("{}"));
        }
    }

    #[test]
    fn trailing_commas() {
        let text = "{\n  \"debug\": true,\n}\n";
        assert_eq!(at(text), (ErrorKind::TrailingComma, 2, 16));
        let text = "{\n  \"dns\": [\"8.8.8.8\", \"1.1.1.1\",\n  ]\n}";
        assert_eq!(at(text), (ErrorKind::TrailingComma, 2, 31));
        let text = "{\"log-opts\": {\"max-size\": \"10m\",}}";
        assert_eq!(at(text), (ErrorKind::TrailingComma, 1, 32));
        assert!(err(text).to_string().contains("trailing comma"));
        assert_eq!(at("{\"a\": 1},\n"), (ErrorKind::TrailingComma, 1, 9));
    }

    #[test]
    fn comments() {
        let text = "{\n  // use systemd\n  \"exec-opts\": [\"native.cgroupdriver=systemd\"]\n}";
        assert_eq!(at(text), (ErrorKind::Comment, 2, 3));
        assert!(
            err(text)
                .to_string()
                .contains("comments are not allowed in JSON")
        );
        let text = "{\n  \"debug\": true /* for now */\n}";
        assert_eq!(at(text), (ErrorKind::Comment, 2, 17));
        let text = "# docker settings\n{}";
        assert_eq!(at(text), (ErrorKind::Comment, 1, 1));
        let text = "{\"debug\": true}\n// trailing note\n";
        assert_eq!(at(text), (ErrorKind::Comment, 2, 1));
        // Inside a string, // is just text.
        let map = parse_existing(br#"{"registry-mirrors": ["https://m.example"]}"#).expect("valid");
        assert_eq!(map["registry-mirrors"], json!(["https://m.example"]));
    }

    #[test]
    fn typographic_quotes() {
        let e = err("{\u{201C}debug\u{201D}: true}");
        assert_eq!(
            (e.kind(), e.line(), e.column()),
            (ErrorKind::TypographicQuote, 1, 2)
        );
        assert!(e.to_string().contains("typographic quote \u{201C}"), "{e}");
        assert!(e.to_string().contains("U+201C"), "{e}");

        let text = "{\n  \"log-driver\": \u{201C}json-file\u{201D}\n}";
        assert_eq!(at(text), (ErrorKind::TypographicQuote, 2, 17));

        // A key closed with a typographic quote swallows text up to the next straight
        // quote; the error still points at the typographic one.
        let text = "{\n  \"log-driver\u{201D}: \"json-file\"\n}";
        assert_eq!(at(text), (ErrorKind::TypographicQuote, 2, 14));

        // A value closed with one runs to the end of the line.
        let text = "{\n  \"log-driver\": \"json-file\u{201D},\n  \"debug\": true\n}";
        assert_eq!(at(text), (ErrorKind::TypographicQuote, 2, 27));

        assert_eq!(
            at("{\"a\": \u{2018}x\u{2019}}"),
            (ErrorKind::TypographicQuote, 1, 7)
        );
        // Typographic quotes inside a well-formed string are content.
        let map = parse_existing("{\"labels\": [\"note=\u{201C}hi\u{201D}\"]}".as_bytes())
            .expect("valid");
        assert_eq!(map["labels"], json!(["note=\u{201C}hi\u{201D}"]));
    }

    #[test]
    fn more_than_one_value() {
        let text = "{\"debug\": true}\n{\"live-restore\": true}\n";
        let e = err(text);
        assert_eq!(
            (e.kind(), e.line(), e.column()),
            (ErrorKind::MultipleValues, 2, 1)
        );
        assert!(e.to_string().contains("more than one JSON value"), "{e}");
        assert!(e.to_string().contains("line 1, column 15"), "{e}");
        assert_eq!(at("{}, {}"), (ErrorKind::MultipleValues, 1, 5));
        assert_eq!(at("{} 3"), (ErrorKind::MultipleValues, 1, 4));
        assert_eq!(at("{\"a\": 1}}"), (ErrorKind::Syntax, 1, 9));
    }

    #[test]
    fn top_level_must_be_an_object() {
        for (input, what) in [
            ("[]", "an array"),
            ("  \"debug\": true", "a string"),
            ("42", "a number"),
            ("true", "a boolean"),
            ("null", "null"),
        ] {
            let e = err(input);
            assert_eq!(e.kind(), ErrorKind::NotAnObject, "{input}");
            assert!(e.to_string().contains(what), "{e}");
        }
        assert_eq!(at("\n  [1]"), (ErrorKind::NotAnObject, 2, 3));
    }

    #[test]
    fn invalid_utf8_points_at_the_byte() {
        let e = match parse_existing(b"{\n  \"labels\": [\"caf\xE9\"]\n}") {
            Err(e) => e,
            Ok(_) => panic!("accepted"),
        };
        assert_eq!(
            (e.kind(), e.line(), e.column()),
            (ErrorKind::InvalidUtf8, 2, 18)
        );
        assert!(e.to_string().contains("0xE9"), "{e}");
        // Column counts characters, not bytes.
        let e = match parse_existing(
            "{\"é\": \""
                .as_bytes()
                .iter()
                .copied()
                .chain([0xFF])
                .collect::<Vec<u8>>()
                .as_slice(),
        ) {
            Err(e) => e,
            Ok(_) => panic!("accepted"),
        };
        assert_eq!((e.line(), e.column()), (1, 8));
    }

    #[test]
    fn byte_order_marks() {
        let e = match parse_existing(b"\xEF\xBB\xBF{}") {
            Err(e) => e,
            Ok(_) => panic!("accepted"),
        };
        assert_eq!(
            (e.kind(), e.line(), e.column()),
            (ErrorKind::ByteOrderMark, 1, 1)
        );
        assert!(e.to_string().contains("byte order mark"));
        let e = match parse_existing(b"\xFF\xFE{\x00}\x00") {
            Err(e) => e,
            Ok(_) => panic!("accepted"),
        };
        assert_eq!(e.kind(), ErrorKind::ByteOrderMark);
        assert!(e.to_string().contains("UTF-16"));
        // A BOM in the middle of the file is a look-alike space.
        assert_eq!(at("{\u{FEFF}}"), (ErrorKind::Syntax, 1, 2));
    }

    #[test]
    fn duplicate_keys() {
        let text = "{\n  \"log-driver\": \"json-file\",\n  \"log-driver\": \"journald\"\n}";
        let e = err(text);
        assert_eq!(
            (e.kind(), e.line(), e.column()),
            (ErrorKind::DuplicateKey, 3, 3)
        );
        assert!(e.to_string().contains("line 2, column 3"), "{e}");
        // The same key in different objects is fine.
        parse_existing(br#"{"a": {"x": 1}, "b": {"x": 2}}"#).expect("valid");
        assert_eq!(
            at(r#"{"log-opts": {"max-file": "3", "max-file": "5"}}"#),
            (ErrorKind::DuplicateKey, 1, 32)
        );
    }

    #[test]
    fn truncated_files() {
        let e = err("{\n  \"debug\": true,\n  \"labels\": [\"a=b\"");
        assert_eq!(
            (e.kind(), e.line(), e.column()),
            (ErrorKind::UnexpectedEnd, 3, 13)
        );
        assert!(e.to_string().contains("array"), "{e}");
        assert_eq!(
            at("{\n  \"debug\": true\n"),
            (ErrorKind::UnexpectedEnd, 1, 1)
        );
        assert_eq!(
            at("{\"data-root\": \"/srv/docker"),
            (ErrorKind::UnexpectedEnd, 1, 15)
        );
        assert_eq!(at("{\"a\": \"b\\"), (ErrorKind::UnexpectedEnd, 1, 9));
    }

    #[test]
    fn other_syntax_errors_have_positions_and_reasons() {
        let cases: &[(&str, usize, usize, &str)] = &[
            ("{\"debug\": true \"mtu\": 1400}", 1, 16, "missing comma"),
            ("{\"dns\": [\"a\" \"b\"]}", 1, 14, "missing comma"),
            ("{debug: true}", 1, 2, "double quotes"),
            ("{'debug': true}", 1, 2, "single quotes"),
            ("{\"debug\": 'yes'}", 1, 11, "single quotes"),
            ("{\"debug\": True}", 1, 11, "lowercase"),
            (
                "{\"log-driver\": json-file}",
                1,
                16,
                "unquoted text json-file",
            ),
            ("{\"max-size\": 10m}", 1, 14, "unquoted text 10m"),
            ("{\"mtu\": 01500}", 1, 9, "leading zero"),
            ("{\"mtu\": +1}", 1, 9, "'+'"),
            ("{\"x\": .5}", 1, 7, "0.5"),
            ("{\"x\": 1.}", 1, 8, "decimal point"),
            ("{\"x\": 1e}", 1, 7, "exponent"),
            ("{\"x\": -}", 1, 7, "digit"),
            ("{\"x\": NaN}", 1, 7, "not a JSON number"),
            ("{\"x\": 1e999}", 1, 7, "out of range"),
            ("{\"x\": 123456789012345678901234567890}", 1, 7, "too large"),
            ("{\"debug\" = true}", 1, 10, "not '='"),
            ("{\"debug\" true}", 1, 10, "expected ':'"),
            ("{\"debug\": }", 1, 11, "expected a value"),
            ("{\"dns\": [1,,2]}", 1, 12, "expected a value"),
            ("{\"a\": 1,, \"b\": 2}", 1, 9, "expected a key"),
            ("{\"dns\": [1}", 1, 11, "array opens at line 1, column 9"),
            ("{\"data-root\": \"C:\\dir\"}", 1, 18, "invalid escape"),
            ("{\"a\": \"x\ty\"}", 1, 9, "control character"),
            ("{\"a\": \"line\nbreak\"}", 1, 7, "line break"),
            ("{\"a\": \"\\u12\"}", 1, 8, "four hex digits"),
            ("{\"a\": \"\\ud800\"}", 1, 8, "surrogate"),
            ("{\"a\": \"\\udc00\\u0041\"}", 1, 8, "surrogate"),
            ("{\u{00A0}\"a\": 1}", 1, 2, "no-break space"),
            ("{\"a\": 1}\0", 1, 9, "NUL"),
            ("@", 1, 1, "expected '{'"),
        ];
        for &(input, line, column, needle) in cases {
            let e = err(input);
            assert_eq!((e.line(), e.column()), (line, column), "{input:?}: {e}");
            assert!(
                e.to_string().contains(needle),
                "{input:?}: {e} (wanted {needle:?})"
            );
            assert!(!e.advice().is_empty());
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing() {
        let text = format!("{{\"a\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(err(&text).kind(), ErrorKind::TooDeep);
        let ok = format!("{{\"a\": {}{}}}", "[".repeat(100), "]".repeat(100));
        parse_existing(ok.as_bytes()).expect("100 levels are fine");
    }

    #[test]
    fn no_input_panics() {
        let valid = "{\n  \"log-opts\": {\"max-size\": \"10m\"},\n  \"dns\": [\"8.8.8.8\", 1.5e3, true, null],\n  \"s\": \"\\u00e9\\ud83d\\ude00\"\n}\n";
        let bytes = valid.as_bytes();
        // Every prefix, and every single-byte corruption, is either parsed or refused.
        for end in 0..bytes.len() {
            let _ = parse_existing(&bytes[..end]);
        }
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut corrupted = bytes.to_vec();
            let index = (seed % bytes.len() as u64) as usize;
            corrupted[index] = (seed >> 32) as u8;
            if let Err(e) = parse_existing(&corrupted) {
                assert!(e.line() >= 1 && e.column() >= 1);
            }
        }
        let alphabet: &[u8] = b"{}[]\",:0-.eE\\u \n/*#tfn\xE2\x80\x9C\xC3";
        for _ in 0..5_000 {
            let mut noise = Vec::new();
            for _ in 0..(seed % 64) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                noise.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            let _ = parse_existing(&noise);
        }
    }
}
