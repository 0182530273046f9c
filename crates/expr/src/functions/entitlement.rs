//! App role assignments. The engine supplies `[appRoleAssignments]` as one value per
//! assignment: either a JSON object (`{"id": …, "value": …, "displayName": …}`, Graph's shape
//! joined with the app role) or plain text, the role's value.

use model::Value;

use super::{Dialects, Example, Family, Function, Imp};
use crate::eval::Ev;
use crate::value;

const fn example(
    expression: &'static str,
    attributes: &'static str,
    result: &'static str,
) -> Example {
    Example {
        expression,
        attributes,
        result,
    }
}

struct Assignment {
    id: Option<String>,
    value: String,
    display_name: String,
}

fn read(value: &Value) -> Assignment {
    let text = value::text(value);
    if let Ok(serde_json::Value::Object(object)) = serde_json::from_str::<serde_json::Value>(&text)
    {
        let field = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| object.get(*n).and_then(|v| v.as_str()).map(str::to_owned))
        };
        let value = field(&["value", "appRoleValue"]).unwrap_or_default();
        let display_name = field(&["displayName", "display", "appRoleDisplayName"])
            .unwrap_or_else(|| value.clone());
        return Assignment {
            id: field(&["id", "appRoleId"]),
            value,
            display_name,
        };
    }
    Assignment {
        id: None,
        value: text.to_string(),
        display_name: text.into_owned(),
    }
}

/// SCIM `roles` entries: every role with `primary` false, as Entra sends them.
fn roles<'a>(args: Vec<Ev<'a>>) -> Result<Ev<'a>, String> {
    let roles = args[0]
        .iter()
        .map(read)
        .map(|a| {
            // Written by hand so the key order is fixed whatever serde_json features the
            // workspace enables: primary, type, display, value (Entra's order), then id.
            let text = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
            let id = a.id.as_deref().map_or(String::new(), |id| format!(",\"id\":{}", text(id)));
            Value::String(format!(
                "{{\"primary\":false,\"type\":\"WindowsAzureActiveDirectoryRole\",\"display\":{},\"value\":{}{id}}}",
                text(&a.display_name),
                text(&a.value)
            ))
        })
        .collect();
    Ok(Ev::from_values(roles))
}

pub(crate) static APP_ROLE_ASSIGNMENTS_COMPLEX: Function = Function {
    name: "AppRoleAssignmentsComplex",
    dialects: Dialects::Provisioning,
    family: Family::Entitlement,
    signature: "AppRoleAssignmentsComplex([appRoleAssignments])",
    summary: "Every assigned app role as a SCIM `roles` entry (JSON text, `primary` false). Export adds roles and never removes them (`Expression::top_function` tells the engine).",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"AppRoleAssignmentsComplex([appRoleAssignments])"#,
        r#"{"appRoleAssignments": ["{\"value\": \"Admin\", \"displayName\": \"Administrator\"}"]}"#,
        r#""{\"primary\":false,\"type\":\"WindowsAzureActiveDirectoryRole\",\"display\":\"Administrator\",\"value\":\"Admin\"}""#,
    ),
    imp: Imp::Whole(|_, args| roles(args)),
};

pub(crate) static ASSERTIVE_APP_ROLE_ASSIGNMENTS_COMPLEX: Function = Function {
    name: "AssertiveAppRoleAssignmentsComplex",
    dialects: Dialects::Provisioning,
    family: Family::Entitlement,
    signature: "AssertiveAppRoleAssignmentsComplex([appRoleAssignments])",
    summary: "As AppRoleAssignmentsComplex, but export replaces the target's roles, so removed assignments are removed there too.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"AssertiveAppRoleAssignmentsComplex([appRoleAssignments])"#,
        r#"{"appRoleAssignments": ["Reader"]}"#,
        r#""{\"primary\":false,\"type\":\"WindowsAzureActiveDirectoryRole\",\"display\":\"Reader\",\"value\":\"Reader\"}""#,
    ),
    imp: Imp::Whole(|_, args| roles(args)),
};

pub(crate) static SINGLE_APP_ROLE_ASSIGNMENT: Function = Function {
    name: "SingleAppRoleAssignment",
    dialects: Dialects::Provisioning,
    family: Family::Entitlement,
    signature: "SingleAppRoleAssignment([appRoleAssignments])",
    summary: "The value of the one assigned app role. With several assignments Entra's choice is unpredictable; idsync takes the first and the checker of the engine should warn.",
    min_args: 1,
    max_args: Some(1),
    example: example(
        r#"SingleAppRoleAssignment([appRoleAssignments])"#,
        r#"{"appRoleAssignments": ["{\"value\": \"Admin\", \"displayName\": \"Administrator\"}"]}"#,
        r#""Admin""#,
    ),
    imp: Imp::Whole(|_, args| {
        Ok(args[0]
            .first()
            .map_or(Ev::Null, |v| Ev::text(read(v).value)))
    }),
};
