//! What is known about each model on Bedrock, from one data table the crate embeds
//! (`data/models.tsv`: reviewable, dated, with its sources in its header): context window,
//! output limit, input modalities, how reasoning is requested, prompt-caching rules and
//! prices. ListFoundationModels says none of this; models without a row get the configured
//! defaults and no price. A user's own table in the same format (`modelTable`) is merged over
//! the embedded one, so a model newer than the plugin needs no new build; every row keeps the
//! table it came from and the date that table says its facts were checked.

use std::sync::{Arc, OnceLock};

use host_sdk::ModelCost;

/// The table, as the crate was built with it.
const TABLE: &str = include_str!("../data/models.tsv");

/// The name the embedded table goes by where facts say their origin.
pub const BUILT_IN: &str = "built-in";

/// How a model takes reasoning settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasoningStyle {
    /// Reasoning is not configurable (or not supported).
    None,
    /// Anthropic `thinking: {type: "enabled", budget_tokens}`; `interleaved` when the model
    /// can also think between tool calls (Claude 4 models, with a beta flag).
    AnthropicBudget { interleaved: bool },
    /// Anthropic `thinking: {type: "adaptive"}` with the effort level in Converse's own
    /// `outputConfig.effort` (Claude Opus 4.6, Sonnet 4.6 and later). `summarize` is set for
    /// the models whose default reasoning display is `omitted` (Opus 4.7 and later): they only
    /// return visible reasoning when asked for `display: "summarized"`.
    AnthropicAdaptive { summarize: bool },
    /// Amazon Nova 2: `reasoningConfig: {type: "enabled", maxReasoningEffort}`.
    NovaEffort,
    /// OpenAI's open-weight models: `reasoning_effort` (low, medium, high).
    OpenAiEffort,
    /// GPT-5.6 and later on Converse: `reasoning: {effort}` (low … max), as in OpenAI's
    /// Responses API; the flat `reasoning_effort` is an unknown parameter to them.
    OpenAiNestedEffort,
    /// xAI's Grok on the Responses API: `reasoning: {effort}`, temperature and top_p taken
    /// while it reasons. Grok 4.3 takes none to high (`none` turns reasoning off); from Grok
    /// 4.6 (`high_levels`) it always reasons, at low to xhigh.
    XaiEffort { high_levels: bool },
    /// The model always reasons and returns it (DeepSeek R1, Kimi K2 Thinking): nothing to
    /// request.
    Always,
}

impl ReasoningStyle {
    /// The `reasoning.effort` levels the model takes on the Responses API.
    pub fn responses_efforts(self) -> &'static [&'static str] {
        match self {
            ReasoningStyle::XaiEffort { high_levels: false } => &["none", "low", "medium", "high"],
            ReasoningStyle::XaiEffort { high_levels: true } => &["low", "medium", "high", "xhigh"],
            _ => &["none", "low", "medium", "high", "xhigh"],
        }
    }

    /// Whether temperature and top_p go with reasoning on the Responses API (OpenAI's
    /// reasoning models take them only with the effort `none`).
    pub fn samples_while_reasoning(self) -> bool {
        matches!(self, ReasoningStyle::XaiEffort { .. })
    }
}

/// Which of Bedrock's inference APIs a model answers on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// ConverseStream (the SDK's).
    Converse,
    /// The OpenAI-compatible Responses API on Mantle (`/openai/v1/responses`): the models
    /// that support neither Converse nor InvokeModel (GPT-5.4, GPT-5.5).
    Responses,
}

impl Api {
    /// The API a configuration names (pi-ai's names for them), if this plugin speaks it.
    pub fn from_config_name(name: &str) -> Option<Api> {
        match name {
            "bedrock-converse-stream" => Some(Api::Converse),
            "openai-responses" => Some(Api::Responses),
            _ => None,
        }
    }

    /// The table's (and `models list --facts`') name for it.
    pub fn name(self) -> &'static str {
        match self {
            Api::Converse => "converse",
            Api::Responses => "responses",
        }
    }
}

