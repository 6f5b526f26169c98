/// Evaluation: determinism for a fixed seed, the same tasks for every policy, trained networks
/// loaded from checkpoints, statistics, the table and the `rl2 evaluate` / `rl2 table` commands.
module RL2.Tests.EvalTests

open System.IO
open System.Text.Json
open Expecto
open TorchSharp
open RL2.Envs
open RL2.Nn
open RL2.Baselines
open RL2.Eval
open RL2.Train

let private bandit5 = Bandit.distribution 5

/// A policy that always pulls arm `a`: its returns depend only on the tasks and the reward noise.
let private always a : Policy<unit> =
    { Name = $"arm {a}"
      Init = fun _ _ -> ()
      Act = fun _ () o -> Array.create o.States.Length a
      Update = fun _ () _ -> () }

let statsTests =
    testList "statistics" [
        test "mean and 95% half-width by hand" {
            // 1, 2, 3, 4: mean 2.5, sample sd sqrt(5/3) = 1.29099, half-width 1.96 · 1.29099 / 2 = 1.26517.
            let s = Stats.summarize [| 1.0; 2.0; 3.0; 4.0 |]
            Expect.floatClose Accuracy.high s.Mean 2.5 "mean"
            Expect.floatClose Accuracy.medium s.HalfWidth 1.265171 "half-width"
            let d = Stats.paired [| 3.0; 5.0; 4.0 |] [| 1.0; 2.0; 3.0 |]
            // Differences 2, 3, 1: mean 2, sd 1, half-width 1.96 / sqrt 3.
            Expect.floatClose Accuracy.high d.Mean 2.0 "paired mean"
            Expect.floatClose Accuracy.high d.HalfWidth (1.96 / sqrt 3.0) "paired half-width"
        }

        test "the tolerance: 3 half-widths or 3%, whichever is larger" {
            Expect.isTrue (Published.within 6.9 0.05 6.7) "0.2 < 3% of 6.7 = 0.201"
            Expect.isFalse (Published.within 6.95 0.05 6.7) "0.25 > 0.201 and > 0.15"
            Expect.isTrue (Published.within 110.0 4.0 100.0) "10 < 3 · 4"
        }
    ]

let determinismTests =
    testList "evaluate" [
        test "is deterministic for a fixed seed, and the seed changes the tasks" {
            let ts = Policy.erase (Bandit.thompson 5)
            let a = Evaluate.play bandit5 10 7L 300 ts
            let b = Evaluate.play bandit5 10 7L 300 ts
            Expect.equal a b "same seed, same returns"
            Expect.notEqual (Evaluate.play bandit5 10 8L 300 ts) a "another seed, other returns"
            let mdp = TabularMdp.distribution 10 5 10
            let psrl = Policy.erase (Mdp.psrl 10 5 10)
            Expect.equal (Evaluate.play mdp 30 7L 50 psrl) (Evaluate.play mdp 30 7L 50 psrl) "MDP, PSRL"
        }

        test "every policy meets the same tasks: what one played does not change another's" {
            let first = Evaluate.play bandit5 10 3L 200 (always 2)
            Evaluate.play bandit5 10 3L 200 (Bandit.thompson 5) |> ignore
            Expect.equal (Evaluate.play bandit5 10 3L 200 (always 2)) first "unchanged by other plays"
            // Always pulling arm 2 earns about 10 · p_2 per task: the mean is near the arms' mean 5.
            let s = Stats.summarize first
            Expect.isLessThan (abs (s.Mean - 5.0)) (4.0 * s.HalfWidth) "near n / 2"
        }

        test "a trained network loads from its checkpoint and plays deterministically" {
            let dir = TrainingTests.tempDir ()
            let run = Path.Combine(dir, "run")
            let settings = { TrainingTests.settings bandit5 10 with NumFeatures = 16; MaxIterations = 1; MetaEpisodesPerIteration = 60; RunDir = Some run }
            Trainer.train RL2.Dist.Communicator.single settings TrainingTests.quiet |> ignore
            let spec: Evaluate.NetworkSpec = { Task = bandit5; Architecture = Architecture.gru; NumFeatures = 16; MetaEpisodeLen = 10 }
            let net, iteration = Evaluate.loadNetwork Checkpoint.Latest run spec
            Expect.equal iteration 1 "the newest checkpoint"
            // The trainer's own restore of the same checkpoint gives the same policy weights.
            let learner = Trainer.createLearner settings
            let restored: Checkpoint.Learner =
                { Policy = learner.Policy.Params
                  PolicyOptimizer = learner.PolicyOptimizer
                  Value = learner.Value.Params
                  ValueOptimizer = learner.ValueOptimizer }
            Checkpoint.tryLoadLatest run ignore restored |> ignore
            for p, q in Seq.zip (net.Params.parameters ()) (learner.Policy.Params.parameters ()) do
                Expect.isTrue (Helpers.same p q) "loaded weights equal the trainer's restore"
            let sampled = Evaluate.network bandit5 net false
            let a = Evaluate.play bandit5 10 4L 100 sampled
            Expect.equal (Evaluate.play bandit5 10 4L 100 sampled) a "sampling is seeded"
            let greedy = Evaluate.network bandit5 net true
            Expect.equal (Evaluate.play bandit5 10 4L 100 greedy) (Evaluate.play bandit5 10 4L 100 greedy) "greedy"
        }
    ]

