mod batch;
mod contract;
mod fan_out;
mod mailbox;
mod recipients;
mod support;
