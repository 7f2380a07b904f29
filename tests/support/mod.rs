//! Shared helpers for the integration tests (`mod support;` in each `tests/*.rs`).
//!
//! * [`repo()`]: a signed, download.docker.com-shaped Docker CE repository plus a
//!   fake "base OS" repo, built once by `tests/support/build-repo.sh` (cached under
//!   `target/test-fixtures/`) and served over HTTP on 127.0.0.1 by this process.
//! * [`Sandbox`]: a fresh fake CentOS 7 / Rocky 9 root to point the tool at
//!   (`dnf --installroot`, `rpm --root`).
//! * [`tree_digest`]: proves that a run (e.g. a dry-run) changed nothing.
//! * [`shim_dir`] / [`rdock`]: run the binary with the test-only `yum`/`dnf` shims
//!   first on PATH.
//!
//! Facts about rpm/dnf on this Debian machine that these helpers rely on are in
//! the project's testbed notes (rpm/dnf section).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::hash::{DefaultHasher, Hasher};
use std::io::{self, Read};
use std::net::TcpListener;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use nix::fcntl::{Flock, FlockArg};

// ------------------------------------------------------------------ paths ---

const BUILD_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/build-repo.sh");

/// The cargo target directory (parent of `CARGO_TARGET_TMPDIR`, i.e. `target/`).
pub fn target_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).to_path_buf()
}

/// Stable 64-bit FNV-1a, used for cache keys that must not change between
/// Rust versions (unlike `DefaultHasher`'s output).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Runs `f` while holding an exclusive flock on `lock_path` (across processes:
/// several test binaries run at once under `cargo test`).
pub fn with_lock<T>(lock_path: &Path, f: impl FnOnce() -> T) -> T {
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_path)
        .unwrap_or_else(|e| panic!("open {}: {e}", lock_path.display()));
    let lock = Flock::lock(file, FlockArg::LockExclusive)
        .unwrap_or_else(|(_, e)| panic!("flock {}: {e}", lock_path.display()));
    let out = f();
    drop(lock);
    out
}

// ------------------------------------------------------------------- repo ---

/// The fixture tree, served over HTTP by this test process.
///
/// Layout below `dir` (and below `base_url`):
/// `linux/centos/gpg`, `linux/centos/docker-ce.repo`,
/// `linux/centos/{7,9}/x86_64/{stable,test}/` (rpms + repodata),
/// `base/{7,9}/x86_64/` (the fake OS repo with the old docker packages).
pub struct TestRepo {
    /// `http://127.0.0.1:PORT`: the URL under which `linux/centos/...` and `base/...` live.
    pub base_url: String,
    /// The fixture tree on disk (shared by all test processes; never modify it).
    pub dir: PathBuf,
    requests: Arc<Mutex<Vec<String>>>,
    next_scope: Mutex<u64>,
}

/// A private view of the repo: the same tree served under its own URL prefix
/// (`{base_url}/_scope/N`), with its own request log. Tests in one binary run in
/// parallel threads and share one server, so a test that asserts on what was
/// fetched should use a scope rather than [`TestRepo::requests`].
pub struct RepoScope {
    /// Use exactly like [`TestRepo::base_url`].
    pub base_url: String,
    prefix: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl TestRepo {
    /// Every request path this process's server saw, in order (query strings
    /// included as sent, scope prefixes included).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    pub fn clear_requests(&self) {
        self.requests.lock().unwrap().clear();
    }

    /// A fresh [`RepoScope`].
    pub fn scope(&self) -> RepoScope {
        let n = {
            let mut n = self.next_scope.lock().unwrap();
            *n += 1;
            *n
        };
        let prefix = format!("/_scope/{n}");
        RepoScope {
            base_url: format!("{}{prefix}", self.base_url),
            prefix,
            requests: Arc::clone(&self.requests),
        }
    }

    /// The docker-ce repo URL for an EL major version and channel, e.g.
    /// `repo().docker_url(7, "stable")` = `{base_url}/linux/centos/7/x86_64/stable`.
    pub fn docker_url(&self, el: u32, channel: &str) -> String {
        format!("{}/linux/centos/{el}/x86_64/{channel}", self.base_url)
    }

    /// The tree under a URL whose rpms named like `needle` cannot be downloaded
    /// (404) while the metadata still offers them.
    pub fn missing_url(&self, needle: &str) -> String {
        format!("{}/_missing/{needle}", self.base_url)
    }

