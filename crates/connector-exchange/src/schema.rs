//! The object types and attributes, and how each maps to Exchange's properties.

use model::{AttributeSchema, ObjectType, ObjectTypeSchema, Syntax};

pub const MAIL_CONTACT: &str = "mailContact";
pub const DISTRIBUTION_GROUP: &str = "distributionGroup";
pub const MAILBOX: &str = "mailbox";
pub const MAIL_USER: &str = "mailUser";

/// A single-valued attribute and the Exchange property it reads and writes.
#[derive(Debug)]
pub struct Property {
    pub name: &'static str,
    pub exchange: &'static str,
    pub syntax: Syntax,
}

pub const CONTACT_PROPERTIES: &[Property] = &[
    Property {
        name: "name",
        exchange: "Name",
        syntax: Syntax::String,
    },
    Property {
        name: "displayName",
        exchange: "DisplayName",
        syntax: Syntax::String,
    },
    Property {
        name: "alias",
        exchange: "Alias",
        syntax: Syntax::String,
    },
    Property {
        name: "externalEmailAddress",
        exchange: "ExternalEmailAddress",
        syntax: Syntax::String,
    },
    Property {
        name: "hiddenFromAddressLists",
        exchange: "HiddenFromAddressListsEnabled",
        syntax: Syntax::Boolean,
    },
];

pub const GROUP_PROPERTIES: &[Property] = &[
    Property {
        name: "name",
        exchange: "Name",
        syntax: Syntax::String,
    },
    Property {
        name: "displayName",
        exchange: "DisplayName",
        syntax: Syntax::String,
    },
    Property {
        name: "alias",
        exchange: "Alias",
        syntax: Syntax::String,
    },
    Property {
        name: "primarySmtpAddress",
        exchange: "PrimarySmtpAddress",
        syntax: Syntax::String,
    },
    Property {
        name: "hiddenFromAddressLists",
        exchange: "HiddenFromAddressListsEnabled",
        syntax: Syntax::Boolean,
    },
];

/// A mail user: an Entra user with an external address and no mailbox (a B2B guest, or one
/// made by `New-MailUser`). Exchange makes it; idsync sets what Exchange alone holds.
pub const MAIL_USER_PROPERTIES: &[Property] = &[
    Property {
        name: "userPrincipalName",
        exchange: "UserPrincipalName",
        syntax: Syntax::String,
    },
    Property {
        name: "displayName",
        exchange: "DisplayName",
        syntax: Syntax::String,
    },
    Property {
        name: "externalEmailAddress",
        exchange: "ExternalEmailAddress",
        syntax: Syntax::String,
    },
    Property {
        name: "primarySmtpAddress",
        exchange: "PrimarySmtpAddress",
        syntax: Syntax::String,
    },
    Property {
        name: "hiddenFromAddressLists",
        exchange: "HiddenFromAddressListsEnabled",
        syntax: Syntax::Boolean,
    },
];

pub const MAILBOX_PROPERTIES: &[Property] = &[
    Property {
        name: "name",
        exchange: "Name",
        syntax: Syntax::String,
    },
    Property {
        name: "alias",
        exchange: "Alias",
        syntax: Syntax::String,
    },
    Property {
        name: "userPrincipalName",
        exchange: "UserPrincipalName",
        syntax: Syntax::String,
    },
    Property {
        name: "displayName",
        exchange: "DisplayName",
        syntax: Syntax::String,
    },
    Property {
        name: "primarySmtpAddress",
        exchange: "PrimarySmtpAddress",
        syntax: Syntax::String,
    },
    Property {
        name: "hiddenFromAddressLists",
        exchange: "HiddenFromAddressListsEnabled",
        syntax: Syntax::Boolean,
    },
    Property {
        name: "litigationHold",
        exchange: "LitigationHoldEnabled",
        syntax: Syntax::Boolean,
    },
];

/// Exchange properties each import asks for (`$select`), beyond the table above.
pub const CONTACT_SELECT: &str = "Guid,ExternalDirectoryObjectId,Name,DisplayName,Alias,ExternalEmailAddress,HiddenFromAddressListsEnabled,IsDirSynced";
pub const GROUP_SELECT: &str = "Guid,ExternalDirectoryObjectId,Name,DisplayName,Alias,PrimarySmtpAddress,HiddenFromAddressListsEnabled,RecipientTypeDetails,IsDirSynced";
pub const MAIL_USER_SELECT: &str = "Guid,ExternalDirectoryObjectId,UserPrincipalName,DisplayName,ExternalEmailAddress,PrimarySmtpAddress,HiddenFromAddressListsEnabled,EmailAddresses,RecipientTypeDetails,IsDirSynced";
pub const MAILBOX_SELECT: &str = "Guid,ExternalDirectoryObjectId,Name,Alias,UserPrincipalName,DisplayName,PrimarySmtpAddress,HiddenFromAddressListsEnabled,LitigationHoldEnabled,ArchiveStatus,RecipientTypeDetails,EmailAddresses,IsDirSynced";
pub const MEMBER_SELECT: &str = "Guid,ExternalDirectoryObjectId,RecipientType";

