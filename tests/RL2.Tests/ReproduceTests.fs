/// Evaluation during training, the best checkpoint, and `rl2 reproduce`'s recipes and results.
module RL2.Tests.ReproduceTests

open System.IO
open Expecto
open FsCheck
open RL2.Envs
open RL2.Nn
open RL2.Dist
open RL2.Train
open RL2.Eval

/// A training run small enough for a few dozen iterations per second.
let private tiny (run: string) (iterations: int) : Trainer.Settings =
    { Trainer.reference (Bandit.distribution 2) Architecture.gru with
        NumFeatures = 8
        MetaEpisodeLen = 4
        MetaEpisodesPerIteration = 8
        Epochs = 1
        LearningRate = 1e-3
        MaxIterations = iterations
        Seed = 5L
        RunDir = Some run }

let private trainWith (s: Trainer.Settings) (evaluation: Trainer.Evaluation option) =
    Trainer.trainWith Communicator.single s { Trainer.Options.none with Evaluation = evaluation } (Trainer.createLearner s) TrainingTests.quiet

/// An evaluation that reports the given scores in turn, from the `first`-th on.
let private scripted (scores: float[]) (first: int) : Trainer.Evaluation =
    let mutable next = first
    { Every = 1
      Seed = 1L
      MetaEpisodes = 100
      Score =
        fun _ ->
            next <- next + 1
            scores[next - 1], 0.1 }

let private withoutEvaluations (ms: Metrics.Iteration[]) =
    TrainingTests.withoutTimes ms |> Array.map (fun m -> { m with EvalMean = None; EvalHalfWidth = None; EvalSeconds = None })

let private bestFiles (run: string) =
    [ for sub in [ "policy_net"; "value_net"; "trainer" ] -> Directory.GetFiles(Path.Combine(Checkpoint.bestDir run, sub)) |> Array.map Path.GetFileName ]

[<Tests>]
let tests =
    testSequenced
    <| testList "evaluation during training" [
        test "evaluating every other iteration leaves training exactly as without, and is logged" {
            let dirA, dirB = TrainingTests.tempDir (), TrainingTests.tempDir ()
            let s = tiny dirA 4
            trainWith s None |> ignore
            trainWith { s with RunDir = Some dirB } (Some(Evaluate.periodic s.Task s.MetaEpisodeLen 2 200)) |> ignore
            let a, b = Metrics.read dirA, Metrics.read dirB
            Expect.equal (withoutEvaluations b) (withoutEvaluations a) "the same training metrics"
            Expect.equal (b |> Array.map _.EvalMean.IsSome) [| false; true; false; true |] "evaluated at iterations 2 and 4"
            Expect.isTrue (a |> Array.forall (fun m -> m.EvalMean.IsNone)) "no evaluation without --eval_every"
            let line = File.ReadAllLines(Path.Combine(dirA, Metrics.fileName))[0]
            Expect.isFalse (line.Contains "eval_") $"no evaluation fields when none was made: {line}"
        }

        testPropertyWithConfig (Helpers.config 15) "the best checkpoint is the first highest score, across a resume, and only it is kept" <| fun (scores: NonEmptyArray<int>) (cut: PositiveInt) ->
            let scores = scores.Get |> Array.truncate 6 |> Array.map float
            let n = scores.Length
            let k = min n cut.Get
            let run = TrainingTests.tempDir ()
            trainWith (tiny run k) (Some(scripted scores 0)) |> ignore
            trainWith (tiny run n) (Some(scripted scores k)) |> ignore
            let best = (Checkpoint.tryBest run).Value
            let top = Array.max scores
            Expect.equal (best.Mean, best.Iteration) (top, 1 + Array.findIndex ((=) top) scores) "the first highest score"
            Expect.equal (bestFiles run) [ for _ in 1..3 -> [| $"iter_%08d{best.Iteration}.ckpt" |] ] "only the best iteration's files"
            Expect.equal (Checkpoint.latest run) (Some n) "training went on to the end"

        test "a best scored on another evaluation set is replaced by the next evaluation" {
            let run = TrainingTests.tempDir ()
            trainWith (tiny run 1) (Some(scripted [| 9.0 |] 0)) |> ignore
            let other = { scripted [| 0.0; 1.0 |] 1 with MetaEpisodes = 50 }
            trainWith (tiny run 2) (Some other) |> ignore
            let best = (Checkpoint.tryBest run).Value
            Expect.equal (best.Iteration, best.Mean, best.MetaEpisodes) (2, 1.0, 50) "the score on the new set"
        }

        test "the best checkpoint loads and plays exactly the score it was kept for" {
            let run = TrainingTests.tempDir ()
            let s = { tiny run 6 with Task = Bandit.distribution 5; MetaEpisodeLen = 10; MetaEpisodesPerIteration = 60; NumFeatures = 16 }
            trainWith s (Some(Evaluate.periodic s.Task s.MetaEpisodeLen 2 300)) |> ignore
            let best = (Checkpoint.tryBest run).Value
            let spec: Evaluate.NetworkSpec = { Task = s.Task; Architecture = Architecture.gru; NumFeatures = 16; MetaEpisodeLen = 10 }
            let net, iteration = Evaluate.loadNetwork Checkpoint.Best run spec
            Expect.equal iteration best.Iteration "the best iteration"
            let replayed = Stats.summarize (Evaluate.play s.Task 10 best.Seed best.MetaEpisodes (Evaluate.network s.Task net false))
            Expect.equal (replayed.Mean, replayed.HalfWidth) (best.Mean, best.HalfWidth) "the recorded score"
            let logged = Metrics.read run |> Array.find (fun m -> m.Iteration = best.Iteration)
            Expect.equal logged.EvalMean (Some best.Mean) "the score logged for that iteration"
        }
    ]