    /// `{base_url}/linux/centos/gpg`.
    pub fn gpg_url(&self) -> String {
        format!("{}/linux/centos/gpg", self.base_url)
    }
}

impl RepoScope {
    /// Paths requested through this scope, in order, with the scope prefix removed
    /// (e.g. `/linux/centos/7/x86_64/stable/repodata/repomd.xml`).
    pub fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter_map(|p| p.strip_prefix(&self.prefix))
            .filter(|p| p.starts_with('/'))
            .map(str::to_string)
            .collect()
    }
}

/// The fixture repo: built on first use (or taken from the on-disk cache keyed by
/// the build script's contents), then served on an ephemeral loopback port by a
/// server that lives as long as the test process.
pub fn repo() -> &'static TestRepo {
    static REPO: OnceLock<TestRepo> = OnceLock::new();
    REPO.get_or_init(|| {
        let dir = build_fixture();
        serve(dir)
    })
}

fn build_fixture() -> PathBuf {
    // Keyed by the script and the unit files it packages.
    let mut script = fs::read(BUILD_SCRIPT).unwrap_or_else(|e| panic!("read {BUILD_SCRIPT}: {e}"));
    let units = Path::new(BUILD_SCRIPT).with_file_name("units");
    let mut unit_files: Vec<PathBuf> = fs::read_dir(&units)
        .unwrap_or_else(|e| panic!("read {}: {e}", units.display()))
        .map(|e| e.unwrap().path())
        .collect();
    unit_files.sort();
    for unit in unit_files {
        script.extend(fs::read(&unit).unwrap());
    }
    let key = format!("{:016x}", fnv1a(&script));
    let fixtures = target_dir().join("test-fixtures");
    fs::create_dir_all(&fixtures).unwrap();
    let dir = fixtures.join(format!("repo-{key}"));
    if dir.join(".complete").exists() {
        return dir;
    }
    with_lock(&fixtures.join(format!("repo-{key}.lock")), || {
        if dir.join(".complete").exists() {
            return;
        }
        let out = Command::new("bash")
            .arg(BUILD_SCRIPT)
            .arg(&dir)
            .output()
            .unwrap_or_else(|e| panic!("run {BUILD_SCRIPT}: {e}"));
        assert!(
            out.status.success() && dir.join(".complete").exists(),
            "{BUILD_SCRIPT} {} failed ({}):\n{}\n{}\n\
             (it needs: apt-get install -y rpm dnf createrepo-c dnf-plugins-core gnupg)",
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
    });
    dir
}

fn serve(dir: PathBuf) -> TestRepo {
    let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind test HTTP server"));
    let port = server.server_addr().to_ip().expect("tcp listener").port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    // A few threads so that dnf's parallel downloads don't queue behind each other.
    for _ in 0..4 {
        let server = Arc::clone(&server);
        let requests = Arc::clone(&requests);
        let dir = dir.clone();
        std::thread::spawn(move || {
            while let Ok(req) = server.recv() {
                let url = req.url().to_string();
                requests.lock().unwrap().push(url.clone());
                let response = match resolve(&dir, &url).and_then(|p| fs::File::open(p).ok()) {
                    Some(file) => {
                        let content_type = if url.ends_with(".xml") {
                            "text/xml"
                        } else if url.ends_with("/gpg") || url.ends_with(".repo") {
                            "text/plain"
                        } else {
                            "application/octet-stream"
                        };
                        tiny_http::Response::from_file(file)
                            .with_header(
                                tiny_http::Header::from_bytes("Content-Type", content_type)
                                    .unwrap(),
                            )
                            // always a Content-Length, never chunked
                            .with_chunked_threshold(usize::MAX)
                            .boxed()
                    }
                    None => tiny_http::Response::from_string("404 Not Found\n")
                        .with_status_code(404)
                        .boxed(),
                };
                let _ = req.respond(response);
            }
        });
    }
    TestRepo {
        base_url: format!("http://127.0.0.1:{port}"),
        dir,
        requests,
        next_scope: Mutex::new(0),
    }
}

/// Maps a request URL to a regular file below `dir` (None: 404).
fn resolve(dir: &Path, url: &str) -> Option<PathBuf> {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let path = percent_decode(path)?;
    let mut rel = path.as_str();
    // `/_missing/NAME/…`: the same tree, except that every .rpm whose name contains
    // NAME answers 404 while the metadata still lists it (a mirror that lost files).
    if let Some(rest) = rel.strip_prefix("/_missing/") {
        let (needle, tail) = rest.split_at(rest.find('/')?);
        if tail.ends_with(".rpm") && tail.rsplit('/').next()?.contains(needle) {
            return None;
        }
        rel = tail;
    }
    if let Some(rest) = rel.strip_prefix("/_scope/") {
        rel = &rest[rest.find('/')?..];
    }
    let rel = Path::new(rel.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    let full = dir.join(rel);
    let meta = fs::metadata(&full).ok()?;
    meta.is_file().then_some(full)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Where a run's lock on the tree `root` lives (facts::lock_spec: on the machine that
/// holds the tree, under /run, named by an FNV-1a of the tree's path).
pub fn tree_lock_path(root: &Path) -> PathBuf {
    PathBuf::from(format!(
        "/run/rdock-setup/root-{:016x}.lock",
        fnv1a(root.as_os_str().as_encoded_bytes())
    ))
}

/// Hold `path`'s flock (as a run does), saying `holder` in it, until the guard drops.
pub struct HeldLock {
    child: std::process::Child,
}

impl HeldLock {
    pub fn take(path: &Path, holder: &str) -> HeldLock {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, format!("{holder}\n")).unwrap();
        // -o: only flock itself holds the lock, so killing it releases the lock
        let mut child = Command::new("flock")
            .arg("-o")
            .arg(path)
            .args(["sleep", "120"])
            .spawn()
            .expect("flock (util-linux)");
        // held once flock -n fails from here
        for _ in 0..100 {
            let busy = Command::new("flock")
                .args(["-n"])
                .arg(path)
                .arg("true")
                .status()
                .unwrap();
            if !busy.success() {
                return HeldLock { child };
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("could not take {}", path.display());
    }
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `http://127.0.0.1:PORT` where nothing listens (a port just bound and released).
pub fn dead_url() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .unwrap()
        .port()
}

/// Plain HTTP/1.0 GET through std (no client crate): (status, body).
pub fn http_get(url: &str) -> io::Result<(u16, Vec<u8>)> {
    use std::io::Write;
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| io::Error::other("only http:// URLs"))?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut stream = std::net::TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n")?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let body = raw[split + 4..].to_vec();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line: {head}")))?;
    let content_length = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse::<usize>().ok())?
    });
    if let Some(len) = content_length
        && len != body.len()
    {
        return Err(io::Error::other(format!(
            "Content-Length {len} but body has {} bytes",
            body.len()
        )));
    }
    Ok((status, body))
}

