//! The options every command that reads the data and writes the site shares: same names, same
//! defaults.

use std::path::PathBuf;

/// `--data` and `--out`.
#[derive(clap::Args, Debug, Clone)]
pub struct Dirs {
    /// The shared data root (holds hetrec2011_lastfm_2k/, situnes/, emopia/, lexicons/, ...).
    #[arg(long, default_value = "../shared/data")]
    pub data: PathBuf,
    /// The site's asset folder (`public/`; `--assets` is an old name).
    #[arg(long, alias = "assets", default_value = "public")]
    pub out: PathBuf,
}
