//! The directory's schema, read from its subschema entry (RFC 4512): attribute types with
//! their syntax and whether they are single-valued, object classes with their superiors
//! and their required and allowed attributes.

use std::collections::HashMap;

use model::{AttributeSchema, Syntax};

/// Syntax OIDs (RFC 4517) that idsync reads as something other than a string.
const DN_SYNTAX: &str = "1.3.6.1.4.1.1466.115.121.1.12";
const INTEGER_SYNTAX: &str = "1.3.6.1.4.1.1466.115.121.1.27";
const BOOLEAN_SYNTAX: &str = "1.3.6.1.4.1.1466.115.121.1.7";
const TIME_SYNTAX: &str = "1.3.6.1.4.1.1466.115.121.1.24";
const BINARY_SYNTAXES: &[&str] = &[
    "1.3.6.1.4.1.1466.115.121.1.5",  // Binary
    "1.3.6.1.4.1.1466.115.121.1.8",  // Certificate
    "1.3.6.1.4.1.1466.115.121.1.9",  // Certificate List
    "1.3.6.1.4.1.1466.115.121.1.10", // Certificate Pair
    "1.3.6.1.4.1.1466.115.121.1.28", // JPEG
    "1.3.6.1.4.1.1466.115.121.1.40", // Octet String
];

/// Attributes whose octet-string values have a text form idsync uses instead: AD's GUIDs
/// and security identifiers.
pub const GUID_ATTRIBUTES: &[&str] = &["objectGUID", "msExchMailboxGuid"];
pub const SID_ATTRIBUTES: &[&str] = &["objectSid", "msExchMasterAccountSID", "sIDHistory"];

/// How idsync reads and writes one attribute's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    String,
    Integer,
    Boolean,
    Time,
    Binary,
    /// A DN, imported as a reference (the anchor of the entry it names).
    Dn,
    /// A 16-byte GUID shown as `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (AD byte order).
    Guid,
    /// A security identifier shown as `S-1-5-21-...`.
    Sid,
}

impl ValueKind {
    pub fn syntax(self) -> Syntax {
        match self {
            ValueKind::String | ValueKind::Guid | ValueKind::Sid => Syntax::String,
            ValueKind::Integer => Syntax::Integer,
            ValueKind::Boolean => Syntax::Boolean,
            ValueKind::Time => Syntax::DateTime,
            ValueKind::Binary => Syntax::Binary,
            ValueKind::Dn => Syntax::Reference,
        }
    }
}

#[derive(Clone, Debug)]
pub struct AttributeType {
    pub name: String,
    pub kind: ValueKind,
    pub single_valued: bool,
}

#[derive(Clone, Debug, Default)]
pub struct ObjectClass {
    pub superiors: Vec<String>,
    pub auxiliary: Vec<String>,
    pub must: Vec<String>,
    pub may: Vec<String>,
}

/// The parsed subschema. Names are looked up without regard to case.
#[derive(Clone, Debug, Default)]
pub struct DirectorySchema {
    attributes: HashMap<String, AttributeType>,
    classes: HashMap<String, ObjectClass>,
}

impl DirectorySchema {
    /// Parses the `attributeTypes` and `objectClasses` values of a subschema entry.
    pub fn parse(attribute_types: &[String], object_classes: &[String]) -> DirectorySchema {
        // Syntaxes may be inherited (cn is SUP name), so first collect, then resolve.
        struct Raw {
            names: Vec<String>,
            sup: Option<String>,
            syntax: Option<String>,
            single: bool,
        }
        let mut raws = Vec::new();
        for text in attribute_types {
            let d = Definition::parse(text);
            raws.push(Raw {
                names: d.names(),
                sup: d.word("SUP"),
                syntax: d
                    .word("SYNTAX")
                    .map(|s| s.split('{').next().unwrap_or("").to_owned()),
                single: d.flag("SINGLE-VALUE"),
            });
        }
        let mut by_name: HashMap<String, usize> = HashMap::new();
        for (i, raw) in raws.iter().enumerate() {
            for name in &raw.names {
                by_name.insert(name.to_ascii_lowercase(), i);
            }
        }
        let syntax_of = |mut i: usize| -> Option<String> {
            for _ in 0..16 {
                if let Some(s) = &raws[i].syntax {
                    return Some(s.clone());
                }
                i = *by_name.get(&raws[i].sup.as_ref()?.to_ascii_lowercase())?;
            }
            None
        };
        let mut attributes = HashMap::new();
        for (i, raw) in raws.iter().enumerate() {
            let syntax = syntax_of(i).unwrap_or_default();
            for name in &raw.names {
                let kind = kind_of(name, &syntax);
                attributes.insert(
                    name.to_ascii_lowercase(),
                    AttributeType {
                        name: name.clone(),
                        kind,
                        single_valued: raw.single,
                    },
                );
            }
        }
        let mut classes = HashMap::new();
        for text in object_classes {
            let d = Definition::parse(text);
            for name in d.names() {
                classes.insert(
                    name.to_ascii_lowercase(),
                    ObjectClass {
                        superiors: d.list("SUP"),
                        auxiliary: d.list("AUX"),
                        must: d.list("MUST"),
                        may: d.list("MAY"),
                    },
                );
            }
        }
        DirectorySchema {
            attributes,
            classes,
        }
    }

