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

[<EntryPoint>]
let main argv =
    let parser = ArgumentParser.Create<Command>(programName = "rl2")
    try
        match parser.ParseCommandLine(argv, raiseOnUsage = true).GetSubCommand() with
        | Train r -> train r
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
