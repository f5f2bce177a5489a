//! The asynchronous invocations StartAsyncInvoke submitted (`async_invoke.rs` serves the
//! operations): each job's record, its status as time passes, and its description.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use aws_smithy_types::date_time::{DateTime, Format};
use serde_json::{json, Value};

/// How long a job runs before it completes.
pub const RUN_TIME: Duration = Duration::from_secs(1);
/// Invocations kept; past this the oldest is forgotten (a long-running emulator stays bounded).
const KEPT: usize = 1000;
pub const STATUSES: &[&str] = &["InProgress", "Completed", "Failed"];

/// One submitted job.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub arn: String,
    pub model_arn: String,
    pub token: String,
    /// A digest of the request, to tell a retry from a different request with the same token.
    pub digest: u64,
    pub submitted: SystemTime,
    pub output: Value,
}

impl Invocation {
    fn completed_at(&self) -> SystemTime {
        self.submitted + RUN_TIME
    }

    pub fn status(&self, now: SystemTime) -> &'static str {
        if now >= self.completed_at() {
            "Completed"
        } else {
            "InProgress"
        }
    }

    /// The job as GetAsyncInvoke and ListAsyncInvokes describe it at `now`.
    pub fn describe(&self, now: SystemTime) -> Value {
        let status = self.status(now);
        let mut job = json!({
            "invocationArn": self.arn,
            "modelArn": self.model_arn,
            "clientRequestToken": self.token,
            "status": status,
            "submitTime": timestamp(self.submitted),
            "lastModifiedTime": timestamp(self.submitted),
            "outputDataConfig": self.output,
        });
        if status == "Completed" {
            job["lastModifiedTime"] = json!(timestamp(self.completed_at()));
            job["endTime"] = json!(timestamp(self.completed_at()));
        }
        job
    }
}

/// The invocations submitted to this emulator.
#[derive(Debug, Default)]
pub struct AsyncInvocations(Mutex<VecDeque<Invocation>>);

impl AsyncInvocations {
    /// The jobs, oldest first.
    pub fn lock(&self) -> MutexGuard<'_, VecDeque<Invocation>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds `job` to `jobs` (the store's, locked), forgetting the oldest past [`KEPT`].
    pub fn keep(jobs: &mut VecDeque<Invocation>, job: Invocation) {
        if jobs.len() == KEPT {
            jobs.pop_front();
        }
        jobs.push_back(job);
    }
}

fn timestamp(at: SystemTime) -> String {
    DateTime::from(at).fmt(Format::DateTime).unwrap_or_default()
}
