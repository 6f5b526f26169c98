/// The baselines of the papers' tables as named entries, with the hyperparameters chosen per setup.
/// The chosen values were found by `rl2 table --tune` (grid search, 1000 meta-episodes on the tuning
/// seed `Evaluate.tuningSeed`, never on evaluation tasks) and are recorded here and in the README.
module RL2.Baselines.Catalog

/// Hyperparameters of the bandit baselines for one (n, k) setup.
type BanditHyper =
    { /// UCB1's exploration constant c.
      UcbC: float
      Epsilon: float
      GittinsDiscount: float }

/// Hyperparameters of the tabular-MDP baselines for one n.
type MdpHyper =
    { /// ε of ε-greedy planning on the empirical model (the published variant) and on the posterior.
      EpsilonEmpirical: float
      EpsilonPosterior: float
      /// BEB's bonus scale β on the empirical model (the published variant) and on the posterior.
      BebBetaEmpirical: float
      BebBetaPosterior: float
      Ucrl2Scale: float
      /// Posterior draws per episode of optimistic PSRL.
      OpsrlDraws: int }

/// One column of a table row: a baseline, possibly in a named variant.
type Entry =
    { Name: string
      /// "" when the baseline has one form; otherwise which one (e.g. "empirical", "posterior").
      Variant: string
      /// Whether this is the form the papers' number is for (the one checked against it).
      Published: bool
      Policy: Policy<obj> }

    member e.Label = if e.Variant = "" then e.Name else $"{e.Name} ({e.Variant})"

let private entry name variant published policy =
    { Name = name
      Variant = variant
      Published = published
      Policy = Policy.erase policy }

/// Largest n for which the bandit's exact Bayes-optimal DP is played (its memo stays small).
let bayesOptimalMaxPulls = 10

/// The bandit baselines for n pulls of k arms, in the papers' column order, then the exact
/// Bayes-optimal policy where it is tractable.
let banditEntries (h: BanditHyper) (pulls: int) (arms: int) =
    [ entry "Random" "" true (Policy.random arms)
      entry "Gittins" "" true (Gittins.policy h.GittinsDiscount arms pulls)
      entry "TS" "" true (Bandit.thompson arms)
      entry "OTS" "" true (Bandit.optimisticThompson arms)
      entry "UCB1" "" true (Bandit.ucb1 h.UcbC arms)
      entry "eps-Greedy" "" true (Bandit.epsilonGreedy h.Epsilon arms)
      entry "Greedy" "" true (Bandit.greedy arms)
      if pulls <= bayesOptimalMaxPulls then
          entry "Bayes-optimal" "" false (BayesOptimal.policy arms pulls) ]

/// The tabular-MDP baselines; BEB, greedy and ε-greedy in both forms: planning on the empirical
/// model (what the papers' numbers match) and on the Bayesian posterior mean (far stronger).
let mdpEntries (h: MdpHyper) (states: int) (actions: int) (episodeLength: int) =
    [ entry "Random" "" true (Mdp.random actions)
      entry "PSRL" "" true (Mdp.psrl states actions episodeLength)
      entry "OPSRL" "" true (Mdp.opsrl h.OpsrlDraws states actions episodeLength)
      entry "UCRL2" "" true (Mdp.ucrl2 h.Ucrl2Scale states actions)
      entry "BEB" "empirical" true (Mdp.beb h.BebBetaEmpirical Mdp.Empirical states actions)
      entry "BEB" "posterior" false (Mdp.beb h.BebBetaPosterior Mdp.Posterior states actions)
      entry "eps-Greedy" "empirical" true (Mdp.epsilonGreedy h.EpsilonEmpirical Mdp.Empirical states actions)
      entry "eps-Greedy" "posterior" false (Mdp.epsilonGreedy h.EpsilonPosterior Mdp.Posterior states actions)
      entry "Greedy" "empirical" true (Mdp.greedy Mdp.Empirical states actions)
      entry "Greedy" "posterior" false (Mdp.greedy Mdp.Posterior states actions) ]

/// Chosen bandit hyperparameters, by (n, k).
let tunedBandit: Map<int * int, BanditHyper> =
    Map.ofList
        [ (10, 5), { UcbC = 0.1; Epsilon = 0.0; GittinsDiscount = 0.9 }
          (10, 10), { UcbC = 0.1; Epsilon = 0.0; GittinsDiscount = 0.9 }
          (10, 50), { UcbC = 0.1; Epsilon = 0.0; GittinsDiscount = 0.9 }
          (100, 5), { UcbC = 0.2; Epsilon = 0.02; GittinsDiscount = 0.98 }
          (100, 10), { UcbC = 0.2; Epsilon = 0.02; GittinsDiscount = 0.98 }
          (100, 50), { UcbC = 0.2; Epsilon = 0.02; GittinsDiscount = 0.98 }
          (500, 5), { UcbC = 0.2; Epsilon = 0.01; GittinsDiscount = 0.995 }
          (500, 10), { UcbC = 0.2; Epsilon = 0.01; GittinsDiscount = 0.995 }
          (500, 50), { UcbC = 0.2; Epsilon = 0.01; GittinsDiscount = 0.995 } ]

/// Chosen tabular-MDP hyperparameters, by n (episodes of 10 steps, 10 states, 5 actions).
let tunedMdp: Map<int, MdpHyper> =
    Map.ofList
        [ for n in [ 10; 25; 50; 75; 100 ] ->
              n,
              { EpsilonEmpirical = 0.05
                EpsilonPosterior = 0.0
                BebBetaEmpirical = 1.0
                BebBetaPosterior = 1.0
                Ucrl2Scale = 0.1
                OpsrlDraws = 1 } ]

/// Hyperparameters for a setup outside the tables: those of the nearest tabulated n (and k).
let banditHyper (pulls: int) (arms: int) =
    tunedBandit
    |> Map.toSeq
    |> Seq.minBy (fun ((n, k), _) -> abs (log (float n / float pulls)), abs (log (float k / float arms)))
    |> snd

let mdpHyper (episodes: int) =
    tunedMdp |> Map.toSeq |> Seq.minBy (fun (n, _) -> abs (log (float n / float episodes))) |> snd
