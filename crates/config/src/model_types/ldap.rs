//! Settings of the LDAP connector (OpenLDAP, Active Directory).

use std::path::PathBuf;
use std::time::Duration;

use model::ObjectType;

use super::SecretSource;

/// Settings of an LDAP directory connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapSettings {
    /// `ldap://host:port`, `ldaps://host:port` or `ldapi://` (a unix socket).
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS before binding.
    pub starttls: bool,
    /// The DN of the simple bind; `None` binds anonymously.
    pub bind_dn: Option<String>,
    pub password: Option<SecretSource>,
    /// A client certificate (PEM) for TLS; with it, the bind is SASL EXTERNAL: the server
    /// takes the identity from the certificate.
    pub client_certificate: Option<PathBuf>,
    /// The client certificate's private key (PEM), a secret.
    pub client_key: Option<SecretSource>,
    /// PEM certificates of the authorities trusted for the server's certificate, instead of
    /// the system's. Verification is always on.
    pub ca_file: Option<PathBuf>,
    /// For connecting and for each operation.
    pub timeout: Duration,
    /// Where objects are read (each searched in turn) and where creates may go.
    pub base_dns: Vec<String>,
    pub scope: LdapScope,
    /// Ands with the object-class filter the object types make.
    pub filter: Option<String>,
    /// Entries per page of the paged results control.
    pub page_size: u32,
    /// Object type → structural object class; an entry takes the first type whose class
    /// it holds, and entries of no listed class are not imported.
    pub object_types: Vec<LdapObjectType>,
    /// The attribute holding each entry's immutable identifier: `entryUUID` (OpenLDAP,
    /// the default) or `objectGUID` (Active Directory).
    pub anchor: String,
    pub delta: LdapDelta,
    /// Attributes to read; empty reads every user attribute.
    pub attributes: Vec<String>,
}

/// One object type and the object class that marks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapObjectType {
    pub object_type: ObjectType,
    /// The structural class: an entry holding it is of this type.
    pub object_class: String,
    /// Auxiliary classes whose attributes the type also has (the schema lists them, and a
    /// create gets them).
    pub auxiliary_classes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LdapScope {
    /// The base entries' children only.
    OneLevel,
    /// Everything below the base entries.
    Subtree,
}

/// How a delta import learns what changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LdapDelta {
    /// RFC 4533 content synchronization (OpenLDAP's syncprov), the cookie as watermark;
    /// reports deletes.
    Syncrepl,
    /// Active Directory's DirSync control, the cookie as watermark: only changed attributes,
    /// member adds and removes as incremental values, tombstones as deletes.
    DirSync,
    /// Active Directory without the replication right DirSync needs: objects whose
    /// `uSNChanged` passed the last import's `highestCommittedUSN`, and tombstones read with
    /// the Show Deleted control.
    Usn,
    /// Entries whose `modifyTimestamp` is at or after the last import's, for servers
    /// without syncprov; cannot see deletes, so a full import must run to find them.
    Timestamp,
    /// Every import is full.
    None,
}
