//! Attune's browser app: a Leptos (client-side rendered) UI over `attune-engine`.
//!
//! - [`assets`]: download the manifest and binaries; the engine verifies and decodes them.
//! - [`storage`]: the profile as a journal in IndexedDB, shared by every tab.
//! - [`state`]: reactive state shared by the components.
//! - [`heart`]: a Bluetooth heart-rate strap (or a recorded one) as a reactive hook.
//! - [`user_state`]: the user-emotion model's estimate of the user's state, from the history (in
//!   its own instance of the analysis worker).
//! - [`neural_taste`]: the neural CF model's scores for the likes (in that same worker).
//! - [`ranking`]: the top ten for the stated mood, for the mood blended with that estimate, and
//!   for the blend fused with the heart.
//! - [`components`]: mood plane, mood strength, your emotional state, heart rate, search, likes,
//!   recommendations, notices.

mod app;
mod assets;
mod components;
mod heart;
mod neural_taste;
mod ranking;
mod state;
mod storage;
mod user_state;

/// Replaces the page with a plain message if the app panics, so it never freezes silently.
fn show_fatal(message: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(main) = doc.get_element_by_id("app") else {
        return;
    };
    let _ = main.set_attribute("data-state", "error");
    main.set_inner_html(
        "<div class=\"status-panel error\" role=\"alert\"><h2>Attune stopped unexpectedly</h2>\
         <p id=\"fatal-error\"></p><button type=\"button\" onclick=\"location.reload()\">Reload</button></div>",
    );
    if let Some(p) = doc.get_element_by_id("fatal-error") {
        p.set_text_content(Some(message));
    }
}

fn main() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        show_fatal(&info.to_string());
    }));
    // The store opens first (a few milliseconds): the app starts with the saved profile.
    wasm_bindgen_futures::spawn_local(async {
        let opened = storage::open().await;
        // index.html carries a static "Loading Attune..." #app for when the wasm cannot start;
        // the app renders its own #app in its place.
        if let Some(placeholder) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id("app"))
        {
            placeholder.remove();
        }
        leptos::mount::mount_to_body(move || {
            use leptos::prelude::*;
            let state = state::AppState::new(opened);
            view! { <app::App state=state /> }
        });
    });
}
