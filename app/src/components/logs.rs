//! The log viewer: a window of a step's log fetched from the server (never the whole file),
//! following the tail while the step runs (the server pushes new lines over Server-Sent Events), with ANSI colours rendered as text spans, line numbers
//! that link to the line, search with highlighting and next/previous, wrap toggle and download.

use leptos::prelude::*;

use crate::ansi::{colour_class, spans};
use crate::api::node_log;
use crate::model::LogWindow;

/// Lines fetched per window.
pub const WINDOW: u32 = 500;

/// The line numbers (from 1) of the lines of `window` that contain `query` (case-insensitive).
pub fn search_hits(window: &LogWindow, query: &str) -> Vec<u64> {
    let q = query.to_lowercase();
    if q.is_empty() {
        return Vec::new();
    }
    window
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| strip(l).to_lowercase().contains(&q))
        .map(|(i, _)| window.first + i as u64)
        .collect()
}

/// A line's text without escape sequences.
fn strip(line: &str) -> String {
    spans(line).into_iter().map(|s| s.text).collect()
}

/// Which hit is next after `current` (wrapping); `back` goes the other way.
pub fn step_hit(hits: &[u64], current: Option<u64>, back: bool) -> Option<u64> {
    if hits.is_empty() {
        return None;
    }
    let Some(c) = current else {
        return Some(if back { hits[hits.len() - 1] } else { hits[0] });
    };
    if back {
        hits.iter().rev().find(|h| **h < c).or(hits.last()).copied()
    } else {
        hits.iter().find(|h| **h > c).or(hits.first()).copied()
    }
}

/// The log of one node. `line` (from the URL) opens the window at that line.
#[component]
pub fn LogViewer(
    /// The run's namespace.
    namespace: String,
    /// The run's name.
    name: String,
    /// The node.
    node: String,
    /// A line to open at.
    line: Option<u64>,
) -> impl IntoView {
    let from = RwSignal::new(line.map(|l| l.saturating_sub(u64::from(WINDOW) / 2).max(1)));
    let (ns, wf, id) = (namespace.clone(), name.clone(), node.clone());
    let window = crate::codec::resource(
        move || from.get(),
        move |from| node_log(ns.clone(), wf.clone(), id.clone(), from, WINDOW),
    );
    let follow = RwSignal::new(line.is_none());
    let wrap = RwSignal::new(false);
    let query = RwSignal::new(String::new());
    let current = RwSignal::new(line);
    let last = RwSignal::new(LogWindow::default());
    Effect::new(move |_| {
        if let Some(Ok(w)) = window.get() {
            last.set(w);
        }
    });
    // Follow the tail while the step runs: the server pushes the lines written after the last
    // one shown (Server-Sent Events), which are appended to the window.
    let follow_url = format!("/api/v1/trellis/logs/{namespace}/{name}/{node}/follow");
    Effect::new(move |_| {
        let Some(Ok(w)) = window.get() else { return };
        if !follow.get() || w.done || from.get_untracked().is_some() {
            return;
        }
        let after = (w.first + w.lines.len() as u64).saturating_sub(1);
        follow_tail(&format!("{follow_url}?after={after}"), last);
    });
    let hits = Memo::new(move |_| last.with(|w| search_hits(w, &query.get())));
    let go = move |back: bool| {
        if let Some(h) = step_hit(&hits.get_untracked(), current.get_untracked(), back) {
            current.set(Some(h));
            scroll_to_line(h);
        }
    };
    let earlier = move |_| {
        let w = last.get_untracked();
        follow.set(false);
        from.set(Some(w.first.saturating_sub(u64::from(WINDOW)).max(1)));
    };
    let later = move |_| {
        let w = last.get_untracked();
        from.set(Some(w.first + w.lines.len() as u64));
    };
    let download = format!("/api/v1/trellis/logs/{namespace}/{name}/{node}");
    let permalink_base = format!("/runs/{namespace}/{name}?node={node}&line=");
    let button =
        "rounded border border-slate-600 px-2 py-0.5 text-xs text-slate-200 hover:bg-slate-700";
    view! {
        <div class="overflow-hidden rounded-lg border border-slate-800 bg-slate-950" data-testid="log-viewer">
            <div class="flex flex-wrap items-center gap-2 border-b border-slate-800 bg-slate-900 px-3 py-2">
                <input
                    type="search"
                    placeholder="Search the log…"
                    aria-label="Search the log"
                    data-testid="log-search"
                    class="w-56 rounded border border-slate-700 bg-slate-950 px-2 py-0.5 text-xs text-slate-100"
                    prop:value=move || query.get()
                    on:input=move |ev| {
                        query.set(event_target_value(&ev));
                        current.set(None);
                    }
                    on:keydown=move |ev| if ev.key() == "Enter" { go(ev.shift_key()) }
                />
                <button class=button on:click=move |_| go(true) title="Previous match">"↑"</button>
                <button class=button on:click=move |_| go(false) title="Next match">"↓"</button>
                <span class="text-xs text-slate-400" data-testid="log-hits">
                    {move || {
                        let n = hits.get().len();
                        (!query.get().is_empty()).then(|| format!("{n} matches"))
                    }}
                </span>
                <span class="ml-auto flex items-center gap-2 text-xs text-slate-300">
                    <label class="flex items-center gap-1">
                        <input type="checkbox" prop:checked=move || follow.get() on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            follow.set(on);
                            if on { from.set(None); }
                        } />
                        "Follow"
                    </label>
                    <label class="flex items-center gap-1">
                        <input type="checkbox" data-testid="log-wrap" prop:checked=move || wrap.get() on:change=move |ev| wrap.set(event_target_checked(&ev)) />
                        "Wrap"
                    </label>
                    <a class=button href=download download="log.txt">"Download"</a>
                </span>
            </div>
            <div class="flex items-center justify-between px-3 py-1 text-xs text-slate-500">
                <span data-testid="log-range">
                    {move || last.with(|w| if w.total == 0 {
                        if w.done { "This step wrote no log.".to_string() } else { "Waiting for the first line…".to_string() }
                    } else {
                        format!("lines {}–{} of {}", w.first, w.first + w.lines.len() as u64 - 1, w.total)
                    })}
                </span>
                <span class="flex gap-2">
                    <button class=button on:click=earlier disabled=move || last.with(|w| w.first <= 1)>"Earlier"</button>
                    <button class=button on:click=later disabled=move || last.with(|w| w.first + w.lines.len() as u64 > w.total)>"Later"</button>
                </span>
            </div>
            <pre
                class=move || format!(
                    "max-h-[480px] overflow-auto px-0 pb-3 font-mono text-xs leading-5 text-slate-200 {}",
                    if wrap.get() { "whitespace-pre-wrap break-all" } else { "whitespace-pre" },
                )
                data-testid="log-lines"
            >
                {move || {
                    let q = query.get().to_lowercase();
                    let cur = current.get();
                    last.with(|w| {
                        w.lines
                            .iter()
                            .enumerate()
                            .map(|(i, l)| {
                                let n = w.first + i as u64;
                                log_line(n, l, &q, cur == Some(n), &permalink_base)
                            })
                            .collect_view()
                    })
                }}
            </pre>
        </div>
    }
    .into_any()
}

