//! Active Directory's delta for accounts without the replication right DirSync needs:
//! every object and tombstone carries `uSNChanged`, and the root DSE says the domain
//! controller's `highestCommittedUSN`. A delta reads the objects whose `uSNChanged` passed
//! the watermark (whole) and, with the Show Deleted control, the tombstones that did.
//! USNs are per domain controller: the configuration must name one DC, not a load balancer.

use std::collections::VecDeque;

use connector::{ConnectorError, ImportEntry, ImportProblem, Watermark};
use ldap3::controls::RawControl;
use ldap3::{Scope, SearchEntry};
use model::Anchor;

use crate::import::convert;
use crate::{LdapConnector, operation_error, result_error};

pub const PREFIX: &str = "usn:";
/// LDAP_SERVER_SHOW_DELETED_OID: tombstones are returned to searches.
const SHOW_DELETED_OID: &str = "1.2.840.113556.1.4.417";

/// The domain controller's `highestCommittedUSN` now, as a watermark.
pub async fn current_watermark(connector: &mut LdapConnector) -> Result<Watermark, ConnectorError> {
    let root = connector
        .search_one("", Scope::Base, "(objectClass=*)", &["highestCommittedUSN"])
        .await?;
    let usn = root
        .and_then(|e| {
            e.attrs
                .get("highestCommittedUSN")
                .and_then(|v| v.first().cloned())
        })
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| {
            ConnectorError::Protocol(format!(
                "{}: the root DSE has no highestCommittedUSN (not Active Directory?)",
                connector.settings.url
            ))
        })?;
    Ok(Watermark(format!("{PREFIX}{usn}")))
}

/// The changes after the USN in `rest`, or `None` when it is unreadable (a full import runs).
pub async fn delta(
    connector: &mut LdapConnector,
    rest: &str,
) -> Result<Option<(VecDeque<ImportEntry>, Vec<ImportProblem>, Watermark)>, ConnectorError> {
    let Ok(since) = rest.parse::<u64>() else {
        return Ok(None);
    };
    // Taken first: a change made while the delta reads is seen again next time, not missed.
    let next = current_watermark(connector).await?;
    let changed_filter = format!("(&{}(uSNChanged>={}))", connector.filter(), since + 1);
    let (scope, attributes) = (connector.scope(), connector.attributes());
    let mut entries = VecDeque::new();
    let mut problems = Vec::new();
    for base in connector.settings.base_dns.clone() {
        let ldap = connector.ldap().await?;
        let result = match ldap
            .search(&base, scope, &changed_filter, attributes.clone())
            .await
        {
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
        let raw = result.0.into_iter().filter(|e| !e.is_ref()).collect();
        let (objects, found) = convert(connector, raw).await?;
        entries.extend(objects.into_iter().map(|(o, _)| ImportEntry::Upsert(o)));
        problems.extend(found);
    }
    // Tombstones lose most attributes and move to CN=Deleted Objects; the filter keeps
    // only what makes them deletes of ours.
    let deleted_filter = format!("(&(isDeleted=TRUE)(uSNChanged>={}))", since + 1);
    let context = naming_context_of(connector).await?;
    let ldap = connector.ldap().await?;
    ldap.with_controls(RawControl {
        ctype: SHOW_DELETED_OID.to_owned(),
        crit: true,
        val: None,
    });
    let result = match ldap
        .search(
            &context,
            Scope::Subtree,
            &deleted_filter,
            vec!["objectGUID", "lastKnownParent"],
        )
        .await
    {
        Ok(r) => r,
        Err(e) => return Err(operation_error(connector, "search of deleted objects", e)),
    };
    if result.1.rc != 0 {
        return Err(result_error(
            connector,
            "search of deleted objects",
            &result.1,
        ));
    }
    for entry in result
        .0
        .into_iter()
        .filter(|e| !e.is_ref())
        .map(SearchEntry::construct)
    {
        let guid = entry
            .bin_attrs
            .get("objectGUID")
            .and_then(|v| v.first().cloned())
            .or_else(|| {
                entry
                    .attrs
                    .get("objectGUID")
                    .and_then(|v| v.first())
                    .map(|s| s.clone().into_bytes())
            });
        if let Some(anchor) = guid
            .as_deref()
            .and_then(crate::values::format_guid)
            .map(Anchor::new)
        {
            connector.forget(&anchor);
            entries.push_back(ImportEntry::Delete {
                anchor,
                object_type: connector.settings.object_types[0].object_type.clone(),
            });
        }
    }
    Ok(Some((entries, problems, next)))
}

async fn naming_context_of(connector: &mut LdapConnector) -> Result<String, ConnectorError> {
    let root = connector
        .search_one(
            "",
            Scope::Base,
            "(objectClass=*)",
            &["defaultNamingContext"],
        )
        .await?;
    root.and_then(|e| {
        e.attrs
            .get("defaultNamingContext")
            .and_then(|v| v.first().cloned())
    })
    .ok_or_else(|| {
        ConnectorError::Protocol(format!(
            "{}: the root DSE has no defaultNamingContext",
            connector.settings.url
        ))
    })
}
