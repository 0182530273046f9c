//! Dumping the directory to JSON and loading it back (state files, `/_emulator/state`).

use super::*;

impl Directory {
    /// The live objects as JSON, for `/_emulator/state` (passwords included: this is the
    /// emulator's own state, not a Graph response).
    pub fn dump(&self) -> Value {
        let collect = |kind: Kind| -> Vec<Value> {
            self.order
                .get(&kind)
                .into_iter()
                .flat_map(|o| o.values())
                .filter_map(|id| self.objects.get(id))
                .map(|o| {
                    let mut props = o.props.to_map();
                    if let Some(password) = &o.password {
                        props.insert("passwordProfile".to_owned(), json!({"password": password}));
                    }
                    if kind == Kind::Group {
                        props.insert(
                            "members".to_owned(),
                            json!(self.members.get(&o.id).cloned().unwrap_or_default()),
                        );
                        props.insert(
                            "owners".to_owned(),
                            json!(self.owners.get(&o.id).cloned().unwrap_or_default()),
                        );
                    }
                    if let Some(m) = self.managers.get(&o.id) {
                        props.insert("manager".to_owned(), json!(m));
                    }
                    Value::Object(props)
                })
                .collect()
        };
        json!({
            "users": collect(Kind::User),
            "groups": collect(Kind::Group),
            "deletedUsers": self.deleted_users().iter().map(|o| {
                let mut props = o.props.to_map();
                if let Some(password) = &o.password {
                    props.insert("passwordProfile".to_owned(), json!({"password": password}));
                }
                if let Some(groups) = self.deleted_memberships.get(&o.id) {
                    props.insert("memberOf".to_owned(), json!(groups));
                }
                Value::Object(props)
            }).collect::<Vec<_>>(),
            "extensionProperties": self.extensions.iter().map(|e| e.to_json("idsync")).collect::<Vec<_>>(),
            "roleAssignments": self.role_assignments.iter().map(RoleAssignment::to_json).collect::<Vec<_>>(),
            "domains": self.domains().iter().skip(1).map(|(d, v)| json!({"id": d, "isVerified": v})).collect::<Vec<_>>(),
        })
    }

    /// Rebuilds a directory from [`Directory::dump`]'s JSON (a state file or
    /// `POST /_emulator/state`). Ids, passwords, managers, members, owners, deleted users,
    /// extensions and role assignments come back; the delta history starts afresh.
    pub fn load(verified_domains: Vec<String>, state: &Value) -> Result<Directory, GraphError> {
        let bad =
            |what: &str| GraphError::odata_bad_request(format!("Invalid emulator state: {what}."));
        let list = |key: &str| -> Result<Vec<Map<String, Value>>, GraphError> {
            match state.get(key) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| match i {
                        Value::Object(m) => Ok(m.clone()),
                        _ => Err(bad(&format!("'{key}' must hold objects"))),
                    })
                    .collect(),
                Some(_) => Err(bad(&format!("'{key}' must be an array"))),
            }
        };
        let ids = |value: Option<Value>| -> Vec<String> {
            value
                .and_then(|v| v.as_array().cloned())
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_lowercase))
                .collect()
        };
        let mut dir = Directory::new(verified_domains);
        for domain in list("domains")? {
            let name = domain
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("a domain without an id"))?;
            if dir.has_domain(name) {
                continue;
            }
            dir.add_domain(name)?;
            if domain.get("isVerified") == Some(&Value::Bool(true)) {
                dir.verify_domain(name)?;
            }
        }
        for e in list("extensionProperties")? {
            let extension =
                ExtensionProperty::from_dump(&e).ok_or_else(|| bad("an extension property"))?;
            dir.extensions.push(extension);
        }
        let mut managers = Vec::new();
        for mut user in list("users")? {
            let id = object_id(&user).ok_or_else(|| bad("a user without an id"))?;
            if let Some(m) = user
                .remove("manager")
                .and_then(|m| m.as_str().map(str::to_lowercase))
            {
                managers.push((id.clone(), m));
            }
            let password = take_password(&mut user);
            dir.check_dumped(Kind::User, &user)?;
            dir.insert(Kind::User, id, Props::from(user), password);
        }
        let mut memberships = Vec::new();
        for mut group in list("groups")? {
            let id = object_id(&group).ok_or_else(|| bad("a group without an id"))?;
            memberships.push((
                id.clone(),
                ids(group.remove("members")),
                ids(group.remove("owners")),
            ));
            dir.check_dumped(Kind::Group, &group)?;
            dir.insert(Kind::Group, id, Props::from(group), None);
        }
        for (group, members, owners) in memberships {
            if let Some(missing) = members
                .iter()
                .chain(&owners)
                .find(|m| !dir.objects.contains_key(m))
            {
                return Err(bad(&format!(
                    "group {group} refers to unknown object {missing}"
                )));
            }
            dir.members.insert(group.clone(), members);
            if !owners.is_empty() {
                dir.owners.insert(group, owners);
            }
        }
        for (user, manager) in managers {
            if !dir.objects.contains_key(&manager) {
                return Err(bad(&format!("user {user} has unknown manager {manager}")));
            }
            dir.managers.insert(user, manager);
        }
        for mut user in list("deletedUsers")? {
            let id = object_id(&user).ok_or_else(|| bad("a deleted user without an id"))?;
            let groups = ids(user.remove("memberOf"));
            if !groups.is_empty() {
                dir.deleted_memberships.insert(id.clone(), groups);
            }
            let password = take_password(&mut user);
            dir.check_dumped(Kind::User, &user)?;
            let props = Props::from(user);
            if let Some(upn) = props.get("userPrincipalName").and_then(Value::as_str) {
                dir.upn_index.insert(upn.to_lowercase(), id.clone());
            }
            let seq = dir.bump();
            dir.deleted.insert(
                id.clone(),
                DirObject {
                    id,
                    kind: Kind::User,
                    created_seq: seq,
                    props,
                    password,
                    changed: Vec::new(),
                    last_change: seq,
                },
            );
        }
        for a in list("roleAssignments")? {
            let text = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or_default();
            dir.assign_role(
                text("roleDefinitionId"),
                text("principalId"),
                text("directoryScopeId"),
            )?;
        }
        Ok(dir)
    }

    /// A dumped object holds only schema properties (read-only ones included) and
    /// registered extensions, with the right types.
    fn check_dumped(&self, kind: Kind, object: &Map<String, Value>) -> Result<(), GraphError> {
        check_payload(kind, object, &[])?;
        self.check_extension_values(kind, object)
    }
}

/// The lowercase `id` of a dumped object.
fn object_id(object: &Map<String, Value>) -> Option<String> {
    object
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map(str::to_lowercase)
}
