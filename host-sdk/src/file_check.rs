//! Checks a plugin file before the system loader maps it.
//!
//! The system loader (`dlopen`) maps a library's segments where its headers say they are. In a
//! truncated file (an interrupted copy or download) those places lie past the end, and the
//! first touch of such a page kills the whole process with SIGBUS, long after any error could
//! be returned. So the headers are read first (with `object`, reading only the bytes it needs)
//! and a file whose segments or sections do not fit inside it is refused.

use std::fs::File;
use std::path::Path;

use object::read::ReadCache;
use object::{Object, ObjectSection, ObjectSegment};

/// Why a file cannot be handed to the system loader.
pub(crate) enum FileProblem {
    /// Unreadable, or not an object file at all.
    NotALibrary(String),
    /// An object file whose headers point past its end.
    Truncated(String),
}

/// Why `path` cannot be a loadable library, or `Ok` when its headers fit the file.
pub(crate) fn check_object_file(path: &Path) -> Result<(), FileProblem> {
    let unreadable =
        |e: std::io::Error| FileProblem::NotALibrary(format!("it cannot be read ({e})"));
    let file = File::open(path).map_err(unreadable)?;
    let len = file.metadata().map_err(unreadable)?.len();
    let cache = ReadCache::new(file);
    // Known magic but unreadable headers: an object file cut short (its section headers sit
    // at the end), not some other kind of file.
    object::FileKind::parse(&cache).map_err(|e| {
        FileProblem::NotALibrary(format!("it is not a shared library ({e}; {len} bytes)"))
    })?;
    let parsed = object::File::parse(&cache).map_err(|e| {
        FileProblem::Truncated(format!(
            "it is truncated or damaged: its object-file headers cannot be read ({e}; {len} bytes)"
        ))
    })?;
    let beyond = |what: &str, name: &str, (offset, size): (u64, u64)| {
        let end = offset.checked_add(size);
        match end {
            Some(end) if end <= len => Ok(()),
            _ => Err(FileProblem::Truncated(format!(
                "it is truncated or damaged: its {what} {name} claims bytes {offset}..{} but the file has {len} bytes",
                end.map_or("overflow".to_string(), |e| e.to_string())
            ))),
        }
    };
    for (i, segment) in parsed.segments().enumerate() {
        beyond("segment", &format!("#{i}"), segment.file_range())?;
    }
    for section in parsed.sections() {
        if let Some(range) = section.file_range() {
            let name = section.name().unwrap_or("?").to_string();
            beyond("section", &name, range)?;
        }
    }
    Ok(())
}