let tableTests =
    testList "table" [
        test "one bandit row: every baseline, published numbers, paired differences, CSV and JSON" {
            let rows = [ Published.BanditSetup(10, 5) ]
            let mutable heard = 0
            let r = Table.run rows 0L 200 [] None (fun _ -> heard <- heard + 1)
            Expect.equal heard (Table.cellCount rows []) "progress heard every cell"
            Expect.equal r.Columns [ "Random"; "Gittins"; "TS"; "OTS"; "UCB1"; "eps-Greedy"; "Greedy"; "Bayes-optimal" ] "columns"
            let cell name = r.Cells |> List.find (fun c -> c.Column = name)
            Expect.equal (cell "TS").Published (Some 5.7) "published TS"
            Expect.isFalse (cell "Bayes-optimal").Checked "the DP has no published number to match"
            Expect.equal r.Differences.Length 7 "every column against Gittins"
            let md = Table.markdown r
            Expect.stringContains md "| n=10,k=5 |" "the row"
            Expect.stringContains md "6.6600" "the DP's exact value under the table"
            let csv = (Table.csv r).Trim().Split('\n')
            Expect.equal csv.Length 9 "header and 8 cells"
            use doc = JsonDocument.Parse(Table.json r)
            Expect.equal (doc.RootElement.GetProperty("cells").GetArrayLength()) 8 "JSON cells"
        }
    ]

