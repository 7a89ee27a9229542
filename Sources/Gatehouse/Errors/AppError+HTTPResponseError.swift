import HTTPTypes
import Hummingbird
import NIOCore

/// An `AppError` renders itself, so an application that mounts Gatehouse's routes or
/// middleware without `GatehouseErrorMiddleware` still answers in Gatehouse's shape:
/// `{"status":"error","message":…,"errors":[…]}` with the error's headers,
/// `WWW-Authenticate: Bearer` on a 401 and `X-Content-Type-Options: nosniff`.
extension AppError: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response
    }

    /// The error as a response.
    public var response: Response {
        var headers = self.headers
        if status == .unauthorized {
            headers[.wwwAuthenticate] = "Bearer"
        }
        headers[.xContentTypeOptions] = "nosniff"
        return .json(bytes: ErrorResponse(message: message, errors: errors).json, status: status, headers: headers)
    }
}

extension ErrorResponse {
    /// The body as JSON text, written directly (no encoder that could fail): keys in
    /// the order `errors`, `message`, `status`, as a sorted-keys encoder would write them.
    var json: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        out.append(UInt8(ascii: "{"))
        if let errors {
            out.append(contentsOf: Array(#""errors":["#.utf8))
            for (index, error) in errors.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: Array(#"{"field":"#.utf8))
                JSONText.appendString(error.field, to: &out)
                out.append(contentsOf: Array(#","message":"#.utf8))
                JSONText.appendString(error.message, to: &out)
                out.append(UInt8(ascii: "}"))
            }
            out.append(contentsOf: Array("],".utf8))
        }
        out.append(contentsOf: Array(#""message":"#.utf8))
        JSONText.appendString(message, to: &out)
        out.append(contentsOf: Array(#","status":"#.utf8))
        JSONText.appendString(status, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }
}
