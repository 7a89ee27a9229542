import HTTPTypes
import Hummingbird

/// The paths and methods an application serves, so that a request for a known path
/// with the wrong method is answered 405 with `Allow`, not 404 (Hummingbird's router
/// reports both as "not found").
public struct RouteTable: Sendable {
    private var entries: [(segments: [Substring], methods: [HTTPRequest.Method])] = []

    /// An empty table.
    public init() {}

    /// Records a route. Path segments starting with `:` match any single segment.
    public mutating func add(_ method: HTTPRequest.Method, _ path: String) {
        let segments = Self.segments(path)
        if let index = entries.firstIndex(where: { $0.segments == segments }) {
            if !entries[index].methods.contains(method) { entries[index].methods.append(method) }
        } else {
            entries.append((segments, [method]))
        }
    }

    /// The methods served at `path`; empty when the path is unknown.
    public func allowedMethods(for path: String) -> [HTTPRequest.Method] {
        let request = Self.segments(path)
        for entry in entries where entry.segments.count == request.count {
            let matches = zip(entry.segments, request).allSatisfy { pattern, segment in
                pattern.first == ":" || pattern == segment
            }
            if matches { return entry.methods }
        }
        return []
    }

    private static func segments(_ path: String) -> [Substring] {
        path.split(separator: "?", maxSplits: 1).first.map { $0.split(separator: "/") } ?? []
    }
}
