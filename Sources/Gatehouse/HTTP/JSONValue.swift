/// Any JSON value, kept only as far as validation needs it.
enum JSONValue: Decodable, Sendable, Equatable {
    case string(String)
    case number
    case bool
    case null
    case array
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if (try? container.decode(Bool.self)) != nil {
            self = .bool
        } else if (try? container.decode(Double.self)) != nil {
            self = .number
        } else if let object = try? container.decode([String: JSONValue].self) {
            self = .object(object)
        } else {
            _ = try container.decode([JSONValue].self)
            self = .array
        }
    }
}
