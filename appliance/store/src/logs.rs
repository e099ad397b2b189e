//! The audit log (every change) and the event log (what happened to the media), both append-only
//! and paged newest first. The event log is bounded so a flapping link cannot fill the disk.

use crate::{db_err, from_json, to_json, AuditEntry, Event, EventQuery, Store, StoreError};
use redb::{ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction};

const AUDIT: TableDefinition<u64, &str> = TableDefinition::new("audit");
const EVENTS: TableDefinition<u64, &str> = TableDefinition::new("events");

/// Events kept; older ones are pruned as new ones arrive.
pub const EVENTS_KEPT: u64 = 10_000;
/// Audit entries kept: far more than a box sees in its life, but still bounded.
pub const AUDIT_KEPT: u64 = 100_000;

pub(crate) fn append_audit(txn: &WriteTransaction, entry: &AuditEntry) -> Result<(), StoreError> {
    let mut table = txn.open_table(AUDIT).map_err(db_err)?;
    append(&mut table, entry.clone(), AUDIT_KEPT, |e, seq| e.seq = seq)
}

fn append<T: serde::Serialize>(
    table: &mut redb::Table<u64, &str>,
    mut record: T,
    kept: u64,
    set_seq: impl Fn(&mut T, u64),
) -> Result<(), StoreError> {
    let next = table
        .last()
        .map_err(db_err)?
        .map(|(k, _)| k.value() + 1)
        .unwrap_or(1);
    set_seq(&mut record, next);
    table
        .insert(next, to_json(&record)?.as_str())
        .map_err(db_err)?;
    if table.len().map_err(db_err)? > kept {
        if let Some((oldest, _)) = table.pop_first().map_err(db_err)? {
            drop(oldest);
        }
    }
    Ok(())
}

impl Store {
    /// Appends an event; returns it with its sequence number.
    pub fn append_event(&self, event: &Event) -> Result<Event, StoreError> {
        self.write(|txn| {
            let mut table = txn.open_table(EVENTS).map_err(db_err)?;
            append(&mut table, event.clone(), EVENTS_KEPT, |e, seq| e.seq = seq)?;
            let stored = table
                .last()
                .map_err(db_err)?
                .map(|(_, v)| from_json(v.value()))
                .transpose()?;
            stored.ok_or_else(|| StoreError::Database("event vanished".into()))
        })
    }

    /// Appends an audit entry on its own (changes that store nothing else, like a login).
    pub fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.write(|txn| append_audit(txn, entry))
    }

    pub fn events(&self, query: &EventQuery) -> Result<Vec<Event>, StoreError> {
        Ok(self
            .read_table(EVENTS, |t| {
                page(t, query.before, query.limit, |e: &Event| {
                    query
                        .channel
                        .as_ref()
                        .is_none_or(|c| e.channel.as_ref() == Some(c))
                        && query.min_severity.is_none_or(|s| e.severity >= s)
                })
            })?
            .unwrap_or_default())
    }

    pub fn audit(&self, before: Option<u64>, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(self
            .read_table(AUDIT, |t| page(t, before, limit, |_: &AuditEntry| true))?
            .unwrap_or_default())
    }
}

fn page<T: serde::de::DeserializeOwned>(
    table: &redb::ReadOnlyTable<u64, &str>,
    before: Option<u64>,
    limit: usize,
    keep: impl Fn(&T) -> bool,
) -> Result<Vec<T>, StoreError> {
    let range = table.range(..before.unwrap_or(u64::MAX)).map_err(db_err)?;
    let mut found = Vec::new();
    for row in range.rev() {
        if found.len() >= limit {
            break;
        }
        let (_, v) = row.map_err(db_err)?;
        let record: T = from_json(v.value())?;
        if keep(&record) {
            found.push(record);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use crate::{Event, EventQuery, Severity, Store};

    #[test]
    fn events_page_newest_first_and_filter() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        for i in 0..10u64 {
            store
                .append_event(&Event {
                    seq: 0,
                    time_ms: i,
                    severity: if i % 2 == 0 {
                        Severity::Info
                    } else {
                        Severity::Error
                    },
                    channel: Some(if i < 5 { "a" } else { "b" }.into()),
                    kind: "test".into(),
                    message: format!("event {i}"),
                })
                .expect("append");
        }
        let first = store
            .events(&EventQuery {
                limit: 3,
                ..Default::default()
            })
            .expect("page");
        assert_eq!(first.iter().map(|e| e.seq).collect::<Vec<_>>(), [10, 9, 8]);
        let next = store
            .events(&EventQuery {
                limit: 3,
                before: Some(8),
                ..Default::default()
            })
            .expect("page");
        assert_eq!(next.iter().map(|e| e.seq).collect::<Vec<_>>(), [7, 6, 5]);
        let errors_on_a = store
            .events(&EventQuery {
                limit: 100,
                channel: Some("a".into()),
                min_severity: Some(Severity::Error),
                ..Default::default()
            })
            .expect("filter");
        assert_eq!(
            errors_on_a.iter().map(|e| e.seq).collect::<Vec<_>>(),
            [4, 2]
        );
    }
}
