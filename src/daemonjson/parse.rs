//! Reading an existing /etc/docker/daemon.json, strictly, with positions.
//!
//! serde_json does the parsing (`preserve_order` keeps the file's key order). Ours are
//! the checks it does not make, and the diagnosis of a failure: from serde_json's
//! position and the text around it, the mistake a person actually made (a comment, a
//! trailing comma, a typographic quote, a second object pasted below the first, a file
//! cut short), at the line and column where it is (columns count characters).
//!
//! Refused besides what is not JSON, because some dockerd release stumbles on it or a
//! rewrite could lose it:
//! - an empty file (dockerd 20.10 fails with "EOF"; newer releases accept it);
//! - a byte order mark (20.10 rejects it; newer releases skip it);
//! - invalid UTF-8 and unpaired `\u` surrogate escapes (Go turns them into U+FFFD;
//!   serde_json refuses the escapes itself);
//! - a key repeated in one object (Go keeps the last one silently; a rewrite would drop
//!   the other, so the operator has to choose).
//!
//! Like serde_json, it reads an integer beyond 64 bits as a float.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::error::{DaemonJsonError, ErrorKind};

const SYNTAX_ADVICE: &str = "correct the JSON syntax there; `python3 -m json.tool /etc/docker/daemon.json` shows the same spot";

/// How the error `Strict` raises for a repeated key starts; the key follows.
const DUPLICATE: &str = "duplicate key ";

/// Parses the bytes of an existing daemon.json into its top-level object, keeping the
/// file's key order. Any input yields either the map or an error with line and column;
/// nothing panics. Nesting deeper than serde_json's limit (128) is refused.
pub fn parse_existing(bytes: &[u8]) -> Result<Map<String, Value>, DaemonJsonError> {
    let at_start =
        |kind, reason: &str, advice: &str| DaemonJsonError::new(kind, 1, 1, reason, advice);
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        return Err(at_start(
            ErrorKind::ByteOrderMark,
            "the file starts with a UTF-8 byte order mark (BOM), which dockerd 20.10 and other older releases reject",
            "save the file as UTF-8 without BOM, for example with: sed -i '1s/^\\xEF\\xBB\\xBF//' /etc/docker/daemon.json",
        ));
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(at_start(
            ErrorKind::ByteOrderMark,
            "the file starts with a UTF-16 byte order mark: it is UTF-16 encoded, and dockerd reads UTF-8",
            "convert it to UTF-8, for example with: iconv -f UTF-16 -t UTF-8",
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        let (line, column) = line_col(std::str::from_utf8(valid).unwrap_or(""), valid.len());
        DaemonJsonError::new(
            ErrorKind::InvalidUtf8,
            line,
            column,
            format!("the file is not valid UTF-8 (byte 0x{:02X} here)", bytes[valid.len()]),
            "dockerd reads daemon.json as UTF-8; if the file was written as Latin-1, convert it with: iconv -f LATIN1 -t UTF-8",
        )
    })?;
    let body = text.trim_start_matches(is_ws);
    if body.is_empty() {
        return Err(at_start(
            ErrorKind::Empty,
            "the file is empty, and dockerd 20.10 refuses an empty daemon.json (it fails with \"EOF\")",
            "write {} into it, or delete the file",
        ));
    }
    let start = text.len() - body.len();
    let what = match body.as_bytes()[0] {
        b'[' => Some("an array"),
        b'"' => Some("a string"),
        b'-' | b'0'..=b'9' => Some("a number"),
        _ if body.starts_with("true") || body.starts_with("false") => Some("a boolean"),
        _ if body.starts_with("null") => Some("null"),
        _ => None,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = match what {
        None => Strict
            .deserialize(&mut de)
            .and_then(|v| de.end().map(|()| v)),
        Some(_) => Ok(Value::Null), // refused below without parsing
    };
    match parsed {
        Ok(Value::Object(map)) => Ok(map),
        Err(e) => Err(diagnose(text, &e)),
        Ok(_) => Err(error(
            text,
            ErrorKind::NotAnObject,
            start,
            format!(
                "the top-level value is {}, but daemon.json must be one JSON object {{ … }}",
                what.unwrap_or("not an object")
            ),
            "put the settings inside one pair of braces: { \"key\": value, … }",
        )),
    }
}

/// Builds a `Value` as serde_json's own `Deserialize` does, but refuses a key repeated
/// in one object (serde_json's `Map` would keep the last one silently).
#[derive(Clone, Copy)]
struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                // serde_json puts its position (just after the key) on this error.
                return Err(de::Error::custom(format_args!("{DUPLICATE}{key}")));
            }
            let value = access.next_value_seed(self)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

