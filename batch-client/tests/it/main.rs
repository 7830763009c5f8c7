//! Integration tests of batch-client: loopback servers only, no other network.

mod entra;
mod examples;
mod idempotent;
mod schema;
mod server;
mod signing;
mod transport;
