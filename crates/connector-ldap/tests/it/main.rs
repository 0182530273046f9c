//! The LDAP connector against a real slapd started by testkit for each test.

mod contract;
mod directory;
mod support;
