//! Secrets in a configuration: found by field path, redacted for reading, and kept when a
//! client writes back the redaction placeholder it was given.

use crate::{Config, Input, OutputTransport, Secret};

/// What every secret reads as through the API and in an export without secrets.
pub const REDACTED: &str = "<redacted>";

impl Config {
    /// Every secret in the config, with its field path.
    pub fn secrets_mut(&mut self) -> Vec<(String, &mut Secret)> {
        let mut found = Vec::new();
        if let Some(token) = &mut self.server.metrics.bearer_token {
            found.push(("server.metrics.bearer_token".to_string(), token));
        }
        for (ci, channel) in self.channels.iter_mut().enumerate() {
            if let Input::Srt {
                passphrase: Some(p),
                ..
            } = &mut channel.input
            {
                found.push((format!("channels[{ci}].input.passphrase"), p));
            }
            if let Some(Input::Srt {
                passphrase: Some(p),
                ..
            }) = channel.failover.as_mut().and_then(|f| f.backup.as_mut())
            {
                found.push((format!("channels[{ci}].failover.backup.passphrase"), p));
            }
            for (oi, output) in channel.outputs.iter_mut().enumerate() {
                if let OutputTransport::Srt {
                    passphrase: Some(p),
                    ..
                }
                | OutputTransport::SrtGroup {
                    passphrase: Some(p),
                    ..
                } = &mut output.transport
                {
                    found.push((format!("channels[{ci}].outputs[{oi}].passphrase"), p));
                }
            }
        }
        found
    }

    /// A copy safe to show: every secret replaced by `REDACTED`.
    pub fn redacted(&self) -> Config {
        let mut copy = self.clone();
        for (_, secret) in copy.secrets_mut() {
            *secret = Secret::new(REDACTED);
        }
        copy
    }

    /// The field path of the first secret still holding the placeholder.
    pub fn first_redacted_secret(&mut self) -> Option<String> {
        self.secrets_mut()
            .into_iter()
            .find(|(_, s)| s.expose() == REDACTED)
            .map(|(path, _)| path)
    }

    /// Replaces each placeholder with the secret at the same place in `current` (same channel
    /// and output names). Returns the field path of a placeholder with nothing to keep.
    pub fn keep_secrets_from(&mut self, current: &Config) -> Result<(), String> {
        let mut current = current.clone();
        let known: Vec<(String, Secret)> = current
            .secrets_mut()
            .into_iter()
            .map(|(path, s)| (path, s.clone()))
            .collect();
        let known_by_name =
            |path: &str, config: &Config| -> Option<String> { stable_name(path, config) };
        let stable_known: Vec<(String, Secret)> = known
            .into_iter()
            .filter_map(|(path, s)| known_by_name(&path, &current).map(|n| (n, s)))
            .collect();
        let me = self.clone();
        for (path, secret) in self.secrets_mut() {
            if secret.expose() != REDACTED {
                continue;
            }
            let name = stable_name(&path, &me).ok_or_else(|| path.clone())?;
            let kept = stable_known
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, s)| s.clone())
                .ok_or_else(|| path.clone())?;
            *secret = kept;
        }
        Ok(())
    }
}

/// A secret's place named by channel/output names rather than indexes, so it survives
/// reordering: `server.metrics.bearer_token`, `cam1/input`, `cam1/out/backup`.
fn stable_name(path: &str, config: &Config) -> Option<String> {
    if !path.starts_with("channels[") {
        return Some(path.to_string());
    }
    let index = |s: &str| -> Option<usize> {
        let start = s.find('[')? + 1;
        let end = s.find(']')?;
        s.get(start..end)?.parse().ok()
    };
    let ci = index(path)?;
    let channel = config.channels.get(ci)?;
    let rest = path.split_once("].")?.1;
    if rest.starts_with("input") {
        return Some(format!("{}/input", channel.name));
    }
    if rest.starts_with("failover") {
        return Some(format!("{}/backup", channel.name));
    }
    let oi = index(rest)?;
    Some(format!(
        "{}/out/{}",
        channel.name,
        channel.outputs.get(oi)?.name
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Encryption;

    fn with_passphrase(pass: &str) -> Config {
        let mut config = Config::default();
        if let OutputTransport::Srt {
            passphrase,
            encryption,
            ..
        } = &mut config.channels[0].outputs[0].transport
        {
            *passphrase = Some(Secret::new(pass));
            *encryption = Encryption::Aes256;
        }
        config
    }

    #[test]
    fn redacted_hides_every_secret_and_placeholder_keeps_it() {
        let stored = with_passphrase("correct horse battery");
        let mut shown = stored.redacted();
        assert!(!toml::to_string(&shown)
            .expect("toml")
            .contains("correct horse"));
        assert_eq!(
            shown.first_redacted_secret().as_deref(),
            Some("channels[0].outputs[0].passphrase")
        );
        shown.keep_secrets_from(&stored).expect("kept");
        assert_eq!(shown, stored);
    }

    #[test]
    fn a_backup_input_passphrase_is_a_secret_too() {
        let mut stored = Config::default();
        stored.channels[0].failover = Some(crate::Failover {
            backup: Some(Input::Srt {
                mode: crate::SrtInputMode::Listener,
                address: "0.0.0.0".into(),
                port: 9100,
                latency_ms: 120,
                passphrase: Some(Secret::new("backup link secret")),
                stream_id: None,
            }),
            ..crate::Failover::default()
        });
        let mut shown = stored.redacted();
        assert!(!toml::to_string(&shown)
            .expect("toml")
            .contains("backup link secret"));
        assert_eq!(
            shown.first_redacted_secret().as_deref(),
            Some("channels[0].failover.backup.passphrase")
        );
        shown.keep_secrets_from(&stored).expect("kept");
        assert_eq!(shown, stored);
    }

    #[test]
    fn an_srt_group_passphrase_is_a_secret_too() {
        let mut stored = Config::default();
        stored.channels[0].outputs[0].transport = OutputTransport::SrtGroup {
            mode: crate::SrtGroupMode::Broadcast,
            links: vec![],
            latency_ms: 200,
            passphrase: Some(Secret::new("bonded link secret")),
            encryption: Encryption::Aes128,
            stream_id: None,
            fec: None,
        };
        let mut shown = stored.redacted();
        assert!(!toml::to_string(&shown)
            .expect("toml")
            .contains("bonded link secret"));
        assert_eq!(
            shown.first_redacted_secret().as_deref(),
            Some("channels[0].outputs[0].passphrase")
        );
        shown.keep_secrets_from(&stored).expect("kept");
        assert_eq!(shown, stored);
    }

    #[test]
    fn placeholder_without_a_stored_secret_names_the_field() {
        let mut incoming = with_passphrase(REDACTED);
        let err = incoming
            .keep_secrets_from(&Config::default())
            .expect_err("nothing to keep");
        assert_eq!(err, "channels[0].outputs[0].passphrase");
    }
}
