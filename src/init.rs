//! `init`: a commented starter plan for the host it runs on, with its distribution
//! family's defaults written out, so that the operator sees (and can edit) what the
//! tool would otherwise fill in silently.

use std::io::Write;
use std::path::Path;

use crate::checks::distro::{Distro, Family};
use crate::error::{Error, Result};
use crate::plan;

/// The starter plan for `distro` on a `machine` (`uname -m`).
pub fn starter_plan(distro: &Distro, machine: &str) -> String {
    let list = |items: &[String]| {
        let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
        format!("[{}]", quoted.join(", "))
    };
    let family = match (distro.family(), distro.el_major()) {
        (Family::El, Some(major)) => format!("EL{major}"),
        (Family::El, None) => "EL".to_string(),
        (Family::Fedora, _) => "Fedora".to_string(),
        (Family::Debian, _) if distro.docker_repo_os() == "ubuntu" => "Ubuntu".to_string(),
        (Family::Debian, _) => "Debian".to_string(),
    };
    let prerequisites = distro.default_prerequisites();
    let prerequisites_comment = match (prerequisites.is_empty(), distro.family()) {
        (false, _) => "# the classic CentOS 7 prerequisites",
        (true, Family::Debian) => "# none: the tool writes the apt source and its key itself",
        (true, _) => "# EL8 and later need none: the repo file is rendered by the tool",
    };
    format!(
        r#"# rdock-setup plan for {pretty} ({family}, {manager}), written by `rdock-setup init`.
# Every key is optional; the values below are the defaults for this family, written
# out so that you can see and change them.
#
#   rdock-setup validate THIS_FILE           check it
#   rdock-setup apply THIS_FILE --dry-run    every change, as a diff; nothing touched
#   rdock-setup apply THIS_FILE              converge this host
#   rdock-setup status THIS_FILE             drift report (exit 0 converged, 2 drift, 1 error)

[preflight]
min_kernel = "3.10"                  # lowest kernel release accepted (uname -r)
arch = [{machine:?}]                  # machines accepted (uname -m)

[cleanup]
# Old docker packages removed when installed (Docker's documented list for {family}).
remove = {remove}
purge_data = false                   # true deletes /var/lib/docker when replacing an old install; needs --yes

[prerequisites]
{prerequisites_comment}
packages = {prerequisites}

[repo]
source = "official"                  # "official", "aliyun", "tuna", "ustc", "tencent", or a base URL
channel = "stable"                   # "stable" or "test"
gpgcheck = true

[engine]
version = "latest"                   # "latest", "26.1" (newest 26.1.x), "=26.1.4", ">=24, <27"
enable = true                        # enable and start docker
# users = ["deploy"]                 # added to the docker group

# [proxy]
# http_proxy = "http://proxy.example.com:3128"
# https_proxy = "http://proxy.example.com:3128"
# no_proxy = "localhost,127.0.0.1"

[daemon]
# daemon.json keys this plan owns; every other key in the file keeps its value.
# registry-mirrors = ["https://mirror.example.com"]
# log-driver = "json-file"
# log-opts = {{ max-size = "100m", max-file = "3" }}

[service]
restart = "auto"                     # "auto" (reload when the change allows it), "always", "never"
health_timeout = 60                  # seconds docker may take to come back before a change is rolled back
"#,
        pretty = distro.pretty_name,
        manager = distro.package_manager(),
        remove = list(&distro.default_old_packages()),
        prerequisites = list(&prerequisites),
    )
}

/// Write the starter plan to `path`; an existing file is never overwritten.
pub fn write_new(path: &Path, text: &str) -> Result<()> {
    // The template must stay a valid plan: check it before anything is written.
    plan::parse(path, text)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                Error::other(format!(
                    "{} already exists; init never overwrites a file: give another path, \
                     or move that one away",
                    path.display()
                ))
            } else {
                Error::File {
                    path: path.to_path_buf(),
                    action: "create",
                    source,
                }
            }
        })?;
    file.write_all(text.as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(|source| Error::File {
            path: path.to_path_buf(),
            action: "write",
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starter_plans_are_valid_plans_with_the_family_defaults() {
        let el7 = Distro::from_os_release(
            "ID=centos\nVERSION_ID=7\nPRETTY_NAME=\"CentOS Linux 7 (Core)\"",
        )
        .unwrap();
        let text = starter_plan(&el7, "x86_64");
        let plan = plan::parse(Path::new("el7.toml"), &text).unwrap();
        assert_eq!(
            plan.prerequisites.unwrap(),
            vec!["yum-utils", "device-mapper-persistent-data", "lvm2"]
        );
        assert_eq!(plan.cleanup.remove.unwrap(), el7.default_old_packages());
        assert!(text.contains("(EL7, yum)"), "{text}");

        let el9 =
            Distro::from_os_release("ID=rocky\nVERSION_ID=9.3\nPRETTY_NAME=\"Rocky Linux 9.3\"")
                .unwrap();
        let text = starter_plan(&el9, "aarch64");
        let plan = plan::parse(Path::new("el9.toml"), &text).unwrap();
        assert!(plan.prerequisites.unwrap().is_empty());
        let removed = plan.cleanup.remove.unwrap();
        assert!(removed.contains(&"podman".to_string()), "{removed:?}");
        assert_eq!(plan.preflight.arch, vec!["aarch64"]);
        assert!(text.contains("(EL9, dnf)"), "{text}");
    }

    #[test]
    fn an_existing_file_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.toml");
        std::fs::write(&path, "# mine\n").unwrap();
        let err = write_new(&path, "").unwrap_err().to_string();
        assert!(err.contains("already exists"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");
    }
}