let cliTests =
    testSequenced
    <| testList "rl2 evaluate and table" [
        test "evaluate prints the same numbers for the same seed, with paired differences" {
            let png = Path.Combine(TrainingTests.tempDir (), "per_episode.png")
            let args = $"evaluate --baseline ts --baseline gittins --meta_episode_len 10 --meta_episodes 300 --seed 2 --plot {png}"
            let code1, out1, err1 = CliTests.run args
            let code2, out2, _ = CliTests.run args
            Expect.equal (code1, code2) (0, 0) $"both succeed: {err1}"
            Expect.isTrue (File.Exists png) "the per-episode plot where --plot says"
            let numbers (s: string) = s.Split('\n') |> Array.filter (fun l -> l.StartsWith "| TS") 
            Expect.equal (numbers out2) (numbers out1) "identical results"
            Expect.stringContains out1 "TS − Gittins" "paired difference"
        }

        test "evaluate plays a checkpoint, 10000 meta-episodes" {
            let dir = TrainingTests.tempDir ()
            let code, _, err = CliTests.run $"{CliTests.small dir} --max_pol_iters 1"
            Expect.equal code 0 $"training: {err}"
            let code, out, err =
                CliTests.run $"evaluate --checkpoint_dir {dir} --model_name run --meta_episode_len 6 --num_features 8 --meta_episodes 10000 --baseline greedy"
            Expect.equal code 0 $"evaluate: {err}"
            Expect.stringContains out "run (iteration 1)" "names the run and iteration"
            Expect.stringContains out "10000" "10000 meta-episodes"
            Expect.stringContains out "− Greedy" "paired difference against the baseline"
        }

        test "table adds a checkpoint in the row it was trained for and writes Markdown, CSV and JSON" {
            let dir = TrainingTests.tempDir ()
            let train =
                $"train --checkpoint_dir {dir} --model_name run --meta_episode_len 10 --num_features 8 --meta_episodes_per_policy_update 30 --ppo_opt_epochs 1 --max_pol_iters 1"
            let code, _, err = CliTests.run train
            Expect.equal code 0 $"training: {err}"
            let stem = Path.Combine(dir, "table")
            let run = Path.Combine(dir, "run")
            let code, out, err =
                CliTests.run $"table --environment bandit --meta_episodes 40 --checkpoints GRU={run}:meta_episode_len=10,num_features=8 --output {stem}"
            Expect.equal code 0 $"table: {err}"
            Expect.stringContains out "| GRU |" "the checkpoint's column"
            let csv = File.ReadAllLines(stem + ".csv")
            Expect.isTrue (csv |> Array.exists (fun l -> l.StartsWith "bandit,\"n=10,k=5\",GRU,")) "its cell in the n=10,k=5 row"
            Expect.equal (csv |> Array.filter (fun l -> l.Contains ",GRU,")).Length 1 "and only there"
            Expect.isTrue (File.Exists(stem + ".md") && File.Exists(stem + ".json")) "Markdown and JSON"
        }

        test "user mistakes give one line on stderr and exit code 2" {
            let dir = TrainingTests.tempDir ()
            for args in [ "evaluate --baseline nope"; "evaluate --meta_episodes 1 --baseline ts"; "evaluate --checkpoint_dir " + dir + " --model_name none"
                          "evaluate --baseline bayes-optimal --meta_episode_len 100"; "evaluate --baseline greedy --variant best"
                          "evaluate --environment tabular_mdp --baseline greedy:optimal"; "table --environment maze"; "table --meta_episodes 0"
                          "table --checkpoints nodir"; $"table --checkpoints a={dir}"; "table --reference Nobody" ] do
                let code, _, err = CliTests.run args
                Expect.equal code 2 $"exit code of '{args}'"
                Expect.equal (err.Trim().Split('\n').Length) 1 $"one line for '{args}': {err}"
                Expect.stringStarts err "rl2: " $"a message for '{args}'"
        }
    ]

let episodeTests =
    testList "in-context learning curve" [
        test "a policy with memory improves across the episodes of a meta-episode; a memoryless one does not" {
            let bandit5 = Bandit.distribution 5
            let episodes p = Evaluate.playEpisodes bandit5 10 2L 2000 p
            let random, bayes = episodes (Policy.random 5), episodes (BayesOptimal.policy 5 10)
            Expect.equal random.Length 10 "ten one-pull episodes"
            let early (e: float[][]) = Array.concat e[0..1]
            let late (e: float[][]) = Array.concat e[8..9]
            // Paired over the same tasks: late pulls minus early pulls.
            let gain e = Stats.paired (late e) (early e)
            let r, b = gain random, gain bayes
            Expect.isLessThan (abs r.Mean) (2.0 * r.HalfWidth + 0.01) $"random stays flat: {Stats.format r}"
            Expect.isGreaterThan (b.Mean - b.HalfWidth) 0.1 $"Bayes-optimal improves: {Stats.format b}"
            let total = Evaluate.play bandit5 10 2L 2000 (BayesOptimal.policy 5 10)
            Expect.floatClose Accuracy.high (Array.sum (Evaluate.episodeCurve bayes)) (Array.average total) "episodes add up to the return"
        }
    ]

[<Tests>]
let tests = testList "evaluation" [ statsTests; determinismTests; tableTests; cliTests; episodeTests ]
