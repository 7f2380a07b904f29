//! The bench fleet: one real sshd per host on its own loopback port, each host's target
//! its own sandbox root (as in tests/fleet.rs), optionally behind a delay proxy.
//!
//! Differences from the test lab (tests/support/sshd.rs), all for the bench:
//! - the key exchanges sshd offers are chosen: EL7's list (OpenSSH 7.4: curve25519 and
//!   older) by default, or this machine's own default with post-quantum sntrup761;
//! - the shell sshd starts gets an empty HOME, so root's ~/.bashrc here (pyenv init,
//!   ~100 ms) does not run on every command (a real EL host's .bashrc is trivial); the
//!   command itself runs with HOME=/root again (Debian's rpm finds its database at ~/.rpmdb)
//!   but without SSH_CLIENT: Debian's rpm runs `bash -c 'echo ~/.rpmdb'`, and a bash that
//!   sees SSH_CLIENT reads ~/.bashrc (here 0.3 s of CPU, and a lock that fails under load);
//! - an sftp subsystem, which pyinfra and Ansible use to upload files.
//!
//! Every command a session runs is logged by a ForceCommand, one file per command, so
//! SSH commands are counted on the server side for every tool alike. The ForceCommand
//! execs nothing of its own (the time in the file's name is the shell reading
//! /proc/uptime): a `date` there cost every command about 2 ms of the hosts' CPU, which
//! weighed on a tool of 8 commands per host 8 times as much as on a tool of 1.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::delay::DelayProxy;
use crate::support::{shim_dir, without_dns};

/// What CentOS 7's sshd (OpenSSH 7.4) offers, in its order, as far as this OpenSSH
/// still implements it. No post-quantum exchange.
pub const EL7_KEX: &str = "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,\
ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,\
diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group-exchange-sha1,\
diffie-hellman-group14-sha256,diffie-hellman-group14-sha1";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kex {
    /// EL7's list (see [`EL7_KEX`]).
    El7,
    /// This machine's OpenSSH default: sntrup761x25519 first.
    PostQuantum,
}

pub struct Host {
    pub name: String,
    pub sshd_port: u16,
    /// (RTT in ms, the port of the delay proxy in front of sshd): the port tools connect to.
    proxies: Vec<(u64, u16)>,
    pub root: PathBuf,
    log_dir: PathBuf,
    _sshd: Sshd,
}

impl Host {
    /// The port that puts `rtt_ms` between a tool and this host.
    pub fn front(&self, rtt_ms: u64) -> u16 {
        if rtt_ms == 0 {
            return self.sshd_port;
        }
        self.proxies
            .iter()
            .find(|p| p.0 == rtt_ms)
            .map(|p| p.1)
            .unwrap_or_else(|| panic!("no delay proxy for RTT {rtt_ms} ms"))
    }

    /// The sshd's own pid: its children's CPU (cutime + cstime) is the server side's.
    pub fn sshd_pid(&self) -> u32 {
        self._sshd.0.id()
    }
}

struct Sshd(Child);

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `count` loopback ports free right now and distinct: each is held until all are
/// chosen (a port let go at once may come back from the next bind).
fn distinct_ports(count: usize) -> Vec<u16> {
    let held: Vec<std::net::TcpListener> = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port"))
        .collect();
    held.iter()
        .map(|l| l.local_addr().expect("local address").port())
        .collect()
}

pub struct Fleet {
    pub dir: tempfile::TempDir,
    pub hosts: Vec<Host>,
}

fn run(cmd: &mut Command) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(status.success(), "{cmd:?} failed: {status}");
}

