//! Renders parsed Markdown as elements (text stays text).

use leptos::prelude::*;

use crate::markdown::{Block, Inline, parse};

/// A Markdown document.
#[component]
pub fn Markdown(
    /// The source.
    text: String,
) -> impl IntoView {
    let blocks = parse(&text).into_iter().map(block).collect_view();
    view! { <div class="space-y-2 text-sm leading-6 text-slate-700 dark:text-slate-300" data-testid="markdown">{blocks}</div> }
}

fn block(b: Block) -> AnyView {
    match b {
        Block::Paragraph(i) => view! { <p>{inlines(i)}</p> }.into_any(),
        Block::Heading(1, i) => view! { <h2 class="text-base font-semibold text-slate-900 dark:text-slate-100">{inlines(i)}</h2> }.into_any(),
        Block::Heading(_, i) => view! { <h3 class="font-semibold text-slate-900 dark:text-slate-100">{inlines(i)}</h3> }.into_any(),
        Block::List(items) => view! {
            <ul class="list-disc space-y-1 pl-5">
                {items.into_iter().map(|i| view! { <li>{inlines(i)}</li> }).collect_view()}
            </ul>
        }
        .into_any(),
        Block::Code(c) => view! {
            <pre class="overflow-x-auto rounded bg-slate-900 p-3 font-mono text-xs text-slate-100">{c}</pre>
        }
        .into_any(),
    }
}

fn inlines(items: Vec<Inline>) -> AnyView {
    items
        .into_iter()
        .map(|i| match i {
            Inline::Text(t) => view! { <span>{t}</span> }.into_any(),
            Inline::Code(t) => {
                view! { <code class="rounded bg-slate-100 dark:bg-slate-800 px-1 font-mono text-xs">{t}</code> }
                    .into_any()
            }
            Inline::Strong(t) => view! { <strong>{t}</strong> }.into_any(),
            Inline::Emphasis(t) => view! { <em>{t}</em> }.into_any(),
            Inline::Link { text, href } => view! {
                <a href=href class="text-sky-700 underline" rel="noopener noreferrer">{text}</a>
            }
            .into_any(),
        })
        .collect_view()
        .into_any()
}
