//! The plugin's one tokio runtime, shared by every provider instance in the process.
//!
//! Hosts may have their own runtime, several, or none; the plugin never runs on (or blocks)
//! theirs. All network I/O happens here and reaches the host only through callbacks, so
//! hundreds of concurrent streams cost tasks, not threads.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::Runtime;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The shared runtime, created on first use.
pub fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        let workers = std::env::var("BEDROCK_PLUGIN_WORKER_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get().clamp(2, 8))
                    .unwrap_or(2)
            });
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("bedrock-plugin")
            .enable_all()
            .build()
            // Without a runtime the plugin can do nothing; this only fails when the OS refuses
            // threads, and the panic is caught at the boundary and reported as `internal`.
            .expect("the Bedrock plugin could not start its tokio runtime")
    })
}

/// Runs `future` on the shared runtime.
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    runtime().spawn(future)
}
