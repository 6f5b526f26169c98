/// Environments (SPEC §1–2): tabular MDP and Bernoulli bandit tasks, the episode loop and the
/// agent-input encoding.
module RL2.Tests.EnvTests

open Expecto
open TorchSharp
open RL2
open RL2.Envs
open RL2.Tests.Helpers

/// x mod m in [0, m) for any int (abs Int32.MinValue overflows).
let private pick (x: int) (m: int) = ((x % m) + m) % m

/// What the driver below saw: per step t the state, its observation, the action, the reward and
/// whether the step ended an episode; plus the observation after the last step.
type private Trajectory =
    { States: Tensor // [B; T] int64
      Observations: Tensor // [B; T; O]
      Actions: Tensor // [B; T] int64
      Rewards: Tensor // [B; T]
      Dones: bool[]
      FinalObservation: Tensor } // [B; O]

/// The environment loop of `Rollout.collect`, with uniformly random actions instead of a policy:
/// Reset, then per step Observe, Step, `isDone`, and the reset state after a done.
let private drive (g: Generator) (d: TaskDistribution) (count: int) (steps: int) =
    let tasks = d.Sample g count
    let states, obs, actions, rewards = ResizeArray(), ResizeArray(), ResizeArray(), ResizeArray()
    let dones = Array.zeroCreate steps
    let mutable state = tasks.Reset g
    for t in 0 .. steps - 1 do
        states.Add state
        obs.Add(d.Observe state)
        let a = torch.randint(int64 d.NumActions, [| int64 count |], dtype = ScalarType.Int64, generator = g)
        let r, next = tasks.Step g state a
        actions.Add a
        rewards.Add r
        dones[t] <- TaskDistribution.isDone d t
        state <- if dones[t] then tasks.Reset g else next
    { States = torch.stack(states, 1L)
      Observations = torch.stack(obs, 1L)
      Actions = torch.stack(actions, 1L)
      Rewards = torch.stack(rewards, 1L)
      Dones = dones
      FinalObservation = d.Observe state }

/// Repeats task 0 of a batch n times (so n pulls / transitions of one task happen in one call).
let private repeatBandit (tasks: Bandit.Tasks) n : Bandit.Tasks =
    { ArmProbabilities = tasks.ArmProbabilities.narrow(0L, 0L, 1L).repeat(int64 n, 1L) }

let private repeatMdp (tasks: TabularMdp.Tasks) n : TabularMdp.Tasks =
    { RewardMeans = tasks.RewardMeans.narrow(0L, 0L, 1L).repeat(int64 n, 1L, 1L)
      Transitions = tasks.Transitions.narrow(0L, 0L, 1L).repeat(int64 n, 1L, 1L, 1L) }

let private full n (v: int) = torch.full([| int64 n |], (int64 v).ToScalar(), dtype = ScalarType.Int64)

