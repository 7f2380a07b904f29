//! The server's algorithm lists, read from its first packet (SSH_MSG_KEXINIT, sent in
//! the clear) as it passes on its way to the built-in client. OpenSSH takes the first
//! algorithm of the user's list that the server offers; the built-in client knows fewer
//! algorithms (no post-quantum key exchange, say), so where OpenSSH would settle on one it
//! lacks, the connection stops before any key is exchanged and the host goes to `ssh`:
//! the built-in client never settles for less than `ssh` would.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What the server offers, in its order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Offer {
    pub kex: Vec<String>,
    pub host_key: Vec<String>,
    pub cipher_to_server: Vec<String>,
    pub cipher_to_client: Vec<String>,
    pub mac_to_server: Vec<String>,
    pub mac_to_client: Vec<String>,
}

/// The user's lists (from `ssh -G`) and what the built-in client implements.
pub struct Wanted {
    pub kex: Vec<String>,
    pub ciphers: Vec<String>,
    pub macs: Vec<String>,
    pub kex_supported: fn(&str) -> bool,
    pub cipher_supported: fn(&str) -> bool,
    pub mac_supported: fn(&str) -> bool,
}

/// Ciphers that carry their own integrity: no MAC is negotiated for them.
const AEAD: [&str; 3] = [
    "chacha20-poly1305@openssh.com",
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
];

/// Why the built-in client must not make this connection, if it must not: it would
/// settle on another algorithm than `ssh`, or on none at all.
pub fn shortfall(wanted: &Wanted, offer: &Offer) -> Option<String> {
    let choose = |user: &[String], server: &[String], what: &str, ok: fn(&str) -> bool| match user
        .iter()
        .find(|a| server.contains(a))
    {
        None => Some(format!("no {what} in common with the server")),
        Some(chosen) if !ok(chosen) => Some(format!(
            "ssh would choose the {what} {chosen}, which the built-in client lacks"
        )),
        Some(_) => None,
    };
    choose(
        &wanted.kex,
        &offer.kex,
        "key exchange",
        wanted.kex_supported,
    )
    .or_else(|| {
        [
            (&offer.cipher_to_server, &offer.mac_to_server),
            (&offer.cipher_to_client, &offer.mac_to_client),
        ]
        .into_iter()
        .find_map(|(ciphers, macs)| {
            choose(&wanted.ciphers, ciphers, "cipher", wanted.cipher_supported).or_else(|| {
                let cipher = wanted.ciphers.iter().find(|c| ciphers.contains(c))?;
                if AEAD.contains(&cipher.as_str()) {
                    return None;
                }
                choose(&wanted.macs, macs, "MAC", wanted.mac_supported)
            })
        })
    })
}

/// Parse the server's identification lines and its KEXINIT from the bytes it sent
/// first. `Ok(None)`: not all there yet.
pub fn parse(bytes: &[u8]) -> Result<Option<Offer>, String> {
    // RFC 4253 4.2: lines before the one starting "SSH-" may come first.
    let mut at = 0;
    loop {
        let Some(end) = bytes[at..].iter().position(|&b| b == b'\n') else {
            return Ok(None);
        };
        let line = &bytes[at..at + end];
        at += end + 1;
        if line.starts_with(b"SSH-") {
            break;
        }
        if at > 16 * 1024 {
            return Err("the server sent no SSH identification".into());
        }
    }
    let packet = &bytes[at..];
    if packet.len() < 6 {
        return Ok(None);
    }
    let length = u32::from_be_bytes([packet[0], packet[1], packet[2], packet[3]]) as usize;
    if !(6..=256 * 1024).contains(&length) {
        return Err(format!("the server's first packet is {length} bytes long"));
    }
    if packet.len() < 4 + length {
        return Ok(None);
    }
    let padding = packet[4] as usize;
    let payload = packet
        .get(5..4 + length - padding.min(length - 1))
        .ok_or("the server's first packet is malformed")?;
    const KEXINIT: u8 = 20;
    if payload.first() != Some(&KEXINIT) || payload.len() < 17 {
        return Err("the server's first packet is not its algorithm lists".into());
    }
    let mut rest = &payload[17..];
    let mut next = || -> Result<Vec<String>, String> {
        let short = || "the server's algorithm lists are cut short".to_string();
        let len = rest.get(..4).ok_or_else(short)?;
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let text = rest.get(4..4 + len).ok_or_else(short)?;
        rest = &rest[4 + len..];
        Ok(String::from_utf8_lossy(text)
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect())
    };
    Ok(Some(Offer {
        kex: next()?,
        host_key: next()?,
        cipher_to_server: next()?,
        cipher_to_client: next()?,
        mac_to_server: next()?,
        mac_to_client: next()?,
    }))
}

/// The most the server's identification lines and first packet may take.
const MAX_OPENING: usize = 300 * 1024;

