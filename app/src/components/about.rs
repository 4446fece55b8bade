//! `#about`: "About the models": what each model does and how it was measured, in plain words,
//! with the shipped reports (`public/report/*.md`, fetched and checked against the manifest when a
//! section is opened, read by `engine::report`) drawn as headings, text and tables.

use crate::assets::load_verified;
use attune_engine::report::{parse, Block, Span};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// (report file, title, what it is in plain words).
const REPORTS: [(&str, &str, &str); 9] = [
    (
        "report/evaluation.md",
        "Recommendations",
        "Each test listener of the Last.fm data was left out of training; 80% of their artists were \
         given to Attune as likes, and it ranked the whole catalog. The tables count how many of \
         their other 20% land in the top 10, for Attune and for the strongest baselines we could \
         tune, and again for a new visitor with only 1, 3, 5 or 10 likes.",
    ),
    (
        "report/taste-search.md",
        "How your taste model was chosen",
        "Every candidate, ours and the baselines', was tried on listeners kept apart from both \
         training and the final test, and the best setting of each was kept. The blend of models \
         that ranks your taste was chosen the same way.",
    ),
    (
        "report/sequential.md",
        "Recommendations in time order",
        "Each test listener's first 80% of tagged artists, in the order they tagged them, were          given to every model; the next 20% were to be found. A sequence model (SASRec) that reads          the order is compared with the models that only see the set.",
    ),
    (
        "report/ncf-training.md",
        "Neural taste model",
        "A small neural network (NCF) learned from the training listeners which artists go          together. It reads only your likes, here in your browser, and its scores join the other          models' in your taste. How it was trained and chosen, on listeners it never saw.",
    ),
    (
        "report/user-emotion.md",
        "Your emotional state",
        "The self-attention model read each SiTunes listener's earlier listens, ratings, moods and \
         heart rate, and guessed their mood before the next listen. It is compared with simple \
         rules (your last mood, your average, a moving average), a linear model and a GRU, on \
         later listens and on listeners it never saw.",
    ),
    (
        "report/emotion.md",
        "Music emotion",
        "The audio model heard songs from pieces it never trained on and said which of four moods \
         each one has. It is compared with always guessing the commonest mood and with a model on \
         simple sound statistics.",
    ),
    (
        "report/heart.md",
        "Heart rate",
        "Does a faster heart mean a more aroused mood? Checked on SiTunes' wristband data before \
         the heart is allowed to move your list, and how the weight is earned per person.",
    ),
    (
        "report/situnes-ranking.md",
        "Recommendations in the moment",
        "On SiTunes, each listen was ranked for that moment: against the mood stated just before          it and its situation, Attune and the baselines ranked every song, and we counted how          often the song the person then played and liked was in the top 10. Also: does a live          mood beat a fixed one?",
    ),
    (
        "report/situnes-setting3-stage2.md",
        "Liked or not, in context",
        "Will this person like this song now? Predicted from who they are and the song, with and \
         without the situation (time of day, weather, movement, heart rate), as in the SiTunes \
         paper.",
    ),
];

/// Where one report's download stands.
#[derive(Debug, Clone)]
enum Loaded {
    Closed,
    Loading,
    Ready(Vec<Block>),
    Failed(String),
}

fn spans(s: &[Span]) -> impl IntoView {
    s.iter()
        .map(|s| {
            let text = s.text.clone();
            if s.code {
                view! { <code>{text}</code> }.into_any()
            } else if s.bold {
                view! { <strong>{text}</strong> }.into_any()
            } else if s.italic {
                view! { <em>{text}</em> }.into_any()
            } else {
                text.into_any()
            }
        })
        .collect_view()
}

fn block(b: &Block) -> AnyView {
    match b {
        Block::Heading(1, s) => view! { <h3>{spans(s)}</h3> }.into_any(),
        Block::Heading(2, s) => view! { <h4>{spans(s)}</h4> }.into_any(),
        Block::Heading(_, s) => view! { <h5>{spans(s)}</h5> }.into_any(),
        Block::Paragraph(s) => view! { <p>{spans(s)}</p> }.into_any(),
        Block::List(items) => view! {
            <ul>{items.iter().map(|i| view! { <li>{spans(i)}</li> }).collect_view()}</ul>
        }
        .into_any(),
        Block::Code(c) => view! { <pre><code>{c.clone()}</code></pre> }.into_any(),
        Block::Table(head, rows) => view! {
            // Focusable so the keyboard can scroll a table wider than a phone.
            <div class="table-wrap" tabindex="0" role="region" aria-label="Results table">
                <table>
                    <thead>
                        <tr>{head.iter().map(|c| view! { <th scope="col">{spans(c)}</th> }).collect_view()}</tr>
                    </thead>
                    <tbody>
                        {rows
                            .iter()
                            .map(|r| view! { <tr>{r.iter().map(|c| view! { <td>{spans(c)}</td> }).collect_view()}</tr> })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any(),
    }
}

/// One report, fetched the first time it is opened.
#[component]
fn Report(file: &'static str, title: &'static str, summary: &'static str) -> impl IntoView {
    let loaded = RwSignal::new(Loaded::Closed);
    let load = move || {
        if !matches!(loaded.get_untracked(), Loaded::Closed | Loaded::Failed(_)) {
            return;
        }
        loaded.set(Loaded::Loading);
        spawn_local(async move {
            loaded.set(match load_verified(file).await {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => Loaded::Ready(parse(&text)),
                    Err(_) => Loaded::Failed(format!("{file} is not text")),
                },
                Err(e) => Loaded::Failed(e),
            });
        });
    };
    let on_toggle = move |ev: web_sys::Event| {
        if event_target::<web_sys::HtmlDetailsElement>(&ev).open() {
            load();
        }
    };
    let state = move || match loaded.get() {
        Loaded::Closed => "closed",
        Loaded::Loading => "loading",
        Loaded::Ready(_) => "ready",
        Loaded::Failed(_) => "error",
    };
    view! {
        <details class="report" data-file=file data-state=state on:toggle=on_toggle>
            <summary>{title}</summary>
            <p class="hint">{summary}</p>
            {move || match loaded.get() {
                Loaded::Closed => ().into_any(),
                Loaded::Loading => view! { <p role="status">"Loading the report\u{2026}"</p> }.into_any(),
                Loaded::Failed(e) => view! {
                    <p class="error" role="alert">{format!("The report could not be loaded: {e}")}</p>
                    <button type="button" class="report-retry" on:click=move |_| load()>"Retry"</button>
                }
                .into_any(),
                Loaded::Ready(blocks) => view! {
                    <div class="report-body">{blocks.iter().map(block).collect_view()}</div>
                }
                .into_any(),
            }}
        </details>
    }
}

/// The card.
#[component]
pub fn About() -> impl IntoView {
    view! {
        <section id="about" class="card" aria-labelledby="about-heading">
            <h2 id="about-heading">"About the models"</h2>
            <p class="hint">
                "Every number here was measured on real data, on people or songs the model being \
                 tested had never seen, against baselines tuned as carefully. Where Attune loses, \
                 the tables say so. Each report is regenerated by the command it names."
            </p>
            {REPORTS
                .iter()
                .map(|&(file, title, summary)| view! { <Report file title summary /> })
                .collect_view()}
        </section>
    }
}
