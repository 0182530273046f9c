//! Licenses: direct assignments, group licensing and seat counts.

use super::*;

impl Directory {
    /// Users (live) holding a SKU.
    pub fn consumed_units(&self, sku_id: &str) -> usize {
        self.order
            .get(&Kind::User)
            .into_iter()
            .flat_map(|o| o.values())
            .filter_map(|id| self.objects.get(id))
            .filter(|u| {
                assigned_sku_ids(u)
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(sku_id))
            })
            .count()
    }

    /// `POST /users/{id}/assignLicense`: all or nothing. Changes the user's direct
    /// assignments; licenses inherited from groups stay.
    pub fn assign_license(
        &mut self,
        user: &str,
        body: &Map<String, Value>,
    ) -> Result<&DirObject, GraphError> {
        let id = self.get(Kind::User, user)?.id.clone();
        let (add, remove) = license_changes(body)?;
        let user_obj = &self.objects[&id];
        if !add.is_empty()
            && user_obj
                .props
                .get("usageLocation")
                .is_none_or(|v| v.as_str().is_none_or(str::is_empty))
        {
            return Err(GraphError::bad_request(
                "License assignment cannot be done for user with invalid usage location.",
            ));
        }
        let held = assigned_sku_ids(user_obj);
        let mut direct = direct_licenses(user_obj);
        apply_license_changes(&mut direct, &add, &remove);
        for (sku, _) in &add {
            let had = held.iter().any(|s| s.eq_ignore_ascii_case(sku.sku_id));
            if !had && self.consumed_units(sku.sku_id) >= sku.seats as usize {
                return Err(no_seats(sku));
            }
        }
        self.recompute_licenses(&id, Some(direct));
        Ok(&self.objects[&id])
    }

    /// `POST /groups/{id}/assignLicense`: the group's licenses change and every direct
    /// user member inherits them (one seat per user and SKU; a member without a free seat
    /// gets a `CountViolation` error state instead). Only security-enabled groups.
    pub fn assign_group_license(
        &mut self,
        group: &str,
        body: &Map<String, Value>,
    ) -> Result<&DirObject, GraphError> {
        let group_obj = self.get(Kind::Group, group)?;
        let id = group_obj.id.clone();
        if group_obj.props.get("securityEnabled") != Some(&Value::Bool(true)) {
            return Err(GraphError::bad_request(
                "Licenses can only be assigned to security-enabled groups.",
            ));
        }
        let (add, remove) = license_changes(body)?;
        let mut licenses: Vec<(String, Vec<String>)> = group_obj
            .props
            .get("assignedLicenses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(license_entry)
            .collect();
        apply_license_changes(&mut licenses, &add, &remove);
        let mut patch = Map::new();
        patch.insert("assignedLicenses".to_owned(), licenses_json(&licenses));
        self.apply_patch(&id, patch);
        let members: Vec<String> = self.members.get(&id).cloned().unwrap_or_default();
        for member in &members {
            self.recompute_licenses(member, None);
        }
        self.refresh_license_errors(&id);
        Ok(&self.objects[&id])
    }

    /// Rebuilds a user's `licenseAssignmentStates` and `assignedLicenses` from its direct
    /// assignments (`direct`, or the current ones) and the licenses of the groups it is a
    /// direct member of.
    pub(super) fn recompute_licenses(
        &mut self,
        user: &str,
        direct: Option<Vec<(String, Vec<String>)>>,
    ) {
        let Some(user_obj) = self.objects.get(user).filter(|o| o.kind == Kind::User) else {
            return;
        };
        let direct = direct.unwrap_or_else(|| direct_licenses(user_obj));
        let held_before = assigned_sku_ids(user_obj);
        let mut states: Vec<Value> = direct
            .iter()
            .map(|(sku, disabled)| {
                json!({"assignedByGroup": null, "disabledPlans": disabled, "error": "None",
                       "skuId": sku, "state": "Active"})
            })
            .collect();
        let mut assigned: Vec<(String, Vec<String>)> = direct.clone();
        let mut groups: Vec<&DirObject> = self
            .members
            .iter()
            .filter(|(_, m)| m.iter().any(|x| x == user))
            .filter_map(|(g, _)| self.objects.get(g))
            .collect();
        groups.sort_by_key(|g| g.created_seq);
        for group in groups {
            for (sku, disabled) in group
                .props
                .get("assignedLicenses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(license_entry)
            {
                let holds = assigned.iter().any(|(s, _)| s.eq_ignore_ascii_case(&sku));
                let seat_free = holds
                    || held_before.iter().any(|s| s.eq_ignore_ascii_case(&sku))
                    || crate::licenses::sku(&sku)
                        .is_some_and(|k| self.consumed_units(k.sku_id) < k.seats as usize);
                let (state, error) = if seat_free {
                    ("Active", "None")
                } else {
                    ("Error", "CountViolation")
                };
                states.push(
                    json!({"assignedByGroup": group.id, "disabledPlans": disabled,
                    "error": error, "skuId": sku, "state": state}),
                );
                if seat_free && !holds {
                    assigned.push((sku, disabled));
                }
            }
        }
        let mut patch = Map::new();
        patch.insert("assignedLicenses".to_owned(), licenses_json(&assigned));
        patch.insert("licenseAssignmentStates".to_owned(), Value::Array(states));
        self.apply_patch(user, patch);
    }

    /// Sets a group's `hasMembersWithLicenseErrors` from its members' states.
    pub(super) fn refresh_license_errors(&mut self, group: &str) {
        let errors = self
            .members
            .get(group)
            .into_iter()
            .flatten()
            .filter_map(|m| self.objects.get(m))
            .any(|u| {
                u.props
                    .get("licenseAssignmentStates")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .any(|s| s["assignedByGroup"] == group && s["state"] == "Error")
            });
        let mut patch = Map::new();
        patch.insert("hasMembersWithLicenseErrors".to_owned(), json!(errors));
        self.apply_patch(group, patch);
    }

    /// After a membership change: the member's inherited licenses follow the group's.
    pub(super) fn membership_changed(&mut self, group: &str, member: &str) {
        let licensed = self
            .objects
            .get(group)
            .and_then(|g| g.props.get("assignedLicenses"))
            .and_then(Value::as_array)
            .is_some_and(|l| !l.is_empty());
        if licensed {
            self.recompute_licenses(member, None);
            self.refresh_license_errors(group);
        }
    }
}

/// Parses and checks `addLicenses` / `removeLicenses` (both required).
#[allow(clippy::type_complexity)]
fn license_changes(
    body: &Map<String, Value>,
) -> Result<
    (
        Vec<(&'static crate::licenses::Sku, Vec<String>)>,
        Vec<String>,
    ),
    GraphError,
> {
    let (Some(Value::Array(add)), Some(Value::Array(remove))) =
        (body.get("addLicenses"), body.get("removeLicenses"))
    else {
        return Err(GraphError::odata_bad_request(
            "Both 'addLicenses' and 'removeLicenses' are required (send [] when empty).",
        ));
    };
    let mut removed = Vec::new();
    for r in remove {
        let Some(sku_id) = r.as_str().filter(|s| crate::schema::is_guid(s)) else {
            return Err(GraphError::odata_bad_request(format!(
                "Cannot convert the literal '{r}' to the expected type 'Edm.Guid'."
            )));
        };
        removed.push(sku_id.to_lowercase());
    }
    let mut added = Vec::new();
    for a in add {
        let sku_id = a.get("skuId").and_then(Value::as_str).unwrap_or_default();
        let Some(sku) = crate::licenses::sku(sku_id) else {
            return Err(GraphError::bad_request(format!(
                "License {sku_id} does not correspond to a valid company License."
            )));
        };
        let disabled: Vec<String> = a
            .get("disabledPlans")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|d| d.as_str().map(str::to_lowercase))
            .collect();
        if let Some(bad) = disabled
            .iter()
            .find(|d| !sku.plans.iter().any(|p| p.id == d.as_str()))
        {
            return Err(GraphError::bad_request(format!(
                "Service plan {bad} is not part of the license {}.",
                sku.sku_id
            )));
        }
        added.push((sku, disabled));
    }
    Ok((added, removed))
}

fn apply_license_changes(
    licenses: &mut Vec<(String, Vec<String>)>,
    add: &[(&'static crate::licenses::Sku, Vec<String>)],
    remove: &[String],
) {
    licenses.retain(|(sku, _)| !remove.iter().any(|r| r.eq_ignore_ascii_case(sku)));
    for (sku, disabled) in add {
        licenses.retain(|(s, _)| !s.eq_ignore_ascii_case(sku.sku_id));
        licenses.push((sku.sku_id.to_owned(), disabled.clone()));
    }
}

fn no_seats(sku: &crate::licenses::Sku) -> GraphError {
    GraphError::bad_request(format!(
        "Subscription with SKU {} does not have any available licenses.",
        sku.sku_id
    ))
}

/// (skuId, disabledPlans) of an `assignedLicense` value.
fn license_entry(value: &Value) -> Option<(String, Vec<String>)> {
    let sku = value.get("skuId")?.as_str()?.to_owned();
    let disabled = value
        .get("disabledPlans")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| d.as_str().map(str::to_owned))
        .collect();
    Some((sku, disabled))
}

fn licenses_json(licenses: &[(String, Vec<String>)]) -> Value {
    Value::Array(
        licenses
            .iter()
            .map(|(sku, disabled)| json!({"disabledPlans": disabled, "skuId": sku}))
            .collect(),
    )
}

/// A user's direct license assignments: the states not assigned by a group, or (for a
/// user that has no states yet) its `assignedLicenses`.
fn direct_licenses(user: &DirObject) -> Vec<(String, Vec<String>)> {
    match user
        .props
        .get("licenseAssignmentStates")
        .and_then(Value::as_array)
    {
        Some(states) => states
            .iter()
            .filter(|s| s["assignedByGroup"].is_null())
            .filter_map(license_entry)
            .collect(),
        None => user
            .props
            .get("assignedLicenses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(license_entry)
            .collect(),
    }
}
