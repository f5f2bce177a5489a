//! Prompt caching: where cache points go and with which retention, as the model family allows.

use aws_sdk_bedrockruntime::types::{
    self as bt, CachePointBlock, CachePointType, CacheTtl, ConversationRole,
};
use host_sdk::{CacheRetention, ConverseRequest};

use crate::model_facts::Caching;

pub(super) fn cache_ttl(req: &ConverseRequest, caching: Caching) -> Option<CacheTtl> {
    let retention = req.cache.map(|c| c.retention).unwrap_or_default();
    if !caching.enabled() {
        return None;
    }
    match retention {
        CacheRetention::None => None,
        CacheRetention::Short => Some(CacheTtl::FiveMinutes),
        // Models without the one-hour ttl would reject it: they get the default retention.
        CacheRetention::Long if caching.one_hour() => Some(CacheTtl::OneHour),
        CacheRetention::Long => {
            tracing::debug!(
                "model `{}` has no one-hour cache retention; using the default",
                req.model
            );
            Some(CacheTtl::FiveMinutes)
        }
    }
}

pub(super) fn cache_point(ttl: &CacheTtl) -> CachePointBlock {
    let mut b = CachePointBlock::builder().r#type(CachePointType::Default);
    // The default (five minutes) is sent without a ttl, as the service documents it.
    if *ttl == CacheTtl::OneHour {
        b = b.ttl(CacheTtl::OneHour);
    }
    b.build().expect("type is set")
}

pub(super) fn add_cache_point_to_last_user_message(messages: &mut [bt::Message], ttl: &CacheTtl) {
    if let Some(last_user) = messages
        .iter_mut()
        .rev()
        .find(|m| m.role() == &ConversationRole::User)
    {
        let mut content = last_user.content().to_vec();
        content.push(bt::ContentBlock::CachePoint(cache_point(ttl)));
        if let Ok(m) = bt::Message::builder()
            .role(ConversationRole::User)
            .set_content(Some(content))
            .build()
        {
            *last_user = m;
        }
    }
}
