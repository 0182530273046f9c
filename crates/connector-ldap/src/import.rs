//! Full import (paged results, one search request per page) and delta import (RFC 4533
//! refreshOnly from the cookie, or `modifyTimestamp` for servers without syncprov).

use std::collections::{BTreeSet, HashMap, VecDeque};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use config::LdapDelta;
use connector::{
    ConnectorError, ImportEntry, ImportMode, ImportPage, ImportProblem, ImportRequest,
    ImportedObject, PageCursor, Watermark,
};
use ldap3::ResultEntry;
use ldap3::controls::{
    Control, ControlType, EntryState, PagedResults, RefreshMode, SyncDone, SyncInfo, SyncRequest,
    SyncState,
};
use model::{Anchor, AttributeName, Attributes, Value};

use crate::schema::{DirectorySchema, ValueKind};
use crate::values::{Imported, import_value};
use crate::{Dn, LdapConnector, operation_error, result_error};

const SYNC_STATE_OID: &str = "1.3.6.1.4.1.4203.1.9.1.2";
const SYNC_DONE_OID: &str = "1.3.6.1.4.1.4203.1.9.1.3";
const SYNCREPL_PREFIX: &str = "syncrepl:";
const TIMESTAMP_PREFIX: &str = "timestamp:";
/// The watermark of a connector whose deltas are always full imports.
pub(crate) const FULL_ONLY: &str = "full";
/// A filter no entry matches: a sync search with it returns only the cookie, which is how
/// a full import learns where the next delta starts.
const NOTHING: &str = "(!(objectClass=*))";
/// The result code with which syncprov says a cookie cannot be served as a delta.
const SYNC_REFRESH_REQUIRED: u32 = 4096;

/// The import being served, between pages.
pub enum ImportState {
    /// A paged search over the base DNs, one page per call.
    Paged {
        page: u64,
        base: usize,
        cookie: Vec<u8>,
        /// The search for this page, already running (sent when the previous page came).
        ahead: Option<PageSearch>,
        /// How often the search started over after losing the server.
        restarts: u8,
        /// The connection the cookie came from.
        generation: u64,
        /// Where the next delta starts, learned before the first page so that a change
        /// made during the import is seen again, never missed.
        watermark: Watermark,
        /// The newest modifyTimestamp seen (timestamp deltas).
        newest: Option<String>,
        at_newest: BTreeSet<String>,
    },
    /// A delta read whole (a sync search cannot be paged), served in pages.
    Buffered {
        page: u64,
        entries: VecDeque<ImportEntry>,
        problems: Vec<ImportProblem>,
        watermark: Watermark,
    },
}

fn cursor(page: u64) -> PageCursor {
    PageCursor(format!("page {page}"))
}

pub async fn import(
    connector: &mut LdapConnector,
    request: ImportRequest,
) -> Result<ImportPage, ConnectorError> {
    match &request.cursor {
        None => {
            // A new import replaces any abandoned one.
            connector.import = None;
            if request.mode == ImportMode::Delta
                && let Some(watermark) = &request.watermark
                && let Some(page) = start_delta(connector, watermark).await?
            {
                return Ok(page);
            }
            start_full(connector).await?;
            next_page(connector).await
        }
        Some(given) => {
            let expected = match &connector.import {
                Some(ImportState::Paged { page, .. } | ImportState::Buffered { page, .. }) => {
                    Some(cursor(*page))
                }
                None => None,
            };
            if expected.as_ref() != Some(given) {
                return Err(ConnectorError::Protocol(format!(
                    "{}: page cursor {} is stale ({}); start the import again",
                    connector.settings.url,
                    given.0,
                    match expected {
                        Some(c) => format!("the import in progress is at {}", c.0),
                        None => "no import is in progress".to_owned(),
                    }
                )));
            }
            next_page(connector).await
        }
    }
}

