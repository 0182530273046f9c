//! Attribute values between LDAP's octet strings and idsync's typed values.

use jiff::Timestamp;
use jiff::civil;
use jiff::tz::TimeZone;
use model::Value;

use crate::schema::ValueKind;

/// One value read from the directory. A DN still has to be turned into the anchor of the
/// entry it names, which needs the directory; everything else is converted here.
pub enum Imported {
    Value(Value),
    Dn(String),
}

/// Reads one value by its attribute's kind. A value that does not parse as its syntax says
/// (a non-numeric INTEGER from a lax server) is kept as a string rather than lost.
pub fn import_value(kind: ValueKind, bytes: Vec<u8>) -> Imported {
    let text = |bytes: Vec<u8>| match String::from_utf8(bytes) {
        Ok(s) => Value::String(s),
        Err(e) => Value::Binary(e.into_bytes()),
    };
    Imported::Value(match kind {
        ValueKind::Binary => Value::Binary(bytes),
        ValueKind::Guid => match format_guid(&bytes) {
            Some(guid) => Value::String(guid),
            None => Value::Binary(bytes),
        },
        ValueKind::Sid => match format_sid(&bytes) {
            Some(sid) => Value::String(sid),
            None => Value::Binary(bytes),
        },
        ValueKind::Dn => {
            return match String::from_utf8(bytes) {
                Ok(dn) => Imported::Dn(dn),
                Err(e) => Imported::Value(Value::Binary(e.into_bytes())),
            };
        }
        ValueKind::Integer => match std::str::from_utf8(&bytes)
            .ok()
            .and_then(|s| s.parse().ok())
        {
            Some(i) => Value::Integer(i),
            None => text(bytes),
        },
        ValueKind::Boolean => match bytes.as_slice() {
            b"TRUE" => Value::Boolean(true),
            b"FALSE" => Value::Boolean(false),
            _ => text(bytes),
        },
        ValueKind::Time => match std::str::from_utf8(&bytes)
            .ok()
            .and_then(parse_generalized_time)
        {
            Some(t) => Value::DateTime(t),
            None => text(bytes),
        },
        ValueKind::String => text(bytes),
    })
}

/// Writes one value for an attribute of `kind`. References are resolved by the caller.
pub fn export_value(kind: ValueKind, value: &Value) -> Result<Vec<u8>, String> {
    Ok(match (kind, value) {
        (ValueKind::Guid, Value::String(s)) => parse_guid(s)
            .ok_or_else(|| format!("\"{s}\" is not a GUID"))?
            .to_vec(),
        (ValueKind::Sid, Value::String(s)) => {
            parse_sid(s).ok_or_else(|| format!("\"{s}\" is not a security identifier"))?
        }
        (_, Value::String(s)) => s.clone().into_bytes(),
        (_, Value::Integer(i)) => i.to_string().into_bytes(),
        (_, Value::Boolean(b)) => if *b { "TRUE" } else { "FALSE" }.as_bytes().to_vec(),
        (_, Value::DateTime(t)) => format_generalized_time(*t).into_bytes(),
        (_, Value::Binary(b)) => b.clone(),
        (_, Value::Reference(r)) => r.clone().into_bytes(),
    })
}

