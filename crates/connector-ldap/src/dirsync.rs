//! Active Directory's DirSync control (1.2.840.113556.1.4.841): the delta of AD and Samba.
//!
//! A DirSync search runs at the root of a naming context and returns, from its cookie on,
//! each changed object with only its changed attributes (plus objectGUID), linked values
//! (`member`) as incremental adds (`member;range=1-1`) and removes (`member;range=0-0`),
//! and deleted objects as tombstones (`isDeleted: TRUE`, under CN=Deleted Objects). Objects
//! outside the configured base DNs are left out client-side.

use std::collections::VecDeque;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use connector::{ConnectorError, ImportEntry, ImportProblem, Watermark};
use ldap3::asn1::{PL, parse_tag};
use ldap3::controls::RawControl;
use ldap3::{Scope, SearchEntry};
use model::{Anchor, AttributeChange, AttributeName, Value};

use crate::import::{FULL_ONLY, convert, values_of};
use crate::{Dn, LdapConnector, operation_error, result_error};

pub const PREFIX: &str = "dirsync:";
const DIRSYNC_OID: &str = "1.2.840.113556.1.4.841";
/// LDAP_DIRSYNC_INCREMENTAL_VALUES (0x80000000), which AD wants as the 4-byte INTEGER
/// 80 00 00 00, that is as a negative 32-bit number, not as 00 80 00 00 00.
const INCREMENTAL_VALUES: [u8; 4] = [0x80, 0, 0, 0];
/// A filter no entry matches: a DirSync search with it returns only a cookie for "now".
const NOTHING: &str = "(!(objectClass=*))";
/// Attributes DirSync adds to every change, which are not changes.
const BOOKKEEPING: &[&str] = &["objectGUID", "instanceType", "parentGUID"];

fn ber_length(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
}

/// `SEQUENCE { flags INTEGER, maxBytes INTEGER, cookie OCTET STRING }`.
fn control(cookie: &[u8]) -> RawControl {
    let mut body = vec![0x02, 0x04];
    body.extend(INCREMENTAL_VALUES);
    // maxBytes 0: the server's default.
    body.extend([0x02, 0x01, 0x00]);
    body.push(0x04);
    ber_length(cookie.len(), &mut body);
    body.extend_from_slice(cookie);
    let mut value = vec![0x30];
    ber_length(body.len(), &mut value);
    value.extend(body);
    RawControl {
        ctype: DIRSYNC_OID.to_owned(),
        crit: true,
        val: Some(value),
    }
}

/// The response: whether more results wait, and the new cookie.
fn parse_response(value: &[u8]) -> Option<(bool, Vec<u8>)> {
    let (_, tag) = parse_tag(value).ok()?;
    let mut parts = tag.expect_constructed()?.into_iter();
    let more = match parts.next()?.payload {
        PL::P(bytes) => bytes.iter().any(|b| *b != 0),
        PL::C(_) => return None,
    };
    let _unused = parts.next()?;
    let cookie = parts.next()?.expect_primitive()?;
    Some((more, cookie))
}

/// The naming context holding the first base DN: DirSync runs only at its root.
async fn naming_context(connector: &mut LdapConnector) -> Result<String, ConnectorError> {
    let root = connector
        .search_one("", Scope::Base, "(objectClass=*)", &["namingContexts"])
        .await?;
    let contexts = root
        .and_then(|e| e.attrs.get("namingContexts").cloned())
        .unwrap_or_default();
    let base = Dn::new(connector.settings.base_dns[0].as_str());
    contexts
        .iter()
        .filter(|c| base.is_within(&Dn::new(c.as_str())))
        .max_by_key(|c| c.len())
        .cloned()
        .ok_or_else(|| {
            ConnectorError::Config(format!(
                "{}: no naming context holds {base}",
                connector.settings.url
            ))
        })
}

