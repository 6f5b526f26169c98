/// The papers' tables reproduced: every baseline on every setup over the same seeded evaluation
/// tasks, plus any trained checkpoints, each cell our mean ± 95% CI half-width beside the published
/// number; paired differences against a reference column; Markdown, CSV and JSON renderings.
module RL2.Eval.Table

open System
open System.Diagnostics
open System.IO
open System.Text
open System.Text.Json
open RL2.Baselines
open RL2.Eval.Published

/// A trained policy network to add as a column (in the row of the setup it was trained for).
type Checkpoint =
    { Name: string
      Run: string
      Spec: Evaluate.NetworkSpec
      Greedy: bool }

/// The table row a network was trained for, if any.
let setupOf (spec: Evaluate.NetworkSpec) =
    let t = spec.MetaEpisodeLen
    match spec.Task.Name with
    | "bandit" -> Some(BanditSetup(t, spec.Task.NumActions))
    | "tabular_mdp" when
        spec.Task.ObservationWidth = mdpStates
        && spec.Task.NumActions = mdpActions
        && spec.Task.EpisodeLength = mdpEpisodeLength
        && t % mdpEpisodeLength = 0
        ->
        Some(MdpSetup(t / mdpEpisodeLength))
    | _ -> None

type Cell =
    { Setup: string
      Column: string
      Mean: float
      HalfWidth: float
      MetaEpisodes: int
      /// The published number this column reproduces, if the papers have one.
      Published: float option
      /// Whether the cell is checked against `Published` (the published variant of a baseline).
      Checked: bool
      Within: bool option
      Seconds: float }

type Difference =
    { Setup: string
      /// Column A − column B over the same meta-episodes.
      A: string
      B: string
      Mean: float
      HalfWidth: float }

type Result =
    { Environment: string
      Seed: int64
      MetaEpisodes: int
      Columns: string list
      Setups: string list
      Cells: Cell list
      Reference: string
      Differences: Difference list
      Seconds: float }

let private otsReason =
    "our OTS is the one specified (per arm the larger of a Beta posterior draw and the posterior mean, May et al. 2012). "
    + "TS, drawn from the same posterior by the same sampler, matches its published row in every cell, so the tasks and prior agree; "
    + "this rule gains at most 2% over TS, the published OTS 1-14%. The paper defines OTS no further; other readings tried on the "
    + "tuning seed (max of two draws; draws shrunk halfway to the mean; mean + |draw - mean|; max of draw and empirical mean) "
    + "each miss other cells of the row by more"

let private bebReason =
    "ours is stronger: BEB on the empirical model, planned per episode (the form that matches the published greedy row), "
    + "tuned on the tuning seed, picks beta = 2-2.5; with beta = 1.5 it scores 932.6 (n=50) and 1956.0 (n=100) there, within 2% "
    + "of the published numbers, and with beta = 1 it falls below them. The published BEB corresponds to a smaller bonus than "
    + "our grid's best (the paper does not give its grid or bonus); the sound form on the posterior is stronger still"

let private opsrlReason =
    "PSRL and OPSRL both fall 3-4% short of the published numbers at n=10 and agree within 1.5% from n=50 on, so the gap "
    + "is in the first episodes. We use the task distribution's exact prior (N(1,1) reward means with unit noise, Dirichlet(1) "
    + "rows); the paper does not define OPSRL or its priors. Ours backs up each state-action optimistically over the posterior "
    + "mean and K draws (K = 1 best on the tuning seed); optimism on rewards only and the max over 2-3 draws without the mean "
    + "scored 138.2 and 133.9 there, no closer"

/// Why cells we found outside the tolerance differ, by (setup, column); shown under the table.
let knownDeviations: Map<string * string, string> =
    Map.ofList
        [ for n, k in [ 10, 5; 10, 10; 10, 50; 100, 5; 100, 10; 100, 50; 500, 5; 500, 10; 500, 50 ] do
              (BanditSetup(n, k).Label, "OTS"), otsReason
          for n in [ 10; 25; 50; 75; 100 ] do
              (MdpSetup(n).Label, "BEB (empirical)"), bebReason
              (MdpSetup(n).Label, "OPSRL"), opsrlReason ]

/// Every baseline of a setup, with the hyperparameters tuned for it.
let baselines (setup: Setup) =
    match setup with
    | BanditSetup(n, k) -> Catalog.banditEntries (Catalog.banditHyper n k) n k
    | MdpSetup n -> Catalog.mdpEntries (Catalog.mdpHyper n) mdpStates mdpActions mdpEpisodeLength

/// Everything a table run plays: per setup, (column label, published column, policy).
let private plan (setup: Setup) (checkpoints: Checkpoint list) =
    [ for e in baselines setup ->
          let published = value setup e.Name
          e.Label, published, e.Published && published.IsSome, (fun () -> e.Policy)
      for c in checkpoints do
          if setupOf c.Spec = Some setup then
              let make () =
                  let net, _ = Evaluate.loadNetwork RL2.Train.Checkpoint.Latest c.Run c.Spec
                  Policy.erase (Evaluate.network c.Spec.Task net c.Greedy)
              yield c.Name, None, false, make ]

