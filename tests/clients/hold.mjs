// Holds many idle subscriptions open with graphql-ws's client until told to let go.
// Argument: {url, query, connections, perConnection, headers?}. Opens `connections`
// WebSockets with `perConnection` subscriptions each, prints {"ready": n} on a line once
// every subscription got its socket, then waits for a line on stdin (or its end),
// disposes every client and prints {"closed": true}.
import { createInterface } from "node:readline";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { argument } from "./lib.mjs";

const arg = argument();
const clients = [];
const errors = [];
let opened = 0;
await Promise.all(
  Array.from({ length: arg.connections }, async () => {
    const client = createClient({
      url: arg.url.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      connectionParams: arg.headers ?? {},
      lazy: false,
      retryAttempts: 0,
    });
    clients.push(client);
    await new Promise((resolve) => client.on("connected", resolve));
    for (let i = 0; i < arg.perConnection; i += 1) {
      client.subscribe(
        { query: arg.query },
        { next: () => {}, error: (e) => errors.push(String(e?.reason ?? e)), complete: () => {} },
      );
      opened += 1;
    }
  }),
);
process.stdout.write(JSON.stringify({ ready: opened, errors }) + "\n");
const lines = createInterface({ input: process.stdin });
await new Promise((resolve) => {
  lines.once("line", resolve);
  lines.once("close", resolve);
});
await Promise.all(clients.map((c) => c.dispose()));
process.stdout.write(JSON.stringify({ closed: true, errors }) + "\n");
process.exit(0);
