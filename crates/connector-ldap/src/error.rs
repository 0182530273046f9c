//! LDAP result codes, classified: what may succeed later, what will not as it is.

use ldap3::LdapResult;

pub enum Failure {
    /// Busy, unavailable, a time limit: try again later.
    Transient(String),
    /// Rejected by the directory's rules (schema, constraint, access, already exists).
    Permanent(String),
}

/// The name RFC 4511 gives a result code.
pub fn code_name(rc: u32) -> &'static str {
    match rc {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        8 => "strongerAuthRequired",
        10 => "referral",
        11 => "adminLimitExceeded",
        12 => "unavailableCriticalExtension",
        13 => "confidentialityRequired",
        16 => "noSuchAttribute",
        17 => "undefinedAttributeType",
        18 => "inappropriateMatching",
        19 => "constraintViolation",
        20 => "attributeOrValueExists",
        21 => "invalidAttributeSyntax",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        54 => "loopDetect",
        64 => "namingViolation",
        65 => "objectClassViolation",
        66 => "notAllowedOnNonLeaf",
        67 => "notAllowedOnRDN",
        68 => "entryAlreadyExists",
        69 => "objectClassModsProhibited",
        71 => "affectsMultipleDSAs",
        80 => "other",
        4096 => "e-syncRefreshRequired",
        _ => "unknown result code",
    }
}

/// `objectClassViolation (65): object class 'inetOrgPerson' requires attribute 'sn'`.
pub fn describe(result: &LdapResult) -> String {
    let text = result.text.trim();
    if text.is_empty() {
        format!("{} ({})", code_name(result.rc), result.rc)
    } else {
        format!("{} ({}): {text}", code_name(result.rc), result.rc)
    }
}

pub fn ldap_failure(result: &LdapResult) -> Failure {
    let reason = describe(result);
    match result.rc {
        3 | 51 | 52 => Failure::Transient(reason),
        _ => Failure::Permanent(reason),
    }
}

/// A failure of the operation that is not the server's answer (the connection dropped,
/// the operation timed out) is always transient.
pub fn error_failure(error: &ldap3::LdapError) -> Failure {
    match error {
        ldap3::LdapError::LdapResult { result } => ldap_failure(result),
        other => Failure::Transient(other.to_string()),
    }
}
