/// `rl2 evaluate` and `rl2 table`: flags into evaluation requests, results onto the console.
module RL2.Cli.EvalCommands

open System
open System.Collections.Generic
open System.IO
open System.Text.Json
open Argu
open Spectre.Console
open TorchSharp
open RL2.Envs
open RL2.Nn
open RL2.Baselines
open RL2.Eval
open RL2.Train
open RL2.Cli.Args
open RL2.Cli.EvalArgs

let private fail msg = raise (UsageError msg)

/// A run's saved flags (`config.json` beside its checkpoints, written by `rl2 train`), if any.
let readConfig (run: string) : Map<string, string> =
    match RunConfig.load run with
    | Ok saved -> saved |> Option.map completeConfig |> Option.defaultValue Map.empty
    | Error msg -> fail msg

/// Flags given on the command line laid over the run's saved ones; a contradiction is refused.
let overlay (run: string) (saved: Map<string, string>) (given: (string * string) list) =
    given
    |> List.fold
        (fun (cfg: Map<string, string>) (k, v) ->
            match Map.tryFind k saved with
            | Some s when s <> v -> fail $"{run} was trained with --{k} {s}, not {v}"
            | _ -> Map.add k v cfg)
        saved

/// The network a configuration describes (train's flag names and defaults).
let networkSpec (cfg: Map<string, string>) : Evaluate.NetworkSpec =
    let str key dflt = Map.tryFind key cfg |> Option.defaultValue dflt
    let int key (dflt: int) =
        match Map.tryFind key cfg with
        | None -> dflt
        | Some v ->
            match Int32.TryParse v with
            | true, n -> n
            | _ -> fail $"--{key} must be an integer, got '{v}'"
    let numStates, numActions, maxEpisodeLen = int "num_states" 10, int "num_actions" 5, int "max_episode_len" 10
    let metaEpisodeLen, numFeatures = int "meta_episode_len" 100, int "num_features" 256
    if numStates < 1 then fail $"--num_states must be at least 1, got {numStates}"
    if numActions < 2 then fail $"--num_actions must be at least 2, got {numActions}"
    if maxEpisodeLen < 1 then fail $"--max_episode_len must be at least 1, got {maxEpisodeLen}"
    if metaEpisodeLen < 1 then fail $"--meta_episode_len must be at least 1, got {metaEpisodeLen}"
    if numFeatures < 1 then fail $"--num_features must be at least 1, got {numFeatures}"
    let environment = str "environment" "bandit"
    let task = taskOf environment { NumStates = numStates; NumActions = numActions; MaxEpisodeLen = maxEpisodeLen }
    let transformer =
        transformerOptions
            (int "num_layers" Transformer.reference.Layers)
            (int "num_heads" Transformer.reference.Heads)
            (str "attention" "sparse")
            (str "connections" "dense")
            (str "layer_ordering" "fn")
            (str "positions" "absolute")
    let forgetBias =
        match Map.tryFind "forget_bias" cfg with
        | None -> Architecture.referenceForgetBias
        | Some v ->
            match Double.TryParse(v, Globalization.NumberStyles.Float, Globalization.CultureInfo.InvariantCulture) with
            | true, b ->
                checkForgetBias b
                float32 b
            | _ -> fail $"--forget_bias must be a number, got '{v}'"
    let architecture =
        let name = str "architecture" "gru"
        match Architecture.tryFind name (Architecture.standard forgetBias transformer) with
        | Some a -> a
        | None -> fail $"""--architecture must be one of {Architecture.table |> List.map _.Name |> String.concat ", "}, got '{name}'"""
    { Task = task
      Architecture = architecture
      NumFeatures = numFeatures
      MetaEpisodeLen = metaEpisodeLen }

let private checkRun (run: string) =
    if not (Directory.Exists run) then fail $"no run directory {run}"
    if (Checkpoint.latest run).IsNone then fail $"{run} holds no complete checkpoint"

/// `--checkpoint latest|best`; a best checkpoint must exist.
let checkpointOf (run: string) (text: string) =
    let which = choose "checkpoint" text [ "latest", Checkpoint.Latest; "best", Checkpoint.Best ]
    if which = Checkpoint.Best && (Checkpoint.tryBest run).IsNone then
        fail $"{run} has no best checkpoint: it was trained without --eval_every"
    which