pub fn properties(object_type: &str) -> &'static [Property] {
    match object_type {
        MAIL_CONTACT => CONTACT_PROPERTIES,
        DISTRIBUTION_GROUP => GROUP_PROPERTIES,
        MAILBOX => MAILBOX_PROPERTIES,
        MAIL_USER => MAIL_USER_PROPERTIES,
        _ => &[],
    }
}

/// Read only: the recipient is synchronized from on-premises AD.
pub const IS_DIR_SYNCED: &str = "isDirSynced";

/// The attributes of a synchronized recipient that on-premises AD masters, so Exchange
/// Online refuses to change them. A synchronized contact or group is AD's entirely,
/// members included; a synchronized user keeps its mailbox settings and permissions
/// writable in the cloud, and only its mail attributes are AD's.
pub fn mastered_on_premises(
    object_type: &model::ObjectType,
    current: &model::Attributes,
) -> Vec<model::AttributeName> {
    let synced = current
        .first(&model::AttributeName::new(IS_DIR_SYNCED))
        .is_some_and(|v| v.to_text().eq_ignore_ascii_case("true"));
    if !synced {
        return Vec::new();
    }
    match object_type.as_str() {
        // Every attribute the type has, from its schema.
        MAIL_CONTACT | DISTRIBUTION_GROUP => object_type_schema(object_type)
            .map(|schema| {
                schema
                    .attributes
                    .into_iter()
                    .map(|a| a.name)
                    .filter(|n| !schema.anchor.contains(n) && n.as_str() != IS_DIR_SYNCED)
                    .collect()
            })
            .unwrap_or_default(),
        _ => [
            "displayName",
            "primarySmtpAddress",
            "externalEmailAddress",
            "emailAddresses",
            "hiddenFromAddressLists",
            "name",
            "alias",
        ]
        .into_iter()
        .map(model::AttributeName::new)
        .collect(),
    }
}

/// The multi-valued attributes of each type (changed by adds and removes).
pub fn multi_valued(object_type: &str) -> &'static [&'static str] {
    match object_type {
        DISTRIBUTION_GROUP => &["members"],
        MAILBOX => &["emailAddresses", "fullAccess", "sendAs"],
        MAIL_USER => &["emailAddresses"],
        _ => &[],
    }
}

pub fn object_type_schema(object_type: &ObjectType) -> Option<ObjectTypeSchema> {
    let name = object_type.as_str();
    let mut attributes: Vec<AttributeSchema> = properties(name)
        .iter()
        .map(|p| AttributeSchema::single(p.name, p.syntax))
        .collect();
    let anchor = match name {
        MAIL_CONTACT => {
            attributes[0] = AttributeSchema::single("name", Syntax::String).required();
            attributes[3] =
                AttributeSchema::single("externalEmailAddress", Syntax::String).required();
            attributes.push(AttributeSchema::single(IS_DIR_SYNCED, Syntax::Boolean));
            "guid"
        }
        DISTRIBUTION_GROUP => {
            attributes[0] = AttributeSchema::single("name", Syntax::String).required();
            attributes.push(AttributeSchema::single("security", Syntax::Boolean));
            attributes.push(AttributeSchema::multi("members", Syntax::Reference));
            attributes.push(AttributeSchema::single(IS_DIR_SYNCED, Syntax::Boolean));
            "externalDirectoryObjectId"
        }
        MAIL_USER => {
            attributes.push(AttributeSchema::multi("emailAddresses", Syntax::String));
            attributes.push(AttributeSchema::single(IS_DIR_SYNCED, Syntax::Boolean));
            "externalDirectoryObjectId"
        }
        MAILBOX => {
            attributes.push(AttributeSchema::single("archive", Syntax::Boolean));
            attributes.push(AttributeSchema::single("shared", Syntax::Boolean));
            attributes.push(AttributeSchema::multi("emailAddresses", Syntax::String));
            attributes.push(AttributeSchema::multi("fullAccess", Syntax::Reference));
            attributes.push(AttributeSchema::multi("sendAs", Syntax::Reference));
            attributes.push(AttributeSchema::single(IS_DIR_SYNCED, Syntax::Boolean));
            "externalDirectoryObjectId"
        }
        _ => return None,
    };
    attributes.push(AttributeSchema::single(anchor, Syntax::String));
    Some(ObjectTypeSchema {
        name: object_type.clone(),
        anchor: vec![model::AttributeName::new(anchor)],
        attributes,
    })
}
