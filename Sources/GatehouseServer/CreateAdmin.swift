import ArgumentParser
import FluentKit
import Foundation
import Gatehouse
import GatehouseFluent
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `gatehouse create-admin --email E --name N`: creates an administrator. The password
/// is read from standard input (without echo on a terminal) and validated like a
/// registration; it never appears on the command line, where `ps` would show it.
struct CreateAdmin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create-admin",
        abstract: "Create an admin user; the password is read from standard input."
    )

    @Option(help: "The admin's email address.") var email: String
    @Option(help: "The admin's name.") var name: String

    func run() async throws {
        let configuration = try EnvironmentLoader.loadOrExit(requireSecrets: false)
        let logger = makeLogger(level: configuration.logLevel, format: configuration.logFormat)
        guard let password = Self.readPassword() else {
            printError("gatehouse: no password on standard input")
            throw ExitCode(1)
        }
        let registration: Registration
        do {
            registration = try Registration.validate(name: name, email: email, password: password)
        } catch {
            for field in error.errors { printError("gatehouse: \(field.field) \(field.message)") }
            throw ExitCode(1)
        }

        let databases = try await exitingOnDatabaseFailure(configuration) { try await configuration.openDatabase(logger: logger) }
        do {
            let service = await AuthService.fluent(configuration: configuration.gatehouse, databases: databases)
            let user = try await service.createUser(registration, role: .admin, logger: logger)
            await databases.shutdownAsync()
            print("Created admin \(user.email) (\(user.id.uuidString.lowercased())).")
        } catch let error as AppError {
            await databases.shutdownAsync()
            printError("gatehouse: \(error.message)")
            throw ExitCode(1)
        } catch {
            await databases.shutdownAsync()
            throw error
        }
    }

    /// One line from standard input; on a terminal, prompted for without echo.
    static func readPassword() -> String? {
        if isatty(STDIN_FILENO) == 1, let pointer = getpass("Password: ") {
            return String(cString: pointer)
        }
        return readLine(strippingNewline: true)
    }
}