async fn start_full(connector: &mut LdapConnector) -> Result<(), ConnectorError> {
    let watermark = match connector.settings.delta {
        LdapDelta::Syncrepl => match current_cookies(connector).await? {
            Some(cookies) => syncrepl_watermark(&cookies),
            None => {
                tracing::warn!(
                    url = %connector.settings.url,
                    "the server sent no syncrepl cookie; delta imports will be full imports"
                );
                Watermark(FULL_ONLY.to_owned())
            }
        },
        LdapDelta::DirSync => crate::dirsync::current_watermark(connector).await?,
        LdapDelta::Usn => crate::usn::current_watermark(connector).await?,
        // Completed from the entries seen, on the last page.
        LdapDelta::Timestamp => Watermark(String::new()),
        LdapDelta::None => Watermark(FULL_ONLY.to_owned()),
    };
    connector.import = Some(ImportState::Paged {
        page: 0,
        base: 0,
        cookie: Vec::new(),
        ahead: None,
        restarts: 0,
        generation: connector.generation,
        watermark,
        newest: None,
        at_newest: BTreeSet::new(),
    });
    Ok(())
}

async fn next_page(connector: &mut LdapConnector) -> Result<ImportPage, ConnectorError> {
    match connector.import.take() {
        Some(ImportState::Paged {
            page,
            base,
            cookie,
            ahead,
            mut restarts,
            generation,
            watermark,
            mut newest,
            mut at_newest,
        }) => {
            let mut base = base;
            let base_dn = connector.settings.base_dns[base].clone();
            let running = match ahead {
                Some(running) => Ok(running),
                None => start_page(connector, &base_dn, cookie, generation).await,
            };
            let page_read = match running {
                Ok(running) => finish_page(connector, &base_dn, running).await,
                Err(e) => Err(e),
            };
            let (entries, next_cookie) = match page_read {
                Ok(read) => read,
                // The server went away mid-import (a restart, a failover): the paging
                // cookie died with the connection. Read again from the first page on a new
                // connection. Objects already served come again (upserts of the same
                // images, harmless); none is skipped, so none is taken for deleted.
                Err(e) if e.is_transient() && restarts < MAX_RESTARTS => {
                    restarts += 1;
                    tracing::warn!(url = %connector.settings.url, error = %e, attempt = restarts, "lost the server during a paged import; reading again from the first page");
                    connector.drop_connection();
                    base = 0;
                    let first = connector.settings.base_dns[0].clone();
                    let running = reconnected_page(connector, &first).await?;
                    finish_page(connector, &first, running).await?
                }
                Err(e) => return Err(e),
            };
            let (next_base, next_cookie) = match next_cookie {
                Some(c) if !c.is_empty() => (base, c),
                _ => (base + 1, Vec::new()),
            };
            // Ask for the next page now, so the server and the driver thread work on it
            // while this one is converted.
            // The cookie just came on the current connection.
            let current = connector.generation;
            let ahead = match connector.settings.base_dns.get(next_base).cloned() {
                Some(next_dn) => {
                    match start_page(connector, &next_dn, next_cookie.clone(), current).await {
                        Ok(running) => Some(running),
                        // Lost already: the next call starts over.
                        Err(e) if e.is_transient() => None,
                        Err(e) => return Err(e),
                    }
                }
                None => None,
            };
            let (imported, problems) = convert(connector, entries).await?;
            for (object, modified) in &imported {
                if let Some(modified) = modified {
                    track_newest(
                        &mut newest,
                        &mut at_newest,
                        modified.clone(),
                        object.anchor.as_str(),
                    );
                }
            }
            let (base, cookie) = (next_base, next_cookie);
            let done = base >= connector.settings.base_dns.len();
            let entries = imported
                .into_iter()
                .map(|(o, _)| ImportEntry::Upsert(o))
                .collect();
            if done {
                let watermark = if connector.settings.delta == LdapDelta::Timestamp {
                    timestamp_watermark(newest.as_deref(), &at_newest)
                } else {
                    watermark
                };
                return Ok(ImportPage {
                    mode: ImportMode::Full,
                    entries,
                    problems,
                    next: None,
                    watermark: Some(watermark),
                });
            }
            connector.import = Some(ImportState::Paged {
                page: page + 1,
                base,
                cookie,
                ahead,
                restarts,
                generation: current,
                watermark,
                newest,
                at_newest,
            });
            Ok(ImportPage {
                mode: ImportMode::Full,
                entries,
                problems,
                next: Some(cursor(page + 1)),
                watermark: None,
            })
        }
        Some(ImportState::Buffered {
            page,
            mut entries,
            problems,
            watermark,
        }) => {
            let size = connector.settings.page_size as usize;
            let chunk: Vec<ImportEntry> = entries.drain(..size.min(entries.len())).collect();
            if entries.is_empty() {
                return Ok(ImportPage {
                    mode: ImportMode::Delta,
                    entries: chunk,
                    problems,
                    next: None,
                    watermark: Some(watermark),
                });
            }
            connector.import = Some(ImportState::Buffered {
                page: page + 1,
                entries,
                problems: Vec::new(),
                watermark,
            });
            Ok(ImportPage {
                mode: ImportMode::Delta,
                entries: chunk,
                problems,
                next: Some(cursor(page + 1)),
                watermark: None,
            })
        }
        None => Err(ConnectorError::Protocol(format!(
            "{}: no import in progress",
            connector.settings.url
        ))),
    }
}

