import Foundation
import HTTPTypes
import Testing

@testable import GatehouseServer

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `gatehouse` executable built next to this test bundle.
enum GatehouseBinary {
    static var url: URL {
        #if os(Linux)
        let bundle = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        #else
        let bundle = Bundle.main.bundleURL
        #endif
        var directory = bundle.deletingLastPathComponent()
        // On macOS the runner lives inside the .xctest bundle.
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("gatehouse").path),
              directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("gatehouse")
    }
}

struct ProcessResult: Sendable {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs `gatehouse` with a clean environment in a fresh working directory.
func runGatehouse(
    _ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
    directory: URL? = nil
) throws -> ProcessResult {
    let process = Process()
    process.executableURL = GatehouseBinary.url
    process.arguments = arguments
    process.environment = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()].merging(environment) { $1 }
    let workingDirectory = directory ?? makeTemporaryDirectory()
    process.currentDirectoryURL = workingDirectory
    let output = Pipe(), errors = Pipe(), input = Pipe()
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    let err = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    if directory == nil { try? FileManager.default.removeItem(at: workingDirectory) }
    return ProcessResult(
        status: process.terminationStatus,
        stdout: String(decoding: out, as: UTF8.self),
        stderr: String(decoding: err, as: UTF8.self)
    )
}

func makeTemporaryDirectory() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-cli-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A port nothing listens on right now.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    try #require(bound)
    return Int(UInt16(bigEndian: address.sin_port))
}

/// One plain HTTP/1.1 request over a socket; returns the raw response, or nil when
/// nothing listens yet. `afterSending` runs once the request is sent, before the answer
/// is read.
func rawHTTP(port: Int, request: String, afterSending: (() -> Void)? = nil) -> String? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
    guard connected else { return nil }
    // A server that hangs fails the test rather than the whole run.
    var timeout = timeval(tv_sec: 30, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let bytes = Array(request.utf8)
    guard send(fd, bytes, bytes.count, 0) == bytes.count else { return nil }
    afterSending?()
    var response = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = recv(fd, &buffer, buffer.count, 0)
        if count <= 0 { break }
        response.append(contentsOf: buffer[0..<count])
    }
    return String(decoding: response, as: UTF8.self)
}

/// A parsed HTTP/1.1 answer from `exchange`.
struct HTTPAnswer: Sendable {
    let status: Int
    let headers: [String: String]
    let body: String

    /// The `refreshToken` cookie it sets, if any.
    var refreshCookie: String? {
        guard let header = headers["set-cookie"], header.hasPrefix("refreshToken=") else { return nil }
        return String(header.dropFirst("refreshToken=".count).prefix { $0 != ";" })
    }

    /// A string field of a JSON object body.
    func string(_ key: String) -> String? {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?[key] as? String
    }
}

/// One request to a server on 127.0.0.1 (header names lower-cased in the answer);
/// nil when nothing listens.
func exchange(
    port: Int, _ method: String, _ path: String, headers: [String: String] = [:], json: String? = nil,
    afterSending: (() -> Void)? = nil
) -> HTTPAnswer? {
    var lines = ["\(method) \(path) HTTP/1.1", "Host: 127.0.0.1:\(port)", "Connection: close"]
    for (name, value) in headers { lines.append("\(name): \(value)") }
    if let json {
        lines.append("Content-Type: application/json")
        lines.append("Content-Length: \(json.utf8.count)")
    } else if method == "POST" {
        lines.append("Content-Length: 0")
    }
    guard let raw = rawHTTP(port: port, request: lines.joined(separator: "\r\n") + "\r\n\r\n" + (json ?? ""), afterSending: afterSending),
          let split = raw.range(of: "\r\n\r\n")
    else { return nil }
    let head = raw[..<split.lowerBound].components(separatedBy: "\r\n")
    guard let statusLine = head.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else { return nil }
    var fields: [String: String] = [:]
    for line in head.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return HTTPAnswer(status: status, headers: fields, body: String(raw[split.upperBound...]))
}

/// A `gatehouse serve` process on a port of its own, stopped with SIGTERM.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    let directory = makeTemporaryDirectory()
    let log: URL

    /// Starts the server and waits until `/health` answers (at most 60 s): `gatehouse
    /// serve` by default, or another program of the build (`executable`, such as
    /// `DownstreamExample`), on `port` when given (to restart a server where its clients
    /// expect it).
    init(environment: [String: String], port: Int? = nil, executable: String? = nil) throws {
        self.port = try port ?? freePort()
        log = directory.appendingPathComponent("server.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        if let executable {
            process.executableURL = GatehouseBinary.url.deletingLastPathComponent().appendingPathComponent(executable)
        } else {
            process.executableURL = GatehouseBinary.url
            process.arguments = ["serve"]
        }
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "PORT": String(self.port)].merging(environment) { $1 }
        process.currentDirectoryURL = directory
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while exchange(port: self.port, "GET", "/health")?.status != 200 {
            guard process.isRunning, Date() < deadline else {
                stop()
                throw ServerProcessError(log: (try? String(contentsOf: log, encoding: .utf8)) ?? "")
            }
            usleep(50_000)
        }
    }

    /// What the process has logged so far.
    var logText: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Sends SIGTERM and waits (at most `timeout` seconds) for the process to end; its
    /// exit status, or `nil` if it was still running (then it is killed).
    func terminate(timeout: TimeInterval = 30) -> Int32? {
        process.terminate()
        return waitForExit(timeout: timeout)
    }

    /// Waits (at most `timeout` seconds) for the process to end; its exit status, or
    /// `nil` if it was still running (then it is killed).
    func waitForExit(timeout: TimeInterval = 30) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            return nil
        }
        return process.terminationStatus
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        try? FileManager.default.removeItem(at: directory)
    }
}

struct ServerProcessError: Error, CustomStringConvertible {
    let log: String
    var description: String { "gatehouse serve did not come up:\n\(log)" }
}

/// Runs `body` with a `gatehouse serve` on a fresh database (SQLite file or PostgreSQL
/// schema, as the suite runs), random secrets, cost 4 and no rate limits, plus
/// `overrides`; stops it and removes the database after.
func withFreshServer<T>(_ overrides: [String: String] = [:], _ body: (ServerProcess) throws -> T) throws -> T {
    let database = TemporaryDatabase()
    defer { database.remove() }
    let environment = FleetTests.environment(database, access: SecretGenerator.hex(bytes: 32), refresh: SecretGenerator.hex(bytes: 32))
        .merging(overrides) { $1 }
    let server = try ServerProcess(environment: environment)
    defer { server.stop() }
    return try body(server)
}
