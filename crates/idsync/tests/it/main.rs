//! End-to-end tests of the `idsync` binary on real files and a real SQLite store in a
//! temporary directory.

mod active_directory;
mod bad_input;
mod crash;
mod entra;
mod exchange;
mod forests;
mod guard;
mod ldap;
mod lifecycle;
mod precedence;
mod quarantine;
mod support;
mod target_down;
mod unique;
