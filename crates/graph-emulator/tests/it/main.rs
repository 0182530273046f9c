//! Drives the emulator over real HTTP, as a Graph client would.

mod auth;
mod batch;
mod binary;
mod certificate;
mod consistency;
mod deleted;
mod delta;
mod domains;
mod exchange;
mod exchange_permissions;
mod expiry;
mod extensions;
mod faults;
mod groups;
mod https;
mod inspection;
mod licenses;
mod manager;
mod navigation;
mod owners_guests;
mod queries;
mod roles;
mod sdk_fidelity;
mod support;
mod throttling;
mod users;
