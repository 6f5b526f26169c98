/// Gittins indices of Bernoulli arms under Beta posteriors, computed by calibration (Gittins 1979):
/// the index of a posterior is the per-step retirement reward λ at which retiring for ever and
/// playing on optimally are worth the same. For each λ of a grid, one backward induction over the
/// whole triangle of posteriors (s successes, f failures) gives every posterior's advantage of playing
/// on; the index is where that advantage crosses zero, interpolated between grid points.
module RL2.Baselines.Gittins

open System
open System.Collections.Concurrent

/// Indices of the posteriors Beta(1 + s, 1 + f) with s + f ≤ MaxPulls, for one discount.
type Table =
    { Discount: float
      MaxPulls: int
      /// Flat over levels m = s + f: entry m (m + 1) / 2 + s.
      Indices: float[] }

    member t.Index(successes: int, failures: int) =
        let m = successes + failures
        t.Indices[m * (m + 1) / 2 + successes]

/// Calibration grid points over λ ∈ [0, 1].
let gridPoints = 256

/// Levels beyond MaxPulls the calibration looks ahead before assuming nothing more is learned
/// (value max(λ, p) per step): where the discount has shrunk the future below 1e-3, at most 1500.
let lookahead (discount: float) =
    if discount <= 0.0 then 1 else min 1500 (max 20 (int (ceil (log 1e-3 / log discount))))

/// Computes the table (O(gridPoints · (MaxPulls + lookahead)²) work).
let compute (discount: float) (maxPulls: int) =
    if discount < 0.0 || discount >= 1.0 then invalidArg "discount" $"discount must be in [0, 1), got {discount}"
    let depth = maxPulls + lookahead discount
    let size = (maxPulls + 1) * (maxPulls + 2) / 2
    let indices = Array.create size nan
    let prevAdvantage = Array.create size infinity
    let prevLambda = Array.zeroCreate size
    // Values are scaled by (1 - γ): a per-step reward r for ever is worth r.
    let upper = Array.zeroCreate (depth + 2)
    let current = Array.zeroCreate (depth + 2)
    for j in 0 .. gridPoints do
        let lambda = float j / float gridPoints
        let mutable next = upper
        let mutable here = current
        for s in 0 .. depth do
            let p = float (1 + s) / float (2 + depth)
            next[s] <- max lambda p
        for m in depth - 1 .. -1 .. 0 do
            for s in 0 .. m do
                let p = float (1 + s) / float (2 + m)
                // next holds level m + 1: success → s + 1, failure → s.
                let playOn = (1.0 - discount) * p + discount * (p * next[s + 1] + (1.0 - p) * next[s])
                here[s] <- max lambda playOn
                if m <= maxPulls then
                    let i = m * (m + 1) / 2 + s
                    let advantage = playOn - lambda
                    if Double.IsNaN indices[i] then
                        if advantage <= 0.0 then
                            let a0 = prevAdvantage[i]
                            indices[i] <-
                                if Double.IsInfinity a0 then lambda
                                else prevLambda[i] + (lambda - prevLambda[i]) * a0 / (a0 - advantage)
                        else
                            prevAdvantage[i] <- advantage
                            prevLambda[i] <- lambda
            let t = next
            next <- here
            here <- t
    { Discount = discount
      MaxPulls = maxPulls
      Indices = indices |> Array.map (fun x -> if Double.IsNaN x then 1.0 else x) }

let private cache = ConcurrentDictionary<struct (float * int), Lazy<Table>>()

/// The table for a discount covering `maxPulls`, computed once per process.
let table (discount: float) (maxPulls: int) =
    cache.GetOrAdd(struct (discount, maxPulls), fun _ -> lazy (compute discount maxPulls)).Value

/// Pulls the arm of highest Gittins index (ties at random); `discount` is a tuned hyperparameter.
let policy (discount: float) (arms: int) (pulls: int) : Policy<Bandit.Counts> =
    let t = lazy (table discount pulls)
    Bandit.indexPolicy "Gittins" arms (fun _ c i _ -> t.Value.Index(c.Successes[i], c.Failures[i]))
