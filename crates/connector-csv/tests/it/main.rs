//! The CSV connector against real files in temporary directories.

mod contract;
mod export;
mod import;
mod support;