/// Names the mistake behind a serde_json error, and where it is.
fn diagnose(text: &str, e: &serde_json::Error) -> DaemonJsonError {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let msg = full.strip_suffix(&suffix).unwrap_or(&full);
    // serde_json's column counts bytes, and is that of the byte it stopped at (0 when
    // that is the line break ending the line before).
    let lines = text.split_inclusive('\n').take(e.line().saturating_sub(1));
    let mut at = (lines.map(str::len).sum::<usize>() + e.column()).saturating_sub(1);
    if e.is_eof() || at > text.len() {
        at = text.len();
    }
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let walk = walk(&text[..at]);
    let rest = &text[at..];
    let here = rest.chars().next();
    if let Some(key) = msg.strip_prefix(DUPLICATE) {
        return duplicate(text, &walk, at, key);
    }
    if msg.starts_with("recursion limit exceeded") {
        return error(
            text,
            ErrorKind::TooDeep,
            at,
            "objects and arrays are nested more than 128 levels deep",
            "daemon.json needs three levels at most; this file is not a daemon configuration",
        );
    }
    let comment = ["//", "/*", "#"].into_iter().find(|c| rest.starts_with(c));
    if let (None, Some(style)) = (walk.string, comment) {
        let style = if style == "/*" { "/* */" } else { style };
        return error(
            text,
            ErrorKind::Comment,
            at,
            format!("comments are not allowed in JSON (a {style} comment starts here)"),
            "delete the comment: dockerd rejects //, /* */ and # comments in daemon.json; keep notes in another file",
        );
    }
    // A typographic quote where a string should start, or in the string being read or
    // just read (one that closes a string lets it run on to the next straight quote).
    let string = walk.string.or_else(|| {
        let &(start, end, _) = walk.strings.last()?;
        let just_read = !e.is_eof() && text[end..at].trim_matches(is_ws).is_empty();
        just_read.then_some(start)
    });
    let typo = string
        .and_then(|start| text[start..at].find(TYPOGRAPHIC).map(|i| start + i))
        .or_else(|| rest.starts_with(TYPOGRAPHIC).then_some(at));
    if let Some(typo_at) = typo {
        let c = text[typo_at..].chars().next().unwrap_or('"');
        return error(
            text,
            ErrorKind::TypographicQuote,
            typo_at,
            format!(
                "typographic quote {c} (U+{:04X}) where JSON needs a straight double quote \"",
                u32::from(c)
            ),
            "replace typographic quotes (“ ” ‘ ’) with straight double quotes \"; word processors, chat tools and some web pages substitute them",
        );
    }
    if msg == "trailing comma" {
        let before = text[..at].trim_end_matches(is_ws);
        let comma = before.strip_suffix(',').map_or(at, str::len);
        let last = if here == Some(']') {
            "element"
        } else {
            "member"
        };
        let reason = format!("trailing comma: JSON allows no comma after the last {last}");
        return error(
            text,
            ErrorKind::TrailingComma,
            comma,
            reason,
            "delete this comma",
        );
    }
    if msg == "trailing characters" && walk.open.is_empty() {
        return after_document(text, at);
    }
    if e.is_eof() {
        return unexpected_end(text, &walk);
    }
    if let (Some('\n' | '\r'), Some(start)) = (here, walk.string) {
        let reason = "the string that opens here runs into a line break: a JSON string must end on the line where it starts";
        let advice = "add the missing closing double quote \" (or write a line break inside a string as \\n)";
        return error(text, ErrorKind::Syntax, start, reason, advice);
    }
    let (at, reason) = match here {
        // serde_json stops past a bad escape; its backslash is what to fix.
        _ if msg.contains("escape") || msg.contains("code point") => {
            (text[..at].rfind('\\').unwrap_or(at), msg.to_string())
        }
        Some(c) if msg.starts_with("expected") || msg.starts_with("key must") => {
            (at, format!("{msg}, found {}", describe_char(c)))
        }
        _ => (at, msg.to_string()),
    };
    error(text, ErrorKind::Syntax, at, reason, SYNTAX_ADVICE)
}

