/// Tabular-MDP baselines over visit counts, batched: visits and reward sums are [B; S; A], transition
/// counts [B; S; A; S] (row-major, flat). Each plans by finite-horizon value iteration over the steps
/// left in the current episode, on a model built from the counts:
/// - the Bayesian posterior of the task distribution (SPEC §2): reward mean ~ N(1, 1) with unit
///   reward noise, so the posterior mean is (1 + Σr) / (1 + N) with variance 1 / (1 + N); each
///   transition row ~ Dirichlet(1, …, 1), so the posterior is Dirichlet(1 + counts);
/// - or the empirical model: mean observed reward and observed transition frequencies, with reward 0
///   and uniform transitions where a state-action was never tried.
module RL2.Baselines.Mdp

open System

/// Counts of B tasks with S states and A actions.
type Counts =
    { States: int
      Actions: int
      Visits: float[]
      RewardSums: float[]
      Transitions: float[]
      /// Steps observed so far in the meta-episode.
      mutable Steps: int }

    member c.Tasks = c.Visits.Length / (c.States * c.Actions)

let emptyCounts (states: int) (actions: int) (tasks: int) =
    { States = states
      Actions = actions
      Visits = Array.zeroCreate (tasks * states * actions)
      RewardSums = Array.zeroCreate (tasks * states * actions)
      Transitions = Array.zeroCreate (tasks * states * actions * states)
      Steps = 0 }

/// Adds one transition per task (state, action, reward, next state before any reset), in place.
let observe (c: Counts) (f: Feedback) =
    let sa = c.States * c.Actions
    for b in 0 .. c.Tasks - 1 do
        let i = b * sa + f.States[b] * c.Actions + f.Actions[b]
        c.Visits[i] <- c.Visits[i] + 1.0
        c.RewardSums[i] <- c.RewardSums[i] + f.Rewards[b]
        let j = i * c.States + f.NextStates[b]
        c.Transitions[j] <- c.Transitions[j] + 1.0
    c.Steps <- c.Steps + 1
    c

/// One task's model: rewards [S; A] and transition rows [S; A; S].
type Model =
    { Rewards: float[]
      Next: float[] }

let newModel (states: int) (actions: int) =
    { Rewards = Array.zeroCreate (states * actions)
      Next = Array.zeroCreate (states * actions * states) }

/// Which model the count-based planners plan on.
type ModelKind =
    | Posterior
    | Empirical

/// Fills `m` with task b's posterior-mean or empirical model.
let fillModel (kind: ModelKind) (c: Counts) (b: int) (m: Model) =
    let s, sa = c.States, c.States * c.Actions
    for i in 0 .. sa - 1 do
        let g = b * sa + i
        let n = c.Visits[g]
        match kind with
        | Posterior ->
            m.Rewards[i] <- (1.0 + c.RewardSums[g]) / (1.0 + n)
            for j in 0 .. s - 1 do
                m.Next[i * s + j] <- (1.0 + c.Transitions[g * s + j]) / (float s + n)
        | Empirical ->
            m.Rewards[i] <- if n > 0.0 then c.RewardSums[g] / n else 0.0
            for j in 0 .. s - 1 do
                m.Next[i * s + j] <- if n > 0.0 then c.Transitions[g * s + j] / n else 1.0 / float s

/// Fills `m` with a draw from task b's posterior (PSRL's sampled MDP).
let samplePosterior (rng: Rng) (c: Counts) (b: int) (m: Model) (alpha: float[]) =
    let s, sa = c.States, c.States * c.Actions
    for i in 0 .. sa - 1 do
        let g = b * sa + i
        let n = c.Visits[g]
        m.Rewards[i] <- (1.0 + c.RewardSums[g]) / (1.0 + n) + rng.Normal() / sqrt (1.0 + n)
        for j in 0 .. s - 1 do
            alpha[i * s + j] <- 1.0 + c.Transitions[g * s + j]
        rng.Dirichlet(alpha, m.Next, i * s, s)

/// A Bellman backup of one state-action against next-state values: Q(s, a) = backup (s·A + a) V.
type Backup = int -> float[] -> float

/// r + P·V of one model.
let expected (m: Model) (states: int) : Backup =
    fun i v ->
        let mutable q = m.Rewards[i]
        let o = i * states
        for j in 0 .. states - 1 do
            q <- q + m.Next[o + j] * v[j]
        q

