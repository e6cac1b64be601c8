/** Azure decisions of an event store (Cosmos DB for NoSQL). Pure: no engine imports. */

/**
 * What the owner of an event store may do in Cosmos DB, as its custom data-plane role: append
 * (create) and read, by point read, query and change feed. No replace, upsert or delete, so stored
 * events never change (as `EVENT_STORE_ACTIONS` on AWS). The SDKs' queries need readChangeFeed
 * beside executeQuery.
 */
export const EVENT_STORE_COSMOS_DATA_ACTIONS = [
  "Microsoft.DocumentDB/databaseAccounts/readMetadata",
  "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/create",
  "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/read",
  "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/executeQuery",
  "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/readChangeFeed",
] as const;

/** Name of the event stores' custom role in the Cosmos DB account (unique per account). */
export const EVENT_STORE_COSMOS_ROLE_NAME = "msa-event-store-append";
