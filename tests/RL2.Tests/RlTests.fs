/// Credit assignment, PPO losses, rollouts and gradient averaging (SPEC §1, §4–6), on small
/// examples worked out by hand in the comments.
module RL2.Tests.RlTests

open Expecto
open TorchSharp
open RL2
open RL2.Envs
open RL2.Nn
open RL2.Rl
open RL2.Dist
open RL2.Tests.Helpers

let private ln (x: float) = float32 (log x)

let gaeTests =
    testList "GAE" [
        testCase "two meta-episodes of 3 steps, by hand" <| fun () ->
            // γ = 0.9, λ = 0.5, γλ = 0.45; V_T = 0, A_T = 0.
            // row 0: r = [1, 0, 2], V = [0.5, 1, -1]
            //   δ0 = 1 + 0.9·1 - 0.5 = 1.4;  δ1 = 0 + 0.9·(-1) - 1 = -1.9;  δ2 = 2 + 0 - (-1) = 3
            //   A2 = 3;  A1 = -1.9 + 0.45·3 = -0.55;  A0 = 1.4 + 0.45·(-0.55) = 1.1525
            //   R = V + A = [1.6525, 0.45, 2]
            // row 1: r = [0, 1, 0], V = [1, 1, 1]
            //   δ = [-0.1, 0.9, -1];  A2 = -1;  A1 = 0.9 - 0.45 = 0.45;  A0 = -0.1 + 0.45·0.45 = 0.1025
            //   R = [1.1025, 1.45, 0]
            let rewards = tensorOf [ 2L; 3L ] [ 1.0f; 0.0f; 2.0f; 0.0f; 1.0f; 0.0f ]
            let values = tensorOf [ 2L; 3L ] [ 0.5f; 1.0f; -1.0f; 1.0f; 1.0f; 1.0f ]
            let a, r = Gae.advantages 0.9f 0.5f rewards values
            expectClose 1e-6f a (tensorOf [ 2L; 3L ] [ 1.1525f; -0.55f; 3.0f; 0.1025f; 0.45f; -1.0f ]) "advantages"
            expectClose 1e-6f r (tensorOf [ 2L; 3L ] [ 1.6525f; 0.45f; 2.0f; 1.1025f; 1.45f; 0.0f ]) "value targets"

        testCase "no masking at episode boundaries" <| fun () ->
            // Two episodes of length 2 in one meta-episode (done at t = 1). γ = 0.5, λ = 0.5, γλ = 0.25.
            // r = [1, 1, 1, 1], V = [0, 0, 2, 0]
            // Unmasked (SPEC §4): δ1 = 1 + 0.5·V2 - V1 = 2 reads V2 across the boundary
            //   δ = [1, 2, -1, 1];  A3 = 1;  A2 = -1 + 0.25 = -0.75;  A1 = 2 - 0.1875 = 1.8125;
            //   A0 = 1 + 0.25·1.8125 = 1.453125
            // (masked at the done it would be δ1 = 1, A1 = 1, A0 = 1.25.)
            let rewards = tensorOf [ 1L; 4L ] [ 1.0f; 1.0f; 1.0f; 1.0f ]
            let values = tensorOf [ 1L; 4L ] [ 0.0f; 0.0f; 2.0f; 0.0f ]
            let a, r = Gae.advantages 0.5f 0.5f rewards values
            expectClose 1e-6f a (tensorOf [ 1L; 4L ] [ 1.453125f; 1.8125f; -0.75f; 1.0f ]) "advantages"
            expectClose 1e-6f r (tensorOf [ 1L; 4L ] [ 1.453125f; 1.8125f; 1.25f; 1.0f ]) "targets"
            // λ = 1, V = 0: A_t is the discounted return of the rest of the *meta*-episode
            // A = [1 + .5 + .25 + .125, 1 + .5 + .25, 1 + .5, 1] = [1.875, 1.75, 1.5, 1]
            let a, _ = Gae.advantages 0.5f 1.0f rewards (torch.zeros [| 1L; 4L |])
            expectClose 1e-6f a (tensorOf [ 1L; 4L ] [ 1.875f; 1.75f; 1.5f; 1.0f ]) "discounted meta-episode return"

        testPropertyWithConfig (config 30) "matches the recursion written as a loop" <| fun (seed: int) ->
            let g = gen seed
            let b, t = 2, 5
            let rewards = torch.randn([| int64 b; int64 t |], generator = g)
            let values = torch.randn([| int64 b; int64 t |], generator = g)
            let gamma, lambda = 0.99f, 0.3f
            let r, v = floats rewards, floats values
            let expected = Array.zeroCreate (b * t)
            for i in 0 .. b - 1 do
                let mutable carry = 0.0f
                for s in t - 1 .. -1 .. 0 do
                    let vNext = if s = t - 1 then 0.0f else v[i * t + s + 1]
                    carry <- r[i * t + s] + gamma * vNext - v[i * t + s] + gamma * lambda * carry
                    expected[i * t + s] <- carry
            let a, targets = Gae.advantages gamma lambda rewards values
            expectClose 1e-5f a (tensorOf [ int64 b; int64 t ] (List.ofArray expected)) "advantages"
            expectClose 1e-5f targets (values + a) "targets = V + A"

        testCase "no gradient flows through the targets" <| fun () ->
            let values = torch.zeros([| 1L; 3L |], requires_grad = true)
            let a, r = Gae.advantages 0.99f 0.3f (torch.ones [| 1L; 3L |]) values
            Expect.isFalse a.requires_grad "advantages"
            Expect.isFalse r.requires_grad "targets"

        testCase "standardise" <| fun () ->
            // A = [1, 2, 3, 4]: mean 2.5, biased variance 1.25, σ = √1.25 + 1e-8 = 1.1180340
            // (A - 2.5)/σ = [-1.3416408, -0.4472136, 0.4472136, 1.3416408]; targets = V + that
            let adv = tensorOf [ 1L; 4L ] [ 1.0f; 2.0f; 3.0f; 4.0f ]
            let values = tensorOf [ 1L; 4L ] [ 10.0f; 10.0f; -10.0f; 0.0f ]
            let a, r = Gae.standardise 2.5f 1.25f adv values
            let expected = tensorOf [ 1L; 4L ] [ -1.3416408f; -0.4472136f; 0.4472136f; 1.3416408f ]
            expectClose 1e-6f a expected "standardised"
            expectClose 1e-5f r (values + expected) "targets reset to V + standardised A"
            // global statistics other than the local ones are used as given: mean 0, variance 4
            let a, _ = Gae.standardise 0.0f 4.0f adv values
            expectClose 1e-6f a (tensorOf [ 1L; 4L ] [ 0.5f; 1.0f; 1.5f; 2.0f ]) "given mean and variance"
            // with its own statistics the result has mean 0 and (biased) variance 1
            let x = torch.randn([| 3L; 7L |], generator = gen 5)
            let mean, var = scalar (x.mean()), scalar (x.var(unbiased = false))
            let a, _ = Gae.standardise mean var x (torch.zeros [| 3L; 7L |])
            expectFloat 1e-5f (scalar (a.mean())) 0.0f "mean 0"
            expectFloat 1e-4f (scalar (a.var(unbiased = false))) 1.0f "variance 1"
    ]

