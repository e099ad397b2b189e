//! An SRT socket group output: one stream over several links to the same receiver, each link
//! from its own local address or network interface (its own ISP).

use serde::{de::Error as _, Deserialize, Deserializer, Serialize};

/// How the group uses its links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SrtGroupMode {
    /// Every packet on every link; the receiver keeps the first copy. A dead link costs
    /// nothing, at the price of sending the stream once per link.
    Broadcast,
    /// The main link carries the stream; a standby link takes over (resending what the main
    /// link had not delivered) when the main one stops acknowledging.
    Backup,
}

/// One member link of the group, always a caller to the receiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SrtGroupLink {
    /// The receiver's host or address as seen over this link.
    pub address: String,
    pub port: u16,
    /// Local IP address to send from: the address of this link's interface. Left out, the
    /// kernel chooses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    /// Network interface the link leaves by (`eth1`, `wwan0`), whatever address it has now:
    /// for an uplink whose address changes (a modem's DHCP lease). The interface needs a route
    /// to the receiver; no source routing is needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[A-Za-z0-9_.:-]{1,15}$")]
    pub interface: Option<String>,
    /// Backup mode: the link with the highest weight is the main one. Left out, links are
    /// ranked in the order they are listed (the first is the main link).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u16>,
}

impl SrtGroupLink {
    /// The weight libsrt gets for the link at `index` of `count`.
    pub fn effective_weight(&self, index: usize, count: usize) -> u16 {
        self.weight
            .unwrap_or_else(|| u16::try_from(count.saturating_sub(index)).unwrap_or(u16::MAX))
    }
}

/// Reads the links one by one so that an error names its link (`links[1]: unknown field …`):
/// serde buffers the internally tagged output table, and its path would stop at the output.
pub(crate) fn deserialize_links<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<SrtGroupLink>, D::Error> {
    Vec::<toml::Value>::deserialize(deserializer)?
        .into_iter()
        .enumerate()
        .map(|(i, value)| {
            SrtGroupLink::deserialize(value)
                .map_err(|e| D::Error::custom(format!("links[{i}]: {}", e.message())))
        })
        .collect()
}
