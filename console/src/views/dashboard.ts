// Dashboard: portfolioStats for the caller's organizations, or one of them.
import type { Chart } from 'chart.js';
import { gql, type Bucket, type Viewer } from '../api';
import { barChart, type BarOptions } from '../charts';
import { count, h, label, problem, show } from '../dom';
import { navigate, type RouteContext } from '../router';

const statsFields = `customers accounts cards
  customersByOrganization { key count }
  customersByEnrollmentOptInStatus { key count }
  customersByTargetingIndicator { key count }
  accountsByType { key count }
  accountsByStatus { key count }
  cardsByNetwork { key count }
  cardsByStatus { key count }
  enrollmentsByMonth { key count }`;

const statsQuery = `query Dashboard($filter: CustomerFilter) { portfolioStats(filter: $filter) { ${statsFields} } }`;
// An all-organizations caller picks among the organizations that have customers: the
// unfiltered figures name them, asked for alongside when the page opens on one organization.
const statsWithOrgsQuery = `query DashboardWithOrganizations($filter: CustomerFilter) {
  portfolioStats(filter: $filter) { ${statsFields} }
  organizations: portfolioStats { customersByOrganization { key count } }
}`;

type StatKey =
  | 'customersByEnrollmentOptInStatus'
  | 'customersByTargetingIndicator'
  | 'accountsByType'
  | 'accountsByStatus'
  | 'cardsByNetwork'
  | 'cardsByStatus'
  | 'enrollmentsByMonth';

type Stats = { customers: number; accounts: number; cards: number; customersByOrganization: Bucket[] } & Record<StatKey, Bucket[]>;

let knownOrganizations: string[] | null = null;

export function dashboardView(viewer: () => Viewer) {
  return async (ctx: RouteContext): Promise<() => void> => {
    const charts: Chart[] = [];
    const destroy = () => charts.forEach((c) => c.destroy());
    const org = ctx.query.get('org') ?? '';
    const v = viewer();
    if (v.organizationIds) knownOrganizations = v.organizationIds;
    delete ctx.outlet.dataset.rendered;
    show(ctx.outlet, h('h1', {}, 'Dashboard'), h('p', { class: 'muted' }, 'Loading…'));
    let stats: Stats;
    try {
      const filter = org ? { organizationIds: [org] } : null;
      if (knownOrganizations || !filter) {
        stats = (await gql<{ portfolioStats: Stats }>(statsQuery, { filter })).portfolioStats;
        knownOrganizations ??= stats.customersByOrganization.map((b) => b.key).sort();
      } else {
        const data = await gql<{ portfolioStats: Stats; organizations: { customersByOrganization: Bucket[] } }>(statsWithOrgsQuery, { filter });
        stats = data.portfolioStats;
        knownOrganizations = data.organizations.customersByOrganization.map((b) => b.key).sort();
      }
    } catch (err) {
      if (ctx.alive()) show(ctx.outlet, h('h1', {}, 'Dashboard'), problem('The dashboard could not be loaded.', err));
      return destroy;
    }
    if (!ctx.alive()) return destroy;

    const chooser = h(
      'select',
      { id: 'org', name: 'org' },
      h('option', { value: '' }, v.organizationIds ? 'All my organizations' : 'All organizations'),
      knownOrganizations.map((o) => h('option', { value: o, selected: o === org }, `Organization ${o}`)),
    );
    chooser.addEventListener('change', () => navigate(chooser.value ? `/console/dashboard?org=${encodeURIComponent(chooser.value)}` : '/console/dashboard'));
    const scope = org ? `organization ${org}` : v.organizationIds ? `organizations ${v.organizationIds.join(', ')}` : 'all organizations';

    const panels: [StatKey, string, BarOptions & { wide?: boolean }][] = [
      ['customersByEnrollmentOptInStatus', 'Customers by enrollment status', { horizontal: true, labelOf: label }],
      ['customersByTargetingIndicator', 'Customers by targeting', { horizontal: true, labelOf: label }],
      ['accountsByType', 'Accounts by type', { horizontal: true, labelOf: label, axisLabelOf: (k) => k }],
      ['accountsByStatus', 'Accounts by status', { horizontal: true, labelOf: label }],
      ['cardsByNetwork', 'Cards by network', { horizontal: true, labelOf: label }],
      ['cardsByStatus', 'Cards by status', { horizontal: true, labelOf: label }],
      ['enrollmentsByMonth', 'Customers enrolled per month', { values: false, wide: true }],
    ];
    const canvases: [HTMLCanvasElement, StatKey, string, BarOptions][] = [];
    show(
      ctx.outlet,
      h('div', { class: 'title-row' }, h('h1', {}, 'Dashboard'), h('div', { class: 'field inline' }, h('label', { for: 'org' }, 'Organization'), chooser)),
      h('p', { class: 'muted' }, `Figures for ${scope}: the customers selected, and the accounts and cards visible through them.`),
      h(
        'div',
        { class: 'totals' },
        (['customers', 'accounts', 'cards'] as const).map((k) =>
          h('div', { class: 'total', 'data-total': k }, h('span', { class: 'total-value' }, count(stats[k])), h('span', { class: 'total-label' }, k)),
        ),
      ),
      h(
        'div',
        { class: 'charts' },
        panels.map(([key, title, opts]) => {
          const canvas = h('canvas', {});
          canvases.push([canvas, key, title, opts]);
          return h(
            'section',
            { class: `panel chart-panel${opts.wide ? ' wide' : ''}`, 'data-stat': key },
            h('h2', {}, title),
            h('div', { class: opts.wide ? 'chart chart-wide' : 'chart' }, canvas),
            table(stats[key], opts.labelOf ?? ((k) => k), key === 'enrollmentsByMonth'),
          );
        }),
      ),
    );
    for (const [canvas, key, title, opts] of canvases) {
      charts.push(barChart(canvas, title, key === 'enrollmentsByMonth' ? everyMonth(stats[key]) : stats[key], opts));
    }
    ctx.outlet.dataset.rendered = 'dashboard';
    requestAnimationFrame(() =>
      setTimeout(() => {
        if (ctx.alive()) performance.measure('console:dashboard', { start: ctx.startedAt, end: performance.now() });
      }, 0),
    );
    return destroy;
  };
}

