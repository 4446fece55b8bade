//! Markdown renderings of the reports written under `public/report/`.

use crate::hetrec::build::{BuildReport, Trial};
use crate::hetrec::evaluate::SetResult;
use std::fmt::Write;

fn r(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.3}")).unwrap_or_else(|| "n/a".into())
}

/// The build report: catalog sizes, label coverage and agreement.
pub fn build_markdown(b: &BuildReport) -> String {
    let c = &b.catalog;
    let pct = |n: usize| 100.0 * n as f64 / c.artists.max(1) as f64;
    let mut s = String::new();
    let _ = writeln!(s, "# Attune build report\n\nRegenerate with `cargo run -p attune-model-export -- build --data ../shared/data --out public`.\n");
    let _ = writeln!(s, "## Catalog\n\n| what | count |\n|---|---|");
    let _ = writeln!(
        s,
        "| training users (HetRec, test split excluded) | {} |",
        c.users
    );
    let _ = writeln!(s, "| artists they played | {} |", c.artists_played);
    let _ = writeln!(
        s,
        "| catalog artists (>= {} listeners) | {} |",
        c.min_listeners, c.artists
    );
    let _ = writeln!(
        s,
        "| share of training plays on catalog artists | {:.1}% |",
        100.0 * c.play_share_in_catalog
    );
    let _ = writeln!(
        s,
        "| catalog tracks (Deezer mood set, artist matched by name) | {} |",
        c.tracks
    );
    let _ = writeln!(
        s,
        "| artists with at least one track | {} ({:.1}%) |",
        c.artists_with_tracks,
        pct(c.artists_with_tracks)
    );
    let _ = writeln!(s, "\n## Emotion labels\n\nAll emotion is on one scale, [-1, 1] per axis: each source is standardised over its items and divided by 2 (so +-2 SD reach +-1), then clamped.\n");
    let _ = writeln!(
        s,
        "| coverage of catalog artists | artists | share |\n|---|---|---|"
    );
    let _ = writeln!(
        s,
        "| tag emotion via NRC-VAD | {} | {:.1}% |",
        c.nrc_coverage,
        pct(c.nrc_coverage)
    );
    let _ = writeln!(
        s,
        "| tag emotion via Warriner (cross-check only) | {} | {:.1}% |",
        c.warriner_coverage,
        pct(c.warriner_coverage)
    );
    let _ = writeln!(
        s,
        "| any emotion (NRC tags or Deezer tracks) | {} | {:.1}% |",
        c.emotion_coverage,
        pct(c.emotion_coverage)
    );
    let _ = writeln!(s, "\n| agreement (Pearson r over artists) | valence | arousal | dominance |\n|---|---|---|---|");
    let _ = writeln!(
        s,
        "| NRC-VAD tags vs Warriner tags | {} | {} | {} |",
        r(c.nrc_vs_warriner[0]),
        r(c.nrc_vs_warriner[1]),
        r(c.nrc_vs_warriner[2])
    );
    let _ = writeln!(
        s,
        "| NRC-VAD tags vs mean Deezer track label ({} artists) | {} | {} | - |",
        c.nrc_deezer_overlap,
        r(c.nrc_vs_deezer[0]),
        r(c.nrc_vs_deezer[1])
    );
    let _ = writeln!(s, "\n## SVD++\n\n{} training users, {} user-artist pairs. Hyper-parameters (from `model-export/config/svdpp.json`, chosen by `model-export tune`):\n\n```json\n{}\n```\n", b.training_users, b.training_pairs, serde_json::to_string_pretty(&b.svdpp).unwrap_or_default());
    let _ = writeln!(s, "## Asset sizes\n\n| file | bytes |\n|---|---|");
    for (f, n) in &b.sizes {
        let _ = writeln!(s, "| {f} | {n} |");
    }
    s
}

/// A results table for one user set.
pub fn set_markdown(r: &SetResult) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "### {}\n\n{} users ({} skipped with < 2 artists); {} held-out artists, {} of them in the catalog (the rest can never be hit and still count as misses).\n",
        r.name, r.users, r.skipped, r.held_out, r.held_out_in_catalog
    );
    let _ = writeln!(s, "| model | P@10 | R@10 | F1@10 | NDCG@10 | MAP@10 | emotional fit@10 | quadrant match@10 |\n|---|---|---|---|---|---|---|---|");
    for m in &r.models {
        let t = &m.metrics;
        let _ = writeln!(
            s,
            "| {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.3} | {:.3} |",
            m.model, t.precision, t.recall, t.f1, t.ndcg, t.map, m.mean_fit, m.quadrant_match
        );
    }
    s
}