/// Finite-horizon value iteration: values of 0, 1, …, `horizon` − 1 steps to go, then the Q-values
/// of every state-action with `horizon` steps to go, written to q[S; A]. `prepare` runs before each
/// sweep with the values it reads (UCRL2 sorts them there). `keep h q` sees the Q-values of every
/// h = 1 … horizon on the way.
let valueIteration (states: int) (actions: int) (horizon: int) (prepare: float[] -> unit) (backup: Backup) (keep: int -> float[] -> unit) (q: float[]) (v: float[]) =
    Array.fill v 0 states 0.0
    for h in 1 .. horizon do
        prepare v
        for i in 0 .. states * actions - 1 do
            q[i] <- backup i v
        keep h q
        if h < horizon then
            for s in 0 .. states - 1 do
                let mutable best = Double.NegativeInfinity
                for a in 0 .. actions - 1 do
                    best <- max best q[s * actions + a]
                v[s] <- best

/// The Q-values [S; A] with `horizon` steps to go.
let qValues states actions horizon prepare backup (q: float[]) (v: float[]) =
    valueIteration states actions horizon prepare backup (fun _ _ -> ()) q v

/// When a count-based planner plans.
type Schedule =
    /// Once at the start of every episode, then the plan is followed to the episode's end (as PSRL
    /// does with its sampled MDP). The papers' greedy and BEB numbers match this.
    | PerEpisode
    /// Again at every step, on the counts including the step just taken.
    | PerStep

/// A count-based planner: the belief is the counts plus the current episode's plan.
type Belief =
    { Counts: Counts
      /// Per-episode planners: Q-values [B; L; S; A] planned at the episode's start (entry h − 1 for
      /// h steps to go); empty for planners that replan every step.
      Plan: float[] }

/// A planner over the counts: in each task the action of highest Q at the current state, Q by value
/// iteration over the steps left in the episode with the backup `backupOf rng counts task`
/// (a fresh backup, i.e. fresh model or draws, per plan).
let planner name states actions episodeLength (schedule: Schedule) (prepare: float[] -> unit) (backupOf: Rng -> Counts -> int -> Backup) : Policy<Belief> =
    let sa = states * actions
    let q, v = Array.zeroCreate sa, Array.zeroCreate states
    let planEpisode (rng: Rng) (belief: Belief) =
        for b in 0 .. belief.Counts.Tasks - 1 do
            let keep h (qh: float[]) = Array.blit qh 0 belief.Plan ((b * episodeLength + h - 1) * sa) sa
            valueIteration states actions episodeLength prepare (backupOf rng belief.Counts b) keep q v
        belief
    match schedule with
    | PerEpisode ->
        { Name = name
          Init = fun rng n -> planEpisode rng { Counts = emptyCounts states actions n; Plan = Array.zeroCreate (n * episodeLength * sa) }
          Act =
            fun rng belief o ->
                Array.init belief.Counts.Tasks (fun b ->
                    let offset = (b * episodeLength + o.Remaining - 1) * sa + o.States[b] * actions
                    Policy.argmax rng belief.Plan offset actions)
          Update =
            fun rng belief f ->
                let belief = { belief with Counts = observe belief.Counts f }
                if f.Done then planEpisode rng belief else belief }
    | PerStep ->
        { Name = name
          Init = fun _ n -> { Counts = emptyCounts states actions n; Plan = [||] }
          Act =
            fun rng belief o ->
                Array.init belief.Counts.Tasks (fun b ->
                    qValues states actions o.Remaining prepare (backupOf rng belief.Counts b) q v
                    Policy.argmax rng q (o.States[b] * actions) actions)
          Update = fun _ belief f -> { belief with Counts = observe belief.Counts f } }

/// Plans on the posterior-mean or empirical model, with an optional reward bonus β / (1 + N(s, a)).
let private certaintyEquivalent name kind (bonus: float) schedule states actions episodeLength =
    let m = newModel states actions
    planner name states actions episodeLength schedule ignore (fun _ c b ->
        fillModel kind c b m
        if bonus <> 0.0 then
            let sa = states * actions
            for i in 0 .. sa - 1 do
                m.Rewards[i] <- m.Rewards[i] + bonus / (1.0 + c.Visits[b * sa + i])
        expected m states)

/// Greedy: the best action of the model's plan (posterior mean or empirical model).
let greedy (kind: ModelKind) schedule states actions episodeLength =
    certaintyEquivalent "Greedy" kind 0.0 schedule states actions episodeLength

