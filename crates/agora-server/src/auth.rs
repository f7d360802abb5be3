//! Client authentication and per-user access to module patterns.
//!
//! Two sources of users, either or both:
//! - Athens' single basic-auth user (`auth.basic_user`, `auth.basic_password`), who
//!   may read everything;
//! - the auth file (`auth.file`): `[[user]]` tables of `name`, `password_hash`
//!   (argon2 PHC string, or bcrypt) and `modules` (GOPRIVATE-style patterns, `"*"`
//!   for all). The file never holds a password. It is re-read when it changes and
//!   on SIGHUP ([`Access::watch`]); a broken new version is logged and the previous
//!   one stays in force.
//!
//! [`require`] is the tower layer: every request but `/healthz` and `/readyz`
//! (at the root and under the path prefix) needs credentials, else 401 with
//! `WWW-Authenticate: Basic`. It leaves the [`Reader`] in the request's
//! extensions; the module endpoints answer 403 with a one-line reason for a module
//! outside its patterns, and `/catalog` lists only the modules it may read.
//!
//! Password hashes are slow on purpose (argon2id: about 19 MiB and tens of
//! milliseconds per check), so they are verified on the blocking pool, at most one
//! per core at a time, and a successful verification is remembered for
//! [`VERIFIED_TTL`], keyed by a SHA-256 of the user, the password and the user's
//! hash (so a changed hash or a removed user is never served from memory). Failed
//! checks are not remembered. An unknown user costs one verification against a
//! dummy hash, so response times do not tell which user names exist. The basic
//! user's credentials are compared as SHA-256 digests in constant time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant, SystemTime};

use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use http::{HeaderValue, StatusCode, header};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;
use tracing::{error, info, warn};

use crate::ApiError;

/// How long a verified (user, password) pair is trusted without checking the
/// hash again.
pub const VERIFIED_TTL: Duration = Duration::from_secs(300);

/// At most this many remembered verifications; past it, expired ones are
/// dropped, and if none are, all are (a flood of distinct valid credentials
/// only costs the hash checks again).
const VERIFIED_MAX: usize = 10_000;

/// How often [`Access::watch`] looks at the auth file's metadata.
pub const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// An auth file larger than this is refused: it is a list of users, not data.
const MAX_FILE_BYTES: u64 = 4 << 20;

/// Who a request is from, once authenticated, and what it may read.
#[derive(Debug, Clone)]
pub struct Reader {
    name: Arc<str>,
    /// Comma-joined patterns for `match_prefix_patterns`; `None` means all.
    modules: Option<Arc<str>>,
}

impl Reader {
    /// The user's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the user may read `module` (a module path).
    pub fn may_read(&self, module: &str) -> bool {
        match &self.modules {
            None => true,
            Some(globs) => agora_core::pattern::match_prefix_patterns(globs, module),
        }
    }
}

/// A password hash from the auth file, checked when parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Hash {
    Argon2(String),
    Bcrypt(String),
}

impl Hash {
    fn parse(s: &str) -> Result<Hash, String> {
        if s.starts_with("$argon2") {
            PasswordHash::new(s).map_err(|e| format!("not an argon2 PHC string: {e}"))?;
            Ok(Hash::Argon2(s.to_owned()))
        } else if ["$2a$", "$2b$", "$2y$", "$2x$"]
            .iter()
            .any(|p| s.starts_with(p))
        {
            if s.len() != 60 {
                return Err("not a bcrypt hash (expected 60 characters)".to_owned());
            }
            Ok(Hash::Bcrypt(s.to_owned()))
        } else {
            Err(
                "expected an argon2 PHC string ($argon2id$...) or a bcrypt hash ($2b$...); \
                 make one with `agora auth hash`"
                    .to_owned(),
            )
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Hash::Argon2(s) | Hash::Bcrypt(s) => s,
        }
    }

    /// Checks `password`; slow, so call it on the blocking pool.
    fn verify(&self, password: &str) -> bool {
        match self {
            Hash::Argon2(s) => PasswordHash::new(s).is_ok_and(|h| {
                argon2::Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            }),
            Hash::Bcrypt(s) => bcrypt::verify(password, s).unwrap_or(false),
        }
    }
}

