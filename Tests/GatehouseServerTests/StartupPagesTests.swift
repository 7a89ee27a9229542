import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Gatehouse
import Testing

@testable import GatehouseServer

/// After start-up, `gatehouse serve` hands the read-only file pages back to the kernel
/// (`StartupPages`); the program must not notice.
@Suite struct StartupPagesTests {
    static func mapping(_ header: String, privateDirty: Int = 0, anonymous: Int = 0, swap: Int = 0) -> String {
        """
        \(header)
        Size:               2048 kB
        Rss:                 512 kB
        Private_Clean:       512 kB
        Private_Dirty:  \(privateDirty) kB
        Anonymous:      \(anonymous) kB
        Swap:           \(swap) kB
        VmFlags: rd ex mr mw me
        """
    }

    @Test func onlyCleanReadOnlyFileMappingsAreChosen() {
        let smaps = [
            Self.mapping("55d0c0000000-55d0c0200000 r--p 00000000 fe:00 42   /srv/gatehouse"),
            // Dirty in the page cache (fresh from the linker), but still the file's pages.
            Self.mapping("55d0c0200000-55d0c1000000 r-xp 00200000 fe:00 42   /srv/gatehouse", privateDirty: 512),
            // Relocated after RELRO: read-only now, but its pages exist only in memory.
            Self.mapping("55d0c1000000-55d0c1080000 r--p 01000000 fe:00 42   /srv/gatehouse", privateDirty: 180, anonymous: 180),
            Self.mapping("55d0c1080000-55d0c1100000 rw-p 01080000 fe:00 42   /srv/gatehouse", privateDirty: 12, anonymous: 12),
            Self.mapping("55d0c1100000-55d0c1200000 rw-p 00000000 00:00 0    [heap]", privateDirty: 64, anonymous: 64),
            Self.mapping("7f0000000000-7f0000021000 rw-p 00000000 00:00 0 "),
            Self.mapping("7f0000100000-7f0000101000 ---p 00000000 fe:00 7    /usr/lib/x86_64-linux-gnu/libc.so.6"),
            Self.mapping("7f0000200000-7f0000300000 r-xp 00028000 fe:00 7    /usr/lib/x86_64-linux-gnu/libc.so.6"),
            Self.mapping("7f0000400000-7f0000401000 rw-s 00000000 00:05 9    /dev/shm/with space (deleted)"),
            Self.mapping("7f0000500000-7f0000501000 r--p 00000000 00:05 9    /tmp/patched", anonymous: 4),
            Self.mapping("7f0000600000-7f0000601000 r--p 00000000 00:05 9    /tmp/swapped", swap: 4),
            Self.mapping("7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0    [vdso]"),
        ].joined(separator: "\n")
        #expect(StartupPages.releasableRegions(smaps) == [
            0x55d0_c000_0000..<0x55d0_c020_0000,
            0x55d0_c020_0000..<0x55d0_c100_0000,
            0x7f00_0010_0000..<0x7f00_0010_1000,
            0x7f00_0020_0000..<0x7f00_0030_0000,
        ])
    }

    /// The real `/proc/self/smaps` of this process parses, and yields some regions.
    @Test func thisProcessHasReleasableRegions() throws {
        #if os(Linux)
        let smaps = try #require(StartupPages.readProcFile("/proc/self/smaps"))
        // Read to the end: the last mapping is the vsyscall page or the stack.
        #expect(smaps.contains("[stack]") || smaps.contains("[vsyscall]"))
        #expect(!StartupPages.releasableRegions(smaps).isEmpty)
        #endif
    }

    /// The server logs the release at start-up, then serves every kind of request: the
    /// pages it needs come back from the file.
    @Test func aServerThatReleasedItsStartupPagesStillServesEverything() throws {
        let database = TemporaryDatabase()
        defer { database.remove() }
        var environment = FleetTests.environment(database, access: SecretGenerator.hex(bytes: 32), refresh: SecretGenerator.hex(bytes: 32))
        environment["LOG_LEVEL"] = "debug"
        let server = try ServerProcess(environment: environment)
        defer { server.stop() }

        #if os(Linux)
        // The release runs once the server listens, alongside the first requests.
        var log = ""
        let deadline = Date().addingTimeInterval(20)
        repeat {
            log = try String(contentsOf: server.log, encoding: .utf8)
            if log.contains("Released start-up pages") { break }
            usleep(50_000)
        } while Date() < deadline
        let advised = log.split(separator: "\n").first { $0.contains("Released start-up pages") }
        #expect(advised != nil, "\(log)")
        #expect(advised.map { !$0.contains("releasedBytes=0") } == true, "\(log)")
        #endif

        let registered = try #require(exchange(port: server.port, "POST", "/api/v1/auth/register", json: FleetTests.alice))
        #expect(registered.status == 201, "\(registered.body)")
        let access = try #require(registered.string("accessToken"))
        let me = try #require(exchange(port: server.port, "GET", "/api/v1/users/me", headers: ["Authorization": "Bearer \(access)"]))
        #expect(me.status == 200, "\(me.body)")
        let login = try #require(
            exchange(port: server.port, "POST", "/api/v1/auth/login", json: #"{"email":"alice@example.com","password":"secret123"}"#)
        )
        #expect(login.status == 200, "\(login.body)")
        let cookie = try #require(login.refreshCookie)
        let refreshed = try #require(exchange(port: server.port, "POST", "/api/v1/auth/refresh", headers: ["Cookie": "refreshToken=\(cookie)"]))
        #expect(refreshed.status == 200, "\(refreshed.body)")
        #expect(exchange(port: server.port, "GET", "/health/ready")?.status == 200)
    }
}
