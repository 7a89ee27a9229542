import Foundation
import Gatehouse
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
                let login = exchange(
                    port: server.port, "POST", "/api/v1/auth/login", json: #"{"email":"alice@example.com","password":"secret123"}"#,
                    afterSending: {
                        usleep(200_000)
                        kill(server.process.processIdentifier, SIGTERM)
                    }
                )
                let status = server.waitForExit()
                #expect(login?.status == 200, "\(login?.body ?? "no answer")\n\(server.logText)")
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
