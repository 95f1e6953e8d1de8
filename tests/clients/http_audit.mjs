// graphql-http's audit of a server against the GraphQL-over-HTTP specification.
// Argument: {url}. Prints one record per audit: id, name (starting MUST/SHOULD/MAY),
// status (ok, warn, error) and the audit's own reason when it did not pass.
import { auditServer } from "graphql-http";
import { argument, output } from "./lib.mjs";

const { url } = argument();
const results = await auditServer({ url });
output(
  await Promise.all(
    results.map(async (result) => ({
      id: result.id,
      name: result.name,
      status: result.status,
      reason: result.status === "ok" ? null : result.reason,
    })),
  ),
);