// ---------------------------------------------------------------- sandbox ---

/// A fresh fake host root (a temp dir, removed on drop). The tool is pointed at
/// it; rpm/dnf work on it with `--root` / `--installroot`.
///
/// rpm database location: Debian's rpm has `%_dbpath` = `/root/.rpmdb`, so after
/// an install through dnf/rpm the database is at `ROOT/root/.rpmdb/rpmdb.sqlite`,
/// not `ROOT/var/lib/rpm` as on a real EL host. Before anything is installed there
/// is no database at all (and `rpm --root ROOT -q` would create one).
pub struct Sandbox {
    pub root: PathBuf,
    /// `"7"` or `"9"`: what to pass as `--releasever`.
    pub releasever: String,
    _tmp: tempfile::TempDir,
}

const CENTOS7_OS_RELEASE: &str = r#"NAME="CentOS Linux"
VERSION="7 (Core)"
ID="centos"
ID_LIKE="rhel fedora"
VERSION_ID="7"
PRETTY_NAME="CentOS Linux 7 (Core)"
ANSI_COLOR="0;31"
CPE_NAME="cpe:/o:centos:centos:7"
HOME_URL="https://www.centos.org/"
BUG_REPORT_URL="https://bugs.centos.org/"

CENTOS_MANTISBT_PROJECT="CentOS-7"
CENTOS_MANTISBT_PROJECT_VERSION="7"
REDHAT_SUPPORT_PRODUCT="centos"
REDHAT_SUPPORT_PRODUCT_VERSION="7"

"#;

const CENTOS7_YUM_CONF: &str = "[main]
cachedir=/var/cache/yum/$basearch/$releasever
keepcache=0
debuglevel=2
logfile=/var/log/yum.log
exactarch=1
obsoletes=1
gpgcheck=1
plugins=1
installonly_limit=5
bugtracker_url=http://bugs.centos.org/set_project.php?project_id=23&ref=http://bugs.centos.org/bug_report_page.php?category=yum
distroverpkg=centos-release
";

