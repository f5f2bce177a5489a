//! Loading plugins: the loader refuses what it cannot use with an error that says why (and
//! what to rebuild), finds the plugin in a directory, and one loaded plugin serves several
//! providers side by side.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use e2e_tests::{
    artifact, init, library_file_name, plugin, provider_for, recorded, scripted_request,
    start_emulator, INCOMPATIBLE_LAYOUT_LIB, INCOMPATIBLE_VERSION_LIB, MODEL, NOT_A_PLUGIN_LIB,
    PLUGIN_LIB,
};
use host_sdk::{LoadError, Plugin, SinkFlow, CONTRACT_VERSION};
use serde_json::json;

/// A fresh, empty directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "e2e-tests-{label}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        Self(dir)
    }

    /// Links `target` into the directory as `name`. A symlink, not a copy: the dynamic
    /// loader then maps the same library as the other tests instead of a second copy.
    fn link(&self, target: &Path, name: &str) -> PathBuf {
        let link = self.0.join(name);
        std::os::unix::fs::symlink(target, &link).expect("symlink into the temp dir");
        link
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn host_major() -> &'static str {
    CONTRACT_VERSION.split('.').next().unwrap()
}

#[test]
fn a_plugin_for_another_major_contract_is_incompatible_version() {
    init();
    let path = artifact(INCOMPATIBLE_VERSION_LIB);
    assert_ne!(
        host_major(),
        "2",
        "the fixture must be another major than the host"
    );
    match Plugin::load(&path) {
        Err(
            ref e @ LoadError::IncompatibleVersion {
                ref plugin_version,
                ref host_version,
                ..
            },
        ) => {
            assert_eq!(plugin_version, "2.0.0");
            assert_eq!(host_version, CONTRACT_VERSION);
            let message = e.to_string();
            assert!(message.contains(&path.display().to_string()), "{message}");
            assert!(
                message.contains(&format!(
                    "rebuild the plugin against host-sdk {}.x",
                    host_major()
                )),
                "says what to rebuild: {message}"
            );
        }
        other => panic!("expected IncompatibleVersion, got {other:?}"),
    }
}

#[test]
fn a_plugin_with_another_layout_is_incompatible_layout() {
    init();
    let path = artifact(INCOMPATIBLE_LAYOUT_LIB);
    match Plugin::load(&path) {
        Err(ref e @ LoadError::IncompatibleLayout { path: ref p, .. }) => {
            assert_eq!(p, &path);
            assert!(e.to_string().contains(&path.display().to_string()), "{e}");
        }
        other => panic!("expected IncompatibleLayout, got {other:?}"),
    }
}

/// The user of a host sees only this message, so it must say what differs and what to do.
#[test]
fn incompatible_layout_message_names_the_difference_and_what_to_rebuild() {
    init();
    let path = artifact(INCOMPATIBLE_LAYOUT_LIB);
    let Err(e @ LoadError::IncompatibleLayout { .. }) = Plugin::load(&path) else {
        panic!("expected IncompatibleLayout");
    };
    let message = e.to_string();
    // The fixture differs from the contract only in `new_provider`'s parameters.
    assert!(
        message.contains("new_provider"),
        "names the field that differs: {message}"
    );
    assert!(
        message.contains(&format!(
            "rebuild the plugin against host-sdk {}.x",
            host_major()
        )),
        "says what to rebuild: {message}"
    );
}

#[test]
fn an_ordinary_shared_library_is_not_a_plugin() {
    init();
    let path = artifact(NOT_A_PLUGIN_LIB);
    match Plugin::load(&path) {
        Err(LoadError::NotAPlugin { path: p, reason }) => {
            assert_eq!(p, path);
            assert!(reason.contains("root module"), "{reason}");
        }
        other => panic!("expected NotAPlugin, got {other:?}"),
    }
}

