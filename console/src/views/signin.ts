// Sign-in: when the server verifies bearer tokens, the console asks for one and keeps it in
// sessionStorage only (it is never put in a URL).
import { fetchViewer, session, type Viewer } from '../api';
import { h, problem, show } from '../dom';

/**
 * Shows the sign-in form in outlet; resolves with the viewer once a token is accepted.
 * `reason` explains why (an expired or refused token).
 */
export function signIn(outlet: HTMLElement, reason: string | null): Promise<Viewer> {
  return new Promise((resolve) => {
    const input = h('textarea', {
      id: 'token',
      name: 'token',
      rows: 4,
      autocomplete: 'off',
      spellcheck: 'false',
      required: true,
      'aria-describedby': 'token-hint',
    });
    const status = h('div', { 'aria-live': 'polite' });
    const form = h(
      'form',
      { class: 'signin', novalidate: true },
      h('div', { class: 'field' },
        h('label', { for: 'token' }, 'Bearer token'),
        input,
        h('p', { id: 'token-hint', class: 'hint' }, 'Paste the token an operator minted for you (portfolio-graph token -role reader -org …). It is kept in this browser tab only, until you sign out or close the tab.'),
      ),
      status,
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in')),
    );
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const token = input.value.trim();
      if (!token) {
        show(status, h('p', { class: 'field-error' }, 'Paste a token first.'));
        input.focus();
        return;
      }
      show(status, h('p', { class: 'muted' }, 'Checking the token…'));
      try {
        const viewer = await fetchViewer(token);
        session.signIn(token);
        resolve(viewer);
      } catch (err) {
        const e = err as { unauthenticated?: boolean; message?: string; code?: string };
        show(status, e.unauthenticated
          ? h('div', { class: 'problem', role: 'alert' }, h('strong', {}, 'The server refused this token.'), ' ', e.message ?? '', h('span', { class: 'code' }, ` (error code ${e.code})`))
          : problem('The token could not be checked.', err));
      }
    });
    show(
      outlet,
      h('h1', {}, reason ? 'Sign in again' : 'Sign in'),
      reason ? h('div', { class: 'problem', role: 'alert', id: 'signin-reason' }, h('strong', {}, 'Your session has ended.'), ' ', reason, ' Sign in again with a new token.') : null,
      h('p', { class: 'lead' }, 'This server requires a bearer token. The console shows exactly what your token may see.'),
      form,
    );
    input.focus();
  });
}
