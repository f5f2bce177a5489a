//! Finding and loading provider plugins.
//!
//! Plugins are loaded with `abi_stable`'s header and layout checks, but not through
//! `RootModule::load_from*`: those cache one module per type for the whole process, and a host
//! must be able to load several providers side by side. Loaded libraries are never unloaded
//! (`abi_stable`'s rule: code and statics of a plugin may be referenced until exit).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use abi_stable::abi_stability::abi_checking::{self, AbiInstability, AbiInstabilityErrors};
use abi_stable::library::{lib_header_from_path, LibHeader, LibraryError, RootModule};
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::sabi_types::VersionNumber;
use abi_stable::std_types::{ROption, RResult, RStr};
use abi_stable::StableAbi;

use crate::contract::{
    LogLevel, LogRecord, LogSink, LogSink_TO, ProviderMetadata, ProviderModuleRef, CONTRACT_VERSION,
};
use crate::error::{Error, LoadError};
use crate::file_check::{check_object_file, FileProblem};
use crate::host::Provider;
use crate::private_copy;

/// A loaded provider plugin. Cheap to clone; the library stays loaded for the process lifetime.
#[derive(Clone)]
pub struct Plugin {
    module: ProviderModuleRef,
    path: PathBuf,
    metadata: ProviderMetadata,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("path", &self.path)
            .field("metadata", &self.metadata)
            .finish()
    }
}

impl Plugin {
    /// Loads the plugin at `path`, or the first plugin found in `path` if it is a directory.
    ///
    /// A relative path (even a bare `libfoo.so`) means that file under the current directory,
    /// never a library of the same name on the system's search path. The file's headers are
    /// checked before the system loader maps it, so a truncated file is a [`LoadError`], not a
    /// crash.
    pub fn load(path: impl AsRef<Path>) -> Result<Plugin, LoadError> {
        let path = path.as_ref();
        if path.is_dir() {
            return Self::load_from_directory(path);
        }
        if !path.exists() {
            return Err(LoadError::NotFound(path.to_owned()));
        }
        Self::load_file(path)
    }

