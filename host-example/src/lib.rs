//! The `sigv4` command line's library: the signing-case format shared by every runtime's CLI,
//! and the location of the AWS signing test suite.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod case;
pub mod suite;
