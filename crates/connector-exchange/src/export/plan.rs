//! What cmdlets a change takes: pure functions from a request (and what Exchange holds
//! now) to steps. Nothing here calls Exchange.

use model::{AttributeChange, AttributeName, Attributes, Syntax, Value, ValueChange};
use serde_json::{Map, Value as Json, json};

use crate::client::{Call, CmdletFailure, Page};
use crate::schema::{self, DISTRIBUTION_GROUP, MAIL_CONTACT, MAIL_USER, MAILBOX};

/// One cmdlet and the attributes it carries.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Step {
    pub attributes: Vec<AttributeName>,
    pub cmdlet: &'static str,
    /// A JSON object: the cmdlet's parameters.
    pub parameters: Json,
    /// A failure that means "already so" (an existing member, an archive already on).
    pub tolerated: &'static [&'static str],
    /// Whether "not found" means done (a delete of what is gone already).
    pub absent_is_done: bool,
    /// The one value (a member, a trustee) a per-value step adds or removes. Such steps of
    /// a request do not depend on each other, only on the `Set-*` step before them, so
    /// several may go out in one wave ([`fan_out`]).
    pub value: Option<String>,
}

impl Step {
    pub fn new(cmdlet: &'static str, attributes: &[&AttributeName], parameters: Json) -> Self {
        Self {
            attributes: attributes.iter().map(|a| (*a).clone()).collect(),
            cmdlet,
            parameters,
            tolerated: &[],
            absent_is_done: false,
            value: None,
        }
    }

    /// Marks a per-value step (one member, one trustee): independent of its siblings.
    fn for_value(mut self, value: &str) -> Self {
        self.value = Some(value.to_owned());
        self
    }

    fn tolerating(mut self, texts: &'static [&'static str]) -> Self {
        self.tolerated = texts;
        self
    }

    pub fn absent_is_done(mut self) -> Self {
        self.absent_is_done = true;
        self
    }

    /// The call a batch carries for this step.
    pub fn call(&self) -> Call<'_> {
        Call {
            cmdlet: self.cmdlet,
            parameters: &self.parameters,
        }
    }

    /// Whether this failure means the step's change is in place already.
    pub fn already_so(&self, failure: &CmdletFailure) -> bool {
        match failure {
            CmdletFailure::Rejected(m) => self.tolerated.iter().any(|t| m.contains(t)),
            CmdletFailure::NotFound(_) => self.absent_is_done,
            _ => false,
        }
    }
}

/// A create: the `New-*` step, and the changes `New-*` does not take, applied as an update
/// once the new object's anchor is known.
pub(super) struct NewObject {
    pub step: Step,
    /// The output property holding the new object's anchor.
    pub anchor_key: &'static str,
    pub then: Vec<AttributeChange>,
}

impl NewObject {
    /// `New-MailContact`, `New-DistributionGroup`, or `New-Mailbox -Shared` (a shared
    /// mailbox needs no licence and no password).
    pub fn plan(object_type: &str, attributes: &Attributes) -> Self {
        let get = |n: &str| attributes.get(&AttributeName::new(n)).unwrap_or(&[]);
        let (cmdlet, anchor_key, takes): (_, _, &[&str]) = match object_type {
            MAIL_CONTACT => (
                "New-MailContact",
                "Guid",
                &["name", "displayName", "alias", "externalEmailAddress"],
            ),
            DISTRIBUTION_GROUP => (
                "New-DistributionGroup",
                "ExternalDirectoryObjectId",
                &["name", "displayName", "alias", "primarySmtpAddress"],
            ),
            _ => (
                "New-Mailbox",
                "ExternalDirectoryObjectId",
                &["name", "displayName", "alias", "primarySmtpAddress"],
            ),
        };
        let mut parameters = Map::new();
        for p in schema::properties(object_type) {
            let v = get(p.name);
            if !v.is_empty() && takes.contains(&p.name) {
                parameters.insert(p.exchange.to_owned(), single(v, p.syntax));
            }
        }
        let mut taken: Vec<&str> = takes.to_vec();
        match object_type {
            DISTRIBUTION_GROUP => {
                if get("security").first().is_some_and(truthy) {
                    parameters.insert("Type".to_owned(), json!("Security"));
                }
                let members = values(get("members"));
                if !members.is_empty() {
                    parameters.insert("Members".to_owned(), json!(members));
                }
                taken.extend(["security", "members"]);
            }
            MAILBOX => {
                parameters.insert("Shared".to_owned(), json!(true));
                taken.push("shared");
            }
            _ => {}
        }
        let then = attributes
            .iter()
            .filter(|(n, v)| !v.is_empty() && !taken.contains(&n.as_str()))
            .map(|(n, v)| change_to_set(object_type, n, v))
            .collect();
        Self {
            step: Step::new(cmdlet, &[], Json::Object(parameters)),
            anchor_key,
            then,
        }
    }
}

