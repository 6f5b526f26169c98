/// The task distributions the CLI offers, by name.
module RL2.Envs.Catalog

type EnvSettings =
    { NumStates: int
      NumActions: int
      MaxEpisodeLen: int }

let table: (string * (EnvSettings -> TaskDistribution)) list =
    [ "bandit", fun s -> Bandit.distribution s.NumActions
      "tabular_mdp", fun s -> TabularMdp.distribution s.NumStates s.NumActions s.MaxEpisodeLen ]

let names = table |> List.map fst

let tryFind name = table |> List.tryFind (fst >> (=) name) |> Option.map snd
