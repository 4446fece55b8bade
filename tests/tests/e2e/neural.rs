//! Neural CF in the browser: a user with likes opens the app; the worker runs `models/ncf.onnx`
//! under tract on their likes, it joins the shipped taste blend (`taste.bin`), and the list shown
//! is the one the engine ranks natively with the native tract run of the same model. A corrupt
//! model is reported and the list falls back to the blend without it (again equal to the native
//! ranking).

use anyhow::{ensure, Context, Result};
use attune_e2e::app::ids;
use attune_e2e::{dist_dir, with_ready_app, Fault, Harness};
use attune_engine::models::ncf::NcfModel;
use attune_engine::taste::TasteModel;
use attune_engine::{ArtistIdx, Catalog, CfModel, MoodStrength, Profile, Recommender, Request};

const LIKES: &[&str] = &["Radiohead", "Portishead", "Massive Attack", "Björk"];

/// The served catalog, CF models and NCF model.
struct Native {
    rec: Recommender,
    ncf: NcfModel,
}

impl Native {
    fn load() -> Result<Native> {
        let public = dist_dir()?.join("public");
        let catalog = Catalog::decode(&std::fs::read(public.join("catalog.bin"))?)?;
        let cf = CfModel::decode(&std::fs::read(public.join("cf.bin"))?)?;
        let n = catalog.artists().len();
        Ok(Native {
            rec: Recommender::new(catalog, cf)?.with_taste(TasteModel::decode(&std::fs::read(
                public.join("taste.bin"),
            )?)?)?,
            ncf: NcfModel::from_bytes(&std::fs::read(public.join("models/ncf.onnx"))?, n)?,
        })
    }

    fn likes(&self) -> Result<Vec<ArtistIdx>> {
        LIKES
            .iter()
            .map(|name| {
                let c = self.rec.catalog();
                c.artists()
                    .iter()
                    .position(|a| a.name == *name)
                    .map(|i| ArtistIdx(i as u32))
                    .with_context(|| format!("{name} is not in the catalog"))
            })
            .collect()
    }

    fn profile(&self) -> Result<Profile> {
        let mut p = Profile::default();
        for a in self.likes()? {
            p.likes.push(self.rec.catalog().artist(a).id);
        }
        Ok(p)
    }

    /// Artist ids of the native top ten (no mood, default strength), with or without NCF.
    fn top(&self, neural: bool) -> Result<Vec<String>> {
        let likes = self.likes()?;
        let scores = self.ncf.scores(&likes)?;
        let recs = self.rec.recommend(&Request {
            likes: &likes,
            mood: None,
            mood_strength: MoodStrength::DEFAULT,
            exclude: &[],
            neural: neural.then_some(&scores[..]),
            k: attune_e2e::app::REC_COUNT,
        });
        Ok(recs
            .iter()
            .map(|r| self.rec.catalog().artist(r.artist).id.to_string())
            .collect())
    }
}

async fn neural_attr(h: &Harness) -> Result<(String, String)> {
    let v = h
        .js(
            "(() => { const d = document.querySelector('#recommendations')?.dataset; \
             return [d?.neural ?? '', d?.neuralStatus ?? '']; })()",
        )
        .await?;
    Ok((
        v[0].as_str().unwrap_or_default().to_string(),
        v[1].as_str().unwrap_or_default().to_string(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_neural_taste_joins_the_ranking_and_equals_the_native_run() -> Result<()> {
    let native = Native::load()?;
    let with = native.top(true)?;
    let without = native.top(false)?;
    ensure!(
        with != without,
        "NCF does not change the native top ten for these likes: the test could not tell"
    );
    with_ready_app("neural", async |h: &mut Harness| {
        h.seed_profile(&native.profile()?.to_json()).await?;
        let recs = h.wait_recs().await?;
        let (state, status) = neural_attr(h).await?;
        ensure!(
            state == "on" && status == "ready",
            "the neural taste is {state:?} ({status:?})"
        );
        let shown: Vec<String> = ids(&recs).into_iter().map(String::from).collect();
        ensure!(
            shown == with,
            "browser top ten {shown:?} != native taste with NCF {with:?} (without: {without:?})"
        );
        let hint = h
            .js("document.querySelector('.recs .hint')?.innerText ?? ''")
            .await?;
        ensure!(
            hint.as_str().unwrap_or_default().contains("neural CF"),
            "the summary does not say the neural model is in use: {hint}"
        );
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_neural_model_is_reported_and_the_rest_of_the_taste_ranks() -> Result<()> {
    let native = Native::load()?;
    let without = native.top(false)?;
    let mut h = Harness::start("corrupt-ncf").await?;
    h.server.set_fault("ncf.onnx", Fault::Corrupt);
    h.open().await?;
    h.wait_ready().await?;
    h.seed_profile(&native.profile()?.to_json()).await?;
    let recs = h.wait_recs().await?;
    let (state, status) = neural_attr(&h).await?;
    ensure!(
        state == "off" && status.starts_with("failed") && status.contains("ncf.onnx"),
        "a corrupt ncf.onnx is not reported clearly: {state:?} {status:?}"
    );
    let note = h
        .js("document.querySelector('#neural-error')?.innerText ?? ''")
        .await?;
    let note = note.as_str().unwrap_or_default();
    ensure!(
        note.contains("ncf.onnx") && note.contains("without the neural model"),
        "no clear note for the user: {note:?}"
    );
    let shown: Vec<String> = ids(&recs).into_iter().map(String::from).collect();
    ensure!(
        shown == without,
        "browser top ten {shown:?} != native taste without NCF {without:?}"
    );
    h.finish().await
}
