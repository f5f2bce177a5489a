//! The loader maps a private copy of each plugin file, never the file itself.
//!
//! The system loader maps a library's pages from its file. When that file is written over in
//! place (`cp new.so loaded.so` truncates and rewrites the same inode, even with identical
//! bytes), the pages the process runs change under it, and the next touch of a page past the
//! new end kills it with SIGBUS. So the loader reads the file once and writes the bytes where
//! only this process can reach them: on Linux into a sealed memory file (`memfd`), so loading
//! needs neither disk space nor a writable, executable temporary directory; elsewhere into a
//! fresh directory (created anew with a random name, never reused, so nothing planted
//! beforehand is followed), removed at once after mapping, since a mapped library outlives
//! its name on Unix. Nothing is left on disk either way.
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

/// A private copy of a plugin file, ready for the system loader.
pub(crate) enum Copy {
    /// In memory (Linux): a sealed `memfd`, loaded through `/proc/self/fd/N`.
    #[cfg(target_os = "linux")]
    Memory {
        fd: std::os::fd::OwnedFd,
        path: PathBuf,
    },
    /// On disk: the copy and its directory go when this is dropped.
    Disk {
        _dir: tempfile::TempDir,
        path: PathBuf,
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

/// Writes `read` where only this process can reach it, named after the original's file name
/// (loaders and debuggers show it): in memory on Linux, so that loading needs no writable,
/// executable temporary directory and no disk (a debug build of a plugin is tens of
/// megabytes, once per process); in a fresh directory under the system's temporary directory
/// elsewhere, or when the kernel refuses executable memory files.
pub(crate) fn write(read: &Read, original: &Path) -> std::io::Result<Copy> {
    let name = original
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "plugin".into());
    #[cfg(target_os = "linux")]
    if let Some(copy) = in_memory(read, &name)? {
        return Ok(copy);
    }
    on_disk(read, &name)
}

/// A sealed memory file holding `read`, or `None` when the kernel gives no executable one
/// (before Linux 3.17, or `vm.memfd_noexec = 2`). Sealed against writes, so the bytes the
/// checks read are the bytes mapped, whatever else in the process holds the descriptor.
#[cfg(target_os = "linux")]
fn in_memory(read: &Read, name: &std::ffi::OsStr) -> std::io::Result<Option<Copy>> {
    use rustix::fs::{MemfdFlags, SealFlags};
    use rustix::io::Errno;
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
        Err(e) => return Err(e.into()),
    };
    let mut file = std::fs::File::from(fd);
    file.write_all(&read.bytes)?;
    rustix::fs::fcntl_add_seals(
        &file,
        SealFlags::WRITE | SealFlags::SHRINK | SealFlags::GROW | SealFlags::SEAL,
    )?;
    let fd = above_every_earlier_copy(std::os::fd::OwnedFd::from(file));
    let path = PathBuf::from(format!(
        "/proc/self/fd/{}",
        std::os::fd::AsRawFd::as_raw_fd(&fd)
    ));
    Ok(Some(Copy::Memory { fd, path }))
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

fn on_disk(read: &Read, name: &std::ffi::OsStr) -> std::io::Result<Copy> {
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
    file.write_all(&read.bytes)?;
    Ok(Copy::Disk { _dir: dir, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_on_disk_is_private_fresh_and_gone_when_dropped() {
        let source = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(source.path(), b"library bytes").unwrap();
        let read = read(source.path()).unwrap();
        let name = source.path().file_name().unwrap();
        let first = on_disk(&read, name).unwrap();
        let second = on_disk(&read, name).unwrap();
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
        first.handed_to_loader();
        assert!(!kept.exists() && !kept.parent().unwrap().exists());
        // The same bytes are the same contents, whatever the file.
        let again = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(again.path(), b"library bytes").unwrap();
        assert_eq!(super::read(again.path()).unwrap().contents, read.contents);
        std::fs::write(again.path(), b"library bytes!").unwrap();
        assert_ne!(super::read(again.path()).unwrap().contents, read.contents);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn on_linux_the_copy_is_sealed_memory_and_stays_named_once_handed_over() {
        let source = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(source.path(), b"library bytes").unwrap();
        let read = read(source.path()).unwrap();
        let copy = write(&read, source.path()).unwrap();
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
        let other = write(&read, source.path()).unwrap();
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
        let later = write(&read, source.path()).unwrap();
        assert!(number(&later) > closed, "{} after {closed}", number(&later));
    }
}
