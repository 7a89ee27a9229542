import HummingbirdAuth

/// The token's role, as hummingbird-auth's role policies read it, so
/// `AuthorizationPolicyMiddleware(RolePolicy("admin"), deniedError: AppError.forbidden)`
/// guards a route for admins (SPEC.md §3.5). An application identity that carries a
/// role conforms to `RoleProviding` the same way.
extension AccessClaims: RoleProviding {
    public var roles: Set<String> { [role.rawValue] }
}
