//! Questions to the world, asked through apt without touching the target: every run
//! happens in a fresh scratch directory with its own sources, lists and cache
//! (`-o Dir::Etc::sourcelist=… Dir::Etc::sourceparts=… Dir::State::Lists=…
//! Dir::Cache=…`), reading the target's dpkg status, never locking it. The target's
//! own lists (`/var/lib/apt/lists`) are copied in first, so that an `apt-get update`
//! there only downloads what changed.

use std::collections::BTreeMap;
use std::path::Path;

use super::AptTool;
use super::parse::{self, Simulation};
use crate::error::{Error, Result};
use crate::host::{Host, Stage};
use crate::packages::rpmver::Evr;
use crate::packages::transaction::Transaction;

/// Written into the staged source where the scratch directory's path belongs (the
/// keyring's path is only known once the directory is made).
pub const SCRATCH_MARK: &str = "@RDOCK_SCRATCH@";

/// The scratch run: `sh -c SCRIPT rdock-apt DIR STATUS VERB ARGS…`. It refreshes the
/// scratch lists from the sources staged there (an unreachable source fails it, in
/// apt's words, exit 100), then `offers` lists versions (`apt-cache madison ARGS`) or
/// `simulate` proves a transaction (`apt-get -s install ARGS`).
const SCRIPT: &str = r#"d=$1 status=$2 verb=$3; shift 3
mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/sources.list.d" && touch "$d/sources.list" || exit 97
if [ -f "$d/ours/docker.sources" ]; then
  sed "s|@RDOCK_SCRATCH@|$d|g" "$d/ours/docker.sources" > "$d/sources.list.d/docker.sources" || exit 97
fi
rd_apt() { rd_t=$1; shift; "$rd_t" -q -c "$d/hooks-off.conf" -o APT::Sandbox::User=root -o "Dir::Etc::sourcelist=$d/sources.list" -o "Dir::Etc::sourceparts=$d/sources.list.d" -o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache" -o "Dir::State::status=$status" -o Debug::NoLocking=true "$@"; }
rd_apt apt-get -o APT::Update::Error-Mode=any update > "$d/update.log" 2>&1; rd_s=$?
if [ "$rd_s" != 0 ] || grep -Eq '^(Err:|E:|W: Failed to fetch|W: Some index files failed)' "$d/update.log"; then
  cat "$d/update.log" >&2; exit 100
fi
case $verb in
  offers) rd_apt apt-cache madison "$@" ;;
  simulate) rd_apt apt-get -s "$@" ;;
esac"#;

/// The apt side of a resolve: which sources the scratch directory gets.
#[derive(Debug, Clone)]
pub enum Sources {
    /// Docker's repo only (its source file and keyring): enough to list its offers.
    DockerOnly { source: Vec<u8>, keyring: Vec<u8> },
    /// The target's own sources, plus Docker's when given (replacing a
    /// `docker.sources` of the target): what a transaction resolves against.
    Target { docker: Option<(Vec<u8>, Vec<u8>)> },
}

/// Read after the machine's own apt configuration (`-c`): the hooks it may set run
/// nothing in the scratch runs. A hook of `apt-get update` (refresh a software catalogue,
/// touch a stamp, clean /var/cache/apt) would otherwise change the machine during a
/// dry-run.
const HOOKS_OFF: &str = "#clear APT::Update::Pre-Invoke;\n#clear APT::Update::Post-Invoke;\n\
                         #clear APT::Update::Post-Invoke-Success;\n#clear DPkg::Pre-Invoke;\n\
                         #clear DPkg::Post-Invoke;\n#clear DPkg::Pre-Install-Pkgs;\n";

fn stage(sources: &Sources) -> Stage {
    let mut stage = Stage::default();
    stage
        .files
        .push(("hooks-off.conf".into(), HOOKS_OFF.as_bytes().to_vec()));
    let docker = match sources {
        Sources::DockerOnly { source, keyring } => Some((source, keyring)),
        Sources::Target { docker } => {
            for (path, dest) in [
                ("/etc/apt/sources.list", "sources.list"),
                ("/etc/apt/sources.list.d", "sources.list.d"),
                ("/var/lib/apt/lists", "lists"),
            ] {
                stage.copies.push((path.into(), dest.to_string()));
            }
            docker.as_ref().map(|(s, k)| (s, k))
        }
    };
    if let Some((source, keyring)) = docker {
        stage
            .files
            .push(("ours/docker.sources".into(), source.clone()));
        stage.files.push(("docker.asc".into(), keyring.clone()));
    }
    stage
}