/// `YYYYMMDDHHMMSS[.fraction]Z`, the form OpenLDAP and AD write.
pub fn parse_generalized_time(text: &str) -> Option<Timestamp> {
    let text = text.strip_suffix('Z')?;
    let (whole, fraction) = match text.split_once(['.', ',']) {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| whole[r].parse::<i32>().ok();
    let nanos = if fraction.is_empty() {
        0
    } else {
        let digits: String = fraction.chars().take(9).collect();
        let scale = 10i32.pow(9 - digits.len() as u32);
        digits.parse::<i32>().ok()? * scale
    };
    let datetime = civil::DateTime::new(
        i16::try_from(n(0..4)?).ok()?,
        i8::try_from(n(4..6)?).ok()?,
        i8::try_from(n(6..8)?).ok()?,
        i8::try_from(n(8..10)?).ok()?,
        i8::try_from(n(10..12)?).ok()?,
        i8::try_from(n(12..14)?).ok()?,
        nanos,
    )
    .ok()?;
    datetime
        .to_zoned_datetime(TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

pub fn format_generalized_time(t: Timestamp) -> String {
    t.strftime("%Y%m%d%H%M%SZ").to_string()
}

/// AD's GUID byte order: the first three groups little-endian, the rest as stored.
pub fn format_guid(bytes: &[u8]) -> Option<String> {
    let b: &[u8; 16] = bytes.try_into().ok()?;
    Some(format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[3],
        b[2],
        b[1],
        b[0],
        b[5],
        b[4],
        b[7],
        b[6],
        b[8],
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    ))
}

pub fn parse_guid(text: &str) -> Option<[u8; 16]> {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut raw = [0u8; 16];
    for (i, byte) in raw.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    let order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
    let mut out = [0u8; 16];
    for (i, &from) in order.iter().enumerate() {
        out[i] = raw[from];
    }
    Some(out)
}

/// `S-1-5-21-...` from the binary form (revision, count, 48-bit big-endian authority,
/// little-endian 32-bit sub-authorities).
pub fn format_sid(bytes: &[u8]) -> Option<String> {
    let (&revision, rest) = bytes.split_first()?;
    let (&count, rest) = rest.split_first()?;
    let authority = rest
        .get(..6)?
        .iter()
        .fold(0u64, |a, b| (a << 8) | u64::from(*b));
    let subs = rest.get(6..)?;
    if subs.len() != usize::from(count) * 4 {
        return None;
    }
    let mut out = format!("S-{revision}-{authority}");
    for chunk in subs.chunks_exact(4) {
        let sub = u32::from_le_bytes(chunk.try_into().ok()?);
        out.push_str(&format!("-{sub}"));
    }
    Some(out)
}

pub fn parse_sid(text: &str) -> Option<Vec<u8>> {
    let mut parts = text.strip_prefix("S-")?.split('-');
    let revision: u8 = parts.next()?.parse().ok()?;
    let authority: u64 = parts.next()?.parse().ok()?;
    let subs: Vec<u32> = parts.map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let mut out = vec![revision, u8::try_from(subs.len()).ok()?];
    out.extend_from_slice(&authority.to_be_bytes()[2..]);
    for sub in subs {
        out.extend_from_slice(&sub.to_le_bytes());
    }
    Some(out)
}

/// AD's password attribute: the password in double quotes, as UTF-16LE.
pub fn unicode_pwd(password: &str) -> Vec<u8> {
    format!("\"{password}\"")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect()
}

/// Hex-escapes every byte, for a binary value in a search filter (`\98\4b...`).
pub fn escape_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

/// A UUID's 16 bytes in the text form OpenLDAP gives `entryUUID`.
pub fn format_uuid(bytes: &[u8]) -> Option<String> {
    let b: &[u8; 16] = bytes.try_into().ok()?;
    let hex: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
    Some(format!(
        "{}-{}-{}-{}-{}",
        hex[0..4].concat(),
        hex[4..6].concat(),
        hex[6..8].concat(),
        hex[8..10].concat(),
        hex[10..16].concat()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_read_in_ad_byte_order_and_round_trip() {
        // objectGUID:: mEtheph/kk67JbRYDuCYkg== as Samba returned it.
        let bytes = [
            0x98, 0x4b, 0x61, 0x7a, 0x98, 0x7f, 0x92, 0x4e, 0xbb, 0x25, 0xb4, 0x58, 0x0e, 0xe0,
            0x98, 0x92,
        ];
        let text = format_guid(&bytes).unwrap();
        assert_eq!(text, "7a614b98-7f98-4e92-bb25-b4580ee09892");
        assert_eq!(parse_guid(&text).unwrap(), bytes);
    }

    #[test]
    fn sids_read_and_round_trip() {
        let text = "S-1-5-21-3623811015-3361044348-30300820-1013";
        let bytes = parse_sid(text).unwrap();
        assert_eq!(bytes[..8], [1, 5, 0, 0, 0, 0, 0, 5]);
        assert_eq!(format_sid(&bytes).unwrap(), text);
        assert_eq!(format_sid(&bytes[..10]), None);
    }

    #[test]
    fn generalized_times_parse_with_and_without_fractions() {
        let t = parse_generalized_time("20261123191614.0Z").unwrap();
        assert_eq!(t.to_string(), "2026-11-23T19:16:14Z");
        let t = parse_generalized_time("20261123225915.198706Z").unwrap();
        assert_eq!(t.to_string(), "2026-11-23T22:59:15.198706Z");
        assert_eq!(format_generalized_time(t), "20261123225915Z");
        assert_eq!(parse_generalized_time("2026-11-23"), None);
    }

    #[test]
    fn unicode_pwd_is_the_quoted_password_in_utf16le() {
        assert_eq!(unicode_pwd("ab"), [b'"', 0, b'a', 0, b'b', 0, b'"', 0]);
    }

    #[test]
    fn binary_filter_values_are_fully_escaped() {
        assert_eq!(escape_bytes(&[0x00, 0x2a, 0xff]), "\\00\\2a\\ff");
    }

    #[test]
    fn uuids_print_as_openldap_prints_entry_uuid() {
        let bytes = [
            0x41, 0x88, 0x8d, 0x2c, 0x7b, 0xdd, 0x10, 0x41, 0x9f, 0x8e, 0x25, 0x73, 0x36, 0x6e,
            0xb6, 0xfb,
        ];
        assert_eq!(
            format_uuid(&bytes).unwrap(),
            "41888d2c-7bdd-1041-9f8e-2573366eb6fb"
        );
    }
}
