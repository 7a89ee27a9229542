// Claims, keys and the verifier live in GatehouseJWT; a service that imports
// GatehouseVerifier sees them too.
@_exported import GatehouseJWT
