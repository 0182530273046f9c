//! Directory roles: the built-in role definitions, unified role assignments
//! (`roleManagement/directory/roleAssignments`) and the legacy `directoryRoles` view of the
//! same tenant-wide assignments.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// A built-in role: its template id (the same in every tenant) and names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleDefinition {
    pub template_id: &'static str,
    pub display_name: &'static str,
    pub description: &'static str,
}

/// Built-in roles idsync is likely to assign, with Microsoft's template ids.
pub const ROLE_DEFINITIONS: &[RoleDefinition] = &[
    RoleDefinition {
        template_id: "62e90394-69f5-4237-9190-012177145e10",
        display_name: "Global Administrator",
        description: "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
    },
    RoleDefinition {
        template_id: "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
        display_name: "Global Reader",
        description: "Can read everything that a Global Administrator can, but not update anything.",
    },
    RoleDefinition {
        template_id: "fe930be7-5e62-47db-91af-98c3a49a38b1",
        display_name: "User Administrator",
        description: "Can manage all aspects of users and groups, including resetting passwords for limited admins.",
    },
    RoleDefinition {
        template_id: "fdd7a751-b60b-444a-984c-02652fe8fa1c",
        display_name: "Groups Administrator",
        description: "Members of this role can create/manage groups, create/manage groups settings like naming and expiration policies, and view groups activity and audit reports.",
    },
    RoleDefinition {
        template_id: "729827e3-9c14-49f7-bb1b-9608f156bbb8",
        display_name: "Helpdesk Administrator",
        description: "Can reset passwords for non-administrators and Helpdesk Administrators.",
    },
    RoleDefinition {
        template_id: "4d6ac14f-3453-41d0-bef9-a3e0c569773a",
        display_name: "License Administrator",
        description: "Can manage product licenses on users and groups.",
    },
    RoleDefinition {
        template_id: "194ae4cb-b126-40b2-bd5b-6091b380977d",
        display_name: "Security Administrator",
        description: "Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365.",
    },
    RoleDefinition {
        template_id: "e8611ab8-c189-46e8-94e1-60213ab1f814",
        display_name: "Privileged Role Administrator",
        description: "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.",
    },
];

/// The built-in role whose template id (or role definition id, the same for built-ins)
/// is `id`.
pub fn definition(id: &str) -> Option<&'static RoleDefinition> {
    ROLE_DEFINITIONS
        .iter()
        .find(|d| d.template_id.eq_ignore_ascii_case(id))
}

/// A role definition as `roleManagement/directory/roleDefinitions` returns it.
pub fn definition_json(d: &RoleDefinition) -> Value {
    json!({
        "id": d.template_id,
        "description": d.description,
        "displayName": d.display_name,
        "isBuiltIn": true,
        "isEnabled": true,
        "resourceScopes": ["/"],
        "templateId": d.template_id,
        "version": "1",
        "rolePermissions": [],
    })
}

/// The tenant's activated `directoryRole` object id for a template: a per-tenant id, here
/// the template's hex digits reversed.
pub fn directory_role_id(d: &RoleDefinition) -> String {
    let hex: String = d
        .template_id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .rev()
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The built-in role behind a `directoryRoles/{id}` key: the activated role's id or
/// `roleTemplateId={templateId}`.
pub fn by_directory_role_key(key: &str) -> Option<&'static RoleDefinition> {
    if let Some(template) = key.strip_prefix("roleTemplateId=") {
        return definition(template);
    }
    ROLE_DEFINITIONS
        .iter()
        .find(|d| directory_role_id(d).eq_ignore_ascii_case(key))
}

/// One unified role assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAssignment {
    pub id: String,
    pub role_definition_id: String,
    pub principal_id: String,
    pub directory_scope_id: String,
}

impl RoleAssignment {
    /// Entra's assignment ids look like the base64url of the role definition and principal
    /// GUIDs followed by `-1`; this follows that shape.
    pub fn new(role_definition_id: &str, principal_id: &str, directory_scope_id: &str) -> Self {
        let mut bytes = guid_bytes(role_definition_id);
        bytes.extend(guid_bytes(principal_id));
        Self {
            id: format!("{}-1", URL_SAFE_NO_PAD.encode(bytes)),
            role_definition_id: role_definition_id.to_lowercase(),
            principal_id: principal_id.to_lowercase(),
            directory_scope_id: directory_scope_id.to_owned(),
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "roleDefinitionId": self.role_definition_id,
            "principalId": self.principal_id,
            "directoryScopeId": self.directory_scope_id,
        })
    }
}

fn guid_bytes(guid: &str) -> Vec<u8> {
    let hex: String = guid.chars().filter(char::is_ascii_hexdigit).collect();
    (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_roles_are_found_by_id_or_template() {
        let admin = definition("fe930be7-5e62-47db-91af-98c3a49a38b1").unwrap();
        assert_eq!(admin.display_name, "User Administrator");
        let id = directory_role_id(admin);
        assert_eq!(by_directory_role_key(&id), Some(admin));
        assert_eq!(
            by_directory_role_key("roleTemplateId=fe930be7-5e62-47db-91af-98c3a49a38b1"),
            Some(admin)
        );
        let a = RoleAssignment::new(
            admin.template_id,
            "f8ca5a85-489a-49a0-b555-0a6d81e56f0d",
            "/",
        );
        assert!(a.id.ends_with("-1") && a.id.len() == 45);
    }
}
