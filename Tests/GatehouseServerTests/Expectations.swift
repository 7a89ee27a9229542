import Foundation
import Gatehouse
import HTTPTypes
import HummingbirdTesting
import Testing

/// A JSON string literal.
func quoted(_ text: String) -> String {
    String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
}

/// Asserts the JSON error shape, status and message (and `WWW-Authenticate` on 401).
func expectError(
    _ response: TestResponse, _ status: HTTPResponse.Status, _ message: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(response.status == status, "body: \(response.text)", sourceLocation: sourceLocation)
    let error = response.error
    #expect(error?.status == "error", "body: \(response.text)", sourceLocation: sourceLocation)
    if let message {
        #expect(error?.message == message, sourceLocation: sourceLocation)
    }
    #expect(response.headers[.contentType]?.hasPrefix("application/json") == true, sourceLocation: sourceLocation)
    #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff", sourceLocation: sourceLocation)
    if status == .unauthorized {
        #expect(response.headers[.wwwAuthenticate] == "Bearer", sourceLocation: sourceLocation)
    }
}
