// Starts GraphiQL on #graphiql. Every request goes to the endpoint named by the page; the token
// typed in #token is sent as "Authorization: Bearer <token>" with every request, introspection
// included (headers typed in GraphiQL's headers editor are sent too, and win over it).
(function () {
  'use strict';

  var DEFAULT_QUERY = [
    '# Customers, accounts and cards.',
    '# Ctrl-Enter runs it.',
    'query Portfolio {',
    '  viewer { role organizationIds }',
    '  portfolioStats { customers accounts cards }',
    '  customers(first: 5) {',
    '    totalCount',
    '    nodes {',
    '      sourceCustomerId',
    '      organizationId',
    '      country',
    '      accounts {',
    '        sourceAccountId',
    '        type',
    '        status',
    '        holders { sourceCustomerId }',
    '        cards { network last4 status }',
    '      }',
    '    }',
    '  }',
    '}',
    ''
  ].join('\n');

  var TOKEN_KEY = 'portfolio-graph:token'; // sessionStorage: kept for this tab only

  var container = document.getElementById('graphiql');
  var input = document.getElementById('token');
  var state = document.getElementById('token-state');
  var url = new URL(container.dataset.endpoint, window.location.href).href;

  function readToken() {
    return input.value.trim().replace(/^bearer\s+/i, '');
  }

  function fetcher(token) {
    var headers = {};
    if (token) {
      headers.Authorization = 'Bearer ' + token;
    }
    return GraphiQL.createFetcher({ url: url, headers: headers });
  }

  var root = ReactDOM.createRoot(container);
  function render() {
    var token = readToken();
    state.textContent = token ? 'sent with every request' : 'none: requests go without Authorization';
    root.render(React.createElement(GraphiQL, {
      // A new fetcher makes GraphiQL introspect again, so the docs follow the token.
      fetcher: fetcher(token),
      defaultQuery: DEFAULT_QUERY,
      inputValueDeprecation: true,
      schemaDescription: true
    }));
  }

  try {
    input.value = window.sessionStorage.getItem(TOKEN_KEY) || '';
  } catch (e) { /* storage disabled: the field still works for this page */ }
  var current = readToken();
  function commit() {
    var token = readToken();
    if (token === current) {
      return;
    }
    current = token;
    try {
      if (token) {
        window.sessionStorage.setItem(TOKEN_KEY, token);
      } else {
        window.sessionStorage.removeItem(TOKEN_KEY);
      }
    } catch (e) { /* see above */ }
    render();
  }
  document.getElementById('auth').addEventListener('submit', function (ev) {
    ev.preventDefault();
    commit();
  });
  input.addEventListener('change', commit);
  render();
  openDocs();

  // openDocs opens the Docs explorer once GraphiQL has drawn its sidebar, as a click on its
  // book icon does (GraphiQL's visiblePlugin property selects the plugin but leaves its panel
  // folded on the first render).
  function openDocs() {
    var tries = 0;
    (function poll() {
      var button = document.querySelector('.graphiql-sidebar button[aria-label="Show Documentation Explorer"]');
      if (button) {
        button.click();
      } else if (++tries < 200) {
        window.setTimeout(poll, 50);
      }
    })();
  }
})();
