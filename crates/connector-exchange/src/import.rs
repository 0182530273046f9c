//! Full imports by paging `Get-Recipient` and `Get-Mailbox` with only the properties the
//! schema has. Exchange offers no delta, so every import is full.

use std::collections::{BTreeMap, HashMap};

use connector::{
    ConnectorError, ImportEntry, ImportMode, ImportPage, ImportProblem, ImportRequest,
    ImportedObject, PageCursor,
};
use model::{Anchor, AttributeName, Attributes, ObjectType, Value};
use serde_json::{Map, Value as Json, json};

use crate::client::{CmdletFailure, ExchangeClient};
use crate::connector_error;
use crate::schema::{self, DISTRIBUTION_GROUP, MAIL_CONTACT, MAIL_USER, MAILBOX};

/// The cursor: which object type, and the nextLink within it.
fn encode(type_index: usize, next: Option<&str>) -> PageCursor {
    PageCursor(format!("{type_index} {}", next.unwrap_or("")))
}

fn decode(cursor: &PageCursor) -> Result<(usize, Option<String>), ConnectorError> {
    let (index, link) = cursor.0.split_once(' ').ok_or_else(|| {
        ConnectorError::Protocol(format!("unreadable import cursor {:?}", cursor.0))
    })?;
    let index = index.parse().map_err(|_| {
        ConnectorError::Protocol(format!("unreadable import cursor {:?}", cursor.0))
    })?;
    Ok((index, (!link.is_empty()).then(|| link.to_owned())))
}

/// Permission trustees as Exchange names them (`User`, `Trustee`: a UPN, a group's name)
/// resolved to Entra ids, kept for one import so each trustee is looked up once.
#[derive(Debug, Default)]
pub struct Trustees {
    known: HashMap<String, Option<String>>,
}

impl Trustees {
    fn learn(&mut self, name: &str, id: &str) {
        self.known.insert(name.to_lowercase(), Some(id.to_owned()));
    }

