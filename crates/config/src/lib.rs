//! The configuration: one TOML file (plus the files it includes) turned into a validated
//! [`Config`]. Loading collects every error in one pass; each points at `file:line:col`.
//!
//! `config` holds data only: it opens no connection and reads no secret until asked.
//!
//! The stages, each in its own module: `reader` walks the parsed TOML keeping spans,
//! `raw` reads each table into its written shape (syntax: types, missing and unknown
//! keys), `validate` checks the meaning (references, expressions, ranges) and builds the
//! [`Config`]; `diagnostic` renders what went wrong.

mod diagnostic;
mod duration;
mod exchange_types;
mod graph_types;
mod include;
mod load;
mod model_types;
mod raw;
mod reader;
mod starter;
mod strspan;
mod suggest;
mod validate;

pub use diagnostic::{Diagnostic, Diagnostics};
pub use duration::{DurationError, parse_duration};
pub use exchange_types::*;
pub use graph_types::*;
pub use load::{load, load_str};
pub use model_types::*;
pub use starter::starter_config;