/// Times a paged import starts over after losing the server, before it fails.
const MAX_RESTARTS: u8 = 3;

/// The first page's search on a new connection, trying to connect for a while: a
/// restarting server takes a moment to listen again.
async fn reconnected_page(
    connector: &mut LdapConnector,
    base: &str,
) -> Result<PageSearch, ConnectorError> {
    let mut delay = std::time::Duration::from_millis(100);
    let mut last = None;
    for _ in 0..8 {
        match start_page(connector, base, Vec::new(), 0).await {
            Ok(running) => return Ok(running),
            Err(e) if e.is_transient() => {
                last = Some(e);
                connector.drop_connection();
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(5));
            }
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| ConnectorError::unavailable("cannot reconnect")))
}

/// A paged search request running on the driver thread.
pub struct PageSearch(tokio::task::JoinHandle<ldap3::result::Result<ldap3::SearchResult>>);

/// Sends the search for one page (the server's `cookie` says which).
async fn start_page(
    connector: &mut LdapConnector,
    base: &str,
    cookie: Vec<u8>,
    cookie_generation: u64,
) -> Result<PageSearch, ConnectorError> {
    let (scope, filter, attributes) = (
        connector.scope(),
        connector.filter(),
        connector.attributes(),
    );
    let size = i32::try_from(connector.settings.page_size).unwrap_or(i32::MAX);
    let timeout = connector.settings.timeout;
    let mut ldap = connector.ldap().await?.clone();
    // A cookie from a connection that is gone means nothing to the new one.
    if !cookie.is_empty() && connector.generation != cookie_generation {
        return Err(ConnectorError::unavailable(format!(
            "{}: the connection was lost during the paged import of {base}",
            connector.settings.url
        )));
    }
    let base = base.to_owned();
    Ok(PageSearch(crate::connection::driver().spawn(async move {
        ldap.with_timeout(timeout);
        ldap.with_controls(PagedResults { size, cookie });
        ldap.search(&base, scope, &filter, attributes).await
    })))
}

/// The entries of one page and the server's cookie for the next (empty when the search is
/// complete).
async fn finish_page(
    connector: &mut LdapConnector,
    base: &str,
    running: PageSearch,
) -> Result<(Vec<ResultEntry>, Option<Vec<u8>>), ConnectorError> {
    let result = match running.0.await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return Err(operation_error(connector, &format!("search of {base}"), e)),
        Err(e) => {
            return Err(ConnectorError::unavailable(format!(
                "{}: search of {base}: {e}",
                connector.settings.url
            )));
        }
    };
    if result.1.rc != 0 {
        return Err(result_error(
            connector,
            &format!("paged search of {base}"),
            &result.1,
        ));
    }
    let next = result
        .1
        .ctrls
        .iter()
        .find_map(|Control(kind, raw)| match kind {
            Some(ControlType::PagedResults) => Some(raw.parse::<PagedResults>().cookie),
            _ => None,
        });
    // Referrals to other naming contexts (AD) are not entries of this system.
    let entries = result
        .0
        .into_iter()
        .filter(|e| !e.is_ref() && !e.is_intermediate())
        .collect();
    Ok((entries, next))
}

