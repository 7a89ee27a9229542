import Gatehouse

/// The `components` of the OpenAPI document: schemas of every body, the shared error
/// responses, the headers and the two security schemes (Bearer access token, refresh
/// cookie).
enum OpenAPIComponents {
    private typealias D = OpenAPIDocument

    static var all: String {
        D.object([
            ("schemas", D.object(schemas)),
            ("responses", D.object(responses)),
            ("headers", D.object(headers)),
            ("parameters", D.object(parameters)),
            ("securitySchemes", D.object(securitySchemes)),
        ])
    }

    // MARK: schemas

    static func string(_ extra: [(String, String)] = []) -> String {
        D.object([("type", D.quoted("string"))] + extra)
    }

    static func nullableString(_ extra: [(String, String)] = []) -> String {
        D.object([("type", D.array([D.quoted("string"), D.quoted("null")]))] + extra)
    }

    static let integer = D.object([("type", D.quoted("integer"))])
    static let time = string([("format", D.quoted("date-time"))])
    static let uuid = string([("format", D.quoted("uuid"))])
    static let role = D.object([("type", D.quoted("string")), ("enum", D.array(Role.allCases.map { D.quoted($0.rawValue) }))])

    /// A closed object: every property listed, `required` ones always present, nothing else.
    static func closed(_ properties: [(String, String)], required: [String]? = nil) -> String {
        D.object([
            ("type", D.quoted("object")),
            ("properties", D.object(properties)),
            ("required", D.array((required ?? properties.map(\.0)).map(D.quoted))),
            ("additionalProperties", "false"),
        ])
    }

    static func arrayOf(_ items: String) -> String {
        D.object([("type", D.quoted("array")), ("items", items)])
    }

    static func schema(_ name: String) -> String { D.ref("schemas", name) }

    static var schemas: [(String, String)] {
        [
            ("Error", closed([
                ("status", D.object([("const", D.quoted("error"))])),
                ("message", string()),
                ("errors", arrayOf(schema("FieldError"))),
            ], required: ["status", "message"])),
            ("FieldError", closed([("field", string()), ("message", string())])),
            ("Health", closed([("status", D.object([("const", D.quoted("ok"))]))])),
            ("RegisterRequest", closed([
                ("name", string([
                    ("minLength", "2"), ("maxLength", "100"),
                    ("description", D.quoted("2–100 Unicode scalars after trimming, at most 400 UTF-8 bytes, no control, format or bidirectional-override characters")),
                ])),
                ("email", string([("format", D.quoted("email")), ("maxLength", "254")])),
                ("password", string([("minLength", "8"), ("maxLength", "72"), ("description", D.quoted("8–72 bytes in UTF-8"))])),
            ])),
            ("LoginRequest", closed([("email", string()), ("password", string())])),
            ("PasswordChangeRequest", closed([
                ("currentPassword", string()),
                ("newPassword", string([("minLength", "8"), ("maxLength", "72"), ("description", D.quoted("8–72 bytes in UTF-8, not the current password"))])),
            ])),
            ("RoleChangeRequest", closed([("role", role)])),
            ("User", closed([("id", uuid), ("name", string()), ("email", string()), ("role", role)])),
            ("AuthResponse", closed([("accessToken", string()), ("user", schema("User"))])),
            ("AccessTokenResponse", closed([("accessToken", string())])),
            ("Claims", closed([
                ("sub", uuid), ("role", role), ("version", integer), ("sid", uuid),
                ("iat", integer), ("exp", integer), ("nbf", integer), ("iss", string()), ("aud", string()),
            ], required: ["sub", "role", "version", "sid", "iat", "exp", "iss"])),
            ("Session", closed([
                ("id", uuid), ("createdAt", time), ("lastUsedAt", time), ("expiresAt", time),
                ("userAgent", nullableString()), ("ip", nullableString()), ("current", D.object([("type", D.quoted("boolean"))])),
            ])),
            ("Sessions", closed([("sessions", arrayOf(schema("Session")))])),
            ("AdminUser", closed([
                ("id", uuid), ("name", string()), ("email", string()), ("role", role), ("createdAt", time), ("updatedAt", time),
                ("lastLoginAt", nullableString([("format", D.quoted("date-time"))])),
                ("activeSessions", D.object([("type", D.quoted("integer")), ("minimum", "0")])),
            ])),
            ("AdminUsers", closed([("users", arrayOf(schema("AdminUser"))), ("nextCursor", nullableString())])),
            ("AuditEvent", closed([
                ("id", uuid), ("at", time),
                ("event", D.object([("type", D.quoted("string")), ("enum", D.array(AuditEvent.Kind.allCases.map { D.quoted($0.rawValue) }))])),
                ("actorId", nullableString([("format", D.quoted("uuid"))])), ("userId", nullableString([("format", D.quoted("uuid"))])),
                ("sessionId", nullableString([("format", D.quoted("uuid"))])), ("ip", nullableString()),
                ("userAgent", nullableString()), ("email", nullableString()),
            ])),
            ("AuditEvents", closed([("events", arrayOf(schema("AuditEvent"))), ("nextCursor", nullableString())])),
            ("JWKS", closed([("keys", arrayOf(D.object([
                ("type", D.quoted("object")),
                ("properties", D.object([
                    ("kty", string([("enum", D.array(["OKP", "EC", "RSA"].map(D.quoted)))])), ("kid", string()),
                    ("alg", string([("enum", D.array(["EdDSA", "ES256", "RS256"].map(D.quoted)))])),
                    ("use", D.object([("const", D.quoted("sig"))])),
                    ("crv", string()), ("x", string()), ("y", string()), ("n", string()), ("e", string()),
                ])),
                ("required", D.array(["kty", "kid", "alg", "use"].map(D.quoted))),
                ("additionalProperties", "false"),
            ])))])),
            ("OpenAPI", D.object([
                ("type", D.quoted("object")), ("required", D.array(["openapi", "info", "paths"].map(D.quoted))),
            ])),
        ]
    }

