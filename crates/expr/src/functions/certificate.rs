//! Connect's certificate functions over X.509 values (`userCertificate`), with .NET's
//! X509Certificate2 conventions: names most-specific first (`CN=…, O=…, C=…`), upper-case
//! hex for serial numbers and thumbprints, times in UTC.

use std::borrow::Cow;
use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use model::{Timestamp, Value};
use sha1::{Digest, Sha1};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate, X509Name};

use super::{Dialects, Example, Family, Function, Imp, string};
use crate::eval::Ev;
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

/// A self-signed test certificate (CN=Ada Lovelace, O=Contoso, C=GB) for the examples.
pub(crate) const EXAMPLE_CERTIFICATE: &str = include_str!("example-certificate.b64");

/// The DER bytes of a certificate value: binary DER, base64 text of DER, or PEM text.
fn der(value: &Value) -> Option<Cow<'_, [u8]>> {
    match value {
        Value::Binary(bytes) => Some(Cow::Borrowed(bytes)),
        Value::String(text) => {
            let body: String = text
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .flat_map(|l| l.chars())
                .filter(|c| !c.is_whitespace())
                .collect();
            BASE64.decode(body).ok().map(Cow::Owned)
        }
        _ => None,
    }
}

fn with_certificate<T>(
    value: Option<&Value>,
    read: impl FnOnce(&X509Certificate<'_>, &[u8]) -> T,
) -> Result<Option<T>, String> {
    let Some(value) = value else { return Ok(None) };
    let bytes = der(value)
        .ok_or_else(|| "the value is not a certificate (expected DER or base64)".to_owned())?;
    let (_, certificate) = X509Certificate::from_der(&bytes)
        .map_err(|e| format!("the value is not an X.509 certificate: {e}"))?;
    Ok(Some(read(&certificate, &bytes)))
}

fn short_name(oid: &str) -> Cow<'static, str> {
    Cow::Borrowed(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "SERIALNUMBER",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "S",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "T",
        "2.5.4.42" => "G",
        "2.5.4.43" => "I",
        "1.2.840.113549.1.9.1" => "E",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        other => return Cow::Owned(format!("OID.{other}")),
    })
}

/// .NET's X500DistinguishedName.Name: RDNs in reverse order of encoding, joined with ", ".
fn dotnet_name(name: &X509Name<'_>) -> String {
    let mut parts: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|attribute| {
                    let value = attribute.as_str().map(str::to_owned).unwrap_or_else(|_| {
                        String::from_utf8_lossy(attribute.as_slice()).into_owned()
                    });
                    let value = if value.contains([',', '+', '"', '=', '<', '>', '#', ';']) {
                        format!("\"{value}\"")
                    } else {
                        value
                    };
                    format!(
                        "{}={}",
                        short_name(&attribute.attr_type().to_id_string()),
                        value
                    )
                })
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .collect();
    parts.reverse();
    parts.join(", ")
}

/// The first (most specific) attribute's type OID, or "" for an empty name.
fn leading_oid(name: &X509Name<'_>) -> String {
    name.iter_rdn()
        .last()
        .and_then(|rdn| rdn.iter().next())
        .map(|a| a.attr_type().to_id_string())
        .unwrap_or_default()
}

fn common_name(name: &X509Name<'_>) -> Option<String> {
    name.iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned)
}

fn hex_upper(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02X}");
    }
    out
}

fn thumbprint(der: &[u8]) -> String {
    hex_upper(&Sha1::digest(der))
}

fn timestamp(seconds: i64) -> Option<Value> {
    Timestamp::from_second(seconds).ok().map(Value::DateTime)
}

macro_rules! cert_function {
    ($ident:ident, $name:literal, $summary:literal, $example_result:literal, |$cert:ident, $der:ident| $body:expr) => {
        pub(crate) static $ident: Function = Function {
            name: $name,
            dialects: Dialects::Connect,
            family: Family::Certificate,
            signature: concat!($name, "(certificateRawData)"),
            summary: $summary,
            min_args: 1,
            max_args: Some(1),
            example: example(
                concat!($name, "([userCertificate])"),
                "certificate",
                $example_result,
            ),
            imp: Imp::PerValue(|_, args| {
                Ok(with_certificate(args[0], |$cert, $der| -> Option<Value> { $body })?.flatten())
            }),
        };
    };
}