/// Whether a mailbox "create" makes a shared mailbox (`shared` and a `name`) rather than
/// adopting the mailbox a licence made.
pub(super) fn makes_shared_mailbox(attributes: &Attributes) -> bool {
    let get = |n: &str| attributes.first(&AttributeName::new(n));
    get("shared").is_some_and(truthy) && get("name").is_some()
}

/// A value a create sets, as an update: multi-valued attributes by adds.
fn change_to_set(object_type: &str, name: &AttributeName, values: &[Value]) -> AttributeChange {
    if schema::multi_valued(object_type).contains(&name.as_str()) {
        AttributeChange::add(name.clone(), values.to_vec())
    } else {
        AttributeChange::replace(name.clone(), values.to_vec())
    }
}

/// The identity a mailbox or mail user "create" looks the recipient up by.
pub(super) fn recipient_identity(attributes: &Attributes) -> Option<String> {
    [
        "externalDirectoryObjectId",
        "userPrincipalName",
        "primarySmtpAddress",
        "externalEmailAddress",
    ]
    .iter()
    .find_map(|k| {
        attributes
            .first(&AttributeName::new(*k))
            .map(Value::to_text)
    })
}

/// What adopting the recipient Exchange made (a licensed user's mailbox, a guest's mail
/// user) sets: the create's attributes as changes, less the ones Entra (or, for a
/// synchronized user, AD) holds.
pub(super) fn adoption_changes(
    object_type: &str,
    found: &Map<String, Json>,
    attributes: &Attributes,
) -> Vec<AttributeChange> {
    // A mailbox whose user AD synchronizes takes its mail attributes from AD only:
    // adopting it sets the mailbox settings and leaves those alone.
    let mut found_image = Attributes::new();
    if let Some(synced) = found.get("IsDirSynced").and_then(Json::as_bool) {
        found_image.set(
            AttributeName::new(schema::IS_DIR_SYNCED),
            vec![Value::Boolean(synced)],
        );
    }
    let mastered = schema::mastered_on_premises(&model::ObjectType::new(object_type), &found_image);
    attributes
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
        .map(|(n, v)| change_to_set(object_type, n, v))
        .collect()
}

/// The reads a change needs first: a replace of a multi-valued attribute is diffed
/// against what Exchange holds now. Each read carries the attribute it is for.
///
/// Permissions are not read: Exchange lists trustees by name and SID, not by the Entra id
/// the values hold, so a replace of `fullAccess` or `sendAs` only adds (granting twice is
/// harmless). The engine sends them as adds and removes anyway (they are multi-valued).
pub(super) fn reads(object_type: &str, anchor: &str, changes: &[AttributeChange]) -> Vec<Step> {
    changes
        .iter()
        .filter(|c| matches!(c.change, ValueChange::Replace(_)))
        .filter(|c| {
            !schema::properties(object_type)
                .iter()
                .any(|p| p.name == c.name.as_str())
        })
        .filter_map(|c| {
            let cmdlet = match (object_type, c.name.as_str()) {
                (DISTRIBUTION_GROUP, "members") => "Get-DistributionGroupMember",
                (MAILBOX, "emailAddresses") => "Get-Mailbox",
                (MAIL_USER, "emailAddresses") => "Get-MailUser",
                _ => return None,
            };
            Some(Step::new(cmdlet, &[&c.name], json!({"Identity": anchor})))
        })
        .collect()
}

