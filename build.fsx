// Build targets: `dotnet fsi build.fsx <target>`; with no target, lists them.
open System
open System.Diagnostics

let root = __SOURCE_DIRECTORY__

let run (args: string) =
    printfn "> dotnet %s" args
    use p = Process.Start(ProcessStartInfo("dotnet", args, WorkingDirectory = root))
    p.WaitForExit()
    if p.ExitCode <> 0 then
        eprintfn "'dotnet %s' failed with exit code %d" args p.ExitCode
        exit p.ExitCode

/// The README's demo: a GRU agent learning 10-pull, 5-arm Bernoulli bandits in about two minutes.
let demoFlags =
    "--meta_episode_len 10 --num_features 128 --adam_lr 1e-3 --meta_episodes_per_policy_update 600 --max_pol_iters 100 --model_name bandit-n10-k5"

let targets =
    [ "build", "build everything (Release)", fun () -> run "build RL2.sln -c Release"
      "test", "run every test (the README's test command)", fun () -> run "run --project tests/RL2.Tests -c Release"
      "train", "the README's training demo", fun () -> run $"run --project src/RL2.Cli -c Release -- train {demoFlags}" ]

match fsi.CommandLineArgs |> Array.skip 1 |> Array.tryHead with
| Some name when targets |> List.exists (fun (n, _, _) -> n = name) ->
    let _, _, action = targets |> List.find (fun (n, _, _) -> n = name)
    action ()
| other ->
    other |> Option.iter (eprintfn "unknown target '%s'")
    printfn "usage: dotnet fsi build.fsx <target>\n"
    for n, d, _ in targets do
        printfn "  %-8s %s" n d
    if other.IsSome then exit 2
