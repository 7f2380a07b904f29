//! A batch of fact queries as ONE shell script for a remote host, and the parser of its
//! framed answer: `@@rdock INDEX KIND …` header lines, each followed by its bytes. A
//! converged host costs this one command, so the script spends as few processes as it
//! can (each is a fork and an exec on every host of a fleet, every run): a command's
//! output goes out as it comes, ended by a trailer line holding a word drawn at random
//! for this script (`@@rdock-end WORD`), instead of being counted by `wc` first; the
//! files it reads come in one block at its end (one `stat` for their sizes, one `cat`
//! for their bytes, a trailer); paths resolve and lengths count in the shell itself.

use std::io;
use std::path::Path;

use super::probe::{Answer, Query, When, locked_error, not_a_file};
use super::shell::quote;
use super::{CmdOutput, Uname, tree_offline_reason};

/// Shell functions the script (and single file operations) rely on. `rd_resolve` maps
/// a target path into `$R`, the target root, resolving symlinks as if `$R` were `/`,
/// so that an absolute link inside the tree never leads out of it; it sets `rd_p`
/// (no subshell), `rd_path` prints it.
pub const PRELUDE: &str = r#"
rd_resolve() {
  rd_p=$1
  [ -z "$R" ] && return 0
  rd_rest=${1#/}; rd_cur=; rd_hops=0; rd_p=
  while [ -n "$rd_rest" ]; do
    rd_comp=${rd_rest%%/*}
    case $rd_rest in */*) rd_rest=${rd_rest#*/} ;; *) rd_rest= ;; esac
    case $rd_comp in
      ''|.) continue ;;
      ..) rd_cur=${rd_cur%/*}; continue ;;
    esac
    if [ -L "$R$rd_cur/$rd_comp" ]; then
      rd_hops=$((rd_hops + 1)); [ "$rd_hops" -gt 40 ] && return 1
      rd_link=$(readlink -- "$R$rd_cur/$rd_comp")
      case $rd_link in /*) rd_cur= ;; esac
      rd_rest=${rd_link#/}${rd_rest:+/$rd_rest}
    else
      rd_cur=$rd_cur/$rd_comp
    fi
  done
  rd_p=$R${rd_cur:-/}
}
rd_path() { rd_resolve "$1" || return 1; printf '%s' "$rd_p"; }
# mkdir -p -m sets the mode of the last directory only, the others follow the umask:
# each missing directory is made on its own, 0755.
rd_mkdirs() {
  [ -d "$1" ] && return 0
  rd_mkdirs "$(dirname -- "$1")" || return 1
  mkdir -m 755 -- "$1" 2>/dev/null || [ -d "$1" ]
}
"#;

/// The fact script for some queries, and the word its trailers carry.
pub struct FactScript {
    pub text: String,
    /// Drawn at random for this script: a payload (a command's output, the files
    /// block) ends at the first `\n@@rdock-end END` after it, so no content can end it
    /// early unless it holds this script's word.
    pub end: String,
}

/// The script answering `queries` for a target whose root is `root` (`None`: `/`).
/// A lock taken at once is dated by the controller's clock (no `date` on the host);
/// after a wait, by the host's.
pub fn script(root: Option<&Path>, queries: &[Query]) -> io::Result<FactScript> {
    let end = random_word()?;
    let mut s = String::from("LC_ALL=C; export LC_ALL\n");
    s.push_str(&format!(
        "R={}\nN={end}\n",
        quote(&root.map(|r| r.display().to_string()).unwrap_or_default())?
    ));
    s.push_str(PRELUDE);
    // `$T` (a private directory) is made only when something needs one: a held
    // session's first request (held_session.rs).
    s.push_str("T=\ntrap '[ -z \"$T\" ] || rm -rf -- \"$T\"' EXIT\n");
    // A command's stdout goes out as it comes (fd 3); its stderr and status are
    // caught in the shell (a NUL byte in stderr is lost: it is only ever shown).
    s.push_str(
        "rd_run() { rd_i=$1; shift; printf '@@rdock %s run\\n' \"$rd_i\"; \
         { rd_e=$( { \"$@\" 2>&1 >&3 3>&- </dev/null; printf 'x%s' \"$?\"; } ); } 3>&1; \
         rd_s=${rd_e##*x}; rd_e=${rd_e%x*}; \
         printf '\\n@@rdock-end %s %s %s\\n%s' \"$N\" \"$rd_s\" \"${#rd_e}\" \"$rd_e\"; }\n\
         set --\n",
    );
    for (i, query) in queries.iter().enumerate() {
        match query {
            // fd 9 holds the flock for as long as this shell lives: the whole script,
            // or, in a held session (ssh.rs), the whole run.
            Query::Lock(spec) => s.push_str(&format!(
                "rd_l={p}; [ -d \"${{rd_l%/*}}\" ] || mkdir -p -- \"${{rd_l%/*}}\" || exit 97\n\
                 exec 9>>\"$rd_l\" || exit 97\n\
                 if flock -n 9; then rd_since={now}\n\
                 elif flock -w {wait} 9; then rd_since=$(date -u +%Y-%m-%dT%H:%M:%SZ)\n\
                 else rd_h=$(cat -- \"$rd_l\"); printf '@@rdock {i} locked %s\\n%s' \"${{#rd_h}}\" \"$rd_h\"; exit 0; fi\n\
                 : > \"$rd_l\"; printf '%s since %s\\n' {holder} \"$rd_since\" >&9\n\
                 echo '@@rdock {i} lock'\n",
                p = quote_path(&spec.path)?,
                wait = spec.wait.as_secs(),
                now = quote(&super::local::now_utc())?,
                holder = quote(&spec.holder)?,
            )),
            // `uname -r -m` prints the two in this order, whatever the order asked;
            // a kernel release holds no blank.
            Query::Uname => s.push_str(&format!(
                "rd_u=$(uname -r -m); printf '@@rdock {i} uname\\n%s\\n%s\\n' \"${{rd_u% *}}\" \"${{rd_u##* }}\"\n"
            )),
            Query::IsRootUser => s.push_str(&format!(
                "if [ \"$(id -u)\" = 0 ]; then echo '@@rdock {i} bool 1'; else echo '@@rdock {i} bool 0'; fi\n"
            )),
            // PID 1's root not being ours means a chroot; a /proc/1/root this user may
            // not look into says nothing either way.
            Query::SystemdOnline => s.push_str(&format!(
                "if [ -n \"$R\" ]; then rd_off=tree\n\
                 elif [ ! -d /run/systemd/system ]; then rd_off='systemd is not running on this machine'\n\
                 elif [ -e /proc/1/root/. ] && ! [ / -ef /proc/1/root/. ]; then rd_off='this process runs inside a chroot'\n\
                 else rd_off=; fi\n\
                 if [ -z \"$rd_off\" ]; then rd_online=1; echo '@@rdock {i} online'; else rd_online=0; \
                 printf '@@rdock {i} offline %s\\n%s' \"${{#rd_off}}\" \"$rd_off\"; fi\n"
            )),
            Query::Read(path) => s.push_str(&format!(
                "rd_resolve {p}; if [ -f \"$rd_p\" ] && [ -r \"$rd_p\" ]; then \
                 echo '@@rdock {i} file'; set -- \"$@\" \"$rd_p\"; \
                 elif [ -d \"$rd_p\" ]; then echo '@@rdock {i} notfile'; \
                 else echo '@@rdock {i} none'; fi\n",
                p = quote_path(path)?
            )),
            Query::AnyExists(paths) => {
                let words: io::Result<Vec<String>> = paths.iter().map(|p| quote_path(p)).collect();
                s.push_str(&format!(
                    "rd_x_{i}=0; for rd_q in {}; do rd_resolve \"$rd_q\"; \
                     if [ -e \"$rd_p\" ] || [ -L \"$rd_p\" ]; then rd_x_{i}=1; break; fi; done; \
                     echo \"@@rdock {i} bool $rd_x_{i}\"\n",
                    words?.join(" ")
                ));
            }
            Query::Run { argv, when } => {
                let words: io::Result<Vec<String>> = argv.iter().map(|w| quote(w)).collect();
                let condition = match when {
                    When::IfExists(index) => format!("[ \"$rd_x_{index}\" = 1 ]"),
                    When::Online => "[ \"$rd_online\" = 1 ]".to_string(),
                    When::Offline => "[ \"$rd_online\" != 1 ]".to_string(),
                };
                s.push_str(&format!(
                    "if {condition}; then rd_run {i} {}; else echo '@@rdock {i} skip'; fi\n",
                    words?.join(" ")
                ));
            }
            Query::Files(wanted) => {
                // The literal parts quoted, the `*` not: a glob the shell expands.
                let pattern = format!(
                    "\"$rd_p\"/{}*{}",
                    quote_glob_part(&wanted.prefix)?,
                    quote_glob_part(&wanted.suffix)?
                );
                s.push_str(&format!(
                    "rd_resolve {p}; rd_n=0; for rd_f in {pattern}; do [ -f \"$rd_f\" ] && rd_n=$((rd_n + 1)); done; \
                     echo \"@@rdock {i} dir $rd_n\"; for rd_f in {pattern}; do [ -f \"$rd_f\" ] || continue; \
                     printf '@@rdock {i} entry %s\\n' \"${{rd_f##*/}}\"; set -- \"$@\" \"$rd_f\"; done\n",
                    p = quote_path(&wanted.dir)?
                ));
            }
            Query::TreeSize(path) => s.push_str(&format!(
                "rd_resolve {p}; if [ -e \"$rd_p\" ]; then \
                 echo \"@@rdock {i} size $(find \"$rd_p\" -type f -printf '%s\\n' 2>/dev/null | awk '{{s+=$1}} END {{printf \"%d\", s}}')\"; \
                 else echo '@@rdock {i} nosize'; fi\n",
                p = quote_path(path)?
            )),
        }
    }
    // The files found above ("$@", in the order of their headers), all at once: their
    // sizes, then their bytes. A file that changed in between puts the trailer where
    // the sizes do not say, and the answer is refused (see `parse`).
    s.push_str(
        "echo '@@rdock-files'; rd_cf=; if [ $# -gt 0 ]; then stat -L -c %s -- \"$@\"; \
         cat -- \"$@\" || rd_cf=' unreadable'; fi; printf '\\n@@rdock-end %s%s\\n' \"$N\" \"$rd_cf\"\n",
    );
    Ok(FactScript { text: s, end })
}

