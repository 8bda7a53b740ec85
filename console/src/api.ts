// The console's only way to the data: the public GraphQL API at /query, called with the
// person's own bearer token, so it shows exactly what that token may see.

/** A failed request, as a sentence and the API's error code. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message);
  }

  /** True when the server refused the token (HTTP 401): the person must sign in again. */
  get unauthenticated(): boolean {
    return this.status === 401 || this.code === 'UNAUTHENTICATED';
  }
}

interface GraphQLError {
  message?: string;
  extensions?: { code?: string };
}

const tokenKey = 'portfolio-graph.console.token';

/** The bearer token lives in sessionStorage only: never in a URL, a cookie or localStorage. */
export const session = {
  token(): string | null {
    return sessionStorage.getItem(tokenKey);
  },
  signIn(token: string): void {
    sessionStorage.setItem(tokenKey, token);
  },
  signOut(): void {
    sessionStorage.removeItem(tokenKey);
  },
};

let unauthenticatedHandler: (err: ApiError) => void = () => {};

/** Sets what happens when any request is answered 401 (the sign-in screen). */
export function onUnauthenticated(fn: (err: ApiError) => void): void {
  unauthenticatedHandler = fn;
}

function sentence(s: string): string {
  const t = s.trim();
  if (t === '') return 'The server gave no reason.';
  const first = t[0]!.toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : first + '.';
}

/**
 * Runs one GraphQL request. `token` overrides the session's token (the sign-in form checks a
 * token before keeping it); null sends none.
 */
export async function gql<T>(
  query: string,
  variables: Record<string, unknown> = {},
  opts: { token?: string | null; quiet401?: boolean } = {},
): Promise<T> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Accept: 'application/graphql-response+json, application/json',
  };
  const token = opts.token !== undefined ? opts.token : session.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch('/query', {
      method: 'POST',
      headers,
      body: JSON.stringify({ query, variables }),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError('The server could not be reached. Check the connection and try again.', 'NETWORK_ERROR', 0);
  }
  let body: { data?: T | null; errors?: GraphQLError[] } | null = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  const first = body?.errors?.[0];
  let err: ApiError | null = null;
  if (first) {
    err = new ApiError(sentence(first.message ?? ''), first.extensions?.code ?? `HTTP_${res.status}`, res.status);
  } else if (!res.ok || !body?.data) {
    err = new ApiError(`The server answered HTTP ${res.status} without data.`, `HTTP_${res.status}`, res.status);
  }
  if (err) {
    if (err.unauthenticated && !opts.quiet401) unauthenticatedHandler(err);
    throw err;
  }
  return body!.data as T;
}

export type Role = 'READER' | 'WRITER' | 'ADMIN';

export interface Viewer {
  subject: string | null;
  role: Role;
  /** null means every organization. */
  organizationIds: string[] | null;
}

export const viewerQuery = `query Viewer { viewer { subject role organizationIds } }`;

/** Asks who the token (or, with none, the open server) is. */
export async function fetchViewer(token: string | null): Promise<Viewer> {
  const data = await gql<{ viewer: Viewer }>(viewerQuery, {}, { token, quiet401: true });
  return data.viewer;
}

export interface Bucket {
  key: string;
  count: number;
}
