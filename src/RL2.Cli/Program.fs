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

/// Refuses a resume whose flags do not fit the run's checkpoints; returns the flags that changed.
let private checkResume (run: string) (now: RunConfig.Config) =
    let describe diffs = diffs |> List.map (fun (k, a, b) -> $"--{k} was {a}, now {b}") |> String.concat "; "
    match RunConfig.load run with
    | Error msg -> raise (UsageError msg)
    | Ok(Some saved) when (Checkpoint.latest run).IsSome ->
        let c = RunConfig.compare fixedFlags saved now
        if not c.Incompatible.IsEmpty then
            raise (UsageError $"cannot resume {run} with these flags: {describe c.Incompatible} (pass the saved values, or train under another --model_name)")
        if c.Changed.IsEmpty then None else Some(describe c.Changed)
    | Ok _ -> None

/// The random player's level is measured on tasks from a generator stream training never uses.
let private randomPlayerStream = 1_000_000

let private curveFile = "learning_curve.png"

/// What process 0 shows and writes as training goes: a line per iteration, TensorBoard scalars and
/// the learning curve with its reference levels.
let private display (s: Trainer.Settings) : Trainer.Progress =
    match s.RunDir with
    | None -> { Iteration = Progress.iteration s.MaxIterations; Warning = Progress.warning }
    | Some run ->
        let chance = Rollout.randomPlayerReturn (Trainer.generator s.Seed randomPlayerStream) s.Task 1000 s.MetaEpisodeLen
        let tensorboard = TensorBoardLog.writer run
        let title = $"{s.Task.Name} · {s.Architecture.Name} {s.NumFeatures} · {Path.GetFileName run}"
        let levels =
            ("random player", chance)
            :: (RL2.Eval.Published.bestBaseline s.Task s.MetaEpisodeLen |> Option.map (fun (m, v) -> $"best classic baseline, published ({m})", v) |> Option.toList)
        let redraw () = LearningCurve.save (Path.Combine(run, curveFile)) title [ LearningCurve.ofRun run ] levels
        { Iteration =
            fun m ->
                Progress.iteration s.MaxIterations m
                tensorboard m
                if m.Iteration % 5 = 0 || m.Iteration = s.MaxIterations then redraw ()
          Warning = Progress.warning }

let private train (comm: Communicator) (req: TrainRequest) (changed: string option) =
    torch.set_num_threads req.Threads
    // One voice for the whole job: process 0 prints and writes, the others train silently.
    let lead = comm.Rank = 0
    let progress =
        if lead then
            Progress.widen ()
            Progress.summary "rl2 train" req.Summary
            changed |> Option.iter (fun c -> Progress.note $"resuming with changed flags: {c}")
            req.Settings.RunDir
            |> Option.iter (fun run ->
                RunConfig.save run req.Config
                Checkpoint.latest run |> Option.iter (fun i -> Progress.note $"resuming from the checkpoint of iteration {i}"))
            display req.Settings
        else
            Trainer.Progress.silent
    match Trainer.train comm req.Settings progress with
    | Some m when lead -> Progress.note $"done: iteration {m.Iteration}, mean meta-episode return {m.MeanReturn:F3}, {m.Seconds:F0} s of training"
    | None when lead -> Progress.note $"nothing to do: already at iteration {req.Settings.MaxIterations}"
    | _ -> ()
    0

/// Under mpiexec every process trains. A failure on one aborts the job: the others would otherwise wait
/// forever in their next collective. (Flag mistakes are found before MPI starts, the same on every process.)
let private trainUnderMpi (req: TrainRequest) (changed: string option) =
    let comm = Mpi.init ()
    try
        let code = train comm req changed
        Mpi.finalize ()
        code
    with
    | Trainer.TrainingDiverged(iteration, quantity) ->
        eprintfn "rl2: rank %d: training stopped at iteration %d: the %s is not finite" comm.Rank iteration quantity
        Mpi.abort 1
    | e ->
        eprintfn "rl2: rank %d: %s\n%O" comm.Rank e.Message e
        Mpi.abort 1

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
    let iterations = r.GetResult(Iterations, defaultValue = 3)
    let warmup = r.GetResult(Warmup, defaultValue = 1)
    let metaEpisodes = r.GetResult(BenchArgs.Meta_Episodes, defaultValue = 60)
    if iterations < 1 || warmup < 0 || metaEpisodes < 1 then
        raise (UsageError "bench needs --iterations >= 1, --warmup >= 0 and --meta_episodes >= 1")
    let out = r.GetResult(BenchArgs.Out, defaultValue = "bench")
    checkWritable out
    let peak = IterationBench.matmulPeak ()
    Progress.note $"matmul peak: {peak:F1} GFLOP/s"
    let results =
        [ for w in chosen ->
              Progress.note $"measuring {w.Name}: {warmup} + {iterations} iterations of {metaEpisodes} meta-episodes…"
              IterationBench.measure w metaEpisodes warmup iterations peak ]
    let markdown = IterationBench.toMarkdown results
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
    let parser = ArgumentParser.Create<Command>(programName = "rl2")
    try
        match parser.ParseCommandLine(argv, raiseOnUsage = true).GetSubCommand() with
        | Train r ->
            let size = Mpi.worldSize ()
            let req = toTrainRequest (defaultArg size 1) r
            // Checked before MPI starts, so a mistake reads the same, in one line, on every process.
            let changed = req.Settings.RunDir |> Option.bind (fun run -> checkResume run req.Config)
            match size with
            | Some _ -> trainUnderMpi req changed
            | None -> train Communicator.single req changed
        | Bench r -> bench r
        | Plot r -> plot r
        | Evaluate r -> EvalCommands.evaluate r
        | Table r -> EvalCommands.table r
    with
    | :? ArguParseException as e when e.ErrorCode = ErrorCode.HelpText ->
        printfn "%s" e.Message
        0
    | :? ArguParseException as e ->
        // Argu appends the whole usage; one line and a pointer to --help read better.
        let lines = e.Message.Trim().Split('\n')
        let first = lines[0].Replace("ERROR: ", "")
        let help = if argv.Length > 0 && List.contains argv[0] [ "train"; "bench"; "plot"; "evaluate"; "table" ] then $"rl2 {argv[0]} --help" else "rl2 --help"
        eprintfn "rl2: %s (see '%s')" first help
        2
    | UsageError msg ->
        eprintfn "rl2: %s" msg
        2
    | Checkpoint.DamagedCheckpoint(path, reason) ->
        eprintfn "rl2: cannot resume from %s: %s (move it aside to start afresh)" path reason
        2
    | Trainer.TrainingDiverged(iteration, quantity) ->
        eprintfn "rl2: training stopped at iteration %d: the %s is not finite; the checkpoint of iteration %d is kept" iteration quantity (iteration - 1)
        1