/// All entries of one DirSync from `cookie`, following "more results", and the new cookie.
async fn search(
    connector: &mut LdapConnector,
    cookie: Vec<u8>,
    filter: &str,
) -> Result<(Vec<SearchEntry>, Vec<u8>), ConnectorError> {
    let context = naming_context(connector).await?;
    let attributes: Vec<String> = if connector.settings.attributes.is_empty() {
        Vec::new()
    } else {
        connector.attributes()
    };
    let mut cookie = cookie;
    let mut entries = Vec::new();
    loop {
        let ldap = connector.ldap().await?;
        ldap.with_controls(control(&cookie));
        let result = match ldap
            .search(&context, Scope::Subtree, filter, attributes.clone())
            .await
        {
            Ok(r) => r,
            Err(e) => {
                return Err(operation_error(
                    connector,
                    &format!("DirSync of {context}"),
                    e,
                ));
            }
        };
        if result.1.rc != 0 {
            return Err(result_error(
                connector,
                &format!("DirSync of {context}"),
                &result.1,
            ));
        }
        let response = result
            .1
            .ctrls
            .iter()
            .find(|c| c.1.ctype == DIRSYNC_OID)
            .and_then(|c| c.1.val.as_deref())
            .and_then(parse_response);
        let Some((more, next)) = response else {
            return Err(ConnectorError::Protocol(format!(
                "{}: DirSync of {context} returned no DirSync response control",
                connector.settings.url
            )));
        };
        entries.extend(
            result
                .0
                .into_iter()
                .filter(|e| !e.is_ref() && !e.is_intermediate())
                .map(SearchEntry::construct),
        );
        cookie = next;
        if !more {
            return Ok((entries, cookie));
        }
    }
}

fn watermark(cookie: &[u8]) -> Watermark {
    Watermark(format!("{PREFIX}{}", BASE64.encode(cookie)))
}

/// The cookie for "now", taken before a full import's first page.
pub async fn current_watermark(connector: &mut LdapConnector) -> Result<Watermark, ConnectorError> {
    match search(connector, Vec::new(), NOTHING).await {
        Ok((_, cookie)) => Ok(watermark(&cookie)),
        Err(ConnectorError::Protocol(message)) => {
            tracing::warn!(url = %connector.settings.url, %message, "no DirSync; delta imports will be full imports");
            Ok(Watermark(FULL_ONLY.to_owned()))
        }
        Err(e) => Err(e),
    }
}

fn binary_attribute<'a>(entry: &'a SearchEntry, name: &str) -> Option<&'a [u8]> {
    entry
        .bin_attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.first())
        .map(Vec::as_slice)
        .or_else(|| {
            entry
                .attrs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.first())
                .map(String::as_bytes)
        })
}

fn has(entry: &SearchEntry, name: &str) -> bool {
    entry
        .attrs
        .keys()
        .chain(entry.bin_attrs.keys())
        .any(|k| k.eq_ignore_ascii_case(name))
}