cert_function!(
    CERT_FORMAT,
    "CertFormat",
    "The certificate's format: always `X509`.",
    r#""X509""#,
    |_c, _d| string("X509")
);
cert_function!(
    CERT_FRIENDLY_NAME,
    "CertFriendlyName",
    "The friendly name. It is a property of a Windows certificate store, not of the certificate, so a certificate read from a directory has none: `\"\"`.",
    r#""""#,
    |_c, _d| string("")
);
cert_function!(
    CERT_HASH_STRING,
    "CertHashString",
    "The SHA-1 hash of the certificate as upper-case hex.",
    r#""032033BAC43F1C153731CB711EF1B4DBCBDF46C8""#,
    |_c, der| string(thumbprint(der))
);
cert_function!(
    CERT_THUMBPRINT,
    "CertThumbprint",
    "The thumbprint: the SHA-1 hash as upper-case hex.",
    r#""032033BAC43F1C153731CB711EF1B4DBCBDF46C8""#,
    |_c, der| string(thumbprint(der))
);
cert_function!(
    CERT_ISSUER,
    "CertIssuer",
    "The issuer's name, most specific part first (`CN=…, O=…, C=…`).",
    r#""CN=Ada Lovelace, O=Contoso, C=GB""#,
    |c, _d| string(dotnet_name(c.issuer()))
);
cert_function!(
    CERT_ISSUER_DN,
    "CertIssuerDN",
    "The issuer's distinguished name.",
    r#""CN=Ada Lovelace, O=Contoso, C=GB""#,
    |c, _d| string(dotnet_name(c.issuer()))
);
cert_function!(
    CERT_ISSUER_OID,
    "CertIssuerOid",
    "The attribute-type OID of the issuer name's most specific part.",
    r#""2.5.4.3""#,
    |c, _d| string(leading_oid(c.issuer()))
);
cert_function!(
    CERT_SUBJECT,
    "CertSubject",
    "The subject's name, most specific part first.",
    r#""CN=Ada Lovelace, O=Contoso, C=GB""#,
    |c, _d| string(dotnet_name(c.subject()))
);
cert_function!(
    CERT_SUBJECT_NAME_DN,
    "CertSubjectNameDN",
    "The subject's distinguished name.",
    r#""CN=Ada Lovelace, O=Contoso, C=GB""#,
    |c, _d| string(dotnet_name(c.subject()))
);
cert_function!(
    CERT_SUBJECT_NAME_OID,
    "CertSubjectNameOid",
    "The attribute-type OID of the subject name's most specific part.",
    r#""2.5.4.3""#,
    |c, _d| string(leading_oid(c.subject()))
);
cert_function!(
    CERT_KEY_ALGORITHM,
    "CertKeyAlgorithm",
    "The OID of the public key's algorithm.",
    r#""1.2.840.10045.2.1""#,
    |c, _d| string(c.public_key().algorithm.algorithm.to_id_string())
);
cert_function!(
    CERT_PUBLIC_KEY_OID,
    "CertPublicKeyOid",
    "The OID of the public key's algorithm.",
    r#""1.2.840.10045.2.1""#,
    |c, _d| string(c.public_key().algorithm.algorithm.to_id_string())
);
cert_function!(
    CERT_KEY_ALGORITHM_PARAMS,
    "CertKeyAlgorithmParams",
    "The public key algorithm's parameters as upper-case hex of their DER encoding (`0500` for none).",
    r#""06082A8648CE3D030107""#,
    |c, _d| string(algorithm_parameters_hex(c))
);
cert_function!(
    CERT_PUBLIC_KEY_PARAMETERS_OID,
    "CertPublicKeyParametersOid",
    "The OID in the public key algorithm's parameters (the curve of an EC key), or `\"\"`.",
    r#""1.2.840.10045.3.1.7""#,
    |c, _d| string(
        c.public_key()
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok())
            .map(|o| o.to_id_string())
            .unwrap_or_default()
    )
);
cert_function!(
    CERT_SERIAL_NUMBER,
    "CertSerialNumber",
    "The serial number as upper-case hex.",
    r#""1A2B3C4D""#,
    |c, _d| string(hex_upper(c.raw_serial()))
);
cert_function!(
    CERT_SIGNATURE_ALGORITHM_OID,
    "CertSignatureAlgorithmOid",
    "The OID of the signature algorithm.",
    r#""1.2.840.10045.4.3.2""#,
    |c, _d| string(c.signature_algorithm.algorithm.to_id_string())
);
cert_function!(
    CERT_NOT_AFTER,
    "CertNotAfter",
    "The end of the validity period, as a date (UTC).",
    r#""11/20/2036 8:34:52 PM""#,
    |c, _d| timestamp(c.validity().not_after.timestamp())
);
cert_function!(
    CERT_NOT_BEFORE,
    "CertNotBefore",
    "The start of the validity period, as a date (UTC).",
    r#""11/23/2026 8:34:52 PM""#,
    |c, _d| timestamp(c.validity().not_before.timestamp())
);
cert_function!(
    CERT_VERSION,
    "CertVersion",
    "The X.509 version (3 for today's certificates).",
    "3",
    |c, _d| Some(Value::Integer(i64::from(c.version().0) + 1))
);

fn algorithm_parameters_hex(certificate: &X509Certificate<'_>) -> String {
    match &certificate.public_key().algorithm.parameters {
        None => "0500".into(),
        Some(any) => {
            let data = any.as_bytes();
            let mut der = vec![any.tag().0 as u8];
            if data.len() < 0x80 {
                der.push(data.len() as u8);
            } else {
                let length = data.len().to_be_bytes();
                let significant: Vec<u8> = length.iter().copied().skip_while(|&b| b == 0).collect();
                der.push(0x80 | significant.len() as u8);
                der.extend(significant);
            }
            der.extend_from_slice(data);
            hex_upper(&der)
        }
    }
}