/** Monthly buckets with the months that have none filled in as 0, so the axis is even in time. */
function everyMonth(buckets: Bucket[]): Bucket[] {
  if (buckets.length < 2) return buckets;
  const have = new Map(buckets.map((b) => [b.key, b.count]));
  const out: Bucket[] = [];
  let [y, m] = buckets[0]!.key.split('-').map(Number) as [number, number];
  const last = buckets[buckets.length - 1]!.key;
  for (;;) {
    const key = `${y}-${String(m).padStart(2, '0')}`;
    out.push({ key, count: have.get(key) ?? 0 });
    if (key >= last) return out;
    if (++m > 12) [y, m] = [y + 1, 1];
  }
}

/** The figures of one chart as a table with shares and a total. Long series fold away. */
function table(buckets: Bucket[], labelOf: (k: string) => string, folded: boolean): HTMLElement {
  const total = buckets.reduce((s, b) => s + b.count, 0);
  const pct = (n: number) => (total ? `${((100 * n) / total).toFixed(1)} %` : '—');
  const t = h(
    'table',
    { class: 'grid figures' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, folded ? 'Month' : 'Value'), h('th', { scope: 'col', class: 'num' }, 'Count'), h('th', { scope: 'col', class: 'num' }, 'Share'))),
    h('tbody', {}, buckets.map((b) => h('tr', { 'data-key': b.key }, h('td', {}, labelOf(b.key)), h('td', { class: 'num', 'data-count': b.count }, count(b.count)), h('td', { class: 'num' }, pct(b.count))))),
    h('tfoot', {}, h('tr', {}, h('th', { scope: 'row' }, 'Total'), h('td', { class: 'num', 'data-total': total }, count(total)), h('td', { class: 'num' }, buckets.length ? '100 %' : '—'))),
  );
  if (!folded) return t;
  const first = buckets[0]?.key;
  const last = buckets[buckets.length - 1]?.key;
  return h('details', {}, h('summary', {}, `${count(total)} customers enrolled${first ? ` from ${first} to ${last}` : ''} over ${buckets.length} months: show the table`), t);
}
