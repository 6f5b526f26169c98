/// `rl2 reproduce`: list the recipes, or run one — train (resuming; optionally for a bounded number of
/// iterations or minutes), then, once training is done, re-evaluate the peak and final checkpoints on
/// fresh held-out tasks against the baselines and write the result and the results page.
module RL2.Cli.Reproduce

open System
open System.IO
open Argu
open RL2.Dist
open RL2.Eval
open RL2.Train
open RL2.Cli.Args

let private fail msg = raise (UsageError msg)

/// The train request of a recipe, in its own run directory.
let private request (recipe: Reproduction.Recipe) (checkpointDir: string) =
    let argv =
        Array.append (recipe.Flags.Split(' ', StringSplitOptions.RemoveEmptyEntries)) [| "--checkpoint_dir"; checkpointDir; "--model_name"; $"recipes/{recipe.Name}" |]
    toTrainRequest 1 (ArgumentParser.Create<TrainArgs>().ParseCommandLine(argv, raiseOnUsage = false))

/// A recipe's request, refused when its flags train another setup than the one its goal is about.
let private checkedRequest (recipe: Reproduction.Recipe) (checkpointDir: string) =
    let req = request recipe checkpointDir
    if Table.setupOf (EvalCommands.networkSpec req.Config) <> Some recipe.Setup then
        failwith $"recipe {recipe.Name}: its flags do not train for {recipe.Setup.Environment} {recipe.Setup.Label}"
    req

/// Every recipe is checked as it is listed, so a mistyped flag in the table fails the listing, not hours into a run.
let private list () =
    printfn "recipes (dotnet fsi build.fsx reproduce <recipe> [--iterations K] [--minutes M]; rerun to resume):"
    let width = Recipes.table |> List.map _.Name.Length |> List.max
    for r in Recipes.table do
        let req = checkedRequest r "checkpoints"
        printfn ""
        printfn "  %s %s; goal %s" (r.Name.PadRight width) r.Title r.Goal.Text
        printfn "  %s rl2 train %s" (String.replicate width " ") r.Flags
        for start in Option.toList r.StartsFrom do
            let problem = Start.problem "." start req.Config |> Option.map (sprintf " — unavailable: %s") |> Option.defaultValue ""
            printfn "  %s starting from %s%s" (String.replicate width " ") (Start.describe start) problem
    0

/// Where an unfinished recipe's run is carried between machines: `<results_dir>/unfinished/<recipe>/`,
/// committed with the results, since the checkpoint directory stays on the machine that trained.
let private carriedDir (resultsDir: string) (recipe: Reproduction.Recipe) = Path.Combine(resultsDir, "unfinished", recipe.Name)

/// The results page, `<results_dir>.md`, from every result file in the results directory, with the
/// progress of unfinished recipes' runs under `checkpointDir` (their curves copied beside the results).
let private writePage (resultsDir: string) (checkpointDir: string) =
    let dir = Path.TrimEndingDirectorySeparator resultsDir
    let runOf (recipe: Reproduction.Recipe) = (request recipe checkpointDir).Settings.RunDir.Value
    // Results written before the papers' measure was recorded get it from their run, where it is kept.
    let outcomes =
        [ for o in Reproduction.readAll dir do
              match o.LoggedPeak, Recipes.table |> List.tryFind (fun r -> r.Name = o.Recipe) with
              | None, Some recipe when (Reproduction.loggedPeak (runOf recipe)).IsSome ->
                  let o = { o with LoggedPeak = Reproduction.loggedPeak (runOf recipe) }
                  File.WriteAllText(Path.Combine(dir, o.Recipe + ".json"), Reproduction.toJson o + "\n")
                  o
              | _ -> o ]
    let progress =
        [ for recipe in Recipes.table do
              if outcomes |> List.forall (fun o -> o.Recipe <> recipe.Name) then
                  let req = request recipe checkpointDir
                  // A run that is not on this machine, or is further on elsewhere, is read from the copy carried with the results.
                  let run =
                      match Snapshot.ahead (carriedDir dir recipe) (runOf recipe) with
                      | Some(_, copy) -> copy
                      | None -> runOf recipe
                  let curve = recipe.Name + "-so-far.png"
                  match Reproduction.progressOf run req.Settings.MaxIterations curve with
                  | Some p ->
                      Directory.CreateDirectory dir |> ignore
                      TrainCommand.drawCurve req.Settings run (Path.Combine(dir, curve)) ()
                      yield recipe.Name, p
                  | None -> () ]
        |> Map.ofList
    // A finished recipe's section beside its result, and no curve "so far" any more.
    for o in outcomes do
        File.WriteAllText(Path.Combine(dir, o.Recipe + ".md"), Reproduction.section "." o)
        File.Delete(Path.Combine(dir, o.Recipe + "-so-far.png"))
    let path = dir + ".md"
    File.WriteAllText(path, Reproduction.page (Path.GetFileName dir) Recipes.table outcomes progress + "\n")
    Progress.note $"wrote {path}"