/// 128 random bits as hex, from the kernel.
fn random_word() -> io::Result<String> {
    let mut bytes = [0u8; 16];
    io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A literal part of a glob: quoted, or nothing when empty (`''` is fine too).
fn quote_glob_part(part: &str) -> io::Result<String> {
    if part.is_empty() {
        Ok(String::new())
    } else {
        quote(part)
    }
}

fn quote_path(path: &Path) -> io::Result<String> {
    quote(&path.display().to_string())
}

/// Read the framed answer of a script whose trailers carry `end` back into answers,
/// one per query.
pub fn parse(
    root: Option<&Path>,
    queries: &[Query],
    end: &str,
    output: &[u8],
) -> io::Result<Vec<Answer>> {
    let mut reader = Frames {
        bytes: output,
        at: 0,
        trailer: format!("\n@@rdock-end {end}").into_bytes(),
    };
    let mut answers = Vec::with_capacity(queries.len());
    // Where each file's bytes go, in the order the files block brings them.
    let mut queued: Vec<Slot> = Vec::new();
    for (i, query) in queries.iter().enumerate() {
        let header = reader.header(i)?;
        let mut words = header.split_whitespace().skip(2);
        let kind = words.next().unwrap_or("");
        let mut number = || -> io::Result<usize> {
            words
                .next()
                .and_then(|w| w.parse().ok())
                .ok_or_else(|| bad(format!("answer {i}: malformed header {header:?}")))
        };
        let answer = match (query, kind) {
            (Query::Lock(_), "lock") => Answer::Locked,
            (Query::Lock(spec), "locked") => {
                let holder = String::from_utf8_lossy(reader.take(number()?)?).into_owned();
                return Err(locked_error(&spec.path, holder.trim(), spec.wait));
            }
            (Query::Uname, "uname") => {
                let release = reader.line()?;
                let machine = reader.line()?;
                Answer::Uname(Uname { release, machine })
            }
            (Query::IsRootUser | Query::AnyExists(_), "bool") => Answer::Bool(number()? == 1),
            (Query::SystemdOnline, "online") => Answer::Online(Ok(())),
            (Query::SystemdOnline, "offline") => {
                let reason = String::from_utf8_lossy(reader.take(number()?)?).into_owned();
                Answer::Online(Err(match root {
                    Some(root) if reason == "tree" => tree_offline_reason(root),
                    _ => reason,
                }))
            }
            (Query::Read(_), "file") => {
                queued.push(Slot::File(answers.len()));
                Answer::File(Some(Vec::new()))
            }
            (Query::Read(_), "none") => Answer::File(None),
            (Query::Read(path), "notfile") => {
                return Err(not_a_file(&match root {
                    Some(root) => root.join(path.strip_prefix("/").unwrap_or(path)),
                    None => path.clone(),
                }));
            }
            (Query::Run { .. }, "run") => {
                let (stdout, fields) = reader.payload(&format!("answer {i}"))?;
                let stdout = String::from_utf8_lossy(stdout).into_owned();
                let mut fields = fields.split(' ').map(str::parse::<usize>);
                let (Some(Ok(status)), Some(Ok(err_len)), None) =
                    (fields.next(), fields.next(), fields.next())
                else {
                    return Err(bad(format!(
                        "answer {i}: malformed end of a command's output"
                    )));
                };
                let stderr = String::from_utf8_lossy(reader.take(err_len)?).into_owned();
                Answer::Output(Some(CmdOutput {
                    status: i32::try_from(status).ok(),
                    stdout,
                    stderr,
                }))
            }
            (Query::Run { .. }, "skip") => Answer::Output(None),
            (Query::TreeSize(_), "size") => Answer::Size(Some(number()? as u64)),
            (Query::TreeSize(_), "nosize") => Answer::Size(None),
            (Query::Files(_), "dir") => {
                let count = number()?;
                // Not with_capacity(count): the count comes off the wire.
                let mut files = Vec::new();
                for _ in 0..count {
                    let entry = reader.header(i)?;
                    let rest = entry
                        .strip_prefix(&format!("@@rdock {i} entry "))
                        .ok_or_else(|| {
                            bad(format!("answer {i}: expected an entry, got {entry:?}"))
                        })?;
                    files.push((rest.to_string(), Vec::new()));
                    queued.push(Slot::Entry(answers.len(), files.len() - 1));
                }
                Answer::Files(files)
            }
            _ => {
                return Err(bad(format!(
                    "answer {i}: unexpected {header:?} for {query:?}"
                )));
            }
        };
        answers.push(answer);
    }
    let contents = reader.files(queued.len())?;
    for (slot, bytes) in queued.into_iter().zip(contents) {
        match slot {
            Slot::File(a) => answers[a] = Answer::File(Some(bytes.to_vec())),
            Slot::Entry(a, e) => {
                if let Answer::Files(files) = &mut answers[a] {
                    files[e].1 = bytes.to_vec();
                }
            }
        }
    }
    for answer in &mut answers {
        if let Answer::Files(files) = answer {
            files.sort();
        }
    }
    Ok(answers)
}

/// A file whose bytes come in the files block: a read's answer, or an entry of a
/// directory's answer.
enum Slot {
    File(usize),
    Entry(usize, usize),
}

fn bad(message: String) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("fact script: {message}"),
    )
}

