//! The loader maps a private copy of each plugin file, never the file itself.
//!
//! The system loader maps a library's pages from its file. When that file is written over in
//! place (`cp new.so loaded.so` truncates and rewrites the same inode, even with identical
//! bytes), the pages the process runs change under it, and the next touch of a page past the
//! new end kills it with SIGBUS. So the loader reads the file once, into a copy only this
//! process can reach: on Linux a sealed memory file (`memfd`), filled by the kernel without a
//! buffer of ours (`copy_file_range`), so loading needs neither disk space nor a writable,
//! executable temporary directory; elsewhere a
//! fresh directory (created anew with a random name, never reused, so nothing planted
//! beforehand is followed), removed at once after mapping, since a mapped library outlives
//! its name on Unix. Nothing is left on disk either way.
//!
//! The bytes' digest names the library: loading the same bytes again (the same file, or an
//! identical copy written over it) hands back the library already mapped, so a plugin's
//! process-wide state (its log sink, its runtime) stays one per library, as with `dlopen`.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The identity of a plugin file's contents: its length and a 128-bit digest of its bytes
/// (XXH3: a debug plugin is tens of megabytes, read at every load; SipHash took a third of a
/// second for one in a debug build).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Contents {
    len: u64,
    digest: u128,
}

/// Digests `reader`'s bytes (128-bit XXH3) a buffer at a time, counting them.
fn contents_of(mut reader: impl std::io::Read) -> std::io::Result<Contents> {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buffer[..n]);
        len += n as u64;
    }
    Ok(Contents {
        len,
        digest: hasher.digest128(),
    })
}

/// Why a private copy could not be made.
pub(crate) enum CopyError {
    /// The plugin file could not be opened or read.
    Read(std::io::Error),
    /// The copy could not be written.
    Write(std::io::Error),
}

/// A private copy of the plugin file at `original`, with the identity of the bytes it holds
/// (digested from the copy: what is named is what will be mapped).
pub(crate) fn copy(original: &Path) -> Result<Copy, CopyError> {
    let mut source = std::fs::File::open(original).map_err(CopyError::Read)?;
    let name = original
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "plugin".into());
    #[cfg(target_os = "linux")]
    if let Some(copy) = in_memory(&mut source, &name)? {
        return Ok(copy);
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut source, &mut bytes).map_err(CopyError::Read)?;
    on_disk(&bytes, &name).map_err(CopyError::Write)
}

/// A private copy of a plugin file, ready for the system loader.
pub(crate) enum Copy {
    /// In memory (Linux): a sealed `memfd`, loaded through `/proc/self/fd/N`.
    #[cfg(target_os = "linux")]
    Memory {
        fd: std::os::fd::OwnedFd,
        path: PathBuf,
        contents: Contents,
    },
    /// On disk: the copy and its directory go when this is dropped.
    Disk {
        _dir: tempfile::TempDir,
        path: PathBuf,
        contents: Contents,
    },
}

impl Copy {
    /// Where the copy is (to hand to the system loader).
    pub fn path(&self) -> &Path {
        match self {
            #[cfg(target_os = "linux")]
            Copy::Memory { path, .. } => path,
            Copy::Disk { path, .. } => path,
        }
    }

    /// The identity of the bytes it holds.
    pub fn contents(&self) -> Contents {
        match self {
            #[cfg(target_os = "linux")]
            Copy::Memory { contents, .. } => *contents,
            Copy::Disk { contents, .. } => *contents,
        }
    }

    /// Lets the copy go once the system loader has been handed its path, whatever it answered.
    /// A file on disk is removed (a mapped library outlives its name). A memory copy is kept
    /// open for the process's life: the loader keeps the library under the name
    /// `/proc/self/fd/N`, and a closed descriptor's number would soon name another file, which
    /// the loader would then take for the library it already has.
    pub fn handed_to_loader(self) {
        match self {
            #[cfg(target_os = "linux")]
            Copy::Memory { fd, .. } => std::mem::forget(fd),
            Copy::Disk { .. } => {}
        }
    }
}

/// A sealed memory file holding `source`'s bytes, or `None` when the kernel gives no
/// executable one (before Linux 3.17, or `vm.memfd_noexec = 2`). Sealed against writes, so
/// the bytes the checks read are the bytes mapped, whatever else in the process holds the
/// descriptor.
#[cfg(target_os = "linux")]
fn in_memory(
    source: &mut std::fs::File,
    name: &std::ffi::OsStr,
) -> Result<Option<Copy>, CopyError> {
    use rustix::fs::{MemfdFlags, SealFlags};
    use rustix::io::Errno;
    use std::io::Seek;
    let flags = MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING;
    // `MFD_EXEC` (Linux 6.3) keeps the file executable where `vm.memfd_noexec = 1` would make
    // it noexec by default; older kernels refuse the flag and make every memfd executable.
    let fd = match rustix::fs::memfd_create(name, flags | MemfdFlags::EXEC) {
        Err(Errno::INVAL) => rustix::fs::memfd_create(name, flags),
        created => created,
    };
    let fd = match fd {
        Ok(fd) => fd,
        Err(Errno::NOSYS | Errno::ACCESS | Errno::PERM | Errno::INVAL) => return Ok(None),
        Err(e) => return Err(CopyError::Write(e.into())),
    };
    let mut file = std::fs::File::from(fd);
    // File to file: the kernel copies (copy_file_range), through no buffer of ours.
    std::io::copy(source, &mut file).map_err(CopyError::Write)?;
    rustix::fs::fcntl_add_seals(
        &file,
        SealFlags::WRITE | SealFlags::SHRINK | SealFlags::GROW | SealFlags::SEAL,
    )
    .map_err(|e| CopyError::Write(e.into()))?;
    file.rewind().map_err(CopyError::Write)?;
    let contents = contents_of(&mut file).map_err(CopyError::Write)?;
    let fd = above_every_earlier_copy(std::os::fd::OwnedFd::from(file));
    let path = PathBuf::from(format!(
        "/proc/self/fd/{}",
        std::os::fd::AsRawFd::as_raw_fd(&fd)
    ));
    Ok(Some(Copy::Memory { fd, path, contents }))
}

