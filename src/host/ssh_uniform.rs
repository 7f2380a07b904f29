//! Whether the ssh configuration says the same for every destination, so that one
//! `ssh -G` answers for a whole fleet (it costs ~6 ms of CPU per run: thirteen shared
//! libraries and OpenSSL's start-up). It does when the files ssh reads (the `-F` file,
//! else ~/.ssh/config and /etc/ssh/ssh_config, with what they include) have no `Match`,
//! no `Host` but `Host *`, no `HostName`, and no `%` token or `${VAR}` that could expand
//! to something of the destination's. Then only the destination's own name, port and
//! user differ between hosts, and the caller puts those in. Any doubt: not uniform,
//! and each host gets its own `ssh -G`.

use std::path::{Path, PathBuf};

/// Includes nested deeper than this are not followed (ssh stops at 16 too).
const MAX_DEPTH: usize = 16;

/// `config`: the `-F` file, if any; `home`: the user's home (passwd's, as ssh uses).
pub fn is_uniform(config: Option<&Path>, home: &Path) -> bool {
    // ssh expands `~` in includes by $HOME, and ~/.ssh/config by the password database:
    // where the two differ, this scan would not read what ssh reads.
    if std::env::var_os("HOME").is_some_and(|h| Path::new(&h) != home) {
        return false;
    }
    let ssh_dir = home.join(".ssh");
    match config {
        Some(file) => scan_file(file, &ssh_dir, home, 0, true),
        None => {
            scan_file(&ssh_dir.join("config"), &ssh_dir, home, 0, false)
                && scan_file(
                    Path::new("/etc/ssh/ssh_config"),
                    Path::new("/etc/ssh"),
                    home,
                    0,
                    false,
                )
        }
    }
}

/// `relative_to`: where a relative Include points (~/.ssh for user files, /etc/ssh for
/// the system's); a missing file says nothing unless `required`.
fn scan_file(path: &Path, relative_to: &Path, home: &Path, depth: usize, required: bool) -> bool {
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => scan(&text, relative_to, home, depth),
            Err(_) => false,
        },
        Err(err) => err.kind() == std::io::ErrorKind::NotFound && !required,
    }
}

/// Whether `text` (one configuration file) says the same for every destination.
pub fn scan(text: &str, relative_to: &Path, home: &Path, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.contains('%') || line.contains("${") {
            return false;
        }
        let split = line
            .find(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or(line.len());
        let keyword = line[..split].to_ascii_lowercase();
        let arguments = line[split..].trim_start_matches(|c: char| c.is_whitespace() || c == '=');
        let words: Vec<&str> = arguments.split_whitespace().collect();
        match keyword.as_str() {
            "match" | "hostname" | "canonicalizehostname" => return false,
            "host" if words.iter().any(|w| *w != "*") => return false,
            // Quoted names (spaces) and `~user` are ssh's glob's business: not followed.
            "include" if arguments.contains('"') => return false,
            "include" => {
                for word in words {
                    if !include(word, relative_to, home, depth) {
                        return false;
                    }
                }
            }
            _ => {}
        }
    }
    true
}

/// Scan what one Include argument names: a file, or files whose last component holds
/// `*`/`?` (ssh_config.d/*.conf); other wildcards are not followed.
fn include(word: &str, relative_to: &Path, home: &Path, depth: usize) -> bool {
    let path: PathBuf = match word.strip_prefix("~/") {
        Some(rest) => home.join(rest),
        None if word.starts_with('~') => return false,
        None if word.starts_with('/') => PathBuf::from(word),
        None => relative_to.join(word),
    };
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return false;
    };
    let wild = |s: &str| s.contains(['*', '?', '[']);
    if wild(&dir.to_string_lossy()) {
        return false;
    }
    if !wild(name) {
        return scan_file(&path, relative_to, home, depth + 1, false);
    }
    if name.contains('[') {
        return false;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return true; // no such directory: nothing included
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| super::ssh_resolved::glob(name, n))
        .collect();
    names.sort();
    names
        .iter()
        .all(|n| scan_file(&dir.join(n), relative_to, home, depth + 1, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uniform(text: &str) -> bool {
        scan(
            text,
            Path::new("/nonexistent/.ssh"),
            Path::new("/nonexistent"),
            0,
        )
    }

    #[test]
    fn only_host_star_without_tokens_is_the_same_for_every_host() {
        assert!(uniform(
            "# the lab\nHost *\n  IdentityFile /k/client_key\n  IdentitiesOnly yes\n  UserKnownHostsFile=/k/known_hosts\n"
        ));
        assert!(uniform(""));
        for text in [
            "Host web*\n  User admin\n",
            "Host * !bastion\n  User admin\n",
            "Match host 10.*\n  User admin\n",
            "Host *\n  HostName 10.0.0.1\n",
            "Host *\n  IdentityFile ~/.ssh/%h.key\n",
            "Host *\n  UserKnownHostsFile ${KNOWN}\n",
            "HOST=web\n",
            "Include /nonexistent/dir*/x.conf\n",
            "Include ~ops/fleet.conf\n",
            "Include \"/nonexistent/with space.conf\"\n",
        ] {
            assert!(!uniform(text), "{text}");
        }
    }

    #[test]
    fn includes_are_followed() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("conf.d")).unwrap();
        std::fs::write(d.join("conf.d/a.conf"), "Host *\n  User x\n").unwrap();
        std::fs::write(d.join("conf.d/b.txt"), "Host web\n").unwrap();
        let include = format!("Include {}/conf.d/*.conf\n", d.display());
        assert!(scan(&include, d, d, 0));
        std::fs::write(d.join("conf.d/c.conf"), "Match all\n").unwrap();
        assert!(!scan(&include, d, d, 0));
        assert!(
            scan("Include conf.d/a.conf\n", d, d, 0),
            "relative to its directory"
        );
        // A file that includes itself ends at the depth limit, not in a loop.
        std::fs::write(d.join("self"), format!("Include {}/self\n", d.display())).unwrap();
        assert!(!scan_file(&d.join("self"), d, d, 0, true));
    }
}
