//! [`RexSource`]: the [`Source`] over rex-core's registry facade (`rex_core::registry::Rex`).
//! One `Rex` per configured registry, connected on first use and reused (connection pool,
//! token cache). All mapping from core types to the TUI's view models lives here.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, OnceLock};

use rex_core::cache::{CacheKey, Lookup};
use rex_core::config::{Consistency, RegistryTarget, Settings};
use rex_core::endpoint::Endpoint;
use rex_core::oci::PlatformSelector;
use rex_core::reference::Reference;
use rex_core::registry::{ImageInfo, Rex};
use rex_core::ErrorKind;

use crate::source::{
    ConfigView, DetailSink, HistoryView, ImageView, LayerView, Listing, PlatformView,
    RegistryEntry, Source, SourceError, SourceErrorKind, SourceFuture, TagDetail, TagDetailUpdate,
};

/// Tags per `Rex::tag_details` call: each chunk's details reach the screen together, and
/// within a chunk the facade keeps `network.max_concurrency` requests in flight.
const DETAIL_CHUNK: usize = 16;

pub struct RexSource {
    settings: Settings,
    clients: Mutex<HashMap<String, Rex>>,
    worker: OnceLock<Worker>,
}

type Job = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()>>> + Send>;

/// A thread with a current-thread runtime that runs the facade's futures.
///
/// Why: some `Rex` futures are not `Send` (they hold an entered tracing span across an
/// await), so they cannot run on the TUI's multi-thread runtime. Local tasks on one thread
/// still overlap all their network I/O.
struct Worker {
    jobs: tokio::sync::mpsc::UnboundedSender<Job>,
}

impl Worker {
    fn start() -> Worker {
        let (jobs, mut rx) = tokio::sync::mpsc::unbounded_channel::<Job>();
        // Log where the caller logs (the TUI's file), not to the process-wide default.
        let dispatch = tracing::dispatcher::get_default(|d| d.clone());
        let spawned = std::thread::Builder::new()
            .name("rex-registry".into())
            .spawn(move || {
                let _log = tracing::dispatcher::set_default(&dispatch);
                // Blocking-pool threads (the cache's disk writes) log there too.
                let thread_dispatch = dispatch.clone();
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .on_thread_start(move || {
                        std::mem::forget(tracing::dispatcher::set_default(&thread_dispatch));
                    })
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        tracing::error!("cannot start the registry worker: {e}");
                        return;
                    }
                };
                let local = tokio::task::LocalSet::new();
                local.block_on(&rt, async move {
                    while let Some(job) = rx.recv().await {
                        tokio::task::spawn_local(job());
                    }
                });
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start the registry worker thread: {e}");
        }
        Worker { jobs }
    }
}

impl RexSource {
    /// `settings` as resolved by the host (registries, network, credential sources, cache).
    /// The cache is read with eventual consistency (design 1.9: show what is cached at
    /// once, refresh behind) unless strong was asked for (`--no-cache`, or configured) or
    /// stale entries may not be served (`cache.behavior.serve_stale = false`).
    pub fn new(mut settings: Settings) -> Self {
        let behavior = &mut settings.cache.behavior;
        if behavior.consistency == Consistency::Weak && behavior.serve_stale {
            behavior.consistency = Consistency::Eventual;
        }
        RexSource {
            settings,
            clients: Mutex::new(HashMap::new()),
            worker: OnceLock::new(),
        }
    }

