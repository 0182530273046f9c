//! A set of multi-valued attributes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{AttributeChange, AttributeName, Value, ValueChange};

/// The attributes of one object: each name holds one or more values.
///
/// An attribute with no values is absent: setting an empty list removes the name, so two
/// images compare equal exactly when they hold the same values.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Attributes(BTreeMap<AttributeName, Vec<Value>>);

impl Attributes {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, name: &AttributeName) -> Option<&[Value]> {
        self.0.get(name).map(Vec::as_slice)
    }

    /// The first value of a single-valued attribute.
    pub fn first(&self, name: &AttributeName) -> Option<&Value> {
        self.0.get(name).and_then(|v| v.first())
    }

    /// Replaces all values of `name`; an empty list removes the attribute.
    pub fn set(&mut self, name: AttributeName, values: Vec<Value>) {
        if values.is_empty() {
            self.0.remove(&name);
        } else {
            self.0.insert(name, values);
        }
    }

    /// Builder form of [`Attributes::set`] for one value.
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.set(AttributeName::new(name), vec![value.into()]);
        self
    }

    pub fn remove(&mut self, name: &AttributeName) -> Option<Vec<Value>> {
        self.0.remove(name)
    }

    pub fn contains(&self, name: &AttributeName) -> bool {
        self.0.contains_key(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&AttributeName, &[Value])> {
        self.0.iter().map(|(k, v)| (k, v.as_slice()))
    }

    pub fn names(&self) -> impl Iterator<Item = &AttributeName> {
        self.0.keys()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Applies one attribute-level change. Adding a value already present and removing one
    /// that is absent are no-ops, as in a directory with permissive modify.
    pub fn apply(&mut self, change: &AttributeChange) {
        let name = change.name.clone();
        match &change.change {
            ValueChange::Replace(values) => self.set(name, values.clone()),
            ValueChange::Add(values) => {
                let mut current = self.0.remove(&name).unwrap_or_default();
                for v in values {
                    if !current.contains(v) {
                        current.push(v.clone());
                    }
                }
                self.set(name, current);
            }
            ValueChange::Remove(values) => {
                let mut current = self.0.remove(&name).unwrap_or_default();
                current.retain(|v| !values.contains(v));
                self.set(name, current);
            }
        }
    }
}

impl std::fmt::Debug for Attributes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.0.iter()).finish()
    }
}

impl FromIterator<(AttributeName, Vec<Value>)> for Attributes {
    fn from_iter<T: IntoIterator<Item = (AttributeName, Vec<Value>)>>(iter: T) -> Self {
        let mut attributes = Attributes::new();
        for (name, values) in iter {
            attributes.set(name, values);
        }
        attributes
    }
}

impl IntoIterator for Attributes {
    type Item = (AttributeName, Vec<Value>);
    type IntoIter = std::collections::btree_map::IntoIter<AttributeName, Vec<Value>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> AttributeName {
        AttributeName::new(s)
    }

    #[test]
    fn empty_values_remove_the_attribute() {
        let mut a = Attributes::new().with("mail", "a@example.com");
        a.set(name("MAIL"), vec![]);
        assert!(a.is_empty());
    }

    #[test]
    fn add_and_remove_touch_single_values() {
        let mut a = Attributes::new();
        a.set(name("member"), vec!["a".into(), "b".into()]);
        a.apply(&AttributeChange::add(
            name("member"),
            vec!["b".into(), "c".into()],
        ));
        assert_eq!(
            a.get(&name("member")).unwrap(),
            &["a".into(), "b".into(), "c".into()]
        );
        a.apply(&AttributeChange::remove(
            name("member"),
            vec!["a".into(), "z".into()],
        ));
        assert_eq!(a.get(&name("member")).unwrap(), &["b".into(), "c".into()]);
        a.apply(&AttributeChange::remove(
            name("member"),
            vec!["b".into(), "c".into()],
        ));
        assert!(!a.contains(&name("member")));
    }
}