/// The PPO example: B = 2, T = 2, two actions, ε = 0.1.
///   step  logits     action  logπ_new   ratio  A    clip(ratio)  A·ratio  A·clip  min    clipped?
///   t0    [0, 0]     1       ln 0.5     1.5    +1   1.1          1.5      1.1     1.1    yes
///   t1    [ln3, 0]   0       ln 0.75    0.5    -1   0.9          -0.5     -0.9    -0.9   yes
///   t2    [0, 0]     0       ln 0.5     0.5    +2   0.9          1.0      1.8     1.0    no
///   t3    [ln3, 0]   1       ln 0.25    1.05   -2   1.05         -2.1     -2.1    -2.1   no
/// surrogate = (1.1 - 0.9 + 1.0 - 2.1)/4 = -0.225; clipfrac = 2/4 = 0.5
/// entropy: [0,0] → ln 2 = 0.6931472; [ln3,0] → p = (3/4, 1/4), -(¾ ln ¾ + ¼ ln ¼) = 0.5623351
///   mean = (0.6931472 + 0.5623351)/2 = 0.6277412
/// loss = -(surrogate + 0.01·entropy) = 0.225 - 0.006277412 = 0.2187226
let private ppoExample () =
    let logits = tensorOf [ 2L; 2L; 2L ] [ 0.0f; 0.0f; ln 3.0; 0.0f; 0.0f; 0.0f; ln 3.0; 0.0f ]
    let actions = longTensorOf [ 2L; 2L ] [ 1L; 0L; 0L; 1L ]
    let logpNew = [ ln 0.5; ln 0.75; ln 0.5; ln 0.25 ]
    let ratios = [ 1.5; 0.5; 0.5; 1.05 ]
    let old = List.map2 (fun lp r -> lp - ln r) logpNew ratios
    let adv = tensorOf [ 2L; 2L ] [ 1.0f; -1.0f; 2.0f; -2.0f ]
    logits, actions, tensorOf [ 2L; 2L ] old, adv

