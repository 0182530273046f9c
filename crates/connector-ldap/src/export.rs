//! Export: add, modify (only the given values), modify DN (rename and move), delete; one
//! outcome per request, classified from the server's result code.

use std::collections::HashSet;

use connector::{ExportOutcome, ExportRequest, ExportResult};
use ldap3::Mod;
use ldap3::controls::{ControlType, PostRead, PostReadResp};
use model::{Anchor, AttributeChange, AttributeName, Attributes, ObjectChange, Value, ValueChange};

use crate::error::{Failure, describe, error_failure, ldap_failure};
use crate::schema::ValueKind;
use crate::values::export_value;
use crate::{Dn, LdapConnector};

/// Result codes a repeated modify may meet when part of it already landed: a value added
/// before (attributeOrValueExists) or removed before (noSuchAttribute).
const ALREADY_DONE: [u32; 2] = [20, 16];

pub async fn export(
    connector: &mut LdapConnector,
    batch: Vec<ExportRequest>,
) -> Vec<ExportOutcome> {
    let mut outcomes = Vec::with_capacity(batch.len());
    for request in batch {
        let id = request.id;
        let result = apply(connector, request).await;
        outcomes.push(ExportOutcome { id, result });
    }
    outcomes
}

fn permanent(reason: impl Into<String>) -> ExportResult {
    ExportResult::Permanent {
        reason: reason.into(),
    }
}

fn transient(reason: impl Into<String>) -> ExportResult {
    ExportResult::Transient {
        reason: reason.into(),
        retry_after: None,
    }
}

fn failed(failure: Failure, what: &str) -> ExportResult {
    match failure {
        Failure::Transient(reason) => transient(format!("{what}: {reason}")),
        Failure::Permanent(reason) => permanent(format!("{what}: {reason}")),
    }
}

async fn apply(connector: &mut LdapConnector, request: ExportRequest) -> ExportResult {
    // The connection and the schema are needed for every request; without them nothing
    // can be decided, and trying again later may work.
    if let Err(e) = connector.ldap().await {
        return transient(e.to_string());
    }
    match request.change {
        ObjectChange::Create { attributes } => {
            create(connector, &request.object_type, attributes).await
        }
        ObjectChange::Update { changes } => match request.anchor {
            Some(anchor) => update(connector, &anchor, changes).await,
            None => permanent("an update needs the object's anchor"),
        },
        ObjectChange::Delete => match request.anchor {
            Some(anchor) => delete(connector, &anchor).await,
            None => permanent("a delete needs the object's anchor"),
        },
    }
}

/// A value's bytes as the attribute takes them; a reference becomes the DN of the entry with
/// that anchor. `Err` carries the outcome for a value that cannot be written (yet).
async fn encode(
    connector: &mut LdapConnector,
    kind: ValueKind,
    attribute: &AttributeName,
    values: &[Value],
    object: &str,
) -> Result<HashSet<Vec<u8>>, ExportResult> {
    let mut out = HashSet::with_capacity(values.len());
    if attribute.as_str().eq_ignore_ascii_case("unicodePwd") {
        // AD takes a password only over an encrypted connection. Samba accepts it in the
        // clear too; idsync never sends it so.
        if !connector.is_encrypted() {
            return Err(permanent(format!(
                "{object}: unicodePwd is sent only over an encrypted connection (ldaps:// or StartTLS), and {} is not one",
                connector.settings.url
            )));
        }
        for value in values {
            let Value::String(password) = value else {
                return Err(permanent(format!("{object}: unicodePwd must be a string")));
            };
            out.insert(crate::values::unicode_pwd(password));
        }
        return Ok(out);
    }
    for value in values {
        let bytes = match value {
            Value::Reference(anchor) => {
                let anchor = Anchor::new(anchor.as_str());
                match connector.dn_for_anchor(&anchor).await {
                    Ok(Some(dn)) => dn.as_str().as_bytes().to_vec(),
                    Ok(None) => {
                        return Err(transient(format!(
                            "{object}: {attribute} refers to {anchor}, which is not in the directory (yet)"
                        )));
                    }
                    Err(e) => return Err(transient(format!("{object}: {e}"))),
                }
            }
            other => export_value(kind, other)
                .map_err(|reason| permanent(format!("{object}: {attribute}: {reason}")))?,
        };
        out.insert(bytes);
    }
    Ok(out)
}

fn name_bytes(name: &AttributeName) -> Vec<u8> {
    name.as_str().as_bytes().to_vec()
}

fn is_dn(name: &AttributeName) -> bool {
    name.as_str().eq_ignore_ascii_case("dn")
}

