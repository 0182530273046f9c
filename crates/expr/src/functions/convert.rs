//! Conversions between text, numbers, booleans, dates, GUIDs, SIDs, references and encodings.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use model::Value;

use super::{Dialects, Example, Family, Function, Imp, boolean, string};
use crate::eval::decimal;
use crate::value;

const fn example(
    expression: &'static str,
    attributes: &'static str,
    result: &'static str,
) -> Example {
    Example {
        expression,
        attributes,
        result,
    }
}

pub(crate) static CBOOL: Function = Function {
    name: "CBool",
    dialects: Dialects::Both,
    family: Family::Conversion,
    signature: "CBool(expression)",
    summary: "True when the expression is true, `\"True\"` (any case) or a non-zero number; False when it is false, `\"False\"`, zero or absent. Other text is an error.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"CBool([attribute1] = [attribute2])"#,
        r#"{"attribute1": "abc", "attribute2": "abc"}"#,
        r#""True""#,
    ),
    imp: Imp::PerValue(|_, args| match args[0] {
        None => Ok(boolean(false)),
        Some(v) => value::boolean(v)
            .map(Value::Boolean)
            .map(Some)
            .ok_or_else(|| format!("{:?} is not a boolean or a number", value::text(v))),
    }),
};

pub(crate) static CDATE: Function = Function {
    name: "CDate",
    dialects: Dialects::Both,
    family: Family::Conversion,
    signature: "CDate(expression)",
    summary: "Reads a date (ISO 8601 with or without time and offset, `M/d/yyyy h:mm:ss tt`, or Connect's `yyyy-MM-dd h:mm tt -8`) and returns it in UTC. Text without an offset is UTC. As text a date reads `M/d/yyyy h:mm:ss tt`.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"CDate([StatusHireDate])"#,
        r#"{"StatusHireDate": "2020-03-16-07:00"}"#,
        r#""3/16/2020 7:00:00 AM""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let Some(v) = args[0] else { return Ok(None) };
        value::date(v)
            .map(|t| Some(Value::DateTime(t)))
            .ok_or_else(|| format!("{:?} is not a date", value::text(v)))
    }),
};

/// Parses a GUID in its text forms (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, braces, or 32
/// hex digits) into .NET `Guid.ToByteArray()` order: the first three groups little-endian.
pub(crate) fn parse_guid(text: &str) -> Option<[u8; 16]> {
    let text = text.trim();
    let text = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(text);
    let hex: String = if text.len() == 36 {
        let parts: Vec<&str> = text.split('-').collect();
        if parts.iter().map(|p| p.len()).collect::<Vec<_>>() != [8, 4, 4, 4, 12] {
            return None;
        }
        parts.concat()
    } else {
        text.to_owned()
    };
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut bytes = [0u8; 16];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    bytes[..4].reverse();
    bytes[4..6].reverse();
    bytes[6..8].reverse();
    Some(bytes)
}

pub(crate) fn guid_text(bytes: &[u8]) -> Option<String> {
    let bytes: [u8; 16] = bytes.try_into().ok()?;
    let mut ordered = bytes;
    ordered[..4].reverse();
    ordered[4..6].reverse();
    ordered[6..8].reverse();
    let hex: String = ordered.iter().map(|b| format!("{b:02x}")).collect();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

pub(crate) static CGUID: Function = Function {
    name: "CGuid",
    dialects: Dialects::Connect,
    family: Family::Conversion,
    signature: "CGuid(GUID)",
    summary: "Converts the text form of a GUID to its binary form (.NET byte order).",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"CGuid("00001111-aaaa-2222-bbbb-3333cccc4444")"#,
        "{}",
        r#""EREAAKqqIiK7uzMzzMxERA==""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let Some(v) = args[0] else { return Ok(None) };
        let text = value::text(v);
        parse_guid(&text)
            .map(|b| Some(Value::Binary(b.to_vec())))
            .ok_or_else(|| format!("{text:?} is not a GUID"))
    }),
};