let private finish (recipe: Reproduction.Recipe) (req: TrainRequest) (resultsDir: string) (checkpointDir: string) =
    let run = req.Settings.RunDir.Value
    let count, seed = Reproduction.freshMetaEpisodes, Reproduction.freshSeed
    Progress.note $"re-evaluating the peak and final checkpoints and every classic baseline on {count} fresh held-out meta-episodes (seed {seed})…"
    Directory.CreateDirectory resultsDir |> ignore
    let curve = recipe.Name + ".png"
    TrainCommand.drawCurve req.Settings run (Path.Combine(resultsDir, curve)) ()
    let clock = Diagnostics.Stopwatch.StartNew()
    let played label (k, total) (s: Stats.Summary) =
        Progress.note $"[{k}/{total}] {label}: {s.Mean:F3} ± {s.HalfWidth:F3}, {clock.Elapsed.TotalMinutes:F1} min so far"
    let outcome = Reproduction.assess recipe (EvalCommands.networkSpec req.Config) run seed count curve played
    File.WriteAllText(Path.Combine(resultsDir, recipe.Name + ".json"), Reproduction.toJson outcome + "\n")
    printfn "\n%s" (Reproduction.section "." outcome)
    writePage resultsDir checkpointDir

let private runRecipe (recipe: Reproduction.Recipe) (r: ParseResults<ReproduceArgs>) =
    let iterations = r.TryGetResult Iterations
    let minutes = r.TryGetResult Minutes
    iterations |> Option.iter (fun k -> if k < 1 then fail $"--iterations must be at least 1, got {k}")
    minutes |> Option.iter (fun m -> if not (m >= 0.0) then fail $"--minutes must not be negative, got {m}")
    let checkpointDir = r.GetResult(ReproduceArgs.Checkpoint_Dir, defaultValue = "checkpoints")
    let resultsDir = r.GetResult(Results_Dir, defaultValue = "docs/results")
    let req = checkedRequest recipe checkpointDir
    let run = req.Settings.RunDir.Value
    let carried = carriedDir resultsDir recipe
    // Held from before the restore to after the carry, both of which write the run.
    use _ = RunLock.acquire run
    Snapshot.restore carried run
    |> Option.iter (fun i -> Progress.note $"restored iteration {i} of the run from {carried}, which was ahead of {run}")
    // A continuing recipe's run that has not started anywhere starts where the measured one did.
    match recipe.StartsFrom with
    | Some start when (Checkpoint.latest run).IsNone ->
        // rl2 reproduce runs from the repository's root, where build.fsx starts it.
        let dir = Start.read "." start
        try
            Snapshot.restore dir run |> ignore
        finally
            Directory.Delete(dir, true)
        Progress.note $"started from {Start.describe start}"
    | _ -> ()
    let changed = TrainCommand.checkResume run req.Config
    let target = req.Settings.MaxIterations
    let stopAt = iterations |> Option.map (fun k -> min target (defaultArg (Checkpoint.latest run) 0 + k)) |> Option.defaultValue target
    let leg = { req with Settings = { req.Settings with MaxIterations = stopAt } }
    // Carried after every evaluation too, so a machine lost in the middle of a leg costs at most that many iterations.
    let carry (m: Metrics.Iteration) = if m.EvalMean.IsSome then Snapshot.save run carried |> ignore
    TrainCommand.train Communicator.single leg changed (minutes |> Option.map TimeSpan.FromMinutes) carry |> ignore
    match Checkpoint.latest run with
    | Some i when i >= target ->
        finish recipe req resultsDir checkpointDir
        Snapshot.clear carried
    | reached ->
        Snapshot.save run carried
        |> Option.iter (fun i -> Progress.note $"{recipe.Name}: iteration {i} carried in {carried}; commit it to resume on another machine or clone")
        Progress.note $"{recipe.Name}: stopped at iteration {defaultArg reached 0} of {target}; rerun to continue from there"
        writePage resultsDir checkpointDir
    0

let command (r: ParseResults<ReproduceArgs>) =
    if Mpi.worldSize().IsSome then fail "rl2 reproduce runs on one process; start it without mpiexec"
    match r.TryGetResult Recipe_Name with
    | _ when r.Contains Page ->
        writePage (r.GetResult(Results_Dir, defaultValue = "docs/results")) (r.GetResult(ReproduceArgs.Checkpoint_Dir, defaultValue = "checkpoints"))
        0
    | None -> list ()
    | Some name -> runRecipe (Recipes.find name) r
