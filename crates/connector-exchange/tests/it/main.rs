mod batch;
mod contract;
mod mailbox;
mod support;