/// One user of the auth file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct User {
    hash: Hash,
    /// Comma-joined; `None` when the patterns include `"*"`.
    modules: Option<Arc<str>>,
}

/// The parsed auth file: users by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthFile {
    users: HashMap<String, User>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    #[serde(default)]
    user: Vec<UserToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserToml {
    name: String,
    password_hash: String,
    modules: Vec<String>,
}

impl AuthFile {
    /// Parses an auth file's text.
    ///
    /// # Errors
    /// The reason, naming the user: bad TOML or an unknown key (a `password` key
    /// included: the file holds hashes only), an empty or duplicate name, a name
    /// with `:` (basic auth cannot carry it), a hash that is neither argon2 nor
    /// bcrypt, or a malformed module pattern.
    pub fn parse(text: &str) -> Result<AuthFile, String> {
        // The parser's own message quotes the offending line, which could be a
        // password someone put in by mistake: keep the reason and the line number.
        let file: FileToml = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text.bytes().take(s.start).filter(|&b| b == b'\n').count() + 1);
            match line {
                Some(n) => format!("line {n}: {}", e.message().trim()),
                None => e.message().trim().to_owned(),
            }
        })?;
        let mut users = HashMap::new();
        for (i, u) in file.user.into_iter().enumerate() {
            let at = format!("user {} ({:?})", i + 1, u.name);
            if u.name.is_empty() || u.name.contains(':') || u.name.chars().any(char::is_control) {
                return Err(format!(
                    "{at}: a name must be non-empty, without ':' or control characters"
                ));
            }
            let hash = Hash::parse(u.password_hash.trim()).map_err(|e| format!("{at}: {e}"))?;
            let mut all = false;
            let mut patterns = Vec::new();
            for p in &u.modules {
                let p = p.trim();
                if p == "*" {
                    all = true;
                } else if p.is_empty() || p.contains(',') {
                    return Err(format!(
                        "{at}: module pattern {p:?} must be one non-empty pattern (no commas)"
                    ));
                } else if agora_core::pattern::path_match(p, "").is_err() {
                    return Err(format!("{at}: module pattern {p:?} is malformed"));
                } else {
                    patterns.push(p);
                }
            }
            let modules = (!all).then(|| Arc::from(patterns.join(",")));
            if users
                .insert(u.name.clone(), User { hash, modules })
                .is_some()
            {
                return Err(format!("{at}: the name appears twice"));
            }
        }
        Ok(AuthFile { users })
    }

    /// How many users it has.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether it has no users.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

/// Hashes `password` as agora's auth file stores it: argon2id with the crate's
/// defaults (19 MiB, 2 passes, 1 lane) and a random salt, as a PHC string.
///
/// # Errors
/// When the system's random source fails.
pub fn hash_password(password: &str) -> Result<String, String> {
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Which identity and metadata the auth file was last read with.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    #[cfg(unix)]
    ino: u64,
}

fn stamp(path: &Path) -> std::io::Result<Stamp> {
    let m = std::fs::metadata(path)?;
    Ok(Stamp {
        modified: m.modified().ok(),
        len: m.len(),
        #[cfg(unix)]
        ino: std::os::unix::fs::MetadataExt::ino(&m),
    })
}

fn read_file(path: &Path) -> Result<(AuthFile, Stamp), String> {
    use std::io::Read;
    let before = stamp(path).map_err(|e| e.to_string())?;
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_string(&mut text))
        .map_err(|e| e.to_string())?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("larger than {MAX_FILE_BYTES} bytes"));
    }
    Ok((AuthFile::parse(&text)?, before))
}

struct Inner {
    /// SHA-256 of the basic user's name and password.
    basic: Option<([u8; 32], [u8; 32], Arc<str>)>,
    file: Option<PathBuf>,
    users: RwLock<Arc<AuthFile>>,
    stamp: Mutex<Option<Stamp>>,
    verified: Mutex<HashMap<[u8; 32], Instant>>,
    /// Hash checks running at once.
    verifying: Semaphore,
}