let ppoTests =
    testList "PPO" [
        testCase "policy loss: clipping both ways, entropy, clipfrac" <| fun () ->
            let logits, actions, old, adv = ppoExample ()
            let l = Ppo.policyLoss { ClipParam = 0.1f; EntropyCoef = 0.01f } logits actions old adv
            expectFloat 1e-6f (scalar l.Surrogate) -0.225f "surrogate"
            expectFloat 1e-6f (scalar l.Entropy) 0.6277412f "mean entropy"
            expectFloat 1e-6f (scalar l.ClipFrac) 0.5f "clipfrac"
            expectFloat 1e-6f (scalar l.Loss) 0.2187226f "loss = -(surrogate + c·entropy)"
            Expect.equal l.Loss.shape.Length 0 "scalar loss"

        testCase "policy loss gradient: zero where the clipped term is taken" <| fun () ->
            // With c_ent = 0, ∂loss/∂logits is 0 at t0 and t1 (clipped term chosen) and
            //   -(A/4)·ratio·(onehot(a) - softmax) elsewhere:
            //   t2: -(2/4)·0.5·([1,0] - [.5,.5]) = [-0.125, 0.125]
            //   t3: -(-2/4)·1.05·([0,1] - [.75,.25]) = [-0.39375, 0.39375]
            let logits0, actions, old, adv = ppoExample ()
            let logits = logits0.detach().requires_grad_(true)
            let l = Ppo.policyLoss { ClipParam = 0.1f; EntropyCoef = 0.0f } logits actions old adv
            l.Loss.backward ()
            expectClose 1e-6f logits.grad (tensorOf [ 2L; 2L; 2L ] [ 0.0f; 0.0f; 0.0f; 0.0f; -0.125f; 0.125f; -0.39375f; 0.39375f ]) "gradient"

        testCase "policy loss with ratio 1 is -(mean A + c·entropy)" <| fun () ->
            let logits, actions, _, adv = ppoExample ()
            let old = tensorOf [ 2L; 2L ] [ ln 0.5; ln 0.75; ln 0.5; ln 0.25 ]
            let l = Ppo.policyLoss { ClipParam = 0.1f; EntropyCoef = 0.5f } logits actions old adv
            // mean A = 0; loss = -(0 + 0.5·0.6277412)
            expectFloat 1e-6f (scalar l.Surrogate) 0.0f "surrogate"
            expectFloat 1e-6f (scalar l.ClipFrac) 0.0f "clipfrac"
            expectFloat 1e-6f (scalar l.Loss) -0.3138706f "loss"

        testCase "value loss: Huber δ = 1 on both branches" <| fun () ->
            let one (v: float32) (t: float32) = scalar (Ppo.valueLoss (tensorOf [ 1L; 1L ] [ v ]) (tensorOf [ 1L; 1L ] [ t ]))
            // |d| < 1: 0.5 d²
            expectFloat 1e-7f (one 0.0f 0.5f) 0.125f "d = 0.5"
            expectFloat 1e-7f (one 1.0f 0.2f) 0.32f "d = -0.8"
            // |d| ≥ 1: |d| - 0.5
            expectFloat 1e-7f (one 0.0f 1.0f) 0.5f "d = 1 (both branches agree)"
            expectFloat 1e-6f (one 0.0f 2.0f) 1.5f "d = 2"
            expectFloat 1e-6f (one 1.0f -2.0f) 2.5f "d = -3"
            // mean over all B×T steps: (0.125 + 0.32 + 1.5 + 2.5)/4 = 1.11125
            let v = Ppo.valueLoss (torch.zeros [| 2L; 2L |]) (tensorOf [ 2L; 2L ] [ 0.5f; -0.8f; 2.0f; -3.0f ])
            expectFloat 1e-6f (scalar v) 1.11125f "mean"
    ]

