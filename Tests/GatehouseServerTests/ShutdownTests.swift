import Foundation
@testable import Gatehouse
import Logging
import Synchronization
import Testing

@testable import GatehouseServer

/// SIGTERM drains (SPEC.md §3.8), and `LOG_FORMAT=json` writes one JSON object a line.
@Suite struct ShutdownTests {
    /// A login at cost 13 is in flight when SIGTERM arrives: it is answered
    /// 200, and the process exits 0.
    @Test func sigtermLetsAnInFlightLoginFinish() async throws {
        try await blocking {
            try withFreshServer(["BCRYPT_COST": "13"]) { server in
                let registered = try #require(exchange(port: server.port, "POST", "/api/v1/auth/register", json: FleetTests.alice))
                try #require(registered.status == 201)

                // The request is sent; 0.2 s later, while its hash (cost 13: about 0.6 s)
                // runs, SIGTERM; then the answer is read.
                let sent = Date()
                var refusedWhileDraining = false
                let login = exchange(
                    port: server.port, "POST", "/api/v1/auth/login", json: #"{"email":"alice@example.com","password":"secret123"}"#,
                    afterSending: {
                        usleep(200_000)
                        kill(server.process.processIdentifier, SIGTERM)
                        // No new connection is taken while the login drains: refused while
                        // the process still runs (not merely because it has gone).
                        for _ in 0..<40 where !refusedWhileDraining {
                            if exchange(port: server.port, "GET", "/health") == nil, server.process.isRunning {
                                refusedWhileDraining = true
                            } else {
                                usleep(25_000)
                            }
                        }
                    }
                )
                let status = server.waitForExit()
                #expect(login?.status == 200, "\(login?.body ?? "no answer")\n\(server.logText)")
                #expect(refusedWhileDraining, "a new connection was served after SIGTERM")
                #expect(status == 0, "\(server.logText)")
                #expect(Date().timeIntervalSince(sent) > 0.2)
                // The request's line comes before the server's last words.
                let log = server.logText
                let loginLine = try #require(log.range(of: "path=/api/v1/auth/login"))
                let stopped = try #require(log.range(of: "Stopped"))
                #expect(loginLine.lowerBound < stopped.lowerBound)
                #expect(server.logText.contains("Stopped"))
            }
        }
    }

    /// A request still running at `SHUTDOWN_TIMEOUT` is cut off, and the process still
    /// exits 0, soon after the timeout.
    @Test func requestsStillRunningAtTheTimeoutAreCutOff() async throws {
        try await blocking {
            // Cost 18: seconds per hash, far longer than the timeout.
            try withFreshServer(["BCRYPT_COST": "18", "SHUTDOWN_TIMEOUT": "1s"]) { server in
                var signalled = Date()
                let register = exchange(
                    port: server.port, "POST", "/api/v1/auth/register", json: FleetTests.alice,
                    afterSending: {
                        usleep(200_000)
                        signalled = Date()
                        kill(server.process.processIdentifier, SIGTERM)
                    }
                )
                let status = server.waitForExit()
                #expect(register == nil, "\(register?.body ?? "")")
                #expect(status == 0, "\(server.logText)")
                let took = Date().timeIntervalSince(signalled)
                #expect(took > 0.9 && took < 10, "\(took) s")
                #expect(server.logText.contains("Shutdown timeout reached"))
            }
        }
    }

    @Test func jsonLogsAreOneObjectPerLine() async throws {
        try await blocking {
            try withFreshServer(["LOG_FORMAT": "json"]) { server in
                let health = try #require(exchange(port: server.port, "GET", "/health?probe=1", headers: ["X-Request-Id": "probe-1"]))
                #expect(health.headers["x-request-id"] == "probe-1")
                #expect(server.terminate() == 0)
                let lines = server.logText.split(separator: "\n")
                #expect(lines.count >= 3)
                var objects: [[String: Any]] = []
                for line in lines {
                    let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
                    #expect(object["time"] is String && object["level"] is String && object["message"] is String)
                    objects.append(object)
                }
                let request = try #require(objects.first { $0["message"] as? String == "request" && $0["request_id"] as? String == "probe-1" })
                #expect(request["request_id"] as? String == "probe-1")
                #expect(request["path"] as? String == "/health")
                #expect(request["route"] as? String == "/health")
                #expect(request["status"] as? String == "200")
                #expect(request["level"] as? String == "info")
                #expect(!server.logText.contains("probe=1"))
            }
        }
    }
}