const ROCKY9_OS_RELEASE: &str = r#"NAME="Rocky Linux"
VERSION="9.3 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
ANSI_COLOR="0;32"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:rocky:rocky:9::baseos"
HOME_URL="https://rockylinux.org/"
BUG_REPORT_URL="https://bugs.rockylinux.org/"
SUPPORT_END="2032-05-31"
ROCKY_SUPPORT_PRODUCT="Rocky-Linux-9"
ROCKY_SUPPORT_PRODUCT_VERSION="9.3"
REDHAT_SUPPORT_PRODUCT="Rocky Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="9.3"
"#;

/// EL9's stock /etc/dnf/dnf.conf. dnf reads it from the installroot when present
/// (overriding Debian's host dnf.conf, which has skip_if_unavailable=True, best=False).
const ROCKY9_DNF_CONF: &str = "[main]
gpgcheck=1
installonly_limit=3
clean_requirements_on_remove=True
best=True
skip_if_unavailable=False
";

impl Sandbox {
    /// CentOS Linux 7.9.2009. `etc/os-release` is a relative symlink to
    /// `../usr/lib/os-release` and `etc/{redhat,system}-release` link to
    /// `centos-release`, as on a real host. `etc/yum.conf` is CentOS 7's (dnf
    /// ignores it: in this root dnf uses the Debian host's /etc/dnf/dnf.conf).
    /// `etc/yum.repos.d/base.repo` = repo id `base` at `{base_url}/base/7/x86_64/`.
    pub fn centos7() -> Sandbox {
        let sb = Sandbox::empty("7");
        sb.write("usr/lib/os-release", CENTOS7_OS_RELEASE);
        sb.symlink("etc/os-release", "../usr/lib/os-release");
        sb.write(
            "etc/centos-release",
            "CentOS Linux release 7.9.2009 (Core)\n",
        );
        sb.symlink("etc/redhat-release", "centos-release");
        sb.symlink("etc/system-release", "centos-release");
        sb.write("etc/yum.conf", CENTOS7_YUM_CONF);
        sb.write(
            "etc/yum.repos.d/base.repo",
            base_repo("base", "CentOS-7 - Base", 7),
        );
        sb
    }

    /// Rocky Linux 9.3 (VERSION_ID="9.3": the repo's `$releasever` is `9`).
    /// Has EL9's `etc/dnf/dnf.conf`; `etc/yum.repos.d/base.repo` = repo id
    /// `baseos` at `{base_url}/base/9/x86_64/`.
    pub fn rocky9() -> Sandbox {
        let sb = Sandbox::empty("9");
        sb.write("usr/lib/os-release", ROCKY9_OS_RELEASE);
        sb.symlink("etc/os-release", "../usr/lib/os-release");
        sb.write("etc/rocky-release", "Rocky Linux release 9.3 (Blue Onyx)\n");
        sb.symlink("etc/redhat-release", "rocky-release");
        sb.symlink("etc/system-release", "rocky-release");
        sb.write("etc/dnf/dnf.conf", ROCKY9_DNF_CONF);
        sb.write(
            "etc/yum.repos.d/base.repo",
            base_repo("baseos", "Rocky Linux 9 - BaseOS", 9),
        );
        sb
    }

    /// A root with nothing in it at all.
    pub fn empty(releasever: &str) -> Sandbox {
        let tmp = tempfile::Builder::new()
            .prefix("rdock-sandbox-")
            .tempdir()
            .expect("tempdir");
        let root = tmp.path().to_path_buf();
        Sandbox {
            root,
            releasever: releasever.to_string(),
            _tmp: tmp,
        }
    }

    pub fn path(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.root
            .join(rel.as_ref().strip_prefix("/").unwrap_or(rel.as_ref()))
    }

