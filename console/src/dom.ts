// A tiny element builder: text goes in as text nodes (never parsed as HTML), attributes as
// attributes, `on*` keys as event listeners. No inline styles: the CSP forbids them.

export type Child = Node | string | number | null | undefined | false | Child[];
type Attr = string | number | boolean | null | undefined | ((ev: Event) => void);

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, Attr> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** Replaces the content of el. */
export function show(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A date-time of the API as `YYYY-MM-DD` (UTC), or a dash. */
export function day(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 10) : '—';
}

/** A date-time of the API as `YYYY-MM-DD HH:MM:SS UTC`. */
export function instant(iso: string | null | undefined): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : '—';
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** The link to a customer's page. */
export function customerHref(sourceCustomerId: string): string {
  return `/console/customers/${encodeURIComponent(sourceCustomerId)}`;
}

const names: Record<string, string> = {
  AMERICAN_EXPRESS: 'American Express',
  VISA: 'Visa',
  MASTERCARD: 'Mastercard',
  DISCOVER: 'Discover',
  DDA: 'DDA · checking',
  SAV: 'SAV · savings',
  MMA: 'MMA · money market',
  CRD: 'CRD · credit',
  PPD: 'PPD · prepaid',
  SBDDA: 'SBDDA · business checking',
  SBCRD: 'SBCRD · business credit',
  SBS: 'SBS · business savings',
  DO_NOT_TARGET: 'Do not target',
  CLOSE_THE_LOOP: 'Close the loop',
  MISSED_OPPORTUNITY: 'Missed opportunity',
};

/** A readable name for an enum value of the API. */
export function label(key: string): string {
  return names[key] ?? key.charAt(0) + key.slice(1).toLowerCase().replaceAll('_', ' ');
}

/** A status badge: the word itself is shown, so it never depends on colour. */
export function badge(value: string, kind = value.toLowerCase()): HTMLElement {
  return h('span', { class: `badge badge-${kind}` }, label(value));
}

const closedStatuses = new Set(['CLOSED', 'INACTIVE']);

export function isClosed(status: string): boolean {
  return closedStatuses.has(status);
}

/**
 * A failed request as sentences: what could not be done, the API's message and its code.
 * A refused token is handled by the sign-in screen, so it shows nothing here.
 */
export function problem(what: string, err: unknown): HTMLElement | null {
  const e = err as { message?: string; code?: string; unauthenticated?: boolean };
  if (e?.unauthenticated) return null;
  const message = e?.message || 'Something went wrong.';
  return h(
    'div',
    { class: 'problem', role: 'alert' },
    h('strong', {}, what),
    ' ',
    message,
    e?.code ? h('span', { class: 'code' }, ` (error code ${e.code})`) : null,
  );
}
