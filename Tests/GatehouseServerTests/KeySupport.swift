import Gatehouse

/// One key per asymmetric algorithm, made once per test process (RSA key generation is
/// slow). GatehouseTests has the same; test targets share no code.
enum TestKeys {
    static let edDSA = try! JWTPrivateKey.generate(.edDSA)
    static let es256 = try! JWTPrivateKey.generate(.es256)
    static let rs256 = try! JWTPrivateKey.generate(.rs256)

    static func key(_ algorithm: JWTAlgorithm) -> JWTPrivateKey {
        switch algorithm {
        case .edDSA: edDSA
        case .es256: es256
        case .rs256: rs256
        case .hs256: preconditionFailure("HS256 has no key")
        }
    }

    static let asymmetric: [JWTAlgorithm] = [.edDSA, .es256, .rs256]
}
