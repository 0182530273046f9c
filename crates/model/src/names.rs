//! Identifier newtypes. Each compares the way its system compares it.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Declares a string newtype whose equality, ordering and hashing ignore ASCII case,
/// while the original spelling is kept for display.
macro_rules! case_insensitive_name {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        // Shared, not boxed: the same names are cloned into millions of objects per run,
        // and a clone of an `Arc` is a count, not an allocation.
        #[derive(Clone, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Arc<str>);

        impl $name {
            pub fn new(name: impl Into<Arc<str>>) -> Self {
                Self(name.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            fn folded(&self) -> impl Iterator<Item = u8> + '_ {
                self.0.bytes().map(|b| b.to_ascii_lowercase())
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.0.eq_ignore_ascii_case(&other.0)
            }
        }
        impl Eq for $name {}

        impl Hash for $name {
            fn hash<H: Hasher>(&self, state: &mut H) {
                for b in self.folded() {
                    state.write_u8(b);
                }
                state.write_u8(0xff);
            }
        }

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> Ordering {
                self.folded().cmp(other.folded())
            }
        }
        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", &*self.0)
            }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::new(s)
            }
        }
        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self::new(s)
            }
        }
    };
}

/// Declares a case-sensitive string newtype.
macro_rules! exact_name {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Box<str>);

        impl $name {
            pub fn new(value: impl Into<Box<str>>) -> Self {
                Self(value.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", &*self.0)
            }
        }
        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::new(s)
            }
        }
        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self::new(s)
            }
        }
    };
}

case_insensitive_name!(
    /// The name of an attribute. Directories and Graph compare attribute names without
    /// regard to case (`givenName` = `GivenName`), so this type does too.
    AttributeName
);

case_insensitive_name!(
    /// The type of an object in a connected system or in the vault (`user`, `group`, `person`).
    ObjectType
);

exact_name!(
    /// The immutable identifier of an object in its own system: `objectGUID`, a Graph `id`,
    /// an HR employee number. Never a DN or a UPN, which change.
    Anchor
);

exact_name!(
    /// The name of a configured connector, as written in the configuration.
    ConnectorName
);

exact_name!(
    /// The name of a sync rule, as written in the configuration. Lineage, plans and errors
    /// refer to rules by this name.
    RuleName
);

/// The identifier of one identity in the vault. Shown as `I-<number>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdentityId(pub i64);

impl fmt::Display for IdentityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "I-{}", self.0)
    }
}
impl fmt::Debug for IdentityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The error of parsing an [`IdentityId`] from its `I-<number>` form.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not an identity id (expected I-<number>)")]
pub struct ParseIdentityIdError(String);

impl FromStr for IdentityId {
    type Err = ParseIdentityIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.strip_prefix("I-")
            .or_else(|| s.strip_prefix("i-"))
            .and_then(|n| n.parse().ok())
            .map(IdentityId)
            .ok_or_else(|| ParseIdentityIdError(s.to_owned()))
    }
}

/// The identifier of one run of the pipeline.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "run {}", self.0)
    }
}
impl fmt::Debug for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RunId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn attribute_names_ignore_case_but_keep_spelling() {
        let a = AttributeName::new("givenName");
        let b = AttributeName::new("GIVENNAME");
        assert_eq!(a, b);
        assert_eq!(a.cmp(&b), Ordering::Equal);
        let set: HashSet<_> = [a.clone(), b].into_iter().collect();
        assert_eq!(set.len(), 1);
        assert_eq!(a.to_string(), "givenName");
        assert!(AttributeName::new("a") < AttributeName::new("B"));
    }

    #[test]
    fn anchors_are_exact() {
        assert_ne!(Anchor::new("e1"), Anchor::new("E1"));
    }

    #[test]
    fn identity_ids_round_trip_through_text() {
        let id = IdentityId(42);
        assert_eq!(id.to_string(), "I-42");
        assert_eq!("I-42".parse::<IdentityId>().unwrap(), id);
        assert!("42".parse::<IdentityId>().is_err());
    }
}
