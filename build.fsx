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

/// Replaces what stands between `<!-- name:start -->` and `<!-- name:end -->` in a file of the repository
/// (generated blocks inside hand-written documents).
let replaceMarked (file: string) (name: string) (content: string) =
    let path = IO.Path.Combine(root, file)
    let text = IO.File.ReadAllText path
    let startMarker, endMarker = $"<!-- {name}:start -->", $"<!-- {name}:end -->"
    let i, j = text.IndexOf startMarker, text.IndexOf endMarker
    if i < 0 || j < i then failwith $"{file} lacks the {name} markers"
    IO.File.WriteAllText(path, text[.. i + startMarker.Length - 1] + "\n" + content + text[j..])

/// Regenerates the README's CLI reference (between its cli-reference markers) from `rl2 … --help`.
let docs () =
    run "build src/RL2.Cli -c Release"
    let rl2 = IO.Path.Combine(root, "src/RL2.Cli/bin/Release/net10.0/linux-x64/rl2")
    let section (args: string) = $"### `rl2 {args}`\n\n```\n{capture rl2 args}\n```\n"
    let reference =
        [ "--help"; "train --help"; "evaluate --help"; "table --help"; "reproduce --help"; "bench --help"; "plot --help" ] |> List.map section |> String.concat "\n"
    replaceMarked "README.md" "cli-reference" reference
    printfn "README.md: CLI reference regenerated"