let mdpTests =
    testList "tabular MDP" [
        testPropertyWithConfig (config 40) "transition rows are probability vectors" <| fun (seed: int) (sRaw: int) (aRaw: int) ->
            let s, a, b = 1 + pick sRaw 8, 1 + pick aRaw 5, 3
            let tasks = TabularMdp.sampleTasks (gen seed) s a b
            Expect.sequenceEqual tasks.Transitions.shape [| int64 b; int64 a; int64 s; int64 s |] "Transitions [B;A;S;S]"
            Expect.sequenceEqual tasks.RewardMeans.shape [| int64 b; int64 s; int64 a |] "RewardMeans [B;S;A]"
            Expect.equal tasks.Transitions.dtype ScalarType.Float32 "float32"
            let p = floats tasks.Transitions
            Expect.all p (fun x -> x >= 0.0f && x <= 1.0f) "entries in [0,1]"
            for row in Array.chunkBySize s p do
                expectFloat 1e-5f (Array.sum row) 1.0f "row sum"

        testPropertyWithConfig (config 40) "next state is in [0,S) and reward is float32 [B]" <| fun (seed: int) (sRaw: int) ->
            let s, a, b = 1 + pick sRaw 8, 3, 16
            let g = gen seed
            let tasks = TabularMdp.sampleTasks g s a b
            let mutable state = torch.randint(int64 s, [| int64 b |], dtype = ScalarType.Int64, generator = g)
            for _ in 1 .. 5 do
                let action = torch.randint(int64 a, [| int64 b |], dtype = ScalarType.Int64, generator = g)
                let reward, next = TabularMdp.transition g tasks state action
                Expect.sequenceEqual next.shape [| int64 b |] "next shape"
                Expect.equal next.dtype ScalarType.Int64 "next dtype"
                Expect.sequenceEqual reward.shape [| int64 b |] "reward shape"
                Expect.equal reward.dtype ScalarType.Float32 "reward dtype"
                Expect.all (longs next) (fun x -> x >= 0L && x < int64 s) "next in [0,S)"
                state <- next

        testCase "transition indexes P[a,s,·] and μ[s,a] of the state before the step" <| fun () ->
            // Deterministic rows: from s with action a task b goes to (s + 2a + b) mod 3; the
            // means μ[b,s,a] = 100(2s + a) + 1000b are far apart, so reward noise N(0,1) cannot
            // hide a wrong index (|noise| < 6 with probability 1 - 2e-9).
            let bN, sN, aN = 2, 3, 2
            let trans = Array.zeroCreate (bN * aN * sN * sN)
            let means = Array.zeroCreate (bN * sN * aN)
            for b in 0 .. bN - 1 do
                for a in 0 .. aN - 1 do
                    for s in 0 .. sN - 1 do
                        trans[((b * aN + a) * sN + s) * sN + (s + 2 * a + b) % sN] <- 1.0f
                        means[(b * sN + s) * aN + a] <- float32 (100 * (2 * s + a) + 1000 * b)
            let tasks: TabularMdp.Tasks =
                { Transitions = (torch.tensor trans).reshape(2L, 2L, 3L, 3L)
                  RewardMeans = (torch.tensor means).reshape(2L, 3L, 2L) }
            let g = gen 7
            for s in 0 .. sN - 1 do
                for a in 0 .. aN - 1 do
                    // task 0 in state s, task 1 in state s+1
                    let states = [| s; (s + 1) % sN |]
                    let state = longTensorOf [ 2L ] [ int64 states[0]; int64 states[1] ]
                    let reward, next = (TabularMdp.batch tasks).Step g state (full 2 a)
                    let r, n = floats reward, longs next
                    for b in 0 .. 1 do
                        let sb = states[b]
                        Expect.equal n[b] (int64 ((sb + 2 * a + b) % sN)) $"next state task {b} s={sb} a={a}"
                        expectFloat 6.0f r[b] (float32 (100 * (2 * sb + a) + 1000 * b)) $"reward task {b} s={sb} a={a}"

        testPropertyWithConfig (config 30) "empirical reward mean, variance and next-state frequencies match the task" <| fun (seed: int) (sRaw: int) (aRaw: int) ->
            let sN, aN, n = 4, 3, 4000
            let s, a = pick sRaw sN, pick aRaw aN
            let g = gen seed
            let one = TabularMdp.sampleTasks g sN aN 1
            let tasks = repeatMdp one n
            let reward, next = TabularMdp.transition g tasks (full n s) (full n a)
            let mu = scalar (one.RewardMeans.select(0L, 0L).select(0L, int64 s).select(0L, int64 a))
            let r = floats reward
            let mean = Array.average r
            let var = r |> Array.averageBy (fun x -> (x - mean) * (x - mean))
            // reward ~ N(μ, 1): 5 standard errors of the mean (1/√n) and of the variance (√(2/n))
            expectFloat (5.0f / sqrt (float32 n)) mean mu "reward mean"
            expectFloat (5.0f * sqrt (2.0f / float32 n)) var 1.0f "reward variance"
            let p = floats (one.Transitions.select(0L, 0L).select(0L, int64 a).select(0L, int64 s))
            let counts = Array.zeroCreate sN
            for x in longs next do counts[int x] <- counts[int x] + 1
            for j in 0 .. sN - 1 do
                let f = float32 counts[j] / float32 n
                expectFloat (5.0f * sqrt (p[j] * (1.0f - p[j]) / float32 n) + 1e-3f) f p[j] $"P(s'={j} | s={s}, a={a})"
    ]