/// What follows the top-level object, which `at` points at.
fn after_document(text: &str, at: usize) -> DaemonJsonError {
    let end = text[..at].trim_end_matches(is_ws).len().saturating_sub(1);
    let (line, column) = line_col(text, end);
    let ends = format!("the top-level object ends at line {line}, column {column}");
    let c = text[at..].chars().next().unwrap_or(' ');
    let next = text
        .get(at + c.len_utf8()..)
        .unwrap_or("")
        .trim_start_matches(is_ws);
    let multiple = format!("more than one JSON value: {ends}, and another value starts here");
    let merge = "merge the members into the first object (separated by commas) or delete the extra value; daemon.json holds exactly one object";
    let (kind, at, reason, advice) = match c {
        ',' if next.starts_with(starts_value) => (
            ErrorKind::MultipleValues,
            text.len() - next.len(),
            multiple,
            merge,
        ),
        ',' => {
            let reason = "a comma after the end of the top-level object".to_string();
            (ErrorKind::TrailingComma, at, reason, "delete the comma")
        }
        c if starts_value(c) => (ErrorKind::MultipleValues, at, multiple, merge),
        c => {
            let found = describe_char(c);
            let reason =
                format!("unexpected {found} after the end of the top-level object ({ends})");
            (ErrorKind::Syntax, at, reason, SYNTAX_ADVICE)
        }
    };
    error(text, kind, at, reason, advice)
}

/// The file ended inside a string, an object or an array: point at where it opens.
fn unexpected_end(text: &str, walk: &Walk) -> DaemonJsonError {
    if let Some(start) = walk.string {
        let reason = "the string that opens here is never closed: the file ends first";
        return error(
            text,
            ErrorKind::UnexpectedEnd,
            start,
            reason,
            "add the closing double quote \"",
        );
    }
    let advice = "complete or close it; the file may have been cut short while being written";
    let Some(&at) = walk.open.last() else {
        let reason = "the file ends where a value was expected";
        return error(text, ErrorKind::UnexpectedEnd, text.len(), reason, advice);
    };
    let (what, close) = if text[at..].starts_with('[') {
        ("array", ']')
    } else {
        ("object", '}')
    };
    let reason = format!(
        "the {what} that opens here is never closed: the file ends first (missing '{close}'?)"
    );
    error(text, ErrorKind::UnexpectedEnd, at, reason, advice)
}

/// The repeated `key`, which serde_json's position `at` follows, and where its first
/// occurrence in the same object is.
fn duplicate(text: &str, walk: &Walk, at: usize, key: &str) -> DaemonJsonError {
    let second = walk
        .string
        .or(walk.strings.last().map(|s| s.0))
        .unwrap_or(at);
    let (opener, depth) = (walk.open.last().copied().unwrap_or(0), walk.open.len());
    let first = walk.strings.iter().find(|&&(start, end, d)| {
        d == depth
            && start > opener
            && start < second
            && text[end..].trim_start_matches(is_ws).starts_with(':')
            && serde_json::from_str::<String>(&text[start..end]).is_ok_and(|k| k == key)
    });
    let already = match first {
        Some(&(start, ..)) => {
            let (line, column) = line_col(text, start);
            format!("it is already set at line {line}, column {column}")
        }
        None => "the same object already has it".to_string(),
    };
    error(
        text,
        ErrorKind::DuplicateKey,
        second,
        format!("duplicate key \"{key}\": {already}"),
        "delete the one you do not want: dockerd silently uses the last one, and a rewrite would keep only one",
    )
}

/// What a string-aware walk over the text before an error finds.
#[derive(Default)]
struct Walk {
    /// Byte offsets of the `{` and `[` still open, innermost last.
    open: Vec<usize>,
    /// Byte offset of the opening quote of the string still open.
    string: Option<usize>,
    /// The strings passed: byte range (quotes included) and nesting depth.
    strings: Vec<(usize, usize, usize)>,
}

fn walk(text: &str) -> Walk {
    let mut walk = Walk::default();
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match walk.string {
            Some(_) if escaped => escaped = false,
            Some(_) if c == '\\' => escaped = true,
            Some(start) if c == '"' => {
                walk.strings.push((start, i + 1, walk.open.len()));
                walk.string = None;
            }
            Some(_) => {}
            None if c == '"' => walk.string = Some(i),
            None if c == '{' || c == '[' => walk.open.push(i),
            None if c == '}' || c == ']' => drop(walk.open.pop()),
            None => {}
        }
    }
    walk
}

fn error(
    text: &str,
    kind: ErrorKind,
    at: usize,
    reason: impl Into<String>,
    advice: impl Into<String>,
) -> DaemonJsonError {
    let (line, column) = line_col(text, at);
    DaemonJsonError::new(kind, line, column, reason, advice)
}

