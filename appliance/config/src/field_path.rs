//! Putting the offending key back on an error's field path.
//!
//! serde reads an internally tagged table (an input, an output, a failover input) by buffering
//! it first, so serde_path_to_error's path stops at the table: `channels[0].input: invalid
//! type: string "9000", expected u16`. The operator then has to guess which key is meant. The
//! message still names the value it choked on, so the key is found in the document itself: the
//! one leaf under that table that serde would describe with those words.

use serde_json::Value;

/// The path of the value that `message` (serde's wording) is about, below `path` in
/// `document`; `None` where it cannot be told for certain (no match, or more than one).
pub fn locate(document: &Value, path: &str, message: &str) -> Option<String> {
    let table = navigate(document, path)?;
    if !matches!(table, Value::Object(_) | Value::Array(_)) {
        return None;
    }
    let wanted = Wanted::from_message(message)?;
    // An unknown key is the table's own before any of the same name further down.
    if let (Wanted::Key(key), Value::Object(map)) = (&wanted, table) {
        if map.contains_key(*key) {
            return Some(format!("{path}.{key}"));
        }
    }
    let mut found = Vec::new();
    collect(table, String::new(), &wanted, &mut found);
    match found.as_slice() {
        [only] => Some(format!("{path}{only}")),
        _ => None,
    }
}

/// What the message says about the offending value.
enum Wanted<'a> {
    /// `unknown field `k``: the key itself.
    Key(&'a str),
    /// `unknown variant `v``: a string value.
    Variant(&'a str),
    /// `invalid type: string "x", expected …` and `invalid value: …`: serde's description of a
    /// scalar value, the text between the colon and `, expected`.
    Scalar(&'a str),
}

impl<'a> Wanted<'a> {
    fn from_message(message: &'a str) -> Option<Wanted<'a>> {
        let quoted = |rest: &'a str| rest.split('`').next();
        if let Some(rest) = message.strip_prefix("unknown field `") {
            return quoted(rest).map(Wanted::Key);
        }
        if let Some(rest) = message.strip_prefix("unknown variant `") {
            return quoted(rest).map(Wanted::Variant);
        }
        let described = message
            .strip_prefix("invalid type: ")
            .or_else(|| message.strip_prefix("invalid value: "))?;
        // Only scalars: "map" or "sequence" could be the table itself.
        let scalar = ["string ", "integer ", "floating point ", "boolean "]
            .iter()
            .any(|kind| described.starts_with(kind));
        scalar.then_some(Wanted::Scalar(described))
    }

    fn matches(&self, key: Option<&str>, value: &Value) -> bool {
        match self {
            Wanted::Key(wanted) => key == Some(*wanted),
            Wanted::Variant(wanted) => value.as_str() == Some(*wanted),
            Wanted::Scalar(described) => descriptions(value)
                .iter()
                .any(|d| described.starts_with(&format!("{d}, expected"))),
        }
    }
}

/// How serde's `Unexpected` words `value` (more than one way for numbers: an integer read as a
/// float and back, a float with or without its `.0`).
fn descriptions(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![format!("string {s:?}")],
        Value::Bool(b) => vec![format!("boolean `{b}`")],
        Value::Number(n) => {
            let mut words = vec![format!("integer `{n}`"), format!("floating point `{n}`")];
            if let Some(f) = n.as_f64() {
                words.push(format!("floating point `{f}`"));
                words.push(format!("floating point `{f:?}`"));
            }
            words
        }
        _ => Vec::new(),
    }
}

/// Every place under `value` that `wanted` fits, as a path suffix (`.port`, `.links[1].port`).
fn collect(value: &Value, at: String, wanted: &Wanted, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{at}.{key}");
                if wanted.matches(Some(key), child) {
                    found.push(here.clone());
                }
                collect(child, here, wanted, found);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let here = format!("{at}[{i}]");
                if wanted.matches(None, child) {
                    found.push(here.clone());
                }
                collect(child, here, wanted, found);
            }
        }
        _ => {}
    }
}

