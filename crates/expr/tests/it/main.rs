//! The integration tests of `expr`: one binary, one module per area.

mod conformance;
mod docs;
