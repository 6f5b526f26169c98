/// The setups of the papers' tables and their published numbers (Duan et al. 2016, Tables 1 and 2;
/// Mishra et al. 2017; as collected in the reference's README, `reference/000_b2ecac1939d6b34a.txt`).
module RL2.Eval.Published

open RL2.Envs

/// The papers' MDPs: 10 states, 5 actions, episodes of 10 steps.
let mdpStates, mdpActions, mdpEpisodeLength = 10, 5, 10

/// One row of a table.
type Setup =
    /// n pulls (= n episodes of one step) of a k-armed Bernoulli bandit.
    | BanditSetup of pulls: int * arms: int
    /// n episodes of 10 steps in random tabular MDPs with 10 states and 5 actions.
    | MdpSetup of episodes: int

    member s.Label =
        match s with
        | BanditSetup(n, k) -> $"n={n},k={k}"
        | MdpSetup n -> $"n={n}"

    member s.Environment =
        match s with
        | BanditSetup _ -> "bandit"
        | MdpSetup _ -> "tabular_mdp"

    member s.Task: TaskDistribution =
        match s with
        | BanditSetup(_, k) -> Bandit.distribution k
        | MdpSetup _ -> TabularMdp.distribution mdpStates mdpActions mdpEpisodeLength

    member s.MetaEpisodeLength =
        match s with
        | BanditSetup(n, _) -> n
        | MdpSetup n -> n * mdpEpisodeLength

let banditSetups = [ for n in [ 10; 100; 500 ] do for k in [ 5; 10; 50 ] -> BanditSetup(n, k) ]

let mdpSetups = [ for n in [ 10; 25; 50; 75; 100 ] -> MdpSetup n ]

let setups environment =
    match environment with
    | "bandit" -> banditSetups
    | "tabular_mdp" -> mdpSetups
    | other -> invalidArg "environment" $"no published table for '{other}'"

/// Baseline columns in the papers' order.
let banditColumns = [ "Random"; "Gittins"; "TS"; "OTS"; "UCB1"; "eps-Greedy"; "Greedy" ]
let mdpColumns = [ "Random"; "PSRL"; "OPSRL"; "UCRL2"; "BEB"; "eps-Greedy"; "Greedy" ]

/// Published RL² columns: the papers' numbers and the reference implementation's.
let agentColumns = [ "RL2 GRU (paper)"; "RL2 GRU (reference)"; "RL2 SNAIL (paper)"; "RL2 SNAIL (reference)" ]

let private rows (columns: string list) (table: (Setup * float option list) list) =
    [ for setup, values in table do
          for column, value in List.zip columns values do
              match value with
              | Some v -> (setup.Label, column), v
              | None -> () ]

let private banditTable =
    let r values = values |> List.map Some
    [ BanditSetup(10, 5), r [ 5.0; 6.6; 5.7; 6.5; 6.7; 6.6; 6.6 ] @ [ Some 6.7; Some 6.7; Some 6.6; Some 6.8 ]
      BanditSetup(10, 10), r [ 5.0; 6.6; 5.5; 6.2; 6.7; 6.6; 6.6 ] @ [ Some 6.7; None; Some 6.7; None ]
      BanditSetup(10, 50), r [ 5.1; 6.5; 5.2; 5.5; 6.6; 6.5; 6.5 ] @ [ Some 6.8; None; Some 6.7; None ]
      BanditSetup(100, 5), r [ 49.9; 78.3; 74.7; 77.9; 78.0; 75.4; 74.8 ] @ [ Some 78.7; Some 78.7; Some 79.1; Some 78.5 ]
      BanditSetup(100, 10), r [ 49.9; 82.8; 76.7; 81.4; 82.4; 77.4; 77.1 ] @ [ Some 83.5; None; Some 83.5; None ]
      BanditSetup(100, 50), r [ 49.8; 85.2; 64.5; 67.7; 84.3; 78.3; 78.0 ] @ [ Some 84.9; None; Some 85.1; None ]
      BanditSetup(500, 5), r [ 249.8; 405.8; 402.0; 406.7; 405.8; 388.2; 380.6 ] @ [ Some 401.6; None; Some 408.1; None ]
      BanditSetup(500, 10), r [ 249.0; 437.8; 429.5; 438.9; 437.1; 408.0; 395.0 ] @ [ Some 432.5; None; Some 432.4; None ]
      BanditSetup(500, 50), r [ 249.6; 463.7; 427.2; 437.6; 457.6; 413.6; 402.8 ] @ [ Some 438.9; None; Some 442.6; None ] ]

let private mdpTable =
    let r values = values |> List.map Some
    [ MdpSetup 10, r [ 100.1; 138.1; 144.1; 146.6; 150.2; 132.8; 134.8 ] @ [ Some 156.2; Some 157.3; Some 159.1; Some 160.1 ]
      MdpSetup 25, r [ 250.2; 408.8; 425.2; 424.1; 427.8; 377.3; 368.8 ] @ [ Some 445.7; None; Some 447.2; None ]
      MdpSetup 50, r [ 499.7; 904.4; 930.7; 918.9; 917.8; 823.3; 769.3 ] @ [ Some 936.1; None; Some 942.3; None ]
      MdpSetup 75, r [ 749.9; 1417.1; 1449.2; 1427.6; 1422.6; 1293.9; 1172.9 ] @ [ Some 1428.8; None; Some 1447.5; None ]
      MdpSetup 100, r [ 999.4; 1939.5; 1973.9; 1942.1; 1935.1; 1778.2; 1578.5 ] @ [ Some 1913.7; None; Some 1953.1; None ] ]

let private values =
    Map.ofList (rows (banditColumns @ agentColumns) banditTable @ rows (mdpColumns @ agentColumns) mdpTable)

/// The published number of a column (baseline name or RL² column) in a setup.
let value (setup: Setup) (column: string) = Map.tryFind (setup.Label, column) values

/// Whether our mean is close enough to a published number: within 3 half-widths of the 95% CI or
/// 3% of the published value, whichever is larger.
let within (mean: float) (halfWidth: float) (published: float) =
    abs (mean - published) <= max (3.0 * halfWidth) (0.03 * abs published)

/// The setup of the papers' tables that a task distribution and meta-episode length form, if any.
let setupOf (task: TaskDistribution) (metaEpisodeLength: int) =
    banditSetups @ mdpSetups
    |> List.tryFind (fun s ->
        let t = s.Task
        t.Name = task.Name && t.NumActions = task.NumActions && t.ObservationWidth = task.ObservationWidth
        && t.EpisodeLength = task.EpisodeLength && s.MetaEpisodeLength = metaEpisodeLength)

/// The best published classic baseline (column, return) of a setup of the papers' tables.
let bestBaseline (task: TaskDistribution) (metaEpisodeLength: int) =
    setupOf task metaEpisodeLength
    |> Option.map (fun s ->
        let columns = match s with BanditSetup _ -> banditColumns | MdpSetup _ -> mdpColumns
        columns |> List.tail |> List.choose (fun c -> value s c |> Option.map (fun v -> c, v)) |> List.maxBy snd)
