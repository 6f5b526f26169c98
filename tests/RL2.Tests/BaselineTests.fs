/// The classic baselines: posterior updates against hand numbers, UCB1 and the Bayes-optimal DP on
/// a 2-arm 3-pull case worked by hand, the DP's exact value for n = 10, k = 5, Gittins indices by
/// calibration, and every baseline beating random play on small seeded setups.
module RL2.Tests.BaselineTests

open Expecto
open RL2.Envs
open RL2.Baselines
open RL2.Eval

let private feedback (states: int list) (actions: int list) (rewards: float list) (next: int list) done' : Feedback =
    { States = Array.ofList states
      Actions = Array.ofList actions
      Rewards = Array.ofList rewards
      NextStates = Array.ofList next
      Done = done'
      Step = 0 }

let private banditObs step n : Observation =
    { States = [| 0 |]
      Step = step
      MetaEpisodeLength = n
      EpisodeStep = 0
      EpisodeLength = 1 }

let private close (tol: float) (actual: float) (expected: float) msg =
    if abs (actual - expected) > tol then failtestf "%s: %.12g vs expected %.12g" msg actual expected

let private q (n: int) (d: int) = BayesOptimal.rationals.Fraction n d

let posteriorTests =
    testList "posterior updates" [
        test "Beta counts: successes and failures per task and arm" {
            let c = Bandit.emptyCounts 3 2
            // Task 0 pulls arm 2 and wins, task 1 pulls arm 0 and loses; then task 0 pulls arm 2 again and loses.
            Bandit.observe c (feedback [ 0; 0 ] [ 2; 0 ] [ 1.0; 0.0 ] [ 0; 0 ] true) |> ignore
            Bandit.observe c (feedback [ 0; 0 ] [ 2; 1 ] [ 0.0; 1.0 ] [ 0; 0 ] true) |> ignore
            Expect.equal c.Successes [| 0; 0; 1; 0; 1; 0 |] "successes [B; k]"
            Expect.equal c.Failures [| 0; 0; 1; 1; 0; 0 |] "failures [B; k]"
            // Beta(1 + 1, 1 + 1) → mean 2/4; Beta(1, 2) → 1/3; an unpulled arm keeps the prior mean 1/2.
            close 1e-15 (c.Mean 2) 0.5 "task 0 arm 2"
            close 1e-15 (c.Mean 3) (1.0 / 3.0) "task 1 arm 0"
            close 1e-15 (c.Mean 4) (2.0 / 3.0) "task 1 arm 1"
            close 1e-15 (c.Mean 0) 0.5 "unpulled"
        }

        test "Dirichlet counts and reward sums; posterior-mean and empirical models" {
            // 1 task, S = 3, A = 2. From state 1 action 0: rewards 2.0 then -0.5, next states 2 then 2;
            // from state 0 action 1: reward 1.5, next state 0.
            let c = Mdp.emptyCounts 3 2 1
            Mdp.observe c (feedback [ 1 ] [ 0 ] [ 2.0 ] [ 2 ] false) |> ignore
            Mdp.observe c (feedback [ 1 ] [ 0 ] [ -0.5 ] [ 2 ] false) |> ignore
            Mdp.observe c (feedback [ 0 ] [ 1 ] [ 1.5 ] [ 0 ] true) |> ignore
            let sa10, sa01 = 1 * 2 + 0, 0 * 2 + 1
            Expect.equal c.Visits[sa10] 2.0 "N(1, 0)"
            Expect.equal c.RewardSums[sa10] 1.5 "Σr(1, 0)"
            Expect.equal c.Transitions[sa10 * 3 .. sa10 * 3 + 2] [| 0.0; 0.0; 2.0 |] "counts(1, 0, ·)"
            Expect.equal c.Transitions[sa01 * 3 .. sa01 * 3 + 2] [| 1.0; 0.0; 0.0 |] "counts(0, 1, ·)"
            Expect.equal c.Steps 3 "steps"
            let m = Mdp.newModel 3 2
            Mdp.fillModel Mdp.Posterior c 0 m
            // N(1, 1) prior, unit noise: (1 + 1.5) / (1 + 2); Dirichlet(1 + counts) mean: (1 + c) / (3 + 2).
            close 1e-15 m.Rewards[sa10] (2.5 / 3.0) "posterior reward (1, 0)"
            close 1e-15 m.Rewards[sa01] (2.5 / 2.0) "posterior reward (0, 1)"
            close 1e-15 m.Rewards[0] 1.0 "posterior reward of an unvisited pair = prior mean"
            Expect.equal m.Next[sa10 * 3 .. sa10 * 3 + 2] [| 0.2; 0.2; 0.6 |] "posterior transitions (1, 0)"
            Expect.equal m.Next[sa01 * 3 .. sa01 * 3 + 2] [| 0.5; 0.25; 0.25 |] "posterior transitions (0, 1)"
            Mdp.fillModel Mdp.Empirical c 0 m
            close 1e-15 m.Rewards[sa10] 0.75 "mean observed reward (1, 0)"
            close 1e-15 m.Rewards[sa01] 1.5 "mean observed reward (0, 1)"
            close 1e-15 m.Rewards[0] 0.0 "unvisited: reward 0"
            Expect.equal m.Next[sa10 * 3 .. sa10 * 3 + 2] [| 0.0; 0.0; 1.0 |] "observed frequencies (1, 0)"
            Expect.equal m.Next[0..2] [| 1.0 / 3.0; 1.0 / 3.0; 1.0 / 3.0 |] "unvisited: uniform"
        }

        test "finite-horizon value iteration on a 2-state chain by hand" {
            // State 0: action 0 stays (reward 1), action 1 moves to state 1 (reward 0);
            // state 1: action 0 stays (reward 3), action 1 moves to 0 (reward 0).
            let m: Mdp.Model =
                { Rewards = [| 1.0; 0.0; 3.0; 0.0 |]
                  Next = [| 1.0; 0.0; 0.0; 1.0; 0.0; 1.0; 1.0; 0.0 |] }
            let qv = Array.zeroCreate 4
            let v = Array.zeroCreate 2
            Mdp.qValues 2 2 1 ignore (Mdp.expected m 2) qv v
            Expect.equal qv [| 1.0; 0.0; 3.0; 0.0 |] "one step left: the rewards"
            Mdp.qValues 2 2 3 ignore (Mdp.expected m 2) qv v
            // Three steps from state 0: stay 1 + V2(0) = 1 + 3 = 4, or move 0 + V2(1) = 6.
            Expect.equal qv [| 4.0; 6.0; 9.0; 3.0 |] "three steps left"
        }
    ]

