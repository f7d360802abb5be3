//! Running git so that no process outlives its deadline or agora.
//!
//! Every git command runs in a process group of its own (a session, for
//! commands that talk to a remote), so that a deadline can kill git and the
//! transport helpers it starts (`git-remote-http`, ssh) together.
//!
//! * Blocking commands ([`run_blocking`]) are watched by one process-wide
//!   watchdog thread that kills a group whose deadline passed; the calling
//!   thread then sees end of file and returns [`Error::Timeout`]. No thread
//!   per command waits on a clock.
//! * Async commands ([`run_async`]) use `tokio::process`; a [`GroupGuard`]
//!   kills the group when the deadline passes or the future is dropped.
//!
//! Commands that talk to a remote run under a small shell guard that kills
//! their group when agora goes away (see [`remote_launcher`]), and with
//! curl's low-speed limit at the deadline, so that an HTTP transport helper
//! gives up a stalled transfer by itself too.
//!
//! Output is read with a byte limit; what a command prints past it is
//! drained and dropped, and the call fails.

use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// What a finished command printed.
#[derive(Debug)]
pub(crate) struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

/// Most of stderr kept for messages.
const STDERR_LIMIT: usize = 64 * 1024;

/// Kills process group `pgid` (git's pid) and everything in it.
fn kill_group(pgid: u32) {
    if let Some(pid) = i32::try_from(pgid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

/// What runs a remote git command (its arguments follow): a shell that
/// starts git and, when agora goes away, kills its whole process group.
const GUARD: [&str; 8] = [
    "setsid",
    "setpriv",
    "--pdeathsig",
    "TERM",
    "sh",
    "-c",
    r#"trap 'kill -KILL 0' TERM; git "$@" & wait $!"#,
    "sh",
];

/// Whether [`GUARD`] works on this host (util-linux `setsid` and
/// `setpriv`); checked once.
fn guard_works() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        Command::new(GUARD[0])
            .args(&GUARD[1..6])
            .arg("exit 0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// The program and leading arguments that start git for a remote command,
/// the git arguments to follow.
///
/// `setsid` puts it in a session (and process group) of its own: a deadline
/// kills the group, git's transport helpers (`git-remote-http`, ssh)
/// included. A new session also has no controlling terminal: without it,
/// when agora runs on a terminal, ssh opens `/dev/tty` to ask whether to
/// trust an unknown host key or for a passphrase, is stopped reading from a
/// background process group, and the request waits for the timeout; in a
/// session of its own ssh (or a credential helper) cannot prompt and fails
/// at once. `setsid` and `setpriv` exec in place (the child is not a group
/// leader, so `setsid` need not fork), so the spawned pid names the group.
///
/// The shell gets SIGTERM when the agora thread that started it ends (a
/// killed agora included; tokio's worker threads live as long as agora) and
/// then kills its group: git alone would die of a parent-death signal and
/// leave its transport helper waiting on a hung server.
///
/// `None` when the wrappers are missing: then the caller puts git in a
/// process group of its own, which a deadline still kills whole.
pub(crate) fn remote_launcher() -> Option<[&'static str; 8]> {
    guard_works().then_some(GUARD)
}

/// Environment for commands that talk to a remote: curl aborts a transfer
/// that moves less than a byte a second for `timeout` (what a hung server
/// gives), so that a transport helper never waits longer than git's own
/// deadline, even once git is gone.
pub(crate) fn remote_env(timeout: Duration) -> [(&'static str, String); 2] {
    [
        ("GIT_HTTP_LOW_SPEED_LIMIT", "1".to_owned()),
        (
            "GIT_HTTP_LOW_SPEED_TIME",
            timeout.as_secs().max(1).to_string(),
        ),
    ]
}

// ---------------------------------------------------------------------------
// The watchdog
// ---------------------------------------------------------------------------

/// (deadline, ticket) to (process group, fired flag).
type Deadlines = BTreeMap<(Instant, u64), (u32, Arc<AtomicBool>)>;

struct Watchdog {
    armed: Mutex<Deadlines>,
    wake: Condvar,
}

fn watchdog() -> &'static Watchdog {
    static W: OnceLock<&'static Watchdog> = OnceLock::new();
    W.get_or_init(|| {
        let w: &'static Watchdog = Box::leak(Box::new(Watchdog {
            armed: Mutex::new(BTreeMap::new()),
            wake: Condvar::new(),
        }));
        let spawned = std::thread::Builder::new()
            .name("agora-git-watchdog".into())
            .spawn(move || w.run());
        if let Err(e) = spawned {
            // Deadlines then go unenforced; say so rather than fail every
            // git command.
            tracing::error!(error = %e, "cannot start the git watchdog thread");
        }
        w
    })
}

