module RL2.Cli.Program

open System
open Argu
open TorchSharp
open System.IO
open RL2.Dist
open RL2.Rl
open RL2.Train
open RL2.Report
open RL2.Bench
open RL2.Cli.Args

let private cacheBench (r: ParseResults<BenchArgs>) =
    let t = r.GetResult(BenchArgs.Meta_Episode_Len, defaultValue = 100)
    let batch = r.GetResult(Batch, defaultValue = 60)
    if t < 2 || batch < 1 then
        raise (UsageError "bench needs --meta_episode_len >= 2 and --batch >= 1")
    let results =
        [ for arch in RL2.Nn.Architecture.table ->
              let features = r.GetResult(BenchArgs.Num_Features, defaultValue = (if arch.Name = "snail" then 32 else 256))
              let spec: RL2.Nn.ArchitectureSpec = { InputWidth = 7; NumFeatures = features; ContextSize = t }
              Progress.note $"measuring {arch.Name} ({features} features)…"
              RL2.Bench.CacheBench.measure (new torch.Generator(0UL)) arch spec batch ]
    Progress.cacheTable results

let private iterationBench (r: ParseResults<BenchArgs>) =
    let all = IterationBench.workloads RL2.Nn.Architecture.table
    let names = all |> List.map _.Name
    let chosen =
        match r.TryGetResult Workloads with
        | None -> all
        | Some wanted ->
            for w in wanted do
                if not (List.contains w names) then
                    raise (UsageError $"""--workloads must name some of {String.Join(", ", names)}, got '{w}'""")
            all |> List.filter (fun w -> List.contains w.Name wanted)
    let iterations = r.GetResult(BenchArgs.Iterations, defaultValue = 3)
    let warmup = r.GetResult(Warmup, defaultValue = 1)
    let metaEpisodes = r.GetResult(BenchArgs.Meta_Episodes, defaultValue = 60)
    if iterations < 1 || warmup < 0 || metaEpisodes < 1 then
        raise (UsageError "bench needs --iterations >= 1, --warmup >= 0 and --meta_episodes >= 1")
    let out = r.GetResult(BenchArgs.Out, defaultValue = "bench")
    checkWritable out
    let concurrent = r.GetResult(BenchArgs.Concurrent_Networks, defaultValue = 1)
    if concurrent <> 0 && concurrent <> 1 then raise (UsageError $"--concurrent_networks must be 0 or 1, got {concurrent}")
    let peak = IterationBench.matmulPeak ()
    Progress.note $"matmul peak: {peak.One:F1} GFLOP/s on one thread, {peak.Two:F1} on two at once"
    let results =
        [ for w in chosen ->
              Progress.note $"measuring {w.Name}: {warmup} + {iterations} iterations of {metaEpisodes} meta-episodes…"
              IterationBench.measure w (concurrent = 1) metaEpisodes warmup iterations peak ]
    let markdown = IterationBench.toMarkdown peak results
    let json = Path.Combine(out, "iteration.json")
    File.WriteAllText(json, IterationBench.toJson results)
    File.WriteAllText(Path.Combine(out, "iteration.md"), markdown)
    printfn "%s" markdown
    Progress.note $"wrote {json} and iteration.md"

let private bench (r: ParseResults<BenchArgs>) =
    let threads = r.GetResult(BenchArgs.Threads, defaultValue = 1)
    if threads < 1 then raise (UsageError "bench needs --threads >= 1")
    torch.set_num_threads threads
    Progress.widen ()
    match r.GetResult(Suite, defaultValue = "iteration") with
    | "iteration" -> iterationBench r
    | "cache" -> cacheBench r
    | other -> raise (UsageError $"--suite must be one of iteration, cache, got '{other}'")
    0

let private plot (r: ParseResults<PlotArgs>) =
    let runs = r.GetResult Runs
    for run in runs do
        if not (File.Exists(Path.Combine(run, Metrics.fileName))) then
            raise (UsageError $"{run} has no {Metrics.fileName}: give run directories (<checkpoint_dir>/<model_name>)")
    let out = r.GetResult(Out, defaultValue = "learning_curves.png")
    let title = r.GetResult(Title, defaultValue = "learning curves")
    let levels = r.GetResults Level
    match r.GetResult(X, defaultValue = "steps") with
    | "steps" -> LearningCurve.save out title (runs |> List.map LearningCurve.ofRun) levels
    | "seconds" -> LearningCurve.saveInSeconds out title (runs |> List.map LearningCurve.ofRunInSeconds) levels
    | other -> raise (UsageError $"--x must be one of steps, seconds, got '{other}'")
    Progress.note $"wrote {out}"
    0

[<EntryPoint>]
let main argv =
    RL2.Memory.configure () |> ignore
    let parser = ArgumentParser.Create<Command>(programName = "rl2")
    try
        match parser.ParseCommandLine(argv, raiseOnUsage = true).GetSubCommand() with
        | Train r -> TrainCommand.command r
        | Bench r -> bench r
        | Plot r -> plot r
        | Evaluate r -> EvalCommands.evaluate r
        | Table r -> EvalCommands.table r
        | Reproduce r -> Reproduce.command r
    with
    | :? ArguParseException as e when e.ErrorCode = ErrorCode.HelpText ->
        printfn "%s" e.Message
        0
    | :? ArguParseException as e ->
        // Argu appends the whole usage; one line and a pointer to --help read better.
        let lines = e.Message.Trim().Split('\n')
        let first = lines[0].Replace("ERROR: ", "")
        let help = if argv.Length > 0 && List.contains argv[0] [ "train"; "bench"; "plot"; "evaluate"; "table"; "reproduce" ] then $"rl2 {argv[0]} --help" else "rl2 --help"
        eprintfn "rl2: %s (see '%s')" first help
        2
    | UsageError msg ->
        eprintfn "rl2: %s" msg
        2
    | RunLock.RunInUse run ->
        eprintfn "rl2: %s" (TrainCommand.runInUse run)
        2
    | Checkpoint.DamagedCheckpoint(path, reason) ->
        eprintfn "rl2: cannot resume from %s: %s (move it aside to start afresh)" path reason
        2
    | Trainer.TrainingDiverged(iteration, quantity) ->
        eprintfn "rl2: training stopped at iteration %d: the %s is not finite; the checkpoint of iteration %d is kept" iteration quantity (iteration - 1)
        1