/// One line: its number (a permalink) and its styled text.
fn log_line(n: u64, line: &str, query: &str, current: bool, permalink: &str) -> AnyView {
    let hit = !query.is_empty() && strip(line).to_lowercase().contains(query);
    let row = if current {
        "block bg-amber-500/30 px-3"
    } else if hit {
        "block bg-amber-400/10 px-3"
    } else {
        "block px-3 hover:bg-slate-900"
    };
    let parts = spans(line)
        .into_iter()
        .map(|s| {
            let mut class = s.fg.map(colour_class).unwrap_or("").to_string();
            if s.bold {
                class.push_str(" font-bold");
            }
            view! { <span class=class>{s.text}</span> }
        })
        .collect_view();
    view! {
        <span id=format!("L{n}") class=row data-line=n data-hit=hit.then_some("true") data-current=current.then_some("true")>
            <a href=format!("{permalink}{n}") class="mr-3 inline-block w-12 select-none text-right text-slate-600 dark:text-slate-400 hover:text-slate-300">{n}</a>
            {parts}
            "\n"
        </span>
    }
    .into_any()
}

/// One batch of a followed log, as the server sends it.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct LogBatch {
    /// The number of its first line.
    pub first: u64,
    /// The lines.
    pub lines: Vec<String>,
    /// How many lines the log has now.
    pub total: u64,
    /// The step has ended and this is the last batch.
    pub done: bool,
}

/// Adds a followed batch to the window, keeping its last [`WINDOW`] lines. A batch that does not
/// start right after the window's last line is left out (`false`): the window was moved.
pub fn append_batch(w: &mut LogWindow, b: LogBatch) -> bool {
    if b.first != w.first + w.lines.len() as u64 {
        return false;
    }
    w.lines.extend(b.lines);
    let over = w.lines.len().saturating_sub(WINDOW as usize);
    w.lines.drain(..over);
    w.first += over as u64;
    w.total = b.total.max(w.first + w.lines.len() as u64 - 1);
    w.done = b.done;
    true
}

