//! The plugin's tokio runtime, shared by every provider instance in the process while any
//! exists.
//!
//! Hosts may have their own runtime, several, or none; the plugin never runs on (or blocks)
//! theirs. All network I/O happens here and reaches the host only through callbacks, so
//! hundreds of concurrent streams cost tasks, not threads.
//!
//! Each provider holds a lease on the runtime, and every task it spawns holds the provider;
//! when the last lease goes (a host dropped its providers, say after replacing this plugin
//! with a newer build), the runtime shuts down and its threads end. The next provider starts
//! a new one. A host that reloads plugins therefore keeps no idle threads of old builds.

use std::future::Future;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::runtime::Runtime;

/// The runtime while any lease holds it.
static SHARED: Mutex<Weak<Shared>> = Mutex::new(Weak::new());

struct Shared(Option<Runtime>);

impl Drop for Shared {
    fn drop(&mut self) {
        let Some(runtime) = self.0.take() else {
            return;
        };
        // The last lease may go on one of the runtime's own threads (a task that held the
        // last provider), where a runtime cannot be dropped: shut it down from a thread of
        // its own, which waits briefly for the tasks being polled.
        let shut_down = std::thread::Builder::new()
            .name("bedrock-plugin-shutdown".into())
            .spawn(move || runtime.shutdown_timeout(Duration::from_secs(5)));
        if let Err(e) = shut_down {
            tracing::warn!("the plugin's runtime is left running: no thread to stop it ({e})");
        }
    }
}

/// A provider's hold on the shared runtime.
#[derive(Clone)]
pub struct RuntimeLease(Arc<Shared>);

impl RuntimeLease {
    /// A lease on the running runtime, or on a new one.
    pub fn acquire() -> Self {
        let mut shared = SHARED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(running) = shared.upgrade() {
            return Self(running);
        }
        let running = Arc::new(Shared(Some(build())));
        *shared = Arc::downgrade(&running);
        Self(running)
    }

    /// Runs `future` on the runtime.
    pub fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.0 .0 {
            Some(runtime) => runtime.spawn(future),
            // Only a dropped `Shared` has no runtime, and a lease keeps it alive.
            None => unreachable!("a leased runtime is running"),
        }
    }
}

fn build() -> Runtime {
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
}