/// The authentication state the server checks requests against; cheap to clone.
#[derive(Clone)]
pub struct Access(Arc<Inner>);

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("basic", &self.0.basic.is_some())
            .field("file", &self.0.file)
            .finish_non_exhaustive()
    }
}

impl Access {
    /// Builds the state from the basic user (name, password) and the auth file,
    /// which is read now.
    ///
    /// # Errors
    /// When the auth file cannot be read or is broken: the reason, naming it.
    pub fn new(basic: Option<(&str, &str)>, file: Option<&Path>) -> Result<Access, String> {
        let (users, stamp) = match file {
            None => (AuthFile::default(), None),
            Some(path) => {
                let (users, stamp) =
                    read_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
                (users, Some(stamp))
            }
        };
        let parallel = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Ok(Access(Arc::new(Inner {
            basic: basic.map(|(u, p)| (sha256(u.as_bytes()), sha256(p.as_bytes()), Arc::from(u))),
            file: file.map(Path::to_path_buf),
            users: RwLock::new(Arc::new(users)),
            stamp: Mutex::new(stamp),
            verified: Mutex::new(HashMap::new()),
            verifying: Semaphore::new(parallel),
        })))
    }

    /// How many users the auth file has now.
    pub fn file_users(&self) -> usize {
        self.users().len()
    }

