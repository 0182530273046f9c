//! Export: each request becomes a few cmdlets, run in order. A request whose first cmdlet
//! fails fails as a whole; one whose later cmdlet fails is `Partial`, naming what did not
//! land. Mailboxes are made by licences, so a mailbox that does not exist yet is a wait.

use connector::{ConnectorError, ExportOutcome, ExportRequest, ExportResult};
use model::{AttributeChange, AttributeName, Attributes, ObjectChange, Syntax, Value, ValueChange};
use serde_json::{Map, Value as Json, json};

use crate::client::{CmdletFailure, ExchangeClient};
use crate::schema::{self, DISTRIBUTION_GROUP, MAIL_CONTACT, MAILBOX};

/// One cmdlet and the attributes it carries.
struct Step {
    attributes: Vec<AttributeName>,
    cmdlet: &'static str,
    parameters: Map<String, Json>,
    /// A failure that means "already so" (an existing member, an archive already on).
    tolerated: &'static [&'static str],
}

impl Step {
    fn new(cmdlet: &'static str, attributes: &[&AttributeName], parameters: Json) -> Self {
        Self {
            attributes: attributes.iter().map(|a| (*a).clone()).collect(),
            cmdlet,
            parameters: parameters.as_object().cloned().unwrap_or_default(),
            tolerated: &[],
        }
    }

    fn tolerating(mut self, texts: &'static [&'static str]) -> Self {
        self.tolerated = texts;
        self
    }
}

pub async fn export(
    client: &mut ExchangeClient,
    batch: Vec<ExportRequest>,
) -> Result<Vec<ExportOutcome>, ConnectorError> {
    let mut outcomes = Vec::with_capacity(batch.len());
    for request in batch {
        let result = export_one(client, &request).await?;
        outcomes.push(ExportOutcome {
            id: request.id,
            result,
        });
    }
    Ok(outcomes)
}

fn describe(request: &ExportRequest) -> String {
    let anchor = request
        .anchor
        .as_ref()
        .map(|a| a.as_str().to_owned())
        .or_else(|| match &request.change {
            ObjectChange::Create { attributes } => {
                ["name", "userPrincipalName"].iter().find_map(|k| {
                    attributes
                        .first(&AttributeName::new(*k))
                        .map(Value::to_text)
                })
            }
            _ => None,
        })
        .unwrap_or_else(|| "(new)".to_owned());
    format!("{} {anchor}", request.object_type)
}

/// Turns a failure into an outcome; `Err` only when the whole run cannot go on.
fn failed(
    what: &str,
    failure: CmdletFailure,
    mailbox: bool,
) -> Result<ExportResult, ConnectorError> {
    Ok(match failure {
        CmdletFailure::Busy {
            message,
            retry_after,
        } => ExportResult::Transient {
            reason: format!("{what}: {message}"),
            retry_after,
        },
        // A licence was just assigned: Exchange provisions the mailbox later.
        CmdletFailure::NotFound(_) if mailbox => ExportResult::Transient {
            reason: format!(
                "{what}: waiting for the mailbox (Exchange has not provisioned it yet; it follows an Exchange licence)"
            ),
            retry_after: Some(std::time::Duration::from_secs(300)),
        },
        CmdletFailure::NotFound(m) | CmdletFailure::Rejected(m) | CmdletFailure::Protocol(m) => {
            ExportResult::Permanent {
                reason: format!("Exchange rejected {what}: {m}"),
            }
        }
        CmdletFailure::Denied(m) => return Err(ConnectorError::Denied(m)),
    })
}

