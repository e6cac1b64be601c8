/**
 * Where a data store's CA certificates are found, apart from the builders that put them there, so a
 * workload can mount them without loading the operators' schemas.
 */

/** The key holding the CA certificates, in the data stores' Secrets and in the clients' ConfigMaps alike. */
export const DATA_CA_KEY = "ca.crt";
/** Where a client pod finds the CA certificates of its own data store. */
export const DATA_CA_DIRECTORY = "/etc/msa/data-ca";
export const DATA_CA_FILE = `${DATA_CA_DIRECTORY}/${DATA_CA_KEY}`;
