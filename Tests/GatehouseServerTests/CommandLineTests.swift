import Foundation
import HTTPTypes
import Gatehouse
import HummingbirdTesting
import Testing

@testable import GatehouseServer

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct CommandLineTests {
    @Test(arguments: [
        ["--help"], ["serve", "--help"], ["migrate", "--help"], ["secret", "--help"], ["create-admin", "--help"], ["keys", "--help"],
        ["keys", "generate", "--help"], ["keys", "public", "--help"],
    ])
    func helpWorks(arguments: [String]) throws {
        let result = try runGatehouse(arguments)
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE"))
    }

    @Test func helpListsEveryCommand() throws {
        let result = try runGatehouse(["--help"])
        for command in ["serve", "migrate", "secret", "keys", "create-admin"] {
            #expect(result.stdout.contains(command))
        }
    }

    /// The version lives in one place, `GatehouseVersion.current`.
    @Test func versionIsPrinted() throws {
        let result = try runGatehouse(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.trimmingCharacters(in: .newlines) == GatehouseVersion.current)
        #expect(GatehouseVersion.current.split(separator: ".").count == 3)
    }

    @Test func secretPrintsSixtyFourRandomBytesAsHex() throws {
        let first = try runGatehouse(["secret"]).stdout.trimmingCharacters(in: .newlines)
        let second = try runGatehouse(["secret"]).stdout.trimmingCharacters(in: .newlines)
        #expect(first.count == 128)
        #expect(first.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(first != second)
    }

    @Test func badVariableExitsTwoWithOneLineAndNoSecret() throws {
        let result = try runGatehouse(["serve"], environment: ["JWT_ACCESS_SECRET": "tiny-secret-value"])
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("JWT_ACCESS_SECRET must be at least 32 characters") == true)
        #expect(!result.stderr.contains("tiny-secret-value"))
        #expect(!result.stdout.contains("tiny-secret-value"))
    }

    static let access = "an-access-secret-that-is-long-enough"
    static let badEnvironments: [(environment: [String: String], line: String, hidden: String?)] = [
        (["JWT_ACCESS_SECRET": access, "JWT_REFRESH_SECRET": access], "JWT_REFRESH_SECRET must differ from JWT_ACCESS_SECRET", access),
        (["APP_ENV": "prod"], "APP_ENV must be development or production", nil),
        (["PORT": "eighty"], "PORT must be a whole number from 0 to 65535", nil),
        (["JWT_ACCESS_TTL": "15 min"], "JWT_ACCESS_TTL must be a duration greater than zero", nil),
        (["BCRYPT_COST": "3"], "BCRYPT_COST must be a whole number from 4 to 31", nil),
        (["LOG_LEVEL": "chatty"], "LOG_LEVEL must be one of", nil),
        (["DATABASE_URL": "mysql://u:pw-in-url@h/db"], "DATABASE_URL must be sqlite://PATH", "pw-in-url"),
    ]

    @Test(arguments: badEnvironments)
    func everyBadVariableExitsTwo(environment: [String: String], line: String, hidden: String?) throws {
        let result = try runGatehouse(["serve"], environment: environment)
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(lines.first?.contains(line) == true, "\(result.stderr)")
        if let hidden {
            #expect(!result.stderr.contains(hidden) && !result.stdout.contains(hidden))
        }
    }

    @Test func productionWithoutSecretsExitsTwo() throws {
        let result = try runGatehouse(["serve"], environment: ["APP_ENV": "production"])
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(result.stderr.contains("JWT_ACCESS_SECRET is required when APP_ENV=production"))
        #expect(result.stderr.contains("JWT_REFRESH_SECRET is required when APP_ENV=production"))
    }

    @Test func badPostgresURLExitsTwoWithoutThePassword() throws {
        let result = try runGatehouse(["serve"], environment: ["DATABASE_URL": "postgres://app:s3cr3t-pw@localhost:5432/app?sslmode=sometimes"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("DATABASE_URL sslmode must be disable, prefer, require or verify-full"))
        #expect(!result.stderr.contains("s3cr3t-pw"))
    }

    @Test func unreachablePostgresExitsOneWithoutThePassword() throws {
        let port = try freePort()
        let result = try runGatehouse(["migrate"], environment: [
            "DATABASE_URL": "postgres://app:s3cr3t-pw@127.0.0.1:\(port)/app?sslmode=disable", "DATABASE_TIMEOUT": "2s",
        ])
        #expect(result.status == 1)
        #expect(result.stderr.contains("gatehouse: cannot reach the database at postgres://app:<redacted>@127.0.0.1:\(port)/app"))
        #expect(!result.stderr.contains("s3cr3t-pw"))
    }

    @Test func dotEnvIsReadAndTheRealEnvironmentWins() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try "BCRYPT_COST=2\nDATABASE_URL=sqlite://gatehouse.sqlite\n".write(
            to: directory.appendingPathComponent(".env"), atomically: true, encoding: .utf8
        )
        let fromFile = try runGatehouse(["migrate"], directory: directory)
        #expect(fromFile.status == 2)
        #expect(fromFile.stderr.contains("BCRYPT_COST"))
        let overridden = try runGatehouse(["migrate"], environment: ["BCRYPT_COST": "4"], directory: directory)
        #expect(overridden.status == 0, "\(overridden.stderr)")
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("gatehouse.sqlite").path))
    }

    @Test func migrateIsIdempotent() throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        for _ in 0..<2 {
            let result = try runGatehouse(["migrate"], environment: ["DATABASE_URL": database.url])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("Migrations are up to date."))
        }
    }

    @Test func createAdminReadsThePasswordFromStandardInput() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let environment = ["DATABASE_URL": database.url, "BCRYPT_COST": "4"]
        let created = try runGatehouse(
            ["create-admin", "--email", "Root@Example.com", "--name", "Root"], environment: environment, stdin: "admin-password-1\n"
        )
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.contains("root@example.com"))
        #expect(!created.stdout.contains("admin-password-1") && !created.stderr.contains("admin-password-1"))

        let duplicate = try runGatehouse(
            ["create-admin", "--email", "root@example.com", "--name", "Root"], environment: environment, stdin: "admin-password-1\n"
        )
        #expect(duplicate.status == 1)
        #expect(duplicate.stderr.contains("Email already registered"))

        let weak = try runGatehouse(
            ["create-admin", "--email", "other@example.com", "--name", "Other"], environment: environment, stdin: "short\n"
        )
        #expect(weak.status == 1)
        #expect(weak.stderr.contains("password must be between 8 and 72 bytes"))

        try await TestServer.withApp(database: database) { client in
            let login = try await client.login(email: "root@example.com", password: "admin-password-1")
            #expect(login.status == .ok)
            #expect(try login.decode(AuthResponse.self).user.role == .admin)
            expectError(try await client.login(email: "other@example.com", password: "short"), .unauthorized)
        }
    }

    /// `gatehouse serve` with no configuration at all: SQLite default, generated secrets
    /// with a warning, answers /health, stops cleanly on SIGTERM.
    @Test func serveStartsWithZeroSetupAndStopsOnSigterm() async throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try freePort()
        let process = Process()
        process.executableURL = GatehouseBinary.url
        process.environment = ["PATH": "/usr/bin:/bin", "PORT": "\(port)"]
        process.currentDirectoryURL = directory
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        var response: String?
        for _ in 0..<300 where response == nil {
            try await Task.sleep(for: .milliseconds(100))
            response = rawHTTP(port: port, request: "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        }
        let health = try #require(response)
        #expect(health.hasPrefix("HTTP/1.1 200"))
        #expect(health.hasSuffix(#"{"status":"ok"}"#))
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("gatehouse.sqlite").path))

        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("JWT secrets not configured"))
    }
}

