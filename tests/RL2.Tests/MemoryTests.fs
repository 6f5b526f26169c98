/// The agent's memory: carried across the episodes of a meta-episode, reset between meta-episodes.
module RL2.Tests.MemoryTests

open Expecto
open TorchSharp
open RL2
open RL2.Envs
open RL2.Nn
open RL2.Rl
open RL2.Tests.Helpers

/// A policy whose memory counts its steps: it picks action 1 once it has seen `k` steps since its
/// state was last initialised, action 0 before (logits 0 and ±1e4 make the choice certain).
let counting (k: int) (inWidth: int) =
    let step (x: Tensor) (state: State) =
        let count = state.Head.add(1.0f.ToScalar())
        let late = count.ge((float32 k).ToScalar()).to_type(ScalarType.Float32)
        let logits = torch.cat([| torch.zeros_like late; late.mul(2e4f.ToScalar()).sub(1e4f.ToScalar()) |], -1L)
        logits, [ count ]
    let sequence (_: Tensor) = failwith "not used by rollouts"
    Layer.stateful (new ParamStore("counter")) inWidth 2 1 (fun b -> [ torch.zeros([| int64 b; 1L |]) ]) step sequence

[<Tests>]
let tests =
    testList "memory" [
        test "state carries across episode boundaries and is reset for every meta-episode" {
            // Bandit episodes last one step: a memory reset at each episode would never reach k = 4.
            let task = Bandit.distribution 2
            let policy = counting 4 (TaskDistribution.inputWidth task)
            let _, value = Agent.uniform (TaskDistribution.inputWidth task) 2
            let g = gen 3
            let first = Rollout.collect g task policy value 5 8
            let second = Rollout.collect g task policy value 5 8
            let expected = [| for _ in 1..5 do yield! [| 0L; 0L; 0L; 1L; 1L; 1L; 1L; 1L |] |]
            Expect.equal (longs first.Actions) expected "the count runs on through 8 one-step episodes"
            Expect.equal (longs second.Actions) expected "a new meta-episode starts from the initial state"
        }

        test "within a meta-episode, what happened in episode 1 changes the GRU's output in episode 2" {
            use _ = torch.no_grad ()
            let task = TabularMdp.distribution 3 2 2
            let policy = Agent.policy (gen 1) Architecture.gru { InputWidth = TaskDistribution.inputWidth task; NumFeatures = 8; ContextSize = 4 } 2
            let r = Rollout.collect (gen 2) task policy (snd (Agent.uniform (TaskDistribution.inputWidth task) 2)) 1 4
            let x = Rollout.inputs task r
            let changed = x.clone ()
            // Change the reward seen at step 1 (the first episode's last step), leave the rest.
            changed[0, 1, -2] <- torch.tensor(x[0, 1, -2].item<float32> () + 5.0f)
            let y, y' = policy.Sequence x, policy.Sequence changed
            Expect.equal (maxAbsDiff (y.narrow(1L, 0L, 1L)) (y'.narrow(1L, 0L, 1L))) 0.0f "step 0 cannot see it"
            Expect.isGreaterThan (maxAbsDiff (y.narrow(1L, 2L, 2L)) (y'.narrow(1L, 2L, 2L))) 0.0f "episode 2 remembers it"
        }
    ]
