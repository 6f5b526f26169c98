/// The papers' numbers as the reference README tables them (Duan et al. 2016; Mishra et al. 2017):
/// mean meta-episode return over 1000 meta-episodes, per setup and method.
module RL2.Report.Published

open RL2.Envs

let banditMethods = [ "Random"; "Gittins"; "TS"; "OTS"; "UCB1"; "eps-Greedy"; "Greedy" ]

let mdpMethods = [ "Random"; "PSRL"; "OPSRL"; "UCRL2"; "BEB"; "eps-Greedy"; "Greedy" ]

/// (n pulls, k arms) → classic baselines in `banditMethods` order, then RL² GRU and SNAIL (paper).
let bandit =
    [ (10, 5), [ 5.0; 6.6; 5.7; 6.5; 6.7; 6.6; 6.6 ], (6.7, 6.6)
      (10, 10), [ 5.0; 6.6; 5.5; 6.2; 6.7; 6.6; 6.6 ], (6.7, 6.7)
      (10, 50), [ 5.1; 6.5; 5.2; 5.5; 6.6; 6.5; 6.5 ], (6.8, 6.7)
      (100, 5), [ 49.9; 78.3; 74.7; 77.9; 78.0; 75.4; 74.8 ], (78.7, 79.1)
      (100, 10), [ 49.9; 82.8; 76.7; 81.4; 82.4; 77.4; 77.1 ], (83.5, 83.5)
      (100, 50), [ 49.8; 85.2; 64.5; 67.7; 84.3; 78.3; 78.0 ], (84.9, 85.1)
      (500, 5), [ 249.8; 405.8; 402.0; 406.7; 405.8; 388.2; 380.6 ], (401.6, 408.1)
      (500, 10), [ 249.0; 437.8; 429.5; 438.9; 437.1; 408.0; 395.0 ], (432.5, 432.4)
      (500, 50), [ 249.6; 463.7; 427.2; 437.6; 457.6; 413.6; 402.8 ], (438.9, 442.6) ]

/// n episodes (10 states, 5 actions, episodes of 10 steps) → baselines in `mdpMethods` order, then RL² GRU and SNAIL (paper).
let mdp =
    [ 10, [ 100.1; 138.1; 144.1; 146.6; 150.2; 132.8; 134.8 ], (156.2, 159.1)
      25, [ 250.2; 408.8; 425.2; 424.1; 427.8; 377.3; 368.8 ], (445.7, 447.2)
      50, [ 499.7; 904.4; 930.7; 918.9; 917.8; 823.3; 769.3 ], (936.1, 942.3)
      75, [ 749.9; 1417.1; 1449.2; 1427.6; 1422.6; 1293.9; 1172.9 ], (1428.8, 1447.5)
      100, [ 999.4; 1939.5; 1973.9; 1942.1; 1935.1; 1778.2; 1578.5 ], (1913.7, 1953.1) ]

/// The best published classic baseline (method, return) for a setup of the papers' tables, if it is one.
let bestBaseline (task: TaskDistribution) (metaEpisodeLen: int) =
    let best methods (values: float list) = List.zip methods values |> List.tail |> List.maxBy snd
    match task.Name with
    | "bandit" ->
        bandit |> List.tryFind (fun (setup, _, _) -> setup = (metaEpisodeLen, task.NumActions)) |> Option.map (fun (_, v, _) -> best banditMethods v)
    | "tabular_mdp" when task.ObservationWidth = 10 && task.NumActions = 5 && task.EpisodeLength = 10 && metaEpisodeLen % 10 = 0 ->
        mdp |> List.tryFind (fun (n, _, _) -> n * 10 = metaEpisodeLen) |> Option.map (fun (_, v, _) -> best mdpMethods v)
    | _ -> None