impl Fleet {
    /// `count` hosts `b001…`, every root a copy of `template`, a delay proxy for each
    /// RTT of `rtts_ms` in front of each (0: sshd's own port).
    pub fn start(count: usize, kex: Kex, rtts_ms: &[u64], template: &Path) -> Fleet {
        let dir = tempfile::Builder::new()
            .prefix("rdock-bench-fleet-")
            .tempdir()
            .unwrap();
        let d = dir.path().to_path_buf();
        for key in ["client_key", "host_key"] {
            run(Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(d.join(key)));
        }
        fs::create_dir_all(d.join("home")).unwrap();
        fs::create_dir_all(d.join("roots")).unwrap();
        fs::create_dir_all("/run/sshd").unwrap();
        let force = format!(
            "#!/bin/sh\nread -r rd_up rd_idle < /proc/uptime\n\
             printf '%s' \"$SSH_ORIGINAL_COMMAND\" > \"$RDOCK_LOG_DIR/$rd_up-$$\"\n\
             PATH={}:$PATH; export PATH\nHOME=/root; export HOME\nunset SSH_CLIENT SSH2_CLIENT\nexec /bin/sh -c \"$SSH_ORIGINAL_COMMAND\"\n",
            shim_dir().display()
        );
        fs::write(d.join("force.sh"), force).unwrap();
        fs::set_permissions(d.join("force.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        let client_key = fs::read_to_string(d.join("client_key.pub")).unwrap();
        let kex_line = match kex {
            Kex::El7 => format!("KexAlgorithms {EL7_KEX}\n"),
            Kex::PostQuantum => String::new(),
        };

        let mut hosts = Vec::with_capacity(count);
        let mut pending = Vec::with_capacity(count);
        let ports = distinct_ports(count);
        for (i, port) in (1..=count).zip(ports) {
            let name = format!("b{i:03}");
            let log_dir = d.join("log").join(&name);
            fs::create_dir_all(&log_dir).unwrap();
            let keys = d.join(format!("authorized_keys-{name}"));
            fs::write(
                &keys,
                format!(
                    "environment=\"RDOCK_LOG_DIR={}\",environment=\"HOME={}/home\" {client_key}",
                    log_dir.display(),
                    d.display()
                ),
            )
            .unwrap();
            let config = d.join(format!("sshd-{name}.conf"));
            fs::write(
                &config,
                format!(
                    "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile none\n\
                     AuthorizedKeysFile {keys}\nPermitRootLogin prohibit-password\n\
                     PasswordAuthentication no\nUsePAM no\nStrictModes no\nPermitUserEnvironment yes\n\
                     MaxStartups 200:30:400\nMaxSessions 100\nPrintMotd no\nPrintLastLog no\n\
                     Subsystem sftp /usr/lib/openssh/sftp-server\nForceCommand {d}/force.sh\n{kex_line}",
                    d = d.display(),
                    keys = keys.display()
                ),
            )
            .unwrap();
            // setpriv: the server goes when the bench does, even when the bench is killed.
            let mut sshd = Command::new("setpriv");
            sshd.args(["--pdeathsig", "TERM", "--", "/usr/sbin/sshd", "-D"])
                .arg("-f")
                .arg(&config)
                .arg("-E")
                .arg(d.join(format!("sshd-{name}.log")));
            let child = without_dns(sshd)
                .stdin(Stdio::null())
                .spawn()
                .expect("sshd (scripts/deps installs openssh-server)");
            let root = d.join("roots").join(&name);
            pending.push((name, port, root, log_dir, Sshd(child)));
        }
        // Copies while the servers come up.
        for (_, _, root, _, _) in &pending {
            run(Command::new("cp").arg("-a").arg(template).arg(root));
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        for (name, port, root, log_dir, mut sshd) in pending {
            // Its own log says so, not a connect: the port might be somebody else's.
            let log = d.join(format!("sshd-{name}.log"));
            while !crate::support::sshd::listening(&log, port) {
                assert!(
                    Instant::now() < deadline && matches!(sshd.0.try_wait(), Ok(None)),
                    "sshd {name} did not listen on {port} (see {})",
                    log.display()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            let proxies = rtts_ms
                .iter()
                .filter(|&&ms| ms > 0)
                .map(|&ms| {
                    let proxy = DelayProxy::start(port, Duration::from_millis(ms))
                        .expect("delay proxy listener");
                    (ms, proxy.port)
                })
                .collect();
            hosts.push(Host {
                name,
                sshd_port: port,
                proxies,
                root,
                log_dir,
                _sshd: sshd,
            });
        }
        let fleet = Fleet { dir, hosts };
        fleet.write_client_files();
        fleet
    }

    fn write_client_files(&self) {
        let d = self.dir.path();
        let host_key = fs::read_to_string(d.join("host_key.pub")).unwrap();
        let mut fields = host_key.split_whitespace();
        let (kind, key) = (fields.next().unwrap(), fields.next().unwrap());
        let known: String = self
            .hosts
            .iter()
            .flat_map(|h| std::iter::once(h.sshd_port).chain(h.proxies.iter().map(|p| p.1)))
            .map(|port| format!("[127.0.0.1]:{port} {kind} {key}\n"))
            .collect();
        fs::write(d.join("known_hosts"), known).unwrap();
        crate::support::sshd::write_client_config(d);
    }

    pub fn ssh_config(&self) -> PathBuf {
        self.dir.path().join("ssh_config")
    }

    pub fn client_key(&self) -> PathBuf {
        self.dir.path().join("client_key")
    }

    pub fn known_hosts(&self) -> PathBuf {
        self.dir.path().join("known_hosts")
    }

    pub fn clear_logs(&self) {
        for h in &self.hosts {
            let _ = fs::remove_dir_all(&h.log_dir);
            fs::create_dir_all(&h.log_dir).unwrap();
        }
    }

    /// Every host's root back to a copy of `template` (the fresh case, between tools).
    pub fn reset_roots(&self, template: &Path) {
        for h in &self.hosts {
            run(Command::new("rm").arg("-rf").arg(&h.root));
            run(Command::new("cp").arg("-a").arg(template).arg(&h.root));
        }
    }

    /// SSH commands each host's server ran since the last [`clear_logs`], in host order.
    pub fn commands_per_host(&self) -> Vec<usize> {
        self.hosts
            .iter()
            .map(|h| fs::read_dir(&h.log_dir).map(|rd| rd.count()).unwrap_or(0))
            .collect()
    }

    /// The commands host `i` ran, in order.
    pub fn commands(&self, i: usize) -> Vec<String> {
        let dir = &self.hosts[i].log_dir;
        let mut entries: Vec<PathBuf> = fs::read_dir(dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        // Named UPTIME-PID (uptime in hundredths of a second): in time order, then pid.
        let key = |p: &PathBuf| -> (u64, u64) {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            let name = name.unwrap_or_default();
            let (up, pid) = name.split_once('-').unwrap_or((&name, "0"));
            let up = up.replace('.', "").parse().unwrap_or(u64::MAX);
            (up, pid.parse().unwrap_or(0))
        };
        entries.sort_by_key(key);
        entries
            .iter()
            .map(|p| fs::read_to_string(p).unwrap_or_default())
            .collect()
    }
}