/// `gatehouse keys` and the key variables (SPEC.md §3.7).
@Suite struct KeysCommandTests {
    @Test(arguments: ["EdDSA", "ES256", "RS256", "eddsa"])
    func generateWritesAPKCS8KeyThatServes(algorithm: String) async throws {
        try await blocking {
            let generated = try runGatehouse(["keys", "generate", "--algorithm", algorithm])
            #expect(generated.status == 0, "\(generated.stderr)")
            #expect(generated.stdout.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
            #expect(generated.stdout.hasSuffix("-----END PRIVATE KEY-----\n"))
            let key = try JWTPrivateKey(pemRepresentation: generated.stdout)
            #expect(key.algorithm.rawValue.lowercased() == algorithm.lowercased())
            #expect(try runGatehouse(["keys", "generate", "--algorithm", algorithm]).stdout != generated.stdout)
        }
    }

    @Test func outWritesAPrivateFileAndNeverOverwrites() async throws {
        try await blocking {
            let directory = makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("signing.pem").path
            let first = try runGatehouse(["keys", "generate", "--algorithm", "EdDSA", "--out", path])
            #expect(first.status == 0 && first.stdout.isEmpty)
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let written = try String(contentsOfFile: path, encoding: .utf8)
            let again = try runGatehouse(["keys", "generate", "--algorithm", "EdDSA", "--out", path])
            #expect(again.status == 1)
            #expect(again.stderr.contains("File exists"))
            #expect(try String(contentsOfFile: path, encoding: .utf8) == written)
            // `keys public` prints the public key and names its kid.
            let publicKey = try runGatehouse(["keys", "public", path])
            #expect(publicKey.status == 0)
            #expect(publicKey.stdout.hasPrefix("-----BEGIN PUBLIC KEY-----"))
            #expect(publicKey.stderr.contains(try JWTPrivateKey(pemRepresentation: written).publicKey.kid))
            #expect(!publicKey.stdout.contains("PRIVATE"))
        }
    }

