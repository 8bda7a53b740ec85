// The support look-up: cards by last4 and optional IIN, with their account and holder, in
// one GraphQL request.
import { gql } from '../api';
import { badge, customerHref, day, h, isClosed, label, problem, show } from '../dom';
import { navigate, type RouteContext } from '../router';

const pageSize = 50;

const lookupQuery = `query CardLookup($filter: CardFilter!, $first: Int!) {
  cards(filter: $filter, first: $first) {
    nodes {
      id last4 iin network cardType status openDate closeDate sourceAccountId sourceCustomerId
      account { sourceAccountId type status }
      customer { sourceCustomerId organizationId postalCode }
    }
    pageInfo { hasNextPage }
  }
}`;

interface CardRow {
  id: string;
  last4: string;
  iin: string;
  network: string;
  cardType: string;
  status: string;
  openDate: string;
  closeDate: string | null;
  sourceAccountId: string;
  sourceCustomerId: string;
  account: { sourceAccountId: string; type: string; status: string };
  customer: { sourceCustomerId: string; organizationId: string; postalCode: string } | null;
}

const last4Rule = /^[0-9]{4}$/;
const iinRule = /^(?:[0-9]{6}|[0-9]{8})$/;

/** The problems of the form's values, by field; empty when they may be sent. */
export function checkLookup(last4: string, iin: string): { last4?: string; iin?: string } {
  const out: { last4?: string; iin?: string } = {};
  if (!last4Rule.test(last4)) out.last4 = 'Enter exactly 4 digits, the last four of the card number.';
  if (iin !== '' && !iinRule.test(iin)) out.iin = 'Enter 6 or 8 digits (the start of the card number), or leave it empty.';
  return out;
}

function field(name: string, text: string, hint: string, value: string, maxlength: number, required: boolean) {
  const hintId = `${name}-hint`;
  const errId = `${name}-error`;
  const input = h('input', {
    id: name,
    name,
    value,
    inputmode: 'numeric',
    autocomplete: 'off',
    maxlength,
    required,
    'aria-describedby': `${hintId} ${errId}`,
  });
  const err = h('p', { id: errId, class: 'field-error', 'aria-live': 'polite' });
  return {
    input,
    err,
    el: h('div', { class: 'field' }, h('label', { for: name }, text), input, h('p', { id: hintId, class: 'hint' }, hint), err),
  };
}

export async function cardsView(ctx: RouteContext): Promise<void> {
  const last4 = (ctx.query.get('last4') ?? '').trim();
  const iin = (ctx.query.get('iin') ?? '').trim();
  const f4 = field('last4', 'Last 4 digits', 'Exactly 4 digits, e.g. 2345.', last4, 4, true);
  const fi = field('iin', 'IIN (optional)', 'The first 6 or 8 digits of the card number.', iin, 8, false);
  const results = h('section', { id: 'results', 'aria-live': 'polite', 'aria-label': 'Matching cards' });
  const form = h(
    'form',
    { class: 'lookup', novalidate: true, role: 'search' },
    f4.el,
    fi.el,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Look up')),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const l = f4.input.value.trim();
    const i = fi.input.value.trim();
    if (!validate(l, i)) return;
    performance.clearMarks('console:lookup:start');
    performance.mark('console:lookup:start');
    const qs = new URLSearchParams({ last4: l });
    if (i) qs.set('iin', i);
    navigate(`/console/cards?${qs}`, { render: false });
    void run(l, i, true);
  });

  function validate(l: string, i: string): boolean {
    const bad = checkLookup(l, i);
    for (const [f, msg] of [
      [f4, bad.last4],
      [fi, bad.iin],
    ] as const) {
      f.err.textContent = msg ?? '';
      if (msg) f.input.setAttribute('aria-invalid', 'true');
      else f.input.removeAttribute('aria-invalid');
    }
    if (bad.last4) f4.input.focus();
    else if (bad.iin) fi.input.focus();
    return !bad.last4 && !bad.iin;
  }

  let seq = 0;
  async function run(l: string, i: string, measured: boolean): Promise<void> {
    const mine = ++seq;
    results.setAttribute('aria-busy', 'true');
    show(results, h('p', { class: 'muted' }, 'Looking up…'));
    const filter: Record<string, string> = { last4: l };
    if (i) filter.iin = i;
    try {
      const data = await gql<{ cards: { nodes: CardRow[]; pageInfo: { hasNextPage: boolean } } }>(lookupQuery, {
        filter,
        first: pageSize,
      });
      if (!ctx.alive() || mine !== seq) return;
      show(results, renderResults(data.cards.nodes, data.cards.pageInfo.hasNextPage, l, i));
    } catch (err) {
      if (!ctx.alive() || mine !== seq) return;
      show(results, problem('The look-up failed.', err));
    }
    results.removeAttribute('aria-busy');
    results.dataset.state = 'done';
    if (measured) {
      // Measured to the frame after the result is in the page.
      requestAnimationFrame(() =>
        setTimeout(() => {
          if (performance.getEntriesByName('console:lookup:start').length) {
            performance.measure('console:lookup', 'console:lookup:start');
          }
        }, 0),
      );
    }
  }

  show(
    ctx.outlet,
    h('h1', {}, 'Card look-up'),
    h('p', { class: 'lead' }, 'Find a card by its last four digits, and its IIN if the caller knows it.'),
    form,
    results,
  );
  if (last4 || iin) {
    if (validate(last4, iin)) await run(last4, iin, false);
  } else {
    f4.input.focus();
  }
}