let private rollout (obs: Tensor) actions rewards dones : Rollout.Rollout =
    { Observations = obs
      Actions = actions
      Rewards = rewards
      Dones = dones
      LogProbs = torch.zeros(actions.shape)
      Values = torch.zeros(actions.shape) }

let shiftTests =
    testList "shifted inputs" [
        testCase "shiftRight" <| fun () ->
            let x = tensorOf [ 2L; 3L ] [ 1.0f; 2.0f; 3.0f; 4.0f; 5.0f; 6.0f ]
            expectEqualTensors (Rollout.shiftRight (torch.zeros(1L, 1L)) x) (tensorOf [ 2L; 3L ] [ 0.0f; 1.0f; 2.0f; 0.0f; 4.0f; 5.0f ]) "zero first"
            expectEqualTensors (Rollout.shiftRight (torch.ones(1L, 1L)) x) (tensorOf [ 2L; 3L ] [ 1.0f; 1.0f; 2.0f; 1.0f; 4.0f; 5.0f ]) "one first"
            let a = longTensorOf [ 1L; 3L ] [ 2L; 1L; 3L ]
            expectEqualTensors (Rollout.shiftRight (torch.zeros(1L, 1L)) a) (longTensorOf [ 1L; 3L ] [ 0L; 2L; 1L ]) "int64 kept"

        testCase "inputs: (0, 0.0, 1.0) at t = 0, then the previous step's action, reward, done" <| fun () ->
            // MDP with S = 2, A = 2, episodes of 2 steps; states [0, 1, 0] (reset after the done at t = 1)
            // actions [1, 0, 1], rewards [0.5, -1.5, 2], dones [0, 1, 0]
            //   t0: onehot(s=0) [1 0] | onehot(0) [1 0] | 0    | 1
            //   t1: onehot(s=1) [0 1] | onehot(1) [0 1] | 0.5  | 0
            //   t2: onehot(s=0) [1 0] | onehot(0) [1 0] | -1.5 | 1
            let d = TabularMdp.distribution 2 2 2
            let obs = d.Observe(longTensorOf [ 1L; 3L ] [ 0L; 1L; 0L ])
            let r =
                rollout obs (longTensorOf [ 1L; 3L ] [ 1L; 0L; 1L ]) (tensorOf [ 1L; 3L ] [ 0.5f; -1.5f; 2.0f ]) (tensorOf [ 1L; 3L ] [ 0.0f; 1.0f; 0.0f ])
            expectEqualTensors
                (Rollout.inputs d r)
                (tensorOf [ 1L; 3L; 6L ]
                    [ 1.0f; 0.0f; 1.0f; 0.0f; 0.0f; 1.0f
                      0.0f; 1.0f; 0.0f; 1.0f; 0.5f; 0.0f
                      1.0f; 0.0f; 1.0f; 0.0f; -1.5f; 1.0f ])
                "inputs"

        testCase "bandit inputs carry no observation" <| fun () ->
            // k = 3; actions [2, 0], rewards [1, 0], dones [1, 1]
            //   t0: [1 0 0 | 0 | 1];  t1: [0 0 1 | 1 | 1]
            let d = Bandit.distribution 3
            let r = rollout (torch.zeros [| 1L; 2L; 0L |]) (longTensorOf [ 1L; 2L ] [ 2L; 0L ]) (tensorOf [ 1L; 2L ] [ 1.0f; 0.0f ]) (tensorOf [ 1L; 2L ] [ 1.0f; 1.0f ])
            expectEqualTensors (Rollout.inputs d r) (tensorOf [ 1L; 2L; 5L ] [ 1.0f; 0.0f; 0.0f; 0.0f; 1.0f; 0.0f; 0.0f; 1.0f; 1.0f; 1.0f ]) "inputs"
    ]