/// Prompt-caching support of a model, as Bedrock documents it per model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// No cache points (the service rejects or ignores them).
    None,
    /// Cache points in `system` and `messages` only (Amazon Nova).
    SystemAndMessages,
    /// Cache points in `system`, `messages` and `toolConfig.tools` (Claude), five minutes.
    Full,
    /// As `Full`, and the one-hour `ttl` is accepted (Claude 4.5 and later).
    FullWithOneHour,
}

impl Caching {
    pub fn enabled(self) -> bool {
        self != Caching::None
    }
    pub fn tools(self) -> bool {
        matches!(self, Caching::Full | Caching::FullWithOneHour)
    }
    pub fn one_hour(self) -> bool {
        self == Caching::FullWithOneHour
    }
}

/// US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prices {
    pub input: f64,
    pub output: f64,
    pub cache_read: f64,
    /// Written with the default five-minute ttl.
    pub cache_write: f64,
    /// Written with the one-hour ttl (0 when the model has none).
    pub cache_write_1h: f64,
    /// The multiplier for geographic cross-Region profiles (`us.`, `eu.`, ...).
    pub geo_multiplier: f64,
}

impl Prices {
    /// The prices for invoking the model as `id` (a geographic profile costs more for some
    /// models), in the contract's shape (its `cache_write` is the five-minute price).
    pub fn for_id(&self, id: &str) -> ModelCost {
        ModelCost {
            input: self.scaled(self.input, id),
            output: self.scaled(self.output, id),
            cache_read: self.scaled(self.cache_read, id),
            cache_write: self.scaled(self.cache_write, id),
        }
    }

    /// The one-hour cache write price when invoking the model as `id`.
    pub fn cache_write_1h_for_id(&self, id: &str) -> f64 {
        self.scaled(self.cache_write_1h, id)
    }

    /// `price` times the multiplier for `id`, rounded to a millionth of a dollar (a
    /// premium must not print as 3.3000000000000003).
    fn scaled(&self, price: f64, id: &str) -> f64 {
        (price * self.multiplier(id) * 1e6).round() / 1e6
    }

    fn multiplier(&self, id: &str) -> f64 {
        let id = id.rsplit('/').next().unwrap_or(id);
        match id.split_once('.') {
            Some((prefix, _))
                if prefix != "global" && crate::profiles::is_geography_prefix(prefix) =>
            {
                self.geo_multiplier
            }
            _ => 1.0,
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// The id (or id prefix) the row is for.
    pub id: String,
    pub name: String,
    pub context_window: u64,
    pub max_tokens: u64,
    /// Input modalities: `text`, `image`, `document`, `video`.
    pub input: Vec<String>,
    pub reasoning: ReasoningStyle,
    /// Where the model honours Converse `cachePoint` blocks.
    pub caching: Caching,
    pub prices: Prices,
    /// The API the model answers on.
    pub api: Api,
    /// The table the row is from.
    pub origin: Arc<TableOrigin>,
}

/// Where a row's facts come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableOrigin {
    /// [`BUILT_IN`], or the path of the user's table.
    pub table: String,
    /// When the table says its facts were checked (its `# Checked YYYY-MM-DD` line).
    pub checked: String,
}

/// The model knowledge a provider uses: the user's rows (if any) first, then the embedded
/// ones; the first row whose id prefixes a model id wins.
#[derive(Debug)]
pub struct ModelTable {
    rows: Vec<Family>,
    /// Tells answers built with one table from another's (a discovery cache key part): the
    /// user table's path, length and modification time, or [`BUILT_IN`].
    pub identity: String,
}

impl ModelTable {
    /// The embedded table, parsed once.
    pub fn built_in() -> &'static Arc<ModelTable> {
        static TABLE_ROWS: OnceLock<Arc<ModelTable>> = OnceLock::new();
        TABLE_ROWS.get_or_init(|| {
            let rows = parse(TABLE, BUILT_IN).unwrap_or_else(|e| panic!("data/models.tsv: {e}"));
            Arc::new(ModelTable {
                rows,
                identity: BUILT_IN.to_string(),
            })
        })
    }