/// Typed objects (with their modifyTimestamp, when asked for) from raw entries. An entry
/// of no mapped class is not this system's object and is skipped; one without an anchor is
/// a problem.
pub(crate) async fn convert(
    connector: &mut LdapConnector,
    entries: Vec<ResultEntry>,
) -> Result<(Vec<(ImportedObject, Option<String>)>, Vec<ImportProblem>), ConnectorError> {
    let mut objects = Vec::with_capacity(entries.len());
    let mut problems = Vec::new();
    let schema = connector.directory_schema().await?;
    // Every entry of a page names the same few attributes: look each up once.
    let mut names: HashMap<String, (AttributeName, ValueKind)> = HashMap::new();
    for entry in entries {
        let Some(entry) = RawEntry::parse(entry) else {
            return Err(ConnectorError::Protocol(format!(
                "{}: a search result entry could not be decoded",
                connector.settings.url
            )));
        };
        match to_object(connector, &schema, &mut names, entry).await? {
            Converted::Object(object, modified) => objects.push((object, modified)),
            Converted::Skipped => {}
            Converted::Problem(problem) => problems.push(problem),
        }
    }
    Ok((objects, problems))
}

/// A search result entry as the server sent it: the DN and each attribute's raw values.
/// (ldap3's `SearchEntry` turns values into strings and back, which costs a copy each.)
struct RawEntry {
    dn: String,
    attributes: Vec<(String, Vec<Vec<u8>>)>,
}

impl RawEntry {
    fn parse(entry: ResultEntry) -> Option<RawEntry> {
        let mut parts = entry.0.expect_constructed()?.into_iter();
        let dn = String::from_utf8(parts.next()?.expect_primitive()?).ok()?;
        let mut attributes = Vec::new();
        for attribute in parts.next()?.expect_constructed()? {
            let mut pair = attribute.expect_constructed()?.into_iter();
            let name = String::from_utf8(pair.next()?.expect_primitive()?).ok()?;
            let values = pair
                .next()?
                .expect_constructed()?
                .into_iter()
                .filter_map(|v| v.expect_primitive())
                .collect();
            attributes.push((name, values));
        }
        Some(RawEntry { dn, attributes })
    }