async fn export_one(
    client: &mut ExchangeClient,
    request: &ExportRequest,
) -> Result<ExportResult, ConnectorError> {
    let what = describe(request);
    let object_type = request.object_type.as_str();
    let is_mailbox = object_type == MAILBOX;
    match &request.change {
        ObjectChange::Delete => {
            let cmdlet = match object_type {
                MAIL_CONTACT => "Remove-MailContact",
                DISTRIBUTION_GROUP => "Remove-DistributionGroup",
                _ => {
                    return Ok(ExportResult::Permanent {
                        reason: format!(
                            "{what}: idsync does not delete mailboxes; remove the Exchange licence in Entra instead"
                        ),
                    });
                }
            };
            let Some(anchor) = &request.anchor else {
                return Ok(ExportResult::Permanent {
                    reason: format!("{what}: a delete needs an anchor"),
                });
            };
            let parameters = json!({"Identity": anchor.as_str(), "Confirm": false});
            return match client.run(cmdlet, parameters).await {
                // Gone already: the delete is done.
                Ok(_) | Err(CmdletFailure::NotFound(_)) => {
                    Ok(ExportResult::Applied { anchor: None })
                }
                Err(f) => failed(&what, f, false),
            };
        }
        ObjectChange::Create { attributes } => create(client, request, &what, attributes).await,
        ObjectChange::Update { changes } => {
            let Some(anchor) = &request.anchor else {
                return Ok(ExportResult::Permanent {
                    reason: format!("{what}: an update needs an anchor"),
                });
            };
            let steps = match update_steps(client, object_type, anchor.as_str(), changes).await {
                Ok(steps) => steps,
                Err(f) => return failed(&what, f, is_mailbox),
            };
            run_steps(client, &what, steps, None, is_mailbox).await
        }
    }
}

async fn run_steps(
    client: &mut ExchangeClient,
    what: &str,
    steps: Vec<Step>,
    created: Option<model::Anchor>,
    mailbox: bool,
) -> Result<ExportResult, ConnectorError> {
    let total = steps.len();
    for (i, step) in steps.iter().enumerate() {
        match client
            .run(step.cmdlet, Json::Object(step.parameters.clone()))
            .await
        {
            Ok(_) => {}
            Err(CmdletFailure::Rejected(m)) if step.tolerated.iter().any(|t| m.contains(t)) => {}
            Err(failure) => {
                if i == 0 && created.is_none() {
                    return failed(what, failure, mailbox);
                }
                let reason = match failed(&format!("{what} ({})", step.cmdlet), failure, mailbox)? {
                    ExportResult::Transient { reason, .. } | ExportResult::Permanent { reason } => {
                        reason
                    }
                    _ => String::new(),
                };
                let mut unapplied: Vec<AttributeName> = steps[i..]
                    .iter()
                    .flat_map(|s| s.attributes.clone())
                    .collect();
                unapplied.sort();
                unapplied.dedup();
                return Ok(ExportResult::Partial {
                    anchor: created,
                    unapplied,
                    reason,
                });
            }
        }
        let _ = total;
    }
    Ok(ExportResult::Applied { anchor: created })
}

fn values(values: &[Value]) -> Vec<String> {
    values.iter().map(Value::to_text).collect()
}

/// A flow's `"True"` and a boolean `true` mean the same (the engine compares them as text).
fn truthy(value: &Value) -> bool {
    value.to_text().eq_ignore_ascii_case("true")
}

fn switched_on(change: &ValueChange) -> bool {
    matches!(change, ValueChange::Replace(v) | ValueChange::Add(v) if v.first().is_some_and(truthy))
}

fn single(values: &[Value], syntax: Syntax) -> Json {
    match values.first() {
        None => Json::Null,
        Some(v) if syntax == Syntax::Boolean => Json::Bool(truthy(v)),
        Some(v) => Json::String(v.to_text()),
    }
}

