//! docker's HTTP(S) proxy as a systemd drop-in, like Docker's own documentation shows:
//! docker.service.d/http-proxy.conf with Environment= lines. Changing it takes a
//! daemon-reload and a restart (the service step sees to both).

use std::path::Path;

use super::{Context, StepPlan};
use crate::change::Change;

pub const ID: &str = "proxy";
pub const DROPIN: &str = "/etc/systemd/system/docker.service.d/http-proxy.conf";

/// One value inside a double-quoted Environment= assignment: `\` and `"` escaped for
/// systemd's unquoting, `%` doubled so that no specifier is expanded.
fn systemd_quoted(name: &str, value: &str) -> String {
    let escaped = value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('%', "%%");
    format!("Environment=\"{name}={escaped}\"\n")
}

pub fn render(ctx: &Context) -> Option<Vec<u8>> {
    let proxy = ctx.plan.proxy.as_ref()?;
    let mut text = String::from(
        "# docker's proxy, managed by rdock-setup: edit the plan, not this file.\n[Service]\n",
    );
    for (name, value) in [
        ("HTTP_PROXY", &proxy.http_proxy),
        ("HTTPS_PROXY", &proxy.https_proxy),
        ("NO_PROXY", &proxy.no_proxy),
    ] {
        if let Some(value) = value {
            text.push_str(&systemd_quoted(name, value));
        }
    }
    Some(text.into_bytes())
}

pub fn check(ctx: &Context) -> StepPlan {
    let Some(new) = render(ctx) else {
        return StepPlan::unchanged(ID, "the plan sets no proxy");
    };
    let path = Path::new(DROPIN);
    let old = ctx
        .facts
        .unit
        .dropins
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, bytes)| bytes.clone());
    if old.as_deref() == Some(new.as_slice()) {
        return StepPlan::unchanged(ID, format!("{DROPIN} up to date"));
    }
    let backup = old.as_ref().map(|_| ctx.backup_path(path));
    StepPlan::with_changes(
        ID,
        vec![Change::File {
            path: path.to_path_buf(),
            old,
            new,
            default_mode: 0o644,
            backup,
        }],
    )
}

#[cfg(test)]
mod tests {
    use super::systemd_quoted;

    #[test]
    fn values_are_quoted_for_systemd() {
        assert_eq!(
            systemd_quoted("HTTP_PROXY", "http://u:p%40ss\"x\\y@proxy:3128"),
            "Environment=\"HTTP_PROXY=http://u:p%%40ss\\\"x\\\\y@proxy:3128\"\n"
        );
    }
}
