import ArgumentParser
import Foundation
import Gatehouse

/// `gatehouse keys`: signing keys for an asymmetric `JWT_ALGORITHM` (SPEC.md §3.7).
struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make and inspect access-token signing keys.",
        subcommands: [Generate.self, Public.self]
    )

    /// `gatehouse keys generate --algorithm ALG [--out FILE]`.
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new PKCS#8 PEM private key for JWT_PRIVATE_KEY_FILE.",
            discussion: "Without --out the key goes to standard output. With --out it goes to a new file of mode 0600; an existing file is never overwritten."
        )

        @Option(name: .long, help: "EdDSA (Ed25519), ES256 (P-256) or RS256 (RSA, 2048 bits).")
        var algorithm: String

        @Option(name: .long, help: "Write the key to this new file (mode 0600).")
        var out: String?

        func run() throws {
            guard let algorithm = JWTAlgorithm.allCases.first(where: { $0.rawValue.lowercased() == algorithm.lowercased() }),
                  algorithm.isAsymmetric
            else {
                throw ValidationError("--algorithm must be EdDSA, ES256 or RS256 (HS256 uses secrets: see gatehouse secret)")
            }
            let key = try JWTPrivateKey.generate(algorithm)
            let pem = key.pemRepresentation.hasSuffix("\n") ? key.pemRepresentation : key.pemRepresentation + "\n"
            guard let out else {
                print(pem, terminator: "")
                return
            }
            // O_EXCL: a key already there (perhaps the one in service) is never replaced.
            let descriptor = open(out, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            guard descriptor >= 0 else {
                printError("gatehouse: cannot create \(out): \(String(cString: strerror(errno)))")
                throw ExitCode(1)
            }
            defer { close(descriptor) }
            let bytes = Array(pem.utf8)
            guard bytes.withUnsafeBytes({ write(descriptor, $0.baseAddress, $0.count) }) == bytes.count else {
                printError("gatehouse: cannot write \(out): \(String(cString: strerror(errno)))")
                throw ExitCode(1)
            }
            printError("gatehouse: wrote a \(algorithm.rawValue) key to \(out) (kid \(key.publicKey.kid))")
        }
    }

    /// `gatehouse keys public FILE`: the public key of a key file, for
    /// `JWT_PREVIOUS_PUBLIC_KEY_FILES`.
    struct Public: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the public key (PEM) of a private or public key file, and its kid on standard error."
        )

        @Argument(help: "A PEM key file.")
        var file: String

        func run() throws {
            guard let data = FileManager.default.contents(atPath: file), let pem = String(data: data, encoding: .utf8) else {
                printError("gatehouse: cannot read \(file)")
                throw ExitCode(1)
            }
            do {
                let key = try JWTPublicKey(pemRepresentation: pem)
                print(key.pemRepresentation.hasSuffix("\n") ? key.pemRepresentation : key.pemRepresentation + "\n", terminator: "")
                printError("gatehouse: \(key.algorithm.rawValue) key, kid \(key.kid)")
            } catch {
                printError("gatehouse: \(file) \(error)")
                throw ExitCode(1)
            }
        }
    }
}
