//! The appliance's persistent state in one redb file: the running configuration and its revision,
//! which channels an operator stopped, users, API tokens, and the audit and event logs.
//!
//! A box at a venue loses power. Every change is validated *before* it is written, and written in
//! one redb transaction (copy-on-write B-trees, committed with an fsync), so after a `kill -9` or
//! a power cut the store holds either the previous configuration or the new one, never a mix.
//! The configuration is kept as TOML text in the same schema as the config file, so `export`
//! gives exactly what `check-config` and `import` accept.

mod auth;
mod logs;
mod records;

pub use records::{now_ms, ApiToken, AuditEntry, Event, EventQuery, Role, Severity, User};

use feedline_config::{Config, ValidationErrors};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Layout version of the store. A store written by a newer Feedline is refused (safe mode), never
/// rewritten: downgrading must not destroy an operator's configuration.
pub const SCHEMA_VERSION: u64 = 1;
pub const FILE_NAME: &str = "feedline.redb";

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const CONFIG: TableDefinition<&str, &str> = TableDefinition::new("config");
/// Channels an operator stopped; every other configured channel runs (also after power loss).
const STOPPED: TableDefinition<&str, u64> = TableDefinition::new("stopped_channels");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create data directory {path}: {source}")]
    Directory {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("store {path} cannot be opened: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("store {path} is in use by a running feedline; stop it first, or use the API")]
    InUse { path: PathBuf },
    #[error("store {path} was written by a newer Feedline (schema {found}, this build reads up to {supported})")]
    NewerVersion {
        path: PathBuf,
        found: u64,
        supported: u64,
    },
    #[error("stored configuration is invalid: {0}")]
    StoredConfigInvalid(String),
    #[error("{0}")]
    Invalid(#[from] ValidationErrors),
    #[error("store operation failed: {0}")]
    Database(String),
    #[error("{0}")]
    Conflict(String),
}

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

pub struct Store {
    db: Database,
    path: PathBuf,
}

impl Store {
    /// Opens (or creates) the store in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Directory {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(FILE_NAME);
        let db = Database::create(&path).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => StoreError::InUse { path: path.clone() },
            other => StoreError::Unreadable {
                path: path.clone(),
                reason: other.to_string(),
            },
        })?;
        let store = Store { db, path };
        store.check_schema()?;
        Ok(store)
    }

    /// A store in memory: what safe mode runs on when the file cannot be used, so that users
    /// can still be set up and log in to see why.
    pub fn in_memory() -> Result<Store, StoreError> {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(db_err)?;
        let store = Store {
            db,
            path: PathBuf::from(":memory:"),
        };
        store.check_schema()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check_schema(&self) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        {
            let mut meta = txn.open_table(META).map_err(db_err)?;
            let found = meta.get("schema").map_err(db_err)?.map(|v| v.value());
            match found {
                Some(v) if v > SCHEMA_VERSION => {
                    return Err(StoreError::NewerVersion {
                        path: self.path.clone(),
                        found: v,
                        supported: SCHEMA_VERSION,
                    })
                }
                Some(_) => {}
                None => {
                    meta.insert("schema", SCHEMA_VERSION).map_err(db_err)?;
                }
            }
        }
        txn.commit().map_err(db_err)
    }

    /// The stored configuration and its revision, or `None` before the first save.
    pub fn config(&self) -> Result<Option<(Config, u64)>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = match txn.open_table(CONFIG) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(db_err(e)),
        };
        let Some(text) = table.get("current").map_err(db_err)? else {
            return Ok(None);
        };
        let config = feedline_config::parse(text.value())
            .map_err(|e| StoreError::StoredConfigInvalid(e.to_string()))?;
        let meta = txn.open_table(META).map_err(db_err)?;
        let revision = meta
            .get("revision")
            .map_err(db_err)?
            .map(|v| v.value())
            .unwrap_or(0);
        Ok(Some((config, revision)))
    }

    /// Validates, then atomically replaces the stored configuration. Returns the new revision;
    /// when this returns, the change is on disk.
    pub fn save_config(&self, config: &Config) -> Result<u64, StoreError> {
        self.save_config_audited(config, None)
    }

    /// As `save_config`, with the audit entry written in the same transaction: the log never
    /// shows a change that did not happen, nor misses one that did.
    pub fn save_config_audited(
        &self,
        config: &Config,
        audit: Option<&AuditEntry>,
    ) -> Result<u64, StoreError> {
        config.validate()?;
        let text = toml::to_string(config).map_err(db_err)?;
        let txn = self.db.begin_write().map_err(db_err)?;
        if let Some(entry) = audit {
            logs::append_audit(&txn, entry)?;
        }
        let revision = {
            let mut meta = txn.open_table(META).map_err(db_err)?;
            let next = meta
                .get("revision")
                .map_err(db_err)?
                .map(|v| v.value())
                .unwrap_or(0)
                + 1;
            meta.insert("revision", next).map_err(db_err)?;
            let mut table = txn.open_table(CONFIG).map_err(db_err)?;
            table.insert("current", text.as_str()).map_err(db_err)?;
            next
        };
        txn.commit().map_err(db_err)?;
        Ok(revision)
    }

    /// The channels an operator stopped.
    pub fn stopped_channels(&self) -> Result<BTreeSet<String>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = match txn.open_table(STOPPED) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(BTreeSet::new()),
            Err(e) => return Err(db_err(e)),
        };
        let mut names = BTreeSet::new();
        for row in table.iter().map_err(db_err)? {
            let (name, _) = row.map_err(db_err)?;
            names.insert(name.value().to_string());
        }
        Ok(names)
    }

    /// Records that a channel should (not) run, so a restart brings back what was running.
    pub fn set_channel_running(
        &self,
        channel: &str,
        running: bool,
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError> {
        self.write(|txn| {
            let mut table = txn.open_table(STOPPED).map_err(db_err)?;
            if running {
                table.remove(channel).map_err(db_err)?;
            } else {
                table.insert(channel, now_ms()).map_err(db_err)?;
            }
            drop(table);
            if let Some(entry) = audit {
                logs::append_audit(txn, entry)?;
            }
            Ok(())
        })
    }

    /// Runs `f` in one write transaction and commits it (durably) if `f` succeeds.
    fn write<T>(
        &self,
        f: impl FnOnce(&WriteTransaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let txn = self.db.begin_write().map_err(db_err)?;
        let value = f(&txn)?;
        txn.commit().map_err(db_err)?;
        Ok(value)
    }

    /// Opens a table for reading; a table never written yet reads as empty (`None`).
    fn read_table<K: redb::Key + 'static, V: redb::Value + 'static, T>(
        &self,
        def: TableDefinition<K, V>,
        f: impl FnOnce(&redb::ReadOnlyTable<K, V>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        match txn.open_table(def) {
            Ok(t) => f(&t).map(Some),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(db_err(e)),
        }
    }
}

impl Store {
    /// Every record of a table of JSON values keyed by name; empty before the first write.
    fn all_json<T: serde::de::DeserializeOwned>(
        &self,
        def: TableDefinition<&str, &str>,
    ) -> Result<Vec<T>, StoreError> {
        Ok(self
            .read_table(def, |t| {
                let mut records = Vec::new();
                for row in t.iter().map_err(db_err)? {
                    let (_, v) = row.map_err(db_err)?;
                    records.push(from_json(v.value())?);
                }
                Ok(records)
            })?
            .unwrap_or_default())
    }

    /// One record of a table of JSON values keyed by name.
    fn one_json<T: serde::de::DeserializeOwned>(
        &self,
        def: TableDefinition<&str, &str>,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        Ok(self
            .read_table(def, |t| match t.get(key).map_err(db_err)? {
                Some(v) => from_json(v.value()).map(Some),
                None => Ok(None),
            })?
            .flatten())
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(db_err)
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(db_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_store_has_no_config_then_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        assert!(store.config().expect("read").is_none());
        let mut config = Config::default();
        config.channels[0].ladder[1].bitrate_kbps = 2500;
        assert_eq!(store.save_config(&config).expect("save"), 1);
        assert_eq!(store.save_config(&config).expect("save"), 2);
        drop(store);
        let reopened = Store::open(dir.path()).expect("reopen");
        assert_eq!(reopened.config().expect("read"), Some((config, 2)));
    }

    #[test]
    fn invalid_config_is_refused_and_nothing_changes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        store.save_config(&Config::default()).expect("save");
        let mut bad = Config::default();
        bad.channels[0].ladder[0].bitrate_kbps = 0;
        let err = store.save_config(&bad).expect_err("must be refused");
        assert!(
            err.to_string()
                .contains("channels[0].ladder[0].bitrate_kbps"),
            "{err}"
        );
        assert_eq!(store.config().expect("read"), Some((Config::default(), 1)));
    }

    #[test]
    fn a_newer_store_is_refused_not_rewritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let store = Store::open(dir.path()).expect("open");
            let txn = store.db.begin_write().expect("txn");
            txn.open_table(META)
                .expect("meta")
                .insert("schema", SCHEMA_VERSION + 1)
                .expect("insert");
            txn.commit().expect("commit");
        }
        let err = Store::open(dir.path()).err().expect("must be refused");
        assert!(
            matches!(err, StoreError::NewerVersion { found, .. } if found == SCHEMA_VERSION + 1),
            "{err}"
        );
    }

    #[test]
    fn garbage_file_is_reported_as_unreadable() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join(FILE_NAME),
            b"this is not a redb file at all, just text",
        )
        .expect("write");
        let err = Store::open(dir.path()).err().expect("must fail");
        assert!(matches!(err, StoreError::Unreadable { .. }), "{err}");
    }
}
