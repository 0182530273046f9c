//! The function registry: every function of both dialects, with its signature, its
//! documentation and its implementation. The docs (`docs/expressions.md`) are generated from
//! this table, and a test evaluates every example in it.
//!
//! Where the dialects give one name two meanings (Join, Switch, Replace, FormatDateTime,
//! PCase), each dialect has its own entry.

mod certificate;
mod convert;
mod date;
mod diacritics;
mod directory;
mod entitlement;
mod flow;
mod math;
mod multi;
mod predicates;
mod replace;
mod text;

use model::Value;

use crate::Dialect;
use crate::EvalError;
use crate::ast::Call;
use crate::eval::{Env, Ev};

/// One function of the language.
#[derive(Debug)]
pub struct Function {
    pub name: &'static str,
    pub dialects: Dialects,
    pub family: Family,
    /// The documented signature, e.g. `Join(separator, source1, source2, …)`.
    pub signature: &'static str,
    pub summary: &'static str,
    pub min_args: usize,
    /// `None` when the last parameter repeats without limit.
    pub max_args: Option<usize>,
    pub example: Example,
    pub(crate) imp: Imp,
}

/// A worked example. The docs test evaluates it with a fixed context (now 2021-07-02T15:33:38Z,
/// seed 0, default domain contoso.com, `%Forest.LDAP%` = `DC=fabrikam,DC=com`).
#[derive(Debug)]
pub struct Example {
    pub expression: &'static str,
    /// The attributes as a JSON object (`{"givenName": "John"}`), `{}` for none.
    pub attributes: &'static str,
    /// The result as JSON: a string, an array, `null`, or `{"ignored": true}` / `{"error": "…"}`.
    pub result: &'static str,
}

impl Example {
    /// The example's attributes. The certificate examples use `"certificate"`, which stands
    /// for `{"userCertificate": <a test certificate>}`.
    pub fn attributes(&self) -> Result<model::Attributes, String> {
        if self.attributes == "certificate" {
            return Ok(model::Attributes::new()
                .with("userCertificate", certificate::EXAMPLE_CERTIFICATE.trim()));
        }
        let json: serde_json::Value = serde_json::from_str(self.attributes)
            .map_err(|e| format!("{}: {e}", self.attributes))?;
        crate::json::attributes_from_json(&json)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialects {
    Provisioning,
    Connect,
    Both,
}

impl Dialects {
    pub fn includes(self, dialect: Dialect) -> bool {
        matches!(
            (self, dialect),
            (Dialects::Both, _)
                | (Dialects::Provisioning, Dialect::Provisioning)
                | (Dialects::Connect, Dialect::Connect)
        )
    }
}

/// Groups for the documentation, following the Connect reference's headings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    Text,
    Conversion,
    DateTime,
    Evaluation,
    MultiValued,
    ProgramFlow,
    Directory,
    Math,
    Entitlement,
    Certificate,
}

impl Family {
    pub fn title(self) -> &'static str {
        match self {
            Family::Text => "Text",
            Family::Conversion => "Conversion",
            Family::DateTime => "Date and time",
            Family::Evaluation => "Evaluation",
            Family::MultiValued => "Multi-valued attributes",
            Family::ProgramFlow => "Program flow",
            Family::Directory => "Directory names",
            Family::Math => "Math",
            Family::Entitlement => "Entitlements",
            Family::Certificate => "Certificates",
        }
    }
}

/// A single-value function: arguments in, one value (or none) out, or an error message.
pub(crate) type PerValueFn = fn(&Env<'_>, &[Option<&Value>]) -> Result<Option<Value>, String>;

/// How a function receives its arguments.
#[derive(Clone, Copy)]
pub(crate) enum Imp {
    /// Single values in, one value (or none) out; applied per value of multi-valued arguments.
    /// An empty slot or an absent attribute arrives as `None`.
    PerValue(PerValueFn),
    /// All arguments evaluated first, whole (for functions over multi-valued attributes).
    Whole(for<'a> fn(&Env<'a>, Vec<Ev<'a>>) -> Result<Ev<'a>, String>),
    /// The function evaluates its own arguments (IIF, Switch, Select…): only the branch
    /// taken runs, and loop variables can be bound.
    Lazy(for<'a> fn(&Env<'a>, &'a Call) -> Result<Ev<'a>, EvalError>),
}

impl std::fmt::Debug for Imp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Imp::PerValue(_) => "PerValue",
            Imp::Whole(_) => "Whole",
            Imp::Lazy(_) => "Lazy",
        })
    }
}

