//! Helpers for plugin authors: every `extern "C"` entry point and every callback a plugin
//! makes must be guarded, because a panic reaching an `extern "C"` boundary aborts the host.
//! (The shims `#[sabi_trait]` generates for trait methods are `extern "C"` too: a panic in a
//! `Provider` method aborts the host.)
//!
//! [`guard`] wraps one entry point; [`GuardedProvider`] wraps a whole [`Provider`]
//! implementation so that none of its methods can be forgotten.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr, RString, RVec};

use crate::contract::{
    AuthStatus, AuthStatusReply, AuthStatusReplyBox, AuthStatusReply_TO, DocumentReply,
    DocumentReplyBox, DocumentReply_TO, EmbeddingVectors, EmbeddingsReply, EmbeddingsReplyBox,
    EmbeddingsReply_TO, EventSinkBox, ModelInfo, ModelsReply, ModelsReplyBox, ModelsReply_TO,
    Provider, ProviderError, ProviderMetadata, StreamControlBox, TokenCountReply,
    TokenCountReplyBox, TokenCountReply_TO,
};
use crate::error::ErrorKind;

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".into())
}

/// Runs `f`, turning a panic into an `internal` [`ProviderError`].
pub fn guard<T>(
    what: &str,
    f: impl FnOnce() -> Result<T, ProviderError>,
) -> RResult<T, ProviderError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result.into(),
        Err(payload) => RResult::RErr(panic_error(what, payload.as_ref())),
    }
}

/// The error reported for a panic caught inside a plugin.
pub fn panic_error(what: &str, payload: &(dyn std::any::Any + Send)) -> ProviderError {
    ProviderError::new(
        ErrorKind::Internal.code(),
        format!(
            "the plugin panicked in {what}: {} (this is a plugin bug; please report it)",
            panic_message(payload)
        ),
        false,
    )
}

/// A [`Provider`] whose every method runs under [`guard`]: export
/// `Provider_TO::from_value(GuardedProvider::new(mine)?, TD_Opaque)` and no panic of `mine`
/// reaches the host.
///
/// What the host sees when the wrapped provider panics, per method:
/// - `converse_stream`: the call returns an `internal` error (the stream never started);
/// - `list_models`, `auth_status`, `count_tokens`, `embed`, `list_embedding_models`, `model_provenance`: the reply is answered with an `internal` error, also when
///   the provider dropped the reply without answering;
/// - `config_warnings`, `take_notices`: one line saying what panicked (they return lists);
/// - `metadata`: asked once, in [`GuardedProvider::new`], and kept.
///
/// Only the calls are guarded, not the events of a stream: the per-event path stays direct,
/// and a provider's own stream tasks must catch their panics (and then end the stream).
pub struct GuardedProvider<P> {
    inner: P,
    metadata: ProviderMetadata,
}

impl<P: Provider> GuardedProvider<P> {
    /// Wraps `inner`; fails with an `internal` error if its `metadata` panics.
    pub fn new(inner: P) -> Result<Self, ProviderError> {
        let metadata = guard("metadata", || Ok(inner.metadata())).into_result()?;
        Ok(Self { inner, metadata })
    }

    /// The wrapped provider.
    pub fn inner(&self) -> &P {
        &self.inner
    }

    fn lines(&self, what: &str, f: impl FnOnce(&P) -> RVec<RString>) -> RVec<RString> {
        match guard(what, || Ok(f(&self.inner))) {
            RResult::ROk(lines) => lines,
            RResult::RErr(e) => RVec::from(vec![RString::from(format!(
                "internal error: {}",
                e.message
            ))]),
        }
    }
}

impl<P: Provider> Provider for GuardedProvider<P> {
    fn metadata(&self) -> ProviderMetadata {
        self.metadata.clone()
    }

    fn list_models(&self, reply: ModelsReplyBox) {
        let (slot, handed) = ReplySlot::pair(reply, "list_models");
        let handed = ModelsReply_TO::from_value(handed, TD_Opaque);
        slot.run(|| self.inner.list_models(handed));
    }

    fn converse_stream(
        &self,
        request_json: RStr<'_>,
        sink: EventSinkBox,
    ) -> RResult<StreamControlBox, ProviderError> {
        guard("converse_stream", || {
            self.inner.converse_stream(request_json, sink).into_result()
        })
    }

    fn auth_status(&self, reply: AuthStatusReplyBox) {
        let (slot, handed) = ReplySlot::pair(reply, "auth_status");
        let handed = AuthStatusReply_TO::from_value(handed, TD_Opaque);
        slot.run(|| self.inner.auth_status(handed));
    }

    fn config_warnings(&self) -> RVec<RString> {
        self.lines("config_warnings", P::config_warnings)
    }

    fn take_notices(&self) -> RVec<RString> {
        self.lines("take_notices", P::take_notices)
    }