    /// Every shared library in `dir` that loads as a provider plugin, plus why the others
    /// did not, in file-name order.
    pub fn scan_directory(dir: &Path) -> Vec<(PathBuf, Result<Plugin, LoadError>)> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .filter(|p| is_shared_library(p))
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|p| {
                let loaded = Self::load_file(&p);
                (p, loaded)
            })
            .collect()
    }

    fn load_from_directory(dir: &Path) -> Result<Plugin, LoadError> {
        let mut tried = Vec::new();
        for (path, loaded) in Self::scan_directory(dir) {
            match loaded {
                Ok(plugin) => return Ok(plugin),
                Err(e) => tried.push(format!("{}: {e}", path.display())),
            }
        }
        Err(LoadError::NoPluginInDirectory {
            dir: dir.to_owned(),
            tried: if tried.is_empty() {
                format!("no *{} files", std::env::consts::DLL_SUFFIX)
            } else {
                tried.join("; ")
            },
        })
    }

    fn load_file(path: &Path) -> Result<Plugin, LoadError> {
        // The system loader searches its library path for a name without a slash: the path
        // is made absolute, and errors name exactly the file that was read.
        let path = &std::path::absolute(path).map_err(|e| LoadError::NotAPlugin {
            path: path.to_owned(),
            reason: format!("its absolute path cannot be formed ({e})"),
        })?;
        let copy = private_copy::copy(path).map_err(|e| LoadError::NotAPlugin {
            path: path.clone(),
            reason: match e {
                private_copy::CopyError::Read(e) => format!("it cannot be read ({e})"),
                private_copy::CopyError::Write(e) => format!(
                    "a private copy to load cannot be written ({e}); on disk it goes under {} (TMPDIR)",
                    std::env::temp_dir().display()
                ),
            },
        })?;
        let contents = copy.contents();
        // One lock for the whole load: two threads loading the same bytes get one library
        // (the copy of bytes already mapped is dropped unused).
        let mut mapped = MAPPED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mapped = mapped.get_or_insert_with(Default::default);
        let module = match mapped.get(&contents) {
            Some(module) => *module,
            None => {
                let module = map_private_copy(path, copy)?;
                mapped.insert(contents, module);
                module
            }
        };
        let metadata = (module.metadata())();
        Ok(Plugin {
            module,
            path: path.to_owned(),
            metadata,
        })
    }

    /// The file the plugin was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the plugin is.
    pub fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    /// Creates a provider from the host's configuration document (JSON or JSON5 text; `""`
    /// for all defaults). Configuration errors (kind `config`) name the key, line and column.
    pub fn new_provider(&self, config: &str) -> Result<Provider, Error> {
        match (self.module.new_provider())(config.into()) {
            RResult::ROk(provider) => Ok(Provider::from_raw(provider)),
            RResult::RErr(e) => Err(e.into()),
        }
    }

    /// Routes the plugin's logs to `log(level, target, message)`, every level (contract 1.4).
    /// Returns `false`, and does nothing, when the plugin was built before 1.4 and cannot.
    /// See [`Plugin::set_log_sink_filtered`].
    pub fn set_log_sink(&self, log: impl Fn(LogLevel, &str, &str) + Send + Sync + 'static) -> bool {
        self.set_log_sink_filtered(Some(LogLevel::Trace), |_, _| true, log)
    }

    /// Routes the plugin's logs to `log(level, target, message)` (`message` is the formatted
    /// line, fields included), for the records `enabled(level, target)` accepts at
    /// `max_level` or more severe (`None`: no records). The plugin asks `enabled` once per
    /// log statement and keeps the answer while this sink is installed, so it should depend
    /// only on its arguments; records the host drops are never formatted.
    ///
    /// The sink is process-wide for the plugin's library (loading the same file twice gives
    /// the same library), and a later call replaces it. The callbacks run on the plugin's
    /// threads, concurrently; a panic in them is caught (the record is dropped, `enabled`
    /// counts as `false`). Returns `false` when the plugin predates contract 1.4.
    pub fn set_log_sink_filtered(
        &self,
        max_level: Option<LogLevel>,
        enabled: impl Fn(LogLevel, &str) -> bool + Send + Sync + 'static,
        log: impl Fn(LogLevel, &str, &str) + Send + Sync + 'static,
    ) -> bool {
        let Some(set_log_sink) = self.module.set_log_sink() else {
            return false;
        };
        let sink = GuardedLogSink {
            max_level,
            enabled,
            log,
        };
        set_log_sink(LogSink_TO::from_value(sink, TD_Opaque));
        true
    }

    /// Whether the plugin can take a log sink (built against contract 1.4 or later).
    pub fn supports_log_sink(&self) -> bool {
        self.module.set_log_sink().is_some()
    }
}

/// The libraries this process mapped, by the contents they were mapped from.
static MAPPED: std::sync::Mutex<
    Option<std::collections::HashMap<private_copy::Contents, ProviderModuleRef>>,
> = std::sync::Mutex::new(None);

/// Maps `copy` (of the plugin file at `path`) and initialises its root module. The checks
/// run on the copy, so what is checked is what is mapped.
fn map_private_copy(path: &Path, copy: private_copy::Copy) -> Result<ProviderModuleRef, LoadError> {
    check_object_file(copy.path()).map_err(|problem| match problem {
        FileProblem::NotALibrary(reason) => LoadError::NotAPlugin {
            path: path.to_owned(),
            reason,
        },
        FileProblem::Truncated(reason) => LoadError::Damaged {
            path: path.to_owned(),
            reason,
        },
    })?;
    let header = lib_header_from_path(copy.path());
    copy.handed_to_loader();
    let header = header.map_err(|e| classify(path, e))?;
    match header.init_root_module::<ProviderModuleRef>() {
        Ok(module) => Ok(module),
        Err(LibraryError::AbiInstability(report)) => match init_older_minor(header) {
            Some(loaded) => loaded.map_err(|e| classify(path, e)),
            None => Err(classify(path, LibraryError::AbiInstability(report))),
        },
        Err(e) => Err(classify(path, e)),
    }
}