/// The text log format cannot be made to write a second line.
@Suite struct LogLineTests {
    @Test func controlCharactersInTextLinesAreEscaped() {
        #expect(LineLogHandler.escapingControlCharacters("plain") == "plain")
        #expect(LineLogHandler.escapingControlCharacters("a\nb\rc\td\u{1}e\u{7F}") == #"a\nb\rc\td\u{1}e\u{7f}"#)
        #expect(LineLogHandler.text(.string("x\ninfo forged: line")) == #"x\ninfo forged: line"#)
    }
}

/// Log timestamps: the civil date from the day number, UTC.
@Suite struct LogTimestampTests {
    @Test(arguments: [
        (0, "1970-01-01T00:00:00"), (1_796_076_276, "2026-11-30T22:04:36"), (1_709_208_000, "2024-02-29T12:00:00"),
        (951_868_800, "2000-03-01T00:00:00"), (946_684_799, "1999-12-31T23:59:59"),
    ])
    func civilDateAndTime(seconds: Int, text: String) {
        var line: [UInt8] = []
        LineLogHandler.appendDateTime(seconds: seconds, to: &line)
        #expect(String(decoding: line, as: UTF8.self) == text)
    }

    @Test func timestampsHaveTheirFormats() throws {
        var text: [UInt8] = []
        LineLogHandler.appendTimestamp(to: &text, milliseconds: false)
        #expect(try Regex(#"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0000$"#).wholeMatch(in: String(decoding: text, as: UTF8.self)) != nil)
        var json: [UInt8] = []
        LineLogHandler.appendTimestamp(to: &json, milliseconds: true)
        #expect(try Regex(#"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#).wholeMatch(in: String(decoding: json, as: UTF8.self)) != nil)
    }
}

/// The request line written straight from its fields is the line the handler writes for
/// the message `request` with the same metadata, in both formats.
@Suite struct RequestLineRenderingTests {
    @Test(arguments: [LogFormat.text, LogFormat.json], [true, false])
    func theDirectLineIsTheLoggedLine(format: LogFormat, known: Bool) throws {
        var descriptors: [Int32] = [0, 0]
        try #require(pipe(&descriptors) == 0)
        defer { close(descriptors[0]) }
        let sink = LogSink(descriptor: descriptors[1])
        var handler = LineLogHandler(label: "gatehouse", format: format, sink: sink)
        // The logger's own metadata sorts before, between and after the line's fields; a
        // clash ("path") is won by the line, as in a metadata merge.
        handler.metadata = [
            "request_id": "abc", "hb.request.id": "abc", "zeta": "z\nforged", "path": "/old", "a": "first",
            "client_ip": "198.51.100.7",
        ]
        let line = RequestLogLine(
            // A path with a quote, a backslash and a control character: escaped alike.
            method: "POST", path: known ? "/api/v1/auth/login\"\\\u{1}é" : "/api/v1/auth/login", route: "/api/v1/auth/login",
            status: 401, durationMicroseconds: known ? 1_042 : 27_000_005,
            clientIP: known ? "192.0.2.1" : nil, userID: known ? "5b1e6d0c-3f43-4c0e-9c8c-0d8d3c1e9a11" : nil
        )
        let logger = Logger(label: "gatehouse") { _ in handler }
        handler.write(line, logger: logger, source: "Gatehouse")
        logger.info("request", metadata: line.metadata, source: "Gatehouse")
        sink.flush()
        close(descriptors[1])
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while case let count = read(descriptors[0], &chunk, chunk.count), count > 0 { bytes += chunk[..<count] }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
        try #require(lines.count == 2, "\(lines)")
        // Apart from the time, the two lines are the same.
        func timeless(_ line: String) -> String {
            switch format {
            case .text: String(line.drop { $0 != " " })
            case .json: line.replacing(/"time":"[^"]*"/, with: "")
            }
        }
        #expect(timeless(lines[0]) == timeless(lines[1]))
        #expect(lines[0].contains(known ? "1.042" : "27000.005"))
        #expect(lines[0].contains("/api/v1/auth/login") && !lines[0].contains("/old"))
        #expect(lines[0].contains("192.0.2.1") == known)
        // The logger's own client_ip shows only when the line has none; Hummingbird's copy
        // of the request id never.
        #expect(lines[0].contains("198.51.100.7") == !known)
        #expect(!lines[0].contains("hb.request.id"))
    }
}