let episodeTests =
    testList "episode loop" [
        testPropertyWithConfig (config 40) "done exactly every EpisodeLength steps; the observation after a done is state 0" <| fun (seed: int) (lenRaw: int) (nRaw: int) ->
            let len, episodes, sN, aN, b = 1 + pick lenRaw 5, 1 + pick nRaw 4, 4, 3, 3
            let d = TabularMdp.distribution sN aN len
            let steps = len * episodes
            let tr = drive (gen seed) d b steps
            Expect.equal tr.Dones [| for t in 0 .. steps - 1 -> (t + 1) % len = 0 |] "done pattern"
            Expect.equal (tr.Dones |> Array.filter id |> Array.length) episodes "one done per episode"
            let zeroObs = torch.nn.functional.one_hot(torch.zeros([| int64 b |], dtype = ScalarType.Int64), int64 sN).to_type ScalarType.Float32
            for t in 0 .. steps - 1 do
                if t = 0 || tr.Dones[t - 1] then
                    Expect.all (longs (tr.States.select(1L, int64 t))) ((=) 0L) $"state 0 at step {t}"
                    expectEqualTensors (tr.Observations.select(1L, int64 t)) zeroObs $"one-hot of state 0 at step {t}"
            expectEqualTensors tr.FinalObservation zeroObs "observation after the final done"
            // every observation is the one-hot of the state
            let o = tr.Observations
            expectEqualTensors (o.sum(-1L)) (torch.ones([| int64 b; int64 steps |])) "one-hot rows"
            expectEqualTensors (o.argmax(-1L)) tr.States "one-hot of the state"

        testCase "isDone" <| fun () ->
            let d = TabularMdp.distribution 10 5 10
            Expect.equal [ for t in 0 .. 29 do if TaskDistribution.isDone d t then t ] [ 9; 19; 29 ] "MDP, length 10"
            let bandit = Bandit.distribution 5
            Expect.isTrue (List.forall (TaskDistribution.isDone bandit) [ 0 .. 20 ]) "bandit: every step ends an episode"
    ]

let banditTests =
    testList "bandit" [
        testPropertyWithConfig (config 40) "rewards are exactly 0 or 1; the state stays 0" <| fun (seed: int) (kRaw: int) ->
            let k, b = 2 + pick kRaw 6, 16
            let d = Bandit.distribution k
            let tr = drive (gen seed) d b 20
            Expect.equal tr.Rewards.dtype ScalarType.Float32 "float32"
            Expect.all (floats tr.Rewards) (fun r -> r = 0.0f || r = 1.0f) "0/1 rewards"
            Expect.all (longs tr.States) ((=) 0L) "state 0"
            Expect.sequenceEqual tr.Observations.shape [| int64 b; 20L; 0L |] "empty observation"
            Expect.isTrue (Array.forall id tr.Dones) "done every step"

        testPropertyWithConfig (config 30) "empirical mean of one arm is near its p" <| fun (seed: int) (armRaw: int) ->
            let k, n = 5, 4000
            let arm = pick armRaw k
            let g = gen seed
            let one = Bandit.sampleTasks g k 1
            let p = (floats one.ArmProbabilities)[arm]
            Expect.isTrue (p >= 0.0f && p < 1.0f) "p in [0,1)"
            let tasks = Bandit.batch (repeatBandit one n)
            let reward, _ = tasks.Step g (tasks.Reset g) (full n arm)
            let mean = Array.average (floats reward)
            expectFloat (5.0f * sqrt (p * (1.0f - p) / float32 n) + 1e-3f) mean p $"arm {arm} mean"

        testCase "pull reads the chosen arm of each task" <| fun () ->
            // p = 0 or 1: rewards are deterministic.
            let tasks: Bandit.Tasks = { ArmProbabilities = tensorOf [ 3L; 3L ] [ 1.0f; 0.0f; 0.0f; 0.0f; 0.0f; 1.0f; 0.0f; 1.0f; 0.0f ] }
            let reward = Bandit.pull (gen 1) tasks (longTensorOf [ 3L ] [ 0L; 2L; 1L ])
            Expect.equal (floats reward) [| 1.0f; 1.0f; 1.0f |] "hits"
            let reward = Bandit.pull (gen 1) tasks (longTensorOf [ 3L ] [ 1L; 0L; 2L ])
            Expect.equal (floats reward) [| 0.0f; 0.0f; 0.0f |] "misses"
    ]

