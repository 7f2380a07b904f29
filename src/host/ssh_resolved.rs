//! What OpenSSH would do for one host, from `ssh -G` (it evaluates ~/.ssh/config, `-F`,
//! Match blocks and our own `-o` options without connecting), so that the built-in client
//! (native_ssh.rs) connects exactly where, as whom and with what `ssh` would, or leaves
//! the host to `ssh` when the configuration asks for something it does not do.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub hostname: String,
    pub port: u16,
    pub user: String,
    /// Candidate private keys, in OpenSSH's order (`-i` first, then the config's).
    pub identity_files: Vec<PathBuf>,
    pub identities_only: bool,
    /// The agent's socket; `None` when the configuration says `IdentityAgent none`.
    pub identity_agent: Option<PathBuf>,
    /// UserKnownHostsFile then GlobalKnownHostsFile, in order.
    pub known_hosts_files: Vec<PathBuf>,
    pub kex: Vec<String>,
    pub ciphers: Vec<String>,
    pub macs: Vec<String>,
    pub host_key_algorithms: Vec<String>,
    pub pubkey_algorithms: Vec<String>,
    /// RequiredRSASize: smaller RSA keys are refused.
    pub required_rsa_bits: usize,
    pub connect_timeout_secs: Option<u64>,
    pub server_alive_interval_secs: u64,
    pub server_alive_count_max: usize,
    /// SendEnv patterns and SetEnv pairs.
    pub send_env: Vec<String>,
    pub set_env: Vec<(String, String)>,
    /// Why `ssh` itself must make this connection, when it must.
    pub needs_openssh: Option<String>,
}

/// `ssh -G` answers shared by a run's hosts: where the configuration says the same for
/// every destination (ssh_uniform.rs), one answer per set of options serves them all.
#[derive(Debug, Default)]
pub struct Shared {
    uniform: OnceLock<bool>,
    /// One slot per set of options: the first host to need it asks, the others wait.
    answers: Mutex<HashMap<Vec<String>, Slot>>,
}

/// `ssh -G`'s answer for one set of options, once asked.
type Slot = Arc<OnceLock<Result<Resolved, String>>>;

/// What ssh would do for the destination at the end of `argv` (an `ssh` command line up
/// to, not including, the remote command), asking `ssh -G` only when no answer for the
/// same options applies. `config`: the `-F` file, if any.
pub fn resolve_shared(
    shared: &Shared,
    argv: &[String],
    config: Option<&Path>,
) -> Result<Resolved, String> {
    let home = passwd_home();
    let uniform = *shared.uniform.get_or_init(|| {
        home.as_deref()
            .is_some_and(|h| super::ssh_uniform::is_uniform(config, h))
    });
    let Some((destination, options)) = argv
        .split_last()
        .filter(|(destination, _)| uniform && plain_name_or_address(destination))
    else {
        return resolve(argv);
    };
    // The same options but the port's value: one answer, then this host's name and port.
    let mut key = options.to_vec();
    let mut port = None;
    if let Some(at) = key.iter().position(|a| a == "-p") {
        port = key.get(at + 1).and_then(|p| p.parse::<u16>().ok());
        if let Some(value) = key.get_mut(at + 1) {
            *value = "PORT".into();
        }
    }
    let slot = match shared.answers.lock() {
        Ok(mut answers) => Arc::clone(answers.entry(key).or_default()),
        Err(_) => return resolve(argv),
    };
    let mut answer = slot.get_or_init(|| resolve(argv)).clone()?;
    // As ssh does with the destination when no HostName applies.
    answer.hostname = destination.to_ascii_lowercase();
    if let Some(port) = port {
        answer.port = port;
    }
    Ok(answer)
}

