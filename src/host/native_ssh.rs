//! The built-in SSH client: the held session's one command (held_session.rs) made from
//! this process instead of an `ssh` child, which costs a converged host about a tenth
//! of the CPU (no process to start, no OpenSSH start-up). It goes only where it does
//! exactly what `ssh` would: the destination, user, keys, agent, known_hosts files and
//! algorithm lists come from `ssh -G` (ssh_resolved.rs); it accepts a host key only when
//! known_hosts vouches for it (known_hosts.rs); it stops before the key exchange when ssh
//! would choose an algorithm it lacks (server_offer.rs). Anything else (an unknown or
//! changed host key, no key accepted, a ProxyJump) is handed to `ssh`, which decides and
//! says why in its own words. A host that cannot be reached at all is not tried twice.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use russh::keys::agent::client::AgentClient;
use russh::keys::ssh_key::{Algorithm, HashAlg, PublicKey};
use russh::keys::{PrivateKeyWithHashAlg, load_public_key, load_secret_key};
use russh::{ChannelMsg, client};
use tokio::sync::{mpsc as async_mpsc, oneshot};

use super::held_session::{Link, Streams};
use super::known_hosts::{KnownHosts, Verdict};
use super::server_offer::{Wanted, Watched};
use super::ssh_resolved::{self, Resolved};

/// The reason given when known_hosts holds another key for the host.
pub const KEY_CHANGED: &str = "its host key differs from the one in known_hosts";

/// Why the built-in client did not open the session.
pub enum Declined {
    /// `ssh` must try: it may do what this client cannot, or refuse in its own words.
    ToOpenSsh(String),
    /// The host cannot be reached at all; `ssh` would only fail the same way again.
    Unreachable(io::Error),
}

/// Open `command` on the host `resolved` describes: `connect_timeout` for the TCP
/// connection and the server's first words (ssh's ConnectTimeout), `login_limit` for
/// the key exchange and login.
pub fn open(
    resolved: &Resolved,
    command: String,
    connect_timeout: Duration,
    login_limit: Duration,
) -> Result<Streams, Declined> {
    if let Some(why) = &resolved.needs_openssh {
        return Err(Declined::ToOpenSsh(why.clone()));
    }
    let resolved = resolved.clone();
    let (ready_sender, ready) = mpsc::sync_channel(1);
    let (stdout_sender, stdout) = mpsc::channel();
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let end = Arc::new(End::default());
    let (input, input_receiver) = async_mpsc::unbounded_channel();
    let (cut, cut_receiver) = oneshot::channel();
    let session = Session {
        stdout: stdout_sender,
        stderr: Arc::clone(&stderr),
        end: Arc::clone(&end),
        input: input_receiver,
        cut: cut_receiver,
    };
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(err) => return Err(Declined::ToOpenSsh(err.clone())),
    };
    runtime.spawn(async move {
        match connect(&resolved, &command, connect_timeout, login_limit).await {
            Ok((handle, channel)) => {
                if ready_sender.send(Ok(())).is_ok() {
                    session.run(channel).await;
                }
                let _ = handle
                    .disconnect(russh::Disconnect::ByApplication, "", "")
                    .await;
            }
            Err(declined) => {
                let _ = ready_sender.send(Err(declined));
            }
        }
    });
    match ready.recv() {
        Ok(Ok(())) => Ok(Streams {
            stdout,
            stderr,
            link: Box::new(NativeLink {
                input: Some(input),
                cut: Some(cut),
                end,
            }),
        }),
        Ok(Err(declined)) => Err(declined),
        Err(_) => Err(Declined::ToOpenSsh("the built-in client stopped".into())),
    }
}

/// One runtime for every session of the run: two threads, whatever the fleet's size
/// (a thread and a runtime per host cost more than the connection's own work).
fn runtime() -> &'static Result<tokio::runtime::Runtime, String> {
    static RUNTIME: std::sync::OnceLock<Result<tokio::runtime::Runtime, String>> =
        std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("rdock-ssh")
            .enable_io()
            .enable_time()
            .build()
            .map_err(|err| format!("no runtime for the built-in client: {err}"))
    })
}

