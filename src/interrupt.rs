//! Ctrl-C: stop starting hosts and steps, let running commands finish, then report.
//! Commands the tool starts run in their own process group, so the terminal's SIGINT
//! reaches only this process and a package transaction is never cut in half.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Install the handler once; a second Ctrl-C ends the process at once.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if REQUESTED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\ninterrupted: finishing the steps that are running; Ctrl-C again to abort now");
    });
}

pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