/// A destination ssh takes as it is (lowercased): a name, or an address in its usual
/// form. ssh rewrites other address forms (`10.1` is 10.0.0.1): those ask `ssh -G`.
fn plain_name_or_address(destination: &str) -> bool {
    match destination.parse::<std::net::IpAddr>() {
        Ok(address) => address.to_string() == destination,
        Err(_) => {
            !destination.starts_with(|c: char| c.is_ascii_digit()) && !destination.contains(':')
        }
    }
}

/// Whether a Kerberos credential cache is at hand (KRB5CCNAME, or the default file).
fn kerberos_ticket() -> bool {
    std::env::var_os("KRB5CCNAME").is_some()
        || Path::new(&format!("/tmp/krb5cc_{}", nix::unistd::getuid())).exists()
}

/// The user's home as ssh takes it: from the password database, not $HOME.
fn passwd_home() -> Option<PathBuf> {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|user| user.dir)
}

/// `*` and `?` wildcards, as ssh_config patterns have them (the known_hosts matcher's).
pub fn glob(pattern: &str, text: &str) -> bool {
    super::known_hosts::match_pattern(text.as_bytes(), pattern.as_bytes())
}

/// Run `argv` (an `ssh` command line up to, not including, the host's command; `-G` is
/// added) and read what ssh would use.
pub fn resolve(argv: &[String]) -> Result<Resolved, String> {
    let mut command = Command::new(&argv[0]);
    command.arg("-G");
    let rest: Vec<&String> = argv[1..].iter().filter(|a| *a != "--").collect();
    let output = command
        .args(rest)
        .stdin(Stdio::null())
        .output()
        .map_err(|err| format!("cannot run ssh -G: {err}"))?;
    if !output.status.success() {
        return Err(format!(
            "ssh -G failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    parse(
        &String::from_utf8_lossy(&output.stdout),
        passwd_home().as_deref(),
    )
}

/// Read `ssh -G`'s output (`key value` lines, keys lowercase; some keys repeat).
pub fn parse(text: &str, home: Option<&std::path::Path>) -> Result<Resolved, String> {
    let mut all: HashMap<String, Vec<String>> = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        all.entry(key.to_ascii_lowercase())
            .or_default()
            .push(value.trim().to_string());
    }
    let one = |key: &str| all.get(key).and_then(|v| v.first()).map(String::as_str);
    let list = |key: &str| -> Vec<String> {
        one(key)
            .map(|v| v.split(',').map(str::to_string).collect())
            .unwrap_or_default()
    };
    let expand = |path: &str| -> Option<PathBuf> {
        // `%` tokens and `${VAR}` are left to ssh: such a path is skipped here, which
        // at worst sends the host to ssh (a key not offered, a host key not found).
        if path.contains('%') || path.contains("${") {
            return None;
        }
        match path.strip_prefix("~/") {
            Some(rest) => home.map(|h| h.join(rest)),
            None if path == "~" => None,
            None => Some(PathBuf::from(path)),
        }
    };
    let hostname = one("hostname").ok_or("ssh -G printed no hostname")?;
    let port = one("port")
        .and_then(|p| p.parse().ok())
        .ok_or("ssh -G printed no port")?;
    let user = one("user").ok_or("ssh -G printed no user")?;
    let words = |key: &str| -> Vec<String> {
        all.get(key)
            .into_iter()
            .flatten()
            .flat_map(|v| v.split_whitespace().map(str::to_string))
            .collect()
    };
    let known_hosts_files: Vec<PathBuf> = words("userknownhostsfile")
        .iter()
        .chain(words("globalknownhostsfile").iter())
        .filter(|p| *p != "none")
        .filter_map(|p| expand(p))
        .collect();
    let identity_agent = match one("identityagent") {
        None | Some("SSH_AUTH_SOCK") => std::env::var_os("SSH_AUTH_SOCK").map(PathBuf::from),
        Some("none") => None,
        Some(path) => match path.strip_prefix('$') {
            Some(var) => std::env::var_os(var).map(PathBuf::from),
            None => expand(path),
        },
    };
    let yes = |key: &str| matches!(one(key), Some("yes" | "true"));
    let set = |key: &str| one(key).is_some_and(|v| v != "none" && !v.is_empty());
    let mut needs_openssh = None;
    let mut need = |why: String| {
        if needs_openssh.is_none() {
            needs_openssh = Some(why);
        }
    };
    for key in [
        "proxyjump",
        "proxycommand",
        "hostkeyalias",
        "knownhostscommand",
        "localforward",
        "remoteforward",
        "dynamicforward",
        "remotecommand",
        "pkcs11provider",
        "certificatefile",
        "bindaddress",
        "bindinterface",
        "localcommand",
        "revokedhostkeys",
    ] {
        if set(key) {
            need(format!("{key} is set"));
        }
    }
    for key in [
        "forwardagent",
        "forwardx11",
        "verifyhostkeydns",
        "permitlocalcommand",
        "gssapikeyexchange",
        "forkafterauthentication",
        "stdinnull",
        "checkhostip",
    ] {
        if one(key).is_some_and(|v| !matches!(v, "no" | "false")) {
            need(format!("{key} is {}", one(key).unwrap_or_default()));
        }
    }
    for (key, default) in [
        ("addressfamily", "any"),
        ("tunnel", "false"),
        ("sessiontype", "default"),
        ("canonicalizehostname", "false"),
    ] {
        if let Some(value) = one(key)
            && value != default
        {
            need(format!("{key} is {value}"));
        }
    }
    // The keys ssh would offer, all of them: a key left out could let another log in
    // (its authorized_keys options differ); certificates are ssh's.
    let mut identity_files = Vec::new();
    for path in all.get("identityfile").into_iter().flatten() {
        match expand(path) {
            Some(file) => {
                let mut certificate = file.clone().into_os_string();
                certificate.push("-cert.pub");
                if Path::new(&certificate).exists() {
                    need(format!("{path} has a certificate"));
                }
                identity_files.push(file);
            }
            None => need(format!("identityfile {path} needs ssh's expansion")),
        }
    }
    if one("connectionattempts").is_some_and(|n| n != "1") {
        need(format!(
            "connectionattempts is {}",
            one("connectionattempts").unwrap_or_default()
        ));
    }
    if yes("hostbasedauthentication") {
        need("hostbasedauthentication is on".into());
    }
    // With a Kerberos ticket, ssh would log in by GSSAPI (and may delegate it).
    if yes("gssapiauthentication") && kerberos_ticket() {
        need("gssapiauthentication is on and a Kerberos ticket is at hand".into());
    }
    if matches!(one("pubkeyauthentication"), Some("no" | "false")) {
        need("pubkeyauthentication is off".into());
    }
    if let Some(methods) = one("preferredauthentications")
        && !methods.split(',').any(|m| m == "publickey")
    {
        need(format!("preferredauthentications is {methods}"));
    }
    let seconds = |key: &str| one(key).and_then(|v| v.parse::<u64>().ok());
    Ok(Resolved {
        hostname: hostname.to_string(),
        port,
        user: user.to_string(),
        identity_files,
        identities_only: yes("identitiesonly"),
        identity_agent,
        known_hosts_files,
        kex: list("kexalgorithms"),
        ciphers: list("ciphers"),
        macs: list("macs"),
        host_key_algorithms: list("hostkeyalgorithms"),
        pubkey_algorithms: match list("pubkeyacceptedalgorithms") {
            l if l.is_empty() => list("pubkeyacceptedkeytypes"),
            l => l,
        },
        required_rsa_bits: one("requiredrsasize")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1024),
        connect_timeout_secs: seconds("connecttimeout"),
        server_alive_interval_secs: seconds("serveraliveinterval").unwrap_or(0),
        server_alive_count_max: seconds("serveralivecountmax").unwrap_or(3) as usize,
        send_env: all.get("sendenv").cloned().unwrap_or_default(),
        set_env: all
            .get("setenv")
            .into_iter()
            .flatten()
            .flat_map(|v| v.split_whitespace())
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
            .collect(),
        needs_openssh,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trimmed from what Debian 12's `ssh -G -p 2222 root@127.0.0.1` prints.
    const DEBIAN: &str = "host 127.0.0.1\nuser root\nhostname 127.0.0.1\nport 2222\n\
        addressfamily any\nbatchmode yes\ncanonicalizehostname false\nforwardagent no\n\
        forwardx11 no\nidentitiesonly no\npermitlocalcommand no\nverifyhostkeydns false\n\
        tunnel false\nsessiontype default\nstdinnull no\nforkafterauthentication no\n\
        pubkeyauthentication true\nrequiredrsasize 1024\nconnecttimeout 10\n\
        serveraliveinterval 15\nserveralivecountmax 4\n\
        kexalgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256\n\
        ciphers chacha20-poly1305@openssh.com,aes128-ctr\nmacs umac-64-etm@openssh.com,hmac-sha2-256\n\
        hostkeyalgorithms ssh-ed25519-cert-v01@openssh.com,ssh-ed25519,rsa-sha2-512\n\
        pubkeyacceptedalgorithms ssh-ed25519,rsa-sha2-512\n\
        identityfile ~/.ssh/id_rsa\nidentityfile ~/.ssh/id_ed25519\n\
        userknownhostsfile ~/.ssh/known_hosts ~/.ssh/known_hosts2\n\
        globalknownhostsfile /etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2\n\
        sendenv LANG\nsendenv LC_*\nsetenv A=1 B=\"two\"\nidentityagent none\n";

    #[test]
    fn reads_what_ssh_would_use() {
        let r = parse(DEBIAN, Some(std::path::Path::new("/home/op"))).unwrap();
        assert_eq!(
            (r.hostname.as_str(), r.port, r.user.as_str()),
            ("127.0.0.1", 2222, "root")
        );
        assert_eq!(
            r.identity_files,
            vec![
                PathBuf::from("/home/op/.ssh/id_rsa"),
                PathBuf::from("/home/op/.ssh/id_ed25519")
            ]
        );
        assert_eq!(
            r.known_hosts_files,
            [
                "/home/op/.ssh/known_hosts",
                "/home/op/.ssh/known_hosts2",
                "/etc/ssh/ssh_known_hosts",
                "/etc/ssh/ssh_known_hosts2"
            ]
            .map(PathBuf::from)
        );
        assert_eq!(
            r.kex,
            ["sntrup761x25519-sha512@openssh.com", "curve25519-sha256"]
        );
        assert_eq!(r.send_env, ["LANG", "LC_*"]);
        assert_eq!(
            r.set_env,
            [("A".into(), "1".into()), ("B".into(), "two".into())]
        );
        assert_eq!(r.identity_agent, None);
        assert_eq!(
            (
                r.connect_timeout_secs,
                r.server_alive_interval_secs,
                r.server_alive_count_max
            ),
            (Some(10), 15, 4)
        );
        assert_eq!(r.needs_openssh, None);
        let home = Some(std::path::Path::new("/home/op"));
        let none = DEBIAN.replace("/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2", "none");
        let none = parse(&none, home).unwrap();
        assert_eq!(
            none.known_hosts_files.len(),
            2,
            "{:?}",
            none.known_hosts_files
        );
        let token = parse(&format!("{DEBIAN}identityfile ~/.ssh/%h.key\n"), home).unwrap();
        assert_eq!(
            token.needs_openssh.as_deref(),
            Some("identityfile ~/.ssh/%h.key needs ssh's expansion")
        );
    }

    #[test]
    fn what_the_built_in_client_does_not_do_goes_to_ssh() {
        for (extra, why) in [
            ("proxyjump bastion\n", "proxyjump is set"),
            ("proxycommand nc %h %p\n", "proxycommand is set"),
            ("hostkeyalias web\n", "hostkeyalias is set"),
            (
                "certificatefile ~/.ssh/id-cert.pub\n",
                "certificatefile is set",
            ),
            ("localforward 8080 [127.0.0.1]:80\n", "localforward is set"),
            (
                "preferredauthentications password\n",
                "preferredauthentications is password",
            ),
        ] {
            let home = Some(std::path::Path::new("/home/op"));
            let r = parse(&format!("{DEBIAN}{extra}"), home).unwrap();
            assert_eq!(r.needs_openssh.as_deref(), Some(why), "{extra}");
        }
        for (from, to, why) in [
            ("forwardagent no", "forwardagent yes", "forwardagent is yes"),
            (
                "addressfamily any",
                "addressfamily inet6",
                "addressfamily is inet6",
            ),
            (
                "verifyhostkeydns false",
                "verifyhostkeydns true",
                "verifyhostkeydns is true",
            ),
            (
                "pubkeyauthentication true",
                "pubkeyauthentication no",
                "pubkeyauthentication is off",
            ),
        ] {
            let r = parse(
                &DEBIAN.replace(from, to),
                Some(std::path::Path::new("/home/op")),
            )
            .unwrap();
            assert_eq!(r.needs_openssh.as_deref(), Some(why), "{to}");
        }
    }

    #[test]
    fn send_env_patterns_match_as_ssh_config_globs() {
        assert!(glob("LC_*", "LC_ALL"));
        assert!(glob("LANG", "LANG"));
        assert!(!glob("LANG", "LANGUAGE"));
        assert!(glob("L?NG*", "LANGUAGE"));
        assert!(!glob("LC_*", "XLC_ALL"));
    }

    /// The shared answer is what `ssh -G` itself says for each host: with a uniform
    /// configuration one `ssh -G` serves all; with `Host` blocks each host asks its own.
    #[test]
    fn a_shared_answer_is_what_ssh_says_for_each_host() {
        let dir = tempfile::tempdir().unwrap();
        let argv = |config: &Path, host: &str, port: &str| -> Vec<String> {
            [
                "ssh",
                "-o",
                "BatchMode=yes",
                "-F",
                &config.display().to_string(),
                "-p",
                port,
                host,
            ]
            .map(String::from)
            .to_vec()
        };
        let uniform = dir.path().join("uniform");
        std::fs::write(
            &uniform,
            "Host *\n  IdentitiesOnly yes\n  ServerAliveInterval 7\n  GlobalKnownHostsFile none\n",
        )
        .unwrap();
        let blocks = dir.path().join("blocks");
        std::fs::write(
            &blocks,
            "Host web*\n  User admin\n  Port 2200\nHost *\n  User ops\n",
        )
        .unwrap();
        for config in [&uniform, &blocks] {
            let shared = Shared::default();
            for (host, port) in [
                ("Alpha.example", "2201"),
                ("beta", "2202"),
                ("web1", "2203"),
                ("10.1", "2204"),
                ("127.000.0.1", "2205"),
                ("2001:DB8:0:0::5", "2206"),
                ("127.0.0.1", "2207"),
            ] {
                let argv = argv(config, host, port);
                let mine = resolve_shared(&shared, &argv, Some(config)).unwrap();
                assert_eq!(
                    mine,
                    resolve(&argv).unwrap(),
                    "{host} with {}",
                    config.display()
                );
            }
            let answers = shared.answers.lock().unwrap().len();
            assert_eq!(
                answers,
                if *config == uniform { 1 } else { 0 },
                "{}",
                config.display()
            );
        }
    }

    #[test]
    fn missing_essentials_are_errors_not_guesses() {
        assert!(parse("user root\nport 22\n", None).is_err());
        assert!(parse("hostname h\nuser root\nport x\n", None).is_err());
    }
}
