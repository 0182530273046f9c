//! A directory object's stored properties, kept compact so a tenant of a million users fits
//! in well under 2 GiB: a vector of (interned name, value) pairs instead of a map with an
//! owned key per entry. Objects have a few dozen properties at most, so a linear search is
//! as fast as a map lookup.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

use serde_json::{Map, Value};

/// Property names seen so far. Names are checked against the schema (or registered as
/// directory extensions) before they are stored, so the set stays small.
static NAMES: LazyLock<Mutex<HashSet<&'static str>>> = LazyLock::new(Mutex::default);

/// The one shared copy of a property name.
pub fn intern(name: &str) -> &'static str {
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(existing) = names.get(name) {
        return existing;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    leaked
}

/// Stored properties in insertion order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Props(Vec<(&'static str, Value)>);

impl Props {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets a property and returns its previous value.
    pub fn insert(&mut self, name: impl AsRef<str>, value: Value) -> Option<Value> {
        let name = name.as_ref();
        if let Some((_, slot)) = self.0.iter_mut().find(|(k, _)| *k == name) {
            return Some(std::mem::replace(slot, value));
        }
        self.0.push((intern(name), value));
        self.0.shrink_to_fit();
        None
    }

    /// Sets a property only when it is absent.
    pub fn insert_default(&mut self, name: &str, value: impl FnOnce() -> Value) {
        if !self.contains_key(name) {
            self.insert(name, value());
        }
    }

    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let position = self.0.iter().position(|(k, _)| *k == name)?;
        Some(self.0.remove(position).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Value)> {
        self.0.iter().map(|(k, v)| (*k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().map(|(k, _)| *k)
    }

    /// The properties as a JSON object (for state dumps).
    pub fn to_map(&self) -> Map<String, Value> {
        self.0
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }
}

impl From<Map<String, Value>> for Props {
    fn from(map: Map<String, Value>) -> Self {
        let mut pairs: Vec<(&'static str, Value)> =
            map.into_iter().map(|(k, v)| (intern(&k), v)).collect();
        pairs.shrink_to_fit();
        Props(pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_shared_and_values_replaced_in_place() {
        let a = intern("displayName");
        let b = intern(&String::from("displayName"));
        assert!(std::ptr::eq(a, b));
        let mut p = Props::default();
        assert_eq!(p.insert("jobTitle", json!("a")), None);
        assert_eq!(p.insert("jobTitle", json!("b")), Some(json!("a")));
        p.insert_default("jobTitle", || json!("c"));
        assert_eq!(p.get("jobTitle"), Some(&json!("b")));
        assert_eq!(p.remove("jobTitle"), Some(json!("b")));
        assert!(!p.contains_key("jobTitle"));
    }
}
