//! `idsync init`: write a commented starter configuration.

use std::path::PathBuf;

use anyhow::{Context, bail};

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Where to write it.
    #[arg(default_value = "idsync.toml")]
    pub path: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: &InitArgs) -> anyhow::Result<u8> {
    if args.path.exists() && !args.force {
        bail!(
            "{} exists; pass --force to overwrite it",
            args.path.display()
        );
    }
    std::fs::write(&args.path, config::starter_config())
        .with_context(|| format!("cannot write {}", args.path.display()))?;
    println!(
        "wrote {}; edit it, then run `idsync check -c {}`",
        args.path.display(),
        args.path.display()
    );
    Ok(crate::exit::OK)
}
