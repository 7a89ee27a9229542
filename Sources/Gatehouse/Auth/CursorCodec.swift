import Crypto
import Foundation

/// The opaque cursors of the admin pages: a position (a time and an id) with a MAC, so
/// that a cursor the server did not issue is refused (400) instead of starting a page
/// anywhere. The key is derived from `JWT_ACCESS_SECRET`, so every instance of a fleet
/// accepts every other's cursors.
struct CursorCodec: Sendable {
    /// Which page a cursor belongs to: a users cursor is not an audit cursor.
    enum Kind: UInt8, Sendable {
        case users = 1
        case audit = 2
    }

    private let key: SymmetricKey
    private static let macBytes = 16

    init(secret: String) {
        let derived = HMAC<SHA256>.authenticationCode(for: Array("gatehouse.cursor".utf8), using: SymmetricKey(data: Array(secret.utf8)))
        self.key = SymmetricKey(data: Array(derived))
    }

    func encode(_ kind: Kind, at date: Date, id: UUID) -> String {
        var payload: [UInt8] = [kind.rawValue]
        // The exact stored instant (its bits), so the next page starts exactly after it.
        withUnsafeBytes(of: date.timeIntervalSince1970.bitPattern.bigEndian) { payload.append(contentsOf: $0) }
        withUnsafeBytes(of: id.uuid) { payload.append(contentsOf: $0) }
        let mac = HMAC<SHA256>.authenticationCode(for: payload, using: key)
        return Base64URL.encode(payload + mac.prefix(Self.macBytes))
    }

    /// The position in `text`; 400 `Invalid cursor` when it is not a cursor of `kind`
    /// issued here.
    func position(_ kind: Kind, _ text: String) throws(AppError) -> PagePosition {
        guard let (at, id) = decode(kind, text) else { throw AppError.invalidCursor }
        return PagePosition(at: at, id: id)
    }

    /// The position in `text`; `nil` when it is not a cursor of `kind` issued here.
    func decode(_ kind: Kind, _ text: String) -> (at: Date, id: UUID)? {
        guard text.utf8.count <= 128 else { return nil }
        let bytes: [UInt8]? = Array(text.utf8).withUnsafeBufferPointer { Base64URL.decode($0) }
        guard let bytes, bytes.count == 1 + 8 + 16 + Self.macBytes, bytes[0] == kind.rawValue else { return nil }
        let payload = Array(bytes[0..<25])
        let expected = HMAC<SHA256>.authenticationCode(for: payload, using: key)
        // Constant-time comparison of the truncated MAC.
        var difference: UInt8 = 0
        for (a, b) in zip(expected.prefix(Self.macBytes), bytes[25...]) { difference |= a ^ b }
        guard difference == 0 else { return nil }
        let bits = payload[1..<9].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let seconds = Double(bitPattern: bits)
        guard seconds.isFinite else { return nil }
        let u = Array(payload[9..<25])
        let id = UUID(uuid: (u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]))
        return (Date(timeIntervalSince1970: seconds), id)
    }
}