/// A connection whose first incoming bytes are judged before the client sees them
/// whole: a shortfall ends the connection with an error that says why.
pub struct Watched<S> {
    inner: S,
    wanted: Wanted,
    seen: Vec<u8>,
    judged: bool,
    /// The shortfall, once one is found (read by the caller after the error).
    pub verdict: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl<S> Watched<S> {
    pub fn new(inner: S, wanted: Wanted) -> Watched<S> {
        Watched {
            inner,
            wanted,
            seen: Vec::new(),
            judged: false,
            verdict: Default::default(),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if self.judged || !matches!(polled, Poll::Ready(Ok(()))) {
            return polled;
        }
        let new = buf.filled()[before..].to_vec();
        self.seen.extend_from_slice(&new);
        let found = match parse(&self.seen) {
            // A server that talks on without ever sending its lists is cut off.
            Ok(None) if self.seen.len() > MAX_OPENING => {
                Some("the server sent no algorithm lists in its first 300 KiB".into())
            }
            Ok(None) => return polled,
            Ok(Some(offer)) => shortfall(&self.wanted, &offer),
            Err(err) => Some(err),
        };
        self.judged = true;
        self.seen = Vec::new();
        match found {
            None => polled,
            Some(why) => {
                if let Ok(mut verdict) = self.verdict.lock() {
                    *verdict = Some(why.clone());
                }
                Poll::Ready(Err(io::Error::other(why)))
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_list(items: &[&str]) -> Vec<u8> {
        let text = items.join(",");
        let mut out = (text.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(text.as_bytes());
        out
    }

    /// A server's opening: a banner line, its identification, its KEXINIT packet.
    fn opening(kex: &[&str], ciphers: &[&str], macs: &[&str]) -> Vec<u8> {
        let mut payload = vec![20u8];
        payload.extend_from_slice(&[7; 16]);
        for list in [
            kex,
            &["ssh-ed25519"],
            ciphers,
            ciphers,
            macs,
            macs,
            &["none"],
            &["none"],
            &[],
            &[],
        ] {
            payload.extend(name_list(list));
        }
        payload.extend_from_slice(&[0, 0, 0, 0, 0]);
        let padding = 8 - (payload.len() + 5) % 8 + 4;
        let mut out = b"hello\r\nSSH-2.0-OpenSSH_7.4\r\n".to_vec();
        out.extend(((payload.len() + padding + 1) as u32).to_be_bytes());
        out.push(padding as u8);
        out.extend(payload);
        out.extend(vec![0; padding]);
        out
    }

    fn wanted() -> Wanted {
        Wanted {
            kex: ["sntrup761x25519-sha512@openssh.com", "curve25519-sha256"]
                .map(String::from)
                .to_vec(),
            ciphers: ["chacha20-poly1305@openssh.com", "aes128-ctr"]
                .map(String::from)
                .to_vec(),
            macs: ["umac-64-etm@openssh.com", "hmac-sha2-256"]
                .map(String::from)
                .to_vec(),
            kex_supported: |k| k == "curve25519-sha256",
            cipher_supported: |c| c != "aes192-cbc",
            mac_supported: |m| m == "hmac-sha2-256",
        }
    }

    #[test]
    fn reads_the_lists_only_once_they_are_all_there() {
        let bytes = opening(&["curve25519-sha256"], &["aes128-ctr"], &["hmac-sha2-256"]);
        for cut in [0, 5, 20, 40, bytes.len() - 1] {
            assert_eq!(parse(&bytes[..cut]), Ok(None), "cut at {cut}");
        }
        let offer = parse(&bytes).unwrap().unwrap();
        assert_eq!(offer.kex, ["curve25519-sha256"]);
        assert_eq!(offer.cipher_to_client, ["aes128-ctr"]);
        assert_eq!(offer.mac_to_server, ["hmac-sha2-256"]);
    }

    #[test]
    fn the_built_in_client_goes_on_only_where_it_would_choose_what_ssh_chooses() {
        let judge = |kex: &[&str], ciphers: &[&str], macs: &[&str]| {
            shortfall(
                &wanted(),
                &parse(&opening(kex, ciphers, macs)).unwrap().unwrap(),
            )
        };
        // An EL7 server: no post-quantum exchange, so ssh too takes curve25519.
        assert_eq!(
            judge(
                &["curve25519-sha256", "diffie-hellman-group14-sha1"],
                &["chacha20-poly1305@openssh.com"],
                &["umac-64-etm@openssh.com"]
            ),
            None
        );
        // A server with the post-quantum exchange: ssh would take it.
        assert_eq!(
            judge(
                &["sntrup761x25519-sha512@openssh.com", "curve25519-sha256"],
                &["aes128-ctr"],
                &["hmac-sha2-256"]
            )
            .as_deref(),
            Some(
                "ssh would choose the key exchange sntrup761x25519-sha512@openssh.com, which the built-in client lacks"
            )
        );
        // A MAC matters only for a cipher without its own integrity.
        assert_eq!(
            judge(
                &["curve25519-sha256"],
                &["aes128-ctr"],
                &["umac-64-etm@openssh.com", "hmac-sha2-256"]
            )
            .as_deref(),
            Some(
                "ssh would choose the MAC umac-64-etm@openssh.com, which the built-in client lacks"
            )
        );
        assert_eq!(
            judge(
                &["diffie-hellman-group1-sha1"],
                &["aes128-ctr"],
                &["hmac-sha2-256"]
            )
            .as_deref(),
            Some("no key exchange in common with the server")
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse(b"SSH-2.0-x\r\n\xff\xff\xff\xff\x00\x00").is_err());
        assert!(parse(b"SSH-2.0-x\r\n\x00\x00\x00\x08\x07\x15\x00\x00\x00\x00\x00\x00").is_err());
        let mut cut = opening(&["a"], &["b"], &["c"]);
        let at = cut.len() - 30;
        cut[at..].fill(0xff);
        let _ = parse(&cut);
    }
}
