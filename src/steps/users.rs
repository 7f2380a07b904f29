//! Users added to the docker group (so they can use docker without sudo). It takes
//! effect at their next login, and the report says so.

use super::{Context, StepPlan};
use crate::change::Change;
use crate::error::{Error, Result};

pub const ID: &str = "docker-group";

/// Members of `group` in /etc/group text; `None` when the group does not exist.
fn members(group_file: &str, group: &str) -> Option<Vec<String>> {
    group_file.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next() == Some(group)).then(|| {
            fields
                .nth(2)
                .unwrap_or("")
                .split(',')
                .filter(|m| !m.is_empty())
                .map(String::from)
                .collect()
        })
    })
}

fn user_exists(passwd: &str, user: &str) -> bool {
    passwd
        .lines()
        .any(|line| line.split(':').next() == Some(user))
}

pub fn check(ctx: &Context, root_args: &[String]) -> Result<StepPlan> {
    let users = &ctx.plan.engine.users;
    if users.is_empty() {
        return Ok(StepPlan::unchanged(
            ID,
            "the plan adds no users to the docker group",
        ));
    }
    let text = |bytes: &Option<Vec<u8>>| {
        bytes
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default()
            .into_owned()
    };
    let passwd = text(&ctx.facts.passwd);
    let group = text(&ctx.facts.group);
    if let Some(missing) = users.iter().find(|u| !user_exists(&passwd, u)) {
        return Err(Error::other(format!(
            "engine.users names {missing:?}, who has no account on the target; create the user first \
             or drop the name from the plan. Nothing was changed"
        )));
    }
    let existing = members(&group, "docker");
    let to_add: Vec<&String> = users
        .iter()
        .filter(|u| !existing.as_ref().is_some_and(|m| m.contains(u)))
        .collect();
    if to_add.is_empty() {
        return Ok(StepPlan::unchanged(
            ID,
            format!("in the docker group: {}", users.join(", ")),
        ));
    }
    let mut changes = Vec::new();
    if existing.is_none() {
        // docker-ce's own scriptlet creates the group; -f makes this a no-op when it has.
        let mut argv = vec!["groupadd".to_string(), "-f".into(), "-r".into()];
        argv.extend(root_args.iter().cloned());
        argv.push("docker".into());
        changes.push(Change::Command {
            what: "create the docker group".into(),
            argv,
        });
    }
    for user in &to_add {
        let mut argv = vec!["usermod".to_string()];
        argv.extend(root_args.iter().cloned());
        argv.extend([
            "-a".to_string(),
            "-G".into(),
            "docker".into(),
            user.to_string(),
        ]);
        changes.push(Change::Command {
            what: format!("add {user} to the docker group"),
            argv,
        });
    }
    let mut step = StepPlan::with_changes(ID, changes);
    step.notes.push(format!(
        "{} can use docker from their next login",
        to_add
            .iter()
            .map(|u| u.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_group_members() {
        let group = "root:x:0:\ndocker:x:993:alice,bob\nwheel:x:10:alice\n";
        assert_eq!(members(group, "docker").unwrap(), ["alice", "bob"]);
        assert_eq!(
            members("docker:x:993:\n", "docker").unwrap(),
            Vec::<String>::new()
        );
        assert!(members(group, "nope").is_none());
        assert!(user_exists(
            "alice:x:1000:1000::/home/alice:/bin/bash\n",
            "alice"
        ));
    }
}
