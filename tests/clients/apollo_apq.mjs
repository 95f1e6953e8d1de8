// Apollo Client's automatic persisted queries against the gateway.
// Argument: {url, query, variables?, runs, useGET}. Runs the query `runs` times (no
// cache) and prints each result and every HTTP request the link chain sent.
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { argument, output, recordingFetch } from "./lib.mjs";

const { url, query, variables, runs, useGET } = argument();
const requests = [];
const link = createPersistedQueryLink({
  sha256: (text) => createHash("sha256").update(text).digest("hex"),
  useGETForHashedQueries: useGET,
}).concat(new HttpLink({ uri: url, fetch: recordingFetch(requests) }));
const client = new ApolloClient({ link, cache: new InMemoryCache() });
const results = [];
for (let i = 0; i < runs; i++) {
  const { data, error } = await client.query({
    query: gql(query),
    variables,
    fetchPolicy: "no-cache",
    errorPolicy: "all",
  });
  results.push({ data: data ?? null, error: error ? String(error) : null });
}
output({ results, requests });
