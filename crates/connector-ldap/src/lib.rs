//! The LDAP connector: OpenLDAP (and other RFC 4533 servers) and Active Directory.
//!
//! - **Connection**: `ldap://` (optionally upgraded with StartTLS), `ldaps://` or `ldapi://`;
//!   simple bind with the password read from its secret source when connecting; certificate
//!   verification always on (a configured CA file, or the system's roots); a timeout on
//!   connecting and on every operation. A dropped connection is reopened on the next call.
//! - **Schema** from the server's subschema entry: each mapped object class with its
//!   superiors' and auxiliary classes' attributes, typed by syntax.
//! - **Full import** with the paged results control (RFC 2696), one search request per
//!   page, over each base DN in turn. Entries are typed by their object class; DN-valued
//!   attributes (`member`, `manager`) become references holding the named entry's anchor.
//! - **Delta import** by RFC 4533 content synchronization (refreshOnly): the watermark is
//!   the server's cookie, changed entries come whole, deletes come as entryUUIDs. A cookie
//!   the server can no longer serve as a delta is answered with a full import. Servers
//!   without syncprov use `modifyTimestamp` (which cannot see deletes).
//! - **Export**: add, modify with only the changed values (member adds and removes, never a
//!   rewrite of the list), modify DN when the desired `dn` changes (rename and move), delete.
//!   Each outcome is classified from the result code: busy, unavailable and time limits are
//!   transient; everything else is permanent, with the server's code and message.
//!
//! The `dn` of an entry is an attribute like the others for flows: imported as a string,
//! and an outbound flow to `dn` names where a create goes and where a rename moves it.

mod connection;
mod dirsync;
mod dn;
mod error;
mod export;
mod import;
mod schema;
mod usn;
mod values;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use config::{LdapDelta, LdapScope, LdapSettings};
use connector::{
    Connector, ConnectorError, ExportOutcome, ExportRequest, Exporter, Health, ImportPage,
    ImportRequest,
};
use ldap3::{Ldap, Scope, SearchEntry};
use model::{Anchor, AttributeSchema, ObjectType, ObjectTypeSchema, Schema, Syntax};

pub use crate::dn::Dn;
use crate::error::{Failure, describe, error_failure};
use crate::import::ImportState;
use crate::schema::DirectorySchema;

/// Requests per export batch. Each is one or two LDAP operations on one connection.
pub const EXPORT_BATCH_SIZE: usize = 200;

/// The OID of the RFC 4533 sync request control, looked for in the root DSE.
const SYNC_REQUEST_OID: &str = "1.3.6.1.4.1.4203.1.9.1.1";
/// The OID of AD's DirSync control, looked for in the root DSE.
const DIRSYNC_OID: &str = "1.2.840.113556.1.4.841";

/// An LDAP directory as a connected system.
pub struct LdapConnector {
    settings: LdapSettings,
    ldap: Option<Ldap>,
    schema: Option<Arc<DirectorySchema>>,
    /// DN → anchor and anchor → DN, learned from everything read and written, so that
    /// references resolve without a search each.
    anchors_by_dn: HashMap<Dn, Anchor>,
    dns_by_anchor: HashMap<Anchor, Dn>,
    /// The import being served, between pages.
    import: Option<ImportState>,
    /// Counts the connections opened: a paging cookie is valid only on the connection
    /// that got it.
    generation: u64,
}

impl fmt::Debug for LdapConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LdapConnector")
            .field("url", &self.settings.url)
            .field("bind_dn", &self.settings.bind_dn)
            .field("connected", &self.ldap.is_some())
            .field("importing", &self.import.is_some())
            .finish_non_exhaustive()
    }
}

impl LdapConnector {
    /// A connector over the directory; it connects at its first operation.
    pub fn new(settings: LdapSettings) -> LdapConnector {
        LdapConnector {
            settings,
            ldap: None,
            schema: None,
            anchors_by_dn: HashMap::new(),
            dns_by_anchor: HashMap::new(),
            import: None,
            generation: 0,
        }
    }