    @Test(arguments: ["HS256", "ES384", "none", ""])
    func generateRefusesOtherAlgorithms(algorithm: String) async throws {
        try await blocking {
            let result = try runGatehouse(["keys", "generate", "--algorithm", algorithm])
            #expect(result.status == 64)
            #expect(result.stderr.contains("--algorithm must be EdDSA, ES256 or RS256"))
            #expect(result.stdout.isEmpty)
        }
    }

    @Test func badKeySettingsExitTwoNamingTheVariable() async throws {
        try await blocking {
            let directory = makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let edKey = directory.appendingPathComponent("ed.pem").path
            _ = try runGatehouse(["keys", "generate", "--algorithm", "EdDSA", "--out", edKey])
            let garbage = directory.appendingPathComponent("garbage.pem").path
            try "not a key".write(toFile: garbage, atomically: true, encoding: .utf8)
            let base = ["JWT_ACCESS_SECRET": CommandLineTests.access, "JWT_REFRESH_SECRET": String(CommandLineTests.access.reversed())]
            let cases: [([String: String], String)] = [
                (["JWT_ALGORITHM": "HS512"], "JWT_ALGORITHM must be one of HS256, EdDSA, ES256, RS256"),
                (["JWT_ALGORITHM": "EdDSA"], "JWT_PRIVATE_KEY_FILE is required when JWT_ALGORITHM is EdDSA"),
                (["JWT_ALGORITHM": "ES256", "JWT_PRIVATE_KEY_FILE": edKey], "JWT_PRIVATE_KEY_FILE holds a key for EdDSA, not ES256"),
                (["JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": "/nonexistent/key.pem"], "JWT_PRIVATE_KEY_FILE names /nonexistent/key.pem, which cannot be read"),
                (["JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": garbage], "JWT_PRIVATE_KEY_FILE names \(garbage), which must hold a PEM key"),
                (["JWT_PRIVATE_KEY_FILE": edKey], "JWT_PRIVATE_KEY_FILE is only used with JWT_ALGORITHM EdDSA, ES256 or RS256"),
                (["JWT_PREVIOUS_PUBLIC_KEY_FILES": "\(edKey), \(garbage)"], "JWT_PREVIOUS_PUBLIC_KEY_FILES names \(garbage), which must hold a PEM key"),
                (["JWT_ACCESS_SECRET_PREVIOUS": "short-previous"], "JWT_ACCESS_SECRET_PREVIOUS must be at least 32 characters"),
                (["ACCESS_TOKEN_CACHE": "lots"], "ACCESS_TOKEN_CACHE must be a whole number from 0 to 1000000"),
            (["LOG_FORMAT": "xml"], "LOG_FORMAT must be text or json"),
            (["METRICS": "maybe"], "METRICS must be on or off"),
            (["ACCOUNT_PAGE": "yes"], "ACCOUNT_PAGE must be on or off"),
            (["SHUTDOWN_TIMEOUT": "2h"], "SHUTDOWN_TIMEOUT must be a duration from 0s to 1h, such as 10s"),
            ]
            for (environment, line) in cases {
                let result = try runGatehouse(["serve"], environment: base.merging(environment) { $1 })
                #expect(result.status == 2, "\(environment)")
                #expect(result.stderr.contains("gatehouse: configuration error: \(line)"), "\(result.stderr)")
                #expect(!result.stderr.contains("short-previous"))
            }
        }
    }
}
