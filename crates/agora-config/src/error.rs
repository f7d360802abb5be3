//! Where a value came from, and the errors that stop startup.

use std::fmt;
use std::path::PathBuf;

/// Where an effective value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// agora's built-in default.
    Default,
    /// Athens' default for a key the Athens-format config file does not set. An Athens file
    /// means "behave as Athens would with this file", so Athens' defaults apply to it (for
    /// example `Port` defaults to `:3000`, all interfaces).
    AthensDefault {
        /// The Athens config file that was loaded.
        file: PathBuf,
    },
    /// A config file.
    File {
        /// The file, as given to [`crate::load`].
        path: PathBuf,
    },
    /// An environment variable.
    Env {
        /// The variable's name.
        name: String,
    },
}

impl Source {
    /// Short form for error messages, which name the key separately:
    /// `default`, `Athens default`, `file <path>` or `env`.
    pub fn location(&self) -> String {
        match self {
            Self::Default => "default".to_owned(),
            Self::AthensDefault { .. } => "Athens default".to_owned(),
            Self::File { path } => format!("file {}", path.display()),
            Self::Env { .. } => "env".to_owned(),
        }
    }

    pub(crate) fn file(path: &std::path::Path) -> Self {
        Self::File {
            path: path.to_path_buf(),
        }
    }

    pub(crate) fn env(name: &str) -> Self {
        Self::Env {
            name: name.to_owned(),
        }
    }
}

/// `default`, `default (Athens, file <path>)`, `file <path>` or `env NAME`.
impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::AthensDefault { file } => {
                write!(f, "default (Athens, file {})", file.display())
            }
            Self::File { path } => write!(f, "file {}", path.display()),
            Self::Env { name } => write!(f, "env {name}"),
        }
    }
}

/// A configuration problem that stops startup. Every variant names the offending key and
/// where it was set.
///
/// Values are quoted in messages; a future secret-valued key must not use
/// [`ConfigError::Invalid`] with its raw value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {}: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        error: std::io::Error,
    },
    /// The config file is not valid TOML, or (agora format) has an unknown key or a
    /// misplaced table. The message comes from the TOML parser and names the key and line.
    #[error("cannot parse config file {}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The config file mixes agora's lowercase keys and Athens' CamelCase keys at the top
    /// level, so its format cannot be told.
    #[error(
        "config file {} mixes agora keys (such as `{agora_key}`) and Athens keys (such as \
         `{athens_key}`); a file must use one format",
        path.display()
    )]
    MixedFormat {
        /// The file.
        path: PathBuf,
        /// One lowercase (agora) top-level key.
        agora_key: String,
        /// One CamelCase (Athens) top-level key.
        athens_key: String,
    },
    /// A value could not be parsed or is out of range.
    #[error("invalid value {value} for {key} ({}): {reason}", origin.location())]
    Invalid {
        /// The key as spelled where it was set: a TOML key path or an environment variable
        /// name (for list entries, e.g. `GOPROXY in ATHENS_GO_BINARY_ENV_VARS`).
        key: String,
        /// Where it was set.
        origin: Source,
        /// The offending value, quoted.
        value: String,
        /// What was expected, or why the value is wrong.
        reason: String,
    },
    /// An agora environment variable and an Athens one set the same setting to different
    /// values.
    #[error(
        "{setting} is set twice with different values: {agora} and {athens}; unset one of them"
    )]
    Conflict {
        /// agora's key name of the setting, e.g. `upstream.timeout`.
        setting: &'static str,
        /// The agora-named variable.
        agora: Box<Setter>,
        /// The Athens-named variable.
        athens: Box<Setter>,
    },
    /// Two settings that exclude each other are both set (`upstream.netrc_path` and
    /// `upstream.github_token`, which Athens refuses together too).
    #[error("{first} and {second} cannot both be set; unset one of them")]
    Exclusive {
        /// The first setting, as set.
        first: Box<Setter>,
        /// The second setting, as set.
        second: Box<Setter>,
    },
    /// Half of a pair that only works together is set: a TLS certificate without its
    /// key, a basic-auth user without a password. Athens then silently serves without
    /// TLS or without authentication; agora refuses instead.
    #[error("{set} is set but {missing} is not; set both (it is set by {names})")]
    Incomplete {
        /// The half that is set.
        set: Box<Setter>,
        /// agora's key of the missing half.
        missing: &'static str,
        /// The ways to set the missing half.
        names: String,
    },
    /// The selected storage needs a setting that is not set.
    #[error(
        "{key} must be set when the storage type is {storage_type} (storage type set in {}); \
         it is set by {names}",
        origin.location()
    )]
    Missing {
        /// agora's key, e.g. `storage.s3.bucket`.
        key: &'static str,
        /// The ways to set it (file keys and environment variables), for the message.
        names: String,
        /// The storage type.
        storage_type: String,
        /// Where the storage type was selected.
        origin: Source,
    },
    /// The storage type is an Athens backend that agora does not implement yet.
    #[error(
        "storage type {kind} is not supported yet (set by {key} ({})); agora supports disk, \
         memory, s3, minio, azure (azureblob), gcp, external and mongo",
        origin.location()
    )]
    UnsupportedStorage {
        /// The Athens storage type, e.g. `s3`.
        kind: String,
        /// The key that selected it.
        key: String,
        /// Where that key was set.
        origin: Source,
    },
}

/// One of the two sides of a [`ConfigError::Conflict`]. Displays as `KEY (where) = value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setter {
    /// The key as spelled where it was set.
    pub key: String,
    /// Where it was set.
    pub origin: Source,
    /// Its value, rendered as in `config show` (so secrets are redacted).
    pub value: String,
}

impl fmt::Display for Setter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}) = {}",
            self.key,
            self.origin.location(),
            self.value
        )
    }
}
