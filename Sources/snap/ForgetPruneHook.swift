import SnapCore
import SnapRepository

/// Runs prune for `forget --prune`, after snapshots were removed.
func runPrune(repository: Repository, global: GlobalOptions, repacking: RepackOptions) throws {
    let result = try prune(repository: repository, global: global, repacking: repacking)
    try PruneCommand.print(result, global: global, dryRun: false)
}

/// `forget --prune --dry-run`: what the prune would do once `forgetting` are gone (a dry
/// run of it that counts them as forgotten), printed as `prune --dry-run` prints it.
func estimatePrune(repository: Repository, global: GlobalOptions, repacking: RepackOptions, forgetting: Set<SnapshotID>) throws {
    let result = try prune(repository: repository, global: global, repacking: repacking, dryRun: true, assumeForgotten: forgetting)
    try PruneCommand.print(result, global: global, dryRun: true)
}