let ucbTests =
    testList "UCB1" [
        test "indices of a 2-arm, 3-pull game by hand" {
            // Prior as two pseudo-pulls per arm: index = (1 + s)/N + c sqrt(2 ln t / N), N = 2 + pulls, t = 4 + pulls so far.
            let c = Bandit.emptyCounts 2 1
            let p = Bandit.ucb1 0.1 2
            // Pull 1: both arms 1/2 + 0.1 sqrt(2 ln 4 / 2) = 0.61774: a tie.
            close 1e-5 (Bandit.ucbIndex 0.1 c 0 0) 0.61774 "pull 1, arm 0"
            close 1e-5 (Bandit.ucbIndex 0.1 c 1 0) 0.61774 "pull 1, arm 1"
            // Arm 0 wins: 2/3 + 0.1 sqrt(2 ln 5 / 3) = 0.77025 against 1/2 + 0.1 sqrt(ln 5) = 0.62686 → arm 0.
            Bandit.observe c (feedback [ 0 ] [ 0 ] [ 1.0 ] [ 0 ] true) |> ignore
            close 1e-5 (Bandit.ucbIndex 0.1 c 0 1) 0.77025 "pull 2, arm 0"
            close 1e-5 (Bandit.ucbIndex 0.1 c 1 1) 0.62686 "pull 2, arm 1"
            Expect.equal (p.Act (Rng 1UL) c (banditObs 1 3)) [| 0 |] "pull 2 stays on arm 0"
            // Arm 0 loses: 2/4 + 0.1 sqrt(2 ln 6 / 4) = 0.59466 against 1/2 + 0.1 sqrt(ln 6) = 0.63386 → arm 1.
            Bandit.observe c (feedback [ 0 ] [ 0 ] [ 0.0 ] [ 0 ] true) |> ignore
            close 1e-5 (Bandit.ucbIndex 0.1 c 0 2) 0.59466 "pull 3, arm 0"
            close 1e-5 (Bandit.ucbIndex 0.1 c 1 2) 0.63386 "pull 3, arm 1"
            Expect.equal (p.Act (Rng 1UL) c (banditObs 2 3)) [| 1 |] "pull 3 switches to arm 1"
            // With c = 0 UCB1 is greedy on the posterior mean and stays on arm 0 (1/2 against 1/2: a tie, so
            // check a clear case instead: after the first win it keeps arm 0).
            let c0 = Bandit.emptyCounts 2 1
            Bandit.observe c0 (feedback [ 0 ] [ 0 ] [ 1.0 ] [ 0 ] true) |> ignore
            Expect.equal ((Bandit.ucb1 0.0 2).Act (Rng 1UL) c0 (banditObs 1 3)) [| 0 |] "c = 0 exploits"
            // A large constant explores the less-pulled arm: c = 1 gives 1.7025 against 1.7686.
            close 1e-4 (Bandit.ucbIndex 1.0 c0 0 1) 1.7025 "c = 1, arm 0"
            close 1e-4 (Bandit.ucbIndex 1.0 c0 1 1) 1.7686 "c = 1, arm 1"
            Expect.equal ((Bandit.ucb1 1.0 2).Act (Rng 1UL) c0 (banditObs 1 3)) [| 1 |] "c = 1 explores"
        }
    ]

