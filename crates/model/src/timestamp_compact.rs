//! A timestamp as RFC 3339 text for people (JSON) and as seconds and nanoseconds for the
//! store's binary records, where every value's lineage carries one and the text form would
//! be the largest part of the record. Use with `#[serde(with = "model::timestamp_compact")]`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Timestamp;

pub fn serialize<S: Serializer>(at: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    if serializer.is_human_readable() {
        at.serialize(serializer)
    } else {
        (at.as_second(), at.subsec_nanosecond()).serialize(serializer)
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
    if deserializer.is_human_readable() {
        Timestamp::deserialize(deserializer)
    } else {
        let (seconds, nanos) = <(i64, i32)>::deserialize(deserializer)?;
        Timestamp::new(seconds, nanos).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use crate::Timestamp;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct At(#[serde(with = "super")] Timestamp);

    #[test]
    fn people_see_rfc_3339() {
        let at = At("2024-05-06T07:08:09.5Z".parse().unwrap());
        let json = serde_json::to_string(&at).unwrap();
        assert_eq!(json, r#""2024-05-06T07:08:09.5Z""#);
        assert_eq!(serde_json::from_str::<At>(&json).unwrap(), at);
    }
}
