//! Storage problems the user must know about: a failed save, an unreadable stored profile.

use crate::state::AppState;
use leptos::prelude::*;

/// `#storage-error` (last save failed) and `#profile-notice` (start-up message, dismissable).
#[component]
pub fn Notices() -> impl IntoView {
    let state = AppState::get();
    view! {
        {move || {
            state
                .save_error
                .get()
                .map(|msg| {
                    view! {
                        <div id="storage-error" class="notice warn" role="alert">
                            <strong>"Not saved. "</strong>
                            {msg}
                        </div>
                    }
                })
        }}
        {move || {
            state
                .notice
                .get()
                .map(|msg| {
                    view! {
                        <div id="profile-notice" class="notice warn" role="alert">
                            <span>{msg}</span>
                            <button
                                type="button"
                                class="dismiss"
                                on:click=move |_| state.notice.set(None)
                            >
                                "Dismiss"
                            </button>
                        </div>
                    }
                })
        }}
    }
}
