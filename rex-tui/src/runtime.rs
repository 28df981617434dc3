//! The impure shell around [`update`]/[`draw`]: terminal setup and restore, the input
//! thread, background requests on a tokio runtime, OSC 52, logging.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use crossterm::event::{self as cevent, DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::task::AbortHandle;

use crate::app::{update, App, Command, Event, Loaded, Request, RequestId};
use crate::source::{DetailSink, Source, TagDetailUpdate};
use crate::{ui, TuiError, TuiOptions};

/// Most streamed details folded into one event, so a redraw covers many arrivals.
const DETAIL_BATCH: usize = 256;
const TICK: Duration = Duration::from_millis(100);

pub(crate) fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// OSC 52 "set clipboard", as a crossterm command so it goes through the same writer.
pub struct SetClipboard<'a>(pub &'a str);

impl crossterm::Command for SetClipboard<'_> {
    fn write_ansi(&self, f: &mut impl std::fmt::Write) -> std::fmt::Result {
        let b64 = base64::engine::general_purpose::STANDARD.encode(self.0);
        write!(f, "\x1b]52;c;{b64}\x07")
    }

    #[cfg(windows)]
    fn execute_winapi(&self) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "OSC 52 needs an ANSI terminal",
        ))
    }
}

fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = crossterm::execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Restores the terminal when dropped: normal exit, `?` errors and unwinding panics.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Log to the file (or nowhere) on every thread the TUI owns: a global stderr subscriber
/// installed by the host would otherwise paint over the screen.
fn log_dispatch(options: &TuiOptions) -> Result<tracing::Dispatch, TuiError> {
    let Some(path) = &options.log_file else {
        return Ok(tracing::Dispatch::none());
    };
    let writer =
        crate::log_file::RotatingWriter::open(path).map_err(|source| TuiError::LogFile {
            path: path.clone(),
            source,
        })?;
    let subscriber = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_max_level(options.log_level)
        .finish();
    Ok(tracing::Dispatch::new(subscriber))
}

pub(crate) fn run(source: Arc<dyn Source>, options: TuiOptions) -> Result<(), TuiError> {
    if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
        return Err(TuiError::NotATerminal);
    }
    let dispatch = log_dispatch(&options)?;
    let _log_guard = tracing::dispatcher::set_default(&dispatch);
    let thread_dispatch = dispatch.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("rex-tui")
        .enable_all()
        .on_thread_start(move || {
            // The runtime's threads live as long as the runtime; keep the default for good.
            std::mem::forget(tracing::dispatcher::set_default(&thread_dispatch));
        })
        .build()
        .map_err(TuiError::Runtime)?;

    // Panic hook: restore the terminal first so the message is readable. Panics in
    // background tasks are logged instead (tokio contains them; the UI keeps running).
    let ui_thread = std::thread::current().id();
    let previous = Arc::new(std::panic::take_hook());
    let hook_previous = previous.clone();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == ui_thread {
            restore_terminal();
            hook_previous(info);
        } else {
            tracing::error!("background task panicked: {info}");
        }
    }));

    let result = (|| {
        enable_raw_mode()?;
        let _guard = TerminalGuard;
        crossterm::execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
        let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        terminal.clear()?;
        rt.block_on(event_loop(&mut terminal, source, &options))
    })();

    let _ = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| previous(info)));
    rt.shutdown_timeout(Duration::from_millis(200));
    result
}

