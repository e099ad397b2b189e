//! Users and API tokens. Only hashes are stored; every change carries its audit entry in the
//! same transaction.

use crate::logs::append_audit;
use crate::{db_err, from_json, to_json, ApiToken, AuditEntry, Store, StoreError, User};
use redb::{ReadableTable, ReadableTableMetadata, TableDefinition};

const USERS: TableDefinition<&str, &str> = TableDefinition::new("users");
const TOKENS: TableDefinition<&str, &str> = TableDefinition::new("tokens");

impl Store {
    pub fn user_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .read_table(USERS, |t| t.len().map_err(db_err))?
            .unwrap_or(0))
    }

    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        self.all_json(USERS)
    }

    pub fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        self.one_json(USERS, name)
    }

    /// Creates the first admin, atomically refusing if any user exists (two setup requests
    /// racing cannot both win).
    pub fn create_first_user(&self, user: &User, audit: &AuditEntry) -> Result<(), StoreError> {
        self.write(|txn| {
            let mut table = txn.open_table(USERS).map_err(db_err)?;
            if table.len().map_err(db_err)? > 0 {
                return Err(StoreError::Conflict("setup is already done".into()));
            }
            table
                .insert(user.name.as_str(), to_json(user)?.as_str())
                .map_err(db_err)?;
            drop(table);
            append_audit(txn, audit)
        })
    }

    /// Creates or replaces a user. `must_be_new` refuses an existing name.
    pub fn put_user(
        &self,
        user: &User,
        must_be_new: bool,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        self.write(|txn| {
            let mut table = txn.open_table(USERS).map_err(db_err)?;
            if must_be_new && table.get(user.name.as_str()).map_err(db_err)?.is_some() {
                return Err(StoreError::Conflict(format!(
                    "user {} already exists",
                    user.name
                )));
            }
            table
                .insert(user.name.as_str(), to_json(user)?.as_str())
                .map_err(db_err)?;
            drop(table);
            append_audit(txn, audit)
        })
    }

    /// Deletes a user; returns false if there was none. Refuses to delete the last admin, so
    /// the box can never be locked out of its own configuration.
    pub fn delete_user(&self, name: &str, audit: &AuditEntry) -> Result<bool, StoreError> {
        self.write(|txn| {
            let mut table = txn.open_table(USERS).map_err(db_err)?;
            let mut admins = 0;
            let mut target = None;
            for row in table.iter().map_err(db_err)? {
                let (k, v) = row.map_err(db_err)?;
                let user: User = from_json(v.value())?;
                if user.role == crate::Role::Admin {
                    admins += 1;
                }
                if k.value() == name {
                    target = Some(user);
                }
            }
            let Some(user) = target else {
                return Ok(false);
            };
            if user.role == crate::Role::Admin && admins == 1 {
                return Err(StoreError::Conflict(
                    "the last admin cannot be deleted".into(),
                ));
            }
            table.remove(name).map_err(db_err)?;
            drop(table);
            append_audit(txn, audit)?;
            Ok(true)
        })
    }

    pub fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        self.all_json(TOKENS)
    }

    pub fn token(&self, id: &str) -> Result<Option<ApiToken>, StoreError> {
        self.one_json(TOKENS, id)
    }

    pub fn put_token(&self, token: &ApiToken, audit: &AuditEntry) -> Result<(), StoreError> {
        self.write(|txn| {
            let mut table = txn.open_table(TOKENS).map_err(db_err)?;
            table
                .insert(token.id.as_str(), to_json(token)?.as_str())
                .map_err(db_err)?;
            drop(table);
            append_audit(txn, audit)
        })
    }

    pub fn delete_token(&self, id: &str, audit: &AuditEntry) -> Result<bool, StoreError> {
        self.write(|txn| {
            let mut table = txn.open_table(TOKENS).map_err(db_err)?;
            let existed = table.remove(id).map_err(db_err)?.is_some();
            drop(table);
            if existed {
                append_audit(txn, audit)?;
            }
            Ok(existed)
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{now_ms, AuditEntry, Role, Store, StoreError, User};

    fn audit(action: &str) -> AuditEntry {
        AuditEntry {
            seq: 0,
            time_ms: now_ms(),
            actor: "test".into(),
            source: "test".into(),
            action: action.into(),
            target: String::new(),
            detail: String::new(),
        }
    }

    fn user(name: &str, role: Role) -> User {
        User {
            name: name.into(),
            role,
            password_hash: "x".into(),
            created_ms: 0,
        }
    }

    #[test]
    fn setup_happens_once_and_the_last_admin_stays() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        store
            .create_first_user(&user("root", Role::Admin), &audit("setup"))
            .expect("first");
        let again = store.create_first_user(&user("evil", Role::Admin), &audit("setup"));
        assert!(matches!(again, Err(StoreError::Conflict(_))));
        let last = store.delete_user("root", &audit("delete"));
        assert!(matches!(last, Err(StoreError::Conflict(_))));
        store
            .put_user(&user("ops", Role::Operator), true, &audit("create"))
            .expect("create");
        assert!(store.delete_user("ops", &audit("delete")).expect("delete"));
        assert_eq!(store.user_count().expect("count"), 1);
        // setup + create + delete were audited; the refused changes were not.
        let log = store.audit(None, 10).expect("audit");
        let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["delete", "create", "setup"]);
    }
}
