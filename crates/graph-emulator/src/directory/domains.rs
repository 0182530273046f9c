//! The tenant's domains: the initial one, verified ones, and added ones awaiting
//! verification.

use super::*;

impl Directory {
    /// Every domain with whether it is verified, verified ones first (the initial domain
    /// leads).
    pub fn domains(&self) -> Vec<(&str, bool)> {
        self.verified_domains
            .iter()
            .map(|d| (d.as_str(), true))
            .chain(self.unverified_domains.iter().map(|d| (d.as_str(), false)))
            .collect()
    }

    pub(super) fn has_domain(&self, name: &str) -> bool {
        self.domains()
            .iter()
            .any(|(d, _)| d.eq_ignore_ascii_case(name))
    }

    /// `POST /domains`: added unverified.
    pub fn add_domain(&mut self, name: &str) -> Result<(), GraphError> {
        let valid = name.contains('.')
            && !name.starts_with('.')
            && !name.ends_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !valid {
            return Err(GraphError::invalid_property_value("id", "Domain"));
        }
        if self.has_domain(name) {
            return Err(GraphError::bad_request(format!(
                "Domain '{name}' already exists in this tenant."
            )));
        }
        self.unverified_domains.push(name.to_lowercase());
        Ok(())
    }

    /// `POST /domains/{id}/verify`. The emulator has no DNS to look at, so verification
    /// always succeeds; verifying a verified domain changes nothing.
    pub fn verify_domain(&mut self, name: &str) -> Result<(), GraphError> {
        if let Some(pos) = self
            .unverified_domains
            .iter()
            .position(|d| d.eq_ignore_ascii_case(name))
        {
            let domain = self.unverified_domains.remove(pos);
            self.verified_domains.push(domain);
            return Ok(());
        }
        if self.has_domain(name) {
            return Ok(());
        }
        Err(GraphError::not_found(name))
    }

    /// `DELETE /domains/{id}`: not the initial domain, and not while a user's
    /// userPrincipalName uses it.
    pub fn remove_domain(&mut self, name: &str) -> Result<(), GraphError> {
        if !self.has_domain(name) {
            return Err(GraphError::not_found(name));
        }
        if self
            .verified_domains
            .first()
            .is_some_and(|d| d.eq_ignore_ascii_case(name))
        {
            return Err(GraphError::bad_request(
                "The initial domain of the tenant cannot be deleted.",
            ));
        }
        let suffix = format!("@{}", name.to_lowercase());
        if self.upn_index.keys().any(|upn| upn.ends_with(&suffix)) {
            return Err(GraphError::bad_request(format!(
                "Domain '{name}' cannot be deleted because objects still reference it."
            )));
        }
        self.verified_domains
            .retain(|d| !d.eq_ignore_ascii_case(name));
        self.unverified_domains
            .retain(|d| !d.eq_ignore_ascii_case(name));
        Ok(())
    }
}