/// The sampled-metrics table of one user set (labelled: not comparable with full ranking).
pub fn sampled_markdown(r: &SetResult) -> String {
    let mut s = format!("Sampled metrics (**not** the headline; for comparison with papers that rank each held-out artist among {} random unplayed artists, as NCF's paper does): HR@10 and NDCG@10 over (user, held-out artist) pairs, the same negatives for every model.\n\n| model | sampled HR@10 | sampled NDCG@10 |\n|---|---|---|\n", crate::hetrec::evaluate::SAMPLED_NEGATIVES);
    for m in &r.models {
        let _ = writeln!(
            s,
            "| {} | {:.4} | {:.4} |",
            m.model, m.sampled_hr, m.sampled_ndcg
        );
    }
    s
}

/// The validation sweep of the NCF weight in Attune's taste.
pub fn sweep_markdown(sweep: &[(f32, f64)]) -> String {
    let mut s =
        String::from("| NCF weight w (validation, mood strength 0.35) | NDCG@10 |\n|---|---|\n");
    for (w, n) in sweep {
        let _ = writeln!(s, "| {w:.2} | {n:.4} |");
    }
    s
}

/// The ablation table of one user set, drawn from its rows: the full model, no emotion, no
/// hybrid (SVD++ alone), no NCF; "no dynamic emotion" cannot differ on HetRec (see the text).
pub fn ablation_markdown(r: &SetResult, w: f32, beta: f32) -> String {
    use crate::hetrec::evaluate::Model;
    let rows = [
        (
            "full model",
            Model::Hybrid {
                neural: w,
                mood: beta,
            },
        ),
        (
            "no emotion modelling",
            Model::Hybrid {
                neural: w,
                mood: 0.0,
            },
        ),
        ("no hybrid strategy (CF only: SVD++)", Model::Svdpp),
        (
            "no NCF (SVD++ + emotion)",
            Model::Hybrid {
                neural: 0.0,
                mood: beta,
            },
        ),
    ];
    let mut s = String::from("Ablation (same users):\n\n| variant | model | NDCG@10 | R@10 | quadrant match@10 |\n|---|---|---|---|---|\n");
    for (name, m) in rows {
        let label = m.label();
        if let Some(x) = r.models.iter().find(|x| x.model == label) {
            let _ = writeln!(
                s,
                "| {name} | {label} | {:.4} | {:.4} | {:.3} |",
                x.metrics.ndcg, x.metrics.recall, x.quadrant_match
            );
        }
    }
    s.push_str("| no dynamic emotion (static user state) | - | - | - | - |\n\nHetRec has no listening sessions or stated moods, so the user state here *is* static (the taste emotion of the folded-in artists) and this ablation cannot differ from the full model; it is measured on SiTunes (`situnes-ranking.md`), where moods are stated before each play.\n");
    s
}

/// The tuning log.
pub fn tuning_markdown(trials: &[Trial], sweep: &SetResult) -> String {
    let mut s = String::from("# SVD++ tuning (validation users, full ranking)\n\nRegenerate with `cargo run -p attune-model-export -- tune --data ../shared/data`. Trained on the train split only; scored on the validation split, folded in exactly as in the browser.\n\nSearch history: a first coarse grid (k 32/64, reg 0.003/0.01/0.03, alpha 0.5/1/2, negative ratio 2/4/8, 30 epochs, lr 0.01) showed that less regularisation, lower alpha and more sampled negatives help; the grid below refines around that corner. The best point sits at the grid's edge in negative ratio (16) and alpha (0.25): widening further is an open item.\n\n| k | epochs | lr | reg | alpha | eps | neg ratio | NDCG@10 | R@10 |\n|---|---|---|---|---|---|---|---|---|\n");
    for t in trials {
        let c = &t.config;
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {:.4} | {:.4} |",
            c.k, c.epochs, c.lr, c.reg, c.alpha, c.eps, c.negative_ratio, t.ndcg, t.recall
        );
    }
    s.push_str("\n## Mood strength sweep with the best configuration\n\nThe mood is each user's taste emotion (centre of their folded-in artists), as a stand-in for a stated mood.\n\n");
    s.push_str(&set_markdown(sweep));
    s
}
