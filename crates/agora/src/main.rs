//! The `agora` binary: loads settings, builds storage, upstream and the
//! server from them, and serves until told to stop.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use agora_config::{
    DownloadModeSetting, IndexSettings, LogFormat, LogLevel, S3Settings, Settings, StorageSettings,
};
use agora_core::download_mode::DownloadFile;
use agora_index::postgres::{PostgresConfig, PostgresIndex};
use agora_server::index::IndexHandle;
use agora_server::metered::MeteredStorage;
use agora_server::stash::FetchAndStore;
use agora_server::sumdb::{SumDbConfig, SumDbs};
use agora_server::upstream_cache::CachedUpstream;
use agora_server::{Policy, Proxy, ServerOptions, Stasher};
use agora_storage::Storage;
use agora_storage::external::ExternalStorage;
use agora_storage::fs::DiskStorage;
use agora_storage::memory::MemoryStorage;
use agora_storage::mongo::{MongoConfig, MongoStorage};
use agora_storage::object::{AzureConfig, GcsConfig, Layout, ObjectStorage};
use agora_upstream::{Credentials, GoFetcherConfig, Upstream, UpstreamConfig};
use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing::info;
use tracing_subscriber::fmt::writer::BoxMakeWriter;

mod admin;
mod lock;
mod telemetry;

#[derive(Parser)]
#[command(
    name = "agora",
    version,
    about = "A Go module proxy, drop-in compatible with Athens"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the Go module proxy protocol.
    Serve {
        /// An agora or Athens config.toml; without one, defaults and environment apply.
        #[arg(long, short = 'c', alias = "config_file")]
        config: Option<PathBuf>,
    },
    /// Fetch the versions go.sum, go.mod or module@version files name into
    /// storage, through the upstream chain.
    Prefill {
        /// An agora or Athens config.toml, as for serve.
        #[arg(long, short = 'c', alias = "config_file")]
        config: Option<PathBuf>,
        #[command(flatten)]
        args: admin::prefill::Args,
    },
    /// Write stored versions as a GOPROXY file tree (GOPROXY=file:///DIR).
    Export {
        /// An agora or Athens config.toml, as for serve.
        #[arg(long, short = 'c', alias = "config_file")]
        config: Option<PathBuf>,
        #[command(flatten)]
        args: admin::export::Args,
    },
    /// Store every version of a GOPROXY file tree or a go module cache.
    Import {
        /// An agora or Athens config.toml, as for serve.
        #[arg(long, short = 'c', alias = "config_file")]
        config: Option<PathBuf>,
        #[command(flatten)]
        args: admin::import::Args,
    },
    /// Re-read stored versions and name every damaged one.
    Verify {
        /// An agora or Athens config.toml, as for serve.
        #[arg(long, short = 'c', alias = "config_file")]
        config: Option<PathBuf>,
        #[command(flatten)]
        args: admin::verify::Args,
    },
    /// Remove one version from storage.
    Delete {
        /// An agora or Athens config.toml, as for serve.
        #[arg(long, short = 'c', alias = "config_file")]
        config: Option<PathBuf>,
        /// MODULE@VERSION, the version canonical.
        spec: String,
    },
    /// Inspect configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Checksum database tools.
    Sumdb {
        #[command(subcommand)]
        command: SumdbCommand,
    },
    /// Client access tools.
    Auth {
        #[command(subcommand)]
        command: AuthCommand,
    },
}

#[derive(Subcommand)]
enum AuthCommand {
    /// Print an argon2id hash of PASSWORD for the auth file's `password_hash`,
    /// as one line on stdout.
    Hash {
        /// The password; `-` reads it from the first line of standard input
        /// (which keeps it out of the shell history and the process list).
        password: String,
    },
}

