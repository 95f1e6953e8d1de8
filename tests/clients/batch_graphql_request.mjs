// graphql-request's batchRequests against the gateway: one POST, an array back.
// Argument: {url, operations: [{query, variables}]}. Prints each result, or the
// ClientError's status and body when the gateway refused the whole batch.
import { ClientError, GraphQLClient } from "graphql-request";
import { argument, output } from "./lib.mjs";

const { url, operations } = argument();
const client = new GraphQLClient(url, { errorPolicy: "all" });
try {
  const results = await client.batchRequests(
    operations.map(({ query, variables }) => ({ document: query, variables })),
  );
  output({ results, error: null });
} catch (error) {
  if (!(error instanceof ClientError)) throw error;
  output({ results: null, error: { status: error.response.status, errors: error.response.errors } });
}
