//! The backups a write leaves beside a file, `FILE.rdock-setup-<UTC time>.bak`, pruned
//! to the newest `KEEP` of that file after each successful write, locally and over SSH
//! alike. Only names the tool itself makes are counted or removed: another file's
//! backups, `.failed` copies (a rollback's evidence), a name with another stamp, a
//! symlink or a directory are never touched.

use std::io;

use super::shell::quote;

/// Backups kept per file. A constant rather than a plan key: the rollback command and
/// the health gate write files with no plan at hand, and every writer must prune alike.
/// Ten covers the runs of a busy week with room to go back past a bad change.
pub const KEEP: usize = 10;

/// Between the file's name and the stamp.
const INFIX: &str = ".rdock-setup-";
const SUFFIX: &str = ".bak";

/// The stamps the tool has written (`D`: a digit): seconds, as early releases named
/// backups, and nanoseconds (runner::backup_suffix).
const STAMPS: &[&str] = &["DDDDDDDDTDDDDDDZ", "DDDDDDDDTDDDDDD.DDDDDDDDDZ"];

/// Whether `name` is one of the tool's backups of the file named `file_name`.
pub fn is_backup_of(file_name: &str, name: &str) -> bool {
    let Some(stamp) = name
        .strip_prefix(file_name)
        .and_then(|rest| rest.strip_prefix(INFIX))
        .and_then(|rest| rest.strip_suffix(SUFFIX))
    else {
        return false;
    };
    STAMPS.iter().any(|form| {
        form.len() == stamp.len()
            && form.bytes().zip(stamp.bytes()).all(|(f, c)| match f {
                b'D' => c.is_ascii_digit(),
                _ => f == c,
            })
    })
}

/// Of `names` (regular files of one directory), the backups of `file_name` beyond the
/// newest `KEEP`, oldest first. Names sort by time, as the rollback command reads them.
pub fn beyond_newest(file_name: &str, names: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut backups: Vec<String> = names
        .into_iter()
        .filter(|name| is_backup_of(file_name, name))
        .collect();
    backups.sort();
    backups.truncate(backups.len().saturating_sub(KEEP));
    backups
}

