//! Secrets never leave the tool in what it prints: the password of a URL's userinfo
//! (`http://alice:***@proxy:3128`; a userinfo without password, often a token, whole)
//! and the value of any key named like a password or token (`"password": "***"`,
//! `token=***`) are masked in reports, diffs, errors and log lines. Files that carry
//! one are written 0600, and so are their backups.

/// Words that make a key's value secret, matched inside the lowercased key name.
const SECRET_KEY_WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "credential",
    "private_key",
    "private-key",
];
pub const MASK: &str = "***";

/// Whether `bytes` hold something `mask` would hide.
pub fn carries_secret(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    mask(&text) != text
}

/// `text` with every secret replaced by `***`. Masking twice changes nothing more.
pub fn mask(text: &str) -> String {
    mask_keyed_values(&mask_userinfo(text))
}

/// `scheme://user:pass@host` -> `scheme://user:***@host`; `scheme://token@host` ->
/// `scheme://***@host`.
fn mask_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        // The authority ends at the path, the query, quoting or whitespace.
        let end = after
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '"' | '\'' | '\\' | '<' | '>') || c.is_whitespace()
            })
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(userinfo_end) if userinfo_end > 0 => {
                let userinfo = &authority[..userinfo_end];
                match userinfo.split_once(':') {
                    Some((user, pass)) if pass != MASK => {
                        out.push_str(user);
                        out.push(':');
                        out.push_str(MASK);
                    }
                    Some(_) => out.push_str(userinfo),
                    None if userinfo == MASK => out.push_str(userinfo),
                    None => out.push_str(MASK),
                }
                out.push_str(&authority[userinfo_end..]);
            }
            _ => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// `KEY = value`, `"KEY": "value"`, `KEY=value` (also inside JSON strings, `\"`-quoted)
/// where KEY is named like a secret: the value becomes `***`.
fn mask_keyed_values(text: &str) -> String {
    let bytes = text.as_bytes();
    let is_key_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !is_key_byte(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_key_byte(bytes[i]) {
            i += 1;
        }
        let key = text[start..i].to_ascii_lowercase();
        if !SECRET_KEY_WORDS.iter().any(|w| key.contains(w)) {
            continue;
        }
        // Closing quote of the key, then `=` or `:`, then the value's opening quote.
        let mut j = i;
        let skip_quote = |j: &mut usize| {
            if text[*j..].starts_with("\\\"") {
                *j += 2;
                "\\\""
            } else if text[*j..].starts_with('"') || text[*j..].starts_with('\'') {
                *j += 1;
                &text[*j - 1..*j]
            } else {
                ""
            }
        };
        skip_quote(&mut j);
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        if j >= bytes.len() || !matches!(bytes[j], b'=' | b':') {
            continue;
        }
        j += 1;
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        let quote = skip_quote(&mut j);
        let value_end = if quote.is_empty() {
            text[j..]
                .find(|c: char| {
                    c.is_whitespace()
                        || matches!(c, ',' | ';' | '&' | '"' | '\'' | '}' | ']' | '\\')
                })
                .map_or(text.len(), |n| j + n)
        } else {
            text[j..].find(quote).map_or(text.len(), |n| j + n)
        };
        let value = &text[j..value_end];
        if value.is_empty() || value == MASK || value.starts_with(['{', '[']) {
            i = value_end.max(i);
            continue;
        }
        out.push_str(&text[copied..j]);
        out.push_str(MASK);
        copied = value_end;
        i = value_end;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_passwords_are_masked() {
        assert_eq!(
            mask("Environment=\"HTTPS_PROXY=http://alice:S3cretPass@proxy:3128/x\""),
            "Environment=\"HTTPS_PROXY=http://alice:***@proxy:3128/x\""
        );
        assert_eq!(mask("https://ghp_abc@github.com"), "https://***@github.com");
        assert_eq!(
            mask("http://proxy:3128 and mailto:x@y"),
            "http://proxy:3128 and mailto:x@y"
        );
    }

    #[test]
    fn values_of_keys_named_like_secrets_are_masked() {
        assert_eq!(
            mask("{\"password\": \"hunter2\", \"debug\": true}"),
            "{\"password\": \"***\", \"debug\": true}"
        );
        assert_eq!(mask("REGISTRY_TOKEN=abc def"), "REGISTRY_TOKEN=*** def");
        assert_eq!(
            mask("\"+  \\\"api-key\\\": \\\"k1\\\",\""),
            "\"+  \\\"api-key\\\": \\\"***\\\",\""
        );
        assert_eq!(mask("https://m/?token=abc&x=1"), "https://m/?token=***&x=1");
        assert_eq!(
            mask("a token is needed: see docs"),
            "a token is needed: see docs"
        );
    }

    #[test]
    fn masking_twice_changes_nothing_more() {
        let once = mask("http://a:b@h password=x \"secret\": \"y\"");
        assert_eq!(mask(&once), once);
        assert!(!carries_secret(once.as_bytes()));
    }
}
