import Foundation
import Gatehouse
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import GatehouseServer

/// `GET /account` (SPEC.md §3.9) as HTTP sees it: the page and its two files with their
/// security headers, nothing inline for the policy to refuse, `ACCOUNT_PAGE=off`, and
/// `GET /api/v1/auth/user`, which the page shows the person with after a reload.
/// (What it does in a browser: Tests/Browser/account_page.py, run by .ci/run.)
@Suite struct AccountPageTests {
    static let files = [
        ("/account", "text/html; charset=utf-8"), ("/account/account.js", "text/javascript; charset=utf-8"),
        ("/account/session.js", "text/javascript; charset=utf-8"),
        ("/account/account.css", "text/css; charset=utf-8"),
    ]

    @Test func thePageAndItsFilesCarryTheSecurityHeaders() async throws {
        try await TestServer.withApp { client in
            for (path, contentType) in Self.files {
                let response = try await client.get(path)
                #expect(response.status == .ok, "\(path)")
                #expect(response.headers[.contentType] == contentType, "\(path)")
                #expect(response.headers[.contentSecurityPolicy]
                    == "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
                #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
                #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                #expect(response.headers[.xRequestID] != nil)
                #expect(response.body.readableBytes > 500, "\(path) has content")
            }
        }
    }

    /// Nothing the policy would block, and nothing from another origin: no inline script
    /// or style, no event-handler attributes, no URL with a scheme or a host.
    @Test func thePageNeedsNothingInlineAndNothingFromElsewhere() throws {
        let html = String(decoding: PackageResources.account_html, as: UTF8.self)
        #expect(try Regex(#"<script(?![^>]*\bsrc=)"#).firstMatch(in: html) == nil, "inline script")
        #expect(!html.contains("<style"), "inline style element")
        #expect(try Regex(#"\sstyle="#).firstMatch(in: html) == nil, "style attribute")
        #expect(try Regex(#"\son[a-z]+="#).firstMatch(in: html) == nil, "event-handler attribute")
        #expect(try Regex(#"(src|href)="(?!/account/)"#).firstMatch(in: html) == nil, "an asset from elsewhere")
        // The script's code, without its comments (which explain what it never does).
        let script = String(decoding: PackageResources.account_js + PackageResources.session_js, as: UTF8.self).split(separator: "\n")
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }.joined(separator: "\n")
        #expect(!script.contains("localStorage") && !script.contains("sessionStorage") && !script.contains("document.cookie"))
        #expect(!script.contains("innerHTML") && !script.contains("eval("))
        // The token stays inside session.js: the page's script never names it.
        let page = String(decoding: PackageResources.account_js, as: UTF8.self)
        #expect(!page.contains("let accessToken") && !page.contains("Authorization"))
        let style = String(decoding: PackageResources.account_css, as: UTF8.self)
        #expect(!style.contains("@import") && !style.contains("url("))
    }

    @Test func accountPageOffRemovesTheRoutes() async throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        let configuration = ServerConfiguration(
            gatehouse: TestServer.settings(), port: 0, database: database.location, databasePoolSize: 2, logLevel: .warning,
            accountPage: false
        )
        try await Slots.apps.with {
            let app = try await buildApplication(configuration)
            try await app.test(.router) { client in
                for (path, _) in Self.files {
                    let response = try await client.get(path)
                    #expect(response.status == .notFound, "\(path)")
                    #expect(response.error?.message == "Not found")
                }
            }
        }
    }

    @Test func theCallerSeesTheirAccount() async throws {
        try await TestServer.withApp { client in
            let (auth, _) = try await client.registered(email: "ada@example.com")
            let response = try await client.get("/api/v1/auth/user", bearer: auth.accessToken)
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "no-store")
            #expect(response.jsonKeys == ["id", "name", "email", "role"])
            #expect(try response.decode(UserResponse.self) == auth.user)

            let anonymous = try await client.get("/api/v1/auth/user")
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.error?.message == "Authentication required")
            #expect(anonymous.headers[.wwwAuthenticate] == "Bearer")

            #expect(try await client.logout(bearer: auth.accessToken).status == .noContent)
            let revoked = try await client.get("/api/v1/auth/user", bearer: auth.accessToken)
            #expect(revoked.status == .unauthorized)
            #expect(revoked.error?.message == "Access token revoked")
        }
    }
}
