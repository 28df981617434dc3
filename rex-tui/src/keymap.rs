//! The one keymap: [`BINDINGS`] drives both key dispatch ([`lookup`]) and the `?` help
//! overlay ([`help_rows`]), so the help can never drift from the behaviour.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Up,
    Down,
    PageUp,
    PageDown,
    HalfPageUp,
    HalfPageDown,
    Top,
    Bottom,
    Open,
    Back,
    /// Esc: clear the filter if there is one, else go back.
    Cancel,
    Filter,
    Help,
    Quit,
    Sort,
    Copy,
    Refresh,
    NextSection,
    PrevSection,
}

impl Action {
    pub fn describe(self) -> &'static str {
        match self {
            Action::Up => "Move up",
            Action::Down => "Move down",
            Action::PageUp => "Page up",
            Action::PageDown => "Page down",
            Action::HalfPageUp => "Half a page up",
            Action::HalfPageDown => "Half a page down",
            Action::Top => "Go to the top",
            Action::Bottom => "Go to the bottom",
            Action::Open => "Open the selection",
            Action::Back => "Go back",
            Action::Cancel => "Clear the filter, else go back",
            Action::Filter => "Filter (type to match, Enter opens, Esc clears)",
            Action::Help => "Show or hide this help",
            Action::Quit => "Quit",
            Action::Sort => "Cycle the tag sort: name, date, size",
            Action::Copy => "Copy the reference or digest (OSC 52)",
            Action::Refresh => "Refresh the current view",
            Action::NextSection => "Next image section",
            Action::PrevSection => "Previous image section",
        }
    }
}

/// One key bound to an action. `vim` bindings are active only with `tui.vim_bindings`.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub action: Action,
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
    pub vim: bool,
}

const fn key(action: Action, code: KeyCode) -> Binding {
    Binding {
        action,
        code,
        modifiers: KeyModifiers::NONE,
        vim: false,
    }
}

const fn vim(action: Action, code: KeyCode) -> Binding {
    Binding {
        action,
        code,
        modifiers: KeyModifiers::NONE,
        vim: true,
    }
}

const fn ctrl(action: Action, c: char, vim: bool) -> Binding {
    Binding {
        action,
        code: KeyCode::Char(c),
        modifiers: KeyModifiers::CONTROL,
        vim,
    }
}

/// Every key binding. The first binding of an action is the one shown first in help.
pub const BINDINGS: &[Binding] = &[
    key(Action::Up, KeyCode::Up),
    vim(Action::Up, KeyCode::Char('k')),
    key(Action::Down, KeyCode::Down),
    vim(Action::Down, KeyCode::Char('j')),
    key(Action::PageUp, KeyCode::PageUp),
    key(Action::PageDown, KeyCode::PageDown),
    ctrl(Action::HalfPageUp, 'u', true),
    ctrl(Action::HalfPageDown, 'd', true),
    key(Action::Top, KeyCode::Home),
    vim(Action::Top, KeyCode::Char('g')),
    key(Action::Bottom, KeyCode::End),
    vim(Action::Bottom, KeyCode::Char('G')),
    key(Action::Open, KeyCode::Enter),
    key(Action::Open, KeyCode::Right),
    vim(Action::Open, KeyCode::Char('l')),
    key(Action::Back, KeyCode::Backspace),
    key(Action::Back, KeyCode::Left),
    vim(Action::Back, KeyCode::Char('h')),
    key(Action::Cancel, KeyCode::Esc),
    key(Action::Filter, KeyCode::Char('/')),
    key(Action::Sort, KeyCode::Char('s')),
    key(Action::Copy, KeyCode::Char('y')),
    key(Action::Refresh, KeyCode::Char('r')),
    key(Action::NextSection, KeyCode::Tab),
    key(Action::PrevSection, KeyCode::BackTab),
    key(Action::Help, KeyCode::Char('?')),
    key(Action::Quit, KeyCode::Char('q')),
    ctrl(Action::Quit, 'c', false),
];

/// The action bound to `event`, honouring the vim setting.
pub fn lookup(event: KeyEvent, vim_bindings: bool) -> Option<Action> {
    // Terminals report `G`/`?` with SHIFT (or not): the character already says it.
    let mods = match event.code {
        KeyCode::Char(_) | KeyCode::BackTab => event.modifiers - KeyModifiers::SHIFT,
        _ => event.modifiers,
    };
    BINDINGS
        .iter()
        .filter(|b| vim_bindings || !b.vim)
        .find(|b| b.code == event.code && b.modifiers == mods)
        .map(|b| b.action)
}