/// ε-greedy: with probability ε a uniformly random action, otherwise greedy's.
let epsilonGreedy (epsilon: float) (kind: ModelKind) schedule states actions episodeLength : Policy<Belief> =
    let g = greedy kind schedule states actions episodeLength
    { g with
        Name = "eps-Greedy"
        Act =
            fun rng belief o ->
                let acts = g.Act rng belief o
                for b in 0 .. acts.Length - 1 do
                    if rng.Uniform() < epsilon then acts[b] <- rng.Int actions
                acts }

/// BEB (Kolter and Ng 2009): plans with the exploration bonus β / (1 + N(s, a)) added to the rewards
/// of the posterior-mean or the empirical model.
let beb (beta: float) (kind: ModelKind) schedule states actions episodeLength =
    certaintyEquivalent "BEB" kind beta schedule states actions episodeLength

/// UCRL2 (Jaksch et al. 2010), finite-horizon: extended value iteration over the empirical model's
/// confidence set, rewards within c · sqrt(7 ln(2SAt/δ) / (2 max(1, N))) and transition rows within
/// L1 distance c · sqrt(14 S ln(2At/δ) / max(1, N)), δ = 0.1; the scale c is tuned.
let ucrl2 (scale: float) schedule states actions episodeLength =
    let delta = 0.1
    // Next states by decreasing value, sorted once per sweep.
    let order = Array.init states id
    let keys = Array.zeroCreate states
    let prepare (v: float[]) =
        for j in 0 .. states - 1 do
            order[j] <- j
            keys[j] <- -v[j]
        Array.Sort(keys, order)
    let p = Array.zeroCreate states
    let m = newModel states actions
    planner "UCRL2" states actions episodeLength schedule prepare (fun _ c b ->
        fillModel Empirical c b m
        let sa = states * actions
        let t = float (c.Steps + 1)
        let logR = log (2.0 * float sa * t / delta)
        let logP = log (2.0 * float actions * t / delta)
        fun i v ->
            let n = max 1.0 c.Visits[b * sa + i]
            let r = m.Rewards[i] + scale * sqrt (7.0 * logR / (2.0 * n))
            let radius = scale * sqrt (14.0 * float states * logP / n)
            let o = i * states
            Array.blit m.Next o p 0 states
            // Move up to radius / 2 of mass onto the best next state, taken from the worst ones.
            let top = order[0]
            let add = min (1.0 - p[top]) (radius / 2.0)
            p[top] <- p[top] + add
            let mutable excess = add
            let mutable k = states - 1
            while excess > 1e-15 && k > 0 do
                let j = order[k]
                let take = min p[j] excess
                p[j] <- p[j] - take
                excess <- excess - take
                k <- k - 1
            let mutable q = r
            for j in 0 .. states - 1 do
                q <- q + p[j] * v[j]
            q)

/// PSRL (Strens 2000; Osband et al. 2013): one MDP drawn from the posterior per episode, followed
/// optimally for the episode.
let psrl states actions episodeLength =
    let m = newModel states actions
    let alpha = Array.zeroCreate (states * actions * states)
    planner "PSRL" states actions episodeLength PerEpisode ignore (fun rng c b ->
        samplePosterior rng c b m alpha
        expected m states)

/// Optimistic PSRL, the MDP counterpart of optimistic Thompson sampling: per episode K posterior
/// draws, and each state-action's backup is the largest over the draws and the posterior mean
/// (K = 1: per state-action the max of a sampled and the mean model's backup). K is tuned.
let opsrl (draws: int) states actions episodeLength =
    let models = Array.init (draws + 1) (fun _ -> newModel states actions)
    let alpha = Array.zeroCreate (states * actions * states)
    planner "OPSRL" states actions episodeLength PerEpisode ignore (fun rng c b ->
        fillModel Posterior c b models[0]
        for k in 1 .. draws do
            samplePosterior rng c b models[k] alpha
        let backups = models |> Array.map (fun m -> expected m states)
        fun i v ->
            let mutable best = Double.NegativeInfinity
            for bk in backups do
                best <- max best (bk i v)
            best)

/// Uniformly random actions.
let random actions : Policy<Belief> =
    let r = Policy.random actions
    { Name = "Random"
      Init = fun _ _ -> { Counts = emptyCounts 1 1 0; Plan = [||] }
      Act = fun rng belief o -> r.Act rng () o
      Update = fun _ belief _ -> belief }