/// Adapts host closures to the ABI log sink; a panic must never unwind into the plugin.
struct GuardedLogSink<E, L> {
    max_level: Option<LogLevel>,
    enabled: E,
    log: L,
}

impl<E, L> LogSink for GuardedLogSink<E, L>
where
    E: Fn(LogLevel, &str) -> bool + Send + Sync,
    L: Fn(LogLevel, &str, &str) + Send + Sync,
{
    fn max_level(&self) -> ROption<LogLevel> {
        self.max_level.into()
    }

    fn enabled(&self, level: LogLevel, target: RStr<'_>) -> bool {
        self.max_level.is_some_and(|max| level <= max)
            && catch_unwind(AssertUnwindSafe(|| (self.enabled)(level, target.as_str())))
                .unwrap_or(false)
    }

    fn log(&self, record: &LogRecord<'_>) {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            (self.log)(
                record.level,
                record.target.as_str(),
                record.message.as_str(),
            )
        }));
    }
}

/// The root module of a plugin built against an older minor version of this major contract,
/// or `None` when the plugin is not one or its layout is not a prefix of this host's.
///
/// abi_stable's layout check (`init_root_module`) is one-directional: every prefix type (the
/// root module, the `#[sabi_trait]` vtables) may have *more* fields in the library than the
/// host expects, never fewer (abi_stable 0.11 `check_fields`: "too many fields";
/// rodrimati1992/abi_stable_crates#118). So it refuses every plugin built before the host's
/// contract appended a method (`Provider::auth_status` in 1.1, ...), although abi_stable's own
/// accessors are made for exactly that case: a field after `#[sabi(last_prefix_field)]` is
/// read only if the plugin's own vtable has it (its field count travels with the vtable), and
/// `#[sabi_trait]` runs the method's default body otherwise.
///
/// For an older minor the same check is therefore run with the roles swapped: the plugin's
/// layout as the expected one, the host's as the found one. It passes only when every type the
/// plugin was built with equals the host's, except that the host's prefix types may have
/// appended fields, which is what this contract's evolution rules allow a minor version.
fn init_older_minor(header: &LibHeader) -> Option<Result<ProviderModuleRef, LibraryError>> {
    let plugin = VersionNumber::new(header.version_strings()).ok()?;
    let host = VersionNumber::new(ProviderModuleRef::VERSION_STRINGS).ok()?;
    if plugin.major != host.major || plugin.minor >= host.minor {
        return None;
    }
    let plugin_layout = header.layout()?;
    let host_layout = <ProviderModuleRef as StableAbi>::LAYOUT;
    // Swapping the roles also swaps abi_stable's other one-directional checks (a
    // non-exhaustive enum's variants, interface extra checks such as supertraits), so the
    // swap alone would accept more than an older minor. The forward check must therefore fail
    // for one reason only: prefix types of the host with more fields than the plugin's.
    let forward = abi_checking::check_layout_compatibility(host_layout, plugin_layout).err()?;
    if !only_fewer_prefix_fields(&forward) {
        return None;
    }
    // With its own checking state: abi_stable merges every checked prefix type into a
    // process-wide map, and this swapped check would record the host's types as seen from
    // the older plugin, after which a plugin of the host's own minor (loaded later, by the
    // normal check) would be refused as having "too many fields". Each vtable carries its own
    // field count, so nothing relies on that map for an older plugin's types.
    abi_checking::check_layout_compatibility_with_globals(
        plugin_layout,
        host_layout,
        &abi_checking::CheckingGlobals::new(),
    )
    .ok()?;
    // SAFETY: the layouts were just checked compatible for a plugin older than the host: every
    // field both sides have has the same type, and the fields only the host has are appended
    // prefix-type fields, which abi_stable's accessors check against the plugin's own field
    // count at run time (a missing `Provider` method runs its default body).
    Some(unsafe { header.init_root_module_with_unchecked_layout::<ProviderModuleRef>() })
}