/// 1-based line and column (in characters) of the byte offset `at`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn starts_value(c: char) -> bool {
    matches!(c, '{' | '[' | '"' | '-' | 't' | 'f' | 'n') || c.is_ascii_digit()
}

/// Typographic quotation marks that word processors and chat tools put in place of
/// `"` or `'`.
const TYPOGRAPHIC: &[char] = &[
    '\u{201C}', '\u{201D}', '\u{201E}', '\u{201F}', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}',
    '\u{00AB}', '\u{00BB}', '\u{2032}', '\u{2033}', '\u{FF02}',
];

/// How a character is named in a message: printable ASCII in quotes, anything else with
/// its code point (and a name for the ones people meet in practice).
fn describe_char(c: char) -> String {
    match c {
        '\0' => "a NUL character (is the file UTF-16 encoded?)".to_string(),
        '\'' => "a single quote (JSON strings and keys need double quotes \")".to_string(),
        '\u{00A0}' => "a no-break space (U+00A0)".to_string(),
        '\u{200B}' => "a zero-width space (U+200B)".to_string(),
        '\u{FEFF}' => "a zero-width no-break space or byte order mark (U+FEFF)".to_string(),
        c if c.is_ascii_graphic() => format!("'{c}'"),
        c => format!("U+{:04X}", u32::from(c)),
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
        assert!(
            err(text).to_string().contains("trailing comma"),
            "{}",
            err(text)
        );
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
        // A typographic quote in a string closed before the error is not blamed.
        assert_eq!(
            at("{\"labels\": [\"a=\u{201C}b\u{201D}\"] \"x\": 1}"),
            (ErrorKind::Syntax, 1, 22)
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
        // The first occurrence is looked for in the same object only, escapes decoded.
        let e = err(r#"{"a": 1, "b": {"a": 2}, "\u0061": 3}"#);
        assert_eq!(
            (e.kind(), e.line(), e.column()),
            (ErrorKind::DuplicateKey, 1, 25)
        );
        assert!(e.to_string().contains("line 1, column 2"), "{e}");
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
        // A typographic quote in a closed string is not blamed for the end of the file.
        let e = err("{\"labels\": [\"a=\u{201C}b\u{201D}\"");
        assert_eq!(
            (e.kind(), e.line(), e.column()),
            (ErrorKind::UnexpectedEnd, 1, 12)
        );
        // Cut short inside an escape: the unclosed string is what is pointed at.
        assert_eq!(at("{\"a\": \"b\\"), (ErrorKind::UnexpectedEnd, 1, 7));
    }

    #[test]
    fn other_syntax_errors_have_positions_and_reasons() {
        // serde_json's reason, at serde_json's position (in characters), naming what it
        // found; a bad escape is pointed at by its backslash, an unclosed string by its
        // opening quote.
        let cases: &[(&str, usize, usize, &str)] = &[
            (
                "{\"debug\": true \"mtu\": 1400}",
                1,
                16,
                "expected `,` or `}`",
            ),
            ("{\"dns\": [\"a\" \"b\"]}", 1, 14, "expected `,` or `]`"),
            ("{debug: true}", 1, 2, "key must be a string, found 'd'"),
            ("{'debug': true}", 1, 2, "single quote"),
            ("{\"debug\": 'yes'}", 1, 11, "single quote"),
            ("{\"debug\": True}", 1, 11, "expected value, found 'T'"),
            ("{\"log-driver\": json-file}", 1, 16, "found 'j'"),
            ("{\"max-size\": 10m}", 1, 16, "found 'm'"),
            ("{\"mtu\": 01500}", 1, 10, "invalid number"),
            ("{\"mtu\": +1}", 1, 9, "'+'"),
            ("{\"x\": .5}", 1, 7, "'.'"),
            ("{\"x\": 1.}", 1, 9, "invalid number"),
            ("{\"x\": 1e}", 1, 9, "invalid number"),
            ("{\"x\": -}", 1, 8, "invalid number"),
            ("{\"x\": NaN}", 1, 7, "expected value"),
            ("{\"x\": 1e999}", 1, 11, "out of range"),
            ("{\"debug\" = true}", 1, 10, "expected `:`, found '='"),
            ("{\"debug\" true}", 1, 10, "expected `:`"),
            ("{\"debug\": }", 1, 11, "expected value"),
            ("{\"dns\": [1,,2]}", 1, 12, "expected value"),
            ("{\"a\": 1,, \"b\": 2}", 1, 9, "key must be a string"),
            ("{\"dns\": [1}", 1, 11, "expected `,` or `]`, found '}'"),
            ("{\"data-root\": \"C:\\dir\"}", 1, 18, "invalid escape"),
            ("{\"a\": \"x\ty\"}", 1, 9, "control character"),
            ("{\"a\": \"line\nbreak\"}", 1, 7, "line break"),
            ("{\"a\": \"\\u12\"}", 1, 8, "invalid escape"),
            ("{\"a\": \"\\ud800\"}", 1, 8, "hex escape"),
            ("{\"a\": \"\\udc00\\u0041\"}", 1, 8, "surrogate"),
            ("{\u{00A0}\"a\": 1}", 1, 2, "no-break space"),
            ("{\u{FEFF}}", 1, 2, "byte order mark"),
            ("{\"a\": 1}}", 1, 9, "after the end of the top-level object"),
            ("{\"a\": 1}\0", 1, 9, "NUL"),
            ("@", 1, 1, "expected value"),
        ];
        for &(input, line, column, needle) in cases {
            let e = err(input);
            assert_eq!(
                (e.kind(), e.line(), e.column()),
                (ErrorKind::Syntax, line, column),
                "{input:?}: {e}"
            );
            assert!(
                e.to_string().contains(needle),
                "{input:?}: {e} (wanted {needle:?})"
            );
            assert!(!e.advice().is_empty());
        }
        // Beyond 64 bits an integer is read as serde_json reads it: as a float.
        let map = parse_existing(b"{\"x\": 123456789012345678901234567890}").expect("valid");
        assert_eq!(map["x"], json!(1.2345678901234568e29));
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing() {
        let text = format!("{{\"a\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(err(&text).kind(), ErrorKind::TooDeep);
        let ok = format!("{{\"a\": {}{}}}", "[".repeat(100), "]".repeat(100));
        parse_existing(ok.as_bytes()).expect("100 levels are fine");
    }

    /// Parses `input`; when accepted, serde_json agrees, and when refused, the position
    /// is inside the text (or just past its end).
    fn check(input: &[u8]) {
        match parse_existing(input) {
            Ok(map) => assert_eq!(
                serde_json::from_slice::<Map<String, Value>>(input).ok(),
                Some(map),
                "{:?}",
                String::from_utf8_lossy(input)
            ),
            Err(e) => {
                let text = String::from_utf8_lossy(input);
                let lines: Vec<&str> = text.split('\n').collect();
                assert!(e.line() >= 1 && e.line() <= lines.len(), "{text:?}: {e:?}");
                let width = lines[e.line() - 1].chars().count();
                assert!(
                    e.column() >= 1 && e.column() <= width + 1,
                    "{text:?}: {e:?}"
                );
                assert!(!e.to_string().is_empty() && !e.advice().is_empty());
            }
        }
    }

    #[test]
    fn no_input_panics() {
        let valid = "{\n  \"log-opts\": {\"max-size\": \"10m\"},\n  \"dns\": [\"8.8.8.8\", 1.5e3, true, null],\n  \"s\": \"\\u00e9\\ud83d\\ude00 \u{201C}é\u{201D}\"\n}\n";
        let bytes = valid.as_bytes();
        check(bytes);
        // Every prefix, and every single-byte corruption, is either parsed or refused.
        for end in 0..bytes.len() {
            check(&bytes[..end]);
        }
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let mut corrupted = bytes.to_vec();
            let r = next();
            corrupted[(r % bytes.len() as u64) as usize] = (r >> 32) as u8;
            check(&corrupted);
        }
        // Garbled text: pieces of JSON, comments, typographic quotes and broken UTF-8.
        let pieces: &[&[u8]] = &[
            b"{",
            b"}",
            b"[",
            b"]",
            b"\"",
            b"\"k\"",
            b":",
            b",",
            b" ",
            b"\n",
            b"\r\n",
            b"0",
            b"-1.5e3",
            b"true",
            b"nul",
            b"\\",
            b"\\u00",
            b"//",
            b"/*",
            b"*/",
            b"#",
            b"'",
            "\u{201C}".as_bytes(),
            "\u{201D}".as_bytes(),
            "é".as_bytes(),
            "\u{00A0}".as_bytes(),
            b"\xE2\x80",
            b"\xFF",
            b"\0",
            b"\t",
        ];
        for _ in 0..20_000 {
            let mut noise = Vec::new();
            for _ in 0..(next() % 24) {
                noise.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
            }
            check(&noise);
            noise.insert(0, b'{');
            check(&noise);
        }
    }
}
