/// Bernoulli-bandit baselines over Beta posterior counts, batched: successes and failures are
/// [B; k] arrays (row-major, flat). Every arm starts from the Beta(1, 1) prior of the task
/// distribution (p ~ U[0, 1]), so the posterior of an arm with s successes and f failures is
/// Beta(1 + s, 1 + f), with mean (1 + s) / (2 + s + f).
module RL2.Baselines.Bandit

open System

/// Posterior counts of B tasks with k arms each.
type Counts =
    { Arms: int
      Successes: int[]
      Failures: int[] }

    member c.Tasks = c.Successes.Length / c.Arms
    member c.Pulls(i: int) = c.Successes[i] + c.Failures[i]
    /// Beta(1, 1) posterior mean of flat index i = task * k + arm.
    member c.Mean(i: int) = float (1 + c.Successes[i]) / float (2 + c.Successes[i] + c.Failures[i])

let emptyCounts (arms: int) (tasks: int) =
    { Arms = arms
      Successes = Array.zeroCreate (arms * tasks)
      Failures = Array.zeroCreate (arms * tasks) }

/// Adds one observation per task (reward 1 = success, 0 = failure) to the counts, in place.
let observe (c: Counts) (f: Feedback) =
    for b in 0 .. c.Tasks - 1 do
        let i = b * c.Arms + f.Actions[b]
        if f.Rewards[b] > 0.5 then c.Successes[i] <- c.Successes[i] + 1 else c.Failures[i] <- c.Failures[i] + 1
    c

/// A policy that pulls, in every task, the arm of highest score (ties broken at random).
/// `score rng counts i step` scores flat index i = task * k + arm before pull number `step`.
let indexPolicy (name: string) (arms: int) (score: Rng -> Counts -> int -> int -> float) : Policy<Counts> =
    { Name = name
      Init = fun _ n -> emptyCounts arms n
      Act =
        fun rng c o ->
            let scores = Array.zeroCreate arms
            Array.init c.Tasks (fun b ->
                for a in 0 .. arms - 1 do
                    scores[a] <- score rng c (b * arms + a) o.Step
                Policy.argmax rng scores 0 arms)
      Update = fun _ c f -> observe c f }

/// Thompson sampling: one draw per arm from its posterior.
let thompson arms =
    indexPolicy "TS" arms (fun rng c i _ -> rng.Beta(float (1 + c.Successes[i]), float (1 + c.Failures[i])))

/// Optimistic Thompson sampling (May et al. 2012): per arm the larger of a posterior draw and the
/// posterior mean.
let optimisticThompson arms =
    indexPolicy "OTS" arms (fun rng c i _ -> max (rng.Beta(float (1 + c.Successes[i]), float (1 + c.Failures[i]))) (c.Mean i))

/// UCB1 (Auer et al. 2002) with its exploration constant c, counting the Beta(1, 1) prior as two
/// pseudo-pulls per arm (one success, one failure): index = (1 + s) / N + c · sqrt(2 ln t / N) with
/// N = 2 + pulls of the arm and t = 2k + pulls so far. Without the prior, UCB1 would first pull every
/// arm once, which alone is random play for n ≤ k.
let ucbIndex (c: float) (counts: Counts) (i: int) (step: int) =
    let n = float (2 + counts.Pulls i)
    let t = float (2 * counts.Arms + step)
    counts.Mean i + c * sqrt (2.0 * log t / n)

let ucb1 (c: float) arms =
    indexPolicy "UCB1" arms (fun _ counts i step -> ucbIndex c counts i step)

/// ε-greedy: with probability ε a uniformly random arm, otherwise the arm of highest posterior mean.
let epsilonGreedy (epsilon: float) arms : Policy<Counts> =
    let greedy = indexPolicy "eps-Greedy" arms (fun _ c i _ -> c.Mean i)
    { greedy with
        Act =
            fun rng c o ->
                let actions = greedy.Act rng c o
                if epsilon > 0.0 then
                    for b in 0 .. actions.Length - 1 do
                        if rng.Uniform() < epsilon then actions[b] <- rng.Int arms
                actions }

/// Greedy: ε-greedy with ε = 0 (win-stay, lose-shift to an unpulled arm while one is left).
let greedy arms = { epsilonGreedy 0.0 arms with Name = "Greedy" }