async fn event_loop(
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    source: Arc<dyn Source>,
    options: &TuiOptions,
) -> Result<(), TuiError> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let stop = Arc::new(AtomicBool::new(false));
    let input = spawn_input_thread(tx.clone(), stop.clone());

    let (mut app, cmds) = App::new(
        options.theme,
        options.vim_bindings,
        options.initial_registry.clone(),
    );
    let size = terminal.size()?;
    app.width = size.width;
    app.height = size.height;
    app.now = now_unix();
    let mut tasks: HashMap<RequestId, AbortHandle> = HashMap::new();
    execute(terminal, &source, &tx, &mut tasks, cmds)?;

    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut interrupted = false;
    let mut needs_draw = true;
    let mut idle_ticks: u64 = 0;
    #[cfg(debug_assertions)]
    let test_panic = std::env::var_os("REX_TUI_TEST_PANIC").is_some();
    let result = loop {
        if needs_draw {
            if let Err(e) = terminal.draw(|f| ui::draw(&app, f)) {
                break Err(e.into());
            }
        }
        let event = tokio::select! {
            Some(ev) = rx.recv() => ev,
            _ = tick.tick() => Event::Tick { now: now_unix() },
            _ = &mut ctrl_c, if !interrupted => { interrupted = true; Event::Interrupt }
        };
        // Idle ticks only matter for relative dates; redraw for them once in a while.
        let is_tick = matches!(event, Event::Tick { .. });
        idle_ticks = if is_tick { idle_ticks + 1 } else { 0 };
        needs_draw = !is_tick || app.is_busy() || idle_ticks >= 50;
        if idle_ticks >= 50 {
            idle_ticks = 0;
        }
        // Apply everything already queued before drawing again (coalesced redraws).
        let mut pending = vec![event];
        while let Ok(ev) = rx.try_recv() {
            needs_draw = true;
            pending.push(ev);
            if pending.len() >= 1024 {
                break;
            }
        }
        // Debug builds only (compiled out of release, so no backdoor): lets the e2e tests
        // check that a panic on the UI thread restores the terminal.
        #[cfg(debug_assertions)]
        if test_panic && pending.iter().any(|e| matches!(e, Event::Key(_))) {
            panic!("REX_TUI_TEST_PANIC: test panic on the UI thread");
        }
        let mut failed = None;
        // Filter once per batch, for the latest query (see `App::defer_filter`).
        app.defer_filter = true;
        for ev in pending {
            if let Event::Loaded { id, .. } | Event::TagDetailsDone { id, .. } = &ev {
                tasks.remove(id);
            }
            let cmds = update(&mut app, ev);
            if let Err(e) = execute(terminal, &source, &tx, &mut tasks, cmds) {
                failed = Some(e);
                break;
            }
        }
        app.defer_filter = false;
        app.flush_filter();
        if let Some(e) = failed {
            break Err(e);
        }
        if app.quit {
            break Ok(());
        }
    };
    stop.store(true, Ordering::Relaxed);
    for (_, task) in tasks.drain() {
        task.abort();
    }
    let _ = input.join();
    result
}

fn spawn_input_thread(
    tx: UnboundedSender<Event>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("rex-tui-input".into())
        .spawn(move || {
            // Poll with a timeout so the thread notices `stop` and exits before the
            // terminal is restored.
            while !stop.load(Ordering::Relaxed) {
                match cevent::poll(Duration::from_millis(50)) {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(e) => {
                        tracing::error!("terminal input failed: {e}");
                        let _ = tx.send(Event::Interrupt);
                        return;
                    }
                }
                let event = match cevent::read() {
                    Ok(cevent::Event::Key(k)) => Event::Key(k),
                    Ok(cevent::Event::Mouse(m)) => Event::Mouse(m),
                    Ok(cevent::Event::Resize(w, h)) => Event::Resize(w, h),
                    Ok(_) => continue,
                    Err(e) => {
                        tracing::error!("terminal input failed: {e}");
                        let _ = tx.send(Event::Interrupt);
                        return;
                    }
                };
                if tx.send(event).is_err() {
                    return;
                }
            }
        })
        .expect("spawning the input thread")
}

fn execute(
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    source: &Arc<dyn Source>,
    tx: &UnboundedSender<Event>,
    tasks: &mut HashMap<RequestId, AbortHandle>,
    cmds: Vec<Command>,
) -> Result<(), TuiError> {
    for cmd in cmds {
        match cmd {
            Command::Load { id, request } => {
                let handle = spawn_request(source.clone(), tx.clone(), id, request);
                tasks.insert(id, handle);
            }
            Command::Cancel(id) => {
                if let Some(task) = tasks.remove(&id) {
                    task.abort();
                }
            }
            Command::Copy(text) => {
                let backend = terminal.backend_mut();
                crossterm::execute!(backend, SetClipboard(&text))?;
                backend.flush()?;
            }
            Command::Quit => {}
        }
    }
    Ok(())
}

