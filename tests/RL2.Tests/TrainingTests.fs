module RL2.Tests.TrainingTests

open System.IO
open Expecto
open TorchSharp
open RL2
open RL2.Rl
open RL2.Tests.Helpers
open RL2.Envs
open RL2.Nn
open RL2.Dist
open RL2.Train

let settings (task: TaskDistribution) (metaEpisodeLen: int) : Trainer.Settings =
    { Trainer.reference task Architecture.gru with
        NumFeatures = 64
        MetaEpisodeLen = metaEpisodeLen
        MetaEpisodesPerIteration = 600
        LearningRate = 1e-3
        MaxIterations = 20
        Seed = 7L }

let tempDir () =
    let d = Path.Combine(Path.GetTempPath(), "rl2-test-" + Path.GetRandomFileName())
    Directory.CreateDirectory d |> ignore
    d

let quiet = Trainer.Progress.silent

/// Metrics without their wall-clock fields, which no two runs share.
let withoutTimes (ms: Metrics.Iteration[]) =
    ms |> Array.map (fun m -> { m with Seconds = 0.0; StepsPerSecond = 0.0; RolloutSeconds = 0.0; UpdateSeconds = 0.0 })

/// Learning rates equal to the expected ones up to rounding, position by position.
let expectRates (actual: float seq) (expected: float seq) (msg: string) =
    Expect.equal (Seq.length actual) (Seq.length expected) $"{msg}: count"
    Seq.iteri2 (fun i a e -> Expect.floatClose Accuracy.veryHigh a e $"{msg}: iteration {i + 1}") actual expected

