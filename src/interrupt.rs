//! Ctrl-C (SIGINT) and SIGTERM: stop starting hosts and steps, let running commands
//! finish, then report. Commands the tool starts run in their own process group, so
//! the terminal's SIGINT reaches only this process and a package transaction is never
//! cut in half. Files are only ever replaced by rename, so none is left half-written.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Install the handler once; a second signal ends this process at once (its running
/// commands, in their own process groups, still finish).
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if REQUESTED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!(
            "\ninterrupted: finishing the step that is running, starting no other; \
             Ctrl-C again to abort now"
        );
    });
}

pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
