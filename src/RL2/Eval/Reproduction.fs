/// Reproducing a published RL² number: a recipe (train flags and the goal to reach) and its outcome —
/// the peak (best held-out evaluation) and final checkpoints re-evaluated on fresh held-out tasks,
/// beside the strongest classic baseline on the very same tasks — as JSON and as the Markdown of
/// `docs/results.md`.
module RL2.Eval.Reproduction

open System
open System.IO
open System.Text.Json
open RL2.Train

/// What a recipe must reach at its peak.
type Goal =
    | AtLeast of float
    /// Within `tolerance` of `value`: for a ceiling such as the Bayes-optimal expected return.
    | Near of value: float * tolerance: float

    member g.Text =
        match g with
        | AtLeast v -> $"≥ {v}"
        | Near(v, t) -> $"within {t} of {v:F3}"

    member g.MetBy(mean: float) =
        match g with
        | AtLeast v -> mean >= v
        | Near(v, t) -> abs (mean - v) <= t

/// Where a recipe that goes on from another recipe's run starts: that run's snapshot of `Iteration`,
/// kept in the repository's history at `Commit` (which carried it as `docs/results/unfinished/<From>/`),
/// so a clean clone starts the measured experiment where it started, and the snapshot is stored once.
type Start = { From: string; Iteration: int; Commit: string }

type Recipe =
    { Name: string
      /// What it reproduces, in a few words.
      Title: string
      /// The row of the papers' tables it trains for.
      Setup: Published.Setup
      /// The `rl2 train` flags, seed and evaluation cadence included (the run directory is added).
      Flags: string
      /// The published RL² columns it reproduces: "GRU" or "SNAIL" (the papers' and the reference's).
      Agent: string
      Goal: Goal
      /// The settings that differ from the paper's, briefly (for the table).
      Deviations: string
      /// Why they differ.
      Why: string
      /// The run it goes on from, if any; None trains from iteration 0.
      StartsFrom: Start option }

/// The fresh held-out tasks of the final evaluation: another seed than the periodic evaluations'
/// (`Evaluate.heldOutSeed`), so choosing the peak on those does not bias the number.
let freshSeed = 2L

let freshMetaEpisodes = 10_000

/// The papers' own measure, to set beside their tables: the highest logged training return (the mean
/// of the 1000 most recent meta-episodes, played with sampled actions before each update) over the
/// iterations. A maximum over hundreds of noisy means, it sits above what the policy earns on fresh
/// tasks (the peak's evaluation below does not have that bias).
type LoggedPeak = { Iteration: int; Return: float }

/// The highest logged training return of a run; None before its first iteration.
let loggedPeak (run: string) =
    Metrics.read run
    |> Array.sortBy (fun m -> -m.MeanReturn, m.Iteration)
    |> Array.tryHead
    |> Option.map (fun m -> { Iteration = m.Iteration; Return = m.MeanReturn })

/// A checkpoint's return on the fresh held-out tasks and what training took to get there.
type Measured =
    { Iteration: int
      EnvSteps: int64
      /// Wall-clock hours of training and periodic evaluation up to this iteration.
      Hours: float
      Return: Stats.Summary }

type Outcome =
    { Recipe: string
      Title: string
      Flags: string
      Deviations: string
      Why: string
      /// The row of the papers' tables, e.g. "bandit n=10,k=5".
      Setup: string
      Agent: string
      /// The papers' number and the reference implementation's (SPEC §8 quotes the latter).
      Paper: float option
      Reference: float option
      Goal: string
      /// Whether the peak's mean meets the goal.
      Reached: bool
      /// The fresh held-out set every policy below played.
      Seed: int64
      MetaEpisodes: int
      Peak: Measured
      Final: Measured
      /// The classic baseline of the table with the highest mean on these tasks.
      Baseline: string
      BaselineReturn: Stats.Summary
      PeakMinusBaseline: Stats.Summary
      FinalMinusBaseline: Stats.Summary
      /// The exact Bayes-optimal policy on the same tasks, where it is tractable, and the peak's
      /// paired difference from it.
      Optimum: Stats.Summary option
      PeakMinusOptimum: Stats.Summary option
      /// The papers' measure on this run.
      LoggedPeak: LoggedPeak option
      /// The machines that trained which iterations (`Legs.describe`); None for runs trained before
      /// legs were recorded.
      Machines: string option
      /// The learning curve's PNG, beside the result's JSON.
      Curve: string }

