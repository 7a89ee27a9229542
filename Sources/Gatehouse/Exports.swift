// Tokens, claims and keys live in GatehouseJWT (shared with downstream verifiers); an
// application that imports Gatehouse sees them as before.
@_exported import GatehouseJWT
