//! The `spark` and `import-factors` commands.

use super::factors::Missing;
use super::log::Users;
use super::{import, log, parity, scale, tune, SETTINGS};
use crate::hetrec::corpus::Corpus;
use crate::manifest::write_report;
use crate::taste::search::Data;
use anyhow::{bail, Result};
use attune_engine::taste::{TasteModel, TASTE_FILE};
use std::path::{Path, PathBuf};

/// `model-export spark ...`.
#[derive(clap::Subcommand)]
pub enum SparkCmd {
    /// Write the listening log Spark trains on (CSV `user,item,count`, catalogue artists only).
    Log {
        #[command(flatten)]
        dirs: crate::options::Dirs,
        /// Whose listening.
        #[arg(long, value_enum, default_value = "train")]
        users: Users,
        /// The CSV file.
        #[arg(long)]
        file: PathBuf,
    },
    /// Choose regParam for Spark's per-entry objective on the validation users (in process).
    Tune {
        #[command(flatten)]
        dirs: crate::options::Dirs,
    },
    /// Spark's factors against the in-process iALS with the same settings, on the validation
    /// users; fails when NDCG@10 at 80% differs by more than 0.005.
    Check {
        #[command(flatten)]
        dirs: crate::options::Dirs,
        /// Spark's output (trained on `spark log --users train`).
        #[arg(long)]
        parquet: PathBuf,
        /// Where `spark-als.md` and `spark-als.json` go.
        #[arg(long, default_value = "model-export/reports")]
        report: PathBuf,
        /// Accept a Spark run with other settings than the validated ones (a smaller model for
        /// the parity test); the in-process iALS trains with the run's settings either way.
        #[arg(long)]
        other_settings: bool,
    },

    /// Training time and memory of EASE and iALS against catalogue size, on synthetic logs shaped
    /// like HetRec (`scale-training.md`).
    Scale {
        #[command(flatten)]
        dirs: crate::options::Dirs,
        /// Catalogue sizes.
        #[arg(long, value_delimiter = ',', default_value = "2000,4000,8000,16000")]
        sizes: Vec<usize>,
        /// Where `scale-training.md` and `.json` go.
        #[arg(long, default_value = "model-export/reports")]
        report: PathBuf,
    },
    /// One measurement of `scale`, in its own process (prints JSON).
    #[command(hide = true)]
    ScaleOne {
        #[command(flatten)]
        dirs: crate::options::Dirs,
        /// Which family.
        #[arg(long, value_enum)]
        family: scale::Family,
        /// Catalogue size.
        #[arg(long)]
        items: usize,
    },
}

/// `model-export import-factors`.
pub fn import_factors(parquet: &Path, out: &Path, missing: Missing) -> Result<()> {
    let r = import::import(parquet, out, missing)?;
    println!(
        "taste.bin: {} B, iALS part from {} (Spark {}, rank {}, {} s); {} artists without factors",
        r.bytes,
        parquet.display(),
        r.run.spark,
        r.run.settings.rank,
        r.run.seconds,
        r.missing
    );
    Ok(())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `model-export spark ...`.
pub fn command(cmd: SparkCmd) -> Result<()> {
    match cmd {
        SparkCmd::Log {
            dirs: crate::options::Dirs { data, out },
            users,
            file,
        } => {
            let catalog = import::catalog(&out)?;
            let n = log::write(&Corpus::load(&data)?, &catalog, users, &file)?;
            println!("{}: {n} entries", file.display());
            Ok(())
        }
        SparkCmd::Tune {
            dirs: crate::options::Dirs { data, out },
        } => {
            let catalog = import::catalog(&out)?;
            let corpus = Corpus::load(&data)?;
            let taste =
                crate::taste::TasteConfig::load(Path::new("model-export/config/taste.json"))?;
            let t = tune::tune(&Data::new(&catalog, &corpus), &taste.shipped.ials)?;
            std::fs::write(SETTINGS, serde_json::to_string_pretty(&t)? + "\n")?;
            println!("{SETTINGS}: {:?}", t.settings);
            Ok(())
        }
        SparkCmd::Scale {
            dirs: crate::options::Dirs { data, out },
            sizes,
            report,
        } => {
            let points = scale::measure(&sizes, &data, &out)?;
            let md = scale::markdown(&points, cores());
            write_report(&report, "scale-training", &md, &points)?;
            Ok(())
        }
        SparkCmd::ScaleOne {
            dirs: crate::options::Dirs { data, out },
            family,
            items,
        } => {
            let catalog = import::catalog(&out)?;
            let d = Data::new(&catalog, &Corpus::load(&data)?);
            let real = crate::taste::rows(&d.train, crate::taste::Input::Binary);
            let m = scale::measure_one(&real, d.catalog.artists().len(), family, items);
            println!("{}", serde_json::to_string(&m)?);
            Ok(())
        }
        SparkCmd::Check {
            dirs: crate::options::Dirs { data, out },
            parquet,
            report,
            other_settings,
        } => {
            let catalog = import::catalog(&out)?;
            let corpus = Corpus::load(&data)?;
            let run = super::SparkRun::load(&parquet)?;
            let committed = super::AlsSettings::load(Path::new(SETTINGS))?;
            if run.settings != committed && !other_settings {
                bail!(
                    "Spark ran with {:?}, the validated settings ({SETTINGS}) are {committed:?}",
                    run.settings
                );
            }
            let taste = TasteModel::decode(&crate::manifest::verified(&out, TASTE_FILE)?)?;
            let p = parity::check(&Data::new(&catalog, &corpus), run, &taste.ials)?;
            write_report(&report, "spark-als", &parity::markdown(&p), &p)?;
            if !p.pass {
                bail!(
                    "Spark's NDCG@10 differs from the in-process iALS by {:+.4} (more than {})",
                    p.spark_minus_in_process.diff,
                    parity::TOLERANCE
                );
            }
            Ok(())
        }
    }
}
