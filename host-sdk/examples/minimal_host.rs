//! The smallest useful host: load a provider plugin, list its models, stream one answer with
//! the blocking API, then the same with the async API on a plain executor (no tokio: the
//! plugin brings its own runtime).
//!
//! ```sh
//! cargo build -p bedrock-plugin
//! cargo run -p host-sdk --example minimal_host -- target/debug/libbedrock_plugin.so config.json5 "Hi!"
//! ```
//!
//! The configuration file is the host's JSON5 document (see the README); credentials come from
//! the environment as the AWS SDK finds them.

use futures::StreamExt;
use host_sdk::{ConverseRequest, Event, Plugin, SinkFlow, StreamEvent};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(plugin_path), Some(config_path)) = (args.next(), args.next()) else {
        eprintln!("usage: minimal_host PLUGIN CONFIG.json5 [PROMPT]");
        std::process::exit(2);
    };
    let prompt = args.next().unwrap_or_else(|| "Hello!".into());

    let plugin = Plugin::load(&plugin_path)?;
    let meta = plugin.metadata();
    println!("{} speaks {}", meta.provider_id, meta.api);
    let provider = plugin.new_provider(&std::fs::read_to_string(config_path)?)?;

    let models = provider.list_models()?;
    for model in &models {
        println!("model: {} ({})", model.id, model.name);
    }
    let Some(model) = models.first() else {
        return Err("the provider lists no models".into());
    };

    // Blocking: the closure sees borrowed events as they arrive.
    let request = ConverseRequest::user_text(model.id.as_str(), prompt);
    let done = provider.converse(&request, |event| {
        if let StreamEvent::TextDelta { text, .. } = event {
            print!("{text}");
        }
        SinkFlow::Continue
    })?;
    println!("\n[{:?}, {:?}]", done.stop_reason, done.usage);

    // Async: owned events from a Stream; dropping it would cancel the request.
    futures::executor::block_on(async {
        let mut events = provider.converse_stream(&request)?;
        while let Some(event) = events.next().await {
            match event {
                Event::TextDelta { text, .. } => print!("{text}"),
                Event::Completed(done) => println!("\n[{:?}]", done.stop_reason),
                Event::Failed(failure) => return Err(failure.into()),
                _ => {}
            }
        }
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}