    /// `text`, a user's table named `table` (its path), over the embedded rows; `identity`
    /// tells this table from others (see [`ModelTable::identity`]). An error names the line.
    pub fn over_built_in(text: &str, table: &str, identity: String) -> Result<ModelTable, String> {
        let mut rows = parse(text, table)?;
        rows.extend(Self::built_in().rows.iter().cloned());
        Ok(ModelTable { rows, identity })
    }

    /// The row of a model or profile id (an ARN included), if there is one.
    pub fn lookup(&self, id: &str) -> Option<&Family> {
        let base = base_model_id(id);
        self.rows.iter().find(|f| base.starts_with(f.id.as_str()))
    }
}

/// Strips an inference-profile geography prefix (`us.`, `global.`, ...) and an ARN, leaving
/// the foundation model id.
pub fn base_model_id(id: &str) -> &str {
    let id = id.rsplit('/').next().unwrap_or(id);
    match id.split_once('.') {
        Some((prefix, rest)) if crate::profiles::is_geography_prefix(prefix) => rest,
        _ => id,
    }
}

/// The table's rows, each marked as from `table`; an error names the line and what is wrong
/// with it.
fn parse(text: &str, table: &str) -> Result<Vec<Family>, String> {
    let origin = Arc::new(TableOrigin {
        table: table.to_string(),
        checked: checked_date(text).ok_or(
            "it does not say when its facts were checked: add a comment line `# Checked YYYY-MM-DD`",
        )?,
    });
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty());
    let (_, header) = lines.next().ok_or("no header line")?;
    let columns: Vec<&str> = header.split('\t').collect();
    let mut want = vec![
        "id",
        "name",
        "context",
        "max_output",
        "input",
        "reasoning",
        "caching",
        "in",
        "out",
        "cache_read",
        "cache_write",
        "cache_write_1h",
        "geo",
    ];
    // `api` came later: a table without it (a user's, written before) still reads, all
    // Converse.
    let with_api = columns.len() == want.len() + 1;
    want.push("api");
    if columns != want[..want.len() - usize::from(!with_api)] {
        return Err(format!("the header must be {want:?}, not {columns:?}"));
    }
    lines
        .map(|(n, line)| row(line, with_api, &origin).map_err(|e| format!("line {}: {e}", n + 1)))
        .collect()
}

/// The date of the table's first `# Checked YYYY-MM-DD` comment.
fn checked_date(text: &str) -> Option<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix('#')?.trim_start().strip_prefix("Checked "))
        .map(|rest| rest.get(..10).unwrap_or(rest))
        .find(|date| {
            date.len() == 10
                && date.char_indices().all(|(i, c)| match i {
                    4 | 7 => c == '-',
                    _ => c.is_ascii_digit(),
                })
        })
        .map(str::to_string)
}

