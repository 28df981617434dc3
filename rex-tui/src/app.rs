//! The whole UI state and its transitions: [`App`] + [`update`]. Plain code, no I/O: slow
//! work is requested with [`Command::Load`] and answered later with an [`Event`] that
//! carries the same [`RequestId`]; answers nobody waits for any more are dropped.

use std::collections::HashMap;

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Rect;

use crate::filter::{self, Query};
use crate::fmt::compare_tags;
use crate::keymap::{self, Action};
use crate::source::{ImageView, Listing, RegistryEntry, SourceError, TagDetail, TagDetailUpdate};

/// Identifies one background request; results carry it back.
pub type RequestId = u64;

/// Colour theme (`tui.theme`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    #[default]
    Dark,
    Light,
}

/// Everything that can happen to the UI.
#[derive(Debug)]
pub enum Event {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    /// Periodic tick: advances the spinner and the clock used for relative dates.
    Tick {
        now: i64,
    },
    Loaded {
        id: RequestId,
        result: Result<Loaded, SourceError>,
    },
    /// A batch of streamed tag details.
    TagDetails {
        id: RequestId,
        updates: Vec<TagDetailUpdate>,
    },
    TagDetailsDone {
        id: RequestId,
        result: Result<(), SourceError>,
    },
    /// SIGINT from outside the terminal (inside, Ctrl+C arrives as a key).
    Interrupt,
}

/// The answer to a [`Request`].
#[derive(Debug)]
pub enum Loaded {
    Registries(Vec<RegistryEntry>),
    Repositories(Listing),
    Tags(Listing),
    Image(Box<ImageView>),
}

/// Slow work for the event loop to run in the background.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Registries,
    /// `fresh`: ask the registry, not the cache (refresh, or behind a stale answer).
    Repositories {
        registry: String,
        fresh: bool,
    },
    Tags {
        registry: String,
        repository: String,
        fresh: bool,
    },
    TagDetails {
        registry: String,
        repository: String,
        tags: Vec<String>,
        fresh: bool,
    },
    Image {
        registry: String,
        reference: String,
        platform: Option<String>,
    },
}

/// What [`update`] asks the event loop to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Load {
        id: RequestId,
        request: Request,
    },
    /// Stop a request whose result is no longer wanted (best effort).
    Cancel(RequestId),
    /// Put text on the clipboard (OSC 52).
    Copy(String),
    Quit,
}

/// Tag table sort key (`s` cycles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Name,
    /// Newest first; tags without a date last.
    Date,
    /// Largest first.
    Size,
}

impl SortKey {
    pub fn next(self) -> Self {
        match self {
            SortKey::Name => SortKey::Date,
            SortKey::Date => SortKey::Size,
            SortKey::Size => SortKey::Name,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Date => "date",
            SortKey::Size => "size",
        }
    }
}

/// One row of the tags table: the name at once, details when they arrive.
#[derive(Debug, Clone, PartialEq)]
pub struct TagRow {
    pub name: String,
    pub detail: Option<TagDetail>,
    pub error: Option<String>,
}

impl AsRef<str> for TagRow {
    fn as_ref(&self) -> &str {
        &self.name
    }
}

/// A filterable, scrollable list. `visible` holds indices into `items` (after filtering);
/// `selected` and `offset` index into `visible`.
#[derive(Debug, Clone)]
pub struct ListView<T> {
    pub items: Vec<T>,
    pub query: Query,
    pub visible: Vec<usize>,
    pub selected: usize,
    pub offset: usize,
    /// The in-flight load of `items`, if any.
    pub request: Option<RequestId>,
    pub loaded: bool,
    /// Every item that matched `query` at all, with its standing: the next, longer query
    /// re-tests only these (`filter::filter_pass`). `scratch` is the other buffer.
    record: Vec<filter::Tested>,
    scratch: Vec<filter::Tested>,
}

impl<T: AsRef<str> + Sync> ListView<T> {
    pub fn new(request: Option<RequestId>) -> Self {
        ListView {
            items: Vec::new(),
            query: Query::new(""),
            visible: Vec::new(),
            selected: 0,
            offset: 0,
            request,
            loaded: false,
            record: Vec::new(),
            scratch: Vec::new(),
        }
    }

    pub fn selected_item(&self) -> Option<&T> {
        self.visible
            .get(self.selected)
            .and_then(|&i| self.items.get(i))
    }

    fn selected_key(&self) -> Option<String> {
        self.selected_item().map(|t| t.as_ref().to_string())
    }

    /// Replace the items, keeping the selected item selected if it is still there.
    pub fn set_items(&mut self, items: Vec<T>) {
        let key = self.selected_key();
        self.items = items;
        self.loaded = true;
        self.refilter_full();
        self.select_key(key.as_deref());
    }