/// The changes since the cookie in `rest`, or `None` when the cookie is unreadable (a full
/// import runs instead).
pub async fn delta(
    connector: &mut LdapConnector,
    rest: &str,
) -> Result<Option<(VecDeque<ImportEntry>, Vec<ImportProblem>, Watermark)>, ConnectorError> {
    let Ok(cookie) = BASE64.decode(rest) else {
        return Ok(None);
    };
    let filter = connector.filter();
    let (found, cookie) = search(connector, cookie, &filter).await?;
    let bases: Vec<Dn> = connector
        .settings
        .base_dns
        .iter()
        .map(|b| Dn::new(b.as_str()))
        .collect();
    let schema = connector.directory_schema().await?;
    let mut entries = VecDeque::new();
    let mut problems = Vec::new();
    for entry in found {
        let Some(anchor) = binary_attribute(&entry, "objectGUID")
            .and_then(crate::values::format_guid)
            .map(Anchor::new)
        else {
            problems.push(ImportProblem {
                location: entry.dn.clone(),
                anchor: None,
                reason: "a DirSync change without objectGUID".to_owned(),
            });
            continue;
        };
        let deleted =
            binary_attribute(&entry, "isDeleted").is_some_and(|v| v.eq_ignore_ascii_case(b"TRUE"));
        if deleted {
            connector.forget(&anchor);
            entries.push_back(ImportEntry::Delete {
                anchor,
                // A tombstone keeps no class worth reading; the engine finds the object by anchor.
                object_type: connector.settings.object_types[0].object_type.clone(),
            });
            continue;
        }
        let dn = Dn::new(entry.dn.as_str());
        if !bases.iter().any(|b| dn.is_within(b)) {
            continue;
        }
        connector.remember(dn.clone(), anchor.clone());
        if has(&entry, "objectClass") {
            // A new object comes whole.
            let (objects, found) = convert_whole(connector, entry).await?;
            entries.extend(objects.into_iter().map(ImportEntry::Upsert));
            problems.extend(found);
            continue;
        }
        // A changed object: its type from the directory, its changes attribute by attribute.
        let object_type = {
            let by_guid = format!("<GUID={anchor}>");
            let classes = connector
                .search_one(&by_guid, Scope::Base, "(objectClass=*)", &["objectClass"])
                .await?
                .and_then(|e| e.attrs.get("objectClass").cloned())
                .unwrap_or_default();
            match connector.object_type_of(&classes) {
                Some(t) => t,
                None => continue,
            }
        };
        let mut changes = vec![AttributeChange::replace(
            AttributeName::new("dn"),
            vec![Value::String(entry.dn.clone())],
        )];
        let raw = entry
            .attrs
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().map(String::into_bytes).collect::<Vec<_>>()))
            .chain(entry.bin_attrs);
        for (name, raw_values) in raw {
            let (base_name, range) = match name.split_once(';') {
                Some((b, r)) => (b.to_owned(), Some(r.to_ascii_lowercase())),
                None => (name.clone(), None),
            };
            if BOOKKEEPING
                .iter()
                .any(|b| b.eq_ignore_ascii_case(&base_name))
            {
                continue;
            }
            let values = values_of(connector, &schema, dn.as_str(), &name, raw_values).await?;
            let attribute = AttributeName::new(base_name);
            changes.push(match range.as_deref() {
                // Incremental values: range 1-1 lists values added, 0-0 values removed.
                Some("range=1-1") => AttributeChange::add(attribute, values),
                Some("range=0-0") => AttributeChange::remove(attribute, values),
                _ => AttributeChange::replace(attribute, values),
            });
        }
        entries.push_back(ImportEntry::Modify {
            anchor,
            object_type,
            changes,
        });
    }
    Ok(Some((entries, problems, watermark(&cookie))))
}

/// A whole new object, typed as a full import types it.
async fn convert_whole(
    connector: &mut LdapConnector,
    entry: SearchEntry,
) -> Result<(Vec<connector::ImportedObject>, Vec<ImportProblem>), ConnectorError> {
    // Re-read it: DirSync leaves out attributes that are not replicated (and with a
    // restricted attribute list, unchanged ones), and a full image must be whole.
    let dn = entry.dn.clone();
    let attributes = connector.attributes();
    let ldap = connector.ldap().await?;
    let result = match ldap
        .search(&dn, Scope::Base, "(objectClass=*)", attributes)
        .await
    {
        Ok(r) => r,
        Err(e) => return Err(operation_error(connector, &format!("read {dn}"), e)),
    };
    if result.1.rc == 32 {
        return Ok((Vec::new(), Vec::new()));
    }
    if result.1.rc != 0 {
        return Err(result_error(connector, &format!("read {dn}"), &result.1));
    }
    let (objects, problems) = convert(connector, result.0).await?;
    Ok((objects.into_iter().map(|(o, _)| o).collect(), problems))
}