async fn create(
    client: &mut ExchangeClient,
    request: &ExportRequest,
    what: &str,
    attributes: &Attributes,
) -> Result<ExportResult, ConnectorError> {
    let object_type = request.object_type.as_str();
    let get = |n: &str| attributes.get(&AttributeName::new(n)).unwrap_or(&[]);
    match object_type {
        MAIL_CONTACT | DISTRIBUTION_GROUP => {
            let (cmdlet, anchor_key) = if object_type == MAIL_CONTACT {
                ("New-MailContact", "Guid")
            } else {
                ("New-DistributionGroup", "ExternalDirectoryObjectId")
            };
            let mut parameters = Map::new();
            let mut later = Vec::new();
            for p in schema::properties(object_type) {
                let v = get(p.name);
                if v.is_empty() {
                    continue;
                }
                // New-* takes no HiddenFromAddressListsEnabled: it follows with Set-*.
                if p.exchange == "HiddenFromAddressListsEnabled" {
                    later.push(p);
                } else {
                    parameters.insert(p.exchange.to_owned(), single(v, p.syntax));
                }
            }
            if object_type == DISTRIBUTION_GROUP {
                if get("security").first().is_some_and(truthy) {
                    parameters.insert("Type".to_owned(), json!("Security"));
                }
                let members = values(get("members"));
                if !members.is_empty() {
                    parameters.insert("Members".to_owned(), json!(members));
                }
            }
            let output = match client.run(cmdlet, Json::Object(parameters)).await {
                Ok(page) => page,
                Err(f) => return failed(what, f, false),
            };
            let Some(anchor) = output
                .objects
                .first()
                .and_then(|o| o.get(anchor_key))
                .and_then(Json::as_str)
            else {
                return Ok(ExportResult::Permanent {
                    reason: format!("{what}: {cmdlet} returned no {anchor_key}"),
                });
            };
            let anchor = model::Anchor::new(anchor);
            let steps: Vec<Step> = later
                .iter()
                .map(|p| {
                    let set = if object_type == MAIL_CONTACT {
                        "Set-MailContact"
                    } else {
                        "Set-DistributionGroup"
                    };
                    let name = AttributeName::new(p.name);
                    Step::new(
                        set,
                        &[&name],
                        json!({"Identity": anchor.as_str(), p.exchange: single(get(p.name), p.syntax)}),
                    )
                })
                .collect();
            run_steps(client, what, steps, Some(anchor), false).await
        }
        _ => {
            // A mailbox is made by a licence: "create" adopts the user's mailbox once it is there.
            let Some(identity) = [
                "externalDirectoryObjectId",
                "userPrincipalName",
                "primarySmtpAddress",
            ]
            .iter()
            .find_map(|k| get(k).first().map(Value::to_text)) else {
                return Ok(ExportResult::Permanent {
                    reason: format!(
                        "{what}: a mailbox is found by externalDirectoryObjectId or userPrincipalName; the rule gives neither"
                    ),
                });
            };
            let found = match client
                .run("Get-Mailbox", json!({"Identity": identity}))
                .await
            {
                Ok(page) => page,
                Err(f) => return failed(&format!("mailbox {identity}"), f, true),
            };
            let Some(anchor) = found
                .objects
                .first()
                .and_then(|o| o.get("ExternalDirectoryObjectId"))
                .and_then(Json::as_str)
                .map(model::Anchor::new)
            else {
                return failed(
                    &format!("mailbox {identity}"),
                    CmdletFailure::NotFound(identity.clone()),
                    true,
                );
            };
            // A mailbox whose user AD synchronizes takes its mail attributes from AD only:
            // adopting it sets the mailbox settings and leaves those alone.
            let mut found_image = model::Attributes::new();
            if let Some(synced) = found
                .objects
                .first()
                .and_then(|o| o.get("IsDirSynced"))
                .and_then(Json::as_bool)
            {
                found_image.set(
                    model::AttributeName::new(schema::IS_DIR_SYNCED),
                    vec![model::Value::Boolean(synced)],
                );
            }
            let mastered = schema::mastered_on_premises(&request.object_type, &found_image);
            let changes: Vec<AttributeChange> = attributes
                .iter()
                .filter(|(n, _)| {
                    ![
                        "externalDirectoryObjectId",
                        "userPrincipalName",
                        "primarySmtpAddress",
                        "displayName",
                    ]
                    .contains(&n.as_str())
                        && !mastered.contains(n)
                })
                .map(|(n, v)| {
                    if schema::multi_valued(MAILBOX).contains(&n.as_str()) {
                        AttributeChange::add(n.clone(), v.to_vec())
                    } else {
                        AttributeChange::replace(n.clone(), v.to_vec())
                    }
                })
                .collect();
            let steps = match update_steps(client, MAILBOX, anchor.as_str(), &changes).await {
                Ok(steps) => steps,
                Err(f) => return failed(&format!("mailbox {identity}"), f, true),
            };
            let result = run_steps(
                client,
                &format!("mailbox {identity}"),
                steps,
                Some(anchor.clone()),
                true,
            )
            .await?;
            Ok(result)
        }
    }
}

