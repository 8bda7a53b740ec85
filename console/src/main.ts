// The console: a client of the public GraphQL API only. It finds out whether the server needs
// a token, signs in if so, then routes between the three views.
import './style.css';
import { ApiError, fetchViewer, onUnauthenticated, session, type Viewer } from './api';
import { h, problem, show } from './dom';
import { dispatch, fallback, navigate, onRoute, route, start } from './router';
import { cardsView } from './views/cards';
import { customerView } from './views/customer';
import { dashboardView } from './views/dashboard';
import { signIn } from './views/signin';

const main = document.getElementById('main')!;
const who = document.getElementById('who')!;
const nav = document.getElementById('nav')!;

let viewer: Viewer | null = null;
/** Whether the server wants a token (learned from a 401 without one). */
let tokenMode = false;
let started = false;

route(/^\/console\/?$/, () => navigate('/console/cards', { replace: true }));
route(/^\/console\/cards\/?$/, cardsView);
route(/^\/console\/customers\/([^/]+)\/?$/, customerView);
route(/^\/console\/dashboard\/?$/, dashboardView(() => viewer!));
fallback((ctx) => {
  show(ctx.outlet, h('h1', {}, 'Not found'), h('p', {}, 'There is no such page in the console. ', h('a', { href: '/console/cards' }, 'Go to the card look-up.')));
});
onRoute((path) => {
  for (const a of nav.querySelectorAll<HTMLAnchorElement>('a')) {
    if (path.startsWith(a.pathname)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = 'portfolio-graph console';
  main.focus({ preventScroll: true });
});

function showViewer(v: Viewer): void {
  const orgs = v.organizationIds === null ? 'all organizations' : v.organizationIds.length === 1 ? `organization ${v.organizationIds[0]}` : `organizations ${v.organizationIds.join(', ')}`;
  show(
    who,
    tokenMode
      ? [
          h('span', { class: 'who-name' }, v.subject ?? 'signed in'),
          ' · ',
          h('span', { class: 'badge', 'data-role': v.role }, v.role.toLowerCase()),
          ' · ',
          h('span', { 'data-orgs': '' }, orgs),
          ' ',
          h('button', { type: 'button', class: 'link', onclick: () => { session.signOut(); void signInFlow(null); } }, 'Sign out'),
        ]
      : [h('span', { class: 'badge badge-open' }, 'open mode'), ' ', h('span', { 'data-orgs': '' }, `${v.role.toLowerCase()} · ${orgs}`)],
  );
  nav.hidden = false;
}

async function signInFlow(reason: string | null): Promise<void> {
  viewer = null;
  nav.hidden = true;
  show(who);
  viewer = await signIn(main, reason);
  tokenMode = true;
  showViewer(viewer);
  if (started) void dispatch();
  else {
    started = true;
    start(main);
  }
}

// Any request answered 401 (an expired token, a rotated secret) leads back to sign-in.
onUnauthenticated((err: ApiError) => {
  if (!viewer) return; // already signing in
  session.signOut();
  void signInFlow(err.message);
});

async function boot(): Promise<void> {
  const token = session.token();
  try {
    viewer = await fetchViewer(token);
    tokenMode = token !== null;
  } catch (err) {
    if (err instanceof ApiError && err.unauthenticated) {
      tokenMode = true;
      if (token) session.signOut();
      await signInFlow(token ? err.message : null);
      return;
    }
    show(main, h('h1', {}, 'The console could not start'), problem('The server did not answer who you are.', err));
    return;
  }
  showViewer(viewer);
  started = true;
  start(main);
}

void boot();
