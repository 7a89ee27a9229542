import Foundation
import Gatehouse
import ArgumentParser
import Logging

/// `gatehouse`: a JWT authentication server.
@main
struct GatehouseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gatehouse",
        abstract: "A JWT authentication server: registration, login, rotating refresh tokens, logout.",
        discussion: "Configured from the environment and a .env file in the working directory (see README).",
        version: GatehouseVersion.current,
        subcommands: [Serve.self, Migrate.self, Secret.self, Keys.self, CreateAdmin.self, Users.self],
        defaultSubcommand: Serve.self
    )
}

extension EnvironmentLoader {
    /// Loads the configuration or ends the process with exit code 2 and one line per problem.
    static func loadOrExit(requireSecrets: Bool) throws -> ServerConfiguration {
        do {
            return try fromProcess().load(requireSecrets: requireSecrets)
        } catch {
            for problem in error.errors {
                printError("gatehouse: configuration error: \(problem)")
            }
            throw ExitCode(2)
        }
    }
}

/// Writes one line to standard error.
func printError(_ line: String) {
    var standardError = StandardError()
    print(line, to: &standardError)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}