/// What the controller sends the remote command.
enum Input {
    Bytes(Vec<u8>),
    End,
}

/// The command's end, set by the client's thread.
#[derive(Default)]
struct End {
    status: Mutex<Option<Option<i32>>>,
    changed: std::sync::Condvar,
}

struct NativeLink {
    input: Option<async_mpsc::UnboundedSender<Input>>,
    cut: Option<oneshot::Sender<()>>,
    end: Arc<End>,
}

impl Link for NativeLink {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        let closed = || io::Error::new(io::ErrorKind::NotConnected, "the session is closed");
        let input = self.input.as_ref().ok_or_else(closed)?;
        input
            .send(Input::Bytes(bytes.to_vec()))
            .map_err(|_| closed())
    }

    fn close_input(&mut self) {
        if let Some(input) = self.input.take() {
            let _ = input.send(Input::End);
        }
    }

    fn ended(&mut self, wait: Duration) -> Option<Option<i32>> {
        let deadline = Instant::now() + wait;
        let mut status = self.end.status.lock().ok()?;
        loop {
            if let Some(ended) = *status {
                return Some(ended);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            status = self.end.changed.wait_timeout(status, left).ok()?.0;
        }
    }

    fn cut(&mut self) {
        if let Some(cut) = self.cut.take() {
            let _ = cut.send(());
        }
        self.input = None;
        self.ended(Duration::from_secs(5));
    }
}

/// The client's side of one open session, run on its thread.
struct Session {
    stdout: mpsc::Sender<Vec<u8>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    end: Arc<End>,
    input: async_mpsc::UnboundedReceiver<Input>,
    cut: oneshot::Receiver<()>,
}

impl Session {
    async fn run(self, channel: russh::Channel<client::Msg>) {
        let Session {
            stdout,
            stderr,
            end,
            mut input,
            mut cut,
        } = self;
        let (mut reader, writer) = channel.split();
        // Writes in a task of their own: a request waiting for the window never holds
        // up the replies.
        let writing = tokio::spawn(async move {
            while let Some(message) = input.recv().await {
                let sent = match message {
                    Input::Bytes(bytes) => writer.data(&bytes[..]).await,
                    Input::End => break,
                };
                if sent.is_err() {
                    return;
                }
            }
            // Closed, or the controller dropped its end: the command sees the end of its stdin.
            let _ = writer.eof().await;
        });
        let mut status = None;
        // A dropped link (no cut asked) lets the command end at the end of its input.
        let mut cut_open = true;
        loop {
            tokio::select! {
                message = reader.wait() => match message {
                    Some(ChannelMsg::Data { data }) => {
                        // The controller stopped listening: nothing more to do here.
                        if stdout.send(data.to_vec()).is_err() {
                            break;
                        }
                    }
                    Some(ChannelMsg::ExtendedData { data, .. }) => {
                        if let Ok(mut said) = stderr.lock() {
                            said.extend_from_slice(&data);
                        }
                    }
                    Some(ChannelMsg::ExitStatus { exit_status }) => {
                        status = Some(exit_status as i32);
                    }
                    Some(ChannelMsg::Close) | None => break,
                    Some(_) => {}
                },
                asked = &mut cut, if cut_open => {
                    if asked.is_ok() {
                        break;
                    }
                    cut_open = false;
                }
            }
        }
        writing.abort();
        if let Ok(mut ended) = end.status.lock() {
            *ended = Some(status);
        }
        end.changed.notify_all();
        drop(stdout);
    }
}

/// Checks the server's host key against known_hosts, and remembers why it refused one.
struct HostKeyCheck {
    known: KnownHosts,
    /// `[host]:port`, or `host` on port 22.
    name: String,
    /// `host` besides, on another port: ssh accepts a key recorded for the bare name
    /// when the `[host]:port` entry knows nothing of the host.
    bare: Option<String>,
    required_rsa_bits: usize,
    refused: Arc<Mutex<Option<String>>>,
}

