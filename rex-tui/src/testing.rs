//! Drive the real [`App`] without a terminal: feed events, fulfil its requests from a
//! [`Source`] synchronously, render into a `TestBackend`. Used by rex-tui's own tests and
//! available to plugin tests.

use std::sync::{Arc, Mutex};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use crate::app::{update, App, Command, Event, Loaded, Request, RequestId, Theme};
use crate::source::{DetailSink, Source};

/// A fixed "now" so relative dates in snapshots never change: 2023-11-14 22:13 UTC.
pub const NOW: i64 = 1_700_000_000;

pub struct Harness {
    pub app: App,
    source: Arc<dyn Source>,
    rt: tokio::runtime::Runtime,
    terminal: Terminal<TestBackend>,
    /// Loads requested and not yet answered, oldest first.
    pub pending: Vec<(RequestId, Request)>,
    /// Texts sent to the clipboard.
    pub copied: Vec<String>,
    /// Requests the app cancelled.
    pub cancelled: Vec<RequestId>,
    /// Deliver only this many streamed tag details and leave the stream open.
    pub detail_limit: Option<usize>,
}

impl Harness {
    pub fn new(source: impl Source, width: u16, height: u16) -> Self {
        Self::with_options(Arc::new(source), Theme::Dark, true, None, width, height)
    }

    pub fn with_options(
        source: Arc<dyn Source>,
        theme: Theme,
        vim_bindings: bool,
        initial_registry: Option<String>,
        width: u16,
        height: u16,
    ) -> Self {
        let (mut app, cmds) = App::new(theme, vim_bindings, initial_registry);
        app.width = width;
        app.height = height;
        app.now = NOW;
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime");
        let terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
        let mut h = Harness {
            app,
            source,
            rt,
            terminal,
            pending: Vec::new(),
            copied: Vec::new(),
            cancelled: Vec::new(),
            detail_limit: None,
        };
        h.absorb(cmds);
        h
    }

    fn absorb(&mut self, cmds: Vec<Command>) {
        for cmd in cmds {
            match cmd {
                Command::Load { id, request } => self.pending.push((id, request)),
                Command::Cancel(id) => {
                    self.pending.retain(|(p, _)| *p != id);
                    self.cancelled.push(id);
                }
                Command::Copy(text) => self.copied.push(text),
                Command::Quit => {}
            }
        }
    }

    /// Apply one event and collect its commands.
    pub fn send(&mut self, event: Event) {
        let cmds = update(&mut self.app, event);
        self.absorb(cmds);
    }

    pub fn key(&mut self, code: KeyCode) {
        self.send(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    pub fn ctrl(&mut self, c: char) {
        self.send(Event::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::CONTROL,
        )));
    }

    pub fn type_str(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    pub fn resize(&mut self, width: u16, height: u16) {
        self.terminal.backend_mut().resize(width, height);
        self.send(Event::Resize(width, height));
    }

    /// Answer every pending request (and the ones their answers cause).
    pub fn settle(&mut self) {
        for _ in 0..1000 {
            if self.pending.is_empty() {
                return;
            }
            let (id, request) = self.pending.remove(0);
            for ev in self.answer(id, &request) {
                self.send(ev);
            }
        }
    }

    /// Take the pending requests without answering them (to answer later, out of order).
    pub fn take_pending(&mut self) -> Vec<(RequestId, Request)> {
        std::mem::take(&mut self.pending)
    }

    /// The events the source produces for one request.
    pub fn answer(&self, id: RequestId, request: &Request) -> Vec<Event> {
        let source = self.source.clone();
        let loaded = |r| vec![Event::Loaded { id, result: r }];
        self.rt.block_on(async {
            match request {
                Request::Registries => loaded(source.registries().await.map(Loaded::Registries)),
                Request::Repositories { registry, fresh } => loaded(
                    source
                        .repositories(registry, *fresh)
                        .await
                        .map(Loaded::Repositories),
                ),
                Request::Tags {
                    registry,
                    repository,
                    fresh,
                } => loaded(
                    source
                        .tags(registry, repository, *fresh)
                        .await
                        .map(Loaded::Tags),
                ),
                Request::Image {
                    registry,
                    reference,
                    platform,
                } => loaded(
                    source
                        .image(registry, reference, platform.as_deref())
                        .await
                        .map(|i| Loaded::Image(Box::new(i))),
                ),
                Request::TagDetails {
                    registry,
                    repository,
                    tags,
                    fresh,
                } => {
                    let got = Arc::new(Mutex::new(Vec::new()));
                    let sink_got = got.clone();
                    let sink = DetailSink::new(move |u| {
                        sink_got.lock().expect("not poisoned").push(u);
                    });
                    let result = source
                        .tag_details(registry, repository, tags, *fresh, sink)
                        .await;
                    let mut updates = std::mem::take(&mut *got.lock().expect("not poisoned"));
                    match self.detail_limit {
                        Some(n) => {
                            updates.truncate(n);
                            vec![Event::TagDetails { id, updates }]
                        }
                        None => vec![
                            Event::TagDetails { id, updates },
                            Event::TagDetailsDone { id, result },
                        ],
                    }
                }
            }
        })
    }

    /// Draw and return the screen as text, one line per row, trailing spaces trimmed.
    pub fn render(&mut self) -> String {
        let app = &self.app;
        self.terminal
            .draw(|f| crate::ui::draw(app, f))
            .expect("drawing into a TestBackend");
        let buffer = self.terminal.backend().buffer();
        let width = buffer.area.width as usize;
        let mut out = String::new();
        for (i, cell) in buffer.content.iter().enumerate() {
            out.push_str(cell.symbol());
            if (i + 1) % width == 0 {
                let trimmed = out.trim_end_matches(' ').len();
                out.truncate(trimmed);
                out.push('\n');
            }
        }
        out
    }

    pub fn terminal(&self) -> &Terminal<TestBackend> {
        &self.terminal
    }
}
