#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging

/// Gives back the code pages that only start-up used.
///
/// Starting the server runs code it never needs again: argument parsing, migrations,
/// driver and runtime set-up, relocation. The kernel maps file pages in 64 KiB runs, so
/// a freshly started server holds 20–35 MB of read-only file pages of which its request
/// paths use about 10. Once the server listens, this drops the process's mappings of the
/// file-backed mappings that are not writable and hold no page of their own
/// (`MADV_DONTNEED`; `Anonymous` and `Swap` both 0 in `/proc/self/smaps`: no page was
/// copied on write, as relocation does to the RELRO segment). Such a mapping is an exact
/// view of its file, so nothing changes for the program: a page a
/// request needs is mapped again, from the page cache, on first use. The pages stay in
/// the page cache, so a restart is as fast as before. Writable, relocated or anonymous
/// memory is never touched. Elsewhere than on Linux this does nothing.
enum StartupPages {
    /// Releases the pages; returns how many bytes of mappings it released.
    @discardableResult
    static func release(logger: Logger) -> Int {
        #if os(Linux)
        guard let smaps = readProcFile("/proc/self/smaps") else { return 0 }
        var released = 0
        for region in releasableRegions(smaps) {
            if madvise(UnsafeMutableRawPointer(bitPattern: region.lowerBound), region.count, MADV_DONTNEED) == 0 {
                released += region.count
            }
        }
        logger.debug("Released start-up pages", metadata: ["releasedBytes": "\(released)"])
        return released
        #else
        return 0
        #endif
    }

    /// The address ranges of `/proc/self/smaps` mappings that are file-backed, not
    /// writable, and hold no copied-on-write page (nothing that exists only in memory).
    /// `Private_Dirty` is no guide: it also counts file pages not yet written back, as
    /// in a binary fresh from the linker.
    static func releasableRegions(_ smaps: String) -> [Range<UInt>] {
        var regions: [Range<UInt>] = []
        var candidate: Range<UInt>?
        var clean = true
        func finish() {
            if let candidate, clean { regions.append(candidate) }
            candidate = nil
        }
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            if let range = fields.first.flatMap(addressRange) {
                // A mapping's header: start-end perms offset dev inode [path]
                finish()
                clean = true
                guard fields.count == 6, fields[1].count == 4, fields[1].dropFirst().first == "-",
                      fields[5].drop(while: { $0 == " " }).hasPrefix("/")
                else { continue }
                candidate = range
            } else if fields.count >= 2, fields[0] == "Anonymous:" || fields[0] == "Swap:" {
                if fields[1] != "0" { clean = false }
            }
        }
        finish()
        return regions
    }

    /// The whole of a `/proc` file. Those report a size of 0, and Foundation's
    /// `String(contentsOfFile:)` stops after the first read; this reads to the end.
    static func readProcFile(_ path: String) -> String? {
        #if os(Linux)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
        #else
        return nil
        #endif
    }

    /// `start-end` in hexadecimal, as a mapping header begins.
    private static func addressRange(_ text: Substring) -> Range<UInt>? {
        guard let dash = text.firstIndex(of: "-"),
              let start = UInt(text[..<dash], radix: 16),
              let end = UInt(text[text.index(after: dash)...], radix: 16), end > start
        else { return nil }
        return start..<end
    }
}
