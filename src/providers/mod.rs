//! Presets for well-known identity providers: each returns the ordinary
//! builder with that provider's issuer, key location and claim rules filled
//! in, so you can add your own rules to it.
//!
//! | provider | preset |
//! |---|---|
//! | Google (ID tokens from Sign in with Google) | [`google::id_tokens`] |
//!
//! A preset is configuration over the general machinery (key sources,
//! issuers, audiences, requirements); see `ARCHITECTURE.md`, "Adding an
//! identity-provider preset". `jwt_layer::google` is an alias of
//! [`google`], kept for code written before this module was public.

#[cfg(feature = "remote-jwks")]
#[cfg_attr(docsrs, doc(cfg(feature = "remote-jwks")))]
pub mod google;
