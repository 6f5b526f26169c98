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
        [ "--help"; "train --help"; "evaluate --help"; "table --help"; "reproduce --help"; "bench --help"; "plot --help" ] |> List.map section |> String.concat "\n"
    let readme = IO.Path.Combine(root, "README.md")
    let text = IO.File.ReadAllText readme
    let startMarker, endMarker = "<!-- cli-reference:start -->", "<!-- cli-reference:end -->"
    let i, j = text.IndexOf startMarker, text.IndexOf endMarker
    if i < 0 || j < i then failwith "README.md lacks the cli-reference markers"
    IO.File.WriteAllText(readme, text[.. i + startMarker.Length - 1] + "\n" + reference + text[j..])
    printfn "README.md: CLI reference regenerated"

/// Writes docs/api.md from the library's XML doc comments: one section per type or module.
let api () =
    run "build src/RL2 -c Release"
    let xml = Xml.Linq.XDocument.Load(IO.Path.Combine(root, "src/RL2/bin/Release/net10.0/linux-x64/RL2.Core.xml"))
    let clean (s: string) = Text.RegularExpressions.Regex.Replace(s.Trim(), @"\s+", " ")
    let members =
        [ for m in xml.Descendants(Xml.Linq.XName.Get "member") do
              let name = m.Attribute(Xml.Linq.XName.Get "name").Value
              let summary = m.Element(Xml.Linq.XName.Get "summary")
              if not (isNull summary) then
                  let kind, full = name[0], name[2..]
                  let path = (if full.Contains "(" then full[.. full.IndexOf '(' - 1] else full).Replace('+', '.')
                  let owner, leaf = if kind = 'T' then path, "" else path[.. path.LastIndexOf '.' - 1], path[path.LastIndexOf '.' + 1 ..]
                  yield owner, leaf, clean summary.Value ]
    let sections =
        members
        |> List.groupBy (fun (owner, _, _) -> owner)
        |> List.sortBy fst
        |> List.map (fun (owner, entries) ->
            let head = entries |> List.tryPick (fun (_, leaf, text) -> if leaf = "" then Some text else None)
            let items = entries |> List.filter (fun (_, leaf, _) -> leaf <> "") |> List.distinctBy (fun (_, l, _) -> l)
            [ yield $"## `{owner}`\n"
              yield! head |> Option.map (fun h -> h + "\n") |> Option.toList
              for _, leaf, text in items do
                  yield $"- `{leaf}` — {text}"
              yield "" ]
            |> String.concat "\n")
    let header =
        "# RL2 API reference\n\nGenerated from the XML doc comments of `src/RL2` by `dotnet fsi build.fsx api`; "
        + "read `src/RL2/RL2.fsproj` top to bottom for the same modules in dependency order.\n\n"
    IO.File.WriteAllText(IO.Path.Combine(root, "docs", "api.md"), header + String.concat "\n" sections)
    printfn "docs/api.md: %d documented members" members.Length
/// Regenerates docs/tables.md: the full bandit and MDP tables (every baseline, 1000 meta-episodes per
/// cell, evaluation seed 0) with their wall times; the CSV and JSON beside it in docs/tables/.
let table () =
    run "build src/RL2.Cli -c Release"
    let timed (environment: string) =
        let clock = Stopwatch.StartNew()
        run $"run --project src/RL2.Cli -c Release --no-build -- table --environment {environment} --output docs/tables/{environment}"
        let wall = clock.Elapsed.TotalSeconds
        let json = IO.File.ReadAllText(IO.Path.Combine(root, "docs", "tables", environment + ".json"))
        use doc = Text.Json.JsonDocument.Parse json
        let seconds = doc.RootElement.GetProperty("seconds").GetDouble()
        let cells = doc.RootElement.GetProperty("cells").GetArrayLength()
        environment, cells, seconds, wall
    let timings = [ timed "bandit"; timed "tabular_mdp" ]
    let section (environment: string) =
        IO.File.ReadAllText(IO.Path.Combine(root, "docs", "tables", environment + ".md")).TrimEnd()
    let minutes (s: float) = TimeSpan.FromSeconds(s).ToString(@"m\:ss")
    let lines =
        [ "# The papers' tables, reproduced"
          ""
          "Generated by `dotnet fsi build.fsx table` (do not edit by hand): `rl2 table` for each environment,"
          "every baseline on the very same seeded evaluation tasks, 1000 meta-episodes per cell. The CSV and"
          "JSON of each table are in `docs/tables/`."
          ""
          "## Bandits"
          ""
          section "bandit"
          ""
          "## Tabular MDPs"
          ""
          section "tabular_mdp"
          ""
          "## Wall time"
          ""
          $"On this {Environment.ProcessorCount}-vCPU machine (1 torch thread, baselines single-threaded):"
          ""
          "| table | cells | playing the cells | whole command |"
          "|---|---:|---:|---:|" ]
        @ [ for env, cells, seconds, wall in timings -> $"| {env} | {cells} | {minutes seconds} | {minutes wall} |" ]
    IO.File.WriteAllText(IO.Path.Combine(root, "docs", "tables.md"), String.Join("\n", lines) + "\n")
    printfn "wrote docs/tables.md"

/// `rl2 reproduce` with the arguments after the target: lists the recipes, or runs one (resuming where it
/// stopped) and, once it is trained, writes its result to docs/results/ and regenerates docs/results.md.
let reproduce () =
    run "build src/RL2.Cli -c Release --nologo -v q"
    let psi = ProcessStartInfo(IO.Path.Combine(root, "src/RL2.Cli/bin/Release/net10.0/linux-x64/rl2"), WorkingDirectory = root)
    psi.ArgumentList.Add "reproduce"
    for a in fsi.CommandLineArgs |> Array.skip 2 do
        psi.ArgumentList.Add a
    use p = Process.Start psi
    p.WaitForExit()
    // rl2 has said what went wrong, in one line.
    if p.ExitCode <> 0 then exit p.ExitCode

let targets =
    [ "build", "build everything (Release)", fun () -> run "build RL2.sln -c Release"
      "test", "run every test (the README's test command)", fun () -> run "run --project tests/RL2.Tests -c Release"
      "train", "the README's training demo", fun () -> run $"run --project src/RL2.Cli -c Release -- train {demoFlags}"
      "docs", "regenerate the README's CLI reference from rl2 --help", docs
      "api", "regenerate docs/api.md from the library's XML doc comments", api
      "table", "regenerate docs/tables.md: every baseline on every setup of the papers' tables", table
      "reproduce", "list the recipes; 'reproduce <recipe> [--iterations K] [--minutes M]' runs one (resuming)", reproduce ]

match fsi.CommandLineArgs |> Array.skip 1 |> Array.tryHead with
| Some name when targets |> List.exists (fun (n, _, _) -> n = name) ->
    let _, _, action = targets |> List.find (fun (n, _, _) -> n = name)
    action ()
| other ->
    other |> Option.iter (eprintfn "unknown target '%s'")
    printfn "usage: dotnet fsi build.fsx <target>\n"
    for n, d, _ in targets do
        printfn "  %-9s %s" n d
    if other.IsSome then exit 2
