import Gatehouse
import Logging

/// The request line of `RequestLogMiddleware`, written straight from its fields: the
/// same line `log(event:)` writes for the message `request` with `RequestLogLine.metadata`,
/// without building, merging and sorting a `Logger.Metadata` per request. Written for
/// speed (it runs once a request): fields go straight into the byte buffer, in key order,
/// with the logger's own metadata (the request id) merged in where it sorts.
extension LineLogHandler: RequestLogLineWriter {
    /// Writes with this handler's label, format and sink, and the metadata of `logger`'s
    /// handler (the request's: its request id).
    func write(_ request: RequestLogLine, logger: Logger, source: String) {
        var inherited = logger.handler.metadata
        if let provided = logger.handler.metadataProvider?.get() { inherited.merge(provided) { $1 } }
        // The logger's metadata in key order, without the keys the line sets (the line
        // wins a clash, as in a merge) and without Hummingbird's copy of the request id
        // (see `dropDuplicateRequestID`).
        let hasRequestID = inherited["request_id"] != nil
        func setByLine(_ key: String) -> Bool {
            switch key {
            case "client_ip": request.clientIP != nil
            case "user_id": request.userID != nil
            case "hb.request.id": hasRequestID
            default: Self.requestLineKeys.contains(key)
            }
        }
        var extras: [(key: String, value: Logger.Metadata.Value)] = []
        extras.reserveCapacity(inherited.count)
        for entry in inherited where !setByLine(entry.key) { extras.append(entry) }
        if extras.count > 1 { extras.sort { $0.key < $1.key } }

        var line: [UInt8] = []
        line.reserveCapacity(320)
        let json = format == .json
        if json {
            line.append(contentsOf: #"{"time":""#.utf8)
            Self.appendTimestamp(to: &line, milliseconds: true)
            line.append(contentsOf: #"","level":"info","label":"#.utf8)
            JSONText.appendString(label, to: &line)
            line.append(contentsOf: #","message":"request","source":"#.utf8)
            JSONText.appendString(source, to: &line)
        } else {
            Self.appendTimestamp(to: &line, milliseconds: false)
            line.append(contentsOf: " info ".utf8)
            line.append(contentsOf: label.utf8)
            line.append(UInt8(ascii: ":"))
        }
        var next = 0
        /// Writes the logger's entries that sort before `key` (all that are left for nil).
        func extrasBefore(_ key: String?) {
            while next < extras.count, key.map({ extras[next].key < $0 }) ?? true {
                let (name, value) = extras[next]
                if json {
                    line.append(UInt8(ascii: ","))
                    JSONText.appendString(Self.reserved.contains(name) ? "meta.\(name)" : name, to: &line)
                    line.append(UInt8(ascii: ":"))
                    Self.appendJSON(value, to: &line)
                } else {
                    line.append(UInt8(ascii: " "))
                    line.append(contentsOf: name.utf8)
                    line.append(UInt8(ascii: "="))
                    if case .string(let text) = value {
                        Self.appendEscaped(text, json: false, to: &line)
                    } else {
                        line.append(contentsOf: Self.text(value).utf8)
                    }
                }
                next += 1
            }
        }
        /// Writes one of the line's fields: `key` is plain ASCII, `value` any text.
        func field(_ key: String, _ write: (inout [UInt8]) -> Void) {
            extrasBefore(key)
            if json {
                line.append(contentsOf: #",""#.utf8)
                line.append(contentsOf: key.utf8)
                line.append(contentsOf: #"":""#.utf8)
                write(&line)
                line.append(UInt8(ascii: "\""))
            } else {
                line.append(UInt8(ascii: " "))
                line.append(contentsOf: key.utf8)
                line.append(UInt8(ascii: "="))
                write(&line)
            }
        }
        func text(_ value: String) -> (inout [UInt8]) -> Void {
            { line in Self.appendEscaped(value, json: json, to: &line) }
        }
        if let ip = request.clientIP { field("client_ip", text(ip)) }
        field("duration_ms") { line in
            Self.appendDecimal(request.durationMicroseconds / 1_000, to: &line)
            line.append(UInt8(ascii: "."))
            let fraction = request.durationMicroseconds % 1_000
            line.append(UInt8(ascii: "0") + UInt8(fraction / 100))
            line.append(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
            line.append(UInt8(ascii: "0") + UInt8(fraction % 10))
        }
        field("method", text(request.method))
        field("path", text(request.path))
        field("route", text(request.route))
        field("status") { line in Self.appendDecimal(request.status, to: &line) }
        if let user = request.userID { field("user_id", text(user)) }
        extrasBefore(nil)
        if json {
            line.append(UInt8(ascii: "}"))
        } else {
            line.append(contentsOf: " [".utf8)
            line.append(contentsOf: source.utf8)
            line.append(contentsOf: "] request".utf8)
        }
        line.append(UInt8(ascii: "\n"))
        sink.append(line, urgent: false)
    }

    /// The fields every request line sets.
    static let requestLineKeys: Set<String> = ["duration_ms", "method", "path", "route", "status"]

    /// `value` as the text format writes it (control characters escaped), or as the body
    /// of a JSON string (without its quotes). The bytes are copied first and checked in
    /// place, the common case (nothing to escape) being one pass.
    static func appendEscaped(_ value: String, json: Bool, to line: inout [UInt8]) {
        let start = line.count
        line.append(contentsOf: value.utf8)
        let plain = line.withUnsafeBufferPointer { bytes in
            for byte in bytes[start...] where byte < 0x20 || byte == 0x7F || (json && (byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\"))) {
                return false
            }
            return true
        }
        guard !plain else { return }
        line.removeSubrange(start...)
        if json {
            var quoted: [UInt8] = []
            JSONText.appendString(value, to: &quoted)
            line.append(contentsOf: quoted.dropFirst().dropLast())
        } else {
            line.append(contentsOf: escapingControlCharacters(value).utf8)
        }
    }

    /// A non-negative integer in decimal.
    static func appendDecimal(_ value: Int, to line: inout [UInt8]) {
        guard value >= 10 else {
            line.append(UInt8(ascii: "0") + UInt8(max(value, 0)))
            return
        }
        appendDecimal(value / 10, to: &line)
        line.append(UInt8(ascii: "0") + UInt8(value % 10))
    }
}