/// Number of cells `run` will play (for a progress bar).
let cellCount (rows: Setup list) (checkpoints: Checkpoint list) =
    rows |> List.sumBy (fun s -> (plan s checkpoints).Length)

/// Column labels of a table over these rows.
let columns (rows: Setup list) (checkpoints: Checkpoint list) =
    rows |> List.collect (fun s -> plan s checkpoints |> List.map (fun (label, _, _, _) -> label)) |> List.distinct

/// The column paired differences are taken against by default.
let defaultReference (environment: string) = if environment = "bandit" then "Gittins" else "PSRL"

/// Plays every cell of the rows (setups of one environment); `progress` hears each cell's label
/// when it is done.
let run (rows: Setup list) (seed: int64) (count: int) (checkpoints: Checkpoint list) (reference: string option) (progress: string -> unit) =
    let total = Stopwatch.StartNew()
    let environment = rows.Head.Environment
    let reference = reference |> Option.defaultValue (defaultReference environment)
    let played =
        [ for setup in rows do
              for label, published, isChecked, make in plan setup checkpoints do
                  let clock = Stopwatch.StartNew()
                  let returns = Evaluate.play setup.Task setup.MetaEpisodeLength seed count (make ())
                  let s = Stats.summarize returns
                  progress $"{setup.Label} {label}"
                  let cell =
                      { Setup = setup.Label
                        Column = label
                        Mean = s.Mean
                        HalfWidth = s.HalfWidth
                        MetaEpisodes = count
                        Published = published
                        Checked = isChecked
                        Within = if isChecked then published |> Option.map (within s.Mean s.HalfWidth) else None
                        Seconds = clock.Elapsed.TotalSeconds }
                  cell, returns ]
    let columns = played |> List.map (fun (c, _) -> c.Column) |> List.distinct
    let differences =
        [ for setup in rows do
              let inRow = played |> List.filter (fun (c, _) -> c.Setup = setup.Label)
              match inRow |> List.tryFind (fun (c, _) -> c.Column = reference) with
              | Some(_, refReturns) ->
                  for c, returns in inRow do
                      if c.Column <> reference then
                          let d = Stats.paired returns refReturns
                          { Setup = setup.Label
                            A = c.Column
                            B = reference
                            Mean = d.Mean
                            HalfWidth = d.HalfWidth }
              | None -> () ]
    { Environment = environment
      Seed = seed
      MetaEpisodes = count
      Columns = columns
      Setups = rows |> List.map _.Label
      Cells = played |> List.map fst
      Reference = reference
      Differences = differences
      Seconds = total.Elapsed.TotalSeconds }

let private decimals (r: Result) = if r.Environment = "bandit" then 2 else 1

let private number digits (x: float) = x.ToString("F" + string digits, Globalization.CultureInfo.InvariantCulture)

/// The RL² columns the papers publish, shown after ours for comparison.
let private publishedAgentColumns (r: Result) =
    let rows = setups r.Environment |> List.filter (fun s -> List.contains s.Label r.Setups)
    agentColumns |> List.filter (fun c -> rows |> List.exists (fun s -> (value s c).IsSome))