    fn count_tokens(&self, request_json: RStr<'_>, reply: TokenCountReplyBox) {
        let (slot, handed) = ReplySlot::pair(reply, "count_tokens");
        let handed = TokenCountReply_TO::from_value(handed, TD_Opaque);
        slot.run(|| self.inner.count_tokens(request_json, handed));
    }

    fn embed(&self, request_json: RStr<'_>, reply: EmbeddingsReplyBox) {
        let (slot, handed) = ReplySlot::pair(reply, "embed");
        let handed = EmbeddingsReply_TO::from_value(handed, TD_Opaque);
        slot.run(|| self.inner.embed(request_json, handed));
    }

    fn list_embedding_models(&self, reply: DocumentReplyBox) {
        let (slot, handed) = ReplySlot::pair(reply, "list_embedding_models");
        let handed = DocumentReply_TO::from_value(handed, TD_Opaque);
        slot.run(|| self.inner.list_embedding_models(handed));
    }

    fn model_provenance(&self, reply: DocumentReplyBox) {
        let (slot, handed) = ReplySlot::pair(reply, "model_provenance");
        let handed = DocumentReply_TO::from_value(handed, TD_Opaque);
        slot.run(|| self.inner.model_provenance(handed));
    }
}

/// Holds the host's reply until the provider answers, so that exactly one answer reaches
/// the host: the provider's, or an `internal` error when it panicked or dropped the reply.
/// The guard keeps one copy, the provider gets the other.
struct ReplySlot<R: Reply> {
    shared: Arc<SlotState<R>>,
    /// The provider's copy (answers when dropped unanswered), not the guard's.
    handed: bool,
}

struct SlotState<R> {
    reply: Mutex<Option<R>>,
    what: &'static str,
    /// The thread running the guarded call, while it runs: a panic there is answered by the
    /// guard, with the panic's message.
    guarding: Mutex<Option<std::thread::ThreadId>>,
}

impl<R: Reply> ReplySlot<R> {
    /// The guard's copy and the provider's copy.
    fn pair(reply: R, what: &'static str) -> (Self, Self) {
        let shared = Arc::new(SlotState {
            reply: Mutex::new(Some(reply)),
            what,
            guarding: Mutex::new(Some(std::thread::current().id())),
        });
        let handed = Self {
            shared: shared.clone(),
            handed: true,
        };
        (
            Self {
                shared,
                handed: false,
            },
            handed,
        )
    }

    /// Runs the guarded call, answering with its panic if it panicked.
    fn run(self, call: impl FnOnce()) {
        let outcome = guard(self.shared.what, || {
            call();
            Ok(())
        });
        *lock(&self.shared.guarding) = None;
        if let RResult::RErr(e) = outcome {
            self.answer(RResult::RErr(e));
        }
    }

