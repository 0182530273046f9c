//! The Entra ID connector against the Graph emulator, started in-process on loopback.

mod contract;
mod export;
mod support;