#[test]
fn a_missing_file_is_not_found() {
    init();
    let missing = std::env::temp_dir().join("e2e-tests-no-such-dir/libno_such_plugin.so");
    match Plugin::load(&missing) {
        Err(LoadError::NotFound(p)) => assert_eq!(p, missing),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[test]
fn a_directory_is_searched_for_the_plugin() {
    init();
    let dir = TempDir::new("plugins");
    // Sorted first, so the scan must skip it to find the real plugin.
    dir.link(
        &artifact(NOT_A_PLUGIN_LIB),
        &library_file_name("aaa_not_a_plugin"),
    );
    let real = dir.link(&artifact(PLUGIN_LIB), &library_file_name(PLUGIN_LIB));

    let loaded = Plugin::load(&dir.0).expect("the directory holds a plugin");
    assert_eq!(loaded.path(), real);
    assert_eq!(loaded.metadata().provider_id.as_str(), "amazon-bedrock");

    // And it is usable, not just found.
    let emu = start_emulator();
    let provider = loaded
        .new_provider(&e2e_tests::config_for(&emu.url()))
        .expect("a provider from the directory-loaded plugin");
    let request = scripted_request(MODEL, "Hi.", json!({"text": "Found you."}));
    let done = provider
        .converse(&request, |_| SinkFlow::Continue)
        .expect("the stream completes");
    assert_eq!(done.message.text(), "Found you.");
}

#[test]
fn a_directory_without_a_plugin_says_what_it_tried() {
    init();
    let dir = TempDir::new("no-plugins");
    let bogus = dir.link(
        &artifact(NOT_A_PLUGIN_LIB),
        &library_file_name(NOT_A_PLUGIN_LIB),
    );
    match Plugin::load(&dir.0) {
        Err(LoadError::NoPluginInDirectory { tried, .. }) => {
            assert!(tried.contains(&bogus.display().to_string()), "{tried}");
        }
        other => panic!("expected NoPluginInDirectory, got {other:?}"),
    }
}

#[test]
fn two_providers_from_one_plugin_work_side_by_side() {
    init();
    let (emu_a, emu_b) = (start_emulator(), start_emulator());
    let (a, b) = (provider_for(&emu_a), provider_for(&emu_b));

    // Both streams run at the same time, each against its own endpoint.
    let slow = |text: &str| json!({"text": text, "deltaSize": 2, "eventDelayMs": 20});
    let run_a = a
        .start(
            &scripted_request(MODEL, "A?", slow("answer from A")),
            |_| SinkFlow::Continue,
        )
        .expect("stream A starts");
    let run_b = b
        .start(
            &scripted_request(MODEL, "B?", slow("answer from B")),
            |_| SinkFlow::Continue,
        )
        .expect("stream B starts");
    assert_eq!(
        run_a.wait().expect("A completes").message.text(),
        "answer from A"
    );
    assert_eq!(
        run_b.wait().expect("B completes").message.text(),
        "answer from B"
    );

    // Each provider used its own configuration: each emulator saw exactly its own request.
    for (emu, question) in [(&emu_a, "A?"), (&emu_b, "B?")] {
        let sent = recorded(emu, "ConverseStream");
        assert_eq!(sent.len(), 1, "{sent:?}");
        let body = sent[0].body.as_ref().unwrap();
        assert_eq!(body["messages"][0]["content"][0]["text"], question);
    }

    // Loading the same file again gives another working handle on the same library.
    let again = Plugin::load(plugin().path()).expect("the plugin loads twice");
    assert_eq!(again.metadata(), plugin().metadata());
}

/// Issue #18: any host may have its plugin file written over in place (`cp new.so
/// loaded.so`); the loader maps a private copy, so the loaded plugin goes on working, nothing
/// is left on disk, and loading the file again gives what it now holds. Loading the same
/// bytes twice gives the same library.
#[test]
fn a_plugin_file_written_over_in_place_keeps_the_loaded_plugin_working() {
    init();
    let dir = TempDir::new("in-place");
    let file = dir.0.join(library_file_name("provider"));
    std::fs::copy(artifact(PLUGIN_LIB), &file).unwrap();
    let loaded = Plugin::load(&file).unwrap();
    assert_eq!(loaded.path(), file.as_path());
    let again = Plugin::load(&file).unwrap();
    assert_eq!(
        loaded.metadata(),
        again.metadata(),
        "the same bytes are the same library"
    );
    let emu = start_emulator();
    let provider = loaded
        .new_provider(&e2e_tests::config_for(&emu.url()))
        .unwrap();

    // Written over in place: the same inode, other bytes.
    std::fs::copy(artifact(e2e_tests::CONTRACT_1_4_LIB), &file).unwrap();
    let request = scripted_request(MODEL, "Still there?", json!({"text": "Yes, still here."}));
    let done = provider
        .converse(&request, |_| SinkFlow::Continue)
        .expect("the loaded plugin still answers");
    assert_eq!(done.message.text(), "Yes, still here.");
    let replaced = Plugin::load(&file).unwrap();
    assert_eq!(
        replaced.metadata().provider_id.as_str(),
        "contract-1-4-fixture",
        "loading again gives what the file holds now"
    );
}
