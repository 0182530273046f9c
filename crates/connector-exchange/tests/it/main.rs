mod batch;
mod contract;
mod mailbox;
mod recipients;
mod support;