    /// Writes a file (creating parent dirs).
    pub fn write(&self, rel: impl AsRef<Path>, bytes: impl AsRef<[u8]>) {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, bytes).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
    }

    /// Reads a file; None if it does not exist.
    pub fn read(&self, rel: impl AsRef<Path>) -> Option<Vec<u8>> {
        match fs::read(self.path(rel)) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => panic!("read: {e}"),
        }
    }

    /// Reads a file as UTF-8; None if it does not exist.
    pub fn read_string(&self, rel: impl AsRef<Path>) -> Option<String> {
        self.read(rel).map(|b| String::from_utf8(b).expect("utf-8"))
    }

    pub fn exists(&self, rel: impl AsRef<Path>) -> bool {
        self.path(rel).symlink_metadata().is_ok()
    }

    pub fn symlink(&self, rel: impl AsRef<Path>, target: impl AsRef<Path>) {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, &p).unwrap();
    }

    /// Writes `etc/yum.repos.d/docker-ce.repo` the way `yum-config-manager
    /// --add-repo` of Docker's file would, but pointing at the test repo
    /// (`[docker-ce-stable]` enabled, `[docker-ce-test]` disabled). For seeding
    /// "already configured" hosts; the tool itself writes its own.
    pub fn add_docker_repo(&self, base_url: &str) {
        self.write(
            "etc/yum.repos.d/docker-ce.repo",
            docker_repo_file(base_url, "stable"),
        );
    }

    /// Real dnf, via the test shim (so Debian's `local` plugin is off), into this
    /// root from the repos in its etc/yum.repos.d. Panics with dnf's output on
    /// failure. `pkgs` may carry versions (`docker-ce-3:24.0.7-3.el7`).
    pub fn install(&self, pkgs: &[&str]) {
        self.dnf(&["install"], pkgs);
    }

    /// `dnf remove` (same setup as [`Sandbox::install`]).
    pub fn remove(&self, pkgs: &[&str]) {
        self.dnf(&["remove"], pkgs);
    }

    /// Runs `dnf --installroot ROOT --releasever N -y --setopt=skip_if_unavailable=False
    /// ARGS...` through the shim; returns the output whatever the exit status.
    pub fn dnf_output(&self, args: &[&str]) -> Output {
        Command::new(shim_dir().join("dnf"))
            .arg(format!("--installroot={}", self.root.display()))
            .arg(format!("--releasever={}", self.releasever))
            .arg("-y")
            .arg("--setopt=skip_if_unavailable=False")
            .args(args)
            .env("LC_ALL", "C")
            .output()
            .expect("run dnf")
    }

    fn dnf(&self, cmd: &[&str], pkgs: &[&str]) {
        let args: Vec<&str> = cmd.iter().chain(pkgs).copied().collect();
        let out = self.dnf_output(&args);
        assert!(
            out.status.success(),
            "dnf {args:?} into {} failed ({}):\n{}\n{}",
            self.root.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Where this root's rpm database is, as a path inside the root: `/var/lib/rpm`
    /// if an EL-style database exists there, else Debian rpm's default
    /// `/root/.rpmdb`; None if there is no database yet.
    pub fn rpm_dbpath(&self) -> Option<&'static str> {
        if self.exists("var/lib/rpm/rpmdb.sqlite") || self.exists("var/lib/rpm/Packages") {
            Some("/var/lib/rpm")
        } else if self.exists("root/.rpmdb/rpmdb.sqlite") {
            Some("/root/.rpmdb")
        } else {
            None
        }
    }

    /// name → `EPOCH:VERSION-RELEASE` (epoch `0` when unset) of every installed
    /// package, `gpg-pubkey` entries left out (see [`Sandbox::gpg_keys`]). Two
    /// installed versions of one name are joined with `", "`. Empty, without
    /// running rpm (which would create a database), when the root has none.
    pub fn rpm_query(&self) -> BTreeMap<String, String> {
        let mut map: BTreeMap<String, String> = BTreeMap::new();
        for (name, evr) in self.rpm_qa() {
            if name == "gpg-pubkey" {
                continue;
            }
            map.entry(name)
                .and_modify(|v| {
                    v.push_str(", ");
                    v.push_str(&evr);
                })
                .or_insert(evr);
        }
        map
    }

    /// The `gpg-pubkey` entries (`VERSION-RELEASE`, i.e. key id and date) imported
    /// into this root's rpm database.
    pub fn gpg_keys(&self) -> Vec<String> {
        self.rpm_qa()
            .into_iter()
            .filter(|(n, _)| n == "gpg-pubkey")
            .map(|(_, evr)| evr.trim_start_matches("0:").to_string())
            .collect()
    }

    fn rpm_qa(&self) -> Vec<(String, String)> {
        let Some(dbpath) = self.rpm_dbpath() else {
            return Vec::new();
        };
        let out = Command::new("rpm")
            .arg("--root")
            .arg(&self.root)
            .arg("--dbpath")
            .arg(dbpath)
            .args([
                "-qa",
                "--qf",
                "%{NAME} %{EPOCHNUM}:%{VERSION}-%{RELEASE}\\n",
            ])
            .output()
            .expect("run rpm");
        assert!(
            out.status.success(),
            "rpm -qa failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut v: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(n, e)| (n.to_string(), e.to_string()))
            .collect();
        v.sort();
        v
    }

    /// [`tree_digest`] of the whole root.
    pub fn digest(&self) -> BTreeMap<PathBuf, String> {
        tree_digest(&self.root)
    }
}

fn base_repo(id: &str, name: &str, el: u32) -> String {
    let base = &repo().base_url;
    format!(
        "[{id}]\nname={name}\nbaseurl={base}/base/{el}/x86_64/\nenabled=1\ngpgcheck=1\n\
         gpgkey={base}/linux/centos/gpg\n"
    )
}

/// A docker-ce.repo like Docker's, rooted at `base_url` (use `repo().base_url`
/// or a scope's), with `enabled_channel` (`stable` or `test`) enabled.
pub fn docker_repo_file(base_url: &str, enabled_channel: &str) -> String {
    let mut s = String::new();
    for (ch, title) in [("stable", "Stable"), ("test", "Test")] {
        let enabled = u8::from(ch == enabled_channel);
        s.push_str(&format!(
            "[docker-ce-{ch}]\nname=Docker CE {title} - $basearch\n\
             baseurl={base_url}/linux/centos/$releasever/$basearch/{ch}\nenabled={enabled}\n\
             gpgcheck=1\ngpgkey={base_url}/linux/centos/gpg\n\n"
        ));
    }
    s
}

// ------------------------------------------------------------ tree digest ---

/// Every entry below `root` (symlinks not followed; `root` itself is the empty
/// path) → `"TYPE mode=… uid=… gid=… nlink=… size=… mtime=NS ctime=NS <target|hash>"`.
/// Compare two digests to prove that a run changed nothing (`ctime` also catches
/// a rewrite that restored contents and mtime).
///
/// Warm-up: the very first `rpm -q` on a root after an install may rewrite rpm's
/// sqlite `-shm` file once (see the testbed notes). Run one query (e.g.
/// [`Sandbox::rpm_query`]) BEFORE the first digest, and the tree is then stable
/// across further queries.
///
/// Exception, measured here: EVERY `rpm -q` (one sqlite connection opening and
/// closing the WAL database) rewrites `rpmdb.sqlite-shm` with identical bytes and
/// truncates the empty `rpmdb.sqlite-wal`, bumping their mtime/ctime. So for
/// files named `*.sqlite-shm`, `*.sqlite-wal`, `*.db-shm`, `*.db-wal` only type, mode,
/// owner, size and content hash are recorded, not times. Everything else,
/// including the database itself, keeps its times.
pub fn tree_digest(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    digest_into(root, Path::new(""), &mut out);
    out
}

fn digest_into(root: &Path, rel: &Path, out: &mut BTreeMap<PathBuf, String>) {
    let full = root.join(rel);
    let meta = match fs::symlink_metadata(&full) {
        Ok(m) => m,
        // vanished between readdir and stat: record that, don't panic
        Err(e) => {
            out.insert(rel.to_path_buf(), format!("error {e}"));
            return;
        }
    };
    let ft = meta.file_type();
    let kind = if ft.is_dir() {
        "dir"
    } else if ft.is_symlink() {
        "link"
    } else if ft.is_file() {
        "file"
    } else if ft.is_fifo() {
        "fifo"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_block_device() {
        "blockdev"
    } else if ft.is_char_device() {
        "chardev"
    } else {
        "other"
    };
    let extra = if ft.is_symlink() {
        format!(
            "-> {}",
            fs::read_link(&full).map_or_else(|e| format!("<{e}>"), |t| t.display().to_string())
        )
    } else if ft.is_file() {
        match fs::read(&full) {
            Ok(bytes) => {
                let mut h = DefaultHasher::new();
                h.write(&bytes);
                format!("hash={:016x}", h.finish())
            }
            Err(e) => format!("<{e}>"),
        }
    } else {
        String::new()
    };
    let size = if ft.is_dir() { 0 } else { meta.size() };
    let times = if ft.is_file() && is_sqlite_side_file(rel) {
        // see tree_digest's doc: every rpm query rewrites these in place
        "times=ignored".to_string()
    } else {
        format!(
            "mtime={} ctime={}",
            meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
            meta.ctime() as i128 * 1_000_000_000 + meta.ctime_nsec() as i128,
        )
    };
    out.insert(
        rel.to_path_buf(),
        format!(
            "{kind} mode={:o} uid={} gid={} nlink={} size={size} {times} {extra}",
            meta.permissions().mode(),
            meta.uid(),
            meta.gid(),
            meta.nlink(),
        ),
    );
    if ft.is_dir() {
        let mut names: Vec<_> = match fs::read_dir(&full) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.file_name())).collect(),
            Err(_) => return,
        };
        names.sort();
        for name in names {
            digest_into(root, &rel.join(name), out);
        }
    }
}

