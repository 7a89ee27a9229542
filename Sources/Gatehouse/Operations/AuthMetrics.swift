import Metrics

/// The counters Gatehouse's flows move (SPEC.md §3.8), through swift-metrics: whatever
/// backend the application bootstraps (the server's is Prometheus, `GET /metrics`) or
/// none. Each is created on first use, so after the application's bootstrap.
///
/// - `gatehouse_logins_total{result}`: `success`, `failure` (wrong email or password),
///   `throttled` (a 429 from either login limit);
/// - `gatehouse_registrations_total`;
/// - `gatehouse_refreshes_total{outcome}`: `rotated`, `grace` (a concurrent refresh's
///   answer handed out again), `reuse_detected` (the session revoked), `refused` (no,
///   invalid or dead token, or too many concurrent refreshes);
/// - `gatehouse_logouts_total{scope}`: `local`, `others`, `all`;
/// - `gatehouse_rate_limit_refusals_total{limit}`: `login`, `login_account`, `register`,
///   `refresh`, `password_account` (a password change past the account's failures);
/// - `gatehouse_password_hash_duration_seconds`: each bcrypt hash or comparison;
/// - `gatehouse_database_unavailable_total`: requests answered 503 because the database
///   could not be reached;
/// - `gatehouse_revocations_applied_total`: revocation changes added to this instance's list.
///
/// Call sites use these functions, not the swift-metrics types, so only this file
/// imports swift-metrics. Every series is made once (a swift-metrics handle is a lookup in
/// the backend's registry, under its lock), not per event.
enum AuthMetrics {
    private static let loginSuccess = Counter(label: "gatehouse_logins_total", dimensions: [("result", "success")])
    private static let loginFailure = Counter(label: "gatehouse_logins_total", dimensions: [("result", "failure")])
    private static let loginThrottled = Counter(label: "gatehouse_logins_total", dimensions: [("result", "throttled")])
    private static let registrations = Counter(label: "gatehouse_registrations_total")
    private static let passwordHash = Timer(label: "gatehouse_password_hash_duration_seconds", preferredDisplayUnit: .seconds)
    private static let databaseUnavailableCounter = Counter(label: "gatehouse_database_unavailable_total")
    private static let revocations = Counter(label: "gatehouse_revocations_applied_total")

    enum LoginResult {
        case success, failure, throttled
    }

    static func login(_ result: LoginResult) {
        switch result {
        case .success: loginSuccess.increment()
        case .failure: loginFailure.increment()
        case .throttled: loginThrottled.increment()
        }
    }

    static func registered() { registrations.increment() }

    static func databaseUnavailable() { databaseUnavailableCounter.increment() }

    static func revocationsApplied(_ count: Int) { revocations.increment(by: count) }

    enum RefreshOutcome: String, CaseIterable {
        case rotated, grace, reuseDetected = "reuse_detected", refused
    }

    private static let refreshes = Dictionary(uniqueKeysWithValues: RefreshOutcome.allCases.map {
        ($0, Counter(label: "gatehouse_refreshes_total", dimensions: [("outcome", $0.rawValue)]))
    })
    private static let logouts = Dictionary(uniqueKeysWithValues: LogoutScope.allCases.map {
        ($0, Counter(label: "gatehouse_logouts_total", dimensions: [("scope", $0.rawValue)]))
    })
    /// The limits `AuthService.enforce` names.
    private static let rateLimits = Dictionary(uniqueKeysWithValues: ["login", "login_account", "register", "refresh", "password_account"].map {
        ($0, Counter(label: "gatehouse_rate_limit_refusals_total", dimensions: [("limit", $0)]))
    })

    static func refresh(_ outcome: RefreshOutcome) { refreshes[outcome]?.increment() }

    static func logout(_ scope: LogoutScope) { logouts[scope]?.increment() }

    static func rateLimited(_ limit: String) {
        (rateLimits[limit] ?? Counter(label: "gatehouse_rate_limit_refusals_total", dimensions: [("limit", limit)])).increment()
    }

    /// Times one password hash or comparison.
    static func timingHash<T>(_ body: () async throws -> T) async rethrows -> T {
        let started = ContinuousClock.now
        defer { passwordHash.record(duration: ContinuousClock.now - started) }
        return try await body()
    }
}