async fn create(
    connector: &mut LdapConnector,
    object_type: &model::ObjectType,
    attributes: Attributes,
) -> ExportResult {
    let Some(dn) = attributes
        .first(&AttributeName::new("dn"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .filter(|d| !d.trim().is_empty())
    else {
        return permanent(format!(
            "a new {object_type} needs a dn: add a flow to dn in the outbound rule"
        ));
    };
    let schema = match connector.directory_schema().await {
        Ok(s) => s,
        Err(e) => return transient(e.to_string()),
    };
    let mut entry: Vec<(Vec<u8>, HashSet<Vec<u8>>)> = Vec::new();
    let mut has_class = false;
    for (name, values) in attributes.iter() {
        if is_dn(name) || values.is_empty() {
            continue;
        }
        has_class |= name.as_str().eq_ignore_ascii_case("objectClass");
        let encoded = match encode(connector, schema.kind(name.as_str()), name, values, &dn).await {
            Ok(v) => v,
            Err(outcome) => return outcome,
        };
        entry.push((name_bytes(name), encoded));
    }
    if !has_class {
        match connector.object_classes_for(object_type) {
            Some(classes) => entry.push((
                b"objectClass".to_vec(),
                classes.iter().map(|c| c.as_bytes().to_vec()).collect(),
            )),
            None => {
                return permanent(format!(
                    "{dn}: object type {object_type} is not mapped to an object class (object_types)"
                ));
            }
        }
    }
    let anchor_attribute = connector.settings.anchor.clone();
    let result = match connector.ldap().await {
        Ok(ldap) => {
            // The post-read control (RFC 4527) returns the new entry's anchor with the add,
            // saving a search; a server without it ignores it (it is not critical).
            ldap.with_controls(PostRead::new(vec![anchor_attribute.as_str()]));
            ldap.add(&dn, entry).await
        }
        Err(e) => return transient(e.to_string()),
    };
    match result {
        Ok(r) if r.rc == 0 => {
            if let Some(anchor) = post_read_anchor(&r, &anchor_attribute) {
                connector.remember(Dn::new(dn.as_str()), anchor.clone());
                return ExportResult::Applied {
                    anchor: Some(anchor),
                };
            }
        }
        Ok(r) => return failed(ldap_failure(&r), &format!("add {dn}")),
        Err(e) => {
            connector.drop_connection();
            return failed(error_failure(&e), &format!("add {dn}"));
        }
    }
    // The server assigned the anchor; read it back.
    match connector.anchor_for_dn(&dn).await {
        Ok(Some(anchor)) => ExportResult::Applied {
            anchor: Some(anchor),
        },
        Ok(None) => transient(format!("{dn} was added but cannot be read back")),
        Err(e) => transient(format!("{dn} was added but its anchor cannot be read: {e}")),
    }
}

/// The anchor in an add's post-read response control, when the server sent one.
fn post_read_anchor(result: &ldap3::LdapResult, attribute: &str) -> Option<Anchor> {
    let control = result
        .ctrls
        .iter()
        .find(|c| matches!(c.0, Some(ControlType::PostReadResp)))?;
    let entry = control.1.parse::<PostReadResp>();
    let guid = crate::schema::GUID_ATTRIBUTES
        .iter()
        .any(|g| g.eq_ignore_ascii_case(attribute));
    if let Some((_, values)) = entry
        .bin_attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attribute))
    {
        return values
            .first()
            .and_then(|v| crate::values::format_guid(v))
            .map(Anchor::new);
    }
    let (_, values) = entry
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attribute))?;
    let value = values.first()?;
    if guid {
        crate::values::format_guid(value.as_bytes()).map(Anchor::new)
    } else {
        Some(Anchor::new(value.as_str()))
    }
}

async fn update(
    connector: &mut LdapConnector,
    anchor: &Anchor,
    changes: Vec<AttributeChange>,
) -> ExportResult {
    let outcome = update_once(connector, anchor, &changes).await;
    // The DN remembered for the anchor may be stale (renamed outside idsync since it was
    // read): look it up again once.
    if matches!(&outcome, ExportResult::Permanent { reason } if reason.contains("noSuchObject (32)"))
    {
        connector.forget(anchor);
        return update_once(connector, anchor, &changes).await;
    }
    outcome
}

