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

/// How BEB, greedy and ε-greedy plan in their published form and in the sound one.
let mdpPublished, mdpSound = (Mdp.Empirical, Mdp.PerEpisode), (Mdp.Posterior, Mdp.PerStep)

/// When UCRL2 plans.
let ucrl2Schedule = Mdp.PerStep

/// The tabular-MDP baselines. BEB, greedy and ε-greedy come in two forms: the papers' (planning on the
/// empirical model once per episode, which their numbers match) and a sound one (planning on the
/// Bayesian posterior mean at every step, far stronger).
let mdpEntries (h: MdpHyper) (states: int) (actions: int) (episodeLength: int) =
    [ entry "Random" "" true (Mdp.random actions)
      entry "PSRL" "" true (Mdp.psrl states actions episodeLength)
      entry "OPSRL" "" true (Mdp.opsrl h.OpsrlDraws states actions episodeLength)
      entry "UCRL2" "" true (Mdp.ucrl2 h.Ucrl2Scale ucrl2Schedule states actions episodeLength)
      // Each published form beside its sound form.
      let forms = [ "empirical", true, mdpPublished; "posterior", false, mdpSound ]
      for variant, isPublished, (kind, schedule) in forms do
          let beta = if isPublished then h.BebBetaEmpirical else h.BebBetaPosterior
          entry "BEB" variant isPublished (Mdp.beb beta kind schedule states actions episodeLength)
      for variant, isPublished, (kind, schedule) in forms do
          let epsilon = if isPublished then h.EpsilonEmpirical else h.EpsilonPosterior
          entry "eps-Greedy" variant isPublished (Mdp.epsilonGreedy epsilon kind schedule states actions episodeLength)
      for variant, isPublished, (kind, schedule) in forms do
          entry "Greedy" variant isPublished (Mdp.greedy kind schedule states actions episodeLength) ]

/// Chosen bandit hyperparameters, by (n, k).
let tunedBandit: Map<int * int, BanditHyper> =
    let h c e g = { UcbC = c; Epsilon = e; GittinsDiscount = g }
    Map.ofList
        [ (10, 5), h 0.1 0.01 0.8
          (10, 10), h 0.1 0.005 0.8
          (10, 50), h 0.15 0.005 0.95
          (100, 5), h 0.2 0.005 0.98
          (100, 10), h 0.2 0.005 0.98
          (100, 50), h 0.15 0.005 0.99
          (500, 5), h 0.25 0.05 0.998
          (500, 10), h 0.2 0.1 0.995
          (500, 50), h 0.2 0.05 0.998 ]

/// Chosen tabular-MDP hyperparameters, by n (episodes of 10 steps, 10 states, 5 actions).
let tunedMdp: Map<int, MdpHyper> =
    let h epsE epsP bebE bebP ucrl2 draws =
        { EpsilonEmpirical = epsE
          EpsilonPosterior = epsP
          BebBetaEmpirical = bebE
          BebBetaPosterior = bebP
          Ucrl2Scale = ucrl2
          OpsrlDraws = draws }
    Map.ofList
        [ 10, h 0.02 0.0 2.0 0.25 0.3 1
          25, h 0.1 0.0 2.0 1.0 0.3 1
          50, h 0.1 0.0 2.0 1.0 0.3 1
          75, h 0.1 0.05 2.0 1.5 0.3 1
          100, h 0.1 0.05 2.5 1.5 0.3 1 ]

/// Hyperparameters for a setup outside the tables: those of the nearest tabulated n (and k).
let banditHyper (pulls: int) (arms: int) =
    tunedBandit
    |> Map.toSeq
    |> Seq.minBy (fun ((n, k), _) -> abs (log (float n / float pulls)), abs (log (float k / float arms)))
    |> snd

let mdpHyper (episodes: int) =
    tunedMdp |> Map.toSeq |> Seq.minBy (fun (n, _) -> abs (log (float n / float episodes))) |> snd