    fn users(&self) -> Arc<AuthFile> {
        match self.0.users.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Re-reads the auth file if its metadata changed since the last read (or
    /// always, when `force`). A broken file keeps the previous users and is
    /// logged. Returns whether new users are in force.
    pub fn reload(&self, force: bool) -> bool {
        let Some(path) = &self.0.file else {
            return false;
        };
        let current = stamp(path).ok();
        {
            let last = lock(&self.0.stamp);
            // A missing file compares equal to the last failed look, so it is
            // reported once, not at every poll.
            if !force && *last == current {
                return false;
            }
        }
        match read_file(path) {
            Ok((users, stamp)) => {
                let n = users.len();
                *lock(&self.0.stamp) = Some(stamp);
                match self.0.users.write() {
                    Ok(mut g) => *g = Arc::new(users),
                    Err(p) => *p.into_inner() = Arc::new(users),
                }
                info!(path = %path.display(), users = n, "auth file reloaded");
                true
            }
            Err(e) => {
                // Remember the broken version, so it is reported once, not every poll.
                *lock(&self.0.stamp) = current;
                error!(
                    path = %path.display(),
                    error = %e,
                    "auth file not reloaded; the previous users stay in force"
                );
                false
            }
        }
    }

    /// Re-reads the auth file when it changes (polled every [`POLL_INTERVAL`])
    /// and on SIGHUP, until the runtime stops. Does nothing without an auth file.
    pub fn watch(&self) {
        if self.0.file.is_none() {
            return;
        }
        let access = self.clone();
        tokio::spawn(async move {
            #[cfg(unix)]
            let mut hup =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
                    Ok(s) => Some(s),
                    Err(e) => {
                        warn!(error = %e, "no SIGHUP handler; the auth file is still polled");
                        None
                    }
                };
            let mut tick = tokio::time::interval(POLL_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                #[cfg(unix)]
                let force = tokio::select! {
                    _ = tick.tick() => false,
                    Some(()) = async { match hup.as_mut() {
                        Some(h) => h.recv().await,
                        None => std::future::pending().await,
                    } } => true,
                };
                #[cfg(not(unix))]
                let force = {
                    tick.tick().await;
                    false
                };
                let a = access.clone();
                // Reading and parsing is file I/O: off the async threads.
                let _ = tokio::task::spawn_blocking(move || a.reload(force)).await;
            }
        });
    }

    /// Checks a user name and password; `None` for unknown users and wrong
    /// passwords alike.
    pub async fn authenticate(&self, user: &str, password: &str) -> Option<Reader> {
        if let Some((u, p, name)) = &self.0.basic {
            let user_ok = sha256(user.as_bytes()).ct_eq(u);
            let pass_ok = sha256(password.as_bytes()).ct_eq(p);
            if bool::from(user_ok & pass_ok) {
                return Some(Reader {
                    name: name.clone(),
                    modules: None,
                });
            }
        }
        let users = self.users();
        let Some(found) = users.users.get(user) else {
            // As slow as a wrong password, so timing does not reveal names.
            self.verify(None, password.to_owned()).await;
            return None;
        };
        let reader = Reader {
            name: Arc::from(user),
            modules: found.modules.clone(),
        };
        let key = {
            let mut h = Sha256::new();
            for part in [user, password, found.hash.as_str()] {
                h.update((part.len() as u64).to_be_bytes());
                h.update(part.as_bytes());
            }
            <[u8; 32]>::from(h.finalize())
        };
        if lock(&self.0.verified)
            .get(&key)
            .is_some_and(|at| at.elapsed() < VERIFIED_TTL)
        {
            return Some(reader);
        }
        if !self
            .verify(Some(found.hash.clone()), password.to_owned())
            .await
        {
            return None;
        }
        let mut verified = lock(&self.0.verified);
        if verified.len() >= VERIFIED_MAX {
            verified.retain(|_, at| at.elapsed() < VERIFIED_TTL);
            if verified.len() >= VERIFIED_MAX {
                verified.clear();
            }
        }
        verified.insert(key, Instant::now());
        Some(reader)
    }

    /// A hash check on the blocking pool, at most one per core at a time;
    /// `None` checks against a dummy hash (made there too, the first time).
    async fn verify(&self, hash: Option<Hash>, password: String) -> bool {
        let Ok(_permit) = self.0.verifying.acquire().await else {
            return false;
        };
        tokio::task::spawn_blocking(move || match &hash {
            Some(h) => h.verify(&password),
            None => dummy_hash().verify(&password),
        })
        .await
        .unwrap_or(false)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn sha256(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

/// A hash of a random password, for unknown users.
fn dummy_hash() -> &'static Hash {
    static DUMMY: OnceLock<Hash> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let pw = uuid::Uuid::new_v4().to_string();
        // Without randomness, a fixed PHC string of the same cost does as well.
        Hash::Argon2(hash_password(&pw).unwrap_or_else(|_| {
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
             3lHZyAeqBPtHgjEyfeyGOTuK8trYlVsyyt2D6MQDBvY"
                .to_owned()
        }))
    })
}

/// The state [`require`] runs with: the users, and the path prefix under which
/// the health endpoints also stay open.
#[derive(Clone)]
pub(crate) struct Gate {
    pub(crate) access: Access,
    pub(crate) prefix: Arc<str>,
}

/// The authentication layer: 401 without valid credentials, except for the
/// health endpoints; otherwise the request goes on with its [`Reader`].
pub(crate) async fn require(State(gate): State<Gate>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let open = |p: &str| p == "/healthz" || p == "/readyz";
    if open(path) || (!gate.prefix.is_empty() && path.strip_prefix(&*gate.prefix).is_some_and(open))
    {
        return next.run(req).await;
    }
    let Some((user, password)) = basic_credentials(req.headers()) else {
        return unauthorized("authentication required");
    };
    let Some(reader) = gate.access.authenticate(&user, &password).await else {
        info!(user = %truncate(&user), "authentication failed");
        return unauthorized("wrong user name or password");
    };
    tracing::Span::current().record("user", reader.name());
    req.extensions_mut().insert(reader);
    next.run(req).await
}

/// The user and password of an `Authorization: Basic` header.
fn basic_credentials(headers: &http::HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") || encoded.len() > 4096 {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(64) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn unauthorized(reason: &str) -> Response {
    let mut resp = ApiError::new(StatusCode::UNAUTHORIZED, reason).into_response();
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"agora\", charset=\"UTF-8\""),
    );
    resp
}

