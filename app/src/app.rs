//! The root component: loads the catalogue and shows the first list, then the taste models (the
//! workers and the offline copy after them); lays out the controls and the recommendations.

use crate::assets::{self, CacheMode};
use crate::components::about::About;
use crate::components::analyse::AnalyseMusic;
use crate::components::boot_check::BootCheck;
use crate::components::free_shelf::FreeShelfCard;
use crate::components::genre_map::GenreMap;
use crate::components::heart::HeartPanel;
use crate::components::likes::Likes;
use crate::components::mood_plane::MoodPlane;
use crate::components::notices::Notices;
use crate::components::recommendations::Recommendations;
use crate::components::search::Search;
use crate::components::state_card::StateCard;
use crate::components::strength::StrengthSlider;
use crate::components::your_data::YourData;
use crate::ranking::Ranked;
use crate::state::AppState;
use crate::user_state::{ModelStatus, UserState};
use attune_engine::Recommender;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;

/// Where asset loading stands (mirrored in `#app[data-state]`).
#[derive(Debug, Clone)]
enum Load {
    Loading,
    Ready(Arc<Recommender>),
    Failed(String),
}

impl Load {
    fn name(&self) -> &'static str {
        match self {
            Load::Loading => "loading",
            Load::Ready(_) => "ready",
            Load::Failed(_) => "error",
        }
    }
}

/// `<main id="app">`: header, storage notices, then the loading, error or ready view.
#[component]
pub fn App(
    /// The state over the opened store.
    state: AppState,
) -> impl IntoView {
    provide_context(state);
    let load = RwSignal::new(Load::Loading);
    // The recommender with its taste models, once they have arrived after the first list.
    let tasted = RwSignal::new(None::<Arc<Recommender>>);
    // Only the latest load may report (Retry can start one while another is in flight).
    let generation = StoredValue::new(0u32);
    let start = move |mode: CacheMode| {
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        let current = move || generation.get_value() == mine;
        load.set(Load::Loading);
        tasted.set(None);
        spawn_local(async move {
            let cold = match assets::load_first(mode).await {
                Ok(r) => Arc::new(r),
                Err(e) => {
                    if current() {
                        load.set(Load::Failed(e));
                        assets::announce_settled();
                    }
                    return;
                }
            };
            if !current() {
                return;
            }
            load.set(Load::Ready(cold.clone()));
            // The first list paints before the taste models are requested (the benchmark reads
            // the mark: scripts/bench.sh, tests/tests/e2e/first_visit.rs).
            assets::next_frame().await;
            if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
                let _ = p.mark("attune-first-list");
            }
            let result = assets::load_taste(&cold, mode).await;
            if current() {
                match result {
                    Ok(r) => tasted.set(Some(Arc::new(r))),
                    Err(e) => {
                        load.set(Load::Failed(e));
                        assets::announce_settled();
                    }
                }
            }
        });
    };
    start(CacheMode::Revalidate);

    let body = move || {
        match load.get() {
        Load::Loading => view! {
            <div class="status-panel" role="status">
                <div class="spinner" aria-hidden="true"></div>
                <p>"Loading the music catalog\u{2026}"</p>
            </div>
        }
        .into_any(),
        Load::Failed(message) => view! {
            <div class="status-panel error" role="alert">
                <h2>"The music catalog could not be loaded"</h2>
                <p id="asset-error">{message}</p>
                <p class="hint">
                    "Check your connection and try again: every file is downloaded afresh and checked again."
                </p>
                <button id="retry" type="button" on:click=move |_| start(CacheMode::Bypass)>
                    "Retry"
                </button>
            </div>
        }
        .into_any(),
        Load::Ready(rec) => {
            let cold = rec.clone();
            let current = Signal::derive(move || tasted.get().unwrap_or_else(|| cold.clone()));
            // The workers and their models come after the taste models, never before the list.
            let user = UserState::start(rec.clone(), Signal::derive(move || tasted.with(Option::is_some)));
            let ranked = Ranked::new(current, user);
            // The page's own downloads are over: the offline copy may start (boot.js).
            Effect::new(move |done: Option<bool>| {
                if done == Some(true) {
                    return true;
                }
                let settled = tasted.with(Option::is_some)
                    && !matches!(user.status.get(), ModelStatus::Loading)
                    && !matches!(user.neural.status.get(), ModelStatus::Loading);
                if settled {
                    assets::announce_settled();
                }
                settled
            });
            view! {
                <p id="taste-loading" class="hint" role="status" hidden=move || tasted.with(Option::is_some)>
                    "Your first list is ready. Loading the taste models in the background: your likes will shape the list once they arrive\u{2026}"
                </p>
                <div class="layout">
                    <div class="controls">
                        <MoodPlane ranked=ranked />
                        <StrengthSlider />
                        <StateCard rec=rec.clone() user=user ranked=ranked />
                        <HeartPanel ranked=ranked />
                        <Search rec=rec.clone() />
                        <Likes rec=rec.clone() />
                    </div>
                    <div class="results">
                        <Recommendations ranked=ranked user=user rec=rec.clone() />
                        <FreeShelfCard ranked=ranked />
                        <GenreMap rec=rec />
                        <AnalyseMusic />
                    </div>
                </div>
            }
            .into_any()
        }
    }
    };

    view! {
        <main
            id="app"
            data-state=move || load.with(Load::name)
            data-taste=move || if tasted.with(Option::is_some) { "ready" } else { "loading" }
        >
            <header class="top">
                <h1>
                    <span class="logo" aria-hidden="true"></span>
                    "Attune"
                </h1>
                <p class="tagline">"Music for how you feel, from what you love."</p>
            </header>
            <Notices />
            <BootCheck />
            {body}
            // Outside the catalog's views: the data stays reachable when the catalog fails to load.
            <YourData />
            <About />
            <footer class="privacy">
                "Private by design: Attune runs entirely in your browser. Your likes and moods stay on this device and nothing is sent anywhere. "
                <a href="#your-data">"See, export or delete your data."</a>
            </footer>
        </main>
    }
}
