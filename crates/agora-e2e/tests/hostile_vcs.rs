//! agora in direct mode against git servers that accept connections and never answer
//! (issue 9, items 1 and 2): a flood of requests for such modules must not delay stored
//! modules, must not grow agora's threads or git processes past the fetch cap, must end
//! with 504 near the timeout, and must leave no git process behind agora.

use std::collections::BTreeSet;
use std::fs;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use agora_testkit::*;

/// `upstream.timeout` for these tests, in seconds: long enough that the whole flood is
/// in and waiting well before the first timeout, on a busy 2-core machine too.
const TIMEOUT: u64 = 5;
/// The default `upstream.max_fetches`.
const MAX_FETCHES: usize = 32;
/// Modules whose git server hangs: more than the fetch cap, so the cap is what bounds the
/// git processes.
const HUNG_MODULES: usize = 40;
/// Parallel `@v/list` requests over them.
const FLOOD: usize = 600;

/// A TCP server that accepts every connection and never sends a byte.
struct HungServer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl HungServer {
    fn start() -> HungServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the hung server");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let addr = listener.local_addr().expect("hung server address");
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (a, s) = (accepted.clone(), stop.clone());
        thread::spawn(move || {
            let mut held: Vec<TcpStream> = Vec::new();
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        a.fetch_add(1, Ordering::SeqCst);
                        held.push(conn);
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        HungServer {
            addr,
            accepted,
            stop,
        }
    }
}

impl Drop for HungServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// A process as /proc shows it.
#[derive(Debug, Clone)]
struct Proc {
    pid: u32,
    ppid: u32,
    comm: String,
    state: char,
}

fn processes() -> Vec<Proc> {
    let mut out = Vec::new();
    let Ok(dir) = fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...; comm may hold spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_string();
        let mut rest = stat[close + 1..].split_whitespace();
        let state = rest.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let ppid = rest.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        out.push(Proc {
            pid,
            ppid,
            comm,
            state,
        });
    }
    out
}

/// Live (not zombie) git processes among the descendants of `root`.
fn git_descendants(root: u32) -> Vec<Proc> {
    let all = processes();
    let mut tree: BTreeSet<u32> = BTreeSet::from([root]);
    loop {
        let before = tree.len();
        for p in &all {
            if tree.contains(&p.ppid) {
                tree.insert(p.pid);
            }
        }
        if tree.len() == before {
            break;
        }
    }
    all.into_iter()
        .filter(|p| p.pid != root && tree.contains(&p.pid))
        .filter(|p| p.comm.starts_with("git") && p.state != 'Z')
        .collect()
}

fn is_live_git(pid: u32) -> bool {
    processes()
        .iter()
        .any(|p| p.pid == pid && p.comm.starts_with("git") && p.state != 'Z')
}

