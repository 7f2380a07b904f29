//! The four steps of a registry mirror probe, judged from what a server answered. Both
//! probes (reqwest here, curl on an SSH target) feed their answers through these same
//! functions, so they cannot disagree about what an answer means.

use super::{Dead, Reason, Stage};

/// The manifest media types a pull accepts: manifest list, OCI index, v2 and OCI
/// manifests. A mirror that answers only some of them still serves the pull.
pub const ACCEPT: &str = "application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.oci.image.manifest.v1+json";

/// What one request got: a transport failure, or an HTTP answer.
#[derive(Debug, Clone)]
pub enum Reply {
    Failed {
        reason: Reason,
        detail: String,
    },
    Answered {
        status: u16,
        /// The final answer's headers (after redirects), names as sent.
        headers: Vec<(String, String)>,
        /// The body, read only where it matters (the token).
        body: String,
    },
}

/// `WWW-Authenticate: Bearer realm=…,service=…`: where to fetch an anonymous token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub service: Option<String>,
}

impl Challenge {
    /// The token request's query, as a pull would send it.
    pub fn query(&self, image: &str) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        if let Some(service) = &self.service {
            query.push(("service", service.clone()));
        }
        query.push(("scope", format!("repository:{image}:pull")));
        query
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .rev()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

fn failed(stage: Stage, reason: Reason, detail: String) -> Dead {
    Dead {
        step: stage,
        reason,
        http_status: None,
        detail,
    }
}

fn http(stage: Stage, status: u16, what: &str) -> Dead {
    Dead {
        step: stage,
        reason: Reason::Http,
        http_status: Some(status),
        detail: format!("HTTP {status} {what}"),
    }
}

/// Step 1, `GET /v2/`: 200, or 401 with a Bearer challenge, and the API header.
pub fn api(reply: &Reply) -> Result<Option<Challenge>, Dead> {
    let (status, headers) = match reply {
        Reply::Failed { reason, detail } => {
            return Err(failed(Stage::Api, *reason, detail.clone()));
        }
        Reply::Answered {
            status, headers, ..
        } => (*status, headers),
    };
    let is_registry = header(headers, "Docker-Distribution-API-Version")
        .is_some_and(|v| v.starts_with("registry/2.0"));
    if matches!(status, 200 | 401) && !is_registry {
        let kind = header(headers, "Content-Type").unwrap_or("no content type");
        return Err(Dead {
            step: Stage::Api,
            reason: Reason::NotRegistry,
            http_status: Some(status),
            detail: format!(
                "HTTP {status} ({kind}) without Docker-Distribution-API-Version: registry/2.0"
            ),
        });
    }
    match status {
        200 => Ok(None),
        401 => match header(headers, "WWW-Authenticate").and_then(bearer) {
            Some(challenge) => Ok(Some(challenge)),
            None => Err(http(
                Stage::Api,
                401,
                "without a Bearer challenge: the mirror wants credentials",
            )),
        },
        other => Err(http(Stage::Api, other, "instead of 200 or 401")),
    }
}

/// `Bearer realm="…",service="…",scope="…"`; `None` for any other scheme.
pub fn bearer(value: &str) -> Option<Challenge> {
    let (scheme, params) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut realm = None;
    let mut service = None;
    let mut rest = params.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let after = after.trim_start();
        let (value, next) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            }
            None => match after.find(',') {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            },
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "realm" => realm = Some(value.to_string()),
            "service" => service = Some(value.to_string()),
            _ => {}
        }
        rest = next.trim_start().trim_start_matches(',').trim_start();
    }
    Some(Challenge {
        realm: realm.filter(|r| !r.is_empty())?,
        service,
    })
}

/// Step 2, the anonymous token: 200 with `token` (or `access_token`) in JSON.
pub fn token(reply: &Reply) -> Result<String, Dead> {
    let (status, body) = match reply {
        Reply::Failed { reason, detail } => {
            return Err(failed(Stage::Token, *reason, detail.clone()));
        }
        Reply::Answered { status, body, .. } => (*status, body),
    };
    if status != 200 {
        return Err(http(Stage::Token, status, "for an anonymous pull token"));
    }
    let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    ["token", "access_token"]
        .iter()
        .find_map(|key| json[key].as_str().filter(|t| !t.is_empty()))
        .map(str::to_string)
        .ok_or_else(|| {
            failed(
                Stage::Token,
                Reason::NotRegistry,
                "the token answer (HTTP 200) holds no token".into(),
            )
        })
}

/// Step 3, `HEAD /v2/{image}/manifests/{tag}`: 200 with `Docker-Content-Digest`.
pub fn manifest(reply: &Reply) -> Result<(), Dead> {
    let (status, headers) = match reply {
        Reply::Failed { reason, detail } => {
            return Err(failed(Stage::Manifest, *reason, detail.clone()));
        }
        Reply::Answered {
            status, headers, ..
        } => (*status, headers),
    };
    match status {
        200 if header(headers, "Docker-Content-Digest").is_some() => Ok(()),
        200 => Err(Dead {
            step: Stage::Manifest,
            reason: Reason::NotRegistry,
            http_status: Some(200),
            detail: "HTTP 200 without Docker-Content-Digest".into(),
        }),
        other => Err(http(Stage::Manifest, other, "for the manifest")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, headers: &[(&str, &str)]) -> Reply {
        Reply::Answered {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: String::new(),
        }
    }

    #[test]
    fn bearer_challenges_as_registries_send_them() {
        let hub =
            bearer(r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io""#);
        assert_eq!(
            hub,
            Some(Challenge {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into())
            })
        );
        let bare = bearer("bearer realm=https://r/t, scope=x").unwrap();
        assert_eq!(bare.realm, "https://r/t");
        assert_eq!(bare.service, None);
        assert_eq!(bearer(r#"Basic realm="x""#), None);
    }

    #[test]
    fn api_needs_the_header_and_a_usable_status() {
        let api_header = ("Docker-Distribution-API-Version", "registry/2.0");
        assert_eq!(api(&answered(200, &[api_header])), Ok(None));
        let html = api(&answered(200, &[("Content-Type", "text/html")])).unwrap_err();
        assert_eq!(html.reason, Reason::NotRegistry);
        let forbidden = api(&answered(403, &[api_header])).unwrap_err();
        assert_eq!(
            (forbidden.reason, forbidden.http_status),
            (Reason::Http, Some(403))
        );
        let basic = api(&answered(
            401,
            &[api_header, ("WWW-Authenticate", "Basic realm=x")],
        ));
        assert_eq!(basic.unwrap_err().http_status, Some(401));
    }

    #[test]
    fn manifest_needs_the_digest() {
        assert!(manifest(&answered(200, &[("docker-content-digest", "sha256:1")])).is_ok());
        assert_eq!(
            manifest(&answered(200, &[])).unwrap_err().reason,
            Reason::NotRegistry
        );
        assert_eq!(
            manifest(&answered(404, &[])).unwrap_err().http_status,
            Some(404)
        );
    }
}