/// A baseline by its command-line name (case-insensitive) and optional variant, for one setup.
let findBaseline (spec: Evaluate.NetworkSpec) (defaultVariant: string) (nameAndVariant: string) =
    let name, variant =
        match nameAndVariant.Split(':', 2) with
        | [| n; v |] -> n.ToLowerInvariant(), Some(v.ToLowerInvariant())
        | _ -> nameAndVariant.ToLowerInvariant(), None
    let task, t = spec.Task, spec.MetaEpisodeLen
    let entries =
        match task.Name with
        | "bandit" -> Catalog.banditEntries (Catalog.banditHyper t task.NumActions) t task.NumActions
        | _ ->
            let episodes = max 1 (t / task.EpisodeLength)
            Catalog.mdpEntries (Catalog.mdpHyper episodes) task.ObservationWidth task.NumActions task.EpisodeLength
    let matching = entries |> List.filter (fun e -> e.Name.ToLowerInvariant() = name)
    if matching.IsEmpty then
        if name = "bayes-optimal" && task.Name = "bandit" then
            fail $"--baseline bayes-optimal is tractable only for n <= {Catalog.bayesOptimalMaxPulls} pulls, got {t}"
        let known = entries |> List.map (fun e -> e.Name.ToLowerInvariant()) |> List.distinct |> String.concat ", "
        fail $"--baseline '{nameAndVariant}' is not a baseline of {task.Name}; choose from {known}"
    match matching with
    | [ e ] when variant.IsNone || variant = Some(e.Variant.ToLowerInvariant()) -> e
    | [ e ] -> fail $"--baseline {name} has no variant '{variant.Value}'"
    | many ->
        let wanted = variant |> Option.defaultValue defaultVariant
        match many |> List.tryFind (fun e -> e.Variant = wanted) with
        | Some e -> e
        | None ->
            let vs = many |> List.map _.Variant |> String.concat ", "
            fail $"--baseline {name} has variants {vs}, not '{wanted}'"

let private summaryTable (rows: (string * Stats.Summary) list) (differences: (string * Stats.Summary) list) =
    let table = Spectre.Console.Table().Border(TableBorder.Markdown)
    table.AddColumns("policy", "mean return", "95% CI", "meta-episodes") |> ignore
    for name, s in rows do
        table.AddRow(Markup.Escape name, $"{s.Mean:F3}", $"± {s.HalfWidth:F3}", string s.Count) |> ignore
    AnsiConsole.Write table
    if not differences.IsEmpty then
        let d = Spectre.Console.Table().Border(TableBorder.Markdown)
        d.AddColumns("paired difference", "mean", "95% CI") |> ignore
        for name, s in differences do
            d.AddRow(Markup.Escape name, $"{s.Mean:F3}", $"± {s.HalfWidth:F3}") |> ignore
        AnsiConsole.Write d

