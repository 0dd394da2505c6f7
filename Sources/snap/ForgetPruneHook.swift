/// Runs prune for `forget --prune`, after snapshots were removed.
func runPrune(global: GlobalOptions) throws {
    let result = try prune(repository: try global.openRepository(), global: global)
    try PruneCommand.print(result, global: global, dryRun: false)
}