[<Tests>]
let tests =
    testSequenced
    <| testList "training" [
        test "a GRU agent learns to explore 10-pull 5-arm bandits (random play scores 5.0)" {
            let s = settings (Bandit.distribution 5) 10
            let last = Trainer.train Communicator.single s quiet |> Option.get
            // The mean of 1000 random-play returns has a standard error of about 0.05.
            Expect.isGreaterThan last.MeanReturn 5.6 $"mean return after {last.Iteration} iterations"
        }

        test "a minibatch cut into passes is cut as asked, its shares summing to one" {
            use idx = torch.arange(25L, dtype = ScalarType.Int64)
            let cuts = Trainer.passes 7 idx
            Expect.equal (cuts |> List.map (fun (t, _) -> longs t)) [ [| 0L .. 6L |]; [| 7L .. 13L |]; [| 14L .. 20L |]; [| 21L .. 24L |] ] "7 + 7 + 7 + 4"
            Expect.equal (cuts |> List.map snd) [ 7.0 / 25.0; 7.0 / 25.0; 7.0 / 25.0; 4.0 / 25.0 ] "each pass's share of the minibatch"
            Expect.equal (Trainer.passes 60 idx |> List.map snd) [ 1.0 ] "a minibatch no larger than a pass is one pass"
        }

        test "a PPO update in passes of a minibatch equals the update in one pass" {
            // Two epochs of two minibatches of 25 meta-episodes; passes of 7 cut each unevenly (7 + 7 + 7 + 4).
            let s = { settings (Bandit.distribution 3) 6 with NumFeatures = 16; MinibatchSize = 25; Epochs = 2 }
            let update s =
                let l = Trainer.createLearner s
                let batch = Rollout.collect (gen 5) s.Task l.Policy l.Value 50 s.MetaEpisodeLen
                let stats = Trainer.update Communicator.single s (gen 6) l batch (Trainer.credit Communicator.single s batch)
                l, stats
            let whole, wholeStats = update s
            let cut, cutStats = update { s with PassSize = 7 }
            for i, (a, b) in Array.indexed (Array.zip (learnerParameters cut) (learnerParameters whole)) do
                expectClose 1e-5f a b $"parameter {i}"
            for name, a, b in
                [ "policy loss", cutStats.PolicyLoss, wholeStats.PolicyLoss
                  "value loss", cutStats.ValueLoss, wholeStats.ValueLoss
                  "entropy", cutStats.Entropy, wholeStats.Entropy
                  "clip fraction", cutStats.ClipFrac, wholeStats.ClipFrac ] do
                expectFloat 1e-5f (float32 a) (float32 b) name
            // Optimiser steps on minibatches of 7 instead move the parameters elsewhere: the test can fail.
            let small, _ = update { s with MinibatchSize = 7 }
            let gap = Array.zip (learnerParameters small) (learnerParameters whole) |> Array.map (fun (a, b) -> maxAbsDiff a b) |> Array.max
            Expect.isGreaterThan gap 1e-4f "minibatches of 7 give other parameters"
        }

        test "credit's raw mean is the advantages' mean before standardisation, which then centres them" {
            let s = { settings (Bandit.distribution 3) 6 with NumFeatures = 16 }
            let l = Trainer.createLearner s
            let batch = Rollout.collect (gen 5) s.Task l.Policy l.Value 50 s.MetaEpisodeLen
            let a, r = Gae.advantages s.Gamma s.Lambda batch.Rewards batch.Values
            let expected = a.mean().item<float32> ()
            // An untrained value net is far from the returns: the test fails if the mean is taken after centring.
            Expect.isGreaterThan (abs expected) 0.05f "the untrained value net is biased"
            let plain = Trainer.credit Communicator.single s batch
            expectFloat 1e-6f (float32 plain.RawMean) expected "raw mean, plain"
            expectClose 0.0f plain.Advantages a "plain advantages are GAE's"
            expectClose 0.0f plain.Targets r "plain targets are GAE's"
            let centred = Trainer.credit Communicator.single { s with StandardizeAdvantages = true } batch
            expectFloat 1e-6f (float32 centred.RawMean) expected "raw mean, standardised"
            expectFloat 1e-5f (centred.Advantages.mean().item<float32> ()) 0.0f "standardised advantages have mean 0"
            expectClose 1e-5f centred.Targets (batch.Values + centred.Advantages) "the reference's targets: V + standardised A"
            let returns = Trainer.credit Communicator.single { s with StandardizeAdvantages = true; ValueTargets = Trainer.LambdaReturn } batch
            expectClose 0.0f returns.Advantages centred.Advantages "the same standardised advantages"
            expectClose 0.0f returns.Targets r "λ-return targets: GAE's V + A, before standardisation"
            Expect.isGreaterThan (maxAbsDiff returns.Targets centred.Targets) 0.1f "which differ from the reference's"
        }

        test "a metrics line written before the advantage mean was logged reads back without it" {
            let line = """{"iteration":3,"env_steps":720,"seconds":1.5,"mean_return":5.2,"policy_loss":-0.1,"value_loss":0.2,"entropy":1.4,"clip_frac":0.05,"learning_rate":0.001,"steps_per_second":480,"rollout_seconds":0.5,"update_seconds":1}"""
            let m = Metrics.ofJson line
            Expect.equal (m.Iteration, m.AdvantageMean) (3, None) "an old line"
            let m' = Metrics.ofJson (Metrics.toJson { m with AdvantageMean = Some -0.25 })
            Expect.equal m'.AdvantageMean (Some -0.25) "written and read back"
        }

        test "the learning rate is constant, or after AnnealFrom falls by equal steps to one step above 0 at the last iteration" {
            let s = { settings (Bandit.distribution 3) 6 with LearningRate = 1e-3; MaxIterations = 6 }
            let rates s = [ for i in 1 .. 6 -> Trainer.learningRate s i ]
            Expect.equal (rates s) (List.replicate 6 1e-3) "constant by default, as SPEC §5"
            // Four iterations after the 2nd: steps of 1e-3 / 4.
            expectRates (rates { s with AnnealFrom = Some 2 }) [ 1e-3; 1e-3; 1e-3; 7.5e-4; 5e-4; 2.5e-4 ] "annealed from iteration 2"
            expectRates (rates { s with AnnealFrom = Some 0 }) [ for k in 6.0 .. -1.0 .. 1.0 -> 1e-3 * k / 6.0 ] "annealed throughout"
        }

        test "an annealed run steps its optimisers at the scheduled rate, and a resumed one carries the schedule on" {
            let dirA, dirB = tempDir (), tempDir ()
            let s = { settings (Bandit.distribution 3) 6 with MetaEpisodesPerIteration = 90; NumFeatures = 16; AnnealFrom = Some 1 }
            let learner = Trainer.createLearner { s with MaxIterations = 4 }
            Trainer.trainWith Communicator.single { s with MaxIterations = 4; RunDir = Some dirA } Trainer.Options.none learner quiet |> ignore
            for opt in [ learner.PolicyOptimizer; learner.ValueOptimizer ] do
                for g in opt.ParamGroups do
                    Expect.floatClose Accuracy.veryHigh g.LearningRate (1e-3 / 3.0) "the last iteration's rate is in the optimisers"
            Trainer.train Communicator.single { s with MaxIterations = 2; RunDir = Some dirB } quiet |> ignore
            Trainer.train Communicator.single { s with MaxIterations = 4; RunDir = Some dirB } quiet |> ignore
            let a, b = withoutTimes (Metrics.read dirA), withoutTimes (Metrics.read dirB)
            expectRates (a |> Array.map _.LearningRate) [ 1e-3; 1e-3; 2e-3 / 3.0; 1e-3 / 3.0 ] "logged rates"
            Expect.equal b a "identical metrics with and without the interruption"
        }

        test "a resumed run continues exactly where an uninterrupted one would be" {
            let dirA, dirB = tempDir (), tempDir ()
            let s = { settings (Bandit.distribution 3) 6 with MetaEpisodesPerIteration = 90; NumFeatures = 16 }
            Trainer.train Communicator.single { s with MaxIterations = 4; RunDir = Some dirA } quiet |> ignore
            Trainer.train Communicator.single { s with MaxIterations = 2; RunDir = Some dirB } quiet |> ignore
            Expect.equal (Checkpoint.latest dirB) (Some 2) "checkpoint after the first leg"
            Trainer.train Communicator.single { s with MaxIterations = 4; RunDir = Some dirB } quiet |> ignore
            let a, b = withoutTimes (Metrics.read dirA), withoutTimes (Metrics.read dirB)
            Expect.equal (b |> Array.map _.Iteration) [| 1; 2; 3; 4 |] "iterations continue after the resume"
            Expect.equal b a "identical metrics with and without the interruption"
        }

        test "updating the policy and value networks at once gives the networks that updating them in turn gives" {
            for arch in [ Architecture.gru; Architecture.snail ] do
                let s = { settings (Bandit.distribution 3) 8 with Architecture = arch; MetaEpisodesPerIteration = 30; MinibatchSize = 10; NumFeatures = 16; MaxIterations = 2 }
                let trained concurrent =
                    let learner = Trainer.createLearner s
                    Trainer.trainWith Communicator.single { s with ConcurrentNetworks = concurrent } Trainer.Options.none learner quiet |> ignore
                    [ for net in [ learner.Policy; learner.Value ] do
                          for p in net.Params.parameters () -> p.detach().clone() ]
                let initial = [ for net in (let l = Trainer.createLearner s in [ l.Policy; l.Value ]) do for p in net.Params.parameters () -> p.detach().clone() ]
                let same (a: TorchSharp.torch.Tensor) (b: TorchSharp.torch.Tensor) = a.eq(b).all().item<bool> ()
                let atOnce, inTurn = trained true, trained false
                Expect.isFalse (List.forall2 same atOnce initial) $"{arch.Name}: training moved the weights"
                for a, b in List.zip atOnce inTurn do
                    Expect.isTrue (same a b) $"{arch.Name}: every parameter bit-identical"
        }

        test "only the newest five checkpoints are kept, policy and value at the same iteration" {
            let dir = tempDir ()
            let s = { settings (Bandit.distribution 2) 4 with MetaEpisodesPerIteration = 8; NumFeatures = 8; Epochs = 1; MaxIterations = 7; RunDir = Some dir }
            Trainer.train Communicator.single s quiet |> ignore
            for sub in [ "policy_net"; "value_net"; "trainer" ] do
                let names = Directory.GetFiles(Path.Combine(dir, sub)) |> Array.map Path.GetFileName |> Array.sort
                Expect.equal names [| for i in 3..7 -> $"iter_%08d{i}.ckpt" |] sub
        }
    ]
