//! The one error type of this module: what is wrong with an existing daemon.json, and where.

use std::fmt;

/// What kind of problem stopped the parse. Callers may treat some kinds differently
/// (an `Empty` file holds nothing that a rewrite could lose, for example); every kind
/// is an error as far as `parse_existing` is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file is empty or holds only whitespace.
    Empty,
    /// The file starts with a byte order mark (UTF-8 or UTF-16).
    ByteOrderMark,
    /// The file is not valid UTF-8.
    InvalidUtf8,
    /// A `//`, `/* */` or `#` comment.
    Comment,
    /// A typographic quote (“ ” ‘ ’ …) where JSON needs a straight `"`.
    TypographicQuote,
    /// A comma after the last member of an object or the last element of an array.
    TrailingComma,
    /// A second value after the top-level object.
    MultipleValues,
    /// The top-level value is an array, a string, a number, a boolean or null.
    NotAnObject,
    /// The same key twice in one object: a rewrite would silently drop one of them.
    DuplicateKey,
    /// The file ends inside an object, an array or a string.
    UnexpectedEnd,
    /// Objects and arrays nested deeper than the parser allows.
    TooDeep,
    /// Any other violation of the JSON grammar.
    Syntax,
}

/// A problem in an existing daemon.json, with a 1-based line and column (columns count
/// characters, not bytes). `Display` gives the reason as a sentence without the path,
/// so that the caller can print `path:line:col: reason`; `advice()` says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonJsonError {
    kind: ErrorKind,
    line: usize,
    column: usize,
    reason: String,
    advice: String,
}

impl DaemonJsonError {
    pub(crate) fn new(
        kind: ErrorKind,
        line: usize,
        column: usize,
        reason: impl Into<String>,
        advice: impl Into<String>,
    ) -> Self {
        DaemonJsonError {
            kind,
            line,
            column,
            reason: reason.into(),
            advice: advice.into(),
        }
    }

    #[cfg(test)]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// 1-based line of the offending character.
    pub fn line(&self) -> usize {
        self.line
    }

    /// 1-based column (in characters) of the offending character.
    pub fn column(&self) -> usize {
        self.column
    }

    /// What the operator can do about it, as a sentence.
    pub fn advice(&self) -> &str {
        &self.advice
    }
}

impl fmt::Display for DaemonJsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for DaemonJsonError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_reason_without_position_or_path() {
        let e = DaemonJsonError::new(ErrorKind::Syntax, 3, 7, "something is off", "fix it");
        assert_eq!(e.to_string(), "something is off");
        assert_eq!((e.line(), e.column()), (3, 7));
        assert_eq!(e.advice(), "fix it");
        assert_eq!(e.kind(), ErrorKind::Syntax);
    }
}