/// Opens the follow stream at `url` and appends what it sends to `last` until the step ends or
/// the calling effect is cleaned up (follow turned off, the window moved, the page left).
fn follow_tail(url: &str, last: RwSignal<LogWindow>) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;
        let Ok(source) = web_sys::EventSource::new(url) else {
            return;
        };
        // After the last batch the server ends the response; the browser then reports an error
        // and would reconnect: closing there (not on the last message, which would abort a
        // response still being read) ends the stream cleanly.
        let finished = std::rc::Rc::new(std::cell::Cell::new(false));
        let (stream, ended) = (source.clone(), finished.clone());
        let on_message =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                let Some(text) = ev.data().as_string() else {
                    return;
                };
                let Some(result) = batch_of(&text) else {
                    return;
                };
                let done = result.done;
                let mut fitted = true;
                last.update(|w| fitted = append_batch(w, result));
                if !fitted {
                    stream.close();
                }
                ended.set(done);
            });
        let stream = source.clone();
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
            if finished.get() {
                stream.close();
            }
        });
        source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let open = send_wrapper::SendWrapper::new((source, on_message, on_error));
        on_cleanup(move || {
            let (source, on_message, on_error) = open.take();
            source.close();
            drop((on_message, on_error));
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, last);
}

/// A follow stream's message (`{"result": {"first", "lines", "total", "done"}}`), read with the
/// browser's own JSON parser (no JSON decoder in the wasm for one small shape).
#[cfg(feature = "hydrate")]
fn batch_of(text: &str) -> Option<LogBatch> {
    use wasm_bindgen::JsValue;
    let message = js_sys::JSON::parse(text).ok()?;
    let result = js_sys::Reflect::get(&message, &JsValue::from_str("result")).ok()?;
    let field = |k: &str| js_sys::Reflect::get(&result, &JsValue::from_str(k)).ok();
    let number = |k: &str| field(k)?.as_f64().filter(|n| *n >= 0.0).map(|n| n as u64);
    let lines = field("lines")?;
    if !js_sys::Array::is_array(&lines) {
        return None;
    }
    let lines = js_sys::Array::from(&lines)
        .iter()
        .map(|l| l.as_string())
        .collect::<Option<Vec<String>>>()?;
    Some(LogBatch {
        first: number("first")?,
        lines,
        total: number("total")?,
        done: field("done")?.as_bool()?,
    })
}

/// Scrolls line `n` into view (in the browser; nothing on the server).
fn scroll_to_line(n: u64) {
    #[cfg(feature = "hydrate")]
    if let Some(el) = document().get_element_by_id(&format!("L{n}")) {
        el.scroll_into_view_with_bool(false);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = n;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(lines: &[&str], first: u64) -> LogWindow {
        LogWindow {
            lines: lines.iter().map(|l| l.to_string()).collect(),
            first,
            total: first + lines.len() as u64 - 1,
            done: true,
        }
    }

    fn batch(first: u64, lines: &[&str], total: u64, done: bool) -> LogBatch {
        LogBatch {
            first,
            lines: lines.iter().map(|l| l.to_string()).collect(),
            total,
            done,
        }
    }

    #[test]
    fn followed_batches_extend_the_window_and_keep_its_last_lines() {
        let mut w = window(&["a", "b"], 1);
        w.done = false;
        assert!(append_batch(&mut w, batch(3, &["c"], 3, false)));
        assert_eq!((w.first, w.lines.len(), w.total, w.done), (1, 3, 3, false));
        assert!(
            !append_batch(&mut w, batch(9, &["i"], 9, false)),
            "a gap is refused"
        );
        assert_eq!(w.lines, ["a", "b", "c"]);
        let many: Vec<String> = (4..=WINDOW as u64 + 10).map(|n| n.to_string()).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let total = WINDOW as u64 + 10;
        assert!(append_batch(&mut w, batch(4, &refs, total, true)));
        assert_eq!(w.lines.len(), WINDOW as usize);
        assert_eq!(w.first, 11, "the oldest lines left the window");
        assert_eq!(w.lines.last().map(String::as_str), Some("510"));
        assert_eq!((w.total, w.done), (total, true));
    }

    #[test]
    fn an_empty_log_takes_its_first_lines() {
        let mut w = LogWindow {
            lines: vec![],
            first: 1,
            total: 0,
            done: false,
        };
        assert!(append_batch(&mut w, batch(1, &["hello"], 1, false)));
        assert_eq!(
            (w.first, w.lines.clone(), w.total),
            (1, vec!["hello".to_string()], 1)
        );
    }

    #[test]
    fn search_finds_lines_by_their_text_not_their_escapes() {
        let w = window(
            &[
                "build ok",
                "\u{1b}[31mERROR\u{1b}[0m disk",
                "31m not a code",
                "error again",
            ],
            10,
        );
        assert_eq!(search_hits(&w, "error"), [11, 13]);
        assert_eq!(search_hits(&w, "31m"), [12]);
        assert!(search_hits(&w, "").is_empty());
    }

    #[test]
    fn next_and_previous_wrap_around() {
        let hits = [3, 7, 9];
        assert_eq!(step_hit(&hits, None, false), Some(3));
        assert_eq!(step_hit(&hits, None, true), Some(9));
        assert_eq!(step_hit(&hits, Some(3), false), Some(7));
        assert_eq!(step_hit(&hits, Some(9), false), Some(3));
        assert_eq!(step_hit(&hits, Some(3), true), Some(9));
        assert_eq!(step_hit(&[], Some(3), true), None);
    }
}