    fn values(&self, name: &str) -> Option<&[Vec<u8>]> {
        self.attributes
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

enum Converted {
    /// The object and its modifyTimestamp (when asked for).
    Object(ImportedObject, Option<String>),
    Skipped,
    Problem(ImportProblem),
}

async fn to_object(
    connector: &mut LdapConnector,
    schema: &DirectorySchema,
    names: &mut HashMap<String, (AttributeName, ValueKind)>,
    entry: RawEntry,
) -> Result<Converted, ConnectorError> {
    let classes: Vec<String> = entry
        .values("objectClass")
        .unwrap_or_default()
        .iter()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let Some(object_type) = connector.object_type_of(&classes) else {
        return Ok(Converted::Skipped);
    };
    let anchor_attribute = connector.settings.anchor.clone();
    let anchor = entry
        .values(&anchor_attribute)
        .and_then(|v| v.first())
        .and_then(|bytes| match schema.kind(&anchor_attribute) {
            ValueKind::Guid => crate::values::format_guid(bytes),
            _ => String::from_utf8(bytes.clone()).ok(),
        })
        .map(Anchor::new);
    let Some(anchor) = anchor else {
        return Ok(Converted::Problem(ImportProblem {
            location: entry.dn.clone(),
            anchor: None,
            reason: format!("the entry has no {anchor_attribute} (the anchor)"),
        }));
    };
    connector.remember(Dn::new(entry.dn.as_str()), anchor.clone());
    let mut attributes = Attributes::new();
    attributes.set(
        AttributeName::new("dn"),
        vec![Value::String(entry.dn.clone())],
    );
    if let Some(source_anchor) = source_anchor(&entry) {
        attributes.set(
            AttributeName::new(SOURCE_ANCHOR),
            vec![Value::String(source_anchor)],
        );
    }
    let mut modified = None;
    let dn = entry.dn;
    for (name, raw_values) in entry.attributes {
        let (name, raw_values) = match ranged(&name) {
            Some((base, next)) => {
                let rest = remaining_range(connector, &dn, &base, next).await?;
                (base, raw_values.into_iter().chain(rest).collect())
            }
            None => (name, raw_values),
        };
        if connector.settings.delta == LdapDelta::Timestamp
            && name.eq_ignore_ascii_case("modifyTimestamp")
        {
            modified = raw_values
                .first()
                .and_then(|v| String::from_utf8(v.clone()).ok());
        }
        let (attribute, kind) = match names.get(&name) {
            Some(known) => known.clone(),
            None => {
                let known = (AttributeName::new(name.as_str()), schema.kind(&name));
                names.insert(name.clone(), known.clone());
                known
            }
        };
        let mut values = if kind == ValueKind::Dn {
            values_of(connector, schema, &dn, &name, raw_values).await?
        } else {
            raw_values
                .into_iter()
                .filter_map(|bytes| match import_value(kind, bytes) {
                    Imported::Value(v) => Some(v),
                    Imported::Dn(_) => None,
                })
                .collect()
        };
        if values.is_empty() {
            continue;
        }
        // A server may return an attribute twice (AD's ranges of one attribute).
        if let Some(existing) = attributes.remove(&attribute) {
            values.splice(0..0, existing);
        }
        attributes.set(attribute, values);
    }
    Ok(Converted::Object(
        ImportedObject {
            anchor,
            object_type,
            attributes,
        },
        modified,
    ))
}

/// The computed attribute holding an AD object's source anchor for hybrid identity.
pub const SOURCE_ANCHOR: &str = "sourceAnchor";

/// What Entra Connect uses as `onPremisesImmutableId`: the base64 of `ms-DS-ConsistencyGuid`
/// when it is set, else of `objectGUID` (as stored: 16 bytes in AD's byte order).
fn source_anchor(entry: &RawEntry) -> Option<String> {
    let bytes = entry
        .values("mS-DS-ConsistencyGuid")
        .and_then(|v| v.first())
        .filter(|v| v.len() == 16)
        .or_else(|| entry.values("objectGUID").and_then(|v| v.first()))?;
    Some(BASE64.encode(bytes))
}

/// `member;range=0-1499` → (`member`, 1500): AD returns a large multi-valued attribute in
/// ranges, the last one ending in `*`. `None` for a whole attribute or the last range.
fn ranged(name: &str) -> Option<(String, u64)> {
    let (base, option) = name.split_once(';')?;
    let range = option.to_ascii_lowercase();
    let (_, high) = range.strip_prefix("range=")?.split_once('-')?;
    let high: u64 = high.parse().ok()?;
    Some((base.to_owned(), high + 1))
}

/// The values of `attribute` from index `next` on, range by range, until the server's last
/// range (`;range=N-*`).
async fn remaining_range(
    connector: &mut LdapConnector,
    dn: &str,
    attribute: &str,
    mut next: u64,
) -> Result<Vec<Vec<u8>>, ConnectorError> {
    let mut values = Vec::new();
    loop {
        let wanted = format!("{attribute};range={next}-*");
        let Some(entry) = connector
            .search_one(dn, ldap3::Scope::Base, "(objectClass=*)", &[&wanted])
            .await?
        else {
            return Ok(values);
        };
        let prefix = format!("{};range=", attribute.to_ascii_lowercase());
        let found = entry
            .attrs
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().map(String::into_bytes).collect::<Vec<_>>()))
            .chain(entry.bin_attrs)
            .find(|(k, _)| k.to_ascii_lowercase().starts_with(&prefix));
        let Some((name, chunk)) = found else {
            return Ok(values);
        };
        values.extend(chunk);
        match ranged(&name) {
            Some((_, following)) if following > next => next = following,
            // `N-*`: the last range.
            _ => return Ok(values),
        }
    }
}

