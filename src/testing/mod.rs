//! Test kit (being written).

mod server;
pub use server::*;