    pub fn attribute(&self, name: &str) -> Option<&AttributeType> {
        self.attributes.get(&name.to_ascii_lowercase())
    }

    /// How values of `name` are read: by its syntax, or as strings when the schema does not
    /// know it.
    pub fn kind(&self, name: &str) -> ValueKind {
        match self.attribute(name) {
            Some(a) => a.kind,
            None => kind_of(name, ""),
        }
    }

    pub fn has_class(&self, name: &str) -> bool {
        self.classes.contains_key(&name.to_ascii_lowercase())
    }

    /// The attributes of `class` with its superiors and auxiliary classes: (required,
    /// allowed), each name once, in the schema's spelling.
    pub fn class_attributes(&self, class: &str) -> (Vec<String>, Vec<String>) {
        let mut must: Vec<String> = Vec::new();
        let mut may: Vec<String> = Vec::new();
        let mut seen_classes = Vec::new();
        let mut todo = vec![class.to_ascii_lowercase()];
        while let Some(name) = todo.pop() {
            if seen_classes.contains(&name) {
                continue;
            }
            seen_classes.push(name.clone());
            let Some(c) = self.classes.get(&name) else {
                continue;
            };
            must.extend(c.must.iter().cloned());
            may.extend(c.may.iter().cloned());
            todo.extend(c.superiors.iter().map(|s| s.to_ascii_lowercase()));
            todo.extend(c.auxiliary.iter().map(|s| s.to_ascii_lowercase()));
        }
        let canonical = |n: &String| {
            self.attribute(n)
                .map(|a| a.name.clone())
                .unwrap_or_else(|| n.clone())
        };
        let mut required: Vec<String> = Vec::new();
        for n in must.iter().map(canonical) {
            if !required.iter().any(|r| r.eq_ignore_ascii_case(&n)) {
                required.push(n);
            }
        }
        let mut allowed: Vec<String> = Vec::new();
        for n in may.iter().map(canonical) {
            if !required
                .iter()
                .chain(&allowed)
                .any(|r| r.eq_ignore_ascii_case(&n))
            {
                allowed.push(n);
            }
        }
        (required, allowed)
    }

    /// The model schema of one attribute.
    pub fn attribute_schema(&self, name: &str, required: bool) -> AttributeSchema {
        let (kind, single) = match self.attribute(name) {
            Some(a) => (a.kind, a.single_valued),
            None => (kind_of(name, ""), false),
        };
        let mut schema = if single {
            AttributeSchema::single(name, kind.syntax())
        } else {
            AttributeSchema::multi(name, kind.syntax())
        };
        schema.required = required;
        schema
    }
}

fn kind_of(name: &str, syntax: &str) -> ValueKind {
    if GUID_ATTRIBUTES.iter().any(|g| g.eq_ignore_ascii_case(name)) {
        return ValueKind::Guid;
    }
    if SID_ATTRIBUTES.iter().any(|s| s.eq_ignore_ascii_case(name)) {
        return ValueKind::Sid;
    }
    match syntax {
        DN_SYNTAX => ValueKind::Dn,
        INTEGER_SYNTAX => ValueKind::Integer,
        BOOLEAN_SYNTAX => ValueKind::Boolean,
        TIME_SYNTAX => ValueKind::Time,
        s if BINARY_SYNTAXES.contains(&s) => ValueKind::Binary,
        _ => ValueKind::String,
    }
}

