//! What the box has: encoder backends, capture devices and network interfaces.

use feedline_api::status::{CaptureDevice, EncoderBackend, Hardware, NetworkInterface};

pub fn probe() -> Hardware {
    Hardware {
        encoder_backends: feedline_media::probe::encoder_backends()
            .into_iter()
            .map(|r| EncoderBackend {
                backend: r.backend.name().to_string(),
                codec: match r.codec {
                    feedline_config::Codec::H264 => "h264".into(),
                    feedline_config::Codec::Hevc => "hevc".into(),
                },
                element: r.element.to_string(),
                available: r.available,
                reason: r.reason,
            })
            .collect(),
        capture_devices: feedline_media::probe::capture_devices()
            .into_iter()
            .map(|d| CaptureDevice {
                name: d.name,
                kind: d.kind,
                path: d.path,
                signal: d.signal,
            })
            .collect(),
        network_interfaces: network_interfaces(),
    }
}

/// Interfaces from `ip -json address` (iproute2 is on every Feedline box); names only from
/// sysfs if that fails.
fn network_interfaces() -> Vec<NetworkInterface> {
    let from_ip = std::process::Command::new("ip")
        .args(["-json", "address", "show"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| serde_json::from_slice::<Vec<serde_json::Value>>(&o.stdout).ok());
    if let Some(list) = from_ip {
        return list
            .iter()
            .map(|i| NetworkInterface {
                name: i["ifname"].as_str().unwrap_or("?").to_string(),
                mac: i["address"].as_str().map(str::to_string),
                up: i["operstate"].as_str() == Some("UP")
                    || i["flags"]
                        .as_array()
                        .is_some_and(|f| f.iter().any(|x| x == "UP")),
                addresses: i["addr_info"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| {
                                Some(format!(
                                    "{}/{}",
                                    x["local"].as_str()?,
                                    x["prefixlen"].as_u64()?
                                ))
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect();
    }
    std::fs::read_dir("/sys/class/net")
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|e| NetworkInterface {
                    name: e.file_name().to_string_lossy().into_owned(),
                    mac: None,
                    up: false,
                    addresses: Vec::new(),
                })
                .collect()
        })
        .unwrap_or_default()
}
