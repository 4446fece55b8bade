//! `model-export`: Attune's offline pipeline. Ingests the real datasets, trains, writes the compact
//! assets under `public/`, and evaluates them honestly on users no model has seen.

// Numeric kernels index several arrays with one loop variable; iterators would obscure them.
#![allow(clippy::needless_range_loop)]

mod emotion;
mod free_tracks;
mod hetrec;
mod ingest;
mod linalg;
mod manifest;
mod metrics;
mod ncf;
mod onnx;
mod rng;
mod schedule;
mod sequential;
mod situnes;
mod spark;
mod taste;
mod tensors;
mod user_emotion;

use anyhow::{Context, Result};
use attune_engine::assets::load_recommender;
use attune_engine::ncf::NEURAL_WEIGHT;
use attune_engine::{Manifest, MoodStrength};
use clap::{Parser, Subcommand};
use hetrec::corpus::{split_of, Corpus, Split};
use hetrec::evaluate::{evaluate as run_eval, group_users, Model};
use hetrec::svdpp::SvdppConfig;
use std::path::{Path, PathBuf};

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
        /// The shared data root (holds hetrec2011_lastfm_2k/, deezer_mood_msd/, lexicons/).
        #[arg(long)]
        data: PathBuf,
        /// Output folder (the site's public/).
        #[arg(long)]
        out: PathBuf,
        /// Tuned SVD++ hyper-parameters.
        #[arg(long, default_value = "model-export/config/svdpp.json")]
        config: PathBuf,
    },
    /// Evaluate the shipped assets on held-out users, exactly as the browser folds them in.
    Evaluate {
        /// The shared data root.
        #[arg(long)]
        data: PathBuf,
        /// Where the JSON results go.
        #[arg(long)]
        json: PathBuf,
        /// A folder with a HetRec-format user_artists.dat of users absent from training.
        #[arg(long)]
        test_users: Option<PathBuf>,
        /// The assets to evaluate (verified against their manifest).
        #[arg(long, default_value = "public")]
        assets: PathBuf,
        /// Only the HetRec fold-in tables (skip the SiTunes ranking and the sequential tables,
        /// which `situnes-rank` and `sequential` also write on their own).
        #[arg(long)]
        hetrec_only: bool,
    },
    /// The validation search of the taste families (EASE, EDLAE, RP3beta, item-kNN, iALS), printed.
    TasteSearch {
        /// The shared data root.
        #[arg(long, default_value = "../shared/data")]
        data: PathBuf,
        /// The site's asset folder (its catalog defines the artists).
        #[arg(long, default_value = "public")]
        out: PathBuf,
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
        /// The shared data root.
        #[arg(long, default_value = "../shared/data")]
        data: PathBuf,
        /// The site's asset folder.
        #[arg(long, default_value = "public")]
        out: PathBuf,
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
        /// The shared data root.
        #[arg(long, default_value = "../shared/data")]
        data: PathBuf,
        /// The site's asset folder (its catalog and CF model define the artists).
        #[arg(long, default_value = "public")]
        out: PathBuf,
        /// One short configuration (a quick check).
        #[arg(long)]
        quick: bool,
    },
    /// Grid-search SVD++ on the validation users; writes the best configuration and a log.
    Tune {
        /// The shared data root.
        #[arg(long)]
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
        /// The shared data root.
        #[arg(long, default_value = "../shared/data")]
        data: PathBuf,
        /// The site's asset folder (its catalog and CF model define the artists).
        #[arg(long, default_value = "public")]
        out: PathBuf,
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

#[derive(Subcommand)]
enum HeartCmd {
    /// Correlate wristband heart rate with self-reported arousal (SiTunes Stage 2); writes
    /// `<out>/report/heart.md` and the JSON, and refreshes the manifest.
    Evaluate {
        /// The shared data root (holds situnes/).
        #[arg(long)]
        data: PathBuf,
        /// Where the JSON results go (default `<out>/report/heart.json`).
        #[arg(long)]
        json: Option<PathBuf>,
        /// The site's asset folder.
        #[arg(long, default_value = "public")]
        out: PathBuf,
        /// The demo RR series to replay through the engine for the report.
        #[arg(long, default_value = "public/demo/rr-sample.txt")]
        demo: PathBuf,
    },
}

/// A SiTunes train/test pair and where the results go.
#[derive(clap::Args)]
struct SitunesFolders {
    /// Training folder (interactions.csv, optional wrist.npy and env.json).
    #[arg(long)]
    train: PathBuf,
    /// Test folder (the same folder: split in time per user).
    #[arg(long)]
    test: PathBuf,
    /// The songs' metadata (music_info.csv).
    #[arg(long)]
    items: PathBuf,
    /// Where the JSON results go.
    #[arg(long)]
    json: PathBuf,
}

#[derive(Subcommand)]
enum UserEmotionCmd {
    /// Evaluate on SiTunes Stage 2 (split in time), then write the model to
    /// `<out>/models/user-emotion.onnx` and the report to `<out>/report/user-emotion.{md,json}`.
    Train {
        /// The shared data root (holds situnes/).
        #[arg(long, default_value = "../shared/data")]
        data: PathBuf,
        /// The site's asset folder.
        #[arg(long, default_value = "public")]
        out: PathBuf,
        /// One configuration instead of the search (a quick check).
        #[arg(long)]
        quick: bool,
    },
    /// Train on one SiTunes-layout folder and test on another (the same folder: split in time);
    /// prints and writes RMSE, MAE and quadrant accuracy for the model, baselines and ablations.
    Evaluate {
        #[command(flatten)]
        folders: SitunesFolders,
        /// One configuration instead of the search (a quick check).
        #[arg(long)]
        quick: bool,
    },
}

#[derive(Subcommand)]
enum EmotionCmd {
    /// Render every clip of an EMOPIA folder and cache its log-mel (`$ATTUNE_CACHE`, default
    /// `~/.cache/attune`).
    Prepare {
        /// The EMOPIA folder (holds midis/).
        #[arg(long, default_value = "../shared/data/emopia")]
        data: PathBuf,
    },
    /// Train the CNN on the training songs and write `<out>/models/emotion.onnx`, then evaluate.
    Train {
        /// The EMOPIA folder.
        #[arg(long, default_value = "../shared/data/emopia")]
        data: PathBuf,
        /// The site's asset folder.
        #[arg(long, default_value = "public")]
        out: PathBuf,
        /// Epochs (default from the training configuration).
        #[arg(long)]
        epochs: Option<usize>,
    },
    /// Score the shipped model and the baselines on held-out songs; writes
    /// `<out>/report/emotion.{md,json}`.
    Evaluate {
        /// The EMOPIA folder (baselines are fitted on its training songs).
        #[arg(long, default_value = "../shared/data/emopia")]
        data: PathBuf,
        /// An independent EMOPIA-layout folder to score instead of the held-out songs.
        #[arg(long)]
        test: Option<PathBuf>,
        /// The model.
        #[arg(long, default_value = "public/models/emotion.onnx")]
        model: PathBuf,
        /// The site's asset folder (report and manifest).
        #[arg(long, default_value = "public")]
        out: PathBuf,
        /// Where the JSON goes (default `<out>/report/emotion.json`).
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Transfer from musicnn (issue 16): train every head candidate, write the one validation
    /// chooses to `--model` (not shipped), and score it beside the shipped CNN and the baselines
    /// on EMOPIA, the real-audio set (`scripts/real_audio.sh`) and the free shelf.
    Transfer {
        /// The EMOPIA folder.
        #[arg(long, default_value = "../shared/data/emopia")]
        data: PathBuf,
        /// Where the chosen candidate goes.
        #[arg(long, default_value = "target/emotion-musicnn.onnx")]
        model: PathBuf,
        /// The shipped model it is compared with.
        #[arg(long, default_value = "public/models/emotion.onnx")]
        shipped: PathBuf,
        /// The report (markdown; JSON beside it).
        #[arg(long, default_value = "model-export/reports/emotion-transfer.md")]
        report: PathBuf,
    },
    /// Valence, arousal and quadrant of audio (wav, mp3, ogg, flac) and MIDI files.
    Predict {
        /// The ONNX model.
        #[arg(long, default_value = "public/models/emotion.onnx")]
        model: PathBuf,
        /// Where the JSON results go.
        #[arg(long)]
        json: PathBuf,
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

fn main() -> Result<()> {
    match Cli::parse().cmd {
        Cmd::Build { data, out, config } => {
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
            data,
            out,
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
        Cmd::TasteBuild { data, out, config } => {
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
            assets,
            hetrec_only,
        } => {
            evaluate_cmd(&data, &json, test_users.as_deref(), &assets)?;
            if !hetrec_only {
                // Tables 1 and 2 on the other protocols: SiTunes in the moment, HetRec in time.
                situnes::ranking::command(
                    &data,
                    &assets.join("report/situnes-ranking.json"),
                    &assets.join("report/situnes-ranking.md"),
                )?;
                sequential::command(&data, &assets)?;
                manifest::write_manifest(&assets)?;
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
        Cmd::Ncf { data, out, quick } => {
            let rec = load_assets(&out)?;
            let corpus = Corpus::load(&data)?;
            let r = ncf::train_cmd(&rec, &corpus, &out, quick)?;
            let md = ncf::markdown(&r);
            print!("{md}");
            std::fs::create_dir_all(out.join("report"))?;
            std::fs::write(out.join("report/ncf-training.md"), md)?;
            std::fs::write(
                out.join("report/ncf-training.json"),
                serde_json::to_string_pretty(&r)? + "\n",
            )?;
            manifest::write_manifest(&out)
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
        Cmd::Sequential { data, out } => sequential::command(&data, &out),
        Cmd::Manifest { out } => manifest::write_manifest(&out),
        Cmd::Spark { cmd } => spark::cli::command(cmd),
        Cmd::ImportFactors {
            parquet,
            out,
            missing,
        } => spark::cli::import_factors(&parquet, &out, missing),
    }
}

fn emotion_cmd(cmd: EmotionCmd) -> Result<()> {
    match cmd {
        EmotionCmd::Prepare { data } => {
            let clips = emotion::dataset::list_clips(&data)?;
            let mels = emotion::clip_mels(&clips)?;
            let secs: f32 = mels.iter().map(|m| m.seconds()).sum();
            println!(
                "{} clips, {:.0} s of audio, cached in {}",
                clips.len(),
                secs,
                emotion::dataset::cache_dir().display()
            );
            Ok(())
        }
        EmotionCmd::Train { data, out, epochs } => {
            let mut cfg = emotion::train::TrainConfig::default();
            if let Some(e) = epochs {
                cfg.epochs = e;
            }
            let (_, log) = emotion::pipeline::train_cmd(&data, &out, &cfg)?;
            std::fs::create_dir_all(out.join("report"))?;
            std::fs::write(
                out.join("report/emotion-training.json"),
                serde_json::to_string_pretty(&log)? + "\n",
            )?;
            let model = out.join(emotion::pipeline::MODEL_FILE);
            emotion_evaluate(&data, None, &model, &out, None)
        }
        EmotionCmd::Evaluate {
            data,
            test,
            model,
            out,
            json,
        } => emotion_evaluate(&data, test.as_deref(), &model, &out, json.as_deref()),
        EmotionCmd::Transfer {
            data,
            model,
            shipped,
            report,
        } => {
            let log = emotion::transfer::train_cmd(&data, &model)?;
            let e = emotion::transfer_report::evaluate_cmd(
                &data,
                None,
                &model,
                &shipped,
                Path::new("public"),
            )?;
            let md = emotion::transfer_report::markdown(&e, Some(&log));
            print!("{md}");
            if let Some(dir) = report.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&report, md)?;
            std::fs::write(
                report.with_extension("json"),
                serde_json::to_string_pretty(
                    &serde_json::json!({"training": log, "evaluation": e}),
                )? + "\n",
            )?;
            Ok(())
        }
        EmotionCmd::Predict { model, json, files } => {
            let bytes =
                std::fs::read(&model).with_context(|| format!("reading {}", model.display()))?;
            let model = attune_engine::models::emotion::EmotionModel::from_bytes(&bytes)?;
            let results: Vec<_> = files
                .iter()
                .map(|f| emotion::predict::predict_file(&model, f))
                .collect();
            for r in &results {
                println!("{}", r.line());
            }
            let failed = results
                .iter()
                .filter(|r| matches!(r, emotion::predict::FileResult::Err { .. }))
                .count();
            std::fs::write(&json, serde_json::to_string_pretty(&results)? + "\n")?;
            println!(
                "{} files analysed, {failed} failed; results in {}",
                results.len() - failed,
                json.display()
            );
            Ok(())
        }
    }
}

fn user_emotion_cmd(cmd: UserEmotionCmd) -> Result<()> {
    let cfg = user_emotion::train::FitConfig::default();
    match cmd {
        UserEmotionCmd::Evaluate {
            folders:
                SitunesFolders {
                    train,
                    test,
                    items,
                    json,
                },
            quick,
        } => {
            let (split, protocol) = user_emotion::load_split(&train, &test, &items)?;
            let (e, _) = user_emotion::evaluate::evaluate(&split, &cfg, quick);
            print!("{protocol}\n\n{}", user_emotion::evaluate::table(&e));
            if let Some(dir) = json.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&json, serde_json::to_string_pretty(&e)? + "\n")?;
            Ok(())
        }
        UserEmotionCmd::Train { data, out, quick } => {
            let d = data.join("situnes");
            let stage = d.join("Stage2");
            let (split, protocol) =
                user_emotion::load_split(&stage, &stage, &d.join("music_metadata/music_info.csv"))?;
            let (e, model) = user_emotion::evaluate::evaluate(&split, &cfg, quick);
            let meta = [
                ("config", serde_json::to_string(&e.config)?),
                ("best_epoch", (e.best_epoch + 1).to_string()),
                ("test_rmse", format!("{:.4}", e.rows[0].test.rmse)),
            ];
            let bytes = user_emotion::export::onnx_bytes(&model.model, &meta);
            // The file must load and run in the engine's runner before it ships.
            attune_engine::models::user_emotion::UserEmotionModel::from_bytes(&bytes)?
                .estimate(&split.test[0].input)?;
            let path = out.join(user_emotion::MODEL_FILE);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&path, &bytes)?;
            std::fs::create_dir_all(out.join("report"))?;
            let (held, held_protocol) = user_emotion::held_out_users_split(
                &stage,
                &d.join("music_metadata/music_info.csv"),
            )?;
            let (held_out, _) = user_emotion::evaluate::evaluate(&held, &cfg, quick);
            let mut md = user_emotion::markdown(
                &e,
                &protocol,
                "cargo run -p attune-model-export -- user-emotion train",
            );
            md.push('\n');
            md.push_str(&user_emotion::markdown_section(
                "Users never trained on",
                &held_out,
                &held_protocol,
            ));
            print!("{md}");
            std::fs::write(out.join("report/user-emotion.md"), md)?;
            std::fs::write(
                out.join("report/user-emotion.json"),
                serde_json::to_string_pretty(&serde_json::json!({
                    "temporal": e,
                    "users_held_out": held_out,
                }))? + "\n",
            )?;
            manifest::write_manifest(&out)?;
            println!("{} ({} bytes)", path.display(), bytes.len());
            Ok(())
        }
    }
}

fn emotion_evaluate(
    data: &Path,
    test: Option<&Path>,
    model: &Path,
    out: &Path,
    json: Option<&Path>,
) -> Result<()> {
    let e = emotion::pipeline::evaluate_cmd(data, test, model)?;
    let training = std::fs::read_to_string(out.join("report/emotion-training.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok());
    let md = emotion::pipeline::markdown(&e, training.as_ref());
    print!("{md}");
    std::fs::create_dir_all(out.join("report"))?;
    let json = json.map_or_else(|| out.join("report/emotion.json"), Path::to_path_buf);
    std::fs::write(&json, serde_json::to_string_pretty(&e)? + "\n")?;
    if test.is_none() {
        std::fs::write(out.join("report/emotion.md"), md)?;
        manifest::write_manifest(out)?;
    }
    Ok(())
}

fn grid(quick: bool) -> Vec<SvdppConfig> {
    let base = SvdppConfig::default();
    let mut out = Vec::new();
    let ks: &[usize] = if quick { &[32] } else { &[32, 64] };
    let regs: &[f32] = if quick { &[0.003] } else { &[0.001, 0.003] };
    let alphas: &[f32] = if quick { &[0.5] } else { &[0.25, 0.5] };
    let negs: &[usize] = if quick { &[8] } else { &[8, 16] };
    for &k in ks {
        for &reg in regs {
            for &alpha in alphas {
                for &negative_ratio in negs {
                    out.push(SvdppConfig {
                        k,
                        reg,
                        alpha,
                        negative_ratio,
                        ..base
                    });
                }
            }
        }
    }
    out
}

/// The shipped catalog and SVD++ model without the taste blend (what `taste-search` and
/// `taste-build` start from), each verified against the manifest.
fn load_base(assets: &Path) -> Result<attune_engine::Recommender> {
    let manifest = Manifest::parse(&std::fs::read_to_string(assets.join("manifest.json"))?)?;
    let read = |f: &str| -> Result<Vec<u8>> {
        let b = std::fs::read(assets.join(f)).with_context(|| format!("reading {f}"))?;
        manifest.verify(f, &b)?;
        Ok(b)
    };
    let catalog = attune_engine::Catalog::decode(&read(attune_engine::assets::CATALOG_FILE)?)?;
    let cf = attune_engine::CfModel::decode(&read(attune_engine::assets::CF_FILE)?)?;
    Ok(attune_engine::Recommender::new(catalog, cf)?)
}

/// The shipped catalog and CF models, verified against their manifest.
fn load_assets(assets: &Path) -> Result<attune_engine::Recommender> {
    let manifest_text = std::fs::read_to_string(assets.join("manifest.json"))
        .with_context(|| format!("reading {}/manifest.json", assets.display()))?;
    let manifest = Manifest::parse(&manifest_text)?;
    let mut bytes = std::collections::HashMap::new();
    for f in attune_engine::assets::REQUIRED_FILES {
        bytes.insert(
            f,
            std::fs::read(assets.join(f)).with_context(|| format!("reading {f}"))?,
        );
    }
    Ok(load_recommender(&manifest, |f| {
        bytes.get(f).map(Vec::as_slice)
    })?)
}

fn evaluate_cmd(data: &Path, json: &Path, test_users: Option<&Path>, assets: &Path) -> Result<()> {
    let rec = load_assets(assets)?;
    let (w, beta) = (NEURAL_WEIGHT, MoodStrength::DEFAULT.get());
    let models: [Model; 12] = [
        Model::Popularity,
        Model::Content,
        Model::ItemKnn,
        Model::Ials,
        Model::SvdppImplicitOnly,
        Model::Svdpp,
        Model::Ncf,
        Model::Hybrid {
            neural: 0.0,
            mood: beta,
        },
        Model::Hybrid {
            neural: w,
            mood: 0.0,
        },
        Model::Hybrid {
            neural: w,
            mood: 0.1,
        },
        Model::Hybrid {
            neural: w,
            mood: beta,
        },
        Model::Hybrid {
            neural: 0.0,
            mood: 1.0,
        },
    ];
    let corpus = Corpus::load(data)?;
    let mut extra = tune_baselines(&rec, &corpus);
    let ncf_scorer = ncf::load_scorer(assets, rec.catalog().artists().len())?;
    extra.ncf = Some(ncf_scorer.clone());
    let taste_cfg = taste::TasteConfig::load(Path::new("model-export/config/taste.json"))?;
    extra.named = taste::report::baselines(&taste_cfg, &corpus, &rec);
    let mut models = models.to_vec();
    models.extend((0..extra.named.len()).map(Model::Named));
    models.push(Model::Attune { mood: 0.0 });
    models.push(Model::Attune { mood: beta });
    let sweep = neural_sweep(&rec, &corpus, &extra)?;
    let own = hetrec::evaluate::users_of(&corpus, Split::Test);
    let own_name = "HetRec test split (10% of users, never trained on)";
    let mut sets = vec![run_eval(&rec, own_name, &own, &models, &extra, 7)];
    let mut by_likes = vec![taste::report::by_likes(
        own_name,
        &rec,
        &own,
        &ncf_scorer,
        &extra.named,
    )];
    if let Some(dir) = test_users {
        let plays = ingest::hetrec::load_plays(&dir.join("user_artists.dat"))?;
        let users = group_users(plays.into_iter().map(|p| (p.user, p.artist, p.plays)));
        let name = format!("external test users ({})", dir.display());
        sets.push(run_eval(&rec, &name, &users, &models, &extra, 7));
        by_likes.push(taste::report::by_likes(
            &name,
            &rec,
            &users,
            &ncf_scorer,
            &extra.named,
        ));
    }
    if let Some(dir) = json.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(
        json,
        serde_json::to_string_pretty(&serde_json::json!({
            "sets": sets,
            "neural_weight": w,
            "neural_weight_sweep": sweep,
            "taste": taste_cfg,
            "by_likes": by_likes,
        }))? + "\n",
    )?;
    let mut md = String::from("# Attune evaluation: new users folded in on the device\n\nRegenerate with `cargo run -p attune-model-export -- evaluate --data ../shared/data --json public/report/evaluation.json`.\n\nProtocol: each test user is absent from training. 80% of their artists (seeded shuffle) are folded in as plain likes, exactly as the browser does (no play counts); the full catalog is ranked, minus those likes; the other 20% are the relevant items. Metrics are means over users at k = 10. \"Emotional fit\" is the mean fit (0..1) of the top 10 to the user's taste emotion, which stands in for the stated mood; \"quadrant match\" is the share of the top 10 in the same valence-arousal quadrant.\n\n");
    md.push_str(&format!(
        "Tuned on the validation users by NDCG@10: item-kNN keeps each artist's {} most similar artists (cosine over the training users' listening; from 20, 50, 100, 200, 400); the content-based model adds its emotional fit at weight {} (from 0, 0.25, 0.5, 1, 2) and log-popularity at weight {} (from 0, 0.25, 0.5, 1, 2, 4) to its tag match; iALS uses k {}, lambda {}, alpha {} (from k 64/128, lambda 10/30, alpha 2/5 after a first grid k 32/64, lambda 1/10, alpha 5/20 peaked at its edge; 8 alternations; observed pairs binary, as the browser's likes have no play counts). NCF is the shipped `models/ncf.onnx` run by tract, as in the browser (its own search: `ncf-training.md`). Attune's taste is `(1-w)·SVD++ + w·NCF` (each standardised per user); the shipped weight w = {w:.2} (`engine::ncf::NEURAL_WEIGHT`) against the validation sweep below, where SVD++ is trained on the training users only, like NCF (the shipped SVD++ also saw the validation users, which would favour it).\n\n",
        extra.knn.as_ref().map_or(0, |k| k.k),
        extra.content.as_ref().map_or(0.0, |c| c.emotion_weight),
        extra.content.as_ref().map_or(0.0, |c| c.popularity_weight),
        extra.ials.as_ref().map_or(0, |m| m.config.k),
        extra.ials.as_ref().map_or(0.0, |m| m.config.lambda),
        extra.ials.as_ref().map_or(0.0, |m| m.config.alpha),
    ));
    md.push_str(&hetrec::report::sweep_markdown(&sweep));
    md.push('\n');
    md.push_str(&format!("The shipped taste (`taste.bin`, `engine::taste`) blends EDLAE pruned to each artist's {} strongest weights (int8), iALS with {} factors (int8, folded in exactly), SVD++ and NCF, each standardised per user, with weights item-item {:.1}, iALS {:.1}, SVD++ {:.1}, NCF {:.1}, tuned on the validation users for the mean of NDCG@10 at 80% and at 3 likes (search: `taste-search.md`). Its parts and the strongest baselines (EASE, EDLAE, RP3beta, item-kNN, iALS: the rows with their settings, chosen on the same validation users) are refitted on the training and validation users; NCF saw the training users only. Rows marked shipped are exactly what the app computes (`Recommender::taste` + `hybrid_scores`).\n\n", taste_cfg.shipped.top, taste_cfg.shipped.ials.k, taste_cfg.shipped.blend.item_item, taste_cfg.shipped.blend.ials, taste_cfg.shipped.blend.svdpp, taste_cfg.shipped.blend.neural));
    for t in &by_likes {
        md.push_str(&taste::report::markdown(t));
        md.push('\n');
    }
    for s in &sets {
        md.push_str(&hetrec::report::set_markdown(s));
        md.push('\n');
        md.push_str(&hetrec::report::ablation_markdown(s, w, beta));
        md.push('\n');
        md.push_str(&hetrec::report::sampled_markdown(s));
        md.push('\n');
        for m in &s.models {
            println!(
                "{:<60} users {:>4} P@10 {:.4} R@10 {:.4} NDCG@10 {:.4} MAP@10 {:.4} fit {:.3}",
                format!("{} / {}", s.name.split(' ').next().unwrap_or(""), m.model),
                m.metrics.users,
                m.metrics.precision,
                m.metrics.recall,
                m.metrics.ndcg,
                m.metrics.map,
                m.mean_fit
            );
        }
    }
    std::fs::create_dir_all(assets.join("report"))?;
    std::fs::write(assets.join("report/evaluation.md"), md)?;
    manifest::write_manifest(assets)?;
    Ok(())
}

/// Validation NDCG@10 of Attune's hybrid (default mood strength) for each NCF weight. The
/// shipped SVD++ was trained on the validation users too, so the sweep pairs NCF with an SVD++
/// trained like NCF, on the training users only (same catalog, the shipped configuration).
fn neural_sweep(
    rec: &attune_engine::Recommender,
    corpus: &Corpus,
    extra: &hetrec::evaluate::Extra,
) -> Result<Vec<(f32, f64)>> {
    let train_only = train_only_svdpp(rec, corpus)?;
    let val = hetrec::evaluate::users_of(corpus, Split::Validation);
    Ok([0.0, 0.25, 0.5, 0.75, 1.0]
        .into_iter()
        .map(|w| {
            let m = Model::Hybrid {
                neural: w,
                mood: MoodStrength::DEFAULT.get(),
            };
            let s = run_eval(&train_only, "validation", &val, &[m], extra, 7).models[0]
                .metrics
                .ndcg;
            eprintln!("  NCF weight {w}: validation NDCG@10 {s:.4}");
            (w, s)
        })
        .collect())
}

/// SVD++ with the shipped configuration trained on the training users only (the shipped one
/// also saw the validation users, which would favour it in any validation search).
fn train_only_svdpp(
    rec: &attune_engine::Recommender,
    corpus: &Corpus,
) -> Result<attune_engine::Recommender> {
    let cfg = hetrec::build::load_config(Path::new("model-export/config/svdpp.json"))?;
    let catalog = rec.catalog();
    let index_of = hetrec::corpus::index_of(catalog);
    let users = hetrec::corpus::user_items(corpus, |u| split_of(u) == Split::Train, &index_of);
    let cf = hetrec::svdpp::train(catalog.artists().len(), &users, &cfg)?.quantised();
    Ok(attune_engine::Recommender::new(catalog.clone(), cf)?)
}

/// The baselines the shipped assets lack, tuned by NDCG@10 on the validation users (folded in
/// exactly like the test users): item-kNN (fitted on the training users; neighbours) and the
/// content-based model (emotion weight).
fn tune_baselines(rec: &attune_engine::Recommender, corpus: &Corpus) -> hetrec::evaluate::Extra {
    let catalog = rec.catalog();
    let index_of = hetrec::corpus::index_of(catalog);
    let rows: Vec<Vec<u32>> =
        hetrec::corpus::user_items(corpus, |u| split_of(u) == Split::Train, &index_of)
            .into_iter()
            .map(|r| r.into_iter().map(|(i, _)| i).collect())
            .collect();
    let val = hetrec::evaluate::users_of(corpus, Split::Validation);
    let score = |model: Model, extra: &hetrec::evaluate::Extra| {
        run_eval(rec, "validation", &val, &[model], extra, 7).models[0]
            .metrics
            .ndcg
    };
    let best = |scored: Vec<(f64, hetrec::evaluate::Extra)>| {
        scored
            .into_iter()
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .expect("grid")
            .1
    };
    let knn = best(
        [20, 50, 100, 200, 400]
            .into_iter()
            .map(|k| {
                let e = hetrec::evaluate::Extra {
                    knn: Some(hetrec::baselines::item_knn::ItemKnn::fit(
                        &rows,
                        catalog.artists().len(),
                        k,
                    )),
                    ..Default::default()
                };
                let s = score(Model::ItemKnn, &e);
                eprintln!("  item-kNN k {k}: validation NDCG@10 {s:.4}");
                (s, e)
            })
            .collect(),
    );
    let content = best(
        [0.0, 0.25, 0.5, 1.0, 2.0]
            .into_iter()
            .flat_map(|w| [0.0, 0.25, 0.5, 1.0, 2.0, 4.0].map(|p| (w, p)))
            .map(|(w, p)| {
                let e = hetrec::evaluate::Extra {
                    content: Some(hetrec::baselines::content::ContentModel::new(rec, w, p)),
                    ..Default::default()
                };
                let s = score(Model::Content, &e);
                eprintln!(
                    "  content-based emotion weight {w}, popularity {p}: validation NDCG@10 {s:.4}"
                );
                (s, e)
            })
            .collect(),
    );
    let ials = best(
        // A first grid (k 32/64, lambda 1/10, alpha 5/20) had its best at k 64, lambda 10,
        // alpha 5, an edge: this one is centred there.
        [64, 128]
            .into_iter()
            .flat_map(|k| [10.0, 30.0].map(|l| (k, l)))
            .flat_map(|(k, l)| [2.0, 5.0].map(|a| (k, l, a)))
            .map(|(k, lambda, alpha)| {
                let cfg = hetrec::baselines::ials::IalsConfig {
                    k,
                    lambda,
                    alpha,
                    iterations: 8,
                };
                let e = hetrec::evaluate::Extra {
                    ials: Some(hetrec::baselines::ials::Ials::fit(
                        &rows,
                        catalog.artists().len(),
                        cfg,
                        7,
                    )),
                    ..Default::default()
                };
                let s = score(Model::Ials, &e);
                eprintln!("  iALS k {k} lambda {lambda} alpha {alpha}: validation NDCG@10 {s:.4}");
                (s, e)
            })
            .collect(),
    );
    hetrec::evaluate::Extra {
        knn: knn.knn,
        content: content.content,
        ials: ials.ials,
        ncf: None,
        named: Vec::new(),
    }
}

fn heart_cmd(data: &Path, json: Option<&Path>, out: &Path, demo: &Path) -> Result<()> {
    let report = situnes::heart_check::evaluate(data, Some(demo))?;
    let json = json.map_or_else(|| out.join("report/heart.json"), Path::to_path_buf);
    if let Some(dir) = json.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&json, serde_json::to_string_pretty(&report)? + "\n")?;
    std::fs::create_dir_all(out.join("report"))?;
    std::fs::write(
        out.join("report/heart.md"),
        situnes::heart_check::markdown(&report),
    )?;
    manifest::write_manifest(out)?;
    for c in std::iter::once(&report.primary).chain(&report.secondary) {
        println!(
            "r {:+.3} [{:+.3}, {:+.3}] rho {:+.3} n {:>3}  {}",
            c.r, c.ci_bootstrap_users[0], c.ci_bootstrap_users[1], c.spearman, c.n, c.what
        );
    }
    let w = &report.weight;
    println!(
        "weight = clamp(r, 0, 1) = {:.3} (engine: r {:+.3}, weight {:.3}); HR span {} bpm (engine {})",
        w.weight, w.engine_r, w.engine_weight, report.hr_scale.span_bpm, w.engine_hr_span_bpm
    );
    Ok(())
}