/// The 403 for a user reading a module outside its patterns.
pub(crate) fn forbidden(reader: &Reader, module: &str) -> Response {
    ApiError::new(
        StatusCode::FORBIDDEN,
        format!(
            "forbidden: user {} may not read module {module} (not in its module patterns)",
            reader.name()
        ),
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast_argon2(pw: &str) -> String {
        // Small parameters keep the tests quick; verification reads them from the string.
        let params = argon2::Params::new(64, 1, 1, None).unwrap();
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password(pw.as_bytes())
            .unwrap()
            .to_string()
    }

    #[test]
    fn hash_password_makes_a_verifiable_argon2id_string() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(!h.contains('\n'));
        let parsed = Hash::parse(&h).unwrap();
        assert!(parsed.verify("correct horse"));
        assert!(!parsed.verify("correct horse "));
        assert_ne!(h, hash_password("correct horse").unwrap(), "salted");
    }

    #[test]
    fn bcrypt_hashes_are_accepted() {
        let h = bcrypt::hash("pw", 4).unwrap();
        let parsed = Hash::parse(&h).unwrap();
        assert!(parsed.verify("pw"));
        assert!(!parsed.verify("pW"));
    }

    #[test]
    fn parses_users_and_their_patterns() {
        let text = format!(
            r#"
[[user]]
name = "ci"
password_hash = "{}"
modules = ["*"]

[[user]]
name = "team-a"
password_hash = "{}"
modules = ["example.com/team-a", "*.corp.example.com/a"]

[[user]]
name = "nobody"
password_hash = "{}"
modules = []
"#,
            fast_argon2("x"),
            fast_argon2("y"),
            bcrypt::hash("z", 4).unwrap()
        );
        let f = AuthFile::parse(&text).unwrap();
        assert_eq!(f.len(), 3);
        let reader = |n: &str| Reader {
            name: Arc::from(n),
            modules: f.users[n].modules.clone(),
        };
        assert!(reader("ci").may_read("anything.org/x"));
        let a = reader("team-a");
        assert!(a.may_read("example.com/team-a"));
        assert!(a.may_read("example.com/team-a/sub/v2"));
        assert!(!a.may_read("example.com/team-b"));
        assert!(!a.may_read("example.com/team-ab"));
        assert!(a.may_read("git.corp.example.com/a/x"));
        assert!(!a.may_read("git.corp.example.com/b"));
        assert!(!reader("nobody").may_read("example.com/team-a"));
        assert!(AuthFile::parse("").unwrap().is_empty());
    }

    #[test]
    fn refuses_broken_files_naming_the_user() {
        let h = fast_argon2("x");
        let user = |name: &str, hash: &str, modules: &str| {
            format!(
                "[[user]]\nname = \"{name}\"\npassword_hash = \"{hash}\"\nmodules = {modules}\n"
            )
        };
        for (text, want) in [
            (user("a", "plaintext", "[\"*\"]"), "argon2"),
            (user("a", "$argon2id$nonsense", "[\"*\"]"), "argon2"),
            (user("a", "$2b$04$short", "[\"*\"]"), "bcrypt"),
            (user("", &h, "[\"*\"]"), "name"),
            (user("a:b", &h, "[\"*\"]"), "name"),
            (user("a", &h, "[\"x/[\"]"), "malformed"),
            (user("a", &h, "[\"a,b\"]"), "commas"),
            (user("a", &h, "\"*\""), "invalid type"),
            (
                format!("{}{}", user("a", &h, "[]"), user("a", &h, "[]")),
                "twice",
            ),
            (
                format!("{}password = \"hunter2\"\n", user("a", &h, "[]")),
                "unknown field",
            ),
            ("[[user]]\nname = \"a\"\n".to_owned(), "missing field"),
            ("[[users]]\n".to_owned(), "unknown field"),
        ] {
            let err = AuthFile::parse(&text).unwrap_err();
            assert!(err.contains(want), "{text}\n=> {err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[tokio::test]
    async fn authenticates_basic_and_file_users_and_remembers_successes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.toml");
        std::fs::write(
            &path,
            format!(
                "[[user]]\nname = \"alice\"\npassword_hash = \"{}\"\nmodules = [\"example.com/a\"]\n",
                fast_argon2("wonderland")
            ),
        )
        .unwrap();
        let access = Access::new(Some(("admin", "s3cret")), Some(&path)).unwrap();
        let admin = access.authenticate("admin", "s3cret").await.unwrap();
        assert!(admin.may_read("any.org/thing"));
        assert!(access.authenticate("admin", "s3cret!").await.is_none());
        assert!(access.authenticate("Admin", "s3cret").await.is_none());
        let alice = access.authenticate("alice", "wonderland").await.unwrap();
        assert!(alice.may_read("example.com/a/b") && !alice.may_read("example.com/b"));
        assert!(access.authenticate("alice", "Wonderland").await.is_none());
        assert!(access.authenticate("bob", "wonderland").await.is_none());
        assert_eq!(lock(&access.0.verified).len(), 1);

        // A new hash for alice: the remembered success no longer counts.
        std::fs::write(
            &path,
            format!(
                "[[user]]\nname = \"alice\"\npassword_hash = \"{}\"\nmodules = [\"*\"]\n",
                fast_argon2("looking-glass")
            ),
        )
        .unwrap();
        assert!(access.reload(true));
        assert!(access.authenticate("alice", "wonderland").await.is_none());
        let alice = access.authenticate("alice", "looking-glass").await.unwrap();
        assert!(alice.may_read("example.com/b"));

        // A broken file keeps the users in force.
        std::fs::write(&path, "[[user]]\nname = 1\n").unwrap();
        assert!(!access.reload(true));
        assert!(
            access
                .authenticate("alice", "looking-glass")
                .await
                .is_some()
        );
        assert_eq!(access.file_users(), 1);
    }

    #[test]
    fn reads_basic_credentials() {
        let mut h = http::HeaderMap::new();
        assert_eq!(basic_credentials(&h), None);
        // "user:pa:ss" — the password may hold colons.
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic dXNlcjpwYTpzcw=="),
        );
        assert_eq!(basic_credentials(&h), Some(("user".into(), "pa:ss".into())));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert_eq!(basic_credentials(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!"));
        assert_eq!(basic_credentials(&h), None);
    }

    /// Only the health endpoints are open, at the root and under the prefix; the
    /// handler sees who asked.
    #[tokio::test]
    async fn the_layer_challenges_all_but_health() {
        use axum::Router;
        use axum::middleware::from_fn_with_state;
        use tower::ServiceExt;

        let access = Access::new(Some(("u", "p")), None).unwrap();
        let app = Router::new()
            .fallback(|req: Request| async move {
                req.extensions()
                    .get::<Reader>()
                    .map_or("anonymous".to_owned(), |r| r.name().to_owned())
            })
            .layer(from_fn_with_state(
                Gate {
                    access,
                    prefix: Arc::from("/go"),
                },
                require,
            ));
        let call = |path: &str, auth: Option<&'static str>| {
            let app = app.clone();
            let mut req = http::Request::builder().uri(path.to_owned());
            if let Some(a) = auth {
                req = req.header(header::AUTHORIZATION, a);
            }
            async move {
                let resp = app
                    .oneshot(req.body(axum::body::Body::empty()).unwrap())
                    .await
                    .unwrap();
                let status = resp.status().as_u16();
                let challenge = resp.headers().contains_key(header::WWW_AUTHENTICATE);
                let body = axum::body::to_bytes(resp.into_body(), 1024).await.unwrap();
                (status, challenge, String::from_utf8(body.to_vec()).unwrap())
            }
        };
        for open in ["/healthz", "/readyz", "/go/healthz", "/go/readyz"] {
            assert_eq!(call(open, None).await, (200, false, "anonymous".into()));
        }
        for closed in [
            "/",
            "/version",
            "/go/catalog",
            "/go/healthzx",
            "/x/healthz",
            "/go",
        ] {
            let (status, challenge, _) = call(closed, None).await;
            assert_eq!((status, challenge), (401, true), "{closed}");
        }
        // "u:p" and "u:q".
        assert_eq!(
            call("/go/catalog", Some("Basic dTpw")).await,
            (200, false, "u".into())
        );
        assert_eq!(call("/go/catalog", Some("Basic dTpx")).await.0, 401);
    }
}
