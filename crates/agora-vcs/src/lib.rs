//! Direct-mode module fetching from git, with the go command's results.
//!
//! This crate owns what the go command does under `GOPROXY=direct` to fetch
//! a module from git, once the repository is known: finding it (discovery)
//! is `agora_upstream::discovery`, which passes the repository URL, root and
//! subdirectory to [`DirectModule`].
//!
//! * [`git`]: [`GitRepo`], one persistent bare mirror per repository URL in a
//!   cache directory, fetched incrementally with the git CLI, and the few
//!   git queries the module logic needs (refs, commit metadata, files at a
//!   commit, ancestry, tree listings, blob streams, `git archive`).
//! * [`module`]: [`DirectModule`], the module-level semantics of
//!   `cmd/go/internal/modfetch/coderepo.go`: the version list, resolving a
//!   query to a canonical version or a pseudo-version, `latest`, the go.mod
//!   of a version (major-version subdirectories, synthesized go.mod) and the
//!   module zip.
//! * [`modzip`]: building a module zip by the `golang.org/x/mod/zip`
//!   rules from the tree (reusing the deflated blobs of the module's
//!   previous zip) or from `git archive` output, streamed entry by entry,
//!   with its `h1:`.
//! * [`modfile`]: the small, lax go.mod reading the above needs (module
//!   path, `go` directive, `retract` directives).
//!
//! * `proc`: running git so that a deadline kills its whole process group
//!   and nothing outlives agora.
//!
//! Everything here is blocking (it runs git subprocesses and file I/O) except
//! [`GitRepo::load_refs`], the fetch from the remote: async callers load the
//! refs with it (no thread waits on a slow remote, and concurrent callers
//! share one fetch), then run the rest on a blocking thread. The ground
//! truth for every rule is the go command's source; see `docs/vcs.md`.

pub mod git;
pub mod modfile;
pub mod module;
pub mod modzip;
mod proc;
mod timefmt;

pub use git::{Archive, GitEnvFn, GitRepo, Mirrors, RemoteEnv};
pub use module::{DirectModule, Origin, RevInfo, Versions};
pub use modzip::ZipSummary;

/// The broad class of a failure, for mapping to a response status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The revision, version or module does not exist in the repository
    /// (the go command's `fs.ErrNotExist` family: unknown revision, missing
    /// go.mod, a tag for another module).
    NotFound,
    /// The version exists but is not valid for this module (wrong major
    /// version, a bad pseudo-version, files the zip rules refuse).
    Invalid,
    /// The remote repository could not be reached or failed.
    Unavailable,
    /// The remote repository did not answer in time.
    Timeout,
    /// git failed locally or the mirror could not be read or written.
    Internal,
}

/// Why a direct fetch failed. Messages follow the go command's wording where
/// it has one, so that clients see familiar text.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// See [`ErrorKind::NotFound`].
    #[error("{0}")]
    NotFound(String),
    /// See [`ErrorKind::Invalid`].
    #[error("{0}")]
    Invalid(String),
    /// Talking to the remote failed (see [`ErrorKind::Unavailable`]).
    #[error("{0}")]
    Unavailable(String),
    /// Talking to the remote took longer than the configured limit.
    #[error("{0}")]
    Timeout(String),
    /// A local git command failed.
    #[error("git {args}: {stderr}")]
    Git {
        /// The arguments, for the log.
        args: String,
        /// What git printed on stderr (trimmed).
        stderr: String,
    },
    /// Local I/O failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// An error of class `kind` with message `msg` (for passing one
    /// failure on to several callers).
    pub fn from_kind(kind: ErrorKind, msg: String) -> Self {
        match kind {
            ErrorKind::NotFound => Error::NotFound(msg),
            ErrorKind::Invalid => Error::Invalid(msg),
            ErrorKind::Unavailable => Error::Unavailable(msg),
            ErrorKind::Timeout => Error::Timeout(msg),
            ErrorKind::Internal => Error::Io(std::io::Error::other(msg)),
        }
    }

    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::Invalid(_) => ErrorKind::Invalid,
            Error::Unavailable(_) => ErrorKind::Unavailable,
            Error::Timeout(_) => ErrorKind::Timeout,
            Error::Git { .. } | Error::Io(_) => ErrorKind::Internal,
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    /// The server shares these across request tasks and blocking threads.
    #[test]
    fn shareable_across_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<crate::DirectModule>();
        send_sync::<crate::Mirrors>();
        send_sync::<crate::Error>();
    }
}
