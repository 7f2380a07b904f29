//! Registries for the mirror probe: the real one (Debian's docker-registry, the
//! distribution registry) on loopback with a small image pushed over its HTTP API, and
//! mirrors that fail the ways public mirrors fail (tiny_http; TLS by openssl s_server).

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{free_port, output_text};

/// The image every probe and pull asks for.
pub const IMAGE: &str = "library/hello-world";

fn wait_listening(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `docker-registry serve` on 127.0.0.1, serving `library/hello-world:latest`.
pub struct RealRegistry {
    pub url: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for RealRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RealRegistry {
    pub fn start() -> RealRegistry {
        let dir = tempfile::Builder::new()
            .prefix("rdock-registry-")
            .tempdir()
            .unwrap();
        let port = free_port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
                 http:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("registry.log")).unwrap())
            .spawn()
            .expect("docker-registry (scripts/deps installs it)");
        wait_listening(port, "docker-registry");
        let registry = RealRegistry {
            url: format!("http://127.0.0.1:{port}"),
            child,
            _dir: dir,
        };
        push_image(&registry.url, IMAGE, "latest");
        registry
    }
}

fn sha256(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("blob");
    std::fs::write(&file, bytes).unwrap();
    let out = Command::new("sha256sum").arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    format!("sha256:{}", text.split_whitespace().next().unwrap())
}

/// A one-file layer, as `tar c | gzip -n` makes it: (compressed, uncompressed).
fn layer() -> (Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello"), "Hello from the test registry.\n").unwrap();
    let tar = Command::new("tar")
        .args(["--mtime=@0", "--owner=0", "--group=0", "-C"])
        .arg(dir.path())
        .args(["-cf", "-", "hello"])
        .output()
        .unwrap();
    assert!(tar.status.success(), "{}", output_text(&tar));
    let gz = dir.path().join("layer.tar");
    std::fs::write(&gz, &tar.stdout).unwrap();
    let zipped = Command::new("gzip")
        .args(["-n", "-c"])
        .arg(&gz)
        .output()
        .unwrap();
    assert!(zipped.status.success(), "{}", output_text(&zipped));
    (zipped.stdout, tar.stdout)
}

/// Push a small image over the registry HTTP API: two blobs, then the manifest.
pub fn push_image(base: &str, name: &str, tag: &str) {
    let client = reqwest::blocking::Client::new();
    let (layer, tar) = layer();
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{"Cmd":["/hello"]}},"rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
        sha256(&tar)
    )
    .into_bytes();
    for blob in [&config, &layer] {
        let digest = sha256(blob);
        let start = client
            .post(format!("{base}/v2/{name}/blobs/uploads/"))
            .send()
            .unwrap();
        assert_eq!(start.status().as_u16(), 202, "upload start: {start:?}");
        let location = start.headers()["location"].to_str().unwrap().to_string();
        let location = if location.starts_with('/') {
            format!("{base}{location}")
        } else {
            location
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = client
            .put(format!("{location}{sep}digest={digest}"))
            .header("Content-Type", "application/octet-stream")
            .body(blob.clone())
            .send()
            .unwrap();
        assert_eq!(put.status().as_u16(), 201, "blob put: {put:?}");
    }
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": config.len(), "digest": sha256(&config)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": layer.len(), "digest": sha256(&layer)}],
    });
    let put = client
        .put(format!("{base}/v2/{name}/manifests/{tag}"))
        .header(
            "Content-Type",
            "application/vnd.docker.distribution.manifest.v2+json",
        )
        .body(serde_json::to_vec(&manifest).unwrap())
        .send()
        .unwrap();
    assert_eq!(put.status().as_u16(), 201, "manifest put: {put:?}");
}

/// How a fake mirror fails (or, with a token, serves).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 403 on everything, as allowlist mirrors answer.
    Forbidden,
    /// A registry: /v2/ asks for a token and gives one, then 403 on every manifest.
    ManifestForbidden,
    /// A web page: 200 text/html and no registry header.
    Html,
    /// A registry without auth that serves the manifest, each answer after this long.
    Slow(Duration),
    /// A registry behind an anonymous token that serves the manifest.
    TokenServes,
}

/// A fake mirror on 127.0.0.1; counts the requests it got.
pub struct FakeMirror {
    pub url: String,
    server: Arc<tiny_http::Server>,
    requests: Arc<std::sync::atomic::AtomicUsize>,
}

