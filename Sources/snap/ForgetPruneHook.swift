import SnapRepository

/// Runs prune for `forget --prune`, after snapshots were removed.
func runPrune(repository: Repository, global: GlobalOptions, repacking: RepackOptions) throws {
    let result = try prune(repository: repository, global: global, repacking: repacking)
    try PruneCommand.print(result, global: global, dryRun: false)
}