impl Watchdog {
    fn run(&self) {
        let mut armed = self.armed.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let now = Instant::now();
            let next = armed.first_key_value().map(|(k, _)| k.0);
            match next {
                Some(at) if at <= now => {
                    if let Some((_, (pgid, fired))) = armed.pop_first() {
                        fired.store(true, Ordering::SeqCst);
                        kill_group(pgid);
                    }
                }
                Some(at) => {
                    armed = self
                        .wake
                        .wait_timeout(armed, at - now)
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
                None => {
                    armed = self.wake.wait(armed).unwrap_or_else(|p| p.into_inner());
                }
            }
        }
    }
}

/// Kills process group `pgid` at `deadline` unless dropped first.
struct Armed {
    key: (Instant, u64),
    fired: Arc<AtomicBool>,
}

impl Armed {
    fn new(pgid: u32, deadline: Instant) -> Armed {
        static TICKET: AtomicU64 = AtomicU64::new(0);
        let key = (deadline, TICKET.fetch_add(1, Ordering::Relaxed));
        let fired = Arc::new(AtomicBool::new(false));
        let w = watchdog();
        w.armed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, (pgid, Arc::clone(&fired)));
        w.wake.notify_one();
        Armed { key, fired }
    }

    fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        watchdog()
            .armed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.key);
    }
}

/// A running child in a process group of its own, under the watchdog until
/// dropped: for callers that stream its output themselves.
pub(crate) struct Watched {
    pub child: std::process::Child,
    armed: Option<Armed>,
}

impl Watched {
    /// Starts `cmd` (stdio already set up) in a process group of its own,
    /// killed whole at `deadline`.
    pub(crate) fn spawn(mut cmd: Command, deadline: Instant) -> std::io::Result<Watched> {
        use std::os::unix::process::CommandExt as _;
        cmd.process_group(0);
        let child = cmd.spawn()?;
        let armed = Some(Armed::new(child.id(), deadline));
        Ok(Watched { child, armed })
    }

    /// Whether the deadline killed it.
    pub(crate) fn timed_out(&self) -> bool {
        self.armed.as_ref().is_some_and(Armed::fired)
    }

    /// Waits for the child to exit, disarming the watchdog before the pid
    /// can be reused (the exit is observed without reaping first).
    pub(crate) fn wait(&mut self) -> std::io::Result<ExitStatus> {
        if let Some(pid) = i32::try_from(self.child.id())
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        {
            use rustix::process::{WaitId, WaitIdOptions, waitid};
            // Retried only when a signal interrupts the wait.
            while let Err(rustix::io::Errno::INTR) = waitid(
                WaitId::Pid(pid),
                WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
            ) {}
        }
        let fired = self.timed_out();
        drop(self.armed.take());
        let status = self.child.wait()?;
        if fired {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "deadline passed",
            ));
        }
        Ok(status)
    }

    /// Kills the group now and reaps the child.
    pub(crate) fn kill(&mut self) {
        if self.armed.is_some() {
            kill_group(self.child.id());
        }
        let _ = self.child.kill();
        drop(self.armed.take());
        let _ = self.child.wait();
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if self.armed.is_some() && matches!(self.child.try_wait(), Ok(None)) {
            self.kill();
        }
    }
}