/// The source file as staged: `Signed-By` the scratch copy of the keyring.
pub fn staged_source(source: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(source);
    text.lines()
        .map(|line| {
            if line.starts_with("Signed-By:") {
                format!("Signed-By: {SCRATCH_MARK}/docker.asc\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect::<String>()
        .into_bytes()
}

fn run(
    host: &Host,
    tool: &AptTool,
    sources: &Sources,
    verb: &str,
    args: &[String],
) -> Result<(Vec<String>, crate::host::CmdOutput)> {
    let status = tool.status_path();
    host.run_staged(&stage(sources), &|dir| {
        let mut argv: Vec<String> = ["sh", "-c", SCRIPT, "rdock-apt"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        argv.push(dir.display().to_string());
        argv.push(status.clone());
        argv.push(verb.to_string());
        argv.extend(args.iter().cloned());
        argv
    })
}

/// The scratch run as a reader wants to see it: what apt ran, where, without the
/// script around it (`sh -c SCRIPT rdock-apt DIR STATUS VERB ARGS…`).
fn shown(argv: &[String]) -> Vec<String> {
    let [_, _, _, _, dir, status, verb, args @ ..] = argv else {
        return argv.to_vec();
    };
    let command = match verb.as_str() {
        "offers" => "apt-cache madison",
        _ => "apt-get -s",
    };
    vec![format!(
        "apt-get update && {command} {} (in the scratch directory {dir}, dpkg status {status})",
        args.join(" ")
    )]
}

/// An apt run that failed, as an error in apt's words.
fn failed(argv: &[String], output: &crate::host::CmdOutput, what: &str, hint: &str) -> Error {
    let found = parse::problems(&format!("{}\n{}", output.stdout, output.stderr));
    Error::Command {
        argv: shown(argv),
        status: output.status,
        stderr: if found.is_empty() {
            output.stderr.clone()
        } else {
            format!("{what}:\n{}", found.join("\n"))
        },
        hint: hint.to_string(),
    }
}

/// Versions of `names` the sources offer, newest first.
pub fn offers(
    host: &Host,
    tool: &AptTool,
    sources: &Sources,
    names: &[String],
    hint: &str,
) -> Result<BTreeMap<String, Vec<Evr>>> {
    let (argv, output) = run(host, tool, sources, "offers", names)?;
    if !output.success() {
        return Err(failed(&argv, &output, "apt said", hint));
    }
    Ok(parse::madison(&output.stdout, names))
}

/// What `apt-get install` of the transaction would do, proven in the scratch
/// directory (`apt-get -s`), or apt's reasons why it cannot be done.
pub fn simulate(
    host: &Host,
    tool: &AptTool,
    sources: &Sources,
    transaction: &Transaction,
) -> std::result::Result<Simulation, (Vec<String>, Vec<String>)> {
    let mut args = AptTool::install_options();
    args.push("install".into());
    args.extend(super::specs(transaction));
    let (argv, output) = match run(host, tool, sources, "simulate", &args) {
        Ok(ran) => ran,
        Err(err) => return Err((Vec::new(), vec![err.to_string()])),
    };
    let text = format!("{}\n{}", output.stdout, output.stderr);
    let found = parse::problems(&text);
    if output.success() && found.is_empty() {
        return Ok(parse::simulation(&output.stdout));
    }
    let found = if found.is_empty() {
        text.lines()
            .rev()
            .filter(|l| !l.trim().is_empty())
            .take(8)
            .map(str::to_string)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect()
    } else {
        found
    };
    Err((argv, found))
}

/// Docker's public key from `url`, fetched on the target by apt's own downloader
/// (`apt-helper download-file`: present wherever apt is, unlike curl or wget). It
/// downloads as root into the private scratch directory, which `_apt` cannot enter.
pub fn fetch_key(host: &Host, url: &str) -> Result<Vec<u8>> {
    const FETCH: &str =
        "/usr/lib/apt/apt-helper download-file \"$1\" \"$2/gpg\" >&2 && cat \"$2/gpg\"";
    let (_, output) = host.run_staged(&Stage::default(), &|dir: &Path| {
        vec![
            "sh".into(),
            "-c".into(),
            FETCH.into(),
            "rdock-key".into(),
            url.to_string(),
            dir.display().to_string(),
        ]
    })?;
    let bytes = output.stdout.clone().into_bytes();
    if output.success() && super::source::is_armored_key(&bytes) {
        return Ok(bytes);
    }
    Err(Error::Command {
        argv: vec![format!("apt-helper download-file {url}")],
        status: output.status,
        stderr: if output.success() {
            format!("{url} is not an ASCII-armored public key")
        } else {
            output.stderr
        },
        hint: format!(
            "the key of Docker's apt repo did not come from {url}; check [repo] source, and \
             the network or proxy of the target"
        ),
    })
}
