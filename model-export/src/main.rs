//! `model-export`: Attune's offline pipeline. Ingests the real datasets, trains, writes the compact
//! assets under `public/`, and evaluates them honestly on users no model has seen.

// Numeric kernels index several arrays with one loop variable; iterators would obscure them.
#![allow(clippy::needless_range_loop)]

mod compact;
mod emotion;
mod free_tracks;
mod hetrec;
mod ingest;
mod linalg;
mod manifest;
mod metrics;
mod ncf;
mod onnx;
mod options;
mod rng;
mod scale;
mod schedule;
mod sequential;
mod situnes;
mod spark;
mod taste;
mod tensors;
mod user_emotion;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use emotion::cli::{emotion_cmd, EmotionCmd};
use hetrec::cli::{evaluate_cmd, grid, load_assets, load_base, train_only_svdpp};
use hetrec::corpus::Corpus;
use situnes::cli::{heart_cmd, HeartCmd, SitunesFolders};
use std::path::PathBuf;
use user_emotion::cli::{user_emotion_cmd, UserEmotionCmd};

#[derive(Parser)]
#[command(
    name = "model-export",
    about = "Attune's offline pipeline: ingest -> train -> export -> evaluate"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Regenerate every shipped asset from the data (deterministic).
    Build {
        #[command(flatten)]
        dirs: crate::options::Dirs,
        /// Tuned SVD++ hyper-parameters.
        #[arg(long, default_value = "model-export/config/svdpp.json")]
        config: PathBuf,
    },
    /// Evaluate the shipped assets on held-out users, exactly as the browser folds them in.
    Evaluate {
        /// The shared data root.
        #[arg(long, default_value = "../shared/data")]
        data: PathBuf,
        /// Where the JSON results go.
        #[arg(long)]
        json: PathBuf,
        /// A folder with a HetRec-format user_artists.dat of users absent from training.
        #[arg(long)]
        test_users: Option<PathBuf>,
        /// The assets to evaluate (verified against their manifest; `--assets` is the old name).
        #[arg(long, alias = "assets", default_value = "public")]
        out: PathBuf,
        /// Only the HetRec fold-in tables (skip the SiTunes ranking and the sequential tables,
        /// which `situnes-rank` and `sequential` also write on their own).
        #[arg(long)]
        hetrec_only: bool,
    },
    /// The validation search of the taste families (EASE, EDLAE, RP3beta, item-kNN, iALS), printed.
    TasteSearch {
        #[command(flatten)]
        dirs: crate::options::Dirs,
        /// Only these families (ease, edlae, rp3beta, knn, ials): print, write nothing.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Where the chosen settings go.
        #[arg(long, default_value = "model-export/config/taste.json")]
        config: PathBuf,
    },
    /// Fit the shipped taste (`taste.json`'s choice) on the training and validation users and
    /// write `<out>/taste.bin` (and refresh the manifest).
    TasteBuild {
        #[command(flatten)]
        dirs: crate::options::Dirs,
        /// The settings `taste-search` chose.
        #[arg(long, default_value = "model-export/config/taste.json")]
        config: PathBuf,
    },
    /// Build the free shelf (`<out>/free/`): 30 s excerpts of freely licensed music, each with the
    /// emotion CNN's reading of the shipped excerpt (`scripts/free_tracks.sh` fetches the music).
    FreeTracks {
        /// `dir|artist|licence|origin[|title prefix]`, once per folder of music (searched
        /// recursively); the prefix names the tracks `<prefix> <n>` when file names are not titles.
        #[arg(long = "source", required = true)]
        sources: Vec<free_tracks::Source>,
        /// The emotion model.
        #[arg(long, default_value = "public/models/emotion.onnx")]
        model: PathBuf,
        /// The site's asset folder.
        #[arg(long, default_value = "public")]
        out: PathBuf,
    },
    /// Train the neural CF model on the training users (tuned on the validation users), write
    /// `<out>/models/ncf.onnx` and `<out>/report/ncf-training.{md,json}`.
    Ncf {
        #[command(flatten)]
        dirs: crate::options::Dirs,
        /// One short configuration (a quick check).
        #[arg(long)]
        quick: bool,
    },
    /// Make the written assets smaller at equal quality (`models/ncf.onnx` in float16), each
    /// change measured on the test users first; writes `<out>/report/compact.{md,json}`.
    Compact {
        #[command(flatten)]
        dirs: crate::options::Dirs,
    },
    /// A synthetic catalogue of a million items in static shards (real artists embedded) for the
    /// scale benchmark and tests, with the native benchmark (`<dir>/native.json`). Never shipped.
    Scale {
        #[command(flatten)]
        dirs: crate::options::Dirs,
        #[command(flatten)]
        args: scale::Args,
    },
    /// Grid-search SVD++ on the validation users; writes the best configuration and a log.
    Tune {
        /// The shared data root.
        #[arg(long, default_value = "../shared/data")]
        data: PathBuf,
        /// Where the best configuration goes.
        #[arg(long, default_value = "model-export/config/svdpp.json")]
        config: PathBuf,
        /// The site's asset folder: the log goes to `<out>/report/tuning.md` and the manifest is refreshed.
        #[arg(long, default_value = "public")]
        out: PathBuf,
        /// A smaller grid (for a quick check).
        #[arg(long)]
        quick: bool,
    },
    /// Heart rate: check the arousal mapping against SiTunes (sets the engine's heart weight).
    HeartRate {
        #[command(subcommand)]
        cmd: HeartCmd,
    },
    /// The music-emotion model: EMOPIA renders, baselines, the CNN, ONNX export.
    Emotion {
        #[command(subcommand)]
        cmd: EmotionCmd,
    },
    /// The user-emotion model: SiTunes histories, self-attention, baselines, ONNX export.
    UserEmotion {
        #[command(subcommand)]
        cmd: UserEmotionCmd,
    },
    /// SiTunes "Setting 3": train on one stage, predict which interactions of another are liked
    /// (rating >= 3), with and without situation features; prints and writes AUC, MAE, RMSE.
    Situnes {
        #[command(flatten)]
        folders: SitunesFolders,
        /// Also write the markdown table here.
        #[arg(long)]
        md: Option<PathBuf>,
    },
    /// SiTunes full ranking: every baseline, the emotion hybrid (with ablations) and a
    /// context-aware model rank the whole catalog for Stage 2's test plays (split in time).
    SitunesRank {
        /// The shared data root (holds situnes/).
        #[arg(long, default_value = "../shared/data")]
        data: PathBuf,
        /// Where the JSON results go.
        #[arg(long, default_value = "public/report/situnes-ranking.json")]
        json: PathBuf,
        /// Where the markdown report goes.
        #[arg(long, default_value = "public/report/situnes-ranking.md")]
        md: PathBuf,
    },
    /// SASRec on HetRec tag sequences, evaluated in time order against the fold-in models;
    /// writes `<out>/report/sequential.{md,json}` and refreshes the manifest.
    Sequential {
        #[command(flatten)]
        dirs: crate::options::Dirs,
    },
    /// Spark MLlib ALS: the training log, its penalty, and the parity check of its factors.
    Spark {
        #[command(subcommand)]
        cmd: spark::cli::SparkCmd,
    },
    /// Import Spark's item factors (`scripts/spark_als.py` output) as the taste's iALS part:
    /// checked against the catalogue, int8 like the shipped factors, `<out>/taste.bin` + manifest.
    ImportFactors {
        /// Spark's output folder (Parquet part files + attune-als.json).
        #[arg(long)]
        parquet: PathBuf,
        /// The site's asset folder.
        #[arg(long, default_value = "public")]
        out: PathBuf,
        /// Catalogue artists without factors: refuse (error) or give them zeros.
        #[arg(long, value_enum, default_value = "error")]
        missing: spark::factors::Missing,
    },
    /// Rewrite manifest.json for the files in a folder.
    Manifest {
        /// The folder (the site's public/).
        #[arg(long, default_value = "public")]
        out: PathBuf,
    },
}

