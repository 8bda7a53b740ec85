// One customer: profile, enrollment and targeting, parent and children, accounts with their
// holders and cards, in one GraphQL request.
import { gql } from '../api';
import { badge, customerHref, day, h, instant, isClosed, label, problem, show, type Child } from '../dom';
import type { RouteContext } from '../router';

const childPage = 100;

const customerQuery = `query CustomerView($id: String!, $children: Int!) {
  customer(sourceCustomerId: $id) {
    id sourceCustomerId sourceParentCustomerId organizationId postalCode country
    customerCreationDate enrollmentStartDate enrollmentEndDate enrollmentOptInStatus
    alertOptInStatus targetingIndicator redemptionEligibility createdAt updatedAt
    parent { sourceCustomerId organizationId }
    children(first: $children) { nodes { sourceCustomerId organizationId enrollmentOptInStatus } pageInfo { hasNextPage } }
    accounts {
      sourceAccountId type status sourcePortfolioId accountOpenDate accountCloseDate
      primarySourceCustomerId sourceCustomerIds updatedAt
      holders { sourceCustomerId organizationId }
      cards { last4 iin network cardType status openDate closeDate sourceCustomerId updatedAt }
    }
  }
}`;

interface Ref {
  sourceCustomerId: string;
  organizationId: string;
}

interface CardItem {
  last4: string;
  iin: string;
  network: string;
  cardType: string;
  status: string;
  openDate: string;
  closeDate: string | null;
  sourceCustomerId: string;
  updatedAt: string;
}

interface AccountItem {
  sourceAccountId: string;
  type: string;
  status: string;
  sourcePortfolioId: string;
  accountOpenDate: string;
  accountCloseDate: string | null;
  primarySourceCustomerId: string;
  sourceCustomerIds: string[];
  updatedAt: string;
  holders: Ref[];
  cards: CardItem[];
}

interface CustomerItem {
  id: string;
  sourceCustomerId: string;
  sourceParentCustomerId: string | null;
  organizationId: string;
  postalCode: string;
  country: string;
  customerCreationDate: string;
  enrollmentStartDate: string;
  enrollmentEndDate: string | null;
  enrollmentOptInStatus: string;
  alertOptInStatus: string[];
  targetingIndicator: string;
  redemptionEligibility: string | null;
  createdAt: string;
  updatedAt: string;
  parent: Ref | null;
  children: { nodes: (Ref & { enrollmentOptInStatus: string })[]; pageInfo: { hasNextPage: boolean } };
  accounts: AccountItem[];
}

export async function customerView(ctx: RouteContext): Promise<void> {
  const id = ctx.params[0] ?? '';
  show(ctx.outlet, h('h1', {}, 'Customer ', h('span', { class: 'mono' }, id)), h('p', { class: 'muted' }, 'Loading…'));
  let c: CustomerItem | null;
  try {
    c = (await gql<{ customer: CustomerItem | null }>(customerQuery, { id, children: childPage })).customer;
  } catch (err) {
    if (ctx.alive()) show(ctx.outlet, h('h1', {}, 'Customer ', h('span', { class: 'mono' }, id)), problem('The customer could not be loaded.', err));
    return;
  }
  if (!ctx.alive()) return;
  document.title = `Customer ${id} · portfolio-graph console`;
  if (!c) {
    show(
      ctx.outlet,
      h('h1', {}, 'Customer ', h('span', { class: 'mono' }, id)),
      h('div', { class: 'empty' }, h('p', { class: 'summary' }, `No customer ${id} is visible to you.`),
        h('p', { class: 'muted' }, 'It was never ingested, was deleted, or belongs to an organization you may not see.')),
    );
    return;
  }
  show(
    ctx.outlet,
    h(
      'h1',
      { class: isClosed(c.enrollmentOptInStatus) ? 'closed' : '' },
      'Customer ',
      h('span', { class: 'mono', 'data-customer': c.sourceCustomerId }, c.sourceCustomerId),
      ' ',
      badge(c.enrollmentOptInStatus),
      ' ',
      badge(c.targetingIndicator),
    ),
    h('p', { class: 'muted' }, `Last changed ${instant(c.updatedAt)} · first stored ${instant(c.createdAt)}`),
    h(
      'div',
      { class: 'panels' },
      panel('Profile', facts([
        ['Organization', c.organizationId],
        ['Country', c.country],
        ['Postal code', c.postalCode],
        ['Created by the publisher', day(c.customerCreationDate)],
        ['Last changed', instant(c.updatedAt)],
      ])),
      panel('Enrollment and targeting', facts([
        ['Enrollment', badge(c.enrollmentOptInStatus)],
        ['Enrollment start', day(c.enrollmentStartDate)],
        ['Enrollment end', day(c.enrollmentEndDate)],
        ['Targeting', badge(c.targetingIndicator)],
        ['Alerts', c.alertOptInStatus.map(label).join(', ')],
        ['Redemption eligibility', c.redemptionEligibility ? label(c.redemptionEligibility) : 'Not sent'],
      ])),
      panel('Parent and children', family(c)),
    ),
    h('h2', {}, `Accounts (${c.accounts.length})`),
    c.accounts.length ? c.accounts.map((a) => account(a, c.sourceCustomerId)) : h('p', { class: 'muted' }, 'No accounts.'),
  );
}