    pub fn settings(&self) -> &LdapSettings {
        &self.settings
    }

    /// The open connection, opened (and bound) when there is none.
    async fn ldap(&mut self) -> Result<&mut Ldap, ConnectorError> {
        if self.ldap.as_mut().is_some_and(Ldap::is_closed) {
            self.ldap = None;
        }
        if self.ldap.is_none() {
            self.ldap = Some(connection::connect(&self.settings).await?);
            self.generation += 1;
        }
        let timeout = self.settings.timeout;
        let ldap = self.ldap.as_mut().expect("connected above");
        ldap.with_timeout(timeout);
        Ok(ldap)
    }

    /// Whether the connection is encrypted (LDAPS or StartTLS).
    fn is_encrypted(&self) -> bool {
        self.settings.starttls
            || self
                .settings
                .url
                .to_ascii_lowercase()
                .starts_with("ldaps://")
    }

    /// Forgets a connection that failed, so the next operation opens a new one.
    fn drop_connection(&mut self) {
        self.ldap = None;
    }

    fn scope(&self) -> Scope {
        match self.settings.scope {
            LdapScope::OneLevel => Scope::OneLevel,
            LdapScope::Subtree => Scope::Subtree,
        }
    }

    /// The search filter: the mapped object classes, and the configured filter.
    fn filter(&self) -> String {
        let classes: String = self
            .settings
            .object_types
            .iter()
            .map(|t| format!("(objectClass={})", ldap3::ldap_escape(&t.object_class)))
            .collect();
        let classes = if self.settings.object_types.len() == 1 {
            classes
        } else {
            format!("(|{classes})")
        };
        match &self.settings.filter {
            Some(filter) => format!("(&{classes}{})", filter.trim()),
            None => classes,
        }
    }

    /// The attributes every search asks for: the configured ones (or all user attributes),
    /// the anchor and the object classes, which are what typing an entry needs.
    fn attributes(&self) -> Vec<String> {
        let mut attributes = if self.settings.attributes.is_empty() {
            vec!["*".to_owned()]
        } else {
            self.settings.attributes.clone()
        };
        attributes.push(self.settings.anchor.clone());
        attributes.push("objectClass".to_owned());
        if self.settings.delta == LdapDelta::Timestamp {
            attributes.push("modifyTimestamp".to_owned());
        }
        attributes
    }

