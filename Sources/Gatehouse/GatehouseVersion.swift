/// The one place the version is written: `gatehouse --version` prints it, and a
/// release tag names it.
public enum GatehouseVersion {
    /// Semantic version of this source tree.
    public static let current = "0.10.0"
}
