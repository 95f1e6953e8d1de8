// urql's persistedExchange against the gateway, persisted queries over GET.
// Argument: {url, query, variables?, runs}. Prints each result and every HTTP request.
import { Client, fetchExchange } from "@urql/core";
import { persistedExchange } from "@urql/exchange-persisted";
import { argument, output, recordingFetch } from "./lib.mjs";

const { url, query, variables, runs } = argument();
const requests = [];
const client = new Client({
  url,
  fetch: recordingFetch(requests),
  exchanges: [persistedExchange({ preferGetForPersistedQueries: true }), fetchExchange],
  requestPolicy: "network-only",
});
const results = [];
for (let i = 0; i < runs; i++) {
  const result = await client.query(query, variables ?? {}).toPromise();
  results.push({ data: result.data ?? null, error: result.error ? String(result.error) : null });
}
output({ results, requests });
