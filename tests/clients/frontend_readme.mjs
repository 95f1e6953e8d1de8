// Runs the README's frontend set-ups (written by the test into `dir`) against the gateway.
// Argument: {dir, url, relayUrl}. Prints what each client library reported.
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gql } from "@apollo/client";
import { argument, output } from "./lib.mjs";

const { dir, url, relayUrl } = argument();
const requests = [];
const realFetch = globalThis.fetch;
globalThis.fetch = (target, init = {}) => {
  requests.push({ method: init.method ?? "GET", url: String(target), body: init.body ?? null });
  return realFetch(target, init);
};
const load = (name) => import(pathToFileURL(join(dir, name)).href);

async function apollo() {
  const { createApolloClient } = await load("apollo.mjs");
  const client = createApolloClient(url);
  const PAGE = gql`
    query Page($after: String) {
      meetings(first: 3, after: $after) {
        edges { cursor node { id title details { __typename } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  `;
  const first = await client.query({ query: PAGE });
  // What fetchMore does: the next page from the network, merged by relayStylePagination.
  await client.query({
    query: PAGE,
    variables: { after: first.data.meetings.pageInfo.endCursor },
    fetchPolicy: "network-only",
  });
  const merged = client.readQuery({ query: PAGE });
  const before = requests.length;
  const both = await Promise.all([
    client.query({ query: gql`query Providers { providers { provider } }` }),
    client.query({ query: gql`query Total { meetings(first: 1) { totalCount } }` }),
  ]);
  const batched = requests.slice(before).map((r) => JSON.parse(r.body));
  const id = first.data.meetings.edges[0].node.id;
  const node = client.readFragment({
    id: client.cache.identify({ __typename: "Meeting", id }),
    fragment: gql`fragment AnyNode on Node { id }`,
  });
  return {
    firstIds: first.data.meetings.edges.map((e) => e.node.id),
    mergedIds: merged.meetings.edges.map((e) => e.node.id),
    batched,
    providers: both[0].data.providers.length,
    total: both[1].data.meetings.totalCount,
    node,
    firstRequest: JSON.parse(requests[0].body),
  };
}

async function urql() {
  const { createUrqlClient } = await load("urql.mjs");
  const client = createUrqlClient(url);
  const before = requests.length;
  const result = await client
    .query("query Few($n: Int) { meetings(first: $n) { totalCount } }", { n: 2 })
    .toPromise();
  return {
    data: result.data ?? null,
    error: result.error ? String(result.error) : null,
    requests: requests.slice(before).map((r) => ({ method: r.method, url: r.url })),
  };
}

async function relay() {
  const { createRelayEnvironment } = await load("relay.mjs");
  const { fetchQuery } = await import("relay-runtime");
  const require = createRequire(join(dir, "relay", "package.json"));
  const query = require("./src/__generated__/MeetingsPageQuery.graphql.js");
  const environment = createRelayEnvironment(relayUrl);
  const before = requests.length;
  const data = await fetchQuery(environment, query, { count: 2 }).toPromise();
  const records = environment.getStore().getSource().toJSON();
  return {
    data: data ?? null,
    meetingIds: Object.values(records)
      .filter((r) => r.__typename === "Meeting")
      .map((r) => r.id),
    sent: requests.slice(before).map((r) => JSON.parse(r.body)),
  };
}

output({ apollo: await apollo(), urql: await urql(), relay: await relay() });
