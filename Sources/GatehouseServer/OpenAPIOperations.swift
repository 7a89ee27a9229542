/// The operations of the OpenAPI document, one per route. Logout comes last: it
/// revokes the caller's tokens, and schemathesis runs operations in document order.
enum OpenAPIOperations {
    private typealias D = OpenAPIDocument
    private typealias C = OpenAPIComponents

    // Shared responses by status.
    private static let badRequest = ("400", D.ref("responses", "BadRequest"))
    private static let unauthorized = ("401", D.ref("responses", "Unauthorized"))
    private static let forbidden = ("403", D.ref("responses", "Forbidden"))
    private static let userNotFound = ("404", D.ref("responses", "UserNotFound"))
    private static let lastAdmin = ("409", D.ref("responses", "LastAdmin"))
    private static let tooLarge = ("413", D.ref("responses", "PayloadTooLarge"))
    private static let mediaType = ("415", D.ref("responses", "UnsupportedMediaType"))
    private static let tooMany = ("429", D.ref("responses", "TooManyRequests"))
    private static let unavailable = ("503", D.ref("responses", "Unavailable"))
    /// What every route with a JSON body can answer about the body itself.
    private static let bodyErrors = [badRequest, tooLarge, mediaType]

    private static let noStore = ("Cache-Control", D.ref("headers", "NoStore"))
    private static let setCookie = ("Set-Cookie", D.ref("headers", "SetRefreshCookie"))
    private static let clearCookie = ("Set-Cookie", D.ref("headers", "ClearRefreshCookie"))

    private static func json(_ description: String, _ schema: String, headers: [(String, String)] = [noStore]) -> String {
        D.response(description, schema: C.schema(schema), headers: headers)
    }

    static let health = D.operation(
        "Liveness: the process answers (no database)", id: "health", tag: "operations",
        responses: [("200", json("Alive", "Health", headers: []))]
    )

    static let ready = D.operation(
        "Readiness: the database answers within DATABASE_TIMEOUT", id: "ready", tag: "operations",
        responses: [("200", json("Ready", "Health", headers: [])), unavailable]
    )

    static let metrics = D.operation(
        "Prometheus metrics (absent with METRICS=off)", id: "metrics", tag: "operations",
        responses: [("200", D.response(
            "Prometheus text exposition format", schema: C.string(), mediaType: "text/plain", headers: [noStore]
        ))]
    )

    /// The account page and its three files, each with the page's security headers.
    static var accountPage: [(String, String)] {
        let headers = [
            ("Content-Security-Policy", D.object([("required", "true"), ("schema", D.object([("const", D.quoted(AccountPage.contentSecurityPolicy))]))])),
            ("Referrer-Policy", D.object([("required", "true"), ("schema", D.object([("const", D.quoted("no-referrer"))]))])),
            ("X-Frame-Options", D.object([("required", "true"), ("schema", D.object([("const", D.quoted("DENY"))]))])),
        ]
        return [
            ("/account", "The account page (absent with ACCOUNT_PAGE=off)", "accountPage", "text/html"),
            ("/account/session.js", "The account page's session script (tokens)", "accountSessionScript", "text/javascript"),
            ("/account/account.js", "The account page's script", "accountScript", "text/javascript"),
            ("/account/account.css", "The account page's style sheet", "accountStyle", "text/css"),
        ].map { path, summary, id, mediaType in
            (path, D.object([("get", D.operation(
                summary, id: id, tag: "account",
                responses: [("200", D.response(summary, schema: C.string(), mediaType: mediaType, headers: headers))]
            ))]))
        }
    }