let private nets (d: TaskDistribution) (arch: Architecture) (steps: int) (seed: int) =
    let g = gen seed
    let spec = { InputWidth = TaskDistribution.inputWidth d; NumFeatures = 8; ContextSize = steps }
    Agent.policy g arch spec d.NumActions, Agent.value g arch spec

let private fields (r: Rollout.Rollout) =
    [ "observations", r.Observations; "actions", r.Actions; "rewards", r.Rewards
      "dones", r.Dones; "log-probs", r.LogProbs; "values", r.Values ]

let collectTests =
    testList "collect" [
        testCase "tabular MDP with a GRU: shapes, actions, log-probs, dones, resets" <| fun () ->
            let d = TabularMdp.distribution 3 2 3
            let b, t = 4, 9
            let policy, value = nets d Architecture.gru t 1
            let r = Rollout.collect (gen 2) d policy value b t
            let bt = [| int64 b; int64 t |]
            Expect.sequenceEqual r.Observations.shape [| int64 b; int64 t; 3L |] "observations [B; T; S]"
            for name, x in fields r |> List.tail do
                Expect.sequenceEqual x.shape bt $"{name} [B; T]"
                Expect.isFalse x.requires_grad $"{name} recorded without gradient"
            Expect.equal r.Actions.dtype ScalarType.Int64 "int64 actions"
            Expect.all (longs r.Actions) (fun a -> a = 0L || a = 1L) "actions in [0, A)"
            Expect.all (floats r.LogProbs) (fun lp -> lp <= 0.0f && lp > -100.0f) "log-probabilities ≤ 0 and finite"
            let dones = tensorOf [ 1L; int64 t ] [ for s in 0 .. t - 1 -> if (s + 1) % 3 = 0 then 1.0f else 0.0f ]
            expectEqualTensors r.Dones (dones.expand(int64 b, int64 t)) "done at t = 2, 5, 8"
            expectEqualTensors (r.Observations.sum(-1L)) (torch.ones bt) "one-hot observations"
            for s in 0 .. 3 .. t - 1 do
                Expect.all (longs (r.Observations.select(1L, int64 s).argmax(-1L))) ((=) 0L) $"state 0 at episode start t = {s}"

        testCase "bandit with an LSTM: 0/1 rewards, done every step" <| fun () ->
            let d = Bandit.distribution 3
            let b, t = 3, 6
            let policy, value = nets d Architecture.lstm t 3
            let r = Rollout.collect (gen 4) d policy value b t
            Expect.sequenceEqual r.Observations.shape [| int64 b; int64 t; 0L |] "empty observations"
            Expect.all (floats r.Rewards) (fun x -> x = 0.0f || x = 1.0f) "0/1 rewards"
            expectEqualTensors r.Dones (torch.ones [| int64 b; int64 t |]) "done every step"
            Expect.all (longs r.Actions) (fun a -> a >= 0L && a < 3L) "actions in [0, k)"

        testCase "same seed, identical rollout; different seed, different rollout" <| fun () ->
            let d = TabularMdp.distribution 3 2 3
            let run netSeed seed =
                let policy, value = nets d Architecture.gru 6 netSeed
                Rollout.collect (gen seed) d policy value 3 6
            let a, b, c = run 1 2, run 1 2, run 1 5
            for (name, x), (_, y) in List.zip (fields a) (fields b) do
                expectEqualTensors x y $"same seed: {name}"
            Expect.isFalse (same a.Rewards c.Rewards) "different seed: rewards"

        testCase "stepping the value network on a second thread records the rollout one thread records" <| fun () ->
            for arch in [ Architecture.gru; Architecture.snail ] do
                let d = TabularMdp.distribution 3 2 3
                let run concurrent =
                    let policy, value = nets d arch 12 1
                    Rollout.collectWith concurrent (gen 2) d policy value 4 12
                for (name, x), (_, y) in List.zip (fields (run true)) (fields (run false)) do
                    expectEqualTensors x y $"{arch.Name}: {name}"

        for arch in [ Architecture.gru; Architecture.lstm ] do
            for d in [ TabularMdp.distribution 3 2 3; Bandit.distribution 3 ] do
                testCase $"{arch.Name} on {d.Name}: sequence mode over Rollout.inputs reproduces the recorded log-probs and values" <| fun () ->
                    // What PPO relies on: at the first epoch ratio = 1 and V_new = V_old.
                    let t = 9
                    let policy, value = nets d arch t 7
                    let r = Rollout.collect (gen 8) d policy value 3 t
                    use _ = torch.no_grad ()
                    let x = Rollout.inputs d r
                    let logp = (policy.Sequence x).log_softmax(-1L).gather(-1L, r.Actions.unsqueeze -1L).squeeze -1L
                    expectClose 1e-5f logp r.LogProbs "log-probabilities"
                    expectClose 1e-5f ((value.Sequence x).squeeze -1L) r.Values "values"
    ]