impl client::Handler for HostKeyCheck {
    type Error = russh::Error;

    async fn check_server_key(&mut self, key: &PublicKey) -> Result<bool, Self::Error> {
        let verdict = match (self.known.verdict(&self.name, key), &self.bare) {
            (Verdict::Unknown, Some(bare)) if self.known.verdict(bare, key) == Verdict::Known => {
                Verdict::Known
            }
            (verdict, _) => verdict,
        };
        let why = match verdict {
            Verdict::Known if rsa_bits(key).is_some_and(|b| b < self.required_rsa_bits) => {
                "its RSA host key is shorter than RequiredRSASize"
            }
            Verdict::Known => return Ok(true),
            Verdict::Unknown => "its host key is not in known_hosts",
            Verdict::Changed => KEY_CHANGED,
            Verdict::Revoked => "its host key is revoked in known_hosts",
        };
        if let Ok(mut refused) = self.refused.lock() {
            *refused = Some(why.to_string());
        }
        Ok(false)
    }
}

/// known_hosts, TCP connection, key exchange, host key, login, and the command started.
/// `connect_timeout` bounds what ssh's ConnectTimeout bounds (the connection and the
/// server's first words); `login_limit` the rest. Once the command may have started,
/// a failure is the host's: `ssh` must not start it a second time.
async fn connect(
    resolved: &Resolved,
    command: &str,
    connect_timeout: Duration,
    login_limit: Duration,
) -> Result<(client::Handle<HostKeyCheck>, russh::Channel<client::Msg>), Declined> {
    let known = KnownHosts::load(&resolved.known_hosts_files)
        .map_err(|err| Declined::ToOpenSsh(format!("known_hosts: {err}")))?;
    let name = KnownHosts::lookup_name(&resolved.hostname, resolved.port);
    let bare = (resolved.port != 22).then(|| KnownHosts::lookup_name(&resolved.hostname, 22));
    // Nothing recorded for the host: ssh decides (accept-new, or its own refusal)
    // without a handshake spent first.
    if known.algorithms_for(&name).is_empty()
        && bare
            .as_ref()
            .is_none_or(|b| known.algorithms_for(b).is_empty())
    {
        return Err(Declined::ToOpenSsh(
            "known_hosts holds no key for it".into(),
        ));
    }
    let place = format!("{} port {}", resolved.hostname, resolved.port);
    let addresses: Vec<_> = tokio::net::lookup_host((resolved.hostname.as_str(), resolved.port))
        .await
        .map_err(|err| {
            unreachable(format!(
                "ssh: Could not resolve hostname {}: {err}",
                resolved.hostname
            ))
        })?
        .collect();
    let mut stream = None;
    let mut last = None;
    for address in addresses {
        match tokio::time::timeout(connect_timeout, tokio::net::TcpStream::connect(address)).await {
            Ok(Ok(connected)) => {
                stream = Some(connected);
                break;
            }
            Ok(Err(err)) => last = Some(err.to_string()),
            Err(_) => last = Some("Connection timed out".into()),
        }
    }
    let Some(stream) = stream else {
        return Err(unreachable(format!(
            "ssh: connect to host {place}: {}",
            last.unwrap_or_else(|| "no address".into())
        )));
    };
    let _ = stream.set_nodelay(true);
    match tokio::time::timeout(connect_timeout, stream.peek(&mut [0u8; 1])).await {
        Ok(Ok(n)) if n > 0 => {}
        Ok(Ok(_)) => {
            return Err(unreachable(format!(
                "kex_exchange_identification: Connection closed by remote host ({place})"
            )));
        }
        Ok(Err(err)) => {
            return Err(unreachable(format!(
                "kex_exchange_identification: read: {err} ({place})"
            )));
        }
        Err(_) => {
            return Err(unreachable(format!(
                "Connection timed out during banner exchange ({place})"
            )));
        }
    }
    let watched = Watched::new(stream, wanted(resolved));
    let shortfall = Arc::clone(&watched.verdict);
    let refused = Arc::new(Mutex::new(None));
    let check = HostKeyCheck {
        required_rsa_bits: resolved.required_rsa_bits,
        refused: Arc::clone(&refused),
        bare,
        name,
        known,
    };
    let config = Arc::new(config(resolved, &check));
    let exec_sent = std::sync::atomic::AtomicBool::new(false);
    let handshake = async {
        let mut handle = client::connect_stream(config, watched, check).await?;
        let logged_in = login(&mut handle, resolved).await?;
        if !logged_in {
            return Ok(None);
        }
        let channel = handle.channel_open_session().await?;
        for (name, value) in environment(resolved) {
            channel.set_env(false, name, value).await?;
        }
        exec_sent.store(true, std::sync::atomic::Ordering::SeqCst);
        channel.exec(true, command.as_bytes()).await?;
        Ok::<_, russh::Error>(Some((handle, channel)))
    };
    let outcome = tokio::time::timeout(login_limit, handshake).await;
    let said = |slot: &Arc<Mutex<Option<String>>>| slot.lock().ok().and_then(|s| s.clone());
    if let Some(why) = said(&shortfall).or_else(|| said(&refused)) {
        return Err(Declined::ToOpenSsh(why));
    }
    let started = exec_sent.load(std::sync::atomic::Ordering::SeqCst);
    match outcome {
        Ok(Ok(Some(session))) => Ok(session),
        Ok(Ok(None)) => Err(Declined::ToOpenSsh("no key of ours was accepted".into())),
        Ok(Err(err)) if started => Err(unreachable(format!(
            "{place}: the session broke as its command started: {err}"
        ))),
        Ok(Err(err)) => Err(Declined::ToOpenSsh(format!(
            "the built-in client failed: {err}"
        ))),
        Err(_) => Err(unreachable(format!(
            "{place}: the SSH login did not finish within {}s",
            login_limit.as_secs()
        ))),
    }
}