/// Prints the hash of a password given as an argument or on stdin.
fn auth_hash(password: &str) -> ExitCode {
    let password = if password == "-" {
        use std::io::BufRead;
        let mut line = String::new();
        // A password is a line, not a file: read at most 4 KiB.
        let read = std::io::BufReader::new(std::io::Read::take(std::io::stdin().lock(), 4096))
            .read_line(&mut line);
        if let Err(e) = read {
            eprintln!("agora: auth hash: reading the password from stdin: {e}");
            return ExitCode::from(2);
        }
        line.trim_end_matches(['\n', '\r']).to_owned()
    } else {
        password.to_owned()
    };
    if password.is_empty() {
        eprintln!("agora: auth hash: the password is empty");
        return ExitCode::from(2);
    }
    match agora_server::auth::hash_password(&password) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("agora: auth hash: {e}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Subcommand)]
enum SumdbCommand {
    /// Generate a key pair for a private checksum database: prints the
    /// signer key line (keep it secret), then the verifier key line (for
    /// clients' GOSUMDB).
    Keygen {
        /// The database name, as clients write it in GOSUMDB.
        name: String,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration and where each value came from.
    Show {
        /// An agora or Athens config.toml.
        #[arg(long, short = 'c', alias = "config_file")]
        config: Option<PathBuf>,
    },
}

/// Prints a fresh key pair in the go command's note key formats.
fn sumdb_keygen(name: &str) -> ExitCode {
    match agora_sumdb::note::generate_key(name) {
        Ok((skey, vkey)) => {
            println!("{skey}");
            println!("{vkey}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("agora: sumdb keygen {name:?}: {e}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = |k: &str| std::env::var(k).ok();
    match cli.command {
        Command::Sumdb {
            command: SumdbCommand::Keygen { name },
        } => sumdb_keygen(&name),
        Command::Auth {
            command: AuthCommand::Hash { password },
        } => auth_hash(&password),
        Command::Config {
            command: ConfigCommand::Show { config },
        } => match agora_config::load(config.as_deref(), &env) {
            Ok(loaded) => {
                print!("{}", loaded.show());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("agora: {e}");
                ExitCode::from(2)
            }
        },
        Command::Prefill { config, args } => {
            admin_command(config, move |settings, storage| async move {
                admin::prefill::run(&settings, storage, args).await
            })
        }
        Command::Export { config, args } => {
            admin_command(config, move |settings, storage| async move {
                admin::export::run(&settings, storage, args).await
            })
        }
        Command::Import { config, args } => {
            admin_command(config, move |settings, storage| async move {
                admin::import::run(&settings, storage, args).await
            })
        }
        Command::Verify { config, args } => {
            admin_command(config, move |settings, storage| async move {
                admin::verify::run(&settings, storage, args).await
            })
        }
        Command::Delete { config, spec } => {
            admin_command(config, move |_settings, storage| async move {
                admin::delete(storage, &spec).await
            })
        }
        Command::Serve { config } => {
            // The log guard is held until main returns: dropping it writes out
            // the lines still queued.
            let (settings, runtime, _log_flush, traces) =
                match start(config, LogOutput::Background, ExitCode::FAILURE) {
                    Ok(started) => started,
                    Err(code) => return code,
                };
            let json = settings.log.format == LogFormat::Json;
            let code = match runtime.block_on(serve(settings)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("{e:#}");
                    // In JSON mode every stderr line is an object: the log line says it.
                    if !json {
                        eprintln!("agora: {e:#}");
                    }
                    ExitCode::FAILURE
                }
            };
            drop(runtime);
            // Sends the spans still batched; outside the runtime, because the
            // exporter's blocking client runs one of its own.
            if let Some(provider) = traces
                && let Err(e) = provider.shutdown()
            {
                tracing::warn!("flushing traces: {e}");
            }
            code
        }
    }
}

/// Runs an admin command with the settings and storage `serve` would have:
/// exit 0 when it reports success, 1 when it reports a failure (named in
/// its summary), 2 when it could not run at all.
fn admin_command<F, Fut>(config: Option<PathBuf>, run: F) -> ExitCode
where
    F: FnOnce(Settings, Arc<dyn Storage>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    // Admin commands export no traces worth keeping; the provider (when the
    // OTEL_* variables ask for one) is dropped with the process.
    let (settings, runtime, _log_flush, _traces) =
        match start(config, LogOutput::AboveProgress, ExitCode::from(2)) {
            Ok(started) => started,
            Err(code) => return code,
        };
    let result = runtime.block_on(async move {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let storage = build_storage(&settings).await?;
        run(settings, storage).await
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("agora: {e:#}");
            ExitCode::from(2)
        }
    }
}

type LogFlush = Option<tracing_appender::non_blocking::WorkerGuard>;
type Traces = Option<opentelemetry_sdk::trace::SdkTracerProvider>;

/// What `serve` and the admin commands start from: the settings (their
/// warnings logged once tracing is up) and a runtime sized by them, with the
/// log writer's guard and the tracer provider of [`init_tracing`]. A bad
/// configuration exits 2; a runtime that cannot start exits `runtime_failure`.
fn start(
    config: Option<PathBuf>,
    output: LogOutput,
    runtime_failure: ExitCode,
) -> Result<(Settings, tokio::runtime::Runtime, LogFlush, Traces), ExitCode> {
    let env = |k: &str| std::env::var(k).ok();
    let loaded = match agora_config::load(config.as_deref(), &env) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("agora: {e}");
            return Err(ExitCode::from(2));
        }
    };
    let (log_flush, traces) = init_tracing(&loaded.settings, output);
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Blocking threads: one per upstream fetch permit (building a
        // version from git holds one while its thread runs) and as
        // many again for disk reads, rather than tokio's 512, which a
        // flood of requests would grow into.
        .max_blocking_threads(2 * loaded.settings.upstream.max_fetches)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("agora: starting runtime: {e}");
            return Err(runtime_failure);
        }
    };
    Ok((loaded.settings, runtime, log_flush, traces))
}

/// Where log lines go.
enum LogOutput {
    /// `serve`: a background thread writes them, so a request never waits on
    /// a write to stderr (every request has an info line). Nothing is dropped:
    /// when the thread falls far behind, loggers wait for it.
    Background,
    /// The admin commands: straight to stderr, above the progress bar.
    AboveProgress,
}

/// Logging to stderr, plus trace export when the OTEL_* variables ask for it
/// (see `telemetry`). Returns the log writer's guard and the tracer provider
/// to flush at exit.
fn init_tracing(settings: &Settings, output: LogOutput) -> (LogFlush, Traces) {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    // reqwest is built without a default TLS provider (the exporter's client
    // too); pick ring, which builds without a C toolchain beyond cc.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let env = |k: &str| std::env::var(k).ok();
    let (provider, tracer, export_error) = if telemetry::requested(&env) {
        match telemetry::start() {
            Ok((p, t)) => (Some(p), Some(t), None),
            Err(e) => (None, None, Some(e)),
        }
    } else {
        (None, None, None)
    };
    let level = match settings.log.level {
        LogLevel::Trace => "trace",
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    };
    // Our own crates log at the configured level; dependencies only warn,
    // so that debug logging stays readable.
    let mut directives = format!(
        "warn,agora={level},agora_server={level},agora_storage={level},agora_upstream={level},agora_vcs={level},agora_core={level}"
    );
    if tracer.is_some() {
        // The spans that exist for export only; without export they stay off.
        directives.push_str(",agora_otel=info");
    }
    let filter = tracing_subscriber::EnvFilter::new(directives);
    let (writer, guard) = match output {
        LogOutput::Background => {
            // Buffered: the thread writes whatever queued up in one go.
            let out = std::io::BufWriter::new(std::io::stderr());
            // The queue's slots are allocated and touched up front: 128k lines
            // (the default) cost ~4 MiB of resident memory; 8k is plenty for bursts.
            let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
                .buffered_lines_limit(8192)
                .lossy(false)
                .thread_name("agora-log")
                .finish(out);
            (BoxMakeWriter::new(writer), Some(guard))
        }
        // Log lines go above an admin command's progress bar, not through it.
        LogOutput::AboveProgress => (BoxMakeWriter::new(admin::progress::LogWriter), None),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        // Colour codes only for a person at a terminal, never in log files.
        .with_ansi(admin::progress::stderr_draws());
    match settings.log.format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .finish()
            .with(tracer.map(|t| tracing_opentelemetry::layer().with_tracer(t)))
            .init(),
        LogFormat::Plain => builder
            .finish()
            .with(tracer.map(|t| tracing_opentelemetry::layer().with_tracer(t)))
            .init(),
    }
    match (&provider, export_error) {
        (Some(_), _) => tracing::info!("exporting traces over OTLP/HTTP"),
        (None, Some(e)) => tracing::warn!("trace export is off: {e}"),
        (None, None) => {}
    }
    (guard, provider)
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    // reqwest is built without a default TLS provider; pick ring, which
    // builds without a C toolchain beyond cc.
    let _ = rustls::crypto::ring::default_provider().install_default();

    if let Some(socket) = &settings.server.unix_socket {
        // Refuse rather than silently listen somewhere the operator did not ask for.
        anyhow::bail!(
            "listening on a Unix socket ({}) is not supported yet",
            socket.display()
        );
    }
    let storage = build_storage(&settings).await?;
    let up = &settings.upstream;
    // Timed below the in-memory caches, so the storage latency is the backend's.
    let storage: Arc<dyn Storage> = Arc::new(MeteredStorage::new(storage));
    let upstream = Arc::new(CachedUpstream::new(
        build_upstream(&settings)?,
        settings.cache.list_ttl,
        settings.cache.negative_ttl,
    ));
    let sumdb = sumdb(&settings, storage.clone()).await?;
    let fetch_and_store = FetchAndStore::new(storage.clone(), upstream.clone(), up.stash_timeout)
        .verifying(sumdb.clone());
    let index = module_index(&settings.index).await?;
    let stasher = match lock::single_flight(&settings).await? {
        Some((lock, options)) => {
            info!(lock = %lock.describe(), "replicas share a single-flight lock");
            Stasher::with_lock(fetch_and_store, storage.clone(), lock, options)
        }
        None => Stasher::over(fetch_and_store),
    };
    // Every waiter of a flight adds the version it waited for; the index
    // keeps one line per version however often it is added.
    let stasher = match &index {
        Some(index) => stasher.indexed(index.clone()),
        None => stasher,
    };
    let proxy = Proxy::new(
        storage.clone(),
        upstream,
        stasher,
        up.network_mode,
        settings.server.cache_bytes,
    )
    .with_download_modes(download_modes(&settings.download)?);
    let access = access(&settings.auth)?;
    let router = agora_server::router(
        proxy,
        &ServerOptions {
            path_prefix: settings.server.path_prefix.clone(),
            access,
            policy: policy(&settings.filter)?,
            sumdb: Some(sumdb),
            index: index.map(IndexHandle),
        },
    );
    let tls = match (&settings.tls.cert_file, &settings.tls.key_file) {
        (Some(cert), Some(key)) => Some(
            agora_server::tls::server_config(cert, key)
                .map_err(|e| anyhow::anyhow!("tls.cert_file, tls.key_file: {e}"))?,
        ),
        _ => None,
    };

    let listener = tokio::net::TcpListener::bind(&settings.server.listen)
        .await
        .with_context(|| format!("listening on {}", settings.server.listen))?;
    info!(
        addr = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(),
        scheme = if tls.is_some() { "https" } else { "http" },
        storage = %storage.describe(),
        upstream = %up.goproxy,
        "agora listening"
    );
    let connections = agora_server::ConnectionOptions {
        header_timeout: settings.server.header_timeout,
    };
    let grace = settings.server.shutdown_timeout;
    match tls {
        Some(tls) => {
            agora_server::serve_tls(
                listener,
                router,
                shutdown_signal(),
                grace,
                &connections,
                tls,
            )
            .await?;
        }
        None => {
            agora_server::serve_with(listener, router, shutdown_signal(), grace, &connections)
                .await?;
        }
    }
    info!("agora stopped");
    Ok(())
}

/// The checksum databases: proxied under `/sumdb/`, the one fetched versions
/// are checked against (GONOSUMDB, else GOPRIVATE, exempts modules), and
/// agora's private one when it has a key.
async fn sumdb(settings: &Settings, storage: Arc<dyn Storage>) -> anyhow::Result<SumDbs> {
    let up = &settings.upstream;
    let nosum = if up.gonosumdb.is_empty() {
        up.goprivate.clone()
    } else {
        up.gonosumdb.clone()
    };
    let dbs = SumDbs::new(
        &SumDbConfig {
            athens_urls: settings.sumdb.athens_urls.clone(),
            entries: settings.sumdb.databases.clone(),
            nosum,
            verify: settings.sumdb.verify,
            timeout: up.timeout,
        },
        storage.clone(),
    )
    .map_err(anyhow::Error::msg)
    .context("configuring checksum databases (sumdb.*)")?;
    let dbs = match &settings.sumdb.private_key_file {
        None => dbs,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading sumdb.private_key_file {}", path.display()))?;
            let signer = agora_sumdb::note::Signer::parse(text.trim())
                .map_err(|e| anyhow::anyhow!("sumdb.private_key_file {}: {e}", path.display()))?;
            let log = agora_server::private_sumdb::PrivateLog::open(signer, storage)
                .await
                .map_err(|e| anyhow::anyhow!("opening the private checksum database: {e}"))?;
            info!(
                name = log.name(),
                verifier_key = %log.verifier_key(),
                "private checksum database"
            );
            dbs.with_private_log(Arc::new(log))
        }
    };
    info!(
        proxied = %dbs.names().join(","),
        verifying_with = dbs.verifying_with().unwrap_or("none"),
        "checksum databases"
    );
    Ok(dbs)
}

/// The storage `settings` name, built the same way for `serve` and every
/// admin command.
pub(crate) async fn build_storage(settings: &Settings) -> anyhow::Result<Arc<dyn Storage>> {
    let storage: Arc<dyn Storage> = match &settings.storage {
        StorageSettings::Disk { root } => Arc::new(
            DiskStorage::open(root)
                .with_context(|| format!("opening disk storage at {}", root.display()))?,
        ),
        StorageSettings::Memory => Arc::new(MemoryStorage::new()),
        StorageSettings::S3(_) | StorageSettings::Minio(_) | StorageSettings::Azure(_) => Arc::new(
            object_storage(&settings.storage)?
                .context("object storage settings without a bucket")?
                .with_claim_wait(settings.upstream.stash_timeout),
        ),
        StorageSettings::Gcp(_) => Arc::new(
            object_storage(&settings.storage)?
                .context("object storage settings without a bucket")?,
        ),
        StorageSettings::External(ext) => {
            Arc::new(ExternalStorage::new(&ext.url).context("configuring external storage")?)
        }
        StorageSettings::Mongo(mg) => {
            let config = MongoConfig {
                url: mg.url.expose().to_owned(),
                database: mg.database.clone(),
                collection: mg.collection.clone(),
                cert_path: mg.cert_path.clone(),
                insecure: mg.insecure,
                // Athens gives its Mongo client the global Timeout as connect timeout.
                timeout: settings.upstream.timeout,
            };
            // Ensures the indexes, waiting at most min(timeout, 10 s) for the server: an
            // unreachable one shows as 503s and a failing /readyz, not a failed start.
            Arc::new(
                MongoStorage::connect(&config)
                    .await
                    .context("configuring MongoDB storage")?,
            )
        }
    };
    Ok(storage)
}

/// A client of the bucket `storage` names (S3, MinIO's layout, Azure Blob, GCS), or
/// `None` for the other backends: the storage's own, and the storage lock's.
pub(crate) fn object_storage(storage: &StorageSettings) -> anyhow::Result<Option<ObjectStorage>> {
    Ok(Some(match storage {
        StorageSettings::S3(s3) => {
            ObjectStorage::s3(s3, Layout::S3).context("configuring S3 storage")?
        }
        StorageSettings::Minio(mn) => ObjectStorage::s3(
            &S3Settings {
                bucket: mn.bucket.clone(),
                region: mn.region.clone(),
                endpoint: Some(mn.url()),
                access_key_id: Some(mn.access_key_id.clone()),
                secret_access_key: Some(mn.secret_access_key.clone()),
                session_token: None,
                force_path_style: true,
            },
            Layout::Minio,
        )
        .context("configuring MinIO storage")?,
        StorageSettings::Azure(az) => {
            let mut config = match &az.connection_string {
                Some(conn) => AzureConfig::from_connection_string(conn.expose(), &az.container)
                    .map_err(|e| anyhow::anyhow!("storage.azure.connection_string: {e}"))?,
                None => AzureConfig {
                    account_name: String::new(),
                    account_key: None,
                    container: az.container.clone(),
                    endpoint: None,
                },
            };
            // Explicit settings win over the connection string's.
            if let Some(name) = &az.account_name {
                config.account_name = name.clone();
            }
            if let Some(key) = &az.account_key {
                config.account_key = Some(key.expose().to_owned());
            }
            ObjectStorage::azure(&config).context("configuring Azure Blob storage")?
        }
        StorageSettings::Gcp(gcp) => ObjectStorage::gcs(&GcsConfig {
            bucket: gcp.bucket.clone(),
            json_key: gcp.json_key.as_ref().map(|k| k.expose().to_owned()),
            emulator_host: gcp.emulator_host.clone(),
        })
        .context("configuring Google Cloud Storage")?,
        _ => return Ok(None),
    }))
}

/// The upstream chain `settings` name, shared by `serve` and `prefill`.
pub(crate) fn build_upstream(settings: &Settings) -> anyhow::Result<Upstream> {
    let up = &settings.upstream;
    let gonoproxy = if up.gonoproxy.is_empty() {
        up.goprivate.clone()
    } else {
        up.gonoproxy.clone()
    };
    let upstream = Upstream::new(UpstreamConfig {
        proxies: up.goproxy.clone(),
        gonoproxy,
        timeout: up.timeout,
        spool_dir: settings.tmp_dir.clone(),
        vcs_cache_dir: settings.data_dir.join("vcs"),
        goinsecure: up.goinsecure.clone(),
        credentials: credentials(up)?,
        go_fetcher: go_fetcher(up)?,
        max_fetches: up.max_fetches,
    })
    .context("building upstream client")?;
    Ok(upstream)
}

/// The module index `index.type` asks for; `None` for `none`. PostgreSQL must
/// answer within its connect timeout, as Athens requires at startup too.
async fn module_index(
    settings: &IndexSettings,
) -> anyhow::Result<Option<Arc<dyn agora_index::ModuleIndex>>> {
    let index: Arc<dyn agora_index::ModuleIndex> = match settings {
        IndexSettings::None => return Ok(None),
        IndexSettings::Memory => Arc::new(agora_index::MemoryIndex::new()),
        IndexSettings::Postgres(pg) => Arc::new(
            PostgresIndex::connect(&PostgresConfig {
                host: pg.host.clone(),
                port: u16::try_from(pg.port).context("index.postgres.port")?,
                user: pg.user.clone(),
                password: pg.password.as_ref().map(|p| p.expose().to_owned()),
                database: pg.database.clone(),
                params: pg.params.clone(),
            })
            .await
            .context("opening the module index (index.type = postgres)")?,
        ),
    };
    info!(index = %index.describe(), "module index");
    Ok(Some(index))
}

/// Client authentication, when configured: the basic user and the auth file
/// (read now; a broken one stops startup), then watched for changes.
fn access(auth: &agora_config::AuthSettings) -> anyhow::Result<Option<agora_server::auth::Access>> {
    let basic = match (&auth.basic_user, &auth.basic_password) {
        (Some(user), Some(password)) => Some((user.as_str(), password.expose())),
        _ => None,
    };
    if basic.is_none() && auth.file.is_none() {
        return Ok(None);
    }
    let access = agora_server::auth::Access::new(basic, auth.file.as_deref())
        .map_err(|e| anyhow::anyhow!("reading the auth file (auth.file): {e}"))?;
    access.watch();
    info!(
        basic_user = basic.is_some(),
        file = %auth.file.as_deref().map(|p| p.display().to_string()).unwrap_or_default(),
        file_users = access.file_users(),
        "client authentication required"
    );
    Ok(Some(access))
}

/// The credentials `direct` uses: the netrc file (read once, here, and never
/// copied anywhere) or the GitHub token. Config loading already refused both.
fn credentials(up: &agora_config::UpstreamSettings) -> anyhow::Result<Credentials> {
    if let Some(token) = &up.github_token {
        return Ok(Credentials::github_token(token.expose()));
    }
    let Some(path) = &up.netrc_path else {
        return Ok(Credentials::default());
    };
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "reading netrc file {} (upstream.netrc_path)",
            path.display()
        )
    })?;
    let netrc = agora_upstream::credentials::parse_netrc(&text);
    if netrc.default.is_some() {
        tracing::warn!(
            path = %path.display(),
            "the netrc file's default entry is ignored: agora sends credentials only to hosts \
             named by a machine line"
        );
    }
    let creds = Credentials::from_netrc(&netrc);
    if creds.is_empty() {
        tracing::warn!(path = %path.display(), "the netrc file has no machine entries");
    } else {
        let machines: Vec<&str> = netrc.machines.iter().map(|m| m.machine.as_str()).collect();
        tracing::info!(path = %path.display(), ?machines, "credentials for direct fetches");
    }
    Ok(creds)
}