/// The value at a serde_path_to_error path (`channels[0].outputs[1]`); `None` for a path it
/// cannot follow.
fn navigate<'v>(document: &'v Value, path: &str) -> Option<&'v Value> {
    let mut value = document;
    for part in path.split('.') {
        let (key, mut indexes) = match part.find('[') {
            Some(at) => (&part[..at], &part[at..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            value = value.as_object()?.get(key)?;
        }
        while let Some(rest) = indexes.strip_prefix('[') {
            let (index, after) = rest.split_once(']')?;
            value = value.as_array()?.get(index.parse::<usize>().ok()?)?;
            indexes = after;
        }
        if !indexes.is_empty() {
            return None;
        }
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn document() -> Value {
        json!({
            "channels": [{
                "name": "main",
                "input": { "type": "srt", "mode": "caller", "port": "9000", "latency_ms": 120 },
                "outputs": [
                    { "name": "a", "type": "srt", "mode": "server", "port": 9000 },
                    { "name": "b", "type": "srt_group", "links": [
                        { "address": "10.0.0.1", "port": 9001 },
                        { "address": "10.0.0.2", "port": true }
                    ] }
                ]
            }]
        })
    }

    #[test]
    fn a_wrong_type_in_a_tagged_table_names_its_key() {
        let located = locate(
            &document(),
            "channels[0].input",
            "invalid type: string \"9000\", expected u16",
        );
        assert_eq!(located.as_deref(), Some("channels[0].input.port"));
    }

    #[test]
    fn an_unknown_variant_names_the_key_holding_it() {
        let located = locate(
            &document(),
            "channels[0].outputs[0]",
            "unknown variant `server`, expected one of `caller`, `listener`, `rendezvous`",
        );
        assert_eq!(located.as_deref(), Some("channels[0].outputs[0].mode"));
    }

    #[test]
    fn an_unknown_field_names_itself() {
        let located = locate(
            &document(),
            "channels[0].input",
            "unknown field `latency_ms`, expected one of `port`",
        );
        assert_eq!(located.as_deref(), Some("channels[0].input.latency_ms"));
    }

    #[test]
    fn a_value_nested_in_a_list_is_found_with_its_index() {
        let located = locate(
            &document(),
            "channels[0].outputs[1]",
            "invalid type: boolean `true`, expected u16",
        );
        assert_eq!(
            located.as_deref(),
            Some("channels[0].outputs[1].links[1].port")
        );
    }

    #[test]
    fn numbers_are_matched_as_serde_words_them() {
        let doc = json!({ "t": { "a": 70000, "b": 1.5 } });
        assert_eq!(
            locate(&doc, "t", "invalid value: integer `70000`, expected u16").as_deref(),
            Some("t.a")
        );
        assert_eq!(
            locate(
                &doc,
                "t",
                "invalid type: floating point `1.5`, expected u32"
            )
            .as_deref(),
            Some("t.b")
        );
    }

    #[test]
    fn two_candidates_name_neither() {
        let doc = json!({ "t": { "port": "9000", "stream_id": "9000" } });
        assert_eq!(
            locate(&doc, "t", "invalid type: string \"9000\", expected u16"),
            None
        );
    }

    #[test]
    fn a_path_at_a_scalar_or_a_message_about_a_table_is_left_alone() {
        let doc = document();
        assert_eq!(
            locate(
                &doc,
                "channels[0].name",
                "invalid type: string \"main\", expected u16"
            ),
            None
        );
        assert_eq!(
            locate(&doc, "channels[0]", "invalid type: map, expected a string"),
            None
        );
        assert_eq!(
            locate(&doc, "channels[0].input", "missing field `address`"),
            None
        );
        assert_eq!(locate(&doc, "channels[7]", "unknown field `x`"), None);
    }
}
