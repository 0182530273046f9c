//! Desired image minus connector-space image = the attribute-level changes to export.

use model::{AttributeChange, AttributeName, Attributes, Value};

/// One attribute that differs, with the values before and after (for plans).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributeDiff {
    pub change: AttributeChange,
    pub old: Vec<Value>,
    pub new: Vec<Value>,
}

/// Two values are the same for export purposes when their text is: a target that stores
/// everything as text (a CSV file, LDAP) gives back `"2024-01-01"` for a date we sent, and
/// that must not look like a change on every run.
fn same(a: &Value, b: &Value) -> bool {
    a == b || a.to_text() == b.to_text()
}

fn contains(values: &[Value], v: &Value) -> bool {
    values.iter().any(|x| same(x, v))
}

/// The changes that turn `current` into `desired` for the attributes in `managed` (the ones
/// the outbound rule flows); other attributes of the target are left alone. An attribute
/// with several values on either side changes by adds and removes of single values (a
/// membership is never rewritten whole); a single-valued one is replaced.
pub fn diff(
    current: &Attributes,
    desired: &Attributes,
    managed: &[AttributeName],
) -> Vec<AttributeDiff> {
    diff_with(current, desired, managed, &[])
}

/// [`diff`], where the attributes in `multi_valued` (a group's members, as the target's
/// schema says) always change by adds and removes, even from one value to another.
pub fn diff_with(
    current: &Attributes,
    desired: &Attributes,
    managed: &[AttributeName],
    multi_valued: &[AttributeName],
) -> Vec<AttributeDiff> {
    let mut diffs = Vec::new();
    for name in managed {
        let old = current.get(name).unwrap_or(&[]);
        let new = desired.get(name).unwrap_or(&[]);
        let equal = old.len() == new.len() && old.iter().zip(new).all(|(a, b)| same(a, b));
        if equal {
            continue;
        }
        let change = if old.len() > 1 || new.len() > 1 || multi_valued.contains(name) {
            let adds: Vec<Value> = new.iter().filter(|v| !contains(old, v)).cloned().collect();
            let removes: Vec<Value> = old.iter().filter(|v| !contains(new, v)).cloned().collect();
            match (adds.is_empty(), removes.is_empty()) {
                // Same values in another order: nothing to do for a multi-valued attribute.
                (true, true) => continue,
                (false, true) => AttributeChange::add(name.clone(), adds),
                (true, false) => AttributeChange::remove(name.clone(), removes),
                (false, false) => {
                    diffs.push(AttributeDiff {
                        change: AttributeChange::remove(name.clone(), removes),
                        old: old.to_vec(),
                        new: new.to_vec(),
                    });
                    AttributeChange::add(name.clone(), adds)
                }
            }
        } else {
            AttributeChange::replace(name.clone(), new.to_vec())
        };
        diffs.push(AttributeDiff {
            change,
            old: old.to_vec(),
            new: new.to_vec(),
        });
    }
    diffs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &[&str])]) -> Attributes {
        pairs
            .iter()
            .map(|(n, vs)| {
                (
                    AttributeName::new(*n),
                    vs.iter().map(|v| Value::from(*v)).collect(),
                )
            })
            .collect()
    }

    fn names(list: &[&str]) -> Vec<AttributeName> {
        list.iter().map(|n| AttributeName::new(*n)).collect()
    }

    fn check(
        current: &[(&str, &[&str])],
        desired: &[(&str, &[&str])],
        managed: &[&str],
        expected: Vec<AttributeChange>,
    ) {
        let got: Vec<AttributeChange> = diff(&attrs(current), &attrs(desired), &names(managed))
            .into_iter()
            .map(|d| d.change)
            .collect();
        assert_eq!(got, expected);
    }

    fn v(list: &[&str]) -> Vec<Value> {
        list.iter().map(|s| Value::from(*s)).collect()
    }

    #[test]
    fn a_multi_valued_attribute_changes_by_adds_and_removes_even_with_one_value() {
        let one = attrs(&[("members", &["A"])]);
        let other = attrs(&[("members", &["B"])]);
        let changes: Vec<AttributeChange> =
            diff_with(&one, &other, &names(&["members"]), &names(&["members"]))
                .into_iter()
                .map(|d| d.change)
                .collect();
        assert_eq!(
            changes,
            vec![
                AttributeChange::remove(AttributeName::new("members"), v(&["A"])),
                AttributeChange::add(AttributeName::new("members"), v(&["B"])),
            ]
        );
        let none = attrs(&[]);
        let changes: Vec<AttributeChange> =
            diff_with(&one, &none, &names(&["members"]), &names(&["members"]))
                .into_iter()
                .map(|d| d.change)
                .collect();
        assert_eq!(
            changes,
            vec![AttributeChange::remove(
                AttributeName::new("members"),
                v(&["A"])
            )]
        );
    }

    #[test]
    fn diffs() {
        // Unchanged.
        check(
            &[("title", &["A"])],
            &[("title", &["A"])],
            &["title"],
            vec![],
        );
        // Replace, set and clear of single values.
        check(
            &[("title", &["A"])],
            &[("title", &["B"])],
            &["title"],
            vec![AttributeChange::replace("title".into(), v(&["B"]))],
        );
        check(
            &[],
            &[("title", &["B"])],
            &["title"],
            vec![AttributeChange::replace("title".into(), v(&["B"]))],
        );
        check(
            &[("title", &["A"])],
            &[],
            &["title"],
            vec![AttributeChange::replace("title".into(), vec![])],
        );
        // Unmanaged attributes are left alone.
        check(&[("phone", &["1"])], &[], &["title"], vec![]);
        // Multi-valued: adds and removes of single values, never a rewrite.
        check(
            &[("member", &["a", "b", "c"])],
            &[("member", &["b", "c", "d"])],
            &["member"],
            vec![
                AttributeChange::remove("member".into(), v(&["a"])),
                AttributeChange::add("member".into(), v(&["d"])),
            ],
        );
        check(
            &[("member", &["a", "b"])],
            &[("member", &["b", "a"])],
            &["member"],
            vec![],
        );
    }

    #[test]
    fn values_that_read_back_as_text_are_not_changes() {
        let current: Attributes = [(AttributeName::new("n"), vec![Value::from("3")])]
            .into_iter()
            .collect();
        let desired: Attributes = [(AttributeName::new("n"), vec![Value::Integer(3)])]
            .into_iter()
            .collect();
        assert!(diff(&current, &desired, &names(&["n"])).is_empty());
    }
}
