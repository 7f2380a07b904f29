//! Shell completions and man pages, generated from the clap definitions (never written
//! by hand), so they always match the command line.

use std::path::Path;

use clap_complete::Shell;

use crate::error::{Error, Result};

/// The completion script for `shell`, for the command `cmd`.
pub fn completions(mut cmd: clap::Command, shell: Shell) -> Vec<u8> {
    let name = cmd.get_name().to_string();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut out);
    out
}

/// The man page of `cmd` (section 1), as roff.
pub fn man_page(cmd: clap::Command) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .map_err(|err| Error::other(format!("cannot render the man page: {err}")))?;
    Ok(out)
}

/// `rdock-setup.1` and one `rdock-setup-SUBCOMMAND.1` per subcommand, written into `dir`.
/// Returns the file names written.
pub fn write_man_pages(cmd: clap::Command, dir: &Path) -> Result<Vec<String>> {
    let mut written = Vec::new();
    let mut write = |name: String, roff: Vec<u8>| -> Result<()> {
        let path = dir.join(&name);
        std::fs::write(&path, roff).map_err(|source| Error::File {
            path,
            action: "write",
            source,
        })?;
        written.push(name);
        Ok(())
    };
    let top = cmd.get_name().to_string();
    let cmd = cmd.version(env!("CARGO_PKG_VERSION"));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("{top}-{}", sub.get_name());
        let page = sub
            .clone()
            .name(name.clone())
            .version(env!("CARGO_PKG_VERSION"));
        write(format!("{name}.1"), man_page(page)?)?;
    }
    write(format!("{top}.1"), man_page(cmd)?)?;
    Ok(written)
}