[<Tests>]
let snapshots =
    testSequenced
    <| testList "snapshots" [
        test "a run restored from its snapshot into an empty directory trains on exactly as the run never moved" {
            let whole, moved, carried = TrainingTests.tempDir (), TrainingTests.tempDir (), TrainingTests.tempDir ()
            let scores = [| 3.0; 1.0; 4.0; 1.0; 5.0; 2.0 |]
            let s = tiny whole 6
            trainWith s (Some(scripted scores 0)) |> ignore
            let first = tiny (TrainingTests.tempDir ()) 2
            trainWith first (Some(scripted scores 0)) |> ignore
            Expect.equal (Snapshot.save first.RunDir.Value carried) (Some 2) "iteration 2 snapshotted"
            trainWith { first with MaxIterations = 3 } (Some(scripted scores 2)) |> ignore
            Directory.CreateDirectory(Path.Combine(carried, "iter_00000001.tmp")) |> ignore // as a crash mid-snapshot leaves it
            Expect.equal (Snapshot.save first.RunDir.Value carried) (Some 3) "then iteration 3"
            Expect.equal (Directory.GetDirectories carried |> Array.map Path.GetFileName) [| "iter_00000003" |] "only the newest snapshot is kept, no half-written one"
            let files = Directory.GetFiles(carried, "*", SearchOption.AllDirectories) |> Array.map (fun f -> Path.GetRelativePath(carried, f)) |> Array.sort
            let expected =
                [| for sub in [ "best/policy_net"; "best/trainer"; "best/value_net" ] -> $"iter_00000003/{sub}/iter_00000003.ckpt" |]
                |> Array.append [| "iter_00000003/best/best.json"; "iter_00000003/metrics.jsonl" |]
                |> Array.append [| for sub in [ "policy_net"; "trainer"; "value_net" ] -> $"iter_00000003/{sub}/iter_00000003.ckpt" |]
                |> Array.sort
            Expect.equal files expected "the newest checkpoint, the best one and the metrics, nothing older"
            Expect.equal (Snapshot.restore carried moved) (Some 3) "restored into the empty directory"
            Expect.equal (Snapshot.restore carried moved) None "not again: the run is as far as its snapshot"
            trainWith { s with RunDir = Some moved } (Some(scripted scores 3)) |> ignore
            let logged run = TrainingTests.withoutTimes (Metrics.read run) |> Array.map (fun m -> { m with EvalSeconds = None })
            Expect.equal (logged moved) (logged whole) "the same six iterations, evaluations included"
            Expect.equal (Checkpoint.tryBest moved) (Checkpoint.tryBest whole) "the same best (iteration 5)"
            Expect.equal (Checkpoint.tryBest moved |> Option.map _.Iteration) (Some 5) "the best is the highest score"
        }
    ]

