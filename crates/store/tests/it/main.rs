//! Integration tests of the store crate: the store contract suite against SQLite on real
//! files, and SQLite-specific behaviour.

mod contract;
mod sqlite;