fn main() -> Result<()> {
    match Cli::parse().cmd {
        Cmd::Build {
            dirs: crate::options::Dirs { data, out },
            config,
        } => {
            let cfg = hetrec::build::load_config(&config)?;
            let r = hetrec::build::build(&data, &out, &cfg)?;
            let c = &r.catalog;
            println!(
                "catalog: {} artists ({} with emotion, NRC coverage {}), {} tracks; trained on {} users / {} pairs; catalog.bin {} B, cf.bin {} B",
                c.artists, c.emotion_coverage, c.nrc_coverage, c.tracks, r.training_users, r.training_pairs,
                r.sizes["catalog.bin"], r.sizes["cf.bin"]
            );
            Ok(())
        }
        Cmd::TasteSearch {
            dirs: crate::options::Dirs { data, out },
            only,
            config,
        } => {
            let rec = load_base(&out)?;
            let corpus = Corpus::load(&data)?;
            let d = taste::search::Data::new(rec.catalog(), &corpus);
            let mut best = taste::search::search(&d, &only);
            println!(
                "{:#?}",
                (best.ease, best.edlae, best.rp3, best.knn, best.ials)
            );
            if !only.is_empty() {
                return Ok(());
            }
            let train_only = train_only_svdpp(&rec, &corpus)?;
            let ncf = ncf::load_scorer(&out, rec.catalog().artists().len())?;
            let mut trials = std::mem::take(&mut best.trials);
            let shipped = taste::search::ship(
                &d,
                &best,
                &mut |l| train_only.svd_scores(l),
                &mut |l| ncf.scores(l),
                &mut trials,
            );
            let cfg = taste::TasteConfig {
                ease: best.ease.expect("searched"),
                edlae: best.edlae.expect("searched"),
                rp3: best.rp3.expect("searched"),
                knn: best.knn.expect("searched"),
                ials: best.ials.expect("searched"),
                shipped,
            };
            std::fs::write(&config, serde_json::to_string_pretty(&cfg)? + "\n")?;
            std::fs::create_dir_all(out.join("report"))?;
            std::fs::write(
                out.join("report/taste-search.md"),
                taste::search::markdown(&trials, &cfg),
            )?;
            manifest::write_manifest(&out)?;
            Ok(())
        }
        Cmd::TasteBuild {
            dirs: crate::options::Dirs { data, out },
            config,
        } => {
            let cfg = taste::TasteConfig::load(&config)?;
            let rec = load_base(&out)?;
            let corpus = Corpus::load(&data)?;
            let m = taste::build(&cfg, &corpus, rec.catalog());
            let bytes = m.encode();
            std::fs::write(out.join(attune_engine::taste::TASTE_FILE), &bytes)?;
            manifest::write_manifest(&out)?;
            println!(
                "taste.bin: {} B ({} item-item weights, iALS k {}, blend {:?})",
                bytes.len(),
                m.item_item.nonzeros(),
                m.ials.k(),
                m.blend
            );
            Ok(())
        }
        Cmd::Evaluate {
            data,
            json,
            test_users,
            out,
            hetrec_only,
        } => {
            evaluate_cmd(&data, &json, test_users.as_deref(), &out)?;
            if !hetrec_only {
                // Tables 1 and 2 on the other protocols: SiTunes in the moment, HetRec in time.
                situnes::ranking::command(
                    &data,
                    &out.join("report/situnes-ranking.json"),
                    &out.join("report/situnes-ranking.md"),
                )?;
                sequential::command(&data, &out)?;
                manifest::write_manifest(&out)?;
            }
            Ok(())
        }
        Cmd::FreeTracks {
            sources,
            model,
            out,
        } => {
            let shelf = free_tracks::build(&sources, &model, &out)?;
            println!(
                "{} free tracks in {}/free",
                shelf.tracks.len(),
                out.display()
            );
            manifest::write_manifest(&out)
        }
        Cmd::Ncf {
            dirs: crate::options::Dirs { data, out },
            quick,
        } => {
            let rec = load_assets(&out)?;
            let corpus = Corpus::load(&data)?;
            let r = ncf::train_cmd(&rec, &corpus, &out, quick)?;
            manifest::write_report(&out.join("report"), "ncf-training", &ncf::markdown(&r), &r)?;
            manifest::write_manifest(&out)
        }
        Cmd::Compact {
            dirs: crate::options::Dirs { data, out },
        } => {
            let rec = load_assets(&out)?;
            let corpus = Corpus::load(&data)?;
            let r = compact::run(&rec, &corpus, &out)?;
            manifest::write_report(&out.join("report"), "compact", &compact::markdown(&r), &r)?;
            manifest::write_manifest(&out)
        }
        Cmd::Scale {
            dirs: crate::options::Dirs { data, out },
            args,
        } => {
            let rec = load_assets(&out)?;
            let corpus = Corpus::load(&data)?;
            let n = scale::run(&args, &rec, &corpus)?;
            println!("{}", serde_json::to_string_pretty(&n)?);
            Ok(())
        }
        Cmd::Tune {
            data,
            config,
            out,
            quick,
        } => {
            let (trials, sweep) = hetrec::build::tune(&data, &grid(quick))?;
            let best = trials.first().context("no trials")?;
            if let Some(dir) = config.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&config, serde_json::to_string_pretty(&best.config)? + "\n")?;
            std::fs::create_dir_all(out.join("report"))?;
            std::fs::write(
                out.join("report/tuning.md"),
                hetrec::report::tuning_markdown(&trials, &sweep),
            )?;
            manifest::write_manifest(&out)?;
            println!("best: ndcg@10 {:.4} with {:?}", best.ndcg, best.config);
            Ok(())
        }
        Cmd::HeartRate {
            cmd:
                HeartCmd::Evaluate {
                    data,
                    json,
                    out,
                    demo,
                },
        } => heart_cmd(&data, json.as_deref(), &out, &demo),
        Cmd::Emotion { cmd } => emotion_cmd(cmd),
        Cmd::UserEmotion { cmd } => user_emotion_cmd(cmd),
        Cmd::Situnes {
            folders:
                SitunesFolders {
                    train,
                    test,
                    items,
                    json,
                },
            md,
        } => {
            let r = situnes::liked::run(&train, &test, &items)?;
            let table = situnes::liked::markdown(&r);
            print!("{table}");
            for (path, text) in [
                (Some(&json), serde_json::to_string_pretty(&r)? + "\n"),
                (md.as_ref(), table),
            ] {
                if let Some(path) = path {
                    if let Some(dir) = path.parent() {
                        std::fs::create_dir_all(dir)?;
                    }
                    std::fs::write(path, text)?;
                }
            }
            Ok(())
        }
        Cmd::SitunesRank { data, json, md } => situnes::ranking::command(&data, &json, &md),
        Cmd::Sequential {
            dirs: crate::options::Dirs { data, out },
        } => sequential::command(&data, &out),
        Cmd::Manifest { out } => manifest::write_manifest(&out),
        Cmd::Spark { cmd } => spark::cli::command(cmd),
        Cmd::ImportFactors {
            parquet,
            out,
            missing,
        } => spark::cli::import_factors(&parquet, &out, missing),
    }
}
