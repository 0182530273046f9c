//! The LDAP connector against a real slapd started by testkit for each test.

mod ad;
mod contract;
mod contract_ad;
mod directory;
mod support;