fn unreachable(said: String) -> Declined {
    Declined::Unreachable(io::Error::new(io::ErrorKind::NotConnected, said))
}

/// The user's lists and what this client implements, for server_offer.rs.
fn wanted(resolved: &Resolved) -> Wanted {
    Wanted {
        kex: resolved.kex.clone(),
        ciphers: resolved.ciphers.clone(),
        macs: resolved.macs.clone(),
        kex_supported: |name| russh::kex::Name::try_from(name).is_ok(),
        cipher_supported: |name| russh::cipher::Name::try_from(name).is_ok(),
        mac_supported: |name| russh::mac::Name::try_from(name).is_ok(),
    }
}

/// The user's algorithm lists, in the user's order, cut to what this client implements
/// (never one the user left out); host key algorithms already recorded for the host
/// first, as `ssh` orders them, so that the server shows the key known_hosts holds.
fn config(resolved: &Resolved, check: &HostKeyCheck) -> client::Config {
    use std::borrow::Cow;
    let kex: Vec<russh::kex::Name> = resolved
        .kex
        .iter()
        .filter_map(|name| russh::kex::Name::try_from(name.as_str()).ok())
        .chain([
            russh::kex::EXTENSION_SUPPORT_AS_CLIENT,
            russh::kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT,
        ])
        .collect();
    let cipher = resolved
        .ciphers
        .iter()
        .filter_map(|name| russh::cipher::Name::try_from(name.as_str()).ok())
        .collect::<Vec<_>>();
    let mac = resolved
        .macs
        .iter()
        .filter_map(|name| russh::mac::Name::try_from(name.as_str()).ok())
        .collect::<Vec<_>>();
    let plain_host_key = |name: &str| -> Option<Algorithm> {
        let algorithm = name.parse::<Algorithm>().ok()?;
        matches!(
            algorithm,
            Algorithm::Ed25519 | Algorithm::Ecdsa { .. } | Algorithm::Rsa { .. }
        )
        .then_some(algorithm)
    };
    let mut key: Vec<Algorithm> = resolved
        .host_key_algorithms
        .iter()
        .filter_map(|name| plain_host_key(name))
        .collect();
    let mut recorded = check.known.algorithms_for(&check.name);
    if let Some(bare) = &check.bare {
        recorded.extend(check.known.algorithms_for(bare));
    }
    // Stable: the recorded kinds first, each group in the user's order.
    key.sort_by_key(|algorithm| {
        !recorded.iter().any(|r| match (r, algorithm) {
            (Algorithm::Rsa { .. }, Algorithm::Rsa { .. }) => true,
            (r, a) => r == a,
        })
    });
    let keepalive = resolved.server_alive_interval_secs;
    client::Config {
        preferred: russh::Preferred {
            kex: Cow::Owned(kex),
            key: Cow::Owned(key),
            cipher: Cow::Owned(cipher),
            mac: Cow::Owned(mac),
            compression: Cow::Borrowed(&[russh::compression::NONE]),
        },
        keepalive_interval: (keepalive > 0).then(|| Duration::from_secs(keepalive)),
        keepalive_max: resolved.server_alive_count_max,
        nodelay: true,
        ..client::Config::default()
    }
}