function renderResults(cards: CardRow[], more: boolean, last4: string, iin: string): HTMLElement {
  const what = `ending in ${last4}` + (iin ? ` with IIN ${iin}` : '');
  if (cards.length === 0) {
    return h(
      'div',
      { class: 'empty', 'data-count': 0 },
      h('p', { class: 'summary' }, `No card ${what} is visible to you.`),
      h('p', { class: 'muted' }, 'Check the digits with the caller; cards of organizations you may not see are not shown.'),
    );
  }
  const summary =
    cards.length === 1
      ? `One card ${what}.`
      : more
        ? `More than ${pageSize} cards ${what}; the first ${pageSize} are shown. Add the IIN to narrow the search.`
        : `${cards.length} cards ${what}.`;
  return h(
    'div',
    { 'data-count': cards.length },
    h('p', { class: 'summary' }, summary),
    h(
      'table',
      { class: 'grid cards-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Card', 'Network', 'Type', 'Status', 'Opened', 'Closed', 'Account', 'Holder'].map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h('tbody', {}, cards.map(row)),
    ),
  );
}

function row(c: CardRow): HTMLTableRowElement {
  const holder = c.customer;
  const tr = h(
    'tr',
    { class: isClosed(c.status) ? 'closed' : '', 'data-card': `${c.sourceAccountId}/${c.sourceCustomerId}/${c.last4}` },
    h('td', {}, h('span', { class: 'pan' }, `${c.iin} ·· ${c.last4}`)),
    h('td', {}, label(c.network)),
    h('td', {}, label(c.cardType)),
    h('td', {}, badge(c.status)),
    h('td', {}, day(c.openDate)),
    h('td', {}, day(c.closeDate)),
    h(
      'td',
      {},
      h('div', { class: 'mono' }, c.account.sourceAccountId),
      h('div', { class: 'sub' }, label(c.account.type), ' ', badge(c.account.status)),
    ),
    h(
      'td',
      {},
      holder
        ? [
            h('a', { href: customerHref(holder.sourceCustomerId), class: 'mono' }, holder.sourceCustomerId),
            h('div', { class: 'sub' }, `Organization ${holder.organizationId} · postal code ${holder.postalCode}`),
          ]
        : [h('div', { class: 'mono' }, c.sourceCustomerId), h('div', { class: 'sub' }, 'Holder not visible to you')],
    ),
  );
  if (holder) {
    tr.classList.add('clickable');
    tr.addEventListener('click', (ev) => {
      if ((ev.target as Element).closest('a')) return; // the link navigates by itself
      navigate(customerHref(holder.sourceCustomerId));
    });
  }
  return tr;
}