    // MARK: responses

    /// An error response of the given meaning, with extra headers.
    static func error(_ description: String, headers: [(String, String)] = []) -> String {
        D.response(description, schema: schema("Error"), headers: headers)
    }

    static var responses: [(String, String)] {
        [
            ("BadRequest", error("Invalid input: malformed JSON, a body that is not an object, a missing, mistyped or unknown field, or a value out of its rules; `errors` names each field")),
            ("Unauthorized", error(
                "Authentication required, Access token expired, Invalid access token or Access token revoked",
                headers: [("WWW-Authenticate", D.ref("headers", "WWWAuthenticate"))]
            )),
            ("Forbidden", error("Forbidden: the caller is not an admin")),
            ("EmailTaken", error("Email already registered (in any letter case)")),
            ("UserNotFound", error("User not found (also for ids that are not UUIDs)")),
            ("LastAdmin", error("Cannot remove the last admin")),
            ("PayloadTooLarge", error("Request body too large (over 64 KiB)")),
            ("UnsupportedMediaType", error("Content-Type must be application/json")),
            ("TooManyRequests", error("Too many requests", headers: [("Retry-After", D.ref("headers", "RetryAfter"))])),
            ("Unavailable", error(
                "Service unavailable (the database did not answer in time) or Service busy (too many password hashes waiting)",
                headers: [("Retry-After", D.ref("headers", "RetryAfterOptional"))]
            )),
        ]
    }

    // MARK: headers and parameters

    static var headers: [(String, String)] {
        let seconds = D.object([("type", D.quoted("integer")), ("minimum", "1")])
        return [
            ("RequestId", D.object([
                ("description", D.quoted("The request's X-Request-Id when it was 1–128 characters of [A-Za-z0-9._-], generated otherwise; in every log line of the request")),
                ("required", "true"),
                ("schema", string([("pattern", D.quoted("^[A-Za-z0-9._-]{1,128}$"))])),
            ])),
            ("ContentTypeOptions", D.object([("required", "true"), ("schema", D.object([("const", D.quoted("nosniff"))]))])),
            ("WWWAuthenticate", D.object([("required", "true"), ("schema", string([("pattern", D.quoted("^Bearer"))]))])),
            ("RetryAfter", D.object([("description", D.quoted("Seconds to wait")), ("required", "true"), ("schema", seconds)])),
            ("RetryAfterOptional", D.object([("description", D.quoted("Seconds to wait, when known")), ("schema", seconds)])),
            ("NoStore", D.object([("required", "true"), ("schema", D.object([("const", D.quoted("no-store"))]))])),
            ("SetRefreshCookie", D.object([
                ("description", D.quoted("refreshToken=<jwt>; Path=/api/v1/auth/refresh; Max-Age=<refresh TTL in seconds>; HttpOnly; SameSite=Strict, plus Secure in production")),
                ("required", "true"),
                ("schema", string([("pattern", D.quoted("^refreshToken=[^;]+; Path=/api/v1/auth/refresh; Max-Age=[0-9]+; HttpOnly; SameSite=Strict"))])),
            ])),
            ("ClearRefreshCookie", D.object([
                ("description", D.quoted("refreshToken=; Path=/api/v1/auth/refresh; Max-Age=0; HttpOnly; SameSite=Strict: the refresh cookie cleared")),
                ("schema", string([("pattern", D.quoted("^refreshToken=; Path=/api/v1/auth/refresh; Max-Age=0; HttpOnly; SameSite=Strict"))])),
            ])),
        ]
    }

    static var parameters: [(String, String)] {
        [
            ("RequestId", D.object([
                ("name", D.quoted("X-Request-Id")), ("in", D.quoted("header")), ("required", "false"),
                ("description", D.quoted("Your id for this request, returned and logged when it is 1–128 characters of [A-Za-z0-9._-]; otherwise one is generated")),
                ("schema", string()),
            ])),
            ("Limit", D.object([
                ("name", D.quoted("limit")), ("in", D.quoted("query")), ("required", "false"),
                ("schema", D.object([("type", D.quoted("integer")), ("minimum", "1"), ("maximum", "100"), ("default", "50")])),
            ])),
            ("Cursor", D.object([
                ("name", D.quoted("cursor")), ("in", D.quoted("query")), ("required", "false"),
                ("description", D.quoted("The nextCursor of the previous page; a cursor the server did not issue is 400")),
                ("schema", string()),
            ])),
            ("UserId", D.object([
                ("name", D.quoted("id")), ("in", D.quoted("path")), ("required", "true"),
                ("description", D.quoted("A user id; anything that is not a UUID is 404 User not found")),
                ("schema", string()),
            ])),
        ]
    }

    static var securitySchemes: [(String, String)] {
        [
            ("bearer", D.object([
                ("type", D.quoted("http")), ("scheme", D.quoted("bearer")), ("bearerFormat", D.quoted("JWT")),
                ("description", D.quoted("The access token of register, login, refresh or a password change")),
            ])),
            ("refreshCookie", D.object([
                ("type", D.quoted("apiKey")), ("in", D.quoted("cookie")), ("name", D.quoted("refreshToken")),
                ("description", D.quoted("The httpOnly refresh cookie set by register, login, refresh and a password change")),
            ])),
        ]
    }
}