/// Whether every difference the forward check found (host expected, plugin found) is a field
/// count where the host has more: what appending prefix-type fields in a minor produces.
/// A non-prefix type with more fields in the host also reports this, but the swapped check
/// refuses that one (only prefix types may have fewer fields on the expected side).
fn only_fewer_prefix_fields(report: &AbiInstabilityErrors) -> bool {
    let mut differences = report.errors.iter().flat_map(|e| e.errs.iter()).peekable();
    differences.peek().is_some()
        && differences
            .all(|d| matches!(d, AbiInstability::FieldCountMismatch(ef) if ef.expected > ef.found))
}

fn is_shared_library(path: &Path) -> bool {
    path.is_file()
        && path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(std::env::consts::DLL_SUFFIX))
}

fn classify(path: &Path, error: LibraryError) -> LoadError {
    let path = path.to_owned();
    match error {
        LibraryError::OpenError { err, .. } => LoadError::NotAPlugin {
            path,
            reason: format!("it cannot be opened as a shared library ({err})"),
        },
        LibraryError::GetSymbolError { .. } => LoadError::NotAPlugin {
            path,
            reason: "it does not export a provider root module (no abi_stable root module symbol)"
                .into(),
        },
        LibraryError::IncompatibleVersionNumber { actual_version, .. } => {
            LoadError::IncompatibleVersion {
                path,
                plugin_version: actual_version.to_string(),
                host_version: CONTRACT_VERSION.into(),
                host_major: CONTRACT_VERSION
                    .split('.')
                    .next()
                    .unwrap_or("?")
                    .to_string(),
            }
        }
        LibraryError::ParseVersionError(e) => LoadError::NotAPlugin {
            path,
            reason: format!("its contract version is unreadable ({e})"),
        },
        LibraryError::AbiInstability(e) => LoadError::IncompatibleLayout {
            path,
            detail: summarize_layout_report(&e.to_string()),
            host_major: host_major(),
        },
        LibraryError::InvalidAbiHeader(h) => LoadError::IncompatibleLayout {
            path,
            detail: format!("it was built with an incompatible abi_stable ({h:?})"),
            host_major: host_major(),
        },
        LibraryError::InvalidCAbi { expected, found } => LoadError::IncompatibleLayout {
            path,
            detail: format!("C ABI mismatch: expected {expected}, found {found}"),
            host_major: host_major(),
        },
        LibraryError::RootModule { err, .. } => LoadError::InitFailed {
            path,
            reason: err.to_string(),
        },
        other => LoadError::NotAPlugin {
            path,
            reason: other.to_string(),
        },
    }
}

fn host_major() -> String {
    CONTRACT_VERSION
        .split('.')
        .next()
        .unwrap_or("?")
        .to_string()
}

/// abi_stable's layout report is long and starts with wrapper types; the user needs the item
/// that differs and how. The report ends with the innermost difference: the last
/// "Layout of expected type:" / "Layout of found type:" pair, and the field named before it.
fn summarize_layout_report(report: &str) -> String {
    let lines: Vec<&str> = report
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let Some(expected_at) = lines.iter().rposition(|l| *l == "Layout of expected type:") else {
        return lines.iter().take(6).copied().collect::<Vec<_>>().join(" ");
    };
    let describe = |from: usize| -> &str {
        // A type layout starts with a banner; its `type:` line names it.
        match lines.get(from + 1) {
            Some(l) if l.starts_with("---") => lines[from..]
                .iter()
                .find_map(|l| l.strip_prefix("type:"))
                .unwrap_or("?"),
            Some(l) => l,
            None => "?",
        }
    };
    let found_at = lines[expected_at..]
        .iter()
        .position(|l| *l == "Layout of found type:")
        .map(|i| expected_at + i);
    let item = lines[..expected_at]
        .iter()
        .rev()
        .filter_map(|l| l.strip_prefix("field_name:"))
        .find(|name| !name.starts_with("__") && !name.chars().all(|c| c.is_ascii_digit()));
    let mut problems: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("Error:"))
        .collect();
    problems.dedup();
    format!(
        "{} differs: expected `{}`, found `{}`{}",
        item.map(|n| format!("`{n}`"))
            .unwrap_or_else(|| "an item".into()),
        describe(expected_at),
        found_at.map(describe).unwrap_or("?"),
        if problems.is_empty() {
            String::new()
        } else {
            format!(" ({})", problems.join(", "))
        }
    )
}