/// Runs `cmd` to completion within `timeout`, reading at most `limit` bytes
/// of stdout. `what` names the command in errors.
pub(crate) fn run_blocking(
    mut cmd: Command,
    timeout: Duration,
    limit: usize,
    what: &str,
) -> Result<Output> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut w = Watched::spawn(cmd, Instant::now() + timeout)?;
    let (Some(mut out), Some(err)) = (w.child.stdout.take(), w.child.stderr.take()) else {
        return Err(Error::Io(std::io::Error::other("git: no pipes")));
    };
    let (stdout, stderr) = std::thread::scope(|s| {
        let err = s.spawn(move || drain(err, STDERR_LIMIT));
        let stdout = drain(&mut out, limit);
        (
            stdout,
            err.join().unwrap_or_else(|_| Ok((Vec::new(), false))),
        )
    });
    let status = match w.wait() {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            return Err(Error::Timeout(format!(
                "{what} did not finish within {timeout:?}"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let (stdout, over) = stdout?;
    if over {
        return Err(Error::Invalid(format!(
            "{what} printed more than {limit} bytes"
        )));
    }
    Ok(Output {
        status,
        stdout,
        stderr: String::from_utf8_lossy(&stderr.map(|(b, _)| b).unwrap_or_default())
            .trim()
            .to_owned(),
    })
}

/// Reads `r` to its end, keeping at most `limit` bytes; the flag says
/// whether there was more.
fn drain(mut r: impl Read, limit: usize) -> std::io::Result<(Vec<u8>, bool)> {
    let mut kept = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let mut over = false;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok((kept, over)),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let room = limit.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
        over |= n > room;
    }
}

// ---------------------------------------------------------------------------
// Async commands
// ---------------------------------------------------------------------------

/// Kills a process group when dropped, unless told the child was reaped.
struct GroupGuard {
    pgid: Option<u32>,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid {
            kill_group(pgid);
        }
    }
}

/// Runs `cmd` (a `tokio::process::Command` whose program and arguments are
/// set) in a process group of its own until `deadline`, reading at most
/// `limit` bytes of stdout. The group is killed when the deadline passes or
/// the returned future is dropped.
pub(crate) async fn run_async(
    mut cmd: tokio::process::Command,
    deadline: Instant,
    limit: usize,
    what: &str,
) -> Result<Output> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn()?;
    let mut guard = GroupGuard { pgid: child.id() };
    let (Some(mut out), Some(mut err)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(Error::Io(std::io::Error::other("git: no pipes")));
    };
    let read = async {
        let (o, e) = tokio::join!(
            drain_async(&mut out, limit),
            drain_async(&mut err, STDERR_LIMIT)
        );
        let status = child.wait().await?;
        Ok::<_, std::io::Error>((status, o?, e.map(|(b, _)| b).unwrap_or_default()))
    };
    let left = deadline.saturating_duration_since(Instant::now());
    let (status, (stdout, over), stderr) = match tokio::time::timeout(left, read).await {
        Ok(r) => {
            // Reaped: the group's id may be reused from here on.
            guard.pgid = None;
            r?
        }
        Err(_) => {
            drop(guard);
            return Err(Error::Timeout(format!("{what} did not answer in time")));
        }
    };
    if over {
        return Err(Error::Invalid(format!(
            "{what} printed more than {limit} bytes"
        )));
    }
    Ok(Output {
        status,
        stdout,
        stderr: String::from_utf8_lossy(&stderr).trim().to_owned(),
    })
}

/// [`drain`] for an async reader.
async fn drain_async(
    r: &mut (impl tokio::io::AsyncRead + Unpin),
    limit: usize,
) -> std::io::Result<(Vec<u8>, bool)> {
    use tokio::io::AsyncReadExt as _;
    let mut kept = Vec::new();
    let mut over = false;
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = r.read(&mut buf).await?;
        if n == 0 {
            return Ok((kept, over));
        }
        let room = limit.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
        over |= n > room;
    }
}
