// Starts GraphiQL on the gateway's own page. Served from the gateway like every other
// asset, so the page's Content-Security-Policy can forbid inline scripts.
// The settings come from the page's JSON block (id "graphiql-settings"): the default
// query shown to a first-time visitor.
(function () {
  "use strict";
  var settings = JSON.parse(document.getElementById("graphiql-settings").textContent);
  var url = window.location.href.split("?")[0].split("#")[0];
  // GraphiQL's own fetcher: plain HTTP today. Subscriptions later need only
  // `subscriptionUrl` (graphql-ws is inside graphiql.min.js) or a custom fetcher
  // returning graphql-sse's async iterator here; nothing else on the page changes.
  var fetcher = GraphiQL.createFetcher({ url: url });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: settings.defaultQuery,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      // API keys typed into the headers editor stay out of localStorage.
      shouldPersistHeaders: false,
    }),
  );
})();
