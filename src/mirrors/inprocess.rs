//! The probe in this process, with reqwest (blocking, rustls, the machine's CA store):
//! for this machine and for `--root` trees, which pull from here too.

use std::time::Instant;

use reqwest::blocking::{Client, RequestBuilder};

use super::judge::{self, Reply};
use super::{Dead, Probe, Reason, Stage, Verdict};
use crate::error::{Error, Result};

/// The same user agent as the curl probe's, so server logs tell probes apart from pulls.
pub const USER_AGENT: &str = concat!("rdock-setup/", env!("CARGO_PKG_VERSION"), " (mirror probe)");

pub fn probe_all(urls: &[String], probe: &Probe) -> Result<Vec<Verdict>> {
    // No proxy from this process's environment: dockerd pulls with its own settings,
    // and the curl probe ignores the login environment alike.
    let client = Client::builder()
        .timeout(probe.timeout)
        .connect_timeout(probe.timeout)
        .no_proxy()
        .user_agent(USER_AGENT)
        .build()
        .map_err(|err| {
            Error::other(format!(
                "cannot set up the HTTP client for probing registry mirrors: {}",
                chain(&err)
            ))
        })?;
    Ok(urls
        .iter()
        .map(|url| Verdict {
            url: url.clone(),
            outcome: probe_one(&client, url, probe),
        })
        .collect())
}

fn probe_one(
    client: &Client,
    url: &str,
    probe: &Probe,
) -> std::result::Result<std::time::Duration, Dead> {
    let start = Instant::now();
    let base = url.trim_end_matches('/');
    let challenge = judge::api(&send(client.get(format!("{base}/v2/")), false, probe))?;
    let mut manifest = client
        .head(format!("{base}/v2/{}/manifests/{}", probe.image, probe.tag))
        .header(reqwest::header::ACCEPT, judge::ACCEPT);
    if let Some(challenge) = challenge {
        let mut token_url = reqwest::Url::parse(&challenge.realm).map_err(|err| Dead {
            step: Stage::Token,
            reason: Reason::NotRegistry,
            http_status: None,
            detail: format!("the token realm {:?} is not a URL: {err}", challenge.realm),
        })?;
        token_url
            .query_pairs_mut()
            .extend_pairs(challenge.query(&probe.image));
        let token = judge::token(&send(client.get(token_url), true, probe))?;
        manifest = manifest.bearer_auth(token);
    }
    judge::manifest(&send(manifest, false, probe))?;
    Ok(start.elapsed())
}

fn send(request: RequestBuilder, with_body: bool, probe: &Probe) -> Reply {
    let failed = |err: reqwest::Error| {
        let (reason, detail) = classify(&err, probe);
        Reply::Failed { reason, detail }
    };
    let response = match request.send() {
        Ok(response) => response,
        Err(err) => return failed(err),
    };
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = if with_body {
        match response.text() {
            Ok(body) => body,
            Err(err) => return failed(err),
        }
    } else {
        String::new()
    };
    Reply::Answered {
        status,
        headers,
        body,
    }
}

/// The reason from the error's chain: what the resolver, the socket or rustls said.
fn classify(err: &reqwest::Error, probe: &Probe) -> (Reason, String) {
    if err.is_timeout() {
        return (
            Reason::Timeout,
            format!("no answer within {} s", probe.timeout.as_secs()),
        );
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    let mut reason = Reason::Other;
    while let Some(current) = source {
        // hyper-util's words for a failed lookup.
        if current.to_string().starts_with("dns error") {
            reason = Reason::Dns;
        }
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => reason = Reason::Refused,
                std::io::ErrorKind::TimedOut => reason = Reason::Timeout,
                _ => {}
            }
        }
        if is_tls(current) {
            reason = Reason::Tls;
        }
        source = current.source();
    }
    (reason, innermost(err))
}

/// Whether rustls said it; io::Error and boxed errors hide what they wrap from
/// source(), so look inside them.
fn is_tls(err: &(dyn std::error::Error + 'static)) -> bool {
    if err.is::<rustls::Error>() {
        return true;
    }
    if let Some(inner) = err
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
    {
        return is_tls(inner);
    }
    false
}

/// The most specific message of the chain (the resolver's, the socket's, rustls').
fn innermost(err: &reqwest::Error) -> String {
    let mut last = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(current) = source {
        last = current.to_string();
        source = current.source();
    }
    last
}

fn chain(err: &reqwest::Error) -> String {
    let mut words = vec![err.to_string()];
    let mut source = std::error::Error::source(err);
    while let Some(current) = source {
        words.push(current.to_string());
        source = current.source();
    }
    words.join(": ")
}
