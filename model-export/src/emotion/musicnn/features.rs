//! musicnn's features of one excerpt: the middle [`EXCERPT_SECONDS`] of the audio, at the
//! engine's level ([`audio::musicnn::at_level`]), cut into 3 s patches, run through the rebuilt
//! network, averaged over the patches. Cached outside git by the audio's content hash.

use super::graph::{PENULTIMATE_WIDTH, POOL_WIDTH, TAGS};
use anyhow::{anyhow, Result};
use attune_engine::audio::{self, mel::N_MELS, musicnn};
use attune_engine::models::emotion::EXCERPT_SECONDS;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use tract_onnx::prelude::*;

/// Bumped whenever the front end, the excerpt or the network changes.
const CACHE_VERSION: &str = "musicnn-features-v1";

/// The mean over an excerpt's patches of each of musicnn's feature layers.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    /// Max and mean over time of the mid end (1,506).
    pub pool: Vec<f32>,
    /// The penultimate layer (200).
    pub penultimate: Vec<f32>,
    /// The 50 MSD tag probabilities.
    pub tags: Vec<f32>,
}

impl Features {
    fn to_bytes(&self) -> Vec<u8> {
        self.pool
            .iter()
            .chain(&self.penultimate)
            .chain(&self.tags)
            .flat_map(|x| x.to_le_bytes())
            .collect()
    }

    fn from_bytes(b: &[u8]) -> Option<Features> {
        let v: Vec<f32> = b
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        (v.len() == POOL_WIDTH + PENULTIMATE_WIDTH + TAGS).then(|| Features {
            pool: v[..POOL_WIDTH].to_vec(),
            penultimate: v[POOL_WIDTH..POOL_WIDTH + PENULTIMATE_WIDTH].to_vec(),
            tags: v[POOL_WIDTH + PENULTIMATE_WIDTH..].to_vec(),
        })
    }
}

/// The rebuilt network, ready to run (shared by threads).
pub struct Extractor {
    plan: Arc<TypedRunnableModel>,
}

impl Extractor {
    /// Loads musicnn from the cached wheel.
    pub fn load() -> Result<Extractor> {
        let bytes = super::extractor_bytes(&super::load_checkpoint()?)?;
        let plan = tract_onnx::onnx()
            .model_for_read(&mut &bytes[..])?
            .into_optimized()?
            .into_runnable()?;
        Ok(Extractor { plan })
    }

    /// The features of mono `samples` at `rate` (the middle [`EXCERPT_SECONDS`]).
    pub fn features(&self, samples: &[f32], rate: u32) -> Result<Features> {
        let excerpt = audio::excerpt(samples, rate, EXCERPT_SECONDS);
        let p = musicnn::patches(excerpt, rate)?;
        let x = Tensor::from_shape(&[p.count(), musicnn::PATCH_FRAMES, N_MELS], p.data())?;
        let out = self.plan.run(tvec!(x.into()))?;
        let mean = |i: usize, width: usize| -> Result<Vec<f32>> {
            let v = out[i].to_plain_array_view::<f32>()?;
            let v: Vec<f32> = v.iter().copied().collect();
            if v.len() != width * p.count() || v.iter().any(|x| !x.is_finite()) {
                return Err(anyhow!(
                    "musicnn gave {} values for {} patches",
                    v.len(),
                    p.count()
                ));
            }
            Ok((0..width)
                .map(|j| (0..p.count()).map(|k| v[k * width + j]).sum::<f32>() / p.count() as f32)
                .collect())
        };
        Ok(Features {
            pool: mean(0, POOL_WIDTH)?,
            penultimate: mean(1, PENULTIMATE_WIDTH)?,
            tags: mean(2, TAGS)?,
        })
    }

    /// [`Extractor::features`] of the audio `load` gives, cached under `key` (a content hash of
    /// whatever the audio was made from).
    pub fn cached(
        &self,
        key: &[u8],
        load: impl FnOnce() -> Result<(Vec<f32>, u32)>,
    ) -> Result<Features> {
        let name = hex::encode(Sha256::digest([CACHE_VERSION.as_bytes(), key].concat()));
        let path = cache_path(&name);
        if let Some(f) = std::fs::read(&path)
            .ok()
            .and_then(|b| Features::from_bytes(&b))
        {
            return Ok(f);
        }
        let (samples, rate) = load()?;
        let f = self.features(&samples, rate)?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::create_dir_all(path.parent().unwrap()).is_ok()
            && std::fs::write(&tmp, f.to_bytes()).is_ok()
        {
            let _ = std::fs::rename(&tmp, &path);
        }
        Ok(f)
    }
}

fn cache_path(name: &str) -> PathBuf {
    crate::emotion::dataset::cache_dir()
        .join("musicnn-features")
        .join(format!("{name}.f32"))
}

/// Runs `f` on every item on all cores, in order, with a progress line every 100.
pub fn par_map<T: Sync, R: Send>(
    items: &[T],
    what: &str,
    f: impl Fn(&T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Result<R>>>> =
        items.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                *results[i].lock().unwrap() = Some(f(item));
                if (i + 1).is_multiple_of(100) {
                    eprintln!("  {}/{} {what}", i + 1, items.len());
                }
            });
        }
    });
    results
        .into_iter()
        .map(|r| r.into_inner().unwrap().expect("every item ran"))
        .collect()
}

/// musicnn's features of every EMOPIA clip (rendered as for the CNN), cached by the MIDI's bytes.
pub fn clip_features(
    ex: &Extractor,
    clips: &[crate::emotion::dataset::Clip],
) -> Result<Vec<Features>> {
    use crate::emotion::render::{render_midi, RENDER_RATE};
    par_map(clips, "clips' musicnn features", |c| {
        let bytes = std::fs::read(&c.path)?;
        ex.cached(&[b"emopia-fluidr3:".as_slice(), &bytes].concat(), || {
            Ok((render_midi(&c.path)?, RENDER_RATE))
        })
    })
}