function panel(title: string, ...body: Child[]): HTMLElement {
  return h('section', { class: 'panel' }, h('h2', {}, title), ...body);
}

function facts(rows: [string, Child][]): HTMLElement {
  return h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function person(r: Ref, self?: string): HTMLElement {
  if (r.sourceCustomerId === self) return h('span', {}, h('span', { class: 'mono' }, r.sourceCustomerId), h('span', { class: 'sub' }, ' (this customer)'));
  return h('span', {}, h('a', { href: customerHref(r.sourceCustomerId), class: 'mono' }, r.sourceCustomerId), h('span', { class: 'sub' }, ` · organization ${r.organizationId}`));
}

function family(c: CustomerItem): HTMLElement {
  let parent: Child = 'None';
  if (c.parent) parent = person(c.parent);
  else if (c.sourceParentCustomerId) parent = h('span', {}, h('span', { class: 'mono' }, c.sourceParentCustomerId), h('span', { class: 'sub' }, ' (not ingested, or not visible to you)'));
  const kids = c.children.nodes;
  const children: Child = kids.length
    ? h('ul', { class: 'plain', 'data-children': kids.length }, kids.map((k) => h('li', { class: isClosed(k.enrollmentOptInStatus) ? 'closed' : '' }, person(k), isClosed(k.enrollmentOptInStatus) ? [' ', badge(k.enrollmentOptInStatus)] : null)),
        c.children.pageInfo.hasNextPage ? h('li', { class: 'muted' }, `Only the first ${childPage} are listed.`) : null)
    : 'None';
  return facts([
    ['Parent', parent],
    ['Children', children],
  ]);
}

function account(a: AccountItem, self: string): HTMLElement {
  const closed = isClosed(a.status);
  const visible = new Set(a.holders.map((x) => x.sourceCustomerId));
  const hidden = a.sourceCustomerIds.filter((id) => !visible.has(id));
  const joint = a.sourceCustomerIds.length > 1;
  return h(
    'section',
    { class: `account${closed ? ' closed' : ''}`, 'data-account': a.sourceAccountId },
    h('h3', {}, label(a.type), ' account ', h('span', { class: 'mono' }, a.sourceAccountId), ' ', badge(a.status), joint ? [' ', h('span', { class: 'badge badge-joint' }, `Joint · ${a.sourceCustomerIds.length} holders`)] : null),
    h(
      'div',
      { class: 'account-body' },
      facts([
        ['Portfolio', a.sourcePortfolioId],
        ['Opened', day(a.accountOpenDate)],
        ['Closed', day(a.accountCloseDate)],
        ['Last changed', instant(a.updatedAt)],
      ]),
      h(
        'div',
        {},
        h('h4', {}, joint ? 'Holders' : 'Holder'),
        h('ul', { class: 'plain holders' },
          a.holders.map((x) => h('li', { 'data-holder': x.sourceCustomerId }, person(x, self), x.sourceCustomerId === a.primarySourceCustomerId ? h('span', { class: 'sub' }, ' · primary') : null)),
          hidden.map((id) => h('li', { class: 'muted' }, h('span', { class: 'mono' }, id), ' (not ingested, or not visible to you)'))),
      ),
    ),
    a.cards.length
      ? h(
          'table',
          { class: 'grid' },
          h('thead', {}, h('tr', {}, ['Card', 'Network', 'Type', 'Status', 'Holder', 'Opened', 'Closed', 'Last changed'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, a.cards.map((k) => cardRow(k, self, visible))),
        )
      : h('p', { class: 'muted' }, 'No cards on this account.'),
  );
}

function cardRow(k: CardItem, self: string, visible: Set<string>): HTMLElement {
  return h(
    'tr',
    { class: isClosed(k.status) ? 'closed' : '' },
    h('td', {}, h('span', { class: 'pan' }, `${k.iin} ·· ${k.last4}`)),
    h('td', {}, label(k.network)),
    h('td', {}, label(k.cardType)),
    h('td', {}, badge(k.status)),
    h('td', {}, k.sourceCustomerId === self || !visible.has(k.sourceCustomerId) ? h('span', { class: 'mono' }, k.sourceCustomerId) : h('a', { href: customerHref(k.sourceCustomerId), class: 'mono' }, k.sourceCustomerId)),
    h('td', {}, day(k.openDate)),
    h('td', {}, day(k.closeDate)),
    h('td', {}, instant(k.updatedAt)),
  );
}
