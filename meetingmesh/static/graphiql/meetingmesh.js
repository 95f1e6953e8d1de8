// Starts GraphiQL on the gateway's own page. Served from the gateway like every other
// asset, so the page's Content-Security-Policy can forbid inline scripts.
// The settings come from the page's JSON block (id "graphiql-settings"): the default
// query shown to a first-time visitor.
//
// Queries and mutations go over HTTP. Subscriptions go over the transport the page's
// address names: `/graphql?transport=ws` (the default: graphql-transport-ws through the
// graphql-ws client inside graphiql.min.js; the headers editor's values travel in the
// connection_init payload, so an API key works) or `/graphql?transport=sse` (GraphQL
// over Server-Sent Events, "distinct connections": one POST per subscription, read as a
// stream; the headers go with it). Stopping a subscription closes its stream or socket.
(function () {
  "use strict";
  var settings = JSON.parse(document.getElementById("graphiql-settings").textContent);
  var url = window.location.href.split("?")[0].split("#")[0];
  var transport = new URLSearchParams(window.location.search).get("transport") || "ws";
  var overHttpAndWebSocket = GraphiQL.createFetcher({
    url: url,
    subscriptionUrl: url.replace(/^http/, "ws"),
  });

  // The operation's kind, read from the text sent (the editor's parsed document can lag
  // behind what was typed): the named operation, else the first one.
  function isSubscription(params) {
    var text = (params.query || "").replace(/#[^\n]*/g, "").replace(/"(?:[^"\\]|\\.)*"/g, '""');
    var name = params.operationName;
    var pattern = name
      ? new RegExp("\\b(query|mutation|subscription)\\s+" + name + "\\b")
      : /(?:^|})\s*(query|mutation|subscription)?\s*[A-Za-z_0-9]*\s*[({]/;
    var match = pattern.exec(text);
    return Boolean(match && match[1] === "subscription");
  }

  // What GraphiQL's own fetcher reads to pick the WebSocket for a subscription.
  function subscriptionDocument(params) {
    var name = params.operationName ? { kind: "Name", value: params.operationName } : undefined;
    return {
      kind: "Document",
      definitions: [{ kind: "OperationDefinition", operation: "subscription", name: name }],
    };
  }

  // GraphQL over SSE, distinct connections mode: `event: next` carries a result,
  // `event: complete` ends the stream; comments (": ping") are heartbeats.
  function overSse(params, headers) {
    var controller = new AbortController();
    var results = [];
    var waiting = [];
    var finished = false;

    function settle() {
      while (waiting.length && (results.length || finished)) {
        var resolve = waiting.shift();
        resolve(results.length ? { value: results.shift(), done: false } : { done: true });
      }
    }
    function push(result) {
      results.push(result);
      settle();
    }
    function finish() {
      finished = true;
      settle();
    }
    function block(text) {
      var event = null;
      var data = [];
      text.split(/\r?\n/).forEach(function (line) {
        if (line.indexOf("event:") === 0) event = line.slice(6).trim();
        else if (line.indexOf("data:") === 0) data.push(line.slice(5).trim());
      });
      if (event === "next" && data.length) push(JSON.parse(data.join("\n")));
      if (event === "complete") finish();
    }

    fetch(url, {
      method: "POST",
      headers: Object.assign(
        { "Content-Type": "application/json", Accept: "text/event-stream" },
        headers || {},
      ),
      body: JSON.stringify(params),
      signal: controller.signal,
    })
      .then(async function (response) {
        var type = response.headers.get("content-type") || "";
        if (type.indexOf("text/event-stream") !== 0) {
          push(await response.json()); // refused before streaming: one answer
          return finish();
        }
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        for (;;) {
          var chunk = await reader.read();
          if (chunk.done) break;
          buffer += decoder.decode(chunk.value, { stream: true });
          var blocks = buffer.split(/\r?\n\r?\n/);
          buffer = blocks.pop();
          blocks.forEach(block);
        }
        finish();
      })
      .catch(function (error) {
        if (error.name !== "AbortError") push({ errors: [{ message: String(error) }] });
        finish();
      });

    var iterator = {
      next: function () {
        return new Promise(function (resolve) {
          waiting.push(resolve);
          settle();
        });
      },
      return: function () {
        controller.abort();
        finish();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
    iterator[Symbol.asyncIterator] = function () {
      return iterator;
    };
    return iterator;
  }

  function fetcher(params, opts) {
    if (!isSubscription(params)) return overHttpAndWebSocket(params, opts);
    if (transport === "sse") return overSse(params, opts && opts.headers);
    var withDocument = Object.assign({}, opts, { documentAST: subscriptionDocument(params) });
    return overHttpAndWebSocket(params, withDocument);
  }

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