/// Writes docs/api.md from the library's XML doc comments: one section per type or module.
let api () =
    // The CLI's output has the library beside its dependencies, so its types load for reflection.
    run "build src/RL2.Cli -c Release"
    let bin = IO.Path.Combine(root, "src/RL2.Cli/bin/Release/net10.0/linux-x64")
    let xml = Xml.Linq.XDocument.Load(IO.Path.Combine(bin, "RL2.Core.xml"))
    // F#'s private compiles to internal: only what the assembly exports is API (plus type abbreviations,
    // which compile to nothing, and union cases, which are members of their union).
    let assembly = Reflection.Assembly.LoadFrom(IO.Path.Combine(bin, "RL2.Core.dll"))
    let exported = assembly.GetExportedTypes()
    // generic arity suffixes (`1, ``1) are not part of the names a reader knows
    let plain (name: string) = Text.RegularExpressions.Regex.Replace(name, @"`+\d+", "")
    let dotted (t: Type) = plain (t.FullName.Replace('+', '.'))
    let publicTypes = exported |> Array.map dotted |> set
    let compiledTypes = assembly.GetTypes() |> Array.map dotted |> set
    let publicMembers =
        set [ for t in exported do
                  for m in t.GetMembers(Reflection.BindingFlags.Public ||| Reflection.BindingFlags.Static ||| Reflection.BindingFlags.Instance) do
                      let name = if m.Name.StartsWith "get_" then m.Name[4..] else m.Name
                      dotted t, name ]
    let clean (s: string) = Text.RegularExpressions.Regex.Replace(s.Trim(), @"\s+", " ")
    let members =
        [ for m in xml.Descendants(Xml.Linq.XName.Get "member") do
              let name = m.Attribute(Xml.Linq.XName.Get "name").Value
              let summary = m.Element(Xml.Linq.XName.Get "summary")
              if not (isNull summary) then
                  let kind, full = name[0], name[2..]
                  let path = (if full.Contains "(" then full[.. full.IndexOf '(' - 1] else full).Replace('+', '.')
                  let path = plain path
                  let parent, last = path[.. path.LastIndexOf '.' - 1], path[path.LastIndexOf '.' + 1 ..]
                  let owner, leaf = if kind = 'T' then path, "" else parent, last
                  let isPublic =
                      if kind <> 'T' then publicMembers.Contains(owner, leaf)
                      elif publicTypes.Contains path then true
                      elif compiledTypes.Contains path then false
                      else publicTypes.Contains parent || not (compiledTypes.Contains parent)
                  if isPublic && (kind = 'T' || publicTypes.Contains owner) then
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

/// The reference's seconds per iteration on this machine (issue #9: Debian's PyTorch 1.13 with OpenBLAS,
/// 1 thread, GRU 256, 60 meta-episodes of 100 steps, 8 epochs): iteration, rollout, PPO update.
let referenceSeconds = [ "bandit-n100-k5-gru256", (9.6, 5.1, 4.6); "mdp-n10-gru256", (10.0, 5.6, 4.4) ]

let private benchDir = IO.Path.Combine(root, "docs", "bench")

let private readJson (path: string) =
    if IO.File.Exists path then Some(Text.Json.JsonDocument.Parse(IO.File.ReadAllText path)) else None

/// Time to quality: bandit n=10 k=5, 600 meta-episodes of 10 steps per iteration, 8 epochs,
/// minibatch 60, one process, seeds 1-3; the return is the last 1000 meta-episodes' mean, smoothed
/// over 5 iterations as the reference's figure was.
let qualitySettings =
    [ "reference", "--num_features 256 --adam_lr 2e-4", 130
      "best", "--num_features 128 --adam_lr 5e-4", 100 ]

let qualityLevels = [ 6.0; 6.3; 6.5 ]

/// Seconds of training until the 5-iteration moving average of the mean return first reaches each level.
let private timesToQuality (run: string) =
    let lines = IO.File.ReadAllLines(IO.Path.Combine(run, "metrics.jsonl")) |> Array.filter (fun l -> l.Trim() <> "")
    let rows =
        [| for l in lines ->
               use d = Text.Json.JsonDocument.Parse l
               d.RootElement.GetProperty("seconds").GetDouble(), d.RootElement.GetProperty("mean_return").GetDouble() |]
    let smoothed = rows |> Array.mapi (fun i (t, _) -> t, rows[max 0 (i - 4) .. i] |> Array.averageBy snd)
    [ for level in qualityLevels -> smoothed |> Array.tryFind (fun (_, r) -> r >= level) |> Option.map fst ]

/// Each time-to-quality run's seconds to each level, kept with the bench results because runs/ is not
/// committed: `performance` rebuilds its table from this file on any machine.
let private qualityFile = IO.Path.Combine(benchDir, "quality.json")

/// A time-to-quality run's directory, relative to the repository root.
let private qualityRun (name: string) (seed: int) = $"runs/quality/{name}-seed{seed}"

let private saveQuality () =
    let rows =
        [ for name, _, _ in qualitySettings do
              for seed in 1..3 do
                  let run = IO.Path.Combine(root, qualityRun name seed)
                  if IO.File.Exists(IO.Path.Combine(run, "metrics.jsonl")) then
                      {| settings = name; seed = seed; seconds_to_level = timesToQuality run |> List.map Option.toNullable |} ]
    let json = Text.Json.JsonSerializer.Serialize({| levels = qualityLevels; runs = rows |}, Text.Json.JsonSerializerOptions(WriteIndented = true))
    IO.File.WriteAllText(qualityFile, json + "\n")

/// The saved runs' seconds to each level (None: never reached), by setting name.
let private savedQuality () =
    match readJson qualityFile with
    | Some d ->
        [ for r in d.RootElement.GetProperty("runs").EnumerateArray() ->
              r.GetProperty("settings").GetString(),
              [ for t in r.GetProperty("seconds_to_level").EnumerateArray() ->
                    if t.ValueKind = Text.Json.JsonValueKind.Null then None else Some(t.GetDouble()) ] ]
    | None -> []

/// Regenerates docs/performance.md from docs/bench/before/iteration.json (the same workloads on the
/// commit before issue #9's work), docs/bench/iteration.json and docs/bench/quality.json.
let performance () =
    let rows (path: string) =
        readJson path
        |> Option.map (fun d -> [ for r in d.RootElement.EnumerateArray() -> r.GetProperty("workload").GetString(), r ])
        |> Option.defaultValue []
    let before, after = rows (IO.Path.Combine(benchDir, "before", "iteration.json")), rows (IO.Path.Combine(benchDir, "iteration.json"))
    let inTurn = rows (IO.Path.Combine(benchDir, "in-turn", "iteration.json"))
    let num (r: Text.Json.JsonElement) (name: string) = r.GetProperty(name).GetDouble()
    let table (rs: (string * Text.Json.JsonElement) list) =
        [ "| workload | iteration s | rollout s | credit s | update s | checkpoint s | update GFLOP/s | of matmul peak | peak RSS MB |"
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|" ]
        @ [ for w, r in rs ->
                let n = num r
                sprintf "| %s | %.2f | %.3f | %.4f | %.2f | %.3f | %.1f | %.0f%% | %.0f |" w (n "iteration_seconds") (n "rollout_seconds")
                    (n "credit_seconds") (n "update_seconds") (n "checkpoint_seconds") (n "update_gflop_per_second")
                    (100.0 * n "update_efficiency") (n "peak_rss_mb") ]
    // The ceiling each run's efficiency is measured against: one thread's matmul rate, or two threads'
    // at once when the networks ran concurrently.
    let peak (rs: (string * Text.Json.JsonElement) list) =
        rs |> List.tryHead |> Option.map (fun (_, r) -> (num r "matmul_gflop_per_second").ToString "F1") |> Option.defaultValue "?"
    let ratios =
        [ "| workload | reference iteration s | ours | ×  | ours, in turn | × | reference rollout s | ours | × | reference update s | ours | × |"
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" ]
        @ [ for w, (it, ro, up) in referenceSeconds do
                match after |> List.tryFind (fst >> (=) w) with
                | Some(_, r) ->
                    let i, o, u = num r "iteration_seconds", num r "rollout_seconds", num r "update_seconds"
                    let single =
                        match inTurn |> List.tryFind (fst >> (=) w) with
                        | Some(_, t) -> let ti = num t "iteration_seconds" in $"{ti:F2} | {it / ti:F1}"
                        | None -> "– | –"
                    yield $"| {w} | {it} | {i:F2} | {it / i:F1} | {single} | {ro} | {o:F3} | {ro / o:F0} | {up} | {u:F2} | {up / u:F1} |"
                | None -> () ]
    // `rl2 bench --iterations 100 --warmup 0` of a workload, run for its memory (its timings were shared).
    let rss =
        rows (IO.Path.Combine(benchDir, "memory", "iteration.json"))
        |> List.choose (fun (w, r) ->
            let series =
                match r.TryGetProperty "rss_mb_by_iteration" with
                | true, xs -> [| for x in xs.EnumerateArray() -> x.GetDouble() |]
                | _ -> [||]
            if series.Length >= 100 then Some $"| {w} | {series[9]:F0} | {series[99]:F0} | {series.Length} |" else None)
    let quality =
        let saved = savedQuality ()
        [ for name, flags, _ in qualitySettings do
              let times = saved |> List.filter (fst >> (=) name) |> List.map snd
              if not times.IsEmpty then
                  let cell k =
                      let reached = times |> List.choose (fun ts -> ts[k]) |> List.sort
                      let all = times |> List.map (fun ts -> ts[k] |> Option.map (fun t -> $"{t:F0}") |> Option.defaultValue "–") |> String.concat ", "
                      // The median of the seeds counts a seed that never reached the level as infinite.
                      let median = if reached.Length * 2 > times.Length then $"**{reached[times.Length / 2]:F0} s**" else "not reached"
                      $"{median} ({all})"
                  yield $"| {name} | `{flags}` | {times.Length} | {cell 0} | {cell 1} | {cell 2} |" ]
    let lines =
        [ "<!-- Generated by `dotnet fsi build.fsx bench` (iteration workloads), `quality` (time to quality) and"
          "`performance` (this block only, from what they saved); the text outside this block is written by hand. -->"
          ""
          "## Seconds per policy iteration"
          ""
          "GRU 256, LSTM 256, SNAIL 32 and the 9-layer Transformer 256; 60 meta-episodes of 100 steps, 8 PPO"
          "epochs of minibatch 60 (one minibatch per epoch), the reference's settings otherwise. Phases as"
          "`rl2 bench` times them; update GFLOP/s counts 3 × 2 × weight-matrix multiply-adds per step and"
          "epoch (attention scores not counted)."
          ""
          $"### Now: policy and value networks at once, on two threads (the default; ceiling: two threads' matmul rate in the same run, {peak after} GFLOP/s)"
          ""
          yield! table after
          ""
          $"### Now: the networks in turn, one thread (`--concurrent_networks 0`; ceiling: one thread's matmul rate, {peak inTurn} GFLOP/s)"
          ""
          yield! table inTurn
          ""
          $"### Before issue #9 (commit 49009c9, same workloads; matmul peak {peak before} GFLOP/s)"
          ""
          yield! table before
          ""
          "## Against the reference"
          ""
          "The reference's seconds per iteration as measured on this machine (OpenBLAS, 1 thread); × = how"
          "many times faster ours is: by default (both vCPUs, the networks on two threads) and in turn on one"
          "thread (`--concurrent_networks 0`), the reference's own thread count."
          ""
          yield! ratios
          ""
          "## Resident memory over 100 iterations"
          ""
          "| workload | RSS after 10 iterations, MB | after 100 | iterations |"
          "|---|---:|---:|---:|"
          yield! rss
          ""
          "## Time to quality"
          ""
          "Bandit n=10 k=5, 600 meta-episodes of 10 steps per iteration, 8 epochs, minibatch 60, one process"
          "(the networks on two threads, the default; runs before that took 1.7–1.8× as long: 202 s and 77 s to 6.5)."
          "Training seconds until the mean return of the last 1000 meta-episodes, smoothed over 5 iterations,"
          "first reaches 6.0 / 6.3 / 6.5 (Bayes-optimal: 6.660): median over seeds, each seed in brackets."
          "The reference (GRU 256, AdamW 2e-4, one unseeded run, same machine): 6.0 after 275 s, 6.3 after"
          "587 s, 6.5 after 1149 s."
          ""
          "| settings | flags | seeds | 6.0 | 6.3 | 6.5 |"
          "|---|---|---:|---:|---:|---:|"
          yield! quality
          ""
          "![time to quality](images/time-to-quality.png)"
          "" ]
    let path = IO.Path.Combine(root, "docs", "performance.md")
    if not (IO.File.Exists path) then IO.File.WriteAllText(path, "# Performance\n\n<!-- measured:start -->\n<!-- measured:end -->\n")
    replaceMarked "docs/performance.md" "measured" (String.Join("\n", lines))
    printfn "docs/performance.md: measured block regenerated"

/// Runs the iteration benchmark (all workloads) into docs/bench and regenerates docs/performance.md.
let bench () =
    run "build src/RL2.Cli -c Release"
    run "run --project src/RL2.Cli -c Release --no-build -- bench --out docs/bench"
    performance ()

/// Trains each time-to-quality setting for seeds 1-3 (resuming runs already there), plots the
/// curves against training seconds, saves their times to docs/bench/quality.json and regenerates
/// docs/performance.md.
let quality () =
    run "build src/RL2.Cli -c Release"
    for name, flags, iterations in qualitySettings do
        for seed in 1..3 do
            run (
                $"run --project src/RL2.Cli -c Release --no-build -- train --meta_episode_len 10 --meta_episodes_per_policy_update 600 "
                + $"{flags} --max_pol_iters {iterations} --seed {seed} --checkpoint_dir runs/quality --model_name {name}-seed{seed}"
            )
    let runs = [ for name, _, _ in qualitySettings do for seed in 1..3 -> qualityRun name seed ] |> String.concat " "
    run $"run --project src/RL2.Cli -c Release --no-build -- plot {runs} --x seconds --out docs/images/time-to-quality.png --title \"bandit n=10 k=5: time to quality\" --level Bayes-optimal 6.66"
    saveQuality ()
    performance ()

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
      "bench", "run rl2 bench's iteration workloads into docs/bench and regenerate docs/performance.md", bench
      "quality", "time-to-quality runs (3 seeds per setting) and regenerate docs/performance.md", quality
      "performance", "regenerate docs/performance.md from docs/bench", performance
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
