//! The `ansinh.v1` gRPC API: the code generated from `proto/ansinh/v1/` and the conversions
//! between its messages and the domain model. Nothing here talks to a database or decides a
//! domain rule; the server wires these types to the store.

#[allow(clippy::all, clippy::pedantic, missing_docs, unused_qualifications)]
pub mod pb {
    tonic::include_proto!("ansinh.v1");

    /// The encoded file descriptor set of `ansinh.v1`, for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/ansinh_v1_descriptor.bin"));
}

pub mod convert;
