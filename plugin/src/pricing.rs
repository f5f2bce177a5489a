//! What a call costs: the model's rates (configured by hand, else from the model table, with
//! a geographic profile's premium), applied to the usage the service reported, cache writes
//! priced by their time to live.

use host_sdk::{ModelCost, Usage};

use crate::model_facts::ModelTable;

/// The rates for one model id, per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pricing {
    /// Input, output, cache read and five-minute cache write.
    pub rates: ModelCost,
    /// Cache writes with the one-hour ttl.
    pub cache_write_1h: f64,
}

impl Pricing {
    /// The rates for invoking `id`, whose rules are `base`'s: the configured `cost` when it
    /// names any price, else `facts`'; `None` when neither knows.
    pub fn for_model(
        id: &str,
        base: &str,
        configured: Option<ModelCost>,
        facts: &ModelTable,
    ) -> Option<Pricing> {
        let table = facts.lookup(base).map(|f| f.prices);
        if let Some(rates) = configured.filter(|c| *c != ModelCost::default()) {
            // A hand-set price list has one cache-write rate; the table's ratio gives the
            // one-hour rate when the model has one.
            let cache_write_1h = table
                .filter(|t| t.cache_write > 0.0 && t.cache_write_1h > 0.0)
                .map_or(rates.cache_write, |t| {
                    rates.cache_write * t.cache_write_1h / t.cache_write
                });
            return Some(Pricing {
                rates,
                cache_write_1h,
            });
        }
        let table = table?;
        Some(Pricing {
            rates: table.for_id(id),
            cache_write_1h: table.cache_write_1h_for_id(id),
        })
    }

    /// The cost in US dollars of `usage`, of whose cache writes `cache_write_1h_tokens` had the
    /// one-hour ttl.
    pub fn cost_usd(&self, usage: &Usage, cache_write_1h_tokens: u64) -> f64 {
        let r = &self.rates;
        let one_hour = cache_write_1h_tokens.min(usage.cache_write_tokens);
        (usage.input_tokens as f64 * r.input
            + usage.output_tokens as f64 * r.output
            + usage.cache_read_tokens as f64 * r.cache_read
            + (usage.cache_write_tokens - one_hour) as f64 * r.cache_write
            + one_hour as f64 * self.cache_write_1h)
            / 1_000_000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SONNET: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";

    fn usage(cache_write_tokens: u64) -> Usage {
        Usage {
            input_tokens: 1_000_000,
            output_tokens: 500_000,
            total_tokens: 1_500_000,
            cache_read_tokens: 2_000_000,
            cache_write_tokens,
        }
    }

    #[test]
    fn cost_uses_every_rate_per_million() {
        let p = Pricing::for_model(SONNET, SONNET, None, ModelTable::built_in()).unwrap();
        let c = p.cost_usd(&usage(0), 0);
        assert!((c - (3.0 + 7.5 + 0.6)).abs() < 1e-9, "{c}");
    }

    #[test]
    fn one_hour_cache_writes_cost_more_than_five_minute_ones() {
        let p = Pricing::for_model(SONNET, SONNET, None, ModelTable::built_in()).unwrap();
        let five = p.cost_usd(&usage(1_000_000), 0);
        let hour = p.cost_usd(&usage(1_000_000), 1_000_000);
        assert!((hour - five - (6.0 - 3.75)).abs() < 1e-9, "{five} {hour}");
    }

    #[test]
    fn a_geographic_profile_pays_its_premium_and_a_configured_price_wins() {
        let us = format!("us.{SONNET}");
        let p = Pricing::for_model(&us, SONNET, None, ModelTable::built_in()).unwrap();
        assert!((p.rates.input - 3.3).abs() < 1e-9, "{p:?}");
        let mine = ModelCost {
            input: 1.0,
            output: 2.0,
            cache_read: 0.1,
            cache_write: 1.25,
        };
        let p = Pricing::for_model(&us, SONNET, Some(mine), ModelTable::built_in()).unwrap();
        assert_eq!(p.rates, mine);
        assert!((p.cache_write_1h - 2.0).abs() < 1e-9, "{p:?}");
        assert_eq!(
            Pricing::for_model(
                "vendor.unknown",
                "vendor.unknown",
                None,
                ModelTable::built_in()
            ),
            None
        );
        assert_eq!(
            Pricing::for_model(
                "vendor.unknown",
                "vendor.unknown",
                Some(ModelCost::default()),
                ModelTable::built_in()
            ),
            None
        );
    }
}
