//! The meaning of an LDAP connector's settings.

use std::time::Duration;

use model::ObjectType;

use super::Validator;
use crate::model_types::{LdapDelta, LdapObjectType, LdapScope, LdapSettings};
use crate::raw::RawLdap;
use crate::reader::url_has_password;
use crate::suggest;

const SCOPES: &[&str] = &["sub", "one"];
const DELTAS: &[&str] = &["syncrepl", "dirsync", "usn", "timestamp", "none"];
/// Operations and connecting time out after this unless `timeout` says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_PAGE_SIZE: u32 = 500;
/// OpenLDAP's default size limit for a page is far above this; AD's MaxPageSize is 1000.
const MAX_PAGE_SIZE: i64 = 100_000;

impl Validator<'_> {
    pub(super) fn ldap(&mut self, raw: RawLdap) -> Option<LdapSettings> {
        let mut ok = true;
        let url = raw.url.as_ref().and_then(|url| {
            let lower = url.value.to_ascii_lowercase();
            if !(lower.starts_with("ldap://") || lower.starts_with("ldaps://") || lower.starts_with("ldapi://")) {
                self.problems
                    .error(&url.loc, format!("\"{}\" is not an LDAP url", url.value))
                    .help("write url = \"ldaps://dc1.example.com\" or \"ldap://host:389\" (with starttls = true)");
                return None;
            }
            if url_has_password(&url.value) {
                self.problems
                    .error(&url.loc, "the url holds a password")
                    .help("remove it and write password = { env = \"IDSYNC_LDAP_PASSWORD\" }");
                return None;
            }
            Some(url.value.clone())
        });
        let starttls = raw.starttls.as_ref().is_some_and(|s| s.value);
        if let (Some(flag), Some(url)) = (&raw.starttls, &url)
            && flag.value
            && !url.to_ascii_lowercase().starts_with("ldap://")
        {
            self.problems
                .error(&flag.loc, "starttls applies only to an ldap:// url")
                .help(
                    "ldaps:// is encrypted from the start; remove starttls, or use an ldap:// url",
                );
            ok = false;
        }
        match (&raw.bind_dn, &raw.password) {
            (Some(dn), None) if !dn.value.is_empty() => {
                self.problems
                    .error(&dn.loc, "a bind DN needs a password")
                    .help("add password = { env = \"IDSYNC_LDAP_PASSWORD\" } or password = { file = \"...\" }");
                ok = false;
            }
            (None, Some(password)) => {
                self.problems
                    .error(&password.loc, "a password needs a bind DN")
                    .help("add bind_dn = \"cn=idsync,ou=services,dc=example,dc=com\"");
                ok = false;
            }
            (Some(dn), _) if dn.value.trim().is_empty() => {
                self.problems
                    .error(&dn.loc, "the bind DN is empty")
                    .help("leave bind_dn out to bind anonymously");
                ok = false;
            }
            _ => {}
        }
        let password = raw.password.map(|p| self.secret(p));
        let tls = starttls
            || url
                .as_deref()
                .is_some_and(|u| u.to_ascii_lowercase().starts_with("ldaps://"));
        let client_certificate = match (&raw.client_certificate, &raw.client_key) {
            (Some(cert), Some(_)) => {
                if let Some(dn) = &raw.bind_dn {
                    self.problems
                        .error(&dn.loc, "a client certificate binds with SASL EXTERNAL: no bind DN")
                        .help("the server takes the identity from the certificate; remove bind_dn and password");
                    ok = false;
                }
                if !tls && url.is_some() {
                    self.problems
                        .error(&cert.loc, "a client certificate needs TLS")
                        .help("use an ldaps:// url, or starttls = true");
                    ok = false;
                }
                self.path(cert)
            }
            (Some(cert), None) => {
                self.problems
                    .error(&cert.loc, "a client certificate needs its key")
                    .help("add client_key = { file = \"/etc/idsync/ldap-client.key\" }");
                ok = false;
                None
            }
            (None, Some(key)) => {
                self.problems
                    .error(&key.loc, "a client key needs its certificate")
                    .help("add client_certificate = \"/etc/idsync/ldap-client.pem\"");
                ok = false;
                None
            }
            (None, None) => None,
        };
        let client_key = raw.client_key.map(|k| self.secret(k));
        let ca_file = match &raw.ca_file {
            Some(path) => Some(self.path(path)?),
            None => None,
        };
        let timeout = match &raw.timeout {
            Some(t) => self.duration(t)?,
            None => DEFAULT_TIMEOUT,
        };
        let base_dns = raw.base.as_ref().and_then(|base| {
            if base.value.is_empty() {
                self.problems
                    .error(&base.loc, "base names no DN")
                    .help("write base = \"ou=people,dc=example,dc=com\"");
                return None;
            }
            let mut dns = Vec::new();
            for dn in &base.value {
                if !dn.value.contains('=') {
                    self.problems
                        .error(&dn.loc, format!("\"{}\" is not a DN", dn.value))
                        .help("a DN is attribute=value pairs separated by commas, such as \"ou=people,dc=example,dc=com\"");
                } else {
                    dns.push(dn.value.clone());
                }
            }
            (dns.len() == base.value.len()).then_some(dns)
        });
        let scope = match &raw.scope {
            None => Some(LdapScope::Subtree),
            Some(s) => match s.value.as_str() {
                "sub" | "subtree" => Some(LdapScope::Subtree),
                "one" | "onelevel" => Some(LdapScope::OneLevel),
                other => {
                    self.problems
                        .error(&s.loc, format!("unknown scope \"{other}\""))
                        .help(suggest::help_for(other, SCOPES));
                    None
                }
            },
        };
        let filter = match &raw.filter {
            None => Some(None),
            Some(f) => match filter_problem(&f.value) {
                None => Some(Some(f.value.clone())),
                Some(problem) => {
                    self.problems
                        .error(&f.loc, format!("the filter is not valid: {problem}"))
                        .help("write an RFC 4515 filter in parentheses, such as \"(&(objectClass=person)(!(employeeType=service)))\"");
                    None
                }
            },
        };
        let page_size = match &raw.page_size {
            None => Some(DEFAULT_PAGE_SIZE),
            Some(n) if (1..=MAX_PAGE_SIZE).contains(&n.value) => u32::try_from(n.value).ok(),
            Some(n) => {
                self.problems
                    .error(
                        &n.loc,
                        format!("page_size must be between 1 and {MAX_PAGE_SIZE}"),
                    )
                    .help("500 is a good size; Active Directory serves at most 1000 per page");
                None
            }
        };
        let object_types = raw.object_types.as_ref().and_then(|mapping| {
            if mapping.value.is_empty() {
                self.problems
                    .error(&mapping.loc, "object_types maps no object type")
                    .help("write object_types = { person = \"inetOrgPerson\", group = \"groupOfNames\" }");
                return None;
            }
            let mut types = Vec::new();
            for (name, classes) in &mapping.value {
                let empty = classes.value.iter().find(|c| c.value.trim().is_empty());
                if classes.value.is_empty() || empty.is_some() {
                    let loc = empty.map_or(&classes.loc, |c| &c.loc);
                    self.problems
                        .error(loc, format!("object type \"{}\" names no object class", name.value))
                        .help("such as \"inetOrgPerson\", \"groupOfNames\" or, for Active Directory, \"user\"; auxiliary classes follow the structural one in a list");
                    continue;
                }
                types.push(LdapObjectType {
                    object_type: ObjectType::new(name.value.as_str()),
                    object_class: classes.value[0].value.clone(),
                    auxiliary_classes: classes.value[1..].iter().map(|c| c.value.clone()).collect(),
                });
            }
            (types.len() == mapping.value.len()).then_some(types)
        });
        let anchor = match &raw.anchor {
            None => Some("entryUUID".to_owned()),
            Some(a) if a.value.trim().is_empty() || a.value.eq_ignore_ascii_case("dn") => {
                self.problems
                    .error(&a.loc, format!("\"{}\" cannot be an anchor", a.value))
                    .help("an anchor never changes: use entryUUID (OpenLDAP) or objectGUID (Active Directory), not the DN, which changes on rename");
                None
            }
            Some(a) => Some(a.value.clone()),
        };
        let delta = match &raw.delta {
            // Active Directory is the directory with objectGUID anchors, and its delta is DirSync.
            None if anchor
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case("objectGUID")) =>
            {
                Some(LdapDelta::DirSync)
            }
            None => Some(LdapDelta::Syncrepl),
            Some(d) => match d.value.as_str() {
                "syncrepl" => Some(LdapDelta::Syncrepl),
                "dirsync" => Some(LdapDelta::DirSync),
                "usn" => Some(LdapDelta::Usn),
                "timestamp" => Some(LdapDelta::Timestamp),
                "none" => Some(LdapDelta::None),
                other => {
                    self.problems
                        .error(&d.loc, format!("unknown delta method \"{other}\""))
                        .help(suggest::help_for(other, DELTAS));
                    None
                }
            },
        };
        if !ok {
            return None;
        }
        Some(LdapSettings {
            url: url?,
            starttls,
            bind_dn: raw.bind_dn.map(|d| d.value),
            password,
            client_certificate,
            client_key,
            ca_file,
            timeout,
            base_dns: base_dns?,
            scope: scope?,
            filter: filter?,
            page_size: page_size?,
            object_types: object_types?,
            anchor: anchor?,
            delta: delta?,
            attributes: raw.attributes.into_iter().map(|a| a.value).collect(),
        })
    }
}

