// Subscribes with a real client library, makes a simulator send a webhook, and reports
// what the subscription received.
// Argument: {transport: "ws" | "sse" | "multipart", url, query, variables?, headers?,
//            metricsUrl, trigger: {url, body}, events?: 1, timeoutMs?: 5000}
// - ws: graphql-ws's client (graphql-transport-ws), with the `ws` package as Node 20's
//   WebSocket; headers go into the connection_init payload.
// - sse: graphql-sse's client in its "distinct connections" mode.
// - multipart: Apollo Client's HttpLink, which speaks multipart subscriptions natively.
// The webhook is triggered only once the gateway's /metrics counts the subscription
// open, so the event cannot race the subscription. Prints {results, firstMs, errors}.
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { createClient as createSseClient } from "graphql-sse";
import { createClient as createWsClient } from "graphql-ws";
import WebSocket from "ws";
import { argument, output } from "./lib.mjs";

const arg = argument();
const wanted = arg.events ?? 1;
const timeoutMs = arg.timeoutMs ?? 5000;
const results = [];
const errors = [];
let firstAt = null;
let arrived = () => {};
const enough = new Promise((resolve) => {
  arrived = () => results.length >= wanted && resolve();
});

function received(result) {
  if (firstAt === null) firstAt = performance.now();
  results.push(result);
  arrived();
}

function subscribe() {
  const request = { query: arg.query, variables: arg.variables ?? {} };
  if (arg.transport === "ws") {
    const client = createWsClient({
      url: arg.url.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      connectionParams: arg.headers ?? {},
      lazy: false,
    });
    const stop = client.subscribe(request, {
      next: received,
      error: (e) => errors.push(String(e?.reason ?? e?.message ?? JSON.stringify(e))),
      complete: () => {},
    });
    return async () => {
      stop();
      await client.dispose();
    };
  }
  if (arg.transport === "sse") {
    const client = createSseClient({ url: arg.url, headers: arg.headers ?? {} });
    const stop = client.subscribe(request, {
      next: received,
      error: (e) => errors.push(String(e?.message ?? e)),
      complete: () => {},
    });
    return async () => {
      stop();
      client.dispose();
    };
  }
  const client = new ApolloClient({
    link: new HttpLink({ uri: arg.url, headers: arg.headers ?? {} }),
    cache: new InMemoryCache(),
  });
  const subscription = client
    .subscribe({ query: gql(arg.query), variables: arg.variables ?? {} })
    .subscribe({ next: received, error: (e) => errors.push(String(e?.message ?? e)) });
  return async () => {
    subscription.unsubscribe();
    client.stop();
  };
}

async function openSubscriptions() {
  const text = await (await fetch(arg.metricsUrl)).text();
  const line = text.split("\n").find((l) => l.startsWith("meetingmesh_subscriptions "));
  return Number(line?.split(" ")[1] ?? 0);
}

const stop = subscribe();
const started = performance.now();
while ((await openSubscriptions()) < 1) {
  if (performance.now() - started > 10000) {
    errors.push("the subscription never opened");
    break;
  }
  await new Promise((r) => setTimeout(r, 20));
}
const sent = performance.now();
const trigger = await fetch(arg.trigger.url, {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify(arg.trigger.body),
});
const deliveries = (await trigger.json()).deliveries ?? [];
await Promise.race([enough, new Promise((r) => setTimeout(r, timeoutMs))]);
await stop();
output({
  results,
  deliveries: deliveries.map((d) => d.status),
  firstMs: firstAt === null ? null : firstAt - sent,
  errors,
});
process.exit(0);
