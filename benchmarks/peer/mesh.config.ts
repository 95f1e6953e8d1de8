// Mesh Compose configuration of the peer gateway (`make bench`): one OpenAPI source, the
// project's own description of Daily's meeting-sessions endpoints, pointed at the Daily
// simulator. The harness sets DAILY_BASE_URL and DAILY_TOKEN (the simulator's, not a
// real key) and writes the supergraph with `mesh-compose -o`.
import { defineConfig } from '@graphql-mesh/compose-cli';
import { loadOpenAPISubgraph } from '@omnigraph/openapi';

const baseUrl = process.env.DAILY_BASE_URL;
const token = process.env.DAILY_TOKEN;
if (!baseUrl || !token) {
  throw new Error('DAILY_BASE_URL and DAILY_TOKEN must be set');
}

export const composeConfig = defineConfig({
  subgraphs: [
    {
      sourceHandler: loadOpenAPISubgraph('Daily', {
        source: './daily-openapi.yaml',
        endpoint: baseUrl,
        operationHeaders: { Authorization: `Bearer ${token}` },
      }),
    },
  ],
});