/// CPU time (user + system) used by `pid` so far.
fn cpu_of(pid: u32) -> Duration {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    // Fields 14 and 15 (utime, stime) in clock ticks, 100 a second on Linux.
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// `pid`'s threads by name, with counts.
fn thread_names(pid: u32) -> std::collections::BTreeMap<String, usize> {
    let mut names = std::collections::BTreeMap::new();
    if let Ok(dir) = fs::read_dir(format!("/proc/{pid}/task")) {
        for e in dir.flatten() {
            let name = fs::read_to_string(e.path().join("comm")).unwrap_or_default();
            *names.entry(name.trim().to_string()).or_default() += 1;
        }
    }
    names
}

fn threads_of(pid: u32) -> usize {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Publishes `good` (stored through agora before the flood) and `HUNG_MODULES` hung
/// repositories whose go-import pages point at `hung`.
fn setup(t: &TestDir, forge: &GitForge, hung: &HungServer) -> (String, Vec<String>) {
    let w = GitWork::new(&t.sub("work"), "good");
    w.write("go.mod", "module git.e2e.test/good\n\ngo 1.21\n")
        .write("good.go", "package good\n");
    w.commit("v1");
    w.tag("v1.0.0");
    let good = forge.publish(&w, "good");
    let mut modules = Vec::new();
    for i in 0..HUNG_MODULES {
        let name = format!("hung{i}");
        let dir = forge.repos.join(format!("{name}.git"));
        fs::create_dir_all(&dir).expect("hung repository dir");
        fs::write(
            dir.join("go-import-repo"),
            format!("http://{}/{name}.git", hung.addr),
        )
        .expect("go-import-repo");
        modules.push(format!("{GIT_FORGE_HOST}/{name}"));
    }
    (good, modules)
}

struct Flood {
    statuses: Vec<u16>,
    slowest: Duration,
}

/// `FLOOD` parallel `GET /<module>/@v/list`, spread over `modules`; `sent` counts the
/// requests sent.
fn flood(
    addr: SocketAddr,
    modules: &[String],
    sent: Arc<AtomicUsize>,
) -> thread::JoinHandle<Flood> {
    let modules = modules.to_vec();
    thread::spawn(move || {
        let results = Arc::new(Mutex::new(Vec::new()));
        let handles: Vec<_> = (0..FLOOD)
            .map(|i| {
                let target = format!("/{}/@v/list", modules[i % modules.len()]);
                let (results, sent) = (results.clone(), sent.clone());
                thread::Builder::new()
                    .stack_size(64 * 1024)
                    .spawn(move || {
                        let start = Instant::now();
                        // Counted just before connecting: close enough to "written" for
                        // telling when the whole flood is in.
                        sent.fetch_add(1, Ordering::SeqCst);
                        let status = match http_get(addr, &target) {
                            Ok(r) => r.status,
                            Err(e) => {
                                eprintln!("GET {target}: {e}");
                                0
                            }
                        };
                        results
                            .lock()
                            .expect("results")
                            .push((status, start.elapsed()));
                    })
                    .expect("spawn a client thread")
            })
            .collect();
        for h in handles {
            let _ = h.join();
        }
        let results = results.lock().expect("results").clone();
        Flood {
            statuses: results.iter().map(|(s, _)| *s).collect(),
            slowest: results.iter().map(|(_, d)| *d).max().unwrap_or_default(),
        }
    })
}

fn config(t: &TestDir) -> AgoraConfig {
    let mut cfg = direct_agora_config(t.path());
    cfg.extra_env
        .push(("AGORA_TIMEOUT".to_string(), TIMEOUT.to_string()));
    cfg
}

#[test]
fn hung_git_servers_do_not_stall_stored_modules() {
    let _lock = git_forge_lock();
    let t = TestDir::new("hung-git");
    let forge = GitForge::start(t.path());
    let hung = HungServer::start();
    let (good, modules) = setup(&t, &forge, &hung);
    let agora = Agora::start(&config(&t));
    let pid = agora.pid().expect("agora pid");
    let zip = format!("/{good}/@v/v1.0.0.zip");
    let r = agora.get(&zip);
    assert_eq!(r.status, 200, "storing {good}: {}", r.summary());
    let idle_threads = threads_of(pid);
    let cpu_before = cpu_of(pid);

    let start = Instant::now();
    let sent = Arc::new(AtomicUsize::new(0));
    let flood = flood(agora.addr, &modules, sent.clone());
    // Watch agora while the flood runs: threads, git processes, and a stored zip.
    let mut max_threads = 0;
    let mut max_git = 0;
    let mut max_fetching = 0;
    let mut busiest = Default::default();
    let mut slowest_zip = Duration::ZERO;
    let mut zips = 0;
    let mut slowest_waiting = Duration::ZERO;
    let mut waiting_zips = Vec::new();
    while !flood.is_finished() && start.elapsed() < Duration::from_secs(120) {
        let threads = threads_of(pid);
        if threads > max_threads {
            max_threads = threads;
            busiest = thread_names(pid);
        }
        let git = git_descendants(pid);
        max_git = max_git.max(git.len());
        // One transport helper per fetch talking to a server.
        max_fetching = max_fetching.max(git.iter().filter(|p| p.comm == "git-remote-http").count());
        let all_sent = sent.load(Ordering::SeqCst) == FLOOD;
        let t0 = Instant::now();
        let r = http_get(agora.addr, &zip).expect("stored zip during the flood");
        assert_eq!(
            r.status,
            200,
            "stored zip during the flood: {}",
            r.summary()
        );
        let took = t0.elapsed();
        slowest_zip = slowest_zip.max(took);
        zips += 1;
        // Every request of the flood is in and waits on a fetch or a turn (agora has
        // nothing to compute but them) until the first timeouts fire.
        let waiting = all_sent
            && t0.duration_since(start) > Duration::from_millis(500)
            && t0.duration_since(start) + took < Duration::from_millis(TIMEOUT * 1000 - 100);
        if waiting {
            slowest_waiting = slowest_waiting.max(took);
            waiting_zips.push(took);
        }
        thread::sleep(Duration::from_millis(50));
    }
    let flood = flood.join().expect("flood thread");
    let took = start.elapsed();
    let cpu = cpu_of(pid) - cpu_before;
    waiting_zips.sort();
    let median_waiting = waiting_zips
        .get(waiting_zips.len() / 2)
        .copied()
        .unwrap_or_default();
    let by_status = flood.statuses.iter().fold(
        std::collections::BTreeMap::<u16, usize>::new(),
        |mut m, s| {
            *m.entry(*s).or_default() += 1;
            m
        },
    );
    eprintln!(
        "flood of {FLOOD} over {HUNG_MODULES} hung modules: {took:?}, slowest request \
         {:?}, statuses {by_status:?}; agora threads idle {idle_threads}, max {max_threads} {busiest:?}; \
         git processes max {max_git} ({max_fetching} fetching); stored zip slowest \
         {slowest_zip:?} over {zips} requests, {slowest_waiting:?} (median {median_waiting:?}) over the {} \
         made while every request waits; hung server accepted {}; agora used {cpu:?} of CPU",
        flood.slowest,
        waiting_zips.len(),
        hung.accepted.load(Ordering::SeqCst)
    );
    assert!(
        waiting_zips.len() >= 3,
        "the stored zip was asked only {} times while the flood waited",
        waiting_zips.len()
    );
    // agora serves it in milliseconds (its log says so); what the client sees also
    // holds the scheduling of a 2-core machine shared with builds and 600 client
    // threads, hence a bound on the median and a looser one on the slowest.
    assert!(
        median_waiting < Duration::from_millis(250),
        "a stored zip took {median_waiting:?} (median) while the flood waited"
    );
    assert!(
        slowest_waiting < Duration::from_secs(2),
        "a stored zip took {slowest_waiting:?} while the flood waited"
    );
    // While the flood arrives agora has 600 requests to parse and discover on a shared
    // machine; a stored zip still never waits for a fetch.
    assert!(
        slowest_zip < Duration::from_secs(TIMEOUT),
        "a stored zip took {slowest_zip:?} during the flood"
    );
    assert_eq!(
        by_status.get(&504).copied().unwrap_or(0),
        FLOOD,
        "every request for a hung module ends with 504: {by_status:?}"
    );
    // Each waits for the one shared fetch of its repository (and a fetch for a turn),
    // all within one timeout: not one timeout after another.
    assert!(
        flood.slowest < Duration::from_secs(TIMEOUT + 3),
        "slowest request took {:?} (timeout {TIMEOUT} s)",
        flood.slowest
    );
    assert!(
        max_fetching <= MAX_FETCHES,
        "{max_fetching} git fetches at once (cap {MAX_FETCHES})"
    );
    // git fetch runs `git remote-http`, which runs git-remote-http.
    assert!(
        max_git <= 3 * MAX_FETCHES,
        "{max_git} git processes at once (cap {MAX_FETCHES} fetches)"
    );
    // Blocking threads: at most one per fetch permit, and as many for disk reads (600
    // requests each list the module's stored versions).
    assert!(
        max_threads <= idle_threads + 2 * MAX_FETCHES,
        "agora grew from {idle_threads} to {max_threads} threads"
    );
}

#[test]
fn git_processes_die_with_agora() {
    let _lock = git_forge_lock();
    let t = TestDir::new("hung-git-kill");
    let forge = GitForge::start(t.path());
    let hung = HungServer::start();
    let (_, modules) = setup(&t, &forge, &hung);
    let mut cfg = config(&t);
    // Long enough that only agora's death can end these fetches within the test.
    cfg.extra_env.retain(|(k, _)| k != "AGORA_TIMEOUT");
    cfg.extra_env
        .push(("AGORA_TIMEOUT".to_string(), "60".to_string()));
    let mut agora = Agora::start(&cfg);
    let pid = agora.pid().expect("agora pid");
    let addr = agora.addr;
    let few = modules[..4].to_vec();
    let clients: Vec<_> = few
        .iter()
        .map(|m| {
            let target = format!("/{m}/@v/list");
            thread::spawn(move || http_get(addr, &target).map(|r| r.status))
        })
        .collect();
    let mut seen = Vec::new();
    assert!(
        wait_until(Duration::from_secs(20), || {
            seen = git_descendants(pid);
            seen.iter().filter(|p| p.comm == "git-remote-http").count() >= few.len()
        }),
        "agora did not start {} fetches: {seen:?}",
        few.len()
    );
    agora.kill9();
    let killed = Instant::now();
    // The git commands agora ran die with it at once; the transport helpers they left
    // give up within the (long) timeout only through curl, so they must go with git.
    let left = |pids: &[Proc]| -> Vec<Proc> {
        pids.iter()
            .filter(|p| is_live_git(p.pid))
            .cloned()
            .collect()
    };
    let mut remaining = Vec::new();
    let gone = wait_until(Duration::from_secs(5), || {
        remaining = left(&seen);
        remaining.is_empty()
    });
    eprintln!(
        "git processes before the kill: {seen:?}; still alive {:?} after the kill: {remaining:?}",
        killed.elapsed()
    );
    for c in clients {
        let _ = c.join();
    }
    assert!(gone, "git processes outlived agora: {remaining:?}");
    assert!(Path::new(&forge.repos).is_dir());
}

/// The largest regular file `pid` holds open, with where it is (issue 9 item 4).
fn largest_open_file(pid: u32) -> Option<(u64, String)> {
    let mut best: Option<(u64, String)> = None;
    for e in fs::read_dir(format!("/proc/{pid}/fd")).ok()?.flatten() {
        let Ok(target) = fs::read_link(e.path()) else {
            continue;
        };
        let Ok(meta) = fs::metadata(e.path()) else {
            continue;
        };
        if meta.is_file() && best.as_ref().is_none_or(|(n, _)| meta.len() > *n) {
            best = Some((meta.len(), target.display().to_string()));
        }
    }
    best
}

/// A 1 MB repository naming one 64 MiB blob ten times (a `.gitattributes` makes agora
/// use `git archive`): 640 MiB uncompressed, more than a module may hold. agora must
/// refuse it as the go command does without writing anywhere near that much, and
/// spool what it writes under its tmp dir.
#[test]
fn archive_bomb_is_refused_without_writing_it_out() {
    let _lock = git_forge_lock();
    let t = TestDir::new("archive-bomb");
    let forge = GitForge::start(t.path());
    let w = GitWork::new(&t.sub("work"), "bomb");
    w.write("go.mod", "module git.e2e.test/bomb\n\ngo 1.21\n")
        .write(".gitattributes", "*.go text\n")
        .write("bomb.go", "package bomb\n")
        .write("big/0.txt", &"0".repeat(64 << 20));
    w.git(&["add", "-A"]);
    let blob = w.git(&["rev-parse", ":big/0.txt"]);
    for i in 1..10 {
        let entry = format!("100644,{},big/{i}.txt", blob.trim());
        w.git(&["update-index", "--add", "--cacheinfo", &entry]);
    }
    w.git(&["commit", "-q", "-m", "bomb"]);
    w.tag("v1.0.0");
    fs::remove_file(w.dir.join("big/0.txt")).expect("remove the work copy");
    let module = forge.publish(&w, "bomb");

    let mut cfg = config(&t);
    let tmp_dir = t.sub("spool");
    cfg.extra_env
        .push(("AGORA_TMP_DIR".to_string(), tmp_dir.display().to_string()));
    // Long enough for git to deflate 640 MiB of zeros on a busy machine.
    cfg.extra_env.retain(|(k, _)| k != "AGORA_TIMEOUT");
    cfg.extra_env
        .push(("AGORA_TIMEOUT".to_string(), "120".to_string()));
    let agora = Agora::start(&cfg);
    let pid = agora.pid().expect("agora pid");
    let addr = agora.addr;
    let target = format!("/{module}/@v/v1.0.0.zip");
    let req = thread::spawn(move || http_get(addr, &target));
    let mut largest: Option<(u64, String)> = None;
    while !req.is_finished() {
        if let Some(f) = largest_open_file(pid)
            && largest.as_ref().is_none_or(|(n, _)| f.0 > *n)
        {
            largest = Some(f);
        }
        thread::sleep(Duration::from_millis(5));
    }
    let r = req.join().expect("request thread").expect("zip request");
    eprintln!(
        "bomb zip: {} in agora; largest file agora held open: {largest:?}",
        r.summary()
    );
    assert_ne!(r.status, 200, "{}", r.summary());
    assert!(
        r.text().contains("module source tree too large"),
        "the go command's reason: {}",
        r.summary()
    );
    let (size, path) = largest.unwrap_or_default();
    assert!(
        size < 64 << 20,
        "agora wrote a {size}-byte file ({path}) for a zip it refuses"
    );
    assert!(
        path.is_empty() || path.starts_with(&tmp_dir.display().to_string()),
        "agora spooled git archive output outside its tmp dir: {path}"
    );
    let stored: Vec<_> = files_under(&cfg.storage_root)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("bomb"))
        .collect();
    assert!(stored.is_empty(), "nothing is stored: {stored:?}");
}

/// The fields of `go list -m -json` results that say what the go command resolved.
fn listed(v: &[serde_json::Value]) -> Vec<String> {
    v.iter()
        .map(|o| {
            format!(
                "{} {} versions={} error={}",
                o["Path"].as_str().unwrap_or_default(),
                o["Version"].as_str().unwrap_or_default(),
                o["Versions"],
                o["Error"]["Err"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// A tagged tree with files the zip rules refuse (issue 9 item 10): the go command in
/// direct mode still answers `.info`, `.mod`, the list and `@latest` and fails only the
/// zip. Through agora the go command must see the same, and nothing is stored.
#[test]
fn versions_whose_zip_cannot_be_built_answer_like_go_direct() {
    let _lock = git_forge_lock();
    let t = TestDir::new("unzippable");
    let forge = GitForge::start(t.path());
    let mut modules = Vec::new();
    for (name, bad) in [("winname", "aux.txt"), ("colon", "a:b.txt")] {
        let w = GitWork::new(&t.sub("work"), name);
        w.write(
            "go.mod",
            &format!("module git.e2e.test/{name}\n\ngo 1.21\n"),
        )
        .write("x.go", &format!("package {name}\n"))
        .write(bad, "refused\n");
        w.commit("v1");
        w.tag("v1.0.0");
        modules.push(forge.publish(&w, name));
    }
    let agora = Agora::start(&config(&t));
    let truth = GoEnv::vcs_direct(t.path(), "direct");
    let via = GoEnv::via(t.path(), "via-agora", &agora);
    for m in &modules {
        let at = format!("{m}@v1.0.0");
        let latest = format!("{m}@latest");
        let branch = format!("{m}@main");
        for args in [
            vec!["-versions", m.as_str()],
            vec![latest.as_str()],
            vec![at.as_str()],
            vec![branch.as_str()],
        ] {
            let want = listed(&truth.list_json_nosumdb(&args));
            let got = listed(&via.list_json_nosumdb(&args));
            assert_eq!(got, want, "go list -m -json {args:?}");
            assert!(want[0].contains("v1.0.0"), "{want:?}");
        }
        // Only go.mod files are needed to build the module graph.
        for go in [&truth, &via] {
            let dir = t.sub(&format!("main-{}-{}", go.name, m.replace('/', "_")));
            fs::create_dir_all(&dir).expect("main module dir");
            fs::write(
                dir.join("go.mod"),
                format!("module example.test/main\n\ngo 1.21\n\nrequire {m} v1.0.0\n"),
            )
            .expect("main go.mod");
            let out = run_with_timeout(
                &mut go.command_nosumdb(&["list", "-mod=mod", "-m", "all"], &dir),
                GO_TIMEOUT,
            );
            assert!(
                out.status.success()
                    && String::from_utf8_lossy(&out.stdout).contains(&at.replace('@', " ")),
                "[{}] go list -m all with {at} required: {}",
                go.name,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // The zip fails, for the go command's reason.
        let spec = vec![at.clone()];
        let want = truth.mod_download_nosumdb(&spec)[&at].clone();
        let got = via.mod_download_nosumdb(&spec)[&at].clone();
        let want_err = want.error.clone().unwrap_or_default();
        let got_err = got.error.clone().unwrap_or_default();
        eprintln!("{at}: go direct: {want_err}\n{at}: via agora: {got_err}");
        let reason = want_err
            .split("create zip: ")
            .nth(1)
            .unwrap_or_else(|| panic!("go direct's zip error: {want_err:?}"));
        assert!(
            got_err.contains(reason),
            "via agora: {got_err:?}, want {reason:?}"
        );
        for (ext, ok) in [("info", true), ("mod", true), ("zip", false)] {
            let r = agora.get(&format!("/{m}/@v/v1.0.0.{ext}"));
            assert_eq!(r.status == 200, ok, ".{ext}: {}", r.summary());
        }
    }
    let stored = files_under(&agora.config.storage_root);
    assert!(stored.is_empty(), "nothing is stored: {stored:?}");
}