    fn refilter_full(&mut self) {
        filter::filter_pass(
            &self.query,
            &self.items,
            None,
            &mut self.visible,
            &mut self.record,
        );
    }

    /// Apply a new query. When it extends the old one, only the items that can still pass
    /// are tested (`Query::narrowing_floor`); the cursor goes to the best match.
    pub fn set_query(&mut self, text: &str) {
        let key = self.selected_key();
        let query = Query::new(text);
        let best = match query.narrowing_floor(&self.query) {
            Some(floor) => {
                std::mem::swap(&mut self.record, &mut self.scratch);
                filter::filter_pass(
                    &query,
                    &self.items,
                    Some((&self.scratch, floor)),
                    &mut self.visible,
                    &mut self.record,
                )
            }
            None => filter::filter_pass(
                &query,
                &self.items,
                None,
                &mut self.visible,
                &mut self.record,
            ),
        };
        self.query = query;
        match best.and_then(|b| self.visible.binary_search(&b).ok()) {
            Some(pos) if !self.query.is_empty() => self.selected = pos,
            _ => self.select_key(key.as_deref()),
        }
    }

    fn select_key(&mut self, key: Option<&str>) {
        let pos = key.and_then(|k| {
            self.visible
                .iter()
                .position(|&i| self.items[i].as_ref() == k)
        });
        self.selected = pos.unwrap_or(self.selected.min(self.visible.len().saturating_sub(1)));
    }

    /// Move the selection by `delta` rows (clamped), then keep it on screen.
    pub fn move_by(&mut self, delta: isize, height: usize) {
        if self.visible.is_empty() {
            self.selected = 0;
        } else {
            let max = self.visible.len() - 1;
            self.selected = (self.selected as isize + delta).clamp(0, max as isize) as usize;
        }
        self.ensure_visible(height);
    }

    pub fn ensure_visible(&mut self, height: usize) {
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        // Do not leave empty rows at the bottom when the list could fill them.
        let max_offset = self.visible.len().saturating_sub(height);
        self.offset = self.offset.min(max_offset);
    }
}

#[derive(Debug, Clone)]
pub struct RepositoriesScreen {
    pub registry: RegistryEntry,
    pub list: ListView<String>,
}

/// Progress of the streamed details of a tags screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DetailsProgress {
    pub request: Option<RequestId>,
    pub received: usize,
    pub failed: usize,
    pub total: usize,
}

#[derive(Debug, Clone)]
pub struct TagsScreen {
    pub registry: RegistryEntry,
    pub repository: String,
    pub list: ListView<TagRow>,
    pub sort: SortKey,
    pub details: DetailsProgress,
    /// Tag name → index into `list.items`, rebuilt after every sort.
    index: HashMap<String, usize>,
}

impl TagsScreen {
    fn sort_rows(&mut self) {
        let key = self.list.selected_key();
        let items = &mut self.list.items;
        match self.sort {
            SortKey::Name => items.sort_by(|a, b| compare_tags(&a.name, &b.name)),
            SortKey::Date => items.sort_by(|a, b| {
                let da = a.detail.as_ref().and_then(|d| d.created);
                let db = b.detail.as_ref().and_then(|d| d.created);
                db.cmp(&da).then_with(|| compare_tags(&a.name, &b.name))
            }),
            SortKey::Size => items.sort_by(|a, b| {
                let sa = a.detail.as_ref().and_then(|d| d.size);
                let sb = b.detail.as_ref().and_then(|d| d.size);
                sb.cmp(&sa).then_with(|| compare_tags(&a.name, &b.name))
            }),
        }
        self.index = items
            .iter()
            .enumerate()
            .map(|(i, r)| (r.name.clone(), i))
            .collect();
        self.list.refilter_full();
        self.list.select_key(key.as_deref());
    }
}

/// Sections of the image screen, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Section {
    #[default]
    Summary,
    Platforms,
    Config,
    Layers,
    History,
    Manifest,
    RawConfig,
}

impl Section {
    pub const ALL: [Section; 7] = [
        Section::Summary,
        Section::Platforms,
        Section::Config,
        Section::Layers,
        Section::History,
        Section::Manifest,
        Section::RawConfig,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Section::Summary => "Summary",
            Section::Platforms => "Platforms",
            Section::Config => "Config",
            Section::Layers => "Layers",
            Section::History => "History",
            Section::Manifest => "Manifest",
            Section::RawConfig => "Config JSON",
        }
    }

    fn index(self) -> usize {
        Section::ALL.iter().position(|&s| s == self).unwrap_or(0)
    }
}

