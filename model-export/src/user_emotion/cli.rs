//! The `user-emotion` commands: train on SiTunes and ship the model, or evaluate on any
//! SiTunes-layout folders.

use crate::situnes::cli::SitunesFolders;
use crate::{manifest, user_emotion};
use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum UserEmotionCmd {
    /// Evaluate on SiTunes Stage 2 (split in time), then write the model to
    /// `<out>/models/user-emotion.onnx` and the report to `<out>/report/user-emotion.{md,json}`.
    Train {
        #[command(flatten)]
        dirs: crate::options::Dirs,
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

pub fn user_emotion_cmd(cmd: UserEmotionCmd) -> Result<()> {
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
        UserEmotionCmd::Train {
            dirs: crate::options::Dirs { data, out },
            quick,
        } => {
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
