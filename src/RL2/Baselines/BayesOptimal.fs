/// The exact Bayes-optimal policy of an n-pull, k-arm Bernoulli bandit with Beta(1, 1) priors, by
/// dynamic programming over posteriors: V(state) = max_a [p_a (1 + V(a succeeds)) + (1 − p_a) V(a fails)]
/// with p_a = (1 + s_a) / (2 + s_a + f_a), V = 0 when no pull is left. Arms are exchangeable, so a
/// state is the multiset of the pulled arms' (s, f) counts (unpulled arms are implied by k); values
/// are memoised on it. Tractable while n is small (n = 10 for every k of the papers' table).
module RL2.Baselines.BayesOptimal

open System
open System.Collections.Generic
open System.Numerics

/// The arithmetic the DP runs in: doubles to play, exact rationals to check.
type Arithmetic<'T> =
    { Zero: 'T
      One: 'T
      Fraction: int -> int -> 'T
      Add: 'T -> 'T -> 'T
      Mul: 'T -> 'T -> 'T
      Sub: 'T -> 'T -> 'T
      Greater: 'T -> 'T -> bool }

let floats: Arithmetic<float> =
    { Zero = 0.0
      One = 1.0
      Fraction = fun a b -> float a / float b
      Add = (+)
      Mul = (*)
      Sub = (-)
      Greater = (>) }

/// An exact fraction in lowest terms with a positive denominator.
[<Struct; CustomEquality; NoComparison>]
type Rational =
    { Num: BigInteger
      Den: BigInteger }

    static member Make(n: BigInteger, d: BigInteger) =
        let g = BigInteger.GreatestCommonDivisor(n, d)
        let g = if d.Sign < 0 then -g else g
        if g.IsZero then { Num = n; Den = d } else { Num = n / g; Den = d / g }

    override r.Equals(o) =
        match o with
        | :? Rational as q -> r.Num = q.Num && r.Den = q.Den
        | _ -> false

    override r.GetHashCode() = hash (r.Num, r.Den)
    override r.ToString() = $"{r.Num}/{r.Den}"
    member r.ToFloat() = float r.Num / float r.Den

let rationals: Arithmetic<Rational> =
    let mk (n: BigInteger) (d: BigInteger) = Rational.Make(n, d)
    { Zero = mk BigInteger.Zero BigInteger.One
      One = mk BigInteger.One BigInteger.One
      Fraction = fun a b -> mk (BigInteger a) (BigInteger b)
      Add = fun x y -> mk (x.Num * y.Den + y.Num * x.Den) (x.Den * y.Den)
      Mul = fun x y -> mk (x.Num * y.Num) (x.Den * y.Den)
      Sub = fun x y -> mk (x.Num * y.Den - y.Num * x.Den) (x.Den * y.Den)
      Greater = fun x y -> x.Num * y.Den > y.Num * x.Den }

/// The value function of the `pulls`-pull, `arms`-arm bandit, memoised.
type Solver<'T>(arith: Arithmetic<'T>, arms: int, pulls: int) =
    let memo = Dictionary<string, 'T>()
    let code s f = s * (pulls + 1) + f
    let counts c = c / (pulls + 1), c % (pulls + 1)
    let key (codes: int[]) = String(codes |> Array.map char)

    /// `codes` sorted, of pulled arms only; a pull of `arm` (an index into codes, or -1 for an
    /// unpulled arm) with the given outcome.
    let after (codes: int[]) (arm: int) (success: bool) =
        let s, f = if arm < 0 then 0, 0 else counts codes[arm]
        let c = if success then code (s + 1) f else code s (f + 1)
        let rest = if arm < 0 then codes else Array.removeAt arm codes
        let next = Array.append rest [| c |]
        Array.sortInPlace next
        next

    let rec value (codes: int[]) : 'T =
        let used = codes |> Array.sumBy (fun c -> let s, f = counts c in s + f)
        if used >= pulls then
            arith.Zero
        else
            let k = key codes
            match memo.TryGetValue k with
            | true, v -> v
            | _ ->
                let mutable best = None
                for arm in candidates codes do
                    let q = qValue codes arm
                    match best with
                    | Some b when not (arith.Greater q b) -> ()
                    | _ -> best <- Some q
                let v = best.Value
                memo[k] <- v
                v

    /// One representative per distinct posterior: distinct pulled codes, and -1 if an arm is unpulled.
    and candidates (codes: int[]) =
        [| for i in 0 .. codes.Length - 1 do
               if i = 0 || codes[i] <> codes[i - 1] then i
           if codes.Length < arms then -1 |]

    and qValue (codes: int[]) (arm: int) : 'T =
        let s, f = if arm < 0 then 0, 0 else counts codes[arm]
        let p = arith.Fraction (1 + s) (2 + s + f)
        let win = arith.Add arith.One (value (after codes arm true))
        let lose = value (after codes arm false)
        arith.Add (arith.Mul p win) (arith.Mul (arith.Sub arith.One p) lose)

    member _.Arms = arms
    member _.Pulls = pulls
    /// Memoised states so far.
    member _.States = memo.Count

    /// Expected total reward of the Bayes-optimal policy from the start.
    member _.Value() = value [||]

    /// Q-values of every arm of one task, from its per-arm counts.
    member _.QValues(successes: int[], failures: int[], offset: int) : 'T[] =
        let armCodes = Array.init arms (fun a -> code successes[offset + a] failures[offset + a])
        let pulled = armCodes |> Array.filter (fun c -> c <> 0) |> Array.sort
        let byCode = Dictionary<int, 'T>()
        armCodes
        |> Array.map (fun c ->
            match byCode.TryGetValue c with
            | true, q -> q
            | _ ->
                let q = qValue pulled (if c = 0 then -1 else Array.IndexOf(pulled, c))
                byCode[c] <- q
                q)

/// Expected total reward of the Bayes-optimal player, in doubles.
let expectedReturn (arms: int) (pulls: int) = Solver(floats, arms, pulls).Value()

/// Plays the Bayes-optimal action in every task (ties at random). Tractable for small n: the
/// solver's memo grows with the number of posterior multisets reachable in n pulls.
let policy (arms: int) (pulls: int) : Policy<Bandit.Counts> =
    let solver = lazy (Solver(floats, arms, pulls))
    { Name = "Bayes-optimal"
      Init = fun _ n -> Bandit.emptyCounts arms n
      Act =
        fun rng c _ ->
            Array.init c.Tasks (fun b ->
                let q = solver.Value.QValues(c.Successes, c.Failures, b * arms)
                Policy.argmax rng q 0 arms)
      Update = fun _ c f -> Bandit.observe c f }
