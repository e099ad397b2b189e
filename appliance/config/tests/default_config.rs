//! The shipped, commented `config/feedline.toml` is exactly `Config::default()`.

use feedline_config::{parse, Config};

const SHIPPED: &str = include_str!("../../../config/feedline.toml");

#[test]
fn shipped_default_config_equals_config_default() {
    let parsed = parse(SHIPPED).expect("shipped config must be valid");
    assert_eq!(parsed, Config::default());
}

#[test]
fn default_config_round_trips_through_toml() {
    let text = toml::to_string(&Config::default()).expect("serialize");
    let back = parse(&text).expect("reparse");
    assert_eq!(back, Config::default());
}