    fn answer(&self, result: RResult<R::Value, ProviderError>) {
        let reply = lock(&self.shared.reply).take();
        if let Some(reply) = reply {
            reply.send(result);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The reply boxes of the contract, answered alike.
trait Reply {
    type Value;
    fn send(self, result: RResult<Self::Value, ProviderError>);
}

impl Reply for ModelsReplyBox {
    type Value = RVec<ModelInfo>;
    fn send(self, result: RResult<RVec<ModelInfo>, ProviderError>) {
        self.reply(result)
    }
}

impl Reply for AuthStatusReplyBox {
    type Value = AuthStatus;
    fn send(self, result: RResult<AuthStatus, ProviderError>) {
        self.reply(result)
    }
}

impl Reply for TokenCountReplyBox {
    type Value = u64;
    fn send(self, result: RResult<u64, ProviderError>) {
        self.reply(result)
    }
}

impl Reply for EmbeddingsReplyBox {
    type Value = EmbeddingVectors;
    fn send(self, result: RResult<EmbeddingVectors, ProviderError>) {
        self.reply(result)
    }
}

impl Reply for DocumentReplyBox {
    type Value = RString;
    fn send(self, result: RResult<RString, ProviderError>) {
        self.reply(result)
    }
}

impl EmbeddingsReply for ReplySlot<EmbeddingsReplyBox> {
    fn reply(self, result: RResult<EmbeddingVectors, ProviderError>) {
        self.answer(result);
    }
}

impl DocumentReply for ReplySlot<DocumentReplyBox> {
    fn reply(self, result: RResult<RString, ProviderError>) {
        self.answer(result);
    }
}

impl TokenCountReply for ReplySlot<TokenCountReplyBox> {
    fn reply(self, result: RResult<u64, ProviderError>) {
        self.answer(result);
    }
}

impl ModelsReply for ReplySlot<ModelsReplyBox> {
    fn reply(self, result: RResult<RVec<ModelInfo>, ProviderError>) {
        self.answer(result);
    }
}

impl AuthStatusReply for ReplySlot<AuthStatusReplyBox> {
    fn reply(self, result: RResult<AuthStatus, ProviderError>) {
        self.answer(result);
    }
}

impl<R: Reply> Drop for ReplySlot<R> {
    fn drop(&mut self) {
        if !self.handed {
            return;
        }
        let panicking = std::thread::panicking();
        let guard_answers =
            panicking && *lock(&self.shared.guarding) == Some(std::thread::current().id());
        if guard_answers {
            return;
        }
        let what = self.shared.what;
        let how = if panicking {
            "panicked before answering"
        } else {
            "dropped its reply without answering"
        };
        self.answer(RResult::RErr(ProviderError::new(
            ErrorKind::Internal.code(),
            format!("the plugin {how} in {what} (this is a plugin bug; please report it)"),
            false,
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Provider_TO;
    use crate::{ConverseRequest, SinkFlow};

    /// A provider with a bug in every entry point.
    struct Broken {
        /// Drop replies unanswered instead of panicking (in a task of its own for `true`).
        drop_replies: Option<bool>,
    }

    impl Provider for Broken {
        fn metadata(&self) -> ProviderMetadata {
            ProviderMetadata {
                provider_id: "broken".into(),
                api: "none".into(),
                auth: "none".into(),
                display_name: "Broken".into(),
                plugin_version: "0".into(),
                contract_version: crate::CONTRACT_VERSION.into(),
                capabilities: RVec::new(),
            }
        }
        fn list_models(&self, reply: ModelsReplyBox) {
            match self.drop_replies {
                Some(true) => drop(std::thread::spawn(move || drop(reply)).join()),
                Some(false) => drop(reply),
                None => panic!("list_models exploded"),
            }
        }
        fn converse_stream(
            &self,
            _request_json: RStr<'_>,
            _sink: EventSinkBox,
        ) -> RResult<StreamControlBox, ProviderError> {
            panic!("converse_stream exploded")
        }
        fn auth_status(&self, reply: AuthStatusReplyBox) {
            if self.drop_replies.is_some() {
                drop(reply);
                return;
            }
            panic!("auth_status exploded")
        }
        fn config_warnings(&self) -> RVec<RString> {
            panic!("config_warnings exploded")
        }
        fn take_notices(&self) -> RVec<RString> {
            panic!("take_notices exploded")
        }
        fn count_tokens(&self, _request_json: RStr<'_>, reply: TokenCountReplyBox) {
            if self.drop_replies.is_some() {
                drop(reply);
                return;
            }
            panic!("count_tokens exploded")
        }
    }

    fn host_side(drop_replies: Option<bool>) -> crate::Provider {
        let guarded = GuardedProvider::new(Broken { drop_replies }).unwrap();
        crate::Provider::from_raw(Provider_TO::from_value(guarded, TD_Opaque))
    }

    fn quiet<T>(f: impl FnOnce() -> T) -> T {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let out = f();
        std::panic::set_hook(hook);
        out
    }

    #[test]
    fn a_panic_in_every_entry_point_becomes_an_internal_error() {
        let provider = host_side(None);
        quiet(|| {
            let e = provider.list_models().unwrap_err();
            assert_eq!(e.kind, ErrorKind::Internal);
            assert!(e.message.contains("list_models exploded"), "{e}");

            let e = provider.auth_status().unwrap_err();
            assert_eq!(e.kind, ErrorKind::Internal);
            assert!(e.message.contains("auth_status exploded"), "{e}");

            let request = ConverseRequest::user_text("m", "hi");
            let e = provider
                .converse(&request, |_| SinkFlow::Continue)
                .unwrap_err();
            assert_eq!(e.kind(), &ErrorKind::Internal);
            assert!(e.error.message.contains("converse_stream exploded"), "{e}");

            let warnings = provider.config_warnings();
            assert_eq!(warnings.len(), 1);
            assert!(warnings[0].starts_with("internal error: "), "{warnings:?}");
            assert!(warnings[0].contains("config_warnings exploded"));
            let notices = provider.take_notices();
            assert!(notices[0].contains("take_notices exploded"), "{notices:?}");

            let e = provider.count_tokens(&request).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Internal);
            assert!(e.message.contains("count_tokens exploded"), "{e}");
        });
        // The provider still answers afterwards.
        assert_eq!(provider.metadata().provider_id.as_str(), "broken");
    }

    #[test]
    fn a_reply_dropped_unanswered_is_answered_for_the_plugin() {
        for on_another_thread in [false, true] {
            let provider = host_side(Some(on_another_thread));
            let e = provider.list_models().unwrap_err();
            assert_eq!(e.kind, ErrorKind::Internal);
            assert!(e.message.contains("without answering"), "{e}");
        }
        let e = host_side(Some(false)).auth_status().unwrap_err();
        assert!(e.message.contains("auth_status"), "{e}");
        let request = ConverseRequest::user_text("m", "hi");
        let e = host_side(Some(false)).count_tokens(&request).unwrap_err();
        assert!(e.message.contains("count_tokens"), "{e}");
    }
}