#[cfg(test)]
mod tests {
    //! What `init_older_minor` relies on, shown on a tiny `#[sabi_trait]` in three versions.
    #![allow(non_local_definitions, clippy::unnecessary_cast)]

    use super::only_fewer_prefix_fields;
    use abi_stable::abi_stability::abi_checking;
    use abi_stable::abi_stability::check_layout_compatibility;
    use abi_stable::std_types::RBox;
    use abi_stable::type_layout::TypeLayout;
    use abi_stable::StableAbi;

    mod v1_0 {
        #[abi_stable::sabi_trait]
        pub trait Probe {
            #[sabi(last_prefix_field)]
            fn first(&self) -> u32;
        }
    }

    mod v1_1 {
        #[abi_stable::sabi_trait]
        pub trait Probe {
            #[sabi(last_prefix_field)]
            fn first(&self) -> u32;
            fn second(&self) -> u32 {
                0
            }
        }
    }

    /// A 1.0 that changed a method it shares with 1.1.
    mod v1_0_changed {
        #[abi_stable::sabi_trait]
        pub trait Probe {
            #[sabi(last_prefix_field)]
            fn first(&self) -> u64;
        }
    }

    /// abi_stable's check: `expected` is the loader's layout, `found` the library's.
    fn compatible(expected: &'static TypeLayout, found: &'static TypeLayout) -> bool {
        check_layout_compatibility(expected, found).is_ok()
    }

    #[test]
    fn abi_stable_accepts_newer_libraries_only_so_older_ones_are_checked_swapped() {
        let v1_0 = <v1_0::Probe_TO<'static, RBox<()>> as StableAbi>::LAYOUT;
        let v1_1 = <v1_1::Probe_TO<'static, RBox<()>> as StableAbi>::LAYOUT;
        let changed = <v1_0_changed::Probe_TO<'static, RBox<()>> as StableAbi>::LAYOUT;

        // A 1.1 host refuses a 1.0 library ("too many fields": the host's vtable has more).
        assert!(!compatible(v1_1, v1_0));
        // The swapped check (the library's layout as the expected one) accepts it; it is the
        // check a 1.0 host loading a 1.1 library makes, which abi_stable accepts.
        assert!(compatible(v1_0, v1_1));
        // Swapped, a 1.0 whose shared method differs is still refused.
        assert!(!compatible(changed, v1_1));
        // And the forward check refuses it too.
        assert!(!compatible(v1_1, changed));
    }

    #[test]
    fn the_older_minor_path_accepts_only_appended_prefix_fields() {
        let v1_0 = <v1_0::Probe_TO<'static, RBox<()>> as StableAbi>::LAYOUT;
        let v1_1 = <v1_1::Probe_TO<'static, RBox<()>> as StableAbi>::LAYOUT;
        let changed = <v1_0_changed::Probe_TO<'static, RBox<()>> as StableAbi>::LAYOUT;
        let forward = |host, plugin| abi_checking::check_layout_compatibility(host, plugin);

        // A 1.1 host and a 1.0 plugin differ only by the appended method.
        assert!(only_fewer_prefix_fields(&forward(v1_1, v1_0).unwrap_err()));
        // A changed method is another difference: refused, whatever the swapped check says.
        assert!(!only_fewer_prefix_fields(
            &forward(v1_1, changed).unwrap_err()
        ));
        // A plain struct with a field fewer in the plugin is not a prefix type.
        #[repr(C)]
        #[derive(StableAbi)]
        struct Two {
            a: u32,
            b: u32,
        }
        #[repr(C)]
        #[derive(StableAbi)]
        struct One {
            a: u32,
        }
        let struct_report = forward(Two::LAYOUT, One::LAYOUT).unwrap_err();
        assert!(
            !only_fewer_prefix_fields(&struct_report) || !compatible(One::LAYOUT, Two::LAYOUT),
            "a non-prefix struct must be refused by one of the two checks"
        );
    }
}
