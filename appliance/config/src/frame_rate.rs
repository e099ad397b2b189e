//! A frame rate as an exact fraction, written `30`, `29.97` or `"30000/1001"` in TOML.

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameRate {
    pub num: u32,
    pub den: u32,
}

impl FrameRate {
    pub const fn new(num: u32, den: u32) -> Self {
        FrameRate { num, den }
    }

    pub fn as_f64(&self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }

    /// NTSC-family rates (29.97, 59.94) whose timecode must be drop-frame to stay on the clock.
    pub fn is_drop_frame_rate(&self) -> bool {
        self.den == 1001 && (self.num == 30000 || self.num == 60000)
    }

    /// `Some(n)` when `self` is `other` divided by the whole number `n` (60 → 30 is 2).
    pub fn divisor_of(&self, other: &FrameRate) -> Option<u32> {
        // other / self = (o.num * s.den) / (o.den * s.num)
        let top = u64::from(other.num) * u64::from(self.den);
        let bottom = u64::from(other.den) * u64::from(self.num);
        if bottom == 0 || !top.is_multiple_of(bottom) {
            return None;
        }
        u32::try_from(top / bottom).ok()
    }

    /// Parses `30`, `29.97`, `59.94`, `23.976` or `30000/1001`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Some((n, d)) = text.split_once('/') {
            let num = n.trim().parse::<u32>().map_err(|_| bad(text))?;
            let den = d.trim().parse::<u32>().map_err(|_| bad(text))?;
            if den == 0 {
                return Err(bad(text));
            }
            return Ok(FrameRate { num, den });
        }
        match text {
            "23.976" | "23.98" => return Ok(FrameRate::new(24000, 1001)),
            "29.97" => return Ok(FrameRate::new(30000, 1001)),
            "59.94" => return Ok(FrameRate::new(60000, 1001)),
            _ => {}
        }
        text.parse::<u32>()
            .map(|n| FrameRate::new(n, 1))
            .map_err(|_| bad(text))
    }
}

fn bad(text: &str) -> String {
    format!("invalid frame rate {text:?}: use a whole number, 23.976, 29.97, 59.94 or \"num/den\"")
}

impl fmt::Display for FrameRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

impl Serialize for FrameRate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.den == 1 {
            s.serialize_u32(self.num)
        } else {
            s.serialize_str(&self.to_string())
        }
    }
}

impl<'de> Deserialize<'de> for FrameRate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = FrameRate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a frame rate such as 30, 29.97 or \"30000/1001\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<FrameRate, E> {
                u32::try_from(v)
                    .map(|n| FrameRate::new(n, 1))
                    .map_err(|_| E::custom(bad(&v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<FrameRate, E> {
                u32::try_from(v)
                    .map(|n| FrameRate::new(n, 1))
                    .map_err(|_| E::custom(bad(&v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<FrameRate, E> {
                FrameRate::parse(&format!("{v}")).map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FrameRate, E> {
                FrameRate::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Written as a number (`30`, `29.97`) or a fraction string (`"30000/1001"`); read back as the
/// fraction string.
impl utoipa::PartialSchema for FrameRate {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(r"^[0-9]+(/[0-9]+)?$"))
                    .examples(["30000/1001"]),
            )
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .into()
    }
}

impl utoipa::ToSchema for FrameRate {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_rates() {
        assert_eq!(FrameRate::parse("30"), Ok(FrameRate::new(30, 1)));
        assert_eq!(FrameRate::parse("29.97"), Ok(FrameRate::new(30000, 1001)));
        assert_eq!(
            FrameRate::parse("60000/1001"),
            Ok(FrameRate::new(60000, 1001))
        );
        assert!(FrameRate::parse("30/0").is_err());
        assert!(FrameRate::parse("fast").is_err());
    }

    #[test]
    fn divisors() {
        let sixty = FrameRate::new(60, 1);
        assert_eq!(FrameRate::new(30, 1).divisor_of(&sixty), Some(2));
        assert_eq!(FrameRate::new(60, 1).divisor_of(&sixty), Some(1));
        assert_eq!(FrameRate::new(25, 1).divisor_of(&sixty), None);
        let ntsc = FrameRate::new(60000, 1001);
        assert_eq!(FrameRate::new(30000, 1001).divisor_of(&ntsc), Some(2));
    }
}
