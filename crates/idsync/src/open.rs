//! Opening a configuration and its store, the way every command does.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use config::{Config, StoreConfig};
use store::SqliteStore;

/// A loaded configuration, or the exit code after its diagnostics were printed.
pub fn load_config(path: &Path) -> Result<Config, u8> {
    match config::load(path) {
        Ok(config) => Ok(config),
        Err(diagnostics) => {
            eprintln!("{diagnostics}");
            Err(crate::exit::CONFIG)
        }
    }
}

/// The store, held exclusively for the life of this value: two runs on one store at once
/// would each think they own the pending exports.
pub struct OpenStore {
    pub store: SqliteStore,
    _lock: File,
}

impl std::fmt::Debug for OpenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpenStore")
    }
}

pub fn store_path(config: &Config) -> anyhow::Result<PathBuf> {
    match &config.store {
        StoreConfig::Sqlite { path } => {
            Ok(config.path.parent().unwrap_or(Path::new(".")).join(path))
        }
        StoreConfig::Postgres { .. } => bail!(
            "the PostgreSQL store is not available in this build yet; use [store] path = \"idsync.db\""
        ),
    }
}

pub fn open_store(config: &Config) -> anyhow::Result<OpenStore> {
    let path = store_path(config)?;
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the store's directory {}", dir.display()))?;
    }
    let lock_path = path.with_extension("lock");
    let lock = File::create(&lock_path)
        .with_context(|| format!("cannot create the lock file {}", lock_path.display()))?;
    if lock.try_lock().is_err() {
        bail!(
            "another idsync process is using the store {} (lock {} is held)",
            path.display(),
            lock_path.display()
        );
    }
    let store = SqliteStore::open(&path)
        .with_context(|| format!("cannot open the store {}", path.display()))?;
    Ok(OpenStore { store, _lock: lock })
}