struct Frames<'a> {
    bytes: &'a [u8],
    at: usize,
    /// `\n@@rdock-end WORD`: what ends a payload.
    trailer: Vec<u8>,
}

impl<'a> Frames<'a> {
    fn line(&mut self) -> io::Result<String> {
        let rest = &self.bytes[self.at..];
        let end = rest
            .iter()
            .position(|b| *b == b'\n')
            .ok_or_else(|| bad("answer cut short".into()))?;
        self.at += end + 1;
        Ok(String::from_utf8_lossy(&rest[..end]).into_owned())
    }

    /// The next header for query `index`; anything before it (a login banner from a
    /// shell profile, say) is skipped.
    fn header(&mut self, index: usize) -> io::Result<String> {
        let prefix = format!("@@rdock {index} ");
        loop {
            let line = self.line()?;
            if line.starts_with(&prefix) {
                return Ok(line);
            }
        }
    }

    /// A payload up to its trailer, and what the trailer line says after the word.
    fn payload(&mut self, what: &str) -> io::Result<(&'a [u8], &'a str)> {
        let rest = &self.bytes[self.at..];
        let cut_short = || bad(format!("{what}: cut short"));
        let start = rest
            .windows(self.trailer.len())
            .position(|w| w == self.trailer.as_slice())
            .ok_or_else(cut_short)?;
        let after = &rest[start + self.trailer.len()..];
        let line_end = after
            .iter()
            .position(|b| *b == b'\n')
            .ok_or_else(cut_short)?;
        let fields = match &after[..line_end] {
            [] => "",
            [b' ', fields @ ..] => std::str::from_utf8(fields)
                .map_err(|_| bad(format!("{what}: malformed trailer")))?,
            _ => return Err(bad(format!("{what}: malformed trailer"))),
        };
        self.at += start + self.trailer.len() + line_end + 1;
        Ok((&rest[..start], fields))
    }