fn is_sqlite_side_file(rel: &Path) -> bool {
    let name = rel
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    [".sqlite-shm", ".sqlite-wal", ".db-shm", ".db-wal"]
        .iter()
        .any(|suffix| name.ends_with(suffix))
}

/// Human-readable differences between two digests (empty when equal), for
/// assertion messages.
pub fn digest_diff(
    before: &BTreeMap<PathBuf, String>,
    after: &BTreeMap<PathBuf, String>,
) -> Vec<String> {
    let mut diff = Vec::new();
    for (p, a) in before {
        match after.get(p) {
            None => diff.push(format!("- {}  ({a})", p.display())),
            Some(b) if a != b => diff.push(format!("~ {}  {a}  =>  {b}", p.display())),
            _ => {}
        }
    }
    for (p, b) in after {
        if !before.contains_key(p) {
            diff.push(format!("+ {}  ({b})", p.display()));
        }
    }
    diff
}

// ------------------------------------------------------------------ shims ---

/// THE fake: test-only stand-ins put first on PATH for the tool under test.
///
/// * `yum`: this Debian machine has no yum (yum 3 is what CentOS 7 has). It execs
///   the `dnf` shim below with the same arguments, except that yum 3's
///   `makecache fast` (which dnf 4 refuses) becomes `makecache`. Its output
///   is dnf 4's, not yum 3's (no "Loaded plugins:" header etc.).
/// * `dnf`: execs /usr/bin/dnf with `--disableplugin=local` added. Debian's dnf
///   ships and enables a `local` plugin that EL hosts do not have. It (a) adds a
///   `_dnf_local` repo (file:///var/lib/dnf/plugins/local on the HOST) with
///   gpgcheck on and no key, which makes the first `dnf install` into a root
///   whose rpm database holds no gpg key yet fail at once ("You have enabled
///   checking of packages via GPG keys … Problem repository: [_dnf_local]"),
///   and (b) after every transaction copies the downloaded rpms into that host
///   directory and runs createrepo_c there, so packages leak between tests.
///
/// Created once under `target/test-shims-<hash>/` (atomically; the content hash
/// in the name means an existing directory is never rewritten).
pub fn shim_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shims: [(&str, &str); 2] = [("yum", YUM_SHIM), ("dnf", DNF_SHIM)];
        let mut all = Vec::new();
        for (n, c) in shims {
            all.extend_from_slice(n.as_bytes());
            all.extend_from_slice(c.as_bytes());
        }
        let dir = target_dir().join(format!("test-shims-{:016x}", fnv1a(&all)));
        if dir.join(".complete").exists() {
            return dir;
        }
        let tmp = target_dir().join(format!(
            "test-shims.tmp.{}.{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp).unwrap();
        for (name, content) in shims {
            let p = tmp.join(name);
            fs::write(&p, content).unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        }
        fs::write(tmp.join(".complete"), "").unwrap();
        if fs::rename(&tmp, &dir).is_err() {
            // another process won the race; its copy is identical
            let _ = fs::remove_dir_all(&tmp);
            assert!(dir.join(".complete").exists(), "shim dir {}", dir.display());
        }
        dir
    })
    .clone()
}

