//! Real OpenSSH servers on loopback ports, one per test host. Each logs every command
//! it is asked to run (a logging ForceCommand), so tests count SSH commands from the
//! server's side. The "remote" side is this machine: each host's target is its own
//! sandbox root (`root` in the inventory), and its PATH has the test shims.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, shim_dir};

/// Keys and client config shared by the servers of one test.
pub struct SshLab {
    pub dir: tempfile::TempDir,
    pub servers: Vec<Sshd>,
    kex: KexOffer,
}

/// The key exchanges a test server offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KexOffer {
    /// What the targets offer: CentOS 7's sshd (OpenSSH 7.4) default list, curve25519
    /// and older; EL8's is the same family. The default of a lab.
    El7,
    /// This machine's sshd default (OpenSSH 9.2: the post-quantum sntrup761x25519 first),
    /// which no EL7/EL8 target offers and which costs the client far more CPU.
    PostQuantum,
}

impl KexOffer {
    /// The sshd_config line for it.
    fn config_line(self) -> &'static str {
        match self {
            KexOffer::El7 => {
                "KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,\
                 ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,\
                 diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,\
                 diffie-hellman-group-exchange-sha1,diffie-hellman-group14-sha256,\
                 diffie-hellman-group14-sha1\n"
            }
            KexOffer::PostQuantum => "",
        }
    }
}

/// The ssh_config of a lab's controller in `dir`: its key (`client_key`) only, its
/// `known_hosts`, quiet.
pub fn write_client_config(dir: &Path) {
    fs::write(
        dir.join("ssh_config"),
        format!(
            "Host *\n  IdentityFile {d}/client_key\n  IdentitiesOnly yes\n  UserKnownHostsFile {d}/known_hosts\n  LogLevel ERROR\n",
            d = dir.display()
        ),
    )
    .unwrap();
}

/// Whether the sshd logging to `log` says it listens on `port` (its own word: a connect
/// could reach whoever took the port first).
pub fn listening(log: &Path, port: u16) -> bool {
    let line = format!("Server listening on 127.0.0.1 port {port}.");
    fs::read_to_string(log).is_ok_and(|l| l.contains(&line))
}

pub struct Sshd {
    pub name: String,
    pub port: u16,
    /// Every command this server ran, one file per command.
    log_dir: PathBuf,
    child: Child,
}

