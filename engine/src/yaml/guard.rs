//! Containment for panics inside the YAML parser.
//!
//! The parser (a port of libyaml) still has a few `panic!`s on malformed input that libyaml reports as
//! errors (fuzzing found them: a tag directly followed by `,` in a flow collection, for one). A panic
//! there must not take down `trellis lint` or the server, so each call into the parser runs under
//! `catch_unwind`, and the panic becomes a syntax error at the last position the parser reached. While
//! the parser runs, the panic hook stays quiet, so no backtrace is printed for a handled error;
//! panics anywhere else are reported by the previous hook as before.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

thread_local! {
    static IN_PARSER: Cell<bool> = const { Cell::new(false) };
}

static INSTALL: Once = Once::new();

fn install_quiet_hook() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_PARSER.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Runs `f` (a call into the parser); `None` when it panicked.
pub fn contain<T>(f: impl FnOnce() -> T) -> Option<T> {
    install_quiet_hook();
    IN_PARSER.with(|c| c.set(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    IN_PARSER.with(|c| c.set(false));
    result.ok()
}

#[cfg(test)]
mod tests {
    use super::contain;

    #[test]
    fn a_panic_becomes_none_and_values_pass_through() {
        assert_eq!(contain(|| 2 + 2), Some(4));
        assert_eq!(contain(|| -> i32 { panic!("inside the parser") }), None);
    }
}