let bayesOptimalTests =
    testList "Bayes-optimal DP" [
        test "2 arms, 3 pulls, by hand" {
            // After a first win on arm A: pull A again → 2/3 (1 + 3/4) + 1/3 · 1/2 = 4/3; pull B → 1/2 (1 + 2/3) + 1/2 · 2/3 = 7/6.
            // After a first loss on A: pull A → 1/3 (1 + 1/2) + 2/3 · 1/2 = 5/6; pull B → 1/2 (1 + 2/3) + 1/2 · 1/3 = 1.
            // From the start: 1/2 (1 + 4/3) + 1/2 · 1 = 5/3.
            let s = BayesOptimal.Solver(BayesOptimal.rationals, 2, 3)
            Expect.equal (s.Value()) (q 5 3) "V = 5/3"
            Expect.equal (s.QValues([| 1; 0 |], [| 0; 0 |], 0)) [| q 4 3; q 7 6 |] "after a win: stay"
            Expect.equal (s.QValues([| 0; 0 |], [| 1; 0 |], 0)) [| q 5 6; q 1 1 |] "after a loss: switch"
            Expect.equal (BayesOptimal.Solver(BayesOptimal.rationals, 2, 2).Value()) (q 13 12) "2 pulls: 1/2 (1 + 2/3) + 1/2 · 1/2 = 13/12"
            // The policy plays those choices.
            let p = BayesOptimal.policy 2 3
            let c = Bandit.emptyCounts 2 1
            Bandit.observe c (feedback [ 0 ] [ 0 ] [ 0.0 ] [ 0 ] true) |> ignore
            Expect.equal (p.Act (Rng 1UL) c (banditObs 1 3)) [| 1 |] "switches after a loss"
        }

        test "n = 10, k = 5: exactly 6041941/907200" {
            let s = BayesOptimal.Solver(BayesOptimal.rationals, 5, 10)
            let v = s.Value()
            Expect.equal v (q 6041941 907200) "exact rational value"
            close 1e-12 (BayesOptimal.expectedReturn 5 10) (6041941.0 / 907200.0) "in doubles"
        }

        test "more arms than pulls: k = 10 and k = 50 have the same value for n = 10" {
            close 1e-12 (BayesOptimal.expectedReturn 10 10) (BayesOptimal.expectedReturn 50 10) "values"
        }
    ]

let gittinsTests =
    testList "Gittins index" [
        test "calibration reproduces the published indices of Beta(1, 1)" {
            // Gittins, Glazebrook and Weber (2011), Table 8.x: 0.7029 at γ = 0.9, 0.8699 at γ = 0.99.
            close 2e-4 ((Gittins.compute 0.9 4).Index(0, 0)) 0.7029 "γ = 0.9"
            close 2e-4 ((Gittins.compute 0.99 4).Index(0, 0)) 0.8699 "γ = 0.99"
        }

        test "the index exceeds the posterior mean and grows with successes" {
            let t = Gittins.compute 0.9 6
            for s in 0..5 do
                for f in 0 .. 5 - s do
                    let mean = float (1 + s) / float (2 + s + f)
                    Expect.isGreaterThan (t.Index(s, f)) mean $"index above mean at ({s}, {f})"
                    if s < 5 - f then Expect.isGreaterThan (t.Index(s + 1, f)) (t.Index(s, f)) $"monotone at ({s}, {f})"
        }
    ]

/// Each policy against random play on the same tasks: the paired difference's CI lies above 0.
let private beatsRandom (dist: TaskDistribution) steps count (random: Policy<obj>) (entries: Catalog.Entry list) =
    let baseline = Evaluate.play dist steps 5L count random
    for e in entries do
        let d = Stats.paired (Evaluate.play dist steps 5L count e.Policy) baseline
        if not (d.Mean - d.HalfWidth > 0.0) then
            failtestf "%s does not beat random play: difference %.3f ± %.3f" e.Label d.Mean d.HalfWidth

let beatRandomTests =
    testList "every baseline beats random play" [
        test "bandit, 20 pulls of 5 arms" {
            let entries = Catalog.banditEntries (Catalog.banditHyper 100 5) 20 5
            beatsRandom (Bandit.distribution 5) 20 400 (Policy.erase (Policy.random 5)) (entries |> List.filter (fun e -> e.Name <> "Random"))
        }

        test "bandit Bayes-optimal, 8 pulls of 3 arms" {
            beatsRandom (Bandit.distribution 3) 8 400 (Policy.erase (Policy.random 3)) [ { Name = "Bayes-optimal"; Variant = ""; Published = false; Policy = Policy.erase (BayesOptimal.policy 3 8) } ]
        }

        test "tabular MDP, 4 episodes of 10 steps" {
            let entries = Catalog.mdpEntries (Catalog.mdpHyper 10) 10 5 10
            beatsRandom (TabularMdp.distribution 10 5 10) 40 200 (Policy.erase (Mdp.random 5)) (entries |> List.filter (fun e -> e.Name <> "Random"))
        }
    ]

[<Tests>]
let tests = testList "baselines" [ posteriorTests; ucbTests; bayesOptimalTests; gittinsTests; beatRandomTests ]
