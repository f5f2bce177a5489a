//! The loader maps a private copy of each plugin file, never the file itself.
//!
//! The system loader maps a library's pages from its file. When that file is written over in
//! place (`cp new.so loaded.so` truncates and rewrites the same inode, even with identical
//! bytes), the pages the process runs change under it, and the next touch of a page past the
//! new end kills it with SIGBUS. So the loader reads the file once, writes the bytes into a
//! fresh directory only this process can reach (created anew with a random name, never
//! reused, so nothing planted beforehand is followed), maps that copy, and removes the copy at
//! once: a mapped library outlives its name on Unix, and nothing is left on disk.
//!
//! The bytes' digest names the library: loading the same bytes again (the same file, or an
//! identical copy written over it) hands back the library already mapped, so a plugin's
//! process-wide state (its log sink, its runtime) stays one per library, as with `dlopen`.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The identity of a plugin file's contents: its length and a digest of its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Contents {
    len: u64,
    digest: u64,
}

/// A plugin file's bytes, read once.
pub(crate) struct Read {
    pub contents: Contents,
    bytes: Vec<u8>,
}

/// Reads the whole file at `path`.
pub(crate) fn read(path: &Path) -> std::io::Result<Read> {
    let bytes = std::fs::read(path)?;
    let mut hasher = std::hash::DefaultHasher::new();
    bytes.hash(&mut hasher);
    Ok(Read {
        contents: Contents {
            len: bytes.len() as u64,
            digest: hasher.finish(),
        },
        bytes,
    })
}

/// A private copy of a plugin file; the copy and its directory go when this is dropped.
pub(crate) struct Copy {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Copy {
    /// Where the copy is (to hand to the system loader).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Writes `read` into a new private directory under the system's temporary directory, keeping
/// the original's file name (some loaders and debuggers show it).
pub(crate) fn write(read: &Read, original: &Path) -> std::io::Result<Copy> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("host-sdk-plugin-");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
    let dir = builder.tempdir()?;
    let name = original
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "plugin".into());
    let path = dir.path().join(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o700);
    let mut file = options.open(&path)?;
    // No fsync: the copy is mapped and removed at once, never read after a crash.
    file.write_all(&read.bytes)?;
    Ok(Copy { _dir: dir, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_is_private_fresh_and_gone_when_dropped() {
        let source = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(source.path(), b"library bytes").unwrap();
        let read = read(source.path()).unwrap();
        let first = write(&read, source.path()).unwrap();
        let second = write(&read, source.path()).unwrap();
        assert_ne!(first.path(), second.path(), "never one directory twice");
        assert_eq!(std::fs::read(first.path()).unwrap(), b"library bytes");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let dir = first.path().parent().unwrap();
            let mode = std::fs::metadata(dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "only this user reaches the copy: {mode:o}");
        }
        let kept = first.path().to_path_buf();
        drop(first);
        assert!(!kept.exists() && !kept.parent().unwrap().exists());
        // The same bytes are the same contents, whatever the file.
        let again = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(again.path(), b"library bytes").unwrap();
        assert_eq!(super::read(again.path()).unwrap().contents, read.contents);
        std::fs::write(again.path(), b"library bytes!").unwrap();
        assert_ne!(super::read(again.path()).unwrap().contents, read.contents);
    }
}