const YUM_SHIM: &str = r#"#!/bin/bash
# TEST-ONLY SHIM standing in for yum 3 (CentOS 7): there is no yum on the Debian
# test machine. Execs the dnf shim next to it with the same arguments, except
# that yum 3's `makecache fast` (refused by dnf 4) becomes `makecache`.
args=()
prev=
for a in "$@"; do
    if [[ "$a" == fast && "$prev" == makecache ]]; then
        prev=$a
        continue
    fi
    args+=("$a")
    prev=$a
done
exec "$(dirname "$0")/dnf" "${args[@]}"
"#;

const DNF_SHIM: &str = r#"#!/bin/bash
# TEST-ONLY SHIM: the real /usr/bin/dnf minus Debian's `local` plugin, which EL
# hosts do not have (it adds a keyless _dnf_local repo that breaks the first
# gpg-checked install into an empty root, and copies every downloaded rpm into
# the host's /var/lib/dnf/plugins/local).
exec /usr/bin/dnf --disableplugin=local "$@"
"#;

// ------------------------------------------------------------------ rdock ---

/// PATH with the test shims first, for anything that runs the tool or yum/dnf.
pub fn shimmed_path() -> std::ffi::OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![shim_dir()];
    paths.extend(std::env::split_paths(&path));
    std::env::join_paths(paths).expect("PATH")
}

