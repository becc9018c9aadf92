//! Protocol knowledge as pure functions: no I/O, unit-tested, shared by every runner.

pub mod authorize;
pub mod challenge;
pub mod client_assertion;
pub mod cookie;
pub mod cookie_cache;
pub mod forge;
pub mod forms;
pub mod jwt;
pub mod oauth;
pub mod origin;
pub mod passive;
pub mod pkce;
pub mod promises;
pub mod rate_limit;
pub mod registration;
pub mod reset;
pub mod resource;
pub mod session;
pub mod should;
pub mod token_errors;