/// The go fetcher's settings. When it is on, the go command must run: a
/// missing or broken toolchain stops startup here, naming the key, rather
/// than failing the first hg fetch (Athens runs its binary once at startup
/// too).
fn go_fetcher(up: &agora_config::UpstreamSettings) -> anyhow::Result<GoFetcherConfig> {
    let config = GoFetcherConfig {
        binary: up.go_binary.clone(),
        vcs: up.go_fetcher_vcs.clone(),
        workers: up.go_fetcher_workers,
        goprivate: up.goprivate.clone(),
        gonoproxy: up.gonoproxy.clone(),
        gonosumdb: up.gonosumdb.clone(),
    };
    if !config.is_enabled() {
        return Ok(config);
    }
    let out = std::process::Command::new(&config.binary)
        .arg("version")
        .env("GOTOOLCHAIN", "local")
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| {
            format!(
                "upstream.go_binary: cannot run {} (needed because upstream.go_fetcher_vcs = {:?})",
                config.binary.display(),
                config.vcs
            )
        })?;
    if !out.status.success() {
        anyhow::bail!(
            "upstream.go_binary: `{} version` failed ({}): {}",
            config.binary.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    tracing::info!(
        go = %config.binary.display(),
        version = %String::from_utf8_lossy(&out.stdout).trim(),
        vcs = ?config.vcs,
        workers = config.workers,
        "the go command fetches these repositories"
    );
    Ok(config)
}

/// The download modes: one for every module, or an Athens HCL file (a `file:` one is
/// read here, once; errors name the file and line).
fn download_modes(d: &agora_config::DownloadSettings) -> anyhow::Result<DownloadFile> {
    let file = match &d.mode {
        DownloadModeSetting::Mode(m) => DownloadFile::single(*m, d.url.clone().unwrap_or_default())
            .map_err(|e| anyhow::anyhow!("download.mode {m}: {e}"))?,
        DownloadModeSetting::File(path) => {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!(
                    "reading the download file {} (download.mode)",
                    path.display()
                )
            })?;
            DownloadFile::parse(&text)
                .map_err(|e| anyhow::anyhow!("download file {}: {e}", path.display()))?
        }
        DownloadModeSetting::Custom { file, .. } => file.clone(),
    };
    if !file.is_always_sync() {
        let blocks: Vec<String> = file
            .paths
            .iter()
            .map(|p| format!("{} {}", p.pattern, p.mode))
            .collect();
        tracing::info!(default = %file.mode, ?blocks, "download modes");
    }
    Ok(file)
}

/// The filter file (read here, once) and the validator hook.
fn policy(f: &agora_config::FilterSettings) -> anyhow::Result<Policy> {
    let mut policy = Policy::new();
    if let Some(path) = &f.file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the filter file {} (filter.file)", path.display()))?;
        let filter = agora_core::filter::Filter::parse(&text)
            .map_err(|e| anyhow::anyhow!("filter file {}: {e}", path.display()))?;
        policy = policy.with_filter(filter, f.direct_url.clone())?;
        tracing::info!(path = %path.display(), "filter file applied");
    }
    if let Some(url) = &f.validator {
        policy = policy.with_validator(url.clone(), f.validator_timeout)?;
        tracing::info!(validator = %url, "validator hook applied");
    }
    Ok(policy)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