async fn update_once(
    connector: &mut LdapConnector,
    anchor: &Anchor,
    changes: &[AttributeChange],
) -> ExportResult {
    let current = match connector.dn_for_anchor(anchor).await {
        Ok(Some(dn)) => dn,
        Ok(None) => {
            return permanent(format!(
                "no entry has {} {anchor} under the base DNs (deleted or moved out of scope outside idsync?)",
                connector.settings.anchor
            ));
        }
        Err(e) => return transient(e.to_string()),
    };
    let schema = match connector.directory_schema().await {
        Ok(s) => s,
        Err(e) => return transient(e.to_string()),
    };
    // A change of dn is a rename or a move, done first; the other changes then apply to the
    // entry under its new name.
    let mut dn = current.clone();
    let mut mods: Vec<Mod<Vec<u8>>> = Vec::new();
    for change in changes {
        if is_dn(&change.name) {
            let target = match &change.change {
                ValueChange::Replace(values) | ValueChange::Add(values) => {
                    values.first().and_then(Value::as_str)
                }
                ValueChange::Remove(_) => None,
            };
            let Some(target) = target else {
                return permanent(format!("{current}: the dn cannot be removed"));
            };
            let target = Dn::new(target);
            if target != current {
                match rename(connector, &current, &target).await {
                    Ok(()) => {
                        connector.remember(target.clone(), anchor.clone());
                        if let Err(outcome) =
                            follow_references(connector, &current, Some(&target)).await
                        {
                            return outcome;
                        }
                        dn = target;
                    }
                    Err(outcome) => return outcome,
                }
            }
            continue;
        }
        let kind = schema.kind(change.name.as_str());
        let name = name_bytes(&change.name);
        let what = dn.to_string();
        let modification = match &change.change {
            ValueChange::Add(values) if values.is_empty() => continue,
            ValueChange::Add(values) => {
                match encode(connector, kind, &change.name, values, &what).await {
                    Ok(v) => Mod::Add(name, v),
                    Err(outcome) => return outcome,
                }
            }
            // Removing no values would remove the whole attribute.
            ValueChange::Remove(values) if values.is_empty() => continue,
            ValueChange::Remove(values) => {
                match encode(connector, kind, &change.name, values, &what).await {
                    Ok(v) => Mod::Delete(name, v),
                    // A member that is gone from the directory is no member any more either.
                    Err(ExportResult::Transient { .. }) => continue,
                    Err(outcome) => return outcome,
                }
            }
            ValueChange::Replace(values) => {
                match encode(connector, kind, &change.name, values, &what).await {
                    Ok(v) => Mod::Replace(name, v),
                    Err(outcome) => return outcome,
                }
            }
        };
        mods.push(modification);
    }
    if mods.is_empty() {
        return ExportResult::Applied { anchor: None };
    }
    modify(connector, &dn, mods).await
}

async fn rename(connector: &mut LdapConnector, from: &Dn, to: &Dn) -> Result<(), ExportResult> {
    let (rdn, parent) = to.split_first();
    let (_, old_parent) = from.split_first();
    let new_superior = match (&parent, &old_parent) {
        (Some(p), Some(o)) if p == o => None,
        (Some(p), _) => Some(p.as_str().to_owned()),
        (None, _) => None,
    };
    let rdn = rdn.to_owned();
    let result = match connector.ldap().await {
        Ok(ldap) => {
            ldap.modifydn(from.as_str(), &rdn, true, new_superior.as_deref())
                .await
        }
        Err(e) => return Err(transient(e.to_string())),
    };
    let what = format!("rename {from} to {to}");
    match result {
        Ok(r) if r.rc == 0 => Ok(()),
        Ok(r) => Err(failed(ldap_failure(&r), &what)),
        Err(e) => {
            connector.drop_connection();
            Err(failed(error_failure(&e), &what))
        }
    }
}

/// DN-valued attributes that name other entries, kept right when an entry is renamed,
/// moved or deleted.
const REFERENCE_ATTRIBUTES: &[&str] = &[
    "member",
    "uniqueMember",
    "manager",
    "owner",
    "secretary",
    "seeAlso",
    "roleOccupant",
];