let communicatorTests =
    let setup () =
        // p1 [3], p3 [2] unused (no gradient), p2 [2; 2]; loss = Σ c1·p1 + Σ c2·p2 → grads c1, c2
        let p1 = new Modules.Parameter(torch.zeros [| 3L |], true)
        let p3 = new Modules.Parameter(torch.zeros [| 2L |], true)
        let p2 = new Modules.Parameter(torch.zeros [| 2L; 2L |], true)
        let c1 = tensorOf [ 3L ] [ 1.0f; -2.0f; 3.0f ]
        let c2 = tensorOf [ 2L; 2L ] [ 0.5f; 4.0f; -1.0f; 8.0f ]
        let loss = (p1 * c1).sum() + (p2 * c2).sum()
        loss.backward ()
        [ p1; p3; p2 ], c1, c2

    testList "communicator" [
        testCase "two identical ranks leave gradients unchanged" <| fun () ->
            let ps, c1, c2 = setup ()
            let comm = { Communicator.single with Size = 2; AllreduceSum = fun buf -> for i in 0 .. buf.Length - 1 do buf[i] <- buf[i] * 2.0f }
            Communicator.averageGradients comm ps
            expectEqualTensors ps[0].grad c1 "p1"
            Expect.isNull ps[1].grad "unused parameter stays without gradient"
            expectEqualTensors ps[2].grad c2 "p2"

        testCase "averaging arithmetic and buffer layout" <| fun () ->
            // The other rank's gradients are o = [0, 1, …, 6] over the flat buffer (p1 then p2,
            // row-major; p3 has none): averaged grads = (own + o)/2
            //   p1: ([1, -2, 3] + [0, 1, 2])/2 = [0.5, -0.5, 2.5]
            //   p2: ([0.5, 4, -1, 8] + [3, 4, 5, 6])/2 = [1.75, 4, 2, 7]
            let ps, _, _ = setup ()
            let mutable seen = -1
            let comm =
                { Communicator.single with
                    Size = 2
                    AllreduceSum =
                        fun buf ->
                            seen <- buf.Length
                            for i in 0 .. buf.Length - 1 do
                                buf[i] <- buf[i] + float32 i }
            Communicator.averageGradients comm ps
            Expect.equal seen 7 "one buffer of 3 + 4 gradient entries"
            expectClose 1e-6f ps[0].grad (tensorOf [ 3L ] [ 0.5f; -0.5f; 2.5f ]) "p1"
            expectClose 1e-6f ps[2].grad (tensorOf [ 2L; 2L ] [ 1.75f; 4.0f; 2.0f; 7.0f ]) "p2"

        testCase "a single process does not communicate" <| fun () ->
            let ps, c1, c2 = setup ()
            let comm = { Communicator.single with AllreduceSum = fun _ -> failtest "allreduce called with one process" }
            Communicator.averageGradients comm ps
            expectEqualTensors ps[0].grad c1 "p1"
            expectEqualTensors ps[2].grad c2 "p2"

        testCase "mean of statistics over ranks" <| fun () ->
            // three ranks; the others contribute 2 and 3 times … simulated as sum = 6·own
            let comm = { Communicator.single with Size = 3; AllreduceSum = fun buf -> for i in 0 .. buf.Length - 1 do buf[i] <- buf[i] * 6.0f }
            let input = [| 1.0f; -0.5f |]
            Expect.equal (Communicator.mean comm input) [| 2.0f; -1.0f |] "6·x/3"
            Expect.equal input [| 1.0f; -0.5f |] "input not modified"
    ]

[<Tests>]
let tests = testList "rl" [ gaeTests; ppoTests; shiftTests; collectTests; communicatorTests ]
