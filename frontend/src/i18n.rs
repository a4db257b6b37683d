//! Every visible string goes through [`t`]. English and Russian ship; the choice is kept in
//! `localStorage` and switching reloads the page (the session survives a reload).

use std::cell::Cell;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ru,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }
}

const LANG_KEY: &str = "dealernet.lang";

thread_local! {
    static LANG: Cell<Lang> = const { Cell::new(Lang::En) };
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// Picks the language: the stored choice, else the browser's.
pub fn init() {
    let stored = storage().and_then(|s| s.get_item(LANG_KEY).ok().flatten());
    let browser = web_sys::window().and_then(|w| w.navigator().language());
    let pick = stored.or(browser).unwrap_or_default();
    let lang = if pick.starts_with("ru") {
        Lang::Ru
    } else {
        Lang::En
    };
    LANG.with(|l| l.set(lang));
    if let Some(doc) = web_sys::window().and_then(|w| w.document())
        && let Some(html) = doc.document_element()
    {
        let _ = html.set_attribute("lang", lang.code());
    }
}

pub fn lang() -> Lang {
    LANG.with(|l| l.get())
}

pub fn switch(lang: Lang) {
    if let Some(s) = storage() {
        let _ = s.set_item(LANG_KEY, lang.code());
    }
    if let Some(w) = web_sys::window() {
        let _ = w.location().reload();
    }
}

/// The translation of `key` in the current language (English, then the key itself, as fallbacks).
pub fn t(key: &str) -> &'static str {
    let table = match lang() {
        Lang::En => EN,
        Lang::Ru => RU,
    };
    find(table, key)
        .or_else(|| find(EN, key))
        .unwrap_or("⟨missing text⟩")
}

/// [`t`] with `{name}` placeholders filled in.
pub fn tf(key: &str, args: &[(&str, &str)]) -> String {
    let mut s = t(key).to_string();
    for (k, v) in args {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

fn find(table: &'static [(&'static str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

include!("i18n_tables.rs");
