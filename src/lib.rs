//! ba-harness: conformance and load testing for Better Auth-compatible servers.
//!
//! The binary (`src/main.rs`) only parses the command line and maps results to exit codes;
//! everything else lives here, pure protocol logic (`protocol`) apart from I/O.

pub mod assets;
pub mod bundled;
pub mod cache;
pub mod cleanup;
pub mod cli;
pub mod config;
pub mod conform;
pub mod deviations;
pub mod discovery;
pub mod error;
pub mod framework_app;
pub mod harvest;
pub mod http;
pub mod load;
pub mod next;
pub mod next_app;
pub mod protocol;
pub mod redact;
pub mod reference;
pub mod reference_release;
pub mod releases;
pub mod report;
pub mod resource_server;
pub mod rules;
pub mod snapshot;
pub mod target;
pub mod temp_dir;
pub mod test_user;
pub mod tls;
pub mod users_file;