#[derive(Debug, Clone)]
pub struct ImageScreen {
    pub registry: RegistryEntry,
    pub repository: String,
    pub tag: String,
    pub request: Option<RequestId>,
    pub image: Option<ImageView>,
    pub section: Section,
    pub scroll: [usize; 7],
    /// Row under the cursor in the Platforms section; Enter shows that platform.
    pub platform_cursor: usize,
    /// Platform asked for (None: the source's default).
    pub platform: Option<String>,
    /// Pretty-printed raw JSON, computed once when the image arrives.
    pub manifest_lines: Vec<String>,
    pub config_lines: Vec<String>,
}

impl ImageScreen {
    pub fn reference(&self) -> String {
        format!("{}:{}", self.repository, self.tag)
    }
}

// A handful of screens live at a time; boxing would only add indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Screen {
    Registries(ListView<RegistryEntry>),
    Repositories(RepositoriesScreen),
    Tags(TagsScreen),
    Image(ImageScreen),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub kind: StatusKind,
}

/// Screen regions; computed from the terminal size by [`App::layout`], shared by drawing
/// and mouse hit-testing so both agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub body: Rect,
    pub filter: Option<Rect>,
    pub status: Rect,
}

/// Smallest usable terminal; below it a "terminal too small" message is drawn.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 8;

/// The UI state.
#[derive(Debug, Clone)]
pub struct App {
    pub theme: Theme,
    pub vim_bindings: bool,
    /// Navigation stack; the last screen is shown. Never empty.
    pub stack: Vec<Screen>,
    /// Keys go to the filter input.
    pub filter_input: bool,
    pub help: bool,
    pub status: Option<Status>,
    pub width: u16,
    pub height: u16,
    /// Unix seconds, for relative dates.
    pub now: i64,
    pub spinner: usize,
    pub quit: bool,
    /// Registry to open once the registry list arrives.
    initial_registry: Option<String>,
    next_id: RequestId,
    /// Outstanding listing requests that bypass the cache; their tags' details do too.
    fresh_requests: std::collections::HashSet<RequestId>,
    /// Coalesce filter edits: while set, typing only records the query and
    /// [`App::flush_filter`] (or the next event that is not a filter edit) filters once,
    /// for the latest text. The event loop sets it while applying a batch of queued
    /// events, so a burst of keystrokes costs one filter pass, not one per key.
    pub defer_filter: bool,
    /// The typed query not yet applied to the top list (see `defer_filter`).
    deferred_query: Option<String>,
}

impl App {
    /// A new app showing the registry list, plus the command that loads it.
    pub fn new(
        theme: Theme,
        vim_bindings: bool,
        initial_registry: Option<String>,
    ) -> (App, Vec<Command>) {
        let mut app = App {
            theme,
            vim_bindings,
            stack: Vec::new(),
            filter_input: false,
            help: false,
            status: None,
            width: 80,
            height: 24,
            now: 0,
            spinner: 0,
            quit: false,
            initial_registry,
            next_id: 1,
            fresh_requests: Default::default(),
            defer_filter: false,
            deferred_query: None,
        };
        let mut cmds = Vec::new();
        let id = app.request(Request::Registries, &mut cmds);
        app.stack.push(Screen::Registries(ListView::new(Some(id))));
        (app, cmds)
    }

    fn request(&mut self, request: Request, cmds: &mut Vec<Command>) -> RequestId {
        let id = self.next_id;
        self.next_id += 1;
        cmds.push(Command::Load { id, request });
        id
    }

    /// Eventual consistency: the screen at `pos` shows a stale listing; ask the registry
    /// behind it, keeping the stale rows until the answer replaces them.
    fn refresh_behind(&mut self, pos: usize, cmds: &mut Vec<Command>) {
        let req = match &self.stack[pos] {
            Screen::Repositories(r) => Request::Repositories {
                registry: r.registry.name.clone(),
                fresh: true,
            },
            Screen::Tags(t) => Request::Tags {
                registry: t.registry.name.clone(),
                repository: t.repository.clone(),
                fresh: true,
            },
            _ => return,
        };
        let id = self.request(req, cmds);
        self.fresh_requests.insert(id);
        set_main_request(&mut self.stack[pos], Some(id));
    }

    pub fn top(&self) -> &Screen {
        self.stack.last().expect("stack is never empty")
    }

    fn top_mut(&mut self) -> &mut Screen {
        self.stack.last_mut().expect("stack is never empty")
    }

    /// Whether any request of a visible or stacked screen is still in flight.
    pub fn is_busy(&self) -> bool {
        self.stack.iter().any(|s| match s {
            Screen::Registries(l) => l.request.is_some(),
            Screen::Repositories(r) => r.list.request.is_some(),
            Screen::Tags(t) => t.list.request.is_some() || t.details.request.is_some(),
            Screen::Image(i) => i.request.is_some(),
        })
    }

