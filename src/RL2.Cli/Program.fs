module RL2.Cli.Program

open System
open Argu
open TorchSharp
open RL2.Dist
open RL2.Train
open RL2.Cli.Args

let private train (r: ParseResults<TrainArgs>) =
    let comm = Communicator.single
    let req = toTrainRequest comm.Size r
    torch.set_num_threads req.Threads
    Progress.widen ()
    Progress.summary "rl2 train" req.Summary
    req.Settings.RunDir
    |> Option.bind Checkpoint.latest
    |> Option.iter (fun i -> Progress.note $"resuming from the checkpoint of iteration {i}")
    match Trainer.train comm req.Settings (Progress.iteration req.Settings.MaxIterations) with
    | Some m -> Progress.note $"done: iteration {m.Iteration}, mean meta-episode return {m.MeanReturn:F3}, {m.Seconds:F0} s of training"
    | None -> Progress.note $"nothing to do: already at iteration {req.Settings.MaxIterations}"
    0

let private bench (r: ParseResults<BenchArgs>) =
    let t = r.GetResult(BenchArgs.Meta_Episode_Len, defaultValue = 100)
    let batch = r.GetResult(Batch, defaultValue = 60)
    let threads = r.GetResult(BenchArgs.Threads, defaultValue = 1)
    if t < 2 || batch < 1 || threads < 1 then
        raise (UsageError "bench needs --meta_episode_len >= 2, --batch >= 1 and --threads >= 1")
    torch.set_num_threads threads
    Progress.widen ()
    let results =
        [ for arch in RL2.Nn.Architecture.table ->
              let features = r.GetResult(BenchArgs.Num_Features, defaultValue = (if arch.Name = "snail" then 32 else 256))
              let spec: RL2.Nn.ArchitectureSpec = { InputWidth = 7; NumFeatures = features; ContextSize = t }
              Progress.note $"measuring {arch.Name} ({features} features)…"
              RL2.Bench.CacheBench.measure (new torch.Generator(0UL)) arch spec batch ]
    Progress.cacheTable results
    0

[<EntryPoint>]
let main argv =
    let parser = ArgumentParser.Create<Command>(programName = "rl2")
    try
        match parser.ParseCommandLine(argv, raiseOnUsage = true).GetSubCommand() with
        | Train r -> train r
        | Bench r -> bench r
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
        eprintfn "rl2: %s (see 'rl2 train --help')" first
        2
    | UsageError msg ->
        eprintfn "rl2: %s" msg
        2
