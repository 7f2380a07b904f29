//! Installing packages and writing /etc need root.

pub fn check(is_root: bool, writes_to_a_tree: bool) -> Option<String> {
    if is_root {
        return None;
    }
    let what = if writes_to_a_tree {
        "installing packages into the target tree"
    } else {
        "installing packages and writing /etc"
    };
    Some(format!(
        "privileges: running as a normal user, {what} needs root; run with sudo or as root"
    ))
}
