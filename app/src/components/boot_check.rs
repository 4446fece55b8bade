//! `#boot-error`: `public/boot.js` (the offline worker's registration and the update bar) did
//! not run. The page loads it with its sha256 as integrity, so a missing, corrupt or stalled
//! copy simply never runs; this waits for it as long as a download may stall, then fetches it to
//! name what is wrong. Retry fetches it again and, once it is whole, runs it.

use crate::assets::{js_error_text, load_verified, sleep_ms, stall_ms, ASSET_DIR, BOOT_FILE};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsValue;

/// Whether boot.js has run (it sets `window.attuneBoot`).
fn booted() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &JsValue::from_str("attuneBoot")).ok())
        .and_then(|v| v.as_bool())
        == Some(true)
}

/// Adds a new `<script>` for boot.js with the integrity of the page's own (the browser checks
/// it again).
fn run_boot_script() -> Result<(), String> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let src = format!("/{ASSET_DIR}/{BOOT_FILE}");
    let integrity = document
        .query_selector(&format!("script[src=\"{src}\"]"))
        .ok()
        .flatten()
        .and_then(|s| s.get_attribute("integrity"));
    let script = document
        .create_element("script")
        .map_err(|e| js_error_text(&e))?;
    let _ = script.set_attribute("src", &src);
    if let Some(i) = integrity {
        let _ = script.set_attribute("integrity", &i);
    }
    document
        .body()
        .ok_or("no body")?
        .append_child(&script)
        .map_err(|e| js_error_text(&e))?;
    Ok(())
}

/// Where the check stands.
#[derive(Debug, Clone, PartialEq)]
enum Check {
    Waiting,
    Fine,
    Failed(String),
}

/// Fetches boot.js, checks it against the manifest and, if whole, runs it again.
async fn diagnose(check: RwSignal<Check>) {
    check.set(match load_verified(BOOT_FILE).await {
        Err(e) => Check::Failed(e),
        Ok(_) => match run_boot_script() {
            Ok(()) => Check::Fine,
            Err(e) => Check::Failed(format!("{BOOT_FILE} could not be started: {e}")),
        },
    });
}

/// The notice (nothing while boot.js is fine).
#[component]
pub fn BootCheck() -> impl IntoView {
    let check = RwSignal::new(Check::Waiting);
    spawn_local(async move {
        let limit = f64::from(stall_ms());
        let start = js_sys::Date::now();
        while !booted() && js_sys::Date::now() - start < limit {
            sleep_ms(200).await;
        }
        if booted() {
            check.set(Check::Fine);
        } else {
            diagnose(check).await;
        }
    });
    move || match check.get() {
        Check::Failed(why) => Some(view! {
            <div id="boot-error" class="notice warn" role="alert" data-file=BOOT_FILE>
                <span>
                    {why}
                    " Attune works, but it cannot be kept for offline use, and new versions are not offered, until it loads. "
                </span>
                <button type="button" id="boot-retry"
                    on:click=move |_| {
                        check.set(Check::Waiting);
                        spawn_local(diagnose(check));
                    }>"Retry"</button>
            </div>
        }),
        _ => None,
    }
}
