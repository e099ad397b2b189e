//! Graph fragments as data: which element factory, with which properties and caps.
//!
//! Every input, encoder and output is first described as `ElementSpec`s, so that what we build
//! for hardware we do not have (DeckLink, NVENC, QuickSync) is unit-tested as data, and only then
//! instantiated. Property values are strings parsed by GStreamer itself
//! (`set_property_from_str`), the same way `gst-launch-1.0` does.

use crate::MediaError;
use gstreamer as gst;
use gstreamer::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementSpec {
    pub factory: &'static str,
    pub name: String,
    pub properties: Vec<(&'static str, String)>,
}

impl ElementSpec {
    pub fn new(factory: &'static str, name: impl Into<String>) -> Self {
        ElementSpec {
            factory,
            name: name.into(),
            properties: Vec::new(),
        }
    }

    pub fn prop(mut self, key: &'static str, value: impl ToString) -> Self {
        self.properties.push((key, value.to_string()));
        self
    }

    /// A capsfilter restricting the stream to `caps`.
    pub fn caps(name: impl Into<String>, caps: impl ToString) -> Self {
        ElementSpec::new("capsfilter", name).prop("caps", caps)
    }

    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Creates the element and sets its properties; fails naming the factory or property.
    pub fn build(&self) -> Result<gst::Element, MediaError> {
        let element = gst::ElementFactory::make(self.factory)
            .name(self.name.as_str())
            .build()
            .map_err(|_| MediaError::MissingElement {
                factory: self.factory.to_string(),
            })?;
        for (key, value) in &self.properties {
            let property_error = |reason: String| MediaError::Property {
                element: self.name.clone(),
                property: (*key).to_string(),
                reason,
            };
            let pspec = element
                .find_property(key)
                .ok_or_else(|| property_error(format!("{} has no such property", self.factory)))?;
            if pspec.value_type() == gst::Caps::static_type() {
                let caps: gst::Caps = value
                    .parse()
                    .map_err(|_| property_error(format!("invalid caps {value:?}")))?;
                element.set_property(key, &caps);
            } else {
                element.set_property_from_str(key, value);
            }
        }
        Ok(element)
    }
}

/// Builds a chain of specs, adds them to `bin` and links them in order.
pub fn build_chain(bin: &gst::Bin, specs: &[ElementSpec]) -> Result<Vec<gst::Element>, MediaError> {
    let elements = specs
        .iter()
        .map(ElementSpec::build)
        .collect::<Result<Vec<_>, _>>()?;
    bin.add_many(elements.iter())
        .map_err(|e| MediaError::Link(format!("adding elements: {e}")))?;
    gst::Element::link_many(elements.iter()).map_err(|e| {
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        MediaError::Link(format!("{}: {e}", names.join(" ! ")))
    })?;
    Ok(elements)
}

/// Renders specs in `gst-launch-1.0` syntax, for logs and for tests that parse what we build.
pub fn to_launch_line(specs: &[ElementSpec]) -> String {
    specs
        .iter()
        .map(|s| {
            let mut part = format!("{} name={}", s.factory, s.name);
            for (k, v) in &s.properties {
                if k.contains("passphrase") {
                    part.push_str(&format!(" {k}=***"));
                } else if v.contains(' ') || v.contains(',') || v.contains('(') {
                    part.push_str(&format!(" {k}=\"{v}\""));
                } else {
                    part.push_str(&format!(" {k}={v}"));
                }
            }
            part
        })
        .collect::<Vec<_>>()
        .join(" ! ")
}
