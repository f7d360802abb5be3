//! Progress of an admin command: an `indicatif` bar when stderr is a
//! terminal, plain lines every few seconds when it is not (a log file or a
//! pipe gets no escape sequences and no bare carriage returns), and a log
//! writer that draws log lines above the bar instead of through it.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bar on screen, if any, so log lines can be printed above it.
static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// How often a plain progress line is printed when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Counters {
    total: AtomicU64,
    done: AtomicU64,
    failed: AtomicU64,
    running: AtomicU64,
    bytes: AtomicU64,
}

/// One command's progress: counts of done, running and failed items out of a
/// total (which may grow, as a module graph is walked), and bytes moved.
pub struct Progress {
    what: &'static str,
    counters: Arc<Counters>,
    started: Instant,
    bar: Option<ProgressBar>,
    stop: Arc<AtomicBool>,
    ticker: Mutex<Option<JoinHandle<()>>>,
}

impl Progress {
    /// Starts showing progress of `what` (a verb such as `prefill`) over
    /// `total` items.
    pub fn start(what: &'static str, total: u64) -> Progress {
        let counters = Arc::new(Counters::default());
        counters.total.store(total, Ordering::Relaxed);
        let started = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let bar = stderr_draws().then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{prefix} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(what);
            // Drawn from the first moment, and redrawn even while nothing
            // finishes, so a long first fetch does not look like a hang.
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        if let Ok(mut active) = ACTIVE.lock() {
            *active = bar.clone();
        }
        let ticker = {
            let (counters, stop, bar) = (counters.clone(), stop.clone(), bar.clone());
            std::thread::Builder::new()
                .name("agora-progress".into())
                .spawn(move || tick(what, &counters, started, &stop, bar.as_ref()))
                .ok()
        };
        let p = Progress {
            what,
            counters,
            started,
            bar,
            stop,
            ticker: Mutex::new(ticker),
        };
        if p.bar.is_none() {
            p.plain_line();
        }
        p
    }

    /// Adds `n` items to the total.
    pub fn add_total(&self, n: u64) {
        let total = self.counters.total.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(bar) = &self.bar {
            bar.set_length(total);
        }
    }

    /// One item started.
    pub fn begin(&self) {
        self.counters.running.fetch_add(1, Ordering::Relaxed);
    }

    /// One item ended, successfully or not, having moved `bytes`.
    pub fn end(&self, ok: bool, bytes: u64) {
        self.counters.running.fetch_sub(1, Ordering::Relaxed);
        self.counters.bytes.fetch_add(bytes, Ordering::Relaxed);
        if ok {
            self.counters.done.fetch_add(1, Ordering::Relaxed);
        } else {
            self.counters.failed.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(status(&self.counters, self.started));
        }
    }

    /// Total bytes moved so far.
    pub fn bytes(&self) -> u64 {
        self.counters.bytes.load(Ordering::Relaxed)
    }

    fn plain_line(&self) {
        eprintln!("{}", plain(self.what, &self.counters, self.started));
    }

    /// Stops the display; the last state stays on screen (or is printed
    /// once more as a plain line). Only the first call does anything.
    pub fn finish(&self) {
        if self.stop.swap(true, Ordering::Relaxed) {
            return;
        }
        if let Some(t) = self.ticker.lock().ok().and_then(|mut t| t.take()) {
            t.thread().unpark();
            let _ = t.join();
        }
        match &self.bar {
            Some(bar) => {
                bar.set_message(status(&self.counters, self.started));
                bar.finish();
            }
            None => self.plain_line(),
        }
        if let Ok(mut active) = ACTIVE.lock() {
            *active = None;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

fn tick(
    what: &'static str,
    counters: &Counters,
    started: Instant,
    stop: &AtomicBool,
    bar: Option<&ProgressBar>,
) {
    let every = if bar.is_some() {
        Duration::from_millis(250)
    } else {
        PLAIN_EVERY
    };
    let mut next = Instant::now() + every;
    while !stop.load(Ordering::Relaxed) {
        std::thread::park_timeout(next.saturating_duration_since(Instant::now()));
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if Instant::now() < next {
            continue;
        }
        next += every;
        match bar {
            Some(bar) => bar.set_message(status(counters, started)),
            None => eprintln!("{}", plain(what, counters, started)),
        }
    }
}

fn rate(bytes: u64, started: Instant) -> String {
    let secs = started.elapsed().as_secs_f64().max(0.001);
    format!("{}/s", HumanBytes((bytes as f64 / secs) as u64))
}

fn status(c: &Counters, started: Instant) -> String {
    let bytes = c.bytes.load(Ordering::Relaxed);
    format!(
        "running {}, failed {}, {}, {}",
        c.running.load(Ordering::Relaxed),
        c.failed.load(Ordering::Relaxed),
        HumanBytes(bytes),
        rate(bytes, started)
    )
}

fn plain(what: &str, c: &Counters, started: Instant) -> String {
    let bytes = c.bytes.load(Ordering::Relaxed);
    let finished = c.done.load(Ordering::Relaxed) + c.failed.load(Ordering::Relaxed);
    format!(
        "{what}: {finished}/{} done, {} running, {} failed, {}, {} ({}s)",
        c.total.load(Ordering::Relaxed),
        c.running.load(Ordering::Relaxed),
        c.failed.load(Ordering::Relaxed),
        HumanBytes(bytes),
        rate(bytes, started),
        started.elapsed().as_secs()
    )
}

/// Whether stderr is a terminal that a bar (and colour) can be drawn on:
/// indicatif draws nothing on one whose type is unknown or `dumb`, so
/// those get plain lines, like a pipe.
pub fn stderr_draws() -> bool {
    std::io::stderr().is_terminal() && !ProgressDrawTarget::stderr().is_hidden()
}

/// The tracing writer of every command: stderr, with each log line printed
/// above the progress bar while one is shown.
#[derive(Clone, Copy, Default)]
pub struct LogWriter;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LogWriter
    }
}

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bar = ACTIVE.lock().ok().and_then(|a| a.clone());
        match bar {
            // tracing's fmt layer writes each event in one call.
            Some(bar) => bar.suspend(|| std::io::stderr().write_all(buf))?,
            None => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
