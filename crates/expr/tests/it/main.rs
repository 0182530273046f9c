//! The integration tests of `expr`: one binary, one module per area.

mod api;
mod conformance;
mod docs;
mod functions;
mod properties;
