import Foundation
import Hummingbird
import NIOCore

/// Reads a request body as a JSON object, with the limits and messages of SPEC.md §4.
enum JSONBody {
    /// Bodies over 64 KiB are 413.
    static let maximumBytes = 64 * 1024

    /// Collects at most 64 KiB and parses a JSON object with `JSONParser`.
    ///
    /// Malformed JSON by RFC 8259 (a trailing comma, a comment, invalid UTF-8, an empty
    /// body, an object that repeats a key, nesting past 32 levels, …) is 400 `Invalid
    /// JSON body`; valid JSON that is not an object is 400 too. Valid JSON sent without a
    /// JSON content type is 415: requiring `application/json` forces a CORS preflight, so
    /// another site cannot post a form or `text/plain` body at the login endpoint.
    static func object(from request: Request) async throws -> JSONObject {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maximumBytes {
            throw AppError.bodyTooLarge
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maximumBytes)
        } catch is NIOTooManyBytesError {
            throw AppError.bodyTooLarge
        }
        let parsed = buffer.readableBytesView.withContiguousStorageIfAvailable { JSONParser.parse($0) }
            ?? JSONParser.parse(Array(buffer.readableBytesView))
        guard let value = parsed else { throw AppError.invalidJSON }
        guard isJSONContentType(request.headers[.contentType]) else {
            throw AppError(.unsupportedMediaType, "Content-Type must be application/json")
        }
        guard case .object(let object) = value else {
            throw AppError(.badRequest, "Request body must be a JSON object")
        }
        return object
    }

    /// `application/json` or any `application/*+json`, with optional parameters.
    static func isJSONContentType(_ value: String?) -> Bool {
        guard let value else { return false }
        let mediaType = value.split(separator: ";", maxSplits: 1).first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        } ?? ""
        return mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
    }
}

extension JSONObject {
    /// Reads the named string fields and refuses any other field, collecting an error per
    /// field: `is required`, `must be a string`, `is not allowed`.
    func strings(_ fields: [String]) throws(AppError) -> [String: String] {
        var values: [String: String] = [:]
        var errors: [FieldError] = []
        for field in fields {
            switch self[field] {
            case .none: errors.append(FieldError(field: field, message: "is required"))
            case .string(let value): values[field] = value
            default: errors.append(FieldError(field: field, message: "must be a string"))
            }
        }
        for unknown in keys where !fields.contains(unknown) {
            errors.append(FieldError(field: unknown, message: "is not allowed"))
        }
        guard errors.isEmpty else { throw AppError.validation(errors) }
        return values
    }
}