    /// The query of the top screen, when it is a list.
    pub fn query(&self) -> Option<&str> {
        if let (Some(q), false) = (&self.deferred_query, matches!(self.top(), Screen::Image(_))) {
            return Some(q);
        }
        match self.top() {
            Screen::Registries(l) => Some(l.query.text()),
            Screen::Repositories(r) => Some(r.list.query.text()),
            Screen::Tags(t) => Some(t.list.query.text()),
            Screen::Image(_) => None,
        }
    }

    pub fn too_small(&self) -> bool {
        self.width < MIN_WIDTH || self.height < MIN_HEIGHT
    }

    pub fn layout(&self, area: Rect) -> Areas {
        let show_filter = self.filter_input || self.query().is_some_and(|q| !q.is_empty());
        let header = Rect {
            height: 1.min(area.height),
            ..area
        };
        // A long error (with its "how to fix" hint) gets a second line rather than losing
        // the hint off the edge.
        let status_rows = match &self.status {
            Some(s)
                if s.kind == StatusKind::Error
                    && unicode_width::UnicodeWidthStr::width(s.text.as_str()) + 2
                        > area.width as usize =>
            {
                2
            }
            _ => 1,
        };
        let status = Rect {
            y: area.bottom().saturating_sub(status_rows),
            height: status_rows.min(area.height),
            ..area
        };
        let filter = show_filter.then(|| Rect {
            y: status.y.saturating_sub(1),
            height: 1,
            ..area
        });
        let body_top = area.y + 1;
        let body_bottom = filter.map_or(status.y, |f| f.y);
        let body = Rect {
            y: body_top,
            height: body_bottom.saturating_sub(body_top),
            ..area
        };
        Areas {
            header,
            body,
            filter,
            status,
        }
    }

    /// Rows above the list rows inside the body (column headers, image tabs).
    pub fn body_header_rows(&self) -> u16 {
        match self.top() {
            Screen::Registries(_) | Screen::Tags(_) => 1,
            Screen::Repositories(_) => 0,
            Screen::Image(_) => 2,
        }
    }

    /// Rows available for list items or section lines.
    pub fn viewport_height(&self) -> usize {
        let body = self.layout(Rect::new(0, 0, self.width, self.height)).body;
        body.height.saturating_sub(self.body_header_rows()) as usize
    }

    fn set_error(&mut self, text: String) {
        self.status = Some(Status {
            text,
            kind: StatusKind::Error,
        });
    }

    fn set_info(&mut self, text: String) {
        self.status = Some(Status {
            text,
            kind: StatusKind::Info,
        });
    }

    // ----- keys -----