/// A key to offer: held by the agent, or read from a file.
enum Offered {
    Agent(PublicKey),
    File(PathBuf),
}

/// Public-key login in OpenSSH's order (sshconnect2.c's pubkey_prepare): the agent's
/// keys in its order (with IdentitiesOnly, only those an IdentityFile names), then the
/// identity files the agent does not hold, in the configuration's order. A key file
/// that needs a passphrase is skipped (ssh would ask; BatchMode would not); an RSA key
/// below RequiredRSASize is skipped as ssh skips it.
async fn login(
    handle: &mut client::Handle<HostKeyCheck>,
    resolved: &Resolved,
) -> Result<bool, russh::Error> {
    let mut agent = match &resolved.identity_agent {
        Some(socket) => AgentClient::connect_uds(socket).await.ok(),
        None => None,
    };
    let agent_keys = match agent.as_mut() {
        Some(agent) => agent.request_identities().await.unwrap_or_default(),
        None => Vec::new(),
    };
    let mut files: Vec<(PathBuf, Option<PublicKey>)> = resolved
        .identity_files
        .iter()
        .filter(|p| p.exists())
        .map(|p| (p.clone(), public_half(p)))
        .collect();
    let mut offers: Vec<Offered> = Vec::new();
    for key in agent_keys {
        let named = files.iter().position(|(_, public)| {
            public
                .as_ref()
                .is_some_and(|p| p.key_data() == key.key_data())
        });
        match named {
            Some(at) => {
                files.remove(at);
                offers.push(Offered::Agent(key));
            }
            None if !resolved.identities_only => offers.push(Offered::Agent(key)),
            None => {}
        }
    }
    offers.extend(files.into_iter().map(|(path, _)| Offered::File(path)));
    // Asked once, and only when an RSA key is offered (it may wait for the server).
    let mut rsa_hash: Option<Option<HashAlg>> = None;
    let user = resolved.user.as_str();
    for offer in offers {
        let (public, file_key) = match offer {
            Offered::Agent(public) => (public, None),
            Offered::File(path) => match load_secret_key(&path, None) {
                Ok(private) => (private.public_key().clone(), Some(private)),
                Err(_) => continue,
            },
        };
        if rsa_bits(&public).is_some_and(|bits| bits < resolved.required_rsa_bits) {
            continue;
        }
        let hash = if public.algorithm().is_rsa() {
            if rsa_hash.is_none() {
                rsa_hash = Some(handle.best_supported_rsa_hash().await?.flatten());
            }
            rsa_hash.flatten()
        } else {
            None
        };
        if !accepted(&public.algorithm(), hash, &resolved.pubkey_algorithms) {
            continue;
        }
        let result = match (file_key, agent.as_mut()) {
            (Some(private), _) => {
                handle
                    .authenticate_publickey(
                        user,
                        PrivateKeyWithHashAlg::new(Arc::new(private), hash),
                    )
                    .await?
            }
            (None, Some(agent)) => match handle
                .authenticate_publickey_with(user, public, hash, agent)
                .await
            {
                Ok(result) => result,
                Err(_) => continue,
            },
            (None, None) => continue,
        };
        if result.success() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// An RSA key's modulus length in bits, as OpenSSH counts it (`None`: not RSA).
fn rsa_bits(key: &PublicKey) -> Option<usize> {
    let modulus = key.key_data().rsa()?.n.as_positive_bytes()?;
    let first = modulus.iter().position(|&b| b != 0)?;
    Some((modulus.len() - first) * 8 - modulus[first].leading_zeros() as usize)
}

/// The public key of an identity file: from FILE.pub, else from the file itself.
fn public_half(path: &Path) -> Option<PublicKey> {
    let mut pub_path = path.as_os_str().to_owned();
    pub_path.push(".pub");
    load_public_key(PathBuf::from(pub_path)).ok().or_else(|| {
        load_secret_key(path, None)
            .ok()
            .map(|k| k.public_key().clone())
    })
}

/// Whether PubkeyAcceptedAlgorithms lets this key sign with this hash.
fn accepted(algorithm: &Algorithm, hash: Option<HashAlg>, allowed: &[String]) -> bool {
    let name = match (algorithm, hash) {
        (Algorithm::Rsa { .. }, Some(HashAlg::Sha512)) => "rsa-sha2-512".to_string(),
        (Algorithm::Rsa { .. }, Some(HashAlg::Sha256)) => "rsa-sha2-256".to_string(),
        (Algorithm::Rsa { .. }, _) => "ssh-rsa".to_string(),
        (other, _) => other.as_str().to_string(),
    };
    allowed.contains(&name)
}

/// SendEnv (our variables whose names match its patterns) and SetEnv, as ssh sends them.
fn environment(resolved: &Resolved) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = std::env::vars()
        .filter(|(name, _)| {
            resolved
                .send_env
                .iter()
                .any(|p| ssh_resolved::glob(p, name))
        })
        .collect();
    pairs.extend(resolved.set_env.iter().cloned());
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_lengths_are_counted_in_bits() {
        let key = |bits: usize| {
            let modulus_bytes = bits.div_ceil(8);
            let mut n = vec![0u8; modulus_bytes];
            n[0] = 1 << ((bits - 1) % 8);
            let e = russh::keys::ssh_key::Mpint::from_positive_bytes(&[1, 0, 1]).unwrap();
            let n = russh::keys::ssh_key::Mpint::from_positive_bytes(&n).unwrap();
            PublicKey::from(russh::keys::ssh_key::public::KeyData::Rsa(
                russh::keys::ssh_key::public::RsaPublicKey { e, n },
            ))
        };
        assert_eq!(rsa_bits(&key(1024)), Some(1024));
        assert_eq!(rsa_bits(&key(1017)), Some(1017));
        assert_eq!(rsa_bits(&key(2047)), Some(2047));
    }

    #[test]
    fn a_key_signs_only_with_an_algorithm_the_user_accepts() {
        let allowed = ["ssh-ed25519".to_string(), "rsa-sha2-512".to_string()];
        assert!(accepted(&Algorithm::Ed25519, None, &allowed));
        let rsa = Algorithm::Rsa { hash: None };
        assert!(accepted(&rsa, Some(HashAlg::Sha512), &allowed));
        assert!(!accepted(&rsa, Some(HashAlg::Sha256), &allowed));
        assert!(!accepted(&rsa, None, &allowed));
    }
}