    /// Run `f` (which builds a possibly non-`Send` future) on the worker thread and await
    /// its result. Dropping the returned future closes the reply channel, which long jobs
    /// check to stop early.
    async fn on_worker<T, F, Fut>(&self, f: F) -> Result<T, SourceError>
    where
        T: Send + 'static,
        F: FnOnce(tokio::sync::oneshot::Sender<Result<T, SourceError>>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || Box::pin(f(tx)));
        let worker = self.worker.get_or_init(Worker::start);
        let stopped = || SourceError::new(SourceErrorKind::Other, "The registry worker stopped");
        worker.jobs.send(job).map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    /// Registries to show: the configured list, plus a `--registry` address that is not in
    /// it (named by the address itself).
    fn targets(&self) -> Vec<RegistryTarget> {
        let regs = &self.settings.registries;
        let mut out: Vec<RegistryTarget> = regs
            .list
            .iter()
            .map(|e| RegistryTarget {
                name: Some(e.name.clone()),
                url: e.url.clone(),
                insecure: e.insecure,
                skip_verify: e.skip_verify,
            })
            .collect();
        if let Some(r) = self.ad_hoc_registry() {
            out.insert(
                0,
                RegistryTarget {
                    name: None,
                    url: r.to_string(),
                    insecure: false,
                    skip_verify: !self.settings.network.verify_tls,
                },
            );
        }
        out
    }

    fn ad_hoc_registry(&self) -> Option<&str> {
        self.settings
            .runtime
            .registry
            .as_deref()
            .filter(|r| !r.is_empty())
            .filter(|r| !self.settings.registries.list.iter().any(|e| e.name == *r))
    }

    /// The name the TUI uses for a target.
    fn name_of(target: &RegistryTarget) -> String {
        target.name.clone().unwrap_or_else(|| target.url.clone())
    }

    fn is_current(&self, target: &RegistryTarget) -> bool {
        match (&self.settings.runtime.registry, &target.name) {
            (Some(sel), _) if !sel.is_empty() => *sel == Self::name_of(target),
            (_, Some(name)) => self.settings.registries.current.as_deref() == Some(name),
            _ => false,
        }
    }

    async fn rex(&self, registry: &str) -> Result<Rex, SourceError> {
        let cached = self.lock().get(registry).cloned();
        if let Some(rex) = cached {
            return Ok(rex);
        }
        let target = self
            .targets()
            .into_iter()
            .find(|t| Self::name_of(t) == registry)
            .ok_or_else(|| {
                SourceError::new(
                    SourceErrorKind::NotFound,
                    format!("Registry '{registry}' is not configured"),
                )
                .with_hint("Run 'rex registry list' to see the configured registries.")
            })?;
        let settings = self.settings.clone();
        // Credential lookup may read files or run a helper: keep it off the async workers.
        let rex = tokio::task::spawn_blocking(move || Rex::with_target(&settings, &target))
            .await
            .map_err(|e| SourceError::new(SourceErrorKind::Other, e.to_string()))?
            .map_err(map_error)?;
        self.lock().insert(registry.to_string(), rex.clone());
        Ok(rex)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Rex>> {
        self.clients.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Core errors to status-line errors. Auth errors drop the core hint: the TUI's own says
/// which registry to log in to.
pub fn map_error(e: rex_core::Error) -> SourceError {
    let kind = match e.kind() {
        ErrorKind::Auth => SourceErrorKind::Auth,
        ErrorKind::Network => SourceErrorKind::Network,
        ErrorKind::NotFound => SourceErrorKind::NotFound,
        _ => SourceErrorKind::Other,
    };
    let mut err = SourceError::new(kind, e.message());
    if kind != SourceErrorKind::Auth {
        err.hint = e.hint().map(str::to_string);
    }
    err
}

fn unix(ts: Option<&str>) -> Option<i64> {
    ts.and_then(rex_core::format::parse_timestamp)
        .map(|t| t.timestamp())
}

fn parse_reference(reference: &str) -> Result<Reference, SourceError> {
    // `repo:tag` / `repo@digest` relative to the registry. Built from parts so a first path
    // segment with a dot is never mistaken for a registry host.
    let built = if let Some((repo, digest)) = reference.split_once('@') {
        rex_core::digest::Digest::parse(digest)
            .and_then(|d| Reference::new(None, repo, None, Some(d)))
    } else {
        match reference.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => Reference::new(None, repo, Some(tag), None),
            _ => Reference::new(None, reference, None, None),
        }
    };
    built.map_err(map_error)
}

/// Core image information to the image screen's view model.
pub fn image_view(reference: &str, info: &ImageInfo) -> ImageView {
    let config = info.config.as_ref().map(|c| {
        let cc = c.config.clone().unwrap_or_default();
        ConfigView {
            os: c.os.clone(),
            architecture: c.architecture.clone(),
            variant: c.variant.clone(),
            env: cc.env,
            entrypoint: cc.entrypoint,
            cmd: cc.cmd,
            working_dir: cc.working_dir.filter(|w| !w.is_empty()),
            user: cc.user.filter(|u| !u.is_empty()),
            labels: info
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            exposed_ports: cc.exposed_ports,
        }
    });
    let history = info
        .config
        .as_ref()
        .map(|c| {
            c.history
                .iter()
                .map(|h| HistoryView {
                    created: unix(h.created.as_deref()),
                    created_by: h.created_by.clone().unwrap_or_default(),
                    comment: h.comment.clone(),
                    empty_layer: h.empty_layer,
                })
                .collect()
        })
        .unwrap_or_default();
    ImageView {
        reference: reference.to_string(),
        digest: info.digest.to_string(),
        media_type: info.media_type.clone(),
        size: Some(info.total_size),
        created: unix(info.created.as_deref()),
        platforms: info
            .platforms
            .iter()
            .filter(|p| !p.attestation)
            .map(|p| PlatformView {
                platform: p.platform.clone(),
                digest: p.digest.to_string(),
                // The index entry's size is its manifest's, not the image's: not shown.
                size: None,
            })
            .collect(),
        shown_platform: info.platform.clone(),
        config,
        layers: info
            .layers
            .iter()
            .map(|l| LayerView {
                digest: l.digest.to_string(),
                media_type: l.media_type.clone(),
                size: l.size,
            })
            .collect(),
        history,
        raw_manifest: String::from_utf8_lossy(&info.raw_manifest).into_owned(),
        raw_config: info
            .raw_config
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned()),
    }
}

impl Source for RexSource {
    fn registries(&self) -> SourceFuture<'_, Vec<RegistryEntry>> {
        Box::pin(async move {
            Ok(self
                .targets()
                .iter()
                .map(|t| RegistryEntry {
                    name: Self::name_of(t),
                    host: Endpoint::from_target(t)
                        .map(|e| e.registry_host())
                        .unwrap_or_else(|_| t.url.clone()),
                    current: self.is_current(t),
                })
                .collect())
        })
    }

