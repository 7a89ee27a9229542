import Foundation
import Gatehouse
import Logging
import Synchronization

/// How log lines are written (`LOG_FORMAT`, SPEC.md §3.8).
public enum LogFormat: String, Sendable {
    /// `timestamp level label: key=value … [source] message`, as swift-log's
    /// `StreamLogHandler` writes it.
    case text
    /// One JSON object per line, for Loki or Elasticsearch.
    case json
}

/// A console logger at the configured level and format, bootstrapped once per process.
func makeLogger(level: Logger.Level, format: LogFormat = .text) -> Logger {
    LoggingSystem.bootstrap { label in LineLogHandler(label: label, format: format, sink: .standardError) }
    var logger = Logger(label: "gatehouse")
    logger.logLevel = level
    return logger
}

/// Where log lines go: standard error, through a buffer. With a line per request, one
/// `write(2)` per line (what `StreamLogHandler` does, behind a lock, after formatting the
/// time with Foundation) cost a third of the server's throughput. Lines are appended to a
/// buffer and written when it holds 32 KiB, when a line at `warning` or above arrives (so
/// what matters is never held back), every 100 ms from a background thread, and when the
/// process exits. Written in order: the buffer is written under its lock.
final class LogSink: Sendable {
    static let standardError: LogSink = {
        let sink = LogSink(descriptor: STDERR_FILENO)
        atexit { LogSink.standardError.flush() }
        return sink
    }()

    private let descriptor: Int32
    private let buffer = Mutex<[UInt8]>([])
    static let flushSize = 32_768