/// The values to add and remove for a multi-valued change; a replace is diffed against
/// what Exchange holds now (`current`).
fn adds_and_removes(change: &ValueChange, current: &[String]) -> (Vec<String>, Vec<String>) {
    match change {
        ValueChange::Add(v) => (values(v), Vec::new()),
        ValueChange::Remove(v) => (Vec::new(), values(v)),
        ValueChange::Replace(v) => {
            let wanted = values(v);
            let adds = wanted
                .iter()
                .filter(|w| !current.iter().any(|c| c.eq_ignore_ascii_case(w)))
                .cloned()
                .collect();
            let removes = current
                .iter()
                .filter(|c| !wanted.iter().any(|w| w.eq_ignore_ascii_case(c)))
                .cloned()
                .collect();
            (adds, removes)
        }
    }
}

async fn current_values(
    client: &mut ExchangeClient,
    object_type: &str,
    anchor: &str,
    attribute: &str,
) -> Result<Vec<String>, CmdletFailure> {
    let (cmdlet, key) = match (object_type, attribute) {
        (DISTRIBUTION_GROUP, _) => ("Get-DistributionGroupMember", "ExternalDirectoryObjectId"),
        (_, "fullAccess") => ("Get-MailboxPermission", "UserSid"),
        (_, "sendAs") => ("Get-RecipientPermission", "TrusteeSidString"),
        _ => {
            let page = client
                .run("Get-Mailbox", json!({"Identity": anchor}))
                .await?;
            return Ok(page
                .objects
                .first()
                .and_then(|o| o.get("EmailAddresses"))
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
                .filter(|a| !a.starts_with("SMTP:"))
                .map(str::to_owned)
                .collect());
        }
    };
    let page = client.run(cmdlet, json!({"Identity": anchor})).await?;
    Ok(page
        .objects
        .iter()
        .filter_map(|o| {
            let k = if o.get("RecipientType").and_then(Json::as_str) == Some("MailContact") {
                "Guid"
            } else {
                key
            };
            o.get(k).and_then(Json::as_str).map(str::to_owned)
        })
        .collect())
}