    fn repositories<'a>(&'a self, registry: &'a str, fresh: bool) -> SourceFuture<'a, Listing> {
        Box::pin(async move {
            let rex = self.rex(registry).await?;
            if !fresh {
                if let Some(listing) = cached_listing(&rex, &CacheKey::catalog(host_of(&rex))) {
                    return Ok(listing);
                }
            }
            self.on_worker(move |reply| async move {
                let names = if fresh {
                    rex.refresh_repositories().await
                } else {
                    rex.list_repositories().await
                };
                let _ = reply.send(names.map(Listing::current).map_err(map_error));
            })
            .await
        })
    }

    fn tags<'a>(
        &'a self,
        registry: &'a str,
        repository: &'a str,
        fresh: bool,
    ) -> SourceFuture<'a, Listing> {
        Box::pin(async move {
            let rex = self.rex(registry).await?;
            if !fresh {
                let key = CacheKey::tags(host_of(&rex), repository);
                if let Some(listing) = cached_listing(&rex, &key) {
                    return Ok(listing);
                }
            }
            let repository = repository.to_string();
            self.on_worker(move |reply| async move {
                let names = if fresh {
                    rex.refresh_tags(&repository).await
                } else {
                    rex.list_tags(&repository).await
                };
                let _ = reply.send(names.map(Listing::current).map_err(map_error));
            })
            .await
        })
    }

    fn tag_details<'a>(
        &'a self,
        registry: &'a str,
        repository: &'a str,
        tags: &'a [String],
        fresh: bool,
        sink: DetailSink,
    ) -> SourceFuture<'a, ()> {
        Box::pin(async move {
            let rex = self.rex(registry).await?;
            if fresh {
                // Forget the listing's tag -> digest snapshot (docs/cache.md: key
                // `{repo}@digests`), so every tag is resolved by the registry again and
                // the snapshot rebuilt from the answers.
                let key = CacheKey::tags(host_of(&rex), format!("{repository}@digests"));
                rex.cache().remove(&key);
            }
            let repository = repository.to_string();
            let tags = tags.to_vec();
            self.on_worker(move |reply| async move {
                let result = stream_details(&rex, &repository, &tags, &sink, &reply).await;
                let _ = reply.send(result);
            })
            .await
        })
    }

    fn image<'a>(
        &'a self,
        registry: &'a str,
        reference: &'a str,
        platform: Option<&'a str>,
    ) -> SourceFuture<'a, ImageView> {
        Box::pin(async move {
            let rex = self.rex(registry).await?;
            let r = parse_reference(reference)?;
            let selector = platform
                .map(PlatformSelector::parse)
                .transpose()
                .map_err(map_error)?;
            let reference = reference.to_string();
            self.on_worker(move |reply| async move {
                let info = rex.inspect(&r, selector.as_ref()).await.map_err(map_error);
                let _ = reply.send(info.map(|i| image_view(&reference, &i)));
            })
            .await
        })
    }
}

