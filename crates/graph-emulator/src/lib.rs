//! An emulator of Microsoft Graph v1.0 for Entra ID: the client-credentials token
//! endpoint, users, groups and membership, paging, `$select`/`$filter`, delta and the
//! identity-and-access throttling model.
//!
//! Tests start it in-process with [`Emulator::start`]; users run the
//! `idsync-graph-emulator` binary. See the crate README for what is emulated.

pub mod auth;
pub mod clock;
pub mod directory;
pub mod error;
pub mod exchange;
pub mod extensions;
pub mod licenses;
pub mod odata;
pub mod props;
pub mod roles;
mod routes;
pub mod schema;
pub mod server;
pub mod throttle;
pub mod tls;

pub use server::{ConnectionInfo, Emulator, EmulatorOptions, RunningEmulator, StartError, app};
pub use throttle::ThrottleLimits;