fn row(line: &str, with_api: bool, origin: &Arc<TableOrigin>) -> Result<Family, String> {
    let mut cells: Vec<&str> = line.split('\t').collect();
    let expected = if with_api { 14 } else { 13 };
    if cells.len() != expected {
        return Err(format!(
            "{expected} tab-separated cells expected, found {}",
            cells.len()
        ));
    }
    let api = match if with_api { cells.pop() } else { None } {
        None | Some("converse") => Api::Converse,
        Some("responses") => Api::Responses,
        Some(other) => return Err(format!("unknown api {other:?} (converse or responses)")),
    };
    let [id, name, context, max_output, input, reasoning, caching, input_price, output_price, cache_read, cache_write, cache_write_1h, geo] =
        cells.as_slice()
    else {
        return Err(format!("{expected} tab-separated cells expected"));
    };
    let count = |what: &str, v: &str| {
        v.parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(format!("{what} {v:?} is not a positive whole number"))
    };
    // "-" is "not offered": no price.
    let price = |what: &str, v: &str| match v {
        "-" => Ok(0.0),
        v => v
            .parse::<f64>()
            .ok()
            .filter(|p| p.is_finite() && *p >= 0.0)
            .ok_or(format!("{what} {v:?} is not a price")),
    };
    let reasoning = match *reasoning {
        "none" => ReasoningStyle::None,
        "budget" => ReasoningStyle::AnthropicBudget { interleaved: false },
        "budget-interleaved" => ReasoningStyle::AnthropicBudget { interleaved: true },
        "adaptive" => ReasoningStyle::AnthropicAdaptive { summarize: false },
        "adaptive-summarized" => ReasoningStyle::AnthropicAdaptive { summarize: true },
        "nova-effort" => ReasoningStyle::NovaEffort,
        "openai-effort" => ReasoningStyle::OpenAiEffort,
        "openai-nested-effort" => ReasoningStyle::OpenAiNestedEffort,
        "xai-effort" => ReasoningStyle::XaiEffort { high_levels: false },
        "xai-effort-xhigh" => ReasoningStyle::XaiEffort { high_levels: true },
        "always" => ReasoningStyle::Always,
        other => return Err(format!("unknown reasoning style {other:?}")),
    };
    let caching = match *caching {
        "none" => Caching::None,
        "system-messages" => Caching::SystemAndMessages,
        "full" => Caching::Full,
        "full-1h" => Caching::FullWithOneHour,
        other => return Err(format!("unknown caching rule {other:?}")),
    };
    Ok(Family {
        id: id.to_string(),
        name: name.to_string(),
        context_window: count("context", context)?,
        max_tokens: count("max_output", max_output)?,
        input: input.split(',').map(str::to_string).collect(),
        reasoning,
        caching,
        prices: Prices {
            input: price("in", input_price)?,
            output: price("out", output_price)?,
            cache_read: price("cache_read", cache_read)?,
            cache_write: price("cache_write", cache_write)?,
            cache_write_1h: price("cache_write_1h", cache_write_1h)?,
            geo_multiplier: price("geo", geo)?,
        },
        api,
        origin: origin.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReasoningStyle::*;

    fn all() -> &'static [Family] {
        &ModelTable::built_in().rows
    }

    fn lookup(id: &str) -> Option<&'static Family> {
        ModelTable::built_in().lookup(id)
    }

    #[test]
    fn the_table_parses_and_every_prefix_is_reachable() {
        let rows = all();
        assert!(rows.len() > 60);
        // A row hidden behind an earlier, shorter prefix would never be used.
        for (i, row) in rows.iter().enumerate() {
            let shadow = rows[..i].iter().find(|r| row.id.starts_with(r.id.as_str()));
            assert!(
                shadow.is_none(),
                "{} is shadowed by {:?}",
                row.id,
                shadow.map(|r| &r.id)
            );
        }
    }

    #[test]
    fn profiles_and_arns_resolve_to_their_model() {
        let f = lookup("us.anthropic.claude-sonnet-4-5-20250929-v1:0").unwrap();
        assert_eq!(f.reasoning, AnthropicBudget { interleaved: true });
        assert_eq!(f.context_window, 200_000);
        assert!(
            lookup("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0").is_some()
        );
        assert_eq!(
            lookup("anthropic.claude-3-haiku-20240307-v1:0")
                .unwrap()
                .reasoning,
            None
        );
        assert!(lookup("vendor.unknown-model-v1:0").is_none());
    }

    #[test]
    fn reasoning_is_by_model_not_by_name() {
        // "sonnet" alone says nothing: 3.5 Sonnet cannot think, 3.7 Sonnet can.
        assert_eq!(
            lookup("anthropic.claude-3-5-sonnet-20240620-v1:0")
                .unwrap()
                .reasoning,
            None
        );
        assert_eq!(
            lookup("anthropic.claude-3-7-sonnet-20250219-v1:0")
                .unwrap()
                .reasoning,
            AnthropicBudget { interleaved: false }
        );
        assert_eq!(
            lookup("us.amazon.nova-2-lite-v1:0").unwrap().reasoning,
            NovaEffort
        );
        assert_eq!(
            lookup("openai.gpt-oss-120b-1:0").unwrap().reasoning,
            OpenAiEffort
        );
    }

    #[test]
    fn adaptive_models_and_their_display() {
        let adaptive = AnthropicAdaptive { summarize: false };
        assert_eq!(
            lookup("us.anthropic.claude-opus-4-6-v1").unwrap().reasoning,
            adaptive
        );
        assert_eq!(
            lookup("global.anthropic.claude-sonnet-4-6")
                .unwrap()
                .reasoning,
            adaptive
        );
        assert_eq!(
            lookup("us.anthropic.claude-opus-4-7").unwrap().reasoning,
            AnthropicAdaptive { summarize: true }
        );
        assert_eq!(
            lookup("anthropic.claude-opus-4-5-20251101-v1:0")
                .unwrap()
                .reasoning,
            AnthropicBudget { interleaved: true }
        );
    }

    #[test]
    fn todays_claude_limits_are_current() {
        for id in ["anthropic.claude-opus-4-6-v1", "anthropic.claude-opus-4-7"] {
            let f = lookup(id).unwrap();
            assert_eq!(
                (f.context_window, f.max_tokens),
                (1_000_000, 128_000),
                "{id}"
            );
        }
        let sonnet = lookup("anthropic.claude-sonnet-4-6").unwrap();
        assert_eq!(
            (sonnet.context_window, sonnet.max_tokens),
            (1_000_000, 64_000)
        );
    }

    #[test]
    fn caching_support_is_per_model() {
        let nova = lookup("us.amazon.nova-micro-v1:0").unwrap().caching;
        assert!(nova.enabled() && !nova.tools() && !nova.one_hour());
        let sonnet37 = lookup("anthropic.claude-3-7-sonnet-20250219-v1:0")
            .unwrap()
            .caching;
        assert!(sonnet37.tools() && !sonnet37.one_hour());
        assert!(lookup("us.anthropic.claude-sonnet-4-5-20250929-v1:0")
            .unwrap()
            .caching
            .one_hour());
        assert!(!lookup("meta.llama3-1-8b-instruct-v1:0")
            .unwrap()
            .caching
            .enabled());
    }

    #[test]
    fn prices_follow_the_profile_geography() {
        let sonnet = lookup("anthropic.claude-sonnet-4-5-20250929-v1:0")
            .unwrap()
            .prices;
        let global = sonnet.for_id("global.anthropic.claude-sonnet-4-5-20250929-v1:0");
        assert_eq!((global.input, global.output), (3.0, 15.0));
        assert_eq!((global.cache_read, global.cache_write), (0.3, 3.75));
        let us = sonnet.for_id("us.anthropic.claude-sonnet-4-5-20250929-v1:0");
        assert!(
            (us.input - 3.3).abs() < 1e-9 && (us.output - 16.5).abs() < 1e-9,
            "{us:?}"
        );
        assert!(
            (sonnet.cache_write_1h_for_id("us.anthropic.claude-sonnet-4-5-20250929-v1:0") - 6.6)
                .abs()
                < 1e-9
        );
        // Models without a geographic premium cost the same everywhere.
        let nova = lookup("amazon.nova-pro-v1:0").unwrap().prices;
        assert_eq!(
            nova.for_id("us.amazon.nova-pro-v1:0"),
            nova.for_id("amazon.nova-pro-v1:0")
        );
    }

    #[test]
    fn a_broken_row_names_its_line() {
        let header = "id\tname\tcontext\tmax_output\tinput\treasoning\tcaching\tin\tout\tcache_read\tcache_write\tcache_write_1h\tgeo";
        let bad =
            format!("# Checked 2026-12-01\n{header}\nx.y\tX\t100\t10\ttext\tsometimes\tnone\t1\t2\t-\t-\t-\t1\n");
        let e = parse(&bad, "mine.tsv").unwrap_err();
        assert!(e.contains("line 3") && e.contains("sometimes"), "{e}");
    }
}

#[cfg(test)]
mod catalogue {
    /// Every model the emulator's catalogue (today's Bedrock) serves for conversation has a
    /// row, with a price.
    #[test]
    fn every_active_conversational_model_has_a_row_with_a_price() {
        let missing: Vec<&str> = emulator::catalogue::MODELS
            .iter()
            .filter(|m| m.conversational() && m.streaming && m.lifecycle == "ACTIVE")
            .map(|m| m.id)
            .filter(|id| {
                super::ModelTable::built_in()
                    .lookup(id)
                    .is_none_or(|f| f.prices.input <= 0.0)
            })
            .collect();
        assert!(
            missing.is_empty(),
            "no row (or no price) in data/models.tsv for {missing:?}"
        );
    }
}
