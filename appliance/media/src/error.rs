use thiserror::Error;

#[derive(Debug, Error)]
pub enum MediaError {
    #[error("GStreamer element {factory:?} is not installed (is its plugin package present?)")]
    MissingElement { factory: String },
    #[error("element {element}: cannot set {property}: {reason}")]
    Property {
        element: String,
        property: String,
        reason: String,
    },
    #[error("cannot link {0}")]
    Link(String),
    #[error("no {codec} encoder available for rendition {rendition:?}: {reason}")]
    NoEncoder {
        rendition: String,
        codec: String,
        reason: String,
    },
    #[error("input of channel {channel:?}: {reason}")]
    Input { channel: String, reason: String },
    #[error("channel {channel:?} failed to start: {reason}")]
    Start { channel: String, reason: String },
    #[error("GStreamer initialisation failed: {0}")]
    Init(String),
}