let seedTests =
    testList "seeding" [
        testPropertyWithConfig (config 30) "same seed, same trajectory" <| fun (seed: int) ->
            for d in [ TabularMdp.distribution 4 3 3; Bandit.distribution 4 ] do
                let a = drive (gen seed) d 4 9
                let b = drive (gen seed) d 4 9
                expectEqualTensors a.States b.States $"{d.Name} states"
                expectEqualTensors a.Observations b.Observations $"{d.Name} observations"
                expectEqualTensors a.Actions b.Actions $"{d.Name} actions"
                expectEqualTensors a.Rewards b.Rewards $"{d.Name} rewards"

        testPropertyWithConfig (config 30) "different seeds, different tasks" <| fun (s1: int) (s2: int) ->
            let s2 = if s1 = s2 then s1 + 1 else s2
            let b1, b2 = Bandit.sampleTasks (gen s1) 5 4, Bandit.sampleTasks (gen s2) 5 4
            Expect.isFalse (same b1.ArmProbabilities b2.ArmProbabilities) "bandit arm probabilities"
            let m1, m2 = TabularMdp.sampleTasks (gen s1) 4 3 2, TabularMdp.sampleTasks (gen s2) 4 3 2
            Expect.isFalse (same m1.RewardMeans m2.RewardMeans) "MDP reward means"
            Expect.isFalse (same m1.Transitions m2.Transitions) "MDP transitions"
    ]

let encodeTests =
    testList "input encoding" [
        testCase "widths: k + 2 for a k-armed bandit, S + A + 2 for an MDP" <| fun () ->
            for k in [ 1; 2; 5; 10 ] do
                let d = Bandit.distribution k
                Expect.equal (TaskDistribution.inputWidth d) (k + 2) $"bandit k={k}"
                let x =
                    TaskDistribution.encode d (d.Observe(torch.zeros([| 3L |], dtype = ScalarType.Int64)))
                        (torch.zeros([| 3L |], dtype = ScalarType.Int64)) (torch.zeros [| 3L |]) (torch.ones [| 3L |])
                Expect.sequenceEqual x.shape [| 3L; int64 (k + 2) |] $"bandit k={k} encoded"
            for s, a in [ 10, 5; 3, 2; 1, 1 ] do
                let d = TabularMdp.distribution s a 10
                Expect.equal (TaskDistribution.inputWidth d) (s + a + 2) $"MDP S={s} A={a}"
                // leading dims [B; T]
                let x =
                    TaskDistribution.encode d (d.Observe(torch.zeros([| 2L; 4L |], dtype = ScalarType.Int64)))
                        (torch.zeros([| 2L; 4L |], dtype = ScalarType.Int64)) (torch.zeros [| 2L; 4L |]) (torch.ones [| 2L; 4L |])
                Expect.sequenceEqual x.shape [| 2L; 4L; int64 (s + a + 2) |] $"MDP S={s} A={a} encoded"

        testCase "bandit values: onehot(a) ++ [r] ++ [done]" <| fun () ->
            let d = Bandit.distribution 3
            let obs = d.Observe(torch.zeros([| 2L |], dtype = ScalarType.Int64))
            let x = TaskDistribution.encode d obs (longTensorOf [ 2L ] [ 2L; 0L ]) (tensorOf [ 2L ] [ 1.0f; 0.0f ]) (tensorOf [ 2L ] [ 0.0f; 1.0f ])
            // row 0: a=2, r=1, d=0 → [0 0 1 | 1 | 0];  row 1: a=0, r=0, d=1 → [1 0 0 | 0 | 1]
            expectEqualTensors x (tensorOf [ 2L; 5L ] [ 0.0f; 0.0f; 1.0f; 1.0f; 0.0f; 1.0f; 0.0f; 0.0f; 0.0f; 1.0f ]) "encoded"

        testCase "MDP values: onehot(s) ++ onehot(a) ++ [r] ++ [done]" <| fun () ->
            let d = TabularMdp.distribution 3 2 4
            let obs = d.Observe(longTensorOf [ 2L ] [ 1L; 2L ])
            let x = TaskDistribution.encode d obs (longTensorOf [ 2L ] [ 1L; 0L ]) (tensorOf [ 2L ] [ -0.5f; 2.25f ]) (tensorOf [ 2L ] [ 0.0f; 1.0f ])
            // row 0: s=1, a=1, r=-0.5, d=0 → [0 1 0 | 0 1 | -0.5 | 0]
            // row 1: s=2, a=0, r=2.25, d=1 → [0 0 1 | 1 0 | 2.25 | 1]
            expectEqualTensors
                x
                (tensorOf [ 2L; 7L ] [ 0.0f; 1.0f; 0.0f; 0.0f; 1.0f; -0.5f; 0.0f; 0.0f; 0.0f; 1.0f; 1.0f; 0.0f; 2.25f; 1.0f ])
                "encoded"
    ]

[<Tests>]
let tests = testList "envs" [ mdpTests; episodeTests; banditTests; seedTests; encodeTests ]