    fn on_key(&mut self, key: KeyEvent, cmds: &mut Vec<Command>) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit(cmds);
            return;
        }
        if self.help {
            // Any key closes the help; it is an overlay, not a mode.
            self.help = false;
            return;
        }
        if self.filter_input && self.on_filter_key(key, cmds) {
            return;
        }
        if let Some(action) = keymap::lookup(key, self.vim_bindings) {
            self.on_action(action, cmds);
        }
    }

    /// Keys while typing a filter; returns whether the key was consumed.
    fn on_filter_key(&mut self, key: KeyEvent, cmds: &mut Vec<Command>) -> bool {
        let Some(current) = self.query().map(str::to_string) else {
            self.filter_input = false;
            return false;
        };
        match key.code {
            KeyCode::Char(c)
                if !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                let mut q = current;
                q.push(c);
                self.set_query(&q);
            }
            KeyCode::Backspace => {
                if current.is_empty() {
                    self.filter_input = false;
                } else {
                    let mut q = current;
                    q.pop();
                    self.set_query(&q);
                }
            }
            KeyCode::Esc => {
                self.filter_input = false;
                self.set_query("");
            }
            KeyCode::Enter => {
                self.filter_input = false;
                self.open(cmds);
            }
            _ => return false,
        }
        true
    }

    fn set_query(&mut self, text: &str) {
        if self.defer_filter {
            self.deferred_query = Some(text.to_string());
            return;
        }
        self.deferred_query = None;
        let height = self.viewport_height();
        if let Some(list) = self.top_list_mut() {
            list.set_query(text);
            list.ensure_visible(height);
        }
    }

    /// Filter the top list by the query typed while `defer_filter` was set, if any.
    pub fn flush_filter(&mut self) {
        if let Some(text) = self.deferred_query.take() {
            let defer = std::mem::replace(&mut self.defer_filter, false);
            self.set_query(&text);
            self.defer_filter = defer;
        }
    }

    /// Whether `key` only edits the filter text (so a deferred query may stay deferred).
    fn is_filter_edit(&self, key: &KeyEvent) -> bool {
        self.filter_input
            && !self.help
            && matches!(key.code, KeyCode::Char(_) | KeyCode::Backspace)
            && !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    }

    fn top_list_mut(&mut self) -> Option<&mut dyn ListOps> {
        match self.top_mut() {
            Screen::Registries(l) => Some(l),
            Screen::Repositories(r) => Some(&mut r.list),
            Screen::Tags(t) => Some(&mut t.list),
            Screen::Image(_) => None,
        }
    }

    fn on_action(&mut self, action: Action, cmds: &mut Vec<Command>) {
        let h = self.viewport_height() as isize;
        match action {
            Action::Up => self.navigate(-1),
            Action::Down => self.navigate(1),
            Action::PageUp => self.navigate(-h.max(1)),
            Action::PageDown => self.navigate(h.max(1)),
            Action::HalfPageUp => self.navigate(-(h / 2).max(1)),
            Action::HalfPageDown => self.navigate((h / 2).max(1)),
            Action::Top => self.navigate(isize::MIN / 2),
            Action::Bottom => self.navigate(isize::MAX / 2),
            Action::Open => self.open(cmds),
            Action::Back => self.back(cmds),
            Action::Cancel => {
                if self.query().is_some_and(|q| !q.is_empty()) {
                    self.set_query("");
                } else {
                    self.back(cmds);
                }
            }
            Action::Filter => {
                if self.query().is_some() {
                    self.filter_input = true;
                }
            }
            Action::Help => self.help = !self.help,
            Action::Quit => self.quit(cmds),
            Action::Sort => {
                let height = self.viewport_height();
                if let Screen::Tags(t) = self.top_mut() {
                    t.sort = t.sort.next();
                    t.sort_rows();
                    t.list.ensure_visible(height);
                    let label = t.sort.label();
                    self.set_info(format!("Sorted by {label}"));
                }
            }
            Action::Copy => self.copy(cmds),
            Action::Refresh => self.refresh(cmds),
            Action::NextSection => self.cycle_section(1),
            Action::PrevSection => self.cycle_section(-1),
        }
    }

    fn quit(&mut self, cmds: &mut Vec<Command>) {
        self.quit = true;
        cmds.push(Command::Quit);
    }

    /// Move the selection (lists) or scroll (image sections) by `delta`.
    fn navigate(&mut self, delta: isize) {
        let height = self.viewport_height();
        if let Some(list) = self.top_list_mut() {
            list.move_by(delta, height);
            return;
        }
        let now = self.now;
        if let Screen::Image(img) = self.top_mut() {
            let platforms = img.image.as_ref().map_or(0, |i| i.platforms.len());
            if img.section == Section::Platforms && platforms > 0 {
                img.platform_cursor = (img.platform_cursor as isize + delta)
                    .clamp(0, platforms as isize - 1)
                    as usize;
                return;
            }
            let len = crate::ui::section_len(img, img.section, now);
            let max = len.saturating_sub(height);
            let s = &mut img.scroll[img.section.index()];
            *s = (*s as isize + delta).clamp(0, max as isize) as usize;
        }
    }

    fn cycle_section(&mut self, delta: isize) {
        if let Screen::Image(img) = self.top_mut() {
            let n = Section::ALL.len() as isize;
            let i = (img.section.index() as isize + delta).rem_euclid(n);
            img.section = Section::ALL[i as usize];
        }
    }

    fn open(&mut self, cmds: &mut Vec<Command>) {
        self.filter_input = false;
        if let Screen::Image(img) = self.top() {
            let chosen = img
                .image
                .as_ref()
                .filter(|_| img.section == Section::Platforms)
                .and_then(|i| i.platforms.get(img.platform_cursor))
                .map(|p| p.platform.clone());
            if let Some(platform) = chosen {
                if let Screen::Image(img) = self.top_mut() {
                    img.platform = Some(platform);
                }
                // Same path as a refresh: keep showing the current data until it arrives.
                self.refresh(cmds);
            }
            return;
        }
        let next = match self.top() {
            Screen::Registries(l) => l.selected_item().cloned().map(|registry| {
                let req = Request::Repositories {
                    registry: registry.name.clone(),
                    fresh: false,
                };
                (req, NextScreen::Repositories(registry))
            }),
            Screen::Repositories(r) => r.list.selected_item().cloned().map(|repo| {
                let req = Request::Tags {
                    registry: r.registry.name.clone(),
                    repository: repo.clone(),
                    fresh: false,
                };
                (req, NextScreen::Tags(r.registry.clone(), repo))
            }),
            Screen::Tags(t) => t.list.selected_item().map(|row| {
                let req = Request::Image {
                    registry: t.registry.name.clone(),
                    reference: format!("{}:{}", t.repository, row.name),
                    platform: None,
                };
                (
                    req,
                    NextScreen::Image(t.registry.clone(), t.repository.clone(), row.name.clone()),
                )
            }),
            Screen::Image(_) => None,
        };
        let Some((req, next)) = next else { return };
        self.status = None;
        let id = self.request(req, cmds);
        let screen = match next {
            NextScreen::Repositories(registry) => Screen::Repositories(RepositoriesScreen {
                registry,
                list: ListView::new(Some(id)),
            }),
            NextScreen::Tags(registry, repository) => Screen::Tags(TagsScreen {
                registry,
                repository,
                list: ListView::new(Some(id)),
                sort: SortKey::Name,
                details: DetailsProgress::default(),
                index: HashMap::new(),
            }),
            NextScreen::Image(registry, repository, tag) => Screen::Image(ImageScreen {
                registry,
                repository,
                tag,
                request: Some(id),
                image: None,
                section: Section::Summary,
                scroll: [0; 7],
                platform_cursor: 0,
                platform: None,
                manifest_lines: Vec::new(),
                config_lines: Vec::new(),
            }),
        };
        self.stack.push(screen);
    }

    fn back(&mut self, cmds: &mut Vec<Command>) {
        if self.stack.len() <= 1 {
            return;
        }
        self.filter_input = false;
        self.status = None;
        if let Some(screen) = self.stack.pop() {
            for id in requests_of(&screen) {
                self.fresh_requests.remove(&id);
                cmds.push(Command::Cancel(id));
            }
        }
    }

    fn refresh(&mut self, cmds: &mut Vec<Command>) {
        // Keep showing the current data; the answer replaces it (stale answers are dropped
        // because the screen now waits for the new id).
        let (old, req) = match self.top() {
            Screen::Registries(l) => (l.request, Request::Registries),
            Screen::Repositories(r) => (
                r.list.request,
                Request::Repositories {
                    registry: r.registry.name.clone(),
                    fresh: true,
                },
            ),
            Screen::Tags(t) => (
                t.list.request,
                Request::Tags {
                    registry: t.registry.name.clone(),
                    repository: t.repository.clone(),
                    fresh: true,
                },
            ),
            Screen::Image(i) => (
                i.request,
                Request::Image {
                    registry: i.registry.name.clone(),
                    reference: i.reference(),
                    platform: i.platform.clone(),
                },
            ),
        };
        if let Some(old) = old {
            self.fresh_requests.remove(&old);
            cmds.push(Command::Cancel(old));
        }
        self.status = None;
        let fresh = matches!(req, Request::Repositories { .. } | Request::Tags { .. });
        let id = self.request(req, cmds);
        if fresh {
            self.fresh_requests.insert(id);
        }
        match self.top_mut() {
            Screen::Registries(l) => l.request = Some(id),
            Screen::Repositories(r) => r.list.request = Some(id),
            Screen::Tags(t) => t.list.request = Some(id),
            Screen::Image(i) => i.request = Some(id),
        }
    }

    fn copy(&mut self, cmds: &mut Vec<Command>) {
        let text = match self.top() {
            Screen::Registries(l) => l.selected_item().map(|r| r.host.clone()),
            Screen::Repositories(r) => r
                .list
                .selected_item()
                .map(|repo| format!("{}/{repo}", r.registry.host)),
            Screen::Tags(t) => t
                .list
                .selected_item()
                .map(|row| format!("{}/{}:{}", t.registry.host, t.repository, row.name)),
            Screen::Image(i) => Some(match &i.image {
                Some(img) if !img.digest.is_empty() => {
                    format!("{}/{}@{}", i.registry.host, i.repository, img.digest)
                }
                _ => format!("{}/{}", i.registry.host, i.reference()),
            }),
        };
        if let Some(text) = text {
            self.set_info(format!("Copied {}", crate::fmt::sanitize(&text)));
            cmds.push(Command::Copy(text));
        }
    }

    // ----- mouse -----

    fn on_mouse(&mut self, mouse: MouseEvent, cmds: &mut Vec<Command>) {
        match mouse.kind {
            MouseEventKind::ScrollDown => self.navigate(3),
            MouseEventKind::ScrollUp => self.navigate(-3),
            MouseEventKind::Down(MouseButton::Left) => {
                if self.help {
                    self.help = false;
                    return;
                }
                let areas = self.layout(Rect::new(0, 0, self.width, self.height));
                if let Screen::Image(img) = self.top_mut() {
                    // The tabs row: titles separated by " │ " (as drawn).
                    if mouse.row == areas.body.y {
                        let mut x = areas.body.x;
                        for s in Section::ALL {
                            let w = s.title().chars().count() as u16;
                            if mouse.column >= x && mouse.column < x + w {
                                img.section = s;
                            }
                            x += w + 3;
                        }
                    }
                    return;
                }
                let first_row = areas.body.y + self.body_header_rows();
                if mouse.row < first_row || mouse.row >= areas.body.bottom() {
                    return;
                }
                let row = (mouse.row - first_row) as usize;
                let height = self.viewport_height();
                let mut open = false;
                if let Some(list) = self.top_list_mut() {
                    let (offset, selected, len) = list.position();
                    let target = offset + row;
                    if target < len {
                        open = target == selected;
                        list.move_by(target as isize - selected as isize, height);
                    }
                }
                // Clicking the selected row opens it, like a double click.
                if open {
                    self.open(cmds);
                }
            }
            _ => {}
        }
    }

    // ----- results -----

    fn on_loaded(&mut self, id: RequestId, result: Result<Loaded, SourceError>) -> Vec<Command> {
        let mut cmds = Vec::new();
        let height = self.viewport_height();
        let Some(pos) = self.stack.iter().position(|s| main_request(s) == Some(id)) else {
            tracing::debug!(id, "dropping the result of an outdated request");
            return cmds;
        };
        let is_top = pos + 1 == self.stack.len();
        let fresh = self.fresh_requests.remove(&id);
        let result = match result {
            Ok(v) => v,
            Err(e) => {
                let registry = registry_of(&self.stack[pos]).map(|r| r.name.clone());
                set_main_request(&mut self.stack[pos], None);
                self.set_error(e.status_text(registry.as_deref()));
                return cmds;
            }
        };
        let mut details_request = None;
        let mut stale = false;
        match (&mut self.stack[pos], result) {
            (Screen::Registries(list), Loaded::Registries(mut regs)) => {
                list.request = None;
                // Current first, the rest in the source's order.
                regs.sort_by_key(|r| !r.current);
                list.set_items(regs);
                list.ensure_visible(height);
            }
            (Screen::Repositories(r), Loaded::Repositories(listing)) => {
                r.list.request = None;
                r.list.set_items(listing.names);
                r.list.ensure_visible(height);
                stale = listing.stale;
            }
            (Screen::Tags(t), Loaded::Tags(listing)) => {
                t.list.request = None;
                stale = listing.stale;
                let tags = listing.names;
                let first_load = !t.list.loaded;
                // Keep known details across a refresh until new ones arrive.
                let mut old: HashMap<String, TagRow> = t
                    .list
                    .items
                    .drain(..)
                    .map(|r| (r.name.clone(), r))
                    .collect();
                let rows: Vec<TagRow> = tags
                    .iter()
                    .map(|name| {
                        old.remove(name).unwrap_or_else(|| TagRow {
                            name: name.clone(),
                            detail: None,
                            error: None,
                        })
                    })
                    .collect();
                t.list.set_items(rows);
                t.sort_rows();
                if first_load {
                    // The selection followed the source's first tag through the sort.
                    t.list.selected = 0;
                    t.list.offset = 0;
                }
                t.list.ensure_visible(height);
                if let Some(old) = t.details.request.take() {
                    cmds.push(Command::Cancel(old));
                }
                t.details = DetailsProgress {
                    total: tags.len(),
                    ..DetailsProgress::default()
                };
                if !tags.is_empty() {
                    details_request = Some(Request::TagDetails {
                        registry: t.registry.name.clone(),
                        repository: t.repository.clone(),
                        tags,
                        fresh,
                    });
                }
            }
            (Screen::Image(i), Loaded::Image(image)) => {
                i.request = None;
                i.manifest_lines = pretty_json_lines(&image.raw_manifest);
                i.config_lines = image
                    .raw_config
                    .as_deref()
                    .map(pretty_json_lines)
                    .unwrap_or_default();
                i.image = Some(*image);
            }
            (screen, other) => {
                tracing::warn!(?other, "result does not fit its screen");
                set_main_request(screen, None);
            }
        }
        if let Some(req) = details_request {
            let did = self.request(req, &mut cmds);
            if let Screen::Tags(t) = &mut self.stack[pos] {
                t.details.request = Some(did);
            }
        }
        if stale && !fresh {
            self.refresh_behind(pos, &mut cmds);
        }
        if is_top && pos == 0 {
            self.open_initial_registry(&mut cmds);
        }
        cmds
    }

    fn open_initial_registry(&mut self, cmds: &mut Vec<Command>) {
        let Some(name) = self.initial_registry.take() else {
            return;
        };
        let height = self.viewport_height();
        let Screen::Registries(list) = self.top_mut() else {
            return;
        };
        let Some(pos) = list
            .visible
            .iter()
            .position(|&i| list.items[i].name == name)
        else {
            self.set_error(format!(
                "Registry '{name}' is not configured. Run 'rex registry list' to see the configured registries."
            ));
            return;
        };
        list.selected = pos;
        list.ensure_visible(height);
        self.open(cmds);
    }

    fn on_details(&mut self, id: RequestId, updates: Vec<TagDetailUpdate>) {
        let height = self.viewport_height();
        let Some(t) = self.stack.iter_mut().find_map(|s| match s {
            Screen::Tags(t) if t.details.request == Some(id) => Some(t),
            _ => None,
        }) else {
            tracing::debug!(id, "dropping details of an outdated request");
            return;
        };
        for update in updates {
            let (tag, detail, error) = match update {
                TagDetailUpdate::Ready(d) => (d.tag.clone(), Some(d), None),
                TagDetailUpdate::Failed { tag, error } => {
                    t.details.failed += 1;
                    (tag, None, Some(error.message))
                }
            };
            if let Some(&i) = t.index.get(&tag) {
                let row = &mut t.list.items[i];
                if detail.is_some() {
                    row.detail = detail;
                    row.error = None;
                } else {
                    row.error = error;
                }
                t.details.received += 1;
            }
        }
        if t.sort != SortKey::Name {
            t.sort_rows();
            t.list.ensure_visible(height);
        }
    }

    fn on_details_done(&mut self, id: RequestId, result: Result<(), SourceError>) {
        let Some(t) = self.stack.iter_mut().find_map(|s| match s {
            Screen::Tags(t) if t.details.request == Some(id) => Some(t),
            _ => None,
        }) else {
            return;
        };
        t.details.request = None;
        let failed = t.details.failed;
        let registry = t.registry.name.clone();
        match result {
            Err(e) => self.set_error(e.status_text(Some(&registry))),
            Ok(()) if failed > 0 => {
                self.set_error(format!("Details of {failed} tags could not be read."))
            }
            Ok(()) => {}
        }
    }
}

