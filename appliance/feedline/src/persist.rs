//! Where the running configuration comes from: the store in the data directory (seeded once from
//! the TOML file), and the offline `import`/`export` commands.

use anyhow::Context;
use feedline_config::Config;
use feedline_store::{Store, StoreError};
use std::path::Path;
use tracing::{error, info, warn};

/// Reads and validates a config file; the error names the file and every bad field.
pub fn read_config_file(path: &Path) -> anyhow::Result<Config> {
    feedline_config::read_file(path)
        .map_err(|e| anyhow::anyhow!("{}: invalid configuration\n{e}", path.display()))
}

/// What `run` starts with.
pub enum Startup {
    Normal(Config, Store),
    /// The store cannot be used; run no channels, say why, and do not crash-loop.
    SafeMode(String),
}

pub fn load_for_run(data_dir: &Path, seed: Option<&Path>) -> anyhow::Result<Startup> {
    let store = match Store::open(data_dir) {
        Ok(store) => store,
        Err(e @ (StoreError::Unreadable { .. } | StoreError::NewerVersion { .. })) => {
            return Ok(Startup::SafeMode(e.to_string()))
        }
        Err(e) => return Err(e).context("opening the store"),
    };
    match store.config() {
        Ok(Some((config, revision))) => {
            if seed.is_some() {
                warn!("--config is ignored: the store already holds a configuration (revision {revision}); use `feedline import` to replace it");
            }
            info!(store = %store.path().display(), revision, "configuration loaded from the store");
            Ok(Startup::Normal(config, store))
        }
        Ok(None) => {
            let config = match seed {
                Some(path) => read_config_file(path)?,
                None => Config::default(),
            };
            let revision = store.save_config(&config)?;
            info!(store = %store.path().display(), revision, seeded_from = %seed.map(|p| p.display().to_string()).unwrap_or_else(|| "built-in default".into()),
                "store seeded on first start");
            Ok(Startup::Normal(config, store))
        }
        Err(e) => Ok(Startup::SafeMode(e.to_string())),
    }
}

pub fn import(data_dir: &Path, file: &Path) -> anyhow::Result<u64> {
    let mut config = read_config_file(file)?;
    if let Some(field) = config.first_redacted_secret() {
        anyhow::bail!("{field}: is the redaction placeholder of an export; re-export with --include-secrets or set the real passphrase");
    }
    let store = Store::open(data_dir)?;
    let revision = store.save_config(&config)?;
    Ok(revision)
}

pub fn export(data_dir: &Path, include_secrets: bool) -> anyhow::Result<String> {
    let store = Store::open(data_dir)?;
    let (config, _) = store.config()?.ok_or_else(|| {
        anyhow::anyhow!(
            "the store in {} holds no configuration yet",
            data_dir.display()
        )
    })?;
    let config = if include_secrets {
        config
    } else {
        config.redacted()
    };
    Ok(toml::to_string(&config)?)
}

pub fn safe_mode_alarm(reason: &str) {
    error!(%reason, "SAFE MODE: the stored configuration cannot be used; no channel is running. Fix or move the store, or `feedline import` a valid config");
}
