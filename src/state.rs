//! What the tool remembers on the target: the daemon.json keys it set and to what, so
//! that a key the plan stops naming can be removed, but only if the tool set it and
//! nobody changed it since. Kept at /var/lib/rdock-setup/state.json (inside the target
//! root for a tree), written atomically like every other file.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub const STATE_FILE: &str = "/var/lib/rdock-setup/state.json";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// daemon.json keys this tool wrote, with the values it wrote.
    #[serde(default)]
    pub daemon_json: Map<String, Value>,
    /// Values about to be written to daemon.json: recorded BEFORE daemon.json is written
    /// and folded into `daemon_json` after, so that a run cut between the two writes
    /// (a dropped connection, a kill) never leaves a key the tool set unrecorded.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub pending: Map<String, Value>,
}

impl State {
    /// The recorded state; an unreadable record is treated as empty, which only ever
    /// makes the tool keep keys it might have removed.
    pub fn parse(bytes: Option<&[u8]>) -> State {
        match bytes.map(serde_json::from_slice::<State>) {
            Some(Ok(state)) => state,
            Some(Err(err)) => {
                tracing::warn!(
                    "{STATE_FILE} is unreadable ({err}); no daemon.json key will be removed"
                );
                State::default()
            }
            None => State::default(),
        }
    }

    /// The record as daemon.json shows it: a pending value that daemon.json holds was
    /// written, so the tool owns the key with that value; one it does not hold was never
    /// written, and the committed value (if any) still stands.
    pub fn settled(&self, daemon_json: &Map<String, Value>) -> State {
        let mut owned = self.daemon_json.clone();
        for (key, value) in &self.pending {
            if daemon_json.get(key) == Some(value) {
                owned.insert(key.clone(), value.clone());
            }
        }
        State {
            daemon_json: owned,
            pending: Map::new(),
        }
    }

    pub fn render(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_else(|_| b"{}".to_vec());
        bytes.push(b'\n');
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_pending_value_counts_only_where_daemon_json_holds_it() {
        let state = State {
            daemon_json: map(json!({"debug": true, "labels": ["a"]})),
            pending: map(
                json!({"debug": false, "registry-mirrors": ["https://m"], "labels": ["b"]}),
            ),
        };
        let settled = state.settled(&map(json!({"debug": false, "labels": ["a"]})));
        assert_eq!(
            settled.daemon_json,
            map(json!({"debug": false, "labels": ["a"]}))
        );
        assert!(settled.pending.is_empty());
    }
}
