//! Distinguished names, compared the way directories compare them.

use std::fmt;
use std::hash::{Hash, Hasher};

/// A DN as the server wrote it, compared without regard to ASCII case or to spaces around
/// the `,`, `+` and `=` that separate its parts (`CN=Ada, OU=People` = `cn=ada,ou=people`).
#[derive(Clone)]
pub struct Dn {
    written: String,
    normal: String,
}

impl Dn {
    pub fn new(written: impl Into<String>) -> Dn {
        let written = written.into();
        let normal = normalize(&written);
        Dn { written, normal }
    }

    pub fn as_str(&self) -> &str {
        &self.written
    }

    /// The first RDN (`uid=ada`) and the parent DN (`ou=people,dc=example,dc=com`), split at
    /// the first unescaped comma.
    pub fn split_first(&self) -> (&str, Option<Dn>) {
        let bytes = self.written.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 1,
                b',' => {
                    return (
                        self.written[..i].trim(),
                        Some(Dn::new(self.written[i + 1..].trim())),
                    );
                }
                _ => {}
            }
            i += 1;
        }
        (self.written.trim(), None)
    }

    /// Whether this DN is `other` or below it.
    pub fn is_within(&self, other: &Dn) -> bool {
        self.normal == other.normal
            || self
                .normal
                .strip_suffix(&other.normal)
                .is_some_and(|rest| rest.ends_with(',') && !rest.ends_with("\\,"))
    }
}

/// Lower-cases ASCII and drops unescaped spaces around separators.
fn normalize(dn: &str) -> String {
    let mut out = String::with_capacity(dn.len());
    let mut chars = dn.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push('\\');
                if let Some(next) = chars.next() {
                    out.push(next.to_ascii_lowercase());
                }
            }
            ',' | '+' | '=' => {
                while out.ends_with(' ') && !out.ends_with("\\ ") {
                    out.pop();
                }
                out.push(c);
                while chars.peek() == Some(&' ') {
                    chars.next();
                }
            }
            c => out.push(c.to_ascii_lowercase()),
        }
    }
    out
}

impl PartialEq for Dn {
    fn eq(&self, other: &Self) -> bool {
        self.normal == other.normal
    }
}
impl Eq for Dn {}

impl Hash for Dn {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.normal.hash(state);
    }
}

impl fmt::Display for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.written)
    }
}

impl fmt::Debug for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.written)
    }
}

#[cfg(test)]
mod tests {
    use super::Dn;

    #[test]
    fn dns_compare_without_case_or_separator_spaces() {
        assert_eq!(
            Dn::new("CN=Ada Lovelace, OU=People,dc=Example , dc=com"),
            Dn::new("cn=ada lovelace,ou=people,dc=example,dc=com")
        );
        assert_ne!(Dn::new("cn=ada,ou=a"), Dn::new("cn=ada,ou=b"));
    }

    #[test]
    fn the_first_rdn_splits_at_an_unescaped_comma() {
        let dn = Dn::new("cn=King\\, Ada,ou=people,dc=example,dc=com");
        let (rdn, parent) = dn.split_first();
        assert_eq!(rdn, "cn=King\\, Ada");
        assert_eq!(parent, Some(Dn::new("ou=people,dc=example,dc=com")));
        assert_eq!(Dn::new("dc=com").split_first(), ("dc=com", None));
    }

    #[test]
    fn within_means_at_or_below() {
        let base = Dn::new("ou=people,dc=example,dc=com");
        assert!(Dn::new("uid=a,OU=People,dc=example,dc=com").is_within(&base));
        assert!(base.is_within(&base));
        assert!(!Dn::new("uid=a,ou=groups,dc=example,dc=com").is_within(&base));
        assert!(!Dn::new("uid=a,xou=people,dc=example,dc=com").is_within(&base));
    }
}
