mod contract;
mod mailbox;
mod support;