/// Run one request in the background; its result comes back as an event tagged `id`.
fn spawn_request(
    source: Arc<dyn Source>,
    tx: UnboundedSender<Event>,
    id: RequestId,
    request: Request,
) -> AbortHandle {
    let inner_tx = tx.clone();
    let work = tokio::spawn(perform(source, inner_tx, id, request));
    let handle = work.abort_handle();
    // A panicking source must not leave the screen waiting forever.
    tokio::spawn(async move {
        if let Err(e) = work.await {
            if e.is_panic() {
                let error = crate::source::SourceError::new(
                    crate::source::SourceErrorKind::Other,
                    "Internal error while loading (see the log)",
                );
                let _ = tx.send(Event::Loaded {
                    id,
                    result: Err(error.clone()),
                });
                let _ = tx.send(Event::TagDetailsDone {
                    id,
                    result: Err(error),
                });
            }
        }
    });
    handle
}

async fn perform(
    source: Arc<dyn Source>,
    tx: UnboundedSender<Event>,
    id: RequestId,
    request: Request,
) {
    let loaded = match request {
        Request::Registries => source.registries().await.map(Loaded::Registries),
        Request::Repositories { registry, fresh } => source
            .repositories(&registry, fresh)
            .await
            .map(Loaded::Repositories),
        Request::Tags {
            registry,
            repository,
            fresh,
        } => source
            .tags(&registry, &repository, fresh)
            .await
            .map(Loaded::Tags),
        Request::Image {
            registry,
            reference,
            platform,
        } => source
            .image(&registry, &reference, platform.as_deref())
            .await
            .map(|i| Loaded::Image(Box::new(i))),
        Request::TagDetails {
            registry,
            repository,
            tags,
            fresh,
        } => {
            stream_details(source, tx, id, registry, repository, tags, fresh).await;
            return;
        }
    };
    let _ = tx.send(Event::Loaded { id, result: loaded });
}

enum Streamed {
    Update(TagDetailUpdate),
    Done(Result<(), crate::source::SourceError>),
}

async fn stream_details(
    source: Arc<dyn Source>,
    tx: UnboundedSender<Event>,
    id: RequestId,
    registry: String,
    repository: String,
    tags: Vec<String>,
    fresh: bool,
) {
    let (dtx, mut drx) = mpsc::unbounded_channel::<Streamed>();
    let sink_tx = dtx.clone();
    let sink = DetailSink::new(move |u| {
        let _ = sink_tx.send(Streamed::Update(u));
    });
    // Forward in batches; `Done` travels the same channel so it arrives after the last
    // update.
    let forward = tokio::spawn(async move {
        while let Some(first) = drx.recv().await {
            let mut batch = Vec::new();
            let mut done = None;
            let mut item = Some(first);
            while let Some(it) = item.take() {
                match it {
                    Streamed::Update(u) => batch.push(u),
                    Streamed::Done(r) => {
                        done = Some(r);
                        break;
                    }
                }
                if batch.len() >= DETAIL_BATCH {
                    break;
                }
                item = drx.try_recv().ok();
            }
            if !batch.is_empty() {
                let _ = tx.send(Event::TagDetails { id, updates: batch });
            }
            if let Some(result) = done {
                let _ = tx.send(Event::TagDetailsDone { id, result });
                return;
            }
        }
    });
    let result = source
        .tag_details(&registry, &repository, &tags, fresh, sink)
        .await;
    let _ = dtx.send(Streamed::Done(result));
    let _ = forward.await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::Command as _;

    #[test]
    fn osc52_sequence_carries_base64_text() {
        let mut out = String::new();
        SetClipboard("localhost:5000/a:b")
            .write_ansi(&mut out)
            .unwrap();
        assert_eq!(out, "\x1b]52;c;bG9jYWxob3N0OjUwMDAvYTpi\x07");
    }
}