enum NextScreen {
    Repositories(RegistryEntry),
    Tags(RegistryEntry, String),
    Image(RegistryEntry, String, String),
}

/// Object-safe view of a [`ListView`] for code that does not care about the item type.
trait ListOps {
    fn set_query(&mut self, text: &str);
    fn move_by(&mut self, delta: isize, height: usize);
    fn ensure_visible(&mut self, height: usize);
    /// (offset, selected, visible length)
    fn position(&self) -> (usize, usize, usize);
}

impl<T: AsRef<str> + Sync> ListOps for ListView<T> {
    fn set_query(&mut self, text: &str) {
        ListView::set_query(self, text)
    }
    fn move_by(&mut self, delta: isize, height: usize) {
        ListView::move_by(self, delta, height)
    }
    fn ensure_visible(&mut self, height: usize) {
        ListView::ensure_visible(self, height)
    }
    fn position(&self) -> (usize, usize, usize) {
        (self.offset, self.selected, self.visible.len())
    }
}

fn main_request(screen: &Screen) -> Option<RequestId> {
    match screen {
        Screen::Registries(l) => l.request,
        Screen::Repositories(r) => r.list.request,
        Screen::Tags(t) => t.list.request,
        Screen::Image(i) => i.request,
    }
}

fn set_main_request(screen: &mut Screen, id: Option<RequestId>) {
    match screen {
        Screen::Registries(l) => l.request = id,
        Screen::Repositories(r) => r.list.request = id,
        Screen::Tags(t) => t.list.request = id,
        Screen::Image(i) => i.request = id,
    }
}

