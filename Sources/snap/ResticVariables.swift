/// restic's environment variables, which snap does not read (its own are `SNAP_*`; a
/// `RESTIC_REPOSITORY` names a restic repository, not a snap one): where one is set and
/// snap misses the setting, its message says so.
enum ResticVariables {
    /// "; RESTIC_PASSWORD is set, but snap reads SNAP_PASSWORD (docs/from-restic.md)" for
    /// the first of `names` that is set, or "".
    static func note(_ names: [String], environment: [String: String]) -> String {
        guard let name = names.first(where: { !(environment[$0] ?? "").isEmpty }) else { return "" }
        return "; \(name) is set, but snap reads SNAP_\(name.dropFirst("RESTIC_".count)) (docs/from-restic.md)"
    }
}