async fn update_steps(
    client: &mut ExchangeClient,
    object_type: &str,
    anchor: &str,
    changes: &[AttributeChange],
) -> Result<Vec<Step>, CmdletFailure> {
    let set_cmdlet = match object_type {
        MAIL_CONTACT => "Set-MailContact",
        DISTRIBUTION_GROUP => "Set-DistributionGroup",
        _ => "Set-Mailbox",
    };
    let mut set = Map::new();
    set.insert("Identity".to_owned(), json!(anchor));
    let mut set_attributes: Vec<AttributeName> = Vec::new();
    let mut steps = Vec::new();
    for change in changes {
        let name = change.name.as_str();
        if let Some(p) = schema::properties(object_type)
            .iter()
            .find(|p| p.name == name)
        {
            if ["userPrincipalName", "primarySmtpAddress"].contains(&name) && object_type == MAILBOX
            {
                // Entra's; not written here.
                continue;
            }
            let value = match &change.change {
                ValueChange::Replace(v) | ValueChange::Add(v) => single(v, p.syntax),
                ValueChange::Remove(_) => Json::Null,
            };
            set.insert(p.exchange.to_owned(), value);
            set_attributes.push(change.name.clone());
            continue;
        }
        match (object_type, name) {
            (MAILBOX, "shared") => {
                let shared = switched_on(&change.change);
                set.insert(
                    "Type".to_owned(),
                    json!(if shared { "Shared" } else { "Regular" }),
                );
                set_attributes.push(change.name.clone());
            }
            (MAILBOX, "archive") => {
                let on = switched_on(&change.change);
                let cmdlet = if on {
                    "Enable-Mailbox"
                } else {
                    "Disable-Mailbox"
                };
                steps.push(
                    Step::new(
                        cmdlet,
                        &[&change.name],
                        json!({"Identity": anchor, "Archive": true, "Confirm": false}),
                    )
                    .tolerating(&["already has an archive", "has no archive"]),
                );
            }
            (MAILBOX, "emailAddresses") => {
                let current = match &change.change {
                    ValueChange::Replace(_) => {
                        current_values(client, object_type, anchor, name).await?
                    }
                    _ => Vec::new(),
                };
                let (adds, removes) = adds_and_removes(&change.change, &current);
                // Only secondary (lower-case smtp:) addresses: the primary one is Entra's.
                let lower = |a: &String| {
                    if a.contains(':') {
                        a.clone()
                    } else {
                        format!("smtp:{a}")
                    }
                };
                set.insert(
                    "EmailAddresses".to_owned(),
                    json!({"Add": adds.iter().map(lower).collect::<Vec<_>>(), "Remove": removes.iter().map(lower).collect::<Vec<_>>()}),
                );
                set_attributes.push(change.name.clone());
            }
            (MAILBOX, "fullAccess") | (MAILBOX, "sendAs") => {
                let current = match &change.change {
                    ValueChange::Replace(_) => {
                        current_values(client, object_type, anchor, name).await?
                    }
                    _ => Vec::new(),
                };
                let (adds, removes) = adds_and_removes(&change.change, &current);
                let full = name == "fullAccess";
                for (add, trustees) in [(true, adds), (false, removes)] {
                    for trustee in trustees {
                        let (cmdlet, parameters) = match (full, add) {
                            (true, true) => (
                                "Add-MailboxPermission",
                                json!({"Identity": anchor, "User": trustee, "AccessRights": ["FullAccess"], "InheritanceType": "All", "AutoMapping": true}),
                            ),
                            (true, false) => (
                                "Remove-MailboxPermission",
                                json!({"Identity": anchor, "User": trustee, "AccessRights": ["FullAccess"], "InheritanceType": "All", "Confirm": false}),
                            ),
                            (false, true) => (
                                "Add-RecipientPermission",
                                json!({"Identity": anchor, "Trustee": trustee, "AccessRights": ["SendAs"], "Confirm": false}),
                            ),
                            (false, false) => (
                                "Remove-RecipientPermission",
                                json!({"Identity": anchor, "Trustee": trustee, "AccessRights": ["SendAs"], "Confirm": false}),
                            ),
                        };
                        steps.push(Step::new(cmdlet, &[&change.name], parameters));
                    }
                }
            }
            (DISTRIBUTION_GROUP, "members") => {
                let current = match &change.change {
                    ValueChange::Replace(_) => {
                        current_values(client, object_type, anchor, name).await?
                    }
                    _ => Vec::new(),
                };
                let (adds, removes) = adds_and_removes(&change.change, &current);
                for member in adds {
                    steps.push(
                        Step::new("Add-DistributionGroupMember", &[&change.name], json!({"Identity": anchor, "Member": member, "BypassSecurityGroupManagerCheck": true}))
                            .tolerating(&["is already a member"]),
                    );
                }
                for member in removes {
                    steps.push(
                        Step::new("Remove-DistributionGroupMember", &[&change.name], json!({"Identity": anchor, "Member": member, "BypassSecurityGroupManagerCheck": true, "Confirm": false}))
                            .tolerating(&["isn't a member"]),
                    );
                }
            }
            _ => {
                return Err(CmdletFailure::Rejected(format!(
                    "{object_type} has no writable attribute {name}"
                )));
            }
        }
    }
    if set_attributes.is_empty() {
        return Ok(steps);
    }
    let mut all = vec![Step {
        attributes: set_attributes,
        cmdlet: set_cmdlet,
        parameters: set,
        tolerated: &[],
    }];
    all.extend(steps);
    Ok(all)
}
