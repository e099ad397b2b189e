//! What a configuration change touches: the plan that lets the supervisor restart only the
//! channels and outputs whose settings changed.

use feedline_config::{Channel, Config};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub removed: Vec<String>,
    pub added: Vec<String>,
    /// Input, timecode, encoding, ladder or audio changed: the channel's pipeline is rebuilt.
    pub restart: Vec<String>,
    /// Only these channels' outputs changed (added, removed, new transport or renditions): the
    /// running channel applies the change output by output; its encoders and its untouched
    /// outputs keep running.
    pub reshape_outputs: Vec<String>,
    pub server_changed: bool,
}

/// The part of a channel that cannot change while it runs: everything but its outputs.
fn encoding_shape(channel: &Channel) -> Channel {
    Channel {
        outputs: Vec::new(),
        ..channel.clone()
    }
}

pub fn plan(old: &Config, new: &Config) -> Plan {
    let mut plan = Plan {
        server_changed: old.server != new.server,
        ..Plan::default()
    };
    for o in &old.channels {
        if !new.channels.iter().any(|n| n.name == o.name) {
            plan.removed.push(o.name.clone());
        }
    }
    for n in &new.channels {
        let Some(o) = old.channels.iter().find(|o| o.name == n.name) else {
            plan.added.push(n.name.clone());
            continue;
        };
        if o == n {
            continue;
        }
        if encoding_shape(o) != encoding_shape(n) {
            plan.restart.push(n.name.clone());
        } else {
            plan.reshape_outputs.push(n.name.clone());
        }
    }
    plan
}

/// Changes listed in an audit entry at most; the rest are counted.
const DESCRIBED_CHANGES: usize = 20;

/// What changed, field by field, for the audit log: `channels[0].ladder[1].bitrate_kbps: 1200 →
/// 500`. Secrets are named, never shown.
pub fn describe(old: &Config, new: &Config) -> String {
    let (Ok(a), Ok(b)) = (serde_json::to_value(old), serde_json::to_value(new)) else {
        return "configuration replaced".into();
    };
    let mut changes = Vec::new();
    walk("", &a, &b, &mut changes);
    if changes.is_empty() {
        return "no change".into();
    }
    let more = changes.len().saturating_sub(DESCRIBED_CHANGES);
    changes.truncate(DESCRIBED_CHANGES);
    let mut text = changes.join("; ");
    if more > 0 {
        text.push_str(&format!("; … and {more} more"));
    }
    text
}

fn walk(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (key, va) in x {
                match y.get(key) {
                    Some(vb) => walk(&join(key), va, vb, out),
                    None => out.push(format!("{}: removed", join(key))),
                }
            }
            for (key, vb) in y {
                if !x.contains_key(key) {
                    out.push(format!("{}: {}", join(key), shown(&join(key), None, vb)));
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                let at = format!("{path}[{i}]");
                match (x.get(i), y.get(i)) {
                    (Some(va), Some(vb)) => walk(&at, va, vb, out),
                    (Some(_), None) => out.push(format!("{at}: removed")),
                    (None, Some(vb)) => out.push(format!("{at}: added {}", name_of(vb))),
                    (None, None) => {}
                }
            }
        }
        _ if a != b => out.push(format!("{path}: {}", shown(path, Some(a), b))),
        _ => {}
    }
}

fn is_secret(path: &str) -> bool {
    path.ends_with("passphrase") || path.ends_with("bearer_token")
}

fn shown(path: &str, before: Option<&serde_json::Value>, after: &serde_json::Value) -> String {
    if is_secret(path) {
        return "secret changed".into();
    }
    let short = |v: &serde_json::Value| {
        let text = v.to_string();
        match text.char_indices().nth(60) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text,
        }
    };
    match before {
        Some(b) => format!("{} → {}", short(b), short(after)),
        None => format!("set to {}", short(after)),
    }
}

/// An added channel, rung or output is named rather than dumped.
fn name_of(v: &serde_json::Value) -> String {
    v.get("name")
        .and_then(|n| n.as_str())
        .map(|n| format!("{n:?}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_names_each_changed_field_and_hides_secrets() {
        let old = two_outputs();
        let mut new = old.clone();
        new.channels[0].ladder[1].bitrate_kbps = 2500;
        if let OutputTransport::Srt { passphrase, .. } = &mut new.channels[0].outputs[1].transport {
            *passphrase = Some(feedline_config::Secret::new("a brand new secret"));
        }
        let text = describe(&old, &new);
        assert_eq!(
            text,
            "channels[0].ladder[1].bitrate_kbps: 3000 → 2500; channels[0].outputs[1].passphrase: secret changed"
        );
        let mut grown = old.clone();
        grown.channels.push(grown.channels[0].clone());
        grown.channels[1].name = "second".into();
        assert_eq!(describe(&old, &grown), "channels[1]: added \"second\"");
        assert_eq!(describe(&old, &old), "no change");
    }
    use feedline_config::{Output, OutputTransport, SrtMode};

    fn two_outputs() -> Config {
        let mut config = Config::default();
        let mut b = config.channels[0].outputs[0].clone();
        b.name = "b".into();
        if let OutputTransport::Srt { port, .. } = &mut b.transport {
            *port = 9001;
        }
        config.channels[0].outputs.push(b);
        config
    }

    #[test]
    fn changing_one_outputs_destination_touches_only_that_output() {
        let old = two_outputs();
        let mut new = old.clone();
        if let OutputTransport::Srt { latency_ms, .. } = &mut new.channels[0].outputs[1].transport {
            *latency_ms = 500;
        }
        let plan = plan(&old, &new);
        assert_eq!(plan.reshape_outputs, vec!["main".to_string()]);
        assert!(plan.restart.is_empty() && plan.added.is_empty() && plan.removed.is_empty());
    }

    #[test]
    fn changing_the_ladder_rebuilds_the_channel_but_output_edits_do_not() {
        let old = two_outputs();
        let mut new = old.clone();
        new.channels[0].ladder[0].bitrate_kbps = 4000;
        new.channels[0].outputs.pop();
        assert_eq!(plan(&old, &new).restart, vec!["main".to_string()]);
        assert!(plan(&old, &new).reshape_outputs.is_empty());
        let mut new = old.clone();
        new.channels[0].outputs[1].renditions = Some(vec!["720p".into()]);
        assert_eq!(plan(&old, &new).reshape_outputs, vec!["main".to_string()]);
        assert!(plan(&old, &new).restart.is_empty());
        let mut new = old.clone();
        new.channels[0].outputs.remove(0);
        assert_eq!(plan(&old, &new).reshape_outputs, vec!["main".to_string()]);
        let mut new = old.clone();
        new.channels[0].outputs.push(Output {
            name: "c".into(),
            renditions: None,
            copy_of: None,
            transport: OutputTransport::Srt {
                mode: SrtMode::Listener,
                address: "0.0.0.0".into(),
                port: 9002,
                latency_ms: 120,
                passphrase: None,
                encryption: Default::default(),
                stream_id: None,
                fec: None,
            },
        });
        assert_eq!(plan(&old, &new).reshape_outputs, vec!["main".to_string()]);
        assert!(plan(&old, &new).restart.is_empty());
    }

    #[test]
    fn added_removed_and_untouched_channels() {
        let old = two_outputs();
        let mut new = old.clone();
        new.channels[0].name = "other".into();
        let plan = plan(&old, &new);
        assert_eq!(plan.removed, vec!["main".to_string()]);
        assert_eq!(plan.added, vec!["other".to_string()]);
        assert_eq!(super::plan(&old, &old), Plan::default());
    }
}
