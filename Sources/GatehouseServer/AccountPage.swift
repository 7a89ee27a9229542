import Gatehouse
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /account` (SPEC.md §3.9): the account page, its two scripts (`session.js` holds
/// the tokens, `account.js` the views) and its style sheet,
/// compiled into the binary from `Account/` (no build step, no framework, nothing from
/// another origin). The page calls the API on the same origin; its tokens are handled as
/// README "The account page" says.
///
/// Every answer carries a Content-Security-Policy that allows this origin's script and
/// style only (no inline script, no framing, no `<base>`, forms only to this origin),
/// `Referrer-Policy: no-referrer` and `X-Frame-Options: DENY`. `Cache-Control: no-cache`:
/// a browser may keep the files but asks again each time, so an upgrade is seen at once.
enum AccountPage {
    static let routes: [(path: String, contentType: String, body: [UInt8])] = [
        ("/account", "text/html; charset=utf-8", PackageResources.account_html),
        ("/account/session.js", "text/javascript; charset=utf-8", PackageResources.session_js),
        ("/account/account.js", "text/javascript; charset=utf-8", PackageResources.account_js),
        ("/account/account.css", "text/css; charset=utf-8", PackageResources.account_css),
    ]

    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    static var securityHeaders: HTTPFields {
        [
            .contentSecurityPolicy: contentSecurityPolicy,
            HTTPField.Name("Referrer-Policy")!: "no-referrer",
            HTTPField.Name("X-Frame-Options")!: "DENY",
            .cacheControl: "no-cache",
        ]
    }

    /// Records the routes for 405 answers.
    static func record(in table: inout RouteTable) {
        for route in routes { table.add(.get, route.path) }
    }

    static func addRoutes(to router: Router<GatehouseContext>) {
        for route in routes {
            var fields = securityHeaders
            fields[.contentType] = route.contentType
            let headers = fields
            let body = ByteBuffer(bytes: route.body)
            router.get(RouterPath(String(route.path.dropFirst()))) { _, _ in
                Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
            }
        }
    }
}