/// The lowest descriptor number the next memory copy may take.
#[cfg(target_os = "linux")]
static NEXT_NUMBER: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(256);

/// `fd` moved to a number above every earlier copy's, so that no two copies are ever named
/// by the same `/proc/self/fd/N`, even in a host that closes descriptors it did not open (a
/// closed number would be handed out again, and the system loader would take the path for
/// the library it already mapped under it). Past the process's descriptor limit the
/// kernel's own number is kept.
#[cfg(target_os = "linux")]
fn above_every_earlier_copy(fd: std::os::fd::OwnedFd) -> std::os::fd::OwnedFd {
    use std::sync::atomic::Ordering;
    let floor = NEXT_NUMBER.load(Ordering::Acquire);
    match rustix::io::fcntl_dupfd_cloexec(&fd, floor) {
        Ok(moved) => {
            let number = std::os::fd::AsRawFd::as_raw_fd(&moved);
            NEXT_NUMBER.fetch_max(number.saturating_add(1), Ordering::AcqRel);
            moved
        }
        Err(_) => fd,
    }
}

/// `bytes` in a fresh 0700 directory under the system's temporary directory, keeping the
/// original's file name (loaders and debuggers show it).
fn on_disk(bytes: &[u8], name: &std::ffi::OsStr) -> std::io::Result<Copy> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("host-sdk-plugin-");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
    let dir = builder.tempdir()?;
    let path = dir.path().join(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o700);
    let mut file = options.open(&path)?;
    // No fsync: the copy is mapped and removed at once, never read after a crash.
    file.write_all(bytes)?;
    Ok(Copy::Disk {
        _dir: dir,
        path,
        contents: contents_of(bytes)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin_file(bytes: &[u8]) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), bytes).unwrap();
        file
    }

    #[test]
    fn a_copy_on_disk_is_private_fresh_and_gone_when_dropped() {
        let name = std::ffi::OsStr::new("libplugin.so");
        let first = on_disk(b"library bytes", name).unwrap();
        let second = on_disk(b"library bytes", name).unwrap();
        assert_ne!(first.path(), second.path(), "never one directory twice");
        assert_eq!(std::fs::read(first.path()).unwrap(), b"library bytes");
        assert_eq!(first.contents(), second.contents());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let dir = first.path().parent().unwrap();
            let mode = std::fs::metadata(dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "only this user reaches the copy: {mode:o}");
        }
        let kept = first.path().to_path_buf();
        first.handed_to_loader();
        assert!(!kept.exists() && !kept.parent().unwrap().exists());
    }

    #[test]
    fn the_same_bytes_are_the_same_contents_whatever_the_file() {
        let one = copy(plugin_file(b"library bytes").path()).ok().unwrap();
        let two = copy(plugin_file(b"library bytes").path()).ok().unwrap();
        let other = copy(plugin_file(b"library bytes!").path()).ok().unwrap();
        assert_eq!(one.contents(), two.contents());
        assert_ne!(one.contents(), other.contents());
        // Whichever way it was copied, one digest names the bytes.
        let on_disk = on_disk(b"library bytes", std::ffi::OsStr::new("x")).unwrap();
        assert_eq!(on_disk.contents(), one.contents());
        assert!(matches!(
            copy(Path::new("/nonexistent/libplugin.so")),
            Err(CopyError::Read(_))
        ));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn on_linux_the_copy_is_sealed_memory_and_stays_named_once_handed_over() {
        let source = plugin_file(b"library bytes");
        let copy = super::copy(source.path()).ok().unwrap();
        assert!(matches!(copy, Copy::Memory { .. }), "{:?}", copy.path());
        let path = copy.path().to_path_buf();
        assert!(path.starts_with("/proc/self/fd"), "{path:?}");
        assert_eq!(std::fs::read(&path).unwrap(), b"library bytes");
        let target = std::fs::read_link(&path).unwrap();
        assert!(
            target.to_string_lossy().starts_with("/memfd:"),
            "in memory, not on disk: {target:?}"
        );
        // Sealed: what the checks read is what the loader maps.
        let writable = std::fs::OpenOptions::new().write(true).open(&path);
        assert!(
            writable.and_then(|mut f| f.write_all(b"X")).is_err(),
            "a sealed copy takes no writes"
        );
        copy.handed_to_loader();
        // The name the loader knows the library by keeps naming these bytes.
        let other = super::copy(source.path()).ok().unwrap();
        assert_ne!(
            other.path(),
            path,
            "a name the loader holds is never reused"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"library bytes");
        // Even when a host closes a copy's descriptor, no later copy takes its number.
        let number = |copy: &Copy| -> i32 {
            copy.path()
                .file_name()
                .and_then(|n| n.to_str()?.parse().ok())
                .unwrap()
        };
        let closed = number(&other);
        drop(other);
        let later = super::copy(source.path()).ok().unwrap();
        assert!(number(&later) > closed, "{} after {closed}", number(&later));
    }
}
