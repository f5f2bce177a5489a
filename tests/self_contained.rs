//! Issue #8: the repository is self-contained. A user's clone has nothing next to it, so no
//! test, script or build file may reach outside the repository: every relative path written
//! in the sources is resolved from where it is used, and must stay inside.
//!
//! CI runs in a clone that does have the project's `shared/` folder beside it, so only a check
//! of the sources themselves catches a path that leaves the repository again.

use std::path::{Component, Path, PathBuf};

fn repo_root() -> PathBuf {
    normalize(&Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
}

/// `path` with `.` and `..` resolved lexically (the paths may not exist).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Source files of the project: Rust, manifests, scripts, configuration. Build output,
/// installed environments and the third-party recordings are not ours to check.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable directory") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !matches!(
                name.as_str(),
                "target" | ".git" | ".venv" | "node_modules" | "recordings"
            ) {
                sources(&path, out);
            }
            continue;
        }
        let ext = path.extension().map(|e| e.to_string_lossy().into_owned());
        let script = path
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|folder| folder == "scripts" || folder == ".ci");
        if script
            || matches!(
                ext.as_deref(),
                Some("rs" | "toml" | "sh" | "py" | "js" | "mjs" | "json" | "json5" | "txt")
            )
        {
            out.push(path);
        }
    }
}

/// The directory relative paths in `file` are resolved from: its crate (nearest manifest) for
/// Rust sources, since tests join them to `CARGO_MANIFEST_DIR`; its own folder otherwise.
fn base_of(file: &Path, root: &Path) -> PathBuf {
    let folder = file.parent().unwrap().to_path_buf();
    if file.extension().is_some_and(|e| e == "rs") {
        let mut dir = folder.clone();
        while dir.starts_with(root) {
            if dir.join("Cargo.toml").is_file() {
                return dir;
            }
            dir.pop();
        }
    }
    folder
}

/// Every run of path characters in `text` that starts with `../`.
fn parent_relative_paths(text: &str) -> Vec<&str> {
    let is_path_char = |c: char| c.is_ascii_alphanumeric() || "._-/+".contains(c);
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("../") {
        let starts_a_path = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !is_path_char(c));
        let end = rest[at..]
            .find(|c: char| !is_path_char(c))
            .map_or(rest.len(), |n| at + n);
        if starts_a_path {
            found.push(&rest[at..end]);
        }
        rest = &rest[end.max(at + 3)..];
    }
    found
}

#[test]
fn no_source_file_reaches_outside_the_repository() {
    let root = repo_root();
    let mut files = Vec::new();
    sources(&root, &mut files);
    assert!(
        files.len() > 50,
        "the walk found the sources: {}",
        files.len()
    );
    let mut leaks = Vec::new();
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let base = base_of(file, &root);
        for path in parent_relative_paths(&text) {
            if !normalize(&base.join(path)).starts_with(&root) {
                leaks.push(format!(
                    "{}: {path}",
                    file.strip_prefix(&root).unwrap().display()
                ));
            }
        }
        let project_shared = ["recorded", "reference", "seed"].map(|d| format!("shared/{d}/"));
        if project_shared.iter().any(|p| text.contains(p.as_str())) {
            leaks.push(format!(
                "{}: names the project's shared/ folder",
                file.strip_prefix(&root).unwrap().display()
            ));
        }
    }
    assert!(
        leaks.is_empty(),
        "paths that leave the repository (a fresh clone has nothing beside it; keep data in \
         the repository, e.g. tests/recordings):\n{}",
        leaks.join("\n")
    );
}

#[test]
fn the_check_sees_a_path_that_leaves() {
    let root = repo_root();
    let crate_dir = root.join("emulator");
    let outside = ["..", "..", "elsewhere", "data.bin"].join("/");
    let source = format!(r#"dir.join("{outside}")"#);
    let leaving = parent_relative_paths(&source);
    assert_eq!(leaving, [outside.as_str()]);
    assert!(!normalize(&crate_dir.join(leaving[0])).starts_with(&root));
    let staying = parent_relative_paths(r#"join("../tests/recordings") and a/../b"#);
    assert_eq!(staying, ["../tests/recordings"]);
    assert!(normalize(&crate_dir.join(staying[0])).starts_with(&root));
}