[<Tests>]
let reproduction =
    testSequenced
    <| testList "reproduction" [
        test "a run's legs say which machine trained which iterations" {
            let leg from cpu threads = { Legs.current from threads 1 with Cpu = cpu; LogicalCpus = 2 }
            Expect.equal (Legs.describe [] 10) None "nothing recorded"
            Expect.equal
                (Legs.describe [ leg 0 "A" 1; leg 400 "A" 1; leg 1174 "B" 2; leg 1000 "A" 1 ] 2000)
                (Some "iterations 1–2000: A (2 logical CPUs, 1 torch thread, 1 process)")
                "legs on one machine merge, and a leg redone from an earlier checkpoint counts for nothing"
            Expect.equal
                (Legs.describe [ leg 2000 "A" 1; leg 2400 "B" 2 ] 2800)
                (Some "iterations 1–2000: not recorded; iterations 2001–2400: A (2 logical CPUs, 1 torch thread, 1 process); iterations 2401–2800: B (2 logical CPUs, 2 torch threads, 1 process)")
                "a run whose first legs predate the record"
            Expect.equal
                (Legs.describe [ leg 0 "A" 1; leg 1174 "B" 1; leg 1000 "C" 1 ] 2000)
                (Some "iterations 1–1000: A (2 logical CPUs, 1 torch thread, 1 process); iterations 1001–2000: C (2 logical CPUs, 1 torch thread, 1 process)")
                "iterations a later leg redid are that leg's"
            Expect.equal (Legs.describe [ leg 0 "A" 1; leg 5 "B" 1 ] 5) (Some "iterations 1–5: A (2 logical CPUs, 1 torch thread, 1 process)") "a leg stopped before its first iteration counts for nothing"
            Expect.isFalse (System.String.IsNullOrWhiteSpace(Legs.cpuModel ())) "this machine has a name"
        }

        test "a finished run's peak and final are measured on fresh tasks against the strongest baseline, and paged" {
            let run = TrainingTests.tempDir ()
            let s = { tiny run 4 with Task = Bandit.distribution 5; MetaEpisodeLen = 10; MetaEpisodesPerIteration = 60; NumFeatures = 16 }
            trainWith s (Some(Evaluate.periodic s.Task s.MetaEpisodeLen 2 200)) |> ignore
            let leg from cpu = { Legs.current from 1 1 with Cpu = cpu; LogicalCpus = 2 }
            Legs.append run (leg 0 "CPU A")
            Legs.append run (leg 2 "CPU B")
            let recipe: Reproduction.Recipe =
                { Name = "tiny"
                  Title = "a tiny GRU"
                  Setup = Published.BanditSetup(10, 5)
                  Flags = "--meta_episode_len 10"
                  Agent = "GRU"
                  Goal = Reproduction.Near(6.66, 0.05)
                  Deviations = "4 iterations"
                  Why = "a test."
                  StartsFrom = None }
            let spec: Evaluate.NetworkSpec = { Task = s.Task; Architecture = Architecture.gru; NumFeatures = 16; MetaEpisodeLen = 10 }
            let heard = ResizeArray()
            let o = Reproduction.assess recipe spec run 2L 300 "tiny.png" (fun label k s -> heard.Add((label, k, s.Mean)))
            Expect.equal o.Peak.Iteration (Checkpoint.tryBest run).Value.Iteration "peak = the best checkpoint"
            Expect.equal (o.Final.Iteration, o.Final.EnvSteps) (4, 2400L) "final = the newest checkpoint"
            Expect.equal (o.Paper, o.Reference) (Some 6.7, Some 6.7) "the published GRU numbers"
            Expect.isFalse o.Reached "four iterations reach nothing"
            Expect.isFalse (List.contains o.Baseline [ "Random"; "Bayes-optimal" ]) $"a classic baseline: {o.Baseline}"
            Expect.isGreaterThan o.BaselineReturn.Mean 6.3 "the strongest classic baseline on n=10, k=5"
            Expect.isGreaterThan o.Optimum.Value.Mean o.Final.Return.Mean "the optimum is above an untrained policy"
            Expect.isLessThan o.PeakMinusOptimum.Value.Mean 0.0 "the peak, paired with the optimum"
            Expect.equal [ o.Peak.Return.Count; o.Final.Return.Count; o.BaselineReturn.Count; o.PeakMinusBaseline.Count ] [ 300; 300; 300; 300 ] "300 tasks each"
            let baselines = Table.baselines recipe.Setup |> List.filter (fun e -> e.Name <> "Random")
            let total = 2 + baselines.Length
            Expect.equal
                [ for label, k, _ in heard -> label, k ]
                ([ $"peak (iteration {o.Peak.Iteration})"; "final (iteration 4)" ] @ [ for e in baselines -> e.Label ]
                 |> List.mapi (fun i label -> label, (i + 1, total)))
                "each policy reported as it finishes, numbered of the total"
            let _, _, peakMean = heard[0]
            let _, _, finalMean = heard[1]
            Expect.equal (peakMean, finalMean) (o.Peak.Return.Mean, o.Final.Return.Mean) "the reported means are the outcome's"
            Expect.equal (heard |> Seq.filter (fun (label, _, _) -> label = o.Baseline) |> Seq.map (fun (_, _, m) -> m) |> Seq.toList) [ o.BaselineReturn.Mean ] "the strongest baseline reported with its mean"
            Expect.floatClose Accuracy.high o.FinalMinusBaseline.Mean (o.Final.Return.Mean - o.BaselineReturn.Mean) "final − baseline, paired"
            Expect.equal (Reproduction.ofJson (Reproduction.toJson o)) o "JSON round trip"
            let machines = "iterations 1–2: CPU A (2 logical CPUs, 1 torch thread, 1 process); iterations 3–4: CPU B (2 logical CPUs, 1 torch thread, 1 process)"
            Expect.equal o.Machines (Some machines) "which machine trained which iterations"
            Expect.stringContains (Reproduction.section "." o) $"Trained on {machines}." "said in the recipe's section"
            let older = System.Text.Json.Nodes.JsonNode.Parse(Reproduction.toJson o).AsObject()
            older.Remove "machines" |> ignore
            Expect.equal (Reproduction.ofJson (older.ToJsonString())) { o with Machines = None } "a result written before legs were recorded reads as unrecorded"
            let best = Metrics.read run |> Array.maxBy _.MeanReturn
            Expect.equal o.LoggedPeak (Some { Iteration = best.Iteration; Return = best.MeanReturn }) "the papers' measure: the highest logged training return"
            let other = { recipe with Name = "other"; Agent = "SNAIL"; Goal = Reproduction.AtLeast 80.0 }
            let page = Reproduction.page "results" [ recipe; other ] [ o ] Map.empty
            Expect.stringContains page $"| [tiny](#tiny) | 6.7 / 6.7 | %.2f{best.MeanReturn} (iteration {best.Iteration}) |" "tiny's row with the published number and the papers' measure"
            Expect.stringContains page "| [other](#other) | 6.6 / 6.8 | — | not run to the end yet |" "the other recipe's row"
            Expect.throws (fun () -> Reproduction.assess { recipe with Setup = Published.MdpSetup 10 } spec run 2L 10 "x.png" (fun _ _ _ -> ()) |> ignore) "a recipe whose flags train another setup"
            Expect.stringContains page "![learning curve of tiny](results/tiny.png)" "the curve"
            let p = (Reproduction.progressOf run 10 "other-so-far.png").Value
            Expect.equal (p.Iteration, p.MaxIterations, p.EnvSteps) (4, 10, 2400L) "progress: the run's newest iteration"
            Expect.equal (p.ToBest |> Option.map fst) (Some(600L * int64 (Checkpoint.tryBest run).Value.Iteration)) "progress: the steps to the best evaluation so far, 600 per iteration"
            let withProgress = Reproduction.page "results" [ recipe; other ] [ o ] (Map.ofList [ "other", p ])
            Expect.stringContains withProgress $"| [other](#other) | 6.6 / 6.8 | %.2f{best.MeanReturn} (iteration {best.Iteration}) | in progress, iteration 4 of 10: best so far" "an unfinished recipe's progress"
            Expect.stringContains withProgress "![learning curve of other so far](results/other-so-far.png)" "its curve so far"
            let continuing = { other with StartsFrom = Some { From = "tiny"; Iteration = 4; Commit = "0123456789" } }
            Expect.stringContains (Reproduction.page "results" [ recipe; continuing ] [ o ] Map.empty) "`rl2 train --meta_episode_len 10`, starting from tiny's iteration 4 (" "a continuing recipe says where it starts"
        }
    ]