/// One attribute's values, typed by its syntax; DN values become references to the named
/// entries' anchors.
pub(crate) async fn values_of(
    connector: &mut LdapConnector,
    schema: &crate::schema::DirectorySchema,
    entry: &str,
    name: &str,
    raw_values: Vec<Vec<u8>>,
) -> Result<Vec<Value>, ConnectorError> {
    let kind = schema.kind(name.split(';').next().unwrap_or(name));
    let mut values = Vec::with_capacity(raw_values.len());
    for bytes in raw_values {
        match import_value(kind, bytes) {
            Imported::Value(v) => values.push(v),
            Imported::Dn(dn) => match connector.anchor_for_dn(&dn).await? {
                Some(target) => values.push(Value::Reference(target.as_str().to_owned())),
                // A dangling DN (a deleted member still listed) names nothing to refer to.
                None => {
                    tracing::debug!(%entry, attribute = %name, %dn, "DN value names no entry; left out")
                }
            },
        }
    }
    Ok(values)
}

fn track_newest(
    newest: &mut Option<String>,
    at_newest: &mut BTreeSet<String>,
    modified: String,
    anchor: &str,
) {
    // GeneralizedTime in UTC with a fixed number of digits sorts as text.
    match newest.as_deref() {
        Some(current) if modified.as_str() < current => {}
        Some(current) if modified.as_str() == current => {
            at_newest.insert(anchor.to_owned());
        }
        _ => {
            *newest = Some(modified);
            at_newest.clear();
            at_newest.insert(anchor.to_owned());
        }
    }
}

fn syncrepl_watermark(cookies: &[Vec<u8>]) -> Watermark {
    let encoded: Vec<String> = cookies.iter().map(|c| BASE64.encode(c)).collect();
    Watermark(format!("{SYNCREPL_PREFIX}{}", encoded.join(" ")))
}

/// `timestamp:<newest modifyTimestamp> <anchors modified at that second>`: a delta asks for
/// entries modified at or after it. The anchors say which entries the boundary repeats.
fn timestamp_watermark(newest: Option<&str>, at_newest: &BTreeSet<String>) -> Watermark {
    match newest {
        Some(t) => {
            let anchors: Vec<&str> = at_newest.iter().map(String::as_str).collect();
            Watermark(format!("{TIMESTAMP_PREFIX}{t} {}", anchors.join(" ")))
        }
        None => Watermark(TIMESTAMP_PREFIX.to_owned()),
    }
}

/// The server's current cookie for each base DN, from a sync search that matches nothing.
/// `None` when the server does not do content synchronization.
async fn current_cookies(
    connector: &mut LdapConnector,
) -> Result<Option<Vec<Vec<u8>>>, ConnectorError> {
    let mut cookies = Vec::new();
    for base in connector.settings.base_dns.clone() {
        let outcome = sync_search(connector, &base, None, NOTHING).await?;
        match outcome {
            SyncOutcome::Delta {
                cookie: Some(cookie),
                ..
            } => cookies.push(cookie),
            _ => return Ok(None),
        }
    }
    Ok(Some(cookies))
}