/// What is wrong with an RFC 4515 filter's shape (parentheses and escapes), if anything.
/// The server checks attribute names and matching rules.
fn filter_problem(filter: &str) -> Option<String> {
    let filter = filter.trim();
    if !filter.starts_with('(') || !filter.ends_with(')') {
        return Some("it must be enclosed in parentheses".to_owned());
    }
    let mut depth = 0i32;
    let bytes = filter.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth < 0 {
                    return Some(format!("a \")\" at offset {i} closes nothing"));
                }
                if depth == 0 && i + 1 < bytes.len() {
                    return Some(
                        "it holds more than one filter; combine them with (&...)".to_owned(),
                    );
                }
            }
            b'\\' => {
                let hex = bytes.get(i + 1..i + 3);
                if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    return Some(format!(
                        "the \"\\\" at offset {i} is not followed by two hex digits"
                    ));
                }
                i += 2;
            }
            _ => {}
        }
        i += 1;
    }
    (depth != 0).then(|| "its parentheses are not balanced".to_owned())
}

#[cfg(test)]
mod tests {
    use super::filter_problem;

    #[test]
    fn filters_are_checked_for_shape() {
        assert_eq!(filter_problem("(objectClass=person)"), None);
        assert_eq!(filter_problem("(&(a=b)(!(c=d\\2a)))"), None);
        assert!(filter_problem("objectClass=person").is_some());
        assert!(filter_problem("(a=b))(").is_some());
        assert!(filter_problem("(a=b)(c=d)").is_some());
        assert!(filter_problem("(&(a=b)").is_some());
        assert!(filter_problem("(a=\\zz)").is_some());
    }
}
