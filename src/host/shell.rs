//! The one place where words become a shell command line for a remote shell. User
//! text (plan values, paths) only ever reaches a shell through `quote`.

use std::io;

/// One word, quoted for a POSIX shell (untouched when it needs no quoting).
pub fn quote(word: &str) -> io::Result<String> {
    shlex::try_quote(word)
        .map(|quoted| quoted.into_owned())
        .map_err(|err| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("cannot quote {word:?}: {err}"),
            )
        })
}

/// An argv as one command line.
pub fn command_line<S: AsRef<str>>(argv: &[S]) -> io::Result<String> {
    let words: io::Result<Vec<String>> = argv.iter().map(|w| quote(w.as_ref())).collect();
    Ok(words?.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// What `sh` makes of our quoting is exactly the words we started from.
    #[test]
    fn sh_reads_back_the_exact_words() {
        let words = [
            "plain",
            "with space",
            "it's",
            "\"double\"",
            "$(touch /tmp/rdock-quote-pwned)",
            "`id`",
            "a;b&&c|d",
            "line\nbreak",
            "tab\there",
            "*?[glob]",
            "~root",
            "",
            "back\\slash",
            "镜像加速",
        ];
        let mut script = String::from("printf '%s\\0' ");
        script.push_str(&command_line(&words).unwrap());
        let out = Command::new("sh").args(["-c", &script]).output().unwrap();
        let got: Vec<String> = out
            .stdout
            .split(|b| *b == 0)
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect();
        assert_eq!(&got[..words.len()], &words);
        assert!(!std::path::Path::new("/tmp/rdock-quote-pwned").exists());
    }

    #[test]
    fn nul_cannot_be_quoted() {
        assert!(quote("a\0b").is_err());
    }
}
