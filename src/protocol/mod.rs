//! Protocol knowledge as pure functions: no I/O, unit-tested, shared by every runner.

pub mod cookie;
pub mod session;
