//! The signing-case format shared by every runtime's `sigv4 sign --case` (the layout of the AWS
//! signing test suite: `context.json` + `request.txt`), and where that suite's cases are.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod case;
pub mod suite;

pub use case::{Case, RawRequest, SignatureLocation};
