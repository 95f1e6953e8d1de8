// Runs the README's frontend set-ups (written by the test into `dir`) against the gateway.
// Argument: {dir, url, relayUrl, subjects}; `subjects` names the meetings, course and
// member the Apollo cache checks use. Prints what each client library reported.
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gql } from "@apollo/client";
import { filter, firstValueFrom } from "rxjs";
import { argument, output } from "./lib.mjs";

const { dir, url, relayUrl, subjects } = argument();
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

const PAGE_INFO = "pageInfo { hasNextPage endCursor }";
const WALKS = {
  schedulingLinks: {
    query: gql`query Links($after: String) { schedulingLinks(first: 5, after: $after) {
      edges { cursor node { id } } ${PAGE_INFO} } }`,
    connection: (data) => data.schedulingLinks,
  },
  meetings: {
    query: gql`query Meetings($after: String) { meetings(first: 40, after: $after) {
      edges { cursor node { id } } ${PAGE_INFO} } }`,
    connection: (data) => data.meetings,
  },
  "Meeting.attendees": {
    query: gql`query Attendees($id: ID!, $after: String) { meeting(id: $id) { id
      attendees(first: 4, after: $after) { edges { cursor node { id } } ${PAGE_INFO} } } }`,
    variables: { id: subjects.attendeesOf },
    connection: (data) => data.meeting.attendees,
  },
  "Member.upcomingMeetings": {
    query: gql`query Schedule($member: String!, $after: String) {
      member(provider: HEYPEERS, id: $member) { id
        upcomingMeetings(first: 3, after: $after) { edges { cursor node { id } } ${PAGE_INFO} } } }`,
    variables: { member: subjects.member },
    connection: (data) => data.member.upcomingMeetings,
  },
  "Course.meetings": {
    query: gql`query CourseMeetings($id: ID!, $after: String) { node(id: $id) { id
      ... on Course { meetings(first: 5, after: $after) { edges { cursor node { id } } ${PAGE_INFO} } } } }`,
    variables: { id: subjects.course },
    connection: (data) => data.node.meetings,
  },
};

/** What an app's "load more" does: fetchMore from the end cursor until no page is left. */
async function walk(client, { query, variables = {}, connection }) {
  const observable = client.watchQuery({ query, variables });
  const subscription = observable.subscribe(() => {});
  await firstValueFrom(observable.pipe(filter((result) => !result.loading)));
  let list = connection(client.readQuery({ query, variables }));
  let pages = 1;
  while (list.pageInfo.hasNextPage && pages < 100) {
    await observable.fetchMore({ variables: { after: list.pageInfo.endCursor } });
    list = connection(client.readQuery({ query, variables }));
    pages += 1;
  }
  subscription.unsubscribe();
  return { ids: list.edges.map((edge) => edge.node.id), pages };
}

const ATTENDANCE = gql`query Attendance($id: ID!) { meeting(id: $id) { id
  attendees(first: 100) { edges { node { id providerId joinedAt durationSeconds member { id } } } } } }`;

/** Two meetings sharing a person, loaded one after the other into one cache. */
async function attendances(client, meetings) {
  for (const id of meetings) await client.query({ query: ATTENDANCE, variables: { id } });
  // As the gateway answers them, without the __typename the cache adds.
  const plain = ({ __typename, member, ...fields }) => ({
    ...fields,
    member: member && { id: member.id },
  });
  const shown = meetings.map((id) =>
    client.readQuery({ query: ATTENDANCE, variables: { id } }).meeting.attendees.edges.map(
      (edge) => plain(edge.node),
    ),
  );
  const entries = Object.keys(client.cache.extract()).filter((key) => key.startsWith("Attendee:"));
  return { shown, entries: entries.length };
}

/** Two queries selecting different fields of one meeting's `details`. */
async function details(client, id) {
  const ROOM = gql`query Room($id: ID!) { meeting(id: $id) { id
    details { __typename ... on DailyMeetingDetails { room } } } }`;
  const LIVE = gql`query Live($id: ID!) { meeting(id: $id) { id
    details { __typename ... on DailyMeetingDetails { ongoing maxParticipants } } } }`;
  const warnings = [];
  const warn = console.warn;
  console.warn = (...args) => warnings.push(args.map(String).join(" "));
  try {
    await client.query({ query: ROOM, variables: { id } });
    await client.query({ query: LIVE, variables: { id } });
  } finally {
    console.warn = warn;
  }
  return {
    room: client.readQuery({ query: ROOM, variables: { id } })?.meeting.details ?? null,
    live: client.readQuery({ query: LIVE, variables: { id } })?.meeting.details ?? null,
    warnings,
  };
}

/** The README's Apollo cache: every list paged with fetchMore, attendances, details. */
async function apolloCache() {
  const { createApolloClient } = await load("apollo.mjs");
  const walks = {};
  for (const [name, spec] of Object.entries(WALKS)) walks[name] = await walk(createApolloClient(url), spec);
  const client = createApolloClient(url);
  const attendee = (await attendances(client, subjects.thoughtIndustriesPair)).shown[0][0];
  return {
    walks,
    thoughtIndustries: await attendances(createApolloClient(url), subjects.thoughtIndustriesPair),
    daily: await attendances(createApolloClient(url), subjects.dailyPair),
    details: await details(createApolloClient(url), subjects.dailySession),
    attendeeAsNode: client.readFragment({
      id: client.cache.identify({ __typename: "Attendee", id: attendee.id }),
      fragment: gql`fragment AnyNode on Node { id }`,
    }),
  };
}

output({
  apollo: await apollo(),
  apolloCache: await apolloCache(),
  urql: await urql(),
  relay: await relay(),
});