    static var paths: [(String, String)] {
        [
            ("/.well-known/jwks.json", D.object([("get", D.operation(
                "The public keys access tokens are verified with (JWK Set); empty under HS256 without previous keys",
                id: "jwks", tag: "keys",
                responses: [("200", json("The key set", "JWKS", headers: [("Cache-Control", D.object([
                    ("required", "true"), ("schema", D.object([("const", D.quoted("public, max-age=300"))])),
                ]))]))]
            ))])),
            ("/api/v1/openapi.json", D.object([("get", D.operation(
                "This document", id: "openapi", tag: "operations",
                responses: [("200", json("OpenAPI 3.1", "OpenAPI", headers: []))]
            ))])),
            ("/api/v1/auth/register", D.object([("post", D.operation(
                "Create an account and sign in (a new session)", id: "register", tag: "auth",
                body: C.schema("RegisterRequest"),
                responses: [("201", json("Registered", "AuthResponse", headers: [noStore, setCookie]))] + bodyErrors + [
                    ("409", D.ref("responses", "EmailTaken")), tooMany, unavailable,
                ]
            ))])),
            ("/api/v1/auth/login", D.object([("post", D.operation(
                "Sign in (a new session)", id: "login", tag: "auth",
                body: C.schema("LoginRequest"),
                responses: [("200", json("Signed in", "AuthResponse", headers: [noStore, setCookie]))] + bodyErrors + [
                    ("401", C.error("Invalid email or password", headers: [("WWW-Authenticate", D.ref("headers", "WWWAuthenticate"))])),
                    tooMany, unavailable,
                ]
            ))])),
            ("/api/v1/auth/refresh", D.object([("post", D.operation(
                "Rotate the refresh cookie and get a new access token", id: "refresh", tag: "auth", security: ["refreshCookie"],
                responses: [
                    ("200", json("Rotated (or, within REFRESH_REUSE_INTERVAL of a rotation, the session's current token)", "AccessTokenResponse", headers: [noStore, setCookie])),
                    ("401", C.error(
                        "Refresh token missing, Invalid or expired refresh token, or Session expired, please log in again; the cookie is cleared",
                        headers: [("WWW-Authenticate", D.ref("headers", "WWWAuthenticate")), clearCookie]
                    )),
                    tooMany, unavailable,
                ]
            ))])),
            ("/api/v1/auth/me", D.object([("get", claims(id: "authMe"))])),
            ("/api/v1/users/me", D.object([("get", claims(id: "usersMe"))])),
            ("/api/v1/auth/user", D.object([("get", D.operation(
                "The caller's account: id, name, email and role", id: "currentUser", tag: "auth", security: ["bearer"],
                responses: [("200", json("The account", "User")), unauthorized, unavailable]
            ))])),
            ("/api/v1/auth/sessions", D.object([("get", D.operation(
                "The caller's live sessions, most recently used first", id: "listSessions", tag: "sessions", security: ["bearer"],
                responses: [("200", json("Sessions", "Sessions")), unauthorized, unavailable]
            ))])),
            ("/api/v1/auth/sessions/{id}", D.object([("delete", D.operation(
                "Revoke one of the caller's sessions (the caller's own clears the cookie)", id: "revokeSession", tag: "sessions",
                security: ["bearer"],
                parameters: [D.object([
                    ("name", D.quoted("id")), ("in", D.quoted("path")), ("required", "true"),
                    ("description", D.quoted("A session id; unknown, another user's, already revoked or not a UUID: 404")), ("schema", C.string()),
                ])],
                responses: [
                    ("204", D.response("Revoked", headers: [noStore, clearCookie])), unauthorized,
                    ("404", C.error("Session not found")), unavailable,
                ]
            ))])),
            ("/api/v1/auth/password", D.object([("post", D.operation(
                "Change the password: every other session is revoked, this one gets a new refresh cookie", id: "changePassword",
                tag: "auth", security: ["bearer"], body: C.schema("PasswordChangeRequest"),
                responses: [("200", json("Changed", "AccessTokenResponse", headers: [noStore, setCookie]))] + bodyErrors + [
                    unauthorized, tooMany, unavailable,
                ]
            ))])),
        ] + admin + [
            ("/api/v1/auth/logout", D.object([("post", D.operation(
                "Sign out: every session (default), this one (scope=local) or all others (scope=others)", id: "logout", tag: "auth",
                security: ["bearer"],
                parameters: [D.object([
                    ("name", D.quoted("scope")), ("in", D.quoted("query")), ("required", "false"),
                    ("schema", C.string([("enum", D.array([D.quoted("local"), D.quoted("others")]))])),
                ])],
                responses: [
                    ("204", D.response("Signed out; the cookie is cleared unless scope=others", headers: [noStore, clearCookie])),
                    badRequest, unauthorized, unavailable,
                ]
            ))])),
        ]
    }

    private static func claims(id: String) -> String {
        D.operation(
            "The verified claims of the caller's access token", id: id, tag: "auth", security: ["bearer"],
            responses: [("200", json("Claims", "Claims")), unauthorized]
        )
    }

    /// The admin routes: each needs the admin role (401 without a valid token, 403 with
    /// another role) and reads the database.
    private static var admin: [(String, String)] {
        let guarded = [unauthorized, forbidden, unavailable]
        func operation(_ summary: String, id: String, parameters: [String] = [], body: String? = nil, responses: [(String, String)]) -> String {
            D.operation(summary, id: id, tag: "admin", security: ["bearer"], parameters: parameters, body: body, responses: responses + guarded)
        }
        let userId = D.ref("parameters", "UserId")
        let user = ("200", json("The user", "AdminUser"))
        return [
            ("/api/v1/admin/users", D.object([("get", operation(
                "Users, a page at a time, in a stable order", id: "adminListUsers",
                parameters: [D.ref("parameters", "Limit"), D.ref("parameters", "Cursor"), D.object([
                    ("name", D.quoted("email")), ("in", D.quoted("query")), ("required", "false"),
                    ("description", D.quoted("Only users whose email starts with this")), ("schema", C.string([("maxLength", "254")])),
                ])],
                responses: [("200", json("A page of users", "AdminUsers")), badRequest]
            ))])),
            ("/api/v1/admin/users/{id}", D.object([
                ("get", operation("One user", id: "adminGetUser", parameters: [userId], responses: [user, userNotFound])),
                ("patch", operation(
                    "Change a user's role; their tokens issued before are refused at once", id: "adminSetRole", parameters: [userId],
                    body: C.schema("RoleChangeRequest"), responses: [user] + bodyErrors + [userNotFound, lastAdmin]
                )),
                ("delete", operation(
                    "Delete a user and their sessions", id: "adminDeleteUser", parameters: [userId],
                    responses: [("204", D.response("Deleted", headers: [noStore])), userNotFound, lastAdmin]
                )),
            ])),
            ("/api/v1/admin/users/{id}/logout", D.object([("post", operation(
                "Sign a user out everywhere", id: "adminLogoutUser", parameters: [userId],
                responses: [("204", D.response("Signed out", headers: [noStore])), userNotFound]
            ))])),
            ("/api/v1/admin/audit", D.object([("get", operation(
                "The audit log, newest first", id: "adminAudit",
                parameters: [D.object([
                    ("name", D.quoted("user")), ("in", D.quoted("query")), ("required", "false"),
                    ("description", D.quoted("Only events of this user id")), ("schema", C.uuid),
                ]), D.ref("parameters", "Limit"), D.ref("parameters", "Cursor")],
                responses: [("200", json("A page of events", "AuditEvents")), badRequest]
            ))])),
        ]
    }
}