pub(crate) static CNUM: Function = Function {
    name: "CNum",
    dialects: Dialects::Connect,
    family: Family::Conversion,
    signature: "CNum(value)",
    summary: "Converts text to a number.",
    min_args: 1,
    max_args: Some(1),
    example: example(r#"CNum("42") + 1"#, "{}", "43"),
    imp: Imp::PerValue(|_, args| {
        let Some(v) = args[0] else { return Ok(None) };
        if let Some(i) = value::integer(v).filter(|_| !matches!(v, Value::Boolean(_))) {
            return Ok(Some(Value::Integer(i)));
        }
        value::number(v)
            .map(|n| Some(decimal(n)))
            .ok_or_else(|| format!("{:?} is not a number", value::text(v)))
    }),
};

fn decode_utf16le(bytes: &[u8]) -> Result<String, String> {
    if !bytes.len().is_multiple_of(2) {
        return Err("the bytes are not UTF-16 (odd length)".into());
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).map_err(|_| "the bytes are not valid UTF-16".into())
}

pub(crate) static CONVERT_FROM_BASE64: Function = Function {
    name: "ConvertFromBase64",
    dialects: Dialects::Connect,
    family: Family::Conversion,
    signature: "ConvertFromBase64(source, Encoding)",
    summary: "Decodes base64 to text. `Encoding` is `Unicode` (UTF-16LE, the default), `UTF8` or `ASCII`.",
    min_args: 1,
    max_args: Some(2),
    example: example(
        r#"ConvertFromBase64("SABlAGwAbABvACAAdwBvAHIAbABkACEA")"#,
        "{}",
        r#""Hello world!""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let Some(v) = args[0] else { return Ok(None) };
        let bytes = BASE64
            .decode(value::text(v).trim())
            .map_err(|e| format!("not base64: {e}"))?;
        let encoding = args
            .get(1)
            .copied()
            .flatten()
            .map(value::text)
            .unwrap_or_default();
        let text = match encoding.to_ascii_lowercase().as_str() {
            "" | "unicode" => decode_utf16le(&bytes)?,
            "utf8" => String::from_utf8(bytes).map_err(|_| "the bytes are not UTF-8".to_owned())?,
            "ascii" => bytes
                .iter()
                .map(|&b| if b < 128 { b as char } else { '?' })
                .collect(),
            other => {
                return Err(format!(
                    "Encoding must be Unicode, UTF8 or ASCII, got {other:?}"
                ));
            }
        };
        Ok(string(text))
    }),
};

pub(crate) static CONVERT_TO_BASE64: Function = Function {
    name: "ConvertToBase64",
    dialects: Dialects::Both,
    family: Family::Conversion,
    signature: "ConvertToBase64(source)",
    summary: "Encodes text as base64 of its UTF-16LE (\"Unicode\") bytes.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"ConvertToBase64("Hello world!")"#,
        "{}",
        r#""SABlAGwAbABvACAAdwBvAHIAbABkACEA""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let Some(v) = args[0] else { return Ok(None) };
        let bytes: Vec<u8> = value::text(v)
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        Ok(string(BASE64.encode(bytes)))
    }),
};

pub(crate) static CONVERT_FROM_UTF8_HEX: Function = Function {
    name: "ConvertFromUTF8Hex",
    dialects: Dialects::Connect,
    family: Family::Conversion,
    signature: "ConvertFromUTF8Hex(source)",
    summary: "Decodes hex digits (two per byte) of UTF-8 text.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"ConvertFromUTF8Hex("48656C6C6F20776F726C6421")"#,
        "{}",
        r#""Hello world!""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let Some(v) = args[0] else { return Ok(None) };
        let hex = value::text(v);
        if !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("{hex:?} is not hex digits"));
        }
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0))
            .collect();
        String::from_utf8(bytes)
            .map(|s| Some(Value::String(s)))
            .map_err(|_| "the bytes are not UTF-8".into())
    }),
};

pub(crate) static CONVERT_TO_UTF8_HEX: Function = Function {
    name: "ConvertToUTF8Hex",
    dialects: Dialects::Both,
    family: Family::Conversion,
    signature: "ConvertToUTF8Hex(source)",
    summary: "Encodes text as upper-case hex of its UTF-8 bytes.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"ConvertToUTF8Hex("Hello world!")"#,
        "{}",
        r#""48656C6C6F20776F726C6421""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let Some(v) = args[0] else { return Ok(None) };
        let mut out = String::new();
        for b in value::text(v).bytes() {
            let _ = write!(out, "{b:02X}");
        }
        Ok(string(out))
    }),
};

