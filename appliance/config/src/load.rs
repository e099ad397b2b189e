//! Reading a config: TOML text → `Config`, with the field path of any unknown key or wrong type.

use crate::{field_path, Config, ValidationErrors};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Syntax(String),
    /// A key that does not exist or a value of the wrong type, at `path`.
    #[error("{path}: {message}")]
    Field { path: String, message: String },
    #[error("{0}")]
    Invalid(#[from] ValidationErrors),
}

/// Parses and validates TOML text.
pub fn parse(text: &str) -> Result<Config, LoadError> {
    let deserializer = toml::Deserializer::new(text);
    let config: Config = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let mut path = e.path().to_string();
        let inner = e.into_inner();
        let mut message = clean_message(inner.message());
        // A list read item by item (an SRT group's links) names the item in its message.
        if let Some((item, rest)) = nested_item(&message) {
            path = format!("{path}.{item}");
            message = rest.to_string();
        }
        // Internally tagged tables (outputs, inputs) are buffered by serde, so the path stops at
        // the table; put the offending key back on it.
        if let Some(located) = document(text).and_then(|d| field_path::locate(&d, &path, &message))
        {
            path = located;
        } else if let Some(key) = unknown_field(&message) {
            if !path.ends_with(&format!(".{key}")) {
                path = format!("{path}.{key}");
            }
        }
        if path.is_empty() || path == "." {
            LoadError::Syntax(inner.to_string().trim().to_string())
        } else {
            LoadError::Field { path, message }
        }
    })?;
    config.validate()?;
    Ok(config)
}

/// Reads, parses and validates a config file.
pub fn read_file(path: &Path) -> Result<Config, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text)
}

/// The config as plain data, to find a key in (only after the typed read failed).
fn document(text: &str) -> Option<serde_json::Value> {
    let table: toml::Table = toml::from_str(text).ok()?;
    serde_json::to_value(table).ok()
}

/// `links[1]: unknown field …` → (`links[1]`, `unknown field …`).
fn nested_item(message: &str) -> Option<(&str, &str)> {
    let (item, rest) = message.split_once(": ")?;
    let (key, index) = item.strip_suffix(']')?.split_once('[')?;
    let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    (plain(key) && index.parse::<usize>().is_ok()).then_some((item, rest))
}

fn unknown_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
}

/// serde's messages end with a list of expected variants or fields; keep them, but on one line.
fn clean_message(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}