/// Markdown: the table, the cells outside the tolerance with the reasons found, paired differences.
let markdown (r: Result) =
    let d = decimals r
    let sb = StringBuilder()
    let line (s: string) = sb.AppendLine s |> ignore
    let agents = publishedAgentColumns r
    let rowsOf = setups r.Environment |> List.filter (fun s -> List.contains s.Label r.Setups)
    line ("| Setup | " + String.Join(" | ", r.Columns @ agents) + " |")
    line ("|---|" + String.replicate (r.Columns.Length + agents.Length) "---:|")
    for setup in rowsOf do
        let cells =
            [ for c in r.Columns ->
                  match r.Cells |> List.tryFind (fun x -> x.Setup = setup.Label && x.Column = c) with
                  | Some x ->
                      let ours = $"{number d x.Mean} ± {number d x.HalfWidth}"
                      let pub =
                          match x.Published with
                          | Some p when x.Checked && x.Within = Some false -> $" (**{number 1 p}** ✗)"
                          | Some p when x.Checked -> $" ({number 1 p})"
                          | Some p -> $" [{number 1 p}]"
                          | None -> ""
                      ours + pub
                  | None -> ""
              for a in agents -> value setup a |> Option.map (number 1) |> Option.defaultValue "" ]
        line ($"| {setup.Label} | " + String.Join(" | ", cells) + " |")
    line ""
    line
        $"Each cell: our mean meta-episode return ± the 95%% CI half-width over {r.MetaEpisodes} meta-episodes (evaluation seed {r.Seed}), the published number in parentheses; in square brackets where our column is a stronger variant than the published one and is not checked against it. ✗: outside the tolerance (3 CI half-widths or 3%% of the published value, whichever is larger)."
    let exact =
        rowsOf
        |> List.choose (function
            | BanditSetup(n, k) when n <= Catalog.bayesOptimalMaxPulls -> Some $"{BanditSetup(n, k).Label}: {BayesOptimal.expectedReturn k n:F4}"
            | _ -> None)
    if not exact.IsEmpty then
        line ""
        line $"""Exact expected return of the Bayes-optimal policy (dynamic programming over Beta(1, 1) posteriors), the ceiling of its row: {String.concat "; " exact}."""
    let off = r.Cells |> List.filter (fun c -> c.Within = Some false)
    let checkedCount = r.Cells |> List.filter (fun c -> c.Checked) |> List.length
    line ""
    if off.IsEmpty then
        line $"All {checkedCount} checked cells are within the tolerance."
    else
        line $"{checkedCount - off.Length} of {checkedCount} checked cells are within the tolerance. Outside it:"
        line ""
        // One item per reason, listing the cells it explains.
        let reasonOf (c: Cell) = knownDeviations |> Map.tryFind (c.Setup, c.Column) |> Option.defaultValue "not yet explained"
        for reason, cells in off |> List.groupBy reasonOf do
            let listed =
                cells
                |> List.map (fun c -> $"{c.Column} at {c.Setup}: {number d c.Mean} ± {number d c.HalfWidth} vs {number 1 c.Published.Value}")
                |> String.concat "; "
            line $"- {listed}. Reason: {reason}."
    line ""
    line $"Hyperparameters, tuned per setup on the tuning seed {Evaluate.tuningSeed} (`rl2 table --tune`), never on evaluation tasks:"
    line ""
    let g (x: float) = x.ToString("G4", Globalization.CultureInfo.InvariantCulture)
    if r.Environment = "bandit" then
        line "| Setup | UCB1 c | eps-Greedy ε | Gittins discount |"
        line "|---|---:|---:|---:|"
        for setup in rowsOf do
            match setup with
            | BanditSetup(n, k) ->
                let h = Catalog.banditHyper n k
                line $"| {setup.Label} | {g h.UcbC} | {g h.Epsilon} | {g h.GittinsDiscount} |"
            | _ -> ()
    else
        line "| Setup | eps-Greedy ε (empirical) | eps-Greedy ε (posterior) | BEB β (empirical) | BEB β (posterior) | UCRL2 scale | OPSRL draws |"
        line "|---|---:|---:|---:|---:|---:|---:|"
        for setup in rowsOf do
            match setup with
            | MdpSetup n ->
                let h = Catalog.mdpHyper n
                line
                    $"| {setup.Label} | {g h.EpsilonEmpirical} | {g h.EpsilonPosterior} | {g h.BebBetaEmpirical} | {g h.BebBetaPosterior} | {g h.Ucrl2Scale} | {h.OpsrlDraws} |"
            | _ -> ()
    if not r.Differences.IsEmpty then
        line ""
        line $"Paired differences against {r.Reference} (column − {r.Reference} on the same tasks, mean ± 95%% CI half-width):"
        line ""
        let others = r.Columns |> List.filter ((<>) r.Reference)
        line ("| Setup | " + String.Join(" | ", others) + " |")
        line ("|---|" + String.replicate others.Length "---:|")
        for setup in rowsOf do
            let cells =
                [ for c in others ->
                      match r.Differences |> List.tryFind (fun x -> x.Setup = setup.Label && x.A = c) with
                      | Some x -> $"{number d x.Mean} ± {number d x.HalfWidth}"
                      | None -> "" ]
            line ($"| {setup.Label} | " + String.Join(" | ", cells) + " |")
    sb.ToString()

let private csvField (s: string) = if s.IndexOfAny([| ','; '"' |]) >= 0 then "\"" + s.Replace("\"", "\"\"") + "\"" else s

/// One line per cell.
let csv (r: Result) =
    let inv (x: float) = x.ToString("R", Globalization.CultureInfo.InvariantCulture)
    let sb = StringBuilder()
    sb.AppendLine "environment,setup,column,mean,half_width,meta_episodes,seed,published,checked,within,seconds" |> ignore
    for c in r.Cells do
        let published = c.Published |> Option.map inv |> Option.defaultValue ""
        let within = c.Within |> Option.map (fun w -> if w then "true" else "false") |> Option.defaultValue ""
        sb.AppendLine(
            String.Join(
                ",",
                [ r.Environment; csvField c.Setup; csvField c.Column; inv c.Mean; inv c.HalfWidth; string c.MetaEpisodes; string r.Seed
                  published; (if c.Checked then "true" else "false"); within; inv c.Seconds ]
            )
        )
        |> ignore
    sb.ToString()

let json (r: Result) =
    JsonSerializer.Serialize(r, JsonSerializerOptions(WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower))

/// Writes `<stem>.md`, `<stem>.csv` and `<stem>.json`.
let write (stem: string) (r: Result) =
    let dir = Path.GetDirectoryName(Path.GetFullPath stem)
    Directory.CreateDirectory dir |> ignore
    File.WriteAllText(stem + ".md", markdown r)
    File.WriteAllText(stem + ".csv", csv r)
    File.WriteAllText(stem + ".json", json r)
