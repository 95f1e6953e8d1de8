// Apollo Client's BatchHttpLink against the gateway: several queries, one POST.
// Argument: {url, operations: [{query, variables}], batchMax}. Prints each result (in
// the order asked) and every HTTP request sent.
import { ApolloClient, InMemoryCache, gql } from "@apollo/client";
import { BatchHttpLink } from "@apollo/client/link/batch-http";
import { argument, output, recordingFetch } from "./lib.mjs";

const { url, operations, batchMax } = argument();
const requests = [];
const link = new BatchHttpLink({
  uri: url,
  batchMax: batchMax ?? 10,
  batchInterval: 20,
  fetch: recordingFetch(requests),
});
const client = new ApolloClient({ link, cache: new InMemoryCache() });
const results = await Promise.all(
  operations.map(({ query, variables }) =>
    client
      .query({ query: gql(query), variables, fetchPolicy: "no-cache", errorPolicy: "all" })
      .then(({ data, error }) => ({
        data: data ?? null,
        errors: error?.errors ?? null,
        error: error ? String(error) : null,
      })),
  ),
);
output({ results, requests });