/// One schema definition, `( 2.5.4.3 NAME ( 'cn' 'commonName' ) SUP name ... )`, as tokens.
struct Definition {
    tokens: Vec<String>,
}

impl Definition {
    fn parse(text: &str) -> Definition {
        let mut tokens = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(&c) = chars.peek() {
            match c {
                ' ' | '\t' | '\n' | '\r' => {
                    chars.next();
                }
                '(' | ')' | '$' => {
                    tokens.push(c.to_string());
                    chars.next();
                }
                '\'' => {
                    chars.next();
                    let mut s = String::new();
                    for c in chars.by_ref() {
                        if c == '\'' {
                            break;
                        }
                        s.push(c);
                    }
                    tokens.push(s);
                }
                _ => {
                    let mut s = String::new();
                    while let Some(&c) = chars.peek() {
                        if matches!(c, ' ' | '(' | ')' | '$' | '\'' | '\t' | '\n' | '\r') {
                            break;
                        }
                        s.push(c);
                        chars.next();
                    }
                    tokens.push(s);
                }
            }
        }
        Definition { tokens }
    }

    fn position(&self, keyword: &str) -> Option<usize> {
        self.tokens.iter().position(|t| t == keyword)
    }

    /// The values after `keyword`: one word, or a parenthesised list.
    fn list(&self, keyword: &str) -> Vec<String> {
        let Some(i) = self.position(keyword) else {
            return Vec::new();
        };
        match self.tokens.get(i + 1).map(String::as_str) {
            Some("(") => self.tokens[i + 2..]
                .iter()
                .take_while(|t| *t != ")")
                .filter(|t| *t != "$")
                .cloned()
                .collect(),
            Some(word) => vec![word.to_owned()],
            None => Vec::new(),
        }
    }

    fn word(&self, keyword: &str) -> Option<String> {
        self.list(keyword).into_iter().next()
    }

    fn names(&self) -> Vec<String> {
        self.list("NAME")
    }

    fn flag(&self, keyword: &str) -> bool {
        self.position(keyword).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> DirectorySchema {
        DirectorySchema::parse(
            &[
                "( 2.5.4.41 NAME 'name' EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{32768} )".into(),
                "( 2.5.4.3 NAME ( 'cn' 'commonName' ) DESC 'RFC4519: common name(s)' SUP name )".into(),
                "( 2.5.4.31 NAME 'member' SUP distinguishedName )".into(),
                "( 2.5.4.49 NAME 'distinguishedName' EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )".into(),
                "( 1.3.6.1.1.16.4 NAME 'entryUUID' SYNTAX 1.3.6.1.1.16.1 SINGLE-VALUE NO-USER-MODIFICATION USAGE directoryOperation )".into(),
                "( 0.9.2342.19200300.100.1.60 NAME 'jpegPhoto' SYNTAX 1.3.6.1.4.1.1466.115.121.1.28 )".into(),
                "( 1.2.840.113556.1.4.2 NAME 'objectGUID' SYNTAX '1.3.6.1.4.1.1466.115.121.1.40' SINGLE-VALUE )".into(),
            ],
            &[
                "( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )".into(),
                "( 2.5.6.9 NAME 'groupOfNames' SUP top STRUCTURAL MUST ( member $ cn ) MAY ( businessCategory $ seeAlso $ owner ) )".into(),
            ],
        )
    }

    #[test]
    fn syntaxes_are_inherited_from_superior_attribute_types() {
        let s = schema();
        assert_eq!(s.kind("CN"), ValueKind::String);
        assert_eq!(s.kind("commonName"), ValueKind::String);
        assert_eq!(s.kind("member"), ValueKind::Dn);
        assert_eq!(s.kind("jpegPhoto"), ValueKind::Binary);
        assert_eq!(s.kind("objectGUID"), ValueKind::Guid);
        assert!(s.attribute("entryUUID").unwrap().single_valued);
        assert_eq!(s.kind("unknownAttribute"), ValueKind::String);
    }

    #[test]
    fn class_attributes_include_the_superiors() {
        let (must, may) = schema().class_attributes("groupofnames");
        assert_eq!(must, ["member", "cn", "objectClass"]);
        assert_eq!(may, ["businessCategory", "seeAlso", "owner"]);
    }
}