impl Drop for FakeMirror {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

const TOKEN: &str = "t0k3n";

impl FakeMirror {
    pub fn start(mode: Mode) -> FakeMirror {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let url = format!("http://127.0.0.1:{port}");
        let requests = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (srv, count, base) = (Arc::clone(&server), Arc::clone(&requests), url.clone());
        std::thread::spawn(move || {
            for request in srv.incoming_requests() {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let base = base.clone();
                // One thread per request: a slow answer must not hold up the next probe.
                std::thread::spawn(move || answer(mode, &base, request));
            }
        });
        FakeMirror {
            url,
            server,
            requests,
        }
    }

    pub fn requests(&self) -> usize {
        self.requests.load(std::sync::atomic::Ordering::SeqCst)
    }
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap()
}

fn answer(mode: Mode, base: &str, request: tiny_http::Request) {
    let api = || header("Docker-Distribution-API-Version", "registry/2.0");
    let json = || header("Content-Type", "application/json");
    let url = request.url().to_string();
    let authorized = request
        .headers()
        .iter()
        .any(|h| h.field.equiv("Authorization") && h.value.as_str() == format!("Bearer {TOKEN}"));
    let respond = |status: u16, headers: Vec<tiny_http::Header>, body: String| {
        let mut response = tiny_http::Response::from_string(body).with_status_code(status);
        for h in headers {
            response.add_header(h);
        }
        response
    };
    let challenge = || {
        header(
            "WWW-Authenticate",
            &format!(r#"Bearer realm="{base}/token",service="fake-mirror""#),
        )
    };
    let denied = r#"{"errors":[{"code":"DENIED","message":"not in the allowlist"}]}"#.to_string();
    let response = match mode {
        Mode::Forbidden => respond(403, vec![json()], denied),
        Mode::Html => respond(
            200,
            vec![header("Content-Type", "text/html; charset=utf-8")],
            "<html><body>Welcome to our mirror site</body></html>".into(),
        ),
        Mode::Slow(delay) => {
            std::thread::sleep(delay);
            if url == "/v2/" {
                respond(200, vec![api(), json()], "{}".into())
            } else {
                respond(
                    200,
                    vec![api(), header("Docker-Content-Digest", "sha256:0123")],
                    String::new(),
                )
            }
        }
        Mode::ManifestForbidden | Mode::TokenServes => {
            if url.starts_with("/token") {
                respond(
                    200,
                    vec![json()],
                    format!(r#"{{"token":"{TOKEN}","access_token":"{TOKEN}","expires_in":300}}"#),
                )
            } else if url == "/v2/" || !authorized {
                respond(401, vec![api(), json(), challenge()], "{}".into())
            } else if mode == Mode::ManifestForbidden {
                respond(403, vec![api(), json()], denied)
            } else {
                respond(
                    200,
                    vec![
                        api(),
                        header(
                            "Content-Type",
                            "application/vnd.docker.distribution.manifest.v2+json",
                        ),
                        header("Docker-Content-Digest", "sha256:0123"),
                    ],
                    String::new(),
                )
            }
        }
    };
    let _ = request.respond(response);
}

/// An HTTPS server whose certificate is for another name (`other.example`, self-signed).
pub struct WrongNameTls {
    pub url: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for WrongNameTls {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl WrongNameTls {
    pub fn start() -> WrongNameTls {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let cert = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args([
                "-subj",
                "/CN=other.example",
                "-addext",
                "subjectAltName=DNS:other.example",
            ])
            .arg("-keyout")
            .arg(d.join("key.pem"))
            .arg("-out")
            .arg(d.join("cert.pem"))
            .output()
            .expect("openssl (scripts/deps installs it)");
        assert!(cert.status.success(), "{}", output_text(&cert));
        let port = free_port();
        let child = Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(d.join("cert.pem"))
            .arg("-key")
            .arg(d.join("key.pem"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_listening(port, "openssl s_server");
        WrongNameTls {
            url: format!("https://127.0.0.1:{port}"),
            child,
            _dir: dir,
        }
    }
}

/// A loopback address where nothing listens, and no test server can start to: a port
/// below the ephemeral range, on an address no test binds (`dead_url`'s port, free a
/// moment ago, can be taken by a server another test starts meanwhile).
pub fn refused_url() -> String {
    "http://127.0.0.9:9".to_string()
}
