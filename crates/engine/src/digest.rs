//! A stable content hash of an object's image, so an import can tell a changed row from an
//! unchanged one without loading the stored image. FNV-1a is used because it is stable across
//! Rust versions (the standard library's hasher is not), and a digest stored today must still
//! match after an upgrade.

use model::{Attributes, ObjectType, Value};

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

struct Fnv(u64);

impl Fnv {
    fn bytes(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(PRIME);
        }
    }

    fn text(&mut self, text: &str) {
        self.bytes(&(text.len() as u64).to_le_bytes());
        self.bytes(text.as_bytes());
    }
}

/// The digest of an object image: its type and every attribute value (names case-folded).
/// Values are hashed by their text, not their type: a target that stores text (a CSV file,
/// LDAP) gives back `"I-42"` for the reference idsync wrote, and that is the same image.
pub fn digest(object_type: &ObjectType, attributes: &Attributes) -> u64 {
    let mut h = Fnv(OFFSET);
    h.text(&object_type.as_str().to_ascii_lowercase());
    for (name, values) in attributes.iter() {
        h.text(&name.as_str().to_ascii_lowercase());
        h.bytes(&(values.len() as u64).to_le_bytes());
        for value in values {
            match value {
                Value::Binary(b) => h.bytes(b),
                // Text is hashed in place: most values are strings, and a copy per value
                // per row adds up over a million rows.
                Value::String(text) | Value::Reference(text) => h.text(text),
                other => h.text(&other.to_text()),
            }
        }
    }
    h.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_ignores_attribute_name_case_but_not_values() {
        let t = ObjectType::new("person");
        let a = Attributes::new().with("Mail", "a@x");
        let b = Attributes::new().with("mail", "a@x");
        let c = Attributes::new().with("mail", "b@x");
        assert_eq!(digest(&t, &a), digest(&t, &b));
        assert_ne!(digest(&t, &a), digest(&t, &c));
    }

    #[test]
    fn digest_is_stable_across_builds() {
        const PINNED: u64 = 0x1762_107a_ddde_0f76;
        // A stored digest must match after an upgrade: pin one value.
        let d = digest(
            &ObjectType::new("person"),
            &Attributes::new().with("mail", "a@x"),
        );
        assert_eq!(
            d,
            digest(
                &ObjectType::new("PERSON"),
                &Attributes::new().with("MAIL", "a@x")
            )
        );
        assert_eq!(
            d, PINNED,
            "digest changed: {d:#x}; stored digests would all mismatch after an upgrade"
        );
    }
}