impl Sshd {
    /// The commands this server was asked to run, in order.
    pub fn commands(&self) -> Vec<String> {
        let mut entries: Vec<PathBuf> = fs::read_dir(&self.log_dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        entries.sort();
        entries
            .iter()
            .map(|p| fs::read_to_string(p).unwrap_or_default())
            .collect()
    }

    pub fn clear_log(&self) {
        let _ = fs::remove_dir_all(&self.log_dir);
        fs::create_dir_all(&self.log_dir).unwrap();
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen (scripts/deps installs openssh-client)");
    assert!(status.success());
}

impl SshLab {
    /// `count` servers named `{prefix}01…`, all trusted in the lab's known_hosts,
    /// offering EL7's key exchanges.
    pub fn start(prefix: &str, count: usize) -> SshLab {
        SshLab::start_offering(prefix, count, KexOffer::El7)
    }

    /// `start`, with the key exchanges `kex` on every server of the lab.
    pub fn start_offering(prefix: &str, count: usize, kex: KexOffer) -> SshLab {
        let dir = tempfile::Builder::new()
            .prefix("rdock-sshlab-")
            .tempdir()
            .unwrap();
        let d = dir.path();
        keygen(&d.join("client_key"));
        keygen(&d.join("host_key"));
        fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
        // Logs the command as the server received it, then runs it like sshd would.
        let force = format!(
            "#!/bin/sh\nn=$(date +%s%N)-$$\nprintf '%s' \"$SSH_ORIGINAL_COMMAND\" > \"$RDOCK_LOG_DIR/$n\"\n\
             PATH={}:$PATH; export PATH\n[ -z \"$RDOCK_UMASK\" ] || umask \"$RDOCK_UMASK\"\nexec /bin/sh -c \"$SSH_ORIGINAL_COMMAND\"\n",
            shim_dir().display()
        );
        fs::write(d.join("force.sh"), force).unwrap();
        fs::set_permissions(d.join("force.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::create_dir_all("/run/sshd").unwrap();
        let mut lab = SshLab {
            dir,
            servers: Vec::new(),
            kex,
        };
        for i in 1..=count {
            lab.add(&format!("{prefix}{i:02}"), true);
        }
        write_client_config(lab.dir.path());
        lab
    }

    /// One more server; `trusted`: its key goes into the lab's known_hosts.
    pub fn add(&mut self, name: &str, trusted: bool) -> &Sshd {
        self.add_with_env(name, trusted, &[])
    }

    /// One more server whose sessions get `env` besides (e.g. a PATH with a hanging
    /// program first, for a host whose commands never return).
    pub fn add_with_env(&mut self, name: &str, trusted: bool, env: &[(&str, &str)]) -> &Sshd {
        let d = self.dir.path().to_path_buf();
        let mut attempt = 0;
        let log_dir = d.join(format!("log-{name}"));
        fs::create_dir_all(&log_dir).unwrap();
        // The environment sshd passes on: where to log, via the user's key options.
        let key = fs::read_to_string(d.join("client_key.pub")).unwrap();
        let keys_file = d.join(format!("authorized_keys-{name}"));
        let extra: String = env
            .iter()
            .map(|(k, v)| format!("environment=\"{k}={v}\","))
            .collect();
        fs::write(
            &keys_file,
            format!(
                "{extra}environment=\"RDOCK_LOG_DIR={}\" {key}",
                log_dir.display()
            ),
        )
        .unwrap();
        let (port, child) = 'port: loop {
            attempt += 1;
            let port = free_port();
            let config = format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd-{name}.pid\n\
                     AuthorizedKeysFile {keys}\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n\
                     UsePAM no\nStrictModes no\nPermitUserEnvironment yes\nMaxStartups 100:30:200\nMaxSessions 50\n\
                     PrintMotd no\nPrintLastLog no\nForceCommand {d}/force.sh\n{kex}",
                d = d.display(),
                keys = keys_file.display(),
                kex = self.kex.config_line(),
            );
            let config_path = d.join(format!("sshd-{name}.conf"));
            fs::write(&config_path, config).unwrap();
            // Sessions run where no name resolves, like the tool itself in tests: the
            // mirror probe's curl runs there.
            let mut sshd = Command::new("/usr/sbin/sshd");
            sshd.arg("-D")
                .arg("-f")
                .arg(&config_path)
                .arg("-E")
                .arg(d.join(format!("sshd-{name}.log")));
            let mut child = super::without_dns(sshd)
                .stdin(Stdio::null())
                .spawn()
                .expect("sshd (scripts/deps installs openssh-server)");
            // Ready when its own log says it listens on its port (a connect could reach
            // whoever took the port first); a port taken between free_port and sshd's bind
            // (a test running beside) ends that sshd: another port, then.
            let log = d.join(format!("sshd-{name}.log"));
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if listening(&log, port) {
                    break 'port (port, child);
                }
                if !matches!(child.try_wait(), Ok(None)) {
                    assert!(
                        attempt < 5,
                        "sshd {name} could not listen: see {}",
                        log.display()
                    );
                    continue 'port;
                }
                assert!(
                    Instant::now() < deadline,
                    "sshd {name} did not listen on {port}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        };
        if trusted {
            let host_key = fs::read_to_string(d.join("host_key.pub")).unwrap();
            let mut fields = host_key.split_whitespace();
            let entry = format!(
                "[127.0.0.1]:{port} {} {}\n",
                fields.next().unwrap(),
                fields.next().unwrap()
            );
            let mut known = fs::read_to_string(d.join("known_hosts")).unwrap_or_default();
            known.push_str(&entry);
            fs::write(d.join("known_hosts"), known).unwrap();
        }
        self.servers.push(Sshd {
            name: name.to_string(),
            port,
            log_dir,
            child,
        });
        self.servers.last().unwrap()
    }

    /// Every command server `name` runs from now on runs under `umask` (force.sh sets
    /// it from the key's environment, which sshd reads at each login).
    pub fn set_umask(&self, name: &str, umask: &str) {
        let server = self.server(name);
        let key = fs::read_to_string(self.dir.path().join("client_key.pub")).unwrap();
        fs::write(
            self.dir.path().join(format!("authorized_keys-{name}")),
            format!(
                "environment=\"RDOCK_LOG_DIR={}\",environment=\"RDOCK_UMASK={umask}\" {key}",
                server.log_dir.display()
            ),
        )
        .unwrap();
    }

    /// The lab's directory: its keys, known_hosts and ssh_config.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn ssh_config(&self) -> PathBuf {
        self.dir.path().join("ssh_config")
    }

    pub fn known_hosts(&self) -> String {
        fs::read_to_string(self.dir.path().join("known_hosts")).unwrap_or_default()
    }

    pub fn server(&self, name: &str) -> &Sshd {
        self.servers
            .iter()
            .find(|s| s.name == name)
            .expect("server")
    }
}