/// How a key is written in the help overlay.
pub fn key_label(code: KeyCode, modifiers: KeyModifiers) -> String {
    let base = match code {
        KeyCode::Up => "↑".to_string(),
        KeyCode::Down => "↓".to_string(),
        KeyCode::Left => "←".to_string(),
        KeyCode::Right => "→".to_string(),
        KeyCode::PageUp => "PgUp".to_string(),
        KeyCode::PageDown => "PgDn".to_string(),
        KeyCode::Home => "Home".to_string(),
        KeyCode::End => "End".to_string(),
        KeyCode::Enter => "Enter".to_string(),
        KeyCode::Backspace => "Bksp".to_string(),
        KeyCode::Esc => "Esc".to_string(),
        KeyCode::Tab => "Tab".to_string(),
        KeyCode::BackTab => "S-Tab".to_string(),
        KeyCode::Char(c) => c.to_string(),
        other => format!("{other:?}"),
    };
    if modifiers.contains(KeyModifiers::CONTROL) {
        format!("Ctrl-{base}")
    } else {
        base
    }
}

/// Rows of the help overlay: (keys, description), one per action, in table order.
pub fn help_rows(vim_bindings: bool) -> Vec<(String, &'static str)> {
    let mut rows: Vec<(Action, Vec<String>)> = Vec::new();
    for b in BINDINGS.iter().filter(|b| vim_bindings || !b.vim) {
        let label = key_label(b.code, b.modifiers);
        match rows.iter_mut().find(|(a, _)| *a == b.action) {
            Some((_, keys)) => keys.push(label),
            None => rows.push((b.action, vec![label])),
        }
    }
    rows.into_iter()
        .map(|(a, keys)| (keys.join(" "), a.describe()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn vim_keys_only_when_enabled() {
        let j = ev(KeyCode::Char('j'), KeyModifiers::NONE);
        assert_eq!(lookup(j, true), Some(Action::Down));
        assert_eq!(lookup(j, false), None);
        let cd = ev(KeyCode::Char('d'), KeyModifiers::CONTROL);
        assert_eq!(lookup(cd, true), Some(Action::HalfPageDown));
        assert_eq!(lookup(cd, false), None);
        assert_eq!(
            lookup(ev(KeyCode::Down, KeyModifiers::NONE), false),
            Some(Action::Down)
        );
    }

    #[test]
    fn shifted_chars_and_ctrl_c() {
        assert_eq!(
            lookup(ev(KeyCode::Char('G'), KeyModifiers::SHIFT), true),
            Some(Action::Bottom)
        );
        assert_eq!(
            lookup(ev(KeyCode::Char('?'), KeyModifiers::SHIFT), false),
            Some(Action::Help)
        );
        assert_eq!(
            lookup(ev(KeyCode::Char('c'), KeyModifiers::CONTROL), false),
            Some(Action::Quit)
        );
        // Plain `c` is not bound; Ctrl-s is not `s`.
        assert_eq!(
            lookup(ev(KeyCode::Char('c'), KeyModifiers::NONE), true),
            None
        );
        assert_eq!(
            lookup(ev(KeyCode::Char('s'), KeyModifiers::CONTROL), true),
            None
        );
    }

    #[test]
    fn no_key_is_bound_twice() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                assert!(
                    !(a.code == b.code && a.modifiers == b.modifiers),
                    "{:?} bound twice",
                    a.code
                );
            }
        }
    }

    #[test]
    fn help_is_built_from_the_keymap() {
        let rows = help_rows(true);
        // One row per distinct action, every binding listed.
        let mut actions: Vec<Action> = BINDINGS.iter().map(|b| b.action).collect();
        actions.dedup();
        assert_eq!(rows.len(), actions.len());
        let down = rows.iter().find(|(_, d)| *d == "Move down").unwrap();
        assert_eq!(down.0, "↓ j");
        let no_vim = help_rows(false);
        let down = no_vim.iter().find(|(_, d)| *d == "Move down").unwrap();
        assert_eq!(down.0, "↓");
        assert!(!no_vim.iter().any(|(_, d)| *d == "Half a page down"));
        let quit = rows.iter().find(|(_, d)| *d == "Quit").unwrap();
        assert_eq!(quit.0, "q Ctrl-c");
    }
}
