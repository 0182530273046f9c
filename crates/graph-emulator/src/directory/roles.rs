//! Role assignments held by the directory.

use super::*;

impl Directory {
    /// `POST /roleManagement/directory/roleAssignments` (and, at scope `/`, the legacy
    /// `directoryRoles/{id}/members/$ref`). The principal is a user or a role-assignable
    /// group.
    pub fn assign_role(
        &mut self,
        role_definition_id: &str,
        principal_id: &str,
        directory_scope_id: &str,
    ) -> Result<&RoleAssignment, GraphError> {
        let definition = crate::roles::definition(role_definition_id)
            .ok_or_else(|| GraphError::not_found(role_definition_id))?;
        let principal = self
            .objects
            .get(&principal_id.to_lowercase())
            .ok_or_else(|| GraphError::not_found(principal_id))?;
        if principal.kind == Kind::Group
            && principal.props.get("isAssignableToRole") != Some(&Value::Bool(true))
        {
            return Err(GraphError::bad_request(
                "Only groups created with isAssignableToRole set to true can be assigned to a role.",
            ));
        }
        let assignment =
            RoleAssignment::new(definition.template_id, &principal.id, directory_scope_id);
        if self
            .role_assignments
            .iter()
            .any(|a| a.id == assignment.id && a.directory_scope_id == assignment.directory_scope_id)
        {
            return Err(GraphError::bad_request(
                "A conflicting object with one or more of the specified property values is present in the directory.",
            ));
        }
        self.role_assignments.push(assignment);
        Ok(self.role_assignments.last().expect("just pushed"))
    }

    pub fn role_assignments(&self) -> &[RoleAssignment] {
        &self.role_assignments
    }

    /// `DELETE /roleManagement/directory/roleAssignments/{id}`.
    pub fn remove_role_assignment(&mut self, id: &str) -> Result<(), GraphError> {
        let before = self.role_assignments.len();
        self.role_assignments.retain(|a| a.id != id);
        if self.role_assignments.len() == before {
            return Err(GraphError::not_found(id));
        }
        Ok(())
    }

    /// The tenant-wide holders of a role (the members of its `directoryRole`).
    pub fn role_members(&self, template_id: &str) -> Vec<&DirObject> {
        self.role_assignments
            .iter()
            .filter(|a| a.role_definition_id == template_id && a.directory_scope_id == "/")
            .filter_map(|a| self.objects.get(&a.principal_id))
            .collect()
    }

    /// `DELETE /directoryRoles/{id}/members/{memberId}/$ref`.
    pub fn remove_role_member(
        &mut self,
        template_id: &str,
        member: &str,
    ) -> Result<(), GraphError> {
        let member = member.to_lowercase();
        let before = self.role_assignments.len();
        self.role_assignments.retain(|a| {
            !(a.role_definition_id == template_id
                && a.principal_id == member
                && a.directory_scope_id == "/")
        });
        if self.role_assignments.len() == before {
            return Err(GraphError::not_found(&member));
        }
        Ok(())
    }
}
