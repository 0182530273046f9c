//! Directory roles by name (`User Administrator`), assigned tenant-wide as unified role
//! assignments at scope `/`.

use std::collections::BTreeMap;

use serde_json::Value as Json;

/// The tenant's role definitions: display name ↔ id.
#[derive(Clone, Debug, Default)]
pub struct RoleCatalogue {
    roles: Vec<(String, String)>,
}

impl RoleCatalogue {
    pub fn from_json(body: &Json) -> Self {
        let roles = body["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| {
                Some((
                    r["id"].as_str()?.to_owned(),
                    r["displayName"].as_str()?.to_owned(),
                ))
            })
            .collect();
        Self { roles }
    }

    pub fn id(&self, name: &str) -> Result<String, String> {
        self.roles
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(id, _)| id.clone())
            .ok_or_else(|| {
                let known: Vec<&str> = self.roles.iter().map(|(_, n)| n.as_str()).collect();
                format!(
                    "the tenant has no directory role \"{name}\" (it has: {})",
                    known.join(", ")
                )
            })
    }

    pub fn name(&self, id: &str) -> Option<&str> {
        self.roles
            .iter()
            .find(|(i, _)| i.eq_ignore_ascii_case(id))
            .map(|(_, n)| n.as_str())
    }

    /// Tenant-wide assignments (`directoryScopeId = "/"`) as principal id → role names.
    pub fn holders(&self, assignments: &Json) -> BTreeMap<String, Vec<String>> {
        let mut holders: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for a in assignments["value"].as_array().into_iter().flatten() {
            if a["directoryScopeId"].as_str() != Some("/") {
                continue;
            }
            let (Some(principal), Some(role)) =
                (a["principalId"].as_str(), a["roleDefinitionId"].as_str())
            else {
                continue;
            };
            let name = self.name(role).unwrap_or(role).to_owned();
            holders.entry(principal.to_owned()).or_default().push(name);
        }
        for names in holders.values_mut() {
            names.sort();
            names.dedup();
        }
        holders
    }
}