fn host_of(rex: &Rex) -> String {
    rex.endpoint().registry_host()
}

/// Eventual consistency: the cached listing under `key`, fresh or past its TTL (then
/// flagged, and the UI refreshes behind it). Read here rather than through the facade,
/// which would serve the same entry but refresh a stale one in a detached task whose
/// landing the UI cannot see. `None` (nothing cached): ask through the facade.
fn cached_listing(rex: &Rex, key: &CacheKey) -> Option<Listing> {
    let cache = rex.cache();
    if !cache.is_enabled() || cache.consistency() != Consistency::Eventual {
        return None;
    }
    let (entry, stale) = match cache.get(key) {
        Lookup::Fresh(e) => (e, false),
        Lookup::Stale(e) => (e, true),
        Lookup::Miss => return None,
    };
    let names = entry.payload.names()?.to_vec();
    Some(Listing { names, stale })
}

/// Details chunk by chunk into `sink`; stops early once nobody waits for `reply`.
async fn stream_details(
    rex: &Rex,
    repository: &str,
    tags: &[String],
    sink: &DetailSink,
    reply: &tokio::sync::oneshot::Sender<Result<(), SourceError>>,
) -> Result<(), SourceError> {
    for chunk in tags.chunks(DETAIL_CHUNK) {
        if reply.is_closed() {
            return Ok(());
        }
        match rex.tag_details(repository, chunk, |_, _| {}).await {
            Ok(details) => {
                let mut seen = std::collections::HashSet::new();
                for d in details {
                    seen.insert(d.tag.clone());
                    sink.send(TagDetailUpdate::Ready(TagDetail {
                        created: unix(d.created.as_deref()),
                        tag: d.tag,
                        digest: d.digest.to_string(),
                        media_type: d.media_type,
                        size: Some(d.size),
                        platforms: d.platforms,
                    }));
                }
                // The facade leaves out tags deleted meanwhile.
                for tag in chunk.iter().filter(|t| !seen.contains(*t)) {
                    sink.send(TagDetailUpdate::Failed {
                        tag: tag.clone(),
                        error: SourceError::new(SourceErrorKind::NotFound, "tag no longer exists"),
                    });
                }
            }
            // Every other chunk would fail the same way: stop.
            Err(e) if matches!(e.kind(), ErrorKind::Auth | ErrorKind::Network) => {
                return Err(map_error(e));
            }
            Err(e) => {
                let error = map_error(e);
                for tag in chunk {
                    sink.send(TagDetailUpdate::Failed {
                        tag: tag.clone(),
                        error: error.clone(),
                    });
                }
            }
        }
    }
    Ok(())
}