/// Shell lines doing what `beyond_newest` says in the directory `$rd_bd`, for the
/// remote write script. C-locale glob order is byte order, the order `sort` gives above.
/// A backup that cannot be removed is left: the write itself has succeeded.
pub fn shell_prune(file_name: &str) -> io::Result<String> {
    let name = quote(file_name)?;
    let patterns: Vec<String> = STAMPS
        .iter()
        .map(|form| format!("{name}{INFIX}{}{SUFFIX}", form.replace('D', "[0-9]")))
        .collect();
    let patterns = patterns.join("|");
    let each = format!("for rd_f in \"$rd_bd\"/{name}{INFIX}*{SUFFIX}; do");
    let own = "[ -f \"$rd_f\" ] && [ ! -L \"$rd_f\" ]";
    Ok(format!(
        "LC_ALL=C; export LC_ALL; rd_k=0\n\
         {each} case ${{rd_f##*/}} in {patterns}) {own} && rd_k=$((rd_k + 1)) ;; esac; done\n\
         {each} [ \"$rd_k\" -gt {KEEP} ] || break\n\
         case ${{rd_f##*/}} in {patterns}) if {own} && rm -f -- \"$rd_f\"; then rd_k=$((rd_k - 1)); fi ;; esac; done\n"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_tools_own_stamps_count() {
        let name = "daemon.json";
        assert!(is_backup_of(
            name,
            "daemon.json.rdock-setup-20261127T235900Z.bak"
        ));
        assert!(is_backup_of(
            name,
            "daemon.json.rdock-setup-20261127T235900.123456789Z.bak"
        ));
        for other in [
            "daemon.json",
            "daemon.json.rdock-setup-20261127T235900Z.failed",
            "daemon.json.rdock-setup-20261127T235900.123456789Z.failed",
            "daemon.json.rdock-setup-2026112T235900Z.bak",
            "daemon.json.rdock-setup-20261127T235900.12345678Z.bak",
            "daemon.json.rdock-setup-my-copy.bak",
            "daemon.json.rdock-setup-20261127T235900Z.bak.old",
            "xdaemon.json.rdock-setup-20261127T235900Z.bak",
            "other.json.rdock-setup-20261127T235900Z.bak",
            "daemon.json.bak",
        ] {
            assert!(!is_backup_of(name, other), "{other}");
        }
    }

    #[test]
    fn the_oldest_beyond_keep_go() {
        let names: Vec<String> = (0..13)
            .map(|i| format!("f.rdock-setup-2026112{}T000000Z.bak", i % 10))
            .chain((0..3).map(|i| format!("f.rdock-setup-20261201T00000{i}.000000000Z.bak")))
            .chain(["f.rdock-setup-20250101T000000Z.failed".to_string()])
            .collect();
        // Three names repeat (i % 10), so 10 + 3 distinct ones: the 3 oldest go.
        let mut distinct = names.clone();
        distinct.sort();
        distinct.dedup();
        let pruned = beyond_newest("f", distinct);
        assert_eq!(
            pruned,
            [
                "f.rdock-setup-20261120T000000Z.bak",
                "f.rdock-setup-20261121T000000Z.bak",
                "f.rdock-setup-20261122T000000Z.bak",
            ]
        );
    }
}

/// A directory holding a file, more old backups of it than `KEEP`, and things that only
/// look like its backups; then the check that a write pruned exactly the right ones.
#[cfg(test)]
pub mod fixture {
    use std::path::Path;

    use super::KEEP;

    /// The file the fixture's directory holds, and the backup name of the write to test.
    pub const FILE: &str = "daemon.json";
    pub const NEW_BACKUP: &str = "daemon.json.rdock-setup-20270101T000000.000000001Z.bak";

    /// Old backups, oldest first: seconds-named ones from early releases, then
    /// nanosecond ones.
    fn old_backups() -> Vec<String> {
        (0..4)
            .map(|i| format!("{FILE}.rdock-setup-2026010{i}T120000Z.bak"))
            .chain((0..8).map(|i| format!("{FILE}.rdock-setup-2026020{i}T120000.123456789Z.bak")))
            .collect()
    }

    /// Names that are not backups of FILE, or not the tool's: they all stay.
    const OTHERS: &[&str] = &[
        "daemon.json.rdock-setup-20250101T000000Z.failed",
        "daemon.json.rdock-setup-20250101T000000Z.bak.keep",
        "daemon.json.rdock-setup-manual.bak",
        "daemon.json.bak",
        "key.json.rdock-setup-20250101T000000Z.bak",
    ];

    /// Named like the oldest backups, but a symlink and a directory: never ours.
    const LINK: &str = "daemon.json.rdock-setup-20250101T000000Z.bak";
    const DIR: &str = "daemon.json.rdock-setup-20250102T000000Z.bak";

    pub fn seed(dir: &Path) {
        std::fs::create_dir_all(dir.join(DIR)).unwrap();
        std::fs::write(dir.join(FILE), "{}\n").unwrap();
        for name in old_backups()
            .iter()
            .map(String::as_str)
            .chain(OTHERS.iter().copied())
        {
            std::fs::write(dir.join(name), name).unwrap();
        }
        std::os::unix::fs::symlink(dir.join(OTHERS[0]), dir.join(LINK)).unwrap();
    }

    pub fn check(dir: &Path) {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let old = old_backups();
        // The new backup is the newest: KEEP - 1 old ones stay with it.
        let mut expected: Vec<String> = old[old.len() + 1 - KEEP..].to_vec();
        expected.push(NEW_BACKUP.into());
        expected.extend([FILE, LINK, DIR].map(String::from));
        expected.extend(OTHERS.iter().map(|s| s.to_string()));
        expected.sort();
        assert_eq!(names, expected);
        assert!(
            std::fs::symlink_metadata(dir.join(LINK))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            std::fs::read_to_string(dir.join(FILE)).unwrap(),
            "{\"new\": true}\n"
        );
    }
}