pub(crate) static CERT_EXTENSION_OIDS: Function = Function {
    name: "CertExtensionOids",
    dialects: Dialects::Connect,
    family: Family::Certificate,
    signature: "CertExtensionOids(certificateRawData)",
    summary: "The OIDs of the certificate's extensions, as a multi-valued result.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        "CertExtensionOids([userCertificate])",
        "certificate",
        r#"["2.5.29.14", "2.5.29.19", "2.5.29.17"]"#,
    ),
    imp: Imp::Whole(|_, args| {
        let mut oids = Vec::new();
        for v in args[0].iter() {
            if let Some(list) = with_certificate(Some(v), |c, _| {
                c.extensions()
                    .iter()
                    .map(|e| Value::String(e.oid.to_id_string()))
                    .collect::<Vec<_>>()
            })? {
                oids.extend(list);
            }
        }
        Ok(if matches!(args[0], Ev::Null) {
            Ev::Null
        } else {
            Ev::from_values(oids)
        })
    }),
};

pub(crate) static IS_CERT: Function = Function {
    name: "IsCert",
    dialects: Dialects::Connect,
    family: Family::Certificate,
    signature: "IsCert(certificateRawData)",
    summary: "True when the value is an X.509 certificate.",
    min_args: 1,
    max_args: Some(1),
    example: example("IsCert([userCertificate])", "certificate", r#""True""#),
    imp: Imp::PerValue(|_, args| {
        Ok(Some(Value::Boolean(
            with_certificate(args[0], |_, _| ())
                .ok()
                .flatten()
                .is_some(),
        )))
    }),
};

pub(crate) static CERT_NAME_INFO: Function = Function {
    name: "CertNameInfo",
    dialects: Dialects::Connect,
    family: Family::Certificate,
    signature: "CertNameInfo(certificateRawData, x509NameType, includesIssuerName)",
    summary: "A name from the subject (or the issuer, when `includesIssuerName` is True), as .NET GetNameInfo: `x509NameType` is `SimpleName` (the common name), `EmailName`, `UpnName`, `DnsName`, `DnsFromAlternativeName` or `UrlName`.",
    min_args: 3,
    max_args: Some(3),
    example: example(
        r#"CertNameInfo([userCertificate], "EmailName", False)"#,
        "certificate",
        r#""ada@contoso.com""#,
    ),
    imp: Imp::PerValue(|_, args| {
        let kind = args[1]
            .map(value::text)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let issuer = args[2].and_then(value::boolean).unwrap_or(false);
        let found = with_certificate(args[0], |c, _| {
            let name = if issuer { c.issuer() } else { c.subject() };
            let alternative: Vec<GeneralName<'_>> = if issuer {
                Vec::new()
            } else {
                c.subject_alternative_name()
                    .ok()
                    .flatten()
                    .map(|san| san.value.general_names.clone())
                    .unwrap_or_default()
            };
            let first_alt = |pick: &dyn Fn(&GeneralName<'_>) -> Option<String>| {
                alternative.iter().find_map(pick)
            };
            match kind.as_str() {
                "simplename" => common_name(name).or_else(|| {
                    name.iter_rdn()
                        .last()
                        .and_then(|r| r.iter().next())
                        .and_then(|a| a.as_str().ok())
                        .map(str::to_owned)
                }),
                "emailname" => name
                    .iter_email()
                    .next()
                    .and_then(|e| e.as_str().ok())
                    .map(str::to_owned)
                    .or_else(|| {
                        first_alt(&|g| {
                            if let GeneralName::RFC822Name(e) = g {
                                Some((*e).to_owned())
                            } else {
                                None
                            }
                        })
                    }),
                "upnname" => first_alt(&|g| match g {
                    GeneralName::OtherName(oid, data)
                        if oid.to_id_string() == "1.3.6.1.4.1.311.20.2.3" =>
                    {
                        upn_from_other_name(data)
                    }
                    _ => None,
                }),
                "dnsname" => first_alt(&|g| {
                    if let GeneralName::DNSName(d) = g {
                        Some((*d).to_owned())
                    } else {
                        None
                    }
                })
                .or_else(|| common_name(name)),
                "dnsfromalternativename" => first_alt(&|g| {
                    if let GeneralName::DNSName(d) = g {
                        Some((*d).to_owned())
                    } else {
                        None
                    }
                }),
                "urlname" => first_alt(&|g| {
                    if let GeneralName::URI(u) = g {
                        Some((*u).to_owned())
                    } else {
                        None
                    }
                }),
                _ => None,
            }
        })?;
        Ok(found.map(|name| Value::String(name.unwrap_or_default())))
    }),
};

/// The UPN inside an otherName: `[0] EXPLICIT UTF8String`. The DER is short, so reading the
/// innermost string by its tag is enough.
fn upn_from_other_name(data: &[u8]) -> Option<String> {
    let position = data.iter().position(|&b| b == 0x0C)?;
    let length = *data.get(position + 1)? as usize;
    let text = data.get(position + 2..position + 2 + length)?;
    String::from_utf8(text.to_vec()).ok()
}
