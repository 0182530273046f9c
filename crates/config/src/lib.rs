//! The configuration: one TOML file (plus the files it includes) turned into a validated
//! [`Config`]. Loading collects every error in one pass; each points at `file:line:col`.
//!
//! `config` holds data only: it opens no connection and reads no secret until asked.

mod model_types;

pub use model_types::*;