fn requests_of(screen: &Screen) -> Vec<RequestId> {
    let mut ids: Vec<RequestId> = main_request(screen).into_iter().collect();
    if let Screen::Tags(t) = screen {
        ids.extend(t.details.request);
    }
    ids
}

fn registry_of(screen: &Screen) -> Option<&RegistryEntry> {
    match screen {
        Screen::Registries(_) => None,
        Screen::Repositories(r) => Some(&r.registry),
        Screen::Tags(t) => Some(&t.registry),
        Screen::Image(i) => Some(&i.registry),
    }
}

/// Pretty-print JSON for display (key order preserved); text that is not JSON is shown as is.
pub fn pretty_json_lines(raw: &str) -> Vec<String> {
    let text = serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| raw.to_string());
    text.lines().map(str::to_string).collect()
}

/// The one state transition function: apply `event`, return what the event loop must do.
pub fn update(app: &mut App, event: Event) -> Vec<Command> {
    let mut cmds = Vec::new();
    // Everything but typing sees the list filtered by what was typed.
    if !matches!(&event, Event::Key(k) if app.is_filter_edit(k)) {
        app.flush_filter();
    }
    match event {
        Event::Key(key) => app.on_key(key, &mut cmds),
        Event::Mouse(mouse) => app.on_mouse(mouse, &mut cmds),
        Event::Resize(w, h) => {
            app.width = w;
            app.height = h;
            let height = app.viewport_height();
            if let Some(list) = app.top_list_mut() {
                list.ensure_visible(height);
            }
        }
        Event::Tick { now } => {
            app.now = now;
            if app.is_busy() {
                app.spinner = app.spinner.wrapping_add(1);
            }
        }
        Event::Loaded { id, result } => cmds = app.on_loaded(id, result),
        Event::TagDetails { id, updates } => app.on_details(id, updates),
        Event::TagDetailsDone { id, result } => app.on_details_done(id, result),
        Event::Interrupt => app.quit(&mut cmds),
    }
    cmds
}
