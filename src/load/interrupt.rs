//! Ctrl-C during a load run.
//!
//! goose installs its own SIGINT handler when a run starts (`ctrlc::set_handler`, which
//! replaces whatever handler is there, tokio's included) and, on a second Ctrl-C, exits the
//! process on the spot. Left alone, that would take Ctrl-C away from the rest of the binary: the
//! CLI's tokio listener would never fire again, an interrupted run would end "passed", and a
//! second Ctrl-C would skip stopping the bundled server.
//!
//! So the load runner installs a handler first, through the same crate: goose's attempt then
//! fails (ctrlc allows one handler per process) and goose carries on without one. Ours triggers
//! goose's killswitch (the run stops within a second and its reports are still written, marked
//! interrupted) and wakes the phases before and after goose (boot, setup), which stop at once.
//! The run then exits 130 after stopping the bundled server. A second Ctrl-C exits 130 at once;
//! the bundled server then exits by itself (it watches the harness's pid).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

fn notify() -> &'static Notify {
    static NOTIFY: OnceLock<Notify> = OnceLock::new();
    NOTIFY.get_or_init(Notify::new)
}

/// What a second Ctrl-C does: the binary's `main` hands in its exit (library code never ends
/// the process itself); without it a second Ctrl-C only repeats the first.
static EXIT_NOW: OnceLock<fn(i32) -> !> = OnceLock::new();

/// Sets what a second Ctrl-C calls, with exit code 130 (once per process; called by `main`).
pub fn on_second_interrupt(exit_now: fn(i32) -> !) {
    let _ = EXIT_NOW.set(exit_now);
}

/// Installs the handler (once per process; later calls do nothing). Call it inside the tokio
/// runtime.
pub fn install() {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        // tokio installs its OS-level SIGINT handler once per process, the first time anything
        // listens (the CLI's Ctrl-C listener may not have been polled yet). Make that happen
        // now, so that the handler below replaces it rather than being chained behind it: one
        // Ctrl-C, one reaction.
        #[cfg(unix)]
        drop(tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::interrupt(),
        ));
        ctrlc::set_handler(|| {
            if INTERRUPTED.swap(true, Ordering::SeqCst) {
                if let Some(exit_now) = EXIT_NOW.get() {
                    eprintln!("\nba-harness: interrupted again; exiting now");
                    exit_now(crate::error::EXIT_INTERRUPTED);
                }
                return;
            }
            eprintln!("\nba-harness: interrupted; stopping the run (Ctrl-C again to exit at once)");
            goose::trigger_killswitch("interrupted (Ctrl-C)");
            notify().notify_waiters();
        })
        .is_ok()
    });
}

/// Whether Ctrl-C was pressed.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Resolves once Ctrl-C is pressed (at once if it already was).
pub async fn wait() {
    loop {
        let notified = notify().notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if interrupted() {
            return;
        }
        notified.await;
    }
}
