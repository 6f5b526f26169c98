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

/// Output of a command, for generated documentation.
let capture (file: string) (args: string) =
    let psi = ProcessStartInfo(file, args, WorkingDirectory = root, RedirectStandardOutput = true)
    use p = Process.Start psi
    let out = p.StandardOutput.ReadToEnd()
    p.WaitForExit()
    out.TrimEnd()

/// Regenerates the README's CLI reference (between its cli-reference markers) from `rl2 … --help`.
let docs () =
    run "build src/RL2.Cli -c Release"
    let rl2 = IO.Path.Combine(root, "src/RL2.Cli/bin/Release/net10.0/linux-x64/rl2")
    let section (args: string) = $"### `rl2 {args}`\n\n```\n{capture rl2 args}\n```\n"
    let reference =
        [ "--help"; "train --help"; "bench --help"; "plot --help" ] |> List.map section |> String.concat "\n"
    let readme = IO.Path.Combine(root, "README.md")
    let text = IO.File.ReadAllText readme
    let startMarker, endMarker = "<!-- cli-reference:start -->", "<!-- cli-reference:end -->"
    let i, j = text.IndexOf startMarker, text.IndexOf endMarker
    if i < 0 || j < i then failwith "README.md lacks the cli-reference markers"
    IO.File.WriteAllText(readme, text[.. i + startMarker.Length - 1] + "\n" + reference + text[j..])
    printfn "README.md: CLI reference regenerated"

let targets =
    [ "build", "build everything (Release)", fun () -> run "build RL2.sln -c Release"
      "test", "run every test (the README's test command)", fun () -> run "run --project tests/RL2.Tests -c Release"
      "train", "the README's training demo", fun () -> run $"run --project src/RL2.Cli -c Release -- train {demoFlags}"
      "docs", "regenerate the README's CLI reference from rl2 --help", docs ]

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