/// Serves a delta from the watermark, or `None` when a full import must run instead (no
/// usable watermark, or the server cannot serve this cookie as a delta).
async fn start_delta(
    connector: &mut LdapConnector,
    watermark: &Watermark,
) -> Result<Option<ImportPage>, ConnectorError> {
    let text = watermark.0.as_str();
    let (entries, problems, next) = if let Some(rest) = text.strip_prefix(SYNCREPL_PREFIX) {
        if connector.settings.delta != LdapDelta::Syncrepl {
            return Ok(None);
        }
        let cookies: Option<Vec<Vec<u8>>> =
            rest.split(' ').map(|c| BASE64.decode(c).ok()).collect();
        let Some(cookies) = cookies.filter(|c| c.len() == connector.settings.base_dns.len()) else {
            return Ok(None);
        };
        let mut entries = VecDeque::new();
        let mut problems = Vec::new();
        let mut next_cookies = Vec::new();
        let filter = connector.filter();
        for (i, cookie) in cookies.into_iter().enumerate() {
            let base = connector.settings.base_dns[i].clone();
            match sync_search(connector, &base, Some(cookie.clone()), &filter).await? {
                SyncOutcome::Delta {
                    cookie: new_cookie,
                    changed,
                    deleted,
                } => {
                    let (objects, found) = convert(connector, changed).await?;
                    entries.extend(objects.into_iter().map(|(o, _)| ImportEntry::Upsert(o)));
                    problems.extend(found);
                    for anchor in deleted {
                        connector.forget(&anchor);
                        entries.push_back(ImportEntry::Delete {
                            anchor,
                            // syncrepl names a deleted entry only by its UUID; the engine
                            // finds the object by anchor, whatever its type.
                            object_type: connector.settings.object_types[0].object_type.clone(),
                        });
                    }
                    next_cookies.push(new_cookie.unwrap_or(cookie));
                }
                SyncOutcome::RefreshRequired => return Ok(None),
            }
        }
        (entries, problems, syncrepl_watermark(&next_cookies))
    } else if let Some(rest) = text.strip_prefix(crate::usn::PREFIX) {
        if connector.settings.delta != LdapDelta::Usn {
            return Ok(None);
        }
        match crate::usn::delta(connector, rest).await? {
            Some(found) => found,
            None => return Ok(None),
        }
    } else if let Some(rest) = text.strip_prefix(crate::dirsync::PREFIX) {
        if connector.settings.delta != LdapDelta::DirSync {
            return Ok(None);
        }
        match crate::dirsync::delta(connector, rest).await? {
            Some(found) => found,
            None => return Ok(None),
        }
    } else if let Some(rest) = text.strip_prefix(TIMESTAMP_PREFIX) {
        if connector.settings.delta != LdapDelta::Timestamp || rest.is_empty() {
            return Ok(None);
        }
        let since = rest.split(' ').next().unwrap_or_default().to_owned();
        let filter = format!(
            "(&{}(modifyTimestamp>={}))",
            connector.filter(),
            ldap3::ldap_escape(&since)
        );
        let (scope, attributes) = (connector.scope(), connector.attributes());
        let mut newest = Some(since.clone());
        let mut at_newest = BTreeSet::new();
        let mut entries = VecDeque::new();
        let mut problems = Vec::new();
        for base in connector.settings.base_dns.clone() {
            let ldap = connector.ldap().await?;
            let result = match ldap.search(&base, scope, &filter, attributes.clone()).await {
                Ok(r) => r,
                Err(e) => return Err(operation_error(connector, &format!("search of {base}"), e)),
            };
            if result.1.rc != 0 {
                return Err(result_error(
                    connector,
                    &format!("search of {base}"),
                    &result.1,
                ));
            }
            let raw: Vec<ResultEntry> = result.0.into_iter().filter(|e| !e.is_ref()).collect();
            let (objects, found) = convert(connector, raw).await?;
            problems.extend(found);
            for (object, modified) in objects {
                // Entries modified in the watermark's second come again (modifyTimestamp has
                // whole seconds, so a change made in that second after the last import looks
                // the same): the engine finds them unchanged, and no change is ever missed.
                let modified = modified.unwrap_or_default();
                track_newest(
                    &mut newest,
                    &mut at_newest,
                    modified,
                    object.anchor.as_str(),
                );
                entries.push_back(ImportEntry::Upsert(object));
            }
        }
        (
            entries,
            problems,
            timestamp_watermark(newest.as_deref(), &at_newest),
        )
    } else {
        return Ok(None);
    };
    connector.import = Some(ImportState::Buffered {
        page: 0,
        entries,
        problems,
        watermark: next,
    });
    next_page(connector).await.map(Some)
}

enum SyncOutcome {
    Delta {
        cookie: Option<Vec<u8>>,
        changed: Vec<ResultEntry>,
        deleted: Vec<Anchor>,
    },
    /// The cookie cannot be served as a delta (too old, or the server would need a present
    /// phase, where every unchanged entry must be listed): import in full.
    RefreshRequired,
}