    /// The directory's schema, read once per connector.
    async fn directory_schema(&mut self) -> Result<Arc<DirectorySchema>, ConnectorError> {
        if let Some(schema) = &self.schema {
            return Ok(schema.clone());
        }
        let url = self.settings.url.clone();
        let root = self
            .search_one("", Scope::Base, "(objectClass=*)", &["subschemaSubentry"])
            .await?;
        let subschema = root
            .and_then(|e| {
                e.attrs
                    .get("subschemaSubentry")
                    .and_then(|v| v.first().cloned())
            })
            .unwrap_or_else(|| "cn=Subschema".to_owned());
        let entry = self
            .search_one(
                &subschema,
                Scope::Base,
                "(objectClass=subschema)",
                &["attributeTypes", "objectClasses"],
            )
            .await?
            .ok_or_else(|| {
                ConnectorError::Protocol(format!(
                    "{url}: the subschema entry {subschema} cannot be read"
                ))
            })?;
        let get = |name: &str| -> Vec<String> {
            entry
                .attrs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let schema = Arc::new(DirectorySchema::parse(
            &get("attributeTypes"),
            &get("objectClasses"),
        ));
        self.schema = Some(schema.clone());
        Ok(schema)
    }

    /// A search expected to return at most one entry (a base search). `None` when the
    /// entry does not exist.
    async fn search_one(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attributes: &[&str],
    ) -> Result<Option<SearchEntry>, ConnectorError> {
        let url = self.settings.url.clone();
        let ldap = self.ldap().await?;
        let result = ldap.search(base, scope, filter, attributes.to_vec()).await;
        let result = match result {
            Ok(r) => r,
            Err(e) => {
                self.drop_connection();
                return Err(ConnectorError::unavailable(format!(
                    "{url}: search of {base:?} failed: {e}"
                )));
            }
        };
        match result.1.rc {
            0 => Ok(result.0.into_iter().map(SearchEntry::construct).next()),
            32 => Ok(None),
            _ => Err(match error::ldap_failure(&result.1) {
                Failure::Transient(reason) => {
                    ConnectorError::unavailable(format!("{url}: search of {base:?}: {reason}"))
                }
                Failure::Permanent(reason) => {
                    ConnectorError::Protocol(format!("{url}: search of {base:?}: {reason}"))
                }
            }),
        }
    }

    /// The anchor read from an entry.
    fn anchor_of(&self, entry: &SearchEntry) -> Option<Anchor> {
        let name = &self.settings.anchor;
        if let Some(values) = entry
            .attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
        {
            let value = values.first()?;
            // An objectGUID that happens to be valid UTF-8 still is 16 bytes of GUID.
            if schema::GUID_ATTRIBUTES
                .iter()
                .any(|g| g.eq_ignore_ascii_case(name))
            {
                return values::format_guid(value.as_bytes()).map(Anchor::new);
            }
            return Some(Anchor::new(value.as_str()));
        }
        let bytes = entry
            .bin_attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.first())?;
        values::format_guid(bytes).map(Anchor::new)
    }

    fn remember(&mut self, dn: Dn, anchor: Anchor) {
        self.dns_by_anchor.insert(anchor.clone(), dn.clone());
        self.anchors_by_dn.insert(dn, anchor);
    }

    fn forget(&mut self, anchor: &Anchor) {
        if let Some(dn) = self.dns_by_anchor.remove(anchor) {
            self.anchors_by_dn.remove(&dn);
        }
    }

    /// The anchor of the entry a DN names, or `None` when there is no such entry.
    async fn anchor_for_dn(&mut self, dn: &str) -> Result<Option<Anchor>, ConnectorError> {
        let key = Dn::new(dn);
        if let Some(anchor) = self.anchors_by_dn.get(&key) {
            return Ok(Some(anchor.clone()));
        }
        let anchor_attribute = self.settings.anchor.clone();
        let Some(entry) = self
            .search_one(dn, Scope::Base, "(objectClass=*)", &[&anchor_attribute])
            .await?
        else {
            return Ok(None);
        };
        let Some(anchor) = self.anchor_of(&entry) else {
            return Ok(None);
        };
        self.remember(Dn::new(entry.dn), anchor.clone());
        Ok(Some(anchor))
    }

    /// The filter that finds an entry by its anchor, escaped: an anchor is data, and data
    /// never becomes filter syntax.
    fn anchor_filter(&self, anchor: &Anchor) -> String {
        let name = &self.settings.anchor;
        if schema::GUID_ATTRIBUTES
            .iter()
            .any(|g| g.eq_ignore_ascii_case(name))
            && let Some(bytes) = values::parse_guid(anchor.as_str())
        {
            return format!("({name}={})", values::escape_bytes(&bytes));
        }
        format!("({name}={})", ldap3::ldap_escape(anchor.as_str()))
    }

    /// The DN of the entry with this anchor, or `None` when there is none under the base DNs.
    async fn dn_for_anchor(&mut self, anchor: &Anchor) -> Result<Option<Dn>, ConnectorError> {
        if let Some(dn) = self.dns_by_anchor.get(anchor) {
            return Ok(Some(dn.clone()));
        }
        let filter = self.anchor_filter(anchor);
        for base in self.settings.base_dns.clone() {
            if let Some(entry) = self
                .search_one(&base, Scope::Subtree, &filter, &["1.1"])
                .await?
            {
                let dn = Dn::new(entry.dn);
                self.remember(dn.clone(), anchor.clone());
                return Ok(Some(dn));
            }
        }
        Ok(None)
    }

