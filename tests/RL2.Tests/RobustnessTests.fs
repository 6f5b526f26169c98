/// Training that survives damaged checkpoints and bad numbers, and runs that repeat exactly.
module RL2.Tests.RobustnessTests

open System
open System.IO
open Expecto
open TorchSharp
open RL2
open RL2.Envs
open RL2.Dist
open RL2.Train
open RL2.Tests.TrainingTests

/// A tiny, fast run: 3-arm bandits of 6 pulls, GRU 8.
let tiny dir iterations =
    { settings (Bandit.distribution 3) 6 with
        MetaEpisodesPerIteration = 12
        NumFeatures = 8
        Epochs = 1
        MaxIterations = iterations
        RunDir = dir }

let private train s = Trainer.train Communicator.single s quiet

/// 3-arm bandits whose rewards pass through `corrupt` (given the step count): a user's task distribution gone wrong.
let corruptedBandit (corrupt: int -> Tensor -> Tensor) =
    let inner = Bandit.distribution 3
    { inner with
        Sample =
            fun gen count ->
                let b = inner.Sample gen count
                let mutable steps = 0
                { b with
                    Step =
                        fun g st a ->
                            steps <- steps + 1
                            let r, st' = b.Step g st a
                            corrupt steps r, st' } }

let nanBandit = corruptedBandit (fun _ r -> r.add(Single.NaN.ToScalar()))

[<Tests>]
let tests =
    testSequenced
    <| testList "robustness" [
        test "a damaged newest checkpoint is reported and the previous intact one is used" {
            let dir = tempDir ()
            train (tiny (Some dir) 4) |> ignore
            let newest = Path.Combine(dir, "value_net", "iter_00000004.ckpt")
            let bytes = File.ReadAllBytes newest
            bytes[bytes.Length / 2] <- bytes[bytes.Length / 2] ^^^ 0xFFuy
            File.WriteAllBytes(newest, bytes)
            let warnings = ResizeArray()
            let resumed = Trainer.train Communicator.single (tiny (Some dir) 6) { quiet with Warning = warnings.Add }
            Expect.equal warnings.Count 1 "one warning"
            Expect.stringContains warnings[0] "checksum mismatch" "says why"
            Expect.stringContains warnings[0] "iter_00000004" "names the file"
            Expect.equal (resumed |> Option.map _.Iteration) (Some 6) "trained on to the requested iteration"
            Expect.equal (Metrics.read dir |> Array.map _.Iteration) [| 1..6 |] "iteration 4 was redone after 3"
        }

        test "a checkpoint cut short by a crash is not used" {
            let dir = tempDir ()
            train (tiny (Some dir) 3) |> ignore
            let newest = Path.Combine(dir, "trainer", "iter_00000003.ckpt")
            let bytes = File.ReadAllBytes newest
            File.WriteAllBytes(newest, bytes[.. bytes.Length - 10])
            let warnings = ResizeArray()
            Trainer.train Communicator.single (tiny (Some dir) 3) { quiet with Warning = warnings.Add } |> ignore
            Expect.stringContains warnings[0] "cut short" "says why"
            Expect.equal (Checkpoint.latest dir) (Some 3) "iteration 3 written again"
        }

        test "when no checkpoint is intact, resuming fails instead of silently starting over" {
            let dir = tempDir ()
            train (tiny (Some dir) 2) |> ignore
            for f in Directory.GetFiles(Path.Combine(dir, "policy_net")) do
                File.WriteAllText(f, "garbage")
            Expect.throwsT<Checkpoint.DamagedCheckpoint> (fun () -> train (tiny (Some dir) 3) |> ignore) "damaged run"
        }

        test "a non-finite loss stops training, naming the iteration, and keeps the last good checkpoint" {
            let dir = tempDir ()
            train (tiny (Some dir) 2) |> ignore
            let before = File.ReadAllBytes(Path.Combine(dir, "policy_net", "iter_00000002.ckpt"))
            let diverging = { tiny (Some dir) 4 with Task = nanBandit }
            let e = Expect.throwsC (fun () -> train diverging |> ignore) id
            match e with
            | Trainer.TrainingDiverged(iteration, quantity) ->
                Expect.equal iteration 3 "the iteration that failed"
                Expect.stringContains quantity "policy output during the rollout" "the quantity"
            | other -> failtestf "unexpected %O" other
            Expect.equal (Checkpoint.latest dir) (Some 2) "no checkpoint written for the failed iteration"
            Expect.sequenceEqual (File.ReadAllBytes(Path.Combine(dir, "policy_net", "iter_00000002.ckpt"))) before "last good checkpoint untouched"
        }

        test "a non-finite reward is caught before any update" {
            // Rewards are finite until the last step, so sampling works and the check after the rollout fires.
            let lastNaN = corruptedBandit (fun step r -> if step % 6 = 0 then r.add(Single.PositiveInfinity.ToScalar()) else r)
            let e = Expect.throwsC (fun () -> train { tiny None 2 with Task = lastNaN } |> ignore) id
            match e with
            | Trainer.TrainingDiverged(1, quantity) -> Expect.equal quantity "reward from the task distribution" "the quantity"
            | other -> failtestf "unexpected %O" other
        }

        test "an exploding update is stopped at the first non-finite loss or gradient" {
            let e = Expect.throwsC (fun () -> train { tiny None 2 with LearningRate = 1e30; Epochs = 4 } |> ignore) id
            match e with
            | Trainer.TrainingDiverged(1, quantity) ->
                Expect.contains [ "policy loss"; "policy gradient"; "value loss"; "value gradient" ] quantity "names the quantity"
            | other -> failtestf "unexpected %O" other
        }

        test "the same seed gives bit-identical metrics; another seed does not" {
            let run seed =
                let dir = tempDir ()
                train { tiny (Some dir) 5 with Seed = seed } |> ignore
                Metrics.read dir |> withoutTimes
            let a, b, c = run 11L, run 11L, run 12L
            Expect.equal a b "same seed"
            Expect.notEqual a c "different seed"
        }

        testList "no tensor outlives its iteration" [
            for arch in [ Nn.Architecture.gru; Nn.Architecture.lstm; Nn.Architecture.snail; Nn.Architecture.transformer { Nn.Transformer.reference with Layers = 2 } ] ->
                test arch.Name {
                    let live = Collections.Generic.Dictionary<int, int64>()
                    // Process-wide: with the networks on two threads, tensors made on one are freed on the other.
                    let count (m: Metrics.Iteration) = live[m.Iteration] <- torch.Tensor.TotalCount
                    let dir = tempDir ()
                    let s = { tiny (Some dir) 8 with Architecture = arch; StandardizeAdvantages = true }
                    Trainer.train Communicator.single s { quiet with Iteration = count } |> ignore
                    Expect.equal live[8] live[3] "live tensors after iteration 8 and after iteration 3"
                }
        ]

        test "resident memory after 100 iterations is within 10% of after 10" {
            let rss = Collections.Generic.Dictionary<int, int64>()
            let measure (m: Metrics.Iteration) =
                if m.Iteration = 10 || m.Iteration = 100 then
                    GC.Collect()
                    GC.WaitForPendingFinalizers()
                    use p = Diagnostics.Process.GetCurrentProcess()
                    rss[m.Iteration] <- p.WorkingSet64
            Trainer.train Communicator.single (tiny None 100) { quiet with Iteration = measure } |> ignore
            let growth = float rss[100] / float rss[10] - 1.0
            Expect.isLessThan growth 0.10 $"RSS {rss[10] / 1048576L} MiB after 10, {rss[100] / 1048576L} MiB after 100"
        }
    ]