/// Environment steps and wall-clock hours (training and periodic evaluation) by the end of `m`, one of `metrics`.
let private reached (metrics: Metrics.Iteration[]) (m: Metrics.Iteration) =
    let evaluating = metrics |> Array.filter (fun e -> e.Iteration <= m.Iteration) |> Array.sumBy (fun e -> defaultArg e.EvalSeconds 0.0)
    m.EnvSteps, (m.Seconds + evaluating) / 3600.0

let private atIteration (metrics: Metrics.Iteration[]) (iteration: int) = metrics |> Array.tryFind (fun m -> m.Iteration = iteration)

/// Plays the run's peak and final checkpoints and every classic baseline of its setup (all but
/// Random; Bayes-optimal apart, as the optimum) on the same `count` meta-episodes of `seed`.
/// `played` hears of each policy as it finishes (its label, its position of the total, its
/// returns' summary): on 10 000 MDP meta-episodes the whole took about 4 minutes here (2 vCPUs, 2026-12-06).
let assess (recipe: Recipe) (spec: Evaluate.NetworkSpec) (run: string) (seed: int64) (count: int) (curve: string) (played: string -> int * int -> Stats.Summary -> unit) =
    let setup = recipe.Setup
    if Table.setupOf spec <> Some setup then
        invalidArg (nameof spec) $"{recipe.Name} trains {spec.Task.Name} with meta-episodes of {spec.MetaEpisodeLen} steps, not {setup.Environment} {setup.Label}"
    // The policies played besides the checkpoints, counted once so the reported total is what is played.
    let entries = Table.baselines setup |> List.filter (fun e -> e.Name <> "Random")
    let total = 2 + entries.Length
    let mutable done' = 0
    let play label policy =
        let returns = Evaluate.play spec.Task spec.MetaEpisodeLen seed count policy
        done' <- done' + 1
        played label (done', total) (Stats.summarize returns)
        returns
    let metrics = Metrics.read run
    let measured which =
        let net, iteration = Evaluate.loadNetwork which run spec
        let label = (if which = Checkpoint.Best then "peak" else "final") + $" (iteration {iteration})"
        let returns = play label (Evaluate.network spec.Task net false)
        let steps, hours =
            match atIteration metrics iteration with
            | Some m -> reached metrics m
            | None -> failwith $"{Path.Combine(run, Metrics.fileName)} lacks iteration {iteration}"
        returns,
        { Iteration = iteration
          EnvSteps = steps
          Hours = hours
          Return = Stats.summarize returns }
    let peakReturns, peak = measured Checkpoint.Best
    let finalReturns, final = measured Checkpoint.Latest
    let classic =
        [ for e in entries do
              if e.Name <> "Bayes-optimal" then e.Label, play e.Label e.Policy ]
    let baseline, baselineReturns = classic |> List.maxBy (snd >> Array.average)
    let optimum = entries |> List.tryFind (fun e -> e.Name = "Bayes-optimal") |> Option.map (fun e -> play e.Label e.Policy)
    { Recipe = recipe.Name
      Title = recipe.Title
      Flags = recipe.Flags
      Deviations = recipe.Deviations
      Why = recipe.Why
      Setup = $"{setup.Environment} {setup.Label}"
      Agent = recipe.Agent
      Paper = Published.value setup $"RL2 {recipe.Agent} (paper)"
      Reference = Published.value setup $"RL2 {recipe.Agent} (reference)"
      Goal = recipe.Goal.Text
      Reached = recipe.Goal.MetBy peak.Return.Mean
      Seed = seed
      MetaEpisodes = count
      Peak = peak
      Final = final
      Baseline = baseline
      BaselineReturn = Stats.summarize baselineReturns
      PeakMinusBaseline = Stats.paired peakReturns baselineReturns
      FinalMinusBaseline = Stats.paired finalReturns baselineReturns
      Optimum = optimum |> Option.map Stats.summarize
      PeakMinusOptimum = optimum |> Option.map (Stats.paired peakReturns)
      LoggedPeak = loggedPeak run
      Machines = Legs.describe (Legs.read run) final.Iteration
      Curve = curve }

let private json = JsonSerializerOptions(PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true)

let toJson (o: Outcome) = JsonSerializer.Serialize(o, json)

let ofJson (text: string) = JsonSerializer.Deserialize<Outcome>(text, json)

/// Every outcome saved in a results directory (`<recipe>.json`).
let readAll (dir: string) =
    if Directory.Exists dir then
        Directory.GetFiles(dir, "*.json") |> Array.sort |> Array.map (File.ReadAllText >> ofJson) |> Array.toList
    else
        []

let private pm (s: Stats.Summary) = $"%.3f{s.Mean} ± %.3f{s.HalfWidth}"

let private signed (s: Stats.Summary) = $"%+.3f{s.Mean} ± %.3f{s.HalfWidth}"

let private millions (steps: int64) = $"%.1f{float steps / 1e6} M"

/// How far an unfinished recipe's run has got: its newest iteration, the best periodic held-out
/// evaluation so far, and its learning curve copied beside the results.
type Progress =
    { Iteration: int
      MaxIterations: int
      EnvSteps: int64
      /// Wall-clock hours of training and periodic evaluation so far.
      Hours: float
      Best: Checkpoint.Best option
      /// Environment steps and hours to the best evaluation so far.
      ToBest: (int64 * float) option
      LoggedPeak: LoggedPeak option
      /// The machines that trained which iterations, as in `Outcome`.
      Machines: string option
      Curve: string }

/// A run's progress from its metrics and best checkpoint; None before its first iteration.
let progressOf (run: string) (maxIterations: int) (curve: string) =
    let ms = Metrics.read run
    if ms.Length = 0 then
        None
    else
        let last = ms[ms.Length - 1]
        let steps, hours = reached ms last
        let best = Checkpoint.tryBest run
        Some
            { Iteration = last.Iteration
              MaxIterations = maxIterations
              EnvSteps = steps
              Hours = hours
              Best = best
              ToBest = best |> Option.bind (fun b -> atIteration ms b.Iteration) |> Option.map (reached ms)
              LoggedPeak = loggedPeak run
              Machines = Legs.describe (Legs.read run) last.Iteration
              Curve = curve }

/// "paper / reference" published numbers.
let private published (paper: float option) (reference: float option) =
    let show = Option.map (sprintf "%g") >> Option.defaultValue "—"
    $"{show paper} / {show reference}"

let private verdict (o: Outcome) = if o.Reached then "reached" else "not reached"

let private logged (p: LoggedPeak option) =
    p |> Option.map (fun l -> $"%.2f{l.Return} (iteration {l.Iteration})") |> Option.defaultValue "—"

/// One recipe's section: the command, every policy's return on the fresh tasks, the paired
/// differences, the goal, the curve and the deviations from the paper. `images` is the path from
/// the page to the results directory.
let section (images: string) (o: Outcome) =
    [ $"### {o.Recipe}"
      ""
      $"{o.Title}: `rl2 train {o.Flags}` (`dotnet fsi build.fsx reproduce {o.Recipe}`). Mean meta-episode return on"
      $"{o.MetaEpisodes} fresh held-out meta-episodes (evaluation seed {o.Seed}), the same tasks for every policy:"
      ""
      "| policy | mean return ± 95% CI | iteration | environment steps | hours |"
      "|---|---:|---:|---:|---:|"
      $"| peak (best periodic held-out evaluation) | {pm o.Peak.Return} | {o.Peak.Iteration} | {millions o.Peak.EnvSteps} | %.2f{o.Peak.Hours} |"
      $"| final | {pm o.Final.Return} | {o.Final.Iteration} | {millions o.Final.EnvSteps} | %.2f{o.Final.Hours} |"
      $"| strongest classic baseline: {o.Baseline} | {pm o.BaselineReturn} | | | |"
      match o.Optimum with
      | Some s -> $"| Bayes-optimal (exact) | {pm s} | | | |"
      | None -> ()
      ""
      $"Paired on the same tasks: peak − {o.Baseline} {signed o.PeakMinusBaseline}; final − {o.Baseline} {signed o.FinalMinusBaseline}"
      + (match o.PeakMinusOptimum with
         | Some d -> $"; peak − Bayes-optimal {signed d}."
         | None -> ".")
      $"Published RL² {o.Agent} (paper / reference implementation): {published o.Paper o.Reference}. Goal {o.Goal}: **{verdict o}**."
      match o.LoggedPeak with
      | Some l ->
          $"By the papers' own measure (the highest logged training return, a mean of the 1000 most recent sampled meta-episodes) this run reached %.3f{l.Return} at iteration {l.Iteration}."
      | None -> ()
      match o.Machines with
      | Some m -> $"Trained on {m}."
      | None -> ()
      ""
      $"Deviations from the paper: {o.Deviations}. {o.Why}"
      ""
      $"![learning curve of {o.Recipe}]({images}/{o.Curve})"
      "" ]
    |> String.concat "\n"

/// The whole results page: a table with a row per recipe (results where a result file exists), then
/// each result's section and each unfinished recipe's flags.
let page (images: string) (recipes: Recipe list) (outcomes: Outcome list) (progress: Map<string, Progress>) =
    let byName = outcomes |> List.map (fun o -> o.Recipe, o) |> Map.ofList
    let bestText (p: Progress) =
        match p.Best with
        | Some b -> $"%.3f{b.Mean} ± %.3f{b.HalfWidth} at iteration {b.Iteration} ({b.MetaEpisodes} held-out meta-episodes)"
        | None -> "no evaluation yet"
    let row (r: Recipe) =
        match Map.tryFind r.Name byName with
        | Some o ->
            $"| [{r.Name}](#{r.Name}) | {published o.Paper o.Reference} | {logged o.LoggedPeak} | {pm o.Peak.Return} | {pm o.Final.Return} | {o.Baseline} {pm o.BaselineReturn} "
            + $"| {signed o.PeakMinusBaseline} | {millions o.Peak.EnvSteps} | %.2f{o.Peak.Hours} | [png]({images}/{o.Curve}) "
            + $"| {o.Goal}: {verdict o} | {r.Deviations} |"
        | None ->
            let value column = Published.value r.Setup $"RL2 {r.Agent} ({column})"
            let numbers = published (value "paper") (value "reference")
            match Map.tryFind r.Name progress with
            | Some p ->
                $"| [{r.Name}](#{r.Name}) | {numbers} | {logged p.LoggedPeak} | in progress, iteration {p.Iteration} of {p.MaxIterations}: best so far {bestText p} | | | "
                + (match p.ToBest with
                   | Some(steps, hours) -> $"| {millions steps} | %.2f{hours} "
                   | None -> "| | ")
                + $"| [png]({images}/{p.Curve}) | {r.Goal.Text} | {r.Deviations} |"
            | None -> $"| [{r.Name}](#{r.Name}) | {numbers} | — | not run to the end yet | | | | | | | {r.Goal.Text} | {r.Deviations} |"
    let pending (r: Recipe) =
        [ $"### {r.Name}"
          ""
          let start = r.StartsFrom |> Option.map (fun s -> $", starting from {s.From}'s iteration {s.Iteration}") |> Option.defaultValue ""
          $"{r.Title}: `rl2 train {r.Flags}`{start} (`dotnet fsi build.fsx reproduce {r.Name}`). Not run to the end yet."
          ""
          match Map.tryFind r.Name progress with
          | Some p ->
              $"So far: iteration {p.Iteration} of {p.MaxIterations} ({millions p.EnvSteps} environment steps, %.2f{p.Hours} hours); "
              + $"best periodic evaluation {bestText p}. Rerunning the recipe resumes from its newest checkpoint, "
              + $"here or, from the run carried in `unfinished/{r.Name}/` beside the results, on another machine."
              + (p.Machines |> Option.map (fun m -> $" Trained on {m}.") |> Option.defaultValue "")
              ""
              $"![learning curve of {r.Name} so far]({images}/{p.Curve})"
              ""
          | None -> ()
          $"Deviations from the paper: {r.Deviations}. {r.Why}"
          "" ]
        |> String.concat "\n"
    [ "# Reproducing the papers' RL² numbers"
      ""
      "Generated from `docs/results/*.json` when a recipe finishes (do not edit by hand; `dotnet fsi build.fsx"
      "reproduce --page` regenerates it, `dotnet fsi build.fsx reproduce` lists the recipes, `dotnet fsi build.fsx"
      "reproduce <recipe>` runs one). Each recipe trains with the `rl2 train` flags below on"
      "one process, evaluates the policy every few iterations on a fixed held-out set (1000 meta-episodes,"
      $"evaluation seed {Evaluate.heldOutSeed}) and keeps the best checkpoint, since the papers report peak performance."
      "When training is done, the peak and the final checkpoints are re-evaluated on 10 000 fresh held-out"
      $"meta-episodes (seed {freshSeed}), so choosing the peak does not bias its number, with every classic baseline of"
      "the papers' table on the very same tasks; the strongest is shown and the difference is paired task by task."
      "Steps and hours are those to reach the peak (hours: training and periodic evaluation on this machine)."
      "The papers report the highest logged training return instead (a mean of the 1000 most recent meta-episodes,"
      "maximised over training); that measure of our runs is in the third column, to compare with theirs, but it"
      "favours any run by the maximum over many noisy means, so the goals are judged on the fresh evaluation."
      ""
      "| recipe | published (paper / reference) | ours, papers' measure (iteration) | ours, peak | ours, final | strongest classic baseline | peak − baseline | steps to peak | hours to peak | curve | goal | settings deviating from the paper |"
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|"
      yield! recipes |> List.map row
      ""
      yield! recipes |> List.map (fun r -> match Map.tryFind r.Name byName with Some o -> section images o | None -> pending r) ]
    |> String.concat "\n"