    /// The object type of an entry: the first mapped type whose class it holds.
    fn object_type_of(&self, classes: &[String]) -> Option<ObjectType> {
        self.settings
            .object_types
            .iter()
            .find(|t| {
                classes
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(&t.object_class))
            })
            .map(|t| t.object_type.clone())
    }

    /// The classes a new object of this type gets: the structural one, then the auxiliary.
    fn object_classes_for(&self, object_type: &ObjectType) -> Option<Vec<&str>> {
        self.settings
            .object_types
            .iter()
            .find(|t| &t.object_type == object_type)
            .map(|t| {
                std::iter::once(t.object_class.as_str())
                    .chain(t.auxiliary_classes.iter().map(String::as_str))
                    .collect()
            })
    }
}

impl Connector for LdapConnector {
    /// One object type per mapping, with the attributes its object class (with superiors
    /// and auxiliary classes) allows, plus `dn` and the anchor.
    async fn schema(&mut self) -> Result<Schema, ConnectorError> {
        let directory = self.directory_schema().await?;
        let mut object_types = Vec::new();
        for mapping in &self.settings.object_types {
            if !directory.has_class(&mapping.object_class) {
                return Err(ConnectorError::Config(format!(
                    "{}: the directory's schema has no object class {} (object type {})",
                    self.settings.url, mapping.object_class, mapping.object_type
                )));
            }
            let (mut must, mut may) = directory.class_attributes(&mapping.object_class);
            for auxiliary in &mapping.auxiliary_classes {
                if !directory.has_class(auxiliary) {
                    return Err(ConnectorError::Config(format!(
                        "{}: the directory's schema has no object class {auxiliary} (object type {})",
                        self.settings.url, mapping.object_type
                    )));
                }
                let (aux_must, aux_may) = directory.class_attributes(auxiliary);
                // The attribute list below is made unique, so duplicates do no harm here.
                must.extend(aux_must);
                may.extend(aux_may);
            }
            let mut attributes = vec![
                AttributeSchema::single("dn", Syntax::String).required(),
                directory.attribute_schema(&self.settings.anchor, false),
            ];
            if schema::GUID_ATTRIBUTES
                .iter()
                .any(|g| g.eq_ignore_ascii_case(&self.settings.anchor))
            {
                // Computed on import: base64 of ms-DS-ConsistencyGuid, else of objectGUID.
                attributes.push(AttributeSchema::single(
                    import::SOURCE_ANCHOR,
                    Syntax::String,
                ));
            }
            let anchor = self.settings.anchor.clone();
            for (names, required) in [(must, true), (may, false)] {
                for name in names {
                    let listed = attributes
                        .iter()
                        .any(|a| a.name.as_str().eq_ignore_ascii_case(&name));
                    if !listed && !name.eq_ignore_ascii_case(&anchor) {
                        attributes.push(directory.attribute_schema(&name, required));
                    }
                }
            }
            object_types.push(ObjectTypeSchema {
                name: mapping.object_type.clone(),
                anchor: vec![model::AttributeName::new(anchor)],
                attributes,
            });
        }
        Ok(Schema { object_types })
    }

