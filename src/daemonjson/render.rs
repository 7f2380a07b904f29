//! Writing daemon.json: one stable format, so that a second run has nothing to change.
//!
//! serde_json's pretty printer: two-space indent (as in Docker's documentation), one
//! member per line, keys in the map's order, non-ASCII text as is, and a final newline.
//! Rendering the parse of a rendered file gives the same bytes.

use serde_json::{Map, Value};

/// The bytes of daemon.json for `map`.
pub fn render(map: &Map<String, Value>) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    // Writing a `Map<String, Value>` into a `Vec` cannot fail: keys are strings and the
    // writer never errors. Should it ever, fall back to the compact form rather than
    // panic or lose the content.
    if serde_json::to_writer_pretty(&mut out, map).is_err() {
        out = Value::Object(map.clone()).to_string().into_bytes();
    }
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemonjson::parse::parse_existing;
    use serde_json::json;

    use crate::daemonjson::object as map;

    #[test]
    fn two_space_indent_plan_order_and_a_final_newline() {
        let rendered = render(&map(json!({
            "log-driver": "json-file",
            "log-opts": {"max-size": "10m", "max-file": "3"},
            "exec-opts": ["native.cgroupdriver=systemd"],
            "storage-opts": [],
            "features": {},
            "live-restore": true,
            "mtu": 1450
        })));
        let expected = r#"{
  "log-driver": "json-file",
  "log-opts": {
    "max-size": "10m",
    "max-file": "3"
  },
  "exec-opts": [
    "native.cgroupdriver=systemd"
  ],
  "storage-opts": [],
  "features": {},
  "live-restore": true,
  "mtu": 1450
}
"#;
        assert_eq!(String::from_utf8_lossy(&rendered), expected);
    }

    #[test]
    fn empty_map_renders_as_braces() {
        assert_eq!(render(&Map::new()), b"{}\n");
    }

    /// Found by props::daemonjson: without serde_json's float_roundtrip these read back
    /// one unit in the last place off, so the file never converged (a write every run).
    #[test]
    fn floats_read_back_exactly() {
        for x in [-2.4946797895368066e-228, 2.1905021741681522e102] {
            let original = map(json!({ "a": x }));
            let once = render(&original);
            assert_eq!(parse_existing(&once).unwrap_or_default(), original, "{x:e}");
        }
    }

    #[test]
    fn rendering_is_a_fixed_point() {
        let text = "{\"labels\":[\"owner=équipe\",\"quote=\\\"x\\\"\",\"tab=\\t\"],\"ratio\":0.1,\"big\":18446744073709551615,\"neg\":-3,\"n\":null}";
        let once = render(&parse_existing(text.as_bytes()).unwrap_or_default());
        let twice = render(&parse_existing(&once).unwrap_or_default());
        assert_eq!(once, twice);
        assert!(String::from_utf8_lossy(&once).contains("équipe"));
    }
}
