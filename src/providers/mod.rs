//! Presets for well-known identity providers.

#[cfg(feature = "remote-jwks")]
pub mod google;
