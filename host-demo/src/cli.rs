//! The command-line surface (clap derive types only; the commands live in `commands`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "host-demo",
    version,
    about = "Load an LLM provider plugin, discover its models and chat with them.",
    after_help = "Logs go to stderr: use -v/-vv/-vvv or RUST_LOG (e.g. RUST_LOG=bedrock_plugin=debug)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalOpts {
    /// Plugin file, or a directory to search for one [default: the bedrock_plugin library next
    /// to this executable].
    #[arg(long, global = true, value_name = "PATH")]
    pub plugin: Option<PathBuf>,

    /// JSON5 configuration file [default: $HOST_DEMO_CONFIG, else
    /// <config dir>/host-demo/config.json5 if it exists].
    #[arg(long, global = true, value_name = "PATH", env = "HOST_DEMO_CONFIG")]
    pub config: Option<PathBuf>,

    /// Start the local Bedrock emulator in-process and point the provider at it (no AWS account
    /// needed; `HOST_DEMO_EMULATOR=1` does it for every command of a shell). It knows a demo
    /// guardrail, `abc123xyz:1`, which blocks talk of dragons.
    #[arg(long, global = true, env = "HOST_DEMO_EMULATOR", value_parser = clap::builder::BoolishValueParser::new())]
    pub emulator: bool,

    /// More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG takes precedence.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Facts about the plugin.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// Model discovery.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// Chat with a model: one prompt, or an interactive session when PROMPT is omitted.
    Chat(ChatArgs),
    /// The saved conversations (`chat -c NAME`): list, show or search them.
    Logs {
        #[command(subcommand)]
        command: LogsCommand,
    },
    /// Embed texts (arguments, --file, or the lines of stdin): each vector's dimensions and
    /// first values, the vectors as JSON (--json), or the texts ranked against --query.
    Embed(EmbedArgs),
    /// Token counting.
    Tokens {
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// Compare streaming throughput through the plugin with the AWS SDK called directly
    /// (always uses the embedded emulator).
    #[cfg(feature = "emulator")]
    Bench(BenchArgs),
    /// Soak test: many concurrent streams, some with random faults, through the plugin
    /// against the embedded emulator; counts lost deltas, misreported outcomes, hangs and
    /// double ends (exit 1 if any).
    #[cfg(feature = "emulator")]
    Soak(SoakArgs),
    /// Read or edit the configuration file (comments and formatting are kept).
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Authentication diagnostics.
    Auth {
        #[command(subcommand)]
        command: AuthCommand,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell):
    /// `host-demo completions bash > ~/.local/share/bash-completion/completions/host-demo`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `host-demo man | man -l -`; `host-demo man chat` for a
    /// command's own page; `--out-dir DIR` writes every page (host-demo.1,
    /// host-demo-chat.1, ...) for `man -M` or a package.
    Man {
        /// The command whose page to print (`chat`, `models`, `config set`, ...).
        command: Vec<String>,
        /// Write every page into DIR instead.
        #[arg(long, value_name = "DIR", conflicts_with = "command")]
        out_dir: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the value at KEY (a dotted path: models.bedrockDiscovery.region,
    /// models.providers."amazon-bedrock".models[0].id).
    Get {
        key: String,
        /// Print `{"key", "file", "value"}` as JSON (the value as stored).
        #[arg(long)]
        json: bool,
    },
    /// Set KEY to VALUE (parsed as JSON5 when it parses, e.g. true, 3600, ["anthropic"];
    /// otherwise taken as a string), creating missing parent objects.
    Set {
        key: String,
        /// Negative numbers are values here, not options: `config set KEY -5`.
        #[arg(allow_hyphen_values = true)]
        value: String,
        /// Print `{"key", "file", "value"}` as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove KEY.
    Unset {
        key: String,
        /// Print `{"key", "file", "removed"}` as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum LogsCommand {
    /// Every saved conversation, newest first: name, when, model, turns, first prompt.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One conversation, turn by turn.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// The turns of any conversation that hold TEXT (case-insensitive).
    Search {
        text: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Show the credential source, region and endpoint in use, and whether an authenticated
    /// call (ListFoundationModels) succeeds; exits 1 when it does not. Never prints a secret.
    Status {
        /// Print the status as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Show the plugin's path, provider id, API, auth kind, versions and capabilities.
    Info {
        /// Print them as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List configured and discovered models.
    List {
        /// Print the list as JSON.
        #[arg(long)]
        json: bool,
        /// Ask the provider again instead of using the on-disk cache (kept for the config's
        /// models.bedrockDiscovery.refreshInterval, default 3600 s; in $HOST_DEMO_CACHE_DIR or
        /// the platform cache dir).
        #[arg(long)]
        refresh: bool,
        /// List the embedding models instead (for `embed -m`).
        #[arg(long, conflicts_with = "facts")]
        embedding: bool,
        /// Say where each model's facts (limits, input kinds, reasoning, prices) come from:
        /// the plugin's built-in table or your own (`modelTable`), the date that table was
        /// checked, and whether the configuration declares the model.
        #[arg(long)]
        facts: bool,
    },
}

#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// The texts, each one input.
    pub texts: Vec<String>,
    /// A file whose text is one input (repeatable).
    #[arg(short, long = "file", value_name = "PATH")]
    pub files: Vec<PathBuf>,
    /// The embedding model (`models list --embedding` lists them).
    #[arg(short, long, default_value = "amazon.titan-embed-text-v2:0")]
    pub model: String,
    /// The length of each vector, one of the model's [default: the model's own].
    #[arg(long)]
    pub dimensions: Option<u32>,
    /// What the vectors are for, on models that tune them to it.
    #[arg(long, value_parser = ["document", "query", "classification", "clustering"])]
    pub purpose: Option<String>,
    /// Rank the texts by cosine similarity to this query, closest first.
    #[arg(short, long)]
    pub query: Option<String>,
    /// Print JSON: the vectors (or, with --query, the ranking).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Count the input tokens a request would cost its model, without running the model
    /// (the provider's token counter: Bedrock's CountTokens).
    Count {
        /// The prompt (text piped to stdin goes with it, as for `chat`).
        prompt: Option<String>,
        #[command(flatten)]
        request: RequestArgs,
        /// Print the count as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The prompt. Text piped to stdin goes with it as context; piped text alone is the
    /// prompt; with neither (stdin a terminal), chat interactively until `/exit`.
    pub prompt: Option<String>,

    /// Read prompts line by line, one turn each, also from a pipe (scripts).
    #[arg(short, long, conflicts_with_all = ["prompt", "request"])]
    pub interactive: bool,

    #[command(flatten)]
    pub request: RequestArgs,

    /// Keep the conversation as NAME: earlier turns saved under that name are sent first,
    /// and each new turn is saved (as a request document, in $HOST_DEMO_DATA_DIR or the
    /// platform data dir).
    #[arg(long, short = 'c', value_name = "NAME")]
    pub conversation: Option<String>,

    /// Continue the most recently saved conversation.
    #[arg(long = "continue", conflicts_with = "conversation")]
    pub continue_last: bool,

    /// Let the model call the tools declared in FILE (JSON5: a list of {name, description,
    /// inputSchema, command: [program, args...]}); a call's input arrives as JSON on the
    /// command's stdin and what it prints is the result.
    #[arg(long, value_name = "FILE")]
    pub tools: Option<PathBuf>,

    /// Run tool calls without asking first.
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// The most tool rounds (a call and its result) one answer may take.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub max_tool_rounds: u32,

    /// Print every stream event as one JSON line.
    #[arg(long)]
    pub json: bool,

    /// Where images a model makes are saved (`image-<time>-<block>.<format>`).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub image_dir: PathBuf,
}

/// What goes into the request, for `chat` and `tokens count`.
#[derive(Debug, Args)]
pub struct RequestArgs {
    /// Model id (with or without the `<provider id>/` prefix) [default: the request file's,
    /// else the config's agents.defaults.model.primary, else the first listed model].
    #[arg(long, short)]
    pub model: Option<String>,

    /// System prompt.
    #[arg(long, short, conflicts_with = "system_file")]
    pub system: Option<String>,

    /// System prompt read from FILE.
    #[arg(long, value_name = "FILE")]
    pub system_file: Option<PathBuf>,

    /// Upper bound on the answer's tokens.
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<u32>,

    /// Sampling temperature (0 to 1).
    #[arg(long, value_name = "T")]
    pub temperature: Option<f32>,

    /// Nucleus sampling: the probability mass to sample from (0 to 1).
    #[arg(long, value_name = "P")]
    pub top_p: Option<f32>,

    /// Stop generating at TEXT (repeatable).
    #[arg(long = "stop", value_name = "TEXT")]
    pub stop_sequences: Vec<String>,

    /// Let the model reason first, this hard (low, medium, high, xhigh, max).
    #[arg(long, value_name = "LEVEL")]
    pub reasoning_effort: Option<String>,

    /// Let the model reason first, with this token budget.
    #[arg(long, value_name = "TOKENS")]
    pub reasoning_budget: Option<u32>,

    /// Service tier to run on (Bedrock: priority, default, flex, reserved).
    #[arg(long, value_name = "TIER")]
    pub service_tier: Option<String>,

    /// Latency-optimized inference where the model offers it (Bedrock performanceConfig).
    #[arg(long, value_parser = ["standard", "optimized"])]
    pub latency: Option<String>,

    /// Apply a guardrail, ID:VERSION (a Bedrock guardrail id or ARN and its version or
    /// DRAFT); its assessment is shown.
    #[arg(long, value_name = "ID:VERSION")]
    pub guardrail: Option<String>,

    /// The answer must be JSON matching the JSON Schema in FILE (structured output); the
    /// summary says whether it did.
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,

    /// Attach FILE to the prompt (repeatable): images, videos, PDFs, office documents or
    /// text, the kind read from the bytes; the model must take it.
    #[arg(short = 'a', long = "attach", value_name = "FILE")]
    pub attachments: Vec<PathBuf>,

    /// Let the model cite the attached documents: its answer then shows numbered references,
    /// listed with their sources under it (on models that can cite).
    #[arg(long, requires = "attachments")]
    pub citations: bool,

    /// A tool the provider runs itself (repeatable), e.g. `nova_code_interpreter` or
    /// `nova_grounding` on Bedrock's Nova 2 models; what it ran and its result are shown.
    #[arg(long = "server-tool", value_name = "NAME")]
    pub server_tools: Vec<String>,

    /// Send the request document in FILE (`-` for stdin) as is: the contract's
    /// ConverseRequest JSON, so any option can be tried. A prompt given too is added as a
    /// last user turn; the flags above override the file's fields.
    #[arg(long, value_name = "FILE")]
    pub request: Option<PathBuf>,
}

#[cfg(feature = "emulator")]
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Text deltas per response.
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    pub deltas: usize,

    /// Characters per delta.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub delta_size: usize,

    /// Measured runs per path (after one warm-up each).
    #[arg(long, default_value_t = 9, value_name = "N")]
    pub runs: usize,

    /// Model id to request [default: the first listed model].
    #[arg(long, short)]
    pub model: Option<String>,

    /// Print the results as one JSON document.
    #[arg(long)]
    pub json: bool,

    /// Measure embeddings instead: a batch of --texts short texts embedded through the
    /// plugin, and the same InvokeModel calls made with the AWS SDK directly (16 at once).
    #[arg(long)]
    pub embeddings: bool,

    /// Texts per batch, with --embeddings.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub texts: usize,
}

#[cfg(feature = "emulator")]
#[derive(Debug, Args)]
pub struct SoakArgs {
    /// Streams in all.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub streams: usize,

    /// Streams running at once (each holds two sockets of this process: the plugin's and
    /// the embedded emulator's).
    #[arg(long, default_value_t = 4_000, value_name = "N")]
    pub concurrency: usize,

    /// Share of streams given a random fault (0 to 1).
    #[arg(long, default_value_t = 0.2, value_name = "SHARE")]
    pub fault_share: f64,

    /// Seed of the fault draw (the same seed gives the same streams).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Streams still running after this many seconds count as hangs.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub deadline_secs: u64,

    /// Model id to request [default: the config's primary model or the first listed one].
    #[arg(long, short)]
    pub model: Option<String>,

    /// Print the counts as one JSON document.
    #[arg(long)]
    pub json: bool,
}
