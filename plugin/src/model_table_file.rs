//! The user's model table (`modelTable`): read when the provider is made, bounded in size,
//! and merged over the embedded one ([`ModelTable::over_built_in`]); whatever is wrong with it
//! is a configuration error naming the key, the file and the line.

use std::sync::Arc;

use host_sdk::ProviderError;

use crate::config::{PluginConfig, PROVIDER_ID};
use crate::errors::config_error;
use crate::model_facts::ModelTable;

/// A user's table larger than this is refused: the embedded one is about 12 KiB.
const MAX_USER_TABLE_BYTES: u64 = 1 << 20;

/// The model table of a configuration: the embedded one, under the user's `modelTable` when
/// there is one.
pub fn for_config(config: &PluginConfig) -> Result<Arc<ModelTable>, ProviderError> {
    let Some(path) = config.provider.model_table.as_deref() else {
        return Ok(ModelTable::built_in().clone());
    };
    let key = format!("`models.providers.\"{PROVIDER_ID}\".modelTable`");
    let refuse = |why: String| config_error(format!("{key} names {path}, which {why}"));
    let meta = std::fs::metadata(path).map_err(|e| refuse(format!("cannot be read: {e}")))?;
    if meta.len() > MAX_USER_TABLE_BYTES {
        return Err(refuse(format!(
            "is {} bytes long; a model table may have at most {MAX_USER_TABLE_BYTES}",
            meta.len()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| refuse(format!("cannot be read: {e}")))?;
    // The path, length and modification time: a discovery answer made with one version of
    // the file is not served for another.
    let identity = format!("{path}|{}|{:?}", meta.len(), meta.modified().ok());
    let table = ModelTable::over_built_in(&text, path, identity).map_err(|e| {
        refuse(format!(
            "is not a model table in the format of the plugin's data/models.tsv: {e}"
        ))
    })?;
    Ok(Arc::new(table))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model_facts::{TableOrigin, BUILT_IN};

    const HEADER: &str = "id\tname\tcontext\tmax_output\tinput\treasoning\tcaching\tin\tout\tcache_read\tcache_write\tcache_write_1h\tgeo";

    /// Removes its folder when dropped.
    struct Folder(std::path::PathBuf);
    impl Drop for Folder {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn config_with_table(text: &str) -> (Folder, PluginConfig) {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("model-table-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("models.tsv");
        std::fs::write(&path, text).unwrap();
        let dir = Folder(dir);
        let config = PluginConfig::parse(&format!(
            r#"{{ models: {{ providers: {{ "amazon-bedrock": {{ modelTable: {:?} }} }} }} }}"#,
            path.display().to_string()
        ))
        .unwrap();
        (dir, config)
    }

    #[test]
    fn a_users_table_is_merged_over_the_embedded_one_and_says_where_its_facts_are_from() {
        let text = format!(
            "# My models.\n# Checked 2026-12-02 from the model cards.\n{HEADER}\n\
             xai.grok-9\tGrok 9\t500000\t64000\ttext,image\tnone\tnone\t2\t8\t-\t-\t-\t1\n\
             anthropic.claude-sonnet-4-6\tSonnet (mine)\t200000\t32000\ttext\tadaptive\tfull\t1\t2\t-\t-\t-\t1\n"
        );
        let (_dir, config) = config_with_table(&text);
        let path = config.provider.model_table.clone().unwrap();
        let table = for_config(&config).unwrap();
        let grok = table.lookup("us.xai.grok-9-v1").unwrap();
        assert_eq!((grok.context_window, grok.prices.output), (500_000, 8.0));
        assert_eq!(
            *grok.origin,
            TableOrigin {
                table: path.clone(),
                checked: "2026-12-02".into()
            }
        );
        // The user's row wins over the embedded one; the rest stay as they were.
        assert_eq!(
            table
                .lookup("anthropic.claude-sonnet-4-6")
                .unwrap()
                .max_tokens,
            32_000
        );
        let nova = table.lookup("amazon.nova-pro-v1:0").unwrap();
        assert_eq!(nova.origin.table, BUILT_IN);
        assert_eq!(
            nova.origin.checked,
            ModelTable::built_in()
                .lookup("amazon.nova-pro-v1:0")
                .unwrap()
                .origin
                .checked
        );
        assert_ne!(table.identity, ModelTable::built_in().identity);
        // No table configured: the embedded one.
        let plain = for_config(&PluginConfig::default()).unwrap();
        assert!(Arc::ptr_eq(&plain, ModelTable::built_in()));
    }

    #[test]
    fn a_users_table_that_is_undated_broken_or_missing_is_a_configuration_error() {
        let row = "x.y\tX\t100\t10\ttext\tnone\tnone\t1\t2\t-\t-\t-\t1";
        for (text, says) in [
            (format!("{HEADER}\n{row}\n"), "# Checked YYYY-MM-DD"),
            (
                format!("# Checked 2026-12-02\n{HEADER}\n{row}\tspare\n"),
                "line 3: 13 tab-separated cells expected, found 14",
            ),
            (
                format!("# Checked 2026-12-02\nid\tname\n{row}\n"),
                "the header must be",
            ),
        ] {
            let (_dir, config) = config_with_table(&text);
            let e = for_config(&config).unwrap_err();
            assert_eq!(e.code, "config");
            assert!(
                e.message.contains("modelTable") && e.message.contains(says),
                "{e:?}"
            );
        }
        let (dir, config) = config_with_table("");
        drop(dir);
        let e = for_config(&config).unwrap_err();
        assert!(e.message.contains("cannot be read"), "{e:?}");
    }
}
