//! `bench`: what the plugin boundary costs against the AWS SDK called directly, on a stream
//! (`stream`) or on a batch of embeddings (`embeddings`), with the measuring tools they share.

mod embeddings;
mod measure;
mod stream;

use crate::cli::{BenchArgs, GlobalOpts};
use crate::error::CliResult;

pub fn run(global: &GlobalOpts, args: &BenchArgs) -> CliResult {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build of host-demo, so the figures say little about \
             release performance: cargo build --release -p bedrock-plugin -p host-demo, then \
             target/release/host-demo bench"
        );
    }
    if args.embeddings {
        embeddings::run(global, args)
    } else {
        stream::run(global, args)
    }
}
