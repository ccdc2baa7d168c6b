//! The browser entry point: hydrates the HTML the server rendered with [`app::App`].
//!
//! Built for `wasm32-unknown-unknown` and passed through wasm-bindgen by `cargo xtask build`,
//! which writes `pkg/trellis.js` and `pkg/trellis_bg.wasm`; the page's hydration script calls
//! [`hydrate`].

use wasm_bindgen::prelude::wasm_bindgen;

/// Makes the server-rendered page interactive. Called once by the page's hydration script.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
