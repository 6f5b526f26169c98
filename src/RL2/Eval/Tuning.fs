/// How the baselines' hyperparameters were chosen: per setup, a grid search of each tuned
/// hyperparameter on the tuning seed (never the evaluation seed), keeping the value of highest
/// mean return. Its output is what `Catalog.tunedBandit` and `Catalog.tunedMdp` record.
module RL2.Eval.Tuning

open RL2.Baselines
open RL2.Eval.Published

/// One hyperparameter's search: every value tried with its mean return, and the best.
type Search =
    { Setup: string
      Baseline: string
      Parameter: string
      Tried: (float * float) list
      Best: float }

let ucbGrid = [ 0.0; 0.02; 0.05; 0.1; 0.15; 0.2; 0.25; 0.3; 0.5; 1.0 ]
let banditEpsilonGrid = [ 0.0; 0.005; 0.01; 0.02; 0.05; 0.1; 0.2 ]
let gittinsGrid = [ 0.5; 0.7; 0.8; 0.9; 0.95; 0.98; 0.99; 0.995; 0.998; 0.999 ]
let mdpEpsilonGrid = [ 0.0; 0.01; 0.02; 0.05; 0.1; 0.2 ]
let bebGrid = [ 0.0; 0.25; 0.5; 1.0; 1.5; 2.0; 2.5; 3.0; 5.0 ]
let ucrl2Grid = [ 0.01; 0.02; 0.05; 0.1; 0.2; 0.3; 0.5; 0.7; 1.0 ]
let opsrlGrid = [ 1.0; 2.0; 3.0; 5.0; 10.0 ]

let private search (setup: Setup) (count: int) (progress: string -> unit) baseline parameter (grid: float list) (make: float -> Policy<obj>) =
    let tried =
        [ for x in grid ->
              let returns = Evaluate.play setup.Task setup.MetaEpisodeLength Evaluate.tuningSeed count (make x)
              progress $"{setup.Label} {baseline} {parameter}={x}"
              x, Array.average returns ]
    { Setup = setup.Label
      Baseline = baseline
      Parameter = parameter
      Tried = tried
      Best = tried |> List.maxBy snd |> fst }

/// Number of plays `tune` makes for an environment (for a progress bar).
let playCount (environment: string) =
    let perSetup =
        if environment = "bandit" then ucbGrid.Length + banditEpsilonGrid.Length + gittinsGrid.Length
        else 2 * mdpEpsilonGrid.Length + 2 * bebGrid.Length + ucrl2Grid.Length + opsrlGrid.Length
    perSetup * (setups environment).Length

/// Every search of every setup of an environment.
let tune (environment: string) (count: int) (progress: string -> unit) =
    [ for setup in setups environment do
          match setup with
          | BanditSetup(n, k) ->
              search setup count progress "UCB1" "c" ucbGrid (fun c -> Policy.erase (Bandit.ucb1 c k))
              search setup count progress "eps-Greedy" "epsilon" banditEpsilonGrid (fun e -> Policy.erase (Bandit.epsilonGreedy e k))
              search setup count progress "Gittins" "discount" gittinsGrid (fun g -> Policy.erase (Gittins.policy g k n))
          | MdpSetup _ ->
              let s, a, l = mdpStates, mdpActions, mdpEpisodeLength
              let (pk, ps), (sk, ss) = Catalog.mdpPublished, Catalog.mdpSound
              search setup count progress "eps-Greedy (empirical)" "epsilon" mdpEpsilonGrid (fun e -> Policy.erase (Mdp.epsilonGreedy e pk ps s a l))
              search setup count progress "eps-Greedy (posterior)" "epsilon" mdpEpsilonGrid (fun e -> Policy.erase (Mdp.epsilonGreedy e sk ss s a l))
              search setup count progress "BEB (empirical)" "beta" bebGrid (fun b -> Policy.erase (Mdp.beb b pk ps s a l))
              search setup count progress "BEB (posterior)" "beta" bebGrid (fun b -> Policy.erase (Mdp.beb b sk ss s a l))
              search setup count progress "UCRL2" "scale" ucrl2Grid (fun c -> Policy.erase (Mdp.ucrl2 c Catalog.ucrl2Schedule s a l))
              search setup count progress "OPSRL" "draws" opsrlGrid (fun k -> Policy.erase (Mdp.opsrl (int k) s a l)) ]

/// The searches as Markdown: per setup and hyperparameter, the value chosen and every mean tried.
let markdown (searches: Search list) =
    let sb = System.Text.StringBuilder()
    let f (x: float) = x.ToString("G4", System.Globalization.CultureInfo.InvariantCulture)
    sb.AppendLine "| Setup | Baseline | Parameter | Chosen | Mean return per value tried |" |> ignore
    sb.AppendLine "|---|---|---|---:|---|" |> ignore
    for s in searches do
        let tried = s.Tried |> List.map (fun (x, m) -> $"{f x}: {m:F3}") |> String.concat "; "
        sb.AppendLine $"| {s.Setup} | {s.Baseline} | {s.Parameter} | {f s.Best} | {tried} |" |> ignore
    sb.ToString()