/// Every function of both dialects.
pub(crate) static ALL: &[&Function] = &[
    // Text
    &text::APPEND,
    &text::GUID,
    &text::IN_STR,
    &text::IN_STR_REV,
    &text::LCASE,
    &text::LEFT,
    &text::LEN,
    &text::LTRIM,
    &text::MID,
    &diacritics::NORMALIZE_DIACRITICS,
    &text::PAD_LEFT,
    &text::PAD_RIGHT,
    &text::PCASE_PROVISIONING,
    &text::PCASE_CONNECT,
    &text::RANDOM_STRING,
    &text::REDACT,
    &replace::REPLACE_PROVISIONING,
    &replace::REPLACE_CONNECT,
    &text::REPLACE_CHARS,
    &text::RIGHT,
    &text::RTRIM,
    &text::STRIP_SPACES,
    &text::TO_LOWER,
    &text::TO_UPPER,
    &text::TRIM,
    &text::UCASE,
    &text::WORD,
    // Conversion
    &convert::CBOOL,
    &convert::CDATE,
    &convert::CGUID,
    &convert::CNUM,
    &convert::CONVERT_FROM_BASE64,
    &convert::CONVERT_FROM_UTF8_HEX,
    &convert::CONVERT_TO_BASE64,
    &convert::CONVERT_TO_UTF8_HEX,
    &convert::CREF,
    &convert::CSTR,
    &convert::STRING_FROM_GUID,
    &convert::STRING_FROM_SID,
    // Date and time
    &date::DATE_ADD,
    &date::DATE_DIFF,
    &date::DATE_FROM_NUM,
    &date::FORMAT_DATE_TIME_PROVISIONING,
    &date::FORMAT_DATE_TIME_CONNECT,
    &date::NOW,
    &date::NUM_FROM_DATE,
    // Evaluation
    &predicates::IS_BIT_SET,
    &predicates::IS_DATE,
    &predicates::IS_EMPTY,
    &predicates::IS_GUID,
    &predicates::IS_NULL,
    &predicates::IS_NULL_OR_EMPTY,
    &predicates::IS_NUMERIC,
    &predicates::IS_PRESENT,
    &predicates::IS_STRING,
    &predicates::NOT,
    // Multi-valued
    &multi::COALESCE,
    &multi::CONTAINS,
    &multi::COUNT,
    &multi::ITEM,
    &multi::ITEM_OR_NULL,
    &multi::JOIN_PROVISIONING,
    &multi::JOIN_CONNECT,
    &multi::REMOVE_DUPLICATES,
    &multi::SPLIT,
    // Program flow
    &flow::DEFAULT_DOMAIN,
    &flow::ERROR,
    &flow::IGNORE_FLOW_IF_NULL_OR_EMPTY,
    &flow::IIF,
    &flow::SELECT,
    &flow::SELECT_UNIQUE_VALUE,
    &flow::SWITCH_PROVISIONING,
    &flow::SWITCH_CONNECT,
    &flow::WHERE,
    &flow::WITH,
    // Directory
    &directory::DN_COMPONENT,
    &directory::DN_COMPONENT_REV,
    &directory::ESCAPE_DN_COMPONENT,
    // Math
    &math::BIT_AND,
    &math::BIT_OR,
    &math::RANDOM_NUM,
    // Entitlements
    &entitlement::APP_ROLE_ASSIGNMENTS_COMPLEX,
    &entitlement::ASSERTIVE_APP_ROLE_ASSIGNMENTS_COMPLEX,
    &entitlement::SINGLE_APP_ROLE_ASSIGNMENT,
    // Certificates
    &certificate::CERT_EXTENSION_OIDS,
    &certificate::CERT_FORMAT,
    &certificate::CERT_FRIENDLY_NAME,
    &certificate::CERT_HASH_STRING,
    &certificate::CERT_ISSUER,
    &certificate::CERT_ISSUER_DN,
    &certificate::CERT_ISSUER_OID,
    &certificate::CERT_KEY_ALGORITHM,
    &certificate::CERT_KEY_ALGORITHM_PARAMS,
    &certificate::CERT_NAME_INFO,
    &certificate::CERT_NOT_AFTER,
    &certificate::CERT_NOT_BEFORE,
    &certificate::CERT_PUBLIC_KEY_OID,
    &certificate::CERT_PUBLIC_KEY_PARAMETERS_OID,
    &certificate::CERT_SERIAL_NUMBER,
    &certificate::CERT_SIGNATURE_ALGORITHM_OID,
    &certificate::CERT_SUBJECT,
    &certificate::CERT_SUBJECT_NAME_DN,
    &certificate::CERT_SUBJECT_NAME_OID,
    &certificate::CERT_THUMBPRINT,
    &certificate::CERT_VERSION,
    &certificate::IS_CERT,
];

/// The functions of one dialect, in registry order.
pub fn functions(dialect: Dialect) -> impl Iterator<Item = &'static Function> {
    ALL.iter()
        .copied()
        .filter(move |f| f.dialects.includes(dialect))
}

// ----- helpers shared by the families -----

/// The text of an argument; an absent argument is empty text.
pub(crate) fn text_or_empty(value: Option<&Value>) -> std::borrow::Cow<'_, str> {
    value.map_or(std::borrow::Cow::Borrowed(""), crate::value::text)
}

pub(crate) fn integer_arg(value: Option<&Value>, what: &str) -> Result<i64, String> {
    let value = value.ok_or_else(|| format!("{what} is missing"))?;
    crate::value::integer(value).ok_or_else(|| {
        format!(
            "{what} must be a whole number, got {:?}",
            crate::value::text(value)
        )
    })
}

pub(crate) fn optional_integer(value: Option<&Value>, what: &str) -> Result<Option<i64>, String> {
    match value {
        None => Ok(None),
        Some(v) if crate::value::is_empty(v) => Ok(None),
        some => integer_arg(some, what).map(Some),
    }
}

pub(crate) fn boolean(b: bool) -> Option<Value> {
    Some(Value::Boolean(b))
}

pub(crate) fn string(s: impl Into<String>) -> Option<Value> {
    Some(Value::String(s.into()))
}