[<Tests>]
let cli =
    testSequenced
    <| testList "rl2 reproduce" [
        test "without a recipe it lists every recipe with its train flags, and where the continuing ones start" {
            let code, out, err = CliTests.runIn CliTests.repositoryRoot "reproduce"
            Expect.equal code 0 err
            let starts = out.Split('\n') |> Array.filter (fun l -> l.Contains "starting from ")
            Expect.isGreaterThanOrEqual starts.Length 6 "the anneals and extensions of the MDP runs continue others"
            for line in starts do
                Expect.isFalse (line.Contains "unavailable") $"each start is in the history, whole, and resumes under its recipe's flags: {line}"
            Expect.stringContains out "starting from mdp-n10-snail-extended's iteration 2000 (69f4683:docs/results/unfinished/mdp-n10-snail-extended/iter_00002000)" "named with its commit"
            for name in [ "bandit-n10-k5-gru"; "bandit-n100-k5-gru"; "mdp-n10-gru"; "bandit-n10-k5-snail"; "mdp-n10-snail" ] do
                Expect.stringContains out name name
            Expect.stringContains out "--architecture snail --num_features 32" "SNAIL's width"
            Expect.stringContains out "--eval_every" "evaluation cadence"
        }

        test "train --eval_every keeps the best checkpoint, and evaluate --checkpoint best replays its score" {
            let dir = TrainingTests.tempDir ()
            let code, out, err = CliTests.run $"{CliTests.small dir} --max_pol_iters 3 --eval_every 1 --eval_meta_episodes 100"
            Expect.equal code 0 err
            let best = (Checkpoint.tryBest (Path.Combine(dir, "run"))).Value
            Expect.stringContains out $"best held-out evaluation: {best.Mean:F3}" "reported"
            let code, out, err = CliTests.run $"evaluate --checkpoint_dir {dir} --model_name run --checkpoint best --seed 1 --meta_episodes 100"
            Expect.equal code 0 err
            Expect.stringContains out $"run (iteration {best.Iteration}, best) | {best.Mean:F3}" "the best checkpoint's score on the same tasks"
        }

        test "a recipe stopped after --iterations, then --minutes 0, resumes at the right iteration" {
            let dir = TrainingTests.tempDir ()
            let args = $"reproduce bandit-n10-k5-gru --checkpoint_dir {dir} --results_dir {dir}/results"
            let code1, out1, err1 = CliTests.run $"{args} --iterations 1"
            Expect.equal code1 0 err1
            Expect.stringContains out1 "stopped at iteration 1 of" "first leg"
            let code2, out2, err2 = CliTests.run $"{args} --minutes 0"
            Expect.equal code2 0 err2
            Expect.stringContains out2 "resuming from the checkpoint of iteration 1" "resumes"
            Expect.stringContains out2 "stopped at iteration 2 of" "one more iteration"
            let run = Path.Combine(dir, "recipes", "bandit-n10-k5-gru")
            Expect.equal (Metrics.read run |> Array.map _.Iteration) [| 1; 2 |] "every iteration once"
            let config = (RunConfig.load run |> Result.toOption).Value.Value
            Expect.isGreaterThan (int config["max_pol_iters"]) 2 "the recipe's own iteration count is saved, not the leg's"
            let legs = Legs.read run
            Expect.equal (legs |> List.map (fun l -> l.FromIteration, l.TorchThreads, l.Processes)) [ 0, 1, 1; 1, 1, 1 ] "each leg recorded with where it started"
            Expect.equal (legs |> List.map _.Cpu |> List.distinct) [ Legs.cpuModel () ] "on this machine"
            Expect.isFalse (File.Exists(Path.Combine(dir, "results", "bandit-n10-k5-gru.json"))) "no result before training is done"
            let page = File.ReadAllText(Path.Combine(dir, "results.md"))
            let logged = Metrics.read run |> Array.maxBy _.MeanReturn
            Expect.stringContains page $"| [bandit-n10-k5-gru](#bandit-n10-k5-gru) | 6.7 / 6.7 | %.2f{logged.MeanReturn} (iteration {logged.Iteration}) | in progress, iteration 2 of" "the page says how far it got"
        }

        test "a continuing recipe starts where the measured run started, once, and says when its start is missing" {
            let dir = TrainingTests.tempDir ()
            let args = $"reproduce mdp-n10-gru-standardized-annealed-late --checkpoint_dir {dir} --results_dir {dir}/results --iterations 1"
            let code, out, err = CliTests.runIn CliTests.repositoryRoot args
            Expect.equal code 0 err
            Expect.stringContains out "started from mdp-n10-gru-standardized's iteration 5567" "from its start"
            Expect.stringContains out "resuming from the checkpoint of iteration 5567" "and resumed from it"
            let run = Path.Combine(dir, "recipes", "mdp-n10-gru-standardized-annealed-late")
            Expect.equal (Metrics.read run |> Array.map _.Iteration |> Array.last) 5568 "trains the next iteration"
            Expect.equal (Checkpoint.tryBest run |> Option.map _.Iteration) (Some 5540) "the start's best is kept"
            let code, out, err = CliTests.runIn CliTests.repositoryRoot args
            Expect.equal code 0 err
            Expect.isFalse (out.Contains "started from") "not started again"
            Expect.stringContains out "resuming from the checkpoint of iteration 5568" "goes on from its own checkpoint"
            let code, _, err = CliTests.runIn (TrainingTests.tempDir ()) $"reproduce mdp-n10-gru-standardized-annealed-late --checkpoint_dir {dir}/other --results_dir {dir}/results-other"
            Expect.equal code 2 "no repository here"
            Expect.equal (err.Trim().Split('\n').Length) 1 $"one line: {err}"
            Expect.stringContains err "is not in the history of a git repository" "says what is missing"
        }

        test "a recipe's run is carried in its results directory and resumes from there on a machine without its checkpoints" {
            let dir = TrainingTests.tempDir ()
            let results = Path.Combine(dir, "results")
            let leg (checkpoints: string) extra = CliTests.run $"reproduce bandit-n10-k5-gru --checkpoint_dir {dir}/{checkpoints} --results_dir {results} {extra}"
            let code1, out1, err1 = leg "here" "--iterations 2"
            Expect.equal code1 0 err1
            Expect.stringContains out1 $"iteration 2 carried in {results}/unfinished/bandit-n10-k5-gru" "the stop carries the run"
            let pageWith (checkpoints: string) (expected: string) (why: string) =
                let code, _, err = CliTests.run $"reproduce --page --checkpoint_dir {dir}/{checkpoints} --results_dir {results}"
                Expect.equal code 0 err
                Expect.stringContains (File.ReadAllText(results + ".md")) expected why
            pageWith "nowhere" "in progress, iteration 2 of 400" "the page reads the carried run where the checkpoints are not"
            pageWith "nowhere" $"Trained on iterations 1–2: {Legs.cpuModel ()} (" "with the machine that trained it"
            let code2, out2, err2 = leg "elsewhere" "--iterations 1"
            Expect.equal code2 0 err2
            Expect.stringContains out2 "restored iteration 2 of the run" "restored where the checkpoints are missing"
            Expect.stringContains out2 "resuming from the checkpoint of iteration 2" "and resumed from it"
            Expect.stringContains out2 "stopped at iteration 3 of" "one more iteration"
            let here, elsewhere = Path.Combine(dir, "here", "recipes", "bandit-n10-k5-gru"), Path.Combine(dir, "elsewhere", "recipes", "bandit-n10-k5-gru")
            Expect.equal (Metrics.read elsewhere |> Array.map _.Iteration) [| 1; 2; 3 |] "the carried metrics, then the new iteration"
            Expect.equal (Metrics.read elsewhere |> Array.take 2) (Metrics.read here) "the first two iterations as logged where they ran"
            Expect.equal (Legs.read elsewhere |> List.map _.FromIteration) [ 0; 2 ] "the carried legs, then the new one"
            pageWith "here" "in progress, iteration 3 of 400" "the page reads the carried run where it is further on than here"
            let code3, out3, err3 = leg "here" "--iterations 1"
            Expect.equal code3 0 err3
            Expect.stringContains out3 "restored iteration 3 of the run" "the first machine takes up the newer carried run"
            Expect.stringContains out3 "stopped at iteration 4 of" "and goes on"
        }
    ]