/// [`shimmed_path`] less every directory that holds `program`: the PATH of a machine
/// that does not have it.
pub fn path_without(program: &str) -> std::ffi::OsString {
    let kept: Vec<PathBuf> = std::env::split_paths(&shimmed_path())
        .filter(|dir| !dir.join(program).exists())
        .collect();
    std::env::join_paths(kept).expect("PATH")
}

/// A `Command` for the binary under test with PATH = shim_dir + original PATH, where
/// no host name resolves ([`without_dns`]): plans name mirrors like m.example.com,
/// which the tool probes, and no lookup may leave this machine.
pub fn rdock_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rdock-setup"));
    cmd.env("PATH", shimmed_path());
    cmd.args(args);
    without_dns(cmd)
}

/// `cmd` run where no host name resolves: a private mount namespace whose
/// /etc/resolv.conf names 127.0.0.1, where nothing answers. Names fail as they do
/// for a host whose resolver is gone (mirrorlist.centos.org today), and the lookups
/// never leave loopback. Anything the command starts (ssh, curl, sshd's sessions)
/// lives in the same namespace.
pub fn without_dns(cmd: Command) -> Command {
    static RESOLV: OnceLock<PathBuf> = OnceLock::new();
    let resolv = RESOLV.get_or_init(|| {
        let dir = target_dir().join("test-fixtures");
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("resolv-no-dns.conf");
        // Written beside, then renamed: another test process may be reading it.
        let temp = dir.join(format!("resolv-no-dns.conf.{}", std::process::id()));
        fs::write(
            &temp,
            "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
        )
        .unwrap();
        fs::rename(&temp, &path).unwrap();
        path
    });
    let mut wrapped = Command::new("unshare");
    wrapped
        .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
        .arg("mount --bind \"$0\" /etc/resolv.conf && exec \"$@\"")
        .arg(resolv)
        .arg(cmd.get_program());
    wrapped.args(cmd.get_args());
    carry_env_and_dir(&cmd, &mut wrapped);
    wrapped
}

/// Runs the binary under test (see [`rdock_cmd`]) and returns its output.
pub fn rdock(args: &[&str]) -> Output {
    run_retrying_etxtbsy(rdock_cmd(args))
}

/// `cmd.output()`, retried briefly on ETXTBSY (a freshly written executable can
/// still be open for writing in a child forked concurrently by another test).
pub fn run_retrying_etxtbsy(mut cmd: Command) -> Output {
    for _ in 0..50 {
        match cmd.output() {
            Ok(out) => return out,
            Err(e) if e.raw_os_error() == Some(nix::libc::ETXTBSY) => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("run {cmd:?}: {e}"),
        }
    }
    panic!("run {cmd:?}: ETXTBSY persisted")
}

/// stdout + stderr as one lossy string, for assertion messages.
pub fn output_text(out: &Output) -> String {
    format!(
        "status: {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub mod apt;
pub mod converge;
pub mod dist;
pub mod eol;
pub mod inventory;
pub mod lab;
pub mod registry;
pub mod run;
pub mod schema;
pub mod sshd;

/// A log line without its colours (tracing colours stderr even into a pipe).
pub fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `wrapper` (a command that runs `cmd`'s program) gets `cmd`'s environment changes and
/// working directory.
pub fn carry_env_and_dir(cmd: &Command, wrapper: &mut Command) {
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => wrapper.env(key, value),
            None => wrapper.env_remove(key),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        wrapper.current_dir(dir);
    }
}
