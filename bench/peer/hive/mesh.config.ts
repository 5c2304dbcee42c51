// The federated query's peer: PostGraphile's store (events, parties, persons) and the
// county police's population register (the department simulator's OpenAPI document)
// composed by GraphQL Mesh into one supergraph for Hive Gateway. Each person's register
// record is looked up by the number PostGraphile gives (`householdNumber`), all persons
// of a query level in one batched call.
import {
  createFilterTransform,
  defineConfig,
  loadGraphQLHTTPSubgraph,
} from '@graphql-mesh/compose-cli';
import { loadOpenAPISubgraph } from '@omnigraph/openapi';

const store = process.env.PEER_STORE_URL ?? 'http://127.0.0.1:18411/graphql';
const departments = process.env.DEPARTMENTS_URL ?? 'http://127.0.0.1:7700';

export const composeConfig = defineConfig({
  subgraphs: [
    {
      sourceHandler: loadGraphQLHTTPSubgraph('Store', { endpoint: store }),
      // PostGraphile's Relay field `Query.query` would make every other source's root
      // fields reachable through it, which composition then asks the store to serve.
      transforms: [createFilterTransform({ filters: ['Query.!query', '!Mutation'] })],
    },
    {
      sourceHandler: loadOpenAPISubgraph('Police', {
        source: `${departments}/220422-GA/openapi.json`,
        endpoint: departments,
        operationHeaders: { Authorization: 'Bearer dev-220422-GA' },
      }),
    },
  ],
  additionalTypeDefs: /* GraphQL */ `
    extend type Person {
      household: PersonRecord
        @resolveTo(
          sourceName: "Police"
          sourceTypeName: "Query"
          sourceFieldName: "persons"
          requiredSelectionSet: "{ householdNumber }"
          keyField: "householdNumber"
          keysArg: "ids"
        )
    }
  `,
});