/// Points the values that name `old` at `new` (or removes them when the entry is gone),
/// in every entry under the base DNs, as Active Directory does by itself for its linked
/// attributes. OpenLDAP does it only with the refint overlay, and then asynchronously, so
/// without this a group would keep a renamed member's old DN. Where refint got there first,
/// the modifications find their work done and pass.
async fn follow_references(
    connector: &mut LdapConnector,
    old: &Dn,
    new: Option<&Dn>,
) -> Result<(), ExportResult> {
    if crate::schema::GUID_ATTRIBUTES
        .iter()
        .any(|g| g.eq_ignore_ascii_case(&connector.settings.anchor))
    {
        return Ok(());
    }
    let escaped = ldap3::ldap_escape(old.as_str()).into_owned();
    let filter: String = REFERENCE_ATTRIBUTES
        .iter()
        .map(|a| format!("({a}={escaped})"))
        .collect();
    let filter = format!("(|{filter})");
    let mut referrers = Vec::new();
    for base in connector.settings.base_dns.clone() {
        let result = match connector.ldap().await {
            Ok(ldap) => {
                ldap.search(
                    &base,
                    ldap3::Scope::Subtree,
                    &filter,
                    REFERENCE_ATTRIBUTES.to_vec(),
                )
                .await
            }
            Err(e) => return Err(transient(e.to_string())),
        };
        match result {
            Ok(r) if r.1.rc == 0 => referrers.extend(
                r.0.into_iter()
                    .filter(|e| !e.is_ref())
                    .map(ldap3::SearchEntry::construct),
            ),
            // The rename or delete itself is done; a failure here is the references'.
            Ok(r) => {
                return Err(failed(
                    ldap_failure(&r.1),
                    &format!("update references to {old}"),
                ));
            }
            Err(e) => {
                connector.drop_connection();
                return Err(failed(
                    error_failure(&e),
                    &format!("update references to {old}"),
                ));
            }
        }
    }
    for entry in referrers {
        let mut mods = Vec::new();
        for (attribute, values) in &entry.attrs {
            for value in values.iter().filter(|v| Dn::new(v.as_str()) == *old) {
                let name = attribute.as_bytes().to_vec();
                mods.push(Mod::Delete(
                    name.clone(),
                    HashSet::from([value.as_bytes().to_vec()]),
                ));
                if let Some(new) = new {
                    mods.push(Mod::Add(
                        name,
                        HashSet::from([new.as_str().as_bytes().to_vec()]),
                    ));
                }
            }
        }
        if mods.is_empty() {
            continue;
        }
        let dn = Dn::new(entry.dn);
        if let outcome @ (ExportResult::Transient { .. } | ExportResult::Permanent { .. }) =
            modify(connector, &dn, mods).await
        {
            return Err(outcome);
        }
    }
    Ok(())
}

async fn modify(connector: &mut LdapConnector, dn: &Dn, mods: Vec<Mod<Vec<u8>>>) -> ExportResult {
    let what = format!("modify {dn}");
    let result = match connector.ldap().await {
        Ok(ldap) => ldap.modify(dn.as_str(), mods.clone()).await,
        Err(e) => return transient(e.to_string()),
    };
    match result {
        Ok(r) if r.rc == 0 => ExportResult::Applied { anchor: None },
        // Part of the change was there already (an export repeated after a lost outcome):
        // apply the modifications one by one and let those already done pass.
        Ok(r) if ALREADY_DONE.contains(&r.rc) && mods.len() > 1 => {
            for modification in mods {
                let single = match connector.ldap().await {
                    Ok(ldap) => ldap.modify(dn.as_str(), vec![modification]).await,
                    Err(e) => return transient(e.to_string()),
                };
                match single {
                    Ok(r) if r.rc == 0 || ALREADY_DONE.contains(&r.rc) => {}
                    Ok(r) => return failed(ldap_failure(&r), &what),
                    Err(e) => {
                        connector.drop_connection();
                        return failed(error_failure(&e), &what);
                    }
                }
            }
            ExportResult::Applied { anchor: None }
        }
        Ok(r) if ALREADY_DONE.contains(&r.rc) => {
            tracing::debug!(%dn, result = %describe(&r), "modify already applied");
            ExportResult::Applied { anchor: None }
        }
        Ok(r) => failed(ldap_failure(&r), &what),
        Err(e) => {
            connector.drop_connection();
            failed(error_failure(&e), &what)
        }
    }
}

async fn delete(connector: &mut LdapConnector, anchor: &Anchor) -> ExportResult {
    let dn = match connector.dn_for_anchor(anchor).await {
        Ok(Some(dn)) => dn,
        // Gone already: deleted, as asked (a repeated delete whose outcome was lost).
        Ok(None) => return ExportResult::Applied { anchor: None },
        Err(e) => return transient(e.to_string()),
    };
    let result = match connector.ldap().await {
        Ok(ldap) => ldap.delete(dn.as_str()).await,
        Err(e) => return transient(e.to_string()),
    };
    match result {
        Ok(r) if r.rc == 0 || r.rc == 32 => {
            connector.forget(anchor);
            if let Err(outcome) = follow_references(connector, &dn, None).await {
                return outcome;
            }
            ExportResult::Applied { anchor: None }
        }
        Ok(r) => failed(ldap_failure(&r), &format!("delete {dn}")),
        Err(e) => {
            connector.drop_connection();
            failed(error_failure(&e), &format!("delete {dn}"))
        }
    }
}