    /// The trustee's Entra id; `None` for a trustee that is not a directory object of the
    /// tenant: the mailbox's own `NT AUTHORITY\SELF`, or an orphaned SID left by a deleted
    /// user, which no rule can have granted.
    async fn resolve(
        &mut self,
        client: &mut ExchangeClient,
        trustee: &str,
    ) -> Result<Option<String>, CmdletFailure> {
        let well_known = trustee
            .get(..13)
            .is_some_and(|p| p.eq_ignore_ascii_case("NT AUTHORITY\\"));
        if well_known || trustee.starts_with("S-1-") {
            return Ok(None);
        }
        if let Some(known) = self.known.get(&trustee.to_lowercase()) {
            return Ok(known.clone());
        }
        // Recipients first (mailboxes, mail users, groups); a user without a mailbox is
        // not a recipient, and only `Get-User` knows it.
        let mut found = None;
        for cmdlet in ["Get-Recipient", "Get-User"] {
            match client
                .page(
                    cmdlet,
                    &json!({"Identity": trustee}),
                    Some("ExternalDirectoryObjectId"),
                    None,
                )
                .await
            {
                Ok(page) => {
                    found = page
                        .objects
                        .first()
                        .and_then(|o| text(o, "ExternalDirectoryObjectId"));
                    break;
                }
                Err(CmdletFailure::NotFound(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        self.known.insert(trustee.to_lowercase(), found.clone());
        Ok(found)
    }
}

pub async fn page(
    client: &mut ExchangeClient,
    trustees: &mut Trustees,
    types: &[ObjectType],
    request: ImportRequest,
) -> Result<ImportPage, ConnectorError> {
    let (index, link) = match &request.cursor {
        None => {
            *trustees = Trustees::default();
            (0, None)
        }
        Some(c) => decode(c)?,
    };
    let Some(object_type) = types.get(index) else {
        return Ok(ImportPage {
            mode: ImportMode::Full,
            entries: Vec::new(),
            problems: Vec::new(),
            next: None,
            watermark: None,
        });
    };
    let (cmdlet, parameters, select) = match object_type.as_str() {
        MAIL_CONTACT => (
            "Get-Recipient",
            json!({"RecipientTypeDetails": ["MailContact"], "ResultSize": "Unlimited"}),
            schema::CONTACT_SELECT,
        ),
        MAIL_USER => (
            "Get-Recipient",
            json!({"RecipientTypeDetails": ["MailUser", "GuestMailUser"], "ResultSize": "Unlimited"}),
            schema::MAIL_USER_SELECT,
        ),
        DISTRIBUTION_GROUP => (
            "Get-Recipient",
            json!({"RecipientTypeDetails": ["MailUniversalDistributionGroup", "MailUniversalSecurityGroup"], "ResultSize": "Unlimited"}),
            schema::GROUP_SELECT,
        ),
        _ => (
            "Get-Mailbox",
            json!({"RecipientTypeDetails": ["UserMailbox", "SharedMailbox"], "ResultSize": "Unlimited"}),
            schema::MAILBOX_SELECT,
        ),
    };
    let fetched = client
        .page(cmdlet, &parameters, Some(select), link.as_deref())
        .await
        .map_err(connector_error)?;
    // A page's mailboxes are the trustees most grants name: learn them before reading any.
    for object in &fetched.objects {
        if let Some(id) = text(object, "ExternalDirectoryObjectId") {
            for key in ["UserPrincipalName", "PrimarySmtpAddress"] {
                if let Some(name) = text(object, key) {
                    trustees.learn(&name, &id);
                }
            }
        }
    }
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for object in &fetched.objects {
        match read_object(client, trustees, object_type, object).await {
            Ok(Some(o)) => entries.push(ImportEntry::Upsert(o)),
            Ok(None) => {}
            Err(ReadError::Problem(problem)) => problems.push(problem),
            Err(ReadError::Failed(e)) => return Err(e),
        }
    }
    let next = match fetched.next {
        Some(link) => Some(encode(index, Some(&link))),
        None if index + 1 < types.len() => Some(encode(index + 1, None)),
        None => None,
    };
    Ok(ImportPage {
        mode: ImportMode::Full,
        entries,
        problems,
        next,
        watermark: None,
    })
}

enum ReadError {
    Problem(ImportProblem),
    Failed(ConnectorError),
}

fn text(object: &Map<String, Json>, key: &str) -> Option<String> {
    object
        .get(key)
        .and_then(Json::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn strip_smtp(address: &str) -> &str {
    address
        .split_once(':')
        .filter(|(p, _)| p.eq_ignore_ascii_case("smtp"))
        .map_or(address, |(_, a)| a)
}

async fn read_object(
    client: &mut ExchangeClient,
    trustees: &mut Trustees,
    object_type: &ObjectType,
    object: &Map<String, Json>,
) -> Result<Option<ImportedObject>, ReadError> {
    let name = object_type.as_str();
    let anchor_key = if name == MAIL_CONTACT {
        "Guid"
    } else {
        "ExternalDirectoryObjectId"
    };
    let Some(anchor) = text(object, anchor_key) else {
        return Err(ReadError::Problem(ImportProblem {
            location: format!("{name} {}", text(object, "Name").unwrap_or_default()),
            anchor: None,
            reason: format!("Exchange returned it without {anchor_key}"),
        }));
    };
    let mut attributes = Attributes::new();
    for p in schema::properties(name) {
        let value = match object.get(p.exchange) {
            Some(Json::Bool(b)) => Some(Value::Boolean(*b)),
            Some(Json::String(s)) if !s.is_empty() => {
                Some(Value::string(if p.exchange == "ExternalEmailAddress" {
                    strip_smtp(s).to_owned()
                } else {
                    s.clone()
                }))
            }
            _ => None,
        };
        if let Some(v) = value {
            attributes.set(AttributeName::new(p.name), vec![v]);
        }
    }
    let anchor_attribute = if name == MAIL_CONTACT {
        "guid"
    } else {
        "externalDirectoryObjectId"
    };
    attributes.set(
        AttributeName::new(anchor_attribute),
        vec![Value::string(anchor.clone())],
    );
    let synced = object
        .get("IsDirSynced")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    attributes.set(
        AttributeName::new(schema::IS_DIR_SYNCED),
        vec![Value::Boolean(synced)],
    );
    match name {
        MAIL_USER => {
            attributes.set(
                AttributeName::new("emailAddresses"),
                secondary_addresses(object),
            );
        }
        DISTRIBUTION_GROUP => {
            let security =
                text(object, "RecipientTypeDetails").is_some_and(|d| d.contains("Security"));
            attributes.set(
                AttributeName::new("security"),
                vec![Value::Boolean(security)],
            );
            let members = members(client, &anchor)
                .await
                .map_err(|e| ReadError::Failed(connector_error(e)))?;
            attributes.set(AttributeName::new("members"), members);
        }
        MAILBOX => {
            let archive =
                text(object, "ArchiveStatus").is_some_and(|s| s.eq_ignore_ascii_case("Active"));
            let shared = text(object, "RecipientTypeDetails").is_some_and(|s| s == "SharedMailbox");
            attributes.set(AttributeName::new("archive"), vec![Value::Boolean(archive)]);
            attributes.set(AttributeName::new("shared"), vec![Value::Boolean(shared)]);
            attributes.set(
                AttributeName::new("emailAddresses"),
                secondary_addresses(object),
            );
            let full = permissions(
                client,
                trustees,
                "Get-MailboxPermission",
                &anchor,
                "User",
                "FullAccess",
            )
            .await
            .map_err(|e| ReadError::Failed(connector_error(e)))?;
            let send_as = permissions(
                client,
                trustees,
                "Get-RecipientPermission",
                &anchor,
                "Trustee",
                "SendAs",
            )
            .await
            .map_err(|e| ReadError::Failed(connector_error(e)))?;
            attributes.set(AttributeName::new("fullAccess"), full);
            attributes.set(AttributeName::new("sendAs"), send_as);
        }
        _ => {}
    }
    Ok(Some(ImportedObject {
        anchor: Anchor::new(anchor),
        object_type: object_type.clone(),
        attributes,
    }))
}

/// The addresses beyond the primary one (upper-case `SMTP:`, which is Entra's).
fn secondary_addresses(object: &Map<String, Json>) -> Vec<Value> {
    object
        .get("EmailAddresses")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .filter(|a| !a.starts_with("SMTP:"))
        .map(Value::string)
        .collect()
}

/// A group's members as references: the Entra id of users and groups, the Guid of contacts.
async fn members(client: &mut ExchangeClient, group: &str) -> Result<Vec<Value>, CmdletFailure> {
    let parameters = json!({"Identity": group, "ResultSize": "Unlimited"});
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = client
            .page(
                "Get-DistributionGroupMember",
                &parameters,
                Some(schema::MEMBER_SELECT),
                next.as_deref(),
            )
            .await?;
        for m in &page.objects {
            let key = if text(m, "RecipientType").as_deref() == Some("MailContact") {
                "Guid"
            } else {
                "ExternalDirectoryObjectId"
            };
            if let Some(anchor) = text(m, key) {
                out.push(Value::Reference(anchor));
            }
        }
        match page.next {
            Some(link) => next = Some(link),
            None => return Ok(out),
        }
    }
}

/// Explicit (not inherited) grants of one right on one mailbox, as references to the
/// trustees' Entra ids. Exchange names a trustee by UPN or group name (`User`, `Trustee`),
/// beside a SID that means nothing outside Exchange.
async fn permissions(
    client: &mut ExchangeClient,
    trustees: &mut Trustees,
    cmdlet: &str,
    mailbox: &str,
    trustee_key: &str,
    right: &str,
) -> Result<Vec<Value>, CmdletFailure> {
    let page = client.run(cmdlet, json!({"Identity": mailbox})).await?;
    let mut granted_to = BTreeMap::new();
    for row in &page.objects {
        let granted = row
            .get("AccessRights")
            .and_then(Json::as_array)
            .is_some_and(|r| r.iter().any(|x| x.as_str() == Some(right)));
        let inherited = row
            .get("IsInherited")
            .and_then(Json::as_bool)
            .unwrap_or(false);
        if !granted || inherited {
            continue;
        }
        let Some(trustee) = text(row, trustee_key) else {
            continue;
        };
        if let Some(id) = trustees.resolve(client, &trustee).await? {
            granted_to.insert(id.clone(), Value::Reference(id));
        }
    }
    Ok(granted_to.into_values().collect())
}
