import ArgumentParser
import FluentKit
import Foundation
import Gatehouse
import HTTPTypes
import GatehouseFluent
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `gatehouse users …`: administration for operators who have no admin token (the last
/// admin locked out, say). The same rules as the admin API (the last admin can be neither
/// demoted nor deleted), the same audit events (with no actor), against the same database
/// while the server runs.
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and manage users from the command line.",
        subcommands: [List.self, SetRole.self, Logout.self, Delete.self]
    )

    /// `gatehouse users list [--email PREFIX] [--json]`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users: a table, or JSON lines with --json.")

        @Option(help: "Only users whose email starts with this.") var email: String?
        @Flag(help: "One JSON object per line instead of a table.") var json = false

        func run() async throws {
            try await withUsersService { service, logger in
                var rows: [UserSummary] = []
                var cursor: String?
                repeat {
                    let page = try await service.adminUsers(
                        limit: AuthService.pageSizes.upperBound, cursor: cursor, emailPrefix: email, logger: logger
                    )
                    rows += page.users
                    cursor = page.nextCursor
                } while cursor != nil
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                    for row in rows {
                        print(String(decoding: try encoder.encode(AdminUserResponse(row)), as: UTF8.self))
                    }
                } else {
                    printTable(rows)
                }
            }
        }

        func printTable(_ rows: [UserSummary]) {
            let header = ["EMAIL", "ROLE", "NAME", "CREATED", "LAST LOGIN", "SESSIONS", "ID"]
            let cells = rows.map { row -> [String] in
                let response = AdminUserResponse(row)
                return [
                    response.email, response.role.rawValue, response.name, response.createdAt, response.lastLoginAt ?? "never",
                    String(response.activeSessions), response.id,
                ]
            }
            var widths = header.map(\.count)
            for row in cells {
                for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
            }
            func line(_ row: [String]) -> String {
                zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                    .trimmingCharacters(in: .whitespaces)
            }
            print(line(header))
            for row in cells { print(line(row)) }
            if rows.isEmpty { print("(no users)") }
        }
    }

    /// `gatehouse users set-role EMAIL ROLE`.
    struct SetRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-role", abstract: "Give a user the role user or admin.")

        @Argument(help: "The user's email address.") var email: String
        @Argument(help: "user or admin.") var role: Role

        func run() async throws {
            try await withUsersService { service, logger in
                let user = try await requireUser(email, service: service, logger: logger)
                _ = try await service.adminSetRole(user.id, to: role, actor: nil, logger: logger)
                print("\(user.email) is now \(role.rawValue).")
            }
        }
    }

    /// `gatehouse users logout EMAIL`.
    struct Logout: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign a user out everywhere (every session, every refresh token).")

        @Argument(help: "The user's email address.") var email: String

        func run() async throws {
            try await withUsersService { service, logger in
                let user = try await requireUser(email, service: service, logger: logger)
                try await service.adminLogout(user.id, actor: nil, logger: logger)
                print("Signed \(user.email) out everywhere.")
            }
        }
    }

    /// `gatehouse users delete EMAIL [--yes]`.
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a user and their sessions; asks first on a terminal, needs --yes otherwise."
        )

        @Argument(help: "The user's email address.") var email: String
        @Flag(help: "Do not ask for confirmation (required when standard input is not a terminal).") var yes = false

        func run() async throws {
            if !yes {
                guard isatty(STDIN_FILENO) == 1 else {
                    printError("gatehouse: refusing to delete without --yes when standard input is not a terminal")
                    throw ExitCode(1)
                }
            }
            try await withUsersService { service, logger in
                let user = try await requireUser(email, service: service, logger: logger)
                if !yes {
                    print("Delete \(user.email) and all their sessions? This cannot be undone. [y/N] ", terminator: "")
                    fflush(nil)
                    guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased().trimmingCharacters(in: .whitespaces)) else {
                        print("Nothing deleted.")
                        return
                    }
                }
                try await service.adminDelete(user.id, actor: nil, logger: logger)
                print("Deleted \(user.email).")
            }
        }
    }
}

extension Role: ExpressibleByArgument {}

/// Opens the database as the server does (one SQLite connection of its own, which waits
/// for the running server's writes), runs `body` with an `AuthService`, closes everything,
/// and turns a refusal into one line on standard error and exit code 1.
private func withUsersService(_ body: (AuthService, Logger) async throws -> Void) async throws {
    let configuration = try EnvironmentLoader.loadOrExit(requireSecrets: false)
    let logger = makeLogger(level: configuration.logLevel, format: configuration.logFormat)
    let serving = try await exitingOnDatabaseFailure(configuration) { try await configuration.openServingDatabase(logger: logger) }
    let service = await AuthService.fluent(configuration: configuration.gatehouse, provider: serving.provider)
    func close() async {
        await serving.provider.close()
        await serving.databases.shutdownAsync()
    }
    do {
        try await body(service, logger)
        await close()
    } catch let error as AppError {
        await close()
        printError("gatehouse: \(error.message)")
        throw ExitCode(1)
    } catch {
        await close()
        throw error
    }
}

/// The user with `email`, or exit 1 with `no user with email …`.
private func requireUser(_ email: String, service: AuthService, logger: Logger) async throws -> UserRecord {
    guard let user = try await service.user(email: email, logger: logger) else {
        throw AppError(.notFound, "no user with email \(email.trimmingCharacters(in: .whitespaces).lowercased())")
    }
    return user
}