    /// The files block: `@@rdock-files`, a size per file, the files' bytes, a trailer.
    fn files(&mut self, count: usize) -> io::Result<Vec<&'a [u8]>> {
        let header = self.line()?;
        if header != "@@rdock-files" {
            return Err(bad(format!("expected the files, got {header:?}")));
        }
        let changed = || {
            bad(
                "the host's files changed while they were read (their sizes and bytes \
                 disagree); run again"
                    .into(),
            )
        };
        let mut sizes = Vec::new();
        for _ in 0..count {
            sizes.push(self.line()?.parse::<usize>().map_err(|_| changed())?);
        }
        let start = self.at;
        let mut unreadable = self.trailer.clone();
        unreadable.extend(b" unreadable\n");
        if self.bytes[start..]
            .windows(unreadable.len())
            .any(|w| w == unreadable.as_slice())
        {
            return Err(bad("some of the host's files could not be read".into()));
        }
        let mut read = || -> io::Result<Vec<&'a [u8]>> {
            let contents = sizes
                .iter()
                .map(|size| self.take(*size))
                .collect::<io::Result<Vec<_>>>()?;
            match self.payload("the files")? {
                ([], "") => Ok(contents),
                _ => Err(changed()),
            }
        };
        read().map_err(|err| {
            // The whole trailer came, only not where the sizes said: the files changed.
            // No trailer at all: the answer was cut short.
            let mut whole = self.trailer.clone();
            whole.push(b'\n');
            let tail = &self.bytes[start..];
            if tail.windows(whole.len()).any(|w| w == whole.as_slice()) {
                changed()
            } else {
                err
            }
        })
    }

    fn take(&mut self, len: usize) -> io::Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len());
        let end = end.ok_or_else(|| bad("answer cut short".into()))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::probe::FileMatch;
    use std::process::Command;

    /// The script, run by a real sh on this machine, answers like the local transport.
    #[test]
    fn script_answers_match_the_local_transport() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir_all(root.join("real/etc")).unwrap();
        std::os::unix::fs::symlink("/real/etc", root.join("etc")).unwrap();
        std::fs::write(
            root.join("real/etc/os-release"),
            b"ID=centos\nVERSION_ID=\"7\"\n\xff bytes\n@@rdock-end 0\n",
        )
        .unwrap();
        std::fs::create_dir_all(root.join("var/lib/docker/a")).unwrap();
        let dropins = root.join("real/etc/systemd/system/docker.service.d");
        std::fs::create_dir_all(&dropins).unwrap();
        std::fs::write(
            dropins.join("http proxy.conf"),
            "[Service]\nEnvironment=\"A=b c\"\n",
        )
        .unwrap();
        std::fs::write(dropins.join("10-a.conf"), "").unwrap();
        std::fs::write(dropins.join("ignored.txt"), "x").unwrap();
        std::fs::write(root.join("var/lib/docker/a/f"), vec![0u8; 1000]).unwrap();
        let queries = vec![
            Query::Uname,
            Query::IsRootUser,
            Query::SystemdOnline,
            Query::Read("/etc/os-release".into()),
            Query::Read("/etc/missing".into()),
            Query::AnyExists(vec!["/nope".into(), "/var/lib/docker".into()]),
            Query::Run {
                argv: vec![
                    "sh".into(),
                    "-c".into(),
                    "printf 'out'; printf 'an error \\303\\251\\nxx x\\n\\n' >&2; exit 3".into(),
                ],
                when: When::IfExists(5),
            },
            Query::Run {
                argv: vec!["echo".into(), "never".into()],
                when: When::Online,
            },
            Query::TreeSize("/var/lib/docker".into()),
            Query::TreeSize("/var/lib/nothing".into()),
            Query::Files(FileMatch::new(
                "/etc/systemd/system/docker.service.d",
                "",
                ".conf",
            )),
            Query::Files(FileMatch::new("/etc/nothing.d", "", ".conf")),
            Query::Files(FileMatch::new(
                "/etc/systemd/system/docker.service.d",
                "http ",
                ".conf",
            )),
        ];
        let fact = script(Some(&root), &queries).unwrap();
        let local = crate::host::LocalTransport::default();
        let expected = crate::host::Transport::probe(&local, Some(&root), &queries).unwrap();
        // CentOS's sh is bash; Debian's is dash.
        for shell in [&["sh"][..], &["bash", "--posix"]] {
            // In a UTF-8 locale too: lengths are counted in bytes (the script sets C).
            let out = Command::new(shell[0])
                .args(&shell[1..])
                .args(["-c", &fact.text])
                .env("LC_ALL", "C.UTF-8")
                .output()
                .unwrap();
            let answers = parse(Some(&root), &queries, &fact.end, &out.stdout).unwrap();
            assert_eq!(format!("{answers:?}"), format!("{expected:?}"), "{shell:?}");
            match &answers[3] {
                Answer::File(Some(bytes)) => assert!(bytes.ends_with(b"\n@@rdock-end 0\n")),
                other => panic!("{other:?}"),
            }
            match &answers[6] {
                Answer::Output(Some(o)) => assert_eq!(
                    (o.status, o.stdout.as_str(), o.stderr.as_str()),
                    (Some(3), "out", "an error é\nxx x\n\n")
                ),
                other => panic!("{other:?}"),
            }
        }
    }

    /// A converged host's fact script forks and execs as little as it can: a
    /// process per command asked and per file read, no counting `wc`, no temporary
    /// directory.
    #[test]
    fn the_fact_script_spends_no_process_on_framing() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("etc/docker")).unwrap();
        std::fs::write(root.join("etc/os-release"), "ID=centos\n").unwrap();
        std::fs::write(root.join("etc/docker/daemon.json"), "{}").unwrap();
        let queries = vec![
            Query::Uname,
            Query::SystemdOnline,
            Query::Read("/etc/os-release".into()),
            Query::Read("/etc/docker/daemon.json".into()),
            Query::Read("/etc/missing".into()),
            Query::AnyExists(vec!["/etc/docker".into()]),
            Query::Run {
                argv: vec!["id".into(), "-u".into()],
                when: When::IfExists(5),
            },
        ];
        let fact = script(Some(root), &queries).unwrap();
        let trace = tmp.path().join("trace");
        let status = Command::new("strace")
            .args(["-f", "-qq", "-e", "trace=execve", "-o"])
            .arg(&trace)
            .args(["sh", "-c", &fact.text])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("strace (scripts/deps installs it)");
        assert!(status.success());
        let trace = std::fs::read_to_string(&trace).unwrap();
        let mut programs: Vec<&str> = trace
            .lines()
            .filter(|l| l.contains("execve(") && !l.contains("ENOENT"))
            .filter_map(|l| l.split('"').nth(1))
            .map(|p| p.rsplit('/').next().unwrap_or(p))
            .collect();
        programs.sort();
        // sh itself, uname, the one command asked, and for all the files there: a stat
        // and a cat.
        assert_eq!(programs, ["cat", "id", "sh", "stat", "uname"], "{trace}");
    }

    /// A file that grew or shrank between its size and its bytes is no answer.
    #[test]
    fn files_that_changed_while_read_are_refused() {
        let queries = vec![Query::Read("/etc/os-release".into())];
        let framed = |size: usize, bytes: &str| {
            format!("@@rdock 0 file\n@@rdock-files\n{size}\n{bytes}\n@@rdock-end e\n")
        };
        let answers = parse(None, &queries, "e", framed(3, "ID=").as_bytes()).unwrap();
        assert!(matches!(&answers[0], Answer::File(Some(b)) if b == b"ID="));
        for (size, bytes) in [(3, "ID=x"), (3, "ID"), (4, "ID=")] {
            let err = parse(None, &queries, "e", framed(size, bytes).as_bytes()).unwrap_err();
            assert!(
                err.to_string().contains("changed while they were read"),
                "{size} {bytes:?}: {err}"
            );
        }
    }

    /// cat failing on a file (no permission) is said as such, not as a change.
    #[test]
    fn an_unreadable_file_is_said() {
        let queries = vec![Query::Read("/etc/os-release".into())];
        let out = b"@@rdock 0 file\n@@rdock-files\n3\n\n@@rdock-end e unreadable\n";
        let err = parse(None, &queries, "e", out).unwrap_err();
        assert!(err.to_string().contains("could not be read"), "{err}");
    }

    /// Found by props::remote_probe: a count off the wire sized an allocation.
    #[test]
    fn a_huge_entry_count_is_an_error_not_a_panic() {
        let queries = vec![Query::Files(FileMatch::new("/etc", "", ".conf"))];
        let out = b"@@rdock 0 dir 18446744073709551615\n";
        assert!(parse(None, &queries, "e", out).is_err());
    }

    #[test]
    fn a_banner_before_the_answer_is_skipped() {
        let queries = vec![Query::IsRootUser];
        let answers = parse(
            None,
            &queries,
            "e",
            b"Welcome!\n@@rdock 0 bool 1\n@@rdock-files\n\n@@rdock-end e\n",
        )
        .unwrap();
        assert!(matches!(answers[0], Answer::Bool(true)));
        assert!(parse(None, &queries, "e", b"nothing").is_err());
    }
}
