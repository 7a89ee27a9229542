import Foundation
import HTTPTypes
import Hummingbird

extension Response {
    /// A JSON response. Encoding our own `Encodable` DTOs cannot fail in practice; if it
    /// ever did, the error middleware turns it into a generic 500.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        let encoder = JSONEncoder()
        // Stable output: Foundation on Linux otherwise orders keys differently on every run.
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(value)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension Response {
    /// A JSON response from bytes already encoded.
    package static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

extension HTTPFields {
    /// `Cache-Control: no-store`, for every response that carries a token or claims.
    static var noStore: HTTPFields { [.cacheControl: "no-store"] }
}
