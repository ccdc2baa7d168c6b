//! Parse, lint and render diagnostics for arbitrary input: nothing may panic, loop or overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let files = engine::lint::check(&[engine::lint::Source {
        name: "fuzz.yaml",
        text: &text,
    }]);
    for d in &files[0].diagnostics {
        let _ = engine::diag::render(d, "fuzz.yaml", &text, true);
    }
});
