//! The sign-in page: a button to the OpenID provider, a form for an API token, and what went
//! wrong last time.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/login?redirect=PATH&error=WHY&signed_out=1`.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.with(|q| q.get(k)).filter(|v| !v.is_empty());
    let redirect = move || {
        param("redirect")
            .filter(|r| r.starts_with('/') && !r.starts_with("//"))
            .unwrap_or_else(|| "/".into())
    };
    let viewer = crate::codec::resource(|| (), |()| crate::act::who_am_i());
    view! {
        <Title text="Sign in" />
        <div class="mx-auto mt-16 max-w-md rounded-lg border border-slate-200 dark:border-slate-700 bg-white dark:bg-slate-900 p-8 shadow-sm">
            <h1 class="text-xl font-semibold">"Sign in to Trellis"</h1>
            {move || param("error").map(|e| view! {
                <p class="mt-4 rounded border border-red-300 bg-red-50 dark:bg-red-950 p-3 text-sm text-red-800 dark:text-red-200" role="alert" data-testid="login-error">{e}</p>
            })}
            {move || param("signed_out").map(|_| view! {
                <p class="mt-4 text-sm text-slate-600 dark:text-slate-400" data-testid="signed-out">"You are signed out."</p>
            })}
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let v = viewer.await.unwrap_or_default();
                    match (v.user, v.sso, v.tokens) {
                        (Some(user), _, _) => view! {
                            <p class="mt-4 text-sm">
                                "You are signed in as "<strong data-testid="login-user">{user.shown().to_string()}</strong>". "
                                <a href=redirect() class="text-emerald-700 underline">"Go on"</a>
                            </p>
                        }.into_any(),
                        (None, false, false) => view! {
                            <p class="mt-4 text-sm text-slate-600 dark:text-slate-400">
                                "This server takes no sign-in from a browser (neither single sign-on nor API tokens are on); ask its administrator."
                            </p>
                        }.into_any(),
                        (None, sso, tokens) => {
                            let href = format!("/auth/login?redirect={}", leptos_router::location::Url::escape(&redirect()));
                            view! {
                                {sso.then(|| view! {
                                    <p class="mt-2 text-sm text-slate-600 dark:text-slate-400">"Trellis signs you in with your organisation's account."</p>
                                    <a href=href rel="external" class="mt-6 inline-block rounded-md bg-emerald-600 px-4 py-2 text-sm font-semibold text-white hover:bg-emerald-700" data-testid="sso-login">
                                        "Sign in with single sign-on"
                                    </a>
                                })}
                                {tokens.then(|| view! {
                                    <form method="post" action="/auth/token" class="mt-6 space-y-3" data-testid="token-login">
                                        <label class="block text-sm font-medium" for="token">"API token"</label>
                                        <input id="token" name="token" type="password" autocomplete="off" required
                                            placeholder="trellis_…"
                                            class="w-full rounded-md border border-slate-300 dark:border-slate-600 bg-white dark:bg-slate-800 px-3 py-2 font-mono text-sm" />
                                        <input type="hidden" name="redirect" value=redirect() />
                                        <p class="text-xs text-slate-500 dark:text-slate-400">
                                            "An administrator makes one with "<code class="font-mono">"trellis token create NAME --role ROLE"</code>"."
                                        </p>
                                        <button type="submit" class="rounded-md bg-emerald-600 px-4 py-2 text-sm font-semibold text-white hover:bg-emerald-700">
                                            "Sign in with a token"
                                        </button>
                                    </form>
                                })}
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </div>
    }
}