    async fn check(&mut self) -> Result<Health, ConnectorError> {
        let mut health = Health::default();
        let url = self.settings.url.clone();
        self.drop_connection();
        if let Err(e) = self.ldap().await {
            health.problems.push(e.to_string());
            return Ok(health);
        }
        health.passed.push(match &self.settings.bind_dn {
            Some(dn) => format!("connected to {url} and bound as {dn}"),
            None => format!("connected to {url} anonymously"),
        });
        for base in self.settings.base_dns.clone() {
            match self
                .search_one(&base, Scope::Base, "(objectClass=*)", &["1.1"])
                .await
            {
                Ok(Some(_)) => health.passed.push(format!("base {base} can be read")),
                Ok(None) => health.problems.push(format!(
                    "base {base} does not exist (or cannot be seen by this account)"
                )),
                Err(e) => health.problems.push(format!("base {base}: {e}")),
            }
        }
        match self.directory_schema().await {
            Ok(schema) => {
                for mapping in &self.settings.object_types {
                    if schema.has_class(&mapping.object_class) {
                        health.passed.push(format!(
                            "object class {} is in the schema",
                            mapping.object_class
                        ));
                    } else {
                        health.problems.push(format!(
                            "object class {} (object type {}) is not in the directory's schema",
                            mapping.object_class, mapping.object_type
                        ));
                    }
                }
            }
            Err(e) => health.problems.push(format!("cannot read the schema: {e}")),
        }
        let wanted = match self.settings.delta {
            LdapDelta::Syncrepl => Some((
                SYNC_REQUEST_OID,
                "content synchronization (syncrepl, RFC 4533)",
            )),
            LdapDelta::DirSync => Some((DIRSYNC_OID, "DirSync")),
            LdapDelta::Usn | LdapDelta::Timestamp | LdapDelta::None => None,
        };
        if let Some((oid, what)) = wanted {
            let root = self
                .search_one("", Scope::Base, "(objectClass=*)", &["supportedControl"])
                .await;
            let offered = root.ok().flatten().is_some_and(|e| {
                e.attrs
                    .get("supportedControl")
                    .is_some_and(|v| v.iter().any(|c| c == oid))
            });
            if offered {
                health.passed.push(format!("the server offers {what}"));
            } else {
                health.problems.push(format!(
                    "the server does not offer {what}; set delta = \"timestamp\" or \"none\""
                ));
            }
        }
        if self.settings.delta == LdapDelta::Syncrepl
            && !self.settings.anchor.eq_ignore_ascii_case("entryUUID")
        {
            health.problems.push(format!(
                "syncrepl reports deletes by entryUUID, but the anchor is {}; set anchor = \"entryUUID\"",
                self.settings.anchor
            ));
        }
        Ok(health)
    }

    async fn import(&mut self, request: ImportRequest) -> Result<ImportPage, ConnectorError> {
        let result = import::import(self, request).await;
        if result.is_err() {
            self.import = None;
        }
        result
    }
}

impl Exporter for LdapConnector {
    fn batch_size(&self) -> usize {
        EXPORT_BATCH_SIZE
    }

    async fn export(
        &mut self,
        batch: Vec<ExportRequest>,
    ) -> Result<Vec<ExportOutcome>, ConnectorError> {
        Ok(export::export(self, batch).await)
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}

/// Turns an operation's error into a connector error, dropping a broken connection.
fn operation_error(
    connector: &mut LdapConnector,
    what: &str,
    error: ldap3::LdapError,
) -> ConnectorError {
    let url = connector.settings.url.clone();
    match error_failure(&error) {
        Failure::Transient(reason) => {
            if !matches!(error, ldap3::LdapError::LdapResult { .. }) {
                connector.drop_connection();
            }
            ConnectorError::unavailable(format!("{url}: {what}: {reason}"))
        }
        Failure::Permanent(reason) => ConnectorError::Protocol(format!("{url}: {what}: {reason}")),
    }
}

/// The result of an operation as a connector error, when it is not a success.
fn result_error(
    connector: &LdapConnector,
    what: &str,
    result: &ldap3::LdapResult,
) -> ConnectorError {
    let url = &connector.settings.url;
    match error::ldap_failure(result) {
        Failure::Transient(_) => {
            ConnectorError::unavailable(format!("{url}: {what}: {}", describe(result)))
        }
        Failure::Permanent(_) => {
            ConnectorError::Protocol(format!("{url}: {what}: {}", describe(result)))
        }
    }
}