    init(descriptor: Int32) {
        self.descriptor = descriptor
        let thread = Thread { [weak self] in
            while let sink = self {
                sink.flush()
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        thread.name = "gatehouse-log"
        thread.start()
    }

    func append(_ line: [UInt8], urgent: Bool) {
        buffer.withLock { buffer in
            buffer.append(contentsOf: line)
            if urgent || buffer.count >= Self.flushSize { write(&buffer) }
        }
    }

    func flush() {
        buffer.withLock { write(&$0) }
    }

    private func write(_ buffer: inout [UInt8]) {
        guard !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { break }
                offset += written
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Renders each log event as one line of `LogFormat`, by hand into bytes (no Foundation
/// formatter, no `JSONSerialization`), and hands it to a `LogSink`.
struct LineLogHandler: LogHandler {
    let label: String
    let format: LogFormat
    let sink: LogSink
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    static let reserved: Set<String> = ["time", "level", "label", "message", "source"]

    /// Hummingbird's request id (`hb.request.id`) is left out when `request_id` is there:
    /// `RequestLogMiddleware` makes them the same id, and one is enough on every line.
    static func dropDuplicateRequestID(_ metadata: inout Logger.Metadata) {
        if metadata["request_id"] != nil { metadata["hb.request.id"] = nil }
    }

    init(label: String, format: LogFormat, sink: LogSink) {
        self.label = label
        self.format = format
        self.sink = sink
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let explicit = event.metadata { merged.merge(explicit) { $1 } }
        Self.dropDuplicateRequestID(&merged)
        let keys = merged.keys.sorted()
        var line: [UInt8] = []
        line.reserveCapacity(256)
        switch format {
        case .text:
            Self.appendTimestamp(to: &line, milliseconds: false)
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: event.level.rawValue.utf8)
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: label.utf8)
            line.append(UInt8(ascii: ":"))
            for key in keys {
                line.append(UInt8(ascii: " "))
                line.append(contentsOf: key.utf8)
                line.append(UInt8(ascii: "="))
                line.append(contentsOf: Self.text(merged[key]!).utf8)
            }
            line.append(contentsOf: " [".utf8)
            line.append(contentsOf: event.source.utf8)
            line.append(contentsOf: "] ".utf8)
            line.append(contentsOf: Self.escapingControlCharacters(event.message.description).utf8)
        case .json:
            line.append(contentsOf: #"{"time":""#.utf8)
            Self.appendTimestamp(to: &line, milliseconds: true)
            line.append(contentsOf: #"","level":""#.utf8)
            line.append(contentsOf: event.level.rawValue.utf8)
            line.append(contentsOf: #"","label":"#.utf8)
            JSONText.appendString(label, to: &line)
            line.append(contentsOf: #","message":"#.utf8)
            JSONText.appendString(event.message.description, to: &line)
            line.append(contentsOf: #","source":"#.utf8)
            JSONText.appendString(event.source, to: &line)
            for key in keys {
                line.append(UInt8(ascii: ","))
                JSONText.appendString(Self.reserved.contains(key) ? "meta.\(key)" : key, to: &line)
                line.append(UInt8(ascii: ":"))
                Self.appendJSON(merged[key]!, to: &line)
            }
            line.append(UInt8(ascii: "}"))
        }
        line.append(UInt8(ascii: "\n"))
        sink.append(line, urgent: event.level >= .warning)
    }

    /// A metadata value as text; control characters (a newline in an error's message, say)
    /// are escaped, so a value can never start a line of its own.
    static func text(_ value: Logger.Metadata.Value) -> String {
        let text = switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        default: "\(value)"
        }
        return escapingControlCharacters(text)
    }

    static func escapingControlCharacters(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return text }
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: escaped += "\\u{\(String(scalar.value, radix: 16))}"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    static func appendJSON(_ value: Logger.Metadata.Value, to line: inout [UInt8]) {
        switch value {
        case .string(let text): JSONText.appendString(text, to: &line)
        case .stringConvertible(let convertible): JSONText.appendString(convertible.description, to: &line)
        case .array(let values):
            line.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { line.append(UInt8(ascii: ",")) }
                appendJSON(element, to: &line)
            }
            line.append(UInt8(ascii: "]"))
        case .dictionary(let values):
            line.append(UInt8(ascii: "{"))
            for (index, key) in values.keys.sorted().enumerated() {
                if index > 0 { line.append(UInt8(ascii: ",")) }
                JSONText.appendString(key, to: &line)
                line.append(UInt8(ascii: ":"))
                appendJSON(values[key]!, to: &line)
            }
            line.append(UInt8(ascii: "}"))
        }
    }

    /// The date and time of the last second written (`2026-11-30T22:04:36`): lines come
    /// by the thousand a second.
    private static let lastSecond = Mutex<(second: Int, text: [UInt8])>((-1, []))

    /// UTC, `2026-11-30T22:04:36+0000` (text, as `StreamLogHandler` writes it) or
    /// `2026-11-30T22:04:36.123Z` (JSON).
    static func appendTimestamp(to line: inout [UInt8], milliseconds: Bool) {
        let now = Date().timeIntervalSince1970
        let totalMilliseconds = Int((now * 1_000).rounded(.down))
        let seconds = totalMilliseconds / 1_000
        if let cached = lastSecond.withLock({ $0.second == seconds ? $0.text : nil }) {
            line.append(contentsOf: cached)
        } else {
            var text: [UInt8] = []
            appendDateTime(seconds: seconds, to: &text)
            lastSecond.withLock { $0 = (seconds, text) }
            line.append(contentsOf: text)
        }
        if milliseconds {
            let fraction = totalMilliseconds % 1_000
            line.append(UInt8(ascii: "."))
            line.append(UInt8(ascii: "0") + UInt8(fraction / 100))
            line.append(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
            line.append(UInt8(ascii: "0") + UInt8(fraction % 10))
            line.append(UInt8(ascii: "Z"))
        } else {
            line.append(contentsOf: "+0000".utf8)
        }
    }

    /// `2026-11-30T22:04:36` for a count of seconds since 1970. The civil date is computed
    /// from the day number (H. Hinnant's `civil_from_days`), with no formatter and no C
    /// time types.
    static func appendDateTime(seconds: Int, to line: inout [UInt8]) {
        let days = seconds / 86_400
        let secondOfDay = seconds % 86_400
        let shifted = days + 719_468
        let era = shifted / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            while divisor > 0 {
                line.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        digits(year, 4)
        line.append(UInt8(ascii: "-"))
        digits(month, 2)
        line.append(UInt8(ascii: "-"))
        digits(day, 2)
        line.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3_600, 2)
        line.append(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, 2)
        line.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2)
    }
}
