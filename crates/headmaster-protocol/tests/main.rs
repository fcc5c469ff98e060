//! Integration tests of headmaster-protocol: chain tampering, chain properties, the OCSF
//! mapping against the schema files, and export bundles checked with stock OpenSSH and
//! coreutils.

mod bundle_export;
mod bundle_tamper;
mod chain_props;
mod chain_tamper;
mod ocsf_schema;
mod schema;
mod segment;
mod support;
