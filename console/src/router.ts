// Client-side routing over the History API: every view has a URL under /console/ that can be
// bookmarked and shared; the Go side serves index.html for all of them.

export interface RouteContext {
  params: string[];
  query: URLSearchParams;
  outlet: HTMLElement;
  /** Whether this view is still the current one (a later navigation makes it stale). */
  alive(): boolean;
  /** When the navigation to this view started (performance.now(); 0 for the page load). */
  startedAt: number;
}

/** A view renders into ctx.outlet and may return a cleanup function. */
export type View = (ctx: RouteContext) => void | (() => void) | Promise<void | (() => void)>;

interface Route {
  pattern: RegExp;
  view: View;
}

const routes: Route[] = [];
let outlet: HTMLElement;
let generation = 0;
let cleanup: (() => void) | void = undefined;
let notFound: View = () => {};
let afterRoute: (path: string) => void = () => {};
let first = true;

export function route(pattern: RegExp, view: View): void {
  routes.push({ pattern, view });
}

export function fallback(view: View): void {
  notFound = view;
}

/** Called after each navigation with the new path (to mark the current tab). */
export function onRoute(fn: (path: string) => void): void {
  afterRoute = fn;
}

/** Goes to url and renders its view; `render: false` only records the URL. */
export function navigate(url: string, opts: { replace?: boolean; render?: boolean } = {}): void {
  if (opts.replace) history.replaceState(null, '', url);
  else if (url !== location.pathname + location.search) history.pushState(null, '', url);
  if (opts.render !== false) void dispatch();
}

/** Renders the view of the current URL. */
export async function dispatch(): Promise<void> {
  const gen = ++generation;
  const startedAt = first ? 0 : performance.now();
  first = false;
  if (cleanup) cleanup();
  cleanup = undefined;
  const path = location.pathname;
  let view = notFound;
  let params: string[] = [];
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (m) {
      view = r.view;
      params = m.slice(1).map((p) => decodeURIComponent(p));
      break;
    }
  }
  outlet.replaceChildren();
  afterRoute(path);
  const ctx: RouteContext = {
    params,
    query: new URLSearchParams(location.search),
    outlet,
    alive: () => gen === generation,
    startedAt,
  };
  const done = await view(ctx);
  if (ctx.alive()) cleanup = done;
  else if (done) done();
}

/** Starts routing: same-origin links under /console/ navigate without reloading the page. */
export function start(into: HTMLElement): void {
  outlet = into;
  document.addEventListener('click', (ev) => {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const a = (ev.target as Element | null)?.closest('a');
    if (!a || a.target || a.hasAttribute('download') || a.origin !== location.origin) return;
    if (!a.pathname.startsWith('/console/')) return;
    ev.preventDefault();
    navigate(a.pathname + a.search);
  });
  window.addEventListener('popstate', () => void dispatch());
  void dispatch();
}