/// One refreshOnly content synchronization search.
async fn sync_search(
    connector: &mut LdapConnector,
    base: &str,
    cookie: Option<Vec<u8>>,
    filter: &str,
) -> Result<SyncOutcome, ConnectorError> {
    let (scope, attributes) = (connector.scope(), connector.attributes());
    let ldap = connector.ldap().await?;
    ldap.with_controls(SyncRequest {
        mode: RefreshMode::RefreshOnly,
        cookie: cookie.clone(),
        reload_hint: false,
    });
    let mut stream = match ldap.streaming_search(base, scope, filter, attributes).await {
        Ok(s) => s,
        Err(e) => {
            return Err(operation_error(
                connector,
                &format!("sync search of {base}"),
                e,
            ));
        }
    };
    let mut latest = None;
    let mut changed = Vec::new();
    let mut deleted = Vec::new();
    let mut present_phase = false;
    loop {
        let item = match stream.next().await {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(e) => {
                let _ = stream.finish().await;
                return Err(operation_error(
                    connector,
                    &format!("sync search of {base}"),
                    e,
                ));
            }
        };
        if item.is_ref() {
            continue;
        }
        if item.is_intermediate() {
            match ldap3::controls::parse_syncinfo(item) {
                SyncInfo::NewCookie(c) => latest = Some(c),
                SyncInfo::RefreshDelete { cookie, .. } => latest = cookie.or(latest),
                SyncInfo::RefreshPresent { cookie, .. } => {
                    latest = cookie.or(latest);
                    present_phase = true;
                }
                SyncInfo::SyncIdSet {
                    cookie,
                    refresh_deletes,
                    sync_uuids,
                } => {
                    latest = cookie.or(latest);
                    if refresh_deletes {
                        deleted.extend(sync_uuids.iter().filter_map(|u| uuid_anchor(u)));
                    } else {
                        present_phase = true;
                    }
                }
            }
            continue;
        }
        let state = item
            .1
            .iter()
            .find(|Control(_, raw)| raw.ctype == SYNC_STATE_OID)
            .map(|Control(_, raw)| raw.parse::<SyncState>());
        match state {
            Some(SyncState {
                state: EntryState::Delete,
                entry_uuid,
                cookie,
            }) => {
                latest = cookie.or(latest);
                deleted.extend(uuid_anchor(&entry_uuid));
            }
            Some(SyncState {
                state: EntryState::Present,
                ..
            }) => present_phase = true,
            Some(SyncState { cookie, .. }) => {
                latest = cookie.or(latest);
                changed.push(item);
            }
            // A server that ignored the (non-critical) control: no content synchronization.
            None => changed.push(item),
        }
    }
    let result = stream.finish().await;
    if result.rc == SYNC_REFRESH_REQUIRED {
        return Ok(SyncOutcome::RefreshRequired);
    }
    if result.rc != 0 {
        return Err(result_error(
            connector,
            &format!("sync search of {base}"),
            &result,
        ));
    }
    let done = result
        .ctrls
        .iter()
        .find(|Control(_, raw)| raw.ctype == SYNC_DONE_OID)
        .map(|Control(_, raw)| raw.parse::<SyncDone>());
    let Some(done) = done else {
        // No Sync Done control: the server does not do content synchronization.
        return Ok(SyncOutcome::Delta {
            cookie: None,
            changed: Vec::new(),
            deleted: Vec::new(),
        });
    };
    // refreshDeletes = FALSE means a present phase: entries not listed are gone, which a
    // delta cannot express.
    if present_phase || (!done.refresh_deletes && cookie.is_some() && !changed.is_empty()) {
        return Ok(SyncOutcome::RefreshRequired);
    }
    Ok(SyncOutcome::Delta {
        cookie: done.cookie.or(latest),
        changed,
        deleted,
    })
}

fn uuid_anchor(bytes: &[u8]) -> Option<Anchor> {
    crate::values::format_uuid(bytes).map(Anchor::new)
}

#[cfg(test)]
mod tests {
    use super::ranged;

    #[test]
    fn ranged_attribute_names_say_where_the_next_range_starts() {
        assert_eq!(
            ranged("member;range=0-1499"),
            Some(("member".to_owned(), 1500))
        );
        assert_eq!(
            ranged("member;Range=1500-2999"),
            Some(("member".to_owned(), 3000))
        );
        assert_eq!(ranged("member;range=3000-*"), None);
        assert_eq!(ranged("member"), None);
        assert_eq!(ranged("userCertificate;binary"), None);
    }
}
