import Foundation
import Logging
import Synchronization

/// How log lines are written (`LOG_FORMAT`, SPEC.md §3.8).
public enum LogFormat: String, Sendable {
    /// swift-log's `StreamLogHandler`: `timestamp level label: key=value [source] message`.
    case text
    /// One JSON object per line, for Loki or Elasticsearch.
    case json
}

/// A console logger at the configured level and format, bootstrapped once per process.
func makeLogger(level: Logger.Level, format: LogFormat = .text) -> Logger {
    switch format {
    case .text: LoggingSystem.bootstrap(StreamLogHandler.standardError)
    case .json: LoggingSystem.bootstrap { label in JSONLogHandler(label: label) }
    }
    var logger = Logger(label: "gatehouse")
    logger.logLevel = level
    return logger
}

/// One JSON object per line on standard error:
/// `{"time":"2026-11-30T22:14:05.123Z","level":"info","label":"gatehouse","message":"request","source":"Gatehouse",…}`,
/// with the metadata's keys beside those (a key that would collide gets a `meta.` prefix).
/// swift-log ships no JSON handler; this one writes each line with one `write(2)`, so
/// lines of different threads never interleave.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    static let reserved: Set<String> = ["time", "level", "label", "message", "source"]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let explicit = event.metadata { merged.merge(explicit) { $1 } }
        var object: [String: Any] = [
            "time": Self.timestamp(), "level": event.level.rawValue, "label": label,
            "message": event.message.description, "source": event.source,
        ]
        for (key, value) in merged {
            object[Self.reserved.contains(key) ? "meta.\(key)" : key] = Self.json(value)
        }
        guard var line = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return
        }
        line.append(UInt8(ascii: "\n"))
        line.withUnsafeBytes { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(json)
        case .dictionary(let values): values.mapValues(json)
        }
    }

    static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