/// The current values a read found, as the diff compares them.
pub(super) fn current_values(object_type: &str, attribute: &str, page: &Page) -> Vec<String> {
    let key = match (object_type, attribute) {
        (DISTRIBUTION_GROUP, _) => "ExternalDirectoryObjectId",
        _ => {
            return page
                .objects
                .first()
                .and_then(|o| o.get("EmailAddresses"))
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
                .filter(|a| !a.starts_with("SMTP:"))
                .map(str::to_owned)
                .collect();
        }
    };
    page.objects
        .iter()
        .filter_map(|o| {
            let k = if o.get("RecipientType").and_then(Json::as_str) == Some("MailContact") {
                "Guid"
            } else {
                key
            };
            o.get(k).and_then(Json::as_str).map(str::to_owned)
        })
        .collect()
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

/// How many of the leading `steps` may go out together in one wave, at most `limit` (and
/// at least one, while any are left). A step that is not per-value (a `Set-*`, an archive)
/// goes alone, since what follows may need it. Two steps on the same attribute and value
/// (an add and a remove of one member) keep their order: a `$batch` need not run its calls
/// in order.
pub(super) fn fan_out(steps: &[Step], limit: usize) -> usize {
    let independent = steps
        .iter()
        .enumerate()
        .take(limit)
        .take_while(|&(i, step)| {
            step.value.is_some() && !steps[..i].iter().any(|earlier| same_value(earlier, step))
        })
        .count();
    independent.max(steps.len().min(1))
}

/// Whether two per-value steps touch the same value of the same attribute.
fn same_value(a: &Step, b: &Step) -> bool {
    a.attributes == b.attributes
        && matches!((&a.value, &b.value), (Some(x), Some(y)) if x.eq_ignore_ascii_case(y))
}

/// The steps of an update, given the current values the [`reads`] found (by attribute).
pub(super) fn update_steps(
    object_type: &str,
    anchor: &str,
    changes: &[AttributeChange],
    current: &[(AttributeName, Vec<String>)],
) -> Result<Vec<Step>, CmdletFailure> {
    let current_of = |name: &AttributeName| {
        current
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&[][..], |(_, v)| v.as_slice())
    };
    let set_cmdlet = match object_type {
        MAIL_CONTACT => "Set-MailContact",
        DISTRIBUTION_GROUP => "Set-DistributionGroup",
        MAIL_USER => "Set-MailUser",
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
            if ["userPrincipalName", "primarySmtpAddress"].contains(&name)
                && [MAILBOX, MAIL_USER].contains(&object_type)
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
            (MAILBOX | MAIL_USER, "emailAddresses") => {
                let (adds, removes) = adds_and_removes(&change.change, current_of(&change.name));
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
                let (adds, removes) = adds_and_removes(&change.change, current_of(&change.name));
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
                        steps.push(
                            Step::new(cmdlet, &[&change.name], parameters).for_value(&trustee),
                        );
                    }
                }
            }
            (DISTRIBUTION_GROUP, "members") => {
                let (adds, removes) = adds_and_removes(&change.change, current_of(&change.name));
                for member in adds {
                    steps.push(
                        Step::new("Add-DistributionGroupMember", &[&change.name], json!({"Identity": anchor, "Member": member, "BypassSecurityGroupManagerCheck": true}))
                            .tolerating(&["is already a member"])
                            .for_value(&member),
                    );
                }
                for member in removes {
                    steps.push(
                        Step::new("Remove-DistributionGroupMember", &[&change.name], json!({"Identity": anchor, "Member": member, "BypassSecurityGroupManagerCheck": true, "Confirm": false}))
                            .tolerating(&["isn't a member"])
                            .for_value(&member),
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
        parameters: Json::Object(set),
        tolerated: &[],
        absent_is_done: false,
        value: None,
    }];
    all.extend(steps);
    Ok(all)
}
