//! Control characters in plan and inventory values are refused when the file is read.
//! Plan values end up inside line-structured files and scripts (systemd drop-ins, repo
//! files, the yum/dnf shell script, daemon.json strings dockerd turns into flags): a
//! newline there is a new line of that file, e.g. an `ExecStartPre=` run as root. No
//! value the tool takes needs one, so every key and string value is checked, wherever
//! it sits, instead of each writer escaping on its own.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::error::{Error, Result};
use crate::plan::{line_column, toml_error};

/// Refuse `text` (a plan or an inventory read from `path`) when a key or a string value
/// holds a control character; the error names the dotted key at file:line:column.
pub fn refuse(path: &Path, text: &str) -> Result<()> {
    let table = DeTable::parse(text).map_err(|err| toml_error(path, text, &err))?;
    match find_in_table(table.get_ref(), "") {
        None => Ok(()),
        Some(found) => {
            let (line, column) = line_column(text, found.span.start);
            Err(Error::Plan {
                path: path.to_path_buf(),
                line,
                column,
                message: format!(
                    "{} holds the control character {}, which would start a new line (or worse) \
                     in the files and commands it is written into",
                    found.key, found.shown
                ),
                hint: Some(
                    "remove it: no plan value needs a control character (lists are TOML arrays, \
                     no_proxy is comma-separated)"
                        .into(),
                ),
            })
        }
    }
}

struct Found {
    /// The dotted key, e.g. `proxy.no_proxy` or `hosts[2].plan.proxy.no_proxy`.
    key: String,
    span: Range<usize>,
    /// The character, escaped for the message (`\n`, `\u{1b}`).
    shown: String,
}

fn find_in_table(table: &DeTable<'_>, prefix: &str) -> Option<Found> {
    for (key, value) in table {
        let name = if prefix.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{prefix}.{}", key.get_ref())
        };
        if let Some(c) = first_control(key.get_ref()) {
            return Some(Found {
                key: format!("the key {name:?}"),
                span: key.span(),
                shown: c,
            });
        }
        if let Some(found) = find_in_value(value, &name) {
            return Some(found);
        }
    }
    None
}

fn find_in_value(value: &Spanned<DeValue<'_>>, name: &str) -> Option<Found> {
    match value.get_ref() {
        DeValue::String(s) => first_control(s).map(|shown| Found {
            key: name.to_string(),
            span: value.span(),
            shown,
        }),
        DeValue::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| find_in_value(item, &format!("{name}[{i}]"))),
        DeValue::Table(table) => find_in_table(table, name),
        DeValue::Integer(_) | DeValue::Float(_) | DeValue::Boolean(_) | DeValue::Datetime(_) => {
            None
        }
    }
}

fn first_control(text: &str) -> Option<String> {
    text.chars()
        .find(|c| c.is_control())
        .map(|c| c.escape_debug().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> String {
        refuse(Path::new("p.toml"), text).unwrap_err().to_string()
    }

    #[test]
    fn a_newline_in_a_proxy_value_is_refused_at_its_position() {
        let message = refused(
            "[proxy]\nno_proxy = \"localhost\\n[Service]\\nExecStartPre=/bin/touch /tmp/pwned\"\n",
        );
        assert!(
            message.starts_with("p.toml:2:12: proxy.no_proxy "),
            "{message}"
        );
        assert!(message.contains("\\n"), "{message}");
    }

    #[test]
    fn nested_values_array_items_and_keys_are_checked() {
        let message = refused("[daemon]\nlabels = [\"a\", \"b\\u001b[31m\"]\n");
        assert!(message.contains("daemon.labels[1]"), "{message}");
        let message = refused("[daemon.log-opts]\n\"max\\tsize\" = \"1m\"\n");
        assert!(
            message.contains("the key \"daemon.log-opts.max\\tsize\""),
            "{message}"
        );
        let message = refused("[[hosts]]\nname = \"a\"\n[hosts.plan.repo]\nsource = \"x\\ry\"\n");
        assert!(message.contains("hosts[0].plan.repo.source"), "{message}");
    }

    #[test]
    fn ordinary_plans_pass() {
        refuse(
            Path::new("p.toml"),
            "[proxy]\nno_proxy = \"localhost,127.0.0.1,.example.com\"\n[daemon]\nlabels = [\"镜像=1\"]\n",
        )
        .unwrap();
    }
}