pub(crate) static CREF: Function = Function {
    name: "CRef",
    dialects: Dialects::Connect,
    family: Family::Conversion,
    signature: "CRef(value)",
    summary: "Converts text (a distinguished name) to a reference.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"CRef("CN=LC Services,CN=Microsoft," & %Forest.LDAP%)"#,
        "{}",
        r#""CN=LC Services,CN=Microsoft,DC=fabrikam,DC=com""#,
    ),
    imp: Imp::PerValue(
        |_, args| Ok(args[0].map(|v| Value::Reference(value::text(v).into_owned()))),
    ),
};

pub(crate) static CSTR: Function = Function {
    name: "CStr",
    dialects: Dialects::Both,
    family: Family::Conversion,
    signature: "CStr(value)",
    summary: "Converts a number, reference, boolean or date to text.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"CStr([dn])"#,
        r#"{"dn": "cn=Joe,dc=contoso,dc=com"}"#,
        r#""cn=Joe,dc=contoso,dc=com""#,
    ),
    imp: Imp::PerValue(|_, args| Ok(args[0].map(|v| Value::String(value::text(v).into_owned())))),
};

pub(crate) static STRING_FROM_GUID: Function = Function {
    name: "StringFromGuid",
    dialects: Dialects::Connect,
    family: Family::Conversion,
    signature: "StringFromGuid(GUID)",
    summary: "Converts a binary GUID (.NET byte order, or its base64 text) to its text form.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"StringFromGuid(CGuid("00001111-aaaa-2222-bbbb-3333cccc4444"))"#,
        "{}",
        r#""00001111-aaaa-2222-bbbb-3333cccc4444""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let Some(v) = args[0] else { return Ok(None) };
        let bytes = value::bytes(v).ok_or_else(|| "the GUID must be binary".to_owned())?;
        guid_text(&bytes)
            .map(|s| Some(Value::String(s)))
            .ok_or_else(|| format!("a GUID has 16 bytes, not {}", bytes.len()))
    }),
};

/// The `S-1-5-21-…` form of a binary security identifier.
pub(crate) fn sid_text(bytes: &[u8]) -> Option<String> {
    if bytes.len() < 8 || bytes[0] != 1 {
        return None;
    }
    let count = bytes[1] as usize;
    if bytes.len() != 8 + 4 * count {
        return None;
    }
    let authority = bytes[2..8]
        .iter()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    let mut out = format!("S-1-{authority}");
    for chunk in bytes[8..].chunks_exact(4) {
        let _ = write!(
            out,
            "-{}",
            u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]])
        );
    }
    Some(out)
}

pub(crate) static STRING_FROM_SID: Function = Function {
    name: "StringFromSid",
    dialects: Dialects::Connect,
    family: Family::Conversion,
    signature: "StringFromSid(ObjectSID)",
    summary: "Converts a binary security identifier (or its base64 text) to the `S-1-5-…` form.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"StringFromSid([objectSid])"#,
        r#"{"objectSid": "AQUAAAAAAAUVAAAAoGXPfnhLm1/nfIdwUAQAAA=="}"#,
        r#""S-1-5-21-2127521184-1604012920-1887927527-1104""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let Some(v) = args[0] else { return Ok(None) };
        let bytes = value::bytes(v).ok_or_else(|| "the SID must be binary".to_owned())?;
        sid_text(&bytes)
            .map(|s| Some(Value::String(s)))
            .ok_or_else(|| "the bytes are not a security identifier".into())
    }),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_round_trip_in_dotnet_byte_order() {
        let bytes = parse_guid("{00001111-aaaa-2222-bbbb-3333cccc4444}").unwrap();
        assert_eq!(BASE64.encode(bytes), "EREAAKqqIiK7uzMzzMxERA==");
        assert_eq!(
            guid_text(&bytes).unwrap(),
            "00001111-aaaa-2222-bbbb-3333cccc4444"
        );
        assert_eq!(parse_guid("not-a-guid"), None);
    }

    #[test]
    fn sids_print_their_sub_authorities() {
        let sid = [1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 32, 2, 0, 0];
        assert_eq!(sid_text(&sid).unwrap(), "S-1-5-32-544");
    }
}