let evaluate (r: ParseResults<EvaluateArgs>) =
    let count = r.GetResult(EvaluateArgs.Meta_Episodes, defaultValue = 1000)
    let seed = r.GetResult(EvaluateArgs.Seed, defaultValue = 0L)
    let threads = r.GetResult(EvaluateArgs.Threads, defaultValue = 1)
    let baselines = r.GetResults EvaluateArgs.Baseline
    let variant = r.GetResult(EvaluateArgs.Variant, defaultValue = "empirical")
    if count < 2 then fail $"--meta_episodes must be at least 2, got {count}"
    if threads < 1 then fail $"--threads must be at least 1, got {threads}"
    if variant <> "empirical" && variant <> "posterior" then fail $"--variant must be empirical or posterior, got '{variant}'"
    let withNetwork = r.Contains EvaluateArgs.Model_Name || r.Contains EvaluateArgs.Checkpoint_Dir || baselines.IsEmpty
    let run =
        Path.Combine(r.GetResult(EvaluateArgs.Checkpoint_Dir, defaultValue = "checkpoints"), r.GetResult(EvaluateArgs.Model_Name, defaultValue = "defaults"))
    if withNetwork then checkRun run
    let which = if withNetwork then checkpointOf run (r.GetResult(EvaluateArgs.Checkpoint, defaultValue = "latest")) else Checkpoint.Latest
    let given =
        [ let add key (v: 'a option) = v |> Option.map (fun x -> key, string x)
          yield! [ add "environment" (r.TryGetResult EvaluateArgs.Environment)
                   add "num_states" (r.TryGetResult EvaluateArgs.Num_States)
                   add "num_actions" (r.TryGetResult EvaluateArgs.Num_Actions)
                   add "max_episode_len" (r.TryGetResult EvaluateArgs.Max_Episode_Len)
                   add "meta_episode_len" (r.TryGetResult EvaluateArgs.Meta_Episode_Len)
                   add "architecture" (r.TryGetResult EvaluateArgs.Architecture)
                   add "num_features" (r.TryGetResult EvaluateArgs.Num_Features)
                   add "forget_bias" (r.TryGetResult EvaluateArgs.Forget_Bias)
                   add "num_layers" (r.TryGetResult EvaluateArgs.Num_Layers)
                   add "num_heads" (r.TryGetResult EvaluateArgs.Num_Heads)
                   add "attention" (r.TryGetResult EvaluateArgs.Attention)
                   add "connections" (r.TryGetResult EvaluateArgs.Connections)
                   add "layer_ordering" (r.TryGetResult EvaluateArgs.Layer_Ordering)
                   add "positions" (r.TryGetResult EvaluateArgs.Positions) ]
                 |> List.choose id ]
    let cfg = if withNetwork then overlay run (readConfig run) given else Map.ofList given
    let spec = networkSpec cfg
    let entries = baselines |> List.map (findBaseline spec variant)
    torch.set_num_threads threads
    Progress.widen ()
    let policies =
        [ if withNetwork then
              let net, iteration = Evaluate.loadNetwork which run spec
              let tags = [ if which = Checkpoint.Best then "best"
                           if r.Contains EvaluateArgs.Greedy then "greedy" ]
              let name = $"""{Path.GetFileName(Path.TrimEndingDirectorySeparator run)} (iteration {iteration}{tags |> List.map ((+) ", ") |> String.concat ""})"""
              yield name, Policy.erase (Evaluate.network spec.Task net (r.Contains EvaluateArgs.Greedy))
          for e in entries -> e.Label, e.Policy ]
    Progress.summary
        "rl2 evaluate"
        [ "task", $"{spec.Task.Name}, {spec.Task.NumActions} actions, meta-episodes of {spec.MetaEpisodeLen} steps"
          "meta-episodes", $"{count} (evaluation seed {seed})"
          "policies", policies |> List.map fst |> String.concat ", " ]
    let played =
        [ for name, p in policies ->
              let clock = Diagnostics.Stopwatch.StartNew()
              let episodes = Evaluate.playEpisodes spec.Task spec.MetaEpisodeLen seed count p
              Progress.note $"{name}: {clock.Elapsed.TotalSeconds:F1} s"
              name, episodes ]
    let results = played |> List.map (fun (name, episodes) -> name, Array.init count (fun b -> episodes |> Array.sumBy (fun e -> e[b])))
    let first, firstReturns = results.Head
    summaryTable
        (results |> List.map (fun (n, xs) -> n, Stats.summarize xs))
        [ for name, xs in results.Tail -> $"{first} − {name}", Stats.paired firstReturns xs ]
    // The in-context learning curve: a policy with memory improves from episode to episode.
    let curves = played |> List.map (fun (name, episodes) -> name, Evaluate.episodeCurve episodes)
    Progress.note "mean return per episode of the meta-episode (the in-context learning curve):"
    for name, curve in curves do
        let cells = curve |> Array.mapi (fun i v -> $"{i + 1}: {v:F3}")
        Progress.note $"  {name}"
        for row in Array.chunkBySize 10 cells do
            Progress.note ("    " + String.Join("  ", row))
    let png = r.GetResult(EvaluateArgs.Plot, defaultValue = (if withNetwork then Path.Combine(run, "per_episode.png") else "per_episode.png"))
    RL2.Report.LearningCurve.plot
        png
        $"{spec.Task.Name}: return per episode of a meta-episode ({count} meta-episodes, seed {seed})"
        "episode of the meta-episode"
        "mean return"
        [ for name, curve in curves ->
              { Label = name
                X = Array.init curve.Length (fun i -> float (i + 1))
                MeanReturns = curve } ]
        []
    Progress.note $"wrote {png}"
    0

/// NAME=RUN_DIR[:key=value,...] → a table checkpoint column.
let parseCheckpoint (greedy: bool) (text: string) : Table.Checkpoint =
    match text.Split('=', 2) with
    | [| name; rest |] when name <> "" && rest <> "" ->
        let run, pairs =
            match rest.IndexOf ':' with
            | -1 -> rest, []
            | i ->
                let pairs =
                    rest.Substring(i + 1).Split(',', StringSplitOptions.RemoveEmptyEntries)
                    |> Array.map (fun kv ->
                        match kv.Split('=', 2) with
                        | [| k; v |] -> k.Trim().TrimStart('-').Replace('-', '_'), v.Trim()
                        | _ -> fail $"--checkpoints: '{kv}' in '{text}' is not key=value")
                    |> Array.toList
                rest.Substring(0, i), pairs
        checkRun run
        let spec = networkSpec (overlay run (readConfig run) pairs)
        if (Table.setupOf spec).IsNone then
            fail $"--checkpoints: {name} was trained on {spec.Task.Name} with meta-episodes of {spec.MetaEpisodeLen} steps, which is no row of the papers' tables"
        { Name = name
          Run = run
          Spec = spec
          Greedy = greedy }
    | _ -> fail $"--checkpoints takes NAME=RUN_DIR[:key=value,...], got '{text}'"

let private withProgress (total: int) (work: (string -> unit) -> 'T) =
    if Console.IsOutputRedirected then
        let mutable done' = 0
        work (fun label ->
            done' <- done' + 1
            Progress.note $"[{done'}/{total}] {label}")
    else
        AnsiConsole
            .Progress()
            .Columns(TaskDescriptionColumn(), ProgressBarColumn(), PercentageColumn(), ElapsedTimeColumn(), RemainingTimeColumn())
            .Start(fun ctx ->
                let task = ctx.AddTask("cells", true, float total)
                work (fun label ->
                    task.Increment 1.0
                    task.Description <- Markup.Escape label))

let table (r: ParseResults<TableArgs>) =
    let environment = r.GetResult(TableArgs.Environment, defaultValue = "bandit")
    let count = r.GetResult(TableArgs.Meta_Episodes, defaultValue = 1000)
    let seed = r.GetResult(TableArgs.Seed, defaultValue = 0L)
    let threads = r.GetResult(TableArgs.Threads, defaultValue = 1)
    let stem = r.GetResult(TableArgs.Output, defaultValue = $"table_{environment}")
    if environment <> "bandit" && environment <> "tabular_mdp" then
        fail $"--environment must be bandit or tabular_mdp, got '{environment}'"
    if count < 2 then fail $"--meta_episodes must be at least 2, got {count}"
    if threads < 1 then fail $"--threads must be at least 1, got {threads}"
    if stem.Trim() = "" then fail "--output must not be empty"
    let checkpoints = r.GetResult(TableArgs.Checkpoints, defaultValue = []) |> List.map (parseCheckpoint (r.Contains TableArgs.Greedy))
    let names = checkpoints |> List.map _.Name
    if List.length (List.distinct names) <> names.Length then fail "--checkpoints names must be distinct"
    torch.set_num_threads threads
    Progress.widen ()
    if r.Contains TableArgs.Tune then
        let searches = withProgress (Tuning.playCount environment) (Tuning.tune environment count)
        AnsiConsole.WriteLine(Tuning.markdown searches)
        0
    else
        let rows = Published.setups environment
        let reference = r.TryGetResult TableArgs.Reference
        let columns = Table.columns rows checkpoints
        if reference.IsSome && not (List.contains reference.Value columns) then
            fail $"""--reference must be one of the table's columns: {String.concat ", " columns}"""
        let result = withProgress (Table.cellCount rows checkpoints) (Table.run rows seed count checkpoints reference)
        Table.write stem result
        AnsiConsole.WriteLine(Table.markdown result)
        Progress.note $"{result.Cells.Length} cells in {result.Seconds:F0} s; written to {stem}.md, .csv and .json"
        0
